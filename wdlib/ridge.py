"""Ridge regression: closed form, regularization path, LOO, GCV, bias–variance.

``alpha`` is the penalty as scikit-learn defines it: the coefficients minimize

.. math::

    \\lVert y - Xw - b\\mathbf{1} \\rVert^2 + \\alpha \\lVert w \\rVert^2 ,

with the intercept ``b`` unpenalized.  The book's canonical λ (the mean form
``‖y − Xw − b‖²/(2n) + (λ/2)‖w‖²`` used by :mod:`wdlib.linreg` and the
optimizers) is ``λ = α/n``; convert with :func:`weight_decay_from_alpha` and
:func:`alpha_from_weight_decay`, never by hand.

The module has three layers, as scikit-learn's ``_ridge.py`` does:

1. private kernels that trust their input (``_svd_kernel``, ``_factors``);
2. :func:`decompose`, which validates, centres (and optionally standardizes)
   the data and takes one SVD of the centred design;
3. everything else is read off that one decomposition for any number of
   ``alpha`` at once: coefficients (:meth:`RidgeDecomposition.coef`),
   shrinkage factors ``d²/(d² + α)``, effective degrees of freedom, exact
   leave-one-out errors and generalized cross-validation.
   :func:`fit_ridge` and :func:`ridge_path` are the thin front ends.

With the thin SVD ``X_c = U diag(d) Vᵀ`` of the centred design,

* ``w(α) = V diag(d / (d² + α)) Uᵀ y_c``  (Hoerl & Kennard 1970; ESL eq. 3.47),
* ``df(α) = Σ d² / (d² + α)``  (ESL eq. 3.50; the intercept is not counted),
* hat matrix ``H(α) = 11ᵀ/n + U diag(d²/(d²+α)) Uᵀ`` (the first term only with
  an intercept), leave-one-out residual ``e_i / (1 − H_ii)`` (exact for any
  linear smoother of this penalized least-squares form),
* ``GCV(α) = n ‖(I − H) y‖² / (n − tr H)²`` (Golub, Heath & Wahba 1979).

numpy only; float64 throughout.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import conventions

__all__ = [
    "ESL_TABLE_3_3_PUBLISHED",
    "RankDeficientWarning",
    "RidgeDecomposition",
    "RidgeFit",
    "RidgePath",
    "alpha_for_df",
    "alpha_from_weight_decay",
    "bias_variance",
    "coefficient_mse",
    "decompose",
    "esl_table_3_3",
    "fit_ridge",
    "hoerl_kennard_alpha",
    "isotropic_risk",
    "noisy_input_loss",
    "optimal_alpha_isotropic",
    "ridge_path",
    "simulate_bias_variance",
    "standardize",
    "weight_decay_from_alpha",
]


class RankDeficientWarning(UserWarning):
    """``alpha = 0`` on a rank-deficient design: the minimum-norm solution is returned."""


# --------------------------------------------------------------------------- #
# the α ↔ λ conversion (wdlib.conventions states it once, exactly)
# --------------------------------------------------------------------------- #
def weight_decay_from_alpha(alpha, n_samples: int):
    """Canonical λ of a scikit-learn ``alpha``: ``λ = alpha / n_samples``.

    ``‖y − Xw‖² + α‖w‖²`` is ``2n`` times ``‖y − Xw‖²/(2n) + (λ/2)‖w‖²`` when
    ``α = nλ``, so both have the same minimizer.

    Parameters
    ----------
    alpha : float or array_like
        scikit-learn's ``Ridge(alpha)`` (sum-of-squares convention).
    n_samples : int
        Rows of the design.

    Examples
    --------
    >>> weight_decay_from_alpha(5.0, 100)
    0.05
    """
    n = _check_n_samples(n_samples)
    a = _check_alphas(alpha, name="alpha")
    lam = np.array([conventions.to_canonical(v, "sklearn_ridge", n_samples=n) for v in a.tolist()])
    return lam if np.ndim(alpha) else float(lam[0])


def alpha_from_weight_decay(weight_decay, n_samples: int):
    """scikit-learn ``alpha`` of a canonical λ: ``alpha = n_samples · λ``.

    Parameters
    ----------
    weight_decay : float or array_like
        Canonical λ (mean-loss convention).
    n_samples : int
        Rows of the design the loss is averaged over.

    Examples
    --------
    >>> alpha_from_weight_decay(0.05, 100)
    5.0
    """
    n = _check_n_samples(n_samples)
    lam = _check_alphas(weight_decay, name="weight_decay")
    a = np.array([conventions.from_canonical(v, "sklearn_ridge", n_samples=n) for v in lam.tolist()])
    return a if np.ndim(weight_decay) else float(a[0])


# --------------------------------------------------------------------------- #
# validation (the boundary): messages say what to change
# --------------------------------------------------------------------------- #
def _check_int(value, name: str, *, minimum: int = 1, what: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {kind}{what}; got {value!r}")
    return int(value)


def _check_n_samples(n_samples) -> int:
    return _check_int(n_samples, "n_samples", what=" (the number of rows of X)")


def _check_alphas(alphas, *, name: str = "alphas") -> np.ndarray:
    try:
        a = np.asarray(alphas, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number or a 1-D sequence of numbers; got {alphas!r}") from None
    if a.ndim > 1:
        raise ValueError(f"{name} must be a number or a 1-D sequence; got an array of shape {a.shape}")
    a = np.atleast_1d(a)
    if a.size == 0:
        raise ValueError(f"{name} is empty; pass at least one value, e.g. np.logspace(-3, 3, 50)")
    bad = np.flatnonzero(~np.isfinite(a) | (a < 0))
    if bad.size:
        i = int(bad[0])
        where = f" at position {i}" if np.ndim(alphas) else ""
        raise ValueError(f"{name} must be finite and >= 0; got {float(a[i])}{where}. "
                         "Use 0 for no penalty (least squares), a positive value otherwise")
    return a


def _check_finite(A: np.ndarray, name: str) -> None:
    if not np.isfinite(A).all():
        idx = np.argwhere(~np.isfinite(A))[0]
        where = f"row {idx[0]}" + (f", column {idx[1]}" if A.ndim == 2 else "")
        raise ValueError(f"{name} contains NaN or infinity (first at {where}, value {float(A[tuple(idx)])}); "
                         "remove or impute those entries before fitting")


def _check_Xy(X, y) -> tuple[np.ndarray, np.ndarray, bool]:
    """float64 ``X (n, p)`` and ``Y (n, k)``; whether ``y`` was 1-D."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2:
        hint = " Use X.reshape(-1, 1) for a single feature." if X.ndim == 1 else ""
        raise ValueError(f"X must be 2-D (n_samples, n_features); got shape {X.shape}.{hint}")
    if y.ndim not in (1, 2):
        raise ValueError(f"y must be 1-D (n_samples,) or 2-D (n_samples, n_targets); got shape {y.shape}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X is empty (shape {X.shape}); ridge needs at least one sample and one feature")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]}; they need one row per sample")
    if y.ndim == 2 and y.shape[1] == 0:
        raise ValueError(f"y has no targets (shape {y.shape}); pass at least one column")
    _check_finite(X, "X")
    _check_finite(y, "y")
    single = y.ndim == 1
    return X, (y[:, None] if single else y), single


def standardize(X, *, center: bool = True, ddof: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Columns with mean 0 and unit variance.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
    center : bool, default True
        Subtract column means first.  With ``False`` columns are only divided by
        their root mean square.
    ddof : int, default 0
        The scale is ``sqrt(Σ(x − mean)² / (n − ddof))``: 0 as glmnet, 1 as R's
        ``scale()``, which ESL's prostate analysis used.

    Returns
    -------
    Xs : ndarray, shape (n_samples, n_features)
    mean : ndarray, shape (n_features,)
        Zeros when ``center=False``.
    scale : ndarray, shape (n_features,)

    Raises
    ------
    ValueError
        If a column is constant (its scale is 0): drop it first.

    Examples
    --------
    >>> Xs, mean, scale = standardize([[1.0, 2.0], [3.0, 6.0]])
    >>> Xs.tolist(), mean.tolist(), scale.tolist()
    ([[-1.0, -1.0], [1.0, 1.0]], [2.0, 4.0], [1.0, 2.0])
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.size == 0:
        raise ValueError(f"X must be a non-empty 2-D array (n_samples, n_features); got shape {X.shape}")
    _check_finite(X, "X")
    mean = X.mean(axis=0) if center else np.zeros(X.shape[1])
    Xc = X - mean
    scale = np.sqrt(np.sum(Xc**2, axis=0) / (X.shape[0] - ddof))
    const = np.flatnonzero(scale <= np.finfo(np.float64).eps * np.maximum(1.0, np.abs(mean)))
    if const.size:
        raise ValueError(f"column(s) {const.tolist()} of X are constant, so they cannot be scaled to unit "
                         "variance; drop them before standardizing")
    return Xc / scale, mean, scale


# --------------------------------------------------------------------------- #
# private kernels: trust their input
# --------------------------------------------------------------------------- #
def _svd_kernel(Xc: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Thin SVD of ``Xc``, wide designs included.

    Not through the Gram matrix ``X Xᵀ`` for a wide design, though that is
    cheaper: squaring squares the condition number, so singular values below
    ``sqrt(eps)·d_max`` are lost, and with them the solution's components along
    nearly collinear columns (an error of order ``d/α`` in ``w``).  LAPACK's
    divide and conquer reduces a wide matrix to its ``n×n`` triangle first.
    """
    return np.linalg.svd(Xc, full_matrices=False)


def _factors(s: np.ndarray, alphas: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``g = d²/(d²+α)``, ``f = d/(d²+α)`` and ``c = α/(d²+α) = 1 − g``, each (n_alphas, r).

    ``s`` holds only nonzero singular values.  ``c`` is computed directly, not
    as ``1 − g``: near interpolation (tiny α) ``1 − g`` would lose every digit
    to cancellation, and the leave-one-out denominators ``1 − H_ii`` are made of it.
    """
    denom = s[None, :] ** 2 + alphas[:, None]
    return s[None, :] ** 2 / denom, s[None, :] / denom, alphas[:, None] / denom


# --------------------------------------------------------------------------- #
# the decomposition everything is read from
# --------------------------------------------------------------------------- #
@dataclass(frozen=True, eq=False)
class RidgeDecomposition:
    """One SVD of the centred (and optionally scaled) design, plus ``Uᵀy``.

    Build it with :func:`decompose`.  Every method takes ``alphas`` (a number or
    a 1-D sequence, each ``>= 0``) and evaluates all of them at once.

    Attributes
    ----------
    U : ndarray, shape (n_samples, r)
    s : ndarray, shape (r,)
        Singular values ``d`` of the centred design, decreasing.
    Vt : ndarray, shape (r, n_features)
    Uty : ndarray, shape (r, n_targets)
    Yc : ndarray, shape (n_samples, n_targets)
        Centred targets.
    Y_outside : ndarray, shape (n_samples, n_targets)
        ``Yc − U Uᵀ Yc``: the part no ridge fit can reach.
    leverage_outside : ndarray, shape (n_samples,)
        ``1 − 1/n − Σ_j U_ij²`` (without ``1/n`` when there is no intercept).
    X_offset, X_scale : ndarray, shape (n_features,)
    y_offset : ndarray, shape (n_targets,)
    fit_intercept : bool
    single_target : bool
        ``y`` was 1-D; results drop the target axis.
    rank : int
        Numerical rank of the centred design (singular values below
        ``d_max · max(n, p) · eps`` are dropped), so ``r = rank``.
    """

    U: np.ndarray
    s: np.ndarray
    Vt: np.ndarray
    Uty: np.ndarray
    Yc: np.ndarray
    Y_outside: np.ndarray
    leverage_outside: np.ndarray
    X_offset: np.ndarray
    X_scale: np.ndarray
    y_offset: np.ndarray
    fit_intercept: bool
    single_target: bool

    @property
    def rank(self) -> int:
        return self.s.size

    @property
    def n_samples(self) -> int:
        return self.U.shape[0]

    @property
    def n_features(self) -> int:
        return self.Vt.shape[1]

    def _alphas(self, alphas) -> np.ndarray:
        """Validated alphas; warns once per public call about a minimum-norm solution."""
        a = _check_alphas(alphas)
        if (a == 0).any() and self.rank < self.n_features:
            warnings.warn(
                f"alpha = 0 on a design of rank {self.rank} < n_features = {self.n_features} "
                f"(after {'centring' if self.fit_intercept else 'no centring'}): least squares has no unique "
                "solution, so the minimum-norm one is returned. Use alpha > 0 for a unique ridge solution.",
                RankDeficientWarning, stacklevel=3)
        return a

    def _squeeze(self, A: np.ndarray, axis: int) -> np.ndarray:
        return A.squeeze(axis) if self.single_target else A

    # private kernels on validated alphas ------------------------------------
    def _coef(self, a: np.ndarray) -> np.ndarray:
        _, f, _ = _factors(self.s, a)
        # (m, r) * (r, k) -> (m, k, r) @ (r, p) -> (m, k, p)
        W = (f[:, None, :] * self.Uty.T[None, :, :]) @ self.Vt / self.X_scale
        return self._squeeze(W, 1)

    def _intercept(self, W: np.ndarray) -> np.ndarray:
        W = W[:, None, :] if self.single_target else W
        return self._squeeze(self.y_offset[None, :] - W @ self.X_offset, 1)

    def _one_minus_hat(self, c: np.ndarray) -> np.ndarray:
        """``1 − H_ii`` without cancellation: leverage outside span(U) plus ``Σ_j U_ij² c_j``."""
        return self.leverage_outside[:, None] + (self.U**2) @ c.T

    def _rss(self, a: np.ndarray) -> np.ndarray:
        c = _factors(self.s, a)[2]
        return np.sum(self.Y_outside**2, axis=0)[None, :] + (c**2) @ (self.Uty**2)  # (m, k)

    def _loo(self, a: np.ndarray) -> np.ndarray:
        c = _factors(self.s, a)[2]
        one_minus_h = self._one_minus_hat(c)
        # For alpha > 0, 1 − H_ii is a sum of non-negative terms computed without cancellation, accurate even when
        # tiny (a wide design as alpha → 0: residual and 1 − H_ii both shrink like alpha, their ratio stays finite).
        # At alpha = 0 it is the leverage outside span(U) alone, which carries rounding noise: treat ~0 as 0.
        singular = (one_minus_h <= 0) | ((a == 0)[None, :] & (one_minus_h <= 1e3 * np.finfo(np.float64).eps))
        out = np.empty((self.n_samples, self.Yc.shape[1], a.size))
        with np.errstate(divide="ignore", invalid="ignore"):
            for t in range(self.Yc.shape[1]):
                # e = (I − H) y_c = (part of y_c outside span U) + U diag(c) Uᵀ y_c
                e = self.Y_outside[:, t : t + 1] + self.U @ (c * self.Uty[:, t]).T
                out[:, t, :] = np.where(singular, np.inf, (e / one_minus_h) ** 2)
        return out  # (n, k, m)

    def _gcv(self, a: np.ndarray) -> np.ndarray:
        n = self.n_samples
        # n − tr(H) = (directions outside span U, incl. none for the intercept) + Σ α/(d²+α): no cancellation as
        # alpha → 0, where it and the residual vanish together (a wide design) and GCV keeps a finite limit
        rest = n - int(self.fit_intercept) - self.s.size + _factors(self.s, a)[2].sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(rest > 0, n * self._rss(a).mean(axis=1) / rest**2, np.inf)

    # public: each validates its alphas once --------------------------------
    def shrinkage(self, alphas) -> np.ndarray:
        """Shrinkage factors ``d_j²/(d_j² + α)`` (ESL eq. 3.47), shape (n_alphas, r)."""
        return _factors(self.s, self._alphas(alphas))[0]

    def df(self, alphas) -> np.ndarray:
        """Effective degrees of freedom ``Σ d_j²/(d_j² + α)``, shape (n_alphas,); intercept not counted."""
        return self.shrinkage(alphas).sum(axis=1)

    def coef(self, alphas) -> np.ndarray:
        """Coefficients on the original scale of ``X``.

        Returns
        -------
        ndarray, shape (n_alphas, n_features), or (n_alphas, n_targets, n_features) for 2-D ``y``.
        """
        return self._coef(self._alphas(alphas))

    def intercept(self, alphas, coef: np.ndarray | None = None) -> np.ndarray:
        """Intercepts ``ȳ − x̄ᵀw``, shape (n_alphas,) or (n_alphas, n_targets); zeros without intercept.

        Pass ``coef`` (from :meth:`coef` with the same ``alphas``) to skip recomputing it.

        Parameters
        ----------
        alphas : float or array_like, shape (n_alphas,)
            Ridge penalties.
        coef : ndarray, optional
            :meth:`coef` at the same ``alphas``, if already computed.
        """
        a = self._alphas(alphas)
        return self._intercept(self._coef(a) if coef is None else coef)

    def predict(self, X, alphas) -> np.ndarray:
        """Predictions ``X w(α) + b(α)`` at new rows ``X`` for every α at once.

        Parameters
        ----------
        X : array_like, shape (n_rows, n_features)
            New rows.
        alphas : float or array_like, shape (n_alphas,)
            Ridge penalties.

        Returns
        -------
        ndarray, shape (n_rows, n_alphas), or (n_rows, n_alphas, n_targets) for 2-D ``y``.

        Examples
        --------
        >>> dec = decompose([[0.0], [1.0], [2.0]], [1.0, 3.0, 5.0])
        >>> dec.predict([[3.0]], [0.0, 2.0]).round(6)
        array([[7., 5.]])
        """
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"X must have shape (n_rows, {self.n_features}); got {X.shape}")
        a = self._alphas(alphas)
        coef = self._coef(a)
        intercept = self._intercept(coef)
        if self.single_target:
            return X @ coef.T + intercept
        return np.einsum("np,mkp->nmk", X, coef) + intercept[None]

    def hat_diagonal(self, alphas) -> np.ndarray:
        """Diagonal of the hat matrix ``H(α)``, shape (n_samples, n_alphas)."""
        return 1.0 - self._one_minus_hat(_factors(self.s, self._alphas(alphas))[2])

    def residual_sum_of_squares(self, alphas) -> np.ndarray:
        """Training ``‖y − ŷ(α)‖²``, shape (n_alphas,) or (n_alphas, n_targets).  O(n_alphas · r)."""
        return self._squeeze(self._rss(self._alphas(alphas)), 1)

    def loo_errors(self, alphas) -> np.ndarray:
        """Exact squared leave-one-out errors, laid out as scikit-learn's ``RidgeCV.cv_results_``.

        ``(y_i − ŷ_{−i})² = (e_i / (1 − H_ii))²``: no refitting.  Where ``H_ii = 1``
        (a point fitted exactly at ``alpha = 0``) the error is undefined and ``inf``.

        Returns
        -------
        ndarray, shape (n_samples, n_alphas), or (n_samples, n_targets, n_alphas) for 2-D ``y``.
        """
        return self._squeeze(self._loo(self._alphas(alphas)), 1)

    def loo_mse(self, alphas) -> np.ndarray:
        """Mean squared leave-one-out error, shape (n_alphas,) (averaged over targets)."""
        return self._loo(self._alphas(alphas)).mean(axis=(0, 1))

    def gcv(self, alphas) -> np.ndarray:
        """Generalized cross-validation ``n ‖(I − H)y‖² / (n − tr H)²``, shape (n_alphas,).

        ``tr H = df(α) + 1`` with an intercept.  Averaged over targets.
        """
        return self._gcv(self._alphas(alphas))


def decompose(X, y, *, fit_intercept: bool = True, standardize: bool = False) -> RidgeDecomposition:
    """Validate ``X, y``, centre them, and take one thin SVD of the design.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
    y : array_like, shape (n_samples,) or (n_samples, n_targets)
    fit_intercept : bool, default True
        Centre ``X`` and ``y`` so that the intercept is not penalized.
    standardize : bool, default False
        Penalize the coefficients of columns scaled to unit variance (ddof = 0,
        as glmnet and ESL do).  Coefficients are still returned on the original
        scale of ``X``; multiply by ``X_scale`` for the standardized ones.

    Returns
    -------
    RidgeDecomposition

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 3)); y = X @ [1.0, -2.0, 0.5] + 0.1 * rng.normal(size=50)
    >>> dec = decompose(X, y)
    >>> dec.coef([0.0, 1e6]).round(2)
    array([[ 1.02, -2.01,  0.51],
           [ 0.  , -0.  ,  0.  ]])
    >>> dec.df([0.0, 50.0]).round(3)
    array([3.   , 1.365])
    """
    X, Y, single = _check_Xy(X, y)
    n, p = X.shape
    X_offset = X.mean(axis=0) if fit_intercept else np.zeros(p)
    y_offset = Y.mean(axis=0) if fit_intercept else np.zeros(Y.shape[1])
    Xc = X - X_offset
    if standardize:
        scale = np.sqrt(np.mean(Xc**2, axis=0))
        const = np.flatnonzero(scale == 0)
        if const.size:
            raise ValueError(f"column(s) {const.tolist()} of X are constant, so standardize=True cannot scale "
                             "them; drop them or use standardize=False")
        Xc = Xc / scale
    else:
        scale = np.ones(p)
    Yc = Y - y_offset
    U, s, Vt = _svd_kernel(Xc)
    # Directions with d numerically 0 carry nothing about w (at alpha = 0 the
    # minimum-norm solution ignores them); dropping them keeps U an exact basis
    # of the column space, which the leverage and residual formulas rely on.
    tol = (s[0] if s.size else 0.0) * max(n, p) * np.finfo(np.float64).eps
    keep = s > tol
    U, s, Vt = U[:, keep], s[keep], Vt[keep]
    Uty = U.T @ Yc
    if s.size == n - int(fit_intercept):
        # U spans all of 1⊥ (or Rⁿ): nothing lies outside it, exactly.
        Y_outside, lev_out = np.zeros_like(Yc), np.zeros(n)
    else:
        Y_outside = Yc - U @ Uty
        lev_out = np.clip(1.0 - np.sum(U**2, axis=1) - (1.0 / n if fit_intercept else 0.0), 0.0, None)
    return RidgeDecomposition(U=U, s=s, Vt=Vt, Uty=Uty, Yc=Yc, Y_outside=Y_outside,
                              leverage_outside=lev_out, X_offset=X_offset, X_scale=scale,
                              y_offset=y_offset, fit_intercept=fit_intercept, single_target=single)


# --------------------------------------------------------------------------- #
# thin front ends
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class RidgeFit:
    """Ridge solution for one ``alpha``.

    ``coef`` has shape (n_features,) or (n_targets, n_features), as scikit-learn's
    ``Ridge.coef_``; ``intercept`` is a float or shape (n_targets,).

    Attributes
    ----------
    coef : ndarray, shape (n_features,) or (n_targets, n_features)
        Coefficients.
    intercept : float or ndarray, shape (n_targets,)
        Intercept(s); 0 without intercept.
    alpha : float
        The ``alpha`` they solve for.
    """

    coef: np.ndarray
    intercept: float | np.ndarray
    alpha: float

    def predict(self, X) -> np.ndarray:
        """``X w + b``, shape (n_samples,) or (n_samples, n_targets)."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.coef.shape[-1]:
            raise ValueError(f"X must have shape (n_samples, {self.coef.shape[-1]}); got {X.shape}")
        return X @ self.coef.T + self.intercept


def fit_ridge(X, y, *, alpha: float = 1.0, fit_intercept: bool = True, standardize: bool = False) -> RidgeFit:
    """Closed-form ridge regression, equal to ``sklearn.linear_model.Ridge(alpha)``.

    Minimizes ``‖y − Xw − b‖² + alpha‖w‖²`` (``b`` unpenalized when
    ``fit_intercept``).  ``alpha = 0`` on a rank-deficient ``X`` warns
    (:class:`RankDeficientWarning`) and returns the minimum-norm solution.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
    y : array_like, shape (n_samples,) or (n_samples, n_targets)
    alpha : float, default 1.0
        ``>= 0``.  The canonical λ is :func:`weight_decay_from_alpha`.
    fit_intercept, standardize : bool
        See :func:`decompose`.

    Returns
    -------
    RidgeFit

    Examples
    --------
    >>> X = [[0.0], [1.0], [2.0]]; y = [1.0, 3.0, 5.0]
    >>> fit = fit_ridge(X, y, alpha=2.0)
    >>> round(float(fit.coef[0]), 6), round(float(fit.intercept), 6)
    (1.0, 2.0)
    """
    a = _check_alphas(alpha, name="alpha")
    if a.size != 1:
        raise ValueError(f"alpha must be one number; got {a.size} values. Use ridge_path for many alphas")
    dec = decompose(X, y, fit_intercept=fit_intercept, standardize=standardize)
    coef = dec.coef(a)
    intercept = dec._intercept(coef)[0]
    return RidgeFit(coef=coef[0], intercept=float(intercept) if dec.single_target else intercept,
                    alpha=float(a[0]))


@dataclass(frozen=True, eq=False)
class RidgePath:
    """Everything about ridge along a grid of ``alphas``, from one decomposition.

    Attributes
    ----------
    alphas : ndarray, shape (n_alphas,)
    coef : ndarray, shape (n_alphas, n_features) or (n_alphas, n_targets, n_features)
    intercept : ndarray, shape (n_alphas,) or (n_alphas, n_targets)
    df : ndarray, shape (n_alphas,)
    loo_mse, gcv : ndarray, shape (n_alphas,)
    decomposition : RidgeDecomposition
    """

    alphas: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    df: np.ndarray
    loo_mse: np.ndarray
    gcv: np.ndarray
    decomposition: RidgeDecomposition

    def best_alpha(self, criterion: str = "loo") -> float:
        """The grid ``alpha`` minimizing ``"loo"`` (leave-one-out MSE) or ``"gcv"``; ties go to the larger."""
        scores = {"loo": self.loo_mse, "gcv": self.gcv}
        if criterion not in scores:
            raise ValueError(f"criterion must be 'loo' or 'gcv'; got {criterion!r}")
        s = scores[criterion]
        best = np.flatnonzero(s == s.min())
        return float(self.alphas[best[np.argmax(self.alphas[best])]])

    def to_frame(self) -> pd.DataFrame:
        """One row per ``alpha``: ``alpha, weight_decay, df, loo_mse, gcv``."""
        n = self.decomposition.n_samples
        return pd.DataFrame({"alpha": self.alphas, "weight_decay": weight_decay_from_alpha(self.alphas, n),
                             "df": self.df, "loo_mse": self.loo_mse, "gcv": self.gcv})

    def coef_frame(self, feature_names=None) -> pd.DataFrame:
        """Tidy coefficients: ``alpha, df, feature, coef`` (single target only)."""
        if not self.decomposition.single_target:
            raise ValueError("coef_frame needs a 1-D y; select one target with path.coef[:, t, :]")
        p = self.coef.shape[1]
        names = [f"x{j}" for j in range(p)] if feature_names is None else [str(c) for c in feature_names]
        if len(names) != p:
            raise ValueError(f"feature_names has {len(names)} names for {p} features")
        m = self.alphas.size
        return pd.DataFrame({"alpha": np.repeat(self.alphas, p), "df": np.repeat(self.df, p),
                             "feature": np.tile(names, m), "coef": self.coef.ravel()})


def ridge_path(X, y, *, alphas, fit_intercept: bool = True, standardize: bool = False) -> RidgePath:
    """Coefficients, df, exact LOO error and GCV for every ``alpha``, from one SVD.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
    y : array_like, shape (n_samples,) or (n_samples, n_targets)
    alphas : array_like, shape (n_alphas,)
        Each ``>= 0``.
    fit_intercept, standardize : bool
        See :func:`decompose`.

    Returns
    -------
    RidgePath

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 5)); y = X[:, 0] + rng.normal(size=40)
    >>> path = ridge_path(X, y, alphas=np.logspace(-2, 3, 11))
    >>> path.coef.shape, bool(path.best_alpha("loo") == path.alphas[np.argmin(path.loo_mse)])
    ((11, 5), True)
    """
    dec = decompose(X, y, fit_intercept=fit_intercept, standardize=standardize)
    a = dec._alphas(alphas)
    coef = dec._coef(a)
    return RidgePath(alphas=a, coef=coef, intercept=dec._intercept(coef), df=_factors(dec.s, a)[0].sum(axis=1),
                     loo_mse=dec._loo(a).mean(axis=(0, 1)), gcv=dec._gcv(a), decomposition=dec)


def alpha_for_df(decomposition: RidgeDecomposition, df, *, rtol: float = 1e-12) -> np.ndarray:
    """The ``alpha`` at which ``df(alpha)`` equals each target ``df`` (bisection in log α).

    ``df`` must lie in ``(0, rank]``; ``df = rank`` gives ``alpha = 0``.

    Parameters
    ----------
    decomposition : RidgeDecomposition
        The SVD of the design (:func:`decompose`).
    df : float or array_like
        Target effective degrees of freedom, each in ``(0, rank]``.
    rtol : float, default 1e-12
        Relative tolerance of the bisection on ``df``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> dec = decompose(rng.normal(size=(30, 4)), rng.normal(size=30))
    >>> a = alpha_for_df(dec, [1.0, 2.5]); dec.df(a).round(10)
    array([1. , 2.5])
    """
    target = np.atleast_1d(np.asarray(df, dtype=np.float64))
    bad = ~np.isfinite(target) | (target <= 0) | (target > decomposition.rank + 1e-12)
    if bad.any():
        raise ValueError(f"df must lie in (0, {decomposition.rank}] (the rank of the centred design); "
                         f"got {target[bad][0]!r}")
    s2 = decomposition.s**2
    lo = np.full(target.shape, np.log(s2.max()) - 60.0)
    hi = np.full(target.shape, np.log(s2.max()) + 60.0)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        d = (s2[None, :] / (s2[None, :] + np.exp(mid)[:, None])).sum(axis=1)
        lo, hi = np.where(d > target, mid, lo), np.where(d > target, hi, mid)
        if np.all(hi - lo < rtol):
            break
    out = np.exp(0.5 * (lo + hi))
    return np.where(target >= decomposition.rank - 1e-12, 0.0, out)


# --------------------------------------------------------------------------- #
# bias–variance for a fixed design
# --------------------------------------------------------------------------- #
def _bias_variance_inputs(X, beta, noise, cov) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """float64 ``X``, ``beta`` and the test second-moment matrix (default ``XᵀX/n``), validated."""
    X = np.asarray(X, dtype=np.float64)
    beta = np.asarray(beta, dtype=np.float64)
    if X.ndim != 2 or beta.shape != (X.shape[1],):
        raise ValueError(f"X must be (n_samples, n_features) and beta (n_features,); got {X.shape} and {beta.shape}")
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise is a standard deviation and must be finite and >= 0; got {noise!r}")
    _check_finite(beta, "beta")
    p = X.shape[1]
    C = X.T @ X / X.shape[0] if cov is None else np.asarray(cov, dtype=np.float64)
    if C.shape != (p, p):
        raise ValueError(f"cov must have shape ({p}, {p}); got {C.shape}")
    return X, beta, C


def _bias_variance_frame(a: np.ndarray, bias: np.ndarray, C: np.ndarray, variance: np.ndarray,
                         noise: float) -> pd.DataFrame:
    """One row per alpha from the bias vectors ``(m, p)`` and the variances ``(m,)``."""
    bias2 = np.einsum("mp,pq,mq->m", bias, C, bias)
    noise2 = float(noise) ** 2
    return pd.DataFrame({"alpha": a, "bias2": bias2, "variance": variance, "noise2": noise2,
                         "error": bias2 + variance + noise2})


def bias_variance(X, beta, *, alphas, noise: float, cov=None) -> pd.DataFrame:
    """Exact bias–variance decomposition of ridge without intercept, for a fixed design.

    Model: ``y = X β + ε`` with ``ε ~ N(0, noise² I)``; estimator ``ŵ(α)``
    (minimum-norm least squares at ``α = 0``).  For a test point ``x`` with
    second moment ``E[x xᵀ] = cov`` and fresh noise, the expected squared
    prediction error is ``bias² + variance + noise²`` with

    * ``bias² = (E ŵ − β)ᵀ cov (E ŵ − β)``, ``E ŵ = V diag(g) Vᵀ β``,
    * ``variance = noise² · tr(cov · V diag(d²/(d²+α)²) Vᵀ)``.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
    beta : array_like, shape (n_features,)
    alphas : array_like, shape (n_alphas,)
    noise : float
        Noise standard deviation ``σ >= 0``.
    cov : array_like, shape (n_features, n_features), optional
        Default ``XᵀX / n``: new responses at the training inputs.  Pass the
        identity for the coefficient error ``E‖ŵ − β‖²`` (plus noise²) under an
        isotropic test distribution.

    Returns
    -------
    pandas.DataFrame
        One row per alpha: ``alpha, bias2, variance, noise2, error``.

    Examples
    --------
    >>> X = np.eye(2) * 2.0
    >>> bias_variance(X, [1.0, 0.0], alphas=[0.0, 4.0], noise=1.0, cov=np.eye(2)).round(3)
       alpha  bias2  variance  noise2  error
    0    0.0   0.00     0.500     1.0  1.500
    1    4.0   0.25     0.125     1.0  1.375
    """
    X, beta, C = _bias_variance_inputs(X, beta, noise, cov)
    dec = decompose(X, np.zeros(X.shape[0]), fit_intercept=False)
    a = _check_alphas(alphas)
    g, f, _ = _factors(dec.s, a)
    bias = (g * (dec.Vt @ beta)) @ dec.Vt - beta  # (m, p): E ŵ − β
    VCV = np.einsum("rp,pq,rq->r", dec.Vt, C, dec.Vt)  # diag(Vᵀ C V)
    return _bias_variance_frame(a, bias, C, noise**2 * (f**2) @ VCV, noise)


def simulate_bias_variance(X, beta, *, alphas, noise: float, n_draws: int, seed, cov=None) -> pd.DataFrame:
    """Monte Carlo estimate of :func:`bias_variance`: ``n_draws`` noise draws, one SVD.

    The draws are fitted at once as the targets of one multi-target path.  Same
    columns as :func:`bias_variance`; ``seed`` is an int, a
    ``numpy.random.SeedSequence`` or a ``Generator``.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
        Fixed design.
    beta : array_like, shape (n_features,)
        True coefficients.
    alphas : array_like, shape (n_alphas,)
        Ridge penalties.
    noise : float
        Noise standard deviation ``σ``.
    n_draws : int
        Noise vectors drawn.
    seed : int, SeedSequence or Generator
        Source of the noise.
    cov : array_like, shape (n_features, n_features), optional
        Second moment of the test inputs, as in :func:`bias_variance`.
    """
    X, beta, C = _bias_variance_inputs(X, beta, noise, cov)
    n_draws = _check_int(n_draws, "n_draws", minimum=2)
    rng = np.random.default_rng(seed)
    Y = (X @ beta)[:, None] + noise * rng.standard_normal((X.shape[0], n_draws))
    dec = decompose(X, Y, fit_intercept=False)
    a = _check_alphas(alphas)
    W = dec._coef(a)  # (m, draws, p); minimum-norm at alpha = 0, as bias_variance, without warning
    mean = W.mean(axis=1)
    dev = W - mean[:, None, :]
    variance = np.einsum("mdp,pq,mdq->m", dev, C, dev) / (n_draws - 1)
    return _bias_variance_frame(a, mean - beta, C, variance, noise)


# --------------------------------------------------------------------------- #
# Hoerl & Kennard (1970): the coefficient error MSE(α) and their existence theorem
# --------------------------------------------------------------------------- #
def _principal(X, beta, noise) -> tuple[np.ndarray, np.ndarray]:
    """Singular values ``d`` of ``X`` (no centring) and ``θ = Vᵀβ``, validated; full column rank required."""
    X, beta, _ = _bias_variance_inputs(X, beta, noise, np.eye(np.shape(X)[1]))
    _, s, Vt = np.linalg.svd(X, full_matrices=False)
    if X.shape[0] < X.shape[1] or s.min() <= s.max() * max(X.shape) * np.finfo(float).eps:
        raise ValueError("X must have full column rank (n_samples >= n_features, no collinear columns): "
                         "least squares, the reference of Hoerl and Kennard's theorem, is otherwise not unique")
    return s, Vt @ beta


def coefficient_mse(X, beta, *, alphas, noise: float) -> pd.DataFrame:
    """Hoerl and Kennard's mean squared error of the ridge coefficients, ``E‖ŵ(α) − β‖²``.

    For ``y = Xβ + ε``, ``ε ~ N(0, noise² I)``, ridge without intercept and the
    SVD ``X = U diag(d) Vᵀ`` with ``θ = Vᵀβ`` (Hoerl & Kennard 1970, eq. 4.2)::

        bias²(α)    = Σ_j α² θ_j² / (d_j² + α)²
        variance(α) = noise² Σ_j d_j² / (d_j² + α)²

    ``mse = bias2 + variance``; at ``α = 0`` it is least squares' ``noise² Σ 1/d_j²``.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
        Fixed design of full column rank.
    beta : array_like, shape (n_features,)
        True coefficients.
    alphas : array_like, shape (n_alphas,)
        Ridge penalties ``k >= 0`` (scikit-learn's ``alpha``).
    noise : float
        Noise standard deviation ``σ``.

    Returns
    -------
    pandas.DataFrame
        One row per alpha: ``alpha, bias2, variance, mse``.

    Examples
    --------
    >>> coefficient_mse(np.eye(2) * 2.0, [1.0, 0.0], alphas=[0.0, 4.0], noise=1.0)
       alpha  bias2  variance    mse
    0    0.0   0.00     0.500  0.500
    1    4.0   0.25     0.125  0.375
    """
    d, theta = _principal(X, beta, noise)
    a = _check_alphas(alphas)[:, None]
    d2 = d**2
    bias2 = (a**2 * theta**2 / (d2 + a) ** 2).sum(axis=1)
    variance = float(noise) ** 2 * (d2 / (d2 + a) ** 2).sum(axis=1)
    return pd.DataFrame({"alpha": a[:, 0], "bias2": bias2, "variance": variance, "mse": bias2 + variance})


def hoerl_kennard_alpha(X, beta, *, noise: float) -> float:
    """``σ² / max_j θ_j²``: every ridge penalty in ``(0, σ²/θ²_max]`` beats least squares.

    Hoerl and Kennard's existence theorem (1970, Theorem 4.3): each term of
    :func:`coefficient_mse` has derivative ``2 d_j² (α θ_j² − σ²)/(d_j² + α)³``,
    negative while ``α < σ²/θ_j²``; so ``MSE(α)`` falls strictly on
    ``[0, σ²/θ²_max]`` and ``MSE(α) < MSE(0)`` there.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
        Fixed design of full column rank.
    beta : array_like, shape (n_features,)
        True coefficients, not all zero.
    noise : float
        Noise standard deviation ``σ``.

    Examples
    --------
    >>> hoerl_kennard_alpha(np.eye(2) * 2.0, [1.0, 0.5], noise=1.0)
    1.0
    """
    _, theta = _principal(X, beta, noise)
    if not np.any(theta):
        raise ValueError("beta is zero: then every alpha > 0 beats least squares and there is no bound")
    return float(noise) ** 2 / float(np.max(theta**2))


# --------------------------------------------------------------------------- #
# noise injection is Tikhonov regularization (Bishop 1995)
# --------------------------------------------------------------------------- #
def noisy_input_loss(X, y, w, *, noise: float) -> float:
    """Expected mean squared error of ``w`` when Gaussian noise is added to the inputs.

    With ``x̃ = x + ξ``, ``ξ ~ N(0, noise² I)`` drawn afresh for each sample,
    ``E (y − x̃ᵀw)² = (y − xᵀw)² + noise² ‖w‖²`` exactly (the cross term has mean
    zero), so training a linear model on noisy inputs minimizes
    ``mean((y − Xw)²) + noise²‖w‖²``: ridge with ``alpha = n·noise²``, the
    canonical ``λ = noise²`` (Bishop 1995, where for nonlinear models the
    equivalence holds to first order in ``noise²``).

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
        Noise-free inputs.
    y : array_like, shape (n_samples,)
        Targets.
    w : array_like, shape (n_features,)
        Coefficients (no intercept).
    noise : float
        Standard deviation of the input noise.

    Examples
    --------
    >>> noisy_input_loss(np.eye(2), [1.0, 0.0], [1.0, 1.0], noise=0.5)
    1.0
    """
    X, Y, single = _check_Xy(X, y)
    if not single:
        raise ValueError(f"y must be 1-D (n_samples,); got shape {np.shape(y)}")
    y, w = Y[:, 0], np.asarray(w, dtype=np.float64)
    if w.shape != (X.shape[1],):
        raise ValueError(f"w must have shape ({X.shape[1]},) for X of shape {X.shape}; got {w.shape}")
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise is a standard deviation and must be finite and >= 0; got {noise!r}")
    return float(np.mean((y - X @ w) ** 2) + float(noise) ** 2 * (w @ w))


# --------------------------------------------------------------------------- #
# optimal regularization in the isotropic model (Nakkiran et al. 2021)
# --------------------------------------------------------------------------- #
def optimal_alpha_isotropic(n_features: int, *, noise: float, beta_norm: float) -> float:
    """``α* = d σ² / ‖β‖²``: the Bayes-optimal ridge for ``x ~ N(0, I_d)``.

    It is the posterior mean under the prior ``β ~ N(0, (‖β‖²/d) I)``
    (Nakkiran et al. 2021, Theorem 1); it does not depend on ``n``.

    Parameters
    ----------
    n_features : int
        Dimension ``d``.
    noise : float
        Noise standard deviation ``σ``.
    beta_norm : float
        ``‖β‖`` of the true coefficients.

    Examples
    --------
    >>> optimal_alpha_isotropic(50, noise=0.5, beta_norm=1.0)
    12.5
    """
    if not (beta_norm > 0 and np.isfinite(beta_norm)):
        raise ValueError(f"beta_norm must be finite and > 0; got {beta_norm!r}")
    return float(n_features) * float(noise) ** 2 / float(beta_norm) ** 2


def isotropic_risk(n_samples, *, n_features: int, noise: float, alphas, n_trials: int, seed,
                   beta_norm: float = 1.0) -> pd.DataFrame:
    """Expected test error of ridge in the isotropic model, per sample size.

    For each ``n`` in ``n_samples`` and each trial, draws ``X ~ N(0, I)`` of
    shape (n, d) and one ``β`` with ``‖β‖ = beta_norm``, and evaluates
    :func:`bias_variance` with ``cov = I`` exactly (the noise is integrated out);
    the trials average over designs.

    Parameters
    ----------
    n_samples : int or array_like of int
        Training-set sizes ``n`` to evaluate.
    n_features : int
        Dimension ``d`` of ``x ~ N(0, I_d)``.
    noise : float
        Noise standard deviation ``σ``.
    alphas : array_like, shape (n_alphas,)
        Ridge penalties (``0`` is minimum-norm least squares).
    n_trials : int
        Designs (and coefficient vectors) drawn per ``n``.
    seed : int, SeedSequence or Generator
        Source of the draws.
    beta_norm : float, default 1.0
        ``‖β‖`` of the true coefficients.

    Returns
    -------
    pandas.DataFrame
        Tidy: ``n_samples, trial, alpha, bias2, variance, noise2, error``.
    """
    ns = np.atleast_1d(np.asarray(n_samples))
    if ns.size == 0 or np.any(ns < 1) or not np.issubdtype(ns.dtype, np.integer):
        raise ValueError(f"n_samples must be positive integers; got {n_samples!r}")
    n_trials = _check_int(n_trials, "n_trials")
    rng = np.random.default_rng(seed)
    eye = np.eye(n_features)
    rows = []
    for n in ns:
        for trial in range(n_trials):
            beta = rng.standard_normal(n_features)
            beta *= beta_norm / np.linalg.norm(beta)
            X = rng.standard_normal((int(n), n_features))
            df = bias_variance(X, beta, alphas=alphas, noise=noise, cov=eye)
            rows.append(df.assign(n_samples=int(n), trial=trial))
    out = pd.concat(rows, ignore_index=True)
    return out[["n_samples", "trial", "alpha", "bias2", "variance", "noise2", "error"]]


# --------------------------------------------------------------------------- #
# ESL Table 3.3
# --------------------------------------------------------------------------- #
#: Least-squares and ridge columns of ESL Table 3.3 as published
#: (Hastie, Tibshirani & Friedman 2009, p. 63): the oracle for :func:`esl_table_3_3`.
ESL_TABLE_3_3_PUBLISHED = pd.DataFrame(
    {"LS": [2.465, 0.680, 0.263, -0.141, 0.210, 0.305, -0.288, -0.021, 0.267, 0.521, 0.179],
     "Ridge": [2.452, 0.420, 0.238, -0.046, 0.162, 0.227, 0.000, 0.040, 0.133, 0.492, 0.165]},
    index=["Intercept", "lcavol", "lweight", "age", "lbph", "svi", "lcp", "gleason", "pgg45",
           "Test Error", "Std Error"])


def esl_table_3_3(prostate: pd.DataFrame, *, ridge_df: float = 5.0) -> pd.DataFrame:
    """Least squares and ridge columns of ESL Table 3.3 on the prostate data.

    Follows Hastie, Tibshirani & Friedman (2009, §3.2 and §3.4): predictors
    standardized with the mean and standard deviation (ddof = 1) of all 97
    rows, models fitted on the 67 training rows, test error the mean squared
    error on the 30 test rows and its standard error ``sd / √30``.  Ridge is
    taken at ``df(α) = ridge_df`` (the book's choice, about 5).

    Parameters
    ----------
    prostate : pandas.DataFrame
        As returned by :func:`wdlib.data.load_prostate`: the predictors, ``lpsa``
        and a boolean ``train``.
    ridge_df : float, default 5.0

    Returns
    -------
    pandas.DataFrame
        Index ``Intercept``, the predictors, ``Test Error``, ``Std Error``;
        columns ``LS`` and ``Ridge``.  ``attrs["ridge_alpha"]`` holds the α used.
    """
    missing = {"lpsa", "train"} - set(prostate.columns)
    if missing:
        raise ValueError(f"prostate needs the columns 'lpsa' and 'train' (missing {sorted(missing)}); "
                         "load it with wdlib.data.load_prostate()")
    features = [c for c in prostate.columns if c not in ("lpsa", "train")]
    X, _, _ = standardize(prostate[features].to_numpy(dtype=np.float64), ddof=1)
    y = prostate["lpsa"].to_numpy(dtype=np.float64)
    train = prostate["train"].to_numpy(dtype=bool)
    dec = decompose(X[train], y[train])
    alpha = float(alpha_for_df(dec, ridge_df)[0])
    columns = {}
    for name, a in (("LS", 0.0), ("Ridge", alpha)):
        W = dec.coef([a])
        w, b = W[0], float(dec._intercept(W)[0])
        err = (y[~train] - X[~train] @ w - b) ** 2
        columns[name] = [b, *w, err.mean(), err.std(ddof=1) / np.sqrt(err.size)]
    table = pd.DataFrame(columns, index=["Intercept", *features, "Test Error", "Std Error"])
    table.attrs["ridge_alpha"] = alpha
    return table
