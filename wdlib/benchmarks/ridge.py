"""Ridge path + LOO/GCV for many alphas: :func:`wdlib.ridge.ridge_path` against scikit-learn.

For each problem size, every method computes ridge for the same ``n_alphas``
values of alpha, in the same process:

``wdlib``
    :func:`wdlib.ridge.ridge_path`: coefficients and intercepts for every
    alpha, df, exact leave-one-out MSE and GCV.
``Ridge loop``
    ``sklearn.linear_model.Ridge(alpha).fit`` once per alpha (coefficients only).
``RidgeCV svd`` / ``RidgeCV eigen``
    ``RidgeCV(alphas, gcv_mode=...)``: leave-one-out for every alpha, coefficients
    for the best one.
``bare SVD``
    ``numpy.linalg.svd(X, full_matrices=False)``: the floor for any SVD-based method.

Time is the best of ``--repeat`` runs (wall clock); peak memory is the peak of
numpy allocations during one run, measured with :mod:`tracemalloc`.  Ratios
are ``time(method) / time(wdlib)``, so > 1 means wdlib is faster.

Run: ``python -m wdlib.benchmarks ridge [--sizes 2000x100,5000x500,500x2000]
[--n-alphas 100] [--repeat 3] [--csv out.csv]``.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import time
import tracemalloc

import numpy as np
import pandas as pd

from .. import ridge

__all__ = ["DEFAULT_SIZES", "main", "run"]

DEFAULT_SIZES = ((2000, 100), (5000, 500), (500, 2000))


def _methods(X, y, alphas):
    from sklearn.linear_model import Ridge, RidgeCV

    return {
        "wdlib": lambda: ridge.ridge_path(X, y, alphas=alphas),
        "Ridge loop": lambda: [Ridge(alpha=a).fit(X, y) for a in alphas],
        "RidgeCV svd": lambda: RidgeCV(alphas=alphas, gcv_mode="svd").fit(X, y),
        "RidgeCV eigen": lambda: RidgeCV(alphas=alphas, gcv_mode="eigen").fit(X, y),
        "bare SVD": lambda: np.linalg.svd(X, full_matrices=False),
    }


def _measure(fn, repeat: int) -> tuple[float, float]:
    best = np.inf
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    gc.collect()
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return best, peak / 2**20


def run(sizes=DEFAULT_SIZES, *, n_alphas: int = 100, repeat: int = 3, seed: int = 0,
        slow_repeat: int = 1) -> pd.DataFrame:
    """Time and peak memory of every method on every size.

    Returns
    -------
    pandas.DataFrame
        One row per (size, method): ``n_samples, n_features, method, seconds,
        peak_mib, ratio`` (``seconds / seconds of wdlib`` on that size).
    """
    rng = np.random.default_rng(seed)
    alphas = np.logspace(-3, 3, n_alphas)
    rows = []
    for n, p in sizes:
        X = rng.standard_normal((n, p))
        y = X @ rng.standard_normal(p) + rng.standard_normal(n)
        base = None
        for name, fn in _methods(X, y, alphas).items():  # wdlib first: the baseline of the ratios
            reps = slow_repeat if name in ("Ridge loop", "RidgeCV svd", "RidgeCV eigen") else repeat
            seconds, peak = _measure(fn, reps)
            base = seconds if base is None else base
            rows.append({"n_samples": n, "n_features": p, "method": name, "seconds": seconds, "peak_mib": peak,
                         "ratio": seconds / base})
    return pd.DataFrame(rows)


def _parse_sizes(text: str) -> list[tuple[int, int]]:
    try:
        sizes = [tuple(int(v) for v in part.lower().split("x")) for part in text.split(",")]
    except ValueError:
        sizes = []
    if not sizes or any(len(s) != 2 or min(s) < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"sizes must look like 2000x100,5000x500; got {text!r}")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wdlib.benchmarks ridge", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=_parse_sizes, default=list(DEFAULT_SIZES), help="NxP,NxP,...")
    parser.add_argument("--n-alphas", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs (wdlib and bare SVD)")
    parser.add_argument("--csv", help="also write the table to this CSV file")
    args = parser.parse_args(argv)
    if args.n_alphas < 1 or args.repeat < 1:
        parser.error("--n-alphas and --repeat must be >= 1")
    import sklearn

    print(f"# ridge path + LOO/GCV, {args.n_alphas} alphas | numpy {np.__version__}, scikit-learn "
          f"{sklearn.__version__} | {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")
    df = run(args.sizes, n_alphas=args.n_alphas, repeat=args.repeat)
    with pd.option_context("display.width", 120, "display.float_format", "{:.4g}".format):
        print(df.to_string(index=False))
    print("\nratio = seconds / seconds(wdlib); > 1 means wdlib is faster (bare SVD: < 1 is the floor)")
    if args.csv:
        df.to_csv(args.csv, index=False)
    return 0
