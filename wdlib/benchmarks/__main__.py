"""``python -m wdlib.benchmarks NAME [options]``: run one benchmark and print its table."""

import sys

from . import ridge, throughput


def _recheck(argv):  # imports torch and the experiments: only when asked for
    from . import recheck

    return recheck.main(argv)


BENCHMARKS = {"ridge": ridge.main, "throughput": throughput.main, "recheck": _recheck}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in BENCHMARKS:
        print(f"usage: python -m wdlib.benchmarks {{{','.join(BENCHMARKS)}}} [options]  (--help for options)",
              file=sys.stderr)
        return 2
    return BENCHMARKS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
