"""wdlib.data: search path, checksums, and errors that say what to install or where to put what."""

import pytest

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
    assert "tinyshakespeare file 'input.txt' not found" in msg
    assert f"put input.txt in {tmp_path}/tinyshakespeare/" in msg
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
    repo_data = (data.Path(data.__file__).resolve().parents[1] / "data").resolve()
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
