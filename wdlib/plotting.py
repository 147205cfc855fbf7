"""Figures shared by the chapters.  Each takes ``ax=None``, returns the Axes, and never calls ``plt.show()``."""

from __future__ import annotations

import numpy as np

__all__ = ["quadratic_contours"]


def quadratic_contours(q, ax=None, *, xlim=(-2.0, 3.0), ylim=(-2.0, 3.0), levels: int = 12, norm_circles=None,
                       resolution: int = 300):  # fmt: skip
    """Contours of a :class:`wdlib.quadratic.Quadratic` (solid), ``w*`` marked, optional ``‖w‖ = r`` circles (dashed).

    ``levels`` contour levels at quantiles of ``√f`` over the plotted grid, so that even a
    badly conditioned ``f`` shows several ellipses around ``w*``.

    >>> from wdlib.quadratic import Quadratic
    >>> ax = quadratic_contours(Quadratic.from_eigen([4.0, 1.0], w_star=[1.0, 1.0]), norm_circles=[1.0])
    >>> ax.get_legend_handles_labels()[1]
    ['$w^*$ (no decay)']
    """
    import matplotlib.pyplot as plt

    if ax is None:
        ax = plt.subplots(figsize=(4.5, 4.5))[1]
    xs, ys = np.linspace(*xlim, resolution), np.linspace(*ylim, resolution)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1)  # (resolution, resolution, 2)
    f = q.loss(grid)
    root = np.sqrt(f)
    ax.contour(xs, ys, root, levels=np.unique(np.quantile(root, np.linspace(0.01, 0.6, levels))), colors="0.6",
               linewidths=0.8)  # fmt: skip
    for r in norm_circles or ():
        t = np.linspace(0, 2 * np.pi, 200)
        ax.plot(r * np.cos(t), r * np.sin(t), color="0.3", ls="--", lw=0.8)
    ax.plot(*q.w_star, marker="*", ms=12, color="k", ls="none", label=r"$w^*$ (no decay)")
    ax.axhline(0, color="0.85", lw=0.6, zorder=0)
    ax.axvline(0, color="0.85", lw=0.6, zorder=0)
    ax.set(xlim=xlim, ylim=ylim, aspect="equal", xlabel="$w_1$", ylabel="$w_2$")
    return ax
