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
provenance (:data:`PROVENANCE`): versions, git commit, host, and everything
that determines the run's floating-point bits (:data:`NUMERICS`: the CPU model
and the kernels torch picks for it, the BLAS and oneDNN versions, the device
and precision, the thread count).  Every run gets the same torch thread count
wherever it executes.  A run gives the same bits again only where all of
:data:`NUMERICS` match; elsewhere float32 kernels round differently from the
first step on, and :func:`wdlib.recheck.recheck` compares within tolerances instead.

A sweep with a name in :data:`wdlib.experiments.SWEEPS` runs from the shell
(:mod:`wdlib.cli`, which joins this engine and the book's catalogue)::

    python -m wdlib.sweep fmnist-lambda --profile quick --store runs/fmnist-lambda
    python -m wdlib.sweep fmnist-lambda --profile full --executor processes:2 --threads 1
    python -m wdlib.sweep fmnist-lambda --profile full --executor dask:tcp://scheduler:8786 --threads 4
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import functools
import hashlib
import importlib
import itertools
import json
import math
import os
import platform
import re
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

__all__ = ["NUMERICS", "PROVENANCE", "IncompatibleStoreError", "Store", "StoreBusyError", "expand", "grid", "numerics_differ",
           "executor", "process_pool", "provenance", "run_key", "run_sweep", "workers"]

STORE_FORMAT = "wdlib.sweep"
STORE_VERSION = 1
#: Provenance columns of every run-table row (rows written before wdlib 0.2 lack ``numpy_version`` to
#: ``precision``, before 0.3 ``memory_format``; they read back as missing values).
PROVENANCE = ("wdlib_version", "torch_version", "numpy_version", "python_version", "git_commit", "machine", "cpu",
              "cpu_capability", "blas", "onednn", "numerics_env", "device", "precision", "memory_format", "threads",
              "wall_seconds", "finished_at")  # fmt: skip
#: The provenance columns that determine a run's bits: equal bits are expected only where all of them match.
NUMERICS = ("cpu", "cpu_capability", "blas", "onednn", "numerics_env", "torch_version", "numpy_version", "device",
            "precision", "memory_format", "threads")  # fmt: skip
#: Provenance fields that a configuration may also set (``precision``, ``memory_format``): one column, whose
#: configured value the run must report back.
_CONFIGURED = ("precision", "memory_format")
#: Environment variables that change which CPU kernels torch, oneDNN and MKL run.
_NUMERICS_ENV = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "MKL_CBWR", "MKL_ENABLE_INSTRUCTIONS",
                 "MKL_DEBUG_CPU_TYPE")  # fmt: skip


# floats must read back bit for bit: pandas >= 3 does so by default (and deprecates the option)
_ROUND_TRIP = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}


class IncompatibleStoreError(RuntimeError):
    """A results store was written by another format version or for another sweep; it is left untouched."""


class StoreBusyError(RuntimeError):
    """Another process is writing this results store (see :meth:`Store.writing`)."""


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


def _cpu_model() -> str:
    """Vendor, model name, family, model and stepping of the first CPU (Linux); else what platform knows."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine() or "unknown"
    info = {}
    for line in text.splitlines():
        if not line.strip():
            break  # the first processor's block is enough
        key, _, value = line.partition(":")
        info[key.strip()] = value.strip()
    ids = " ".join(f"{k} {info[k]}" for k in ("cpu family", "model", "stepping") if k in info)
    name = info.get("model name") or info.get("Model") or platform.processor() or platform.machine()
    return f"{name} ({info.get('vendor_id', platform.machine())}{', ' + ids if ids else ''})"


@functools.lru_cache(maxsize=1)
def _torch_numerics() -> dict:
    """torch's version, its CPU kernels' capability (AVX2, AVX512, …) and the MKL and oneDNN it was built with."""
    try:
        import torch
    except ImportError:
        return {"torch_version": "none", "cpu_capability": "none", "blas": "none", "onednn": "none"}
    config = torch.__config__.show()
    mkl = re.search(r"Math Kernel Library Version ([\w.]+)", config)
    blas = re.search(r"BLAS_INFO=(\w+)", config)
    onednn = re.search(r"MKL-DNN v([\w.]+)", config)
    return {"torch_version": torch.__version__, "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "blas": f"mkl {mkl.group(1)}" if mkl else (blas.group(1) if blas else "unknown"),
            "onednn": onednn.group(1) if onednn and torch.backends.mkldnn.is_available() else "none"}  # fmt: skip


def provenance() -> dict:
    """Versions, git commit (``-dirty`` if tracked files differ), host and CPU numerics of this process.

    ``device`` and ``precision`` are those of the run (see :func:`_execute`);
    here they are the defaults of a run that does not report them.
    """
    import numpy as np

    from .. import __version__

    env = ";".join(f"{k}={os.environ[k]}" for k in _NUMERICS_ENV if os.environ.get(k))
    return {"wdlib_version": __version__, **_torch_numerics(), "numpy_version": np.__version__,
            "python_version": platform.python_version(), "git_commit": _git_commit(),
            "machine": f"{platform.node()} ({platform.machine()}, {os.cpu_count()} CPUs)", "cpu": _cpu_model(),
            "numerics_env": env or "none", "device": "cpu", "precision": "float32",
            "memory_format": "contiguous"}  # fmt: skip


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""


def numerics_differ(row: Mapping, here: Mapping | None = None) -> dict:
    """The :data:`NUMERICS` fields in which a stored row differs from ``here`` (default: this process).

    Returns ``{field: (stored, here)}``; empty means equal bits are expected.
    A field the row does not record (rows written before wdlib 0.2) counts as
    different, with ``stored`` None.  ``here`` without ``threads`` takes the
    row's (a re-run uses the recorded thread count).
    """
    here = {**provenance(), "threads": row.get("threads"), **(here or {})}
    out = {}
    for name in NUMERICS:
        stored = row.get(name)
        if _missing(stored):
            out[name] = (None, here.get(name))
        elif str(stored) != str(here.get(name)) and not (name == "threads" and int(stored) == int(here[name])):
            out[name] = (stored, here.get(name))
    return out


def _resolve(fn: Callable | str) -> Callable:
    if callable(fn):
        return fn
    module, _, name = str(fn).partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"cannot import run function {fn!r} (want 'package.module:function'): {exc}") from None


def _execute(fn: Callable | str, config: dict, threads: int, progress: bool = False) -> tuple[dict, pd.DataFrame, dict]:
    """Run one configuration where the executor put it, on ``threads`` torch threads; return metrics, history
    and provenance.  ``progress``: whether the run's own training loop shows a bar (only when run in this
    process: a pool's workers would draw over each other)."""
    import torch

    from ..progress import progress_default

    before = torch.get_num_threads()
    start = time.perf_counter()
    try:
        torch.set_num_threads(threads)
        used = torch.get_num_threads()
        with progress_default(progress):
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
    # the run says where and at which precision it computed (wdlib.train puts it in the history's attrs)
    prov.update({k: str(history.attrs[k]) for k in ("device", "precision", "memory_format") if k in history.attrs})
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

    Several processes may share a store: every write happens under the
    store's lock (a ``filelock`` lock file in the folder, released by the
    operating system when its holder dies, even by SIGKILL), re-reads the
    tables first, and checks ``meta.json`` again, so no finished run is lost
    and a store never mixes two sweeps.  :func:`run_sweep` holds the lock for
    the whole sweep: a second sweep into the same folder waits ``wait``
    seconds, then refuses with :class:`StoreBusyError` naming the writer.
    Temporary files orphaned by a writer killed mid-write are removed the next
    time the lock is taken.
    """

    #: the lock file and the note naming its holder (both ignored by git)
    LOCK_NAME, WRITER_NAME = ".wdlib-store.lock", ".wdlib-store.writer"

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
        self._lock, self._depth = None, 0
        if self.path.is_dir() and any(self._orphans()):
            try:  # clean up now if no one is writing; otherwise the writer's next lock does it
                with self.writing(wait=0, claim=False):
                    pass
            except (StoreBusyError, OSError):
                pass

    # -- the writer's lock ---------------------------------------------- #
    def _orphans(self):
        return (f for f in self.path.glob(".*.tmp") if f.name.startswith((".runs.", ".history.", ".meta.json.")))

    @contextlib.contextmanager
    def writing(self, wait: float = 0.0, *, claim: bool = True):
        """Hold the store's lock (re-entrant): only the holder writes; others wait up to ``wait`` seconds.

        On taking it: orphaned temporary files are removed, ``meta.json`` is
        checked again (another process may have started the store meanwhile)
        or (``claim``) written, claiming the folder for this sweep, and the
        cached run table is dropped, so the holder sees every row.
        Raises :class:`StoreBusyError` (naming the holder) after ``wait`` seconds.
        """
        import filelock

        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock = self._lock or filelock.FileLock(self.path / self.LOCK_NAME)
        try:
            self._lock.acquire(timeout=wait)
        except filelock.Timeout:
            raise StoreBusyError(self._busy_message(wait)) from None
        self._depth = 1
        note = self.path / self.WRITER_NAME
        try:
            for orphan in self._orphans():
                orphan.unlink(missing_ok=True)
            if self.meta_path.is_file():
                self._check_meta(json.loads(self.meta_path.read_text()))
            elif claim:  # the holder claims the folder for its sweep at once
                meta = {"format": STORE_FORMAT, "version": STORE_VERSION, "sweep": self.sweep, "fmt": self.fmt}
                _atomic_write(self.meta_path, lambda tmp: Path(tmp).write_text(json.dumps(meta, indent=1) + "\n"))
            self._runs = None
            note.write_text(json.dumps({"pid": os.getpid(), "host": platform.node(), "sweep": self.sweep,
                                        "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}))  # fmt: skip
            yield self
        finally:
            self._depth = 0
            note.unlink(missing_ok=True)
            self._lock.release()

    def _busy_message(self, wait: float) -> str:
        try:
            who = json.loads((self.path / self.WRITER_NAME).read_text())
            holder = f"process {who['pid']} on {who['host']} (sweep {who['sweep']!r}, since {who['since']})"
        except (OSError, ValueError, KeyError):
            holder = "another process"
        return (f"the results store {self.path} is being written by {holder}; waited {wait:g} s. Let that sweep "
                "finish (it resumes, so nothing is lost), pass a longer wait (run_sweep(wait=...), --wait SECONDS), "
                "or give this sweep another folder.")

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

    def add(self, config: Mapping, metrics: Mapping, history: pd.DataFrame, prov: Mapping, *,
            wait: float = 60.0) -> None:  # fmt: skip
        """Record one finished run (history first, run table last; each file replaced atomically).

        Takes the store's lock unless this process holds it already, waiting up
        to ``wait`` seconds for another writer (see :meth:`writing`).  A run
        already in the table (written by another process meanwhile) is skipped.
        """
        config = _freeze(config)
        key = run_key(config)
        clash = ((set(config) | {"key", "config"}) & set(metrics)) | (set(metrics) & set(PROVENANCE)) | (
            set(config) & set(PROVENANCE) - set(_CONFIGURED))  # fmt: skip
        if clash:
            raise ValueError(f"metric names {sorted(clash)} collide with configuration or provenance columns")
        for name in set(config) & set(_CONFIGURED):  # a configured numerics field: the run must have used it
            if name in prov and str(prov[name]) != str(config[name]):
                raise ValueError(f"the run computed with {name}={prov[name]!r} but its configuration says "
                                 f"{config[name]!r}: the run function ignores config[{name!r}]")
        with self.writing(wait=wait):
            self._runs = None  # another process may have added rows since this one last read
            if key not in self.finished():
                self._add(config, key, metrics, history, prov)

    def _add(self, config: dict, key: str, metrics: Mapping, history: pd.DataFrame, prov: Mapping) -> None:
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
              progress: bool | None = None, wait: float = 0.0) -> pd.DataFrame:  # fmt: skip
    """Run every configuration not yet in ``store``; return the run table in the order of ``configs``.

    The table's ``attrs["new"]`` says how many runs this call executed.

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
    wait : float, default 0
        Seconds to wait for another process that is writing ``store``
        (:meth:`Store.writing`) before refusing with :class:`StoreBusyError`.
        This sweep holds the store's lock until it returns.
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
    _resolve(fn)  # a wrong name fails here, before the store is touched
    if not keys:
        empty = pd.DataFrame(columns=["key"])
        empty.attrs["new"] = 0
        return empty
    with store.writing(wait=wait):
        new = _run_pending(fn, configs, keys, store, executor, threads, progress)
    runs = store.runs().set_index("key").loc[keys].reset_index()
    runs.attrs["new"] = new
    return runs


def _run_pending(fn, configs, keys, store, executor, threads, progress) -> int:
    """Run the configurations not in ``store`` (whose lock this process holds); return how many ran."""
    done = store.finished()
    pending = [c for c, k in zip(configs, keys) if k not in done]
    from ..progress import bar as progress_bar
    from ..progress import show_progress

    show = show_progress(progress)
    bar = progress_bar(len(configs), show, store.sweep, initial=len(configs) - len(pending))
    with bar:
        if executor is None:
            for config in pending:
                metrics, history, prov = _execute(fn, config, threads, show)
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
    return len(pending)


def _die_with_parent() -> None:
    """A pool worker's initializer: end this worker as soon as the process that started it ends.

    A thread watches the parent's pid, which changes when the parent dies
    (the worker is re-parented).  Not ``PR_SET_PDEATHSIG``: Linux sends that
    when the parent *thread* that forked the worker exits, which kills the
    workers of a pool first used from a short-lived thread.
    """
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, name="wdlib-watch-parent", daemon=True).start()


def process_pool(workers: int) -> cf.ProcessPoolExecutor:
    """A ``ProcessPoolExecutor`` whose workers end when this process ends, even when it is SIGKILLed.

    A plain pool's workers outlive a killed parent (each finishes its run and
    then waits on the pool's pipes, holding its memory); these exit within
    about 0.2 s.  ``--executor processes:N`` uses this pool.
    """
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    return cf.ProcessPoolExecutor(workers, initializer=_die_with_parent)


def workers(spec: str) -> int:
    """How many runs an executor spec runs at once on this machine (dask:ADDRESS: unknown, 1)."""
    kind, _, arg = spec.partition(":")
    return int(arg) if kind in ("processes", "dask-local") and arg.isdigit() and int(arg) >= 1 else 1


def executor(spec: str):
    """An executor from a spec: ``serial``, ``processes:N``, ``dask:ADDRESS`` or ``dask-local:N``; returns
    ``(executor or None, close)``.  ``processes:N`` is :func:`process_pool` (workers die with this process)."""
    if spec == "serial":
        return None, lambda: None
    kind, _, arg = spec.partition(":")
    if kind == "processes" and arg.isdigit() and int(arg) >= 1:
        ex = process_pool(int(arg))
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
