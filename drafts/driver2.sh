#!/usr/bin/env bash
# Waits for the running basin sweep, then runs the rest (each at the commit in /work/notes/sweep-commit).
while pgrep -f "wdlib.sweep fmnist-basin" >/dev/null; do sleep 20; done
echo "== basin finished $(date -u +%H:%M:%S)"
exec /work/notes/driver.sh fmnist-resnet fmnist-scale fmnist-timing fmnist-equilibrium
