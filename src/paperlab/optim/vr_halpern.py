"""Variance-reduced Halpern iteration for finite-sum monotone inclusions (Cai, Alacaoglu and
Diakonikolas, ICLR 2024).

Explained in chapter ``vr-halpern``.

The problem is to find ``u*`` with ``F(u*) = 0`` for ``F = (1/n) sum_i F_i``, where ``F`` is
monotone and, in the setting of this module, *cocoercive on average*:
``(1/n) sum_i ||F_i(u) - F_i(v)||^2 <= L <F(u) - F(v), u - v>`` for all ``u, v``. The quality
of a point is its residual ``||F(u)||``, which can be computed, so it is also a stopping rule.

* :func:`halpern` is Halpern's anchored iteration with the full operator,
  ``u_{k+1} = lambda_{k+1} u_0 + (1 - lambda_{k+1}) (u_k - F(u_k)/L_F)`` with
  ``lambda_k = 1/(k+1)``. It guarantees ``||F(u_k)|| <= 2 L_F ||u_0 - u*|| / (k+1)``
  (:func:`halpern_bound`), at ``n`` component evaluations per step.
* :func:`vr_halpern` replaces ``F(u_k)`` by a PAGE-type recursive estimate: with probability
  ``p`` a full evaluation (``n`` calls), otherwise the previous estimate plus a mini-batch
  correction ``(1/b) sum_{i in S} (F_i(u_k) - F_i(u_{k-1}))`` (``2b`` calls). With
  ``p = 1/sqrt(n)`` and ``b = ceil(sqrt(n))`` a step costs about ``3 sqrt(n)`` calls instead of
  ``n``, and the paper proves ``O~(n + sqrt(n) L / eps)`` calls to reach ``||F(u)|| <= eps``.
* :func:`minibatch_halpern` uses the plain mini-batch average (no variance reduction): it
  stalls at a noise floor.
* :func:`finite_sum_cocoercive` builds the chapter's test operators and their constants.

Implementation choices (documented in the chapter): the paper's constants ``lambda_k``, ``p_k``
and ``|S_k|`` could not be checked against its Algorithm 1 here (neither the paper's text nor an
official code release was available to the tools of this project). We use the classical
Halpern weights ``lambda_k = 1/(k+1)`` (Lieder's tight analysis), the step ``1/L`` (half the
largest step ``2/L`` for which ``u - eta F(u)`` is nonexpansive) and PAGE's standard
``p = 1/sqrt(n)``, ``b = ceil(sqrt(n))``, constant over the run, with batches drawn uniformly
with replacement.
"""
from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FixedLocator, MaxNLocator, NullLocator

from ..cache import cached
from .. import plotting
from .._validate import check_array, check_choice, check_int, check_real
from ..widgets import Choice, IntSlider, LogSlider
from .common import Curve, first_below

__all__ = ["NotMonotoneWarning", "FiniteSum", "finite_sum_cocoercive", "halpern", "vr_halpern",
           "minibatch_halpern", "halpern_bound", "comparison", "scaling", "draw", "SLIDERS"]


class NotMonotoneWarning(UserWarning):
    """``<F(u) - F(v), u - v> < 0`` for a random pair: Halpern's guarantees do not apply."""


# --------------------------------------------------------------------------- the test operators

@dataclass(frozen=True, eq=False)
class FiniteSum:
    """``F(u) = (1/n) sum_i F_i(u)`` with ``F_i(u) = B^T (W_i + J) B u - c_i``.

    ``B`` is square and invertible (its singular values fall from 1 to ``1/sqrt(cond)``), each
    ``W_i`` is diagonal with entries drawn in ``[1 - spread, 1 + spread]`` and rescaled to mean
    exactly 1 over ``i``, ``J`` is skew-symmetric (a rotation that makes ``F`` monotone but not
    a gradient),
    and ``c_i = B^T (W_i + J) B u* + e_i`` with noise ``e_i`` that sums to zero, so
    ``F(u*) = 0`` exactly. Attributes ``L_bar`` (the average cocoercivity constant of the
    paper's assumption) and ``L_F`` (the cocoercivity constant of ``F``) are exact.
    """

    B: np.ndarray
    J: np.ndarray
    w: np.ndarray
    c: np.ndarray
    u_star: np.ndarray

    @property
    def n(self) -> int:
        return int(self.w.shape[0])

    @property
    def d(self) -> int:
        return int(self.B.shape[0])

    @functools.cached_property
    def _M(self) -> np.ndarray:          # the mean matrix B^T (I + J) B
        return self.B.T @ (np.eye(self.d) + self.J) @ self.B

    @functools.cached_property
    def _c(self) -> np.ndarray:
        return self.c.mean(axis=0)

    @functools.cached_property
    def L_F(self) -> float:
        """Smallest ``L`` with ``||F(u) - F(v)||^2 <= L <F(u) - F(v), u - v>``."""
        IJ = np.eye(self.d) + self.J
        return float(np.linalg.eigvalsh(IJ.T @ self.B @ self.B.T @ IJ)[-1])

    @functools.cached_property
    def L_bar(self) -> float:
        """Smallest ``L`` with ``(1/n) sum_i ||F_i(u) - F_i(v)||^2 <= L <F(u) - F(v), u - v>``.

        With ``x = B (u - v)`` the left side is ``x^T E[(W_i + J)^T B B^T (W_i + J)] x`` and the
        right side ``L ||x||^2``, so ``L_bar`` is the largest eigenvalue of that mean matrix.
        """
        K = self.B @ self.B.T
        JKJ = self.J.T @ K @ self.J
        second = (self.w.T @ self.w) / self.n                 # E[w w^T]
        mean = K * second + self.J.T @ K + K @ self.J + JKJ   # E[W K W] + J^T K + K J + J^T K J
        return float(np.linalg.eigvalsh(0.5 * (mean + mean.T))[-1])

    def _u(self, u) -> np.ndarray:
        # a shape check only: these are called thousands of times per run
        u = np.asarray(u, dtype=float)
        if u.shape != (self.d,):
            raise ValueError(f"u must have shape ({self.d},), got {u.shape}")
        return u

    def full(self, u) -> np.ndarray:
        """``F(u)``, the mean of all ``n`` components (costs ``n`` oracle calls)."""
        return self._M @ self._u(u) - self._c

    @functools.cached_property
    def _wc(self) -> np.ndarray:        # [w_i, c_i] side by side: one gather per batch
        return np.hstack([self.w, self.c])

    def batch(self, u, idx) -> np.ndarray:
        """``(1/|idx|) sum_{i in idx} F_i(u)`` (costs ``|idx|`` oracle calls)."""
        x = self.B @ self._u(u)
        wc = self._wc[idx].sum(axis=0) / len(idx)
        return self.B.T @ (wc[:self.d] * x + self.J @ x) - wc[self.d:]

    def component(self, i: int, u) -> np.ndarray:
        """One component ``F_i(u)``."""
        i = check_int("i", i, 0, self.n - 1)
        x = self.B @ self._u(u)
        return self.B.T @ (self.w[i] * x + self.J @ x) - self.c[i]


def finite_sum_cocoercive(n: int = 1000, d: int = 30, spread: float = 0.5, *, rotation: float = 0.5,
                          noise: float = 1.0, cond: float = 1e3, seed: int = 0) -> FiniteSum:
    """The chapter's finite-sum operators (a stand-in for the paper's finite-sum problems).

    Everything except the components (``B``, ``J``, ``u*``) depends on ``seed`` only, so the
    same seed with a different ``n`` gives the same mean problem with more components.
    ``spread`` in ``[0, 1)`` sets how different the components are (``L_bar / L_F`` grows with
    it), ``rotation`` is the norm of the skew part ``J``, ``noise`` the size of ``F_i(u*)``,
    and ``cond`` the condition number of ``B^T B`` (large: monotone but barely strongly
    monotone). Explained in chapter ``vr-halpern``. (The chapter plan put this generator in
    ``paperlab.data``; it lives here because only this chapter uses it.)
    """
    n = check_int("n", n, 2)
    d = check_int("d", d, 1)
    spread = check_real("spread", spread, 0.0, 1.0, hi_open=True)
    rotation = check_real("rotation", rotation, 0.0)
    noise = check_real("noise", noise, 0.0)
    cond = check_real("cond", cond, 1.0)
    seed = check_int("seed", seed, 0)
    g = np.random.default_rng(seed)
    U, _ = np.linalg.qr(g.standard_normal((d, d)))
    V, _ = np.linalg.qr(g.standard_normal((d, d)))
    B = (U * np.geomspace(1.0, 1.0 / math.sqrt(cond), d)) @ V.T
    G = g.standard_normal((d, d))
    J = G - G.T
    nrm = np.linalg.norm(J, 2)
    J = J * (rotation / nrm) if nrm > 0 else J
    u_star = g.standard_normal(d)
    gc = np.random.default_rng([seed, n])            # the components: their own stream
    w = 1.0 + spread * (2.0 * gc.random((n, d)) - 1.0)
    w /= w.mean(axis=0)                              # mean exactly 1: F(u*) = 0
    e = noise * gc.standard_normal((n, d))
    e -= e.mean(axis=0)
    x = B @ u_star
    c = (w * x + J @ x) @ B + e                      # row i: B^T (W_i + J) B u* + e_i
    for a in (B, J, w, c, u_star):
        a.setflags(write=False)
    return FiniteSum(B, J, w, c, u_star)


# --------------------------------------------------------------------------- checks

def _check_monotone(F: Callable, u0: np.ndarray) -> None:
    """Warn if ``<F(u) - F(v), u - v> < 0`` on one of three random pairs near ``u0``."""
    g = np.random.default_rng(12345)
    scale = max(1.0, float(np.linalg.norm(u0)))
    for _ in range(3):
        u, v = u0 + scale * g.standard_normal((2, u0.size))
        dF = np.asarray(F(u), dtype=float) - np.asarray(F(v), dtype=float)
        if dF @ (u - v) < -1e-10 * np.linalg.norm(dF) * np.linalg.norm(u - v):
            warnings.warn("F is not monotone: <F(u) - F(v), u - v> < 0 for a random pair, so "
                          "the guarantees of Halpern's iteration do not apply",
                          NotMonotoneWarning, stacklevel=3)
            return


def _start(F: Callable, u0, name: str = "F") -> tuple[np.ndarray, np.ndarray]:
    u0 = check_array("u0", u0, ndim=1)
    try:
        F0 = np.asarray(F(u0), dtype=float)
    except ValueError as exc:
        raise ValueError(f"u0 does not fit the operator {name}: {exc}") from exc
    if F0.shape != u0.shape:
        raise ValueError(f"u0 must have the operator's dimension: {name}(u0) has shape {F0.shape}, "
                         f"u0 has shape {u0.shape}")
    return u0, F0


# --------------------------------------------------------------------------- the methods

def halpern_bound(k, L: float, dist: float) -> np.ndarray:
    """Halpern's guarantee ``||F(u_k)|| <= 2 L ||u_0 - u*|| / (k + 1)`` for a ``1/L``-cocoercive
    ``F`` with step ``1/L`` and ``lambda_k = 1/(k+1)`` (Lieder 2021; Diakonikolas 2020).

    Explained in chapter ``vr-halpern``.
    """
    L = check_real("L", L, 0.0, lo_open=True)
    dist = check_real("dist", dist, 0.0)
    k = check_array("k", k)
    if np.any(k < 0):
        raise ValueError("k must be non-negative iteration counts")
    return 2.0 * L * dist / (k + 1.0)


def halpern(F: Callable, u0, L: float, budget: int) -> Curve:
    """Halpern's anchored iteration with the full operator (the paper's deterministic baseline).

    ``u_{k+1} = lambda_{k+1} u_0 + (1 - lambda_{k+1}) (u_k - F(u_k) / L)`` with
    ``lambda_k = 1 / (k + 1)``, for ``budget`` evaluations of ``F``. ``L`` is the cocoercivity
    constant of ``F``. Returns a :class:`~paperlab.optim.common.Curve` with ``cost[k] = k + 1``
    (evaluations of ``F`` spent once ``F(u_k)`` is known, i.e. epochs of a finite sum) and
    ``error[k] = ||F(u_k)||``. Warns (:class:`NotMonotoneWarning`) if ``F`` fails a monotonicity
    check on random pairs. Explained in chapter ``vr-halpern``.
    """
    if not callable(F):
        raise ValueError("F must be a function u -> F(u)")
    L = check_real("L", L, 0.0, lo_open=True)
    budget = check_int("budget", budget, 1)
    u0, Fu = _start(F, u0)
    _check_monotone(F, u0)
    u, res = u0, [float(np.linalg.norm(Fu))]
    for k in range(budget - 1):
        lam = 1.0 / (k + 2)                      # lambda_{k+1}
        u = lam * u0 + (1.0 - lam) * (u - Fu / L)
        Fu = np.asarray(F(u), dtype=float)
        res.append(float(np.linalg.norm(Fu)))
    return Curve(np.arange(1, budget + 1, dtype=float), np.array(res), {"u": u})


def vr_halpern(F_full: Callable, F_batch: Callable, n: int, u0, L_bar: float, budget: float,
               seed: int = 0, batch: int | None = None, p: float | None = None) -> Curve:
    """Variance-reduced Halpern iteration (cocoercive setting) of Cai, Alacaoglu and
    Diakonikolas (2024): Halpern's step driven by a PAGE-type recursive estimate ``Ft_k``.

    ``u_{k+1} = lambda_{k+1} u_0 + (1 - lambda_{k+1}) (u_k - Ft_k / L_bar)``, ``lambda_k = 1/(k+1)``,
    ``Ft_0 = F(u_0)``, then with probability ``p`` ``Ft_{k+1} = F(u_{k+1})`` (``n`` calls), and
    otherwise ``Ft_{k+1} = Ft_k + F_S(u_{k+1}) - F_S(u_k)`` with ``F_S`` the mean over ``batch``
    components drawn uniformly with replacement (``2 batch`` calls). Defaults:
    ``p = 1/sqrt(n)``, ``batch = ceil(sqrt(n))``.

    ``F_full(u)`` is ``(1/n) sum_i F_i(u)`` and ``F_batch(u, idx)`` the mean of ``F_i(u)`` over
    the indices ``idx``. The run stops once ``budget`` epochs (``budget * n`` component calls)
    are spent. Returns a :class:`~paperlab.optim.common.Curve`: ``cost`` in epochs spent once
    ``Ft_k`` is known, ``error = ||F(u_k)||`` (the true residual, evaluated for the plot and not
    counted); ``info["estimator_error"]`` holds ``||Ft_k - F(u_k)||``. Explained in chapter
    ``vr-halpern``.
    """
    if not callable(F_full) or not callable(F_batch):
        raise ValueError("F_full and F_batch must be functions")
    n = check_int("n", n, 1)
    L_bar = check_real("L_bar", L_bar, 0.0, lo_open=True)
    budget = check_real("budget", budget, 0.0, lo_open=True)
    seed = check_int("seed", seed, 0)
    batch = math.ceil(math.sqrt(n)) if batch is None else check_int("batch", batch, 1, n)
    p = 1.0 / math.sqrt(n) if p is None else check_real("p", p, 0.0, 1.0, lo_open=True)
    u0, Ft = _start(F_full, u0, "F_full")
    _check_monotone(F_full, u0)
    rng = np.random.default_rng(seed)

    u, calls, k = u0, n, 0
    costs, res, est = [calls], [float(np.linalg.norm(Ft))], [0.0]
    while calls < budget * n:
        lam = 1.0 / (k + 2)                                  # lambda_{k+1}
        u_next = lam * u0 + (1.0 - lam) * (u - Ft / L_bar)   # Halpern step with the estimate
        if rng.random() < p:                                 # full evaluation
            Ft = np.asarray(F_full(u_next), dtype=float)
            calls += n
        else:                                                # recursive mini-batch correction
            S = rng.integers(0, n, batch)
            Ft = (Ft + np.asarray(F_batch(u_next, S), dtype=float)
                  - np.asarray(F_batch(u, S), dtype=float))
            calls += 2 * batch
        u, k = u_next, k + 1
        F_true = np.asarray(F_full(u), dtype=float)          # for the plot only: not counted
        costs.append(calls)
        res.append(float(np.linalg.norm(F_true)))
        est.append(float(np.linalg.norm(Ft - F_true)))
    return Curve(np.array(costs, dtype=float) / n, np.array(res),
                 {"u": u, "estimator_error": np.array(est), "iterations": k, "p": p,
                  "batch": batch})


def minibatch_halpern(F_full: Callable, F_batch: Callable, n: int, u0, L: float, budget: float,
                      seed: int = 0, batch: int | None = None) -> Curve:
    """Halpern's iteration driven by a plain mini-batch average (no variance reduction).

    ``u_{k+1} = lambda_{k+1} u_0 + (1 - lambda_{k+1}) (u_k - F_S(u_k) / L)`` with a fresh batch
    ``S`` of ``batch`` components (default ``ceil(sqrt(n))``) at every step: ``batch`` calls per
    step. The estimate's error does not shrink, so the residual stalls at a noise floor: the
    baseline that shows what variance reduction buys. ``F_full`` is only used to measure the
    residual. Returns a :class:`~paperlab.optim.common.Curve` as :func:`vr_halpern` does.
    Explained in chapter ``vr-halpern``.
    """
    if not callable(F_full) or not callable(F_batch):
        raise ValueError("F_full and F_batch must be functions")
    n = check_int("n", n, 1)
    L = check_real("L", L, 0.0, lo_open=True)
    budget = check_real("budget", budget, 0.0, lo_open=True)
    seed = check_int("seed", seed, 0)
    batch = math.ceil(math.sqrt(n)) if batch is None else check_int("batch", batch, 1, n)
    u0, F0 = _start(F_full, u0, "F_full")
    rng = np.random.default_rng(seed)
    u, calls, k = u0, batch, 0
    Ft = np.asarray(F_batch(u0, rng.integers(0, n, batch)), dtype=float)
    costs, res, est = [calls], [float(np.linalg.norm(F0))], [float(np.linalg.norm(Ft - F0))]
    while calls < budget * n:
        lam = 1.0 / (k + 2)
        u = lam * u0 + (1.0 - lam) * (u - Ft / L)
        Ft = np.asarray(F_batch(u, rng.integers(0, n, batch)), dtype=float)
        calls += batch
        k += 1
        F_true = np.asarray(F_full(u), dtype=float)
        costs.append(calls)
        res.append(float(np.linalg.norm(F_true)))
        est.append(float(np.linalg.norm(Ft - F_true)))
    return Curve(np.array(costs, dtype=float) / n, np.array(res),
                 {"u": u, "estimator_error": np.array(est), "iterations": k, "batch": batch})


# --------------------------------------------------------------------------- experiments

def _relative(c: Curve, r0: float) -> Curve:
    return Curve(c.cost, c.error / r0, c.info)


def comparison(n: int = 1000, seeds=(0, 1, 2, 3, 4), budget: float = 150.0,
               halpern_budget: int = 300, op_seed: int = 0) -> Mapping[str, tuple[Curve, ...]]:
    """The chapter's main experiment on :func:`finite_sum_cocoercive` ``(n, seed=op_seed)``.

    Returns a read-only mapping with the curves of ``||F(u_k)|| / ||F(u_0)||`` against epochs:
    ``"Halpern"`` (one deterministic run of ``halpern_budget`` epochs, step ``1/L_F``),
    ``"VR-Halpern"`` and ``"mini-batch Halpern"`` (one run per seed, ``budget`` epochs, step
    ``1/L_bar``, default ``p`` and batch). Cached. Explained in chapter ``vr-halpern``.
    """
    n = check_int("n", n, 2)
    seeds = tuple(check_int("seed", s, 0) for s in seeds)
    return _comparison(n, seeds, check_real("budget", budget, 0.0, lo_open=True),
                       check_int("halpern_budget", halpern_budget, 1), check_int("op_seed", op_seed, 0))


@cached(maxsize=8)
def _comparison(n, seeds, budget, halpern_budget, op_seed):
    P = finite_sum_cocoercive(n, seed=op_seed)
    u0 = np.zeros(P.d)
    r0 = float(np.linalg.norm(P.full(u0)))
    out = {
        "Halpern": (_relative(halpern(P.full, u0, P.L_F, halpern_budget), r0),),
        "VR-Halpern": tuple(_relative(vr_halpern(P.full, P.batch, n, u0, P.L_bar, budget, s), r0)
                            for s in seeds),
        "mini-batch Halpern": tuple(_relative(minibatch_halpern(P.full, P.batch, n, u0, P.L_bar,
                                                                budget, s), r0) for s in seeds),
    }
    return MappingProxyType(out)


def scaling(ns=(250, 1000, 4000), seeds=(0, 1, 2, 3, 4), target: float = 0.1,
            op_seed: int = 0) -> Mapping[int, dict]:
    """Epochs to reach ``||F(u)|| <= target ||F(u_0)||`` for each number of components ``n``.

    The mean problem is the same for every ``n`` (same ``op_seed``); only the number of
    components changes. Returns ``{n: {"Halpern": epochs, "VR-Halpern": (epochs per seed)}}``
    (``inf`` if a run did not get there within its budget: 300 epochs for Halpern, 60 for
    VR-Halpern). Cached. Explained in chapter ``vr-halpern``.
    """
    ns = tuple(check_int("n", n, 2) for n in ns)
    seeds = tuple(check_int("seed", s, 0) for s in seeds)
    target = check_real("target", target, 0.0, 1.0, lo_open=True, hi_open=True)
    return _scaling(ns, seeds, target, check_int("op_seed", op_seed, 0))


@cached(maxsize=8)
def _scaling(ns, seeds, target, op_seed):
    out = {}
    for n in ns:
        P = finite_sum_cocoercive(n, seed=op_seed)
        u0 = np.zeros(P.d)
        thr = target * float(np.linalg.norm(P.full(u0)))
        out[n] = {"Halpern": first_below(halpern(P.full, u0, P.L_F, 300), thr),
                  "VR-Halpern": tuple(first_below(vr_halpern(P.full, P.batch, n, u0, P.L_bar,
                                                             60.0, s), thr) for s in seeds)}
    return MappingProxyType(out)


# --------------------------------------------------------------------------- interactive figure

_NS = (250, 1000, 4000)

SLIDERS = {
    "batch": IntSlider(8, 128, default=32, step=8, label="batch b"),
    "p": LogSlider(0.005, 0.2, default=0.03, label="full-pass probability p"),
    "budget": IntSlider(10, 60, default=25, step=5, label="budget (epochs)"),
    "n": Choice(_NS, default=1000, label="components n"),
}

#: Cap on the iterations of one live run in :func:`draw`.
DRAW_MAX_ITER = 300
_YT = [1e-3, 1e-2, 1e-1, 1.0]
_YL = ["0.001", "0.01", "0.1", "1"]


@cached(maxsize=4)
def _draw_problem(n: int) -> tuple[FiniteSum, float, Curve]:
    P = finite_sum_cocoercive(n)
    u0 = np.zeros(P.d)
    r0 = float(np.linalg.norm(P.full(u0)))
    return P, r0, _relative(halpern(P.full, u0, P.L_F, 60), r0)


@cached(maxsize=64)
def _draw_minibatch(n: int, batch: int) -> Curve:
    """Mini-batch Halpern for :func:`draw`: it does not depend on ``p``, so it is cached and cut
    to the budget when drawn."""
    P, r0, _ = _draw_problem(n)
    return _relative(minibatch_halpern(P.full, P.batch, n, np.zeros(P.d), P.L_bar,
                                       _capped(n, 60.0, batch), 0, batch), r0)


def _capped(n: int, budget: float, calls_per_iter: float) -> float:
    """The budget in epochs, lowered so that a run takes at most DRAW_MAX_ITER iterations."""
    return min(budget, DRAW_MAX_ITER * calls_per_iter / n)


def draw(batch: int = 32, p: float = 0.03, budget: int = 25, n: int = 1000) -> Figure:
    """The chapter's figure: VR-Halpern with batch ``b`` and full-pass probability ``p``.

    Left: ``||F(u_k)|| / ||F(u_0)||`` against epochs for Halpern (full operator), VR-Halpern and
    mini-batch Halpern (same ``b``, no variance reduction), seed 0, on
    :func:`finite_sum_cocoercive` with ``n`` components. Right: the error of each method's
    operator estimate, ``||Ft_k - F(u_k)|| / ||F(u_0)||``. Live runs stop after
    ``DRAW_MAX_ITER`` iterations. Explained in chapter ``vr-halpern``.
    """
    batch = check_int("batch", batch, 1)
    p = check_real("p", p, 0.0, 1.0, lo_open=True)
    budget = check_real("budget", budget, 0.0, lo_open=True)
    n = check_choice("n", n, _NS)
    fig, (ax0, ax1) = plotting.figure(2, width=8.4, height=3.5, layout="fixed")
    if batch > n:
        for ax in (ax0, ax1):
            plotting.message(ax, f"batch b = {batch} is larger than n = {n}")
            plotting.labels(ax, "epochs (component calls / n)", "relative residual")
        return fig
    P, r0, full = _draw_problem(n)
    u0 = np.zeros(P.d)
    vr_budget = _capped(n, budget, p * n + 2 * batch)
    vr = _relative(vr_halpern(P.full, P.batch, n, u0, P.L_bar, vr_budget, 0, batch, p), r0)
    mb_all = _draw_minibatch(n, batch)
    cut = mb_all.cost <= budget
    mb = Curve(mb_all.cost[cut], mb_all.error[cut],
               {"estimator_error": mb_all.info["estimator_error"][cut]})
    colors = {"Halpern (full F)": plotting.PALETTE[1], "VR-Halpern": plotting.PALETTE[0],
              "mini-batch Halpern": plotting.PALETTE[3]}
    keep = full.cost <= budget
    # single runs, drawn as measured (no resampling: a capped run ends where it stopped)
    ax0.plot(full.cost[keep], full.error[keep], color=colors["Halpern (full F)"],
             label="Halpern (full F)")
    ax0.plot(vr.cost, vr.error, color=colors["VR-Halpern"], label="VR-Halpern")
    ax0.plot(mb.cost, mb.error, color=colors["mini-batch Halpern"], lw=1.2,
             label="mini-batch Halpern")
    for ax in (ax0, ax1):
        ax.set_yscale("log")
        ax.set_xlim(0, budget)
        ax.yaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_locator(MaxNLocator(4))      # few ticks: tick labels dominate the render
    ax0.set_ylim(1e-3, 2.0)
    ax0.yaxis.set_major_locator(FixedLocator(_YT))
    ax0.yaxis.set_major_formatter(FixedFormatter(_YL))
    plotting.key(ax0, [(name, colors[name]) for name in colors], x=0.03, y=0.25)
    plotting.labels(ax0, "epochs (component calls / n)", "‖F(uₖ)‖ / ‖F(u₀)‖")
    capped = vr.cost[-1] < budget - 1e-9 or mb_all.cost[-1] < budget - 1e-9
    ax0.set_title(f"n = {n}, b = {batch}, p = {p:.3g}"
                  + (f" (runs stop at {DRAW_MAX_ITER} steps)" if capped else ""), fontsize=9, y=1.0)

    for c, name in ((vr, "VR-Halpern"), (mb, "mini-batch Halpern")):
        ax1.plot(c.cost, np.maximum(c.info["estimator_error"] / r0, 1e-7), color=colors[name],
                 lw=1.2, label=name)
    ax1.set_ylim(1e-7, 2.0)
    ax1.yaxis.set_major_locator(FixedLocator([1e-6, 1e-3, 1.0]))
    ax1.yaxis.set_major_formatter(FixedFormatter(["1e-6", "0.001", "1"]))
    plotting.labels(ax1, "epochs (component calls / n)", "‖F̃ₖ − F(uₖ)‖ / ‖F(u₀)‖")
    ax1.set_title("error of the operator estimate (colours as on the left)", fontsize=9, y=1.0)
    return fig
