"""Weight norms, angular updates and effective learning rates during training.

For a weight ``w`` that feeds a normalization layer (BatchNorm, LayerNorm), the
loss is invariant to its scale, ``f(cw) = f(w)``.  Then ``∇f(cw) = ∇f(w)/c`` and
``⟨w, ∇f(w)⟩ = 0``, so a step of size ``η`` turns ``w`` by about ``η‖g̃‖/‖w‖²``
(``g̃`` the gradient at unit norm): ``η/‖w‖²`` is the *effective* learning rate
(van Laarhoven 2017; Hoffer et al. 2018).  Weight decay sets ``‖w‖``, and at
equilibrium plain SGD turns ``w`` by ``√(2ηλ)`` per step whatever the gradient
(Wan et al. 2021; ``√(2ηλ/(1+μ))`` with momentum ``μ``).  BatchNorm normalizes
each output unit on its own, so each unit's incoming weight vector (a row of a
``Linear`` weight) is scale-invariant by itself: :func:`unit_angles` and
``NormTracker(per_unit=True)`` measure the quantities unit by unit.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from ._checks import integer as _check_int
from ._checks import number as _check_number
from .decay import _check_patterns

__all__ = ["NormTracker", "adamw_equilibrium", "angle", "equilibrium_angular_update", "first_within",
           "norm_settling_step", "steady_state", "unit_angles"]


def angle(a: torch.Tensor, b: torch.Tensor) -> float:
    """Angle in radians between two tensors, flattened.

    Parameters
    ----------
    a, b : torch.Tensor
        Tensors of equal size.

    Examples
    --------
    >>> angle(torch.tensor([1.0, 0.0]), torch.tensor([1.0, 1.0]))  # π/4
    0.7853981...
    """
    a, b = a.detach().double().flatten(), b.detach().double().flatten()
    a, b = a / a.norm(), b / b.norm()
    # Kahan's 2·atan2(‖â − b̂‖, ‖â + b̂‖): accurate for tiny angles, where acos(â·b̂) loses half the digits
    return 2 * math.atan2((a - b).norm().item(), (a + b).norm().item())


def unit_angles(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Angle in radians between each unit's weights in ``a`` and in ``b``: one per slice along dim 0.

    For a ``Linear`` weight of shape ``(out, in)`` the slices are the rows, the
    weights into each output unit (each is scale-invariant by itself under
    BatchNorm).  Same formula as :func:`angle`, row by row.

    Parameters
    ----------
    a, b : torch.Tensor
        Tensors of equal shape, at least 1-D.

    Returns
    -------
    torch.Tensor
        Shape ``(a.shape[0],)``, float64.

    Examples
    --------
    >>> unit_angles(torch.tensor([[1.0, 0.0], [1.0, 0.0]]), torch.tensor([[2.0, 0.0], [0.0, 1.0]]))
    tensor([0.0000, 1.5708], dtype=torch.float64)
    """
    if a.shape != b.shape or a.dim() < 1:
        raise ValueError(f"a and b need the same shape, at least 1-D; got {tuple(a.shape)} and {tuple(b.shape)}")
    a, b = (t.detach().double().reshape(len(t), -1) for t in (a, b))  # (units, fan-in)
    a, b = a / a.norm(dim=1, keepdim=True), b / b.norm(dim=1, keepdim=True)
    return 2 * torch.atan2((a - b).norm(dim=1), (a + b).norm(dim=1))


def first_within(values, target, *, rtol: float) -> int | None:
    """Index of the first value within ``rtol`` (relative) of ``target``; None if none is.

    Parameters
    ----------
    values : array_like, shape (n,)
        A series, e.g. a weight norm per step.
    target : float
        The value it approaches (non-zero).
    rtol : float
        Relative tolerance, ``|v/target − 1| <= rtol``.

    Examples
    --------
    >>> first_within([4.0, 2.0, 1.04, 0.9], 1.0, rtol=0.05)
    2
    """
    rtol = _check_number(rtol, "rtol", low_ok=False)
    if not (math.isfinite(target) and target != 0):
        raise ValueError(f"target must be finite and non-zero; got {target!r}")
    hits = np.flatnonzero(np.abs(np.asarray(values, dtype=float) / target - 1) <= rtol)
    return int(hits[0]) if hits.size else None


def norm_settling_step(norm0: float, norm_eq: float, *, lr: float, weight_decay: float, rtol: float = 0.05) -> float:
    """Predicted step at which a scale-invariant weight's norm first comes within ``rtol`` of equilibrium.

    Plain SGD with coupled decay ``λ`` on a weight whose gradient is orthogonal
    to it and scales as ``1/‖w‖`` gives ``‖w‖²ₜ₊₁ = (1 − ηλ)²‖w‖²ₜ + η²G/‖w‖²ₜ``
    (``G`` the squared gradient norm at unit norm).  In continuous time
    ``M = ‖w‖⁴`` obeys ``dM/dt = −4ηλ (M − M∞)`` with ``M∞ = ηG/(2λ)``, so it
    relaxes exponentially with time constant ``τ = 1/(4ηλ)`` (for constant ``G``),
    and ``‖w‖`` reaches ``(1 ± rtol)‖w‖∞`` after ``τ·ln(|M₀ − M∞| / |(1 ± rtol)⁴ − 1|M∞)`` steps.

    Parameters
    ----------
    norm0 : float
        Initial norm ``‖w₀‖``.
    norm_eq : float
        Equilibrium norm ``‖w‖∞``.
    lr : float
        Learning rate ``η``.
    weight_decay : float
        Coupled weight decay ``λ > 0``.
    rtol : float, default 0.05
        Relative distance to equilibrium that counts as arrived.

    Examples
    --------
    >>> round(norm_settling_step(2.0, 1.0, lr=0.1, weight_decay=5e-3, rtol=0.05), 1)  # τ = 500
    2121.4
    """
    n0, neq = _check_number(norm0, "norm0", low_ok=False), _check_number(norm_eq, "norm_eq", low_ok=False)
    rtol = _check_number(rtol, "rtol", low_ok=False, high=1.0)
    tau = 1 / (4 * _check_number(lr, "lr", low_ok=False) * _check_number(weight_decay, "weight_decay", low_ok=False))
    band = abs((1 + math.copysign(rtol, n0 - neq)) ** 4 - 1) * neq**4
    gap = abs(n0**4 - neq**4)
    return 0.0 if gap <= band else tau * math.log(gap / band)


def equilibrium_angular_update(lr: float, weight_decay: float, momentum: float = 0.0) -> float:
    """``√(2ηλ/(1+μ))``: the per-step angle of a scale-invariant weight at equilibrium (Wan et al. 2021).

    Parameters
    ----------
    lr : float
        Learning rate ``η``.
    weight_decay : float
        Coupled weight decay ``λ`` (SGD's).
    momentum : float, default 0.0
        SGD momentum ``μ``.

    Examples
    --------
    >>> round(equilibrium_angular_update(0.1, 5e-4), 6)
    0.01
    """
    lr = _check_number(lr, "lr", low_ok=False)
    wd = _check_number(weight_decay, "weight_decay")
    mu = _check_number(momentum, "momentum", high=1.0)
    return math.sqrt(2 * lr * wd / (1 + mu))


class NormTracker:
    """Record the norm, angular update and effective learning rate of chosen parameters.

    Call :meth:`record` after (or before) each step, or pass the tracker as a
    hook to :func:`wdlib.train.fit` (it records every ``every`` steps; then the
    angular update spans ``every`` steps).  :meth:`to_frame` returns one
    row per ``(step, name)`` with ``norm``, ``angular_update`` (radians since the
    previous record, NaN the first time), ``lr`` and ``effective_lr``.

    Parameters
    ----------
    model : nn.Module
    patterns : sequence of str, default ("*",)
        fnmatch patterns over parameter names; a pattern that matches nothing is an error.
    optimizer : torch.optim.Optimizer, optional
        Gives each parameter's current ``lr`` for ``effective_lr = lr/‖w‖²``.
    every : int, default 1
        Record every ``every``-th step when called as a hook.
    per_step : bool, default False
        With ``every`` > 1: measure ``angular_update`` over the one step
        before each record (the weights are copied one step earlier), so that
        it compares with a per-step prediction; otherwise it spans ``every`` steps.
    per_unit : bool, default False
        One row per output unit (slice along dim 0, e.g. a ``Linear`` weight's
        rows) instead of one per parameter, with its index in a ``unit`` column:
        the scale-invariant pieces under BatchNorm.

    Examples
    --------
    >>> m = nn.Linear(3, 2)
    >>> tr = NormTracker(m, ["weight"]); tr.record(0); tr.record(1)
    >>> tr.to_frame().columns.tolist()
    ['step', 'name', 'norm', 'angular_update', 'lr', 'effective_lr']
    """

    def __init__(self, model: nn.Module, patterns: Sequence[str] = ("*",), *, optimizer=None, every: int = 1,
                 per_step: bool = False, per_unit: bool = False):  # fmt: skip
        named = dict(model.named_parameters())
        _check_patterns(patterns, list(named), "patterns")
        _check_int(every, "every")
        self.params = {n: p for n, p in named.items() if any(fnmatch.fnmatchcase(n, pat) for pat in patterns)}
        for flag, value in (("per_step", per_step), ("per_unit", per_unit)):
            if not isinstance(value, bool):
                raise TypeError(f"{flag} must be True or False, got {value!r}")
        self.optimizer, self.every, self.per_step, self.per_unit = optimizer, every, per_step, per_unit
        self._groups: dict[str, dict] = {}
        self._last: dict[str, torch.Tensor] = {}
        self.rows: list[dict] = []

    def _lr(self, name: str, p) -> float:
        if self.optimizer is None:
            return math.nan
        group = self._groups.get(name)
        if group is None or not any(q is p for q in group["params"]):  # cached; re-found if groups change
            group = next((g for g in self.optimizer.param_groups if any(q is p for q in g["params"])), None)
            if group is None:
                raise ValueError(f"tracked parameter {name!r} is in none of the optimizer's param groups")
            self._groups[name] = group
        return float(group["lr"])

    def __call__(self, step: int, model=None, optimizer=None) -> None:
        """The :func:`wdlib.train.fit` hook: :meth:`record` every ``every`` steps."""
        if step % self.every == 0:
            self.record(step)
        elif self.per_step and (step + 1) % self.every == 0:
            with torch.no_grad():
                self._last = {name: p.detach().clone() for name, p in self.params.items()}

    @torch.no_grad()
    def record(self, step: int) -> None:
        """Append one row per tracked parameter (or unit); ``angular_update`` is measured from the previous record."""
        for name, p in self.params.items():
            prev = self._last.get(name)
            lr = self._lr(name, p)
            if self.per_unit:
                norms = p.detach().double().reshape(len(p), -1).norm(dim=1).numpy()
                angles = unit_angles(prev, p).numpy() if prev is not None else np.full(len(norms), math.nan)
                self.rows.append({"step": step, "name": name, "unit": np.arange(len(norms)), "norm": norms,
                                  "angular_update": angles, "lr": lr, "effective_lr": lr / norms**2})
            else:
                norm = p.detach().double().norm().item()
                self.rows.append({"step": step, "name": name, "norm": norm,
                                  "angular_update": angle(prev, p) if prev is not None else math.nan,
                                  "lr": lr, "effective_lr": lr / norm**2 if norm > 0 else math.inf})
            self._last[name] = p.detach().clone()

    def to_frame(self) -> pd.DataFrame:
        """The records: one row per (step, name), or per (step, name, unit) with ``per_unit=True``."""
        columns = ["step", "name", "norm", "angular_update", "lr", "effective_lr"]
        if not self.per_unit:
            return pd.DataFrame(self.rows, columns=columns)
        columns.insert(2, "unit")
        if not self.rows:
            return pd.DataFrame(columns=columns)
        sizes = [len(r["unit"]) for r in self.rows]
        return pd.DataFrame({c: np.concatenate([r[c] for r in self.rows]) if c in ("unit", "norm", "angular_update",
                                                                                 "effective_lr")
                             else np.repeat([r[c] for r in self.rows], sizes) for c in columns})


def adamw_equilibrium(lr: float, weight_decay: float, numel: int, *, beta1: float = 0.9) -> dict[str, float]:
    """AdamW's rotational equilibrium for a scale-invariant weight of ``numel`` entries (Kosson et al. 2024).

    In the random-walk model (gradients orthogonal to the weight, Adam's
    update of RMS about 1 per entry), the decay ``ηλ‖w‖²`` per step balances
    the growth from the updates when ``‖w‖ = √(ηC/(2λ))`` (momentum correlates
    successive updates but leaves this balance unchanged), and each step
    then turns the weight by ``√(2ηλ·(1−β₁)/(1+β₁))`` radians.

    Parameters
    ----------
    lr : float
        Learning rate ``η``.
    weight_decay : float
        torch's AdamW ``λ`` (each step multiplies by ``1 − ηλ``).
    numel : int
        Entries ``C`` of the weight.
    beta1 : float, default 0.9
        Adam's first-moment coefficient.

    Returns
    -------
    dict
        ``norm`` and ``angle`` (radians per step).

    Examples
    --------
    >>> e = adamw_equilibrium(1e-3, 0.5, 800)
    >>> round(e["norm"], 3), round(e["angle"], 5)
    (0.894, 0.00725)
    """
    lr = _check_number(lr, "lr", low_ok=False)
    wd = _check_number(weight_decay, "weight_decay", low_ok=False)
    numel = _check_int(numel, "numel")
    beta1 = _check_number(beta1, "beta1", high=1.0)
    return {"norm": math.sqrt(lr * numel / (2 * wd)), "angle": math.sqrt(2 * lr * wd * (1 - beta1) / (1 + beta1))}


def steady_state(track: pd.DataFrame, *, by: Sequence[str] = ("name",), tail: float = 0.25) -> pd.DataFrame:
    """Means over the last ``tail`` of the steps of a :class:`NormTracker` table, per ``by`` group.

    Returns one row per group with ``angle`` (mean ``angular_update``), ``norm``,
    ``effective_lr`` and the group's first ``lr``: the quantities to set against
    :func:`equilibrium_angular_update` once a run has reached equilibrium.

    Parameters
    ----------
    track : pandas.DataFrame
        A :class:`NormTracker` table (``step``, ``norm``, ``angular_update``, ``lr``, ``effective_lr``).
    by : sequence of str, default ("name",)
        Columns that define a group.
    tail : float, default 0.25
        Fraction of the steps, at the end, to average over.

    Examples
    --------
    >>> t = pd.DataFrame({"step": [0, 1, 2, 3], "name": "w", "norm": [4.0, 3.0, 2.0, 2.0],
    ...                   "angular_update": [float("nan"), 0.3, 0.1, 0.1], "lr": 0.1, "effective_lr": 0.0})
    >>> steady_state(t, tail=0.5)[["name", "angle", "norm"]].values.tolist()
    [['w', 0.1, 2.0]]
    """
    tail = _check_number(tail, "tail", low_ok=False)
    if tail > 1:
        raise ValueError(f"tail is a fraction of the steps in (0, 1], got {tail!r}")
    last = track[track["step"] > (1 - tail) * track["step"].max()]
    return (last.groupby(list(by)).agg(angle=("angular_update", "mean"), norm=("norm", "mean"),
                                       effective_lr=("effective_lr", "mean"), lr=("lr", "first"))
            .reset_index())
