"""``report``: how a chapter's "Does the result hold here?" cell prints what it measured.

Every chapter ends with a visible cell that measures the paper's claim and asserts it. The
cell first calls :func:`report` with the measured quantities, which prints them as an aligned
table for the reader. When the environment variable ``PAPERLAB_RECORD`` names a file, the same
numbers are appended to it as one JSON line: ``make test`` records them once when nbval runs
the notebooks and once when the book build executes them, and a test checks that both runs
printed the same numbers (every chapter is deterministic at its fixed seed).
"""
from __future__ import annotations

import json
import math
import os
import pathlib
from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any

import numpy as np

__all__ = ["report", "RECORD_ENV"]

#: Environment variable naming the JSON-lines file that :func:`report` appends to.
RECORD_ENV = "PAPERLAB_RECORD"


def _plain(v: Any) -> Any:
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (Integral, np.integer)):
        return int(v)
    if isinstance(v, (Real, np.floating)):
        return float(v)
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, Mapping):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_plain(x) for x in np.asarray(v, dtype=object).tolist()] if isinstance(v, np.ndarray) \
            else [_plain(x) for x in v]
    raise ValueError(f"report() takes numbers, strings, lists and dicts of them; got {type(v).__name__}")


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "nan" if math.isnan(v) else f"{v:.6g}"
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_fmt(x)}" for k, x in v.items()) + "}"
    return str(v)


def report(chapter: str, **quantities: Any) -> dict[str, Any]:
    """Print the measured quantities of ``chapter`` as a table and return them as plain values.

    ``report("logreg-to-perceptron", iterations_gamma_100=308)`` prints
    ``iterations_gamma_100 = 308``. Values may be numbers, strings, or lists and dicts of them.
    """
    if not isinstance(chapter, str) or not chapter:
        raise ValueError(f"chapter must be the chapter's slug, got {chapter!r}")
    if not quantities:
        raise ValueError("report() needs at least one measured quantity")
    plain = {k: _plain(v) for k, v in quantities.items()}
    width = max(len(k) for k in plain)
    print(f"Measured in this run ({chapter}):")
    for k, v in plain.items():
        print(f"  {k:<{width}} = {_fmt(v)}")
    target = os.environ.get(RECORD_ENV)
    if target:
        path = pathlib.Path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as fh:
            fh.write(json.dumps({"chapter": chapter, "quantities": plain}) + "\n")
    return plain
