"""Every public callable of wdlib with two or more arguments documents them in a numpydoc section.

"Public" means named in a module's ``__all__`` (classes: their public methods too).
A function or method needs a ``Parameters`` section; a class needs ``Parameters``
(its constructor's), ``Attributes`` (a dataclass's fields), or a ``#:`` comment on
every constructor argument's field (autodoc documents those as attributes).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from itertools import pairwise

import pytest

import wdlib

#: Modules being rewritten elsewhere (issue 19 left their docstrings to that work).
PENDING_MODULES = ("wdlib.train", "wdlib.runs", "wdlib.models", "wdlib.sweep", "wdlib.config", "wdlib.benchmarks",
                   "wdlib.data")  # fmt: skip

#: Their callables still missing a section; test_pending_list_is_current fails when
#: one gains its section (or goes), so that the list only shrinks.
PENDING = {
    "wdlib.benchmarks.recheck.run",
    "wdlib.benchmarks.ridge.run",
    "wdlib.config.LMConfig",
    "wdlib.config.Param",
    "wdlib.config.Param.check",
    "wdlib.config.RunConfig.from_mapping",
    "wdlib.config.TextConfig",
    "wdlib.config.VisionConfig",
    "wdlib.config.VisionNormsConfig",
    "wdlib.config.check_config",
    "wdlib.config.check_profile",
    "wdlib.data.DataFile",
    "wdlib.data.ProstateSplit",
    "wdlib.data.Vocab",
    "wdlib.data.Vocab.build",
    "wdlib.data.fashion_mnist_torchvision",
    "wdlib.data.kfold_indices",
    "wdlib.data.load_cifar10",
    "wdlib.data.load_sst2",
    "wdlib.data.load_tinyshakespeare",
    "wdlib.data.pad_sequences",
    "wdlib.data.prostate_split",
    "wdlib.data.sha256",
    "wdlib.data.split_indices",
    "wdlib.data.subset_indices",
    "wdlib.data.tokenize",
    "wdlib.models.CharTransformer",
    "wdlib.models.SmallCNN",
    "wdlib.models.TextCNN",
    "wdlib.models.build_model",
    "wdlib.runs.lm_run",
    "wdlib.runs.text_run",
    "wdlib.runs.vision_norms_run",
    "wdlib.runs.vision_run",
    "wdlib.sweep.Store",
    "wdlib.sweep.Store.add",
    "wdlib.sweep.Store.writing",
    "wdlib.sweep.expand",
    "wdlib.sweep.numerics_differ",
    "wdlib.train.OptimizerSpec",
    "wdlib.train.lr_factor",
    "wdlib.train.make_optimizer",
}


def _modules() -> list[str]:
    names = ["wdlib"] + [m.name for m in pkgutil.walk_packages(wdlib.__path__, "wdlib.")]
    return [n for n in names if not any(part.startswith("_") for part in n.split("."))]


def _documented(obj) -> str:
    doc = inspect.getdoc(obj) or ""
    if inspect.isclass(obj):
        doc += "\n" + (inspect.getdoc(obj.__init__) or "")
    return doc


def _has_section(doc: str, *titles: str) -> bool:
    lines = doc.splitlines()
    return any(line.strip() in titles and set(nxt.strip()) == {"-"} for line, nxt in pairwise(lines))


def _n_arguments(obj) -> int:
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return 0
    skip = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return sum(p.name not in ("self", "cls") and p.kind not in skip for p in sig.parameters.values())


def public_callables() -> dict[str, object]:
    """``qualified name -> object`` for every public function, class and public method of wdlib."""
    out = {}
    for name in _modules():
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", []):
            obj = getattr(module, attr, None)
            if inspect.isfunction(obj) and obj.__module__ == name:
                out[f"{name}.{attr}"] = obj
            elif inspect.isclass(obj) and obj.__module__ == name:
                out[f"{name}.{attr}"] = obj
                for key, value in vars(obj).items():
                    func = value.__func__ if isinstance(value, (classmethod, staticmethod)) else value
                    if not key.startswith("_") and inspect.isfunction(func):
                        out[f"{name}.{attr}.{key}"] = func
    return out


def _fields_commented(cls) -> bool:
    """Every constructor argument of ``cls`` is a field with a ``#:`` doc comment."""
    from sphinx.pycode import ModuleAnalyzer

    docs = ModuleAnalyzer.for_module(cls.__module__).find_attr_docs()
    params = [p for p in inspect.signature(cls).parameters if p not in ("self", "cls")]
    return all((cls.__qualname__, p) in docs for p in params)


def missing_parameters() -> list[str]:
    """Public callables with two or more arguments and no ``Parameters`` (or, for classes, ``Attributes``) section."""
    missing = []
    for qualname, obj in public_callables().items():
        if _n_arguments(obj) < 2:
            continue
        titles = ("Parameters", "Attributes") if inspect.isclass(obj) else ("Parameters",)
        if not _has_section(_documented(obj), *titles) and not (inspect.isclass(obj) and _fields_commented(obj)):
            missing.append(qualname)
    return sorted(missing)


def _pending(qualname: str) -> bool:
    return qualname in PENDING and qualname.startswith(tuple(m + "." for m in PENDING_MODULES))


def test_public_callables_document_their_parameters():
    offenders = [q for q in missing_parameters() if not _pending(q)]
    assert offenders == [], "add a numpydoc 'Parameters' section to:\n" + "\n".join(offenders)


def test_pending_list_is_current():
    """An entry of PENDING that now has its section (or is gone) must leave the list."""
    stale = sorted(set(PENDING) - set(missing_parameters()))
    assert stale == [], "remove from tests/test_docstrings.py PENDING:\n" + "\n".join(stale)


@pytest.mark.parametrize(
    ("doc", "expected"),
    [("Do it.\n\nParameters\n----------\nx : int\n", True), ("Parameters: x and y", False), ("", False)],
)
def test_has_section(doc, expected):
    assert _has_section(doc, "Parameters") is expected
