"""One velocity field, three views: noise, clean data, score and velocity are one object.

Explained in chapter ``one-velocity-three-views`` (Lai, Song, Kim, Mitsufuji and Ermon, *The
Principles of Diffusion Models*, 2025).

Notation (as in the chapter). A Gaussian path ``x_t = alpha_t x_0 + sigma_t e`` with
``e ~ N(0, I)`` and ``t`` in ``[0, 1]`` (data at ``t = 0``, noise at ``t = 1``) has marginals
``p_t``. The three views of diffusion models learn three parameterisations of one field:

* variational: the noise ``eps_hat(x, t) = E[e | x_t = x]`` or the clean point
  ``x0_hat(x, t) = E[x_0 | x_t = x]``;
* score-based: ``score(x, t) = grad log p_t(x)``;
* flow-based: the velocity ``v(x, t) = E[alpha_t' x_0 + sigma_t' e | x_t = x]``.

Tweedie's formula ties them together: ``eps_hat = -sigma_t score``,
``x0_hat = (x + sigma_t^2 score) / alpha_t`` and ``v = alpha_t' x0_hat + sigma_t' eps_hat``,
and since ``x = alpha_t x0_hat + sigma_t eps_hat`` the pair ``(x, v)`` determines
``(x0_hat, eps_hat)`` through a 2 x 2 linear system (:func:`convert`).

The schedules, the exact score of the diffused mixture and the samplers (Heun for the
probability-flow ODE, Euler-Maruyama for the reverse SDE) come from the part's toolkit
:mod:`paperlab.generative.diffusion`. This module adds the conversions, the chapter's experiment
(:func:`transport`, :func:`heun_errors`, :func:`straightness`, :func:`experiment`) and its
interactive figure (:func:`draw`, :data:`SLIDERS`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from ..cache import cached
from .. import plotting
from .._validate import check_array, check_choice, check_int, check_real
from ..data import gmm2d
from ..widgets import Choice, FloatSlider
from . import diffusion as D

__all__ = ["KINDS", "KIND_NAMES", "ALPHA_MIN", "convert", "field", "roundtrip_error",
           "Transport", "transport", "heun_errors", "straightness", "Experiment", "simulate",
           "experiment", "draw", "SLIDERS"]

#: The four parameterisations of the one field.
KINDS = ("eps", "x0", "score", "v")
#: Their names in figures.
KIND_NAMES = {"eps": "noise ε̂", "x0": "clean point x̂₀", "score": "score ∇log p_t",
              "v": "velocity v"}
#: Below this signal scale ``alpha_t`` the state carries (numerically) no information on ``x_0``
#: and a conversion that divides by ``alpha_t`` is refused. The VP-cosine path has
#: ``alpha_1 = cos(pi/2) = 6e-17``, not exactly 0; ``t <= 1 - 1e-4`` stays far above this.
ALPHA_MIN = 1e-8
#: The chapter's two schedules (toolkit names).
CHAPTER_SCHEDULES = ("vp-cosine", "rectified-flow")
#: Times at which the particle clouds are compared with the exact ``p_t``.
SNAP_TIMES = (0.75, 0.5, 0.25)
#: The last time of the samplers (the toolkit's default ``t_min``).
T_MIN = 1e-3


# --------------------------------------------------------------------------- conversions

def convert(pred, kind_from: str, kind_to: str, x, alpha: float, sigma: float, dalpha: float,
            dsigma: float) -> np.ndarray:
    """Convert a prediction of the field at ``(x, t)`` from one view to another.

    ``kind_from`` and ``kind_to`` are ``"eps"`` (noise), ``"x0"`` (clean point), ``"score"`` or
    ``"v"`` (velocity); ``alpha, sigma, dalpha, dsigma`` are ``alpha_t, sigma_t`` and their time
    derivatives. The identities (chapter ``one-velocity-three-views``, Eqs. (2)-(4); Lai et al.
    2025, the "conversion" between the parameterisations) are

    * ``eps_hat = -sigma score`` and ``x0_hat = (x + sigma^2 score) / alpha`` (Tweedie);
    * ``x = alpha x0_hat + sigma eps_hat`` and ``v = alpha' x0_hat + sigma' eps_hat``, so
      ``x0_hat = (sigma' x - sigma v) / det`` and ``eps_hat = (alpha v - alpha' x) / det`` with
      ``det = alpha sigma' - sigma alpha'`` (``pi/2`` for VP-cosine, 1 for rectified flow).

    Raises ``ValueError`` where the requested conversion divides by zero: by ``alpha`` (a
    noise or score prediction says nothing about ``x_0`` when ``alpha_t = 0``, e.g. at ``t = 1``
    on the rectified-flow path; use ``t <= 1 - 1e-4``), by ``sigma`` (``t = 0``), or by ``det``.
    """
    kind_from = check_choice("kind_from", kind_from, KINDS)
    kind_to = check_choice("kind_to", kind_to, KINDS)
    x = check_array("x", x)
    pred = check_array("pred", pred)
    if pred.shape != x.shape:
        raise ValueError(f"pred must have the shape of x, {x.shape}; got {pred.shape}")
    a = check_real("alpha", alpha, 0.0)
    s = check_real("sigma", sigma, 0.0)
    da = check_real("dalpha", dalpha)
    ds = check_real("dsigma", dsigma)
    if kind_from == kind_to:
        return pred.copy()

    def need_alpha() -> None:
        if a < ALPHA_MIN:
            raise ValueError(f"alpha must be at least {ALPHA_MIN:g} to convert {kind_from!r} to "
                             f"{kind_to!r}, got alpha = {a:g}: at alpha_t = 0 (t = 1 on the "
                             f"rectified-flow path) x_t carries no information on x0; "
                             f"use t <= 1 - 1e-4")

    def need_sigma() -> None:
        if s <= 0:
            raise ValueError(f"sigma must be > 0 to convert {kind_from!r} to {kind_to!r}, got "
                             f"sigma = {s:g}: at t = 0 there is no noise to predict")

    det = a * ds - s * da
    # Step 1: whichever of (x0_hat, eps_hat) the input gives directly.
    x0 = eps = None
    if kind_from == "eps":
        eps = pred
    elif kind_from == "score":
        eps = -s * pred
    elif kind_from == "x0":
        x0 = pred
    else:                                   # "v": solve the 2 x 2 system
        if det == 0:
            raise ValueError(f"alpha * dsigma - sigma * dalpha must be non-zero to convert from 'v', "
                             f"got alpha={a:g}, sigma={s:g}, dalpha={da:g}, dsigma={ds:g}")
        x0 = (ds * x - s * pred) / det
        eps = (a * pred - da * x) / det
    # Step 2: the requested view, dividing only where it must.
    if kind_to in ("eps", "score") and eps is None:       # from x0
        need_sigma()
        eps = (x - a * x0) / s
    if kind_to == "eps":
        return eps
    if kind_to == "score":
        need_sigma()
        return -eps / s
    if x0 is None:                                         # from eps or score
        need_alpha()
        x0 = (x - s * eps) / a
    if kind_to == "x0":
        return x0
    if eps is None:                                        # from x0, to v
        need_sigma()
        eps = (x - a * x0) / s
    return da * x0 + ds * eps


def _coeffs(sched: D.Schedule, t: float) -> tuple[float, float, float, float]:
    return (float(sched.alpha(t)), float(sched.sigma(t)), float(sched.dalpha(t)),
            float(sched.dsigma(t)))


def field(score_fn: D.ScoreFn, sched: D.Schedule, x, t: float, kind: str) -> np.ndarray:
    """The exact field at time ``t`` in the view ``kind``, from the score ``score_fn(x, t)``."""
    t = check_real("t", t, 0.0, 1.0)
    kind = check_choice("kind", kind, KINDS)
    x = check_array("x", x, ndim=2)
    return convert(score_fn(x, t), "score", kind, x, *_coeffs(sched, t))


def roundtrip_error(sched: D.Schedule, times=(0.05, 0.3, 0.5, 0.7, 0.95), n: int = 200,
                    seed: int = 0) -> float:
    """Largest relative error of ``convert(convert(f, a, b), b, a)`` against ``f`` over every
    pair of views ``(a, b)``, at ``times``, for ``n`` points drawn from each ``p_t`` of
    :func:`paperlab.data.gmm2d` (exact fields)."""
    score = D.gmm_score_fn(gmm2d(), sched)
    worst = 0.0
    for k, t in enumerate(times):
        x = score.marginal(float(t)).sample(check_int("n", n, 1), seed=check_int("seed", seed, 0) + k)
        c = _coeffs(sched, float(t))
        for a in KINDS:
            f = field(score, sched, x, float(t), a)
            for b in KINDS:
                back = convert(convert(f, a, b, x, *c), b, a, x, *c)
                worst = max(worst, float(np.abs(back - f).max() / np.abs(f).max()))
    return worst


# --------------------------------------------------------------------------- transport

def _segments(n_steps: int, t_max: float = D.T_MAX, t_min: float = T_MIN) -> list[tuple[float, float, int]]:
    """Split ``[t_min, t_max]`` at :data:`SNAP_TIMES` into ``(start, end, steps)`` pieces whose
    step counts add up to ``n_steps`` (about the same step size everywhere)."""
    edges = [t_max, *SNAP_TIMES, t_min]
    cum = [round(n_steps * (t_max - e) / (t_max - t_min)) for e in edges]
    out = []
    for (a, b), (c0, c1) in zip(zip(edges[:-1], edges[1:]), zip(cum[:-1], cum[1:])):
        out.append((a, b, max(1, c1 - c0)))
    return out


@dataclass(frozen=True)
class Transport:
    """Particles carried from ``t_max`` to ``t_min`` by the PF-ODE (Heun) and the reverse SDE
    (Euler-Maruyama) on the same time grid ``times`` (decreasing, :data:`SNAP_TIMES` on it).

    ``ode[k]`` and ``sde[k]`` are the ``(n, 2)`` clouds at ``times[k]``.
    """

    schedule: str
    seed: int
    times: np.ndarray
    ode: np.ndarray
    sde: np.ndarray

    def at(self, t: float) -> tuple[float, np.ndarray, np.ndarray]:
        """The grid time nearest to ``t`` and the two clouds there."""
        k = int(np.argmin(np.abs(self.times - float(t))))
        return float(self.times[k]), self.ode[k], self.sde[k]


def transport(schedule: str = "vp-cosine", n: int = 4000, n_steps: int = 200, seed: int = 0) -> Transport:
    """Push ``n`` particles from noise to data along the exact field of :func:`paperlab.data.gmm2d`.

    The start is ``p_{t_max}`` with ``t_max = 0.995`` (:data:`paperlab.generative.diffusion.T_MAX`),
    which is ``N(0, sigma^2 I)`` up to a shift of size ``alpha_{t_max} < 0.008``; both samplers
    start from the same draws. ``n_steps`` steps in all, split so that 0.75, 0.5 and 0.25 are
    grid times: Heun on the probability-flow ODE ``dx/dt = v(x, t)`` (Eq. (5) of the chapter) and
    Euler-Maruyama on the reverse SDE ``dx = [f x - g^2 score] dt + g dW`` (Eq. (6)), both from
    :mod:`paperlab.generative.diffusion`.
    """
    name = check_choice("schedule", schedule, D.SCHEDULES)
    n = check_int("n", n, 2)
    n_steps = check_int("n_steps", n_steps, len(SNAP_TIMES) + 1)
    seed = check_int("seed", seed, 0)
    sc = D.schedule(name)
    score = D.gmm_score_fn(gmm2d(), sc)
    z = score.marginal(D.T_MAX).sample(n, seed=seed)
    times, ode, sde = [D.T_MAX], [z], [z]
    x, y = z, z
    for j, (a, b, m) in enumerate(_segments(n_steps)):
        po = D.pf_ode_sample(score, sc, x, m, method="heun", t_min=b, t_max=a, return_path=True)
        ps = D.reverse_sde_sample(score, sc, y, m, seed=1000 * seed + j + 1, t_min=b, t_max=a,
                                  return_path=True)
        times.extend(np.linspace(a, b, m + 1)[1:].tolist())
        ode.extend(po[1:])
        sde.extend(ps[1:])
        x, y = po[-1], ps[-1]
    return Transport(schedule=name, seed=seed, times=np.array(times), ode=np.stack(ode),
                     sde=np.stack(sde))


def heun_errors(schedule: str = "vp-cosine", steps=(16, 32, 64), n: int = 500,
                n_ref: int = 512, seed: int = 0) -> tuple[np.ndarray, float]:
    """Mean distance between Heun's end points with ``N`` steps and a reference with ``n_ref``
    steps, from the same ``n`` starting points, for each ``N`` in ``steps``; and the fitted order
    ``-slope`` of ``log error`` against ``log N`` (2 for a second-order method)."""
    name = check_choice("schedule", schedule, D.SCHEDULES)
    steps = tuple(check_int("steps", s, 1) for s in steps)
    if len(steps) < 2:
        raise ValueError("steps must hold at least two step counts to fit a slope")
    n_ref = check_int("n_ref", n_ref, 2 * max(steps))
    sc = D.schedule(name)
    score = D.gmm_score_fn(gmm2d(), sc)
    z = score.marginal(D.T_MAX).sample(check_int("n", n, 1), seed=check_int("seed", seed, 0))
    ref = D.pf_ode_sample(score, sc, z, n_ref)
    err = np.array([np.linalg.norm(D.pf_ode_sample(score, sc, z, N) - ref, axis=1).mean()
                    for N in steps])
    slope = np.polyfit(np.log(steps), np.log(err), 1)[0]
    return err, float(-slope)


def straightness(path) -> np.ndarray:
    """Per particle: length of the path divided by the distance between its two ends (1 for a
    straight line). ``path`` is ``(times, n, d)``."""
    P = check_array("path", path, ndim=3)
    if P.shape[0] < 2:
        raise ValueError("path must hold at least two times")
    length = np.linalg.norm(np.diff(P, axis=0), axis=2).sum(axis=0)
    chord = np.linalg.norm(P[-1] - P[0], axis=1)
    return length / np.maximum(chord, 1e-12)


# --------------------------------------------------------------------------- the experiment

def _mode_weights(x: np.ndarray) -> np.ndarray:
    """Share of the particles whose most likely component of :func:`gmm2d` is each component."""
    r, _ = gmm2d()._responsibilities(x)
    return np.bincount(r.argmax(axis=1), minlength=r.shape[1]) / x.shape[0]


@dataclass(frozen=True)
class Experiment:
    """Results of :func:`simulate`, per schedule name.

    ``roundtrip``: largest relative round-trip error of :func:`convert`. ``runs``: the
    :class:`Transport` runs. ``mmd_ode``/``mmd_sde``: MMD² at ``t = 0.5`` between ``n_mmd``
    particles and as many exact draws from ``p_0.5``; ``mmd_noise``: root mean square of MMD² under
    the null hypothesis, the two-sample
    noise level. ``weights_ode``/``weights_sde``: final mode weights. ``heun_steps``,
    ``heun_err``, ``heun_order``: :func:`heun_errors`. ``straight``: median of
    :func:`straightness` of the ODE paths.
    """

    n: int
    n_steps: int
    seed: int
    roundtrip: dict
    runs: dict
    mmd_ode: dict
    mmd_sde: dict
    mmd_noise: dict
    weights_ode: dict
    weights_sde: dict
    heun_steps: tuple
    heun_err: dict
    heun_order: dict
    straight: dict

    def summary(self) -> dict[str, float]:
        """The chapter's checked numbers."""
        w = gmm2d().weights
        out: dict[str, float] = {}
        for s in self.runs:
            out[f"{s}_roundtrip"] = self.roundtrip[s]
            out[f"{s}_mmd_ratio_ode"] = self.mmd_ode[s] / self.mmd_noise[s]
            out[f"{s}_mmd_ratio_sde"] = self.mmd_sde[s] / self.mmd_noise[s]
            out[f"{s}_weight_error_ode"] = float(np.abs(self.weights_ode[s] - w).max())
            out[f"{s}_weight_error_sde"] = float(np.abs(self.weights_sde[s] - w).max())
            out[f"{s}_heun_order"] = self.heun_order[s]
            out[f"{s}_straightness"] = self.straight[s]
        return out


def simulate(n: int = 4000, n_steps: int = 200, seed: int = 0, n_mmd: int = 1000,
             n_null: int = 3, schedules=CHAPTER_SCHEDULES) -> Experiment:
    """The chapter's experiment for each schedule: conversions round trip, transport of ``n``
    particles by ODE and SDE with ``n_steps`` steps, MMD² at ``t = 0.5`` on the first ``n_mmd``
    particles against the two-sample noise level, final mode weights, Heun's order, and the
    straightness of the ODE paths. Deterministic given ``seed``; :func:`experiment` caches it."""
    n = check_int("n", n, 2)
    seed = check_int("seed", seed, 0)
    n_mmd = check_int("n_mmd", n_mmd, 2, n)
    n_null = check_int("n_null", n_null, 1)
    names = tuple(check_choice("schedules", s, D.SCHEDULES) for s in schedules)
    if not names:
        raise ValueError("schedules must name at least one schedule")
    rt, runs, mo, ms, noise, wo, ws, he, ho, st = ({} for _ in range(10))
    heun_steps = (16, 32, 64)
    for s in names:
        sc = D.schedule(s)
        rt[s] = roundtrip_error(sc, seed=seed)
        run = transport(s, n, n_steps, seed)
        runs[s] = run
        p_half = D.gmm_score_fn(gmm2d(), sc).marginal(0.5)
        base = 10_000 * (seed + 1)
        exact = p_half.sample(n_mmd, seed=base)
        _, xo, xs = run.at(0.5)
        mo[s] = D.mmd2(xo[:n_mmd], exact)
        ms[s] = D.mmd2(xs[:n_mmd], exact)
        # the noise level: the same statistic with an exact sample in place of the particles
        nulls = [D.mmd2(p_half.sample(n_mmd, seed=base + 1 + r), exact) for r in range(n_null)]
        noise[s] = float(np.sqrt(np.mean(np.square(nulls))))
        wo[s] = _mode_weights(run.ode[-1])
        ws[s] = _mode_weights(run.sde[-1])
        he[s], ho[s] = heun_errors(s, heun_steps, seed=seed)
        st[s] = float(np.median(straightness(run.ode)))
    return Experiment(n=n, n_steps=n_steps, seed=seed, roundtrip=rt, runs=runs, mmd_ode=mo,
                      mmd_sde=ms, mmd_noise=noise, weights_ode=wo, weights_sde=ws,
                      heun_steps=heun_steps, heun_err=he, heun_order=ho, straight=st)


@cached(maxsize=2)
def experiment(n: int = 4000, n_steps: int = 200, seed: int = 0) -> Experiment:
    """:func:`simulate`, cached: the chapter's one heavy step."""
    return simulate(n=n, n_steps=n_steps, seed=seed)


# --------------------------------------------------------------------------- interactive figure

_LIM = ((-4.0, 4.0), (-3.5, 4.0))
_TICKS = ((-4, -2, 0, 2, 4), (-2, 0, 2, 4))
_W_N = 600                     # particles per sampler in the interactive figure
_Q = 25                        # quiver grid
_NO_ALPHA = "α_t ≈ 0 at t = 1: x̂₀ and v need α_t > 0\n(the samplers start at t = 0.995)"


@cached(maxsize=2)
def _widget_run(schedule: str) -> Transport:
    return transport(schedule, n=_W_N, n_steps=200, seed=0)


@cached(maxsize=512)
def _density(schedule: str, t: float) -> np.ndarray:
    sc = D.schedule(schedule)
    xs, ys = np.meshgrid(np.linspace(*_LIM[0], 80), np.linspace(*_LIM[1], 70))
    mix = D.gmm_score_fn(gmm2d(), sc).marginal(t)
    return np.exp(mix.log_prob(np.c_[xs.ravel(), ys.ravel()])).reshape(xs.shape)


@cached(maxsize=1024)
def _arrows(schedule: str, t: float, view: str) -> tuple[np.ndarray, np.ndarray, float] | str:
    sc = D.schedule(schedule)
    g = np.stack(np.meshgrid(np.linspace(-3.7, 3.7, _Q), np.linspace(-3.2, 3.7, _Q)), -1).reshape(-1, 2)
    score = D.gmm_score_fn(gmm2d(), sc)
    try:
        f = field(score, sc, g, t, view)
    except ValueError:                  # alpha_t = 0: convert refuses
        return _NO_ALPHA
    if view == "x0":
        f = f - g                       # the arrow from x to its denoised guess
    if not np.all(np.isfinite(f)) or float(sc.alpha(t)) < 1e-3 and view in ("x0", "v"):
        return _NO_ALPHA
    norm = np.linalg.norm(f, axis=1)
    big = float(np.quantile(norm, 0.9))
    if big == 0:
        return "σ_t = 0 at t = 0: no noise, so ε̂ = 0\nand x̂₀ = x (nothing to draw)"
    step = 7.4 / (_Q - 1)
    return g, f * (0.9 * step / big) / np.maximum(1.0, norm / big)[:, None], big


@cached(maxsize=2)
def _widget_fill(schedule: str) -> None:
    """Fill the density and arrow caches for every time of the slider (step 0.01) at the first
    redraw of a schedule (about a second once), so that a slider move only plots."""
    for t in np.round(np.linspace(0.0, 1.0, 101), 2):
        _density(schedule, float(t))
        for view in KINDS:
            _arrows(schedule, float(t), view)


def draw(t: float = 0.5, schedule: str = "vp-cosine", view: str = "v") -> Figure:
    """The chapter's interactive figure (chapter ``one-velocity-three-views``, section Explore).

    Left: the exact field at time ``t`` in the chosen ``view`` (arrows, lengths scaled so that
    the 90th percentile spans one grid cell, longer ones clipped) over the density ``p_t``.
    Right: 600 particles carried from noise by the PF-ODE (Heun) and by the reverse SDE
    (Euler-Maruyama), 200 steps, shown at the grid time nearest ``t``, over the same ``p_t``.
    """
    t = check_real("t", t, 0.0, 1.0)
    schedule = check_choice("schedule", schedule, CHAPTER_SCHEDULES)
    view = check_choice("view", view, KINDS)
    t = round(t, 2)                      # the slider's step: every redraw hits the caches
    _widget_fill(schedule)
    run = _widget_run(schedule)
    t_p, xo, xs = run.at(t)
    blue, orange = plotting.PALETTE[0], plotting.PALETTE[1]
    fig, (ax0, ax1) = plotting.figure(2, width=9.0, height=3.9, layout="fixed")
    ext = (*_LIM[0], *_LIM[1])
    ax0.imshow(_density(schedule, t), extent=ext, origin="lower", cmap="Greys", aspect="auto",
               alpha=0.6, interpolation="bilinear")
    arrows = _arrows(schedule, t, view)
    if isinstance(arrows, str):
        plotting.message(ax0, arrows)
        title = f"{KIND_NAMES[view]} at t = {t:.2f}"
    else:
        g, f, big = arrows
        ax0.quiver(g[:, 0], g[:, 1], f[:, 0], f[:, 1], color=blue, angles="xy", scale_units="xy",
                   scale=1.0, width=0.004, headwidth=3.5)
        title = f"{KIND_NAMES[view]} at t = {t:.2f}"
        ax0.text(0.02, 0.02, f"an arrow one cell long = size {big:.2g}", transform=ax0.transAxes,
                 fontsize=8, va="bottom")
    plotting.labels(ax0, "x₁", "x₂", title)
    ax1.imshow(_density(schedule, t), extent=ext, origin="lower", cmap="Greys",
               aspect="auto", alpha=0.6, interpolation="bilinear")
    ax1.scatter(*xo.T, s=4, color=blue, lw=0)
    ax1.scatter(*xs.T, s=4, color=orange, lw=0)
    plotting.key(ax1, [("ODE (Heun)", blue), ("SDE (Euler–Maruyama)", orange)])
    plotting.labels(ax1, "x₁", "", f"particles at t = {t_p:.3f} over exact p_t")
    for ax in (ax0, ax1):
        ax.set_xlim(*_LIM[0])
        ax.set_ylim(*_LIM[1])
        ax.set_xticks(_TICKS[0])
        ax.set_yticks(_TICKS[1])
    return fig


#: Slider box of :func:`draw`; the first entry (t) is the website scrubber's parameter.
SLIDERS = {
    "t": FloatSlider(0.0, 1.0, default=0.5, step=0.01, label="time t"),
    "schedule": Choice(CHAPTER_SCHEDULES, default="vp-cosine", label="schedule"),
    "view": Choice(KINDS, default="v", label="view"),
}
