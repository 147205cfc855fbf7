"""Does bfloat16 autocast change what chapter 5 concludes?  float32 and bfloat16 runs paired by seed.

Chapter 5's configurations at the sizes it reports: SGD with momentum on
1,000 Fashion-MNIST images (batch 64, 30 epochs, lr 0.03: the matched row of
``fmnist-optimizers``) at λ ∈ {0, 1e-2, 1e-1}, and the BatchNorm network of
``fmnist-bn`` (40 epochs, lr 0.05) at λ ∈ {0, 1e-2}; each on ``--seeds``
seeds, once in float32 (contiguous, as committed) and once in bfloat16
autocast with channels_last.  The two runs of a seed share the
initialization, the batch order and the dropout masks, so their difference
is the precision's effect alone.

For each configuration the table gives the float32 mean of the final test
accuracy and weight norm, the paired bf16 − fp32 difference (mean and a 95 %
t-interval over seeds) and, as the yardstick, the seed-to-seed standard
deviation in float32.  A difference well inside the seed spread (and an
interval that straddles 0) means the faster setting does not change the
chapter's comparisons, whose differences are read against that spread.

Runs go through :func:`wdlib.sweep.run_sweep` into ``--store`` (resumable).
Run: ``python -m wdlib.benchmarks precision [--seeds 5] [--executor processes:N]
[--threads 1] [--store runs/precision-check] [--csv out.csv]``.
"""

from __future__ import annotations

import argparse
import math
import os

import numpy as np
import pandas as pd

__all__ = ["configs", "main", "summarize"]

_BASE = {"n_train": 1000, "n_test": 10000, "batch_size": 64, "eval_every": 1000}
_PARTS = (  # label, base, λ values
    ("SGD + L2, lr 0.03, 30 epochs", {**_BASE, "epochs": 30, "optimizer": "sgd", "lr": 0.03}, (0.0, 1e-2, 1e-1)),
    ("SGD + L2 with BatchNorm, lr 0.05, 40 epochs", {**_BASE, "epochs": 40, "optimizer": "sgd", "lr": 0.05,
                                                       "batchnorm": True}, (0.0, 1e-2)),
)  # fmt: skip
_NUMERICS = {"float32": {"precision": "float32", "memory_format": "contiguous"},
             "bfloat16": {"precision": "bfloat16", "memory_format": "channels_last"}}  # fmt: skip


def configs(seeds: int = 5) -> list[dict]:
    """Every configuration of the comparison: each setting, λ and seed once in float32 and once in bfloat16."""
    out = []
    for _name, base, wds in _PARTS:
        for wd in wds:
            for seed in range(seeds):
                for numerics in _NUMERICS.values():
                    out.append({**base, "weight_decay": wd, "seed": seed, **numerics})
    return out


def _label(row) -> str:
    for label, base, _ in _PARTS:
        if all(row.get(k) == v for k, v in base.items() if k not in _BASE):
            return label
    return "?"


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per configuration and metric: fp32 mean, paired bf16 − fp32 difference with its interval, seed sd."""
    from scipy import stats

    runs = runs.copy()
    runs["setting"] = [_label(r) for r in runs.to_dict("records")]
    rows = []
    for (setting, wd), group in runs.groupby(["setting", "weight_decay"], sort=False):
        wide = group.pivot_table(index="seed", columns="precision", values=["test_acc", "weight_norm"])
        for metric in ("test_acc", "weight_norm"):
            fp32, bf16 = wide[(metric, "float32")], wide[(metric, "bfloat16")]
            diff = (bf16 - fp32).dropna()
            n = len(diff)
            half = stats.t.ppf(0.975, n - 1) * diff.std(ddof=1) / math.sqrt(n) if n > 1 else math.nan
            sd = fp32.std(ddof=1)
            rows.append({"setting": setting, "weight_decay": wd, "metric": metric, "seeds": n,
                         "fp32_mean": fp32.mean(), "bf16_mean": bf16.mean(), "diff_mean": diff.mean(),
                         "diff_ci95": half, "seed_sd_fp32": sd,
                         "diff_over_sd": abs(diff.mean()) / sd if sd > 0 else np.inf})  # fmt: skip
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wdlib.benchmarks precision", description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--executor", default="serial", help="serial, processes:N, … (see python -m wdlib.sweep)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads per run (default: CPUs ÷ workers)")
    parser.add_argument("--store", default="runs/precision-check")
    parser.add_argument("--csv", help="also write the summary to this CSV file")
    args = parser.parse_args(argv)
    if args.seeds < 2:
        parser.error("--seeds must be >= 2 (the comparison is against the seed-to-seed spread)")
    from ..sweep import Store, executor, run_sweep, workers
    from ..train import bf16_native

    pool, close = executor(args.executor)
    threads = args.threads or max(1, (os.cpu_count() or 1) // workers(args.executor))
    try:
        runs = run_sweep("wdlib.runs:vision_run", configs(args.seeds), Store(args.store, sweep="precision-check"),
                         executor=pool, threads=threads)  # fmt: skip
    finally:
        close()
    print(f"# bf16 vs fp32, paired by seed | cpu: {runs['cpu'].iloc[0]} | native bf16 here: {bf16_native()} | "
          f"{threads} threads per run | store {args.store}")
    table = summarize(runs)
    with pd.option_context("display.width", 200, "display.float_format", "{:.4g}".format):
        print(table.to_string(index=False))
    print("\ndiff = bf16 − fp32 of the same seed (mean, ± half-width of the 95 % t-interval); seed_sd_fp32 = the "
          "seed-to-seed standard deviation in float32; diff_over_sd = |mean diff| ÷ seed sd")
    if args.csv:
        table.to_csv(args.csv, index=False)
    return 0
