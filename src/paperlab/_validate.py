"""Input validation shared by every helper.

Every public function of :mod:`paperlab` checks its inputs with these helpers, so a reader who
passes a bad value gets a ``ValueError`` that names the parameter, the value received and the
range allowed, instead of a silent NaN or a traceback from deep inside numpy or torch.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from numbers import Integral, Real
from typing import Any

import numpy as np

__all__ = ["check_real", "check_int", "check_choice", "check_array", "check_labels_pm1"]


def _fmt_interval(lo: float | None, hi: float | None, lo_open: bool, hi_open: bool) -> str:
    left = "(" if lo_open or lo is None else "["
    right = ")" if hi_open or hi is None else "]"
    a = "-inf" if lo is None else f"{lo:g}"
    b = "inf" if hi is None else f"{hi:g}"
    return f"{left}{a}, {b}{right}"


def check_real(name: str, value: Any, lo: float | None = None, hi: float | None = None,
               *, lo_open: bool = False, hi_open: bool = False) -> float:
    """Return ``value`` as a float if it is a finite real number in the given interval.

    ``lo``/``hi`` of ``None`` mean unbounded; ``lo_open``/``hi_open`` exclude the end point.
    """
    if isinstance(value, bool) or not isinstance(value, (Real, np.floating, np.integer)):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    interval = _fmt_interval(lo, hi, lo_open, hi_open)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite and in {interval}, got {v}")
    if lo is not None and (v < lo or (lo_open and v == lo)):
        raise ValueError(f"{name} must be in {interval}, got {v:g}")
    if hi is not None and (v > hi or (hi_open and v == hi)):
        raise ValueError(f"{name} must be in {interval}, got {v:g}")
    return v


def check_int(name: str, value: Any, lo: int | None = None, hi: int | None = None) -> int:
    """Return ``value`` as an int if it is an integer in ``[lo, hi]`` (``None`` = unbounded)."""
    if isinstance(value, bool) or not isinstance(value, (Integral, np.integer)):
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            value = int(value)
        else:
            raise ValueError(f"{name} must be an integer, got {value!r}")
    v = int(value)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise ValueError(f"{name} must be an integer in {_fmt_interval(lo, hi, False, False)}, got {v}")
    return v


def check_choice(name: str, value: Any, options: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``options``."""
    opts = list(options)
    if value not in opts:
        raise ValueError(f"{name} must be one of {opts}, got {value!r}")
    return value


def check_array(name: str, value: Any, *, ndim: int | None = None, shape: tuple | None = None,
                finite: bool = True, dtype: type = float) -> np.ndarray:
    """Return ``value`` as a numpy array, checking its dimension, shape and finiteness.

    In ``shape`` a ``None`` entry matches any length.
    """
    try:
        arr = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of numbers, got {type(value).__name__}") from exc
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if shape is not None:
        if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape)):
            want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
            raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    if finite and arr.size and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite numbers (no NaN or inf)")
    return arr


def check_labels_pm1(name: str, y: Any, n: int | None = None) -> np.ndarray:
    """Return labels as a float array if every entry is +1 or -1 (and there are ``n`` of them)."""
    arr = check_array(name, y, ndim=1)
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} must have {n} entries (one per row of the data), got {arr.shape[0]}")
    if not np.all(np.isin(arr, (-1.0, 1.0))):
        bad = np.unique(arr[~np.isin(arr, (-1.0, 1.0))])[:5]
        raise ValueError(f"{name} must contain only the labels +1 and -1, found {bad.tolist()}")
    return arr
