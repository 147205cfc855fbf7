"""A quadratic objective with known minimizers, for comparing forms of weight decay.

``f(w) = ½ (w − w*)ᵀ H (w − w*)`` with ``H`` symmetric positive definite.  Its
closed forms are the oracles of chapter 1: the L2-penalized minimizer shrinks
``w*`` by ``λᵢ/(λᵢ + α)`` along each eigenvector of ``H`` (Goodfellow et al. 2016,
§7.1.1), and gradient descent from ``w₀`` after ``t`` steps of size ``η`` is
``w* − (I − ηH)ᵗ (w* − w₀)`` (§7.8).  :meth:`Quadratic.trajectory` runs any
``torch.optim`` optimizer on ``f`` so its iterates can be set against them.

The closed forms need numpy only; :meth:`Quadratic.trajectory` imports torch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["Quadratic"]


@dataclass(frozen=True, eq=False)
class Quadratic:
    """``f(w) = ½ (w − w*)ᵀ H (w − w*)``.

    Parameters
    ----------
    H : ndarray of shape (d, d)
        Symmetric positive definite.
    w_star : ndarray of shape (d,)
        The unregularized minimizer.

    Examples
    --------
    >>> q = Quadratic.from_eigen([4.0, 1.0], w_star=[1.0, 1.0])
    >>> q.ridge(1.0)           # shrink λᵢ/(λᵢ + α): 4/5 and 1/2
    array([0.8, 0.5])
    >>> float(q.loss([0.0, 0.0]))
    2.5
    """

    H: np.ndarray
    w_star: np.ndarray

    def __post_init__(self):
        H = np.asarray(self.H, dtype=float)
        w = np.asarray(self.w_star, dtype=float)
        if H.ndim != 2 or H.shape[0] != H.shape[1] or w.shape != (H.shape[0],):
            raise ValueError(f"H must be (d, d) and w_star (d,); got {H.shape} and {w.shape}")
        if not np.allclose(H, H.T) or np.linalg.eigvalsh(H).min() <= 0:
            raise ValueError("H must be symmetric positive definite")
        object.__setattr__(self, "H", H)
        object.__setattr__(self, "w_star", w)

    @classmethod
    def from_eigen(cls, eigenvalues, w_star, *, angle: float = 0.0) -> Quadratic:
        """``H = Q diag(eigenvalues) Qᵀ``; in 2-D, ``Q`` rotates the axes by ``angle`` radians.

        Parameters
        ----------
        eigenvalues : array_like, shape (d,)
            Positive eigenvalues of ``H``.
        w_star : array_like, shape (d,)
            The minimizer ``w*``.
        angle : float, default 0.0
            Rotation of the eigenvectors from the axes, in radians (2-D only).
        """
        lam = np.asarray(eigenvalues, dtype=float)
        if lam.ndim != 1 or np.any(lam <= 0):
            raise ValueError(f"eigenvalues must be a 1-D array of positive numbers; got {eigenvalues!r}")
        Q = np.eye(len(lam))
        if angle:
            if len(lam) != 2:
                raise ValueError("angle is defined in 2-D only")
            Q = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        return cls(Q @ np.diag(lam) @ Q.T, w_star)

    @property
    def eigen(self) -> tuple[np.ndarray, np.ndarray]:
        """``(λ, Q)``: eigenvalues ascending, eigenvectors as columns."""
        return np.linalg.eigh(self.H)

    def loss(self, w) -> np.ndarray:
        """``f`` at ``w`` of shape (..., d), e.g. a grid for contours; shape (...)."""
        r = np.asarray(w, dtype=float) - self.w_star
        return 0.5 * np.einsum("...i,ij,...j->...", r, self.H, r)

    def grad(self, w) -> np.ndarray:
        """``H (w − w*)``, shape (..., d)."""
        return (np.asarray(w, dtype=float) - self.w_star) @ self.H

    def ridge(self, alpha) -> np.ndarray:
        """Minimizer of ``f(w) + (α/2)‖w‖²``: ``(H + αI)⁻¹ H w*``; shape (d,), or (k, d) for k alphas."""
        a = np.asarray(alpha, dtype=float)
        if np.any(~np.isfinite(a)) or np.any(a < 0):
            raise ValueError(f"alpha must be finite and >= 0; got {alpha!r}")
        lam, Q = self.eigen
        z = Q.T @ self.w_star
        return (lam / (lam + a[..., None]) * z) @ Q.T

    def gd(self, lr: float, steps, w0=None) -> np.ndarray:
        """Gradient descent with step ``lr`` after ``steps`` steps from ``w0`` (default 0), in closed form.

        Shape (d,), or (k, d) for an array of k step counts.

        Parameters
        ----------
        lr : float
            Step size ``η > 0``.
        steps : int or array_like of int
            Number(s) of steps.
        w0 : array_like, shape (d,), optional
            Start; the origin by default.
        """
        if not np.isfinite(lr) or lr <= 0:
            raise ValueError(f"lr must be > 0; got {lr!r}")
        t = np.asarray(steps)
        if np.any(t < 0) or not np.issubdtype(t.dtype, np.integer):
            raise ValueError(f"steps must be non-negative integers; got {steps!r}")
        lam, Q = self.eigen
        w0 = np.zeros_like(self.w_star) if w0 is None else np.asarray(w0, dtype=float)
        z = Q.T @ (self.w_star - w0)
        return self.w_star - ((1 - lr * lam) ** t[..., None] * z) @ Q.T

    def trajectory(self, optimizer: Callable, *, w0, steps: int, after_step: Callable | None = None,
                   **optimizer_kw) -> np.ndarray:
        """Iterates of a torch optimizer on ``f`` (float64), shape (steps + 1, d), ``w0`` first.

        ``optimizer`` is a class such as ``torch.optim.Adam``, built as
        ``optimizer([w], **optimizer_kw)``; ``after_step(w)`` may change ``w`` in
        place after each step (a projection, a max-norm constraint).

        Parameters
        ----------
        optimizer : type
            A ``torch.optim`` optimizer class.
        w0 : array_like, shape (d,)
            Start.
        steps : int
            Number of steps.
        after_step : callable, optional
            Called as ``after_step(w)`` on the parameter tensor after each step.
        **optimizer_kw
            Passed to ``optimizer`` (``lr``, ``weight_decay``, ...).

        Examples
        --------
        >>> import torch
        >>> q = Quadratic.from_eigen([1.0], w_star=[2.0])
        >>> q.trajectory(torch.optim.SGD, w0=[0.0], steps=2, lr=0.5).ravel()
        array([0. , 1. , 1.5])
        """
        import torch

        H = torch.as_tensor(self.H)
        w_star = torch.as_tensor(self.w_star)
        w = torch.nn.Parameter(torch.as_tensor(np.asarray(w0, dtype=float)).clone())
        if w.shape != w_star.shape:
            raise ValueError(f"w0 must have shape {tuple(w_star.shape)}; got {tuple(w.shape)}")
        opt = optimizer([w], **optimizer_kw)
        out = np.empty((steps + 1, len(w_star)))
        out[0] = w.detach().numpy()
        for t in range(1, steps + 1):
            opt.zero_grad()
            r = w - w_star
            (0.5 * r @ H @ r).backward()
            opt.step()
            if after_step is not None:
                with torch.no_grad():
                    after_step(w)
            out[t] = w.detach().numpy()
        return out
