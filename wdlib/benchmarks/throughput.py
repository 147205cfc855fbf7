"""Training throughput on this machine: :func:`wdlib.train.fit` against a bare loop and the usual DataLoader loop.

For the small CNN on Fashion-MNIST (with and without BatchNorm), one epoch
over the same ``--images`` training images, batch ``--batch-size``, SGD with
momentum and weight decay, in the same process:

``bare loop``
    forward, backward and step over batches sliced beforehand from in-memory
    tensors, nothing else: the ceiling.
``wdlib.fit``
    :func:`wdlib.train.fit`: a fresh index permutation per epoch, the
    learning-rate schedule, running loss and accuracy, no progress bar.
``DataLoader``
    what most PyTorch code does: ``torchvision.datasets.FashionMNIST`` with
    ``ToTensor()`` and ``DataLoader(shuffle=True)`` (main process, no workers).
``stacked ×K``
    ``--stack K`` models with different λ trained at once as one batched model
    (``torch.func.functional_call`` under ``vmap``), reported in images per
    second *per model*, so it pays if it beats ``bare loop``.
``batches only: ...``
    the input pipelines alone, without training: index-permutation slicing
    (what ``wdlib.fit`` does) and the ``DataLoader`` above.

Each method runs ``--repeat`` times, interleaved; the table gives the median
images/s and ratios to ``bare loop`` and ``DataLoader`` measured in that run.
``--text`` adds TextCNN (sentences/s at two embedding widths) and the character
transformer (ms per step), the figures that size chapter 6.

Run: ``python -m wdlib.benchmarks throughput [--images 6000] [--batch-size 128]
[--repeat 3] [--threads N] [--stack 4] [--text] [--csv out.csv]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from functools import partial

import pandas as pd
import torch
import torch.nn.functional as F

from .. import data
from ..models import build_model
from ..train import fit, fit_lm, make_optimizer

__all__ = ["main", "run_text", "run_vision"]

_LR, _WD = 0.05, 5e-4


def _train_on(batches, batchnorm):
    """Seconds for forward/backward/step over ``batches`` (pre-made tensors or a DataLoader), nothing else."""
    model = build_model("small_cnn", seed=0, batchnorm=batchnorm)
    opt = make_optimizer(model, "sgd", lr=_LR, weight_decay=_WD)
    start = time.perf_counter()
    for xb, yb in batches:
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(xb), yb).backward()
        opt.step()
    return time.perf_counter() - start


def _bare(x, y, bs, batchnorm):
    return _train_on([(x[i: i + bs], y[i: i + bs]) for i in range(0, len(x), bs)], batchnorm)


def _fit(x, y, bs, batchnorm):
    model = build_model("small_cnn", seed=0, batchnorm=batchnorm)
    opt = make_optimizer(model, "sgd", lr=_LR, weight_decay=_WD)
    start = time.perf_counter()
    fit(model, opt, (x, y), epochs=1, batch_size=bs, seed=0, progress=False)
    return time.perf_counter() - start


def _dataloader(dataset, bs, batchnorm):
    return _train_on(torch.utils.data.DataLoader(dataset, batch_size=bs, shuffle=True), batchnorm)


def _stacked(x, y, bs, batchnorm, k):
    """K models (λ spread over a grid) as one vmapped functional model; plain SGD + L2, no momentum."""
    from torch.func import functional_call, grad, stack_module_state, vmap

    models = [build_model("small_cnn", seed=i, batchnorm=False) for i in range(k)]
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


def _pipeline_only(x, y, dataset, bs, which):
    """Seconds to produce one epoch of batches, no training: the part a loader adds."""
    start = time.perf_counter()
    if which == "wdlib":
        perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
        for i in range(0, len(x), bs):
            idx = perm[i: i + bs]
            x[idx], y[idx]
    else:
        for _ in torch.utils.data.DataLoader(dataset, batch_size=bs, shuffle=True):
            pass
    return time.perf_counter() - start


def run_vision(images: int = 6000, batch_size: int = 128, repeat: int = 3, stack: int = 0) -> pd.DataFrame:
    """The vision table (see the module docstring)."""
    x, y = data.load_fashion_mnist("train")
    x, y = x[:images].contiguous(), y[:images].contiguous()
    rows = []
    with tempfile.TemporaryDirectory() as root:
        dataset = torch.utils.data.Subset(data.fashion_mnist_torchvision(root, "train"), range(images))
        for batchnorm in (False, True):
            methods = {"bare loop": partial(_bare, x, y, batch_size, batchnorm),
                       "wdlib.fit": partial(_fit, x, y, batch_size, batchnorm),
                       "DataLoader": partial(_dataloader, dataset, batch_size, batchnorm)}  # fmt: skip
            if stack and not batchnorm:
                methods[f"stacked ×{stack}"] = partial(_stacked, x, y, batch_size, batchnorm, stack)
            if not batchnorm:
                methods["batches only: wdlib"] = partial(_pipeline_only, x, y, dataset, batch_size, "wdlib")
                methods["batches only: DataLoader"] = partial(_pipeline_only, x, y, dataset, batch_size, "loader")
            _bare(x[: 4 * batch_size], y[: 4 * batch_size], batch_size, batchnorm)  # warm-up
            times = {m: [] for m in methods}
            for _ in range(repeat):
                for name, f in methods.items():
                    times[name].append(f())
            rate = {m: images / statistics.median(t) for m, t in times.items()}
            for m, r in rate.items():
                rows.append({"model": "small CNN + BN" if batchnorm else "small CNN", "method": m,
                             "images_per_s": r, "vs_bare": r / rate["bare loop"],
                             "vs_DataLoader": r / rate["DataLoader"]})  # fmt: skip
    return pd.DataFrame(rows)


def run_text(repeat: int = 3) -> pd.DataFrame:
    """TextCNN sentences/s (batch 50, length 56 + 4 pads, Kim's sizes) and char-transformer ms/step."""
    rows = []
    g = torch.Generator().manual_seed(0)
    tokens, labels = torch.randint(2, 18767, (1000, 60), generator=g), torch.randint(0, 2, (1000,), generator=g)
    for dim in (300, 128):
        def once(dim=dim):
            model = build_model("textcnn", seed=0, vocab_size=18767, embed_dim=dim)
            opt = make_optimizer(model, "adamw", lr=1e-3, weight_decay=1e-2)
            start = time.perf_counter()
            fit(model, opt, (tokens, labels), epochs=1, batch_size=50, seed=0, progress=False)
            return time.perf_counter() - start

        secs = statistics.median(once() for _ in range(repeat))
        rows.append({"model": f"TextCNN, {dim}-d embeddings", "unit": "sentences/s", "value": 1000 / secs})
    text = torch.randint(0, 65, (100_000,), generator=g)
    for n_layer, n_embd, block, bs in ((4, 128, 64, 12), (4, 128, 128, 32), (6, 192, 128, 32)):
        def once(n_layer=n_layer, n_embd=n_embd, block=block, bs=bs):
            model = build_model("char_transformer", seed=0, vocab_size=65, block_size=block, n_layer=n_layer,
                                n_head=4, n_embd=n_embd)  # fmt: skip
            opt = make_optimizer(model, "adamw", lr=1e-3, weight_decay=0.1)
            start = time.perf_counter()
            fit_lm(model, opt, text[:90_000], text[90_000:], steps=20, batch_size=bs, block_size=block, seed=0,
                   eval_every=1000, eval_batches=1, progress=False)  # fmt: skip
            return (time.perf_counter() - start) / 20

        ms = 1000 * statistics.median(once() for _ in range(repeat))
        rows.append({"model": f"char transformer {n_layer}×{n_embd}, block {block}, batch {bs}", "unit": "ms/step",
                     "value": ms})  # fmt: skip
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wdlib.benchmarks throughput", description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=6000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeat", type=int, default=3, help="median of this many interleaved runs")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--stack", type=int, default=0, help="also train K models at once with torch.func")
    parser.add_argument("--text", action="store_true", help="add TextCNN and char-transformer figures")
    parser.add_argument("--csv", help="also write the vision table to this CSV file")
    args = parser.parse_args(argv)
    for name in ("images", "batch_size", "repeat"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.stack < 0 or (args.threads is not None and args.threads < 1):
        parser.error("--stack must be >= 0 and --threads >= 1")
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"# small CNN training throughput, {args.images} Fashion-MNIST images, batch {args.batch_size} | torch "
          f"{torch.__version__}, {torch.get_num_threads()} threads | {platform.machine()}, {os.cpu_count()} CPUs")
    df = run_vision(args.images, args.batch_size, args.repeat, args.stack)
    with pd.option_context("display.width", 120, "display.float_format", "{:.3g}".format):
        print(df.to_string(index=False))
        print("\nvs_bare = images/s ÷ bare loop's; vs_DataLoader = images/s ÷ DataLoader's (same run)")
        if args.text:
            print("\n" + run_text(args.repeat).to_string(index=False))
    if args.csv:
        df.to_csv(args.csv, index=False)
    return 0
