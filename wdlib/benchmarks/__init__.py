"""Benchmarks that print tables of figures, run on demand (never as timed tests).

``python -m wdlib.benchmarks ridge``  — :mod:`wdlib.benchmarks.ridge`.
``python -m wdlib.benchmarks throughput``  — :mod:`wdlib.benchmarks.throughput`.
``python -m wdlib.benchmarks recheck``  — :mod:`wdlib.benchmarks.recheck`.
``python -m wdlib.benchmarks precision``  — :mod:`wdlib.benchmarks.precision`.

Every figure is a ratio against a baseline measured in the same run, on the
same machine, so the tables travel between machines.
"""

__all__ = ["precision", "recheck", "ridge", "throughput"]
