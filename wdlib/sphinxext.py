"""Sphinx extension used by the book's build (listed in ``_config.yml``).

Four small fixes to what the theme and the extensions produce:

* **Duplicate scripts.** sphinx-thebe and sphinx-togglebutton register their
  inline scripts (``const THEBE_JS_URL = ...``) twice, once with
  ``filename=None`` and once with ``filename=''``, so every page declares the
  constant twice and the browser logs ``Identifier 'THEBE_JS_URL' has already
  been declared``.  Sphinx deduplicates scripts by file name only;
  :func:`dedupe_scripts` drops exact duplicates (same file or inline body, same
  attributes) from each page.
* **Sidebar buttons.** pydata-sphinx-theme 0.17 renders its own ☰ and
  page-contents buttons (``.primary-toggle``, ``.secondary-toggle``) in the top
  navbar, before the ones sphinx-book-theme 1.3 puts in the article header; the
  book theme hides the navbar ones, and both themes' scripts bind only the
  *first* match of ``document.querySelector``, so the visible buttons do nothing
  at any width (pydata-sphinx-theme issue 2451, sphinx-book-theme issues 917 and
  988).  No released pair of versions allowed by jupyter-book 1.0.4 has both a
  working phone menu and a working desktop toggle, so the book keeps the
  versions and overrides ``sections/header.html`` (templates in
  ``wdlib/_templates``) without the navbar's two buttons, as sphinx-book-theme's
  pull request 1000 does: the article-header buttons are then the first
  matches, and both scripts bind them.
* **Data constants.** autodoc prints a module constant's whole ``repr`` as its
  value (a dict of sweeps thousands of pixels tall, a DataFrame on one line).
  :class:`SummaryDataDocumenter` keeps short values and replaces long ones by a
  one-line summary (:func:`summarize_value`): type, size, first keys.
* **Bibliography labels.** sphinxcontrib-bibtex labels entries in the alpha
  style (``[XL24]``) while the text cites author–year (``Xie and Li, 2024``).
  The style ``wdlib_author_year`` (:class:`AuthorYearStyle`) labels every entry the way
  it is cited and sorts the list by author, year and title.
"""

from __future__ import annotations

from pathlib import Path

from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle
from sphinx.ext.autodoc import DataDocumenter

__all__ = ["dedupe_scripts", "setup", "summarize_value"]

#: Longest ``repr`` shown as a constant's value; longer ones are summarized.
MAX_VALUE_CHARS = 80
TEMPLATES = Path(__file__).with_name("_templates")


def dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    """Keep the first of each identical script entry of a page, in order (in place).

    Parameters
    ----------
    app : sphinx.application.Sphinx
        The application (unused; the signature is Sphinx's ``html-page-context`` event's).
    pagename, templatename : str
        The page being written and its template (unused).
    context : dict
        The page's template context; its ``script_files`` list is deduplicated.
    doctree : docutils.nodes.document or None
        The page's doctree (unused).
    """
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for js in scripts:
        key = (js.filename or "", tuple(sorted(js.attributes.items())))
        if key not in seen:
            seen.add(key)
            kept.append(js)
    scripts[:] = kept


# --------------------------------------------------------------------------- #
# data constants
# --------------------------------------------------------------------------- #
def _short_repr(obj) -> str | None:
    """``repr(obj)`` if it fits on one short line, else None."""
    try:
        text = repr(obj)
    except Exception:  # a broken __repr__ must not break the docs
        return None
    return text if len(text) <= MAX_VALUE_CHARS and "\n" not in text else None


def summarize_value(obj, *, max_items: int = 4) -> str:
    """A one-line reST summary of a constant too long to print: its type, size and first keys or items.

    Parameters
    ----------
    obj : object
        The constant's value.
    max_items : int, default 4
        How many keys (mappings) or items (sequences and sets) to name before ``…``.

    Returns
    -------
    str
        For example ``A dict of 9 entries: '05_vision', '06_text', … (full value in the source).``

    Examples
    --------
    >>> summarize_value({"a": 1, "b": 2})
    "A ``dict`` of 2 entries: ``'a'``, ``'b'``."
    >>> summarize_value(tuple(range(10)), max_items=2)
    'A ``tuple`` of 10 items: ``0``, ``1``, … (full value in the source).'
    """
    kind = type(obj).__name__
    shape = getattr(obj, "shape", None)
    columns = getattr(obj, "columns", None)
    if columns is not None and shape is not None:  # a DataFrame
        names = ", ".join(f"``{c}``" for c in list(columns)[:max_items]) + (", …" if len(columns) > max_items else "")
        return f"A ``{kind}`` of {shape[0]} rows; columns {names} (full value in the source)."
    if isinstance(obj, dict):
        heads, n, noun = list(obj)[:max_items], len(obj), "entries"
    elif isinstance(obj, (list, tuple, set, frozenset)):
        heads, n, noun = list(obj)[:max_items], len(obj), "items"
        if isinstance(obj, (set, frozenset)):
            heads = sorted(obj, key=repr)[:max_items]
    else:
        return f"A ``{kind}`` (value in the source)."
    named = ", ".join(f"``{_short_repr(h) or type(h).__name__}``" for h in heads)
    more = ", … (full value in the source)" if n > len(heads) else ""
    return f"A ``{kind}`` of {n} {noun}: {named}{more}."


class SummaryDataDocumenter(DataDocumenter):
    """``autodata`` that prints short values and summarizes long ones (:func:`summarize_value`)."""

    def should_suppress_value_header(self) -> bool:
        return super().should_suppress_value_header() or _short_repr(self.object) is None

    def add_content(self, more_content) -> None:
        super().add_content(more_content)
        if _short_repr(self.object) is None:
            source = self.get_sourcename()
            self.add_line("", source)
            self.add_line(summarize_value(self.object), source)


# --------------------------------------------------------------------------- #
# bibliography
# --------------------------------------------------------------------------- #
def _surname(person) -> str:
    return Text.from_latex(" ".join(person.prelast_names + person.last_names)).render_as("text")


class AuthorYearLabelStyle(BaseLabelStyle):
    """Labels as the text cites: ``Kim, 2014``, ``Xie and Li, 2024``, ``Zhang et al., 2019`` (``a``, ``b`` on clashes)."""

    def format_label(self, entry) -> str:
        """The label of one pybtex entry."""
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        if not people:
            names = entry.fields.get("title", entry.key)
        elif len(people) == 1:
            names = _surname(people[0])
        elif len(people) == 2:
            names = f"{_surname(people[0])} and {_surname(people[1])}"
        else:
            names = f"{_surname(people[0])} et al."
        return f"{names}, {entry.fields.get('year', 'n.d.')}"

    def format_labels(self, sorted_entries):
        """Labels of the sorted entries, in order, with a letter after each of two equal labels."""
        labels = [self.format_label(e) for e in sorted_entries]
        for i, label in enumerate(labels):
            clashes = [j for j, other in enumerate(labels) if other == label]
            yield label + ("abcdefghij"[clashes.index(i)] if len(clashes) > 1 else "")


class AuthorYearStyle(PlainStyle):
    """pybtex's ``plain`` style (sorted by author, year, title) with :class:`AuthorYearLabelStyle` labels."""

    default_label_style = "wdlib_author_year"


register_plugin("pybtex.style.labels", "wdlib_author_year", AuthorYearLabelStyle, force=True)
register_plugin("pybtex.style.formatting", "wdlib_author_year", AuthorYearStyle, force=True)


def setup(app):
    """Register the fixes with Sphinx (the ``setup`` hook of a Sphinx extension)."""
    # Last, after every handler that adds scripts (sphinx.ext.mathjax adds its own here).
    app.connect("html-page-context", dedupe_scripts, priority=999)
    app.setup_extension("sphinx.ext.autodoc")
    app.add_autodocumenter(SummaryDataDocumenter, override=True)
    # Our templates come before the themes' (sections/header.html without the hidden toggles).
    app.connect("config-inited", lambda app, config: config.templates_path.insert(0, str(TEMPLATES)))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
