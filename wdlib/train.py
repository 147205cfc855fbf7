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
- compute in ``precision`` (``"bfloat16"``: autocast, with float32 weights,
  optimizer state and weight-decay arithmetic) and ``memory_format``
  (``"channels_last"`` for conv nets), by default the fastest that keeps
  float32 weights on this device (:func:`resolve_numerics`), recorded in the
  history's ``attrs`` with the device (:func:`numerics`);
- run on the model's device (CPU or CUDA): move the model and the tensors
  there once, before the call; the loop is the same code;
- show a text progress bar (:func:`show_progress` decides when).

Measured with ``python -m wdlib.benchmarks throughput`` (2 threads, batch
128, two runs): channels_last with bf16 autocast trains the small CNN 2.7–2.9×,
the small CNN + BatchNorm 2.3–2.8× and a ResNet-8 2.5× faster than float32 in
the default layout on an Intel Xeon with AMX (TextCNN 1.2–1.4×); where bf16 is emulated (no
``avx512_bf16``/``amx_bf16``) it is *slower* than float32, and it slows the
character transformer down, so ``"auto"`` picks float32 there
(:func:`resolve_numerics`).

:func:`make_optimizer` builds the four optimizers the book compares from one
canonical λ, with :func:`wdlib.decay.param_groups` deciding what is decayed.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from ._checks import integer as _check_int
from ._checks import number as _check_number
from .decay import max_norm_, param_groups
from .optim import SGDW
from .progress import bar as _bar
from .progress import progress_default, show_progress

__all__ = ["EVAL_SETS", "MEMORY_FORMATS", "OPTIMIZERS", "PRECISIONS", "SCHEDULES", "OptimizerSpec", "RandomCropFlip", "bf16_native",
           "best_epoch", "default_device", "epochs_with_patience", "evaluate", "fit", "predict", "fit_lm", "lm_eval_starts", "lr_factor", "make_optimizer", "numerics", "progress_default", "resolve_numerics",
           "show_progress"]

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
#: ``eval_set`` values of :func:`fit_lm`: windows drawn from the run's seed, or fixed windows shared by every run.
EVAL_SETS = ("seeded", "fixed")


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


#: ``precision`` values: ``"float32"`` everywhere, or bfloat16 autocast (float32 weights, optimizer state and decay).
PRECISIONS = ("float32", "bfloat16")
#: ``memory_format`` values: channels_last applies to 4-D image batches and conv nets.
MEMORY_FORMATS = ("contiguous", "channels_last")


@functools.lru_cache(maxsize=1)
def _cpu_flags() -> frozenset[str]:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.lower().startswith(("flags", "features")):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def bf16_native(device: str | torch.device = "cpu") -> bool:
    """Whether ``device`` computes bfloat16 in hardware, so that bf16 autocast speeds training up.

    CPU: the ``avx512_bf16`` or ``amx_bf16`` flags (x86) or ``bf16`` (Arm) in
    ``/proc/cpuinfo``, unless ``ONEDNN_MAX_CPU_ISA`` caps oneDNN below them;
    elsewhere (no ``/proc``) False.  CUDA: ``torch.cuda.is_bf16_supported``
    without emulation (Ampere and later).

    >>> isinstance(bf16_native("cpu"), bool)
    True
    """
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported(including_emulation=False)
    if device.type != "cpu":
        return False
    cap = (os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA") or "").upper()
    if cap and cap not in ("ALL", "DEFAULT") and "BF16" not in cap and "AMX" not in cap:
        return False
    return bool({"avx512_bf16", "amx_bf16", "bf16"} & _cpu_flags())


def default_device() -> str:
    """The device the run functions use: ``$WDLIB_DEVICE`` (``cpu``, ``cuda``, ``cuda:1``, ``auto``), else ``cpu``.

    ``auto`` is CUDA when torch sees a GPU.  ``python -m wdlib.sweep … --device``
    sets the variable for its workers.  Asking for CUDA without one is an error.
    """
    name = os.environ.get("WDLIB_DEVICE", "cpu").strip() or "cpu"
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ValueError(f"WDLIB_DEVICE={name!r} is not a device; use cpu, cuda, cuda:N or auto") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"WDLIB_DEVICE={name!r} but torch {torch.__version__} sees no CUDA GPU; "
                         "use cpu (or auto to take a GPU only when there is one)")
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"WDLIB_DEVICE={name!r}: wdlib runs on cpu or cuda")
    return str(device)


def _convolutions(model: nn.Module) -> tuple[bool, bool]:
    """Whether ``model`` has any convolution (1-D or 2-D), and whether it has a 2-D one."""
    kinds = [m for m in model.modules() if isinstance(m, (nn.Conv1d, nn.Conv2d))]
    return bool(kinds), any(isinstance(m, nn.Conv2d) for m in kinds)


_WARNED_EMULATED: set[str] = set()


def resolve_numerics(model: nn.Module, precision: str = "auto", memory_format: str = "auto") -> tuple[str, str]:
    """The ``(precision, memory_format)`` that :func:`fit` and :func:`fit_lm` use for ``model`` on its device.

    ``"auto"`` is the fastest choice measured (``python -m wdlib.benchmarks
    throughput``): ``"bfloat16"`` autocast for a model with convolutions on a
    device where :func:`bf16_native`, else ``"float32"`` — bf16 trains the conv
    nets 1.4–2.8× faster on two native-bf16 CPUs (AMD Zen 4, Intel AMX), but
    the character transformer 0.7–0.8× as fast on one of them (the per-call
    casts of many small matrices cost more than they save); ``"channels_last"``
    for a model with a ``Conv2d``, else ``"contiguous"``.  An explicit
    ``"bfloat16"`` on a device that only emulates it is honoured (the numbers
    are what was asked for) with a warning that it will be slower than float32
    there.

    Parameters
    ----------
    model : nn.Module
        On the device it will train on.
    precision : {"auto", "float32", "bfloat16"}, default "auto"
    memory_format : {"auto", "contiguous", "channels_last"}, default "auto"

    Returns
    -------
    (str, str)
        The precision and the memory format.

    Examples
    --------
    >>> resolve_numerics(nn.Linear(2, 1), "float32", "auto")
    ('float32', 'contiguous')
    """
    if precision not in ("auto", *PRECISIONS):
        raise ValueError(f"precision must be 'auto' or one of {', '.join(map(repr, PRECISIONS))}; got {precision!r}")
    if memory_format not in ("auto", *MEMORY_FORMATS):
        raise ValueError(f"memory_format must be 'auto' or one of {', '.join(map(repr, MEMORY_FORMATS))}; "
                         f"got {memory_format!r}")
    device = next(model.parameters()).device
    native = bf16_native(device)
    convolutional, conv = _convolutions(model)
    if precision == "auto":
        precision = "bfloat16" if native and convolutional else "float32"
    elif precision == "bfloat16" and not native and str(device) not in _WARNED_EMULATED:
        _WARNED_EMULATED.add(str(device))
        warnings.warn(f"precision='bfloat16' on {device}, which has no native bfloat16 (no avx512_bf16/amx_bf16): "
                      "it is emulated and slower than float32 here; precision='auto' picks float32 on such machines",
                      RuntimeWarning, stacklevel=3)  # fmt: skip
    if memory_format == "auto":
        memory_format = "channels_last" if conv else "contiguous"
    elif memory_format == "channels_last" and not conv:
        raise ValueError("memory_format='channels_last' applies to conv nets (nn.Conv2d on 4-D images); "
                         f"{type(model).__name__} has none: use 'contiguous' or 'auto'")
    return precision, memory_format


def numerics(model: nn.Module, precision: str | None = None, memory_format: str | None = None) -> dict[str, str]:
    """Where and how ``model`` computes: ``device`` (``"cpu"`` or ``"cuda:<name>"``), ``precision``, ``memory_format``.

    ``precision`` defaults to the parameters' dtype; :func:`fit` and
    :func:`fit_lm` pass what they used and put the result in their history's
    ``attrs``: part of a run's provenance (:data:`wdlib.sweep.NUMERICS`).

    Parameters
    ----------
    model : nn.Module
    precision : str, optional
        What the run computed in; default: the parameters' dtype.
    memory_format : str, optional
        Default ``"contiguous"``.

    Examples
    --------
    >>> numerics(nn.Linear(2, 1))
    {'device': 'cpu', 'precision': 'float32', 'memory_format': 'contiguous'}
    """
    p = next(model.parameters())
    device = f"cuda:{torch.cuda.get_device_name(p.device)}" if p.device.type == "cuda" else str(p.device)
    return {"device": device, "precision": precision or str(p.dtype).removeprefix("torch."),
            "memory_format": memory_format or "contiguous"}


@contextlib.contextmanager
def _computing(device: torch.device, precision: str) -> Iterator[None]:
    """bfloat16 autocast, or float32 that is float32 on CUDA too (no TF32 convolutions or matmuls)."""
    if precision == "bfloat16":
        with torch.autocast(device.type, dtype=torch.bfloat16):
            yield
    elif device.type == "cuda":
        saved = (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32)
        torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
        try:
            yield
        finally:
            torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved
    else:
        yield


def _rng_devices(device: torch.device) -> list:
    return [device.index if device.index is not None else torch.cuda.current_device()] if device.type == "cuda" else []


def _check_pair(pair, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    try:
        x, y = pair
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (inputs, labels) of tensors") from None
    if not (isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor)) or len(x) != len(y) or len(x) == 0:
        raise ValueError(f"{name} must be a pair of non-empty tensors of the same length; got lengths "
                         f"{len(x) if hasattr(x, '__len__') else '?'} and {len(y) if hasattr(y, '__len__') else '?'}")
    return x, y


#: Offset of the augmentation's random stream from the run's seed (kept apart from the batch order's).
_AUGMENT_STREAM = 1 << 40


class RandomCropFlip:
    """Random crops of zero-padded images and random horizontal flips, per image, on the batch's device.

    The standard CIFAR augmentation (He et al. 2016): pad each side by ``pad``
    pixels, cut a window of the original size at a random offset, and mirror it
    left–right with probability ½ when ``flip``.  Offsets and flips are drawn
    from the ``generator`` that :func:`fit` passes (on the CPU, so a run's
    augmentation does not depend on the device).

    Parameters
    ----------
    pad : int, default 2
        Pixels of zero padding on each side (shifts of up to ``pad`` pixels).
    flip : bool, default True
        Mirror half of the images.

    Examples
    --------
    >>> aug = RandomCropFlip(pad=1, flip=False)
    >>> x = torch.arange(9.).reshape(1, 1, 3, 3)
    >>> out = aug(x, torch.Generator().manual_seed(0))
    >>> out.shape, set(out.flatten().tolist()) <= set(range(9)) | {0.0}
    (torch.Size([1, 1, 3, 3]), True)
    """

    def __init__(self, pad: int = 2, flip: bool = True):
        self.pad = _check_int(pad, "pad", low=0)
        if not isinstance(flip, bool):
            raise TypeError(f"flip must be True or False, got {flip!r}")
        self.flip = flip

    def __repr__(self) -> str:
        return f"RandomCropFlip(pad={self.pad}, flip={self.flip})"

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        if x.dim() != 4:
            raise ValueError(f"RandomCropFlip needs image batches (N, C, H, W); got shape {tuple(x.shape)}")
        n, c, h, w = x.shape
        p = self.pad
        dy = torch.randint(0, 2 * p + 1, (n, 1), generator=generator)
        dx = torch.randint(0, 2 * p + 1, (n, 1), generator=generator)
        rows = dy + torch.arange(h)
        cols = dx + torch.arange(w)
        if self.flip:
            mirrored = torch.rand(n, generator=generator) < 0.5
            cols = torch.where(mirrored[:, None], cols.flip(1), cols)
        rows, cols = rows.to(x.device), cols.to(x.device)
        padded = F.pad(x, (p, p, p, p)) if p else x
        i = torch.arange(n, device=x.device)[:, None, None, None]
        ch = torch.arange(c, device=x.device)[None, :, None, None]
        return padded[i, ch, rows[:, None, :, None], cols[:, None, None, :]]


def _batch(x: torch.Tensor, memory_format: str) -> torch.Tensor:
    return x.contiguous(memory_format=torch.channels_last) if memory_format == "channels_last" else x


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, batch_size: int = 1024,
             precision: str = "float32", memory_format: str = "contiguous") -> dict[str, float]:  # fmt: skip
    """Mean cross-entropy ``loss`` and accuracy ``acc`` of ``model`` (in eval mode) on ``(x, y)``.

    The loss is summed in float64; the model's train/eval mode is restored
    afterwards.

    Parameters
    ----------
    model : nn.Module
    x, y : torch.Tensor
        Inputs and int64 labels, on the model's device.
    batch_size : int, default 1024
    precision, memory_format : str
        As in :func:`fit` (which evaluates in the ones it trains in).
    """
    x, y = _check_pair((x, y), "(x, y)")
    device = next(model.parameters()).device
    total, correct = torch.zeros((), dtype=torch.float64, device=device), torch.zeros((), dtype=torch.long,
                                                                                      device=device)  # fmt: skip
    for i, logits in _batched_logits(model, x, batch_size, precision, memory_format):
        target = y[i: i + batch_size]
        total += F.cross_entropy(logits, target, reduction="sum").double()
        correct += (logits.argmax(1) == target).sum()
    return {"loss": float(total) / len(x), "acc": int(correct) / len(x)}


def _batched_logits(model, x, batch_size, precision, memory_format):
    """``(start, float32 logits)`` of each batch of ``x``, the model in eval mode (its mode restored after)."""
    _check_int(batch_size, "batch_size")
    precision, memory_format = resolve_numerics(model, precision, memory_format)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        for i in range(0, len(x), batch_size):
            with _computing(device, precision):
                logits = model(_batch(x[i: i + batch_size], memory_format)).float()
            yield i, logits
    finally:
        model.train(was_training)


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, *, batch_size: int = 1024, precision: str = "float32",
            memory_format: str = "contiguous") -> torch.Tensor:  # fmt: skip
    """The float32 logits of ``model`` (in eval mode, restored afterwards) on ``x``, batch by batch.

    Parameters
    ----------
    model : nn.Module
    x : torch.Tensor
        Inputs on the model's device.
    batch_size : int, default 1024
    precision, memory_format : str
        As in :func:`fit`.
    """
    return torch.cat([logits for _, logits in _batched_logits(model, x, batch_size, precision, memory_format)])


def best_epoch(values, *, higher: bool = True, ties: str = "first") -> int:
    """The 0-based position of the best of the per-epoch ``values`` (the epoch a run reports).

    Parameters
    ----------
    values : sequence of float
        The monitored metric after each epoch.
    higher : bool, default True
        Whether a larger value is better (accuracy) or a smaller one (loss).
    ties : {"first", "last"}, default "first"
        Which of several equal best values wins: the first (this library's
        runs) or the last (Kim's (2014) code keeps a later epoch whose dev
        accuracy equals the best).

    >>> best_epoch([0.70, 0.72, 0.71, 0.72]), best_epoch([0.70, 0.72, 0.71, 0.72], ties="last")
    (1, 3)
    >>> best_epoch([0.9, 0.5, 0.7], higher=False)
    1
    """
    if ties not in ("first", "last"):
        raise ValueError(f"ties must be 'first' or 'last'; got {ties!r}")
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        raise ValueError("best_epoch: values is empty; give the metric after each epoch")
    v = v if higher else -v
    return int(v.argmax()) if ties == "first" else int(v.size - 1 - v[::-1].argmax())


def epochs_with_patience(values, patience: int, *, higher: bool = True) -> int:
    """How many epochs of the per-epoch ``values`` a run with early stopping trains.

    The run stops after ``patience`` evaluated epochs (NaN values are not
    evaluated) without a better value than the best so far; without such a
    stretch it trains all of them.  :func:`fit` stops by this rule, and it
    replays the rule on a full run's history.

    Parameters
    ----------
    values : sequence of float
        The monitored metric after each epoch.
    patience : int
        Epochs without a better value that end the run.
    higher : bool, default True
        Whether a larger value is better (accuracy) or a smaller one (loss).

    >>> epochs_with_patience([0.70, 0.72, 0.71, 0.71, 0.73], 2)
    4
    >>> epochs_with_patience([0.70, 0.72, 0.71, 0.71, 0.73], 3)
    5
    """
    best, waited = -math.inf if higher else math.inf, 0
    for i, value in enumerate(values):
        if math.isnan(value):
            continue
        better = value > best if higher else value < best
        best, waited = (value, 0) if better else (best, waited + 1)
        if waited >= patience:
            return i + 1
    return len(values)


def fit(model: nn.Module, optimizer: torch.optim.Optimizer, train: tuple[torch.Tensor, torch.Tensor], *,
        epochs: int, batch_size: int, seed: int, evals: Mapping[str, tuple[torch.Tensor, torch.Tensor]] | None = None,
        schedule: str | Callable[[int], float] = "constant", warmup: int = 0, final_lr: float = 0.0,
        grad_clip: float | None = None, max_norm: Mapping[str, float] | None = None,
        hooks: Sequence[Callable] = (), drop_last: bool = False, eval_every: int = 1, eval_batch_size: int = 1024,
        progress: bool | None = None, stop_after: int | None = None, precision: str = "auto",
        memory_format: str = "auto", augment: Callable | None = None, patience: int | None = None,
        monitor: str = "dev_acc") -> pd.DataFrame:  # fmt: skip
    """Train a classifier on in-memory tensors with mean cross-entropy.

    Parameters
    ----------
    model, optimizer
        The optimizer's learning rates are the schedule's base rates.
    train : (x, y)
        Inputs and int64 labels, already on the model's device (moved there
        once: batches are sliced on the device) and in float32 or int64.
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
    precision : {"auto", "float32", "bfloat16"}, default "auto"
        ``"bfloat16"`` runs the forward pass under ``torch.autocast`` (the
        loss, weights, gradients' accumulation into float32 parameters,
        optimizer state and weight decay stay float32); ``"float32"`` is
        float32 throughout (on CUDA with TF32 turned off).  ``"auto"``:
        bfloat16 for conv nets where the device has it natively, else
        float32 (:func:`resolve_numerics`).
    memory_format : {"auto", "contiguous", "channels_last"}, default "auto"
        ``"channels_last"`` stores the model's 4-D weights and each image
        batch NHWC (values unchanged); ``"auto"`` picks it for conv nets.
    progress : bool, optional
        A text progress bar; default: :func:`show_progress`.
    augment : callable ``augment(x, generator) -> x``, optional
        Applied to each training batch (not to the evals), with a CPU
        ``torch.Generator`` seeded from ``seed`` (its own stream), e.g.
        :class:`RandomCropFlip`.
    patience : int, optional
        Early stopping: end the run after this many evaluated epochs without a
        better ``monitor`` than the best so far (the schedule still spans
        ``epochs``, so the rows are a prefix of the full run's).  ``None``:
        train every epoch.
    monitor : str, default "dev_acc"
        The history column ``patience`` watches, ``{name}_acc`` (higher is
        better) or ``{name}_loss`` (lower is better) of an eval set.

    Returns
    -------
    pandas.DataFrame
        One row per epoch: ``epoch``, ``step``, ``lr`` (at the epoch's last step),
        ``train_loss`` and ``train_acc`` (running means over the epoch's batches,
        in train mode), then ``{name}_loss``/``{name}_acc`` for each eval set.
        ``attrs`` hold the wall time (``seconds``; not a column, so that
        histories of equal runs compare equal) and :func:`numerics`
        (``device``, ``precision``, ``memory_format``).

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
    if patience is not None:
        patience = _check_int(patience, "patience")
        watched = [f"{name}_{m}" for name in evals for m in ("acc", "loss")]
        if monitor not in watched:
            raise ValueError(f"monitor must name an eval set's accuracy or loss ({', '.join(watched) or 'no evals given'}); "
                             f"got {monitor!r}")
    higher = monitor.endswith("_acc")
    n = len(x)
    per_epoch = n // batch_size if drop_last else math.ceil(n / batch_size)
    if per_epoch == 0:
        raise ValueError(f"batch_size {batch_size} > {n} examples with drop_last=True leaves no batch")
    precision, memory_format = resolve_numerics(model, precision, memory_format)
    device = next(model.parameters()).device
    off = [name for name, t in (("train", x), *((f"evals[{k!r}]", v[0]) for k, v in evals.items()))
           if t.device != device]  # fmt: skip
    if off:
        raise ValueError(f"{', '.join(off)} must be on the model's device ({device}); move them once with .to(device)")
    if memory_format == "channels_last":
        if x.dim() != 4:
            raise ValueError(f"memory_format='channels_last' needs 4-D image batches (N, C, H, W); train has {x.dim()} "
                             "dimensions: use 'contiguous'")
        model.to(memory_format=torch.channels_last)  # the same Parameter objects: the optimizer still holds them
    stepper = _Stepper(model, optimizer, total=epochs * per_epoch, schedule=schedule, warmup=warmup,
                       final_lr=final_lr, grad_clip=grad_clip, max_norm=max_norm, hooks=hooks)  # fmt: skip
    if augment is not None and not callable(augment):
        raise TypeError(f"augment must be a callable augment(x, generator) -> x (e.g. RandomCropFlip()); got {augment!r}")
    rows, start = [], time.perf_counter()
    order = torch.Generator().manual_seed(seed)
    augmenting = torch.Generator().manual_seed(_AUGMENT_STREAM + seed)
    with torch.random.fork_rng(devices=_rng_devices(device)), _bar(epochs * per_epoch, progress, "fit") as bar:
        torch.manual_seed(seed)
        for epoch in range(1, epochs + 1):
            model.train()
            perm = torch.randperm(n, generator=order).to(device)
            loss_sum = torch.zeros((), dtype=torch.float64, device=device)
            correct = torch.zeros((), dtype=torch.long, device=device)
            seen = 0
            for b in range(per_epoch):
                idx = perm[b * batch_size: (b + 1) * batch_size]
                xb, yb = x[idx], y[idx]
                if augment is not None:
                    xb = augment(xb, augmenting)
                xb = _batch(xb, memory_format)
                with _computing(device, precision):
                    logits = model(xb).float()
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
                    metrics = evaluate(model, ex, ey, batch_size=eval_batch_size, precision=precision,
                                       memory_format=memory_format)  # fmt: skip
                else:
                    metrics = {"loss": math.nan, "acc": math.nan}
                row[f"{name}_loss"], row[f"{name}_acc"] = metrics["loss"], metrics["acc"]
            rows.append(row)
            bar.set_postfix(loss=f"{row['train_loss']:.3f}")
            if epoch == last:
                break
            # a trailing NaN: "trains them all" (len + 1) is told apart from "stops after this epoch" (len)
            if patience is not None and epochs_with_patience([*(r[monitor] for r in rows), math.nan], patience,
                                                             higher=higher) == len(rows):
                break
    history = pd.DataFrame(rows)
    history.attrs.update(seconds=time.perf_counter() - start, **numerics(model, precision, memory_format))
    return history


def _windows(tokens: torch.Tensor, batch_size: int, block_size: int, generator: torch.Generator):
    starts = torch.randint(len(tokens) - block_size, (batch_size,), generator=generator)
    idx = (starts[:, None] + torch.arange(block_size)).to(tokens.device)
    return tokens[idx], tokens[idx + 1]


def lm_eval_starts(length: int, block_size: int, count: int | None = None) -> torch.Tensor:
    """Start positions of fixed evaluation windows over a token sequence of ``length`` tokens.

    Each window holds ``block_size`` inputs and their next tokens, so a start
    ``s`` needs ``s + block_size < length``.  Without ``count``: consecutive
    non-overlapping windows from 0 (every token of the split but the last
    partial window is predicted once); with ``count``: that many windows at
    evenly spaced starts over the whole sequence.  Neither depends on a seed,
    so every run is measured on the same windows.

    Parameters
    ----------
    length : int
        Tokens in the split.
    block_size : int
        Window length.
    count : int, optional
        Number of evenly spaced windows (default: all consecutive ones).

    Examples
    --------
    >>> lm_eval_starts(10, 3).tolist()
    [0, 3, 6]
    >>> lm_eval_starts(100, 9, count=3).tolist()
    [0, 45, 90]
    """
    length, block_size = _check_int(length, "length"), _check_int(block_size, "block_size")
    if length <= block_size:
        raise ValueError(f"a split of {length} tokens has no window of block_size={block_size} (and its targets)")
    last = length - block_size - 1  # the largest start: its targets end at the last token
    if count is None:
        return torch.arange(0, last + 1, block_size)
    count = _check_int(count, "count")
    return torch.linspace(0, last, count, dtype=torch.float64).round().long().unique_consecutive()


#: Windows per forward pass when measuring the loss on fixed windows (the value does not change the result's
#: meaning, only the summation order; it is fixed so that the bits do not depend on the caller).
_EVAL_CHUNK = 128


@torch.no_grad()
def _lm_fixed_loss(model, tokens, starts: torch.Tensor, block_size: int, precision: str) -> float:
    """Mean next-token loss over the windows at ``starts`` (every window's every position weighs the same)."""
    was_training = model.training
    model.eval()
    try:
        total = 0.0
        offsets = torch.arange(block_size)
        for chunk in starts.split(_EVAL_CHUNK):
            idx = (chunk[:, None] + offsets).to(tokens.device)
            with _computing(tokens.device, precision):
                logits = model(tokens[idx]).float()
            total += float(F.cross_entropy(logits.flatten(0, 1), tokens[idx + 1].flatten(), reduction="sum"))
    finally:
        model.train(was_training)
    return total / (len(starts) * block_size)


@torch.no_grad()
def _lm_loss(model, tokens, batches: int, batch_size: int, block_size: int, generator, precision: str) -> float:
    was_training = model.training
    model.eval()
    try:
        total = 0.0
        for _ in range(batches):
            xb, yb = _windows(tokens, batch_size, block_size, generator)
            with _computing(tokens.device, precision):
                logits = model(xb).float()
            total += float(F.cross_entropy(logits.flatten(0, 1), yb.flatten()))
    finally:
        model.train(was_training)
    return total / batches


def fit_lm(model: nn.Module, optimizer: torch.optim.Optimizer, train: torch.Tensor, val: torch.Tensor, *,
           steps: int, batch_size: int, block_size: int, seed: int, eval_every: int = 100, eval_batches: int = 20,
           schedule: str | Callable[[int], float] = "constant", warmup: int = 0, final_lr: float = 0.0,
           grad_clip: float | None = 1.0, hooks: Sequence[Callable] = (),
           progress: bool | None = None, stop_after: int | None = None, precision: str = "auto",
           eval_set: str = "seeded") -> pd.DataFrame:  # fmt: skip
    """Train a next-token model on random ``block_size`` windows of a 1-D token tensor (nanoGPT's loop).

    Every ``eval_every`` steps (and at the end), the loss on ``train`` and on
    ``val`` is measured in eval mode.  ``eval_set="seeded"``: the mean over
    ``eval_batches`` random batches drawn from a generator seeded from
    ``seed`` afresh each time, so that every evaluation of a run uses the same
    windows (nanoGPT's ``estimate_loss``) but runs with different seeds do
    not.  ``eval_set="fixed"``: windows that do not depend on the seed
    (:func:`lm_eval_starts`): the whole of ``val`` in consecutive windows, and
    as many windows of ``train`` at evenly spaced starts.  ``stop_after``
    stops after that many steps, the schedule still spanning ``steps`` (see
    :func:`fit`).

    Parameters
    ----------
    model, optimizer
        The optimizer's learning rates are the schedule's base rates.
    train, val : torch.Tensor
        1-D token ids on the model's device.
    steps, batch_size, block_size : int
        Optimizer steps; windows per batch and their length.
    seed : int
        Fixes the windows drawn and dropout.
    eval_every, eval_batches : int
        Evaluate every this many steps, on this many fixed batches.
    schedule, warmup, final_lr
        See :func:`lr_factor`.
    grad_clip : float or None, default 1.0
        Clip the global gradient norm before each step.
    hooks : callables ``hook(step, model, optimizer)``
    progress : bool, optional
    stop_after : int, optional
        As in :func:`fit`.
    precision : {"auto", "float32", "bfloat16"}, default "auto"
        As in :func:`fit`; ``"auto"`` is float32 for the transformer.
    eval_set : {"seeded", "fixed"}, default "seeded"
        Which windows the losses are measured on (see above).

    Returns
    -------
    pandas.DataFrame
        One row per evaluation: ``step``, ``lr``, ``train_loss``, ``val_loss``
        (``attrs``: wall time ``seconds`` and :func:`numerics`).
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
    precision, _ = resolve_numerics(model, precision, "contiguous")
    device = next(model.parameters()).device
    off = [name for name, t in (("train", train), ("val", val)) if t.device != device]
    if off:
        raise ValueError(f"{', '.join(off)} must be on the model's device ({device}); move them once with .to(device)")
    stepper = _Stepper(model, optimizer, total=steps, schedule=schedule, warmup=warmup, final_lr=final_lr,
                       grad_clip=grad_clip, max_norm=None, hooks=hooks)  # fmt: skip
    if eval_set not in EVAL_SETS:
        raise ValueError(f"unknown eval_set {eval_set!r}; choose one of {', '.join(map(repr, EVAL_SETS))}")
    rows, start = [], time.perf_counter()
    draw = torch.Generator().manual_seed(seed)
    if eval_set == "fixed":
        val_starts = lm_eval_starts(len(val), block_size)
        train_starts = lm_eval_starts(len(train), block_size, count=len(val_starts))

    def measure():
        if eval_set == "fixed":
            losses = {"train_loss": _lm_fixed_loss(model, train, train_starts, block_size, precision),
                      "val_loss": _lm_fixed_loss(model, val, val_starts, block_size, precision)}  # fmt: skip
        else:
            ev = torch.Generator().manual_seed(seed + 1)
            losses = {"train_loss": _lm_loss(model, train, eval_batches, batch_size, block_size, ev, precision),
                      "val_loss": _lm_loss(model, val, eval_batches, batch_size, block_size, ev, precision)}  # fmt: skip
        rows.append({"step": stepper.step, "lr": stepper.lr, **losses})

    with torch.random.fork_rng(devices=_rng_devices(device)), _bar(steps, progress, "fit_lm") as bar:
        torch.manual_seed(seed)
        model.train()
        for s in range(last):
            xb, yb = _windows(train, batch_size, block_size, draw)
            with _computing(device, precision):
                logits = model(xb).float()
            stepper(F.cross_entropy(logits.flatten(0, 1), yb.flatten()))
            bar.update()
            if (s + 1) % eval_every == 0 or s + 1 == steps:
                measure()
                bar.set_postfix(val=f"{rows[-1]['val_loss']:.3f}")
    history = pd.DataFrame(rows)
    history.attrs.update(seconds=time.perf_counter() - start, **numerics(model, precision, "contiguous"))
    return history
