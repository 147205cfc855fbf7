"""What each framework means by its weight-decay number, and exact conversions to one canonical λ.

The canonical λ is the minimizer's of ``‖y − Xw‖²/(2n) + (λ/2)‖w‖²`` for a
penalty, and the shrink per unit learning rate, ``w ← (1 − η·λ)·w``, for a
decoupled optimizer.  The conversions are stated here once, in exact
arithmetic (:class:`fractions.Fraction`), with no third-party import: both
:mod:`wdlib.ridge` (numpy only) and :mod:`wdlib.decay` (PyTorch) use them.

The two kinds are different quantities: a coupled number is a penalty, a
decoupled one a shrink rate.  :func:`penalty_equivalent` states when a
decoupled rate lands on a penalized minimum (plain SGD) and on which one: it
depends on the loss, ``SGDW(weight_decay=d)`` with ``MSELoss`` converges to the
canonical ridge solution for ``λ = d/2``.
"""

from __future__ import annotations

import difflib
import math
from fractions import Fraction

from . import _checks

__all__ = ["CONVENTIONS", "factor", "from_canonical", "penalty_equivalent", "to_canonical"]


# --------------------------------------------------------------------------- #
# conventions: what each framework means by its weight-decay number
# --------------------------------------------------------------------------- #
# The canonical λ: for a penalty, the minimizer of ‖y − Xw‖²/(2n) + (λ/2)‖w‖²
# (gradient of the penalty λ·w next to the *mean* loss gradient); for a
# decoupled optimizer, the shrink per unit learning rate, w ← (1 − η·λ)·w.
#
# Coupled conventions depend on how the data term is scaled.  ``loss`` names it:
# "mse" = mean of squared errors (torch MSELoss, Keras "mse"), "half_mse" = half of it.
# "mean" = any other mean loss (cross-entropy, BCE), taken as it is: the canonical
# objective is then that loss + (λ/2)‖w‖², the same scaling as "half_mse".
_LOSS_SCALE = {"mse": Fraction(1), "half_mse": Fraction(1, 2), "mean": Fraction(1, 2)}

#: name -> (kind, what the number means).  ``kind`` is "coupled" (a penalty in the
#: objective) or "decoupled" (a shrink step outside the gradient).
CONVENTIONS: dict[str, tuple[str, str]] = {
    "canonical": ("coupled", "λ of ‖y − Xw‖²/(2n) + (λ/2)‖w‖²"),
    "torch_sgd": ("coupled", "SGD(weight_decay=d): gradient += d·w, next to the mean loss; λ = d / (2c)"),
    "torch_adam": ("coupled", "Adam(weight_decay=d): gradient += d·w before the adaptive scaling; λ = d / (2c)"),
    "torch_adamw": ("decoupled", "AdamW(weight_decay=d): w ← (1 − lr·d)·w; λ = d"),
    "keras_l2": ("coupled", "regularizers.l2(x): x·Σw² added to each batch's mean loss; λ = x / c"),
    "keras_weight_decay": ("decoupled", "Keras 3 optimizer weight_decay=d: w ← w − lr·d·w; λ = d"),
    "optax_add_decayed_weights": ("decoupled", ("add_decayed_weights(d) before scale_by_learning_rate(lr): "
                                                "update += d·w; λ = d")),
    "sklearn_ridge": ("coupled", "Ridge(alpha=a): ‖y − Xw‖² + a‖w‖²; λ = a / n"),
    "statsmodels": ("coupled", "OLS.fit_regularized(alpha=a, L1_wt=0): RSS/(2n) + (a/2)‖w‖²; λ = a"),
    "glmnet": ("coupled", ("glmnet(alpha=0, lambda=L), gaussian: fits y/s_y with penalty L/s_y on standardized x; "
                           "λ = L / s_y on standardized x and the original y")),
    "sklearn_logistic": ("coupled", ("LogisticRegression(C=C): C·Σ log-loss + ½‖w‖², i.e. mean log-loss "
                                     "+ ‖w‖²/(2nC); λ = 1 / (n·C)")),
    "per_step_decoupled": ("decoupled", ("w ← (1 − d·η_t/η₀)·w per step, not multiplied by the learning rate "
                                         "(Loshchilov & Hutter's Algorithm 2, MosaicML DecoupledAdamW, "
                                         "TF-Addons AdamW at a constant lr); λ = d / η₀")),
}

#: Conventions whose number is the inverse of a penalty (a larger value regularizes less).
_INVERSE = frozenset({"sklearn_logistic"})


def factor(convention: str, n_samples: int | None = None, loss: str = "mse", y_scale=None,
           lr=None) -> Fraction:
    """``canonical λ = factor · value`` for ``convention``, as an exact fraction.

    For ``"sklearn_logistic"``, whose ``C`` is an inverse penalty, the
    relation is ``canonical λ = factor / value`` instead.

    Parameters
    ----------
    convention : str
        A key of :data:`CONVENTIONS`.
    n_samples, loss, y_scale, lr
        As in :func:`to_canonical`.

    Examples
    --------
    >>> factor("torch_sgd"), factor("keras_l2", loss="mean"), factor("sklearn_ridge", n_samples=100)
    (Fraction(1, 2), Fraction(2, 1), Fraction(1, 100))
    """
    if convention not in CONVENTIONS:
        close = difflib.get_close_matches(convention, list(CONVENTIONS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown convention {convention!r}{hint} Known: {', '.join(CONVENTIONS)}")
    if loss not in _LOSS_SCALE:
        raise ValueError(f"loss must be one of {sorted(_LOSS_SCALE)}; got {loss!r}")
    c = _LOSS_SCALE[loss]
    if convention in ("sklearn_ridge", "sklearn_logistic"):
        try:
            return Fraction(1, _checks.integer(n_samples, "n_samples"))
        except ValueError:
            raise ValueError(f"convention {convention!r} needs n_samples, a positive int; got {n_samples!r}") from None
    if convention == "per_step_decoupled":
        try:
            return 1 / Fraction(_checks.number(lr, "lr", low_ok=False))
        except ValueError:
            raise ValueError("convention 'per_step_decoupled' needs lr, the initial learning rate η₀ of the "
                             f"optimizer (the α of Loshchilov & Hutter), a positive number; got {lr!r}") from None
    if convention == "glmnet":
        try:
            return 1 / Fraction(_checks.number(y_scale, "y_scale", low_ok=False))
        except ValueError:
            raise ValueError(f"convention 'glmnet' needs y_scale, the standard deviation of y (ddof=0), a positive "
                             f"number; got {y_scale!r}") from None
    return {"torch_sgd": 1 / (2 * c), "torch_adam": 1 / (2 * c), "keras_l2": 1 / c}.get(convention, Fraction(1))


def _scaled(value, name: str, factor: Fraction):
    """``value · factor``, exact: a Fraction for a Fraction, else the correctly rounded float."""
    _checks.number(value, name)
    return value * factor if isinstance(value, Fraction) else float(Fraction(float(value)) * factor)


def _inverted(value, name: str, factor: Fraction):
    """``factor / value`` (``inf`` for 0 and 0 for ``inf``): exact for a Fraction, else the correctly rounded float."""
    if value == math.inf:
        return 0.0
    _checks.number(value, name)
    if value == 0:
        return math.inf
    return factor / value if isinstance(value, Fraction) else float(factor / Fraction(float(value)))


def _convert(value, name: str, convention: str, f: Fraction, inverse: bool):
    if convention in _INVERSE:
        return _inverted(value, name, f)
    return _scaled(value, name, 1 / f if inverse else f)


def to_canonical(value: float, convention: str, *, n_samples: int | None = None, loss: str = "mse",
                 y_scale: float | None = None, lr: float | None = None) -> float:
    """The canonical λ equivalent to a framework's weight-decay ``value``.

    Parameters
    ----------
    value : float
        ``>= 0``, in the units of ``convention`` (a key of :data:`CONVENTIONS`).
    convention : str
    n_samples : int, optional
        Needed by ``"sklearn_ridge"`` (its objective is a sum, not a mean) and
        ``"sklearn_logistic"`` (``λ = 1/(n·C)``; ``C = inf`` is ``λ = 0``).
    y_scale : float, optional
        Needed by ``"glmnet"``: the standard deviation of ``y`` (``ddof=0``).  For
        the gaussian family glmnet divides ``y`` *and* the user's ``lambda`` by it
        (Friedman et al. 2010's Fortran), which leaves the lasso unchanged but
        makes its ridge penalty ``lambda / s_y`` on the original scale.
    loss : {"mse", "half_mse", "mean"}
        Scale ``c`` of the data term for coupled torch/Keras conventions:
        ``"mse"`` is ``MSELoss()``/Keras ``"mse"`` (``c = 1``); ``"mean"`` is any
        other mean loss (cross-entropy, BCE) taken as it is (``c = 1/2``, so
        Keras ``l2(x)`` next to a cross-entropy is ``λ = 2x``).
    lr : float, optional
        Needed by ``"per_step_decoupled"``: the optimizer's initial learning
        rate η₀.  Its decay ``d`` shrinks by ``d·η_t/η₀`` per step, torch's
        AdamW by ``lr_t·λ``: the same at every step of any schedule for
        ``λ = d/η₀``.

    Returns
    -------
    float, or ``fractions.Fraction`` for a ``Fraction`` value
        Floats are the correctly rounded conversion, so a float round trip is
        exact whenever the factor is a power of two (every convention but
        ``sklearn_ridge`` with ``n`` not a power of two, where it is within one
        unit in the last place).  With ``Fraction`` values every round trip is exact.

    Examples
    --------
    >>> to_canonical(0.02, "torch_sgd")        # MSELoss has no 1/2
    0.01
    >>> to_canonical(5.0, "sklearn_ridge", n_samples=100)
    0.05
    >>> to_canonical(1e-4, "per_step_decoupled", lr=1e-3)   # DecoupledAdamW(lr=1e-3, weight_decay=1e-4)
    0.1
    """
    return _convert(value, "value", convention, factor(convention, n_samples, loss, y_scale, lr), False)


def from_canonical(weight_decay: float, convention: str, *, n_samples: int | None = None, loss: str = "mse",
                   y_scale: float | None = None, lr: float | None = None) -> float:
    """A framework's weight-decay number for the canonical λ ``weight_decay`` (inverse of :func:`to_canonical`).

    Parameters
    ----------
    weight_decay : float
        The canonical λ ``>= 0``.
    convention : str
        A key of :data:`CONVENTIONS`.
    n_samples, loss, y_scale, lr
        As in :func:`to_canonical`.

    Examples
    --------
    >>> from_canonical(0.01, "keras_l2")
    0.01
    >>> from_canonical(0.05, "sklearn_ridge", n_samples=100)
    5.0
    >>> from_canonical(0.01, "sklearn_logistic", n_samples=100)   # C = 1/(n·λ)
    1.0
    """
    return _convert(weight_decay, "weight_decay", convention, factor(convention, n_samples, loss, y_scale, lr), True)


def penalty_equivalent(value: float, convention: str, *, loss: str = "mse", n_samples: int | None = None,
                       y_scale: float | None = None, lr: float | None = None) -> float:
    """The canonical penalty λ whose minimizer is where ``convention``'s update with plain SGD comes to rest.

    A coupled number *is* a penalty: this is :func:`to_canonical`.  A decoupled
    number is a shrink rate ``d`` per unit learning rate, and whether it
    corresponds to a penalty depends on the direction it is paired with.  With
    the plain gradient of the mean loss (``wdlib.optim.SGDW``, Keras' ``SGD``
    with ``weight_decay``, optax's ``add_decayed_weights`` chained with
    ``sgd``; heavy-ball momentum has the same rest points), the update stops
    where ``∇(loss) + d·w = 0``.  With ``MSELoss`` (no ½) that is the canonical
    ridge solution for ``λ = d/2``; next to a cross-entropy, ``λ = d``.  With
    Adam's direction (AdamW) no penalty has the same rest points: do not use
    this function for it.

    Parameters
    ----------
    value : float
        The framework's number, ``>= 0``.
    convention : str
        A key of :data:`CONVENTIONS`.
    loss : {"mse", "half_mse", "mean"}
        The data term the optimizer descends, as in :func:`to_canonical`.
    n_samples, y_scale, lr
        As in :func:`to_canonical`.

    Examples
    --------
    >>> penalty_equivalent(0.05, "torch_adamw")                 # SGDW(0.05) with MSELoss: ridge(0.025)
    0.025
    >>> penalty_equivalent(0.05, "torch_adamw", loss="mean")    # next to a cross-entropy
    0.05
    >>> penalty_equivalent(0.05, "torch_sgd") == to_canonical(0.05, "torch_sgd")
    True
    """
    lam = to_canonical(value, convention, n_samples=n_samples, loss=loss, y_scale=y_scale, lr=lr)
    if CONVENTIONS[convention][0] == "coupled":
        return lam
    return _scaled(lam, "value", 1 / (2 * _LOSS_SCALE[loss]))
