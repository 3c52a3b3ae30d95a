"""Estimating scaling-law constants from small runs (Su, Tian, Shen and Cai, 2024).

Explained in chapter ``scaling-law-estimation``.

"Unraveling the Mystery of Scaling Laws: Part I" (Su et al., arXiv 2403.06563) keeps the forms
of Kaplan et al. (2020),

* ``L(N) = (N_c / N)^alpha_N``                                   converged loss of a size-N model,
* ``L(N, S) = (N_c / N)^alpha_N + (S_c / S_min)^alpha_S``        loss after ``S_min`` steps,
* ``B_crit(L) = B_* / L^(1 / alpha_B)``                          critical batch size,
* ``S_min = S / (1 + B_crit(L) / B)``, ``E_min = E / (1 + B / B_crit(L))`` (McCandlish et al.),

and gives a step-by-step recipe to estimate every constant from small models and to predict
large ones. This module runs that recipe on a *solvable substrate* instead of transformers:
linear regression on Gaussian data whose covariance has eigenvalues ``lambda_i = i^-a`` and
whose target puts power ``lambda_i w*_i^2 = i^-b`` on direction ``i``. A "model of size N"
learns the first ``N`` directions; the rest, ``tail_N = sum_{i>N} i^-b``, is a loss it can never
remove. Mini-batch SGD with batch ``B`` and learning rate ``eta_B = eta0 / (1 + 2 tr(Sigma_N)/B)``
is followed *in expectation*, exactly for Gaussian data
(:func:`sgd_loss_trajectory`):

    e_i <- (1 - eta lambda_i)^2 e_i + (eta^2 / B) (lambda_i^2 e_i + lambda_i (sum_j lambda_j e_j + tail_N)),
    L = sum_{i<=N} lambda_i e_i + tail_N,

with ``e_i`` the expected squared error of weight ``i``. The recipe (:func:`fit_constants`):
(1) converged losses of ``N = 16 ... 256`` give ``alpha_N, N_c``; (2) steps to reach four target
losses at nine batch sizes give ``S_min, E_min`` per target (:func:`fit_critical_batch`) and
``B_*, alpha_B``; (3) the early part of a large-batch curve gives ``S_c, alpha_S``; (4)
:func:`predict_trajectory` solves the implicit equation for ``L(S)`` at any ``N`` and ``B``.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from ..cache import cached
from .. import plotting
from .._validate import check_array, check_int, check_real
from ..widgets import FloatSlider, LogSlider
from .common import fit_power_law

__all__ = ["A", "B_EXP", "ETA0", "learning_rate", "tail_loss", "sgd_loss_trajectory",
           "steps_to_loss", "fit_power_law", "fit_critical_batch", "Constants", "fit_constants",
           "predict_trajectory", "Experiment", "experiment", "draw", "SLIDERS"]

#: Spectrum exponent ``a`` (``lambda_i = i^-a``) and target exponent ``b`` (``lambda_i w*_i^2 = i^-b``).
A = 1.05
B_EXP = 1.3
#: Base learning rate ``eta0`` of the rule ``eta_B = eta0 / (1 + 2 tr(Sigma_N) / B)``.
ETA0 = 1.0
#: Largest model size the module simulates (one float per learned direction).
N_MAX = 1 << 15
#: Number of directions kept for the infinite sum ``sum_i i^-b`` (the rest by an integral).
_TAIL_TERMS = 1 << 20


def _check_ab(a, b) -> tuple[float, float]:
    a = check_real("a", a, 1.0, 4.0, lo_open=True)
    b = check_real("b", b, 1.0, 4.0, lo_open=True)
    return a, b


def learning_rate(N: int, B: float, a: float = A, eta0: float = ETA0) -> float:
    """``eta_B = eta0 / (1 + 2 tr(Sigma_N) / B)`` with ``tr(Sigma_N) = sum_{i<=N} i^-a``.

    The rule keeps SGD stable at every batch size (the gradient noise of a batch grows with the
    trace) and approaches ``eta0`` for ``B >> tr(Sigma_N)``. Needs ``a > 1`` (the chapter's
    substrate; the trace of the full spectrum diverges for ``a <= 1``).
    """
    N = check_int("N", N, 1, N_MAX)
    B = check_real("B", B, 1.0)
    a = check_real("a", a, 1.0, 4.0, lo_open=True)
    eta0 = check_real("eta0", eta0, 0.0, 1.0, lo_open=True)
    tr = float(np.sum(np.arange(1, N + 1, dtype=float) ** -a))
    return eta0 / (1.0 + 2.0 * tr / B)


@cached(maxsize=16)
def _zeta(b: float) -> float:
    """``sum_{i >= 1} i^-b``: 2^20 terms explicitly, the rest by the Euler-Maclaurin integral."""
    M = _TAIL_TERMS
    i = np.arange(1, M + 1, dtype=float)
    return float(np.sum(i[::-1] ** -b) + M ** (1.0 - b) / (b - 1.0) - 0.5 * M ** -b)


def tail_loss(N: int, b: float = B_EXP) -> float:
    """``tail_N = sum_{i > N} i^-b``: the loss a size-``N`` model can never remove.

    This is the exact converged loss at ``B -> infinity`` and ``S -> infinity``, the quantity the
    Kaplan form ``(N_c / N)^alpha_N`` models; for large ``N`` it is about ``N^(1-b) / (b - 1)``.
    """
    N = check_int("N", N, 0, N_MAX)
    b = check_real("b", b, 1.0, 4.0, lo_open=True)
    head = float(np.sum(np.arange(N, 0, -1, dtype=float) ** -b)) if N else 0.0
    return _zeta(round(b, 12)) - head


def sgd_loss_trajectory(N: int, B: float, steps: int, a: float = A, b: float = B_EXP,
                        eta0: float = ETA0, *, block: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Expected loss of mini-batch SGD on the substrate, ``(S, L)`` with ``L[k]`` after ``S[k]`` steps.

    Implements the exact second-moment recursion for Gaussian data (chapter
    ``scaling-law-estimation``, Eq. (5)): with ``c = eta^2 / B`` and ``v = sum_j lambda_j e_j``,

        e_i <- [(1 - eta lambda_i)^2 + c lambda_i^2] e_i + c lambda_i (v + tail_N),

    starting from ``w = 0`` (``e_i = w*_i^2 = i^(a-b)``); ``L = v + tail_N``. The learning rate
    is :func:`learning_rate`. ``block = 0`` advances step by step and records every step. With
    ``block > 0`` the recursion is advanced in blocks of ``max(1, floor(block * S))`` steps during
    which ``v`` is held fixed, and solved in closed form within the block (a geometric sum); the
    relative change of ``v`` inside a block is then of order ``block``, and the loss is recorded
    at the end of each block. The tests check ``block = 0.01`` against the exact recursion.
    """
    a, b = _check_ab(a, b)
    N = check_int("N", N, 1, N_MAX)
    B = check_real("B", B, 1.0)
    steps = check_int("steps", steps, 10)
    block = check_real("block", block, 0.0, 0.5)
    eta = learning_rate(N, B, a, eta0)
    lam = np.arange(1, N + 1, dtype=float) ** -a
    e = np.arange(1, N + 1, dtype=float) ** (a - b)
    tail = tail_loss(N, b)
    c = eta * eta / B
    rho = (1.0 - eta * lam) ** 2 + c * lam * lam
    drive = c * lam
    if block == 0.0:
        L = np.empty(steps + 1)
        L[0] = lam @ e + tail
        for t in range(steps):
            e = rho * e + drive * (L[t])
            L[t + 1] = lam @ e + tail
        return np.arange(steps + 1, dtype=float), L
    log_rho = np.log(rho)
    one_minus = -np.expm1(log_rho)                    # 1 - rho, accurate when rho ~ 1
    S_rec, L_rec = [0.0], [float(lam @ e + tail)]
    t = 0
    while t < steps:
        k = min(max(1, int(block * t)), steps - t)
        rk = np.exp(k * log_rho)
        geo = np.where(one_minus > 1e-14, -np.expm1(k * log_rho) / np.maximum(one_minus, 1e-300), k)
        e = rk * e + drive * L_rec[-1] * geo
        t += k
        S_rec.append(float(t))
        L_rec.append(float(lam @ e + tail))
    return np.asarray(S_rec), np.asarray(L_rec)


def steps_to_loss(S, L, target: float) -> float:
    """First step count at which the recorded curve reaches ``target`` (log-linear interpolation).

    Returns ``inf`` if the curve never gets there.
    """
    Sa = check_array("S", S, ndim=1)
    La = check_array("L", L, ndim=1, shape=(Sa.size,))
    target = check_real("target", target, 0.0, lo_open=True)
    hit = np.flatnonzero(La <= target)
    if hit.size == 0:
        return float("inf")
    k = int(hit[0])
    if k == 0:
        return float(Sa[0])
    l0, l1 = math.log(La[k - 1]), math.log(La[k])
    w = (l0 - math.log(target)) / (l0 - l1) if l0 != l1 else 1.0
    return float(Sa[k - 1] + w * (Sa[k] - Sa[k - 1]))


def fit_critical_batch(S_list, E_list) -> tuple[float, float]:
    """Fit ``(S / S_min - 1)(E / E_min - 1) = 1`` to pairs of steps and examples; ``(S_min, E_min)``.

    With ``E = B S`` the hyperbola of McCandlish et al. (2018) is ``S = S_min + E_min / B``: a
    straight line in ``1 / B``. It is fitted by least squares on relative residuals (weights
    ``1 / S``), so small and large batches count alike. ``B_crit = E_min / S_min``.
    """
    S = check_array("S_list", S_list, ndim=1)
    E = check_array("E_list", E_list, ndim=1, shape=(S.size,))
    if S.size < 2:
        raise ValueError("fit_critical_batch needs at least two (S, E) pairs")
    if np.any(S <= 0) or np.any(E <= 0):
        raise ValueError("S_list and E_list must be positive (steps and examples to reach a loss)")
    invB = S / E
    X = np.stack([np.ones_like(S), invB], axis=1) / S[:, None]
    coef, *_ = np.linalg.lstsq(X, np.ones_like(S), rcond=None)
    S_min, E_min = float(coef[0]), float(coef[1])
    if S_min <= 0 or E_min <= 0:
        raise ValueError(f"the (S, E) pairs do not follow the hyperbola (fit gave S_min = {S_min:.3g}, "
                         f"E_min = {E_min:.3g}); use more batch sizes on both sides of B_crit")
    return S_min, E_min


# --------------------------------------------------------------------------- the recipe

@dataclass(frozen=True)
class Constants:
    """Fitted constants of the Kaplan forms (see the module docstring) and the data behind them."""

    alpha_N: float
    N_c: float
    B_star: float
    alpha_B: float
    S_c: float
    alpha_S: float
    a: float
    b: float
    sizes: tuple[int, ...]
    converged: tuple[float, ...]
    targets: tuple[float, ...]
    batches: tuple[int, ...]
    steps: dict[float, tuple[float, ...]]
    S_min: tuple[float, ...]
    E_min: tuple[float, ...]
    fit_N: int
    fit_B: int

    def L_N(self, N: float) -> float:
        """``(N_c / N)^alpha_N``, the predicted converged loss."""
        return float((self.N_c / N) ** self.alpha_N)

    def B_crit(self, L) -> np.ndarray:
        """``B_* / L^(1/alpha_B)``, the predicted critical batch size at loss ``L``."""
        return self.B_star / np.asarray(L, dtype=float) ** (1.0 / self.alpha_B)


def fit_constants(a: float = A, b: float = B_EXP, eta0: float = ETA0,
                  sizes: Sequence[int] = (16, 32, 64, 128, 256),
                  targets: Sequence[float] = (2.0, 1.6, 1.3, 1.1),
                  batches: Sequence[int] = (1, 2, 4, 8, 16, 32, 64, 128, 256),
                  large_B: int = 1 << 14) -> Constants:
    """Su et al.'s recipe on the substrate, from small runs only (chapter ``scaling-law-estimation``).

    1. ``L(N)``: train each size in ``sizes`` at batch ``large_B`` until the loss stops changing
       (relative change below 1e-7 over a block) and fit ``L = (N_c / N)^alpha_N`` in log space.
    2. ``B_crit(L)``: for the largest size and every batch in ``batches``, record the steps ``S``
       to reach each loss in ``targets`` and ``E = B S``; fit ``S_min, E_min`` per target
       (:func:`fit_critical_batch`), then ``B_crit = E_min / S_min = B_* / L^(1/alpha_B)``.
    3. ``S_c, alpha_S``: on the largest size's curve at the largest batch, convert steps to
       ``S_min = S / (1 + B_crit(L) / B)`` and fit ``L - (N_c / N)^alpha_N = (S_c / S_min)^alpha_S``
       on the unsaturated part: from step 2 on (the first step is a transient of the largest
       directions) while the loss is still at least twice its fitted floor, ``L >= 2 L_N``.
    """
    a, b = _check_ab(a, b)
    sizes = tuple(check_int("sizes", n, 2, 4096) for n in sizes)
    targets = tuple(check_real("targets", t, 0.0, lo_open=True) for t in targets)
    batches = tuple(check_int("batches", B, 1) for B in batches)
    if len(sizes) < 2 or len(batches) < 2 or len(targets) < 2:
        raise ValueError("fit_constants needs at least two sizes, two batches and two targets")
    # (1) converged losses
    conv = []
    for n in sizes:
        S, L = sgd_loss_trajectory(n, large_B, 200 * int(n ** a) + 1000, a, b, eta0, block=0.02)
        conv.append(float(L[-1]))
    k_N, e_N = fit_power_law(sizes, conv)
    alpha_N = -e_N
    N_c = k_N ** (1.0 / alpha_N)
    # (2) critical batch size
    N = sizes[-1]
    steps: dict[float, list[float]] = {t: [] for t in targets}
    curves = {}
    for B in batches:
        horizon = int(50 * N ** a / learning_rate(N, B, a, eta0)) + 100
        S, L = sgd_loss_trajectory(N, B, horizon, a, b, eta0, block=0.005)
        curves[B] = (S, L)
        for t in targets:
            steps[t].append(steps_to_loss(S, L, t))
    for t in targets:
        if not np.all(np.isfinite(steps[t])):
            raise ValueError(f"target loss {t} is not reached at every batch size by a size-{N} "
                             f"model; choose targets above its converged loss {conv[-1]:.3g}")
    Bs = np.asarray(batches, dtype=float)
    fits = [fit_critical_batch(np.asarray(steps[t]), Bs * np.asarray(steps[t])) for t in targets]
    S_min = tuple(f[0] for f in fits)
    E_min = tuple(f[1] for f in fits)
    B_crit = np.asarray(E_min) / np.asarray(S_min)
    B_star, e_B = fit_power_law(targets, B_crit)
    alpha_B = -1.0 / e_B
    # (3) the step term, on the largest batch's curve
    S, L = curves[batches[-1]]
    L_inf = (N_c / N) ** alpha_N
    rem = L - L_inf
    keep = (S >= 2) & (rem >= L_inf)
    if np.count_nonzero(keep) < 3:
        raise ValueError("too few unsaturated points to fit the step term; run longer or use a "
                         "larger model")
    Bc = B_star / L[keep] ** (1.0 / alpha_B)
    Smin_curve = S[keep] / (1.0 + Bc / batches[-1])
    k_S, e_S = fit_power_law(Smin_curve, rem[keep])
    alpha_S = -e_S
    S_c = k_S ** (1.0 / alpha_S)
    return Constants(alpha_N=alpha_N, N_c=N_c, B_star=B_star, alpha_B=alpha_B, S_c=S_c,
                     alpha_S=alpha_S, a=a, b=b, sizes=sizes, converged=tuple(conv),
                     targets=targets, batches=batches,
                     steps={t: tuple(v) for t, v in steps.items()}, S_min=S_min, E_min=E_min,
                     fit_N=N, fit_B=batches[-1])


def predict_trajectory(consts: Constants, N: float, B: float, steps) -> np.ndarray:
    """Predicted loss after ``steps`` steps of a size-``N`` model at batch ``B``.

    Solves ``L = (N_c / N)^alpha_N + (S_c / S_min)^alpha_S`` with
    ``S_min = S / (1 + B_crit(L) / B)`` and ``B_crit(L) = B_* / L^(1/alpha_B)``, which is implicit
    in ``L``, by damped fixed-point iteration (chapter ``scaling-law-estimation``, step 4).
    """
    if not isinstance(consts, Constants):
        raise ValueError(f"consts must be the Constants returned by fit_constants, got {type(consts).__name__}")
    N = check_real("N", N, 1.0)
    B = check_real("B", B, 1.0)
    S = check_array("steps", steps, ndim=1)
    if np.any(S <= 0):
        raise ValueError("steps must be positive step counts")
    L_inf = consts.L_N(N)
    L = L_inf + (consts.S_c / S) ** consts.alpha_S
    for _ in range(200):
        Smin = S / (1.0 + consts.B_crit(L) / B)
        new = L_inf + (consts.S_c / Smin) ** consts.alpha_S
        if np.max(np.abs(new - L) / L) < 1e-10:
            L = new
            break
        L = 0.5 * L + 0.5 * new
    return L


# --------------------------------------------------------------------------- the experiment

@dataclass(frozen=True)
class Experiment:
    """Constants fitted on small runs and their test on a large one (see :func:`experiment`)."""

    consts: Constants
    big_N: int
    big_batches: tuple[int, ...]
    true_converged: float
    pred_converged: float
    true_curves: dict[int, tuple[np.ndarray, np.ndarray]]
    pred_curves: dict[int, np.ndarray]

    def summary(self) -> dict[str, float]:
        """The chapter's checked numbers."""
        c = self.consts
        B_crit = np.asarray(c.E_min) / np.asarray(c.S_min)
        out = {"alpha_N": c.alpha_N, "alpha_N_analytic": c.b - 1.0,
               "pred_converged": self.pred_converged, "true_converged": self.true_converged,
               "converged_rel_error": abs(self.pred_converged / self.true_converged - 1.0)}
        for t, bc in zip(c.targets, B_crit):
            out[f"B_crit_at_L_{t:g}"] = float(bc)
        for B in self.big_batches:
            S, L = self.true_curves[B]
            out[f"trajectory_max_rel_error_B{B}"] = float(np.max(np.abs(self.pred_curves[B] / L - 1.0)))
        return out


@cached(maxsize=8)
def experiment(a: float = A, b: float = B_EXP, big_N: int = 4096,
               big_batches: tuple[int, ...] = (8, 32), big_steps: int = 20000,
               targets: tuple[float, ...] = (2.0, 1.6, 1.3, 1.1),
               batches: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128, 256)) -> Experiment:
    """Fit the constants on ``N <= 256`` (:func:`fit_constants`) and test them on ``big_N``.

    The true converged loss of ``big_N`` is ``tail_loss(big_N)`` (the exact ``B, S -> infinity``
    limit); the true trajectories are :func:`sgd_loss_trajectory` at each batch in
    ``big_batches`` (blocks of 1 %); the predictions are :func:`predict_trajectory` at the same
    steps. ``targets`` and ``batches`` go to :func:`fit_constants`. Cached: the chapter's one
    heavy step.
    """
    consts = fit_constants(a, b, targets=targets, batches=batches)
    big_N = check_int("big_N", big_N, 2, N_MAX)
    true, pred = {}, {}
    for B in big_batches:
        S, L = sgd_loss_trajectory(big_N, B, big_steps, a, b, block=0.01)
        S, L = S[1:], L[1:]
        true[B] = (S, L)
        pred[B] = predict_trajectory(consts, big_N, B, S)
    return Experiment(consts=consts, big_N=big_N, big_batches=tuple(big_batches),
                      true_converged=tail_loss(big_N, b), pred_converged=consts.L_N(big_N),
                      true_curves=true, pred_curves=pred)


# --------------------------------------------------------------------------- interactive figure

_A_GRID = (1.05, 1.1, 1.2, 1.3, 1.4, 1.5)
_STEPS = 8000


@cached(maxsize=len(_A_GRID))
def _consts(a: float) -> Constants:
    return fit_constants(a, B_EXP)


@cached(maxsize=1)
def _all_consts() -> None:
    """Fit the constants for every spectrum exponent of the slider at the first redraw."""
    for a in _A_GRID:
        _consts(a)


def _snap_a(a: float) -> float:
    return min(_A_GRID, key=lambda g: abs(g - a))


def draw(N: float = 4096, B: float = 32, a: float = A) -> Figure:
    """The chapter's interactive figure (chapter ``scaling-law-estimation``, section Explore).

    Left: the true expected-loss curve of a size-``N`` model at batch ``B`` (exact recursion in
    blocks of 1 %) against the prediction from constants fitted on ``N <= 256`` at the same
    spectrum exponent ``a`` (snapped to the nearest of 1.05, 1.1, 1.2, 1.3, 1.4, 1.5). Right: the
    relative error of the prediction along the curve.
    """
    N = int(round(check_real("N", N, 2, N_MAX)))
    B = float(round(check_real("B", B, 1.0, 1 << 16)))
    a = _snap_a(check_real("a", a, 1.0, 4.0, lo_open=True))
    _all_consts()
    c = _consts(a)
    S, L = sgd_loss_trajectory(N, B, _STEPS, a, B_EXP, block=0.02)
    S, L = S[1:], L[1:]
    P = predict_trajectory(c, N, B, S)
    floor = tail_loss(N, B_EXP)
    blue, orange, grey = plotting.PALETTE[0], plotting.PALETTE[1], "#8a8a8a"
    fig, (ax0, ax1) = plotting.figure(2, width=9.0, height=3.6, layout="fixed")
    ax0.plot(S, L, color=blue, lw=2.2)
    ax0.plot(S, P, "--", color=orange, lw=1.8)
    ax0.axhline(floor, color=grey, lw=1, ls=":")
    ax0.set(xscale="log", yscale="log", xlim=(1, _STEPS), ylim=(0.1, 5.0))
    ax0.set_xticks([1, 10, 100, 1000], ["1", "10", "100", "1000"])
    ax0.set_yticks([0.1, 0.3, 1, 3], ["0.1", "0.3", "1", "3"])
    ax0.minorticks_off()
    plotting.key(ax0, [("true expected loss", blue), ("predicted from N ≤ 256", orange),
                       ("true floor tail_N", grey)], x=0.03, y=0.3)
    plotting.labels(ax0, "SGD steps S", "loss L", f"N = {N}, B = {B:g}, a = {a:g}")
    err = P / L - 1.0
    ax1.plot(S, 100 * err, color=orange, lw=1.8)
    ax1.axhline(0.0, color=grey, lw=1)
    ax1.set(xscale="log", xlim=(1, _STEPS), ylim=(-60, 60))
    ax1.set_xticks([1, 10, 100, 1000], ["1", "10", "100", "1000"])
    ax1.set_yticks([-50, -25, 0, 25, 50])
    ax1.minorticks_off()
    plotting.labels(ax1, "SGD steps S", "prediction error (%)",
                    f"converged: predicted {c.L_N(N):.3f}, true {floor:.3f}")
    return fig


#: Slider box of :func:`draw`; the first entry (N) is the website scrubber's parameter.
SLIDERS = {
    "N": LogSlider(512, 8192, default=4096, label="model size N"),
    "B": LogSlider(1, 1024, default=32, label="batch size B"),
    "a": FloatSlider(1.05, 1.5, default=1.05, step=0.05, label="spectrum exponent a"),
}
