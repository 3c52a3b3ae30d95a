"""``paperlab.show``: display the real source of a helper inside a chapter.

A chapter never pastes a copy of the code it runs. It calls ``show(fn)``, which reads the
function's source from the installed package, so the code on the page is the code that ran.
"""
from __future__ import annotations

import html
import inspect
import pathlib
from dataclasses import dataclass
from typing import Any

__all__ = ["show", "Source"]


@dataclass(frozen=True)
class Source:
    """The source of one object, with where it lives; renders as highlighted HTML."""

    qualname: str
    path: str
    first_line: int
    code: str

    @property
    def last_line(self) -> int:
        return self.first_line + self.code.count("\n") - (1 if self.code.endswith("\n") else 0)

    @property
    def header(self) -> str:
        return f"{self.qualname}  ({self.path}, lines {self.first_line}-{self.last_line})"

    def _repr_html_(self) -> str:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer

        body = highlight(self.code, PythonLexer(), HtmlFormatter(cssclass="highlight", wrapcode=True))
        return (f'<div class="paperlab-source"><p style="margin:0 0 0.2em 0;font-size:0.85em">'
                f'<code>{html.escape(self.qualname)}</code> &mdash; '
                f'<span>{html.escape(self.path)}, lines {self.first_line}&ndash;{self.last_line}</span></p>'
                f'<div class="highlight-python notranslate">{body}</div></div>')

    def __repr__(self) -> str:
        return f"# {self.header}\n{self.code}"


def show(obj: Any) -> Source:
    """Return the source of a paperlab function, class or module for display in a notebook.

    Raises ``ValueError`` for objects whose source cannot be read (built-ins, lambdas typed at
    the prompt) so a chapter never shows something other than the shipped code.
    """
    try:
        lines, first = inspect.getsourcelines(obj)
        file = inspect.getsourcefile(obj)
    except (TypeError, OSError) as exc:
        raise ValueError(f"show() needs a function, class or module defined in a source file; "
                         f"cannot read the source of {obj!r}") from exc
    if inspect.ismodule(obj):
        first = 1
    module = obj.__name__ if inspect.ismodule(obj) else getattr(obj, "__module__", "")
    name = module if inspect.ismodule(obj) else f"{module}.{getattr(obj, '__qualname__', repr(obj))}"
    p = pathlib.Path(file or "?")
    parts = p.parts
    if "paperlab" in parts:  # the path inside the repository, wherever the package is installed
        idx = len(parts) - 1 - parts[::-1].index("paperlab")
        rel = "src/" + "/".join(parts[idx:])
    else:
        rel = p.name
    return Source(qualname=name, path=rel, first_line=max(first, 1), code="".join(lines))
