"""Shared fixtures and helpers for the book's tests."""
from __future__ import annotations

import importlib
import json
import os
import pathlib
import pkgutil

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import yaml  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]


def toc_files() -> list[str]:
    """Every ``file:`` entry of _toc.yml (root included), in order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    out = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                out.append(node["file"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(toc.get("parts", []))
    return out


def chapter_notebooks() -> list[pathlib.Path]:
    return sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def load_notebook(path: pathlib.Path) -> dict:
    return json.loads(path.read_text())


def chapter_modules() -> list:
    """Every paperlab module that declares a chapter figure (``draw`` and ``SLIDERS``)."""
    import paperlab

    mods = []
    for info in pkgutil.walk_packages(paperlab.__path__, "paperlab."):
        mod = importlib.import_module(info.name)
        if hasattr(mod, "SLIDERS") and hasattr(mod, "draw"):
            mods.append(mod)
    return mods


@pytest.fixture
def static_mode(monkeypatch):
    """Switch :func:`paperlab.widgets.explore` to website mode for one test."""
    monkeypatch.setenv("PAPERLAB_STATIC", "1")
    yield
    os.environ.pop("PAPERLAB_STATIC", None)
