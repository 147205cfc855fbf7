"""wdlib.data: search path, checksums, and errors that say what to install or where to put what."""

import functools
import gzip
import hashlib
import http.server
import pickle
import threading

import numpy as np
import pytest
import torch

from wdlib import data

FMNIST = ("fashion-mnist", "train-labels-idx1-ubyte.gz")


def test_fashion_mnist_found_in_debian_folder_and_verified(tmp_path):
    path = data.locate(*FMNIST, folders=[tmp_path])
    assert str(path).startswith("/usr/share/datasets/fashion-mnist/")


def test_env_var_folder_comes_first(tmp_path, monkeypatch):
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    assert data.search_path()[0] == tmp_path


def test_missing_file_names_file_folder_url(tmp_path):
    with pytest.raises(data.DataNotFoundError) as info:
        data.locate("tinyshakespeare", "input.txt", folders=[tmp_path])
    msg = str(info.value)
    assert "not found: tinyshakespeare/input.txt" in msg
    assert f"put input.txt in {tmp_path}/tinyshakespeare/" in msg
    assert "python -m wdlib.data fetch tinyshakespeare" in msg
    assert "karpathy/char-rnn" in msg and data.ENV_VAR in msg


def test_missing_debian_file_names_the_package(tmp_path, monkeypatch):
    spec = data.FILES[FMNIST]
    moved = data.DataFile(spec.dataset, spec.name, spec.sha256, spec.url, spec.debian_package, str(tmp_path / "nowhere"))
    monkeypatch.setitem(data.FILES, FMNIST, moved)
    with pytest.raises(data.DataNotFoundError, match="apt-get install -y dataset-fashion-mnist"):
        data.locate(*FMNIST, folders=[tmp_path])


def test_checksum_mismatch_is_an_error(tmp_path):
    (tmp_path / "mr").mkdir()
    (tmp_path / "mr" / "rt-polarity.pos").write_text("not the real file\n", encoding="latin-1")
    with pytest.raises(data.ChecksumError, match="expected 2da124ec"):
        data.locate("mr", "rt-polarity.pos", folders=[tmp_path])


def test_unknown_file_lists_known_ones():
    with pytest.raises(ValueError, match="known files: fashion-mnist/train-images-idx3-ubyte.gz"):
        data.locate("cifar", "data_batch_1")


def test_repository_data_folder_is_searched(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # ./data is then elsewhere; the source tree's data/ is still found
    repo_data = (data.Path(data.__file__).resolve().parents[2] / "data").resolve()
    assert repo_data in [p.resolve() for p in data.search_path()]


def test_prostate_layout_and_split():
    try:
        df = data.load_prostate()
    except data.DataNotFoundError as exc:
        pytest.skip(f"prostate data not on the search path ({exc})")
    assert df.shape == (97, 10) and df["train"].dtype == bool
    assert int(df["train"].sum()) == 67
    assert list(df.columns[:8]) == list(data.PROSTATE_FEATURES)


def test_prostate_with_wrong_layout_is_rejected(tmp_path, monkeypatch):
    (tmp_path / "prostate").mkdir()
    (tmp_path / "prostate" / "prostate.data").write_text("a\tb\n1\t2\n")
    monkeypatch.setitem(data.FILES, ("prostate", "prostate.data"),
                        data.DataFile("prostate", "prostate.data", data.sha256(tmp_path / "prostate" / "prostate.data"), "u"))
    with pytest.raises(ValueError, match="does not have the prostate layout"):
        data.load_prostate(folders=[tmp_path])


# --------------------------------------------------------------------------- #
# loaders: known counts, checksums, errors
# --------------------------------------------------------------------------- #
def _need(dataset, name):
    try:
        return data.locate(dataset, name)
    except data.DataNotFoundError as exc:
        pytest.skip(f"{dataset} not on the search path ({exc})")


def test_fashion_mnist_counts_and_range():
    _need(*FMNIST)
    x, y = data.load_fashion_mnist("test")
    assert x.shape == (10000, 1, 28, 28) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0
    assert y.bincount().tolist() == [1000] * 10  # the test set is balanced
    assert len(data.load_fashion_mnist("train")[1]) == 60000


def test_mr_counts_vocab_and_length_match_kim():
    _need("mr", "rt-polarity.pos")
    texts, labels = data.load_mr()
    assert len(texts) == 10662 and int(labels.sum()) == 5331  # \x85 inside lines must not split them
    tokens = [data.tokenize(t) for t in texts]
    vocab = data.Vocab.build(tokens)
    assert len(vocab) - 2 == 18765 and max(map(len, tokens)) == 56  # Kim (2014) Table 1: |V| and l


def test_sst2_counts():
    _need("sst2", "train.tsv")
    assert [len(data.load_sst2(s)[0]) for s in ("train", "dev", "test")] == [67349, 872, 1821]


def test_tinyshakespeare_counts():
    _need("tinyshakespeare", "input.txt")
    text = data.load_tinyshakespeare()
    assert len(text) == 1115394 and len(set(text)) == 65


def _idx(tmp_path, name, array):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    path = tmp_path / name
    with gzip.open(path, "wb") as fh:
        fh.write(header + array.astype(np.uint8).tobytes())
    return path


def test_read_idx_round_trip_and_truncation(tmp_path):
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    assert torch.equal(data.read_idx(_idx(tmp_path, "a.gz", a)), torch.from_numpy(a))
    path = tmp_path / "cut"
    path.write_bytes(gzip.decompress((tmp_path / "a.gz").read_bytes())[:-3])
    with pytest.raises(ValueError, match="holds 21 bytes of data; its header"):
        data.read_idx(path)
    path.write_bytes(b"\x00\x00\x0d\x01" + bytes(8))
    with pytest.raises(ValueError, match="not an unsigned-byte IDX"):
        data.read_idx(path)


def test_truncated_dataset_file_fails_its_checksum(tmp_path):
    (tmp_path / "tinyshakespeare").mkdir()
    (tmp_path / "tinyshakespeare" / "input.txt").write_text("First Citizen:\n")
    with pytest.raises(data.ChecksumError, match="corrupt, truncated or a different version"):
        data.load_tinyshakespeare(folders=[tmp_path])


def test_unknown_split_is_an_error():
    with pytest.raises(ValueError, match="unknown split 'validation'; choose one of 'train', 'dev', 'test'"):
        data.load_sst2("validation")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def http_dir(tmp_path):
    """A real HTTP server on 127.0.0.1 serving tmp_path/www (the canonical URL stand-in)."""
    www = tmp_path / "www"
    www.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(www)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield www, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_download_verifies_then_keeps(http_dir, tmp_path, monkeypatch):
    www, url = http_dir
    monkeypatch.delenv(data.CACHE_VAR, raising=False)
    monkeypatch.setattr(data.Path, "home", lambda: tmp_path / "home")
    (www / "input.txt").write_text("To be\n")
    good = data.DataFile("tinyshakespeare", "input.txt", data.sha256(www / "input.txt"), f"{url}/input.txt")
    monkeypatch.setitem(data.FILES, ("tinyshakespeare", "input.txt"), good)
    assert data.load_tinyshakespeare(folders=[tmp_path / "empty"], download=True) == "To be\n"
    assert (tmp_path / "home" / ".cache" / "wdlib" / "tinyshakespeare" / "input.txt").is_file()
    bad = data.DataFile("prostate", "prostate.data", "0" * 64, f"{url}/input.txt")
    monkeypatch.setitem(data.FILES, ("prostate", "prostate.data"), bad)
    with pytest.raises(data.DataNotFoundError, match="nothing was saved"):
        data.locate("prostate", "prostate.data", folders=[tmp_path / "empty"], download=True)
    assert not (tmp_path / "home" / ".cache" / "wdlib" / "prostate").exists()  # no empty folder left


def test_offline_download_failure_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv(data.CACHE_VAR, raising=False)
    monkeypatch.setattr(data.Path, "home", lambda: tmp_path / "home")
    spec = data.DataFile("tinyshakespeare", "input.txt", "0" * 64, "http://127.0.0.1:9/input.txt")
    monkeypatch.setitem(data.FILES, ("tinyshakespeare", "input.txt"), spec)
    with pytest.raises(data.DataNotFoundError, match=r"(?s)Downloading http://127.0.0.1:9/input.txt failed.*To fix"):
        data.load_tinyshakespeare(folders=[tmp_path], download=True)


def test_cifar10_through_torchvisions_download_path(http_dir, tmp_path, monkeypatch):
    """A small archive in CIFAR-10's format, served over HTTP, fetched and checked by torchvision."""
    from torchvision import datasets

    www, url = http_dir
    src = tmp_path / "src" / "cifar-10-batches-py"
    src.mkdir(parents=True)
    rng = np.random.default_rng(0)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for i, name in enumerate(names):
        batch = {"data": rng.integers(0, 256, (3, 3072), dtype=np.uint8), "labels": [i, 9, 0], "batch_label": name}
        (src / name).write_bytes(pickle.dumps(batch))
    (src / "batches.meta").write_bytes(pickle.dumps({"label_names": [f"c{i}" for i in range(10)]}))
    import tarfile

    with tarfile.open(www / "cifar-10-python.tar.gz", "w:gz") as tar:
        tar.add(src, arcname="cifar-10-batches-py")
    md5 = lambda p: hashlib.md5(p.read_bytes()).hexdigest()
    monkeypatch.setattr(datasets.CIFAR10, "url", f"{url}/cifar-10-python.tar.gz")
    monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", md5(www / "cifar-10-python.tar.gz"))
    monkeypatch.setattr(datasets.CIFAR10, "train_list", [[n, md5(src / n)] for n in names[:5]])
    monkeypatch.setattr(datasets.CIFAR10, "test_list", [["test_batch", md5(src / "test_batch")]])
    monkeypatch.setattr(datasets.CIFAR10, "meta", {"filename": "batches.meta", "key": "label_names",
                                                   "md5": md5(src / "batches.meta")})
    x, y = data.load_cifar10("train", root=tmp_path / "root")
    assert x.shape == (15, 3, 32, 32) and y.tolist()[:3] == [0, 9, 0]
    first = pickle.loads((src / "data_batch_1").read_bytes())["data"][0]
    assert torch.equal((x[0] * 255).round().to(torch.uint8).flatten(), torch.from_numpy(first))  # CHW as stored
    xt, _ = data.load_cifar10("test", root=tmp_path / "root", download=False)
    assert xt.shape == (3, 3, 32, 32)
    with pytest.raises(data.DataNotFoundError, match="extract it into"):
        data.load_cifar10("test", root=tmp_path / "absent", download=False)


def test_fashion_mnist_torchvision_dataset_matches_tensor_loader(tmp_path):
    _need(*FMNIST)
    ds = data.fashion_mnist_torchvision(tmp_path, "test")
    x, y = data.load_fashion_mnist("test")
    img, label = ds[123]
    assert torch.equal(img, x[123]) and label == int(y[123]) and len(ds) == 10000


# --------------------------------------------------------------------------- #
# tokens, vocabulary, padding, subsets
# --------------------------------------------------------------------------- #
def test_vocab_frequency_and_unknown_tokens():
    v = data.Vocab.build([["b", "a", "a"], ["c", "a"]], max_size=2)
    assert v.itos == ["<pad>", "<unk>", "a", "b"] and v.encode(["c", "a"]) == [1, 2]
    assert v.frequency().tolist() == [0, 0, 3, 1]


@pytest.mark.parametrize("call, message", [
    (lambda: data.Vocab.build([["a"]], min_freq=0), "min_freq must be an integer >= 1"),
    (lambda: data.pad_sequences([[1]], length=-1), "length must be an integer >= 0"),
    (lambda: data.subset_indices(10, 11, seed=0), r"size must be an integer in \[1, 10\]"),
    (lambda: data.subset_indices(10, 2, seed=-1), "seed must be an integer >= 0"),
    (lambda: data.subset_indices(10, 2, seed=0, labels=[0, 1]), r"labels must have shape \(10,\)"),
    (lambda: data.split_indices(10, [6, 6], seed=0), "summing to at most n=10"),
    (lambda: data.kfold_indices(10, 1, seed=0), r"k must be an integer in \[2, n=10\]"),
])
def test_bad_sizes_are_rejected(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_stratified_subset_is_balanced_and_seeded():
    labels = torch.arange(1000) % 10
    a = data.subset_indices(1000, 100, seed=1, labels=labels)
    assert labels[a].bincount().tolist() == [10] * 10 and len(a.unique()) == 100
    assert torch.equal(a, data.subset_indices(1000, 100, seed=1, labels=labels))
    assert not torch.equal(a, data.subset_indices(1000, 100, seed=2, labels=labels))


def test_kfold_partitions():
    folds = data.kfold_indices(23, 10, seed=0)
    tests = torch.cat([te for _, te in folds])
    assert sorted(tests.tolist()) == list(range(23))
    assert all(len(set(tr.tolist()) & set(te.tolist())) == 0 and len(tr) + len(te) == 23 for tr, te in folds)


def test_prostate_split_is_esls_67_and_30_rows():
    try:
        prostate = data.load_prostate()
    except data.DataNotFoundError as exc:
        pytest.skip(f"prostate data not installed ({exc})")
    split = data.prostate_split(prostate)
    assert split.X.shape == (67, 8) and split.X_test.shape == (30, 8) and split.y.shape == (67,)
    train = prostate[prostate["train"]]
    np.testing.assert_array_equal(split.X[:, 0], train["lcavol"].to_numpy())
    np.testing.assert_array_equal(split.y_test, prostate.loc[~prostate["train"], "lpsa"].to_numpy())
