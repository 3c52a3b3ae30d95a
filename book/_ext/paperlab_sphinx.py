"""Small Sphinx fixes for the Paper Lab website (loaded through _config.yml local_extensions).

sphinx-thebe (which Jupyter Book 1 always loads) adds its inline configuration script once per
page to a list shared by all pages, so later pages declare ``const THEBE_JS_URL`` twice and the
browser logs "Identifier 'THEBE_JS_URL' has already been declared". We drop repeated inline
scripts from each page's context before it is written.

Sphinx adds MathJax only to pages where it saw an equation while reading, and it does not
always see the math of executed notebooks; we ask for the assets on every page (MathJax is
served by the site itself, so this costs no outside request).
"""
from __future__ import annotations


def _dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for s in scripts:
        key = (getattr(s, "filename", str(s)) or "", getattr(s, "attributes", {}).get("body", ""))
        if key in seen:
            continue
        seen.add(key)
        kept.append(s)
    scripts[:] = kept  # in place: later handlers (MathJax) append to this same list


def setup(app):
    app.set_html_assets_policy("always")
    # Early: Sphinx stops at the first handler that returns a template name.
    app.connect("html-page-context", _dedupe_scripts, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
