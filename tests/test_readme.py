"""The README's Python snippets run as written, each in a fresh namespace.

A snippet preceded by ``<!-- readme-test: slow -->`` trains (the README states its
run time) and is marked slow; one that needs a dataset that is not installed is
skipped with the command that fetches it.
"""

import re

import pytest

from wdlib import data

from .conftest import ROOT

_BLOCK = re.compile(r"(<!-- readme-test: slow -->\n)?```python\n(.*?)```", re.S)


def _snippets():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    out = []
    for i, m in enumerate(_BLOCK.finditer(text), 1):
        line = text.count("\n", 0, m.start(2)) + 1
        marks = [pytest.mark.slow] if m.group(1) else []
        out.append(pytest.param(m.group(2), line, id=f"snippet{i}-line{line}", marks=marks))
    return out


def test_the_readme_has_snippets():
    assert len(_snippets()) >= 5


@pytest.mark.parametrize("code, line", _snippets())
def test_readme_snippet_runs(code, line, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a snippet may write (a sweep's store)
    monkeypatch.setenv("WDLIB_PROGRESS", "0")
    try:
        exec(compile(code, f"README.md:{line}", "exec"), {"__name__": "__readme__"})
    except data.DataNotFoundError as exc:
        pytest.skip(f"README.md:{line} needs data that is not installed; run `make data` ({str(exc)[:200]})")
