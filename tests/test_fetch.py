"""wdlib.data.fetch and ``python -m wdlib.data``: downloads from a real HTTP server on 127.0.0.1.

The server serves small archives and files the tests write themselves, laid out
as a mirror (``<mirror>/<dataset>/<file name of the canonical URL>``); the
registry is patched to their sha256, so the code path is the one users take
(pooch, then unpacking, then the sha256 of every member).  No network.
"""

import functools
import http.server
import io
import tarfile
import threading
import zipfile

import pytest

from wdlib import data
from wdlib.data import __main__ as cli

POS, NEG = "a fine film\nwarm , funny\n", "a dull film\nflat\n"
PROSTATE = "\t" + "\t".join([*data.PROSTATE_FEATURES, "lpsa", "train"]) + "\n" + "".join(
    f"{i}\t" + "\t".join(["1.0"] * 9) + f"\t{'T' if i <= 67 else 'F'}\n" for i in range(1, 98))


class _Server(http.server.SimpleHTTPRequestHandler):
    requests: list = []

    def log_message(self, *args):
        type(self).requests.append(self.path)


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """``(www, url, requests)``: a mirror of MR (tarball), a zipped dataset and prostate, with the registry patched."""
    www = tmp_path / "www"
    (www / "mr").mkdir(parents=True)
    with tarfile.open(www / "mr" / "rt-polaritydata.tar.gz", "w:gz") as tar:
        for name, text in [("rt-polarity.pos", POS), ("rt-polarity.neg", NEG), ("README", "v1.0")]:
            raw = text.encode("latin-1")
            info = tarfile.TarInfo(f"rt-polaritydata/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    (www / "zipped").mkdir()
    with zipfile.ZipFile(www / "zipped" / "SET.zip", "w") as z:
        z.writestr("SET/train.tsv", "label\tsentence\n1\tgood\n")
    (www / "prostate").mkdir()
    (www / "prostate" / "prostate.data").write_text(PROSTATE)

    def sha(text):
        return __import__("hashlib").sha256(text.encode("latin-1")).hexdigest()

    real = data.FILES
    files = {
        ("mr", "rt-polarity.pos"): data.DataFile("mr", "rt-polarity.pos", sha(POS), real[("mr", "rt-polarity.pos")].url,
                                                 member="rt-polaritydata/rt-polarity.pos"),
        ("mr", "rt-polarity.neg"): data.DataFile("mr", "rt-polarity.neg", sha(NEG), real[("mr", "rt-polarity.neg")].url,
                                                 member="rt-polaritydata/rt-polarity.neg"),
        ("zipped", "train.tsv"): data.DataFile("zipped", "train.tsv", sha("label\tsentence\n1\tgood\n"),
                                               "https://example.org/SET.zip", member="SET/train.tsv"),
        ("prostate", "prostate.data"): data.DataFile("prostate", "prostate.data", sha(PROSTATE),
                                                     real[("prostate", "prostate.data")].url),
    }
    monkeypatch.setattr(data, "FILES", files)
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path / "nothing-here"))
    monkeypatch.setenv(data.CACHE_VAR, str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)  # ./data is empty here
    monkeypatch.setattr(data, "_source_data", lambda: tmp_path / "no-source-tree")
    _Server.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Server, directory=str(www)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield www, f"http://127.0.0.1:{server.server_address[1]}", _Server.requests
    server.shutdown()


def test_fetch_unpacks_verifies_stores_and_skips_what_is_there(mirror, tmp_path):
    www, url, requests = mirror
    got = data.fetch(mirror=url)
    cache = tmp_path / "cache"
    assert got == {"mr": [cache / "mr" / "rt-polarity.pos", cache / "mr" / "rt-polarity.neg"],
                   "zipped": [cache / "zipped" / "train.tsv"], "prostate": [cache / "prostate" / "prostate.data"]}
    assert sorted(p.name for p in cache.iterdir()) == ["mr", "prostate", "zipped"]  # no temporary folder left
    assert sorted(p.name for p in (cache / "mr").iterdir()) == ["rt-polarity.neg", "rt-polarity.pos"]  # no README
    texts, labels = data.load_mr()  # found on the search path
    assert texts == ["a fine film", "warm , funny", "a dull film", "flat"] and labels.tolist() == [1, 1, 0, 0]
    assert len(requests) == 3
    assert data.fetch(mirror=url) == got and len(requests) == 3  # nothing downloaded twice


def test_a_corrupt_member_keeps_nothing_and_leaves_no_folder(mirror, tmp_path):
    www, url, requests = mirror
    with tarfile.open(www / "mr" / "rt-polaritydata.tar.gz", "w:gz") as tar:  # .neg altered
        for name, text in [("rt-polarity.pos", POS), ("rt-polarity.neg", NEG + "extra\n")]:
            info = tarfile.TarInfo(f"rt-polaritydata/{name}")
            info.size = len(text)
            tar.addfile(info, io.BytesIO(text.encode("latin-1")))
    with pytest.raises(data.DataNotFoundError) as info:
        data.fetch(["mr"], mirror=url)
    msg = str(info.value)
    assert "rt-polaritydata/rt-polarity.neg" in msg and "nothing was saved" in msg
    assert not (tmp_path / "cache").exists()  # neither .pos (same archive) nor an empty folder


def test_offline_fetch_says_what_to_download_and_where(mirror, tmp_path):
    with pytest.raises(data.DataNotFoundError) as info:
        data.fetch(["mr", "prostate"], mirror="http://127.0.0.1:9")  # port 9: connection refused
    msg = str(info.value)
    cache = tmp_path / "cache"
    assert "Downloading http://127.0.0.1:9/mr/rt-polaritydata.tar.gz failed" in msg
    assert (f"download {data.FILES[('mr', 'rt-polarity.pos')].url}, extract rt-polaritydata/rt-polarity.pos and "
            f"rt-polaritydata/rt-polarity.neg from it and put rt-polarity.pos and rt-polarity.neg in {cache}/mr/") in msg
    assert f"and put prostate.data in {cache}/prostate/" in msg
    assert not cache.exists()


def test_missing_mr_names_both_files(mirror):
    with pytest.raises(data.DataNotFoundError) as info:
        data.load_mr()
    msg = str(info.value)
    assert "mr/rt-polarity.pos, mr/rt-polarity.neg" in msg and "python -m wdlib.data fetch mr" in msg


def test_loaders_download_on_request(mirror, monkeypatch):
    www, url, _ = mirror
    monkeypatch.setenv("WDLIB_DATA_MIRROR", url)
    df = data.load_prostate(download=True)  # was a TypeError
    assert df.shape == (97, 10) and int(df["train"].sum()) == 67
    assert len(data.load_mr(download=True)[0]) == 4


def test_missing_lists_absent_files_and_unknown_names_fail_first(mirror, tmp_path):
    assert [(s.dataset, s.name) for s in data.missing()] == list(data.FILES)
    with pytest.raises(ValueError, match="unknown dataset 'mnist'; known datasets: mr, zipped, prostate"):
        data.fetch(["prostate", "mnist"])
    assert not (tmp_path / "cache").exists()


def test_command_line_fetch_and_status(mirror, capsys):
    www, url, _ = mirror
    assert cli.main(["status", "mr"]) == 1
    assert "mr/rt-polarity.pos: MISSING" in capsys.readouterr().out
    assert cli.main(["fetch", "mr", "--mirror", url]) == 0
    assert "downloading " + url + "/mr/rt-polaritydata.tar.gz" in capsys.readouterr().out
    assert cli.main(["status", "mr"]) == 0
    assert cli.main(["fetch", "prostate", "--mirror", "http://127.0.0.1:9"]) == 2
    assert "To fix, by hand" in capsys.readouterr().err
