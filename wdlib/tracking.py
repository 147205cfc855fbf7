"""Weight norms, angular updates and effective learning rates during training.

For a weight ``w`` that feeds a normalization layer (BatchNorm, LayerNorm), the
loss is invariant to its scale, ``f(cw) = f(w)``.  Then ``∇f(cw) = ∇f(w)/c`` and
``⟨w, ∇f(w)⟩ = 0``, so a step of size ``η`` turns ``w`` by about ``η‖g̃‖/‖w‖²``
(``g̃`` the gradient at unit norm): ``η/‖w‖²`` is the *effective* learning rate
(van Laarhoven 2017; Hoffer et al. 2018).  Weight decay sets ``‖w‖``, and at
equilibrium plain SGD turns ``w`` by ``√(2ηλ)`` per step whatever the gradient
(Wan et al. 2021; ``√(2ηλ/(1+μ))`` with momentum ``μ``).
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Sequence

import pandas as pd
import torch
from torch import nn

from ._checks import integer as _check_int
from ._checks import number as _check_number
from .decay import _check_patterns

__all__ = ["NormTracker", "adamw_equilibrium", "angle", "equilibrium_angular_update", "steady_state"]


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

    Examples
    --------
    >>> m = nn.Linear(3, 2)
    >>> tr = NormTracker(m, ["weight"]); tr.record(0); tr.record(1)
    >>> tr.to_frame().columns.tolist()
    ['step', 'name', 'norm', 'angular_update', 'lr', 'effective_lr']
    """

    def __init__(self, model: nn.Module, patterns: Sequence[str] = ("*",), *, optimizer=None, every: int = 1,
                 per_step: bool = False):  # fmt: skip
        named = dict(model.named_parameters())
        _check_patterns(patterns, list(named), "patterns")
        _check_int(every, "every")
        self.params = {n: p for n, p in named.items() if any(fnmatch.fnmatchcase(n, pat) for pat in patterns)}
        if not isinstance(per_step, bool):
            raise TypeError(f"per_step must be True or False, got {per_step!r}")
        self.optimizer, self.every, self.per_step = optimizer, every, per_step
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
        """Append one row per tracked parameter; ``angular_update`` is measured from the previous record."""
        for name, p in self.params.items():
            norm = p.detach().double().norm().item()
            prev = self._last.get(name)
            lr = self._lr(name, p)
            self.rows.append({"step": step, "name": name, "norm": norm,
                              "angular_update": angle(prev, p) if prev is not None else math.nan,
                              "lr": lr, "effective_lr": lr / norm**2 if norm > 0 else math.inf})
            self._last[name] = p.detach().clone()

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=["step", "name", "norm", "angular_update", "lr", "effective_lr"])


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
