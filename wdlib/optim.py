"""Optimizers with decoupled weight decay that torch.optim does not have.

:class:`SGDW` is SGD with momentum and decoupled weight decay (Loshchilov &
Hutter 2019, Algorithm 1): the weights shrink by ``(1 − lr·weight_decay)``
outside the momentum buffer, so the decay does not accumulate in the momentum
and is not rescaled by it, as it is in ``SGD(momentum, weight_decay)``.
"""

from __future__ import annotations

import torch
from torch.optim import Optimizer

from .decay import _check_number as _number

__all__ = ["SGDW"]


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
                 nesterov: bool = False, *, independent_decay: bool = False, maximize: bool = False):  # fmt: skip
        lr = _number(lr, "learning rate", low=0.0, low_ok=False)
        momentum = _number(momentum, "momentum", low=0.0, low_ok=True, high=1.0)
        dampening = _number(dampening, "dampening", low=0.0, low_ok=True, high=1.0 + 1e-12)
        weight_decay = _number(weight_decay, "weight_decay", low=0.0, low_ok=True)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum > 0 and zero dampening")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "independent_decay": independent_decay, "maximize": maximize}
        super().__init__(params, defaults)
        for group in self.param_groups:
            # per-group values are validated as the constructor's are
            group["lr"] = _number(group["lr"], "learning rate", low=0.0, low_ok=False)
            group["weight_decay"] = _number(group["weight_decay"], "weight_decay", low=0.0, low_ok=True)
            group.setdefault("initial_lr", group["lr"])  # schedulers use the same key

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one optimization step; ``closure`` re-evaluates the loss, as in torch.optim."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, wd, mom, damp = group["lr"], group["weight_decay"], group["momentum"], group["dampening"]
            scale = lr / group["initial_lr"] if group["independent_decay"] else lr
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise RuntimeError("SGDW does not support sparse gradients")
                g = -p.grad if group["maximize"] else p.grad
                if mom != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = g.detach().clone()
                    else:
                        buf.mul_(mom).add_(g, alpha=1 - damp)
                    g = g.add(buf, alpha=mom) if group["nesterov"] else buf
                if wd != 0:
                    p.mul_(1 - scale * wd)
                p.add_(g, alpha=-lr)
        return loss
