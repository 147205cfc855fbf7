"""Find dataset files on a search path and verify their checksums.

No dataset is committed to the repository.  A file ``<dataset>/<name>`` is
looked for, in order, under

1. each folder of the environment variable ``WDLIB_DATA_PATH``
   (``os.pathsep``-separated),
2. ``./data``, then the ``data/`` folder of the source tree ``wdlib`` was
   imported from (the repository's, for an editable install),
3. the download cache, :func:`cache_dir` (``$WDLIB_CACHE_DIR``, default
   ``~/.cache/wdlib``),
4. the system folder of the dataset's Debian package, if it has one
   (Fashion-MNIST: ``/usr/share/datasets/fashion-mnist``).

Every file found is checked against the sha256 recorded here.  Missing files
are downloaded from their canonical URL (a file, or an archive that holds them)
into the cache by :func:`fetch` (``python -m wdlib.data fetch [DATASET...]``,
``make data``) or when a loader is called with ``download=True``, and kept only
if their sha256 matches.  Otherwise (or offline) :class:`DataNotFoundError`
names every missing file, the folders searched, the command that fetches them,
the Debian package, the URL and where to put what.

The loaders return in-memory tensors, ready for :func:`wdlib.train.fit`:

- :func:`load_fashion_mnist`: float images ``(N, 1, 28, 28)`` in [0, 1] and
  labels; 60,000 / 10,000.
- :func:`load_cifar10`: float images ``(N, 3, 32, 32)`` in [0, 1] and labels;
  50,000 / 10,000.
- :func:`load_mr`: texts and labels (1 = positive); 5,331 + 5,331.
- :func:`load_sst2`: texts and labels (1 = positive); 67,349 / 872 / 1,821.
- :func:`load_tinyshakespeare`: the text; 1,115,394 characters.

Text becomes tensors through :func:`tokenize` (Kim's ``clean_str``),
:class:`Vocab` and :func:`pad_sequences`; subsets, splits and folds come from
a seed (:func:`subset_indices`, :func:`split_indices`, :func:`kfold_indices`).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import shutil
import tarfile
import tempfile
import urllib.error
import zipfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .. import _checks

if TYPE_CHECKING:
    import torch

__all__ = [
    "CIFAR10_URL",
    "FASHION_MNIST_CLASSES",
    "FILES",
    "LOADERS",
    "FetchError",
    "PROSTATE_FEATURES",
    "ChecksumError",
    "DataFile",
    "DataNotFoundError",
    "ProstateSplit",
    "Vocab",
    "cache_dir",
    "dataset_files",
    "datasets",
    "download_files",
    "fashion_mnist_torchvision",
    "fetch",
    "how_to_obtain",
    "kfold_indices",
    "load_cifar10",
    "load_fashion_mnist",
    "load_mr",
    "load_prostate",
    "prostate_split",
    "load_sst2",
    "load_tinyshakespeare",
    "locate",
    "locate_all",
    "missing",
    "missing_message",
    "pad_sequences",
    "read_idx",
    "search_path",
    "sha256",
    "split_indices",
    "subset_indices",
    "tokenize",
]

ENV_VAR = "WDLIB_DATA_PATH"
#: Overrides where downloads are stored (default ``~/.cache/wdlib``).
CACHE_VAR = "WDLIB_CACHE_DIR"


class DataNotFoundError(FileNotFoundError):
    """A dataset file is on none of the search-path folders."""


class ChecksumError(ValueError):
    """A dataset file's sha256 differs from the recorded one."""



@dataclass(frozen=True)
class DataFile:
    """One file of a dataset: where it lives and how to check and obtain it.

    ``url`` serves the file itself or, when ``member`` is set, an archive
    (``.tar.gz`` or ``.zip``) that holds it at the path ``member``.
    """

    dataset: str
    name: str
    sha256: str
    url: str
    debian_package: str | None = None
    system_dir: str | None = None
    member: str | None = None

    @property
    def direct(self) -> bool:
        """``url`` serves this very file (not an archive)."""
        return self.member is None


_FMNIST = {  # name -> sha256 of the four IDX files, as Debian and the canonical site ship them
    "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
    "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
    "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
    "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
}
_FMNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_MR_URL = "https://www.cs.cornell.edu/people/pabo/movie-review-data/rt-polaritydata.tar.gz"
# GLUE's SST-2.zip holds train/dev as "sentence<TAB>label" and an unlabelled test split; Kim's labelled
# split with the "label<TAB>..." layout (and these bytes) is the redistribution below, pinned to a commit.
_SST2_URL = "https://raw.githubusercontent.com/awake020/pytorch_Bert_sst2/54e22ca58a656750f474ec61ebccaf5ff596de96/SST-2/"
_FILES = [
    *(DataFile("fashion-mnist", name, digest, _FMNIST_URL + name, "dataset-fashion-mnist",
               "/usr/share/datasets/fashion-mnist") for name, digest in _FMNIST.items()),
    DataFile("mr", "rt-polarity.pos", "2da124ec187a9d5a29c9f04e91c540e02baed5af8868f550a26bd6fd4dbf8bf0", _MR_URL,
             member="rt-polaritydata/rt-polarity.pos"),
    DataFile("mr", "rt-polarity.neg", "4ace77d558c3714723843f1d65b60c01e3417b208180f0728808d76ad0eeeaca", _MR_URL,
             member="rt-polaritydata/rt-polarity.neg"),
    DataFile("sst2", "train.tsv", "e981ceb4fe6c9acd1c79851d0d091b9e78103f1f2a399ca83dda27915d41c56c", _SST2_URL + "train.tsv"),
    DataFile("sst2", "dev.tsv", "84207e6be5873fb18db798cc6faec86871f5a426554650ff64a1c34e87665f6f", _SST2_URL + "dev.tsv"),
    DataFile("sst2", "test.tsv", "fcd46f967b7b8efd8b5398481dadf873886298d092195167af907fd532e81e1c", _SST2_URL + "test.tsv"),
    DataFile("prostate", "prostate.data", "b430e3ee430d836672e30615ceda161ded50a8cf4701fe130580eab5153aa0b2",
             "https://hastie.su.domains/ElemStatLearn/datasets/prostate.data"),
    DataFile("tinyshakespeare", "input.txt", "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
             "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"),
]
#: ``(dataset, name) -> DataFile`` for every file the book uses.
FILES: dict[tuple[str, str], DataFile] = {(f.dataset, f.name): f for f in _FILES}
#: Which dataset each loader reads (the book checks a chapter's data by the loaders it calls).
LOADERS = {"load_fashion_mnist": "fashion-mnist", "fashion_mnist_torchvision": "fashion-mnist", "load_mr": "mr",
           "load_sst2": "sst2", "load_prostate": "prostate", "prostate_split": "prostate",
           "load_tinyshakespeare": "tinyshakespeare"}


def datasets() -> list[str]:
    """The datasets of :data:`FILES`, in order."""
    return list(dict.fromkeys(d for d, _ in FILES))


def dataset_files(dataset: str) -> list[DataFile]:
    """The files of one dataset; ``ValueError`` naming the known datasets for an unknown one."""
    files = [f for f in FILES.values() if f.dataset == dataset]
    if not files:
        raise ValueError(f"unknown dataset {dataset!r}; known datasets: {', '.join(datasets())}")
    return files


def _source_data() -> Path:
    """The ``data/`` folder of the source tree this module was imported from (a repository checkout)."""
    return Path(__file__).resolve().parents[2] / "data"


def cache_dir() -> Path:
    """Where downloads go: ``$WDLIB_CACHE_DIR``, else ``~/.cache/wdlib`` (always on the search path)."""
    return Path(os.environ.get(CACHE_VAR) or Path.home() / ".cache" / "wdlib").expanduser()


def search_path() -> list[Path]:
    """Folders searched, in order, for ``<dataset>/<name>`` (plus the dataset's system folder)."""
    folders = [Path(p).expanduser() for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p]
    folders.append(Path.cwd() / "data")
    source_data = _source_data()
    if source_data.is_dir() and source_data != folders[-1].resolve():
        folders.append(source_data)
    folders.append(cache_dir())
    return folders


def sha256(path: str | Path, *, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def _candidates(spec: DataFile, bases: list[Path]) -> list[Path]:
    out = [b / spec.dataset / spec.name for b in bases]
    if spec.system_dir:
        out.append(Path(spec.system_dir) / spec.name)
    return out


def _find(spec: DataFile, bases: list[Path], verify: bool) -> Path | None:
    """The first candidate that exists (checked), or None; a wrong sha256 is a :class:`ChecksumError`."""
    for path in _candidates(spec, bases):
        if path.is_file():
            if verify and (digest := sha256(path)) != spec.sha256:
                raise ChecksumError(
                    f"{path} has sha256 {digest}, expected {spec.sha256}: the file is corrupt, truncated or a "
                    f"different version. Delete it and obtain it again from {spec.url}."
                )
            return path
    return None


def _spec(dataset: str, name: str) -> DataFile:
    try:
        return FILES[(dataset, name)]
    except KeyError:
        known = ", ".join(f"{d}/{n}" for d, n in FILES)
        raise ValueError(f"unknown dataset file {dataset}/{name}; known files: {known}.") from None


def how_to_obtain(specs: Sequence[DataFile], folder: str | Path) -> list[str]:
    """What to do, by hand, to obtain ``specs`` into ``folder`` (one line per URL; archives name their members).

    Parameters
    ----------
    specs : sequence of DataFile
        The files to obtain.
    folder : path
        Where they should go (each in ``folder/<dataset>/``).
    """
    lines, by_url = [], {}
    for spec in specs:
        by_url.setdefault(spec.url, []).append(spec)
    for url, group in by_url.items():
        target = Path(folder) / group[0].dataset
        names = " and ".join(s.name for s in group)
        if group[0].member:
            members = " and ".join(s.member for s in group)
            lines.append(f"download {url}, extract {members} from it and put {names} in {target}/")
        else:
            lines.append(f"download {url} and put {names} in {target}/")
    return lines


def missing_message(specs: Sequence[DataFile], searched: Sequence[Path], *, failure: str = "") -> str:
    """The error for files found nowhere: which, where searched, and every way to obtain them.

    Parameters
    ----------
    specs : sequence of DataFile
        The missing files.
    searched : sequence of Path
        The folders that were searched.
    failure : str, optional
        What a download attempt reported, appended.
    """
    files = ", ".join(f"{s.dataset}/{s.name}" for s in specs)
    names = " ".join(dict.fromkeys(s.dataset for s in specs))
    # suggest the repository's data/ where it is searched (it outlives build folders), else the first folder
    home = next((b for b in searched if b == _source_data()), searched[0] if searched else Path("data"))
    how = [f"run `python -m wdlib.data fetch {names}` (or `make data` in a clone), which downloads them, "
           f"checks their sha256 and stores them in {cache_dir()}/"]
    for deb in dict.fromkeys(s.debian_package for s in specs if s.debian_package):
        system_dir = next(s.system_dir for s in specs if s.debian_package == deb)
        how.append(f"install the Debian package: apt-get install -y {deb} (puts them in {system_dir})")
    how += [f"offline: {line}" for line in how_to_obtain(specs, home)]
    how.append(f"set {ENV_VAR} to a folder that contains <dataset>/<file> for each")
    where = "\n  ".join(str(b) for b in searched)
    return (f"dataset file(s) not found: {files}. Searched:\n  {where}{failure}\nTo fix, any of:\n  - "
            + "\n  - ".join(how))


def locate_all(dataset: str, names: Sequence[str] | None = None, *, folders: list[str | Path] | None = None,
               verify: bool = True, download: bool = False) -> dict[str, Path]:
    """Paths of several verified files of one dataset (default: all of them), missing ones reported together.

    As :func:`locate`, but one :class:`DataNotFoundError` names every missing file.

    Parameters
    ----------
    dataset : str
        A dataset of the registry (``"mr"``, ``"sst2"``, …).
    names : sequence of str, optional
        Its files to locate (default: all).
    folders : list of path, optional
        Search these instead of :func:`search_path` (the system folder is still tried).
    verify : bool, default True
        Check each file's sha256.
    download : bool, default False
        Download missing files from their canonical source into :func:`cache_dir`.
    """
    specs = [_spec(dataset, n) for n in names] if names is not None else dataset_files(dataset)
    bases = [Path(f) for f in folders] if folders is not None else search_path()
    found = {s.name: _find(s, bases, verify) for s in specs}
    absent = [s for s in specs if found[s.name] is None]
    if not absent:
        return found
    failure = ""
    if download:
        try:
            found.update({p.name: p for p in download_files(absent, cache_dir())})
            return found
        except FetchError as exc:
            failure = f"\n{exc.detail}"
    searched = list(dict.fromkeys([*bases, *(Path(s.system_dir) for s in absent if s.system_dir)]))
    raise DataNotFoundError(missing_message(absent, searched, failure=failure))


def locate(dataset: str, name: str, *, folders: list[str | Path] | None = None, verify: bool = True,
           download: bool = False) -> Path:
    """Path of a verified dataset file.

    Parameters
    ----------
    dataset, name : str
        A key of :data:`FILES`, e.g. ``("fashion-mnist", "train-images-idx3-ubyte.gz")``.
    folders : list of path, optional
        Search these instead of :func:`search_path` (the system folder is still tried).
    verify : bool, default True
        Check the sha256.
    download : bool, default False
        If the file is nowhere, download it (or the archive that holds it) from
        its canonical URL into :func:`cache_dir` (checked before it is kept).

    Raises
    ------
    DataNotFoundError
        Naming the file, the folders searched, the command that fetches it, the
        Debian package, the URL and where to put it.
    ChecksumError
        If the file found has another sha256, or a download does.
    """
    return locate_all(dataset, [name], folders=folders, verify=verify, download=download)[name]


def missing(names: Iterable[str] | None = None, *, folders: list[str | Path] | None = None) -> list[DataFile]:
    """The files of datasets ``names`` (default: all) found on no folder; a corrupt file raises ChecksumError.

    Parameters
    ----------
    names : iterable of str, optional
        Datasets of the registry (default: all).
    folders : list of path, optional
        Search these instead of :func:`search_path`.
    """
    bases = [Path(f) for f in folders] if folders is not None else search_path()
    wanted = datasets() if names is None else list(dict.fromkeys(names))
    return [s for d in wanted for s in dataset_files(d) if _find(s, bases, verify=True) is None]


class FetchError(DataNotFoundError):
    """One or more downloads failed; ``detail`` holds one line per failed URL.

    Parameters
    ----------
    message : str
        The error's message.
    detail : str
        One line per failed URL.
    """

    def __init__(self, message: str, detail: str):
        super().__init__(message)
        self.detail = detail


def download_files(specs: Sequence[DataFile], dest: str | Path, *, mirror: str | None = None,
                   progress: bool = False, log=None) -> list[Path]:
    """Download ``specs`` into ``dest/<dataset>/<name>``: all files of one URL, or none of them.

    Parameters
    ----------
    specs : sequence of DataFile
        The files to download (grouped by URL; archives are unpacked).
    dest : path
        The root folder.
    mirror : str, optional
        Replace each URL by ``<mirror>/<dataset>/<file name of the URL>``.
    progress : bool, default False
        pooch's download bars.
    log : callable, optional
        Receives a line per download.

    Raises
    ------
    FetchError
        After trying every URL, one line per failure; the files of the URLs
        that worked are kept, and no empty folder is left behind.
    """
    import pooch

    from . import _download

    dest = Path(dest).expanduser()
    created = _download.absent_parents(dest)
    failures, done = [], []
    level = pooch.get_logger().level
    pooch.get_logger().setLevel("WARNING")  # we say what is downloaded, once
    try:
        for group in _download.by_url(specs).values():
            src = _download.source_url(group[0], mirror)
            if log:
                log(f"downloading {src}")
            made = _download.absent_parents(dest / group[0].dataset)
            dest.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".wdlib-download-", dir=dest))
            try:
                files = _download.retrieve(src, group, tmp, progress)
                for spec in group:
                    target = dest / spec.dataset / spec.name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(files[spec.name], target)
                    done.append(target)
            except (OSError, ValueError, KeyError, tarfile.TarError, zipfile.BadZipFile) as exc:
                # OSError includes requests' errors (offline, refused, 404) and a full disk
                failures.append((group, f"Downloading {src} failed: {exc}"))
                _download.remove_if_empty(made)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    finally:
        pooch.get_logger().setLevel(level)
        if not done:
            _download.remove_if_empty(created)
    if failures:
        detail = "\n".join(line for _, line in failures)
        how = [line for group, _ in failures for line in how_to_obtain(group, dest)]
        raise FetchError(f"{detail}\nTo fix, by hand:\n  - " + "\n  - ".join(how), detail)
    return done


def fetch(names: Iterable[str] | None = None, *, dest: str | Path | None = None, mirror: str | None = None,
          progress: bool = False, log=None) -> dict[str, list[Path]]:
    """Download the datasets ``names`` (default: all) that the search path does not hold yet.

    Each missing file comes from its canonical URL (or the archive that holds
    it, unpacked) through `pooch <https://www.fatiando.org/pooch>`_, is checked
    against its sha256 and is stored in ``dest/<dataset>/<name>`` (default
    :func:`cache_dir`, which the search path includes).  Files already found
    are left alone.  ``mirror`` (or ``$WDLIB_DATA_MIRROR``) replaces each URL by
    ``<mirror>/<dataset>/<file name of the URL>``.  ``log`` (e.g. ``print``)
    receives a line per dataset and download.

    Parameters
    ----------
    names : iterable of str, optional
        Datasets of the registry (default: all).
    dest : path, optional
        Root folder (default :func:`cache_dir`).
    mirror : str, optional
        A mirror of the canonical URLs (default ``$WDLIB_DATA_MIRROR``).
    progress : bool, default False
        pooch's download bars.
    log : callable, optional
        Receives a line per dataset and download.

    Returns
    -------
    dict
        ``dataset -> paths`` of every requested dataset's files.

    Raises
    ------
    DataNotFoundError
        After trying every dataset, naming each URL that failed, why, and what
        to download by hand and where to put it; nothing half-downloaded is kept.
    ChecksumError
        If a file already on the search path is corrupt (it is not replaced).
    """
    wanted = datasets() if names is None else list(dict.fromkeys(names))
    specs = {d: dataset_files(d) for d in wanted}  # unknown names fail before any download
    dest = Path(dest).expanduser() if dest is not None else cache_dir()
    bases = [*search_path(), dest]
    found = {(s.dataset, s.name): _find(s, bases, verify=True) for d in wanted for s in specs[d]}
    absent = [s for d in wanted for s in specs[d] if found[(s.dataset, s.name)] is None]
    for d in wanted:
        if log and all(found[(d, s.name)] is not None for s in specs[d]):
            log(f"{d}: present ({found[(d, specs[d][0].name)].parent})")
    if absent:
        for path in download_files(absent, dest, mirror=mirror, progress=progress, log=log):
            found[(path.parent.name, path.name)] = path
            if log:
                log(f"  stored {path}")
    return {d: [found[(d, s.name)] for s in specs[d]] for d in wanted}


#: The eight predictors of the prostate data, in ESL's order.
PROSTATE_FEATURES = ("lcavol", "lweight", "age", "lbph", "svi", "lcp", "gleason", "pgg45")


def load_prostate(*, folders: list[str | Path] | None = None, download: bool = False):
    """The prostate cancer data of Stamey et al. (1989), as in ESL §3.2.

    Returns
    -------
    pandas.DataFrame
        97 rows: the eight :data:`PROSTATE_FEATURES`, the response ``lpsa`` and
        ``train`` (bool; 67 training and 30 test rows, ESL's split).

    Parameters
    ----------
    folders, download
        As for :func:`locate`.
    """
    import pandas as pd

    path = locate("prostate", "prostate.data", folders=folders, download=download)
    df = pd.read_csv(path, sep="\t", index_col=0)
    expected = [*PROSTATE_FEATURES, "lpsa", "train"]
    if list(df.columns) != expected or len(df) != 97:
        raise ValueError(f"{path} does not have the prostate layout: expected 97 rows with columns {expected}, "
                         f"got {len(df)} rows with {list(df.columns)}")
    df["train"] = df["train"].map({1: True, 0: False, "T": True, "F": False}).astype(bool)
    return df


@dataclass(frozen=True)
class ProstateSplit:
    """ESL's split of the prostate data as arrays: 67 training and 30 test rows, the eight features in order."""

    X: object  # ndarray (67, 8)
    y: object  # ndarray (67,)
    X_test: object  # ndarray (30, 8)
    y_test: object  # ndarray (30,)


def prostate_split(prostate=None, *, folders: list[str | Path] | None = None) -> ProstateSplit:
    """ESL's training and test rows of :func:`load_prostate` as arrays, unstandardized (``lpsa`` is ``y``).

    Standardize as the analysis needs: ESL standardizes all 97 rows
    (:func:`wdlib.ridge.esl_table_3_3`); a held-out analysis standardizes with
    the training rows' statistics (``ridge.decompose(..., standardize=True)``).
    """
    df = load_prostate(folders=folders) if prostate is None else prostate
    features = list(PROSTATE_FEATURES)
    train, test = df[df["train"]], df[~df["train"]]
    return ProstateSplit(train[features].to_numpy(), train["lpsa"].to_numpy(), test[features].to_numpy(),
                         test["lpsa"].to_numpy())


# --------------------------------------------------------------------------- #
# vision
# --------------------------------------------------------------------------- #
#: Fashion-MNIST's ten classes, by label.
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                         "Bag", "Ankle boot")
_SPLITS = {"train": "train", "test": "t10k"}


def _check_choice(value, name: str, choices) -> str:
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; choose one of {', '.join(map(repr, choices))}")
    return value


def read_idx(path: str | Path):
    """An IDX file (LeCun's MNIST format, gzipped or not) as a uint8 tensor of its stated shape.

    Raises ``ValueError`` for a file that is not unsigned-byte IDX or is shorter than its header says.
    """
    import numpy as np
    import torch

    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file (magic {raw[:4].hex()}, want 000008xx)")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    offset, size = 4 + 4 * ndim, int(np.prod(shape))
    if len(raw) - offset != size:
        raise ValueError(f"{path} holds {len(raw) - offset} bytes of data; its header {shape} says {size}")
    return torch.from_numpy(np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(shape).copy())


def load_fashion_mnist(split: str = "train", *, folders: list[str | Path] | None = None, download: bool = False):
    """Fashion-MNIST (Xiao et al. 2017) in memory.

    Parameters
    ----------
    split : {"train", "test"}
        60,000 or 10,000 images.
    folders, download
        As for :func:`locate`.  Debian's ``dataset-fashion-mnist`` is found without either.

    Returns
    -------
    images : torch.Tensor
        float32, ``(N, 1, 28, 28)``, pixel values / 255.
    labels : torch.Tensor
        int64, ``(N,)``, indices into :data:`FASHION_MNIST_CLASSES`.
    """
    prefix = _SPLITS[_check_choice(split, "split", tuple(_SPLITS))]
    images = read_idx(locate("fashion-mnist", f"{prefix}-images-idx3-ubyte.gz", folders=folders, download=download))
    labels = read_idx(locate("fashion-mnist", f"{prefix}-labels-idx1-ubyte.gz", folders=folders, download=download))
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"Fashion-MNIST {split}: {images.shape[0]} images but {labels.shape[0]} labels")
    return images.unsqueeze(1).float().div_(255), labels.long()


def fashion_mnist_torchvision(root: str | Path, split: str = "train", *, transform=None, folders=None):
    """``torchvision.datasets.FashionMNIST`` over the verified files, without a download.

    torchvision wants the decompressed IDX files in ``root/FashionMNIST/raw/``;
    Debian ships them gzipped.  This writes the decompressed copies once (from
    the checksummed ``.gz``) and returns the dataset, ``transform`` defaulting
    to ``ToTensor()``: the loader most PyTorch code starts from, and the
    baseline of ``python -m wdlib.benchmarks throughput``.
    """
    from torchvision import datasets, transforms

    raw = Path(root) / "FashionMNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for prefix in _SPLITS.values():
        for kind in ("images-idx3", "labels-idx1"):
            name = f"{prefix}-{kind}-ubyte"
            if not (raw / name).is_file():
                with gzip.open(locate("fashion-mnist", name + ".gz", folders=folders), "rb") as src, \
                        open(raw / (name + ".part"), "wb") as dst:
                    shutil.copyfileobj(src, dst)
                os.replace(raw / (name + ".part"), raw / name)
    return datasets.FashionMNIST(str(root), train=_check_choice(split, "split", tuple(_SPLITS)) == "train",
                                 transform=transform or transforms.ToTensor(), download=False)


#: Where torchvision downloads CIFAR-10 from.
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"


def load_cifar10(split: str = "train", *, root: str | Path | None = None, download: bool = True):
    """CIFAR-10 through torchvision's own download path, in memory.

    ``root`` defaults to ``~/.cache/wdlib/cifar10``.  torchvision downloads
    ``cifar-10-python.tar.gz`` from :data:`CIFAR10_URL`, checks its md5 and those
    of the extracted batches (torchvision's checksums; the archive is 163 MiB),
    and this returns float32 images ``(N, 3, 32, 32)`` in [0, 1] and int64 labels.
    Offline and missing: :class:`DataNotFoundError` saying where to put the archive.
    """
    import torch
    from torchvision import datasets

    train = _check_choice(split, "split", tuple(_SPLITS)) == "train"
    root = Path(root) if root is not None else cache_dir() / "cifar10"
    try:
        ds = datasets.CIFAR10(str(root), train=train, download=download)
    except (urllib.error.URLError, OSError, RuntimeError) as exc:
        raise DataNotFoundError(
            f"CIFAR-10 {split} split not available under {root} ({exc}). To fix: download {CIFAR10_URL} and "
            f"extract it into {root}/ (giving {root}/cifar-10-batches-py/), or call with download=True online."
        ) from exc
    images = torch.from_numpy(ds.data).permute(0, 3, 1, 2).float().div_(255).contiguous()
    return images, torch.tensor(ds.targets, dtype=torch.long)


# --------------------------------------------------------------------------- #
# text
# --------------------------------------------------------------------------- #
def _read_lines(path: Path, encoding: str) -> list[str]:
    # split on "\n" only: str.splitlines() also breaks at latin-1's \x85 (NEL), which MR uses inside lines
    return [line.rstrip("\r") for line in path.read_text(encoding=encoding).split("\n") if line.strip()]


def load_mr(*, folders: list[str | Path] | None = None, download: bool = False) -> tuple[list[str], torch.Tensor]:
    """Movie Review polarity v1.0 (Pang & Lee 2005), Kim's "MR": 5,331 positive then 5,331 negative snippets.

    The files are latin-1.  Returns ``(texts, labels)`` with label 1 = positive.
    There is no official split: use :func:`kfold_indices` (Kim 2014 reports 10-fold CV).

    Parameters
    ----------
    folders : list of path, optional
        Search these instead of :func:`search_path`.
    download : bool, default False
        Download the two files if they are missing.
    """
    import torch

    paths = locate_all("mr", folders=folders, download=download)  # one error names both files
    pos, neg = (_read_lines(paths[f"rt-polarity.{s}"], "latin-1") for s in ("pos", "neg"))
    return pos + neg, torch.tensor([1] * len(pos) + [0] * len(neg), dtype=torch.long)


def load_sst2(split: str = "train", *, folders: list[str | Path] | None = None,
              download: bool = False) -> tuple[list[str], torch.Tensor]:
    """SST-2: ``train`` (67,349 GLUE phrases), ``dev`` (872 sentences), ``test`` (1,821 labelled sentences).

    Returns ``(texts, labels)`` with label 1 = positive.
    """
    import torch

    name = _check_choice(split, "split", ("train", "dev", "test")) + ".tsv"
    path = locate("sst2", name, folders=folders, download=download)
    lines = [line for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]
    header = lines[0].split("\t")
    if len(header) != 2 or header[0] != "label":
        raise ValueError(f"{path}: expected a header 'label<TAB>sentence', got {lines[0]!r}")
    labels, texts = [], []
    for i, line in enumerate(lines[1:], start=2):
        label, _, text = line.partition("\t")
        if label not in ("0", "1"):
            raise ValueError(f"{path}, line {i}: label {label!r} is not 0 or 1")
        labels.append(int(label))
        texts.append(text)
    return texts, torch.tensor(labels, dtype=torch.long)


def load_tinyshakespeare(*, folders: list[str | Path] | None = None, download: bool = False) -> str:
    """Tiny Shakespeare (Karpathy's char-rnn corpus): 1,115,394 characters, 65 distinct."""
    return locate("tinyshakespeare", "input.txt", folders=folders, download=download).read_text(encoding="utf-8")


_KIM_RULES = [(re.compile(p), r) for p, r in [
    (r"[^A-Za-z0-9(),!?\'\`]", " "), (r"\'s", " 's"), (r"\'ve", " 've"), (r"n\'t", " n't"), (r"\'re", " 're"),
    (r"\'d", " 'd"), (r"\'ll", " 'll"), (r",", " , "), (r"!", " ! "), (r"\(", " ( "), (r"\)", " ) "),
    (r"\?", " ? "), (r"\s{2,}", " "),
]]


def tokenize(text: str, *, lower: bool = True) -> list[str]:
    """Kim's (2014) ``clean_str``: keep letters, digits, brackets, commas, ``!``, ``?``, quotes; split clitics.

    Kim's code writes ``"\\("`` for a bracket token (a regex escape left in the
    replacement); here it is ``"("``.

    >>> tokenize("It's not a bad film, (really)!")
    ['it', "'s", 'not', 'a', 'bad', 'film', ',', '(', 'really', ')', '!']
    """
    for pattern, repl in _KIM_RULES:
        text = pattern.sub(repl, text)
    text = text.strip()
    return (text.lower() if lower else text).split(" ") if text else []


class Vocab:
    """Token ↔ index, with ``<pad>`` = 0 and ``<unk>`` = 1, built from training texts only.

    ``counts`` keeps each token's training frequency (chapter 6 sets embedding
    norms against it).

    >>> v = Vocab.build([["a", "b", "a"], ["c"]], min_freq=2)
    >>> v.itos, v.encode(["a", "c"])
    (['<pad>', '<unk>', 'a'], [2, 1])
    """

    PAD, UNK = "<pad>", "<unk>"

    def __init__(self, tokens: Sequence[str], counts: Counter | None = None):
        self.itos = [self.PAD, self.UNK, *(t for t in tokens if t not in (self.PAD, self.UNK))]
        self.stoi = {t: i for i, t in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            raise ValueError("tokens must be distinct")
        self.counts = Counter(counts or {})

    @classmethod
    def build(cls, texts: Iterable[Sequence[str]], *, min_freq: int = 1, max_size: int | None = None) -> Vocab:
        """Tokens seen ``>= min_freq`` times, most frequent first (ties alphabetical), at most ``max_size``."""
        min_freq = _checks.integer(min_freq, "min_freq")
        if max_size is not None:
            max_size = _checks.integer(max_size, "max_size", what=" (or None)")
        counts = Counter(t for text in texts for t in text)
        kept = sorted((t for t, c in counts.items() if c >= min_freq), key=lambda t: (-counts[t], t))
        return cls(kept[:max_size], counts)

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, tokens: Sequence[str]) -> list[int]:
        unk = self.stoi[self.UNK]
        return [self.stoi.get(t, unk) for t in tokens]

    def frequency(self):
        """Training count of each index (0 for ``<pad>`` and ``<unk>``), as an int64 tensor."""
        import torch

        return torch.tensor([self.counts.get(t, 0) if i > 1 else 0 for i, t in enumerate(self.itos)])


def pad_sequences(seqs: Sequence[Sequence[int]], length: int | None = None, *, pad_left: int = 0, value: int = 0):
    """Stack index lists into an int64 ``(N, pad_left + length)`` tensor.

    Each sequence is cut to ``length`` (default: the longest) and padded with
    ``value`` on the right; ``pad_left`` extra pads go in front (Kim pads ``h − 1``
    zeros before each sentence, ``h`` the widest filter, so that every word can
    sit in every filter position).

    >>> pad_sequences([[5, 6, 7], [8]], length=2, pad_left=1)
    tensor([[0, 5, 6],
            [0, 8, 0]])
    """
    import torch

    if length is None:
        length = max((len(s) for s in seqs), default=0)
    length, pad_left = _checks.integer(length, "length", low=0), _checks.integer(pad_left, "pad_left", low=0)
    if pad_left + length < 1:
        raise ValueError("pad_left + length must be >= 1")
    out = torch.full((len(seqs), pad_left + length), value, dtype=torch.long)
    for i, s in enumerate(seqs):
        s = list(s)[:length]
        if s:
            out[i, pad_left: pad_left + len(s)] = torch.as_tensor(s, dtype=torch.long)
    return out


# --------------------------------------------------------------------------- #
# subsets, splits and folds from a seed
# --------------------------------------------------------------------------- #
def _generator(seed: int):
    import torch

    return torch.Generator().manual_seed(_checks.integer(seed, "seed", low=0))


def subset_indices(n: int, size: int, seed: int, *, labels=None):
    """``size`` distinct indices of ``range(n)``, sorted, drawn from ``seed``.

    With ``labels`` (length ``n``) the subset is stratified: each class gets
    ``size`` × its share (largest remainders break ties), so a 1,000-image subset
    of Fashion-MNIST has 100 of each class.

    >>> subset_indices(10, 3, seed=0).tolist() == subset_indices(10, 3, seed=0).tolist()
    True
    """
    import torch

    n = _checks.integer(n, "n")
    if not _checks.is_integer(size) or not 1 <= size <= n:
        raise ValueError(f"size must be an integer in [1, {n}], got {size!r}")
    size = int(size)
    g = _generator(seed)
    if labels is None:
        return torch.randperm(n, generator=g)[:size].sort().values
    labels = torch.as_tensor(labels)
    if labels.shape != (n,):
        raise ValueError(f"labels must have shape ({n},), got {tuple(labels.shape)}")
    classes, counts = labels.unique(return_counts=True)
    quota = counts.double() * size / n
    take = quota.floor().long()
    order = torch.argsort(quota - take, descending=True, stable=True)
    take[order[: size - int(take.sum())]] += 1
    picked = [torch.nonzero(labels == c).flatten()[torch.randperm(int(m), generator=g)[:k]]
              for c, m, k in zip(classes, counts, take)]
    return torch.cat(picked).sort().values


def split_indices(n: int, sizes: Sequence[int], seed: int):
    """Disjoint index tensors of the given sizes (their sum at most ``n``), from one permutation of ``seed``.

    >>> [len(i) for i in split_indices(10, [6, 4], seed=0)]
    [6, 4]
    """
    import torch

    n = _checks.integer(n, "n")
    if any(not isinstance(s, int) or s < 1 for s in sizes) or sum(sizes) > n:
        raise ValueError(f"sizes must be integers >= 1 summing to at most n={n}, got {list(sizes)}")
    perm = torch.randperm(n, generator=_generator(seed))
    return list(torch.split(perm[: sum(sizes)], list(sizes)))


def kfold_indices(n: int, k: int, seed: int):
    """``k`` pairs ``(train, test)``: a seeded permutation cut into ``k`` folds of near-equal size.

    >>> folds = kfold_indices(10, 3, seed=0)
    >>> [len(te) for _, te in folds], sorted(int(i) for _, te in folds for i in te) == list(range(10))
    ([4, 3, 3], True)
    """
    import torch

    n = _checks.integer(n, "n")
    if not _checks.is_integer(k) or not 2 <= k <= n:
        raise ValueError(f"k must be an integer in [2, n={n}], got {k!r}")
    k = int(k)
    folds = torch.tensor_split(torch.randperm(n, generator=_generator(seed)), k)
    return [(torch.cat(folds[:i] + folds[i + 1:]), folds[i]) for i in range(k)]
