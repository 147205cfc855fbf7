"""The package's layout: data flows one way, and the sweep engine knows nothing about the book.

The import graph is read from the source with :mod:`ast` (every ``import`` and
``from`` of a wdlib module, at module level or inside a function), not from a
running interpreter, so a lazy import counts too.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "wdlib"


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _graph() -> dict[str, set[str]]:
    """wdlib module -> the wdlib modules it imports (``from . import x`` resolved to ``wdlib.x``)."""
    modules = {_module(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name.startswith("wdlib")}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                if base.startswith("wdlib"):
                    for a in node.names:
                        deps.add(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base)
        graph[name] = {d for d in deps if d in modules and d != name and d != "wdlib"}
    return graph


def _reaches(graph, start) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for dep in graph[todo.pop()]:
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def test_the_import_graph_has_no_cycle():
    graph = _graph()
    cycles = sorted(m for m in graph if m in _reaches(graph, m))
    assert not cycles, f"modules on an import cycle: {cycles}"


@pytest.mark.parametrize("module, forbidden", [
    ("wdlib.sweep", {"wdlib.experiments", "wdlib.runs", "wdlib.cli", "wdlib.recheck"}),  # the engine knows no book
    ("wdlib.experiments", {"wdlib.runs", "wdlib.cli", "wdlib.models", "wdlib.train"}),  # the catalogue names runs
    ("wdlib.ridge", {"wdlib.decay", "wdlib.train", "wdlib.models"}),  # numpy only
    ("wdlib.conventions", {"wdlib.decay", "wdlib.ridge"}),
])
def test_a_layer_does_not_reach_the_layers_above_it(module, forbidden):
    assert not (_reaches(_graph(), module) & forbidden)


@pytest.mark.parametrize("module", ["wdlib.ridge", "wdlib.conventions", "wdlib.tuning", "wdlib.linreg",
                                    "wdlib.experiments", "wdlib.sweep", "wdlib.config", "wdlib._checks"])
def test_numpy_only_modules_do_not_import_torch(module):
    """Imported in a fresh interpreter: these work after a plain `pip install wdlib` (no torch)."""
    import subprocess
    import sys

    code = f"import sys, {module}; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", f"{module} imports torch"
