"""Training throughput on this machine: :func:`wdlib.train.fit` before and after, against the best bare loop.

For each model, one epoch (the transformer: ``--lm-steps`` steps) of SGD with
momentum and weight decay (AdamW for the text models), measured in the same
process, interleaved ``--repeat`` times (the table gives the median):

``fit float32``
    :func:`wdlib.train.fit` as in wdlib 0.2: ``precision="float32"``,
    ``memory_format="contiguous"`` (the run configurations' default, which
    every committed result used).
``fit auto``
    :func:`wdlib.train.fit` at its defaults (``"auto"``: bfloat16 autocast where
    this CPU has it natively, channels_last for conv nets).
``bare float32``
    forward, backward and step over batches sliced beforehand, nothing else,
    in float32, contiguous: the ceiling for ``fit float32``.
``bare bf16``
    the same bare loop with bfloat16 autocast (and channels_last for conv
    nets), whether or not ``auto`` would pick it.

``vs best bare`` divides by the faster of the two bare loops: the best this
CPU reaches, the ceiling for ``fit auto``.

Models: the small CNN (conv32–conv64–fc128) without and with BatchNorm and a
ResNet-8 (width 16, BatchNorm) on 28×28 Fashion-MNIST images (images/s);
TextCNN at Kim's sizes on random sentences of 60 tokens (sentences/s); the
character transformer (4 layers × 128, block 128, batch 32; tokens/s).
``vs fit float32`` is the ratio to that row of the same model in the same run.  ``--dataloader`` adds the usual ``DataLoader`` loop
for the small CNN; ``--stack K`` adds K small CNNs trained at once under
``torch.func.vmap`` (images/s per model).

Run: ``python -m wdlib.benchmarks throughput [--images 4096] [--batch-size 128]
[--repeat 3] [--threads N] [--models small_cnn,small_cnn_bn,resnet8,textcnn,transformer]
[--dataloader] [--stack K] [--csv out.csv]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import pandas as pd
import torch
import torch.nn.functional as F

from .. import data
from ..models import build_model
from ..train import _computing, bf16_native, fit, fit_lm, make_optimizer, resolve_numerics

__all__ = ["MODELS", "main", "run"]

_LR, _WD = 0.05, 5e-4


@dataclass(frozen=True)
class _Bench:
    """One model of the table: how to build it, its optimizer, its data and the unit of work."""

    build: Callable[[], torch.nn.Module]
    optimizer: str
    unit: str
    lm: bool = False


MODELS: dict[str, tuple[str, _Bench]] = {
    "small_cnn": ("small CNN", _Bench(lambda: build_model("small_cnn", seed=0), "sgd", "images/s")),
    "small_cnn_bn": ("small CNN + BN", _Bench(lambda: build_model("small_cnn", seed=0, batchnorm=True), "sgd",
                                              "images/s")),
    "resnet8": ("ResNet-8, width 16, BN", _Bench(lambda: build_model("resnet", seed=0, depth=8, width=16), "sgd",
                                                 "images/s")),
    "textcnn": ("TextCNN (Kim), 300-d", _Bench(lambda: build_model("textcnn", seed=0, vocab_size=18767), "adamw",
                                               "sentences/s")),
    "transformer": ("char transformer 4×128", _Bench(
        lambda: build_model("char_transformer", seed=0, vocab_size=65, block_size=128, n_layer=4, n_head=4,
                            n_embd=128), "adamw", "tokens/s", lm=True)),
}  # fmt: skip


def _optimizer(model, name):
    if name == "sgd":
        return make_optimizer(model, "sgd", lr=_LR, weight_decay=_WD)
    return make_optimizer(model, "adamw", lr=1e-3, weight_decay=1e-2)


def _bare(bench: _Bench, batches, precision: str, memory_format: str) -> float:
    """Seconds for forward/backward/step over pre-made batches, nothing else."""
    model = bench.build()
    opt = _optimizer(model, bench.optimizer)
    channels_last = memory_format == "channels_last"
    if channels_last:
        model.to(memory_format=torch.channels_last)
        batches = [(xb.contiguous(memory_format=torch.channels_last), yb) for xb, yb in batches]
    device = torch.device("cpu")
    start = time.perf_counter()
    for xb, yb in batches:
        with _computing(device, precision):
            logits = model(xb).float()
        loss = F.cross_entropy(logits.flatten(0, 1), yb.flatten()) if bench.lm else F.cross_entropy(logits, yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return time.perf_counter() - start


def _fit(bench: _Bench, inputs, batch_size: int, precision: str, memory_format: str, steps: int = 0) -> float:
    model = bench.build()
    opt = _optimizer(model, bench.optimizer)
    start = time.perf_counter()
    if bench.lm:
        tokens = inputs
        fit_lm(model, opt, tokens, tokens[-10_000:], steps=steps, batch_size=batch_size, block_size=128, seed=0,
               eval_every=10**9, eval_batches=1, grad_clip=None, progress=False, precision=precision)  # fmt: skip
        return time.perf_counter() - start
    fit(model, opt, inputs, epochs=1, batch_size=batch_size, seed=0, progress=False, precision=precision,
        memory_format=memory_format)  # fmt: skip
    return time.perf_counter() - start


def _dataloader(bench: _Bench, dataset, batch_size: int) -> float:
    model = bench.build()
    opt = _optimizer(model, bench.optimizer)
    start = time.perf_counter()
    for xb, yb in torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True):
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(xb), yb).backward()
        opt.step()
    return time.perf_counter() - start


def _stacked(x, y, bs, k):
    """K small CNNs (λ spread over a grid) as one vmapped functional model; plain SGD + L2, float32."""
    from torch.func import functional_call, grad, stack_module_state, vmap

    models = [build_model("small_cnn", seed=i) for i in range(k)]
    params, _ = stack_module_state(models)
    base = models[0].to("meta")
    lams = torch.logspace(-5, -2, k)

    def loss(p, xb, yb):
        return F.cross_entropy(functional_call(base, p, (xb,)), yb)

    step_grad = vmap(grad(loss), in_dims=(0, None, None))
    batches = [(x[i: i + bs], y[i: i + bs]) for i in range(0, len(x), bs)]
    start = time.perf_counter()
    with torch.no_grad():
        for xb, yb in batches:
            g = step_grad(params, xb, yb)
            for name, p in params.items():
                decay = lams.view(-1, *[1] * (p.dim() - 1)) if p.dim() > 2 else 0.0
                p.sub_(_LR * (g[name] + decay * p))
    return (time.perf_counter() - start) / k  # seconds per model


def _inputs(key: str, images: int, batch_size: int, lm_steps: int):
    """(data for fit, pre-made batches for the bare loop, units of work per pass)."""
    g = torch.Generator().manual_seed(0)
    if key == "textcnn":
        n = max(images // 4, 200)
        x, y = torch.randint(2, 18767, (n, 60), generator=g), torch.randint(0, 2, (n,), generator=g)
        bs = 50  # Kim's batch size
        return (x, y), [(x[i: i + bs], y[i: i + bs]) for i in range(0, n, bs)], n, bs
    if key == "transformer":
        tokens = torch.randint(0, 65, (200_000,), generator=g)
        bs, block = 32, 128
        starts = torch.randint(len(tokens) - block - 1, (lm_steps, bs), generator=g)
        idx = starts[..., None] + torch.arange(block)
        batches = [(tokens[i], tokens[i + 1]) for i in idx]
        return tokens, batches, lm_steps * bs * block, bs
    x, y = data.load_fashion_mnist("train")
    x, y = x[:images].contiguous(), y[:images].contiguous()
    return (x, y), [(x[i: i + batch_size], y[i: i + batch_size]) for i in range(0, len(x), batch_size)], images, \
        batch_size


def run(models: list[str] | None = None, images: int = 4096, batch_size: int = 128, repeat: int = 3,
        lm_steps: int = 20, dataloader: bool = False, stack: int = 0) -> pd.DataFrame:  # fmt: skip
    """The table (see the module docstring): one row per model and method.

    Parameters
    ----------
    models : list of str, optional
        Keys of :data:`MODELS` (default: all).
    images, batch_size : int
        Images per pass for the image models (TextCNN: a quarter, in sentences
        of batch 50) and their batch size.
    repeat : int
        Interleaved repetitions (the median is reported).
    lm_steps : int
        Transformer steps per pass.
    dataloader : bool
        Add the DataLoader loop (small CNN).
    stack : int
        Add K small CNNs trained at once (small CNN; 0: no).
    """
    rows = []
    for key in models or list(MODELS):
        if key not in MODELS:
            raise ValueError(f"unknown benchmark model {key!r}; choose from {', '.join(MODELS)}")
        label, bench = MODELS[key]
        inputs, batches, units, bs = _inputs(key, images, batch_size, lm_steps)
        auto = resolve_numerics(bench.build(), "auto", "auto")
        bf16 = ("bfloat16", "channels_last" if auto[1] == "channels_last" else "contiguous")
        methods = {
            "fit float32": partial(_fit, bench, inputs, bs, "float32", "contiguous", lm_steps),
            "fit auto": partial(_fit, bench, inputs, bs, "auto", "auto", lm_steps),
            "bare float32": partial(_bare, bench, batches, "float32", "contiguous"),
            "bare bf16": partial(_bare, bench, batches, *bf16),
        }
        settings = {"fit float32": "float32, contiguous", "fit auto": ", ".join(auto),
                    "bare float32": "float32, contiguous", "bare bf16": ", ".join(bf16)}  # fmt: skip
        if key == "small_cnn" and dataloader:
            root = tempfile.mkdtemp()
            dataset = torch.utils.data.Subset(data.fashion_mnist_torchvision(root, "train"), range(images))
            methods["DataLoader"] = partial(_dataloader, bench, dataset, batch_size)
            settings["DataLoader"] = "float32, contiguous"
        if key == "small_cnn" and stack:
            methods[f"stacked ×{stack}"] = partial(_stacked, *inputs, batch_size, stack)
            settings[f"stacked ×{stack}"] = "float32, contiguous"
        _bare(bench, batches[:3], *bf16)  # warm-up: first-call allocations and kernel selection
        _bare(bench, batches[:3], "float32", "contiguous")
        times = {m: [] for m in methods}
        for _ in range(repeat):
            for name, f in methods.items():
                times[name].append(f())
        rate = {m: units / statistics.median(t) for m, t in times.items()}
        best = max(rate["bare float32"], rate["bare bf16"])
        for m, r in rate.items():
            rows.append({"model": label, "method": m, "settings": settings[m], "unit": bench.unit, "rate": r,
                         "vs_fit_float32": r / rate["fit float32"], "vs_best_bare": r / best})  # fmt: skip
    return pd.DataFrame(rows)


def _header(threads: int) -> str:
    from ..sweep import _cpu_model

    return (f"# training throughput | {_cpu_model()} | torch {torch.__version__}, capability "
            f"{torch.backends.cpu.get_cpu_capability()}, native bf16: {bf16_native('cpu')} | {threads} threads | "
            f"{platform.machine()}, {os.cpu_count()} CPUs")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wdlib.benchmarks throughput", description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=4096, help="images per epoch (TextCNN: a quarter, sentences)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lm-steps", type=int, default=20, help="transformer steps per pass")
    parser.add_argument("--repeat", type=int, default=3, help="median of this many interleaved runs")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--models", default=",".join(MODELS), help=f"comma-separated, from {','.join(MODELS)}")
    parser.add_argument("--dataloader", action="store_true", help="add the DataLoader loop (small CNN)")
    parser.add_argument("--stack", type=int, default=0, help="also train K small CNNs at once with torch.func")
    parser.add_argument("--csv", help="also write the table to this CSV file")
    args = parser.parse_args(argv)
    for name in ("images", "batch_size", "repeat", "lm_steps"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.stack < 0 or (args.threads is not None and args.threads < 1):
        parser.error("--stack must be >= 0 and --threads >= 1")
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        parser.error(f"unknown --models {unknown}; choose from {', '.join(MODELS)}")
    if args.threads:
        torch.set_num_threads(args.threads)
    print(_header(torch.get_num_threads()), flush=True)
    df = run(models, args.images, args.batch_size, args.repeat, args.lm_steps, args.dataloader, args.stack)
    with pd.option_context("display.width", 160, "display.max_colwidth", 40, "display.float_format",
                           "{:,.3g}".format):  # fmt: skip
        print(df.to_string(index=False))
    print("\nrate: units/s (median of --repeat); vs_fit_float32 = rate ÷ wdlib 0.2's fit (float32, contiguous); "
          "vs_best_bare = rate ÷ the faster bare loop (same run, same model)")
    if args.csv:
        df.to_csv(args.csv, index=False)
    return 0
