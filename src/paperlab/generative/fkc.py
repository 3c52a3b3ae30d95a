"""Feynman-Kac correctors: weighted SDEs that sample annealed and guided diffusion targets.

Explained in chapter ``feynman-kac-correctors`` (Skreta, Akhound-Sadegh, Ohanesian, Bondesan,
Aspuru-Guzik, Doucet, Brekelmans, Tong and Neklyudov, ICML 2025).

Notation (as in the chapter). The forward process is the VP SDE
``dx = f(x, tau) dtau + sigma_tau dW`` with ``f = -beta(tau) x / 2`` and
``sigma_tau^2 = beta(tau) = 0.1 + 19.9 tau`` (the toolkit's ``"vp-linear"`` schedule); its
marginals are ``q_tau`` with exact scores ``s(x, tau) = grad log q_tau(x)``. Generation runs in
``t = 1 - tau``. For an *annealed* target ``p_tau ∝ q_tau^beta`` the weighted SDE
(the annealed case of the paper; chapter Eqs. (4)-(5)) is

    dx = (-f + eta sigma^2 s) dt + zeta sigma dW,
    dlog w = (beta - 1) (<grad, f> + sigma^2 beta |s|^2 / 2) dt,

with ``eta = beta + (1 - beta) a`` and ``zeta = sqrt((beta + 2 (1 - beta) a) / beta)``: ``a = 0``
is the "target score" variant (``eta = beta``, ``zeta = 1``), ``a = 1/2`` the "tempered noise"
one (``zeta = beta^{-1/2}``). For classifier-free guidance, ``p ∝ q1^(1 - beta) q2^beta``
(chapter Eq. (6)):

    dx = (-f + sigma^2 ((1 - beta) s1 + beta s2)) dt + sigma dW,
    dlog w = sigma^2 beta (beta - 1) |s1 - s2|^2 / 2 dt.

Sequential Monte Carlo turns the weights into samples: systematic resampling whenever the
effective sample size falls below ``ess_frac * K``, and once at the end. The naive baseline is
the same SDE with the weights thrown away.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from ..cache import cached
from .. import plotting
from .._validate import check_array, check_choice, check_int, check_real
from ..data import GaussianMixture
from ..widgets import Choice, FloatSlider
from . import diffusion as D

__all__ = ["ess", "systematic_resample", "annealed_coefficients", "annealed_fkc_sample",
           "cfg_fkc_sample", "chapter_gmm", "annealed_target", "cfg_target_grid",
           "mode_stats", "Experiment", "simulate", "experiment", "draw", "SLIDERS"]

#: Last forward time of the samplers (generation stops at ``tau = TAU_MIN``).
TAU_MIN = 1e-3


# --------------------------------------------------------------------------- SMC pieces

def ess(logw) -> float:
    """Effective sample size ``(sum w)^2 / sum w^2`` of log-weights (``K`` for equal weights)."""
    lw = check_array("logw", logw, ndim=1)
    if lw.size == 0:
        raise ValueError("logw must hold at least one weight")
    w = np.exp(lw - lw.max())
    return float(w.sum() ** 2 / np.square(w).sum())


def systematic_resample(logw, rng: np.random.Generator) -> np.ndarray:
    """Indices of a systematic resample (one uniform ``u``, points ``(u + i) / K``): each particle
    is copied ``floor(K w_i)`` or ``ceil(K w_i)`` times, the lowest-variance standard scheme."""
    lw = check_array("logw", logw, ndim=1)
    K = lw.size
    if K < 1:
        raise ValueError("logw must hold at least one weight")
    w = np.exp(lw - lw.max())
    c = np.cumsum(w / w.sum())
    c[-1] = 1.0
    u = (rng.uniform() + np.arange(K)) / K
    return np.searchsorted(c, u, side="right").clip(0, K - 1)


# --------------------------------------------------------------------------- weighted SDEs

def annealed_coefficients(beta: float, a: float = 0.0) -> tuple[float, float]:
    """``(eta, zeta)`` of the annealed weighted SDE: ``eta = beta + (1 - beta) a`` and
    ``zeta = sqrt((beta + 2 (1 - beta) a) / beta)`` (chapter Eq. (4))."""
    beta = check_real("beta", beta, 0.0, lo_open=True)
    a = check_real("a", a)
    z2 = (beta + 2.0 * (1.0 - beta) * a) / beta
    if z2 < 0:
        raise ValueError(f"(beta + 2 (1 - beta) a) / beta must be >= 0 (it is zeta^2, the noise "
                         f"scale squared), got {z2:g} for beta={beta:g}, a={a:g}")
    return beta + (1.0 - beta) * a, float(np.sqrt(z2))


def _check_common(n_particles, n_steps, ess_frac, seed):
    return (check_int("n_particles", n_particles, 2), check_int("n_steps", n_steps, 1),
            check_real("ess_frac", ess_frac, 0.0, 1.0, lo_open=True), check_int("seed", seed, 0))


def _simulate(terms: Callable, zeta: float, sched: D.Schedule, x: np.ndarray, n_steps: int,
              ess_frac: float, weighted: bool, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """Euler-Maruyama in generation time with log-weight accumulation and SMC resampling.

    ``terms(x, tau, b)`` returns ``(S, g)`` from one evaluation of the scores: ``S`` is the score
    part of the drift ``-f + sigma^2 S`` (``eta`` folded in) and ``g`` the weight rate,
    ``dlog w = g dt``; ``b = beta(tau) = sigma_tau^2``.
    """
    K, d = x.shape
    taus = np.linspace(1.0, TAU_MIN, n_steps + 1)
    betas = sched.beta(taus)
    logw = np.zeros(K)
    ess_trace, n_resample = np.empty(n_steps), 0
    for k in range(n_steps):
        tau, dt, b = float(taus[k]), float(taus[k] - taus[k + 1]), float(betas[k])
        S, g = terms(x, tau, b)
        if weighted:
            logw += g * dt                                # weights use the state before the step
        drift = 0.5 * b * x + b * S                       # -f + sigma^2 S, f = -beta x / 2
        x = x + drift * dt + zeta * np.sqrt(b * dt) * rng.standard_normal((K, d))
        if weighted:
            e = ess(logw)
            ess_trace[k] = e / K
            if e < ess_frac * K:
                x, logw = x[systematic_resample(logw, rng)], np.zeros(K)
                n_resample += 1
        else:
            ess_trace[k] = 1.0
    if weighted:
        x = x[systematic_resample(logw, rng)]
    return x, {"ess": ess_trace, "times": 1.0 - taus[1:], "n_resample": n_resample}


def annealed_fkc_sample(score_fn: D.ScoreFn, beta: float, schedule: D.Schedule | str = "vp-linear",
                        n_particles: int = 2000, n_steps: int = 300, a: float = 0.0,
                        ess_frac: float = 0.5, weighted: bool = True,
                        seed: int = 0) -> tuple[np.ndarray, dict]:
    """Sample ``p ∝ q_0^beta`` with the annealed Feynman-Kac corrector (chapter Eqs. (4)-(5);
    Skreta et al. 2025, annealed case, with SMC resampling).

    ``score_fn(x, tau)`` is the score of ``q_tau`` under the VP SDE ``schedule``. The particles
    start from ``N(0, I / beta)``, the annealed prior ``q_1^beta`` (``q_1`` is ``N(0, I)`` up to a
    shift of ``alpha_1 < 0.007``), and run ``n_steps`` Euler-Maruyama steps from ``tau = 1`` to
    ``tau = 1e-3``. With ``weighted=False`` the weights are dropped: the naive annealed-score
    SDE. Returns the particles and a log with the ESS fraction after every step (before any
    resampling), the generation times and the number of resampling events.
    """
    eta, zeta = annealed_coefficients(beta, a)
    K, n_steps, ess_frac, seed = _check_common(n_particles, n_steps, ess_frac, seed)
    sc = D.schedule(schedule) if isinstance(schedule, str) else schedule
    if sc.name != "vp-linear":
        raise ValueError(f"schedule must be the VP SDE 'vp-linear' (f = -beta(tau) x / 2), got {sc.name!r}")
    rng = np.random.default_rng(seed)
    d = score_fn.gmm.dim if hasattr(score_fn, "gmm") else 2
    x = rng.standard_normal((K, d)) / np.sqrt(beta)

    def terms(x, tau, b):
        s = score_fn(x, tau)
        # <grad, f> = -beta(tau) d / 2 is the same for every particle and cancels on
        # normalisation; it is kept so that the rate is the paper's.
        g = (beta - 1.0) * (-0.5 * b * d + 0.5 * b * beta * np.einsum("ni,ni->n", s, s))
        return eta * s, g

    return _simulate(terms, zeta, sc, x, n_steps, ess_frac, weighted, rng)


def cfg_fkc_sample(score1: D.ScoreFn, score2: D.ScoreFn, beta: float,
                   schedule: D.Schedule | str = "vp-linear", n_particles: int = 2000,
                   n_steps: int = 300, ess_frac: float = 0.5, weighted: bool = True,
                   seed: int = 0) -> tuple[np.ndarray, dict]:
    """Sample ``p ∝ q1^(1 - beta) q2^beta`` (classifier-free guidance with weight ``beta``;
    ``q1`` unconditional, ``q2`` conditional) with the Feynman-Kac corrector of chapter Eq. (6)
    (Skreta et al. 2025, the CFG case). The drift uses the CFG
    score ``(1 - beta) s1 + beta s2``; ``weighted=False`` is plain CFG. Starts from ``N(0, I)``."""
    beta = check_real("beta", beta, 0.0, lo_open=True)
    K, n_steps, ess_frac, seed = _check_common(n_particles, n_steps, ess_frac, seed)
    sc = D.schedule(schedule) if isinstance(schedule, str) else schedule
    if sc.name != "vp-linear":
        raise ValueError(f"schedule must be the VP SDE 'vp-linear', got {sc.name!r}")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((K, score1.gmm.dim if hasattr(score1, "gmm") else 2))

    def terms(x, tau, b):
        s1, s2 = score1(x, tau), score2(x, tau)
        diff = s1 - s2
        return (1.0 - beta) * s1 + beta * s2, 0.5 * b * beta * (beta - 1.0) * np.einsum("ni,ni->n", diff, diff)

    return _simulate(terms, 1.0, sc, x, n_steps, ess_frac, weighted, rng)


# --------------------------------------------------------------------------- the chapter's problem

#: Mixture of the chapter: weights, isotropic scales and means.
WEIGHTS = np.array([0.5, 0.3, 0.2])
SCALES = np.array([0.3, 0.7, 0.4])
MEANS = np.array([[-2.5, -1.5], [2.5, -1.5], [0.0, 2.5]])


def chapter_gmm() -> GaussianMixture:
    """The chapter's 2-D mixture: weights (0.5, 0.3, 0.2), scales (0.3, 0.7, 0.4)."""
    return GaussianMixture(WEIGHTS, MEANS, SCALES[:, None, None] ** 2 * np.eye(2)[None])


def annealed_target(beta: float) -> tuple[np.ndarray, np.ndarray]:
    """Mode weights ``∝ w_k^beta s_k^(2 (1 - beta))`` and within-mode variances ``s_k^2 / beta`` of
    ``q^beta`` for well-separated isotropic modes in 2-D (each ``N(m, s^2 I)^beta`` is
    ``N(m, s^2 I / beta)`` times ``(2 pi s^2)^(-beta) (2 pi s^2 / beta)``)."""
    beta = check_real("beta", beta, 0.0, lo_open=True)
    lw = beta * np.log(WEIGHTS) + 2.0 * (1.0 - beta) * np.log(SCALES)
    w = np.exp(lw - lw.max())
    return w / w.sum(), SCALES ** 2 / beta


def mode_stats(x) -> tuple[np.ndarray, np.ndarray]:
    """Share of the particles nearest to each mean, and the variance (per coordinate, averaged
    over the two coordinates) of each mode's particles (``nan`` for an empty mode)."""
    x = check_array("x", x, ndim=2, shape=(None, 2))
    lab = np.argmin(((x[:, None, :] - MEANS[None]) ** 2).sum(-1), axis=1)
    share = np.bincount(lab, minlength=len(WEIGHTS)) / len(x)
    var = np.array([x[lab == k].var(axis=0).mean() if np.sum(lab == k) > 1 else np.nan
                    for k in range(len(WEIGHTS))])
    return share, var


def cfg_target_grid(beta: float, n: int = 400) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The CFG target ``∝ q^(1 - beta) q_c^beta`` (``q`` the chapter's mixture, ``q_c`` its second
    component alone) on an ``n x n`` grid: ``(xs, ys, density)``, normalised to sum 1."""
    beta = check_real("beta", beta, 0.0, lo_open=True)
    xs, ys = np.meshgrid(np.linspace(-5, 6, n), np.linspace(-5, 5, n))
    pts = np.c_[xs.ravel(), ys.ravel()]
    lq = chapter_gmm().log_prob(pts)
    lc = _conditional().log_prob(pts)
    lp = (1.0 - beta) * lq + beta * lc
    p = np.exp(lp - lp.max())
    return xs, ys, (p / p.sum()).reshape(xs.shape)


def _conditional() -> GaussianMixture:
    return GaussianMixture([1.0], MEANS[1:2], SCALES[1:2, None, None] ** 2 * np.eye(2)[None])


# --------------------------------------------------------------------------- the experiment

@dataclass(frozen=True)
class Experiment:
    """Results of :func:`simulate`.

    ``samples[(beta, method)]`` with method ``"naive"``, ``"FKC a=0"``, ``"FKC a=1/2"``;
    ``share``/``var``: :func:`mode_stats` of each; ``logs``: the sampler logs;
    ``tv[(beta, method)]``: total variation ``sum |share - target| / 2`` between the mode
    weights and the target's. ``cfg``: for each guidance weight, the mean and covariance trace of
    plain CFG, FKC-CFG and the exact grid target.
    """

    K: int
    n_steps: int
    seed: int
    betas: tuple
    samples: dict
    share: dict
    var: dict
    logs: dict
    tv: dict
    cfg: dict

    def summary(self, beta: float = 2.0) -> dict[str, float]:
        """The chapter's checked numbers at ``beta``."""
        w, v = annealed_target(beta)
        k = int(np.argmax(w))
        out = {}
        for m, tag in (("FKC a=0", "fkc"), ("naive", "naive")):
            out[f"{tag}_tv"] = self.tv[(beta, m)]
            out[f"{tag}_var_rel_error"] = float(self.var[(beta, m)][k] / v[k] - 1.0)
        return out


METHODS = ("naive", "FKC a=0", "FKC a=1/2")


def simulate(K: int = 2000, n_steps: int = 300, seed: int = 0, betas=(0.5, 2.0, 3.0),
             cfg_betas=(1.0, 2.0, 4.0)) -> Experiment:
    """The chapter's experiment: for each ``beta`` in ``betas``, the naive annealed SDE and FKC
    with ``a = 0`` and ``a = 1/2`` on :func:`chapter_gmm`, ``K`` particles, ``n_steps`` steps;
    then CFG with each weight in ``cfg_betas`` (plain and FKC). Deterministic given ``seed``."""
    K = check_int("K", K, 2)
    seed = check_int("seed", seed, 0)
    sc = D.schedule("vp-linear")
    score = D.gmm_score_fn(chapter_gmm(), sc)
    samples, share, var, logs, tv = {}, {}, {}, {}, {}
    for beta in betas:
        target, _ = annealed_target(beta)
        for m in METHODS:
            a = 0.5 if m == "FKC a=1/2" else 0.0
            x, log = annealed_fkc_sample(score, beta, sc, K, n_steps, a=a, weighted=(m != "naive"),
                                         seed=seed)
            samples[(beta, m)], logs[(beta, m)] = x, log
            share[(beta, m)], var[(beta, m)] = mode_stats(x)
            tv[(beta, m)] = float(0.5 * np.abs(share[(beta, m)] - target).sum())
    cond = D.gmm_score_fn(_conditional(), sc)
    cfg = {}
    for g in cfg_betas:
        xs, ys, p = cfg_target_grid(g)
        mean = np.array([(xs * p).sum(), (ys * p).sum()])
        tr = float(((xs - mean[0]) ** 2 * p).sum() + ((ys - mean[1]) ** 2 * p).sum())
        row = {"exact": (mean, tr)}
        for m, wtd in (("CFG", False), ("FKC", True)):
            x, _ = cfg_fkc_sample(score, cond, g, sc, K, n_steps, weighted=wtd, seed=seed)
            row[m] = (x.mean(axis=0), float(np.trace(np.cov(x.T))))
        cfg[g] = row
    return Experiment(K=K, n_steps=n_steps, seed=seed, betas=tuple(betas), samples=samples,
                      share=share, var=var, logs=logs, tv=tv, cfg=cfg)


@cached(maxsize=2)
def experiment(K: int = 2000, n_steps: int = 300, seed: int = 0) -> Experiment:
    """:func:`simulate`, cached: the chapter's one heavy step."""
    return simulate(K=K, n_steps=n_steps, seed=seed)


# --------------------------------------------------------------------------- interactive figure

_LIM = ((-4.5, 4.5), (-3.5, 4.0))


@cached(maxsize=1)
def _score() -> D.ScoreFn:
    return D.gmm_score_fn(chapter_gmm(), D.schedule("vp-linear"))


@cached(maxsize=256)
def _widget_run(beta: float, a: float, fkc: bool) -> tuple[np.ndarray, dict]:
    return annealed_fkc_sample(_score(), beta, "vp-linear", 500, 150, a=a, weighted=fkc, seed=0)


@cached(maxsize=64)
def _target_density(beta: float) -> np.ndarray:
    xs, ys = np.meshgrid(np.linspace(*_LIM[0], 90), np.linspace(*_LIM[1], 75))
    lp = beta * chapter_gmm().log_prob(np.c_[xs.ravel(), ys.ravel()])
    return np.sqrt(np.exp(lp - lp.max())).reshape(xs.shape)       # sqrt: faint modes stay visible


def draw(beta: float = 2.0, a: str = "0", fkc: str = "on") -> Figure:
    """The chapter's interactive figure (chapter ``feynman-kac-correctors``, section Explore).

    Left: 500 particles from the annealed SDE with ``beta``, ``a`` (0: target score, 1/2: tempered
    noise), 150 steps, with (``fkc="on"``) or without weights, over the target ``q^beta``.
    Right: mode weights and the heaviest mode's variance against the target's, with the number
    of resampling events and the lowest ESS fraction of the run.
    """
    beta = round(check_real("beta", beta, 0.3, 3.0), 2)
    a_val = {"0": 0.0, "1/2": 0.5}[check_choice("a", a, ("0", "1/2"))]
    on = check_choice("fkc", fkc, ("on", "off")) == "on"
    x, log = _widget_run(beta, a_val, on)
    share, var = mode_stats(x)
    target, tvar = annealed_target(beta)
    col, grey = (plotting.PALETTE[0] if on else plotting.PALETTE[1]), "#9a9a9a"
    fig, (ax0, ax1) = plotting.figure(2, width=9.0, height=3.7, layout="fixed")
    ax0.imshow(_target_density(beta), extent=(*_LIM[0], *_LIM[1]), origin="lower", cmap="Greys",
               aspect="auto", alpha=0.5, vmax=1.6)
    ax0.scatter(*x.T, s=4, color=col, lw=0)
    ax0.set_xlim(*_LIM[0])
    ax0.set_ylim(*_LIM[1])
    ax0.set_xticks((-4, -2, 0, 2, 4))
    ax0.set_yticks((-2, 0, 2, 4))
    tv = 0.5 * np.abs(share - target).sum()
    plotting.labels(ax0, "x₁", "x₂", f"{'FKC' if on else 'naive'}, β = {beta:g}: mode TV {tv:.3f}")
    k = np.arange(3)
    ax1.bar(k - 0.2, target, 0.4, color=grey)
    ax1.bar(k + 0.2, share, 0.4, color=col)
    ax1.set_xticks(k, ["mode 1", "mode 2", "mode 3"])
    ax1.set_ylim(0, 1.15)
    ax1.set_yticks((0, 0.5, 1))
    j = int(np.argmax(target))
    plotting.key(ax1, [("target q^β", grey), ("samples", col),
                       (f"mode {j + 1} variance {var[j]:.3f} (target {tvar[j]:.3f})", "black", "")],
                 x=0.4)
    ess_note = (f"{log['n_resample']} resamplings, lowest ESS {log['ess'].min():.2f} K" if on
                else "no weights: every particle counts 1")
    plotting.labels(ax1, "mixture component", "share of particles", ess_note)
    return fig


#: Slider box of :func:`draw`; the first entry (beta) is the website scrubber's parameter.
SLIDERS = {
    "beta": FloatSlider(0.3, 3.0, default=2.0, step=0.1, label="inverse temperature β"),
    "a": Choice(("0", "1/2"), default="0", label="variant a"),
    "fkc": Choice(("on", "off"), default="on", label="FKC weights"),
}
