"""Sphinx extension used by the book's build (listed in ``_config.yml``).

sphinx-thebe and sphinx-togglebutton register their inline scripts
(``const THEBE_JS_URL = ...``) twice, once with ``filename=None`` and once with
``filename=''``, so every page declares the constant twice and the browser logs
``Identifier 'THEBE_JS_URL' has already been declared``.  Sphinx deduplicates
scripts by file name only; this extension drops exact duplicates (same file or
inline body, same attributes) from each page.
"""

from __future__ import annotations

__all__ = ["dedupe_scripts", "setup"]


def dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    """Keep the first of each identical script entry of a page, in order (in place)."""
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


def setup(app):
    # Last, after every handler that adds scripts (sphinx.ext.mathjax adds its own here).
    app.connect("html-page-context", dedupe_scripts, priority=999)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
