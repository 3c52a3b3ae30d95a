"""Randomized Kaczmarz: solve ``K z = rhs`` one row at a time (Strohmer and Vershynin, 2009).

Explained in chapter ``adasketch-newton``, where it is the randomized sketching solver of
AdaSketch-Newton (Hong, Na, Mahoney and Kolar, ICML 2023).

One step picks a row ``i`` at random and projects the iterate onto the hyperplane of that row:

    z <- z - (K_i^T z - rhs_i) / ||K_i||^2 * K_i,

the sketch-and-project method with the sketch ``S = e_i`` (a canonical basis vector). On a
consistent system it converges linearly in expectation, at a rate set by
``sigma_min(K)^2 / ||K||_F^2`` when rows are drawn with probability ``||K_i||^2 / ||K||_F^2``.

Implementation note. The residual ``r = K z - rhs`` changes by ``-(r_i / ||K_i||^2) K K_i^T``
at each step, so the loop updates ``r`` with one precomputed column and keeps the step sizes;
``z`` is rebuilt from them (and ``r`` recomputed from ``z``, which removes rounding drift)
whenever the stopping rule is checked. The iterates are those of the textbook method.
"""
from __future__ import annotations

import numpy as np
from scipy.linalg.blas import daxpy

from .._validate import check_array, check_choice, check_int, check_real

__all__ = ["randomized_kaczmarz", "kaczmarz_flops"]


def kaczmarz_flops(n_rows: int, n_cols: int, steps: int, checks: int) -> float:
    """Flops of ``steps`` textbook Kaczmarz steps and ``checks`` residual checks.

    A step costs an inner product and an update, ``4 n_cols``; a check computes the residual
    ``K z - rhs`` and its norm, ``2 n_rows n_cols + 2 n_rows``. Explained in chapter
    ``adasketch-newton``.
    """
    n_rows = check_int("n_rows", n_rows, 1)
    n_cols = check_int("n_cols", n_cols, 1)
    steps = check_int("steps", steps, 0)
    checks = check_int("checks", checks, 0)
    return float(4 * n_cols * steps + (2 * n_rows * n_cols + 2 * n_rows) * checks)


def randomized_kaczmarz(K, rhs, z0=None, stop: float = 0.0, rng=None, max_iter: int = 100_000,
                        *, sampling: str = "uniform", check_every: int | None = None,
                        ) -> tuple[np.ndarray, int]:
    """Randomized Kaczmarz for ``K z = rhs`` from ``z0`` (zeros if ``None``).

    Runs until the residual norm ``||K z - rhs||`` is at most ``stop`` or ``max_iter`` steps
    were taken, and returns ``(z, n_iter)``. The rule is checked before the first step and
    then every ``check_every`` steps (default: the number of rows), so a run may take up to
    ``check_every - 1`` steps more than strictly needed.

    ``sampling="uniform"`` draws each row with equal probability, as the authors' code of
    AdaSketch-Newton does; ``"row-norm"`` draws row ``i`` with probability
    ``||K_i||^2 / ||K||_F^2`` (Strohmer and Vershynin). ``rng`` is a ``numpy`` generator or
    an integer seed. Explained in chapter ``adasketch-newton``.
    """
    K = check_array("K", K, ndim=2)
    m, n = K.shape
    if m < 1 or n < 1:
        raise ValueError(f"K must have at least one row and one column, got shape {K.shape}")
    rhs = check_array("rhs", rhs, ndim=1, shape=(m,))
    z = np.zeros(n) if z0 is None else check_array("z0", z0, ndim=1, shape=(n,)).copy()
    stop = check_real("stop", stop, 0.0)
    max_iter = check_int("max_iter", max_iter, 0)
    check_choice("sampling", sampling, ("uniform", "row-norm"))
    check_every = m if check_every is None else check_int("check_every", check_every, 1)
    if rng is None or isinstance(rng, (int, np.integer)):
        rng = np.random.default_rng(0 if rng is None else check_int("rng", rng, 0))
    elif not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy Generator or an integer seed, got {rng!r}")
    rn2 = np.einsum("ij,ij->i", K, K)
    if np.any(rn2 == 0):
        raise ValueError(f"K has zero rows {np.flatnonzero(rn2 == 0)[:5].tolist()}: Kaczmarz "
                         f"divides by each row's squared norm")
    # column i of K K^T / ||K_i||^2, stored as rows for a fast in-place update of r
    cols = [np.ascontiguousarray(v) for v in (K @ K.T / rn2[None, :]).T]
    p = None if sampling == "uniform" else rn2 / rn2.sum()

    r = K @ z - rhs
    done = 0
    while float(np.linalg.norm(r)) > stop and done < max_iter:
        block = min(check_every, max_iter - done)
        steps = (rng.integers(0, m, block) if p is None else rng.choice(m, block, p=p)).tolist()
        coef = [0.0] * m
        item = r.item
        for i in steps:                        # r <- r - r_i K K_i^T / ||K_i||^2
            c = item(i)
            daxpy(cols[i], r, a=-c)
            coef[i] += c
        z -= K.T @ (np.asarray(coef) / rn2)    # z <- z - sum_i (r_i / ||K_i||^2) K_i
        r = K @ z - rhs                        # fresh residual: no rounding drift
        done += block
    return z, done
