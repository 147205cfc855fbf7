"""Rebuilds data/results/06_text/metadata.json for the study's sweeps from the background driver's log.

The sweeps ran one by one (python -m wdlib.sweep NAME --profile full ...) under a driver script, some invocations
killed and resumed (the store keeps every finished run); each session here is one invocation: its start from the
driver's log, its end from the log or, for one killed, the last row it finished before the next start.
Run from the repository root: python drafts/chapter6_metadata.py /work/notes/sweeps.log
"""
import json
import re
import sys
from datetime import datetime
from pathlib import Path

import pandas as pd

from wdlib.experiments import CHAPTER_SWEEPS, SWEEPS, results_folder

DAY = "2026-11-30"  # the driver logged times of day only before v3
FLAGS = "--profile full --executor processes:2 --threads 1"
CHAPTER = "06_text"


def stamp(text):
    return datetime.fromisoformat(f"{text}+00:00" if "T" in text else f"{DAY}T{text}+00:00")


sessions, open_ = [], {}
for line in Path(sys.argv[1]).read_text().splitlines():
    m = re.match(r"== (\S+) ([\dT:-]+) at (\w+)", line)
    if m and m.group(1) in CHAPTER_SWEEPS[CHAPTER]:
        if m.group(1) in open_:  # started again without a "done": the earlier one was killed before this start
            killed = open_.pop(m.group(1))
            killed["limit"] = stamp(m.group(2))
            sessions.append(killed)
        open_[m.group(1)] = {"name": m.group(1), "start": stamp(m.group(2)), "commit": m.group(3), "end": None}
        continue
    m = re.match(r"== (\S+) done ([\dT:-]+)", line)
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
    if inside.empty:  # an invocation killed before it finished a run (the driver's checkout had failed)
        continue
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
for name in CHAPTER_SWEEPS[CHAPTER]:
    n = len(pd.read_csv(results_folder(name) / "runs.csv"))
    sweeps[name] = {"runs": n, "new": n, "store": f"data/results/{CHAPTER}/{name}",
                    "description": SWEEPS[name].description}
meta = {"command": f"python -m wdlib.sweep {CHAPTER} {FLAGS}", "sweeps": sweeps, "sessions": meta_sessions,
        "wall_seconds_total": sum(s["wall_seconds"] for s in meta_sessions),
        "note": "sessions rebuilt from the background driver's log (drafts/chapter6_metadata.py, commit message)"}
out = Path(f"data/results/{CHAPTER}/metadata.json")
out.write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n")
print(json.dumps({k: v for k, v in meta.items() if k != "sessions"}, indent=1, ensure_ascii=False))
for s in meta_sessions:
    print(s["command"].split()[3], s["started_at"], s["wall_seconds"], s["sweeps"])
