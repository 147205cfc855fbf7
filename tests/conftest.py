"""Shared fixtures: one executed-and-built copy of the book per test session."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


_REPORT: dict[str, list[str]] = {}


@pytest.fixture
def report():
    """``report(line, section="re-checks of committed runs")``: a line for a section of the summary printed at
    the end of the test run (which re-check ran and why; what the pages measure)."""

    def add(line: str, section: str = "re-checks of committed runs") -> None:
        _REPORT.setdefault(section, []).append(line)

    return add


def pytest_terminal_summary(terminalreporter):
    for section, lines in _REPORT.items():
        terminalreporter.section(section)
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    """The book built by the real pipeline (quick profile) into a temporary folder.

    With ``WDLIB_BOOK_BUILT=DIR`` set, the book already built into ``DIR`` (its
    ``html`` folder) is used instead: for re-running the browser tests quickly.

    ``seed=0`` (each chapter's default) is passed explicitly so that papermill
    injects a parameters cell, whose folding the HTML tests check.
    """
    import json
    import os

    from wdlib import book

    prebuilt = os.environ.get("WDLIB_BOOK_BUILT")
    if prebuilt:  # iterate on the HTML tests against `python -m wdlib.book build --output DIR` without rebuilding
        html = Path(prebuilt) / "html"
        timings = json.loads((html / "timings.json").read_text())
        runs = [book.ChapterRun(**c) for c in timings["chapters"]]
        report = book.BuildReport(runs, html, timings["profile"], timings["execute_seconds"], timings["build_seconds"])
        report.log_lines = []
        return report
    out = tmp_path_factory.mktemp("book")
    lines = []
    report = book.build(ROOT, profile="quick", parameters={"seed": 0}, output=out, timeout=900, log=lines.append)
    report.log_lines = lines  # what `make book` prints, for test_book
    return report


@pytest.fixture(scope="session")
def book_url(built_book):
    """Base URL of the built HTML served on 127.0.0.1."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(built_book.html_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
