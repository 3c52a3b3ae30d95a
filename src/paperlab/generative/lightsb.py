"""Light Schrödinger Bridge (Korotin, Gushchin and Burnaev, ICLR 2024).

Explained in chapter ``light-sb``.

Notation (as in the chapter). ``p0`` and ``p1`` are the source and target laws on ``R^d``;
``epsilon > 0`` is the variance of the reference Wiener process (the entropic regularization).
The Schrödinger bridge's static part is the entropic optimal transport plan ``pi*(x, y)``. The
*adjusted Schrödinger potential* is parameterized as a Gaussian mixture (Eq. (3) of the chapter)

    v_theta(y) = sum_k alpha_k N(y | r_k, epsilon S_k),

with weights ``alpha_k > 0``, means ``r_k`` and positive definite ``S_k``. Completing the square
gives the normalizer (Eq. (4))

    c_theta(x) = sum_k alpha_k exp((x^T S_k x + 2 r_k^T x) / (2 epsilon))

and the conditional plan, again a Gaussian mixture (Eq. (5)),

    pi_theta(y | x) = sum_k [alpha_k exp(...)/c_theta(x)] N(y | r_k + S_k x, epsilon S_k).

LightSB learns ``theta = (log alpha, r, S)`` by minimizing (Eq. (6))

    L(theta) = E_{x ~ p0} log c_theta(x) - E_{y ~ p1} log v_theta(y),

which equals ``KL(pi* || pi_theta)`` up to an additive constant. The process itself is the
mixture of Brownian bridges between ``x`` and ``y ~ pi_theta(.|x)`` (Eq. (7)).

This module holds the solver (:class:`LightSB`), the closed-form Gaussian oracle
(:func:`gaussian_eot_plan`), the target of the 2-D experiment (:func:`eight_gaussians`), the
chapter's experiments (:func:`gaussian_experiment`, :func:`mixture_models`) and its
interactive figure (:func:`draw`, :data:`SLIDERS`).

Parameterization details follow the official code (``github.com/ngushchin/LightSB``,
``src/light_sb.py``): ``log alpha = log_alpha_raw / epsilon`` (so the weights' logits live on the
same ``1/epsilon`` scale as the exponent of ``c_theta``), ``r_k`` initialized at samples of
``p1``, diagonal ``S_k = exp(log s_k)`` initialized at 0.1. For a full ``S_k`` the official code
uses a rotation times a diagonal; we use ``L_k L_k^T + 1e-4 I``, as in the chapter spec.
"""
from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from torch import nn

from ..cache import cached
from .. import nets, plotting
from .._validate import check_array, check_int, check_real
from ..data import GaussianMixture
from ..widgets import Choice, FloatSlider, IntSlider
from .diffusion import mmd2

__all__ = ["LightSB", "gaussian_eot_plan", "eight_gaussians", "GaussianFit", "gaussian_experiment",
           "mixture_models", "mixture_mmd", "EPSILONS", "draw", "SLIDERS"]

_DT = torch.float64
#: Below this epsilon the exponents of c_theta grow like 1/epsilon: a warning is issued.
EPS_WARN = 1e-3


def _check_epsilon(epsilon) -> float:
    eps = check_real("epsilon", epsilon, 0.0, lo_open=True)
    if eps < EPS_WARN:
        warnings.warn(f"epsilon = {eps:g} < {EPS_WARN:g}: the log-sum-exp arguments scale like "
                      f"1/epsilon and training becomes badly conditioned", RuntimeWarning,
                      stacklevel=3)
    return eps


def _points(name: str, x, dim: int) -> np.ndarray:
    """An (n, dim) array of finite points (a single point of shape (dim,) is accepted)."""
    arr = check_array(name, x)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != dim or arr.shape[0] == 0:
        raise ValueError(f"{name} must have shape (n, {dim}) with n >= 1 (dimension {dim} of the "
                         f"model), got {np.shape(x)}")
    return arr


Sampler = Callable[[int, torch.Generator], np.ndarray]


def _sampler(name: str, s, dim: int) -> Callable[[int, torch.Generator], torch.Tensor]:
    """Turn an (n, dim) data array or a function ``f(n, generator) -> (n, dim)`` into a sampler."""
    if callable(s):
        probe = torch.as_tensor(np.asarray(s(2, torch.Generator().manual_seed(0))), dtype=_DT)
        if probe.ndim != 2 or probe.shape[1] != dim:
            raise ValueError(f"{name}(n, generator) must return an (n, {dim}) array, got shape "
                             f"{tuple(probe.shape)}")
        return lambda n, gen: torch.as_tensor(np.asarray(s(n, gen)), dtype=_DT)
    data = torch.as_tensor(_points(name, s, dim), dtype=_DT)
    return lambda n, gen: data[torch.randint(0, data.shape[0], (n,), generator=gen)]


class LightSB(nn.Module):
    """The LightSB solver: a Gaussian-mixture adjusted Schrödinger potential (chapter ``light-sb``).

    ``dim`` is the data dimension, ``n_components`` the number ``K`` of mixture components,
    ``epsilon`` the variance of the reference Wiener process, ``diagonal`` chooses diagonal
    ``S_k = diag(exp(log s_k))`` or full ``S_k = L_k L_k^T + 1e-4 I``. Parameters are initialized
    from ``seed`` (``r_k ~ N(0, I)`` until :meth:`fit` sets them to samples of ``p1``).
    """

    def __init__(self, dim: int, n_components: int = 8, epsilon: float = 0.1,
                 diagonal: bool = True, seed: int = 0) -> None:
        super().__init__()
        self.dim = check_int("dim", dim, 1)
        self.n_components = check_int("n_components", n_components, 1)
        self.epsilon = _check_epsilon(epsilon)
        if not isinstance(diagonal, (bool, np.bool_)):
            raise ValueError(f"diagonal must be True or False, got {diagonal!r}")
        self.diagonal = bool(diagonal)
        seed = check_int("seed", seed, 0)
        g = torch.Generator().manual_seed(seed)
        K, d = self.n_components, self.dim
        # log alpha = log_alpha_raw / epsilon (official parameterization); uniform weights at start
        self.log_alpha_raw = nn.Parameter(torch.full((K,), self.epsilon * math.log(1.0 / K), dtype=_DT))
        self.r = nn.Parameter(torch.randn(K, d, generator=g, dtype=_DT))
        if self.diagonal:
            self.log_s = nn.Parameter(torch.full((K, d), math.log(0.1), dtype=_DT))
        else:
            self.L = nn.Parameter(math.sqrt(0.1) * torch.eye(d, dtype=_DT).repeat(K, 1, 1))

    # ------------------------------------------------------------------ parameters
    def log_alpha(self) -> torch.Tensor:
        """``log alpha_k``, shape (K,)."""
        return self.log_alpha_raw / self.epsilon

    def S(self) -> torch.Tensor:
        """The matrices ``S_k`` as a (K, d, d) tensor (diagonal or ``L L^T + 1e-4 I``)."""
        if self.diagonal:
            return torch.diag_embed(torch.exp(self.log_s))
        return self.L @ self.L.transpose(1, 2) + 1e-4 * torch.eye(self.dim, dtype=_DT)

    # ------------------------------------------------------------------ the two log-potentials
    def _log_c(self, x: torch.Tensor) -> torch.Tensor:
        """``log c_theta(x)`` (Eq. (4)): logsumexp_k [log alpha_k + (x^T S_k x + 2 r_k^T x)/(2 eps)]."""
        if self.diagonal:
            xSx = (x * x) @ torch.exp(self.log_s).T
        else:
            xSx = torch.einsum("ni,kij,nj->nk", x, self.S(), x)
        arg = self.log_alpha()[None, :] + (xSx + 2.0 * x @ self.r.T) / (2.0 * self.epsilon)
        return torch.logsumexp(arg, dim=1)

    def _log_v(self, y: torch.Tensor) -> torch.Tensor:
        """``log v_theta(y)`` (Eq. (3)): logsumexp_k [log alpha_k + log N(y | r_k, eps S_k)]."""
        d, eps = self.dim, self.epsilon
        diff = y[:, None, :] - self.r[None, :, :]                       # (n, K, d)
        if self.diagonal:
            var = eps * torch.exp(self.log_s)                           # (K, d)
            maha = (diff * diff / var[None]).sum(-1)
            logdet = torch.log(var).sum(-1)
        else:
            chol = torch.linalg.cholesky(eps * self.S())                # (K, d, d)
            z = torch.linalg.solve_triangular(chol[None], diff[..., None], upper=False)[..., 0]
            maha = (z * z).sum(-1)
            logdet = 2.0 * torch.log(torch.diagonal(chol, dim1=1, dim2=2)).sum(-1)
        logn = -0.5 * (maha + logdet[None, :] + d * math.log(2 * math.pi))
        return torch.logsumexp(self.log_alpha()[None, :] + logn, dim=1)

    def _loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self._log_c(x).mean() - self._log_v(y).mean()

    def loss(self, x, y) -> torch.Tensor:
        """The LightSB objective (Eq. (6) of chapter ``light-sb``) on samples ``x ~ p0``, ``y ~ p1``:

        ``mean_x log c_theta(x) - mean_y log v_theta(y)``, a scalar tensor with gradients. It equals
        ``KL(pi* || pi_theta)`` plus a constant that does not depend on ``theta``.
        """
        x = torch.as_tensor(_points("x", x, self.dim), dtype=_DT)
        y = torch.as_tensor(_points("y", y, self.dim), dtype=_DT)
        return self._loss(x, y)

    def fit(self, x_sampler, y_sampler, steps: int = 2000, lr: float = 1e-2,
            batch_size: int = 512, seed: int = 0, init_r: bool = True) -> nets.History:
        """Minimize the objective (Eq. (6)) with Adam on fresh minibatches, through
        :func:`paperlab.nets.fit` (chapter ``light-sb``).

        ``x_sampler``/``y_sampler`` are (n, d) data arrays (minibatches are drawn from them with
        replacement) or functions ``f(n, generator) -> (n, d)``. With ``init_r`` the means
        ``r_k`` start at ``K`` samples of ``p1``, as in the official code. Returns the loss
        history; the model is changed in place.
        """
        xs = _sampler("x_sampler", x_sampler, self.dim)
        ys = _sampler("y_sampler", y_sampler, self.dim)
        steps = check_int("steps", steps, 1)
        lr = check_real("lr", lr, 0.0, lo_open=True)
        batch_size = check_int("batch_size", batch_size, 1)
        seed = check_int("seed", seed, 0)
        if init_r:
            with torch.no_grad():
                self.r.copy_(ys(self.n_components, torch.Generator().manual_seed(seed + 1)))

        def loss_fn(gen: torch.Generator) -> torch.Tensor:
            return self._loss(xs(batch_size, gen), ys(batch_size, gen))

        with nets.one_thread():
            hist = nets.fit(self, loss_fn, steps=steps, lr=lr, seed=seed)
        self._np_cache = None
        return hist

    # ------------------------------------------------------------------ sampling (numpy)
    def params(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(log alpha, r, S)`` as numpy arrays of shapes (K,), (K, d), (K, d, d)."""
        with torch.no_grad():
            return (self.log_alpha().numpy().copy(), self.r.numpy().copy(), self.S().numpy().copy())

    def _np(self) -> "_Plan":
        if getattr(self, "_np_cache", None) is None:
            self._np_cache = _Plan(*self.params(), self.epsilon)
        return self._np_cache

    def sample_conditional(self, x, n: int = 1, seed: int = 0) -> np.ndarray:
        """``n`` draws of ``y ~ pi_theta(y | x)`` (Eq. (5)) for each row of ``x``: shape (m, n, d).

        Pick component ``k`` with probability proportional to
        ``alpha_k exp((x^T S_k x + 2 r_k^T x)/(2 eps))``, then
        ``y = r_k + S_k x + sqrt(eps) S_k^{1/2} xi`` with ``xi ~ N(0, I)``.
        """
        x = _points("x", x, self.dim)
        n = check_int("n", n, 1)
        return self._np().sample(x, n, np.random.default_rng(check_int("seed", seed, 0)))

    def sample_bridge(self, x, n_times: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Paths of the learned bridge from each row of ``x`` (Eq. (7) of chapter ``light-sb``).

        Draw ``y ~ pi_theta(. | x)``, then a Brownian bridge with variance ``eps`` from ``x`` at
        ``t = 0`` to ``y`` at ``t = 1``: ``X_t = (1 - t) x + t y + sqrt(eps) (W_t - t W_1)``, whose
        marginal at time ``t`` is ``N((1 - t) x + t y, eps t (1 - t) I)``. Returns the times,
        shape (n_times + 1,), and the paths, shape (n_times + 1, m, d).
        """
        x = _points("x", x, self.dim)
        n_times = check_int("n_times", n_times, 1)
        rng = np.random.default_rng(check_int("seed", seed, 0))
        y = self._np().sample(x, 1, rng)[:, 0]
        return _bridge(x, y, self.epsilon, n_times, rng)


@dataclass(frozen=True)
class _Plan:
    """The conditional plan (Eq. (5)) in numpy, for fast sampling in the chapter's figure."""

    log_alpha: np.ndarray
    r: np.ndarray
    S: np.ndarray
    epsilon: float

    @functools.cached_property
    def sqrt_S(self) -> np.ndarray:
        return np.linalg.cholesky(self.S)

    def weights(self, x: np.ndarray) -> np.ndarray:
        """Mixture weights of ``pi(. | x)``, shape (m, K)."""
        xSx = np.einsum("ni,kij,nj->nk", x, self.S, x)
        arg = self.log_alpha[None, :] + (xSx + 2.0 * x @ self.r.T) / (2.0 * self.epsilon)
        arg -= arg.max(axis=1, keepdims=True)
        w = np.exp(arg)
        return w / w.sum(axis=1, keepdims=True)

    def sample(self, x: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        m, d = x.shape
        w = self.weights(x)                                        # (m, K)
        cum = np.cumsum(w, axis=1)
        u = rng.random((m, n, 1))
        k = np.minimum((u > cum[:, None, :]).sum(-1), w.shape[1] - 1)   # (m, n)
        mean = self.r[k] + np.einsum("mnij,mj->mni", self.S[k], x)
        xi = rng.standard_normal((m, n, d))
        return mean + math.sqrt(self.epsilon) * np.einsum("mnij,mnj->mni", self.sqrt_S[k], xi)


def _bridge(x: np.ndarray, y: np.ndarray, eps: float, n_times: int,
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    t = np.linspace(0.0, 1.0, n_times + 1)
    dW = rng.standard_normal((n_times,) + x.shape) * math.sqrt(eps / n_times)
    W = np.concatenate([np.zeros((1,) + x.shape), np.cumsum(dW, axis=0)])
    tt = t[:, None, None]
    return t, (1 - tt) * x[None] + tt * y[None] + (W - tt * W[-1][None])


# --------------------------------------------------------------------------- the Gaussian oracle

def _sqrtm(M: np.ndarray) -> np.ndarray:
    w, V = np.linalg.eigh(M)
    return (V * np.sqrt(np.maximum(w, 0.0))) @ V.T


def _spd(name: str, M, d: int | None = None) -> np.ndarray:
    M = check_array(name, M, ndim=2)
    if M.shape[0] != M.shape[1] or (d is not None and M.shape[0] != d):
        want = f"({d}, {d})" if d is not None else "square"
        raise ValueError(f"{name} must be a {want} matrix, got shape {M.shape}")
    if not np.allclose(M, M.T) or np.linalg.eigvalsh(M).min() <= 0:
        raise ValueError(f"{name} must be symmetric positive definite")
    return M


def gaussian_eot_plan(A, B, b, eps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The closed-form Schrödinger bridge between ``p0 = N(0, A)`` and ``p1 = N(b, B)``
    (Eq. (8) of chapter ``light-sb``; Janati et al. 2020, Bunne et al. 2023).

    With ``D = (4 A^{1/2} B A^{1/2} + eps^2 I)^{1/2}`` the cross-covariance of the entropic plan is
    ``C = (A^{1/2} D A^{-1/2} - eps I) / 2`` and ``y | x ~ N(b + C^T A^{-1} x, B - C^T A^{-1} C)``.
    Returns ``(C, S, cond_cov)`` with ``S = C^T A^{-1}`` (symmetric; it solves
    ``S A S + eps S = B``, so LightSB with ``K = 1`` represents this plan exactly:
    ``r = b``, ``eps S = cond_cov``).
    """
    A = _spd("A", A)
    d = A.shape[0]
    B = _spd("B", B, d)
    b = check_array("b", b, ndim=1, shape=(d,))
    eps = check_real("eps", eps, 0.0, lo_open=True)
    Ah = _sqrtm(A)
    Ahi = np.linalg.inv(Ah)
    D = _sqrtm(4.0 * Ah @ B @ Ah + eps**2 * np.eye(d))
    C = 0.5 * (Ah @ D @ Ahi - eps * np.eye(d))
    S = C.T @ np.linalg.inv(A)
    S = 0.5 * (S + S.T)
    cond = B - S @ C
    return C, S, 0.5 * (cond + cond.T)


# --------------------------------------------------------------------------- experiments

#: The Gaussian problem of the chapter's check: p0 = N(0, A), p1 = N(b, B).
GAUSS_A = np.diag([1.0, 0.5])
GAUSS_B = np.array([[2.0, 0.6], [0.6, 1.0]])
GAUSS_b = np.array([2.0, 1.0])


@dataclass(frozen=True)
class GaussianFit:
    """One LightSB fit (K = 1, full S) against the closed form (:func:`gaussian_eot_plan`).

    ``S_err = ||S - S*||_F / ||S*||_F``, ``cov_err = ||eps S - Sigma*||_F / ||Sigma*||_F`` with
    ``Sigma* = B - C^T A^{-1} C``, ``r_err = ||r - b||``.
    """

    eps: float
    S: np.ndarray
    S_true: np.ndarray
    r: np.ndarray
    cov_true: np.ndarray
    loss: np.ndarray
    S_err: float
    cov_err: float
    r_err: float


@cached(maxsize=16)
def _gaussian_fit(eps: float, steps: int, seed: int, n_data: int, lr: float) -> GaussianFit:
    rng = np.random.default_rng([seed, 10])
    x = rng.multivariate_normal(np.zeros(2), GAUSS_A, size=n_data)
    y = rng.multivariate_normal(GAUSS_b, GAUSS_B, size=n_data)
    model = LightSB(2, n_components=1, epsilon=eps, diagonal=False, seed=seed)
    hist = model.fit(x, y, steps=steps, lr=lr, batch_size=512, seed=seed)
    _, r, S = model.params()
    _, S_true, cov_true = gaussian_eot_plan(GAUSS_A, GAUSS_B, GAUSS_b, eps)
    return GaussianFit(eps=eps, S=S[0], S_true=S_true, r=r[0], cov_true=cov_true,
                       loss=np.asarray(hist.loss),
                       S_err=float(np.linalg.norm(S[0] - S_true) / np.linalg.norm(S_true)),
                       cov_err=float(np.linalg.norm(eps * S[0] - cov_true) / np.linalg.norm(cov_true)),
                       r_err=float(np.linalg.norm(r[0] - GAUSS_b)))


def gaussian_experiment(eps_values=(0.1, 0.5, 1.0), steps: int = 400, seed: int = 0,
                        n_data: int = 50_000, lr: float = 3e-2) -> dict[float, GaussianFit]:
    """Experiment (a) of chapter ``light-sb``: LightSB with ``K = 1`` and full ``S`` on
    ``p0 = N(0, diag(1, 0.5))``, ``p1 = N((2, 1), [[2, 0.6], [0.6, 1]])`` for each ``eps``, from
    ``n_data`` samples of each law, against the closed form: ``steps`` Adam steps with learning
    rate ``lr`` on batches of 512. Cached per ``eps``."""
    steps = check_int("steps", steps, 1)
    seed = check_int("seed", seed, 0)
    n_data = check_int("n_data", n_data, 2)
    lr = check_real("lr", lr, 0.0, lo_open=True)
    return {float(e): _gaussian_fit(_check_epsilon(e), steps, seed, n_data, lr) for e in eps_values}


def eight_gaussians(radius: float = 3.0, std: float = 0.3) -> GaussianMixture:
    """Eight equal Gaussians with covariance ``std^2 I`` on a circle of ``radius``: the target
    ``p1`` of experiment (b) of chapter ``light-sb``."""
    radius = check_real("radius", radius, 0.0, lo_open=True)
    std = check_real("std", std, 0.0, lo_open=True)
    ang = np.arange(8) * np.pi / 4
    means = radius * np.c_[np.cos(ang), np.sin(ang)]
    return GaussianMixture(np.ones(8), means, np.repeat(std**2 * np.eye(2)[None], 8, axis=0))


#: The epsilons of experiment (b) and of the chapter's slider.
EPSILONS = (0.01, 0.03, 0.1, 0.3, 1.0)
_N_MIX_DATA = 20_000


@cached(maxsize=1)
def _mixture_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    x = np.random.default_rng([seed, 20]).standard_normal((_N_MIX_DATA, 2))
    y = eight_gaussians().sample(_N_MIX_DATA, seed=seed)
    return x, y


@cached(maxsize=16)
def _mixture_model(eps: float, steps: int, seed: int) -> LightSB:
    x, y = _mixture_data(seed)
    model = LightSB(2, n_components=16, epsilon=eps, diagonal=True, seed=seed)
    model.fit(x, y, steps=steps, lr=1e-2, batch_size=512, seed=seed)
    return model


def mixture_models(eps_values=EPSILONS, steps: int = 600, seed: int = 0) -> dict[float, LightSB]:
    """Experiment (b) of chapter ``light-sb``: LightSB with ``K = 16`` diagonal components from
    ``p0 = N(0, I)`` to :func:`eight_gaussians`, one model per ``eps``, fitted on 20 000 samples
    of each law. Cached: the chapter's slider reuses these models."""
    steps = check_int("steps", steps, 1)
    seed = check_int("seed", seed, 0)
    return {float(e): _mixture_model(_check_epsilon(e), steps, seed) for e in eps_values}


def mixture_mmd(model: LightSB, n: int = 1000, seed: int = 0) -> float:
    """MMD² (:func:`paperlab.generative.diffusion.mmd2`) between ``y ~ pi_theta(. | x)`` for
    fresh ``x ~ p0`` (the learned marginal ``int pi_theta(y | x) p0(x) dx``) and fresh samples
    of :func:`eight_gaussians`."""
    n = check_int("n", n, 2)
    seed = check_int("seed", seed, 0)
    x = np.random.default_rng([seed, 30]).standard_normal((n, 2))
    y_model = model.sample_conditional(x, 1, seed=seed + 31)[:, 0]
    y_true = eight_gaussians().sample(n, seed=seed + 32)
    return mmd2(y_model, y_true)


# --------------------------------------------------------------------------- interactive figure

_W_N = 400                              # pushed-forward points in the right panel
_LIM = (-5.0, 5.0)
_TICKS = (-4, -2, 0, 2, 4)


@cached(maxsize=8)
def _widget_state(eps: float) -> tuple[_Plan, np.ndarray, np.ndarray, float]:
    model = mixture_models()[eps]
    plan = model._np()
    x = np.random.default_rng(40).standard_normal((_W_N, 2))
    y = plan.sample(x, 1, np.random.default_rng(41))[:, 0]
    return plan, x, y, mixture_mmd(model)


@cached(maxsize=1)
def _target_points() -> np.ndarray:
    return eight_gaussians().sample(_W_N, seed=42)


def draw(epsilon: float = 0.1, trajectories: int = 20, x1: float = 0.0, x2: float = 0.0) -> Figure:
    """The chapter's interactive figure (chapter ``light-sb``, section Explore).

    Left: ``trajectories`` paths of the learned bridge (Eq. (7)) from the source point
    ``(x1, x2)``, with ``K = 16`` and the chosen ``epsilon``, over samples of ``p1``. Right: the
    learned plan applied to 400 fresh points of ``p0`` against samples of ``p1``, with the MMD².
    """
    eps = float(epsilon)
    if eps not in EPSILONS:
        raise ValueError(f"epsilon must be one of {list(EPSILONS)}, got {epsilon!r}")
    trajectories = check_int("trajectories", trajectories, 1, 200)
    x1 = check_real("x1", x1, -3.0, 3.0)
    x2 = check_real("x2", x2, -3.0, 3.0)
    plan, _, y_push, mmd = _widget_state(eps)
    target = _target_points()
    src = np.array([[x1, x2]])
    rng = np.random.default_rng(7)
    y = plan.sample(src, trajectories, rng)[0]
    _, paths = _bridge(np.repeat(src, trajectories, axis=0), y, eps, 30, rng)
    blue, orange, grey = plotting.PALETTE[0], plotting.PALETTE[1], "#b0b0b0"

    fig, (ax0, ax1) = plotting.figure(2, width=8.4, height=4.0, layout="fixed")   # square panels
    ax0.plot(*target.T, ".", ms=2.5, color=grey, mew=0)
    ax0.add_collection(LineCollection(paths.transpose(1, 0, 2), colors=blue, linewidths=0.7,
                                      alpha=0.5))
    ax0.plot(*y.T, ".", ms=5, color=orange, mew=0, zorder=4)
    ax0.plot([x1], [x2], "o", color="black", ms=6, zorder=5)
    plotting.key(ax0, [("samples of p1", grey), ("bridge paths", blue), ("y ~ π(y|x)", orange)])
    plotting.labels(ax0, "x₁", "x₂", f"{trajectories} paths from x, ε = {eps:g}")

    ax1.plot(*target.T, ".", ms=2.5, color=grey, mew=0)
    ax1.plot(*y_push.T, ".", ms=2.5, color=orange, mew=0)
    plotting.key(ax1, [("samples of p1", grey), ("y ~ π(y|x), x ~ p0", orange)])
    plotting.labels(ax1, "y₁", "y₂", f"learned marginal: MMD² = {mmd:.4f}")
    for ax in (ax0, ax1):
        ax.set_xlim(*_LIM)
        ax.set_ylim(*_LIM)
        ax.set_xticks(_TICKS)
        ax.set_yticks(_TICKS)
    return fig


#: Slider box of :func:`draw`; the first entry (epsilon) is the website scrubber's parameter.
SLIDERS = {
    "epsilon": Choice(EPSILONS, default=0.1, label="ε"),
    "trajectories": IntSlider(5, 100, default=20, step=5, label="paths"),
    "x1": FloatSlider(-2.0, 2.0, default=0.0, step=0.1, label="source x₁"),
    "x2": FloatSlider(-2.0, 2.0, default=0.0, step=0.1, label="source x₂"),
}
