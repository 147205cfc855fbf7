"""Linear regression with an L2 penalty, fitted by gradient descent.

Everything here uses the book's canonical λ (``weight_decay``): the objective is
the *mean* squared error with a penalty on the weights only,

.. math::

    J(w, b) = \\frac{1}{2n} \\lVert y - Xw - b\\mathbf{1} \\rVert^2
              + \\frac{\\lambda}{2} \\lVert w \\rVert^2 ,

so the intercept ``b`` is never penalized and λ does not change meaning when
the number of samples changes.  Its minimizer is scikit-learn's
``Ridge(alpha=n * weight_decay)``.

The module is numpy only; it is what chapter 3 uses to correct the seed's
gradient-descent example.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = [
    "ConvergenceWarning",
    "DivergenceError",
    "GDResult",
    "check_gradient",
    "fit_closed_form",
    "fit_gd",
    "gradient",
    "hessian_max_eigenvalue",
    "loss",
    "make_linear_data",
    "max_stable_lr",
    "numerical_gradient",
    "split_null_space",
]


class DivergenceError(RuntimeError):
    """Gradient descent diverged; the message gives the stable step-size bound."""


class ConvergenceWarning(UserWarning):
    """Gradient descent stopped before its gradient was small."""


# --------------------------------------------------------------------------- #
# validation (the boundary): messages say what to change
# --------------------------------------------------------------------------- #
def _check_X(X) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        raise ValueError(
            f"X must be 2-D (n_samples, n_features); got shape {X.shape}. "
            "Use X.reshape(-1, 1) for a single feature."
        )
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features); got shape {X.shape}.")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must have at least one sample and one feature; got shape {X.shape}.")
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or inf; drop or impute those entries before fitting.")
    return X


def _check_Xy(X, y) -> tuple[np.ndarray, np.ndarray]:
    X = _check_X(X)
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(
            f"y must be 1-D (n_samples,) or a column (n_samples, 1); got shape {y.shape}."
        )
    if y.shape[0] != X.shape[0]:
        raise ValueError(
            f"X and y disagree on the number of samples: X has {X.shape[0]} rows, "
            f"y has {y.shape[0]}. Pass one target per row of X."
        )
    if not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or inf; drop or impute those entries before fitting.")
    return X, y


def _check_weight_decay(weight_decay) -> float:
    weight_decay = float(weight_decay)
    if not np.isfinite(weight_decay) or weight_decay < 0:
        raise ValueError(
            f"Invalid weight_decay value: {weight_decay}. It must be a finite number >= 0 "
            "(0 means no penalty)."
        )
    return weight_decay


def _check_w(w, n_features: int) -> np.ndarray:
    w = np.asarray(w, dtype=np.float64)
    if w.ndim == 2 and w.shape[1] == 1:
        w = w[:, 0]
    if w.shape != (n_features,):
        raise ValueError(
            f"w must have shape ({n_features},) to match X's {n_features} features; got {w.shape}."
        )
    if not np.all(np.isfinite(w)):
        raise ValueError("w contains NaN or inf.")
    return w


# --------------------------------------------------------------------------- #
# objective
# --------------------------------------------------------------------------- #
def loss(X, y, w, b: float = 0.0, *, weight_decay: float) -> float:
    """Penalized mean squared error ``‖y − Xw − b‖²/(2n) + (λ/2)‖w‖²``.

    Parameters
    ----------
    X : array_like of shape (n_samples, n_features)
    y : array_like of shape (n_samples,)
    w : array_like of shape (n_features,)
    b : float, default 0.0
        Intercept; it is not penalized.
    weight_decay : float
        Canonical λ ≥ 0.

    Returns
    -------
    float

    Examples
    --------
    >>> X = np.array([[1.0], [2.0]]); y = np.array([1.0, 2.0])
    >>> loss(X, y, [1.0], weight_decay=0.5)
    0.25
    """
    X, y = _check_Xy(X, y)
    w = _check_w(w, X.shape[1])
    lam = _check_weight_decay(weight_decay)
    r = y - X @ w - b  # (n,)
    return float(r @ r / (2 * len(y)) + 0.5 * lam * w @ w)


def gradient(X, y, w, b: float = 0.0, *, weight_decay: float) -> tuple[np.ndarray, float]:
    """Gradient of :func:`loss` with respect to ``w`` and ``b``.

    ``∇_w J = −Xᵀr/n + λw`` and ``∂J/∂b = −mean(r)`` with ``r = y − Xw − b``: the
    penalty contributes ``λw`` (a vector), never ``λ·Σw`` (the seed's bug).

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
        Inputs.
    y : array_like, shape (n_samples,)
        Targets.
    w : array_like, shape (n_features,)
        Weights.
    b : float, default 0.0
        Intercept.
    weight_decay : float
        Canonical λ ≥ 0 of ``(λ/2)‖w‖²`` (the intercept is not penalized).

    Returns
    -------
    grad_w : ndarray of shape (n_features,)
    grad_b : float

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]]); y = np.ones(2)
    >>> gw, gb = gradient(X, y, [1.0, -1.0], weight_decay=1.0)
    >>> gw.tolist(), gb
    ([1.0, -2.0], -1.0)
    """
    X, y = _check_Xy(X, y)
    w = _check_w(w, X.shape[1])
    lam = _check_weight_decay(weight_decay)
    r = y - X @ w - b
    return -X.T @ r / len(y) + lam * w, float(-r.mean())


def fit_closed_form(X, y, *, weight_decay: float, fit_intercept: bool = True) -> tuple[np.ndarray, float]:
    """Exact minimizer of :func:`loss` (ridge regression with an unpenalized intercept).

    Solves ``(X_cᵀX_c/n + λI) w = X_cᵀy_c/n`` on centred data, then
    ``b = ȳ − x̄ᵀw``.  Equal to ``sklearn.linear_model.Ridge(alpha=n*λ)``.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
        Inputs.
    y : array_like, shape (n_samples,)
        Targets.
    weight_decay : float
        Canonical λ ≥ 0.
    fit_intercept : bool, default True
        Fit an unpenalized intercept ``b``.

    Returns
    -------
    w : ndarray of shape (n_features,)
    b : float
        0.0 when ``fit_intercept`` is False.

    Examples
    --------
    >>> X = np.array([[0.0], [1.0], [2.0]]); y = 2 * X[:, 0] + 1
    >>> w, b = fit_closed_form(X, y, weight_decay=0.0)
    >>> np.round(w, 12).tolist(), round(b, 12)
    ([2.0], 1.0)
    """
    X, y = _check_Xy(X, y)
    lam = _check_weight_decay(weight_decay)
    n, p = X.shape
    if fit_intercept:
        x_mean, y_mean = X.mean(axis=0), y.mean()
        Xc, yc = X - x_mean, y - y_mean
    else:
        Xc, yc = X, y
    A = Xc.T @ Xc / n + lam * np.eye(p)
    # lstsq rather than solve: λ = 0 with collinear columns gives the min-norm solution.
    w = np.linalg.lstsq(A, Xc.T @ yc / n, rcond=None)[0]
    b = float(y_mean - x_mean @ w) if fit_intercept else 0.0
    return w, b


# --------------------------------------------------------------------------- #
# step size
# --------------------------------------------------------------------------- #
def hessian_max_eigenvalue(X, *, weight_decay: float, fit_intercept: bool = True) -> float:
    """Largest eigenvalue L of the Hessian of :func:`loss` (it does not depend on y).

    The Hessian over ``(w, b)`` is ``[[XᵀX/n + λI, x̄], [x̄ᵀ, 1]]``; without an
    intercept it is ``XᵀX/n + λI``.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
        Inputs.
    weight_decay : float
        Canonical λ ≥ 0.
    fit_intercept : bool, default True
        Include the intercept's row and column in the Hessian.

    Examples
    --------
    >>> hessian_max_eigenvalue(np.array([[1.0], [-1.0]]), weight_decay=0.5)
    1.5
    """
    X = _check_X(X)
    lam = _check_weight_decay(weight_decay)
    n, p = X.shape
    if fit_intercept:
        Xa = np.hstack([X, np.ones((n, 1))])
        H = Xa.T @ Xa / n
        H[:p, :p] += lam * np.eye(p)
    else:
        H = X.T @ X / n + lam * np.eye(p)
    return float(np.linalg.eigvalsh(H)[-1])


def max_stable_lr(X, *, weight_decay: float, fit_intercept: bool = True) -> float:
    """Step sizes below ``2/L`` make full-batch gradient descent converge.

    On a quadratic, GD multiplies the error along the Hessian eigenvector of
    eigenvalue ``μ`` by ``1 − ημ`` per step, so it converges iff ``η < 2/L``
    (``L`` from :func:`hessian_max_eigenvalue`); ``η = 1/L`` is the usual safe choice.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
        Inputs.
    weight_decay : float
        Canonical λ ≥ 0.
    fit_intercept : bool, default True
        Whether the fit has an intercept.

    Examples
    --------
    >>> max_stable_lr(np.array([[1.0], [-1.0]]), weight_decay=0.0, fit_intercept=False)
    2.0
    """
    return 2.0 / hessian_max_eigenvalue(X, weight_decay=weight_decay, fit_intercept=fit_intercept)


# --------------------------------------------------------------------------- #
# gradient descent
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class GDResult:
    """Outcome of :func:`fit_gd`.

    Attributes
    ----------
    w : ndarray of shape (n_features,)
    b : float
    history : pandas.DataFrame
        One row per recorded step: ``step``, ``loss``, ``grad_norm``, ``w_norm``.
    converged : bool
        Whether the full-batch gradient norm fell below ``tol``.
    """

    w: np.ndarray
    b: float
    history: pd.DataFrame = field(repr=False)
    converged: bool


def fit_gd(
    X,
    y,
    *,
    lr: float,
    weight_decay: float,
    n_steps: int,
    fit_intercept: bool = True,
    w0=None,
    batch_size: int | None = None,
    seed: int | None = None,
    tol: float = 1e-10,
    record_every: int = 1,
    warn: bool = True,
) -> GDResult:
    """Minimize :func:`loss` by (minibatch) gradient descent.

    Each step is ``w ← w − η(∇L_batch(w) + λw)``, ``b ← b − η ∂L_batch/∂b``:
    the penalty gradient ``λw`` and no decay on the intercept.  With
    ``batch_size=None`` the steps are full-batch and deterministic.

    Parameters
    ----------
    X : array_like of shape (n_samples, n_features)
    y : array_like of shape (n_samples,)
    lr : float
        Step size η > 0.  Full-batch GD converges iff ``lr < max_stable_lr(X, ...)``.
    weight_decay : float
        Canonical λ ≥ 0.
    n_steps : int
        Number of updates (minibatch updates when ``batch_size`` is set).
    fit_intercept : bool, default True
    w0 : array_like of shape (n_features,), optional
        Initial weights; zeros when omitted.  The intercept starts at 0.
    batch_size : int, optional
        Minibatch size; sampled without replacement, reshuffled every epoch
        with a generator seeded by ``seed``.
    seed : int or numpy.random.SeedSequence, optional
        Needed only with ``batch_size``.
    tol : float, default 1e-10
        Stop early once the full-batch gradient norm is below ``tol``.
    record_every : int, default 1
        Record the history every this many steps (and at the last step).
    warn : bool, default True
        Issue a :class:`ConvergenceWarning` if ``tol`` was not reached.

    Returns
    -------
    GDResult

    Raises
    ------
    DivergenceError
        If the loss becomes non-finite or grows by more than 1e12 over its
        starting value; the message gives ``max_stable_lr``.

    Examples
    --------
    >>> X = np.array([[0.0], [1.0], [2.0]]); y = 2 * X[:, 0] + 1
    >>> res = fit_gd(X, y, lr=0.5, weight_decay=0.0, n_steps=2000)
    >>> np.round(res.w, 6).tolist(), round(res.b, 6), res.converged
    ([2.0], 1.0, True)
    """
    X, y = _check_Xy(X, y)
    lam = _check_weight_decay(weight_decay)
    lr = float(lr)
    if not np.isfinite(lr) or lr <= 0:
        raise ValueError(
            f"Invalid lr value: {lr}. The step size must be > 0; "
            f"full-batch GD converges for lr < {max_stable_lr(X, weight_decay=lam, fit_intercept=fit_intercept):.4g}."
        )
    if int(n_steps) != n_steps or n_steps < 1:
        raise ValueError(f"n_steps must be a positive integer; got {n_steps!r}.")
    if int(record_every) != record_every or record_every < 1:
        raise ValueError(f"record_every must be a positive integer; got {record_every!r}.")
    n, p = X.shape
    if batch_size is not None:
        if int(batch_size) != batch_size or not 1 <= batch_size <= n:
            raise ValueError(f"batch_size must be an integer in [1, {n}] (or None for full batch); got {batch_size!r}.")
        if seed is None:
            raise ValueError("Minibatch GD shuffles the data: pass seed=<int> so the run is repeatable.")
    w = np.zeros(p) if w0 is None else _check_w(w0, p).copy()
    b = 0.0
    rng = np.random.default_rng(seed)

    def full(w, b):
        r = y - X @ w - b
        gw = -X.T @ r / n + lam * w
        gb = float(-r.mean()) if fit_intercept else 0.0
        return float(r @ r / (2 * n) + 0.5 * lam * w @ w), gw, gb

    rows = []
    order = np.arange(n)
    pos = n  # forces a shuffle before the first minibatch
    J0, gw, gb = full(w, b)
    converged = False
    for step in range(n_steps + 1):
        J, gw_full, gb_full = full(w, b)
        gnorm = float(np.sqrt(gw_full @ gw_full + gb_full**2))
        if not np.isfinite(J) or J > 1e12 * max(J0, 1e-300):
            bound = max_stable_lr(X, weight_decay=lam, fit_intercept=fit_intercept)
            raise DivergenceError(
                f"gradient descent diverged at step {step} (loss={J:.3g}) with lr={lr:g}. "
                f"Full-batch GD on this problem converges only for lr < 2/L = {bound:.4g} "
                f"(L = {2 / bound:.4g}, the largest Hessian eigenvalue); use lr <= {bound / 2:.4g}, "
                "or standardize the features."
            )
        last = step == n_steps or gnorm < tol
        if step % record_every == 0 or last:
            rows.append((step, J, gnorm, float(np.sqrt(w @ w))))
        if gnorm < tol:
            converged = True
            break
        if step == n_steps:
            break
        if batch_size is None:
            gw, gb = gw_full, gb_full
        else:
            if pos + batch_size > n:
                order, pos = rng.permutation(n), 0
            idx = order[pos : pos + batch_size]
            pos += batch_size
            r = y[idx] - X[idx] @ w - b
            gw = -X[idx].T @ r / batch_size + lam * w
            gb = float(-r.mean()) if fit_intercept else 0.0
        w = w - lr * gw
        b = b - lr * gb
    history = pd.DataFrame(rows, columns=["step", "loss", "grad_norm", "w_norm"])
    if warn and not converged:
        warnings.warn(
            f"gradient descent stopped after {n_steps} steps with gradient norm "
            f"{history['grad_norm'].iloc[-1]:.3g} > tol={tol:g}; raise n_steps or lr "
            "(or standardize the features).",
            ConvergenceWarning,
            stacklevel=2,
        )
    return GDResult(w=w, b=float(b), history=history, converged=converged)


# --------------------------------------------------------------------------- #
# gradient checks
# --------------------------------------------------------------------------- #
def numerical_gradient(f, x, *, eps: float = 1e-6) -> np.ndarray:
    """Central finite-difference gradient of a scalar function ``f`` at ``x``.

    Error is O(eps²) for smooth ``f``; each coordinate costs two calls.

    Parameters
    ----------
    f : callable
        Scalar function of one array.
    x : array_like
        Point at which to differentiate.
    eps : float, default 1e-6
        Step of the central differences.

    Examples
    --------
    >>> numerical_gradient(lambda v: float(v @ v), np.array([1.0, -2.0])).round(6).tolist()
    [2.0, -4.0]
    """
    x = np.asarray(x, dtype=np.float64)
    if eps <= 0:
        raise ValueError(f"eps must be > 0; got {eps}.")
    g = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = eps
        g.flat[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


def check_gradient(X, y, w, b: float = 0.0, *, weight_decay: float, eps: float = 1e-6) -> float:
    """Relative error between :func:`gradient` and central finite differences of :func:`loss`.

    Returns ``‖g − g_fd‖ / max(‖g‖ + ‖g_fd‖, 1e-12)`` over the stacked ``(w, b)``
    gradient: about 1e-9 or smaller for a correct gradient in float64.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
        Inputs.
    y : array_like, shape (n_samples,)
        Targets.
    w : array_like, shape (n_features,)
        Weights.
    b : float, default 0.0
        Intercept.
    weight_decay : float
        Canonical λ ≥ 0 of ``(λ/2)‖w‖²`` (the intercept is not penalized).
    eps : float, default 1e-6
        Finite-difference step.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(20, 3)), rng.normal(size=20)
    >>> check_gradient(X, y, rng.normal(size=3), 0.3, weight_decay=0.1) < 1e-8
    True
    """
    X, y = _check_Xy(X, y)
    p = X.shape[1]
    gw, gb = gradient(X, y, w, b, weight_decay=weight_decay)
    g = np.append(gw, gb)
    theta = np.append(_check_w(w, p), b)
    g_fd = numerical_gradient(lambda t: loss(X, y, t[:p], t[p], weight_decay=weight_decay), theta, eps=eps)
    return float(np.linalg.norm(g - g_fd) / max(np.linalg.norm(g) + np.linalg.norm(g_fd), 1e-12))


# --------------------------------------------------------------------------- #
# data and geometry
# --------------------------------------------------------------------------- #
def make_linear_data(
    n_samples: int, n_features: int, *, coef, intercept: float = 0.0, noise: float = 0.0, seed, x_dist: str = "normal"
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``y = Xβ + b + ε`` with ``ε ~ N(0, noise²)``.

    Parameters
    ----------
    coef : float or array_like of shape (n_features,)
        True coefficients β (a scalar is broadcast).
    seed : int or numpy.random.SeedSequence
        Anything :func:`numpy.random.default_rng` accepts.  Use
        ``SeedSequence(seed).spawn(k)`` for streams independent of this one
        (drawing an initialization from ``default_rng(seed)`` too would
        reproduce the first row of X).
    x_dist : {"normal", "uniform"}
        Rows of X from N(0, I) or U[0, 1)^p.

    Examples
    --------
    >>> X, y = make_linear_data(5, 2, coef=[1.0, -1.0], seed=0)
    >>> X.shape, y.shape, bool(np.allclose(y, X[:, 0] - X[:, 1]))
    ((5, 2), (5,), True)
    """
    if x_dist not in ("normal", "uniform"):
        raise ValueError(f"x_dist must be 'normal' or 'uniform'; got {x_dist!r}.")
    if noise < 0:
        raise ValueError(f"noise is a standard deviation and must be >= 0; got {noise}.")
    rng = np.random.default_rng(seed)
    beta = np.broadcast_to(np.asarray(coef, dtype=np.float64), (n_features,))
    X = rng.standard_normal((n_samples, n_features)) if x_dist == "normal" else rng.random((n_samples, n_features))
    y = X @ beta + intercept + noise * rng.standard_normal(n_samples)
    return X, y


def split_null_space(X, w) -> tuple[np.ndarray, np.ndarray]:
    """Split ``w`` into its parts in the row space of ``X`` and in the null space of ``X``.

    The data gradient ``−Xᵀr/n`` always lies in the row space, so gradient
    descent never changes the null-space part of ``w``; only weight decay
    shrinks it (by ``1 − ηλ`` per step).

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
        Inputs whose row space is used.
    w : array_like, shape (n_features,)
        Vector to split.

    Returns
    -------
    w_row, w_null : ndarray of shape (n_features,)
        ``w = w_row + w_null`` and ``X @ w_null ≈ 0``.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0]])
    >>> [v.tolist() for v in split_null_space(X, [3.0, 4.0])]
    [[3.0, 0.0], [0.0, 4.0]]
    """
    X = _check_X(X)
    w = _check_w(w, X.shape[1])
    _, s, Vt = np.linalg.svd(X, full_matrices=False)
    V = Vt[s > s.max() * max(X.shape) * np.finfo(float).eps].T  # basis of the row space
    w_row = V @ (V.T @ w)
    return w_row, w - w_row
