"""Optimistic online mirror descent in the SEA model (Chen, Zhang, Tu, Zhao and Zhang, 2024).

Explained in chapter ``optimistic-omd-sea``.

In the *stochastically extended adversarial* (SEA) model of Sachs et al. (2022), the loss of
round ``t`` is a random function ``f_t`` drawn from a distribution ``D_t`` that an adversary may
choose; ``F_t = E f_t`` is the expected loss. Two numbers measure how hard a stream is:

* the cumulative stochastic variance ``sigma2 = sum_t max_x E ||grad f_t(x) - grad F_t(x)||^2``;
* the cumulative adversarial variation ``Sigma2 = sum_{t >= 2} sup_x ||grad F_t(x) -
  grad F_{t-1}(x)||^2``.

The paper's bound for convex and smooth expected losses: optimistic OMD with the Euclidean
regularizer (optimistic projected gradient descent), the last gradient as hint and an adaptive
step size has expected regret ``O(sqrt(sigma2) + sqrt(Sigma2))`` against any fixed point, when
every ``F_t`` is convex and smooth, even if the individual ``f_t`` are not convex. This module holds

* the two learners, :func:`oomd` and the baseline :func:`ogd` (online gradient descent with
  ``eta_t = D / (G sqrt(t))``), both on a Euclidean ball and batched over independent runs;
* the chapter's stream (:func:`sea_stream`, :class:`SEAStream`), its variation measures
  (:func:`variation`) and the regret against the best fixed point (:func:`regret`);
* the chapter's experiment (:func:`experiment`) and interactive figure (:func:`draw`,
  :data:`SLIDERS`).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

from ..cache import cached
from .. import plotting
from .._validate import check_array, check_choice, check_int, check_real
from ..data import rng
from ..widgets import Choice, FloatSlider, IntSlider

__all__ = ["project_ball", "oomd", "ogd", "SEAStream", "sea_stream", "stack_streams",
           "variation", "regret", "comparator", "Experiment", "experiment", "draw", "SLIDERS"]

GradOracle = Callable[[int, np.ndarray], np.ndarray]


# --------------------------------------------------------------------------- the learners

def project_ball(x: np.ndarray, radius: float = 1.0) -> np.ndarray:
    """Euclidean projection of each row of ``x`` (last axis) onto the ball of ``radius``.

    ``x / max(1, ||x|| / radius)``: the ``Pi`` of :func:`oomd` and :func:`ogd`. Explained in
    chapter ``optimistic-omd-sea``.
    """
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(norm / radius, 1.0)


def _call(grad_oracle: GradOracle, t: int, x: np.ndarray) -> np.ndarray:
    g = np.asarray(grad_oracle(t, x), dtype=float)
    if g.shape != x.shape:
        raise ValueError(f"grad_oracle must return an array of shape {x.shape} (the shape of x), "
                         f"got {g.shape}")
    return g


def _check_run(T, x0, radius) -> tuple[int, np.ndarray, float]:
    T = check_int("T", T, 1)
    radius = check_real("radius", radius, 0.0, lo_open=True)
    x0 = check_array("x0", x0)
    if x0.ndim not in (1, 2) or x0.shape[-1] < 1:
        raise ValueError(f"x0 must have shape (d,) or (runs, d), got {x0.shape}")
    if np.any(np.linalg.norm(x0, axis=-1) > radius * (1 + 1e-12)):
        raise ValueError(f"x0 must lie in the ball of radius {radius:g}")
    return T, x0, radius


def oomd(grad_oracle: GradOracle, T: int, x0, *, radius: float = 1.0, L: float = 1.0,
         delta: float = 1.0, return_steps: bool = False):
    """Optimistic OMD of Chen et al. (2024) with the Euclidean regularizer, on a ball.

    From ``hat x_1 = x0`` and hint ``M_1 = 0``, for ``t = 1, ..., T``:

    * play ``x_t = Pi(hat x_t - eta_t M_t)`` (a step along the hint);
    * observe ``g_t = grad f_t(x_t) = grad_oracle(t - 1, x_t)``;
    * update ``hat x_{t+1} = Pi(hat x_t - eta_t g_t)`` and the hint ``M_{t+1} = g_t``;

    with ``Pi`` the projection on the ball of ``radius`` (diameter ``D = 2 radius``) and the
    step size ``eta_t = min{1/(4L), D / sqrt(delta + sum_{s<t} ||g_s - M_s||^2)}``: it stays at
    ``1/(4L)`` while the hints are good and shrinks as their errors add up. ``x0`` of shape
    ``(runs, d)`` runs independent learners in one pass (the oracle then gets and returns
    ``(runs, d)`` arrays). Returns the decisions ``x_t``, shape ``(T,) + x0.shape``, and with
    ``return_steps`` also the steps ``eta_t``, shape ``(T,) + x0.shape[:-1]``. Explained in
    chapter ``optimistic-omd-sea``.
    """
    T, x0, radius = _check_run(T, x0, radius)
    L = check_real("L", L, 0.0, lo_open=True)
    delta = check_real("delta", delta, 0.0, lo_open=True)
    D = 2 * radius
    x_hat, hint = x0.copy(), np.zeros_like(x0)
    surprise = np.zeros(x0.shape[:-1])                 # sum_{s<t} ||g_s - M_s||^2
    xs = np.empty((T,) + x0.shape)
    etas = np.empty((T,) + x0.shape[:-1])
    for t in range(T):
        eta = np.minimum(1 / (4 * L), D / np.sqrt(delta + surprise))
        x = project_ball(x_hat - eta[..., None] * hint, radius)
        g = _call(grad_oracle, t, x)
        surprise = surprise + np.sum((g - hint) ** 2, axis=-1)
        x_hat = project_ball(x_hat - eta[..., None] * g, radius)
        hint = g
        xs[t], etas[t] = x, eta
    return (xs, etas) if return_steps else xs


def ogd(grad_oracle: GradOracle, T: int, x0, *, radius: float = 1.0, G=1.0,
        return_steps: bool = False):
    """Online gradient descent (Zinkevich, 2003), the chapter's baseline.

    ``x_{t+1} = Pi(x_t - eta_t grad f_t(x_t))`` with the textbook step ``eta_t = D / (G sqrt(t))``
    (``D = 2 radius``, ``G`` a bound on the gradient norms, a number or one per run of a batch), which gives ``O(D G sqrt(T))``
    regret on any convex stream. Same conventions as :func:`oomd`. Explained in chapter
    ``optimistic-omd-sea``.
    """
    T, x0, radius = _check_run(T, x0, radius)
    if np.ndim(G) == 0:
        G = check_real("G", G, 0.0, lo_open=True)
    else:                                  # one bound per run of a batch: shape x0.shape[:-1]
        G = check_array("G", G, shape=x0.shape[:-1])
        if np.any(G <= 0):
            raise ValueError("G must be positive (a bound on the gradient norms)")
    D = 2 * radius
    x = x0.copy()
    xs = np.empty((T,) + x0.shape)
    etas = np.empty((T,) + x0.shape[:-1])
    for t in range(T):
        eta = D / (G * math.sqrt(t + 1))
        xs[t], etas[t] = x, eta
        x = project_ball(x - np.asarray(eta)[..., None] * _call(grad_oracle, t, x), radius)
    return (xs, etas) if return_steps else xs


# --------------------------------------------------------------------------- the stream

def _phi(y: np.ndarray) -> np.ndarray:
    """``sqrt(1 + ||y||^2) - 1``, a smooth (L = 1) convex bowl that grows linearly far out."""
    return np.sqrt(1.0 + np.sum(y * y, axis=-1)) - 1.0


def _phi_grad(y: np.ndarray) -> np.ndarray:
    return y / np.sqrt(1.0 + np.sum(y * y, axis=-1, keepdims=True))


@dataclass(frozen=True, eq=False)
class SEAStream:
    """A stream of random losses ``f_t(x) = phi(x - c_t) + xi_t^T x + (zeta_t / 2) ||x||^2``.

    ``phi(y) = sqrt(1 + ||y||^2) - 1``; ``xi_t`` has independent entries ``+-sigma`` (mean 0,
    variance ``sigma^2``) and ``zeta_t = +-kappa`` (mean 0). So the expected loss is
    ``F_t(x) = phi(x - c_t)``: convex and 1-smooth, while ``f_t`` itself is not convex when
    ``zeta_t = -kappa < -1``. The centres ``c_t`` are fixed, or switch between ``c`` and ``-c``
    every ``switch_period`` rounds, which is the adversarial part. Arrays may carry a batch axis
    after the time axis (:func:`stack_streams`). Explained in chapter ``optimistic-omd-sea``.
    """

    centers: np.ndarray          # (T, d) or (T, B, d)
    xi: np.ndarray               # (T, d) or (T, B, d)
    zeta: np.ndarray             # (T,) or (T, B)
    sigma: np.ndarray            # () or (B,)
    kappa: np.ndarray            # () or (B,)
    switch_period: tuple         # one entry per run: int or None
    radius: float = 1.0

    @property
    def T(self) -> int:
        return int(self.centers.shape[0])

    @property
    def d(self) -> int:
        return int(self.centers.shape[-1])

    def grad(self, t: int, x: np.ndarray) -> np.ndarray:
        """The stochastic gradient ``grad f_t(x)`` (round ``t`` counted from 0)."""
        return _phi_grad(x - self.centers[t]) + self.xi[t] + self.zeta[t][..., None] * x

    def expected_losses(self, xs: np.ndarray) -> np.ndarray:
        """``F_t(x_t)`` for every round, for decisions ``xs`` of shape ``(T,) + (...,) + (d,)``."""
        return _phi(xs - self.centers[: len(xs)])

    @property
    def G(self) -> np.ndarray:
        """A bound on ``||grad f_t(x)||`` over the ball: ``1 + sigma sqrt(d) + kappa radius``."""
        return 1.0 + self.sigma * math.sqrt(self.d) + self.kappa * self.radius


def _base_center(d: int) -> np.ndarray:
    c = rng(2024).standard_normal(d)
    return 0.5 * c / np.linalg.norm(c)


def sea_stream(T: int, d: int = 5, sigma: float = 0.5, switch_period: int | None = None,
               seed: int = 0, *, kappa: float = 0.0) -> SEAStream:
    """The chapter's SEA stream (see :class:`SEAStream`): ``T`` rounds in ``R^d``.

    The centre ``c`` is a fixed point at distance 0.5 from the origin (inside the unit ball, so
    the best fixed decision for a fixed centre is ``c`` itself); with ``switch_period = P`` the
    centre flips between ``c`` and ``-c`` every ``P`` rounds. ``seed`` draws the signs of the
    noise, so streams with the same seed and different ``sigma`` share their random signs.
    Explained in chapter ``optimistic-omd-sea``.
    """
    T = check_int("T", T, 1)
    d = check_int("d", d, 1)
    sigma = check_real("sigma", sigma, 0.0)
    kappa = check_real("kappa", kappa, 0.0)
    if switch_period is not None:
        switch_period = check_int("switch_period", switch_period, 1)
    g = rng(check_int("seed", seed, 0))
    signs = g.choice((-1.0, 1.0), size=(T, d + 1))
    c = _base_center(d)
    centers = np.tile(c, (T, 1))
    if switch_period is not None:
        centers[(np.arange(T) // switch_period) % 2 == 1] = -c
    return SEAStream(centers, sigma * signs[:, :d], kappa * signs[:, d], np.array(sigma),
                     np.array(kappa), (switch_period,))


def stack_streams(streams: Sequence[SEAStream]) -> SEAStream:
    """Several streams of the same length as one batched stream (runs on the second axis).

    Explained in chapter ``optimistic-omd-sea``.
    """
    if not streams:
        raise ValueError("stack_streams needs at least one stream")
    if len({(s.T, s.d, s.radius) for s in streams}) != 1:
        raise ValueError("streams must have the same T, d and radius to be stacked")
    return SEAStream(np.stack([s.centers for s in streams], 1),
                     np.stack([s.xi for s in streams], 1),
                     np.stack([s.zeta for s in streams], 1),
                     np.array([float(s.sigma) for s in streams]),
                     np.array([float(s.kappa) for s in streams]),
                     tuple(p for s in streams for p in s.switch_period), streams[0].radius)


# --------------------------------------------------------------------------- measures

def comparator(centers: np.ndarray, radius: float = 1.0, *, iters: int = 2000,
               tol: float = 1e-13) -> tuple[np.ndarray, float]:
    """The best fixed decision ``u* = argmin_{||u|| <= radius} sum_t phi(u - c_t)`` and its loss.

    ``centers`` is ``(T, d)``. Projected gradient descent on the average of the expected losses
    (1-smooth, so step 1), over the distinct centres weighted by their counts, until the step is
    below ``tol``. Explained in chapter ``optimistic-omd-sea``.
    """
    centers = check_array("centers", centers, ndim=2)
    U, counts = np.unique(centers, axis=0, return_counts=True)
    w = counts / counts.sum()
    u = project_ball(w @ U, radius)
    for _ in range(iters):
        new = project_ball(u - w @ _phi_grad(u - U), radius)
        done = np.linalg.norm(new - u) < tol
        u = new
        if done:
            break
    return u, float(counts @ _phi(u - U))


@cached(maxsize=64)
def _comparator_cached(d: int, period: int | None, T: int,
                       radius: float) -> tuple[np.ndarray, float]:
    s = sea_stream(T, d, 0.0, period, 0)
    return comparator(s.centers, radius)


def regret(xs: np.ndarray, stream: SEAStream, T: int | None = None) -> np.ndarray | float:
    """Regret after ``T`` rounds against the best fixed point, in expected losses.

    ``sum_{t <= T} F_t(x_t) - min_{||u|| <= radius} sum_{t <= T} F_t(u)``. Since ``x_t`` is chosen
    before ``f_t`` is drawn, ``E f_t(x_t) = E F_t(x_t)``: this is an unbiased, lower-variance
    estimate of the expected regret ``E[sum f_t(x_t) - sum f_t(u*)]``. Returns a float, or one
    value per run for batched decisions ``(T, runs, d)``. Explained in chapter
    ``optimistic-omd-sea``.
    """
    xs = np.asarray(xs, dtype=float)
    T = len(xs) if T is None else check_int("T", T, 1, len(xs))
    if xs.shape[-1] != stream.d or xs.shape[1:-1] != stream.centers.shape[1:-1]:
        raise ValueError(f"xs must have shape (T,) + {stream.centers.shape[1:]}, got {xs.shape}")
    played = stream.expected_losses(xs[:T]).sum(axis=0)
    if xs.ndim == 2:
        return float(played - comparator(stream.centers[:T], stream.radius)[1])
    best = np.array([comparator(stream.centers[:T, b], stream.radius)[1]
                     for b in range(xs.shape[1])])
    return played - best


@cached(maxsize=16)
def _switch_jump(d: int, radius: float) -> float:
    """``sup_{||x|| <= radius} ||grad phi(x - c) - grad phi(x + c)||^2`` for the stream's ``c``."""
    from scipy.optimize import minimize

    c = _base_center(d)

    def neg(x):
        diff = _phi_grad(x - c) - _phi_grad(x + c)
        return -float(diff @ diff)

    g = rng(1)
    starts = project_ball(g.uniform(-1, 1, (64, d)) * radius, radius)
    starts = np.vstack([starts, np.outer(np.linspace(-1, 1, 21), c / np.linalg.norm(c)) * radius])
    best = min(starts, key=neg)
    res = minimize(neg, best, method="SLSQP",
                   constraints=[{"type": "ineq", "fun": lambda x: radius**2 - x @ x}])
    return max(-neg(best), -float(res.fun) if res.success else 0.0)


def variation(stream: SEAStream, T: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(sigma2_{1:t}, Sigma2_{1:t})`` for ``t = 1, ..., T``: the two measures of the SEA model.

    For the chapter's stream the gradient noise ``xi_t + zeta_t x`` does not depend on the
    centre, so ``max_x E||grad f_t(x) - grad F_t(x)||^2 = d sigma^2 + kappa^2 radius^2`` every
    round. ``grad F_t - grad F_{t-1}`` is zero except at a switch, where its largest squared norm
    over the ball is found numerically once. Arrays of shape ``(T,)``, or ``(T, runs)`` for a
    batched stream. Explained in chapter ``optimistic-omd-sea``.
    """
    T = stream.T if T is None else check_int("T", T, 1, stream.T)
    per_round = stream.d * stream.sigma**2 + stream.kappa**2 * stream.radius**2
    sigma2 = np.multiply.outer(np.arange(1, T + 1), per_round)
    switched = np.any(stream.centers[1:T] != stream.centers[: T - 1], axis=-1)
    jumps = np.concatenate([np.zeros((1,) + switched.shape[1:]), switched], axis=0)
    Sigma2 = np.cumsum(jumps, axis=0) * _switch_jump(stream.d, stream.radius)
    return sigma2, Sigma2


# --------------------------------------------------------------------------- the experiment

#: The regimes of the chapter's experiment: label -> (sigma, switch period, kappa).
REGIMES = MappingProxyType({
    "σ = 0": (0.0, None, 0.0),
    "σ = 0.1": (0.1, None, 0.0),
    "σ = 0.5": (0.5, None, 0.0),
    "σ = 1": (1.0, None, 0.0),
    "σ = 0, κ = 2 (nonconvex fₜ)": (0.0, None, 2.0),
    "switch every round": (0.0, 1, 0.0),
    "switch every 10": (0.0, 10, 0.0),
    "switch every 100": (0.0, 100, 0.0),
})


@dataclass(frozen=True)
class Experiment:
    """Regret of OOMD and OGD in every regime, for every seed, on a grid of horizons.

    ``regret[alg][label]`` is an array ``(seeds, len(horizons))``; ``bound[label]`` is
    ``sqrt(sigma2_{1:T} + Sigma2_{1:T})`` on the same grid.
    """

    horizons: np.ndarray
    seeds: tuple[int, ...]
    regret: dict
    bound: dict


def experiment(T: int = 4000, seeds: Sequence[int] = (0, 1, 2, 3, 4), d: int = 5,
               n_horizons: int = 16) -> Experiment:
    """Run OOMD and OGD on every regime of :data:`REGIMES` (cached; explained in chapter
    ``optimistic-omd-sea``).

    All runs go through the learners in one batched pass. The regret is measured for
    ``n_horizons`` horizons log-spaced from 100 to ``T`` (plus 250, 500, 1000, 2000 and 4000 when
    they are below ``T``), each against the best fixed point for its own horizon.
    OGD uses the textbook step ``D / (G sqrt(t))`` with the stream's gradient bound ``G``.
    """
    T = check_int("T", T, 100)
    seeds = tuple(check_int("seed", s, 0) for s in seeds)
    if not seeds:
        raise ValueError("experiment needs at least one seed")
    return _experiment(T, seeds, check_int("d", d, 1), check_int("n_horizons", n_horizons, 2))


@cached(maxsize=4)
def _experiment(T: int, seeds: tuple[int, ...], d: int, n_horizons: int) -> Experiment:
    labels = list(REGIMES)
    streams = [sea_stream(T, d, s, p, seed, kappa=k) for (s, p, k) in REGIMES.values()
               for seed in seeds]
    batch = stack_streams(streams)
    x0 = np.zeros((len(streams), d))
    xs_o = oomd(batch.grad, T, x0)
    xs_g = _ogd_rows(batch, T, x0)
    extra = [h for h in (250, 500, 1000, 2000, 4000) if h <= T]
    horizons = np.unique(np.r_[np.geomspace(100, T, n_horizons).round(), extra].astype(int))
    sigma2, Sigma2 = variation(batch)
    loss_o = np.cumsum(batch.expected_losses(xs_o), axis=0)
    loss_g = np.cumsum(batch.expected_losses(xs_g), axis=0)
    out = {"OOMD": {}, "OGD": {}}
    bound = {}
    S = len(seeds)
    for i, label in enumerate(labels):
        _, period, _ = REGIMES[label]
        rows = slice(i * S, (i + 1) * S)
        best = np.array([_comparator_cached(d, period, int(h), 1.0)[1] for h in horizons])
        out["OOMD"][label] = (loss_o[horizons - 1, rows] - best[:, None]).T
        out["OGD"][label] = (loss_g[horizons - 1, rows] - best[:, None]).T
        bound[label] = np.sqrt(sigma2[horizons - 1, i * S] + Sigma2[horizons - 1, i * S])
    return Experiment(horizons, seeds, out, bound)


def _ogd_rows(batch: SEAStream, T: int, x0: np.ndarray, steps: bool = False):
    """:func:`ogd` on a batched stream, each run with its own gradient bound ``G``."""
    return ogd(batch.grad, T, x0, radius=batch.radius, G=batch.G, return_steps=steps)


# --------------------------------------------------------------------------- interactive figure

_SIGMAS = tuple(round(0.1 * i, 1) for i in range(11))
_PERIODS = ("off", 1, 2, 5, 10, 25, 100, 500)
_T_MAX = 4000

SLIDERS = {
    "sigma": FloatSlider(0.0, 1.0, default=0.5, step=0.1, label="noise σ"),
    "period": Choice(_PERIODS, default="off", label="switch period P"),
    "T": IntSlider(250, _T_MAX, default=_T_MAX, step=250, label="rounds T"),
    "algorithm": Choice(("both", "OOMD", "OGD"), default="both", label="learner"),
}


@cached(maxsize=1)
def _widget_runs() -> dict:
    """Seed-0 runs of both learners for every (sigma, period) of the slider grid, in one pass."""
    keys = [(s, p) for s in _SIGMAS for p in _PERIODS]
    batch = stack_streams([sea_stream(_T_MAX, 5, s, None if p == "off" else p, 0)
                           for s, p in keys])
    x0 = np.zeros((len(keys), 5))
    xs_o, eta_o = oomd(batch.grad, _T_MAX, x0, return_steps=True)
    xs_g, eta_g = _ogd_rows(batch, _T_MAX, x0, steps=True)
    sigma2, Sigma2 = variation(batch)
    return {"index": {k: i for i, k in enumerate(keys)},
            "loss": {"OOMD": batch.expected_losses(xs_o), "OGD": batch.expected_losses(xs_g)},
            "eta": {"OOMD": eta_o, "OGD": eta_g}, "bound": np.sqrt(sigma2 + Sigma2)}


def _fixed_ticks(axis, ticks, labels) -> None:
    axis.set_major_locator(FixedLocator(list(ticks)))
    axis.set_major_formatter(FixedFormatter(list(labels)))
    axis.set_minor_locator(NullLocator())


def draw(sigma: float = 0.5, period="off", T: int = _T_MAX, algorithm: str = "both") -> Figure:
    """The chapter's figure: regret and step sizes of OOMD and OGD on one SEA stream (seed 0).

    Left: the regret ``sum_{s <= t} F_s(x_s) - F_s(u_T)`` against the best fixed point ``u_T``
    for the horizon ``T``, for ``t`` up to ``T`` (it equals the regret at ``t = T``), with the
    shape ``sqrt(sigma2_{1:t} + Sigma2_{1:t})`` of the bound (dotted). Right: the step sizes.
    ``sigma`` is rounded to the slider's grid of 0.1. Explained in chapter
    ``optimistic-omd-sea``.
    """
    sigma = round(check_real("sigma", sigma, 0.0, 1.0) * 10) / 10
    check_choice("period", period, _PERIODS)
    T = check_int("T", T, 1, _T_MAX)
    check_choice("algorithm", algorithm, ("both", "OOMD", "OGD"))
    runs = _widget_runs()
    i = runs["index"][(sigma, period)]
    u_loss = _u_losses(period, T)                  # F_t(u_T), t = 1..T
    t = np.arange(1, T + 1)
    algs = ("OOMD", "OGD") if algorithm == "both" else (algorithm,)
    colors = {"OOMD": plotting.PALETTE[0], "OGD": plotting.PALETTE[1]}

    fig, (ax0, ax1) = plotting.figure(2, width=8.6, height=3.6, layout="fixed")
    every = max(1, T // 800)                        # at most ~800 points per line
    log_idx = np.unique(np.geomspace(1, T, 300).astype(int)) - 1
    entries = []
    for a in algs:
        curve = np.cumsum(runs["loss"][a][:T, i] - u_loss)
        ax0.plot(t[::every], curve[::every], color=colors[a])
        entries.append((f"{a}: R_T = {curve[-1]:.3g}", colors[a]))
        ax1.plot(t[log_idx], runs["eta"][a][log_idx, i], color=colors[a])
    bound = runs["bound"][:T, i]
    ax0.plot(t[::every], bound[::every], ":", color="black", lw=1.2)
    entries.append(("√(σ²₁:ₜ + Σ²₁:ₜ)", "black", "┈"))
    ax0.axhline(0.0, color="0.6", lw=0.8)
    ax0.set_xlim(0, T)
    plotting.key(ax0, entries)
    per = {"off": "fixed centre", 1: "switch every round"}.get(period, f"switch every {period}")
    plotting.labels(ax0, "round t", "regret against best fixed u", f"σ = {sigma:g}, {per}")

    ax1.set_xscale("log")
    ax1.set_yscale("log")
    ax1.axhline(0.25, color="0.5", lw=0.8, ls="--")
    ax1.text(1.5, 0.27, "cap 1/(4L)", fontsize=8, color="0.4")
    ax1.set_xlim(1, _T_MAX)
    ax1.set_ylim(5e-3, 3)
    _fixed_ticks(ax1.xaxis, (1, 10, 100, 1000), ("1", "10", "100", "1000"))
    _fixed_ticks(ax1.yaxis, (0.01, 0.1, 1), ("0.01", "0.1", "1"))
    plotting.key(ax1, [(a, colors[a]) for a in algs], x=0.03, y=0.17)
    plotting.labels(ax1, "round t", "step size ηₜ", "OOMD adapts, OGD decays")
    return fig


@cached(maxsize=128)
def _u_losses(period, T: int) -> np.ndarray:
    """``F_t(u_T)`` for ``t = 1..T`` on the widget's stream."""
    p = None if period == "off" else period
    u, _ = _comparator_cached(5, p, T, 1.0)
    return _phi(u - sea_stream(T, 5, 0.0, p, 0).centers)
