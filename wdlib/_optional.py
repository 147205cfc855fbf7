"""Optional dependencies: a missing one is named with the extra that installs it.

``pip install wdlib`` leaves out torch (the ``torch`` extra).  Rather than
guard every ``import torch`` in the modules that need it, a finder on
``sys.meta_path`` wraps the loading of ``wdlib``'s own modules: when one fails
with ``ModuleNotFoundError`` for a package of an extra, the error says which
extra to install.  Nothing else changes: the same modules load the same way.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys

__all__ = ["EXTRAS", "install_torch_hint"]

#: Top-level package -> the wdlib extra that installs it.
EXTRAS = {"torch": "torch", "torchvision": "torch"}


class _HintingLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        try:
            self.loader.exec_module(module)
        except ModuleNotFoundError as exc:
            top = (exc.name or "").partition(".")[0]
            if top not in EXTRAS or "pip install 'wdlib[" in str(exc):
                raise
            raise ModuleNotFoundError(
                f"{module.__name__} needs {top}, which is not installed: pip install 'wdlib[{EXTRAS[top]}]' "
                "(or install torch for your platform and CUDA version as https://pytorch.org says)",
                name=exc.name,
            ) from exc

    def __getattr__(self, name):  # get_code, get_source, is_package, ... as the wrapped loader has them
        return getattr(self.loader, name)


class _HintingFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith("wdlib."):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None and not isinstance(spec.loader, _HintingLoader):
            spec.loader = _HintingLoader(spec.loader)
        return spec


def install_torch_hint() -> None:
    """Put the finder first on ``sys.meta_path`` (once)."""
    if not any(isinstance(f, _HintingFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _HintingFinder())
