"""How far a committed run's first epochs move across machines, against how far a real change moves them.

A committed run re-run on another CPU rounds differently from the first
optimizer step on (float32 kernels: torch's vectorized ATen code, oneDNN
convolutions, MKL's SGEMM), and training amplifies the difference.  The test
suite re-checks committed rows across machines by re-running only their first
epoch(s) (:func:`wdlib.recheck.recheck` with ``prefix``) and comparing the
history within a relative tolerance.  This benchmark measures, for one stored
run and in one process tree, the largest relative difference of the prefix's
history under

``stored row vs here``
    the committing machine against this one (what the test sees);
``here, threads N+1``
    another intra-op thread count (other reduction splits);
``here, kernels capped at avx2``
    this machine with ``ATEN_CPU_CAPABILITY=avx2``, ``ONEDNN_MAX_CPU_ISA=AVX2``
    and ``MKL_ENABLE_INSTRUCTIONS=AVX2``: another ISA's kernels, as on an older
    CPU (:func:`wdlib.recheck.rounding_sensitivity`);
``lr × (1 + 1e-3)``, ``weight_decay × (1 + 1e-3)``
    the smallest changes of the configuration a re-check must catch (for a
    run with ``weight_decay = 0``, ``weight_decay = 1e-6`` instead);

and prints each as a ratio to the tolerance that the re-check applies
(:func:`wdlib.recheck.prefix_tolerance`: ten times the largest of the first
three "here" rows): the stored row must sit below 1, real changes above it.

Run: ``python -m wdlib.benchmarks recheck [--sweep fmnist-optimizers] [--key KEY] [--prefix 1]``
(default: the sweep's cheapest committed row).
"""

from __future__ import annotations

import argparse
import json
import sys

import pandas as pd

from .. import recheck as rc
from .. import sweep

__all__ = ["main", "run"]


def run(name: str, key: str | None = None, prefix: int = 1) -> pd.DataFrame:
    """The table described in the module's docstring, for stored run ``key`` of committed sweep ``name``."""
    from ..config import RUN_DEFAULTS
    from ..experiments import SWEEPS, results_folder

    spec = SWEEPS[name]
    store = sweep.Store(results_folder(name), sweep=f"{name}:full")
    runs = store.runs()
    key = key or runs.sort_values("wall_seconds")["key"].iloc[0]
    row = runs.set_index("key").loc[key]
    config, threads = json.loads(row["config"]), int(row["threads"])
    full = {**RUN_DEFAULTS[spec.fn.rpartition(":")[2]], **config}
    check = rc.recheck(spec.fn, store, key, prefix=prefix)
    sens = rc.rounding_sensitivity(spec.fn, config, prefix=prefix, threads=threads)
    rtol = rc.prefix_tolerance(sens)
    here = rc._prefix_history(spec.fn, config, prefix, threads)
    wd = full["weight_decay"]
    cases = {"stored row vs here": check.max_rel_diff, **{f"here, {k}": v for k, v in sens.items()},
             "lr × (1 + 1e-3)": rc._max_rel(here, rc._prefix_history(spec.fn, {**config, "lr": full["lr"] * 1.001},
                                                                     prefix, threads)),
             ("weight_decay × (1 + 1e-3)" if wd else "weight_decay = 1e-6"): rc._max_rel(
                 here, rc._prefix_history(spec.fn, {**config, "weight_decay": wd * 1.001 if wd else 1e-6}, prefix,
                                          threads))}  # fmt: skip
    table = pd.DataFrame({"max relative difference": cases})
    table["÷ tolerance"] = table["max relative difference"] / rtol
    table.attrs.update(key=key, config=config, why=check.why(), values=len(check.compared), rtol=rtol)
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wdlib.benchmarks recheck", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sweep", default="fmnist-optimizers", help="a sweep with committed results")
    parser.add_argument("--key", help="a stored run (default: the sweep's cheapest)")
    parser.add_argument("--prefix", type=int, default=1, help="epochs (steps for a language model) to re-run")
    args = parser.parse_args(argv)
    table = run(args.sweep, args.key, args.prefix)
    print(f"{args.sweep} run {table.attrs['key']} {table.attrs['config']}: first {args.prefix} epoch(s)/step(s), "
          f"{table.attrs['values']} values; {table.attrs['why']}")
    print(f"tolerance = max({rc.PREFIX_FACTOR:g} × the largest 'here, ...' row, {rc.PREFIX_FLOOR:g}) = "
          f"{table.attrs['rtol']:.2e}")
    with pd.option_context("display.float_format", "{:.2e}".format):
        print(table.to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
