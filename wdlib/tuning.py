"""Choosing λ: cross-validation with the one-standard-error rule, the evidence, and rules of thumb.

Ridge functions take ``alpha`` as :mod:`wdlib.ridge` does (scikit-learn's sum
form ``‖y − Xw − b‖² + α‖w‖²``, intercept unpenalized); the book's canonical
λ is ``α/n`` (:func:`wdlib.ridge.weight_decay_from_alpha`).

* :func:`kfold_cv` and :func:`one_standard_error`: K-fold cross-validation
  error with its standard error over folds, and ESL's rule (§7.10) that picks
  the most regularized α within one standard error of the best.
* :func:`fold_choices`: how those two choices move with the random fold assignment.
* :func:`ridge_hypergradient`, :func:`kfold_hypergradient` and
  :func:`hypergradient_descent`: the gradient of the *validation* error with
  respect to α (Larsen et al. 1996; Bengio 2000; Pedregosa 2016), in closed
  form for ridge, and gradient descent on ``log α`` with it.
* :func:`log_evidence` and :func:`evidence_fit`: MacKay's evidence (type-II
  maximum likelihood) for Bayesian linear regression with prior
  ``w ~ N(0, σ_w² I)`` and noise ``N(0, σ²)``, whose posterior mean is the
  ridge solution with ``α = σ²/σ_w²``.
* :func:`implied_weight_decay`: the "λ estimated from the loss gradient" of
  seed post 001, which at any regularized optimum returns the λ that was used.
* :func:`normalized_weight_decay`, :func:`adamw_timescale` and
  :func:`weight_decay_for_timescale`: Loshchilov & Hutter's (2019) normalized
  λ and the AdamW timescale ``1/(ηλ)`` of Wang & Aitchison (2024).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import _checks, ridge

__all__ = ["EvidenceFit", "HypergradientFit", "adamw_timescale", "evidence_fit", "fit_logistic",
           "fold_choices", "hypergradient_descent", "implied_weight_decay", "kfold_cv", "kfold_hypergradient", "log_evidence",
           "logistic_loss", "normalized_weight_decay", "one_standard_error", "ridge_hypergradient",
           "weight_decay_for_timescale"]


def _positive(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    return float(value)


# --------------------------------------------------------------------------- #
# cross-validation
# --------------------------------------------------------------------------- #
def _folds(n: int, k, seed) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) row indices of :func:`kfold_cv`'s folds: a ``seed``-ed shuffle cut into ``k`` near-equal parts."""
    k = _checks.integer(k, "k", low=2)
    if k > n:
        raise ValueError(f"k = {k} folds need at least {k} samples; X has {n}")
    order = np.random.default_rng(_checks.integer(seed, "seed", low=0)).permutation(n)
    return [(np.setdiff1d(order, test), test) for test in np.array_split(order, k)]


def kfold_cv(X, y, alphas, *, k: int = 10, seed: int = 0, fit_intercept: bool = True,
             standardize: bool = False, se: str = "folds") -> pd.DataFrame:
    """K-fold cross-validated mean squared error of ridge for each ``alpha``.

    The rows are shuffled with ``seed`` and cut into ``k`` folds of near-equal
    size; each fold is predicted by the ridge fit (one SVD, every α at once) on
    the others, standardized within those others when ``standardize``.

    Returns one row per α (in the order given): ``alpha``, ``mse`` (the mean
    of the ``k`` fold MSEs), ``se`` (by default their standard deviation over
    ``√k``, as ESL §7.10) and ``df`` (effective degrees of freedom on the whole data).

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
        Design.
    y : array_like, shape (n_samples,)
        Targets.
    alphas : array_like, shape (n_alphas,)
        Ridge penalties (scikit-learn's ``alpha``).
    k : int, default 10
        Number of folds.
    seed : int, default 0
        Seed of the shuffle that assigns rows to folds.
    fit_intercept : bool, default True
        Fit an unpenalized intercept in each fold.
    standardize : bool, default False
        Standardize the columns within each training part.
    se : {"folds", "pooled"}, default "folds"
        The standard error: ``"folds"``, the standard deviation (ddof 1) of the
        ``k`` fold MSEs over ``√k`` (ESL §7.10); ``"pooled"``, that of the ``n``
        held-out squared errors over ``√n``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 5)); y = X @ [1.0, 0.5, 0.0, 0.0, -1.0] + rng.normal(size=60)
    >>> cv = kfold_cv(X, y, [0.1, 10.0, 1e4], k=5)
    >>> list(cv.columns), bool(cv["mse"].iloc[-1] > cv["mse"].iloc[0])
    (['alpha', 'mse', 'se', 'df'], True)
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1:
        raise ValueError(f"kfold_cv needs a 1-D y (one target), got shape {y.shape}")
    if se not in ("folds", "pooled"):
        raise ValueError(f"se must be 'folds' (ESL §7.10) or 'pooled'; got {se!r}")
    folds = _folds(X.shape[0], k, seed)
    a = ridge._check_alphas(alphas)
    sq_err = np.empty((X.shape[0], a.size))
    fold_mse = np.empty((len(folds), a.size))
    for i, (train, test) in enumerate(folds):
        dec = ridge.decompose(X[train], y[train], fit_intercept=fit_intercept, standardize=standardize)
        sq_err[test] = (y[test, None] - dec.predict(X[test], a)) ** 2
        fold_mse[i] = sq_err[test].mean(axis=0)
    df = ridge.decompose(X, y, fit_intercept=fit_intercept, standardize=standardize).df(a)
    if se == "folds":
        spread = fold_mse.std(axis=0, ddof=1) / math.sqrt(len(folds))
    else:
        spread = sq_err.std(axis=0, ddof=1) / math.sqrt(X.shape[0])
    return pd.DataFrame({"alpha": a, "mse": fold_mse.mean(axis=0), "se": spread, "df": df})


def one_standard_error(cv: pd.DataFrame) -> float:
    """The largest ``alpha`` whose CV error is within one standard error of the minimum (ESL §7.10).

    ``cv`` is a :func:`kfold_cv` table (columns ``alpha``, ``mse``, ``se``).
    Among the α at least as large as the best one, the most regularized whose
    ``mse`` is at most ``mse_min + se_min``.

    >>> cv = pd.DataFrame({"alpha": [0.1, 1.0, 10.0, 100.0], "mse": [1.2, 1.0, 1.05, 1.5], "se": [0.1] * 4})
    >>> one_standard_error(cv)
    10.0
    """
    missing = {"alpha", "mse", "se"} - set(cv.columns)
    if missing:
        raise ValueError(f"one_standard_error needs the columns alpha, mse and se (a kfold_cv table); "
                         f"missing {sorted(missing)}")
    best = cv["mse"].idxmin()
    threshold = cv.loc[best, "mse"] + cv.loc[best, "se"]
    ok = cv[(cv["alpha"] >= cv.loc[best, "alpha"]) & (cv["mse"] <= threshold)]
    return float(ok["alpha"].max())


def fold_choices(X, y, alphas, *, seeds, k: int = 10, fit_intercept: bool = True, standardize: bool = False,
                 se: str = "folds") -> pd.DataFrame:
    """The CV minimum and the one-SE choice of α for each random fold assignment.

    Runs :func:`kfold_cv` once per seed and applies :func:`one_standard_error`:
    the spread of the rows is the noise that the fold assignment alone puts
    into a CV-chosen α.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
        Design.
    y : array_like, shape (n_samples,)
        Targets.
    alphas : array_like, shape (n_alphas,)
        Grid of ridge penalties.
    seeds : iterable of int
        Seeds of the fold assignments.
    k : int, default 10
        Number of folds.
    fit_intercept : bool, default True
        Unpenalized intercept in each fold.
    standardize : bool, default False
        Standardize the columns within each training part.
    se : {"folds", "pooled"}, default "folds"
        Standard error of :func:`kfold_cv`.

    Returns
    -------
    pandas.DataFrame
        One row per seed: ``seed``, ``min`` (the α of the lowest CV error) and ``one_se``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 4)); y = X @ [1.0, 0.0, 0.5, -1.0] + rng.normal(size=50)
    >>> picks = fold_choices(X, y, np.logspace(-2, 3, 21), seeds=range(3), k=5)
    >>> list(picks.columns), bool((picks["one_se"] >= picks["min"]).all())
    (['seed', 'min', 'one_se'], True)
    """
    rows = []
    for s in seeds:
        cv = kfold_cv(X, y, alphas, k=k, seed=s, fit_intercept=fit_intercept, standardize=standardize, se=se)
        rows.append({"seed": int(s), "min": float(cv.loc[cv["mse"].idxmin(), "alpha"]),
                     "one_se": one_standard_error(cv)})
    return pd.DataFrame(rows, columns=["seed", "min", "one_se"])


# --------------------------------------------------------------------------- #
# hypergradients: the gradient of the validation error with respect to α
# --------------------------------------------------------------------------- #
def _validation_error_and_gradient(dec: ridge.RidgeDecomposition, X_val: np.ndarray, y_val: np.ndarray,
                                   a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validation MSE of the ridge fits in ``dec`` at each α, and its derivative in α (one SVD, no refits).

    On the centred, scaled design ``Z = U diag(d) Vᵀ``, ``w(α) = V diag(d/(d²+α)) Uᵀy`` and, by the
    implicit function theorem on ``(ZᵀZ + αI) w = Zᵀy``, ``dw/dα = −(ZᵀZ + αI)⁻¹ w = −V diag(d/(d²+α)²) Uᵀy``.
    The intercept ``ȳ − x̄ᵀw`` moves with ``w``, so ``dŷ/dα = Z_val dw/dα``.
    """
    Z_val = (X_val - dec.X_offset) / dec.X_scale  # validation rows on the fit's centred, scaled axes
    P = Z_val @ dec.Vt.T  # (m, r)
    uty = dec.Uty[:, 0]
    denom = dec.s[None, :] ** 2 + a[:, None]  # (n_alphas, r)
    pred = dec.y_offset[0] + P @ (dec.s[None, :] / denom * uty).T  # (m, n_alphas)
    dpred = -P @ (dec.s[None, :] / denom**2 * uty).T
    resid = y_val[:, None] - pred
    return np.mean(resid**2, axis=0), -2.0 * np.mean(resid * dpred, axis=0)


def _check_validation(X_val, y_val, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    X_val, y_val = np.asarray(X_val, dtype=np.float64), np.asarray(y_val, dtype=np.float64)
    if X_val.ndim != 2 or X_val.shape[1] != n_features or y_val.shape != (X_val.shape[0],) or not y_val.size:
        raise ValueError(f"X_val must have shape (m, {n_features}) and y_val shape (m,) with m >= 1; got "
                         f"{X_val.shape} and {y_val.shape}")
    return X_val, y_val


def ridge_hypergradient(X, y, X_val, y_val, alphas, *, fit_intercept: bool = True,
                        standardize: bool = False) -> pd.DataFrame:
    """Validation error of ridge fitted on ``(X, y)`` and its exact derivative with respect to ``alpha``.

    The *hypergradient* (Larsen et al. 1996; Bengio 2000; Pedregosa 2016):
    ridge's coefficients solve ``(XᵀX + αI) w = Xᵀy`` (centred, and scaled when
    ``standardize``), so by the implicit function theorem
    ``dw/dα = −(XᵀX + αI)⁻¹ w``; in the canonical ``λ = α/n`` that is
    ``dw/dλ = −(XᵀX + nλI)⁻¹ n w``. The chain rule through the validation
    predictions gives ``dE_val/dα``. Unlike the gradient of the *training*
    loss (:func:`implied_weight_decay`), it says which way to move α.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
        Training design.
    y : array_like, shape (n_samples,)
        Training targets.
    X_val : array_like, shape (n_val, n_features)
        Validation design.
    y_val : array_like, shape (n_val,)
        Validation targets.
    alphas : array_like, shape (n_alphas,)
        Ridge penalties (scikit-learn's ``alpha``), ``>= 0``.
    fit_intercept : bool, default True
        Unpenalized intercept.
    standardize : bool, default False
        Penalize the coefficients of the training columns scaled to unit variance.

    Returns
    -------
    pandas.DataFrame
        One row per α: ``alpha``, ``mse`` (validation mean squared error),
        ``grad`` (``d mse/dα``) and ``grad_log_alpha`` (``α · grad``, the
        derivative in ``log α``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 5)); y = X @ [1.0, 0.5, 0.0, 0.0, -1.0] + rng.normal(size=40)
    >>> h = ridge_hypergradient(X[:30], y[:30], X[30:], y[30:], [1.0, 1.0 + 1e-6])
    >>> fd = (h["mse"].iloc[1] - h["mse"].iloc[0]) / 1e-6
    >>> bool(abs(h["grad"].iloc[0] - fd) < 1e-5)
    True
    """
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1:
        raise ValueError(f"ridge_hypergradient needs a 1-D y (one target), got shape {y.shape}")
    dec = ridge.decompose(X, y, fit_intercept=fit_intercept, standardize=standardize)
    X_val, y_val = _check_validation(X_val, y_val, dec.n_features)
    a = ridge._check_alphas(alphas)
    mse, grad = _validation_error_and_gradient(dec, X_val, y_val, a)
    return pd.DataFrame({"alpha": a, "mse": mse, "grad": grad, "grad_log_alpha": a * grad})


def kfold_hypergradient(X, y, alphas, *, k: int = 10, seed: int = 0, fit_intercept: bool = True,
                        standardize: bool = False) -> pd.DataFrame:
    """:func:`kfold_cv`'s error (same folds) and its exact derivative with respect to ``alpha``.

    The K-fold error is the mean of the fold errors, so its derivative is the
    mean of the folds' :func:`ridge_hypergradient`.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
        Design.
    y : array_like, shape (n_samples,)
        Targets.
    alphas : array_like, shape (n_alphas,)
        Ridge penalties.
    k : int, default 10
        Number of folds.
    seed : int, default 0
        Seed of the fold assignment (as in :func:`kfold_cv`).
    fit_intercept : bool, default True
        Unpenalized intercept in each fold.
    standardize : bool, default False
        Standardize the columns within each training part.

    Returns
    -------
    pandas.DataFrame
        One row per α: ``alpha``, ``mse``, ``grad`` and ``grad_log_alpha``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 4)); y = X @ [1.0, 0.0, 0.5, -1.0] + rng.normal(size=50)
    >>> h = kfold_hypergradient(X, y, [3.0], k=5)
    >>> bool(np.isclose(h["mse"].iloc[0], kfold_cv(X, y, [3.0], k=5)["mse"].iloc[0]))
    True
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1:
        raise ValueError(f"kfold_hypergradient needs a 1-D y (one target), got shape {y.shape}")
    a = ridge._check_alphas(alphas)
    folds = _folds(X.shape[0], k, seed)
    mse, grad = np.zeros(a.size), np.zeros(a.size)
    for train, test in folds:
        dec = ridge.decompose(X[train], y[train], fit_intercept=fit_intercept, standardize=standardize)
        m, g = _validation_error_and_gradient(dec, X[test], y[test], a)
        mse, grad = mse + m / len(folds), grad + g / len(folds)
    return pd.DataFrame({"alpha": a, "mse": mse, "grad": grad, "grad_log_alpha": a * grad})


@dataclass(frozen=True)
class HypergradientFit:
    """Where :func:`hypergradient_descent` stopped, and how it got there."""

    alpha: float  #: the α reached
    mse: float  #: the validation (or K-fold) error there
    steps: int  #: gradient steps taken
    converged: bool  #: ``|d mse / d log α| < tol`` at the end
    history: pd.DataFrame  #: one row per iterate: ``step``, ``alpha``, ``mse``, ``grad_log_alpha``, ``lr``


def hypergradient_descent(X, y, *, X_val=None, y_val=None, k: int = 10, seed: int = 0, alpha0: float = 1.0,
                          lr: float = 1.0, tol: float = 1e-8, max_steps: int = 500, fit_intercept: bool = True,
                          standardize: bool = False) -> HypergradientFit:
    """Choose ridge's ``alpha`` by gradient descent on ``log α`` of the validation error.

    The error is that of a held-out set (``X_val, y_val``) or, without one, the
    K-fold error of :func:`kfold_cv` (same folds); its gradient is exact
    (:func:`ridge_hypergradient`). Each step is ``log α ← log α − η · dE/d log α``.
    The step size adapts as in the "bold driver" rule: ``η`` grows by 1.5
    after a step that lowers the error and halves (the step is retried) after
    one that does not. It stops when ``|dE/d log α| < tol``.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
        Training design.
    y : array_like, shape (n_samples,)
        Training targets.
    X_val : array_like, shape (n_val, n_features), optional
        Validation design; without it the K-fold error is descended.
    y_val : array_like, shape (n_val,), optional
        Validation targets (with ``X_val``).
    k : int, default 10
        Folds when there is no validation set.
    seed : int, default 0
        Seed of the fold assignment.
    alpha0 : float, default 1.0
        Starting ``α > 0``.
    lr : float, default 1.0
        Initial step size ``η`` on ``log α``.
    tol : float, default 1e-8
        Gradient magnitude (in ``log α``) at which to stop.
    max_steps : int, default 500
        Steps before giving up (with a warning).
    fit_intercept : bool, default True
        Unpenalized intercept.
    standardize : bool, default False
        Standardize the columns within each training part.

    Returns
    -------
    HypergradientFit

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 8)); y = X @ rng.normal(size=8) * 0.3 + rng.normal(size=60)
    >>> fit = hypergradient_descent(X, y, k=5)
    >>> grid = np.logspace(-2, 4, 601); cv = kfold_cv(X, y, grid, k=5)
    >>> bool(fit.converged and fit.mse <= cv["mse"].min() + 1e-12)
    True
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if (X_val is None) != (y_val is None):
        raise ValueError("give both X_val and y_val (a validation set), or neither (K-fold)")
    if y.ndim != 1:
        raise ValueError(f"hypergradient_descent needs a 1-D y (one target), got shape {y.shape}")
    lr, tol = _positive(lr, "lr"), _positive(tol, "tol")
    max_steps = _checks.integer(max_steps, "max_steps")
    if X_val is not None:
        dec = ridge.decompose(X, y, fit_intercept=fit_intercept, standardize=standardize)
        X_val, y_val = _check_validation(X_val, y_val, dec.n_features)
        parts = [(dec, X_val, y_val)]
    else:
        parts = [(ridge.decompose(X[tr], y[tr], fit_intercept=fit_intercept, standardize=standardize), X[te], y[te])
                 for tr, te in _folds(X.shape[0], k, seed)]

    def error(log_a: float) -> tuple[float, float]:  # (E, dE/d log α)
        a = np.array([math.exp(log_a)])
        vals = [_validation_error_and_gradient(d, Xv, yv, a) for d, Xv, yv in parts]
        return (float(np.mean([m[0] for m, _ in vals])), float(a[0] * np.mean([g[0] for _, g in vals])))

    u = math.log(_positive(alpha0, "alpha0"))
    e, g = error(u)
    rows = [{"step": 0, "alpha": math.exp(u), "mse": e, "grad_log_alpha": g, "lr": lr}]
    step = 0
    while abs(g) >= tol and step < max_steps:
        step += 1
        while True:
            e_new, g_new = error(u - lr * g)
            if e_new < e or lr < 1e-12:
                break
            lr /= 2
        u, e, g = u - lr * g, e_new, g_new
        rows.append({"step": step, "alpha": math.exp(u), "mse": e, "grad_log_alpha": g, "lr": lr})
        lr *= 1.5
    converged = abs(g) < tol
    if not converged:
        warnings.warn(f"hypergradient_descent: |dE/d log α| = {abs(g):.1e} after {max_steps} steps (tol {tol:g})",
                      stacklevel=2)
    return HypergradientFit(alpha=math.exp(u), mse=e, steps=step, converged=converged,
                            history=pd.DataFrame(rows))


# --------------------------------------------------------------------------- #
# the evidence (empirical Bayes)
# --------------------------------------------------------------------------- #
def _evidence_parts(dec: ridge.RidgeDecomposition, a: np.ndarray):
    """For each α: RSS, ‖w‖² (penalized scale), γ = Σ d²/(d² + α), and the log evidence, noise precision profiled."""
    n_eff = dec.n_samples - int(dec.fit_intercept)  # a flat prior on the intercept uses up one observation
    p = dec.n_features
    rss = dec.residual_sum_of_squares(a)
    w2 = np.sum((dec.coef(a) * dec.X_scale) ** 2, axis=1)
    d2 = dec.s**2
    gamma = np.sum(d2 / (d2[None, :] + a[:, None]), axis=1)
    with np.errstate(divide="ignore"):
        logdet = np.sum(np.log(d2[None, :] + a[:, None]), axis=1) + (p - d2.size) * np.log(a)
        s = rss + a * w2
        log_ev = (0.5 * p * np.log(a) - 0.5 * logdet - 0.5 * n_eff * np.log(s / n_eff) - 0.5 * n_eff
                  - 0.5 * n_eff * math.log(2 * math.pi))
    return rss, w2, gamma, log_ev, n_eff


def _evidence_at(dec: ridge.RidgeDecomposition, alpha: float):
    """:func:`_evidence_parts` at one α, as floats."""
    rss, w2, gamma, log_ev, n_eff = _evidence_parts(dec, np.array([alpha]))
    return float(rss[0]), float(w2[0]), float(gamma[0]), float(log_ev[0]), n_eff


def log_evidence(X, y, alphas, *, fit_intercept: bool = True, standardize: bool = False) -> np.ndarray:
    """Log marginal likelihood ``ln p(y | α)`` of Bayesian ridge, with the noise variance at its maximum.

    The model is ``y = b + Xw + ε`` with ``ε ~ N(0, σ² I)``, ``w ~ N(0, (σ²/α) I)``
    and a flat prior on ``b``. The posterior mean of ``w`` is the ridge solution
    for ``alpha``. For each α the noise variance is set to its maximizing value
    ``(RSS + α‖w‖²)/n_eff``, with ``n_eff = n − 1`` when there is an intercept.
    The maximizer over α is :func:`evidence_fit`'s.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
        Design.
    y : array_like, shape (n_samples,)
        Targets.
    alphas : array_like, shape (n_alphas,)
        Ridge penalties.
    fit_intercept : bool, default True
        Flat prior on an intercept (which costs one degree of freedom).
    standardize : bool, default False
        Scale the columns of ``X`` to unit variance first.

    Returns
    -------
    ndarray, shape (n_alphas,)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 4)); y = X @ [1.0, -1.0, 0.5, 0.0] + rng.normal(size=100)
    >>> ev = log_evidence(X, y, [1e-3, 3.0, 1e3])
    >>> bool(ev[1] > ev[0] and ev[1] > ev[2])
    True
    """
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1:
        raise ValueError(f"log_evidence needs a 1-D y (one target), got shape {y.shape}")
    a = ridge._check_alphas(alphas)
    if (a == 0).any():
        raise ValueError("the evidence is defined for alpha > 0 only (alpha = 0 is an improper flat prior)")
    dec = ridge.decompose(X, y, fit_intercept=fit_intercept, standardize=standardize)
    return _evidence_parts(dec, a)[3]


@dataclass(frozen=True)
class EvidenceFit:
    """The evidence-maximizing ridge penalty and what comes with it (see :func:`evidence_fit`)."""

    alpha: float  #: ridge α = σ²/σ_w²
    weight_decay: float  #: the canonical λ = α/n
    noise_std: float  #: σ, the noise standard deviation
    prior_std: float  #: σ_w, the prior standard deviation of each coefficient (penalized scale)
    gamma: float  #: effective number of well-determined parameters Σ d²/(d² + α)
    log_evidence: float  #: ln p(y | α) at the optimum, noise variance profiled
    iterations: int  #: fixed-point iterations used


def evidence_fit(X, y, *, fit_intercept: bool = True, standardize: bool = False, alpha0: float = 1.0,
                 tol: float = 1e-10, max_iter: int = 1000) -> EvidenceFit:
    """MacKay's (1992) fixed point for the evidence-maximizing ridge α.

    Iterates ``γ = Σ d²/(d² + α)``, ``1/σ_w² = γ/‖w‖²``, ``1/σ² = (n_eff − γ)/RSS``
    and ``α = σ²/σ_w²`` from ``alpha0`` until α changes by less than ``tol``
    (relative). At the fixed point the derivative of :func:`log_evidence` is zero.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
        Design.
    y : array_like, shape (n_samples,)
        Targets.
    fit_intercept : bool, default True
        Unpenalized intercept (flat prior on ``b``).
    standardize : bool, default False
        Scale the columns of ``X`` to unit variance before fitting (``alpha`` then
        refers to the standardized columns).
    alpha0 : float, default 1.0
        Starting ``α``.
    tol : float, default 1e-10
        Relative change of ``α`` at which to stop.
    max_iter : int, default 1000
        Iterations before giving up (``RuntimeError``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 5)); y = X @ [1.0, -1.0, 0.5, 0.0, 0.0] + 0.5 * rng.normal(size=200)
    >>> fit = evidence_fit(X, y)
    >>> round(fit.noise_std, 2), 0 < fit.gamma <= 5   # the noise was drawn with σ = 0.5
    (0.49, True)
    """
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1:
        raise ValueError(f"evidence_fit needs a 1-D y (one target), got shape {y.shape}")
    alpha = _positive(alpha0, "alpha0")
    tol, max_iter = _positive(tol, "tol"), _checks.integer(max_iter, "max_iter")
    dec = ridge.decompose(X, y, fit_intercept=fit_intercept, standardize=standardize)
    for it in range(1, max_iter + 1):
        rss, w2, gamma, _, n_eff = _evidence_at(dec, alpha)
        if w2 == 0 or rss == 0 or n_eff <= gamma:
            raise ValueError("the evidence has no finite maximum here: the fit is exact (RSS = 0) or the "
                             "coefficients are all zero; use cross-validation instead")
        new = gamma * rss / ((n_eff - gamma) * w2)  # (1/σ_w²) / (1/σ²) = (γ/‖w‖²) · RSS/(n_eff − γ)
        if abs(new - alpha) <= tol * alpha:
            alpha = new
            break
        alpha = new
    else:
        raise RuntimeError(f"the evidence fixed point did not converge in {max_iter} iterations (last alpha "
                           f"{alpha:g}); raise max_iter or start from another alpha0")
    rss, w2, gamma, log_ev, n_eff = _evidence_at(dec, alpha)
    noise_var = rss / (n_eff - gamma)
    return EvidenceFit(alpha=float(alpha), weight_decay=float(ridge.weight_decay_from_alpha(alpha, dec.n_samples)),
                       noise_std=math.sqrt(noise_var), prior_std=math.sqrt(w2 / gamma), gamma=float(gamma),
                       log_evidence=float(log_ev), iterations=it)


# --------------------------------------------------------------------------- #
# seed 001's recipe, and rules of thumb for networks
# --------------------------------------------------------------------------- #
def _flat(xs) -> np.ndarray:
    if hasattr(xs, "detach") or isinstance(xs, np.ndarray):
        xs = [xs]
    parts = [np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x, dtype=np.float64).ravel()
             for x in xs]
    return np.concatenate(parts) if parts else np.zeros(0)


def logistic_loss(X, y, w) -> tuple[float, np.ndarray]:
    """Mean binary cross-entropy of logits ``X @ w`` against labels ``y`` in {0, 1}, and its gradient in ``w``.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
        Design.
    y : array_like, shape (n_samples,)
        Labels in {0, 1}.
    w : array_like, shape (n_features,)
        Weights.

    Returns
    -------
    loss : float
    grad : ndarray, shape (n_features,)

    Examples
    --------
    >>> loss, grad = logistic_loss(np.eye(2), np.array([1.0, 0.0]), np.zeros(2))
    >>> round(loss, 6), grad.tolist()
    (0.693147, [-0.25, 0.25])
    """
    X, y, w = np.asarray(X, dtype=float), np.asarray(y, dtype=float), np.asarray(w, dtype=float)
    z = X @ w
    loss = float(np.mean(np.logaddexp(0.0, z) - y * z))  # log(1 + e^z) − y·z, stable for large |z|
    return loss, X.T @ (_sigmoid(z) - y) / len(y)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -z))


def fit_logistic(X, y, *, weight_decay: float, tol: float = 1e-13, max_iter: int = 100) -> np.ndarray:
    """``w`` minimizing ``logistic_loss(X, y, w) + (λ/2)‖w‖²`` (no intercept), by damped Newton steps.

    The objective is strictly convex for ``λ > 0``, so Newton's method with a
    backtracking line search converges to machine precision in a few dozen
    steps; it stops when the gradient's norm is below ``tol``.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
        Design (add a column of ones for an intercept; it is then penalized too).
    y : array_like, shape (n_samples,)
        Labels in {0, 1}.
    weight_decay : float
        Canonical λ > 0.
    tol : float, default 1e-13
        Gradient norm at which to stop.
    max_iter : int, default 100
        Newton steps before giving up with a warning.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]); y = np.array([1.0, 0.0, 1.0])
    >>> w = fit_logistic(X, y, weight_decay=0.1)
    >>> g = logistic_loss(X, y, w)[1] + 0.1 * w; bool(np.linalg.norm(g) < 1e-12)
    True
    """
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    lam = _positive(weight_decay, "weight_decay")
    max_iter = _checks.integer(max_iter, "max_iter")

    def objective(w):
        loss, grad = logistic_loss(X, y, w)
        return loss + lam / 2 * float(w @ w), grad + lam * w

    w = np.zeros(X.shape[1])
    f, g = objective(w)
    for _ in range(max_iter):
        if np.linalg.norm(g) < tol:
            return w
        p = _sigmoid(X @ w)
        H = (X.T * (p * (1 - p))) @ X / len(y) + lam * np.eye(len(w))
        step, t = np.linalg.solve(H, g), 1.0
        while True:  # backtracking (Armijo); near the optimum, where f no longer resolves the decrease, the
            f_new, g_new = objective(w - t * step)  # full Newton step is taken if it shrinks the gradient
            if f_new <= f - 1e-4 * t * float(g @ step) or np.linalg.norm(g_new) < np.linalg.norm(g) or t < 1e-10:
                break
            t /= 2
        w, f, g = w - t * step, f_new, g_new
    warnings.warn(f"fit_logistic: gradient norm {np.linalg.norm(g):.1e} after {max_iter} Newton steps", stacklevel=2)
    return w


def implied_weight_decay(grads, params) -> float:
    """``−⟨∇L, w⟩ / ‖w‖²``: the λ that the data-loss gradient "suggests" at ``w``.

    Seed post 001 proposes to estimate λ "from the gradient of the
    cross-entropy loss". At a minimizer of ``L(w) + (λ/2)‖w‖²`` the gradient
    is ``∇L(ŵ) = −λŵ`` for *every* λ, so this estimate returns the λ that
    was used to train, whatever it was: it carries no information about which
    λ is good. ``grads`` and ``params`` are arrays or tensors, or matching
    sequences of them (the decayed parameters only).

    Parameters
    ----------
    grads : array, tensor or sequence of them
        ``∇L`` of the data loss at ``params``.
    params : array, tensor or sequence of them
        The (decayed) parameters ``w``, matching ``grads``.

    Examples
    --------
    >>> w = np.array([0.5, -2.0]); round(implied_weight_decay(-0.3 * w, w), 12)
    0.3
    """
    g, w = _flat(grads), _flat(params)
    if g.shape != w.shape:
        raise ValueError(f"grads and params must match: {g.size} gradient entries for {w.size} parameters")
    norm2 = float(w @ w)
    if norm2 == 0:
        raise ValueError("all parameters are zero: the implied λ is undefined")
    return -float(g @ w) / norm2


def normalized_weight_decay(lambda_norm: float, *, batch_size: int, n_train: int, epochs: float) -> float:
    """Loshchilov & Hutter's (2019) ``λ = λ_norm · √(b / (B·T))``.

    ``b`` is the batch size, ``B`` the number of training points and ``T`` the
    number of epochs; their normalized ``λ_norm`` is meant to transfer across
    budgets, where the raw λ does not.

    Parameters
    ----------
    lambda_norm : float
        Normalized weight decay ``λ_norm``.
    batch_size : int
        ``b``.
    n_train : int
        ``B``, training points per epoch.
    epochs : float
        ``T``.

    Examples
    --------
    >>> round(normalized_weight_decay(0.05, batch_size=128, n_train=50000, epochs=100), 8)
    0.00025298
    """
    lam = _positive(lambda_norm, "lambda_norm")
    b, n = _checks.integer(batch_size, "batch_size"), _checks.integer(n_train, "n_train")
    return lam * math.sqrt(b / (n * _positive(epochs, "epochs")))


def adamw_timescale(lr: float, weight_decay: float, *, steps_per_epoch: int | None = None) -> float:
    """AdamW's averaging timescale ``τ = 1/(ηλ)``, in steps, or in epochs given ``steps_per_epoch``.

    Each step multiplies the weights by ``1 − ηλ``, so the weights are an
    exponential moving average of past updates over about ``τ`` steps (Wang &
    Aitchison 2024), who find the best ``τ`` in *epochs* roughly constant as
    the model and the data grow.

    Parameters
    ----------
    lr : float
        Learning rate ``η``.
    weight_decay : float
        AdamW's ``weight_decay`` ``λ``.
    steps_per_epoch : int, optional
        Convert the timescale from steps to epochs.

    Examples
    --------
    >>> adamw_timescale(1e-3, 0.1), adamw_timescale(1e-3, 0.1, steps_per_epoch=500)
    (10000.0, 20.0)
    """
    tau = 1.0 / (_positive(lr, "lr") * _positive(weight_decay, "weight_decay"))
    return tau if steps_per_epoch is None else tau / _checks.integer(steps_per_epoch, "steps_per_epoch")


def weight_decay_for_timescale(lr: float, tau_epochs: float, *, steps_per_epoch: int) -> float:
    """The AdamW λ that gives a timescale of ``tau_epochs`` epochs: ``1/(η · τ · steps_per_epoch)``.

    Parameters
    ----------
    lr : float
        Learning rate ``η``.
    tau_epochs : float
        Wanted timescale ``τ``, in epochs.
    steps_per_epoch : int
        Optimizer steps per epoch.

    Examples
    --------
    >>> weight_decay_for_timescale(1e-3, 20.0, steps_per_epoch=500)
    0.1
    """
    steps = _positive(tau_epochs, "tau_epochs") * _checks.integer(steps_per_epoch, "steps_per_epoch")
    return 1.0 / (_positive(lr, "lr") * steps)
