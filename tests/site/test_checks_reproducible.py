"""Every chapter prints the same checked numbers on a second run.

``make test`` executes each chapter twice: once under nbval (live sliders) and once in the
book build (website sliders), each time with ``PAPERLAB_RECORD`` set, so the chapter's
``paperlab.checks.report`` call appends its measured numbers to
``_build/checks/nbval.jsonl`` and ``_build/checks/book.jsonl``. Both runs must agree. (A
local book build that found every chapter in its execution cache records nothing; CI starts
from a fresh clone, so there both runs are always compared.)
"""
from __future__ import annotations

import json
import math
import os

import pytest

from tests.conftest import ROOT, toc_files

CHECKS = ROOT / "_build" / "checks"
CHAPTERS = [f.split("/")[-1] for f in toc_files() if f.startswith("notebooks/")]


def _load(name: str) -> dict[str, dict]:
    path = CHECKS / name
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text().splitlines():
        row = json.loads(line)
        out[row["chapter"]] = row["quantities"]
    return out


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and \
            (math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-15) or (math.isnan(a) and math.isnan(b)))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_checked_numbers_repeat(chapter):
    first, second = _load("nbval.jsonl"), _load("book.jsonl")
    if not first:
        pytest.skip("no nbval record: run `make notebooks` (make test does) first")
    assert chapter in first, f"{chapter} did not call paperlab.checks.report in its assert cell"
    if chapter not in second:
        if os.environ.get("CI"):
            pytest.fail(f"{chapter}: the book build did not record its numbers (in CI it executes every chapter)")
        pytest.skip(f"{chapter} came from the execution cache in this book build")
    a, b = first[chapter], second[chapter]
    diff = {k: (a.get(k), b.get(k)) for k in a.keys() | b.keys() if not _same(a.get(k), b.get(k))}
    assert not diff, f"{chapter} printed different numbers in two runs: {diff}"
