"""Helpers for a chapter's page: glued values for the prose, and the figure conventions.

A chapter keeps its bookkeeping out of the reader's way: values that the prose
quotes are glued in one call (:func:`glue_all`), and each figure is a numbered,
captioned figure with alt text, made by the cell that draws it, through cell
metadata that myst-nb reads::

    {"tags": ["hide-input"],
     "mystnb": {"figure": {"name": "fig-shrinkage", "caption": "..."},
                "image": {"alt": "..."}}}

(:func:`figure_metadata` builds that dict).  The prose refers to it as
``{numref}`fig-shrinkage```.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["figure_metadata", "glue_all"]


def glue_all(values: Mapping[str, object]) -> None:
    """Glue every ``name: value`` for the page's prose (``{glue:text}`name:.3f```), displaying nothing.

    One call per cell replaces a line per value; numpy scalars become Python
    numbers, so that the glued values read back as plain numbers.

    >>> glue_all({})
    """
    from myst_nb import glue

    for name, value in values.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"glue names must be identifiers (they are written in the prose); got {name!r}")
        scalar = hasattr(value, "item") and getattr(value, "ndim", 1) == 0
        glue(name, value.item() if scalar else value, display=False)


def figure_metadata(name: str, caption: str, alt: str, *, hide: str = "hide-input") -> dict:
    """The cell metadata that makes a code cell's figure a numbered, captioned figure with alt text.

    Parameters
    ----------
    name : str
        The figure's label, ``fig-…`` (the prose links it with ``{numref}``).
    caption : str
        One or two sentences: what is plotted and what it shows (MyST markup).
    alt : str
        What the figure shows, for a reader who cannot see it.
    hide : {"hide-input", "remove-input"}, default "hide-input"
        The cell's tag: the code folds under a toggle, or is not shown.

    Examples
    --------
    >>> figure_metadata("fig-a", "A caption.", "A line falling.")["mystnb"]["figure"]["name"]
    'fig-a'
    """
    if not name.startswith("fig-") or not name.replace("-", "_").isidentifier():
        raise ValueError(f"figure names look like 'fig-shrinkage-factor'; got {name!r}")
    if not caption.strip() or not alt.strip():
        raise ValueError("a figure needs a caption and alt text (what the figure shows, for a reader who cannot see it)")
    if hide not in ("hide-input", "remove-input"):
        raise ValueError(f"hide must be 'hide-input' or 'remove-input'; got {hide!r}")
    return {"tags": [hide], "mystnb": {"figure": {"name": name, "caption": caption}, "image": {"alt": alt}}}
