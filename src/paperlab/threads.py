"""``one_thread``: run a block of small numerical work on one CPU thread.

The book's problems are small (matrices of a few hundred rows, networks of a few thousand
parameters). With several threads, each BLAS call or torch step pays synchronisation for no
gain, and on a loaded two-core machine a threaded library that spins while waiting can make a
small matrix product twenty times slower. One thread also makes results independent of the
machine's core count. Used by :func:`paperlab.nets.one_thread` (the same function) and by the
numpy chapters directly.
"""
from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from threadpoolctl import threadpool_limits

__all__ = ["one_thread"]


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Limit BLAS/OpenMP pools (numpy, scipy) and, if torch is loaded, torch to one thread inside
    the block; restore the previous settings afterwards."""
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        if torch is not None:
            torch.set_num_threads(before)
