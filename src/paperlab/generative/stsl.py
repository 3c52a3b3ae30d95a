"""Second-order Tweedie from a surrogate loss: STSL (Rout, Chen, Kumar, Caramanis, Shakkottai and
Chu, CVPR 2024, "Beyond First-Order Tweedie: Solving Inverse Problems using Latent Diffusion").

Explained in chapter ``stsl-second-order-tweedie``.

Notation (as in the chapter). Data ``x_0`` in ``R^d`` with a Gaussian-mixture prior, noisy states
``x_t = alpha_t x_0 + sigma_t e`` on the VP-cosine path of :mod:`paperlab.generative.diffusion`
(time runs from data, ``t = 0``, to noise, ``t = 1``; the paper counts the other way), score
``s(x, t) = grad log p_t(x)`` and Hessian ``H(x, t) = grad^2 log p_t(x)``. A linear measurement
``y = A x_0 + n`` with ``n ~ N(0, sigma_y^2 I)``.

* Tweedie's formulas (chapter Eqs. (1)-(2); Eqs. (3)-(4) of the paper):
  ``E[x_0 | x_t] = (x_t + sigma_t^2 s) / alpha_t`` and
  ``Cov[x_0 | x_t] = (sigma_t^2 / alpha_t^2) (I + sigma_t^2 H)``: :func:`tweedie_moments`.
* The trace of ``H`` by a finite-difference Hutchinson estimator, one extra score call per
  probe: ``Tr H ~ (1/delta^2) eps^T (s(x + eps) - s(x))``, ``eps ~ N(0, delta^2 I)``
  (chapter Eq. (5)): :func:`hutchinson_trace_fd`.
* The STSL surrogate loss (chapter Eq. (6), the loss of Algorithm 1 of the paper)
  ``L(x_t) = lam ||y - A x0_hat(x_t)||^2 + (eta / d) Tr_hat H(x_t)``, minimized by ``inner``
  gradient steps before every DDIM step: :func:`stsl_sample`. With ``eta = 0`` it is the
  first-order (DPS/PSLD-style) sampler :func:`psld_sample`.

The exact oracles for a Gaussian mixture (torch score for autograd, numpy Hessian, the exact
posterior of a linear-Gaussian measurement), the chapter's experiment and its interactive figure
(:func:`draw`, :data:`SLIDERS`) are here too. No latent space: the decoder ``D`` of the paper is the
identity.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from matplotlib.figure import Figure

from ..cache import cached
from .. import nets, plotting
from .._validate import check_array, check_int, check_real
from ..data import GaussianMixture
from ..widgets import FloatSlider, IntSlider
from .diffusion import T_MAX, Schedule, gmm_score_fn, schedule

__all__ = ["TorchScoreFn", "torch_gmm_score", "gmm_hessian", "hutchinson_trace_fd", "tweedie_moments",
           "gmm_posterior", "ddim_step", "stsl_sample", "psld_sample", "chapter_gmm", "gmm8d",
           "posterior_metrics", "trace_check", "tweedie_check", "Experiment", "experiment", "draw",
           "SLIDERS"]

#: A differentiable score ``score(x, t) -> grad log p_t(x)``, ``x`` a float64 tensor ``(n, d)``.
TorchScoreFn = Callable[[torch.Tensor, float], torch.Tensor]


# --------------------------------------------------------------------------- exact oracles

def torch_gmm_score(gmm: GaussianMixture, sched: Schedule | str = "vp-cosine") -> TorchScoreFn:
    """The exact score of the diffused mixture as a differentiable torch function (float64).

    ``s(x, t) = -sum_k r_k(x) P_k (x - alpha_t m_k)`` with ``P_k = (alpha_t^2 S_k + sigma_t^2 I)^{-1}``
    and responsibilities ``r_k``: the same numbers as :func:`paperlab.generative.diffusion.gmm_score_fn`,
    written in torch so that a loss built from it can be differentiated with respect to ``x``
    (the paper back-propagates through its score network). Carries ``.numpy`` (the numpy score
    function) and ``.marginal(t)``.
    """
    np_score = gmm_score_fn(gmm, sched)
    cache: dict[float, tuple[torch.Tensor, ...]] = {}

    def params(t: float):
        if t not in cache:
            if len(cache) > 2048:
                cache.clear()
            mix = np_score.marginal(t)
            const = np.log(mix.weights) - 0.5 * (mix._logdet + mix.dim * np.log(2 * np.pi))
            cache[t] = (torch.as_tensor(mix.means), torch.as_tensor(mix._prec), torch.as_tensor(const))
        return cache[t]

    def score(x: torch.Tensor, t: float) -> torch.Tensor:
        m, P, c = params(float(t))
        diff = x[None, :, :] - m[:, None, :]                  # (k, n, d)
        pd = torch.einsum("knd,kde->kne", diff, P)
        logc = c[:, None] - 0.5 * (diff * pd).sum(-1)         # (k, n)
        r = torch.softmax(logc, dim=0)
        return -(r[..., None] * pd).sum(0)

    score.numpy = np_score  # type: ignore[attr-defined]
    score.marginal = np_score.marginal  # type: ignore[attr-defined]
    return score


def gmm_hessian(mix: GaussianMixture, x) -> np.ndarray:
    """Exact Hessian ``grad^2 log p(x)`` of a Gaussian mixture at each row of ``x``, ``(n, d, d)``.

    With ``g_k = -P_k (x - m_k)`` and responsibilities ``r_k``:
    ``H = sum_k r_k (g_k g_k^T - P_k) - s s^T``, ``s = sum_k r_k g_k`` (the score).
    """
    x = check_array("x", x, ndim=2, shape=(None, mix.dim))
    return _score_hessian(mix, x)[1]


def _score_hessian(mix: GaussianMixture, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Score and Hessian of a mixture at the rows of ``x`` (unchecked), from one pass."""
    r, _, pd = mix._terms(x)                                  # r (k, n), pd (k, n, d) = P_k(x - m_k)
    rpd = r[:, :, None] * pd
    s = -rpd.sum(0)
    H = np.einsum("kni,knj->nij", rpd, pd) - np.einsum("kn,kij->nij", r, mix._prec)
    return s, H - s[:, :, None] * s[:, None, :]


def gmm_posterior(gmm: GaussianMixture, A, y, sigma_y: float) -> GaussianMixture:
    """The exact posterior ``p(x | y)`` for ``y = A x + n``, ``n ~ N(0, sigma_y^2 I)``, under a
    Gaussian-mixture prior: again a mixture (Gaussian conjugacy, one Kalman update per component)."""
    A, y = _check_problem(A, y, gmm.dim)
    sigma_y = check_real("sigma_y", sigma_y, 0.0, lo_open=True)
    ws, ms, Ss = [], [], []
    for w, m, S in zip(gmm.weights, gmm.means, gmm.covs):
        Sy = A @ S @ A.T + sigma_y**2 * np.eye(A.shape[0])
        K = S @ A.T @ np.linalg.inv(Sy)
        r = y - A @ m
        ws.append(np.log(w) - 0.5 * (r @ np.linalg.solve(Sy, r) + np.linalg.slogdet(Sy)[1]))
        ms.append(m + K @ r)
        Ss.append(S - K @ A @ S)
    lw = np.array(ws)
    w = np.exp(lw - lw.max())
    keep = w > 1e-12 * w.sum()            # drop components with no posterior mass at all
    covs = np.array(Ss)[keep]
    covs = 0.5 * (covs + covs.transpose(0, 2, 1))
    return GaussianMixture(w[keep], np.array(ms)[keep], covs)


# --------------------------------------------------------------------------- the estimators

def hutchinson_trace_fd(score_fn: TorchScoreFn, x, t: float, n_probes: int = 1, delta: float = 1e-2,
                        seed: int | None = None, *, generator: torch.Generator | None = None,
                        score_x: torch.Tensor | None = None):
    """Finite-difference Hutchinson estimate of ``Tr grad^2 log p_t(x)`` at each row of ``x``:
    chapter Eq. (5), the second term of the STSL loss (Algorithm 1 of Rout et al. 2024).

    ``Tr_hat = (1 / n_probes) sum_p eps_p^T (s(x + eps_p) - s(x)) / delta^2``, ``eps_p ~ N(0, delta^2 I)``.
    Since ``s(x + eps) - s(x) = H eps + O(delta^2)`` and ``E[eps eps^T] = delta^2 I``, the mean is
    ``Tr H`` up to ``O(delta^2)``; the variance of one probe is ``2 ||H||_F^2``. Costs ``n_probes``
    extra score calls (``score_x``, if given, is reused for ``s(x)``). Differentiable in ``x``
    when ``x`` is a tensor; a numpy ``x`` gives a numpy result. Probes come from ``generator``,
    else from a generator seeded with ``seed`` (default 0).
    """
    n_probes = check_int("n_probes", n_probes, 1)
    delta = check_real("delta", delta, 0.0, lo_open=True)
    as_numpy = not isinstance(x, torch.Tensor)
    xt = torch.as_tensor(check_array("x", x, ndim=2)) if as_numpy else x
    if xt.ndim != 2:
        raise ValueError(f"x must be 2-dimensional (n, d), got shape {tuple(xt.shape)}")
    if generator is None:
        generator = torch.Generator().manual_seed(0 if seed is None else check_int("seed", seed, 0))
    s0 = score_fn(xt, t) if score_x is None else score_x
    total = torch.zeros(xt.shape[0], dtype=xt.dtype)
    for _ in range(n_probes):
        eps = delta * torch.randn(xt.shape, generator=generator, dtype=xt.dtype)
        total = total + (eps * (score_fn(xt + eps, t) - s0)).sum(1)
    est = total / (n_probes * delta * delta)
    return est.detach().numpy() if as_numpy else est


def tweedie_moments(score_fn, hess_fn, x, alpha: float, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """First- and second-order Tweedie: ``E[x_0 | x_t]`` and ``Cov[x_0 | x_t]`` at each row of ``x``
    (chapter Eqs. (1)-(2); Eqs. (3)-(4) of Rout et al. 2024).

    ``mean = (x + sigma^2 s(x)) / alpha``, ``cov = (sigma^2 / alpha^2) (I + sigma^2 H(x))`` with
    ``s = score_fn(x)`` ``(n, d)`` and ``H = hess_fn(x)`` ``(n, d, d)`` (numpy functions of ``x`` at
    the fixed time).
    """
    x = check_array("x", x, ndim=2)
    a = check_real("alpha", alpha, 0.0, lo_open=True)
    s = check_real("sigma", sigma, 0.0, lo_open=True)
    sc = np.asarray(score_fn(x), dtype=float)
    H = np.asarray(hess_fn(x), dtype=float)
    d = x.shape[1]
    if sc.shape != x.shape or H.shape != (x.shape[0], d, d):
        raise ValueError(f"score_fn must return shape {x.shape} and hess_fn {(x.shape[0], d, d)}; "
                         f"got {sc.shape} and {H.shape}")
    mean = (x + s * s * sc) / a
    cov = (s * s / (a * a)) * (np.eye(d)[None] + s * s * H)
    return mean, cov


# --------------------------------------------------------------------------- the samplers

def _check_problem(A, y, d: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    A = check_array("A", A, ndim=2)
    y = check_array("y", np.atleast_1d(y), ndim=1)
    if A.shape[0] != y.shape[0]:
        raise ValueError(f"A and y do not match: A has {A.shape[0]} rows, y has {y.shape[0]} entries "
                         f"(y = A x + noise needs one entry of y per row of A)")
    if d is not None and A.shape[1] != d:
        raise ValueError(f"A must have {d} columns (the data dimension), got shape {A.shape}")
    return A, y


def ddim_step(score_fn: TorchScoreFn, x: torch.Tensor, t: float, t_next: float, sched: Schedule) -> torch.Tensor:
    """One deterministic DDIM step on a continuous path (Song, Meng and Ermon 2021, Eq. (12),
    eta = 0): ``x' = alpha' x0_hat + sigma' eps_hat`` with ``x0_hat = (x + sigma^2 s) / alpha`` and
    ``eps_hat = -sigma s`` (chapter Eq. (3))."""
    return _ddim(score_fn, x, t, float(sched.alpha(t)), float(sched.sigma(t)),
                 float(sched.alpha(t_next)), float(sched.sigma(t_next)))


def _ddim(score_fn, x, t, a, s, a1, s1):
    with torch.no_grad():
        sc = score_fn(x, t)
        return a1 * (x + s * s * sc) / a - s1 * s * sc


def _torch_grad(score_fn: TorchScoreFn, sched: Schedule, A: torch.Tensor, y: torch.Tensor, lam: float, eta: float,
                delta: float, second_order: bool):
    """``grad L`` by autograd through the score (the paper's way: back-propagation through the
    score network)."""
    d = A.shape[1]

    def grad(x: torch.Tensor, t: float, a: float, s: float, gen: torch.Generator) -> torch.Tensor:
        xr = x.detach().requires_grad_(True)
        sx = score_fn(xr, t)
        x0 = (xr + s * s * sx) / a                            # first-order Tweedie, Eq. (1)
        loss = lam * ((y[None, :] - x0 @ A.T) ** 2).sum()     # particles are independent: sum
        if second_order:                                      # the STSL term (eta / d) Tr_hat H
            tr = hutchinson_trace_fd(score_fn, xr, t, 1, delta, generator=gen, score_x=sx)
            loss = loss + (eta / d) * tr.sum()
        return torch.autograd.grad(loss, xr)[0]

    return grad


def _gmm_grad(gmm: GaussianMixture, sched: Schedule, A: torch.Tensor, y: torch.Tensor, lam: float,
              eta: float, delta: float, second_order: bool):
    """``grad L`` in closed form for a Gaussian-mixture prior, from the exact Hessian ``H``:
    ``2 lam (I + sigma^2 H) A^T (A x0_hat - y) / alpha + (eta / d) (H(x + eps) - H(x)) eps / delta^2``."""
    marg = _cached_score(gmm, sched).marginal
    An, yn = A.numpy(), y.numpy()
    d = An.shape[1]

    def grad(x: torch.Tensor, t: float, a: float, s: float, gen: torch.Generator) -> torch.Tensor:
        mix = marg(t)
        xn = x.numpy()
        sx, H = _score_hessian(mix, xn)
        r = (xn + s * s * sx) / a @ An.T - yn[None, :]
        v = r @ An                                            # A^T (A x0_hat - y), per particle
        g = 2.0 * lam * (v + s * s * np.einsum("nij,nj->ni", H, v)) / a
        if second_order:
            eps = (delta * torch.randn(x.shape, generator=gen, dtype=x.dtype)).numpy()
            H1 = _score_hessian(mix, xn + eps)[1]
            g = g + (eta / d) * np.einsum("nij,nj->ni", H1 - H, eps) / (delta * delta)
        return torch.as_tensor(g)

    return grad


def _run(grad_maker, score_fn, A, y, sigma_y, n_steps, inner, lam, eta, step, delta, n, sched, seed,
         t_min, t_max, second_order: bool, return_path: bool):
    A, y = _check_problem(A, y)
    sigma_y = check_real("sigma_y", sigma_y, 0.0, lo_open=True)
    n_steps = check_int("n_steps", n_steps, 1)
    inner = check_int("inner", inner, 1)
    lam = 1.0 / sigma_y**2 if lam is None else check_real("lam", lam, 0.0, lo_open=True)
    eta = check_real("eta", eta, 0.0)
    step = check_real("step", step, 0.0)
    delta = check_real("delta", delta, 0.0, lo_open=True)
    n = check_int("n", n, 1)
    sc = schedule(sched) if isinstance(sched, str) else sched
    lo = check_real("t_min", t_min, 0.0, 1.0, lo_open=True)
    hi = check_real("t_max", t_max, lo, 1.0, lo_open=True, hi_open=True)
    d = A.shape[1]
    At, yt = torch.as_tensor(A), torch.as_tensor(y)
    grad = grad_maker(sc, At, yt, lam, eta, delta, second_order)
    gen = torch.Generator().manual_seed(check_int("seed", seed, 0))
    ts = np.linspace(hi, lo, n_steps + 1)
    alphas, sigmas = sc.alpha(ts), sc.sigma(ts)
    # Algorithm 1, initialization: forward-noise D^{-1}(A^T y) to the first time (D = identity).
    x = float(alphas[0]) * (At.T @ yt)[None, :] + float(sigmas[0]) * torch.randn(
        (n, d), generator=gen, dtype=torch.float64)
    path = [x.numpy().copy()] if return_path else None
    with nets.one_thread():
        for i in range(n_steps):
            t, a, s = float(ts[i]), float(alphas[i]), float(sigmas[i])
            zeta = step * s * s / (2.0 * lam)        # the inner step size, see the chapter
            for _ in range(inner):
                x = (x - zeta * grad(x, t, a, s, gen)).detach()
            x = _ddim(score_fn, x, t, a, s, float(alphas[i + 1]), float(sigmas[i + 1]))
            if path is not None:
                path.append(x.numpy().copy())
    return path if return_path else x.numpy()


def stsl_sample(score_fn: TorchScoreFn, A, y, sigma_y: float, n_steps: int = 50, inner: int = 5,
                lam: float | None = None, eta: float = 0.02, step: float = 1.0, seed: int = 0, *,
                delta: float = 1e-2, n: int = 300, sched: Schedule | str = "vp-cosine",
                t_min: float = 1e-3, t_max: float = T_MAX, return_path: bool = False):
    """STSL posterior sampling, Algorithm 1 of Rout et al. (2024) with the decoder ``D = I``.

    Start ``n`` particles at ``x_T = alpha_T A^T y + sigma_T z`` (forward noising of ``A^T y``). At
    each of ``n_steps`` times ``t`` (uniform from ``t_max`` down to ``t_min``), take ``inner``
    gradient steps ``x <- x - zeta_t grad L`` on the surrogate loss (chapter Eq. (6))

        ``L(x) = lam ||y - A x0_hat(x)||^2 + (eta / d) (1/delta^2) eps^T (s(x + eps) - s(x))``,

    one fresh probe ``eps ~ N(0, delta^2 I)`` per particle and step, differentiating through the
    score with autograd; then one DDIM step (:func:`ddim_step`). ``lam`` defaults to
    ``1 / sigma_y^2``; the inner step is ``zeta_t = step sigma_t^2 / (2 lam)``. ``eta = 0`` gives
    exactly :func:`psld_sample` with the same ``seed``. Score calls per time: ``2 inner + 1``.
    Returns the final particles ``(n, d)`` (or the list of states with ``return_path``).
    """
    grad = functools.partial(_torch_grad, score_fn)
    return _run(grad, score_fn, A, y, sigma_y, n_steps, inner, lam, eta, step, delta, n, sched, seed,
                t_min, t_max, True, return_path)


def psld_sample(score_fn: TorchScoreFn, A, y, sigma_y: float, n_steps: int = 50, inner: int = 5,
                lam: float | None = None, step: float = 1.0, seed: int = 0, *, n: int = 300,
                sched: Schedule | str = "vp-cosine", t_min: float = 1e-3, t_max: float = T_MAX,
                return_path: bool = False):
    """The first-order baseline: the same loop as :func:`stsl_sample` with only the measurement
    term ``lam ||y - A x0_hat(x)||^2`` (DPS/PSLD-style guidance through first-order Tweedie; in
    pixel space PSLD's gluing term vanishes). No probes are drawn."""
    grad = functools.partial(_torch_grad, score_fn)
    return _run(grad, score_fn, A, y, sigma_y, n_steps, inner, lam, 0.0, step, 1e-2, n, sched, seed,
                t_min, t_max, False, return_path)


@cached(maxsize=16)
def _cached_score(gmm: GaussianMixture, sched: Schedule):
    """:func:`gmm_score_fn` kept per (mixture, schedule), so its diffused mixtures are built once."""
    return gmm_score_fn(gmm, sched)


def stsl_sample_gmm(gmm: GaussianMixture, A, y, sigma_y: float, n_steps: int = 50, inner: int = 5,
                    lam: float | None = None, eta: float = 0.02, step: float = 1.0, seed: int = 0, *,
                    delta: float = 1e-2, n: int = 300, sched: Schedule | str = "vp-cosine",
                    t_min: float = 1e-3, t_max: float = T_MAX, return_path: bool = False):
    """:func:`stsl_sample` for a Gaussian-mixture prior with ``grad L`` in closed form (exact
    Hessians instead of autograd): the same iterates, the same probes, up to rounding, about ten
    times faster on small problems. The chapter's experiment and figure use it; the tests check
    it against the autograd version."""
    if not isinstance(gmm, GaussianMixture):
        raise ValueError(f"gmm must be a paperlab.data.GaussianMixture, got {type(gmm).__name__}")
    sc = schedule(sched) if isinstance(sched, str) else sched
    marg = _cached_score(gmm, sc).marginal

    def score_fn(x: torch.Tensor, t: float) -> torch.Tensor:
        return torch.as_tensor(marg(t).score(x.numpy()))

    grad = functools.partial(_gmm_grad, gmm)
    return _run(lambda _sc, *args: grad(sc, *args), score_fn, A, y, sigma_y, n_steps, inner, lam,
                eta, step, delta, n, sc, seed, t_min, t_max, True, return_path)


# --------------------------------------------------------------------------- the chapter's problems

def chapter_gmm() -> GaussianMixture:
    """The chapter's 2-D prior: four components at the corners of a square of side 3, unequal
    weights (0.2, 0.3, 0.35, 0.15), so that observing ``x_1`` leaves a two-mode posterior in ``x_2``."""
    means = np.array([[-1.5, -1.5], [-1.5, 1.5], [1.5, -1.5], [1.5, 1.5]])
    covs = np.array([np.diag([0.15, 0.10]), np.diag([0.10, 0.20]), np.diag([0.20, 0.12]),
                     np.diag([0.12, 0.15])])
    return GaussianMixture([0.2, 0.3, 0.35, 0.15], means, covs)


def gmm8d(seed: int = 0) -> GaussianMixture:
    """A random 8-D mixture of four anisotropic Gaussians (means of size about 3), for the checks."""
    g = np.random.default_rng([check_int("seed", seed, 0), 57])
    means = 1.5 * g.standard_normal((4, 8))
    covs = []
    for _ in range(4):
        B = g.standard_normal((8, 8)) / np.sqrt(8)
        covs.append(0.3 * B @ B.T + 0.05 * np.eye(8))
    return GaussianMixture(g.dirichlet(np.full(4, 4.0)), means, np.array(covs))


#: The chapter's measurement: the first coordinate, noise 0.1.
A_OBS = np.array([[1.0, 0.0]])
SIGMA_Y = 0.1


def posterior_metrics(x, post: GaussianMixture) -> dict[str, float]:
    """Compare samples ``x`` with the exact posterior ``post`` (a mixture).

    Each sample is assigned to the posterior component with the largest responsibility.
    ``mode_tv``: total-variation distance between the fractions assigned and the posterior
    weights. ``spread_ratio``: the within-component standard deviation of the samples (rms over
    coordinates, weighted by the posterior weights) over the exact one; 1 is right.
    """
    x = check_array("x", x, ndim=2, shape=(None, post.dim))
    r, _ = post._responsibilities(x)
    lab = r.argmax(1)
    frac = np.bincount(lab, minlength=len(post.weights)) / len(x)
    ratios, ws = [], []
    for k, w in enumerate(post.weights):
        pts = x[lab == k]
        if len(pts) >= 5:
            ratios.append(np.sqrt(np.mean(pts.var(0)) / np.mean(np.diag(post.covs[k]))))
            ws.append(w)
    spread = float(np.average(ratios, weights=ws)) if ws else float("nan")
    return {"mode_tv": float(0.5 * np.abs(frac - post.weights).sum()), "spread_ratio": spread,
            "frac": frac.tolist()}


def trace_check(gmm: GaussianMixture, t: float, n_points: int = 1000, n_probes: int = 256,
                delta: float = 1e-3, seed: int = 0) -> dict[str, float]:
    """Check (i): the FD-Hutchinson estimate against the exact ``Tr grad^2 log p_t`` at ``n_points``
    points ``x ~ p_t``. Returns the mean exact trace, the relative error of the mean estimate,
    and the rms per-point error over Hutchinson's prediction ``sqrt(2 ||H||_F^2 / n_probes)``."""
    sc = torch_gmm_score(gmm)
    mix = sc.marginal(check_real("t", t, 0.0, 1.0, lo_open=True))
    x = mix.sample(check_int("n_points", n_points, 2), seed=seed)
    H = gmm_hessian(mix, x)
    exact = np.trace(H, axis1=1, axis2=2)
    with nets.one_thread():
        est = hutchinson_trace_fd(sc, x, t, n_probes, delta, seed=seed)
    predicted = 2.0 * (H ** 2).sum((1, 2)) / n_probes
    return {"exact_mean": float(exact.mean()), "estimate_mean": float(est.mean()),
            "rel_err_of_mean": float(abs(est.mean() - exact.mean()) / abs(exact.mean())),
            "rms_err_over_theory": float(np.sqrt(np.mean((est - exact) ** 2) / np.mean(predicted)))}


def tweedie_check(gmm: GaussianMixture, t: float, points, n_mc: int = 100_000, seed: int = 0):
    """Check (ii): the second-order Tweedie covariance (:func:`tweedie_moments`) at each of
    ``points`` (``x_t`` values) against the covariance of ``n_mc`` exact draws of ``x_0 | x_t``.

    ``x_t = alpha x_0 + sigma e`` is a linear-Gaussian measurement of ``x_0``, so ``x_0 | x_t`` is
    the mixture :func:`gmm_posterior` (``A = alpha I``, noise ``sigma``). Returns the Tweedie
    covariances, the Monte Carlo ones and the relative Frobenius errors."""
    sc = gmm_score_fn(gmm)
    a, s = float(sc.schedule.alpha(t)), float(sc.schedule.sigma(t))
    mix = sc.marginal(t)
    pts = check_array("points", points, ndim=2, shape=(None, gmm.dim))
    _, cov = tweedie_moments(lambda x: sc(x, t), lambda x: gmm_hessian(mix, x), pts, a, s)
    mc, err = [], []
    for j, p in enumerate(pts):
        post = gmm_posterior(gmm, a * np.eye(gmm.dim), p, s)
        draws = post.sample(check_int("n_mc", n_mc, 10), seed=seed + j)
        C = np.cov(draws.T)
        mc.append(C)
        err.append(np.linalg.norm(cov[j] - C) / np.linalg.norm(C))
    return cov, np.array(mc), np.array(err)


# --------------------------------------------------------------------------- the experiment

ETAS = (0.0, 0.02, 0.1, 0.5)


@dataclass(frozen=True)
class Experiment:
    """The chapter's results. ``samples[eta]``: STSL particles (``eta = 0``: first order) for the
    observation ``y``; ``metrics[eta]``: :func:`posterior_metrics`; ``exact``: draws from the exact
    posterior; ``trace[(dim, t)]``: :func:`trace_check`; ``trace_delta`` and ``trace_probes``: the
    estimator's error against ``delta`` and the number of probes; ``tweedie``: check (ii) rows
    ``(dim, t, point, rel_err)``; ``tweedie_cov``: the 2-D covariances for the figure;
    ``psld_identical``: whether ``eta = 0`` reproduced :func:`psld_sample` bit for bit;
    ``autograd_vs_closed_form``: largest difference between :func:`stsl_sample` and
    :func:`stsl_sample_gmm` on the same problem."""

    y: float
    samples: dict
    metrics: dict
    exact: np.ndarray
    trace: dict
    trace_delta: tuple
    trace_probes: tuple
    tweedie: list
    tweedie_cov: list
    psld_identical: bool
    autograd_vs_closed_form: float


@cached(maxsize=2)
def experiment(y: float = 1.5, n: int = 600, seed: int = 0) -> Experiment:
    """Run everything the chapter shows (about three seconds); cached."""
    y = check_real("y", y, -3.0, 3.0)
    g2 = chapter_gmm()
    post = gmm_posterior(g2, A_OBS, [y], SIGMA_Y)
    samples, metrics = {}, {}
    for eta in ETAS:
        x = stsl_sample_gmm(g2, A_OBS, [y], SIGMA_Y, eta=eta, n=n, seed=seed)
        samples[eta], metrics[eta] = x, posterior_metrics(x, post)
    exact = post.sample(n, seed=seed + 1)

    trace = {}
    for dim, g in ((2, g2), (8, gmm8d(seed))):
        for t in (0.1, 0.5, 0.9):
            trace[(dim, t)] = trace_check(g, t, n_points=500, seed=seed)
    # the finite difference against delta: FD estimate minus the exact quadratic forms
    # z^T H z of the same 16 probes; the Hutchinson noise against the number of probes
    sc = torch_gmm_score(g2)
    mix = sc.marginal(0.5)
    xs = mix.sample(300, seed=seed)
    H = gmm_hessian(mix, xs)
    ex = np.trace(H, axis1=1, axis2=2)
    gz = torch.Generator().manual_seed(seed)
    z = np.stack([torch.randn(xs.shape, generator=gz, dtype=torch.float64).numpy() for _ in range(16)])
    quad = np.einsum("pni,nij,pnj->n", z, H, z) / 16
    deltas = np.geomspace(1e-7, 1.0, 15)
    probes = np.array([1, 4, 16, 64, 256])
    with nets.one_thread():
        d_err = [np.sqrt(np.mean((hutchinson_trace_fd(sc, xs, 0.5, 16, dl, seed=seed) - quad) ** 2))
                 for dl in deltas]
        p_err = [np.sqrt(np.mean((hutchinson_trace_fd(sc, xs, 0.5, int(k), 1e-3, seed=seed) - ex) ** 2))
                 for k in probes]
    p_theory = np.sqrt(np.mean(2.0 * (H ** 2).sum((1, 2)))) / np.sqrt(probes)

    rows, covs = [], []
    for dim, g in ((2, g2), (8, gmm8d(seed))):
        for t in (0.1, 0.5, 0.9):
            a = float(gmm_score_fn(g).schedule.alpha(t))
            pts = a * np.array([g.means[0], 0.5 * (g.means[0] + g.means[1])])
            cov, mc, err = tweedie_check(g, t, pts, seed=seed)
            rows += [(dim, t, j, float(e)) for j, e in enumerate(err)]
            if dim == 2:
                covs.append((t, pts, cov, mc))

    a = stsl_sample(sc, A_OBS, [y], SIGMA_Y, n_steps=10, inner=2, eta=0.0, n=50, seed=seed)
    b = psld_sample(sc, A_OBS, [y], SIGMA_Y, n_steps=10, inner=2, n=50, seed=seed)
    c = stsl_sample(sc, A_OBS, [y], SIGMA_Y, n_steps=10, inner=2, eta=0.5, n=50, seed=seed)
    e = stsl_sample_gmm(g2, A_OBS, [y], SIGMA_Y, n_steps=10, inner=2, eta=0.5, n=50, seed=seed)
    return Experiment(y=y, samples=samples, metrics=metrics, exact=exact, trace=trace,
                      trace_delta=(deltas, np.array(d_err)),
                      trace_probes=(probes, np.array(p_err), p_theory), tweedie=rows,
                      tweedie_cov=covs, psld_identical=bool(np.array_equal(a, b)),
                      autograd_vs_closed_form=float(np.abs(c - e).max()))


# --------------------------------------------------------------------------- interactive figure

_W_N, _W_STEPS = 250, 16


@cached(maxsize=1)
def _w_gmm() -> GaussianMixture:
    return chapter_gmm()


@cached(maxsize=64)
def _w_exact(y: float) -> tuple[GaussianMixture, np.ndarray]:
    post = gmm_posterior(_w_gmm(), A_OBS, [y], SIGMA_Y)
    return post, post.sample(_W_N, seed=1)


@cached(maxsize=256)
def _w_run(eta: float, inner: int, y: float) -> np.ndarray:
    return stsl_sample_gmm(_w_gmm(), A_OBS, [y], SIGMA_Y, n_steps=_W_STEPS, inner=inner, eta=eta,
                           n=_W_N, seed=0)


_GRID = np.linspace(-3.5, 3.5, 141)
_BINS = np.linspace(-3.5, 3.5, 36)


def draw(eta: float = 0.02, inner: int = 5, y: float = 1.5) -> Figure:
    """The chapter's interactive figure (chapter ``stsl-second-order-tweedie``, Explore).

    250 STSL particles, 16 DDIM steps with ``inner`` gradient steps each, weight ``eta`` of the
    trace term, observing ``x_1 = y`` with noise 0.1 under the chapter's 2-D prior. Left: the
    particles and exact posterior draws. Right: the unobserved coordinate ``x_2``, histogram of
    the particles against the exact posterior density.
    """
    eta = round(check_real("eta", eta, 0.0, 1.0), 4)
    inner = check_int("inner", inner, 1, 20)
    y = round(check_real("y", y, -3.0, 3.0), 3)
    post, ex = _w_exact(y)
    x = _w_run(eta, inner, y)
    m = posterior_metrics(x, post)
    blue, grey = plotting.PALETTE[0], "#9a9a9a"
    fig, (ax0, ax1) = plotting.figure(2, width=9.0, height=3.6, layout="fixed")
    ax0.scatter(*ex.T, s=5, color=grey, lw=0)
    ax0.scatter(*x.T, s=5, color=blue, lw=0)
    ax0.axvline(y, color=plotting.PALETTE[2], lw=0.8, ls="--")
    ax0.set(xlim=(-3.5, 3.5), ylim=(-3.5, 3.5), xticks=(-3, 0, 3), yticks=(-3, 0, 3))
    plotting.key(ax0, [("exact posterior", grey), (f"STSL, η = {eta:g}, K = {inner}", blue)])
    plotting.labels(ax0, "x₁ (observed)", "x₂", f"mode-weight error {m['mode_tv']:.2f}")
    # exact marginal density of x_2 under the posterior mixture
    dens = sum(w * np.exp(-0.5 * (_GRID - mu[1]) ** 2 / C[1, 1]) / np.sqrt(2 * np.pi * C[1, 1])
               for w, mu, C in zip(post.weights, post.means, post.covs))
    counts, edges = np.histogram(x[:, 1], bins=_BINS, density=True)
    ax1.stairs(counts, edges, fill=True, color=blue, alpha=0.6)
    ax1.plot(_GRID, dens, color="black", lw=1.2)
    ax1.set(xlim=(-3.5, 3.5), xticks=(-3, 0, 3))
    plotting.key(ax1, [("exact p(x₂ | y)", "black"), ("STSL particles", blue)])
    plotting.labels(ax1, "unobserved coordinate x₂", "density",
                    f"spread ratio {m['spread_ratio']:.2f} (exact: 1)")
    return fig


#: Slider box of :func:`draw`; the first entry (eta) is the website scrubber's parameter.
SLIDERS = {
    "eta": FloatSlider(0.0, 0.2, default=0.02, step=0.01, label="trace weight η"),
    "inner": IntSlider(1, 8, default=5, label="inner steps K"),
    "y": FloatSlider(-3.0, 3.0, default=1.5, step=0.1, label="observed y"),
}
