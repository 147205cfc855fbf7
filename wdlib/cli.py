"""The command line that joins the sweep engine (:mod:`wdlib.sweep`) and the book's catalogue of sweeps
(:mod:`wdlib.experiments`): ``python -m wdlib.sweep NAME ...`` (also installed as ``wdlib-sweep``).

The engine knows nothing about chapters; the catalogue knows nothing about
command lines; this module is the only one that imports both.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from .experiments import CHAPTER_SWEEPS, SWEEPS, results_folder
from .sweep import (
    IncompatibleStoreError,
    Store,
    StoreBusyError,
    _atomic_write,
    executor,
    provenance,
    run_sweep,
    workers,
)

__all__ = ["main"]


def _write_chapter_metadata(folder: Path, record: dict, command: str | None = None) -> None:
    """Append this invocation to ``metadata.json`` of a chapter's results folder.

    ``command`` (default: the invocation's) is the one that regenerates every
    result of the chapter; the run counts of the invocation's sweeps replace
    those recorded before, the other sweeps' stay.
    """
    path = folder / "metadata.json"
    meta = json.loads(path.read_text()) if path.is_file() else {}
    sessions = meta.get("sessions", [])
    sessions.append(record)
    meta.update({"command": command or record["command"], "sweeps": {**meta.get("sweeps", {}), **record["sweeps"]},
                 "sessions": sessions, "wall_seconds_total": sum(s["wall_seconds"] for s in sessions)})
    folder.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, lambda tmp: Path(tmp).write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wdlib.sweep", description="Run a named sweep (resumable).")
    parser.add_argument("name", help=f"a sweep ({', '.join(SWEEPS)}) or a chapter's sweeps ({', '.join(CHAPTER_SWEEPS)})")
    parser.add_argument("--profile", default="quick", help="size of the sweep (each sweep lists its profiles)")
    parser.add_argument("--store", help="results folder (default: data/results/... for a full profile with "
                                        "committed results, else runs/<name>-<profile>)")
    parser.add_argument("--format", default="csv", choices=["csv", "parquet"])
    parser.add_argument("--executor", default="serial", help="serial, processes:N, dask:ADDRESS or dask-local:N")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads per run (default: CPUs ÷ parallel workers; equal bits need equal threads)")
    parser.add_argument("--rerun", metavar="KEY", help="execute one stored run again and compare it with the store: "
                        "bit for bit where the row's numerics (CPU, kernels, versions, threads) match this machine")
    parser.add_argument("--prefix", type=int, metavar="N", help="with --rerun: run only the first N epochs (steps "
                        "for a language model) and compare the history's first rows")
    parser.add_argument("--rtol", metavar="R", help="with --rerun, where bits are not expected: pass if every compared "
                        "value is within this relative difference, or 'auto' (with --prefix) for ten times the run's "
                        "rounding sensitivity measured here (default: report only)")
    parser.add_argument("--device", default=None, metavar="DEVICE",
                        help="where the runs compute: cpu, cuda, cuda:N or auto (sets WDLIB_DEVICE for every worker; "
                             "default: $WDLIB_DEVICE, else cpu). Rows record the device they ran on")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="progress bars (default: when a terminal is watching)")
    parser.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                        help="wait this long for another process writing the same store, then give up (default 0)")
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
    if args.device is not None:
        os.environ["WDLIB_DEVICE"] = args.device  # before any worker starts: they inherit it
        from .train import default_device

        try:
            default_device()
        except ValueError as exc:
            parser.error(str(exc).replace("WDLIB_DEVICE=", "--device "))

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
        from .recheck import main_rerun

        return main_rerun(SWEEPS[args.name].fn, store_for(args.name), args.rerun, prefix=args.prefix, rtol=args.rtol)
    try:
        pool, close = executor(args.executor)
    except ValueError as exc:
        parser.error(str(exc))
    if args.threads is None:
        args.threads = max(1, (os.cpu_count() or 1) // workers(args.executor))
    if args.threads < 1:
        parser.error(f"--threads must be >= 1, got {args.threads}")
    started, start = datetime.now(timezone.utc).isoformat(timespec="seconds"), time.perf_counter()
    counts = {}
    try:
        for name in names:
            try:
                store = store_for(name)
                runs = run_sweep(SWEEPS[name].fn, SWEEPS[name].configs(args.profile), store, executor=pool,
                                 threads=args.threads, progress=args.progress, wait=args.wait)
            except (StoreBusyError, IncompatibleStoreError) as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 3
            new = runs.attrs["new"]
            counts[name] = {"runs": len(runs), "new": new, "store": str(store.path),
                            "description": SWEEPS[name].description}
            print(f"{name} ({args.profile}): {len(runs)} runs in {store.path} ({new} new, {len(runs) - new} already "
                  "there)", flush=True)
    finally:
        close()
    # a chapter's sweeps run into its committed folders (the whole chapter, or one of its sweeps): record the session
    owner = args.name if chapter else next((c for c, ns in CHAPTER_SWEEPS.items() if args.name in ns), None)
    if owner and args.profile == "full" and not args.store:
        flags = f"--profile full --executor {args.executor} --threads {args.threads}"
        if args.device:
            flags += f" --device {args.device}"
        _write_chapter_metadata(results_folder(names[0]).parent, {
            "command": f"python -m wdlib.sweep {args.name} {flags}", "sweeps": counts, "started_at": started,
            "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "wall_seconds": round(time.perf_counter() - start, 1), **provenance(), "threads": args.threads,
            "executor": args.executor}, command=f"python -m wdlib.sweep {owner} {flags}")
    return 0
