"""``python -m wdlib.data``: fetch the book's datasets, or say which are where."""

from __future__ import annotations

import argparse
import functools
import sys

from . import ChecksumError, DataNotFoundError, _find, cache_dir, dataset_files, datasets, fetch, search_path
from ._download import MIRROR_VAR


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wdlib.data", description=__doc__.split(":", 1)[1].strip())
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fetch", help="download missing datasets from their canonical URLs (sha256-checked)")
    f.add_argument("names", nargs="*", metavar="DATASET", help=f"datasets (default: all of {', '.join(datasets())})")
    f.add_argument("--dest", help=f"folder to store them in (default: {cache_dir()}, set by WDLIB_CACHE_DIR)")
    f.add_argument("--mirror", help=f"fetch <MIRROR>/<dataset>/<file> instead of the canonical URLs (or ${MIRROR_VAR})")
    s = sub.add_parser("status", help="where each dataset file is found, or that it is missing")
    s.add_argument("names", nargs="*", metavar="DATASET")
    args = parser.parse_args(argv)
    log = functools.partial(print, flush=True)
    try:
        if args.command == "fetch":
            fetch(args.names or None, dest=args.dest, mirror=args.mirror, progress=sys.stderr.isatty(), log=log)
            return 0
        missing = 0
        for d in args.names or datasets():
            for spec in dataset_files(d):
                path = _find(spec, search_path(), verify=True)
                missing += path is None
                print(f"{d}/{spec.name}: {path or 'MISSING'}")
        if missing:
            print(f"{missing} file(s) missing: python -m wdlib.data fetch (or make data)")
        return 1 if missing else 0
    except (DataNotFoundError, ChecksumError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
