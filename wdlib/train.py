"""Training loops over in-memory tensors, with the history as a pandas DataFrame.

:func:`fit` trains a classifier for whole epochs: each epoch draws one index
permutation from its own seeded generator and slices mini-batches out of the
tensors (no ``DataLoader``, no per-sample Python work).  :func:`fit_lm` trains a
language model on random windows of a token stream for a number of steps, as
nanoGPT does.  Both

- are bitwise repeatable on the CPU: the seed fixes the batch order and the
  dropout masks, inside ``torch.random.fork_rng`` so the caller's global RNG is
  neither used nor changed (build the model from a seed too:
  :func:`wdlib.models.build_model`);
- set the learning rate of every group from a schedule each step (``"constant"``,
  ``"cosine"``, ``"linear"``, with linear warm-up, or any ``step -> factor``
  callable); decoupled decay in ``AdamW``/``SGDW`` follows it, as it should;
- apply optional gradient clipping and Kim's max-norm constraint after each step;
- call ``hooks(step, model, optimizer)`` after each step (a
  :class:`wdlib.tracking.NormTracker` is such a hook);
- show a tqdm progress bar unless ``progress=False``.

:func:`make_optimizer` builds the four optimizers the book compares from one
canonical λ, with :func:`wdlib.decay.param_groups` deciding what is decayed.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from ._checks import integer as _check_int
from ._checks import number as _check_number
from .decay import max_norm_, param_groups
from .optim import SGDW

__all__ = ["OPTIMIZERS", "SCHEDULES", "OptimizerSpec", "evaluate", "fit", "fit_lm", "lr_factor", "make_optimizer", "numerics"]

@dataclass(frozen=True)
class OptimizerSpec:
    """An optimizer that :func:`make_optimizer` builds: how λ acts in it, and its factory.

    ``factory(groups, lr=..., momentum=..., betas=..., eps=...)`` returns the
    torch optimizer over :func:`wdlib.decay.param_groups`' groups (each group
    carries its ``weight_decay``); it ignores the hyperparameters it has no use for.
    """

    coupling: str  # "coupled" (λ·w added to the gradient) or "decoupled" (w shrunk by η·λ)
    description: str
    factory: Callable[..., torch.optim.Optimizer]
    uses_momentum: bool = False

    def __str__(self) -> str:
        return f"{self.coupling}: {self.description}"


#: optimizer name -> :class:`OptimizerSpec`.  ``weight_decay`` is the canonical λ for all of them: for a
#: mean loss the coupled ones add λ·w to the gradient, the decoupled ones shrink w by η·λ.
OPTIMIZERS: dict[str, OptimizerSpec] = {
    "sgd": OptimizerSpec("coupled", "torch.optim.SGD(momentum), gradient += λ·w",
                         lambda g, *, lr, momentum, **_: torch.optim.SGD(g, lr=lr, momentum=momentum), True),
    "sgdw": OptimizerSpec("decoupled", "wdlib.optim.SGDW(momentum), w ← (1 − η·λ)·w",
                          lambda g, *, lr, momentum, **_: SGDW(g, lr=lr, momentum=momentum), True),
    "adam": OptimizerSpec("coupled", "torch.optim.Adam, gradient += λ·w before the adaptive scaling",
                          lambda g, *, lr, betas, eps, **_: torch.optim.Adam(g, lr=lr, betas=betas, eps=eps)),
    "adamw": OptimizerSpec("decoupled", "torch.optim.AdamW, w ← (1 − η·λ)·w",
                           lambda g, *, lr, betas, eps, **_: torch.optim.AdamW(g, lr=lr, betas=betas, eps=eps)),
    # Zeiler (2012) with Kim's (2014) settings; lr = 1 is plain Adadelta
    "adadelta": OptimizerSpec("coupled", "torch.optim.Adadelta(rho=0.95, eps=1e-6) as in Kim (2014), gradient += λ·w",
                              lambda g, *, lr, **_: torch.optim.Adadelta(g, lr=lr, rho=0.95, eps=1e-6)),
}  # fmt: skip
#: The learning-rate schedules that :func:`lr_factor` knows by name.
SCHEDULES = ("constant", "cosine", "linear")


def make_optimizer(model: nn.Module, name: str, *, lr: float, weight_decay: float = 0.0, momentum: float = 0.9,
                   betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, **group_options):  # fmt: skip
    """One of :data:`OPTIMIZERS` over ``param_groups(model, weight_decay, **group_options)``.

    ``group_options`` go to :func:`wdlib.decay.param_groups` (``decay_embeddings``,
    ``no_decay``, ``decay``; ``decay=["*"]`` decays every parameter, biases and
    norm gains included).  ``momentum`` is used by SGD and SGDW, ``betas`` and
    ``eps`` by Adam and AdamW.

    >>> opt = make_optimizer(nn.Linear(3, 2), "adamw", lr=1e-3, weight_decay=0.1)
    >>> type(opt).__name__, [g["weight_decay"] for g in opt.param_groups]
    ('AdamW', [0.1, 0.0])
    """
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(map(repr, OPTIMIZERS))}")
    spec = OPTIMIZERS[name]
    lr = _check_number(lr, "lr", low_ok=False)
    if spec.uses_momentum:
        momentum = _check_number(momentum, "momentum", high=1.0)
    groups = param_groups(model, weight_decay, **group_options)
    return spec.factory(groups, lr=lr, momentum=momentum, betas=betas, eps=eps)


def lr_factor(schedule: str | Callable[[int], float], step: int, total: int, *, warmup: int = 0,
              final: float = 0.0) -> float:  # fmt: skip
    """Multiplier of the base learning rate at ``step`` (0-based) of ``total``.

    Linear warm-up from ``1/warmup`` to 1 over the first ``warmup`` steps, then
    ``"constant"`` 1, ``"cosine"`` from 1 down to ``final`` at the last step, or
    ``"linear"`` likewise.  A callable is used as it is.

    >>> [round(lr_factor("cosine", s, 5), 3) for s in range(5)]
    [1.0, 0.854, 0.5, 0.146, 0.0]
    """
    if callable(schedule):
        return float(schedule(step))
    if step < warmup:
        return (step + 1) / warmup
    if schedule == "constant":
        return 1.0
    span = max(total - warmup - 1, 1)
    t = min((step - warmup) / span, 1.0)
    if schedule == "cosine":
        return final + (1 - final) * 0.5 * (1 + math.cos(math.pi * t))
    return 1 - (1 - final) * t  # "linear"


def _check_schedule(schedule, warmup, total) -> None:
    if not callable(schedule) and schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; choose one of {', '.join(map(repr, SCHEDULES))} "
                         "or pass a callable step -> factor")
    if not isinstance(warmup, int) or not 0 <= warmup <= total:
        raise ValueError(f"warmup must be an integer in [0, {total}] (the number of steps), got {warmup!r}")


class _Stepper:
    """What :func:`fit` and :func:`fit_lm` do around each optimizer step."""

    def __init__(self, model, optimizer, *, total, schedule, warmup, final_lr, grad_clip, max_norm, hooks):
        _check_schedule(schedule, warmup, total)
        named = dict(model.named_parameters())
        unknown = [n for n in (max_norm or {}) if n not in named]
        if unknown:
            raise ValueError(f"max_norm names unknown parameters {unknown}; the model has {list(named)}")
        self.constrained = [(named[n], _check_number(c, f"max_norm[{n!r}]", low_ok=False))
                            for n, c in (max_norm or {}).items()]  # fmt: skip
        self.grad_clip = None if grad_clip is None else _check_number(grad_clip, "grad_clip", low_ok=False)
        self.model, self.optimizer, self.hooks = model, optimizer, list(hooks)
        self.base_lrs = [g["lr"] for g in optimizer.param_groups]
        self.total, self.schedule, self.warmup, self.final = total, schedule, warmup, final_lr
        self.step = 0

    def __call__(self, loss: torch.Tensor) -> None:
        factor = lr_factor(self.schedule, self.step, self.total, warmup=self.warmup, final=self.final)
        for g, base in zip(self.optimizer.param_groups, self.base_lrs):
            g["lr"] = base * factor
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.grad_clip is not None:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
        self.optimizer.step()
        if self.constrained:
            with torch.no_grad():
                for p, c in self.constrained:
                    max_norm_(p, c, dim=0)
        self.step += 1
        for hook in self.hooks:
            hook(self.step, self.model, self.optimizer)

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])


def numerics(model: nn.Module) -> dict[str, str]:
    """Where and at which precision ``model`` computes: ``{"device": "cpu" | "cuda:<name>", "precision": "float32"}``.

    Part of a run's provenance (:data:`wdlib.sweep.NUMERICS`): :func:`fit` and
    :func:`fit_lm` put it in their history's ``attrs``.

    >>> numerics(nn.Linear(2, 1))
    {'device': 'cpu', 'precision': 'float32'}
    """
    p = next(model.parameters())
    device = f"cuda:{torch.cuda.get_device_name(p.device)}" if p.device.type == "cuda" else str(p.device)
    return {"device": device, "precision": str(p.dtype).removeprefix("torch.")}


def _progress(total: int, progress: bool | None, desc: str):
    from tqdm.auto import tqdm

    disable = not (sys.stderr.isatty() if progress is None else progress)
    return tqdm(total=total, desc=desc, disable=disable, leave=False, mininterval=0.5)


def _check_pair(pair, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    try:
        x, y = pair
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (inputs, labels) of tensors") from None
    if not (isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor)) or len(x) != len(y) or len(x) == 0:
        raise ValueError(f"{name} must be a pair of non-empty tensors of the same length; got lengths "
                         f"{len(x) if hasattr(x, '__len__') else '?'} and {len(y) if hasattr(y, '__len__') else '?'}")
    return x, y


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, batch_size: int = 1024) -> dict[str, float]:
    """Mean cross-entropy ``loss`` and accuracy ``acc`` of ``model`` (in eval mode) on ``(x, y)``.

    The model's train/eval mode is restored afterwards.
    """
    x, y = _check_pair((x, y), "(x, y)")
    _check_int(batch_size, "batch_size")
    was_training = model.training
    model.eval()
    try:
        total, correct = torch.zeros((), dtype=torch.float64), 0
        for i in range(0, len(x), batch_size):
            logits = model(x[i: i + batch_size])
            target = y[i: i + batch_size]
            total += F.cross_entropy(logits, target, reduction="sum").double()
            correct += int((logits.argmax(1) == target).sum())
    finally:
        model.train(was_training)
    return {"loss": float(total) / len(x), "acc": correct / len(x)}


def fit(model: nn.Module, optimizer: torch.optim.Optimizer, train: tuple[torch.Tensor, torch.Tensor], *,
        epochs: int, batch_size: int, seed: int, evals: Mapping[str, tuple[torch.Tensor, torch.Tensor]] | None = None,
        schedule: str | Callable[[int], float] = "constant", warmup: int = 0, final_lr: float = 0.0,
        grad_clip: float | None = None, max_norm: Mapping[str, float] | None = None,
        hooks: Sequence[Callable] = (), drop_last: bool = False, eval_every: int = 1, eval_batch_size: int = 1024,
        progress: bool | None = None, stop_after: int | None = None) -> pd.DataFrame:  # fmt: skip
    """Train a classifier on in-memory tensors with mean cross-entropy.

    Parameters
    ----------
    model, optimizer
        The optimizer's learning rates are the schedule's base rates.
    train : (x, y)
        Inputs and int64 labels, already on the model's device and dtype.
    epochs, batch_size : int
    seed : int
        Fixes the batch order and dropout (and nothing outside this call).
    evals : mapping name -> (x, y), optional
        Evaluated (eval mode) after every ``eval_every``-th epoch and the last,
        giving ``{name}_loss`` and ``{name}_acc`` (NaN in the other rows).
    schedule, warmup, final_lr
        See :func:`lr_factor`; ``warmup`` counts steps.
    grad_clip : float, optional
        Clip the global gradient norm to this before each step.
    max_norm : mapping parameter name -> c, optional
        After each step, rows of that parameter with ‖w‖ > c are rescaled to c
        (Kim 2014: ``{"fc.weight": 3.0}``).
    hooks : callables ``hook(step, model, optimizer)``
        Called after each step; ``step`` counts from 1.
    drop_last : bool, default False
        Skip the last, smaller batch of each epoch.
    stop_after : int, optional
        Stop after this many epochs, the schedule still spanning ``epochs``:
        the first rows of the full run's history, bit for bit (used to re-check
        a committed run cheaply, :func:`wdlib.recheck.recheck`).

    Returns
    -------
    pandas.DataFrame
        One row per epoch: ``epoch``, ``step``, ``lr`` (at the epoch's last step),
        ``train_loss`` and ``train_acc`` (running means over the epoch's batches,
        in train mode), then ``{name}_loss``/``{name}_acc`` for each eval set.
        ``attrs["seconds"]`` holds the wall time (not a column, so that histories
        of equal runs compare equal).

    Examples
    --------
    >>> from wdlib.models import build_model
    >>> x, y = torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,))
    >>> model = build_model("small_cnn", seed=0)
    >>> h = fit(model, make_optimizer(model, "sgd", lr=0.1), (x, y), epochs=2, batch_size=32, seed=0,
    ...         progress=False)
    >>> h.columns.tolist(), h["step"].tolist()
    (['epoch', 'step', 'lr', 'train_loss', 'train_acc'], [2, 4])
    """
    x, y = _check_pair(train, "train")
    evals = {name: _check_pair(pair, f"evals[{name!r}]") for name, pair in (evals or {}).items()}
    epochs, batch_size = _check_int(epochs, "epochs"), _check_int(batch_size, "batch_size")
    seed, eval_every = _check_int(seed, "seed", low=0), _check_int(eval_every, "eval_every")
    last = epochs if stop_after is None else min(epochs, _check_int(stop_after, "stop_after"))
    n = len(x)
    per_epoch = n // batch_size if drop_last else math.ceil(n / batch_size)
    if per_epoch == 0:
        raise ValueError(f"batch_size {batch_size} > {n} examples with drop_last=True leaves no batch")
    stepper = _Stepper(model, optimizer, total=epochs * per_epoch, schedule=schedule, warmup=warmup,
                       final_lr=final_lr, grad_clip=grad_clip, max_norm=max_norm, hooks=hooks)  # fmt: skip
    rows, start = [], time.perf_counter()
    order = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]), _progress(epochs * per_epoch, progress, "fit") as bar:
        torch.manual_seed(seed)
        for epoch in range(1, epochs + 1):
            model.train()
            perm = torch.randperm(n, generator=order)
            loss_sum, correct = torch.zeros((), dtype=torch.float64), torch.zeros((), dtype=torch.long)
            seen = 0
            for b in range(per_epoch):
                idx = perm[b * batch_size: (b + 1) * batch_size]
                xb, yb = x[idx], y[idx]
                logits = model(xb)
                loss = F.cross_entropy(logits, yb)
                stepper(loss)
                with torch.no_grad():
                    loss_sum += loss.detach().double() * len(idx)
                    correct += (logits.argmax(1) == yb).sum()
                seen += len(idx)
                bar.update()
            row = {"epoch": epoch, "step": stepper.step, "lr": stepper.lr,
                   "train_loss": float(loss_sum) / seen, "train_acc": int(correct) / seen}  # fmt: skip
            for name, (ex, ey) in evals.items():
                if epoch % eval_every == 0 or epoch == epochs:
                    metrics = evaluate(model, ex, ey, batch_size=eval_batch_size)
                else:
                    metrics = {"loss": math.nan, "acc": math.nan}
                row[f"{name}_loss"], row[f"{name}_acc"] = metrics["loss"], metrics["acc"]
            rows.append(row)
            bar.set_postfix(loss=f"{row['train_loss']:.3f}")
            if epoch == last:
                break
    history = pd.DataFrame(rows)
    history.attrs.update(seconds=time.perf_counter() - start, **numerics(model))
    return history


def _windows(tokens: torch.Tensor, batch_size: int, block_size: int, generator: torch.Generator):
    starts = torch.randint(len(tokens) - block_size, (batch_size,), generator=generator)
    offsets = torch.arange(block_size)
    idx = starts[:, None] + offsets
    return tokens[idx], tokens[idx + 1]


@torch.no_grad()
def _lm_loss(model, tokens, batches: int, batch_size: int, block_size: int, generator) -> float:
    was_training = model.training
    model.eval()
    try:
        total = 0.0
        for _ in range(batches):
            xb, yb = _windows(tokens, batch_size, block_size, generator)
            total += float(F.cross_entropy(model(xb).flatten(0, 1), yb.flatten()))
    finally:
        model.train(was_training)
    return total / batches


def fit_lm(model: nn.Module, optimizer: torch.optim.Optimizer, train: torch.Tensor, val: torch.Tensor, *,
           steps: int, batch_size: int, block_size: int, seed: int, eval_every: int = 100, eval_batches: int = 20,
           schedule: str | Callable[[int], float] = "constant", warmup: int = 0, final_lr: float = 0.0,
           grad_clip: float | None = 1.0, hooks: Sequence[Callable] = (),
           progress: bool | None = None, stop_after: int | None = None) -> pd.DataFrame:  # fmt: skip
    """Train a next-token model on random ``block_size`` windows of a 1-D token tensor (nanoGPT's loop).

    Every ``eval_every`` steps (and at the end), the mean loss over
    ``eval_batches`` random batches of ``train`` and of ``val`` is measured in
    eval mode, from a generator seeded afresh each time so every evaluation
    uses the same windows (nanoGPT's ``estimate_loss``).  ``stop_after``
    stops after that many steps, the schedule still spanning ``steps`` (see
    :func:`fit`).

    Returns
    -------
    pandas.DataFrame
        One row per evaluation: ``step``, ``lr``, ``train_loss``, ``val_loss``
        (``attrs["seconds"]``: wall time).
    """
    for name, t in (("train", train), ("val", val)):
        if not isinstance(t, torch.Tensor) or t.dim() != 1:
            raise ValueError(f"{name} must be a 1-D tensor of token ids")
        if len(t) <= block_size:
            raise ValueError(f"{name} has {len(t)} tokens; it needs more than block_size={block_size}")
    steps, batch_size = _check_int(steps, "steps"), _check_int(batch_size, "batch_size")
    block_size, eval_every = _check_int(block_size, "block_size"), _check_int(eval_every, "eval_every")
    eval_batches, seed = _check_int(eval_batches, "eval_batches"), _check_int(seed, "seed", low=0)
    last = steps if stop_after is None else min(steps, _check_int(stop_after, "stop_after"))
    stepper = _Stepper(model, optimizer, total=steps, schedule=schedule, warmup=warmup, final_lr=final_lr,
                       grad_clip=grad_clip, max_norm=None, hooks=hooks)  # fmt: skip
    rows, start = [], time.perf_counter()
    draw = torch.Generator().manual_seed(seed)

    def measure():
        ev = torch.Generator().manual_seed(seed + 1)
        rows.append({"step": stepper.step, "lr": stepper.lr,
                     "train_loss": _lm_loss(model, train, eval_batches, batch_size, block_size, ev),
                     "val_loss": _lm_loss(model, val, eval_batches, batch_size, block_size, ev)})  # fmt: skip

    with torch.random.fork_rng(devices=[]), _progress(steps, progress, "fit_lm") as bar:
        torch.manual_seed(seed)
        model.train()
        for s in range(last):
            xb, yb = _windows(train, batch_size, block_size, draw)
            stepper(F.cross_entropy(model(xb).flatten(0, 1), yb.flatten()))
            bar.update()
            if (s + 1) % eval_every == 0 or s + 1 == steps:
                measure()
                bar.set_postfix(val=f"{rows[-1]['val_loss']:.3f}")
    history = pd.DataFrame(rows)
    history.attrs.update(seconds=time.perf_counter() - start, **numerics(model))
    return history
