"""wdlib.book: table of contents, parameter validation, error detection, hygiene (fast)."""

import time

import nbformat
import pytest

from wdlib import book
from wdlib.sphinxext import dedupe_scripts

from .conftest import CHAPTERS, ROOT

CH3 = ROOT / "chapters" / "03_linear_regression.ipynb"


def test_toc_lists_chapter_3():
    assert CH3.relative_to(ROOT) in book.toc_chapters(ROOT)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_is_stored_clean(path):
    """No outputs, execution counts or papermill metadata; kernelspec python3; one readable parameters cell."""
    assert book.check_notebook(path) == []


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_parameters_are_typed_and_documented(path):
    params = book.notebook_parameters(path)
    assert "seed" in params
    for name, info in params.items():
        assert info["type"] in {"int", "float", "str", "bool"}, name
        assert info["help"], f"{name} has no '# help' comment"


def _notebook(tmp_path, cells, **meta):
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}, **meta}
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    return path


def test_check_notebook_reports_each_problem(tmp_path):
    params = nbformat.v4.new_code_cell("seed: int = 0  # ok\nx: int = 1  # y = 2 breaks papermill", metadata={"tags": ["parameters"]})
    ran = nbformat.v4.new_code_cell("print(1)", execution_count=3, outputs=[nbformat.v4.new_output("stream", text="1\n")])
    path = _notebook(tmp_path, [params, ran], papermill={"x": 1})
    problems = "\n".join(book.check_notebook(path))
    assert "papermill metadata" in problems
    assert "cell 1 has outputs" in problems
    assert "cell 1 has an execution count" in problems
    assert "papermill cannot read parameter 'x'" in problems


def test_check_notebook_wants_exactly_one_parameters_cell(tmp_path):
    path = _notebook(tmp_path, [nbformat.v4.new_code_cell("a = 1")])
    assert book.check_notebook(path) == ["nb.ipynb: 0 cells tagged 'parameters' (want exactly 1)"]


def test_validate_parameters_accepts_and_coerces():
    assert book.validate_parameters(CH3, {"lam": 1, "seed": 3}) == {"lam": 1.0, "seed": 3}


@pytest.mark.parametrize(
    "params, message",
    [
        ({"lamda": 0.5}, "unknown parameter(s) 'lamda'; valid parameters are: seed (int), lam (float)"),
        ({"lam": "big"}, "parameter 'lam' must be of type float; got 'big' (str)"),
        ({"seed": 1.5}, "parameter 'seed' must be of type int; got 1.5 (float)"),
        ({"seed": True}, "parameter 'seed' must be of type int; got True (bool)"),
    ],
)
def test_validate_parameters_rejects(params, message):
    with pytest.raises(book.ParameterError) as info:
        book.validate_parameters(CH3, params)
    assert message in str(info.value)


def test_cli_rejects_misspelled_parameter_before_executing(capsys, tmp_path):
    code = book.main(["build", "--root", str(ROOT), "--chapters", "03", "--param", "lamda=0.5", "--output", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "unknown parameter(s) 'lamda'" in err and "lam (float)" in err
    assert not (tmp_path / "staging").exists()


def test_cli_rejects_unknown_chapter(capsys):
    assert book.main(["build", "--root", str(ROOT), "--chapters", "99"]) == 2
    assert "choose from: 01_theory, 02_ridge, 03_linear_regression, 04_conventions, 05_vision, 06_text, 07_choosing_lambda, 08_seed_claims" in capsys.readouterr().err


def test_find_errors_names_cell_and_exception():
    nb = nbformat.v4.new_notebook()
    bad = nbformat.v4.new_code_cell("x = 1 / 0", execution_count=2)
    bad.outputs = [nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="division by zero", traceback=[])]
    nb.cells = [nbformat.v4.new_code_cell("ok = 1"), bad]
    assert book.find_errors(nb) == ["cell 1 (In [2]): ZeroDivisionError: division by zero | x = 1 / 0"]


def test_dedupe_scripts_keeps_first_of_identical_entries():
    from sphinx.builders.html._assets import _JavaScript

    scripts = [_JavaScript(None, body="const A = 1"), _JavaScript("a.js"), _JavaScript("", body="const A = 1"),
               _JavaScript("a.js", defer="defer")]
    ctx = {"script_files": scripts}
    dedupe_scripts(None, "index", "page.html", ctx, None)
    assert ctx["script_files"] is scripts  # in place: later additions to the builder's list still land
    assert [(js.filename, js.attributes) for js in scripts] == [
        (None, {"body": "const A = 1"}), ("a.js", {}), ("a.js", {"defer": "defer"})
    ]


@pytest.mark.slow
def test_failing_chapter_is_reported_with_chapter_and_cell(tmp_path):
    params = nbformat.v4.new_code_cell("seed: int = 0  # seed", metadata={"tags": ["parameters"]})
    path = _notebook(tmp_path, [params, nbformat.v4.new_code_cell("import math\nmath.sqrt(-seed - 1)")])
    src = path.rename(tmp_path / "07_broken.ipynb")
    with pytest.raises(book.BookError) as info:
        book.execute_chapter(src, tmp_path / "out" / "07_broken.ipynb", timeout=300)
    msg = str(info.value)
    assert msg.startswith("07_broken: execution failed")
    assert "ValueError: math domain error | import math" in msg


@pytest.mark.slow
def test_chapter_outputs_hold_no_progress_bar(tmp_path):
    """A chapter that trains (progress=None) executed by the book: no bar in the stored output."""
    params = nbformat.v4.new_code_cell("seed: int = 0  # seed", metadata={"tags": ["parameters"]})
    code = ("import torch\nfrom wdlib import train\nfrom wdlib.models import build_model\n"
            "m = build_model('small_cnn', seed=seed, channels=(2, 2), hidden=4)\n"
            "x, y = torch.randn(16, 1, 28, 28), torch.randint(0, 10, (16,))\n"
            "h = train.fit(m, train.make_optimizer(m, 'sgd', lr=0.1), (x, y), epochs=2, batch_size=4, seed=0)\n"
            "print('trained', len(h))")
    path = _notebook(tmp_path, [params, nbformat.v4.new_code_cell(code)])
    out = tmp_path / "out" / "nb.ipynb"
    book.execute_chapter(path, out, timeout=300)  # without WDLIB_PROGRESS=0 a Jupyter kernel would show the bar
    text = "".join(o.get("text", "") for c in nbformat.read(out, as_version=4).cells for o in c.get("outputs", []))
    assert "trained 2" in text and "fit:" not in text and "IProgress" not in text


def test_heartbeat_logs_while_a_chapter_runs():
    lines = []
    with book._Heartbeat(lines.append, "[2/8] 02_ridge", 0.05):
        time.sleep(0.18)
    assert len(lines) >= 2 and all(line.startswith("    … [2/8] 02_ridge: still executing (") for line in lines)
    with book._Heartbeat(lines.append, "x", 0):
        pass
    assert book._clock(42.4) == "42 s" and book._clock(185) == "3 min 05 s"


@pytest.mark.slow
def test_chapter_timeout_is_an_error(tmp_path):
    params = nbformat.v4.new_code_cell("seed: int = 0  # seed", metadata={"tags": ["parameters"]})
    path = _notebook(tmp_path, [params, nbformat.v4.new_code_cell("import time\ntime.sleep(600)")])
    with pytest.raises(book.BookError, match="nb: timed out after 20 s"):
        book.execute_chapter(path, tmp_path / "out.ipynb", timeout=20)


def test_index_parameter_table_matches_the_notebooks():
    """index.md documents each chapter's parameters; the table must not drift from the notebooks."""
    import re

    rows = re.findall(r"^\| (\d\d) \| `(\w+)` \| (\w+) \| ([^|]+?) \|", (ROOT / "index.md").read_text(), flags=re.M)
    documented = {(ch, name): (typ, default) for ch, name, typ, default in rows}
    actual = {}
    for path in CHAPTERS:
        for name, info in book.notebook_parameters(path).items():
            actual[(path.stem[:2], name)] = (info["type"], str(info["default"]))
    assert documented == actual


def test_every_wdlib_module_has_an_api_page_in_the_toc():
    """The API reference is split per module: chapters/api/<module>.md, listed under chapters/api in _toc.yml."""
    import pkgutil

    import yaml

    import wdlib

    modules = sorted(m.name for m in pkgutil.iter_modules(wdlib.__path__) if not m.name.startswith("_"))
    pages = sorted(p.stem for p in (ROOT / "chapters" / "api").glob("*.md"))
    assert pages == modules
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    api = next(c for part in toc["parts"] for c in part["chapters"] if c["file"] == "chapters/api")
    assert sorted(s["file"] for s in api["sections"]) == [f"chapters/api/{m}" for m in modules]
    for m in modules:
        assert f".. automodule:: wdlib.{m}" in (ROOT / "chapters" / "api" / f"{m}.md").read_text()


def test_chapters_are_numbered_and_reference_pages_are_not():
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    numbered = {part["caption"]: part.get("numbered", False) for part in toc["parts"]}
    assert numbered == {"Chapters": 1, "Reference": False}  # chapter numbers, not section numbers


def test_summarize_value_keeps_long_constants_short():
    import pandas as pd

    from wdlib.sphinxext import summarize_value

    assert summarize_value(pd.DataFrame({"a": range(50), "b": 0})) == "A ``DataFrame`` of 50 rows; columns ``a``, ``b`` (full value in the source)."
    assert summarize_value({f"k{i}": "x" * 500 for i in range(9)}).startswith("A ``dict`` of 9 entries: ``'k0'``")
    assert len(summarize_value({f"k{i}": "x" * 500 for i in range(9)})) < 120


def test_bibliography_has_no_raw_tex_and_links_every_entry():
    """references.bib: no math or TeX escapes in the text, and a URL, DOI or arXiv id wherever one exists."""
    import re

    from pybtex.database import parse_file

    bib = parse_file(str(ROOT / "references.bib"))
    for key, entry in bib.entries.items():
        for name, value in entry.fields.items():
            if name in ("url", "doi", "eprint"):
                continue
            assert "$" not in value and not re.search(r"\\[a-zA-Z'`^\"]", value.replace("\\_", "")), (key, name, value)
    unlinked = sorted(k for k, e in bib.entries.items() if not {"url", "doi", "eprint"} & set(e.fields))
    # old proceedings with no stable open link the project could verify offline
    assert unlinked == ["hanson1988comparing", "krogh1992simple", "wan2021spherical"]


def test_bibliography_labels_are_author_year():
    from pybtex.database import parse_file

    from wdlib.sphinxext import AuthorYearLabelStyle

    bib = parse_file(str(ROOT / "references.bib"))
    labels = dict(zip(bib.entries, AuthorYearLabelStyle().format_labels(bib.entries.values())))
    assert labels["xie2024implicit"] == "Xie and Li, 2024"
    assert labels["kim2014convolutional"] == "Kim, 2014"
    assert labels["vanlaarhoven2017l2"] == "van Laarhoven, 2017"
    assert labels["zhang2019three"] == "Zhang et al., 2019"
