"""Optimizers with decoupled weight decay that torch.optim does not have.

:class:`SGDW` is SGD with momentum and decoupled weight decay (Loshchilov &
Hutter 2019, Algorithm 1): the weights shrink by ``(1 − lr·weight_decay)``
outside the momentum buffer, so the decay does not accumulate in the momentum
and is not rescaled by it, as it is in ``SGD(momentum, weight_decay)``.
"""

from __future__ import annotations

import torch
from torch.optim import Optimizer

from ._checks import number as _number
from .decay import _decoupled_decay_

__all__ = ["SGDW", "sgdw"]


def sgdw(params: list[torch.Tensor], grads: list[torch.Tensor], momentum_buffers: list[torch.Tensor | None], *,
         lr: float, weight_decay: float, decay_scale: float, momentum: float, dampening: float, nesterov: bool,
         maximize: bool) -> None:
    """One SGDW step on lists of tensors, in place (the functional core of :class:`SGDW`; input trusted).

    ``momentum_buffers`` is updated in place: a ``None`` entry becomes the
    gradient's copy on the first step.  The weights shrink by
    ``decay_scale · weight_decay`` (:func:`wdlib.decay.decoupled_decay_`'s
    kernel), outside the momentum buffer, then move by ``−lr · d``.

    Parameters
    ----------
    params : list of torch.Tensor
        Parameters, updated in place.
    grads : list of torch.Tensor
        Their gradients.
    momentum_buffers : list of torch.Tensor or None
        One buffer per parameter, updated in place.
    lr : float
        Learning rate.
    weight_decay : float
        Decoupled decay rate.
    decay_scale : float
        Multiplier of ``weight_decay`` in the shrink factor: ``lr`` (decay
        coupled to the learning rate, :class:`SGDW`'s default) or
        ``lr / initial_lr`` (``independent_decay``: only the schedule scales it).
    momentum, dampening : float
        As in ``torch.optim.SGD``.
    nesterov, maximize : bool
        As in ``torch.optim.SGD``.
    """
    for i, (p, g) in enumerate(zip(params, grads)):
        if maximize:
            g = -g
        if momentum != 0:
            buf = momentum_buffers[i]
            if buf is None:
                buf = momentum_buffers[i] = g.detach().clone()
            else:
                buf.mul_(momentum).add_(g, alpha=1 - dampening)
            g = g.add(buf, alpha=momentum) if nesterov else buf
        _decoupled_decay_([p], decay_scale * weight_decay)
        p.add_(g, alpha=-lr)


class SGDW(Optimizer):
    """SGD with momentum and decoupled weight decay.

    For each parameter ``p`` with gradient ``g``, per step::

        buf = momentum * buf + (1 - dampening) * g        (buf = g on the first step)
        d   = g + momentum * buf if nesterov else buf      (d = g without momentum)
        p   = p * (1 - s * weight_decay) - lr * d

    with ``s = lr`` by default (torch's ``AdamW`` convention: the decay per unit
    learning rate is ``weight_decay``), or ``s = lr / initial_lr`` with
    ``independent_decay=True``: the decay then follows the learning-rate
    schedule but not the base learning rate, as in Loshchilov & Hutter's
    ``η_t·λ`` (schedule multiplier ``η_t``, decay ``λ``).

    Parameters
    ----------
    params : iterable of tensors or of param-group dicts
    lr : float
        ``> 0``.
    momentum : float, default 0
        ``0 <= momentum < 1``.
    dampening : float, default 0
    weight_decay : float, default 0
        ``>= 0``; the canonical decoupled λ (per unit learning rate).
    nesterov : bool, default False
        Needs ``momentum > 0`` and ``dampening = 0``.
    independent_decay : bool, default False
    maximize : bool, default False

    Examples
    --------
    >>> w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    >>> opt = SGDW([w], lr=0.1, momentum=0.9, weight_decay=0.5)
    >>> w.grad = torch.tensor([1.0, 1.0]); opt.step(); w.data
    tensor([ 0.8500, -2.0000])
    """

    def __init__(self, params, lr: float, momentum: float = 0.0, dampening: float = 0.0, weight_decay: float = 0.0,
                 nesterov: bool = False, *, independent_decay: bool = False, maximize: bool = False):
        lr = _number(lr, "learning rate", low=0.0, low_ok=False)
        momentum = _number(momentum, "momentum", low=0.0, low_ok=True, high=1.0)
        dampening = _number(dampening, "dampening", low=0.0, low_ok=True, high=1.0 + 1e-12)
        weight_decay = _number(weight_decay, "weight_decay", low=0.0, low_ok=True)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum > 0 and zero dampening")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "independent_decay": independent_decay, "maximize": maximize}
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict) -> None:
        """Add a group as torch.optim does, validating its learning rate and decay as the constructor's.

        Also used by the constructor for each group; ``initial_lr`` (the base of
        ``independent_decay``) is the group's learning rate when it is added.
        """
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        try:
            group["lr"] = _number(group["lr"], "learning rate", low=0.0, low_ok=False)
            group["weight_decay"] = _number(group["weight_decay"], "weight_decay", low=0.0, low_ok=True)
            group["momentum"] = _number(group["momentum"], "momentum", low=0.0, low_ok=True, high=1.0)
            if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
                raise ValueError("Nesterov momentum requires a momentum > 0 and zero dampening")
        except ValueError:
            self.param_groups.pop()  # a refused group leaves the optimizer as it was
            raise
        group.setdefault("initial_lr", group["lr"])  # schedulers use the same key

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one optimization step; ``closure`` re-evaluates the loss, as in torch.optim."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if any(p.grad.is_sparse for p in params):
                raise RuntimeError("SGDW does not support sparse gradients")
            buffers = [self.state[p].get("momentum_buffer") for p in params]
            lr = group["lr"]
            sgdw(params, [p.grad for p in params], buffers, lr=lr, weight_decay=group["weight_decay"],
                 decay_scale=lr / group["initial_lr"] if group["independent_decay"] else lr,
                 momentum=group["momentum"], dampening=group["dampening"], nesterov=group["nesterov"],
                 maximize=group["maximize"])
            if group["momentum"] != 0:
                for p, buf in zip(params, buffers):
                    self.state[p]["momentum_buffer"] = buf
        return loss
