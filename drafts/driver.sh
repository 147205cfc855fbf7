#!/usr/bin/env bash
# Background driver v2: before each sweep, check out the commit named in /work/notes/sweep-commit.
export WDLIB_DATA_PATH=/work/shared/datasets WDLIB_PROGRESS=0 PYTHONPATH=/work/wt-sweeps
for name in "$@"; do
  git -C /work/wt-sweeps checkout -q --detach "$(cat /work/notes/sweep-commit)"
  echo "== $name $(date -u +%H:%M:%S) at $(git -C /work/wt-sweeps rev-parse --short HEAD)"
  (cd /work/wt-sweeps && nice -n 4 /work/main/.venv/bin/python -m wdlib.sweep "$name" --profile full --executor processes:2 --threads 1)
  echo "== $name done $(date -u +%H:%M:%S) rc=$?"
done
