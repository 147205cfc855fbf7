"""Downloads with pooch: canonical URLs, known sha256, archives unpacked, nothing half-kept.

pooch fetches each URL into a temporary folder inside the destination (a
direct file against its known sha256; an archive, whose own hash is not
pinned, is unpacked with ``pooch.Untar``/``pooch.Unzip`` and each member is
checked against its sha256 instead).  Only when every file of a URL checks out
are they moved into ``dest/<dataset>/`` (``os.replace``, atomic); a failure
leaves neither partial files nor empty folders behind.
"""

from __future__ import annotations

import functools
import os
import shutil
import tarfile
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from . import (ChecksumError, DataFile, DataNotFoundError, _find, cache_dir, dataset_files, datasets, how_to_obtain,
               search_path, sha256)  # fmt: skip

#: Environment variable naming a mirror: ``<mirror>/<dataset>/<file name of the canonical URL>``.
MIRROR_VAR = "WDLIB_DATA_MIRROR"


class FetchError(DataNotFoundError):
    """One or more downloads failed; ``detail`` holds one line per failed URL."""

    def __init__(self, message: str, detail: str):
        super().__init__(message)
        self.detail = detail


def source_url(spec: DataFile, mirror: str | None = None) -> str:
    """The URL ``spec`` is downloaded from: its canonical one, or its place on ``mirror`` (or ``$WDLIB_DATA_MIRROR``)."""
    mirror = mirror if mirror is not None else os.environ.get(MIRROR_VAR)
    if not mirror:
        return spec.url
    return f"{mirror.rstrip('/')}/{spec.dataset}/{spec.url.rsplit('/', 1)[-1]}"


def _by_url(specs: Iterable[DataFile]) -> dict[str, list[DataFile]]:
    groups: dict[str, list[DataFile]] = {}
    for spec in specs:
        groups.setdefault(spec.url, []).append(spec)
    return groups


def _absent_parents(folder: Path) -> list[Path]:
    """``folder`` and its ancestors that do not exist yet, deepest first (what a failure must remove again)."""
    out = []
    for p in [folder, *folder.parents]:
        if p.exists():
            break
        out.append(p)
    return out


def _remove_if_empty(folders: Iterable[Path]) -> None:
    for folder in folders:  # deepest first
        try:
            folder.rmdir()
        except OSError:  # not empty, or already gone
            pass


def _retrieve(url: str, group: Sequence[DataFile], tmp: Path, progress: bool) -> dict[str, Path]:
    """Download ``url`` into ``tmp``; return ``name -> path`` of ``group``'s files, each sha256-checked."""
    import pooch

    retrieve = functools.partial(pooch.retrieve, url, path=tmp, progressbar=progress)
    fname = url.rsplit("/", 1)[-1] or "download"
    if group[0].direct:
        spec = group[0]
        try:
            path = retrieve(known_hash=f"sha256:{spec.sha256}", fname=spec.name)
        except ValueError as exc:  # pooch's hash mismatch
            raise ChecksumError(f"{url} served a file whose sha256 is not {spec.sha256}; nothing was saved "
                                f"({exc})") from exc  # fmt: skip
        return {spec.name: Path(path)}
    members = [s.member for s in group]
    if fname.endswith(".zip"):
        processor = pooch.Unzip(members=members, extract_dir="unpacked")
    elif fname.endswith((".tar.gz", ".tgz", ".tar")):
        processor = pooch.Untar(members=members, extract_dir="unpacked")
    else:
        raise ValueError(f"{url}: not a .zip, .tar.gz or .tar archive")
    retrieve(known_hash=None, fname=fname, processor=processor)
    out = {}
    for spec in group:
        path = tmp / "unpacked" / spec.member
        if not path.is_file():
            raise KeyError(f"{url} holds no {spec.member}")
        if (digest := sha256(path)) != spec.sha256:
            raise ChecksumError(f"{spec.member} in {url} has sha256 {digest}, expected {spec.sha256}; "
                                "nothing was saved")  # fmt: skip
        out[spec.name] = path
    return out


def download_files(specs: Sequence[DataFile], dest: str | Path, *, mirror: str | None = None,
                   progress: bool = False, log=None) -> list[Path]:  # fmt: skip
    """Download ``specs`` into ``dest/<dataset>/<name>``, all files of one URL or none of them.

    Raises
    ------
    FetchError
        After trying every URL, one line per failure; the files of the URLs
        that worked are kept, and no empty folder is left behind.
    """
    import pooch

    dest = Path(dest).expanduser()
    created = _absent_parents(dest)
    failures, done = [], []
    quiet = pooch.get_logger().level
    pooch.get_logger().setLevel("WARNING")  # we say what is downloaded, once
    try:
        for url, group in _by_url(specs).items():
            src = source_url(group[0], mirror)
            if log:
                log(f"downloading {src}")
            made = _absent_parents(dest / group[0].dataset)
            dest.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".wdlib-download-", dir=dest))
            try:
                files = _retrieve(src, group, tmp, progress)
                for spec in group:
                    target = dest / spec.dataset / spec.name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(files[spec.name], target)
                    done.append(target)
            except (OSError, ValueError, KeyError, tarfile.TarError, zipfile.BadZipFile) as exc:
                # OSError includes requests' errors (offline, refused, 404) and a full disk
                failures.append((group, f"Downloading {src} failed: {exc}"))
                _remove_if_empty(made)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    finally:
        pooch.get_logger().setLevel(quiet)
        if not done:
            _remove_if_empty(created)
    if failures:
        detail = "\n".join(line for _, line in failures)
        how = [line for group, _ in failures for line in how_to_obtain(group, dest)]
        raise FetchError(f"{detail}\nTo fix, by hand:\n  - " + "\n  - ".join(how), detail)
    return done


def fetch_datasets(names: Iterable[str] | None = None, *, dest: str | Path | None = None,
                   mirror: str | None = None, progress: bool = False, log=None) -> dict[str, list[Path]]:  # fmt: skip
    """:func:`wdlib.data.fetch`."""
    wanted = datasets() if names is None else list(dict.fromkeys(names))
    specs = {d: dataset_files(d) for d in wanted}  # unknown names fail before any download
    dest = Path(dest).expanduser() if dest is not None else cache_dir()
    bases = [*search_path(), dest]
    found = {(s.dataset, s.name): _find(s, bases, verify=True) for d in wanted for s in specs[d]}
    absent = [s for d in wanted for s in specs[d] if found[(s.dataset, s.name)] is None]
    if log:
        for d in wanted:
            have = [s.name for s in specs[d] if found[(d, s.name)] is not None]
            if len(have) == len(specs[d]):
                log(f"{d}: present ({found[(d, specs[d][0].name)].parent})")
    if absent:
        for path in download_files(absent, dest, mirror=mirror, progress=progress, log=log):
            found[(path.parent.name, path.name)] = path
            if log:
                log(f"  stored {path}")
    return {d: [found[(d, s.name)] for s in specs[d]] for d in wanted}
