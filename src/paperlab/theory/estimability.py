"""No generalization bound can be uniformly tight: parities over GF(2) (Gastpar et al., 2023).

Explained in chapter ``generalization-bounds-not-tight``.

The paper "Fantastic Generalization Measures are Nowhere to be Found" (Gastpar, Nachum, Shafer
and Weinberger; arXiv 2309.13658, ICLR 2024) proves that a generalization bound that sees only
the training set ``S`` and the learned hypothesis ``h = A(S)`` cannot be uniformly tight when
the hypothesis class can fit many more points than ``m`` (its Section 5), and that an
algorithm-dependent bound faces a learnability-estimability trade-off (its Section 6). Its
constructions use linear functions over finite fields. This module holds the smallest exact
instance of that idea, the one the chapter runs:

* the data: ``x ~ U(F_2^d)``, a target ``theta* ~ U(F_2^d)`` and labels
  ``y = <theta*, x> mod 2`` (a *parity*);
* the algorithm ``A``: Gaussian elimination over GF(2), returning the consistent ``theta_hat``
  whose free variables are 0 (:func:`gf2_solve`; bit-packed and batched in
  :func:`simulate_parity_erm`);
* its population loss, exactly: ``L = 0`` if ``theta_hat = theta*`` and ``L = 1/2`` otherwise,
  because two different parities disagree on exactly half of ``F_2^d``;
* what ``(S, h)`` reveals: ``theta*`` is uniform on the ``2^(d - rank)`` solutions of the
  training equations, so ``P(L = 0 | S, h) = p = 2^-(d - rank)`` (:func:`posterior_success`),
  and no estimator of ``L`` from ``(S, h)`` has mean absolute error below
  ``E[min(p, 1 - p) / 2]`` (:func:`best_estimator_error`, :func:`estimation_lower_bound`);
* the law of ``rank`` (:func:`rank_distribution`), the Occam bound for comparison
  (:func:`occam_bound`), the chapter's experiment (:func:`experiment`) and its interactive
  figure (:func:`draw`, :data:`SLIDERS`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from ..cache import cached
from .. import plotting
from .._validate import check_array, check_int, check_real
from ..widgets import IntSlider, LogSlider

__all__ = ["gf2_solve", "simulate_parity_erm", "rank_distribution", "posterior_success",
           "best_estimator", "best_estimator_error", "success_probability",
           "estimation_lower_bound", "overshoot_probability", "occam_bound", "Experiment",
           "experiment", "draw", "SLIDERS"]

#: Largest dimension: a row of F_2^d and its label are packed into one 64-bit integer.
D_MAX = 62


def _check_d(d) -> int:
    return check_int("d", d, 2, D_MAX)


# --------------------------------------------------------------------------- the algorithm A

def gf2_solve(X, y) -> tuple[np.ndarray, int]:
    """The algorithm ``A``: a parity consistent with ``(X, y)``, free variables set to 0.

    Solves ``X theta = y`` over GF(2) by Gauss-Jordan elimination (row reduction where every
    addition is an XOR). ``X`` is an ``(m, d)`` array of 0/1 and ``y`` has ``m`` entries in
    {0, 1}. Returns ``(theta_hat, rank)``: ``theta_hat`` (``d`` entries in {0, 1}) has zero
    training error, its free (non-pivot) coordinates are 0, and ``rank`` is the rank of ``X``
    over GF(2). This deterministic empirical risk minimiser is the learning rule of chapter
    ``generalization-bounds-not-tight``. Raises ``ValueError`` if no parity fits the labels.
    """
    Xa = check_array("X", X, ndim=2)
    m, d = Xa.shape
    if m < 1 or d < 1:
        raise ValueError(f"X must have at least one row and one column, got shape {Xa.shape}")
    ya = check_array("y", y, ndim=1)
    if ya.size != m:
        raise ValueError(f"y must have {m} entries (one per row of X), got {ya.size}")
    if not (np.all(np.isin(Xa, (0, 1))) and np.all(np.isin(ya, (0, 1)))):
        raise ValueError("X and y must contain only the bits 0 and 1")
    A = np.concatenate([Xa, ya[:, None]], axis=1).astype(np.uint8)   # augmented matrix [X | y]
    pivots: list[int] = []
    r = 0
    for c in range(d):
        rows = np.nonzero(A[r:, c])[0]
        if rows.size == 0:
            continue                                  # no pivot: c is a free variable
        k = r + rows[0]
        A[[r, k]] = A[[k, r]]                         # swap the pivot row up
        others = np.nonzero(A[:, c])[0]
        others = others[others != r]
        A[others] ^= A[r]                             # clear column c above and below
        pivots.append(c)
        r += 1
        if r == m:
            break
    if np.any(A[r:, d]):                              # a row 0 = 1: the labels are no parity
        raise ValueError("no parity is consistent with (X, y): the system X theta = y over "
                         "GF(2) has no solution")
    theta = np.zeros(d, dtype=np.int64)
    theta[pivots] = A[:len(pivots), d]                # pivot variable = right-hand side
    return theta, len(pivots)


def _popcount_parity(v: np.ndarray) -> np.ndarray:
    return (np.bitwise_count(v) & 1).astype(np.uint64)


def _solve_packed(A: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Batched :func:`gf2_solve` on packed rows: bits 0..d-1 hold x, bit d holds y.

    ``A`` has shape ``(trials, m)`` (uint64) and is modified in place. Returns the packed
    ``theta_hat`` of every trial and its rank; the same pivoting rule as :func:`gf2_solve`.
    """
    T, m = A.shape
    one = np.uint64(1)
    r = np.zeros(T, dtype=np.int64)
    theta = np.zeros(T, dtype=np.uint64)
    idx = np.arange(m)[None, :]
    tr = np.arange(T)
    piv_col = np.full((T, m), -1, dtype=np.int64)
    for c in range(d):
        bit = ((A >> np.uint64(c)) & one).astype(bool)
        cand = bit & (idx >= r[:, None])
        has = cand.any(1)
        if not has.any():
            continue
        t = tr[has]
        k = np.argmax(cand[t], axis=1)
        rt = r[t]
        pivot_row = A[t, k].copy()
        A[t, k] = A[t, rt]                            # swap the pivot row up to position r
        A[t, rt] = pivot_row
        clear = ((A[t] >> np.uint64(c)) & one).astype(bool)
        clear[np.arange(t.size), rt] = False
        A[t] ^= np.where(clear, pivot_row[:, None], np.uint64(0))
        piv_col[t, rt] = c
        r[t] += 1
    for k in range(m):                                # theta_hat: pivot variable = label bit
        ok = piv_col[:, k] >= 0
        lab = (A[ok, k] >> np.uint64(d)) & one
        theta[ok] |= lab << piv_col[ok, k].astype(np.uint64)
    return theta, r


def simulate_parity_erm(d: int, m: int, trials: int = 5000,
                        seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Run the algorithm ``A`` on ``trials`` random parity problems; returns ``(losses, ranks)``.

    Each trial draws a target ``theta* ~ U(F_2^d)``, ``m`` points ``x_j ~ U(F_2^d)`` with labels
    ``y_j = <theta*, x_j> mod 2``, runs ``A`` (:func:`gf2_solve`, here on bit-packed rows, all
    trials at once) and records the exact population loss ``L = 0`` if ``theta_hat = theta*``
    and ``1/2`` otherwise (two distinct parities disagree on half of ``F_2^d``) and the rank of
    the training inputs. ``d`` is at most 62 (a row and its label fill one 64-bit word).
    """
    d = _check_d(d)
    m = check_int("m", m, 1)
    trials = check_int("trials", trials, 100)
    seed = check_int("seed", seed, 0)
    rng = np.random.default_rng([seed, d, m])
    top = np.uint64(1) << np.uint64(d)
    theta_star = rng.integers(0, top, size=trials, dtype=np.uint64, endpoint=False)
    X = rng.integers(0, top, size=(trials, m), dtype=np.uint64, endpoint=False)
    y = _popcount_parity(X & theta_star[:, None])
    theta_hat, rank = _solve_packed(X | (y << np.uint64(d)), d)
    losses = np.where(theta_hat == theta_star, 0.0, 0.5)
    return losses, rank


# --------------------------------------------------------------------------- exact laws

@cached(maxsize=512)
def _rank_law(d: int, m: int) -> np.ndarray:
    P = np.zeros(min(d, m) + 1)
    P[0] = 1.0
    for j in range(m):
        new = np.zeros_like(P)
        for r in range(min(j, d) + 1):
            if P[r] == 0.0:
                continue
            stay = 2.0 ** (r - d)                     # the new row lies in the current span
            new[r] += P[r] * stay
            if r < min(d, m):
                new[r + 1] += P[r] * (1.0 - stay)
        P = new
    P.flags.writeable = False
    return P


def rank_distribution(d: int, m: int) -> np.ndarray:
    """``P(rank = r)``, ``r = 0..min(d, m)``, for ``m`` uniform rows of ``F_2^d``.

    Row by row: a new uniform row lies in the span of the current ``r`` independent rows with
    probability ``2^r / 2^d``, so ``P(r -> r) = 2^(r-d)`` and ``P(r -> r+1) = 1 - 2^(r-d)``.
    """
    return _rank_law(_check_d(d), check_int("m", m, 1)).copy()


def posterior_success(rank, d: int) -> np.ndarray:
    """``p = P(L = 0 | S, h) = 2^-(d - rank)``: one solution out of ``2^(d - rank)`` is ``theta*``.

    Given the sample ``S``, the uniform prior on ``theta*`` leaves it uniform on the affine space
    of parities consistent with ``S``; ``h = A(S)`` is a function of ``S`` and adds nothing.
    """
    d = _check_d(d)
    r = check_array("rank", rank)
    if np.any(r < 0) or np.any(r > d) or np.any(r != np.round(r)):
        raise ValueError(f"rank must hold integers in [0, {d}], got {np.unique(r)[:5].tolist()}")
    return 2.0 ** (r - d)


def best_estimator(rank, d: int) -> np.ndarray:
    """The estimator of ``L`` from ``(S, h)`` with the least mean absolute error.

    ``L`` takes the two values 0 (probability ``p``) and 1/2 given ``(S, h)``; a median of that
    two-atom law minimises ``E|E - L|``: estimate 0 when ``p >= 1/2``, and 1/2 otherwise. It
    depends on ``S`` only through ``rank(S)``.
    """
    return np.where(posterior_success(rank, d) >= 0.5, 0.0, 0.5)


def best_estimator_error(p) -> np.ndarray:
    """``min_e E|e - L| = min(p, 1 - p) / 2`` when ``L = 0`` w.p. ``p`` and ``L = 1/2`` otherwise.

    Estimating 0 errs by 1/2 with probability ``1 - p``; estimating 1/2 errs by 1/2 with
    probability ``p``; any value in between does no better. This is the two-atom lower bound
    on the error of every estimator of the loss that sees only ``(S, h)``.
    """
    pa = check_array("p", p)
    if np.any(pa < 0) or np.any(pa > 1):
        raise ValueError("p must be a probability in [0, 1]")
    return 0.5 * np.minimum(pa, 1.0 - pa)


def success_probability(d: int, m: int) -> float:
    """``P(L = 0) = E[2^(rank - d)]``: the chance that ``A`` finds the target exactly."""
    P = rank_distribution(d, m)
    return float(P @ 2.0 ** (np.arange(P.size) - d))


def estimation_lower_bound(d: int, m: int) -> float:
    """``E[min(p, 1-p)/2]``: no estimator of ``L`` from ``(S, h)`` has a smaller mean |error|."""
    P = rank_distribution(d, m)
    return float(P @ best_estimator_error(2.0 ** (np.arange(P.size) - d)))


def overshoot_probability(d: int, m: int, delta: float) -> float:
    """A lower bound on ``P(B(S, h) - L >= 1/2)`` for every bound ``B`` valid w.p. ``1 - delta``.

    Suppose ``P(L <= B(S, h)) >= 1 - delta`` for every target (so also on average over
    ``theta*``). Where ``B < 1/2`` the bound is only right if ``L = 0``, which given ``(S, h)``
    has probability ``p``; so ``P(B < 1/2) * (1 - p_max) <= delta``, with
    ``p_max = max_r 2^(r - d)`` over the ranks ``r < d`` that occur. When ``m < d`` every rank is
    below ``d`` and ``1 - p_max >= 1/2``. On the event ``{L = 0, B >= 1/2}`` the bound overshoots
    by at least 1/2, so ``P(overshoot >= 1/2) >= P(L = 0) - delta / (1 - p_max)``. Returns that
    number, clipped at 0; for ``m >= d`` (where rank ``d`` occurs, ``p = 1``) it returns 0:
    there a tight valid bound is possible on most samples.
    """
    d, m = _check_d(d), check_int("m", m, 1)
    delta = check_real("delta", delta, 0.0, 1.0, lo_open=True, hi_open=True)
    if m >= d:
        return 0.0
    p_max = 2.0 ** (min(d, m) - d)
    return max(0.0, success_probability(d, m) - delta / (1.0 - p_max))


def occam_bound(train_err, log_H: float, m, delta: float) -> np.ndarray:
    """The agnostic Occam (finite-class) bound ``L <= L_hat + sqrt((ln|H| + ln(1/delta)) / (2m))``.

    Hoeffding's inequality for each of the ``|H|`` hypotheses and a union bound: with
    probability at least ``1 - delta`` over the sample, every ``h`` in ``H`` satisfies it. For
    parities ``ln|H| = d ln 2``. It sees only ``(S, h)`` through the training error.
    """
    te = check_array("train_err", train_err)
    if np.any(te < 0) or np.any(te > 1):
        raise ValueError("train_err must be in [0, 1]")
    lh = check_real("log_H", log_H, 0.0)
    ma = check_array("m", m)
    if np.any(ma < 1):
        raise ValueError("m must be at least 1")
    delta = check_real("delta", delta, 0.0, 1.0, lo_open=True, hi_open=True)
    return te + np.sqrt((lh + math.log(1.0 / delta)) / (2.0 * ma))


# --------------------------------------------------------------------------- the experiment

@dataclass(frozen=True)
class Experiment:
    """Results of :func:`experiment`: one entry per sample size ``m`` (arrays over ``ms``)."""

    d: int
    ms: np.ndarray
    trials: int
    seed: int
    p_success: np.ndarray        # empirical P(L = 0)
    p_success_exact: np.ndarray  # E[2^(rank - d)]
    best_error: np.ndarray       # empirical mean |E*(S, h) - L| of the best estimator
    best_error_exact: np.ndarray # E[min(p, 1 - p) / 2]
    train_error_error: np.ndarray  # empirical mean |L_hat - L| = mean L (the training error is 0)
    rank_counts: dict            # m -> counts of rank 0..min(d, m)
    loss_given_rank: dict        # m -> {rank: (trials with L = 0, trials with L = 1/2)}

    def at(self, m: int) -> dict:
        """The measured and exact numbers at one sample size ``m``."""
        if m not in self.ms:
            raise ValueError(f"m must be one of the simulated sizes {self.ms.tolist()}, got {m}")
        i = int(np.nonzero(self.ms == m)[0][0])
        return {"p_success": float(self.p_success[i]),
                "p_success_exact": float(self.p_success_exact[i]),
                "best_error": float(self.best_error[i]),
                "best_error_exact": float(self.best_error_exact[i]),
                "train_error_error": float(self.train_error_error[i])}


@cached(maxsize=8)
def _experiment(d: int, ms: tuple, trials: int, seed: int) -> Experiment:
    ps, bs, te, counts, given = [], [], [], {}, {}
    for m in ms:
        L, r = simulate_parity_erm(d, m, trials, seed)
        ps.append(np.mean(L == 0))
        bs.append(np.mean(np.abs(best_estimator(r, d) - L)))
        te.append(np.mean(L))                         # |0 - L|: the training error as estimate
        counts[m] = np.bincount(r, minlength=min(d, m) + 1)
        given[m] = {int(k): (int(np.sum((r == k) & (L == 0))), int(np.sum((r == k) & (L > 0))))
                    for k in np.unique(r)}
    return Experiment(d=d, ms=np.array(ms), trials=trials, seed=seed, p_success=np.array(ps),
                      p_success_exact=np.array([success_probability(d, m) for m in ms]),
                      best_error=np.array(bs),
                      best_error_exact=np.array([estimation_lower_bound(d, m) for m in ms]),
                      train_error_error=np.array(te), rank_counts=counts, loss_given_rank=given)


def experiment(d: int = 16, ms=tuple(range(1, 31)), trials: int = 5000,
               seed: int = 0) -> Experiment:
    """The chapter's experiment: ``A`` on ``trials`` random parity problems for every ``m``.

    For each sample size it records the empirical ``P(L = 0)``, the mean absolute error of the
    best estimator :func:`best_estimator` and of the training error used as an estimate, the
    rank counts and the split of ``L`` given the rank, beside the exact values. Cached.
    """
    d = _check_d(d)
    ms = tuple(check_int("ms[i]", m, 1) for m in ms)
    if not ms:
        raise ValueError("ms must hold at least one sample size")
    return _experiment(d, ms, check_int("trials", trials, 100), check_int("seed", seed, 0))


# --------------------------------------------------------------------------- interactive figure

_M_MAX = 48
_SIM_D_MAX = 16
_SIM_TRIALS = 400


@cached(maxsize=64)
def _curves(d: int, delta: float) -> dict:
    ms = np.arange(1, _M_MAX + 1)
    return {"ms": ms,
            "success": np.array([success_probability(d, m) for m in ms]),
            "lower": np.array([estimation_lower_bound(d, m) for m in ms]),
            "overshoot": np.array([overshoot_probability(d, m, delta) for m in ms]),
            "occam": occam_bound(0.0, d * math.log(2.0), ms, delta)}


@cached(maxsize=32)
def _sim_dots(d: int) -> tuple[np.ndarray, np.ndarray]:
    ms = np.arange(1, min(2 * d, _M_MAX) + 1, 2 if d > 12 else 1)
    return ms, np.array([np.mean(simulate_parity_erm(d, int(m), _SIM_TRIALS, 0)[0] == 0)
                         for m in ms])


def draw(d: int = 16, m: int = 15, delta: float = 0.05) -> Figure:
    """The chapter's interactive figure: exact laws against ``m``, and the law of ``L`` at ``m``.

    Left: ``P(L = 0)`` (exact; dots: 400 simulated trials per size for ``d <= 16``), the least
    mean error of any estimator of ``L`` from ``(S, h)``, the chance that any valid bound
    overshoots by 1/2 (:func:`overshoot_probability`) and the Occam bound at confidence
    ``1 - delta``. Right: at the chosen ``m``, ``P(rank = r)`` split into ``L = 0`` and
    ``L = 1/2``: the same ``(S, h)`` leads to both.
    """
    d = check_int("d", d, 8, 24)
    m = check_int("m", m, 1, _M_MAX)
    delta = check_real("delta", delta, 0.0, 0.5, lo_open=True)
    c = _curves(d, round(delta, 6))
    pal = plotting.PALETTE
    fig, (ax0, ax1) = plotting.figure(2, width=9.4, height=3.5, layout="fixed")
    ax0.plot(c["ms"], c["success"], color=pal[0])
    if d <= _SIM_D_MAX:
        sm, sp = _sim_dots(d)
        ax0.plot(sm, sp, "o", ms=3, color=pal[0])
    ax0.plot(c["ms"], c["lower"], color=pal[3])
    ax0.plot(c["ms"], c["overshoot"], "--", color=pal[4], lw=1.4)
    ax0.plot(c["ms"], np.minimum(c["occam"], 1.0), color=pal[1])
    ax0.axvline(d, color="grey", lw=0.8, ls=":")
    ax0.axvline(m, color="black", lw=0.8)
    ax0.set_xlim(0, _M_MAX + 1)
    ax0.set_ylim(-0.02, 1.5)                          # room for the key above the curves
    ax0.set_xticks((0, 16, 32, 48))                   # few fixed ticks: a faster redraw
    ax0.set_yticks((0.0, 0.5, 1.0))
    plotting.key(ax0, [("P(L = 0)", pal[0]), ("least estimation error", pal[3]),
                       ("lower bound on P(B − L ≥ ½), any valid B", pal[4]),
                       (f"Occam bound, δ = {delta:.2g}", pal[1])], x=0.4, y=0.98, dy=0.068)
    plotting.labels(ax0, "sample size m", "probability or loss", f"d = {d} (dotted: m = d)")

    P = rank_distribution(d, m)
    r = np.arange(P.size)
    p = 2.0 ** (r - d)
    keep = P > 1e-4
    if not keep.any():  # pragma: no cover - P sums to 1
        plotting.message(ax1, "no rank has visible probability")
    else:
        ax1.bar(r[keep], (P * p)[keep], color=pal[2], width=0.8)
        ax1.bar(r[keep], (P * (1 - p))[keep], bottom=(P * p)[keep], color=pal[3], width=0.8)
        plotting.key(ax1, [("L = 0 (found θ*)", pal[2]), ("L = ½ (wrong parity)", pal[3])])
        lo, hi = int(r[keep].min()), int(r[keep].max())
        ax1.set_xlim(lo - 0.8, hi + 0.8)
        ax1.set_xticks(sorted({lo, hi}))
        top = float(P[keep].max())
        ax1.set_ylim(0, 1.3 * top)
        ax1.set_yticks((0.0, round(top, 2)))
    lb = estimation_lower_bound(d, m)
    plotting.labels(ax1, "rank of the training inputs", "probability",
                    f"m = {m}: any estimator errs ≥ {lb:.3f}")
    return fig


#: Slider box of :func:`draw`; the first entry (m) is the website scrubber's parameter.
SLIDERS = {
    "m": IntSlider(1, _M_MAX, default=15, label="sample size m"),
    "d": IntSlider(8, 24, default=16, label="dimension d"),
    "delta": LogSlider(0.01, 0.2, default=0.05, label="confidence δ"),
}
