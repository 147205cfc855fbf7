"""Figures shared by the chapters.  Each takes ``ax=None``, returns the Axes, and never calls ``plt.show()``.

The sweep figures read the tidy tables of :mod:`wdlib.sweep` (one row per run,
several seeds per setting) and show the seed variability: the mean and a 95%
t-interval of the mean across seeds.  :func:`use_style` applies the project's
look; chapters call it once.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd

__all__ = ["MAX_WIDTH", "STYLE", "heatmap", "lambda_curve", "legend_outside", "norm_trajectories", "plain_log_ticks",
           "quadratic_contours", "seed_summary", "training_curves", "use_style"]

#: The project's matplotlib rc settings (:func:`use_style`).  Sized for the book's text column, where a
#: figure is shown at most 672 px wide: one at most 7 in wide (its tight bounding box, labels and legends
#: included) is shown at its natural size, so the 9-pt tick labels and legends are 9 pt on the page; text stays text in the SVG output (``svg.fonttype: none``), so it is sharp on any screen.
STYLE = {
    "figure.figsize": (6.4, 3.6), "figure.dpi": 100, "savefig.dpi": 200, "savefig.bbox": "tight",
    "svg.fonttype": "none", "font.size": 10, "axes.labelsize": 10, "axes.titlesize": 10, "figure.titlesize": 11,
    "xtick.labelsize": 9, "ytick.labelsize": 9, "legend.fontsize": 9, "legend.title_fontsize": 9,
    "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3,
    "grid.linewidth": 0.6, "legend.frameon": False, "lines.linewidth": 1.6, "image.cmap": "viridis",
    "axes.formatter.min_exponent": 3, "svg.hashsalt": "wdlib",  # the same figure gives the same SVG
}  # fmt: skip
#: The widest figure (inches, after ``bbox_inches="tight"``) shown at its natural size in the book's column
#: (672 px at 96 px per inch, measured in Chromium at 1280 px).
MAX_WIDTH = 7.0


def use_style() -> None:
    """Apply :data:`STYLE` to matplotlib's global settings; in a notebook, also show figures as SVG."""
    import matplotlib as mpl

    mpl.rcParams.update(STYLE)
    try:
        from IPython import get_ipython
    except ImportError:
        return
    if get_ipython() is not None:
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("svg", metadata={"Date": None})  # no timestamp: re-runs give equal outputs


def _short_span_label(axis, value: float, _pos=None) -> str:
    """A minor tick's label on a log axis: 2 or 5 times a power of ten, when the axis spans < 1.5 decades."""
    low, high = sorted(axis.get_view_interval())
    if low <= 0 or value <= 0 or math.log10(high / low) >= 1.5:
        return ""
    mantissa = value / 10 ** math.floor(math.log10(value) + 1e-9)
    return f"{value:g}" if any(abs(mantissa - m) < 1e-6 for m in (2.0, 5.0)) else ""


def plain_log_ticks(ax, axis: str = "both") -> None:
    """Label a log axis in plain numbers (0.001, 0.1, 10) instead of 10⁻³: mathtext superscripts are set
    at about 6 pt, below the book's 9-pt minimum.  Minor ticks stay unlabelled unless the axis, when drawn,
    spans less than a decade and a half: then 2 and 5 times a power of ten are labelled too, so that an axis
    with one power of ten or none still reads.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    axis : {"x", "y", "both"}, default "both"
        Which log axes to relabel (a linear axis is left alone).
    """
    from matplotlib.ticker import FuncFormatter

    if axis not in ("x", "y", "both"):
        raise ValueError(f"axis must be 'x', 'y' or 'both'; got {axis!r}")
    for name in ("x", "y") if axis == "both" else (axis,):
        target = ax.xaxis if name == "x" else ax.yaxis
        if target.get_scale() == "log":
            target.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            target.set_minor_formatter(FuncFormatter(functools.partial(_short_span_label, target)))


def legend_outside(ax, *, title: str | None = None, **kwargs):
    """A legend to the right of ``ax``, off the data (the column is wide enough for a short one).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    title : str, optional
        The legend's title.
    **kwargs
        Further ``Axes.legend`` options.
    """
    return ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, title=title, **kwargs)


def _plain_log_labels(axis) -> None:
    """Label a log ``axis`` ("0.001", "1") in the tick font, not mathtext ("10⁻³"), whose superscripts are ~6 pt."""
    from matplotlib.ticker import NullFormatter, StrMethodFormatter

    axis.set_major_formatter(StrMethodFormatter("{x:g}"))
    axis.set_minor_formatter(NullFormatter())


def _axes(ax, figsize=None):
    import matplotlib.pyplot as plt

    return ax if ax is not None else plt.subplots(figsize=figsize)[1]


def _need(df: pd.DataFrame, columns, what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: columns {missing} are not in the table (it has {list(df.columns)})")


def seed_summary(df: pd.DataFrame, x: str, y: str, *, by=(), confidence: float = 0.95) -> pd.DataFrame:
    """Mean of ``y`` over seeds for each ``x`` (and ``by`` group), with ``n``, ``sem``, ``min``, ``max`` and a
    t-interval (``low``, ``high``).

    Parameters
    ----------
    df : pandas.DataFrame
        Runs, one row per configuration and seed.
    x : str
        Column that defines a point.
    y : str
        Column averaged over seeds.
    by : sequence of str, default ()
        Further grouping columns.
    confidence : float, default 0.95
        Level of the t-interval.

    Examples
    --------
    >>> df = pd.DataFrame({"wd": [0, 0, 1, 1], "seed": [0, 1, 0, 1], "acc": [0.5, 1.0, 0.75, 0.75]})
    >>> seed_summary(df, "wd", "acc")[["wd", "mean", "n", "sem"]].values.tolist()
    [[0.0, 0.75, 2.0, 0.25], [1.0, 0.75, 2.0, 0.0]]
    """
    from scipy import stats

    by = [by] if isinstance(by, str) else list(by)
    _need(df, [x, y, *by], "seed_summary")
    g = df.groupby([*by, x])[y]
    out = g.agg(mean="mean", std="std", n="count", min="min", max="max").reset_index()
    out["sem"] = out["std"] / np.sqrt(out["n"])
    t = np.array([stats.t.ppf(0.5 + confidence / 2, n - 1) if n > 1 else math.nan for n in out["n"]])
    out["low"], out["high"] = out["mean"] - t * out["sem"], out["mean"] + t * out["sem"]
    return out


def lambda_curve(df: pd.DataFrame, y: str = "test_acc", *, x: str = "weight_decay", hue: str | None = None,
                 ax=None, logx: bool = True, label: str | None = None, confidence: float = 0.95,
                 band: str = "t"):
    """``y`` against λ (or another ``x``): the seed mean with a shaded band, one line per ``hue`` value.

    ``band="t"`` shades the t-interval of the mean at ``confidence``;
    ``band="range"`` the range over seeds (more readable with two seeds,
    where the t-interval is ±12.7 standard errors).  λ = 0 cannot sit on a log
    axis: it is drawn as a dotted horizontal line (the unregularized baseline) instead.

    Parameters
    ----------
    df : pandas.DataFrame
        Runs, one row per configuration and seed.
    y : str, default "test_acc"
        Column on the vertical axis.
    x : str, default "weight_decay"
        Column on the horizontal axis.
    hue : str, optional
        Column whose values get one line each.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure's axes by default.
    logx : bool, default True
        Logarithmic horizontal axis.
    label : str, optional
        Legend label of the line (without ``hue``).
    confidence : float, default 0.95
        Level of the t-interval.
    band : {"t", "range"}, default "t"
        What the shaded band shows.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if band not in ("t", "range"):
        raise ValueError(f"band must be 't' or 'range', got {band!r}")
    ax = _axes(ax)
    groups = [(label, df)] if hue is None else [(f"{hue}={k}", d) for k, d in df.groupby(hue, sort=True)]
    low, high = ("low", "high") if band == "t" else ("min", "max")
    for name, d in groups:
        s = seed_summary(d, x, y, confidence=confidence)
        zero = s[s[x] == 0]
        s = s[s[x] > 0] if logx else s
        (line,) = ax.plot(s[x], s["mean"], marker="o", ms=3.5, label=name)
        ax.fill_between(s[x], s[low], s[high], color=line.get_color(), alpha=0.2, lw=0)
        if logx and len(zero):
            ax.axhline(float(zero["mean"].iloc[0]), color=line.get_color(), ls=":", lw=1)
    if logx:
        ax.set_xscale("log")
        _plain_log_labels(ax.xaxis)
    ax.set(xlabel=r"weight decay $\lambda$" if x == "weight_decay" else x, ylabel=y)
    if hue is not None or label is not None:
        ax.legend()
    return ax


def heatmap(df: pd.DataFrame, value: str = "test_acc", *, x: str = "lr", y: str = "weight_decay", ax=None,
            fmt: str = "{:.3f}", cmap: str | None = None, best: str = "max", colorbar: bool = True,
            vmin: float | None = None, vmax: float | None = None, fontsize: float = 9):  # fmt: skip
    """Seed-mean ``value`` on the grid ``x`` × ``y`` (for example learning rate × λ), each cell annotated.

    The best cell (``best="max"`` or ``"min"``) is outlined.  Missing grid points are blank.
    ``vmin``/``vmax`` clip the colour scale (a collapsed run at chance would
    otherwise flatten every other cell into one colour); the annotations keep
    the exact values, in black or white, whichever reads on the cell's colour, at
    ``fontsize`` points (the book's minimum is 9: give a panel few enough cells for it).

    Parameters
    ----------
    df : pandas.DataFrame
        Runs, one row per configuration and seed (seeds are averaged).
    value : str, default "test_acc"
        Column shown as colour and annotation.
    x, y : str, default "lr" and "weight_decay"
        Columns of the horizontal and vertical grid axes.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure's axes by default.
    fmt : str, default "{:.3f}"
        Format of the annotations.
    cmap : str, optional
        Matplotlib colormap name.
    best : {"max", "min"}, default "max"
        Which cell to outline.
    colorbar : bool, default True
        Draw a colour bar.
    vmin, vmax : float, optional
        Limits of the colour scale.
    fontsize : float, default 9
        Points of the annotations.

    Returns
    -------
    matplotlib.axes.Axes
    """
    from matplotlib.patches import Rectangle

    _need(df, [x, y, value], "heatmap")
    if best not in ("max", "min"):
        raise ValueError(f"best must be 'max' or 'min', got {best!r}")
    ax = _axes(ax, figsize=(5.5, 4.2))
    table = df.groupby([y, x])[value].mean().unstack(x).sort_index(ascending=False)
    im = ax.imshow(table.values, cmap=cmap, aspect="auto", vmin=vmin, vmax=vmax)
    ax.set_xticks(range(table.shape[1]), [f"{v:g}" for v in table.columns])
    ax.set_yticks(range(table.shape[0]), [f"{v:g}" for v in table.index])
    ax.set(xlabel=x, ylabel=y)
    ax.grid(False)
    finite = table.values[np.isfinite(table.values)]
    for (i, j), v in np.ndenumerate(table.values):
        if np.isfinite(v):
            r, g, b, _ = im.cmap(im.norm(v))
            ink = "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"  # luma of the cell's colour
            ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=fontsize, color=ink)
    if finite.size:
        i, j = np.unravel_index(np.nanargmax(table.values) if best == "max" else np.nanargmin(table.values),
                                table.shape)
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="red", lw=2))
    if colorbar:
        ax.figure.colorbar(im, ax=ax, label=value)
    return ax


def norm_trajectories(track: pd.DataFrame, y: str = "norm", *, hue: str = "name", ax=None, logy: bool = False):
    """A :class:`wdlib.tracking.NormTracker` table: ``y`` (``norm``, ``angular_update``, ``effective_lr``) per step.

    Parameters
    ----------
    track : pandas.DataFrame
        A :class:`wdlib.tracking.NormTracker` table.
    y : str, default "norm"
        Column on the vertical axis.
    hue : str, default "name"
        Column whose values get one line each.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure's axes by default.
    logy : bool, default False
        Logarithmic vertical axis.

    Returns
    -------
    matplotlib.axes.Axes
    """
    _need(track, ["step", y, hue], "norm_trajectories")
    ax = _axes(ax)
    for name, d in track.groupby(hue, sort=False):
        ax.plot(d["step"], d[y], label=str(name), lw=1.2)
    if logy:
        ax.set_yscale("log")
    ax.set(xlabel="step", ylabel=y.replace("_", " "))
    ax.legend()
    return ax


def training_curves(history: pd.DataFrame, metric: str = "loss", *, x: str | None = None, ax=None,
                    label: str | None = None):
    """Every ``*_{metric}`` column of a :func:`wdlib.train.fit` / ``fit_lm`` history against epoch (or step).

    Parameters
    ----------
    history : pandas.DataFrame
        A training history, one row per evaluation.
    metric : str, default "loss"
        Columns ``*_{metric}`` are drawn (``train_loss``, ``test_loss``, ...).
    x : str, optional
        Column on the horizontal axis; ``epoch``, else ``step``, by default.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure's axes by default.
    label : str, optional
        Prefix of the legend labels.

    Returns
    -------
    matplotlib.axes.Axes
    """
    x = x or ("epoch" if "epoch" in history.columns else "step")
    cols = [c for c in history.columns if c.endswith(f"_{metric}")]
    if not cols:
        raise ValueError(f"training_curves: no '*_{metric}' column in {list(history.columns)}")
    ax = _axes(ax)
    for c in cols:
        d = history[[x, c]].dropna()
        ax.plot(d[x], d[c], marker="o" if len(d) < 30 else None, ms=3,
                label=f"{label} {c}" if label else c.removesuffix(f"_{metric}"))
    ax.set(xlabel=x, ylabel=metric)
    ax.legend()
    return ax


def quadratic_contours(q, ax=None, *, xlim=(-2.0, 3.0), ylim=(-2.0, 3.0), levels: int = 12, norm_circles=None,
                       resolution: int = 300):
    """Contours of a :class:`wdlib.quadratic.Quadratic` (solid), ``w*`` marked, optional ``‖w‖ = r`` circles (dashed).

    ``levels`` contour levels at quantiles of ``√f`` over the plotted grid, so that even a
    badly conditioned ``f`` shows several ellipses around ``w*``.

    Parameters
    ----------
    q : wdlib.quadratic.Quadratic
        A 2-D quadratic.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure's axes by default.
    xlim, ylim : tuple of float
        Plotted range of each coordinate.
    levels : int, default 12
        Number of contour levels.
    norm_circles : sequence of float, optional
        Radii ``r`` of the dashed circles ``‖w‖ = r``.
    resolution : int, default 300
        Grid points per axis.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
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
               linewidths=0.8)
    for r in norm_circles or ():
        t = np.linspace(0, 2 * np.pi, 200)
        ax.plot(r * np.cos(t), r * np.sin(t), color="0.3", ls="--", lw=0.8)
    ax.plot(*q.w_star, marker="*", ms=12, color="k", ls="none", label=r"$w^*$ (no decay)")
    ax.axhline(0, color="0.85", lw=0.6, zorder=0)
    ax.axvline(0, color="0.85", lw=0.6, zorder=0)
    ax.set(xlim=xlim, ylim=ylim, aspect="equal", xlabel="$w_1$", ylabel="$w_2$")
    return ax
