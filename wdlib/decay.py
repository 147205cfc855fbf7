"""Weight decay for PyTorch models: which parameters to decay, the penalty, the decoupled step.

The default rule is nanoGPT's and timm's: **decay tensors with two or more
dimensions** (weight matrices, convolution kernels) and spare the rest (biases,
the gains and shifts of normalization layers).  The rule looks at shapes and
names, not at module classes, so it works for custom normalization layers too.
Embeddings are matrices, so they are decayed unless ``decay_embeddings=False``.

:func:`param_groups` returns plain torch param-group dicts (any ``torch.optim``
optimizer takes them); :func:`check_param_groups` catches what torch does not:
a trainable parameter in no group or in two, and misspelled group keys, which
torch stores silently (``{"weight_deacy": 0.1}`` decays nothing).

:func:`l2_penalty` (coupled: add it to the loss) and :func:`decoupled_decay_`
(shrink the weights in place, outside the gradient) are the two things the
book sets against each other.  Both use the canonical λ: the penalty is
``(λ/2)·Σ‖w‖²`` and the decoupled step is ``w ← (1 − η·λ)·w``.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Iterable, Sequence

import torch
from torch import nn

from . import _checks
from .conventions import CONVENTIONS, from_canonical, penalty_equivalent, to_canonical  # noqa: F401 (decay.to_canonical etc. still work)

__all__ = [
    "SPARED_BY_NAME",
    "DecayWindow",
    "check_param_groups",
    "decay_only_shrinkage",
    "decay_report",
    "decoupled_decay_",
    "l2_penalty",
    "max_norm_",
    "param_groups",
    "param_groups_like",
]

_EMBEDDING_TYPES = (nn.Embedding, nn.EmbeddingBag)


_check_number = _checks.number
_check_int = _checks.integer
_check_rate = _checks.number


def _check_patterns(patterns: Sequence[str], names: Sequence[str], label: str) -> None:
    """Raise unless ``patterns`` is a list of fnmatch patterns that each match one of ``names``."""
    if isinstance(patterns, str):
        raise TypeError(f"{label} must be a list of patterns, not a string; use [{patterns!r}]")
    for pat in patterns:
        if not any(fnmatch.fnmatchcase(n, pat) for n in names):
            close = difflib.get_close_matches(pat, names, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else f"; names look like {list(names)[:3]}"
            raise ValueError(f"pattern {pat!r} matches no parameter of the model{hint}")


#: Tensors of two or more dimensions that are biases or learned tokens, not weights: spared like biases.
#: timm's ``no_weight_decay()`` lists (ViT: cls/dist/reg tokens, pos_embed; Swin: relative_position_bias_table)
#: and torchvision's reference recipe (class_token, pos_embedding, relative_position_bias_table); nn.MultiheadAttention's
#: ``add_bias_kv`` biases.  Matched on the last component of a parameter's name.
SPARED_BY_NAME = frozenset({"bias_k", "bias_v", "relative_position_bias_table", "cls_token", "class_token", "dist_token",
                            "reg_token", "mask_token", "pos_embed", "pos_embedding", "position_embedding",
                            "absolute_pos_embed"})


def _embedding_names(model: nn.Module) -> set[str]:
    """Names of embedding tables: weights of ``nn.Embedding``/``EmbeddingBag``, or ≥ 2-D non-bias weights of a
    module whose name contains 'embed' (its biases and norm gains stay biases and gains)."""
    out = set()
    for mname, module in model.named_modules(remove_duplicate=False):
        by_type = isinstance(module, _EMBEDDING_TYPES)
        by_name = "embed" in mname.rsplit(".", 1)[-1].lower()
        for pname, p in module.named_parameters(recurse=False):
            if by_type or (by_name and p.ndim >= 2 and not pname.endswith("bias")):
                out.add(f"{mname}.{pname}" if mname else pname)
    return out


def _classify(model: nn.Module, *, decay_embeddings: bool, no_decay: Sequence[str], decay: Sequence[str]):
    """Yield ``(name, param, decayed, reason)`` for every trainable parameter, once per tensor.

    A tensor shared by several modules (a tied embedding and output layer) has
    several names; it is judged by all of them, so the answer does not depend
    on which module was registered first.  ``name`` is the first one.
    """
    embeddings = _embedding_names(model)
    aliases: dict[int, list[str]] = {}
    for name, p in model.named_parameters(remove_duplicate=False):
        aliases.setdefault(id(p), []).append(name)
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        names = aliases[id(p)]
        if any(fnmatch.fnmatchcase(n, pat) for n in names for pat in no_decay):
            yield name, p, False, "named in no_decay"
        elif any(fnmatch.fnmatchcase(n, pat) for n in names for pat in decay):
            yield name, p, True, "named in decay"
        elif any(n.rsplit(".", 1)[-1] in SPARED_BY_NAME for n in names):
            yield name, p, False, "bias table or learned token (timm and torchvision spare it)"
        elif any(n in embeddings for n in names):
            yield name, p, decay_embeddings, "embedding" + ("" if decay_embeddings else " (decay_embeddings=False)")
        elif p.ndim >= 2:
            yield name, p, True, f"{p.ndim}-D weight"
        else:
            yield name, p, False, "bias" if name.endswith("bias") else f"{p.ndim}-D (bias or normalization gain)"


def param_groups(
    model: nn.Module,
    weight_decay: float,
    *,
    decay_embeddings: bool = True,
    no_decay: Sequence[str] = (),
    decay: Sequence[str] = (),
) -> list[dict]:
    """Two torch param groups: decayed and not decayed.

    Parameters
    ----------
    model : torch.nn.Module
    weight_decay : float
        ``>= 0``; set as ``"weight_decay"`` of the decayed group (the other gets 0).
        What it means depends on the optimizer: coupled L2 for ``SGD``/``Adam``,
        decoupled for ``AdamW`` and :class:`wdlib.optim.SGDW`.
    decay_embeddings : bool, default True
        Decay embedding tables (``nn.Embedding``, or the ≥ 2-D weights of a
        module named ``*embed*``).  Learned tokens and position or bias tables
        stored as bare parameters (:data:`SPARED_BY_NAME`: ``cls_token``,
        ``pos_embed``, ``relative_position_bias_table``, ``bias_k``, …) are
        never decayed by default, as in timm and torchvision's recipes.
    no_decay, decay : sequence of str
        ``fnmatch`` patterns of full parameter names forced out of or into decay,
        e.g. ``no_decay=["head.*"]``; ``no_decay`` wins over ``decay``.  A pattern
        that matches no parameter is an error (it is probably misspelled).

    Returns
    -------
    list of dict
        ``[{"params", "param_names", "weight_decay"}, ...]``, empty groups left
        out.  Frozen parameters (``requires_grad=False``) are in no group.

    Examples
    --------
    >>> model = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.Linear(8, 1))
    >>> groups = param_groups(model, 0.1)
    >>> [(g["weight_decay"], g["param_names"]) for g in groups]
    [(0.1, ['0.weight', '2.weight']), (0.0, ['0.bias', '1.weight', '1.bias', '2.bias'])]
    >>> opt = torch.optim.AdamW(groups, lr=1e-3)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    weight_decay = _check_rate(weight_decay, "weight_decay")
    names = [n for n, _ in model.named_parameters(remove_duplicate=False)]  # a tied weight answers to every name
    for label, patterns in (("no_decay", no_decay), ("decay", decay)):
        _check_patterns(patterns, names, label)
    decayed, spared = {"params": [], "param_names": []}, {"params": [], "param_names": []}
    for name, p, on, _ in _classify(model, decay_embeddings=decay_embeddings, no_decay=no_decay, decay=decay):
        group = decayed if on else spared
        group["params"].append(p)
        group["param_names"].append(name)
    decayed["weight_decay"], spared["weight_decay"] = weight_decay, 0.0
    return [g for g in (decayed, spared) if g["params"]]


_RECIPES = ("nanogpt", "mingpt")


def _recipe_decays(model: nn.Module, recipe: str) -> dict[str, bool]:
    """``name -> decayed`` under nanoGPT's or minGPT's rule, for every trainable tensor (first name of a tied one)."""
    if recipe == "nanogpt":  # nanoGPT's configure_optimizers: every tensor with dim() >= 2
        return {n: p.ndim >= 2 for n, p in model.named_parameters() if p.requires_grad}
    # minGPT's configure_optimizers: biases no; weights of nn.Linear yes; of LayerNorm and Embedding no.
    verdicts: dict[int, set[bool]] = {}
    for _, module in model.named_modules(remove_duplicate=False):
        for pname, p in module.named_parameters(recurse=False):
            if pname.endswith("bias"):
                verdicts.setdefault(id(p), set()).add(False)
            elif pname.endswith("weight") and isinstance(module, nn.Linear):
                verdicts.setdefault(id(p), set()).add(True)
            elif pname.endswith("weight") and isinstance(module, (nn.LayerNorm, nn.Embedding)):
                verdicts.setdefault(id(p), set()).add(False)
    out, missing = {}, []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if id(p) not in verdicts:
            missing.append(name)
        else:  # a tied embedding/head weight: the embedding's verdict wins, as in nanoGPT's old minGPT-style rule
            out[name] = all(verdicts[id(p)])
    if missing:
        raise ValueError(f"minGPT's rule classifies only biases and the weights of Linear, LayerNorm and Embedding "
                         f"modules; it leaves {missing} in neither set (minGPT asserts on this)")
    return out


def param_groups_like(model: nn.Module, weight_decay: float, recipe: str) -> list[dict]:
    """Param groups that decay what nanoGPT's or minGPT's ``configure_optimizers`` decays.

    * ``"nanogpt"`` (Karpathy's nanoGPT, ``model.py``): every tensor with two
      or more dimensions, so the token and position embeddings are decayed.
    * ``"mingpt"`` (Karpathy's minGPT, ``mingpt/model.py``): the weights of
      ``nn.Linear`` only; biases and the weights of ``nn.LayerNorm`` and
      ``nn.Embedding`` are not decayed, and any other tensor is an error.  A
      weight tied between an embedding and a linear head is not decayed (the
      resolution of nanoGPT's earlier, minGPT-style rule).

    :func:`param_groups` with its defaults agrees with ``"nanogpt"`` on models
    without bare 2-D parameters; with ``decay_embeddings=False`` it agrees with
    ``"mingpt"`` on models built from Linear, LayerNorm and Embedding layers.

    Parameters
    ----------
    model : torch.nn.Module
    weight_decay : float
        ``>= 0``, set on the decayed group (the other gets 0).
    recipe : {"nanogpt", "mingpt"}
        Whose rule to apply.

    Returns
    -------
    list of dict
        ``[{"params", "param_names", "weight_decay"}, ...]`` as :func:`param_groups`.

    Examples
    --------
    >>> model = nn.Sequential(nn.Embedding(10, 4), nn.LayerNorm(4), nn.Linear(4, 2))
    >>> [g["param_names"] for g in param_groups_like(model, 0.1, "nanogpt")]
    [['0.weight', '2.weight'], ['1.weight', '1.bias', '2.bias']]
    >>> [g["param_names"] for g in param_groups_like(model, 0.1, "mingpt")]
    [['2.weight'], ['0.weight', '1.weight', '1.bias', '2.bias']]
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    if recipe not in _RECIPES:
        raise ValueError(f"recipe must be one of {_RECIPES}; got {recipe!r}")
    weight_decay = _check_rate(weight_decay, "weight_decay")
    rule = _recipe_decays(model, recipe)
    decayed, spared = {"params": [], "param_names": []}, {"params": [], "param_names": []}
    for name, p in model.named_parameters():
        if name in rule:
            group = decayed if rule[name] else spared
            group["params"].append(p)
            group["param_names"].append(name)
    decayed["weight_decay"], spared["weight_decay"] = weight_decay, 0.0
    return [g for g in (decayed, spared) if g["params"]]


def decay_report(model: nn.Module, groups: Iterable[dict] | torch.optim.Optimizer | None = None, *,
                 decay_embeddings: bool = True, no_decay: Sequence[str] = (), decay: Sequence[str] = ()):
    """One row per parameter: ``name, shape, numel, trainable, weight_decay, reason``.

    With ``groups`` (param groups or an optimizer) the ``weight_decay`` column is
    what those groups say; without, it is what :func:`param_groups` would do with
    ``weight_decay=1`` and the same keyword arguments.  Returns a pandas DataFrame.

    Parameters
    ----------
    model : torch.nn.Module
        The model whose parameters are listed.
    groups : iterable of dict or torch.optim.Optimizer, optional
        Param groups (or an optimizer holding them) to report; without, what
        :func:`param_groups` would build.
    decay_embeddings : bool, default True
        As in :func:`param_groups` (used without ``groups``).
    no_decay, decay : sequence of str
        As in :func:`param_groups` (used without ``groups``).
    """
    import pandas as pd

    rule = _classify(model, decay_embeddings=decay_embeddings, no_decay=no_decay, decay=decay)
    reasons = {n: (on, why) for n, _, on, why in rule}
    where: dict[int, float] = {}
    if groups is not None:
        check_param_groups(model, groups)
        gs = groups.param_groups if isinstance(groups, torch.optim.Optimizer) else list(groups)
        for g in gs:
            for p in g["params"]:
                where[id(p)] = float(g.get("weight_decay", 0.0))
    rows = []
    for name, p in model.named_parameters():
        on, why = reasons.get(name, (False, "frozen"))
        wd = where.get(id(p), 0.0) if groups is not None else float(on)
        rows.append({"name": name, "shape": tuple(p.shape), "numel": p.numel(), "trainable": p.requires_grad,
                     "weight_decay": wd, "reason": why})
    return pd.DataFrame(rows)


def check_param_groups(model: nn.Module, groups: Iterable[dict] | torch.optim.Optimizer) -> None:
    """Raise if the groups do not cover every trainable parameter exactly once, or have unknown keys.

    Parameters
    ----------
    model : torch.nn.Module
    groups : list of dict or torch.optim.Optimizer
        Param groups before or after an optimizer took them.  For an optimizer,
        keys are checked against its ``defaults``; for plain dicts against the
        keys any ``torch.optim`` optimizer knows plus ``weight_decay`` and ``lr``.

    Raises
    ------
    ValueError
        Naming the parameter left out or duplicated, or the misspelled key and
        the key it probably meant.
    """
    if isinstance(groups, torch.optim.Optimizer):
        gs, known = groups.param_groups, set(groups.defaults) | {"params", "param_names", "initial_lr"}
        owner = type(groups).__name__
    else:
        gs = list(groups)
        known = {"params", "param_names", "lr", "weight_decay", "momentum", "dampening", "nesterov", "betas", "eps",
                 "amsgrad", "maximize", "foreach", "capturable", "differentiable", "fused", "initial_lr",
                 "decoupled_weight_decay", "alpha", "centered", "lr_decay", "initial_accumulator_value", "rho",
                 "momentum_decay", "independent_decay"}
        owner = "torch.optim"
    names = {id(p): n for n, p in model.named_parameters()}
    seen: dict[int, int] = {}
    for i, g in enumerate(gs):
        if not isinstance(g, dict) or "params" not in g:
            raise ValueError(f"param group {i} must be a dict with a 'params' list")
        for key in g:
            if key not in known:
                close = difflib.get_close_matches(key, sorted(known), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ValueError(f"param group {i} has the key {key!r}, which {owner} does not know and would "
                                 f"silently ignore{hint}")
        params = [g["params"]] if isinstance(g["params"], torch.Tensor) else list(g["params"])
        for p in params:
            if id(p) not in names:
                raise ValueError(f"param group {i} holds a tensor of shape {tuple(p.shape)} that is not a "
                                 "parameter of the model")
            if id(p) in seen:
                raise ValueError(f"parameter {names[id(p)]!r} is in param groups {seen[id(p)]} and {i}; "
                                 "put each parameter in exactly one group")
            seen[id(p)] = i
    missing = [n for n, p in model.named_parameters() if p.requires_grad and id(p) not in seen]
    if missing:
        raise ValueError(f"trainable parameter(s) {missing} are in no param group, so they would never be "
                         "updated; add them to a group or set requires_grad=False")


def l2_penalty(params: Iterable[torch.Tensor] | Iterable[dict], weight_decay: float | None = None) -> torch.Tensor:
    """The coupled penalty ``(λ/2)·Σ‖w‖²``, to add to a loss.

    ``params`` is an iterable of tensors (then ``weight_decay`` is λ) or of param
    groups (then each group's own ``"weight_decay"`` is used and ``weight_decay``
    must be None).  Its gradient is ``λ·w``: the same update as torch's
    ``SGD(weight_decay=λ)``.

    Parameters
    ----------
    params : iterable of torch.Tensor, or iterable of dict
        Tensors, or param groups with a ``"weight_decay"`` each.
    weight_decay : float, optional
        λ for tensors; must be None for param groups.

    Examples
    --------
    >>> w = torch.tensor([3.0, 4.0], requires_grad=True)
    >>> l2_penalty([w], 0.1)
    tensor(1.2500, grad_fn=<MulBackward0>)
    """
    items = list(params)
    if items and isinstance(items[0], dict):
        if weight_decay is not None:
            raise ValueError("pass weight_decay=None with param groups: each group's 'weight_decay' is used")
        terms = [_check_rate(g.get("weight_decay", 0.0), "weight_decay") / 2 * sum(p.pow(2).sum() for p in g["params"])
                 for g in items if g["params"]]
        return sum(terms, torch.zeros(()))
    lam = _check_rate(weight_decay, "weight_decay") if weight_decay is not None else None
    if lam is None:
        raise ValueError("weight_decay is required with a list of tensors")
    return lam / 2 * sum((p.pow(2).sum() for p in items), torch.zeros(()))


class DecayWindow:
    """A training hook that applies weight decay only during the steps ``[start, stop)``.

    Golatkar et al. (2019) switch weight decay on only early, only late, or
    throughout training; this hook does so for any optimizer whose param
    groups carry ``weight_decay`` (the coupled and the decoupled forms alike):
    the groups' values are remembered when the hook is made, then set to 0
    outside the window.  It is called after each step with the number of
    steps done (:func:`wdlib.train.fit`'s ``hooks``) and sets the value the
    next step will use; the first step's value is set at construction.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        Its groups' ``weight_decay`` are switched.
    start : int, default 0
        First step (0-based) with decay.
    stop : int, optional
        First step without decay again; ``None``: to the end.

    Examples
    --------
    >>> opt = torch.optim.SGD([nn.Parameter(torch.ones(2))], lr=0.1, weight_decay=0.5)
    >>> window = DecayWindow(opt, start=2)
    >>> [opt.param_groups[0]["weight_decay"]] + [window(s, None, opt) or opt.param_groups[0]["weight_decay"]
    ...                                           for s in (1, 2, 3)]
    [0.0, 0.0, 0.5, 0.5]
    """

    def __init__(self, optimizer: torch.optim.Optimizer, start: int = 0, stop: int | None = None):
        self.start = _check_int(start, "start", low=0)
        self.stop = None if stop is None else _check_int(stop, "stop", low=0)
        if self.stop is not None and self.stop < self.start:
            raise ValueError(f"stop ({stop}) must be >= start ({start}), or None for 'to the end'")
        self.rates = [g.get("weight_decay", 0.0) for g in optimizer.param_groups]
        self._apply(optimizer, 0)

    def active(self, step: int) -> bool:
        """Whether step ``step`` (0-based) decays."""
        return step >= self.start and (self.stop is None or step < self.stop)

    def _apply(self, optimizer, step: int) -> None:
        on = self.active(step)
        for g, rate in zip(optimizer.param_groups, self.rates):
            g["weight_decay"] = rate if on else 0.0

    def __call__(self, step: int, model, optimizer) -> None:
        self._apply(optimizer, step)


@torch.no_grad()
def decoupled_decay_(params: Iterable[torch.Tensor], *, lr: float, weight_decay: float) -> None:
    """Decoupled decay in place: ``w ← (1 − lr·weight_decay)·w`` (Loshchilov & Hutter 2019, Alg. 2 line 12).

    Parameters
    ----------
    params : iterable of torch.Tensor
        Tensors to shrink, in place.
    lr : float
        Learning rate ``η``.
    weight_decay : float
        Decoupled rate ``λ``; each step multiplies by ``1 − ηλ``.

    Examples
    --------
    >>> w = torch.ones(2); decoupled_decay_([w], lr=0.1, weight_decay=0.5); w
    tensor([0.9500, 0.9500])
    """
    lr = _check_number(lr, "lr", low_ok=False)
    _decoupled_decay_(params, lr * _check_rate(weight_decay, "weight_decay"))


def decay_only_shrinkage(optimizer: type[torch.optim.Optimizer], init: torch.Tensor, *, lr: float,
                         weight_decay: float, steps: int) -> float:
    """``‖w_T‖ / ‖w_0‖`` after ``steps`` steps of ``optimizer`` on a tensor whose data gradient is always zero.

    What the decay alone does to a parameter no batch touches (an embedding
    row of a word absent from every batch): AdamW shrinks it by
    ``(1 − ηλ)`` per step, ``exp(−ηλT)`` in all; Adam + L2 normalizes the
    decay term ``λw`` by its own running magnitude, so it moves the row by
    about ``η`` per step whatever ``λ`` is.

    Parameters
    ----------
    optimizer : type of torch.optim.Optimizer
        The optimizer class, e.g. ``torch.optim.AdamW`` or ``torch.optim.Adam``.
    init : torch.Tensor
        Starting weights ``w_0`` (copied; not modified).
    lr : float
        Learning rate ``η``.
    weight_decay : float
        The optimizer's ``weight_decay``.
    steps : int
        Number of steps ``T``.

    Examples
    --------
    >>> round(decay_only_shrinkage(torch.optim.AdamW, torch.ones(4), lr=0.1, weight_decay=0.5, steps=10), 6)
    0.598737
    """
    steps = _check_int(steps, "steps")
    w = torch.nn.Parameter(init.detach().clone())
    start = float(w.detach().norm())
    if start == 0:
        raise ValueError("init is all zeros: its norm cannot shrink")
    opt = optimizer([w], lr=_check_number(lr, "lr", low_ok=False), weight_decay=_check_rate(weight_decay, "weight_decay"))
    for _ in range(steps):
        w.grad = torch.zeros_like(w)  # no data gradient: only the decay acts (coupled: added to it; AdamW: a shrink)
        opt.step()
    return float(w.detach().norm()) / start


def _decoupled_decay_(params: Iterable[torch.Tensor], shrink: float) -> None:
    """The kernel of decoupled decay, ``w ← (1 − shrink)·w``, for checked input (also :class:`wdlib.optim.SGDW`'s)."""
    if shrink != 0:
        for p in params:
            p.mul_(1.0 - shrink)


@torch.no_grad()
def max_norm_(weight: torch.Tensor, max_norm: float, *, dim: int | None = 0) -> torch.Tensor:
    """Max-norm constraint in place: each slice along ``dim`` with ‖w‖₂ > c is rescaled to ‖w‖₂ = c.

    The projection after each step of Srebro et al. (2005), Hinton et al. (2012)
    and Kim (2014, ``s = 3`` on the softmax weights).  ``dim=0`` constrains each
    row of a ``Linear`` weight (the weights into one output unit); ``dim=None``
    constrains the whole tensor as one vector.  Returns ``weight``.

    Parameters
    ----------
    weight : torch.Tensor
        The weight, rescaled in place.
    max_norm : float
        The bound ``c > 0``.
    dim : int or None, default 0
        Dimension whose slices are constrained; None for the whole tensor.

    Examples
    --------
    >>> w = torch.tensor([[3.0, 4.0], [0.3, 0.4]])
    >>> max_norm_(w, 1.0)
    tensor([[0.6000, 0.8000],
            [0.3000, 0.4000]])
    """
    c = _check_number(max_norm, "max_norm", low_ok=False)
    if dim is None:
        norms = weight.norm()
    elif not -weight.dim() <= dim < weight.dim():
        raise ValueError(f"dim {dim} is out of range for a tensor of shape {tuple(weight.shape)}; use dim=None "
                         "to constrain the whole tensor")
    else:
        other = [d for d in range(weight.dim()) if d != dim % weight.dim()]
        norms = torch.linalg.vector_norm(weight, dim=other, keepdim=True) if other else weight.abs()
    # not torch.renorm: it divides by norm + 1e-7, so the projection would miss the budget by ~1e-7
    return weight.mul_((c / norms).clamp(max=1.0))  # c/0 = inf -> 1: zero slices stay zero
