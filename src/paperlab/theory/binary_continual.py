"""Variational continual learning of a binary perceptron (Li, Huang, Zou and Huang, 2023).

Explained in chapter ``variational-continual-binary`` ("Statistical mechanics of continual
learning: variational principle and mean-field potential", C. Li, Z. Huang, W. Zou and
H. Huang, Phys. Rev. E 108, 014309 (2023), arXiv:2212.02846).

Notation (as in the chapter). A student perceptron has binary weights ``w in {-1, +1}^N``.
Instead of the weights we train a *field* ``theta_i`` per weight, which defines the mean-field
(factorised) posterior

    q_theta(w) = prod_i (1 + m_i w_i) / 2,      m_i = tanh(theta_i)            (Eq. (1) of the chapter)

so ``m_i`` is the mean of ``w_i`` and ``1 - m_i^2`` its variance. For an input ``x in {-1,+1}^N``
the preactivation ``h = w.x / sqrt(N)`` is, under ``q``, a sum of many independent terms and
therefore Gaussian (the central limit theorem):

    h ~ N(mu, v),   mu = sum_i m_i x_i / sqrt(N),   v = sum_i (1 - m_i^2) / N.          (Eq. (2))

The probability that the sampled network outputs the label ``y`` is ``Phi(y mu / sqrt(v))``.
Training on task ``t`` minimises the variational free energy

    F(theta) = - sum_mu log Phi(y_mu mu_mu / sqrt(v))  +  beta KL(q_theta || q_prev),   (Eq. (3))

    KL = sum_i [(1+m_i)/2 log((1+m_i)/(1+m0_i)) + (1-m_i)/2 log((1-m_i)/(1-m0_i))],
    dKL/dm_i = theta_i - theta0_i,                                                     (Eq. (4))

where ``q_prev`` (fields ``theta0``) is the posterior after the previous task: it is the prior
*and* the reference of the new task (the Franz-Parisi construction of the paper). Task 1 uses
the uniform prior (``theta0 = 0``) and ``beta = 1``. The EWC-style alternative replaces the KL by
its quadratic expansion around ``theta0`` (Eq. (5)),
``(beta/2) sum_i (1 - m0_i^2) (theta_i - theta0_i)^2``. The student's binary weights are
``sign(m)``; its overlap with teacher ``T`` is ``R = sign(m).T / N`` and, for large ``N``, its
test error is ``arccos(R) / pi`` (Eq. (6)).

Teachers ``T1, T2 in {-1,+1}^N``: ``T2`` flips each sign of ``T1`` with probability
``(1 - rho)/2``, so their overlap is ``rho`` on average. Labels are ``y = sign(T.x)``.

Training (as in the official code, ``github.com/Chan-Li/VCL``): Adam on ``theta``, full batch,
with the analytic gradient; ``theta`` is clipped to ``[-10, 10]`` because the free energy keeps
pushing confident fields to infinity. Task 1 starts from ``theta ~ N(0, 1)`` (seeded), task 2 from
the task-1 fields.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from matplotlib.figure import Figure
from scipy.special import log_ndtr

from ..cache import cached
from ..threads import one_thread
from .. import plotting
from .._validate import check_array, check_choice, check_int, check_real
from ..widgets import FloatSlider, LogSlider

__all__ = ["make_teachers", "make_task", "field_moments", "kl_fields", "free_energy",
           "free_energy_grad", "train_fields", "overlap", "test_error", "predicted_error",
           "ContinualRun", "continual_run", "experiment", "draw", "SLIDERS", "CLIP", "PENALTIES"]

#: Fields are clipped to ``[-CLIP, CLIP]`` (``tanh(10) = 1 - 4e-9``).
CLIP = 10.0
#: The two ways to keep task 2 near task 1: the exact KL of Eq. (4), or its quadratic (EWC) form.
PENALTIES = ("kl", "ewc")


# --------------------------------------------------------------------------- teachers and data

def _pm1_sign(z: np.ndarray) -> np.ndarray:
    """``sign`` with ties sent to +1 (a tie needs an even number of +-1 terms)."""
    return np.where(z >= 0, 1.0, -1.0)


def make_teachers(N: int, rho: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two teachers ``T1, T2 in {-1,+1}^N`` with ``E[T1.T2 / N] = rho``.

    ``T1`` is uniform; each sign of ``T2 = T1`` is flipped independently with probability
    ``(1 - rho) / 2`` (the construction of the official code). ``rho = 1``: the same task;
    ``rho = 0``: unrelated tasks; ``rho = -1``: opposite tasks.
    """
    N = check_int("N", N, 2)
    rho = check_real("rho", rho, -1.0, 1.0)
    rng = np.random.default_rng(check_int("seed", seed, 0))
    T1 = rng.choice((-1.0, 1.0), size=N)
    flip = rng.random(N) < (1.0 - rho) / 2.0
    return T1, np.where(flip, -T1, T1)


def _teacher(name: str, T) -> np.ndarray:
    T = check_array(name, T, ndim=1)
    if T.size < 2 or not np.all(np.isin(T, (-1.0, 1.0))):
        raise ValueError(f"{name} must be a vector of at least 2 entries, each +1 or -1")
    return T


def make_task(T, P: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``P`` examples of teacher ``T``: inputs ``X in {-1,+1}^{P x N}`` and labels ``sign(X T)``."""
    T = _teacher("T", T)
    P = check_int("P", P, 1)
    rng = np.random.default_rng(check_int("seed", seed, 0))
    X = rng.choice((-1.0, 1.0), size=(P, T.size))
    return X, _pm1_sign(X @ T)


def _data(X, y) -> tuple[np.ndarray, np.ndarray]:
    X = check_array("X", X, ndim=2)
    if X.shape[1] < 2 or not np.all(np.isin(X, (-1.0, 1.0))):
        raise ValueError("X must be a matrix of +1/-1 inputs with at least 2 columns (N >= 2)")
    y = check_array("y", y, ndim=1)
    if y.size != X.shape[0] or not np.all(np.isin(y, (-1.0, 1.0))):
        raise ValueError(f"y must hold {X.shape[0]} labels, each +1 or -1")
    return X, y


def _fields(name: str, theta, N: int) -> np.ndarray:
    th = check_array(name, theta)
    if th.shape[-1] != N or th.ndim > 2:
        raise ValueError(f"{name} must have {N} entries (one field per weight), got shape {th.shape}")
    return th


# --------------------------------------------------------------------------- the free energy

def field_moments(X, m) -> tuple[np.ndarray, float]:
    """Mean and variance of the preactivation ``h = w.x / sqrt(N)`` under ``q`` (Eq. (2)).

    Returns ``(mu, v)`` with ``mu`` one entry per row of ``X``. For +-1 inputs the variance
    ``sum_i (1 - m_i^2) x_i^2 / N`` is the same for every input.
    """
    X = check_array("X", X, ndim=2)
    m = check_array("m", m, ndim=1)
    if m.size != X.shape[1] or np.any(np.abs(m) > 1):
        raise ValueError(f"m must hold {X.shape[1]} magnetisations in [-1, 1]")
    N = X.shape[1]
    return X @ m / math.sqrt(N), float(np.sum((1.0 - m * m) * np.mean(X * X, 0)) / N)


def kl_fields(theta, theta_prev) -> float:
    """``KL(q_theta || q_prev)`` of two factorised binary laws (Eq. (4)), computed stably.

    In fields, ``KL_i = log cosh(t0_i) - log cosh(t_i) + (t_i - t0_i) tanh(t_i)``, which equals
    the expression with ``m = tanh(theta)`` and does not lose digits when ``|m| -> 1``.
    """
    t = check_array("theta", theta, ndim=1)
    t0 = check_array("theta_prev", theta_prev, shape=t.shape)
    return float(np.sum(_logcosh(t0) - _logcosh(t) + (t - t0) * np.tanh(t)))


def _logcosh(t: np.ndarray) -> np.ndarray:
    a = np.abs(t)
    return a + np.log1p(np.exp(-2.0 * a)) - math.log(2.0)


def free_energy(theta, X, y, theta_prev=None, beta: float = 1.0, penalty: str = "kl") -> float:
    """The objective of Eq. (3): minus the log-likelihood of the labels plus the weighted penalty.

    ``theta_prev=None`` is the uniform prior (``theta0 = 0``). ``penalty="kl"`` is the exact
    KL of Eq. (4); ``"ewc"`` its quadratic expansion (Eq. (5)).
    """
    X, y = _data(X, y)
    t = _fields("theta", theta, X.shape[1])
    t0 = np.zeros_like(t) if theta_prev is None else _fields("theta_prev", theta_prev, X.shape[1])
    beta = check_real("beta", beta, 0.0)
    penalty = check_choice("penalty", penalty, PENALTIES)
    m = np.tanh(t)
    mu, v = field_moments(X, m)
    data = -float(np.sum(log_ndtr(y * mu / math.sqrt(max(v, 1e-300)))))
    if penalty == "kl":
        pen = kl_fields(t, t0)
    else:
        pen = 0.5 * float(np.sum((1.0 - np.tanh(t0) ** 2) * (t - t0) ** 2))
    return data + beta * pen


def _grad(theta: np.ndarray, X: np.ndarray, y: np.ndarray, theta_prev: np.ndarray,
          betas: np.ndarray, ewc: np.ndarray) -> np.ndarray:
    """Gradient of Eq. (3) for a batch of field vectors ``theta`` (shape ``(N, B)``), no checks.

    With ``u = y mu / sqrt(v)`` and ``r = phi(u) / Phi(u)``:
    ``dF/dm = -X^T (r y) / (sqrt(N v)) - (sum r u) m / (N v)``, then ``dF/dtheta = dF/dm (1 - m^2)``.
    KL term: ``beta (theta - theta0) (1 - m^2)``; EWC term: ``beta (theta - theta0) (1 - m0^2)``.
    """
    P, N = X.shape
    m = np.tanh(theta)
    s2 = 1.0 - m * m
    v = np.maximum(s2.sum(0) / N, 1e-12)                  # (B,)
    sd = np.sqrt(v)
    mu = X @ m / math.sqrt(N)                             # (P, B)
    u = y[:, None] * mu / sd
    r = np.exp(-0.5 * u * u - 0.5 * math.log(2.0 * math.pi) - log_ndtr(u))
    gm = -(X.T @ (r * y[:, None])) / (math.sqrt(N) * sd) - (r * u).sum(0) * m / (N * v)
    diff = theta - theta_prev[:, None]
    w = np.where(ewc[None, :], (1.0 - np.tanh(theta_prev) ** 2)[:, None], s2)
    return gm * s2 + betas[None, :] * diff * w


def free_energy_grad(theta, X, y, theta_prev=None, beta: float = 1.0, penalty: str = "kl") -> np.ndarray:
    """The gradient of :func:`free_energy` with respect to the fields ``theta``."""
    X, y = _data(X, y)
    t = _fields("theta", theta, X.shape[1])
    t0 = np.zeros_like(t) if theta_prev is None else _fields("theta_prev", theta_prev, X.shape[1])
    beta = check_real("beta", beta, 0.0)
    penalty = check_choice("penalty", penalty, PENALTIES)
    return _grad(t[:, None], X, y, t0, np.array([beta]), np.array([penalty == "ewc"]))[:, 0]


def train_fields(X, y, theta_prev=None, beta=1.0, steps: int = 600, lr: float = 0.05,
                 seed: int = 0, *, penalty: str = "kl", init=None) -> np.ndarray:
    """Minimise the free energy (3) over the fields with full-batch Adam (the official optimiser).

    ``theta_prev=None`` means the uniform prior (task 1). The start is ``init`` if given, else
    ``theta_prev`` (continual learning resumes from the previous fields), else ``N(0, 1)``
    fields drawn with ``seed``. ``beta`` may be a number (returns ``theta`` of shape ``(N,)``)
    or a sequence of weights trained side by side (returns shape ``(len(beta), N)``); ``penalty``
    may then also be a sequence of the same length. Fields are clipped to ``[-10, 10]``
    after every step.
    """
    X, y = _data(X, y)
    P, N = X.shape
    t0 = np.zeros(N) if theta_prev is None else _fields("theta_prev", theta_prev, N)
    if not np.all(np.abs(t0) <= CLIP):
        raise ValueError(f"theta_prev must lie in [-{CLIP:g}, {CLIP:g}]")
    scalar = np.ndim(beta) == 0
    betas = np.atleast_1d(np.asarray(beta, dtype=object))
    betas = np.array([check_real("beta", b, 0.0) for b in betas])
    pens = [penalty] * betas.size if isinstance(penalty, str) else list(penalty)
    if len(pens) != betas.size:
        raise ValueError(f"penalty must be one name or one per beta ({betas.size}), got {len(pens)}")
    ewc = np.array([check_choice("penalty", p, PENALTIES) == "ewc" for p in pens])
    steps = check_int("steps", steps, 1)
    lr = check_real("lr", lr, 0.0, lo_open=True)
    seed = check_int("seed", seed, 0)
    if init is not None:
        start = _fields("init", init, N)
    elif theta_prev is not None:
        start = t0
    else:
        start = np.random.default_rng(seed).standard_normal(N)
    theta = np.repeat(np.asarray(start, dtype=float).reshape(N, 1), betas.size, axis=1)
    m1 = np.zeros_like(theta)
    m2 = np.zeros_like(theta)
    b1, b2 = 0.9, 0.999
    # One BLAS thread: these products are small, and on a loaded two-core machine a threaded
    # BLAS makes them up to twenty times slower.
    with one_thread():
        for k in range(1, steps + 1):
            g = _grad(theta, X, y, t0, betas, ewc)
            m1 = b1 * m1 + (1 - b1) * g
            m2 = b2 * m2 + (1 - b2) * g * g
            theta -= lr * (m1 / (1 - b1 ** k)) / (np.sqrt(m2 / (1 - b2 ** k)) + 1e-8)
            np.clip(theta, -CLIP, CLIP, out=theta)
    return theta[:, 0].copy() if scalar else theta.T.copy()


# --------------------------------------------------------------------------- order parameters

def overlap(m, T) -> float:
    """Teacher-student overlap ``R = sign(m).T / N`` of the student's binary weights (ties -> +1)."""
    T = _teacher("T", T)
    m = check_array("m", m, shape=T.shape)
    return float(_pm1_sign(m) @ T / T.size)


def predicted_error(R) -> np.ndarray | float:
    """Generalization error of a student with overlap ``R``: ``arccos(R) / pi`` (Eq. (6))."""
    R = check_array("R", R)
    if np.any(np.abs(R) > 1):
        raise ValueError("R must lie in [-1, 1] (an overlap of two +-1 vectors)")
    out = np.arccos(R) / math.pi
    return float(out) if out.ndim == 0 else out


def test_error(m, T, n_test: int = 4000, seed: int = 0) -> float:
    """Fraction of ``n_test`` fresh +-1 inputs on which ``sign(m)`` and teacher ``T`` disagree.

    The inputs depend only on ``(N, n_test, seed)`` and are drawn once and cached, so students
    compared at the same seed see the same test set.
    """
    T = _teacher("T", T)
    m = check_array("m", m, shape=T.shape)
    return float(_errors(m[None, :], T, check_int("n_test", n_test, 1), check_int("seed", seed, 0))[0])


@cached(maxsize=8)
def _test_inputs(N: int, n_test: int, seed: int) -> np.ndarray:
    X = np.random.default_rng(seed).integers(0, 2, size=(n_test, N)).astype(float) * 2.0 - 1.0
    X.flags.writeable = False
    return X


def _errors(M: np.ndarray, T: np.ndarray, n_test: int, seed: int) -> np.ndarray:
    """Test errors of the students ``sign(M[k])`` (one per row) against teacher ``T``."""
    X = _test_inputs(T.size, n_test, seed)
    with one_thread():
        out = _pm1_sign(X @ _pm1_sign(M).T) != _pm1_sign(X @ T)[:, None]
    return out.mean(0)


# --------------------------------------------------------------------------- the experiment

@dataclass(frozen=True)
class ContinualRun:
    """One teacher pair learned in sequence, with task 2 trained once per (beta, penalty).

    ``err1_task1`` and ``R1_task1`` describe the student after task 1. The arrays
    ``err1``, ``err2`` (measured test errors on task 1 and task 2 after task 2), ``R1``, ``R2``
    (overlaps) and ``uncertainty`` (mean ``1 - m^2``) have one entry per ``betas`` entry and
    per penalty, keyed by penalty name.
    """

    N: int
    alpha: float
    rho: float
    seed: int
    betas: tuple
    err1_task1: float
    R1_task1: float
    uncertainty_task1: float
    err1: dict = field(default_factory=dict)
    err2: dict = field(default_factory=dict)
    R1: dict = field(default_factory=dict)
    R2: dict = field(default_factory=dict)
    uncertainty: dict = field(default_factory=dict)
    theta1: np.ndarray | None = None
    theta2: dict = field(default_factory=dict)
    T1: np.ndarray | None = None
    T2: np.ndarray | None = None

    def max_theory_gap(self) -> float:
        """Largest ``|measured test error - arccos(R)/pi|`` over every student of the run."""
        gaps = [abs(self.err1_task1 - predicted_error(self.R1_task1))]
        for p in self.err1:
            gaps += list(np.abs(self.err1[p] - predicted_error(self.R1[p])))
            gaps += list(np.abs(self.err2[p] - predicted_error(self.R2[p])))
        return float(max(gaps))


def continual_run(N: int = 401, alpha: float = 2.0, rho: float = 0.5,
                  betas=(0.0, 0.3, 1.0, 3.0, 10.0, 30.0), penalties=PENALTIES, steps: int = 600,
                  lr: float = 0.05, seed: int = 0, n_test: int = 4000) -> ContinualRun:
    """Learn task 1 (uniform prior, ``beta = 1``), then task 2 from the task-1 fields.

    ``P = round(alpha N)`` examples per task. Seeds: teachers ``seed``, task-1 data ``seed + 1``,
    task-2 data ``seed + 2``, initial fields ``seed``, test inputs ``seed + 3`` (task 1) and
    ``seed + 4`` (task 2).
    """
    N = check_int("N", N, 2)
    alpha = check_real("alpha", alpha, 0.0, lo_open=True)
    rho = check_real("rho", rho, -1.0, 1.0)
    seed = check_int("seed", seed, 0)
    betas = tuple(check_real("beta", b, 0.0) for b in betas)
    penalties = tuple(check_choice("penalty", p, PENALTIES) for p in penalties)
    P = max(1, int(round(alpha * N)))
    T1, T2 = make_teachers(N, rho, seed)
    X2, y2 = make_task(T2, P, seed + 2)
    th1 = _task1(N, P, steps, lr, seed)
    m1 = np.tanh(th1)
    run = ContinualRun(N=N, alpha=alpha, rho=rho, seed=seed, betas=betas,
                       err1_task1=test_error(m1, T1, n_test, seed + 3), R1_task1=overlap(m1, T1),
                       uncertainty_task1=float(np.mean(1 - m1 * m1)), theta1=th1, T1=T1, T2=T2)
    if not betas or not penalties:
        return run
    th2 = train_fields(X2, y2, th1, list(betas) * len(penalties), steps, lr, seed,
                       penalty=[p for p in penalties for _ in betas])
    for j, p in enumerate(penalties):
        block = th2[j * len(betas):(j + 1) * len(betas)]
        ms = np.tanh(block)
        run.theta2[p] = block
        run.err1[p] = _errors(ms, T1, n_test, seed + 3)
        run.err2[p] = _errors(ms, T2, n_test, seed + 4)
        run.R1[p] = np.array([overlap(m, T1) for m in ms])
        run.R2[p] = np.array([overlap(m, T2) for m in ms])
        run.uncertainty[p] = np.mean(1 - ms * ms, axis=1)
    return run


@cached(maxsize=8)
def _task1(N: int, P: int, steps: int, lr: float, seed: int) -> np.ndarray:
    """Task-1 fields (uniform prior, beta = 1); ``T1`` and its data do not depend on ``rho``."""
    T1, _ = make_teachers(N, 0.0, seed)
    X1, y1 = make_task(T1, P, seed + 1)
    th1 = train_fields(X1, y1, None, 1.0, steps, lr, seed)
    th1.flags.writeable = False
    return th1


@cached(maxsize=2)
def experiment(seed: int = 0, N: int = 401, alpha: float = 2.0,
               rhos: tuple = (0.2, 0.5, 0.8)) -> dict:
    """The chapter's experiment (cached): :func:`continual_run` for each ``rho``, both penalties."""
    return {rho: continual_run(N=N, alpha=alpha, rho=rho, seed=seed) for rho in rhos}


# --------------------------------------------------------------------------- interactive figure

_W_N = 201                      # the slider retrains at this size
_W_STEPS = 150
_W_BETAS = (0.0, 0.1, 0.3, 1.0, 3.0, 10.0)


def _round(x: float) -> float:
    return float(f"{x:.3g}")


@cached(maxsize=32)
def _w_task1(alpha: float):
    P = max(1, int(round(alpha * _W_N)))
    T1, _ = make_teachers(_W_N, 0.0, 0)          # T1 does not depend on rho (same random stream)
    X1, y1 = make_task(T1, P, 1)
    th1 = train_fields(X1, y1, None, 1.0, _W_STEPS, 0.05, 0)
    return th1, P


@cached(maxsize=64)
def _w_task2(alpha: float, rho: float):
    th1, P = _w_task1(alpha)
    T1, T2 = make_teachers(_W_N, rho, 0)
    X2, y2 = make_task(T2, P, 2)
    sweep = train_fields(X2, y2, th1, list(_W_BETAS) * 2, _W_STEPS, 0.05, 0,
                         penalty=["kl"] * len(_W_BETAS) + ["ewc"] * len(_W_BETAS))
    e1 = predicted_error(np.array([overlap(np.tanh(t), T1) for t in sweep]))
    e2 = predicted_error(np.array([overlap(np.tanh(t), T2) for t in sweep]))
    return T1, T2, X2, y2, e1, e2


@cached(maxsize=256)
def _w_point(beta: float, alpha: float, rho: float):
    th1, _ = _w_task1(alpha)
    T1, T2, X2, y2, _, _ = _w_task2(alpha, rho)
    th2 = train_fields(X2, y2, th1, beta, _W_STEPS, 0.05, 0)
    m = np.tanh(th2)
    return th2, predicted_error(overlap(m, T1)), predicted_error(overlap(m, T2))


def draw(beta: float = 1.0, rho: float = 0.5, alpha: float = 2.0) -> Figure:
    """The chapter's interactive figure (chapter ``variational-continual-binary``, Explore).

    Left: the trade-off between the task-1 and task-2 errors ``arccos(R)/pi`` after task 2, for a
    sweep of penalty weights with the KL penalty and with its quadratic (EWC) form, and the point
    for ``beta``. Right: every weight's field after task 2 against its field after task 1,
    coloured by whether the two teachers agree on that weight. ``N = 201``, 150 Adam steps.
    """
    beta = _round(check_real("beta", beta, 0.0))
    rho = _round(check_real("rho", rho, -1.0, 1.0))
    alpha = _round(check_real("alpha", alpha, 0.0, lo_open=True))
    th1, _ = _w_task1(alpha)
    T1, T2, _, _, e1, e2 = _w_task2(alpha, rho)
    th2, p1, p2 = _w_point(beta, alpha, rho)
    e_start = predicted_error(overlap(np.tanh(th1), T1))
    blue, orange, green, red, grey = (plotting.PALETTE[0], plotting.PALETTE[1], plotting.PALETTE[2],
                                      plotting.PALETTE[3], "#8a8a8a")
    k = len(_W_BETAS)

    fig, (ax0, ax1) = plotting.figure(2, width=9.0, height=3.6, layout="fixed")
    ax0.plot(e1[:k], e2[:k], "o-", color=blue, ms=4)
    ax0.plot(e1[k:], e2[k:], "s--", color=orange, ms=3, lw=1.2)
    ax0.plot([p1], [p2], "o", color=red, ms=9, mfc="none", mew=2)
    ax0.axvline(e_start, color=grey, lw=1, ls=":")
    ax0.set_xlim(-0.02, 0.55)
    ax0.set_ylim(-0.02, 0.55)
    ax0.set_xticks((0.0, 0.25, 0.5))
    ax0.set_yticks((0.0, 0.25, 0.5))
    plotting.key(ax0, [("KL, β = 0 … 10", blue), ("EWC, β = 0 … 10", orange, "■"),
                       (f"β = {beta:g}", red, "○"), ("task 1 before task 2", grey, "┆")], x=0.45, y=0.96)
    plotting.labels(ax0, "task-1 error after task 2", "task-2 error",
                    f"ρ = {rho:g}, α = {alpha:g}: errors {p1:.2f} / {p2:.2f}")

    same = T1 == T2
    ax1.scatter(th1[same], th2[same], s=6, color=blue, lw=0)
    ax1.scatter(th1[~same], th2[~same], s=6, color=red, lw=0)
    lim = float(min(CLIP, np.ceil(max(np.abs(th1).max(), np.abs(th2).max(), 1.0)))) + 0.5
    tick = float(np.floor(lim - 0.5))
    ax1.plot([-lim, lim], [-lim, lim], color=grey, lw=0.8, ls=":")
    ax1.set_xlim(-lim, lim)
    ax1.set_ylim(-lim, lim)
    ax1.set_xticks((-tick, 0, tick))
    ax1.set_yticks((-tick, 0, tick))
    plotting.key(ax1, [("teachers agree", blue), ("teachers differ", red)], x=0.04, y=0.96)
    plotting.labels(ax1, "field θ after task 1", "field θ after task 2",
                    f"uncertainty 1 − m² after task 2: {np.mean(1 - np.tanh(th2) ** 2):.2f}")
    return fig


#: Slider box of :func:`draw`; the first entry (the KL weight beta) is the website scrubber's.
SLIDERS = {
    "beta": LogSlider(0.01, 10.0, default=1.0, label="KL weight β"),
    "rho": FloatSlider(0.0, 1.0, default=0.5, step=0.05, label="teacher overlap ρ"),
    "alpha": FloatSlider(0.5, 4.0, default=2.0, step=0.25, label="examples per weight α"),
}
