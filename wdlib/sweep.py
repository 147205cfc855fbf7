"""Resumable sweeps: a grid of configurations × seeds, each run a pure function of its configuration.

A run function takes one configuration (a flat dict of JSON scalars, ``seed``
included) and returns ``(metrics, history)``: a dict of numbers and a pandas
DataFrame (one row per epoch or step).  :func:`run_sweep` runs every
configuration that the :class:`Store` does not hold yet and writes each one as
soon as it finishes, so

- re-running a sweep skips finished runs;
- a sweep killed at any moment (even SIGKILL) and started again loses no
  finished run and duplicates none: the store's files are only ever replaced
  whole (write a temporary file, fsync, ``os.replace``), the history first and
  the run table last, and a history without its run-table row is ignored and
  overwritten when that run finishes;
- runs execute serially by default, or on any ``concurrent.futures``-style
  executor (``submit(fn, *args)`` returning a future with ``.result()``): a
  ``ProcessPoolExecutor``, or Dask's ``distributed.Client(...).get_executor()``,
  so one sweep runs on many machines.  Only this process writes the store.

Each row of the run table carries its configuration, its metrics and its
provenance: wdlib, torch and Python versions, git commit, machine, torch
threads, wall time and finish time.  Every run gets the same torch thread
count wherever it executes, so that it gives the same bits there.

A sweep with a name in :data:`wdlib.experiments.SWEEPS` runs from the shell::

    python -m wdlib.sweep fmnist-lambda --profile quick --store runs/fmnist-lambda
    python -m wdlib.sweep fmnist-lambda --profile full --executor processes:2 --threads 1
    python -m wdlib.sweep fmnist-lambda --profile full --executor dask:tcp://scheduler:8786 --threads 4
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import hashlib
import importlib
import itertools
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

__all__ = ["PROVENANCE", "IncompatibleStoreError", "Store", "expand", "grid", "provenance", "run_key", "run_sweep"]

STORE_FORMAT = "wdlib.sweep"
STORE_VERSION = 1
#: Provenance columns of every run-table row.
PROVENANCE = ("wdlib_version", "torch_version", "python_version", "git_commit", "machine", "threads",
              "wall_seconds", "finished_at")  # fmt: skip


# floats must read back bit for bit: pandas >= 3 does so by default (and deprecates the option)
_ROUND_TRIP = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}


class IncompatibleStoreError(RuntimeError):
    """A results store was written by another format version or for another sweep; it is left untouched."""


# --------------------------------------------------------------------------- #
# configurations
# --------------------------------------------------------------------------- #
def _scalar(value, where: str, *, finite: bool = True):
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if finite and not math.isfinite(value):
            raise ValueError(f"{where} = {value!r}: configurations hold finite numbers only")
        return value
    raise TypeError(f"{where} = {value!r} ({type(value).__name__}): a configuration value must be a JSON "
                    "scalar (bool, int, float, str or None) so that it fits one table cell")


def _freeze(config: Mapping) -> dict:
    if not isinstance(config, Mapping) or not config:
        raise TypeError(f"a configuration must be a non-empty mapping; got {config!r}")
    out = {}
    for k, v in config.items():
        if not isinstance(k, str) or not k.isidentifier():
            raise ValueError(f"configuration key {k!r} must be an identifier-like string")
        out[k] = _scalar(v, f"config[{k!r}]")
    return dict(sorted(out.items()))


def run_key(config: Mapping) -> str:
    """16 hex digits of the sha256 of the configuration's canonical JSON: the run's identity.

    >>> run_key({"lr": 0.1, "seed": 0}) == run_key({"seed": 0, "lr": 0.1})
    True
    """
    text = json.dumps(_freeze(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def grid(**axes: Sequence) -> list[dict]:
    """Cartesian product of the axes, the last axis varying fastest.

    >>> grid(lr=[0.1, 0.01], weight_decay=[0.0])
    [{'lr': 0.1, 'weight_decay': 0.0}, {'lr': 0.01, 'weight_decay': 0.0}]
    """
    for name, values in axes.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            raise TypeError(f"grid axis {name!r} must be a list of values, got {values!r}")
        if not list(values):
            raise ValueError(f"grid axis {name!r} is empty")
    names = list(axes)
    return [dict(zip(names, combo)) for combo in itertools.product(*(list(axes[n]) for n in names))]


def expand(base: Mapping, points: Sequence[Mapping], seeds: Sequence[int]) -> list[dict]:
    """``base`` updated by each point, for each seed: the sweep's configurations, in order.

    >>> [c["seed"] for c in expand({"lr": 0.1}, grid(weight_decay=[0, 1e-4]), seeds=[0, 1])]
    [0, 1, 0, 1]
    """
    seeds = list(seeds)
    if not seeds or any(not isinstance(s, int) or isinstance(s, bool) or s < 0 for s in seeds):
        raise ValueError(f"seeds must be a non-empty list of integers >= 0, got {seeds!r}")
    configs = [_freeze({**base, **point, "seed": s}) for point in points for s in seeds]
    keys = [run_key(c) for c in configs]
    if len(set(keys)) != len(keys):
        raise ValueError("the sweep lists the same configuration twice")
    return configs


# --------------------------------------------------------------------------- #
# provenance and execution (runs on the worker)
# --------------------------------------------------------------------------- #
def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10,
                             cwd=Path(__file__).resolve().parent, check=False)  # fmt: skip
        commit = out.stdout.strip()
        if out.returncode != 0 or not commit:
            return "unknown"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, timeout=10, cwd=Path(__file__).resolve().parent, check=False)  # fmt: skip
        return commit + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def provenance() -> dict:
    """Versions, git commit (``-dirty`` if tracked files differ) and machine of this process."""
    from . import __version__

    try:
        import torch

        torch_version = torch.__version__
    except ImportError:
        torch_version = "none"
    return {"wdlib_version": __version__, "torch_version": torch_version,
            "python_version": platform.python_version(), "git_commit": _git_commit(),
            "machine": f"{platform.node()} ({platform.machine()}, {os.cpu_count()} CPUs)"}  # fmt: skip


def _resolve(fn: Callable | str) -> Callable:
    if callable(fn):
        return fn
    module, _, name = str(fn).partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"cannot import run function {fn!r} (want 'package.module:function'): {exc}") from None


def _execute(fn: Callable | str, config: dict, threads: int) -> tuple[dict, pd.DataFrame, dict]:
    """Run one configuration where the executor put it, on ``threads`` torch threads; return metrics, history
    and provenance."""
    import torch

    before = torch.get_num_threads()
    start = time.perf_counter()
    try:
        torch.set_num_threads(threads)
        used = torch.get_num_threads()
        result = _resolve(fn)(dict(config))
    finally:
        torch.set_num_threads(before)
    try:
        metrics, history = result
    except (TypeError, ValueError):
        raise TypeError(f"a run function must return (metrics dict, history DataFrame); got {type(result)}") from None
    if not isinstance(metrics, Mapping) or not isinstance(history, pd.DataFrame):
        raise TypeError(f"a run function must return (metrics dict, history DataFrame); got "
                        f"({type(metrics).__name__}, {type(history).__name__})")
    prov = provenance()
    prov["threads"] = used
    prov["wall_seconds"] = time.perf_counter() - start
    prov["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return dict(metrics), history, prov


# --------------------------------------------------------------------------- #
# the store
# --------------------------------------------------------------------------- #
def _atomic_write(path: Path, write: Callable[[str], None]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class Store:
    """A folder holding one sweep's results: ``meta.json``, ``runs.<fmt>`` and ``history.<fmt>``.

    ``runs`` has one row per finished run: ``key``, the configuration's columns,
    the metrics and :data:`PROVENANCE`.  ``history`` has the runs' histories,
    stacked, with ``key`` first.  ``fmt`` is ``"csv"`` (default; floats
    round-trip exactly) or ``"parquet"`` (needs pyarrow).

    Opening a folder written by another store version, or for another sweep
    name, raises :class:`IncompatibleStoreError` and changes nothing.
    """

    def __init__(self, path: str | Path, *, sweep: str, fmt: str = "csv"):
        if fmt not in ("csv", "parquet"):
            raise ValueError(f"unknown store format {fmt!r}; choose 'csv' or 'parquet'")
        if not sweep or not isinstance(sweep, str):
            raise ValueError("a store needs the sweep's name")
        self.path, self.sweep, self.fmt = Path(path), sweep, fmt
        self.meta_path = self.path / "meta.json"
        self.runs_path, self.history_path = self.path / f"runs.{fmt}", self.path / f"history.{fmt}"
        if self.meta_path.is_file():
            self._check_meta(json.loads(self.meta_path.read_text()))
        elif self.path.is_dir() and any(self.path.glob("runs.*")):
            raise IncompatibleStoreError(f"{self.path} holds run tables but no meta.json: not a wdlib sweep store "
                                         f"(version {STORE_VERSION}); use an empty folder")
        self._runs: pd.DataFrame | None = None

    def _check_meta(self, meta: dict) -> None:
        where = f"the results store {self.path}"
        if meta.get("format") != STORE_FORMAT or meta.get("version") != STORE_VERSION:
            raise IncompatibleStoreError(
                f"{where} was written as {meta.get('format')!r} version {meta.get('version')!r}; this wdlib reads "
                f"{STORE_FORMAT!r} version {STORE_VERSION}. Nothing was changed: use another folder for this "
                "sweep, or the wdlib version that wrote it to read it.")
        if meta.get("sweep") != self.sweep:
            raise IncompatibleStoreError(f"{where} belongs to sweep {meta.get('sweep')!r}, not {self.sweep!r}. "
                                         "Nothing was changed: give each sweep its own folder.")
        if meta.get("fmt") != self.fmt:
            raise IncompatibleStoreError(f"{where} is stored as {meta.get('fmt')!r}; open it with "
                                         f"fmt={meta.get('fmt')!r}")

    # -- reading -------------------------------------------------------- #
    def _read(self, path: Path) -> pd.DataFrame:
        if not path.is_file():
            return pd.DataFrame()
        if self.fmt == "csv":
            return pd.read_csv(path, **_ROUND_TRIP)
        return pd.read_parquet(path)

    def runs(self) -> pd.DataFrame:
        """The run table (one row per finished run)."""
        if self._runs is None:
            self._runs = self._read(self.runs_path)
        return self._runs.copy()

    def history(self) -> pd.DataFrame:
        """Histories of the finished runs (rows of unfinished runs, left by a kill, are dropped)."""
        hist = self._read(self.history_path)
        if hist.empty:
            return hist
        return hist[hist["key"].isin(set(self.runs().get("key", [])))].reset_index(drop=True)

    def finished(self) -> set[str]:
        return set(self.runs().get("key", []))

    # -- writing -------------------------------------------------------- #
    def _write(self, df: pd.DataFrame, path: Path) -> None:
        if self.fmt == "csv":
            _atomic_write(path, lambda tmp: df.to_csv(tmp, index=False))
        else:
            _atomic_write(path, lambda tmp: df.to_parquet(tmp, index=False))

    def add(self, config: Mapping, metrics: Mapping, history: pd.DataFrame, prov: Mapping) -> None:
        """Record one finished run (history first, run table last; each file replaced atomically)."""
        config = _freeze(config)
        key = run_key(config)
        if key in self.finished():
            return
        clash = (set(config) | {"key", "config"}) & (set(metrics) | set(PROVENANCE))
        if clash:
            raise ValueError(f"metric names {sorted(clash)} collide with configuration or provenance columns")
        self.path.mkdir(parents=True, exist_ok=True)
        if not self.meta_path.is_file():
            meta = {"format": STORE_FORMAT, "version": STORE_VERSION, "sweep": self.sweep, "fmt": self.fmt}
            _atomic_write(self.meta_path, lambda tmp: Path(tmp).write_text(json.dumps(meta, indent=1) + "\n"))
        old = self._read(self.history_path)
        if not old.empty:
            old = old[old["key"] != key]  # an orphan of an earlier, killed attempt
        new = history.reset_index(drop=True).copy()
        new.insert(0, "key", key)
        self._write(pd.concat([old, new], ignore_index=True) if not old.empty else new, self.history_path)
        row = {"key": key, **config, **{k: _scalar(v, f"metrics[{k!r}]", finite=False) for k, v in metrics.items()},
               **{k: prov[k] for k in PROVENANCE}, "config": json.dumps(config, sort_keys=True)}  # fmt: skip
        runs = self.runs()
        runs = pd.concat([runs, pd.DataFrame([row])], ignore_index=True) if not runs.empty else pd.DataFrame([row])
        self._write(runs, self.runs_path)
        self._runs = runs


# --------------------------------------------------------------------------- #
# running
# --------------------------------------------------------------------------- #
def _as_numbers(metrics: Mapping) -> dict:
    return {k: float(v) if hasattr(v, "item") else v for k, v in metrics.items()}


def run_sweep(fn: Callable | str, configs: Sequence[Mapping], store: Store, *, executor=None, threads: int | None = None,
              progress: bool | None = None) -> pd.DataFrame:  # fmt: skip
    """Run every configuration not yet in ``store``; return the run table in the order of ``configs``.

    Parameters
    ----------
    fn : callable or "module:function"
        ``fn(config) -> (metrics, history)``; must be importable by the
        executor's workers (a module-level function, not a lambda).
    configs : list of dict
        From :func:`expand`; each must hold ``seed``.
    store : Store
    executor : concurrent.futures-style executor, optional
        ``None`` runs serially in this process.  Not a ``ThreadPoolExecutor``:
        torch's thread count is per process, so threads would race on it.  Finished runs are written as
        they complete, in whatever order.
    threads : int, optional
        torch's intra-op threads for each run, set on the worker (and restored
        afterwards); default: this process's ``torch.get_num_threads()``.  torch
        splits float reductions by thread count, so a run gives the same bits
        on every executor only with the same count: that is why it is sent
        along (Dask workers would otherwise start with one).  With ``N``
        parallel workers on ``C`` cores pass ``threads=C // N``.  The count is
        recorded in the run table's ``threads`` column.
    """
    import torch

    if isinstance(executor, cf.ThreadPoolExecutor):
        raise TypeError("a ThreadPoolExecutor cannot run a sweep: torch's thread count is one setting per process, "
                         "so concurrent runs would change each other's and lose bitwise repeatability. Use "
                         "concurrent.futures.ProcessPoolExecutor, Dask, or executor=None.")
    threads = torch.get_num_threads() if threads is None else threads
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
        raise ValueError(f"threads must be None or an integer >= 1, got {threads!r}")
    configs = [_freeze(c) for c in configs]
    if any("seed" not in c for c in configs):
        raise ValueError("every configuration needs a 'seed'")
    keys = [run_key(c) for c in configs]
    done = store.finished()
    pending = [c for c, k in zip(configs, keys) if k not in done]
    from tqdm.auto import tqdm

    bar = tqdm(total=len(configs), initial=len(configs) - len(pending), desc=store.sweep, leave=False,
               disable=not (sys.stderr.isatty() if progress is None else progress))  # fmt: skip
    with bar:
        if executor is None:
            for config in pending:
                metrics, history, prov = _execute(fn, config, threads)
                store.add(config, _as_numbers(metrics), history, prov)
                bar.update()
        else:
            futures = {executor.submit(_execute, fn, config, threads): config for config in pending}
            try:
                if all(isinstance(f, cf.Future) for f in futures):
                    finished = cf.as_completed(futures)
                else:  # a minimal executor: collect in submission order
                    finished = iter(futures)
                for future in finished:
                    metrics, history, prov = future.result()
                    store.add(futures[future], _as_numbers(metrics), history, prov)
                    bar.update()
            finally:
                for future in futures:
                    future.cancel()
    runs = store.runs().set_index("key")
    return runs.loc[keys].reset_index()


# --------------------------------------------------------------------------- #
# command line
# --------------------------------------------------------------------------- #
def _workers(spec: str) -> int:
    """How many runs an executor spec runs at once on this machine (dask:ADDRESS: unknown, 1)."""
    kind, _, arg = spec.partition(":")
    return int(arg) if kind in ("processes", "dask-local") and arg.isdigit() and int(arg) >= 1 else 1


def _executor(spec: str):
    """``serial``, ``processes:N`` or ``dask:ADDRESS`` / ``dask-local:N``, as (executor or None, closer)."""
    if spec == "serial":
        return None, lambda: None
    kind, _, arg = spec.partition(":")
    if kind == "processes" and arg.isdigit() and int(arg) >= 1:
        ex = cf.ProcessPoolExecutor(int(arg))
        return ex, ex.shutdown
    if kind in ("dask", "dask-local") and arg:
        from distributed import Client, LocalCluster

        if kind == "dask-local":
            if not arg.isdigit() or int(arg) < 1:
                raise ValueError(f"--executor dask-local:N needs N >= 1 workers, got {arg!r}")
            cluster = LocalCluster(n_workers=int(arg), threads_per_worker=1, processes=True, dashboard_address=None)
            client = Client(cluster)
            return client.get_executor(), lambda: (client.close(), cluster.close())
        client = Client(arg)
        return client.get_executor(), client.close
    raise ValueError(f"unknown executor {spec!r}; use serial, processes:N, dask:ADDRESS or dask-local:N")


def _rerun(spec, store: Store, key: str) -> int:
    """Execute one stored run again, on its recorded thread count, and compare every metric bit for bit."""
    runs = store.runs()
    if runs.empty or key not in set(runs["key"]):
        raise SystemExit(f"no run {key!r} in {store.path}; its keys are in the 'key' column of {store.runs_path}")
    row = runs.set_index("key").loc[key]
    config = json.loads(row["config"])
    metrics, _, prov = _execute(spec.fn, config, int(row["threads"]))
    same = True
    for name, value in _as_numbers(metrics).items():
        stored = row[name]
        equal = value == stored or (isinstance(value, float) and math.isnan(value) and math.isnan(stored))
        same &= bool(equal)
        print(f"{name:>16}  stored {float(stored)!r:<24} now {value!r:<24} {'identical' if equal else 'DIFFERS'}")
    print(f"{'identical' if same else 'DIFFERENT'}: run {key} ({prov['wall_seconds']:.1f} s on {int(row['threads'])} "
          f"threads; stored by torch {row['torch_version']}, now {prov['torch_version']})")
    return 0 if same else 1


def _write_chapter_metadata(folder: Path, record: dict) -> None:
    """Append this invocation to ``metadata.json`` of a chapter's results folder."""
    path = folder / "metadata.json"
    meta = json.loads(path.read_text()) if path.is_file() else {}
    sessions = meta.get("sessions", [])
    sessions.append(record)
    meta.update({"command": record["command"], "sweeps": record["sweeps"], "sessions": sessions,
                 "wall_seconds_total": sum(s["wall_seconds"] for s in sessions)})  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, lambda tmp: Path(tmp).write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n"))


def main(argv: list[str] | None = None) -> int:
    from .experiments import CHAPTER_SWEEPS, SWEEPS, results_folder

    parser = argparse.ArgumentParser(prog="python -m wdlib.sweep", description="Run a named sweep (resumable).")
    parser.add_argument("name", help=f"a sweep ({', '.join(SWEEPS)}) or a chapter's sweeps ({', '.join(CHAPTER_SWEEPS)})")
    parser.add_argument("--profile", default="quick", help="size of the sweep (each sweep lists its profiles)")
    parser.add_argument("--store", help="results folder (default: data/results/... for a full profile with "
                                        "committed results, else runs/<name>-<profile>)")
    parser.add_argument("--format", default="csv", choices=["csv", "parquet"])
    parser.add_argument("--executor", default="serial", help="serial, processes:N, dask:ADDRESS or dask-local:N")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads per run (default: CPUs ÷ parallel workers; equal bits need equal threads)")
    parser.add_argument("--rerun", metavar="KEY", help="execute one stored run again and compare its metrics bit for bit")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    args = parser.parse_args(argv)
    chapter = args.name in CHAPTER_SWEEPS
    if args.name not in SWEEPS and not chapter:
        parser.error(f"unknown sweep {args.name!r}; choose one of {', '.join([*SWEEPS, *CHAPTER_SWEEPS])}")
    names = CHAPTER_SWEEPS[args.name] if chapter else [args.name]
    for name in names:
        if args.profile not in SWEEPS[name].profiles:
            parser.error(f"sweep {name!r} has no profile {args.profile!r}; choose one of "
                         f"{', '.join(SWEEPS[name].profiles)}")
    if chapter and args.store:
        parser.error("--store names one sweep's folder; run the chapter's sweeps one by one to choose folders")

    def store_for(name: str) -> Store:
        spec = SWEEPS[name]
        if args.store:
            path = Path(args.store)
        elif args.profile == "full" and spec.results:
            path = results_folder(name)
        else:
            path = Path("runs") / f"{name}-{args.profile}"
        return Store(path, sweep=f"{name}:{args.profile}", fmt=args.format)

    if args.rerun:
        if chapter:
            parser.error("--rerun needs one sweep's name, not a chapter's")
        return _rerun(SWEEPS[args.name], store_for(args.name), args.rerun)
    try:
        executor, close = _executor(args.executor)
    except ValueError as exc:
        parser.error(str(exc))
    if args.threads is None:
        args.threads = max(1, (os.cpu_count() or 1) // _workers(args.executor))
    if args.threads < 1:
        parser.error(f"--threads must be >= 1, got {args.threads}")
    started, start = datetime.now(timezone.utc).isoformat(timespec="seconds"), time.perf_counter()
    counts = {}
    try:
        for name in names:
            store = store_for(name)
            before = len(store.finished())
            runs = run_sweep(SWEEPS[name].fn, SWEEPS[name].configs(args.profile), store, executor=executor,
                             threads=args.threads, progress=args.progress)  # fmt: skip
            counts[name] = {"runs": len(runs), "new": len(runs) - before, "store": str(store.path),
                            "description": SWEEPS[name].description}  # fmt: skip
            print(f"{name} ({args.profile}): {len(runs)} runs in {store.path} ({len(runs) - before} new, "
                  f"{before} already there)", flush=True)
    finally:
        close()
    if chapter and args.profile == "full":
        command = f"python -m wdlib.sweep {args.name} --profile full --executor {args.executor} --threads {args.threads}"
        _write_chapter_metadata(results_folder(names[0]).parent, {
            "command": command, "sweeps": counts, "started_at": started,
            "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "wall_seconds": round(time.perf_counter() - start, 1), **provenance(), "threads": args.threads,
            "executor": args.executor})  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
