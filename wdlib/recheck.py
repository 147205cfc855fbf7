"""Re-check a committed run on this machine: bit for bit where its numerics match, within a measured tolerance elsewhere.

A stored run gives the same bits again only where every :data:`wdlib.sweep.NUMERICS`
field of its row matches this machine (CPU model and torch's kernels for it,
BLAS and oneDNN, torch and numpy, device, precision, threads).  Elsewhere,
float32 kernels round differently from the first optimizer step on and training
amplifies the difference (after 30 epochs of SGD: whole points of accuracy), so
the meaningful checks are

- a **prefix** re-run: the run's first epochs (steps for a language model),
  compared with the stored history's first rows within a relative tolerance
  scaled to this run's own sensitivity to rounding (:func:`prefix_tolerance`:
  the same prefix re-run here with another thread count and with the CPU
  kernels capped at AVX2); and
- a **full** re-run of a low-variance configuration, compared with the spread
  of the committed seeds (:func:`seed_tolerance`).

From the shell: ``python -m wdlib.sweep NAME --profile full --rerun KEY
[--prefix N] [--rtol R | --rtol auto]``.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import math
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd

from .sweep import NUMERICS, Store, _as_numbers, _execute, _resolve, numerics_differ

__all__ = ["PREFIX_FACTOR", "PREFIX_FLOOR", "Recheck", "prefix_tolerance", "recheck", "rounding_sensitivity",
           "seed_tolerance"]

#: A prefix re-run on another machine must agree within this multiple of the run's own rounding sensitivity ...
PREFIX_FACTOR = 10.0
#: ... and never needs to agree more closely than this (runs whose prefix does not react to rounding at all).
PREFIX_FLOOR = 1e-6


def _continuous(column: str) -> bool:
    """Whether a history column is held to a tolerance: accuracies (``*acc``) are counts, so they are not."""
    return not column.endswith("acc")


def _rel_diff(stored: pd.Series, now: pd.Series) -> pd.Series:
    """|now − stored| / max(|stored|, |now|), 0 where both are equal (NaN included), inf where one is NaN."""
    a, b = stored.astype(float), now.astype(float)
    both_nan = a.isna() & b.isna()
    diff = (b - a).abs() / pd.concat([a.abs(), b.abs()], axis=1).max(axis=1).where(lambda m: m > 0, 1.0)
    diff[both_nan | (a == b)] = 0.0
    return diff.fillna(math.inf)


@dataclasses.dataclass(frozen=True)
class Recheck:
    """A stored run executed again on this machine (:func:`recheck`), and how it compares.

    ``differ`` holds the :data:`NUMERICS` fields in which the stored row's
    machine differs from this one (empty: equal bits are expected).  A full
    re-run (``prefix`` None) fills ``metrics`` (index: metric; columns
    ``stored``, ``now``, ``rel_diff``, ``identical``); a prefix re-run fills
    ``history``: the first rows of the stored history beside the new ones, one
    row per numeric cell (``row``, ``column``, ``stored``, ``now``,
    ``rel_diff``, ``checked``).  Accuracies (columns ending in ``acc``) are
    counts: one prediction flipped by rounding moves them by a whole example,
    so a prefix re-run reports them but holds only the continuous columns
    (losses, norms, rates) to a tolerance (``checked``).

    Parameters
    ----------
    key : str
        The run's key in the results store.
    prefix : int or None
        Epochs (or steps) re-run; None for the whole run.
    differ : dict
        :data:`NUMERICS` fields that differ between the stored row's machine and this one.
    metrics : pandas.DataFrame
        Full re-run: stored against new metrics (empty for a prefix re-run).
    history : pandas.DataFrame
        Prefix re-run: stored against new history cells (empty for a full re-run).
    seconds : float
        Wall time of the re-run.
    """

    key: str
    prefix: int | None
    differ: dict
    metrics: pd.DataFrame
    history: pd.DataFrame
    seconds: float

    @property
    def bits_expected(self) -> bool:
        return not self.differ

    @property
    def compared(self) -> pd.DataFrame:
        """The values held to equality or a tolerance."""
        return self.metrics if self.prefix is None else self.history[self.history["checked"]]

    @property
    def identical(self) -> bool:
        return bool((self.compared["rel_diff"] == 0).all())

    @property
    def max_rel_diff(self) -> float:
        return float(self.compared["rel_diff"].max())

    def passed(self, rtol: float | None = None) -> bool:
        """Identical where bits are expected; elsewhere every value within ``rtol`` (identical if ``rtol`` is None)."""
        if self.bits_expected or rtol is None:
            return self.identical
        return self.max_rel_diff <= rtol

    def status(self, rtol: float | None = None) -> str:
        """``"PASS"``, ``"FAIL"``, or ``"REPORT"`` where bits are not expected and no tolerance was given."""
        if not self.bits_expected and rtol is None and not self.identical:
            return "REPORT"
        return "PASS" if self.passed(rtol) else "FAIL"

    def why(self) -> str:
        """Why bits are or are not expected, in one line."""
        if self.bits_expected:
            return "this machine matches the row's numerics (" + ", ".join(NUMERICS) + "): equal bits expected"
        unrecorded = [k for k, (old, _) in self.differ.items() if old is None]
        parts = [f"{k}: {old} there, {new} here" for k, (old, new) in self.differ.items() if old is not None]
        if unrecorded:
            parts.append(f"the row does not record {', '.join(unrecorded)} (written before wdlib 0.2)")
        return "bits not expected: " + "; ".join(parts)

    def summary(self, rtol: float | None = None) -> str:
        what = (f"the first {self.prefix} epochs/steps of run {self.key} ({len(self.compared)} values)"
                if self.prefix is not None else f"run {self.key} ({len(self.metrics)} metrics)")
        if self.identical:
            verdict = "identical, bit for bit"
        else:
            worst = self.compared.loc[self.compared["rel_diff"].idxmax()]
            name = worst.name if self.prefix is None else f"{worst['column']} at row {worst['row']}"
            bound = f" (tolerance {rtol:.1e})" if rtol is not None and not self.bits_expected else ""
            verdict = f"DIFFERENT: max relative difference {self.max_rel_diff:.2e} in {name}{bound}"
        return f"{self.status(rtol)}: {what} re-run in {self.seconds:.1f} s: {verdict}; {self.why()}"


def recheck(fn: Callable | str, store: Store, key: str, *, prefix: int | None = None) -> Recheck:
    """Execute stored run ``key`` again, on its recorded thread count, and compare it with the store.

    Parameters
    ----------
    fn : callable or "module:function"
        The sweep's run function.
    store : Store
    key : str
        A key of ``store.runs()``.
    prefix : int, optional
        Run only the first ``prefix`` epochs (steps for step-based runs) and
        compare the history's first rows: ``fn`` must accept
        ``stop_after=prefix``.  Cheap, and tight: before rounding differences
        have been amplified by training, a run on another CPU agrees to a few
        parts in a million where a changed hyperparameter or code path moves
        the numbers by orders of magnitude more.

    Returns
    -------
    Recheck
        With the differences, and whether this machine's numerics match the row's.
    """
    runs = store.runs()
    if runs.empty or key not in set(runs["key"]):
        raise ValueError(f"no run {key!r} in {store.path}; its keys are in the 'key' column of {store.runs_path}")
    row = runs.set_index("key").loc[key]
    config = json.loads(row["config"])
    threads = int(row["threads"])
    run = _resolve(fn)
    if prefix is not None:
        prefix = int(prefix)
        if prefix < 1:
            raise ValueError(f"prefix must be an integer >= 1 (epochs or steps), got {prefix!r}")
        if "stop_after" not in inspect.signature(run).parameters:
            raise ValueError(f"{fn} takes no stop_after: its history is not a record per epoch or step, so it has "
                             "no prefix to compare; re-run it in full (without --prefix)")
        run = functools.partial(run, stop_after=prefix)
    metrics, history, prov = _execute(run, config, threads)
    differ = numerics_differ(row.to_dict(), prov)
    if prefix is None:
        names = [k for k in _as_numbers(metrics) if k in row.index]
        stored = pd.Series([row[k] for k in names], index=names, dtype=float)
        now = pd.Series([_as_numbers(metrics)[k] for k in names], index=names, dtype=float)
        table = pd.DataFrame({"stored": stored, "now": now, "rel_diff": _rel_diff(stored, now)})
        table["identical"] = table["rel_diff"] == 0
        compared_history = pd.DataFrame(columns=["row", "column", "stored", "now", "rel_diff", "checked"])
    else:
        old = store.history()
        old = old[old["key"] == key].drop(columns="key").reset_index(drop=True)
        new = history.reset_index(drop=True)
        if len(new) > len(old) or list(new.columns) != list(old.columns):
            raise ValueError(f"run {key}: the re-run's history ({len(new)} rows, columns {list(new.columns)}) is not a "
                             f"prefix of the stored one ({len(old)} rows, columns {list(old.columns)})")
        old = old.iloc[: len(new)]
        numeric = [c for c in new.columns if pd.api.types.is_float_dtype(new[c]) or pd.api.types.is_float_dtype(old[c])]
        labels = [c for c in new.columns if c not in numeric]
        if not new[labels].astype(str).equals(old[labels].astype(str)):
            raise ValueError(f"run {key}: the re-run's history rows ({labels}) do not line up with the stored ones")
        parts = [pd.DataFrame({"row": range(len(new)), "column": c, "stored": old[c].astype(float),
                               "now": new[c].astype(float)}) for c in numeric]
        compared_history = pd.concat(parts, ignore_index=True)
        compared_history["rel_diff"] = _rel_diff(compared_history["stored"], compared_history["now"])
        compared_history["checked"] = compared_history["column"].map(_continuous)
        table = pd.DataFrame(columns=["stored", "now", "rel_diff", "identical"])
    check = Recheck(key, prefix, differ, table, compared_history, prov["wall_seconds"])
    if check.compared.empty:
        raise ValueError(f"run {key}: nothing to compare (no stored metric or continuous history column matches the "
                         "re-run's)")
    return check


def _prefix_history(fn: str, config: Mapping, prefix: int, threads: int) -> pd.DataFrame:
    _, history, _ = _execute(functools.partial(_resolve(fn), stop_after=prefix), dict(config), threads)
    return history.reset_index(drop=True)


def _prefix_history_in_child(fn: str, config: Mapping, prefix: int, threads: int, env: Mapping) -> pd.DataFrame:
    """:func:`_prefix_history` in a fresh interpreter with ``env`` (kernel choices are read when torch loads)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "history.csv"
        job = json.dumps({"fn": fn, "config": dict(config), "prefix": prefix, "threads": threads, "out": str(out)})
        code = ("import json, sys; from wdlib import recheck; j = json.loads(sys.argv[1]); "
                "recheck._prefix_history(j['fn'], j['config'], j['prefix'], j['threads']).to_csv(j['out'], index=False)")
        subprocess.run([sys.executable, "-c", code, job], env={**os.environ, **env}, check=True)
        return pd.read_csv(out)


def _max_rel(a: pd.DataFrame, b: pd.DataFrame) -> float:
    """The largest relative difference of two histories' continuous columns (accuracies left out, as in Recheck)."""
    cols = [c for c in a.columns if pd.api.types.is_float_dtype(a[c]) and _continuous(c)]
    return float(max(_rel_diff(a[c].reset_index(drop=True), b[c].reset_index(drop=True)).max() for c in cols))


def _capped_kernels() -> dict | None:
    """Environment that makes torch, oneDNN and MKL use a lower ISA than this CPU's best, or None if there is none."""
    import torch

    if torch.backends.cpu.get_cpu_capability() in ("AVX512", "AVX512_BF16", "AVX512_VNNI"):
        return {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}
    if torch.backends.cpu.get_cpu_capability() == "AVX2":
        return {"ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "SSE41", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2"}
    return None


def rounding_sensitivity(fn: Callable | str, config: Mapping, *, prefix: int, threads: int) -> dict[str, float]:
    """How far this run's first ``prefix`` epochs (or steps) move when only rounding changes, on this machine.

    The prefix is run here as recorded, then with ``threads + 1`` intra-op
    threads (other reduction splits) and, on x86, with the CPU kernels capped
    one ISA lower (``ATEN_CPU_CAPABILITY``, ``ONEDNN_MAX_CPU_ISA``,
    ``MKL_ENABLE_INSTRUCTIONS``; in a child process).  Returns the largest
    relative difference of the history's continuous columns for each.  These
    are the perturbations another machine applies; how strongly a run
    amplifies them depends on the run (max-pooling ties in a text CNN, say),
    which is why a cross-machine tolerance is scaled by them.

    Parameters
    ----------
    fn : callable or str
        The run function, or its ``"module:name"``.
    config : mapping
        The run's configuration (a results row's config columns).
    prefix : int
        Epochs (or steps) to run.
    threads : int
        The intra-op thread count the run was recorded with.
    """
    if not isinstance(fn, str):
        raise TypeError("fn must be a 'module:function' string, so that a child process can import it")
    here = _prefix_history(fn, config, prefix, threads)
    out = {f"threads {threads + 1}": _max_rel(here, _prefix_history(fn, config, prefix, threads + 1))}
    env = _capped_kernels()
    if env is not None:
        out[f"kernels capped at {env['ATEN_CPU_CAPABILITY']}"] = _max_rel(
            here, _prefix_history_in_child(fn, config, prefix, threads, env))
    return out


def prefix_tolerance(sensitivity: Mapping[str, float], *, factor: float = PREFIX_FACTOR,
                     floor: float = PREFIX_FLOOR) -> float:
    """``max(factor × the largest sensitivity, floor)``: the relative tolerance of a cross-machine prefix re-check.

    Parameters
    ----------
    sensitivity : mapping of str to float
        :func:`rounding_sensitivity`'s result.
    factor : float, default PREFIX_FACTOR
        Multiplier of the largest sensitivity.
    floor : float, default PREFIX_FLOOR
        Smallest tolerance returned.

    Examples
    --------
    >>> prefix_tolerance({"threads 2": 1e-8, "kernels capped at avx2": 2.5e-5})
    0.00025
    >>> prefix_tolerance({"threads 2": 0.0})
    1e-06
    """
    bad = {k: v for k, v in sensitivity.items() if not math.isfinite(v)}
    if bad:
        raise ValueError(f"the rounding sensitivity is not finite ({bad}): a perturbed re-run diverged or gave NaN, "
                         "so no tolerance can be derived from it")
    return max(factor * max(sensitivity.values(), default=0.0), floor)


def seed_tolerance(runs: pd.DataFrame, metric: str, by: list[str], *, z: float = 3.0) -> float:
    """``z · √2 · s``: how far a re-run of one row may move ``metric``, from the committed seeds' spread.

    ``s`` is the pooled within-configuration standard deviation of ``metric``
    over the groups of ``runs`` (grouped by the configuration columns ``by``)
    that hold two or more seeds.  A re-run on another machine starts from the
    same initialization and data order, so it differs from the stored row by
    at most about as much as two seeds differ (√2·s); ``z`` = 3 makes a false
    alarm rare for a normal spread.

    Parameters
    ----------
    runs : pandas.DataFrame
        Committed runs, one row per configuration and seed.
    metric : str
        Column whose spread is measured.
    by : list of str
        Configuration columns (everything but the seed).
    z : float, default 3.0
        Number of standard deviations allowed.

    Examples
    --------
    >>> runs = pd.DataFrame({"lr": [1, 1, 2, 2], "seed": [0, 1, 0, 1], "acc": [0.80, 0.82, 0.70, 0.74]})
    >>> round(seed_tolerance(runs, "acc", ["lr"]), 4)
    0.0949
    """
    groups = runs.groupby(by, dropna=False)[metric]
    stats = groups.agg(["var", "count"]).rename(columns={"count": "size"})  # count: NaN values left out
    stats = stats[stats["size"] >= 2]
    if stats.empty:
        raise ValueError(f"no configuration of {by} holds two or more seeds: no seed spread to derive a tolerance from")
    pooled = math.sqrt(float((stats["var"] * (stats["size"] - 1)).sum() / (stats["size"] - 1).sum()))
    return z * math.sqrt(2) * pooled


def main_rerun(fn: str, store: Store, key: str, *, prefix: int | None, rtol: str | float | None) -> int:
    """``python -m wdlib.sweep NAME --rerun KEY [--prefix N] [--rtol R|auto]``: print the re-check; exit status."""
    try:
        check = recheck(fn, store, key, prefix=prefix)
        if rtol == "auto":
            if prefix is None:
                raise ValueError("--rtol auto needs --prefix: the tolerance is measured on the run's first epochs")
            row = store.runs().set_index("key").loc[key]
            sens = rounding_sensitivity(fn, json.loads(row["config"]), prefix=prefix, threads=int(row["threads"]))
            rtol = prefix_tolerance(sens)
            print("rounding sensitivity here: " + ", ".join(f"{k} {v:.2e}" for k, v in sens.items())
                  + f" -> tolerance {rtol:.2e}")
        rtol = None if rtol is None else float(rtol)
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from None
    print(check.summary(rtol))
    if check.prefix is None:
        for name, r in check.metrics.iterrows():
            same = "identical" if r["identical"] else f"rel. diff {r['rel_diff']:.2e}"
            print(f"{name:>16}  stored {float(r['stored'])!r:<24} now {float(r['now'])!r:<24} {same}")
    return 1 if check.status(rtol) == "FAIL" else 0
