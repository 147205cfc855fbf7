"""Downloads with pooch: canonical URLs, known sha256, archives unpacked, nothing half-kept.

This module knows URLs, hashes and folders only (it imports nothing of
:mod:`wdlib.data`, which calls it); ``spec`` is a :class:`wdlib.data.DataFile`.

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
from collections.abc import Iterable, Sequence
from pathlib import Path

#: Environment variable naming a mirror: ``<mirror>/<dataset>/<file name of the canonical URL>``.
MIRROR_VAR = "WDLIB_DATA_MIRROR"


def source_url(spec, mirror: str | None = None) -> str:
    """The URL ``spec`` is downloaded from: its canonical one, or its place on ``mirror`` (or ``$WDLIB_DATA_MIRROR``)."""
    mirror = mirror if mirror is not None else os.environ.get(MIRROR_VAR)
    if not mirror:
        return spec.url
    return f"{mirror.rstrip('/')}/{spec.dataset}/{spec.url.rsplit('/', 1)[-1]}"


def by_url(specs: Iterable) -> dict[str, list]:
    """``url -> specs`` it serves, in order."""
    groups: dict[str, list] = {}
    for spec in specs:
        groups.setdefault(spec.url, []).append(spec)
    return groups


def absent_parents(folder: Path) -> list[Path]:
    """``folder`` and its ancestors that do not exist yet, deepest first (what a failure must remove again)."""
    out = []
    for p in [folder, *folder.parents]:
        if p.exists():
            break
        out.append(p)
    return out


def remove_if_empty(folders: Iterable[Path]) -> None:
    for folder in folders:  # deepest first
        try:
            folder.rmdir()
        except OSError:  # not empty, or already gone
            pass


def retrieve(url: str, group: Sequence, tmp: Path, progress: bool) -> dict[str, Path]:
    """Download ``url`` into ``tmp``; return ``name -> path`` of ``group``'s files, each sha256-checked."""
    import pooch

    retrieve = functools.partial(pooch.retrieve, url, path=tmp, progressbar=progress)
    fname = url.rsplit("/", 1)[-1] or "download"
    if group[0].direct:
        spec = group[0]
        try:
            path = retrieve(known_hash=f"sha256:{spec.sha256}", fname=spec.name)
        except ValueError as exc:  # pooch's hash mismatch
            raise ValueError(f"{url} served a file whose sha256 is not {spec.sha256}; nothing was saved "
                             f"({exc})") from exc
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
        if (digest := pooch.file_hash(str(path), alg="sha256")) != spec.sha256:
            raise ValueError(f"{spec.member} in {url} has sha256 {digest}, expected {spec.sha256}; "
                             "nothing was saved")
        out[spec.name] = path
    return out
