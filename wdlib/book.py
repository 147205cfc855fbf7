"""Execute the book's chapters with papermill and build the HTML with Jupyter Book.

The pipeline, in order:

1. copy the book sources to a fresh staging folder (the repository is never
   written to);
2. before executing anything: validate every chapter's parameters against its
   ``parameters`` cell and check that the data every selected chapter reads is
   on the search path (:func:`chapter_datasets`), listing everything missing;
3. execute every chapter notebook listed in ``_toc.yml`` with papermill, one
   subprocess per chapter (kernel ``python3``, working directory = the chapter's
   folder, a wall-clock timeout per chapter) -- unless its executed copy in
   ``<output>/cache`` has the same :func:`execution_key` (notebook, parameters,
   ``wdlib`` sources, data, committed results, locked versions), which is then
   reused (``--force`` executes every chapter);
4. fail, naming the chapter and the cell, if any output is an error;
5. fold the papermill-injected parameters cell (tag ``hide-cell``);
6. run ``jupyter-book build`` on the staging folder (execution is off in
   ``_config.yml``) with ``-W -n --keep-going``;
7. build the whole book as one HTML page (Sphinx's ``singlehtml`` builder, from
   the same doctrees) and print it to ``weight-decay-executed.pdf`` with headless
   Chromium (:func:`print_pdf`; no network, no LaTeX); the landing page links it;
8. copy the HTML (and the PDF) to ``<output>/html`` and write ``timings.json`` beside it.

Why a content hash rather than jupyter-cache (which jupyter-book ships): its
key is a notebook's code cells, so it would miss what decides a chapter's
output here -- the papermill parameters, the ``wdlib`` code the cells call,
the data files and the committed results -- and it executes with nbclient,
not papermill.

Command line::

    python -m wdlib.book build --profile quick
    python -m wdlib.book build --chapters 03 --param lam=0.5 --param seed=3
    python -m wdlib.book build --profile full --force   # re-execute every chapter
    python -m wdlib.book check            # notebook hygiene
    python -m wdlib.book vendor-mathjax   # MathJax 3 from the npm registry into _vendor/
"""

from __future__ import annotations

import argparse
import ast
import functools
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from .data import LOADERS

__all__ = [
    "BookError",
    "BuildReport",
    "ChapterRun",
    "ParameterError",
    "build",
    "chapter_datasets",
    "check_data",
    "check_notebook",
    "execution_key",
    "execute_chapter",
    "find_errors",
    "main",
    "notebook_parameters",
    "pdf_page_count",
    "print_pdf",
    "repository_url",
    "toc_chapters",
    "validate_parameters",
    "vendor_mathjax",
]

PROFILES = ("quick", "full")
KERNEL = "python3"
MATHJAX_VERSION = "3.2.2"
#: Where MathJax is vendored; ``_vendor`` is an ``html_extra_path``, so it lands in ``html/_static/mathjax``.
MATHJAX_DIR = Path("_vendor") / "_static" / "mathjax"
#: What is copied to the staging folder (everything the build reads).
BOOK_SOURCES = ("_config.yml", "_toc.yml", "index.md", "bibliography.md", "references.bib", "chapters", "_static", "_vendor")
#: The PDF of the whole book, beside ``index.html`` (index.md links it).
PDF_NAME = "weight-decay-executed.pdf"
CHROMIUM = "/usr/bin/chromium"
_IGNORE = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc", "_build")


class BookError(RuntimeError):
    """A chapter failed, timed out, or the book did not build."""


class ParameterError(ValueError):
    """A parameter passed to a chapter is unknown or of the wrong type."""


# --------------------------------------------------------------------------- #
# table of contents and parameters
# --------------------------------------------------------------------------- #
def _toc_entries(node) -> list[str]:
    files = []
    if isinstance(node, dict):
        if "file" in node:
            files.append(node["file"])
        if "root" in node:
            files.append(node["root"])
        for key in ("parts", "chapters", "sections"):
            for child in node.get(key, []) or []:
                files.extend(_toc_entries(child))
    elif isinstance(node, list):
        for child in node:
            files.extend(_toc_entries(child))
    return files


def toc_chapters(root: str | Path = ".") -> list[Path]:
    """Notebooks listed in ``root/_toc.yml``, in book order, relative to ``root``.

    Raises
    ------
    BookError
        If ``_toc.yml`` is missing or names a file that does not exist.
    """
    root = Path(root)
    toc_path = root / "_toc.yml"
    if not toc_path.is_file():
        raise BookError(f"no _toc.yml in {root.resolve()}; run from the repository root or pass --root.")
    toc = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
    notebooks = []
    for entry in _toc_entries(toc):
        stem = Path(entry)
        candidates = [root / stem.with_suffix(s) for s in (".ipynb", ".md")] if not stem.suffix else [root / stem]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise BookError(f"_toc.yml lists {entry!r} but no such .ipynb or .md file exists under {root.resolve()}.")
        if found.suffix == ".ipynb":
            notebooks.append(found.relative_to(root))
    return notebooks


def notebook_parameters(path: str | Path) -> dict[str, dict]:
    """The parameters a notebook declares, as :func:`papermill.inspect_notebook` reads them.

    Returns
    -------
    dict
        ``name -> {"type": str or None, "default": object, "help": str}``; the
        type comes from the annotation (``seed: int = 0``) or else from the
        default's literal.
    """
    import papermill

    out = {}
    for name, info in papermill.inspect_notebook(str(path)).items():
        try:
            default = ast.literal_eval(info["default"])
        except (ValueError, SyntaxError):
            default = info["default"]
        type_name = info.get("inferred_type_name")
        if type_name in (None, "None"):
            type_name = type(default).__name__ if default is not None else None
        out[name] = {"type": type_name, "default": default, "help": info.get("help", "")}
    return out


_TYPES = {"int": int, "float": float, "str": str, "bool": bool, "list": list, "dict": dict}


def _coerce(name: str, value, type_name: str | None, chapter: str):
    if type_name is None or type_name not in _TYPES:
        return value
    want = _TYPES[type_name]
    if want is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    # bool is an int subclass, but "seed=true" is a mistake
    if isinstance(value, want) and not (want is int and isinstance(value, bool)):
        return value
    raise ParameterError(
        f"{chapter}: parameter {name!r} must be of type {type_name}; got {value!r} ({type(value).__name__})."
    )


def validate_parameters(path: str | Path, parameters: dict) -> dict:
    """Check ``parameters`` against the notebook's ``parameters`` cell.

    Unknown names and values of the wrong type raise :class:`ParameterError`
    (papermill itself only warns).  Integers are accepted for ``float``
    parameters and converted.

    Parameters
    ----------
    path : path
        The chapter notebook.
    parameters : dict
        Name → value, as passed to papermill.

    Returns
    -------
    dict
        The parameters, coerced.
    """
    declared = notebook_parameters(path)
    chapter = Path(path).stem
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        valid = ", ".join(f"{k} ({v['type']})" for k, v in declared.items()) or "none"
        raise ParameterError(f"{chapter}: unknown parameter(s) {', '.join(map(repr, unknown))}; valid parameters are: {valid}.")
    return {k: _coerce(k, v, declared[k]["type"], chapter) for k, v in parameters.items()}


def _parse_assignment(text: str) -> tuple[str, object]:
    if "=" not in text:
        raise ParameterError(f"--param expects NAME=VALUE; got {text!r}.")
    name, raw = text.split("=", 1)
    return name.strip(), yaml.safe_load(raw)


# --------------------------------------------------------------------------- #
# execution
# --------------------------------------------------------------------------- #
@dataclass
class ChapterRun:
    """One executed chapter: name, wall time in seconds, status and the parameters used."""

    chapter: str  #: the notebook's stem, e.g. ``"03_linear_regression"``
    seconds: float  #: wall time of its execution
    status: str  #: ``"ok"`` (a failure raises instead)
    parameters: dict = field(default_factory=dict)  #: the parameters passed to papermill


def find_errors(nb) -> list[str]:
    """Describe every error output (and papermill's error banner) in an executed notebook.

    Parameters
    ----------
    nb : nbformat.NotebookNode or dict

    Returns
    -------
    list of str
        ``"cell N (In [k]): <ename>: <evalue> | <first source line>"``, empty if clean.
    """
    problems = []
    for i, cell in enumerate(nb["cells"]):
        tags = cell.get("metadata", {}).get("tags", [])
        if "papermill-error-cell-tag" in tags:
            continue  # the banner points at the failing cell, which is reported below
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            if out.get("output_type") == "error":
                first = next((ln for ln in "".join(cell.get("source", "")).splitlines() if ln.strip()), "")
                problems.append(
                    f"cell {i} (In [{cell.get('execution_count')}]): {out.get('ename')}: {out.get('evalue')} | {first[:80]}"
                )
    return problems


def _fold_injected(nb) -> None:
    for cell in nb["cells"]:
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if "injected-parameters" in tags and "hide-cell" not in tags:
            tags.append("hide-cell")


def execute_chapter(
    src: str | Path,
    dst: str | Path,
    *,
    parameters: dict | None = None,
    timeout: float = 1200,
    kernel: str = KERNEL,
    env: dict | None = None,
) -> float:
    """Execute one notebook with papermill in a subprocess; return its wall time.

    The working directory is ``dst``'s folder.  Parameters are validated first
    (:func:`validate_parameters`).  The injected-parameters cell is folded.
    The kernel runs with ``WDLIB_PROGRESS=0`` (unless ``env`` sets it), so
    that no progress bar lands in the chapter's stored output.

    Parameters
    ----------
    src : path
        The stored chapter.
    dst : path
        Where to write the executed copy.
    parameters : dict, optional
        Passed to papermill (validated first).
    timeout : float, default 1200
        Wall-clock limit in seconds.
    kernel : str, default "python3"
        Jupyter kernel name.
    env : dict, optional
        Extra environment variables for the kernel.

    Raises
    ------
    ParameterError
        Before anything runs, for an unknown or mistyped parameter.
    BookError
        On a timeout, a failed execution, or any error output, naming the
        chapter and the cell.
    """
    import nbformat

    src, dst = Path(src), Path(dst)
    chapter = src.stem
    params = validate_parameters(src, parameters or {})
    dst.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as fh:
        yaml.safe_dump(params, fh)
        params_file = fh.name
    cmd = [
        sys.executable, "-m", "papermill", str(src.resolve()), str(dst.resolve()),
        "-f", params_file, "-k", kernel, "--cwd", str(dst.parent.resolve()),
        "--no-progress-bar", "--log-level", "WARNING",
    ]
    env = {**os.environ, "WDLIB_PROGRESS": "0", **(env or {})}
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as exc:
        raise BookError(
            f"{chapter}: timed out after {timeout:.0f} s; raise --timeout or use the quick profile."
        ) from exc
    finally:
        os.unlink(params_file)
    seconds = time.perf_counter() - t0
    if not dst.is_file():
        raise BookError(f"{chapter}: papermill wrote no output notebook.\n{proc.stderr[-3000:]}")
    nb = nbformat.read(dst, as_version=4)
    errors = find_errors(nb)
    if errors or proc.returncode != 0:
        detail = "\n  ".join(errors) or proc.stderr[-3000:]
        raise BookError(f"{chapter}: execution failed ({dst}):\n  {detail}")
    _fold_injected(nb)
    nbformat.write(nb, dst)
    return seconds


# --------------------------------------------------------------------------- #
# build
# --------------------------------------------------------------------------- #
_LOADER_CALL = re.compile(r"\b(" + "|".join(LOADERS) + r")\(")


def _code(path: Path) -> str:
    import nbformat

    return "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")


def chapter_datasets(path: str | Path, parameters: dict | None = None) -> list[str]:
    """The datasets a chapter reads when executed with ``parameters``.

    Those its code cells load (a call of a :data:`wdlib.data.LOADERS` function),
    and, when it trains its sweeps live (a profile other than ``"full"``, or
    ``recompute``), those its sweeps (:data:`wdlib.experiments.CHAPTER_SWEEPS`)
    train on.

    Parameters
    ----------
    path : path
        The chapter notebook.
    parameters : dict, optional
        Its papermill parameters (the rest take their defaults).
    """
    from . import experiments

    path = Path(path)
    params = {k: v["default"] for k, v in notebook_parameters(path).items()} | dict(parameters or {})
    found = [LOADERS[m] for m in _LOADER_CALL.findall(_code(path))]
    profile = params.get("profile", "full")
    if profile != "full" or params.get("recompute"):
        for name in experiments.CHAPTER_SWEEPS.get(path.stem, []):
            found += experiments.SWEEPS[name].datasets(profile)
    return list(dict.fromkeys(found))


def check_data(needs: dict[str, list[str]]) -> None:
    """Raise one :class:`BookError` listing every dataset file missing for ``needs`` (``chapter -> datasets``)."""
    from . import data

    wanted = list(dict.fromkeys(d for ds in needs.values() for d in ds))
    try:
        absent = data.missing(wanted)
    except data.ChecksumError as exc:
        raise BookError(f"a dataset file is corrupt: {exc}") from None
    if not absent:
        return
    lines = []
    for chapter, ds in needs.items():
        files = [f"{s.dataset}/{s.name}" for s in absent if s.dataset in ds]
        if files:
            lines.append(f"{chapter}: {', '.join(files)}")
    names = " ".join(dict.fromkeys(s.dataset for s in absent))
    raise BookError(
        "data missing; nothing was executed. Missing files, by chapter:\n  " + "\n  ".join(lines)
        + f"\nFetch them with `make data` (= python -m wdlib.data fetch {names}), or see below.\n"
        + data.missing_message(absent, data.search_path())
    )


def _results_files(root: Path) -> list[Path]:
    return sorted(p for p in (root / "data" / "results").rglob("*") if p.is_file())


def execution_key(root: str | Path, notebook: str | Path, parameters: dict) -> str:
    """Content hash of everything that decides a chapter's executed output.

    The notebook's bytes, its parameters, every ``wdlib/*.py`` of ``root``, the
    sha256 of the data files it reads (:func:`chapter_datasets`), the committed
    results (``data/results/``) if it calls ``load_results``, ``requirements.lock``
    and the Python version.  Same key: re-executing would give the same notebook
    (up to timings), so the build reuses the cached one.

    Parameters
    ----------
    root : path
        The repository root.
    notebook : path
        The chapter, relative to ``root``.
    parameters : dict
        Its papermill parameters.
    """
    from . import data

    root, nb = Path(root), Path(root) / notebook
    h = hashlib.sha256()

    def feed(label: str, payload: bytes) -> None:
        h.update(f"{label}\0{len(payload)}\0".encode())
        h.update(payload)

    feed("notebook", nb.read_bytes())
    feed("parameters", json.dumps(parameters, sort_keys=True, default=str).encode())
    for path in sorted((root / "wdlib").rglob("*.py")):
        feed(f"wdlib/{path.relative_to(root / 'wdlib').as_posix()}", path.read_bytes())
    for name in chapter_datasets(nb, parameters):
        for spec in data.dataset_files(name):  # found files match these (checked before executing)
            feed(f"data/{spec.dataset}/{spec.name}", spec.sha256.encode())
    if "load_results(" in _code(nb):
        for path in _results_files(root):
            feed(path.relative_to(root).as_posix(), path.read_bytes())
    lock = root / "requirements.lock"
    feed("requirements.lock", lock.read_bytes() if lock.is_file() else b"")
    feed("python", sys.version.encode())
    return h.hexdigest()


def _cached(cache: Path, chapter: str, key: str) -> tuple[Path, dict] | None:
    nb, meta = cache / chapter / f"{key}.ipynb", cache / chapter / f"{key}.json"
    if nb.is_file() and meta.is_file():
        return nb, json.loads(meta.read_text(encoding="utf-8"))
    return None


def _store(cache: Path, chapter: str, key: str, executed: Path, seconds: float) -> None:
    """Keep one executed copy per chapter (the latest), written atomically."""
    folder = cache / chapter
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    shutil.copy2(executed, folder / f"{key}.ipynb.part")
    os.replace(folder / f"{key}.ipynb.part", folder / f"{key}.ipynb")
    meta = {"seconds": round(seconds, 2), "executed": time.strftime("%Y-%m-%d %H:%M:%S")}
    (folder / f"{key}.json").write_text(json.dumps(meta), encoding="utf-8")


@dataclass
class BuildReport:
    """Result of :func:`build`: per-chapter runs, the HTML folder and total times."""

    runs: list[ChapterRun]  #: one per executed chapter, in book order
    html_dir: Path | None  #: the built HTML (None when only executing)
    profile: str  #: ``"quick"`` or ``"full"``
    execute_seconds: float  #: wall time of executing every chapter
    build_seconds: float  #: wall time of ``jupyter-book build`` (HTML)
    pdf_seconds: float = 0.0  #: wall time of the single-page build and its printing

    def table(self) -> str:
        """Per-chapter wall times as a plain-text table."""
        w = max([len(r.chapter) for r in self.runs] + [7])
        lines = [f"{'chapter':<{w}}  {'seconds':>8}  status", f"{'-' * w}  {'-' * 8}  ------"]
        lines += [f"{r.chapter:<{w}}  {r.seconds:8.1f}  {r.status}" for r in self.runs]
        lines.append(f"{'execute total':<{w}}  {self.execute_seconds:8.1f}")
        lines.append(f"{'html build':<{w}}  {self.build_seconds:8.1f}")
        if self.pdf_seconds:
            lines.append(f"{'pdf':<{w}}  {self.pdf_seconds:8.1f}")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {
            "profile": self.profile,
            "chapters": [asdict(r) for r in self.runs],
            "execute_seconds": round(self.execute_seconds, 2),
            "build_seconds": round(self.build_seconds, 2),
            "pdf_seconds": round(self.pdf_seconds, 2),
            "python": platform.python_version(),
            "machine": f"{platform.machine()} {os.cpu_count()} cpu",
        }


def _clock(seconds: float) -> str:
    """``"42 s"`` or ``"3 min 05 s"``."""
    return f"{seconds:.0f} s" if seconds < 60 else f"{int(seconds // 60)} min {int(seconds % 60):02d} s"


class _Heartbeat:
    """Logs ``… <label>: still executing (<elapsed>)`` every ``every`` seconds while the block runs."""

    def __init__(self, log, label: str, every: float):
        self.log, self.label, self.every = log, label, every
        self.stop = threading.Event()

    def __enter__(self):
        self.start = time.perf_counter()
        if self.every and self.every > 0:
            self.thread = threading.Thread(target=self._beat, name="wdlib-book-heartbeat", daemon=True)
            self.thread.start()
        return self

    def _beat(self):
        while not self.stop.wait(self.every):
            self.log(f"    … {self.label}: still executing ({_clock(time.perf_counter() - self.start)})")

    def __exit__(self, *exc):
        self.stop.set()
        if hasattr(self, "thread"):
            self.thread.join()


def _select(notebooks: list[Path], chapters) -> list[Path]:
    if not chapters:
        return notebooks
    chosen = []
    for want in chapters:
        hits = [nb for nb in notebooks if nb.stem == want or nb.stem.startswith(f"{want}_") or nb.name == want]
        if len(hits) != 1:
            names = ", ".join(nb.stem for nb in notebooks)
            raise BookError(f"--chapters {want!r} matches {len(hits)} chapters; choose from: {names}.")
        chosen += hits
    return chosen


def repository_url(root: str | Path = ".") -> str:
    """The repository's address: ``[project.urls] Repository`` of ``root/pyproject.toml``, its one written place."""
    path = Path(root) / "pyproject.toml"
    found = re.search(r'^Repository\s*=\s*"([^"]+)"', path.read_text(encoding="utf-8"), re.M) if path.is_file() else None
    if found is None:
        raise BookError(f"{path.resolve()} names no Repository under [project.urls]")
    return found.group(1)


def stage(root: str | Path, staging: str | Path) -> Path:
    """Copy the book sources of ``root`` into a fresh ``staging`` folder (``_config.yml`` gets the repository URL)."""
    root, staging = Path(root).resolve(), Path(staging).resolve()
    if staging == root or staging in root.parents:
        raise BookError(f"staging folder {staging} would overwrite the book sources; choose another.")
    mathjax = root / MATHJAX_DIR / "tex-chtml.js"
    if not mathjax.is_file():
        raise BookError(
            f"{mathjax} is missing: the book serves MathJax itself. Run `make setup` "
            "or `python -m wdlib.book vendor-mathjax`."
        )
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    for name in BOOK_SOURCES:
        src = root / name
        if src.is_dir():
            shutil.copytree(src, staging / name, ignore=_IGNORE)
        elif src.is_file():
            shutil.copy2(src, staging / name)
    config = staging / "_config.yml"
    if config.is_file() and (root / "pyproject.toml").is_file():
        text = config.read_text(encoding="utf-8")
        if re.search(r"^repository:\n", text, re.M):  # the theme's repository and issues buttons link here
            text = re.sub(r"^repository:\n", f"repository:\n  url: {repository_url(root)}\n", text, count=1, flags=re.M)
            config.write_text(text, encoding="utf-8")
    return staging


def _jupyter_book() -> list[str]:
    exe = Path(sys.executable).with_name("jupyter-book")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "jupyter_book.cli.main"]


def print_pdf(html_file: str | Path, pdf_file: str | Path, *, chromium: str | Path = CHROMIUM,
              timeout: float = 600) -> Path:
    """Print one HTML file to an A4 PDF with headless Chromium (driven by Playwright), offline.

    The page is opened as a ``file://`` URL; printing waits until MathJax has
    typeset every formula and the web fonts have loaded (Chromium's own
    ``--print-to-pdf`` prints at the load event, before MathJax is done).

    Parameters
    ----------
    html_file : path
        The page to print.
    pdf_file : path
        Where to write the PDF.
    chromium : path, default "/usr/bin/chromium"
        The browser (Debian's ``chromium`` package; Playwright downloads none).
    timeout : float, default 600
        Seconds allowed for loading, typesetting and printing.

    Returns
    -------
    Path
        ``pdf_file``.

    Raises
    ------
    BookError
        If Chromium or Playwright is missing, or the page does not typeset.
    """
    html_file, pdf_file = Path(html_file).resolve(), Path(pdf_file).resolve()
    if not Path(chromium).exists():
        raise BookError(f"{chromium} is missing: the PDF is printed by headless Chromium (apt-get install -y chromium).")
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise BookError("the PDF is printed through Playwright: pip install playwright (no browser download "
                        "is needed; it drives /usr/bin/chromium)") from exc
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync"]  # fmt: skip
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(chromium), args=args)
            page = browser.new_page()
            page.set_default_timeout(timeout * 1000)
            page.goto(html_file.as_uri(), wait_until="load")
            page.evaluate("""async () => {
                document.querySelectorAll('img[loading="lazy"]').forEach(i => i.loading = 'eager');
                if (window.MathJax && MathJax.startup) await MathJax.startup.promise;
                await document.fonts.ready;
            }""")
            page.emulate_media(media="print")
            page.pdf(path=str(pdf_file), format="A4", print_background=True,
                     margin={"top": "16mm", "bottom": "16mm", "left": "14mm", "right": "14mm"})
            browser.close()
    except PlaywrightError as exc:
        raise BookError(f"chromium did not print {html_file} to PDF: {exc}") from exc
    return pdf_file


def pdf_page_count(pdf_file: str | Path) -> int:
    """Pages of a PDF written by Chromium (its page objects are not compressed)."""
    import re

    return len(re.findall(rb"/Type\s*/Page(?![s\w])", Path(pdf_file).read_bytes()))


def build(
    root: str | Path = ".",
    *,
    profile: str = "quick",
    chapters: list[str] | None = None,
    parameters: dict | None = None,
    output: str | Path = "_build",
    timeout: float = 1200,
    html: bool = True,
    pdf: bool = True,
    log=None,
    heartbeat: float = 60,
    force: bool = False,
) -> BuildReport:
    """Execute the chapters and build the HTML book.

    Parameters
    ----------
    root : path, default "."
        Repository root (holds ``_toc.yml``).
    profile : {"quick", "full"}
        Passed as ``profile`` to every chapter that declares it.
    chapters : list of str, optional
        Chapter stems or number prefixes (``["03"]``); all chapters when omitted.
        A partial selection executes only those, and skips the HTML build.
    parameters : dict, optional
        Extra parameters for every selected chapter; each must be declared by
        each selected chapter.
    output : path, default "_build"
        ``<output>/staging`` is the executed copy, ``<output>/html`` the book.
    timeout : float, default 1200
        Wall-clock limit per chapter, in seconds.
    html : bool, default True
        Build the HTML after executing.
    pdf : bool, default True
        Also build the whole book as one page and print it to
        ``<output>/html/weight-decay-executed.pdf`` (:func:`print_pdf`).
    log : callable, optional
        Receives the progress lines (which chapter is executing, a heartbeat
        while it runs, its time when done); ``print`` (flushed) by default.
    heartbeat : float, default 60
        Seconds between "still executing" lines (0: none).
    force : bool, default False
        Execute every selected chapter, even one whose executed copy in
        ``<output>/cache`` has the same :func:`execution_key`.

    Returns
    -------
    BuildReport
    """
    if profile not in PROFILES:
        raise ParameterError(f"profile must be one of {PROFILES}; got {profile!r}.")
    log = log or functools.partial(print, flush=True)
    root = Path(root).resolve()
    output = (root / output).resolve()
    notebooks = _select(toc_chapters(root), chapters)
    # Validate everything before spending minutes executing anything.
    plans = []
    for nb in notebooks:
        params = dict(parameters or {})
        if "profile" in notebook_parameters(root / nb):
            params.setdefault("profile", profile)
        plans.append((nb, validate_parameters(root / nb, params)))
    check_data({nb.stem: chapter_datasets(root / nb, params) for nb, params in plans})
    staging = stage(root, output / "staging")
    cache = output / "cache"
    runs = []
    t0 = time.perf_counter()
    for i, (nb, params) in enumerate(plans, 1):
        label = f"[{i}/{len(plans)}] {nb.stem}"
        key = execution_key(root, nb, params)
        hit = None if force else _cached(cache, nb.stem, key)
        if hit is not None:
            shutil.copy2(hit[0], staging / nb)
            log(f"{label}: unchanged since {hit[1]['executed']}; reusing its executed copy "
                f"(it took {_clock(hit[1]['seconds'])}; --force re-executes)")
            runs.append(ChapterRun(nb.stem, 0.0, "cached", params))
            continue
        log(f"{label}: executing {nb}{' ' + json.dumps(params) if params else ''}")
        with _Heartbeat(log, label, heartbeat):
            seconds = execute_chapter(root / nb, staging / nb, parameters=params, timeout=timeout)
        _store(cache, nb.stem, key, staging / nb, seconds)
        log(f"{label}: done in {_clock(seconds)} (all so far: {_clock(time.perf_counter() - t0)})")
        runs.append(ChapterRun(nb.stem, round(seconds, 2), "ok", params))
    execute_seconds = time.perf_counter() - t0
    report = BuildReport(runs, None, profile, execute_seconds, 0.0)
    if chapters or not html:  # a partial selection only executes
        return report
    t1 = time.perf_counter()
    log("building the HTML (jupyter-book)")
    cmd = _jupyter_book() + ["build", str(staging), "--all", "-W", "-n", "--keep-going"]
    with _Heartbeat(log, "jupyter-book build", heartbeat):
        proc = subprocess.run(cmd, capture_output=True, text=True)
    report.build_seconds = time.perf_counter() - t1
    if proc.returncode != 0:
        raise BookError(f"jupyter-book build failed (warnings are errors):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    if pdf:
        t2 = time.perf_counter()
        log("building the PDF (one HTML page, printed by headless chromium)")
        cmd = _jupyter_book() + ["build", str(staging), "--builder", "singlehtml", "-W", "-n", "--keep-going"]
        with _Heartbeat(log, "pdf", heartbeat):
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                raise BookError(f"jupyter-book singlehtml build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
            print_pdf(staging / "_build" / "singlehtml" / "index.html", staging / "_build" / "html" / PDF_NAME)
        report.pdf_seconds = time.perf_counter() - t2
    html_dir = output / "html"
    if html_dir.exists():
        shutil.rmtree(html_dir)
    shutil.copytree(staging / "_build" / "html", html_dir)
    report.html_dir = html_dir
    (html_dir / "timings.json").write_text(json.dumps(report.to_json(), indent=2), encoding="utf-8")
    return report


# --------------------------------------------------------------------------- #
# notebook hygiene and MathJax
# --------------------------------------------------------------------------- #
def check_notebook(path: str | Path) -> list[str]:
    """Problems that keep a chapter from being stored as a source notebook.

    A chapter is stored without outputs, execution counts or papermill
    metadata, with kernelspec ``python3`` and exactly one cell tagged
    ``parameters``.  Returns a list of messages (empty when clean).
    """
    import nbformat

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    problems = []
    if nb.metadata.get("kernelspec", {}).get("name") != KERNEL:
        problems.append(f"{path.name}: kernelspec name must be {KERNEL!r}")
    if "papermill" in nb.metadata:
        problems.append(f"{path.name}: notebook carries papermill metadata (an executed copy?)")
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    if len(tagged) != 1:
        problems.append(f"{path.name}: {len(tagged)} cells tagged 'parameters' (want exactly 1)")
    else:
        # papermill silently skips lines it cannot parse (e.g. a second '=' in the comment).
        tree = ast.parse(nb.cells[tagged[0]].source)
        assigned = {t.id for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
                    for t in (node.targets if isinstance(node, ast.Assign) else [node.target]) if isinstance(t, ast.Name)}
        for name in sorted(assigned - set(notebook_parameters(path))):
            problems.append(f"{path.name}: papermill cannot read parameter {name!r}; keep its line to "
                            "'name: type = value  # help' with no other '=' on it")
    for i, cell in enumerate(nb.cells):
        if "papermill" in cell.metadata:
            problems.append(f"{path.name}: cell {i} carries papermill metadata")
        if cell.cell_type == "code":
            if cell.outputs:
                problems.append(f"{path.name}: cell {i} has outputs")
            if cell.execution_count is not None:
                problems.append(f"{path.name}: cell {i} has an execution count")
    return problems


def vendor_mathjax(root: str | Path = ".", *, version: str = MATHJAX_VERSION) -> Path:
    """Put MathJax ``version`` (from the npm registry, integrity-checked by npm) in ``root/_vendor/_static/mathjax``.

    The book then renders math without any CDN.  Does nothing if that version
    is already there.

    Parameters
    ----------
    root : path, default "."
        Repository root.
    version : str, default MATHJAX_VERSION
        MathJax version to fetch.
    """
    dest = Path(root).resolve() / MATHJAX_DIR
    stamp = dest / "VERSION"
    if stamp.is_file() and stamp.read_text().strip() == version:
        return dest
    npm = shutil.which("npm")
    if npm is None:
        raise BookError("npm is needed to fetch MathJax from the npm registry: install Node.js (apt-get install -y npm).")
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run([npm, "pack", f"mathjax@{version}", "--silent"], cwd=tmp, capture_output=True, text=True)
        if proc.returncode != 0:
            raise BookError(f"npm pack mathjax@{version} failed:\n{proc.stderr[-2000:]}")
        with tarfile.open(Path(tmp) / f"mathjax-{version}.tgz") as tar:
            tar.extractall(tmp, filter="data")
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(Path(tmp) / "package" / "es5", dest)
    stamp.write_text(version + "\n")
    return dest


# --------------------------------------------------------------------------- #
# command line
# --------------------------------------------------------------------------- #
def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m wdlib.book`` (and the ``wdlib-book`` script)."""
    parser = argparse.ArgumentParser(prog="python -m wdlib.book", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="execute chapters with papermill, then build the HTML")
    b.add_argument("--root", default=".", help="repository root (default: .)")
    b.add_argument("--profile", choices=PROFILES, default="quick", help="quick (CI) or full (published results)")
    b.add_argument("--chapters", nargs="+", metavar="CH", help="chapter stems or prefixes, e.g. 03 (executes only; no HTML)")
    b.add_argument("--param", "-p", action="append", default=[], metavar="NAME=VALUE",
                   help="parameter for every selected chapter (YAML value), e.g. -p lam=0.5")
    b.add_argument("--output", default="_build", help="output folder (default: _build)")
    b.add_argument("--timeout", type=float, default=1200, help="wall-clock seconds per chapter (default: 1200)")
    b.add_argument("--force", action="store_true",
                   help="execute every chapter, even those unchanged since their cached execution")
    c = sub.add_parser("check", help="check that the chapters are stored stripped, with one parameters cell")
    c.add_argument("--root", default=".")
    m = sub.add_parser("vendor-mathjax", help=f"fetch MathJax {MATHJAX_VERSION} from npm into {MATHJAX_DIR}")
    m.add_argument("--root", default=".")
    args = parser.parse_args(argv)
    try:
        if args.command == "vendor-mathjax":
            print(f"MathJax in {vendor_mathjax(args.root)}")
            return 0
        if args.command == "check":
            problems = [p for nb in sorted(Path(args.root, "chapters").glob("*.ipynb")) for p in check_notebook(nb)]
            print("\n".join(problems) or "all chapters clean")
            return 1 if problems else 0
        params = dict(_parse_assignment(p) for p in args.param)
        report = build(args.root, profile=args.profile, chapters=args.chapters, parameters=params,
                       output=args.output, timeout=args.timeout, force=args.force)
    except (BookError, ParameterError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report.table())
    if report.html_dir is not None:
        print(f"\nThe book is at {report.html_dir / 'index.html'}")
        print(f"Timings written to {report.html_dir / 'timings.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
