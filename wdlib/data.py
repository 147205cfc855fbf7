"""Find dataset files on a search path and verify their checksums.

No dataset is committed to the repository.  A file ``<dataset>/<name>`` is
looked for, in order, under

1. each folder of the environment variable ``WDLIB_DATA_PATH``
   (``os.pathsep``-separated),
2. ``./data``, then the ``data/`` folder of the source tree ``wdlib`` was
   imported from (the repository's, for an editable install),
3. ``~/.cache/wdlib``,
4. the system folder of the dataset's Debian package, if it has one
   (Fashion-MNIST: ``/usr/share/datasets/fashion-mnist``).

Every file found is checked against the sha256 recorded here.  A missing file
raises :class:`DataNotFoundError` naming the file, the folders searched, the
Debian package to install and the canonical URL to download from.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "FILES",
    "PROSTATE_FEATURES",
    "ChecksumError",
    "DataFile",
    "DataNotFoundError",
    "load_prostate",
    "locate",
    "search_path",
    "sha256",
]

ENV_VAR = "WDLIB_DATA_PATH"


class DataNotFoundError(FileNotFoundError):
    """A dataset file is on none of the search-path folders."""


class ChecksumError(ValueError):
    """A dataset file's sha256 differs from the recorded one."""


@dataclass(frozen=True)
class DataFile:
    """One file of a dataset: where it lives and how to check and obtain it."""

    dataset: str
    name: str
    sha256: str
    url: str
    debian_package: str | None = None
    system_dir: str | None = None


_FMNIST = {  # name -> sha256 of the four IDX files, as Debian and the canonical site ship them
    "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
    "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
    "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
    "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
}
_MR = "https://www.cs.cornell.edu/people/pabo/movie-review-data/rt-polaritydata.tar.gz (inside the archive)"
_SST2 = "GLUE SST-2 (https://gluebenchmark.com/tasks); labelled test split from github.com/awake020/pytorch_Bert_sst2"
_FILES = [
    *(DataFile("fashion-mnist", name, digest, f"http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/{name}",
               "dataset-fashion-mnist", "/usr/share/datasets/fashion-mnist") for name, digest in _FMNIST.items()),
    DataFile("mr", "rt-polarity.pos", "2da124ec187a9d5a29c9f04e91c540e02baed5af8868f550a26bd6fd4dbf8bf0", _MR),
    DataFile("mr", "rt-polarity.neg", "4ace77d558c3714723843f1d65b60c01e3417b208180f0728808d76ad0eeeaca", _MR),
    DataFile("sst2", "train.tsv", "e981ceb4fe6c9acd1c79851d0d091b9e78103f1f2a399ca83dda27915d41c56c", _SST2),
    DataFile("sst2", "dev.tsv", "84207e6be5873fb18db798cc6faec86871f5a426554650ff64a1c34e87665f6f", _SST2),
    DataFile("sst2", "test.tsv", "fcd46f967b7b8efd8b5398481dadf873886298d092195167af907fd532e81e1c", _SST2),
    DataFile("prostate", "prostate.data", "b430e3ee430d836672e30615ceda161ded50a8cf4701fe130580eab5153aa0b2",
             "https://hastie.su.domains/ElemStatLearn/datasets/prostate.data"),
    DataFile("tinyshakespeare", "input.txt", "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
             "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"),
]  # fmt: skip
#: ``(dataset, name) -> DataFile`` for every file the book uses.
FILES: dict[tuple[str, str], DataFile] = {(f.dataset, f.name): f for f in _FILES}


def _source_data() -> Path:
    """The ``data/`` folder of the source tree this module was imported from (a repository checkout)."""
    return Path(__file__).resolve().parents[1] / "data"


def search_path() -> list[Path]:
    """Folders searched, in order, for ``<dataset>/<name>`` (plus the dataset's system folder)."""
    folders = [Path(p).expanduser() for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p]
    folders.append(Path.cwd() / "data")
    source_data = _source_data()
    if source_data.is_dir() and source_data != folders[-1].resolve():
        folders.append(source_data)
    folders.append(Path.home() / ".cache" / "wdlib")
    return folders


def sha256(path: str | Path, *, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def locate(dataset: str, name: str, *, folders: list[str | Path] | None = None, verify: bool = True) -> Path:
    """Path of a verified dataset file.

    Parameters
    ----------
    dataset, name : str
        A key of :data:`FILES`, e.g. ``("fashion-mnist", "train-images-idx3-ubyte.gz")``.
    folders : list of path, optional
        Search these instead of :func:`search_path` (the system folder is still tried).
    verify : bool, default True
        Check the sha256.

    Raises
    ------
    DataNotFoundError
        Naming the file, the folders searched, the Debian package and the URL.
    ChecksumError
        If the file found has another sha256.
    """
    try:
        spec = FILES[(dataset, name)]
    except KeyError:
        known = ", ".join(f"{d}/{n}" for d, n in FILES)
        raise ValueError(f"unknown dataset file {dataset}/{name}; known files: {known}.") from None
    bases = [Path(f) for f in folders] if folders is not None else search_path()
    candidates = [b / dataset / name for b in bases]
    if spec.system_dir:
        candidates.append(Path(spec.system_dir) / name)
    for path in candidates:
        if path.is_file():
            if verify and (digest := sha256(path)) != spec.sha256:
                raise ChecksumError(
                    f"{path} has sha256 {digest}, expected {spec.sha256}: the file is corrupt or a "
                    f"different version. Delete it and obtain it again from {spec.url}."
                )
            return path
    how = []
    if spec.debian_package:
        how.append(f"install the Debian package: apt-get install -y {spec.debian_package} (puts it in {spec.system_dir})")
    # suggest the repository's data/ where it is searched (it outlives build folders), else the first folder
    home = next((b for b in bases if b == _source_data()), bases[0] if bases else Path("data"))
    target = home / dataset
    how.append(f"download {spec.url} and put {name} in {target}/")
    how.append(f"set {ENV_VAR} to a folder that contains {dataset}/{name}")
    searched = "\n  ".join(str(c) for c in candidates)
    raise DataNotFoundError(f"{dataset} file {name!r} not found. Searched:\n  {searched}\nTo fix: " + "; or ".join(how) + ".")


#: The eight predictors of the prostate data, in ESL's order.
PROSTATE_FEATURES = ("lcavol", "lweight", "age", "lbph", "svi", "lcp", "gleason", "pgg45")


def load_prostate(*, folders: list[str | Path] | None = None):
    """The prostate cancer data of Stamey et al. (1989), as in ESL §3.2.

    Returns
    -------
    pandas.DataFrame
        97 rows: the eight :data:`PROSTATE_FEATURES`, the response ``lpsa`` and
        ``train`` (bool; 67 training and 30 test rows, ESL's split).
    """
    import pandas as pd

    path = locate("prostate", "prostate.data", folders=folders)
    df = pd.read_csv(path, sep="\t", index_col=0)
    expected = [*PROSTATE_FEATURES, "lpsa", "train"]
    if list(df.columns) != expected or len(df) != 97:
        raise ValueError(f"{path} does not have the prostate layout: expected 97 rows with columns {expected}, "
                         f"got {len(df)} rows with {list(df.columns)}")
    df["train"] = df["train"].map({1: True, 0: False, "T": True, "F": False}).astype(bool)
    return df
