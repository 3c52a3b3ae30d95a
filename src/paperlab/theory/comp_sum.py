"""H-consistency bounds for cross-entropy and the comp-sum losses (Mao, Mohri and Zhong, ICML 2023).

Explained in chapter ``comp-sum-h-consistency``.

Notation (as in the chapter). ``n`` classes; a hypothesis gives scores ``h(x) in R^n`` and
predicts ``argmax_y h(x)_y``; ``s = softmax(h(x))``. The comp-sum loss with parameter
``tau in [0, 2]`` is (Eq. (2) of the paper, written with the softmax)

    l_tau(h, x, y) = Phi^tau( sum_{y' != y} exp(h_y' - h_y) ) = (s_y^(tau-1) - 1) / (1 - tau),

with ``Phi^tau(u) = ((1+u)^(1-tau) - 1)/(1 - tau)`` and ``Phi^1(u) = log(1 + u)``:
``tau = 0`` is the sum-exponential loss, ``tau = 1`` cross-entropy (the logistic loss),
``tau in (1, 2)`` generalized cross-entropy with ``q = tau - 1`` and ``tau = 2`` the mean
absolute error ``1 - s_y``.

For a conditional distribution ``p = p(. | x)`` the conditional risk is
``C_tau(h, x) = sum_y p_y l_tau(h, x, y)`` (:func:`conditional_risk`), its infimum over all
scores ``C*_tau(p)`` has a closed form (:func:`best_conditional_risk`), and the conditional
regrets are ``dC_tau = C_tau - C*_tau`` (:func:`conditional_excess`) and
``dC_01 = max_y p_y - p_{argmax h}`` (:func:`zero_one_excess`). Theorem 1 of the paper (complete,
symmetric hypothesis sets) rests on the pointwise inequality ``T_tau(dC_01) <= dC_tau`` with the
functions :func:`T_tau`; with Jensen's inequality it yields the H-consistency bound
``R_01(h) - R*_01(H) + M_01(H) <= Gamma_tau(R_tau(h) - R*_tau(H) + M_tau(H))``,
``Gamma_tau = T_tau^-1`` (:func:`Gamma_tau`), with minimizability gaps ``M``
(:func:`minimizability_gap`, for linear scores on a finite input set, :class:`LinearScores`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from ..cache import cached
from .. import plotting
from .._validate import check_array, check_int, check_real
from ..widgets import FloatSlider, IntSlider, LogSlider

__all__ = ["loss", "conditional_risk", "best_conditional_risk", "conditional_excess",
           "zero_one_excess", "T_tau", "Gamma_tau", "random_pairs", "violations", "check_family",
           "LinearScores", "risks", "minimizability_gap", "train", "problem", "Experiment",
           "experiment", "draw", "SLIDERS"]

TAUS = (0.0, 0.5, 1.0, 1.5, 2.0)
NAMES = {0.0: "sum-exponential", 0.5: "τ = 0.5", 1.0: "cross-entropy", 1.5: "GCE, q = 0.5",
         2.0: "MAE"}


def _tau(tau) -> float:
    return check_real("tau", tau, 0.0, 2.0)


def _scores(h) -> np.ndarray:
    H = check_array("h", h)
    if H.ndim not in (1, 2) or H.shape[-1] < 2:
        raise ValueError(f"h must hold scores for n >= 2 classes (shape (n,) or (N, n)), "
                         f"got shape {H.shape}")
    return np.atleast_2d(H)


def _probs(p, n: int | None = None) -> np.ndarray:
    P = np.atleast_2d(check_array("p", p))
    if P.shape[-1] < 2:
        raise ValueError(f"p must be a distribution over n >= 2 classes, got shape {P.shape}")
    if n is not None and P.shape[-1] != n:
        raise ValueError(f"p must have {n} entries per row (one per class), got {P.shape[-1]}")
    if np.any(P < 0) or np.any(np.abs(P.sum(-1) - 1.0) > 1e-8):
        raise ValueError("p must be non-negative and each row must sum to 1 (tolerance 1e-8)")
    return P


def _log_softmax(H: np.ndarray) -> np.ndarray:
    Z = H - H.max(-1, keepdims=True)
    return Z - np.log(np.exp(Z).sum(-1, keepdims=True))


def _loss_from_logs(logs: np.ndarray, tau: float) -> np.ndarray:
    """``l_tau = (s^(tau-1) - 1)/(1 - tau)``, ``-log s`` at ``tau = 1``, from ``log s``."""
    if tau == 1.0:
        return -logs
    return np.expm1((tau - 1.0) * logs) / (1.0 - tau)


# --------------------------------------------------------------------------- losses and risks

def loss(h, y, tau: float) -> np.ndarray:
    """The comp-sum loss ``l_tau(h, x, y) = Phi^tau(sum_{y' != y} e^(h_y' - h_y))`` (Eq. (2)).

    ``h`` holds scores of shape ``(N, n)`` (or ``(n,)``) and ``y`` the ``N`` labels in
    ``0..n-1``. Computed as ``(s_y^(tau-1) - 1)/(1 - tau)`` with ``s = softmax(h)``, which is
    the same number since ``1 + sum_{y' != y} e^(h_y' - h_y) = 1/s_y``; ``-log s_y`` at
    ``tau = 1``. ``tau`` must lie in [0, 2], where the paper's analysis holds.
    """
    tau = _tau(tau)
    H = _scores(h)
    Y = np.atleast_1d(np.asarray(y))
    if Y.shape != (H.shape[0],) or Y.dtype.kind not in "iu" or np.any(Y < 0) \
            or np.any(Y >= H.shape[1]):
        raise ValueError(f"y must hold {H.shape[0]} integer labels in [0, {H.shape[1] - 1}]")
    logs = _log_softmax(H)[np.arange(H.shape[0]), Y]
    return _loss_from_logs(logs, tau)


def conditional_risk(h, p, tau: float) -> np.ndarray:
    """``C_tau(h, x) = sum_y p(y|x) l_tau(h, x, y)``: the expected loss at one input."""
    tau = _tau(tau)
    H = _scores(h)
    P = _probs(p, H.shape[1])
    return (P * _loss_from_logs(_log_softmax(H), tau)).sum(-1)


def best_conditional_risk(p, tau: float) -> np.ndarray:
    """``C*_tau(p) = inf_h C_tau(h, x)`` over all score vectors, in closed form.

    For ``tau < 2`` the infimum is at ``s ∝ p^(1/(2-tau))`` (a Lagrange condition
    ``p_y s_y^(tau-2) = const``), which gives ``C* = (Z^(2-tau) - 1)/(1 - tau)`` with
    ``Z = sum_y p_y^(1/(2-tau))``; at ``tau = 1`` it is the entropy ``-sum p log p``
    (``s = p``), and at ``tau = 2`` (MAE, linear in ``s``) it is ``1 - max_y p_y``.
    """
    tau = _tau(tau)
    P = _probs(p)
    if tau == 2.0:
        return 1.0 - P.max(-1)
    if tau == 1.0:
        with np.errstate(divide="ignore", invalid="ignore"):
            return -np.where(P > 0, P * np.log(np.where(P > 0, P, 1.0)), 0.0).sum(-1)
    Z = (P ** (1.0 / (2.0 - tau))).sum(-1)
    return (Z ** (2.0 - tau) - 1.0) / (1.0 - tau)


def conditional_excess(h, p, tau: float) -> np.ndarray:
    """The conditional regret ``dC_tau(h, x) = C_tau(h, x) - C*_tau(p)`` (>= 0)."""
    return conditional_risk(h, p, tau) - best_conditional_risk(p, tau)


def zero_one_excess(h, p) -> np.ndarray:
    """The zero-one conditional regret ``max_y p_y - p_{argmax h}`` (ties: the first index)."""
    H = _scores(h)
    P = _probs(p, H.shape[1])
    return P.max(-1) - P[np.arange(P.shape[0]), H.argmax(-1)]


# --------------------------------------------------------------------------- T and Gamma

def T_tau(t, tau: float, n: int) -> np.ndarray:
    """The function ``T_tau`` of Theorem 1 (complete, symmetric H): ``T_tau(dC_01) <= dC_tau``.

    With ``k = 1/(2 - tau)`` and the power mean ``M(t) = (((1+t)^k + (1-t)^k)/2)^(1/k)``:

    * ``tau in [0, 1)``: ``2^(1-tau)/(1-tau) * (1 - M(t)^... )``, precisely
      ``2^(1-tau)/(1-tau) * [1 - (((1+t)^k + (1-t)^k)/2)^(2-tau)]``;
    * ``tau = 1``: ``(1+t)/2 log(1+t) + (1-t)/2 log(1-t)``;
    * ``tau in (1, 2)``: ``1/((tau-1) n^(tau-1)) * [(((1+t)^k + (1-t)^k)/2)^(2-tau) - 1]``;
    * ``tau = 2``: ``t / n``.

    ``t`` in [0, 1]. Increasing and convex in ``t``. (Our transcription of the paper's theorem;
    the chapter checks it numerically on random pairs and its tightness for ``n = 2``.)
    """
    tau = _tau(tau)
    n = check_int("n", n, 2)
    t = check_array("t", t)
    if np.any(t < 0) or np.any(t > 1):
        raise ValueError("t must lie in [0, 1] (a zero-one regret)")
    if tau == 2.0:
        return t / n
    if tau == 1.0:
        with np.errstate(divide="ignore", invalid="ignore"):
            a = 0.5 * (1 + t) * np.log1p(t)
            b = np.where(t < 1, 0.5 * (1 - t) * np.log1p(-np.minimum(t, 1 - 1e-300)), 0.0)
        return a + b
    k = 1.0 / (2.0 - tau)
    mean = (0.5 * ((1 + t) ** k + (1 - t) ** k)) ** (2.0 - tau)
    if tau < 1.0:
        return 2.0 ** (1.0 - tau) / (1.0 - tau) * (1.0 - mean)
    return (mean - 1.0) / ((tau - 1.0) * n ** (tau - 1.0))


def Gamma_tau(eps, tau: float, n: int, iters: int = 60) -> np.ndarray:
    """``Gamma_tau = T_tau^-1``: the largest ``t`` in [0, 1] with ``T_tau(t) <= eps`` (bisection).

    The H-consistency bound of Theorem 1 reads
    ``R_01(h) - R*_01(H) + M_01(H) <= Gamma_tau(R_tau(h) - R*_tau(H) + M_tau(H))``.
    Values of ``eps`` at or beyond ``T_tau(1)`` give 1 (the bound says nothing more).
    """
    tau = _tau(tau)
    n = check_int("n", n, 2)
    e = check_array("eps", eps)
    if np.any(e < 0):
        raise ValueError("eps must be non-negative (a surrogate regret)")
    iters = check_int("iters", iters, 1, 200)
    lo, hi = np.zeros_like(e), np.ones_like(e)
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        ok = T_tau(mid, tau, n) <= e
        lo = np.where(ok, mid, lo)
        hi = np.where(ok, hi, mid)
    return np.where(T_tau(np.ones_like(e), tau, n) <= e, 1.0, lo)


# --------------------------------------------------------------------------- random pairs

def random_pairs(n: int, size: int = 100_000, alpha: float = 0.5,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``size`` random pairs ``(p, h)``: ``p ~ Dirichlet(alpha)``, ``h = sigma z`` with
    ``z ~ N(0, I_n)`` and ``sigma`` log-uniform in ``[1e-4, 10]`` (near-ties to confident
    scores). Returns ``(p, h)``, both of shape ``(size, n)``."""
    n = check_int("n", n, 2)
    size = check_int("size", size, 1)
    alpha = check_real("alpha", alpha, 0.0, lo_open=True)
    rng = np.random.default_rng([check_int("seed", seed, 0), n])
    G = rng.gamma(alpha, size=(size, n)) + 1e-300
    P = G / G.sum(1, keepdims=True)
    H = 10.0 ** rng.uniform(-4, 1, size=(size, 1)) * rng.standard_normal((size, n))
    return P, H


def violations(p, h, tau: float, tol: float = 1e-9) -> tuple[int, float]:
    """Count pairs with ``T_tau(dC_01) > dC_tau + tol``; also return the smallest ratio
    ``dC_tau / T_tau(dC_01)`` over pairs with ``dC_01 > 0.05`` (1 means the bound is tight)."""
    tau = _tau(tau)
    H = _scores(h)
    P = _probs(p, H.shape[1])
    return _violations(P, _log_softmax(H), zero_one_excess(H, P), tau,
                       check_real("tol", tol, 0.0))


def _violations(P, logs, d01, tau, tol):
    dtau = (P * _loss_from_logs(logs, tau)).sum(-1) - best_conditional_risk(P, tau)
    T = T_tau(np.clip(d01, 0.0, 1.0), tau, P.shape[1])
    bad = int(np.sum(T > dtau + tol))
    sel = d01 > 0.05
    ratio = float(np.min(dtau[sel] / T[sel])) if sel.any() else float("nan")
    return bad, ratio


def check_family(ns=(2, 3, 5, 10), taus=tuple(np.arange(0, 2.01, 0.25)), size: int = 100_000,
                 alpha: float = 0.5, seed: int = 0, tol: float = 1e-9) -> dict:
    """The chapter's test of the pointwise inequality ``T_tau(dC_01) <= dC_tau``.

    For every ``n`` in ``ns`` draws :func:`random_pairs` once and, for every ``tau``, returns
    ``{(n, tau): (violations, smallest ratio dC_tau / T_tau(dC_01))}`` (see :func:`violations`).
    """
    out = {}
    for n in ns:
        P, H = random_pairs(n, size, alpha, seed)
        logs, d01 = _log_softmax(H), zero_one_excess(H, P)
        for tau in taus:
            out[(int(n), round(float(tau), 4))] = _violations(P, logs, d01, _tau(tau), tol)
    return out


# --------------------------------------------------------------------------- linear scores

@dataclass(frozen=True)
class LinearScores:
    """The hypothesis set ``{x -> W phi(x) : ||W||_F <= r}`` on a finite input set.

    ``phi`` has shape ``(|X|, k)``: the features of every input. With ``r = inf`` the set is
    complete (every score vector is reached at each ``x`` with ``phi(x) != 0``) and symmetric
    (permuting the rows of ``W`` permutes the classes), as Theorem 1 requires; a finite ``r``
    restricts it.
    """

    phi: np.ndarray
    r: float = math.inf

    def __post_init__(self) -> None:
        phi = check_array("phi", self.phi, ndim=2)
        object.__setattr__(self, "phi", phi)
        if not math.isinf(self.r):
            check_real("r", self.r, 0.0, lo_open=True)


def _risk_grad(W, phi, P, w, tau):
    H = phi @ W.T
    logs = _log_softmax(H)
    s = np.exp(logs)
    L = _loss_from_logs(logs, tau)
    risk = float(w @ (P * L).sum(1))
    a = P * np.exp((tau - 1.0) * logs)                     # p_y s_y^(tau-1)
    G = -a + s * a.sum(1, keepdims=True)                   # dC/dh
    return risk, (G * w[:, None]).T @ phi


def risks(W, H: LinearScores, p, tau: float, weights=None) -> tuple[float, float]:
    """``(R_tau, R_01)`` of the scores ``W phi(x)`` under ``p(y|x)`` and input weights."""
    P = _probs(p)
    w = np.full(P.shape[0], 1.0 / P.shape[0]) if weights is None else check_array("weights", weights)
    scores = H.phi @ np.asarray(W, float).T
    r_tau = float(w @ conditional_risk(scores, P, tau))
    r01 = float(w @ (1.0 - P[np.arange(P.shape[0]), scores.argmax(1)]))
    return r_tau, r01


def _project(W, r):
    nrm = np.linalg.norm(W)
    return W if math.isinf(r) or nrm <= r else W * (r / nrm)


def train(H: LinearScores, p, tau: float, steps: int = 300, W0=None, weights=None,
          record: bool = False):
    """Minimise ``R_tau(W) = E_x C_tau(W phi(x), x)`` over ``H`` by projected gradient descent.

    The population risk is exact (finite inputs, known ``p(y|x)``). Steps use Armijo
    backtracking, so the risk never increases; after each step ``W`` is projected on the
    ball ``||W||_F <= r``. Returns ``W``, or with ``record=True`` also the lists of
    ``R_tau`` and ``R_01`` along the way (the chapter's training curves).
    """
    tau = _tau(tau)
    P = _probs(p)
    if H.phi.shape[0] != P.shape[0]:
        raise ValueError(f"p must have one row per input ({H.phi.shape[0]}), got {P.shape[0]}")
    steps = check_int("steps", steps, 1)
    w = np.full(P.shape[0], 1.0 / P.shape[0]) if weights is None else check_array("weights", weights)
    W = np.zeros((P.shape[1], H.phi.shape[1])) if W0 is None else _project(np.array(W0, float), H.r)
    lr = 1.0
    hist_tau, hist_01 = [], []
    f, g = _risk_grad(W, H.phi, P, w, tau)
    for _ in range(steps):
        if record:
            hist_tau.append(f)
            hist_01.append(risks(W, H, P, tau, w)[1])
        lr = min(lr * 2.0, 1e3)
        while True:
            Wn = _project(W - lr * g, H.r)
            fn, gn = _risk_grad(Wn, H.phi, P, w, tau)
            if fn <= f - 1e-4 * np.sum(g * (W - Wn)) or lr < 1e-10:
                break
            lr *= 0.5
        if fn <= f:
            W, f, g = Wn, fn, gn
    return (W, hist_tau, hist_01) if record else W


def minimizability_gap(model_class: LinearScores, p, tau: float, steps: int = 400,
                       W0=None, weights=None) -> tuple[float, np.ndarray]:
    """``R*_tau(H) - E_x[C*_tau(x)]`` for ``H`` = :class:`LinearScores`; returns ``(gap, W*)``.

    ``R*_tau(H)`` is found by :func:`train` (warm-started from ``W0`` if given), ``C*_tau`` is
    :func:`best_conditional_risk`. For the complete class (``r = inf``) this is the paper's
    minimizability gap ``M_tau(H)``; for a norm ball it is the gap to the best scores at every
    input, which shrinks as ``r`` grows. For ``tau > 1`` the risk is not convex and the value
    is that of the point gradient descent reaches.
    """
    P = _probs(p)
    w = np.full(P.shape[0], 1.0 / P.shape[0]) if weights is None else check_array("weights", weights)
    W = train(model_class, P, tau, steps=steps, W0=W0, weights=w)
    r_tau, _ = risks(W, model_class, P, tau, w)
    return r_tau - float(w @ best_conditional_risk(P, tau)), W


# --------------------------------------------------------------------------- the chapter's problem

@cached(maxsize=4)
def problem(n_inputs: int = 50, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The chapter's 3-class problem on a finite input set: ``(phi, p)``.

    ``n_inputs`` points ``x ~ N(0, I_2)``, features ``phi(x) = (x_1, x_2, 1)`` and
    ``p(y|x) = softmax(A psi(x))`` with ``psi(x) = (x_1, x_2, x_1 x_2, x_1^2 - x_2^2)`` and a
    seeded ``A``: the linear scores cannot represent ``p``, so the gaps are positive.
    """
    n_inputs = check_int("n_inputs", n_inputs, 2)
    rng = np.random.default_rng(check_int("seed", seed, 0))
    X = rng.standard_normal((n_inputs, 2))
    phi = np.c_[X, np.ones(n_inputs)]
    psi = np.c_[X, X[:, 0] * X[:, 1], X[:, 0] ** 2 - X[:, 1] ** 2]
    A = 1.5 * rng.standard_normal((3, 4))
    P = np.exp(_log_softmax(psi @ A.T))
    phi.flags.writeable = False
    P.flags.writeable = False
    return phi, P


@dataclass(frozen=True)
class Experiment:
    """Results of :func:`experiment`."""

    family: dict          # (n, tau) -> (violations, smallest ratio) over random pairs
    curves: dict          # tau -> (surrogate regret, zero-one regret) along training, vs Bayes
    gap_complete: dict    # tau -> M_tau(H) of the complete linear class (r = inf)
    gap_01: float         # R_01 at the cross-entropy optimum minus the Bayes zero-one risk
    radii: np.ndarray     # norm budgets r
    gaps: dict            # tau -> array over radii of R*_tau(H_r) - E_x C*_tau(x)


@cached(maxsize=4)
def _experiment(size: int, seed: int, steps: int, radii: tuple) -> Experiment:
    family = check_family(size=size, seed=seed)
    phi, P = problem(seed=seed)
    w = np.full(P.shape[0], 1.0 / P.shape[0])
    bayes01 = float(w @ (1.0 - P.max(1)))
    curves, gap_c, gaps = {}, {}, {}
    H = LinearScores(phi)
    for tau in TAUS:
        W, r_tau, r01 = train(H, P, tau, steps=steps, record=True)
        base = float(w @ best_conditional_risk(P, tau))
        curves[tau] = (np.array(r_tau) - base, np.array(r01) - bayes01)
        gap_c[tau] = float(r_tau[-1] - base)
        chain, W_prev = [], None
        for r in radii:                      # warm start: H_r grows with r
            g, W_prev = minimizability_gap(LinearScores(phi, r), P, tau, steps=steps // 3,
                                           W0=W_prev)
            chain.append(g)
        gaps[tau] = np.array(chain)
    _, r01_ce = risks(train(H, P, 1.0, steps=steps), H, P, 1.0)
    return Experiment(family=family, curves=curves, gap_complete=gap_c,
                      gap_01=r01_ce - bayes01, radii=np.array(radii), gaps=gaps)


def experiment(size: int = 100_000, seed: int = 0, steps: int = 300,
               radii=(0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)) -> Experiment:
    """The chapter's experiment (cached): the pointwise check on random pairs
    (:func:`check_family`), training curves of linear scores for each ``tau`` in
    :data:`TAUS` on :func:`problem`, and the gaps ``R*_tau(H_r) - E_x C*_tau(x)`` over norm
    budgets ``r``."""
    radii = tuple(check_real("radii[i]", r, 0.0, lo_open=True) for r in radii)
    return _experiment(check_int("size", size, 100), check_int("seed", seed, 0),
                       check_int("steps", steps, 3), radii)


# --------------------------------------------------------------------------- interactive figure

_N_DRAW = 10_000


@cached(maxsize=1)
def _base_draws():
    rng = np.random.default_rng(0)
    return (10.0 ** rng.uniform(-4, 1, size=(_N_DRAW, 1)),
            rng.standard_normal((_N_DRAW, 10)))


@cached(maxsize=64)
def _dirichlet(n: int, alpha: float) -> np.ndarray:
    G = np.random.default_rng([1, n]).gamma(alpha, size=(_N_DRAW, n)) + 1e-300
    return G / G.sum(1, keepdims=True)


@cached(maxsize=64)
def _t_grid(n: int) -> dict:
    t = np.linspace(0.02, 1, 50)
    return {tau: np.log10(T_tau(t, tau, n)) for tau in np.round(np.arange(0, 2.01, 0.25), 2)}


def draw(tau: float = 1.0, n: int = 3, alpha: float = 0.5) -> Figure:
    """The chapter's interactive figure: 10,000 random pairs against the bound ``Gamma_tau``.

    Left: each pair ``(p, h)`` as a point (surrogate regret ``dC_tau``, zero-one regret
    ``dC_01``) with ``p ~ Dirichlet(alpha)`` over ``n`` classes; the curve ``Gamma_tau`` lies
    above every point. Right: ``T_tau`` for the whole family at this ``n``, the chosen ``tau``
    in black: the larger ``T``, the stronger the guarantee.
    """
    tau = round(check_real("tau", tau, 0.0, 2.0) * 4) / 4          # the family's grid
    n = check_int("n", n, 2, 10)
    alpha = check_real("alpha", alpha, 0.05, 10.0)
    sig, Z = _base_draws()
    H = sig * Z[:, :n]
    P = _dirichlet(n, round(alpha, 4))
    d01 = zero_one_excess(H, P)
    dtau = conditional_excess(H, P, tau)
    pal = plotting.PALETTE
    fig, (ax0, ax1) = plotting.figure(2, width=9.4, height=3.5, layout="fixed")
    wrong = d01 > 0
    xmax = float(np.quantile(dtau[wrong], 0.9)) if wrong.any() else 1.0
    xmax = max(xmax, 1e-3)
    ax0.plot(dtau[wrong], d01[wrong], ".", ms=1.5, color=pal[0], alpha=0.35, rasterized=True)
    e = np.linspace(0, xmax, 80)
    ax0.plot(e, Gamma_tau(e, tau, n), color=pal[3])
    bad, _ = violations(P, H, tau)
    ax0.set_xlim(0, xmax)
    ax0.set_ylim(0, 1.02)
    ax0.set_yticks((0, 0.5, 1))
    ax0.set_xticks(np.round(np.linspace(0, xmax, 3), 3))
    plotting.key(ax0, [("pairs (p, h) with a wrong argmax", pal[0]),
                       (f"Γ_τ: bound ({bad} violations)", pal[3])], x=0.42, y=0.3)
    plotting.labels(ax0, f"surrogate regret ΔC_τ (τ = {tau:g})", "zero-one regret ΔC_01",
                    f"n = {n}, Dirichlet α = {alpha:.2g}")
    g = _t_grid(n)
    t = np.linspace(0.02, 1, 50)
    for tt, T in g.items():                           # log10 on a linear axis: no minor ticks
        ax1.plot(t, T, color="black" if tt == tau else "#bbbbbb", lw=2.0 if tt == tau else 0.9)
    ax1.set_ylim(-5, 0.3)
    ax1.set_yticks((-4, -2, 0))
    ax1.set_xticks((0, 0.5, 1))
    plotting.labels(ax1, "zero-one regret t", "log₁₀ T_τ(t)",
                    "T_τ, τ = 0, 0.25, …, 2 (black: yours)")
    return fig


#: Slider box of :func:`draw`; the first entry (tau) is the website scrubber's parameter.
SLIDERS = {
    "tau": FloatSlider(0.0, 2.0, default=1.0, step=0.25, label="loss parameter τ"),
    "n": IntSlider(2, 10, default=3, label="classes n"),
    "alpha": LogSlider(0.05, 10.0, default=0.5, label="Dirichlet α"),
}
