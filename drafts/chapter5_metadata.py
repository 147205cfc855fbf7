"""Rebuilds data/results/05_vision/metadata.json for the study's sweeps from the background driver's log.

The study's sweeps were run one by one (python -m wdlib.sweep NAME --profile full ...) by a driver script, at
commits before the CLI recorded single-sweep sessions; each session here is one such invocation: its start from
the driver's log, its end from the log or, for a session killed with its machine, the last row it finished.
Run from the repository root: python drafts/chapter5_metadata.py /work/notes/sweeps.log
"""
import json
import re
import sys
from datetime import datetime
from pathlib import Path

import pandas as pd

from wdlib.experiments import CHAPTER_SWEEPS, SWEEPS, results_folder

DAY = "2026-11-30"
FLAGS = "--profile full --executor processes:2 --threads 1"


def stamp(hms):
    return datetime.fromisoformat(f"{DAY}T{hms}+00:00")


sessions, open_ = [], {}
for line in Path(sys.argv[1]).read_text().splitlines():
    m = re.match(r"== (\S+) (\d\d:\d\d:\d\d) at (\w+)", line)
    if m and m.group(1) in CHAPTER_SWEEPS["05_vision"]:
        if m.group(1) in open_:  # started again without a "done": the earlier one was killed before this start
            killed = open_.pop(m.group(1))
            killed["limit"] = stamp(m.group(2))
            sessions.append(killed)
        open_[m.group(1)] = {"name": m.group(1), "start": stamp(m.group(2)), "commit": m.group(3), "end": None}
        continue
    m = re.match(r"== (\S+) done (\d\d:\d\d:\d\d)", line)
    if m and m.group(1) in open_:
        s = open_.pop(m.group(1))
        s["end"] = stamp(m.group(2))
        sessions.append(s)
sessions += open_.values()
sessions.sort(key=lambda s: s["start"])

meta_sessions, sweeps = [], {}
for s in sessions:
    runs = pd.read_csv(results_folder(s["name"]) / "runs.csv")
    done = pd.to_datetime(runs["finished_at"], utc=True)
    inside = runs[(done >= s["start"]) & (done <= (s["end"] or s.get("limit") or done.max()))]
    if s["end"] is None:
        s["end"] = pd.to_datetime(inside["finished_at"], utc=True).max().to_pydatetime()
    first = runs.iloc[0]
    meta_sessions.append({
        "command": f"python -m wdlib.sweep {s['name']} {FLAGS}",
        "sweeps": {s["name"]: {"runs": len(inside), "new": len(inside)}},
        "started_at": s["start"].isoformat(timespec="seconds"), "finished_at": s["end"].isoformat(timespec="seconds"),
        "wall_seconds": round((s["end"] - s["start"]).total_seconds(), 1),
        "git_commit": s["commit"], "machine": first["machine"], "torch_version": first["torch_version"],
        "python_version": first["python_version"], "threads": 1, "executor": "processes:2"})
for name in CHAPTER_SWEEPS["05_vision"]:
    n = len(pd.read_csv(results_folder(name) / "runs.csv"))
    sweeps[name] = {"runs": n, "new": n, "store": f"data/results/05_vision/{name}",
                    "description": SWEEPS[name].description}
meta = {"command": f"python -m wdlib.sweep 05_vision {FLAGS}", "sweeps": sweeps, "sessions": meta_sessions,
        "wall_seconds_total": sum(s["wall_seconds"] for s in meta_sessions),
        "note": "sessions rebuilt from the background driver's log (drafts/chapter5_metadata.py, commit message)"}
out = Path("data/results/05_vision/metadata.json")
out.write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n")
print(json.dumps({k: v for k, v in meta.items() if k != "sessions"}, indent=1, ensure_ascii=False))
for s in meta_sessions:
    print(s["command"].split()[3], s["started_at"], s["wall_seconds"], s["sweeps"])
