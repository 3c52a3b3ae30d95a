"""RED-diff: inverse problems as regularization by denoising diffusion (Mardani, Song, Kautz and
Vahdat, ICLR 2024).

Explained in chapter ``red-diff-variational-inverse``.

Notation (as in the chapter). Unknown ``x in R^d``, measurement ``y = A x + v``,
``v ~ N(0, sigma_v^2 I)``, ``A`` of shape ``(d_y, d)``. The diffusion prior is given by its noise
predictor ``eps_fn(x_t, alpha, sigma)`` on the path ``x_t = alpha x + sigma e``. RED-diff keeps a
point estimate ``mu`` and takes one Adam step per diffusion time on

    loss(mu) = w_t mean(sg(eps_hat - e) * mu) + v mean((y - A mu)^2) / 2,      (chapter Eq. (4))

with ``x_t = alpha_t mu + sigma_t e``, ``eps_hat = eps_fn(x_t)`` held fixed (``sg``: stop
gradient), ``w_t = lam * h(sigma_t / alpha_t)`` (``h`` the weighting) and ``v = 1 / sigma_v^2``;
the means run over the ``d`` entries of ``mu`` and the ``d_y`` entries of ``y``, as in the
official ``algos/reddiff.py``. Its gradient is

    grad = (w_t / d) (eps_hat - e) + (v / d_y) A^T (A mu - y).                  (Eq. (5))

This module holds :func:`reddiff` (the algorithm, on a batch of independent problems),
:func:`gaussian_prior_eps` and :func:`gmm_prior_eps` (exact noise predictors, no network),
:func:`reddiff_fixed_point` (the closed-form limit for a Gaussian prior and random times), the
two experiments of the chapter and its interactive figure.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from ..cache import cached
from .. import plotting
from .._validate import check_array, check_choice, check_int, check_real
from ..data import GaussianMixture, gmm2d
from ..optim.adan import adam_numpy
from ..widgets import Choice, LogSlider
from .diffusion import ALPHA_BAR

__all__ = ["EpsFn", "WEIGHTINGS", "T_ORDERS", "schedule_grid", "time_weights", "gaussian_prior_eps",
           "gmm_prior_eps", "reddiff", "reddiff_fixed_point", "DigitsExperiment", "digits_experiment",
           "posterior_modes", "gmm_runs", "draw", "SLIDERS"]

#: ``eps_fn(x_t, alpha, sigma) -> eps_hat``, ``x_t`` of shape ``(n, d)``.
EpsFn = Callable[[np.ndarray, float, float], np.ndarray]

#: Weightings ``h`` of ``w_t = lam h(sigma_t / alpha_t)`` (the official code's options).
WEIGHTINGS = ("inv_snr", "sqrt", "square", "log", "const")
#: Orders in which the diffusion times are visited.
T_ORDERS = ("descending", "random")


def schedule_grid(n: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """``(alphas, sigmas)`` at ``n`` evenly spaced times of the linear DDPM schedule (T = 1000),
    ordered from the cleanest to the noisiest: ``alpha = sqrt(abar_t)``, ``sigma = sqrt(1 - abar_t)``."""
    n = check_int("n", n, 1, ALPHA_BAR.size)
    t = np.round(np.linspace(0, ALPHA_BAR.size - 1, n)).astype(int)
    ab = ALPHA_BAR[t]
    return np.sqrt(ab), np.sqrt(1.0 - ab)


def _grid(alphas, sigmas) -> tuple[np.ndarray, np.ndarray]:
    a = check_array("alphas", alphas, ndim=1)
    s = check_array("sigmas", sigmas, ndim=1, shape=(a.size,))
    if a.size == 0 or np.any(a <= 0) or np.any(s <= 0):
        raise ValueError("alphas and sigmas must be non-empty arrays of positive numbers")
    return a, s


def time_weights(alphas, sigmas, lam: float = 0.25, weighting: str = "inv_snr") -> np.ndarray:
    """``w_t = lam h(sigma_t / alpha_t)`` with ``h`` = identity ("inv_snr", the paper's choice),
    ``sqrt``, ``square``, ``log(1 + .)`` ("log") or 1 ("const"): the denoiser weights of Eq. (4)
    of chapter ``red-diff-variational-inverse`` (the options of the official code)."""
    a, s = _grid(alphas, sigmas)
    lam = check_real("lam", lam, 0.0)
    check_choice("weighting", weighting, WEIGHTINGS)
    r = s / a
    h = {"inv_snr": r, "sqrt": np.sqrt(r), "square": r * r, "log": np.log1p(r),
         "const": np.ones_like(r)}[weighting]
    return lam * h


# --------------------------------------------------------------------------- exact priors

def gaussian_prior_eps(m, C) -> EpsFn:
    """The exact noise predictor of a Gaussian prior ``N(m, C)``:
    ``eps_hat(x_t) = sigma (alpha^2 C + sigma^2 I)^{-1} (x_t - alpha m)`` (Eq. (6) of chapter
    ``red-diff-variational-inverse``), through one eigendecomposition of ``C``."""
    m = check_array("m", m, ndim=1)
    C = check_array("C", C, ndim=2, shape=(m.size, m.size))
    lam, U = np.linalg.eigh(0.5 * (C + C.T))
    if lam.min() < 0:
        raise ValueError("C must be a covariance matrix (symmetric positive semi-definite)")

    def eps_fn(x: np.ndarray, alpha: float, sigma: float) -> np.ndarray:
        z = (np.asarray(x) - alpha * m) @ U
        return sigma * (z / (alpha * alpha * lam + sigma * sigma)) @ U.T

    eps_fn.m, eps_fn.C, eps_fn.eig = m, C, (lam, U)  # type: ignore[attr-defined]
    return eps_fn


def gmm_prior_eps(gmm: GaussianMixture | None = None) -> EpsFn:
    """The exact noise predictor ``-sigma grad log p_t`` of a Gaussian-mixture prior (default
    :func:`paperlab.data.gmm2d`); ``p_t`` is the mixture diffused to ``(alpha, sigma)``, cached."""
    g = gmm2d() if gmm is None else gmm
    if not isinstance(g, GaussianMixture):
        raise ValueError(f"gmm must be a paperlab.data.GaussianMixture, got {type(g).__name__}")

    @cached(maxsize=2048)
    def marginal(alpha: float, sigma: float) -> GaussianMixture:
        return g.diffuse(alpha, sigma)

    def eps_fn(x: np.ndarray, alpha: float, sigma: float) -> np.ndarray:
        return -sigma * marginal(float(alpha), float(sigma)).score(x)

    eps_fn.gmm = g  # type: ignore[attr-defined]
    return eps_fn


# --------------------------------------------------------------------------- the algorithm

def _problem(forward_op, y, sigma_v) -> tuple[np.ndarray, np.ndarray, float]:
    A = check_array("forward_op", forward_op, ndim=2)
    y = check_array("y", y)
    if y.ndim == 1:
        y = y[None, :]
    if y.ndim != 2 or y.shape[1] != A.shape[0]:
        raise ValueError(f"y must have the shape of the forward operator's output, (n, {A.shape[0]}) "
                         f"or ({A.shape[0]},); got {y.shape}")
    return A, y, check_real("sigma_v", sigma_v, 0.0, lo_open=True)


def reddiff(eps_fn: EpsFn, forward_op, y, sigma_v: float, alphas, sigmas, n_iter: int = 1000,
            lr: float = 0.1, lam: float = 0.25, weighting: str = "inv_snr",
            t_order: str = "descending", seed: int = 0, mu0=None,
            sigma_x0: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """RED-diff (Algorithm 1 of Mardani et al. 2024; official ``algos/reddiff.py``) for a linear
    forward operator ``A = forward_op``, on a batch of independent problems (rows of ``y``).

    Start at ``mu = A^+ y`` (the pseudo-inverse; or ``mu0``). At each of ``n_iter`` steps pick a
    diffusion time (``t_order`` "descending": from the noisiest to the cleanest of the grid
    ``alphas, sigmas``, which runs clean to noisy; "random": uniformly at random), draw
    ``e ~ N(0, I)``, form ``x0 = mu + sigma_x0 xi`` and ``x_t = alpha_t x0 + sigma_t e``, evaluate
    ``eps_hat = eps_fn(x_t, alpha_t, sigma_t)`` without gradient, and take one Adam step
    (betas 0.9, 0.99, as the official code) on the loss of Eq. (4) of chapter
    ``red-diff-variational-inverse``, whose gradient is Eq. (5). Returns ``(mu, trace)``, the
    final estimates ``(n, d)`` and all iterates ``(n_iter + 1, n, d)``.
    """
    A, Y, sv = _problem(forward_op, y, sigma_v)
    a, s = _grid(alphas, sigmas)
    n_iter = check_int("n_iter", n_iter, 1)
    lr = check_real("lr", lr, 0.0, lo_open=True)
    w = time_weights(a, s, lam, weighting)
    check_choice("t_order", t_order, T_ORDERS)
    sigma_x0 = check_real("sigma_x0", sigma_x0, 0.0)
    if not callable(eps_fn):
        raise ValueError(f"eps_fn must be a function eps_fn(x_t, alpha, sigma), got {eps_fn!r}")
    n, (dy, d) = Y.shape[0], A.shape
    if mu0 is None:
        mu = Y @ np.linalg.pinv(A).T
    else:
        mu = check_array("mu0", mu0, ndim=2, shape=(n, d)).copy()
    g = np.random.default_rng([check_int("seed", seed, 0), 84])
    if t_order == "descending":
        idx = np.round(np.linspace(a.size - 1, 0, n_iter)).astype(int)
    else:
        idx = g.integers(0, a.size, n_iter)
    v = 1.0 / (sv * sv)
    step = [0]

    def grad(flat: np.ndarray) -> np.ndarray:
        k = idx[step[0]]
        step[0] += 1
        m = flat.reshape(n, d)
        x0 = m + sigma_x0 * g.standard_normal(m.shape) if sigma_x0 > 0 else m
        e = g.standard_normal(m.shape)
        eps_hat = np.asarray(eps_fn(a[k] * x0 + s[k] * e, a[k], s[k]), dtype=float)
        if eps_hat.shape != m.shape:
            raise ValueError(f"eps_fn returned shape {eps_hat.shape} for states of shape {m.shape}")
        return ((w[k] / d) * (eps_hat - e) + (v / dy) * (x0 @ A.T - Y) @ A).ravel()

    xs = adam_numpy(grad, mu.ravel(), n_iter, lr=lr, betas=(0.9, 0.99))
    trace = xs.reshape(n_iter + 1, n, d)
    return trace[-1], trace


def reddiff_fixed_point(A, y, v: float, m, C, weights, alphas, sigmas) -> np.ndarray:
    """The limit of RED-diff with random times for a Gaussian prior ``N(m, C)`` (Eq. (7) of
    chapter ``red-diff-variational-inverse``).

    With the exact ``eps_hat`` of :func:`gaussian_prior_eps`,
    ``E_e[eps_hat(alpha mu + sigma e) - e] = alpha sigma M_t (mu - m)``,
    ``M_t = (alpha^2 C + sigma^2 I)^{-1}``. So the expected gradient (5) vanishes at

        mu* = (v/d_y A^T A + P/d)^{-1} (v/d_y A^T y + P m / d),   P = mean_t w_t alpha_t sigma_t M_t,

    with the same mean-reduction constants ``1/d`` and ``1/d_y`` as the loss. ``v = 1/sigma_v^2``;
    ``weights`` are the ``w_t`` of the grid (:func:`time_weights`). ``y`` may hold a batch.
    """
    A = check_array("A", A, ndim=2)
    Y = check_array("y", y)
    Y1 = Y[None, :] if Y.ndim == 1 else Y
    if Y1.ndim != 2 or Y1.shape[1] != A.shape[0]:
        raise ValueError(f"y must have {A.shape[0]} entries per row, got shape {Y.shape}")
    v = check_real("v", v, 0.0, lo_open=True)
    m = check_array("m", m, ndim=1, shape=(A.shape[1],))
    C = check_array("C", C, ndim=2, shape=(m.size, m.size))
    a, s = _grid(alphas, sigmas)
    w = check_array("weights", weights, ndim=1, shape=(a.size,))
    dy, d = A.shape
    lam, U = np.linalg.eigh(0.5 * (C + C.T))
    p_eig = np.mean(w[:, None] * a[:, None] * s[:, None]
                    / (a[:, None] ** 2 * lam[None, :] + s[:, None] ** 2), axis=0)
    P = (U * p_eig) @ U.T
    H = (v / dy) * A.T @ A + P / d
    rhs = (v / dy) * Y1 @ A + (P @ m / d)[None, :]
    out = np.linalg.solve(H, rhs.T).T
    return out[0] if Y.ndim == 1 else out


# --------------------------------------------------------------------------- experiment (a): digits

@dataclass(frozen=True)
class DigitsExperiment:
    """Results of :func:`digits_experiment` (pixels scaled to [-1, 1]).

    ``x`` the true test images ``(n, 64)``, ``mask`` the observed pixels, ``y`` the noisy
    observations, ``mu_star`` the fixed point (7), ``mu_random`` the average of the last half of
    the random-time iterates, ``mu_descending`` the final descending-time estimate,
    ``rel_error`` ``||mu_random - mu_star|| / ||mu_star||``, ``residual_*`` ``||y - A mu||``
    (over the whole batch), ``trace_error`` the relative distance of the running average to
    ``mu_star`` along the random-time run.
    """

    x: np.ndarray
    mask: np.ndarray
    y: np.ndarray
    mu_star: np.ndarray
    mu_random: np.ndarray
    mu_descending: np.ndarray
    rel_error: float
    residual_star: float
    residual_descending: float
    trace_error: np.ndarray


@cached(maxsize=1)
def digits_prior(shrinkage: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian prior ``N(m, C)`` of 8x8 digits scaled to [-1, 1]: mean and shrunk covariance
    ``C = (1 - r) S + r tr(S)/64 I`` of the 1437 training images of :func:`paperlab.data.digits`."""
    from ..data import digits
    X = digits(standardize=False).X_train.astype(float) / 8.0 - 1.0
    S = np.cov(X, rowvar=False)
    r = check_real("shrinkage", shrinkage, 0.0, 1.0)
    return X.mean(0), (1 - r) * S + r * np.trace(S) / S.shape[0] * np.eye(S.shape[0])


@cached(maxsize=8)
def digits_experiment(seed: int = 0, n_images: int = 6, noise: float = 0.05, sigma_v: float = 1.0,
                      lam: float = 0.25,
                      weighting: str = "inv_snr", n_random: int = 2000, n_desc: int = 1000,
                      lr: float = 0.1) -> DigitsExperiment:
    """Experiment (a): inpaint ``n_images`` test digits with half the pixels missing (one random
    mask), observed with noise ``sigma_v``, by RED-diff with the exact Gaussian-prior eps.
    Random times: ``n_random`` Adam steps, averaged over the last half; descending times:
    ``n_desc`` steps. Compared with the closed form (7)."""
    from ..data import digits
    seed = check_int("seed", seed, 0)
    n_images = check_int("n_images", n_images, 1, 360)
    m, C = digits_prior()
    g = np.random.default_rng([seed, 8484])
    Xte = digits(standardize=False).X_test.astype(float) / 8.0 - 1.0
    x = Xte[g.choice(Xte.shape[0], n_images, replace=False)]
    mask = np.sort(g.choice(64, 32, replace=False))
    A = np.eye(64)[mask]
    y = x @ A.T + check_real("noise", noise, 0.0) * g.standard_normal((n_images, 32))
    eps = gaussian_prior_eps(m, C)
    a, s = schedule_grid(1000)
    w = time_weights(a, s, lam, weighting)
    mu_star = reddiff_fixed_point(A, y, 1 / sigma_v**2, m, C, w, a, s)
    _, tr = reddiff(eps, A, y, sigma_v, a, s, n_iter=n_random, lr=lr, lam=lam, weighting=weighting,
                    t_order="random", seed=seed)
    half = n_random // 2
    mu_rand = tr[half + 1:].mean(axis=0)
    mu_desc, _ = reddiff(eps, A, y, sigma_v, a, s, n_iter=n_desc, lr=lr, lam=lam,
                         weighting=weighting, t_order="descending", seed=seed)
    ns = np.linalg.norm(mu_star)
    running = np.cumsum(tr[1:], axis=0) / np.arange(1, n_random + 1)[:, None, None]
    trace_err = np.linalg.norm((running - mu_star).reshape(n_random, -1), axis=1) / ns
    return DigitsExperiment(
        x=x, mask=mask, y=y, mu_star=mu_star, mu_random=mu_rand, mu_descending=mu_desc,
        rel_error=float(np.linalg.norm(mu_rand - mu_star) / ns),
        residual_star=float(np.linalg.norm(y - mu_star @ A.T)),
        residual_descending=float(np.linalg.norm(y - mu_desc @ A.T)), trace_error=trace_err)


# --------------------------------------------------------------------------- experiment (b): 2-D GMM

#: The 2-D demonstration: prior gmm2d, observation of the first coordinate.
GMM_Y, GMM_SIGMA_V = 1.0, 0.1
GMM_A = np.array([[1.0, 0.0]])


@cached(maxsize=4)
def posterior_modes(y: float = GMM_Y, sigma_v: float = GMM_SIGMA_V) -> np.ndarray:
    """Modes of ``p(x | y) ∝ gmm2d(x) N(y; x_1, sigma_v^2)`` with non-negligible mass: the posterior
    is a Gaussian mixture (conjugacy); its modes are found by gradient ascent from each
    component's posterior mean and de-duplicated."""
    g = gmm2d()
    a = GMM_A[0]
    ws, ms, Ss = [], [], []
    for wk, mk, Sk in zip(g.weights, g.means, g.covs):
        sy = a @ Sk @ a + sigma_v**2
        gain = Sk @ a / sy
        ms.append(mk + gain * (y - a @ mk))
        Ss.append(Sk - np.outer(gain, a @ Sk))
        ws.append(wk * np.exp(-0.5 * (y - a @ mk) ** 2 / sy) / np.sqrt(sy))
    post = GaussianMixture(np.array(ws) / sum(ws), np.array(ms), np.array(Ss))
    modes = []
    for k in np.flatnonzero(post.weights > 1e-3):
        x = post.means[k][None, :].copy()
        for _ in range(2000):
            x = x + 0.01 * post.score(x)
        if all(np.linalg.norm(x[0] - q) > 1e-3 for q in modes):
            modes.append(x[0])
    return np.array(modes)


@cached(maxsize=256)
def gmm_runs(lam: float = 0.25, weighting: str = "inv_snr", t_order: str = "descending",
             n_runs: int = 200, n_iter: int = 2000, seed: int = 0, lr: float = 0.05) -> np.ndarray:
    """Experiment (b): ``n_runs`` RED-diff runs on the 2-D mixture prior from random starts
    ``A^+ y + N(0, I)``, observing ``y = x_1 + noise`` (``GMM_Y``, ``GMM_SIGMA_V``), on the time
    grid :func:`schedule_grid` (at most 1000 times; with more steps each time is visited
    repeatedly). Returns the trace ``(n_iter + 1, n_runs, 2)``."""
    g = np.random.default_rng([check_int("seed", seed, 0), 284])
    y = np.full((check_int("n_runs", n_runs, 1), 1), GMM_Y)
    mu0 = y @ np.linalg.pinv(GMM_A).T + g.standard_normal((n_runs, 2))
    a, s = schedule_grid(min(n_iter, 1000))
    return reddiff(_gmm_eps(), GMM_A, y, GMM_SIGMA_V, a, s, n_iter=n_iter, lr=lr, lam=lam,
                   weighting=weighting, t_order=t_order, seed=seed, mu0=mu0)[1]


@cached(maxsize=1)
def _gmm_eps() -> EpsFn:
    return gmm_prior_eps()


def near_mode_fraction(points, radius: float = 0.3) -> float:
    """Fraction of ``points`` within ``radius`` of a posterior mode (:func:`posterior_modes`)."""
    p = check_array("points", points, ndim=2, shape=(None, 2))
    d = np.linalg.norm(p[:, None, :] - posterior_modes()[None], axis=2).min(axis=1)
    return float(np.mean(d < check_real("radius", radius, 0.0, lo_open=True)))


# --------------------------------------------------------------------------- interactive figure

_W_RUNS, _W_ITER = 64, 300


@cached(maxsize=1)
def _density_grid() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xs, ys = np.meshgrid(np.linspace(-4, 4, 90), np.linspace(-3, 4, 80))
    z = np.exp(gmm2d().log_prob(np.c_[xs.ravel(), ys.ravel()])).reshape(xs.shape)
    return xs, ys, z


def draw(lam: float = 0.25, weighting: str = "inv_snr", t_order: str = "descending") -> Figure:
    """The chapter's interactive figure (chapter ``red-diff-variational-inverse``, Explore).

    64 RED-diff runs of 300 steps on the 2-D mixture prior, observing ``x_1 = 1`` with noise 0.1.
    Left: the prior, the observation line, the posterior modes and where the runs end. Right:
    the unobserved coordinate ``mu_2`` of every run against the step.
    """
    lam = float(f"{check_real('lam', lam, 0.0):.3g}")
    check_choice("weighting", weighting, WEIGHTINGS)
    check_choice("t_order", t_order, T_ORDERS)
    tr = gmm_runs(lam, weighting, t_order, n_runs=_W_RUNS, n_iter=_W_ITER, lr=0.1)
    modes = posterior_modes()
    end = tr[-1]
    frac = near_mode_fraction(end)
    fig, (ax0, ax1) = plotting.figure(2, width=9.0, height=3.6, layout="fixed")
    xs, ys, z = _density_grid()
    ax0.imshow(z, extent=(-4, 4, -3, 4), origin="lower", cmap="Greys", alpha=0.45, aspect="auto",
               interpolation="bilinear")            # the prior density (cheaper than contours)
    ax0.axvline(GMM_Y, color=plotting.PALETTE[2], lw=1, ls="--")
    ax0.scatter(end[:, 0], end[:, 1], s=8, color=plotting.PALETTE[0], lw=0, zorder=3)
    ax0.scatter(modes[:, 0], modes[:, 1], s=70, marker="*", color=plotting.PALETTE[3], zorder=4)
    ax0.set(xlim=(-4, 4), ylim=(-3, 4))
    plotting.key(ax0, [("observed x₁ = 1", plotting.PALETTE[2], "|"),
                       ("posterior modes", plotting.PALETTE[3], "\u2605"),
                       (f"final μ ({100 * frac:.0f} % near a mode)", plotting.PALETTE[0])])
    plotting.labels(ax0, "x₁", "x₂", f"λ = {lam:.3g}, {weighting}, {t_order}")
    steps = np.arange(tr.shape[0])
    ax1.add_collection(LineCollection(np.stack([np.broadcast_to(steps[:, None], tr.shape[:2]),
                                                 tr[:, :, 1]], axis=-1).transpose(1, 0, 2),
                                       colors=plotting.PALETTE[0], linewidths=0.5, alpha=0.35))
    for q in modes[:, 1]:
        ax1.axhline(q, color=plotting.PALETTE[3], lw=1, ls=":")
    ax1.set(xlim=(0, tr.shape[0] - 1), ylim=(-3, 4))
    plotting.labels(ax1, "Adam step (noisy t → clean t)" if t_order == "descending" else
                    "Adam step (random t)", "unobserved coordinate μ₂", "the runs")
    return fig


#: Slider box of :func:`draw`; the first entry (lam) is the website scrubber's parameter.
SLIDERS = {
    "lam": LogSlider(0.01, 2.0, default=0.25, label="regularization λ"),
    "weighting": Choice(WEIGHTINGS[:2] + ("const",), default="inv_snr", label="weighting"),
    "t_order": Choice(T_ORDERS, default="descending", label="time order"),
}
