"""wdlib.book.build: the data check before executing, and which chapters a re-run executes again.

A two-chapter book in a temporary folder; papermill is replaced by a stand-in
that copies the notebook and records the call, so these tests decide only
*whether* a chapter executes (the real execution is tested in test_book.py).
"""

import hashlib

import nbformat
import pytest

from wdlib import book, data

TOC = "format: jb-book\nroot: index\nchapters:\n- file: chapters/01_plain\n- file: chapters/02_text\n"


def _chapter(path, code):
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    nb.cells = [nbformat.v4.new_code_cell("seed: int = 0  # the seed", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(code)]
    nbformat.write(nb, path)


@pytest.fixture
def tiny_book(tmp_path, monkeypatch):
    """``(root, calls)``: a book whose chapter 2 reads MR, MR's (fixture) files on the search path."""
    root = tmp_path / "book"
    (root / "chapters").mkdir(parents=True)
    (root / "_toc.yml").write_text(TOC)
    (root / "index.md").write_text("# Tiny\n")
    _chapter(root / "chapters" / "01_plain.ipynb", "print(seed)")
    _chapter(root / "chapters" / "02_text.ipynb", "texts, labels = data.load_mr()")
    (root / "wdlib").mkdir()
    (root / "wdlib" / "core.py").write_text("X = 1\n")
    (root / "requirements.lock").write_text("numpy==2.0\n")
    (root / book.MATHJAX_DIR).mkdir(parents=True)
    (root / book.MATHJAX_DIR / "tex-chtml.js").write_text("// mathjax")
    store = tmp_path / "datasets"
    (store / "mr").mkdir(parents=True)
    files = dict(data.FILES)
    for name in ("rt-polarity.pos", "rt-polarity.neg"):
        (store / "mr" / name).write_text(name)
        old = files[("mr", name)]
        files[("mr", name)] = data.DataFile("mr", name, hashlib.sha256(name.encode()).hexdigest(), old.url,
                                            member=old.member)
    monkeypatch.setattr(data, "FILES", files)
    monkeypatch.setenv(data.ENV_VAR, str(store))
    calls = []

    def execute(src, dst, *, parameters=None, timeout=0):
        calls.append(src.stem)
        dst.write_bytes(src.read_bytes())
        return 2.5

    monkeypatch.setattr(book, "execute_chapter", execute)
    return root, calls


def _build(root, calls, **kw):
    calls.clear()
    report = book.build(root, html=False, log=lambda line: None, heartbeat=0, **kw)
    return calls[:], {r.chapter: r.status for r in report.runs}


def test_a_second_build_executes_only_what_changed(tiny_book):
    root, calls = tiny_book
    assert _build(root, calls)[0] == ["01_plain", "02_text"]
    executed, status = _build(root, calls)
    assert executed == [] and status == {"01_plain": "cached", "02_text": "cached"}
    assert (root / "_build" / "staging" / "chapters" / "02_text.ipynb").is_file()  # the cached copy is staged

    _chapter(root / "chapters" / "01_plain.ipynb", "print(seed + 1)")  # an edited chapter
    assert _build(root, calls)[0] == ["01_plain"]
    (root / "wdlib" / "core.py").write_text("X = 2\n")  # the library both chapters call
    assert _build(root, calls)[0] == ["01_plain", "02_text"]
    assert _build(root, calls, parameters={"seed": 1})[0] == ["01_plain", "02_text"]  # other parameters
    assert _build(root, calls, parameters={"seed": 1})[0] == []
    assert _build(root, calls, parameters={"seed": 1}, force=True)[0] == ["01_plain", "02_text"]
    assert _build(root, calls, chapters=["02"], parameters={"seed": 1})[0] == []


def test_new_data_re_executes_only_the_chapter_that_reads_it(tiny_book, monkeypatch):
    root, calls = tiny_book
    _build(root, calls)
    store = tiny_book[0].parent / "datasets" / "mr"
    (store / "rt-polarity.pos").write_text("a new version")
    spec = data.FILES[("mr", "rt-polarity.pos")]
    monkeypatch.setitem(data.FILES, ("mr", "rt-polarity.pos"),
                        data.DataFile("mr", spec.name, hashlib.sha256(b"a new version").hexdigest(), spec.url,
                                      member=spec.member))
    assert _build(root, calls)[0] == ["02_text"]


def test_a_failed_chapter_is_executed_again_and_the_others_are_not(tiny_book, monkeypatch):
    root, calls = tiny_book
    good = book.execute_chapter

    def fail_02(src, dst, **kw):
        if src.stem == "02_text":
            calls.append(src.stem)
            raise book.BookError("02_text: execution failed")
        return good(src, dst, **kw)

    monkeypatch.setattr(book, "execute_chapter", fail_02)
    calls.clear()
    with pytest.raises(book.BookError, match="02_text"):
        book.build(root, html=False, log=lambda line: None, heartbeat=0)
    assert calls == ["01_plain", "02_text"]
    monkeypatch.setattr(book, "execute_chapter", good)
    assert _build(root, calls)[0] == ["02_text"]


def test_missing_data_is_listed_before_anything_executes(tiny_book, monkeypatch, tmp_path):
    root, calls = tiny_book
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path / "empty"))
    monkeypatch.setattr(data, "_source_data", lambda: tmp_path / "empty")
    monkeypatch.setenv(data.CACHE_VAR, str(tmp_path / "empty-cache"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(book.BookError) as info:
        _build(root, calls)
    msg = str(info.value)
    assert calls == [] and not (root / "_build" / "staging").exists()
    assert "nothing was executed" in msg and "02_text: mr/rt-polarity.pos, mr/rt-polarity.neg" in msg
    assert "make data" in msg and "python -m wdlib.data fetch mr" in msg


def test_the_books_chapters_declare_their_data():
    """What the book's own chapters read, by profile (the README's data table says the same)."""
    from .conftest import ROOT

    needs = {nb.stem: (book.chapter_datasets(ROOT / nb, {"profile": "full"}),
                       book.chapter_datasets(ROOT / nb, {"profile": "quick"}))
             for nb in book.toc_chapters(ROOT)}
    assert needs["02_ridge"] == (["prostate"], ["prostate"])
    assert needs["05_vision"] == ([], ["fashion-mnist"])
    assert needs["06_text"] == (["mr", "sst2", "tinyshakespeare"], ["mr", "sst2", "tinyshakespeare"])
    assert needs["07_choosing_lambda"][0] == ["prostate"]
    assert needs["08_seed_claims"][0] == needs["08_seed_claims"][1] == ["prostate", "fashion-mnist"]
    assert book.chapter_datasets(ROOT / "chapters" / "05_vision.ipynb", {"recompute": True}) == ["fashion-mnist"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in readme.splitlines()
            if line.startswith("| 0")]  # the data table's rows: chapters, full profile, quick profile

    def named(cell):
        return {d for d in data.datasets() if f"`{d}`" in cell}

    for chapter, (full, quick) in needs.items():
        row = next((r for r in rows if f"{chapter[:2]} " in r[0]), None)
        assert row is not None, f"README's data table has no row for chapter {chapter[:2]}"
        assert named(row[1]) == set(full), f"README, chapter {chapter[:2]}, full profile"
        assert (named(row[2]) if row[2] != "the same" else named(row[1])) == set(quick), chapter
