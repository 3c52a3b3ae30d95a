"""The diffusion toolkit of the generative part: schedules, exact mixture scores, samplers, MMD,
and a small score network trained by denoising score matching.

Every diffusion chapter stands on the same ground, built once here:

* a **Gaussian path** ``x_t = alpha_t x_0 + sigma_t e`` with ``e ~ N(0, I)`` and ``t`` in
  ``[0, 1]`` (:class:`Schedule`: VP-cosine, rectified flow, the linear-beta VP SDE and VE), with
  the drift ``f_t = alpha_t'/alpha_t`` and diffusion ``g_t^2 = 2 sigma_t^2 (sigma_t'/sigma_t -
  alpha_t'/alpha_t)`` of the forward SDE ``dx = f_t x dt + g_t dW`` that has these marginals;
* the **exact score** ``grad log p_t`` of a Gaussian-mixture data law (:func:`gmm_score_fn`),
  the reference every learned or approximate score is compared against: the diffused mixture is
  again a mixture (:meth:`paperlab.data.GaussianMixture.diffuse`);
* the **samplers**: the probability-flow ODE ``dx/dt = f_t x - g_t^2 score / 2`` by Euler or
  Heun (:func:`pf_ode_sample`), the reverse SDE ``dx = [f_t x - g_t^2 score] dt + g_t dW`` by
  Euler-Maruyama (:func:`reverse_sde_sample`), and DDIM on the discrete DDPM schedule
  (:func:`ddim_sample`, with :func:`alpha_bar`, :func:`make_timesteps` and :func:`gmm_eps` shared
  with chapter ``bdia-exact-inversion``);
* a two-sample distance, the unbiased RBF **MMD**² (:func:`mmd2`);
* a small **score network** (:func:`score_mlp`) trained by denoising score matching through the
  book's one training loop (:func:`train_dsm`, :func:`paperlab.nets.fit`), cached per session
  (:func:`trained_gmm_eps_net`) so chapters that share it train it once.

Conventions: arrays are ``(n, d)``; time runs from data (``t = 0``) to noise (``t = 1``);
samplers integrate from ``t_max`` (default :data:`T_MAX`) down to ``t_min`` on a uniform grid.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..cache import cached
from .. import nets
from .._validate import check_array, check_choice, check_int, check_real
from ..data import GaussianMixture, gmm2d
from .bdia import ALPHA_BAR, T_TRAIN, alpha_bar, ddim_delta, gmm_eps, make_timesteps

__all__ = ["Schedule", "SCHEDULES", "schedule", "ScoreFn", "gmm_score_fn", "eps_from_score",
           "x0_from_score", "velocity_from_score", "T_MAX", "time_grid", "pf_ode_sample",
           "reverse_sde_sample", "ddim_sample", "alpha_bar", "ALPHA_BAR", "T_TRAIN",
           "make_timesteps", "gmm_eps", "mmd2", "score_mlp", "train_dsm", "net_eps_fn",
           "net_score_fn", "trained_gmm_eps_net"]

#: A score function ``score(x, t) -> grad_x log p_t(x)`` with ``x`` of shape (n, d), float ``t``.
ScoreFn = Callable[[np.ndarray, float], np.ndarray]

SCHEDULES = ("vp-cosine", "rectified-flow", "vp-linear", "ve")


@dataclass(frozen=True)
class Schedule:
    """A Gaussian path ``x_t = alpha(t) x_0 + sigma(t) e`` for ``t`` in ``[0, 1]``.

    * ``"vp-cosine"``: ``alpha = cos(pi t / 2)``, ``sigma = sin(pi t / 2)``;
    * ``"rectified-flow"``: ``alpha = 1 - t``, ``sigma = t`` (straight lines from data to noise);
    * ``"vp-linear"``: the VP SDE of Song et al. (2021) with ``beta(t) = beta_min + t (beta_max -
      beta_min)``, ``alpha = exp(-int_0^t beta / 2)``, ``sigma = sqrt(1 - alpha^2)``;
    * ``"ve"``: ``alpha = 1``, ``sigma = sigma_min (sigma_max / sigma_min)^t``.
    """

    name: str = "vp-cosine"
    beta_min: float = 0.1
    beta_max: float = 20.0
    sigma_min: float = 0.01
    sigma_max: float = 10.0

    def __post_init__(self) -> None:
        check_choice("schedule", self.name, SCHEDULES)
        check_real("beta_min", self.beta_min, 0.0, lo_open=True)
        check_real("beta_max", self.beta_max, self.beta_min)
        check_real("sigma_min", self.sigma_min, 0.0, lo_open=True)
        check_real("sigma_max", self.sigma_max, self.sigma_min, lo_open=True)

    def _t(self, t):
        t = np.asarray(t, dtype=float)
        if not np.all(np.isfinite(t)) or np.any(t < 0) or np.any(t > 1):
            raise ValueError(f"t must be in [0, 1], got {t}")
        return t

    def alpha(self, t):
        """Signal scale ``alpha_t``."""
        t = self._t(t)
        if self.name == "vp-cosine":
            return np.cos(0.5 * np.pi * t)
        if self.name == "rectified-flow":
            return 1.0 - t
        if self.name == "vp-linear":
            return np.exp(-0.5 * (self.beta_min * t + 0.5 * (self.beta_max - self.beta_min) * t * t))
        return np.ones_like(t)

    def sigma(self, t):
        """Noise scale ``sigma_t``."""
        t = self._t(t)
        if self.name == "vp-cosine":
            return np.sin(0.5 * np.pi * t)
        if self.name == "rectified-flow":
            return t.copy()
        if self.name == "vp-linear":
            return np.sqrt(-np.expm1(-(self.beta_min * t + 0.5 * (self.beta_max - self.beta_min) * t * t)))
        return self.sigma_min * (self.sigma_max / self.sigma_min) ** t

    def dalpha(self, t):
        """``d alpha_t / dt``."""
        t = self._t(t)
        if self.name == "vp-cosine":
            return -0.5 * np.pi * np.sin(0.5 * np.pi * t)
        if self.name == "rectified-flow":
            return -np.ones_like(t)
        if self.name == "vp-linear":
            return -0.5 * self.beta(t) * self.alpha(t)
        return np.zeros_like(t)

    def dsigma(self, t):
        """``d sigma_t / dt``."""
        t = self._t(t)
        if self.name == "vp-cosine":
            return 0.5 * np.pi * np.cos(0.5 * np.pi * t)
        if self.name == "rectified-flow":
            return np.ones_like(t)
        if self.name == "vp-linear":
            a = self.alpha(t)
            return 0.5 * self.beta(t) * a * a / self.sigma(t)
        return self.sigma(t) * np.log(self.sigma_max / self.sigma_min)

    def beta(self, t):
        """``beta(t)`` of the linear VP SDE (only for ``"vp-linear"``)."""
        if self.name != "vp-linear":
            raise ValueError(f"beta(t) is defined for the 'vp-linear' schedule, not {self.name!r}")
        return self.beta_min + self._t(t) * (self.beta_max - self.beta_min)

    def drift(self, t):
        """``f_t = alpha_t' / alpha_t`` of the forward SDE ``dx = f_t x dt + g_t dW``."""
        return self.dalpha(t) / self.alpha(t)

    def g2(self, t):
        """``g_t^2 = 2 sigma_t^2 (sigma_t'/sigma_t - alpha_t'/alpha_t) = 2 (sigma sigma' - f sigma^2)``."""
        s = self.sigma(t)
        return 2.0 * (s * self.dsigma(t) - self.drift(t) * s * s)

    def log_snr(self, t):
        """Half log signal-to-noise ratio ``lambda_t = log(alpha_t / sigma_t)``."""
        return np.log(self.alpha(t)) - np.log(self.sigma(t))


def schedule(name: str = "vp-cosine", **kw) -> Schedule:
    """The :class:`Schedule` called ``name`` (one of :data:`SCHEDULES`)."""
    return Schedule(check_choice("schedule", name, SCHEDULES), **kw)


# --------------------------------------------------------------------------- exact scores

def gmm_score_fn(gmm: GaussianMixture | None = None, sched: Schedule | str = "vp-cosine") -> ScoreFn:
    """Exact ``score(x, t) = grad log p_t(x)`` for data ``x_0 ~ gmm`` on the path ``sched``.

    ``p_t`` is the mixture ``gmm.diffuse(alpha_t, sigma_t)`` (means ``alpha_t m_k``, covariances
    ``alpha_t^2 S_k + sigma_t^2 I``); the diffused mixtures are cached per time. The returned
    function also carries ``.marginal(t)`` (the mixture ``p_t``), ``.gmm`` and ``.schedule``.
    """
    g = gmm2d() if gmm is None else gmm
    if not isinstance(g, GaussianMixture):
        raise ValueError(f"gmm must be a paperlab.data.GaussianMixture, got {type(g).__name__}")
    sc = schedule(sched) if isinstance(sched, str) else sched
    cache: dict[float, GaussianMixture] = {}

    def marginal(t: float) -> GaussianMixture:
        t = check_real("t", t, 0.0, 1.0)
        if t not in cache:
            if len(cache) > 4096:
                cache.clear()
            cache[t] = g.diffuse(float(sc.alpha(t)), float(sc.sigma(t)))
        return cache[t]

    def score(x: np.ndarray, t: float) -> np.ndarray:
        return marginal(t).score(x)

    score.marginal = marginal  # type: ignore[attr-defined]
    score.gmm = g  # type: ignore[attr-defined]
    score.schedule = sc  # type: ignore[attr-defined]
    return score


def eps_from_score(score: np.ndarray, sigma: float) -> np.ndarray:
    """Noise prediction ``eps_hat = -sigma_t * score`` (Tweedie for the noise)."""
    return -check_real("sigma", sigma, 0.0, lo_open=True) * np.asarray(score)


def x0_from_score(x: np.ndarray, score: np.ndarray, alpha: float, sigma: float) -> np.ndarray:
    """Clean-data prediction ``x0_hat = (x + sigma_t^2 score) / alpha_t`` (Tweedie's formula)."""
    a = check_real("alpha", alpha, 0.0, lo_open=True)
    return (np.asarray(x) + sigma * sigma * np.asarray(score)) / a


def velocity_from_score(x: np.ndarray, score: np.ndarray, sched: Schedule, t: float) -> np.ndarray:
    """Probability-flow velocity ``v = f_t x - g_t^2 score / 2`` (equals ``alpha' x0_hat + sigma' eps_hat``)."""
    return float(sched.drift(t)) * np.asarray(x) - 0.5 * float(sched.g2(t)) * np.asarray(score)


# --------------------------------------------------------------------------- samplers

#: Default start time of the samplers. The VP-cosine and rectified-flow paths reach ``alpha = 0``
#: at ``t = 1``, where ``f_t = alpha'/alpha`` and ``g_t^2`` are infinite and score-based steps are
#: singular; starting at ``t = 0.995`` (``alpha_t <= 0.008``, so ``p_t`` is ``N(0, sigma_t^2 I)``
#: up to a tiny shift) keeps Euler/Heun/Euler-Maruyama steps stable for a few hundred steps.
T_MAX = 0.995


def time_grid(n_steps: int, t_min: float = 1e-3, t_max: float = T_MAX) -> np.ndarray:
    """``n_steps + 1`` uniform times from ``t_max`` down to ``t_min``."""
    n = check_int("n_steps", n_steps, 1)
    lo = check_real("t_min", t_min, 0.0, 1.0)
    hi = check_real("t_max", t_max, lo, 1.0, lo_open=True)
    return np.linspace(hi, lo, n + 1)


def _start(z) -> np.ndarray:
    z = check_array("z", z, ndim=2)
    if z.shape[0] == 0:
        raise ValueError("z must hold at least one particle")
    return z.copy()


def pf_ode_sample(score_fn: ScoreFn, sched: Schedule, z, n_steps: int, method: str = "heun",
                  t_min: float = 1e-3, t_max: float = T_MAX, return_path: bool = False):
    """Integrate the probability-flow ODE ``dx/dt = f_t x - g_t^2 score(x, t) / 2`` from ``t_max``
    to ``t_min`` with ``n_steps`` Euler or Heun steps (Heun: one Euler predictor, then the
    trapezoidal average of the two slopes; 2 score calls a step, second order).

    Returns the final states, or the list of states at every grid time if ``return_path``.
    """
    check_choice("method", method, ("euler", "heun"))
    ts = time_grid(n_steps, t_min, t_max)
    x = _start(z)

    def vel(x, t):
        return velocity_from_score(x, score_fn(x, float(t)), sched, float(t))

    path = [x.copy()] if return_path else None
    for t0, t1 in zip(ts[:-1], ts[1:]):
        h = t1 - t0
        d0 = vel(x, t0)
        xe = x + h * d0
        x = xe if method == "euler" else x + 0.5 * h * (d0 + vel(xe, t1))
        if path is not None:
            path.append(x.copy())
    return path if return_path else x


def reverse_sde_sample(score_fn: ScoreFn, sched: Schedule, z, n_steps: int, seed: int = 0,
                       t_min: float = 1e-3, t_max: float = T_MAX, return_path: bool = False):
    """Euler-Maruyama for the reverse SDE ``dx = [f_t x - g_t^2 score] dt + g_t dW_bar`` from
    ``t_max`` down to ``t_min`` (Anderson 1982; Song et al. 2021, Eq. (6)). Seeded noise."""
    ts = time_grid(n_steps, t_min, t_max)
    x = _start(z)
    rng = np.random.default_rng(check_int("seed", seed))
    path = [x.copy()] if return_path else None
    for t0, t1 in zip(ts[:-1], ts[1:]):
        dt = t0 - t1                                            # > 0, integrating backwards
        t = float(t0)
        g2 = float(sched.g2(t))
        x = x - dt * (float(sched.drift(t)) * x - g2 * score_fn(x, t)) \
            + np.sqrt(g2 * dt) * rng.standard_normal(x.shape)
        if path is not None:
            path.append(x.copy())
    return path if return_path else x


def ddim_sample(eps_fn: Callable[[np.ndarray, int], np.ndarray], z, timesteps, abar=None,
                return_path: bool = False):
    """Deterministic DDIM (Song, Meng and Ermon 2021, Eq. (12) with eta = 0) on the discrete
    DDPM schedule: ``z_{i-1} = z_i + Delta(t_i -> t_{i-1} | z_i)`` over ``timesteps`` (largest
    first), one ``eps_fn`` call a step. ``abar`` defaults to :data:`ALPHA_BAR`."""
    ab = ALPHA_BAR if abar is None else check_array("abar", abar, ndim=1)
    ts = np.asarray(timesteps)
    if ts.ndim != 1 or ts.size < 2 or np.any(np.diff(ts) >= 0) or ts[-1] < 0 or ts[0] >= ab.size:
        raise ValueError(f"timesteps must be at least 2 strictly decreasing integers in [0, {ab.size}), "
                         f"got {ts.tolist()}")
    x = _start(z)
    path = [x.copy()] if return_path else None
    for ti, tj in zip(ts[:-1], ts[1:]):
        x = x + ddim_delta(x, eps_fn(x, int(ti)), float(ab[ti]), float(ab[tj]))
        if path is not None:
            path.append(x.copy())
    return path if return_path else x


# --------------------------------------------------------------------------- two-sample distance

def mmd2(x, y, bandwidths=(0.2, 0.5, 1.0)) -> float:
    """Unbiased MMD² between samples ``x`` (n, d) and ``y`` (m, d) with a sum of RBF kernels
    ``k(a, b) = sum_h exp(-||a - b||^2 / (2 h^2))`` (Gretton et al. 2012, Eq. (3)).

    Zero in expectation when the two laws agree; may be slightly negative from sampling noise.
    """
    X = check_array("x", x, ndim=2)
    Y = check_array("y", y, ndim=2, shape=(None, X.shape[1]))
    if X.shape[0] < 2 or Y.shape[0] < 2:
        raise ValueError("mmd2 needs at least 2 points in each sample")
    hs = [check_real("bandwidth", h, 0.0, lo_open=True) for h in np.atleast_1d(bandwidths)]

    def gram_sum(A, B, same):
        sq = np.maximum((A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2.0 * A @ B.T, 0.0)
        K = sum(np.exp(-sq / (2.0 * h * h)) for h in hs)
        if same:
            n = A.shape[0]
            return (K.sum() - np.trace(K)) / (n * (n - 1))
        return K.mean()

    return float(gram_sum(X, X, True) + gram_sum(Y, Y, True) - 2.0 * gram_sum(X, Y, False))


# --------------------------------------------------------------------------- a small score network

class _TimeMLP(nn.Module):
    """MLP on ``(x, Fourier features of t)``; predicts the noise ``eps`` (shape of ``x``)."""

    def __init__(self, dim: int, width: int, depth: int, n_freq: int, seed: int) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.register_buffer("freq", torch.randn(n_freq, generator=g) * 8.0)
        self.body = nets.mlp([dim + 2 * n_freq] + [width] * depth + [dim], activation="gelu", seed=seed)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        ang = t.reshape(-1, 1) * self.freq[None, :]
        return self.body(torch.cat([x, torch.sin(ang), torch.cos(ang)], dim=1))


def score_mlp(dim: int = 2, width: int = 64, depth: int = 3, n_freq: int = 8, seed: int = 0) -> nn.Module:
    """A small noise-prediction network ``eps_theta(x, t)``: an MLP (GELU, ``depth`` hidden layers
    of ``width``) on ``x`` and random Fourier features of ``t``."""
    return _TimeMLP(check_int("dim", dim, 1), check_int("width", width, 1),
                    check_int("depth", depth, 1), check_int("n_freq", n_freq, 1), check_int("seed", seed))


def train_dsm(net: nn.Module, data, sched: Schedule | str = "vp-cosine", *, steps: int = 2000,
              batch: int = 256, lr: float = 2e-3, t_min: float = 1e-3, seed: int = 0) -> nets.History:
    """Denoising score matching (Vincent 2011; Ho et al. 2020, Eq. (14)) in eps-parameterization:
    minimise ``E_{x0, t, e} ||eps_theta(alpha_t x0 + sigma_t e, t) - e||^2`` with ``t ~ U[t_min, 1]``,
    minibatches of ``data`` (an (n, d) array), through :func:`paperlab.nets.fit`.
    The optimum is ``eps_theta = -sigma_t grad log p_t``."""
    X = torch.as_tensor(check_array("data", data, ndim=2), dtype=torch.float32)
    sc = schedule(sched) if isinstance(sched, str) else sched
    batch = check_int("batch", batch, 1)
    lo = check_real("t_min", t_min, 0.0, 1.0, hi_open=True)

    def loss_fn(gen: torch.Generator) -> torch.Tensor:
        idx = torch.randint(0, X.shape[0], (batch,), generator=gen)
        t = lo + (1 - lo) * torch.rand(batch, generator=gen, dtype=torch.float64)
        e = torch.randn(batch, X.shape[1], generator=gen)
        a = torch.as_tensor(sc.alpha(t.numpy()), dtype=torch.float32)[:, None]
        s = torch.as_tensor(sc.sigma(t.numpy()), dtype=torch.float32)[:, None]
        pred = net(a * X[idx] + s * e, t.float())
        return ((pred - e) ** 2).sum(1).mean()

    return nets.fit(net, loss_fn, steps=steps, lr=lr, seed=seed)


def net_eps_fn(net: nn.Module) -> Callable[[np.ndarray, float], np.ndarray]:
    """``eps(x, t)`` of a trained network as a numpy function (no gradients)."""
    @torch.no_grad()
    def eps(x: np.ndarray, t: float) -> np.ndarray:
        xt = torch.as_tensor(np.asarray(x), dtype=torch.float32)
        tt = torch.full((xt.shape[0],), float(t))
        return net(xt, tt).double().numpy()
    return eps


def net_score_fn(net: nn.Module, sched: Schedule) -> ScoreFn:
    """``score(x, t) = -eps_theta(x, t) / sigma_t`` of a trained network, as a numpy function."""
    eps = net_eps_fn(net)
    return lambda x, t: -eps(x, t) / float(sched.sigma(t))


@cached(maxsize=4)
def trained_gmm_eps_net(sched_name: str = "vp-cosine", steps: int = 3000, seed: int = 0) -> nn.Module:
    """The book's shared learned model: :func:`score_mlp` trained by :func:`train_dsm` on 20 000
    samples of :func:`paperlab.data.gmm2d`. Cached for the session (a few seconds on a CPU)."""
    data = gmm2d().sample(20_000, seed=seed)
    net = score_mlp(seed=seed)
    with nets.one_thread():
        train_dsm(net, data, schedule(sched_name), steps=steps, seed=seed)
    return net
