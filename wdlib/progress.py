"""Progress bars that a person watching sees, and that nothing else records.

tqdm's *text* bar (``tqdm.std``) everywhere: it renders in a terminal and in
Jupyter alike and needs no ipywidgets (``tqdm.auto`` without them prints
"IProgress not found" in every notebook).  Torch-free, so that the sweep
engine can use it.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

__all__ = ["bar", "progress_default", "show_progress"]

_PROGRESS_OVERRIDE: list[bool] = []


@contextlib.contextmanager
def progress_default(show: bool) -> Iterator[None]:
    """Within this block, ``progress=None`` means ``show`` (:mod:`wdlib.sweep` turns bars off in pool workers)."""
    _PROGRESS_OVERRIDE.append(bool(show))
    try:
        yield
    finally:
        _PROGRESS_OVERRIDE.pop()


def show_progress(progress: bool | None = None) -> bool:
    """Whether a progress bar is shown: ``progress`` if given, else who is watching.

    ``None`` resolves, in order, to an enclosing :func:`progress_default`,
    ``$WDLIB_PROGRESS`` (``0`` or ``1``; ``make book`` sets 0 so that no bar
    lands in a chapter's stored output), then True when standard error is a
    terminal or an interactive Jupyter kernel.  The bars are tqdm's text bars,
    which render in a terminal and in Jupyter alike and need no ipywidgets.
    """
    if progress is not None:
        return bool(progress)
    if _PROGRESS_OVERRIDE:
        return _PROGRESS_OVERRIDE[-1]
    env = os.environ.get("WDLIB_PROGRESS", "").strip()
    if env in ("0", "1"):
        return env == "1"
    if sys.stderr is not None and sys.stderr.isatty():
        return True
    return "ipykernel" in sys.modules and type(sys.stderr).__name__ == "OutStream"


def bar(total: int, progress: bool | None, desc: str, **kwargs):
    """A tqdm text bar over ``total`` items, shown when :func:`show_progress` says so (``leave=False``).

    Parameters
    ----------
    total : int
        Number of items.
    progress : bool or None
        Show the bar; None decides as :func:`show_progress` does.
    desc : str
        Label shown before the bar.
    **kwargs
        Passed to ``tqdm``.
    """
    from tqdm.std import tqdm  # the text bar: no ipywidgets, no "IProgress not found" in notebooks

    options = {"leave": False, "mininterval": 0.5, "file": sys.stderr, "dynamic_ncols": True, **kwargs}
    return tqdm(total=total, desc=desc, disable=not show_progress(progress), **options)
