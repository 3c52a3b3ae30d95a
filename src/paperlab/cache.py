"""``cached``: ``functools.lru_cache`` that treats every spelling of the same call as one call.

``lru_cache`` keys on the arguments exactly as written, so ``experiment()``,
``experiment(0)`` and ``experiment(seed=0)`` are three cache entries, and a chapter whose
notebook writes one while its ``draw`` writes another runs its whole experiment twice.
:func:`cached` first binds the arguments to the function's signature and fills in the
defaults, so all three share one entry. Chapter modules use it for every cached experiment.
"""
from __future__ import annotations

import functools
import inspect
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["cached"]

F = TypeVar("F", bound=Callable[..., Any])


def cached(maxsize: int | Callable | None = 128) -> Any:
    """Decorator: memoise ``fn`` on its *normalised* arguments (see the module docstring).

    Use as ``@cached`` or ``@cached(maxsize=8)``. The wrapper keeps ``cache_clear`` and
    ``cache_info`` of the underlying ``lru_cache``.
    """
    if callable(maxsize):                       # used bare: @cached
        return cached(128)(maxsize)

    def deco(fn: F) -> F:
        sig = inspect.signature(fn)

        @functools.lru_cache(maxsize=maxsize)
        def call(key: tuple) -> Any:
            bound = inspect.BoundArguments(sig, OrderedDict(key))
            return fn(*bound.args, **bound.kwargs)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            return call(tuple(bound.arguments.items()))

        wrapper.cache_clear = call.cache_clear  # type: ignore[attr-defined]
        wrapper.cache_info = call.cache_info  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return deco
