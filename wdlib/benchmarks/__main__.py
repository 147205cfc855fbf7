"""``python -m wdlib.benchmarks NAME [options]``: run one benchmark and print its table."""

import importlib
import sys

#: benchmark name -> its module (imported only when asked for: ``throughput`` and ``recheck`` need torch)
BENCHMARKS = {"ridge": "ridge", "throughput": "throughput", "recheck": "recheck", "precision": "precision"}
_USAGE = (f"usage: python -m wdlib.benchmarks {{{','.join(BENCHMARKS)}}} [options]  (NAME --help for options)\n"
          "  ridge       closed-form ridge paths and LOO/GCV against scikit-learn (numpy only)\n"
          "  throughput  training speed: wdlib.train.fit before/after against the best bare loop (needs torch)\n"
          "  recheck     re-check tolerances against rounding perturbations (needs torch and the datasets)\n"
          "  precision   bfloat16 against float32 on chapter 5's configurations, paired by seed (needs torch)")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("-h", "--help"):
        print(_USAGE)
        return 0
    if not argv or argv[0] not in BENCHMARKS:
        print(_USAGE, file=sys.stderr)
        return 2
    module = importlib.import_module(f"{__package__}.{BENCHMARKS[argv[0]]}")
    return module.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
