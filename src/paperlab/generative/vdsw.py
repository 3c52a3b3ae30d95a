"""Amortized von Mises-Fisher distributional sliced Wasserstein: Nguyen, Nguyen and Ho (2023),
"Self-Attention Amortized Distributional Projection Optimization for Sliced Wasserstein
Point-Cloud Reconstruction".

Explained in chapter `amortized-vdsw`.

* :func:`sliced_wp`: ``W_p^p`` between the projections of two equal-size clouds on given
  directions (1-D optimal transport by sorting);
* :func:`sample_vmf`: directions from the von Mises-Fisher law ``vMF(eps, kappa)`` on the sphere,
  by Wood's rejection sampler and a Householder reflection (differentiable in ``eps``);
* :func:`vdsw`: ``(E_{theta ~ vMF(eps, kappa)} W_p^p(theta#mu, theta#nu))^(1/p)`` at a given
  ``eps``, and :func:`vdsw_pga`: the max over ``eps`` by projected gradient ascent
  (``kappa = inf`` gives Max-SW);
* :class:`AttnAmortizer`: a symmetric, permutation-invariant predictor ``eps = f(X, Y)`` built on
  efficient (linear-time) self-attention, trained by :func:`train_amortizer`;
* the chapter's experiment (:func:`random_clouds`, :func:`counterexample`, :func:`experiment`)
  and its interactive figure (:func:`draw`, :data:`SLIDERS`).
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from torch import nn

from ..cache import cached
from .. import nets, plotting
from .._validate import check_choice, check_int, check_real
from ..threads import one_thread
from ..widgets import Choice, IntSlider, LogSlider

__all__ = ["sliced_wp", "sample_vmf", "vmf_mean_cosine", "vdsw", "vdsw_pga", "AttnAmortizer",
           "train_amortizer", "random_clouds", "random_pairs", "pair_sampler", "counterexample",
           "METHODS", "PAIRS", "Regime", "Experiment",
           "simulate", "experiment", "draw", "SLIDERS"]

DTYPE = torch.float64


# --------------------------------------------------------------------------- validation helpers

def _as_tensor(name: str, x) -> torch.Tensor:
    if torch.is_tensor(x):
        return x.to(DTYPE)
    try:
        return torch.as_tensor(np.asarray(x, dtype=float), dtype=DTYPE)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of numbers, got {type(x).__name__}") from exc


def _clouds(X, Y) -> tuple[torch.Tensor, torch.Tensor]:
    X, Y = _as_tensor("X", X), _as_tensor("Y", Y)
    if X.ndim != 2 or Y.ndim != 2:
        raise ValueError(f"X and Y must be point clouds of shape (n, d), got {tuple(X.shape)} and "
                         f"{tuple(Y.shape)}")
    if X.shape[1] != Y.shape[1]:
        raise ValueError(f"X and Y must have the same dimension d, got {X.shape[1]} and {Y.shape[1]}")
    if X.shape[0] != Y.shape[0]:
        raise ValueError(f"X and Y must have the same number of points (equal-size clouds), got "
                         f"{X.shape[0]} and {Y.shape[0]}")
    if X.shape[1] < 2:
        raise ValueError(f"the dimension d must be >= 2, got {X.shape[1]}")
    if not (torch.isfinite(X).all() and torch.isfinite(Y).all()):
        raise ValueError("X and Y must contain only finite numbers (no NaN or inf)")
    return X, Y


def _kappa(kappa, allow_inf: bool = False) -> float:
    if allow_inf and isinstance(kappa, (int, float)) and kappa == math.inf:
        return math.inf
    return check_real("kappa", kappa, 0.0, lo_open=True)


def _direction(name: str, eps, d: int | None = None) -> torch.Tensor:
    eps = _as_tensor(name, eps) if not torch.is_tensor(eps) else eps
    if eps.ndim != 1 or eps.shape[0] < 2 or (d is not None and eps.shape[0] != d):
        want = f"d = {d}" if d is not None else "d >= 2"
        raise ValueError(f"{name} must be a vector of dimension {want}, got shape {tuple(eps.shape)}")
    norm = float(eps.detach().norm())
    if not math.isfinite(norm) or norm == 0.0:
        raise ValueError(f"{name} (the vMF location eps) must be a non-zero finite vector")
    return eps


# --------------------------------------------------------------------------- sliced W_p

def _swp(X: torch.Tensor, Y: torch.Tensor, th: torch.Tensor, p: float) -> torch.Tensor:
    """``W_p^p`` on each slice; ``X, Y`` of shape ``(..., n, d)``, ``th`` of shape ``(..., L, d)``;
    returns ``(..., L)``. No checks: the inner loop of every function below."""
    px = torch.sort(X @ th.transpose(-1, -2), dim=-2).values
    py = torch.sort(Y @ th.transpose(-1, -2), dim=-2).values
    diff = (px - py).abs()
    return (diff * diff if p == 2.0 else diff.pow(p)).mean(-2)


def sliced_wp(X, Y, thetas, p: float = 2.0) -> torch.Tensor:
    """``W_p^p(theta#mu, theta#nu)`` for each row ``theta`` of ``thetas`` (Eq. (1) of the paper
    for one direction): for equal-size empirical measures the optimal 1-D coupling matches sorted
    projections, so ``W_p^p = mean_i |sort(X theta)_i - sort(Y theta)_i|^p``. Returns a tensor of
    shape ``(L,)``. Explained in chapter `amortized-vdsw`."""
    X, Y = _clouds(X, Y)
    p = check_real("p", p, 1.0)
    th = _as_tensor("thetas", thetas)
    if th.ndim != 2 or th.shape[1] != X.shape[1]:
        raise ValueError(f"thetas must have shape (L, {X.shape[1]}), got {tuple(th.shape)}")
    return _swp(X, Y, th, p)


# --------------------------------------------------------------------------- von Mises-Fisher

def _vmf_base(kappa: float, d: int, n: int, gen: torch.Generator) -> torch.Tensor:
    """``n`` draws of ``vMF(e1, kappa)`` in ``R^d``: Wood (1994)'s rejection sampler for
    ``w = theta . e1``, then ``theta0 = (w, sqrt(1 - w^2) v)`` with ``v`` uniform on the sphere of
    ``R^(d-1)``. ``Beta(a, a)`` with ``a = (d-1)/2`` is drawn as ``U / (U + V)``, ``U, V`` chi-square
    with ``d-1`` degrees of freedom, so one torch generator drives everything."""
    if kappa == math.inf:
        out = torch.zeros(n, d, dtype=DTYPE)
        out[:, 0] = 1.0
        return out
    b = (d - 1) / (2.0 * kappa + math.sqrt(4.0 * kappa ** 2 + (d - 1) ** 2))   # stable form
    x0 = (1.0 - b) / (1.0 + b)
    c = kappa * x0 + (d - 1) * math.log(4.0 * b / (1.0 + b) ** 2)          # log(1 - x0^2)
    parts, got = [], 0
    while got < n:
        m = 2 * (n - got) + 16
        chi = torch.randn(m, 2, d - 1, generator=gen, dtype=DTYPE).pow(2).sum(-1)
        z = chi[:, 0] / (chi[:, 0] + chi[:, 1])
        w = (1.0 - (1.0 + b) * z) / (1.0 - (1.0 - b) * z)
        u = torch.rand(m, generator=gen, dtype=DTYPE)
        ok = kappa * w + (d - 1) * torch.log1p(-x0 * w) - c >= torch.log(u)
        parts.append(w[ok])
        got += int(ok.sum())
    w = torch.cat(parts)[:n]
    v = torch.randn(n, d - 1, generator=gen, dtype=DTYPE)
    v = v / v.norm(dim=1, keepdim=True)
    return torch.cat([w[:, None], torch.sqrt((1.0 - w * w).clamp_min(0.0))[:, None] * v], 1)


def _householder(theta0: torch.Tensor, mu: torch.Tensor) -> torch.Tensor:
    """Reflect draws around ``e1`` (``(..., L, d)``) to draws around ``mu/|mu|`` (``(..., d)``):
    ``theta = theta0 - 2 u (u . theta0) / |u|^2`` with ``u = e1 - mu``, differentiable in ``mu``."""
    mu = mu / mu.norm(dim=-1, keepdim=True)
    u = -mu
    u = torch.cat([1.0 + u[..., :1], u[..., 1:]], dim=-1)                 # e1 - mu
    uu = (u * u).sum(-1, keepdim=True)
    refl = theta0 - 2.0 * (theta0 @ u[..., :, None]) * u[..., None, :] / uu.clamp_min(1e-30)[..., None]
    return torch.where(uu[..., None] < 1e-24, theta0, refl)


def sample_vmf(mu, kappa: float, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """``n`` directions from ``vMF(mu, kappa)`` on the unit sphere of ``R^d`` (Sec. 3 of the
    paper; Wood 1994): ``w = theta . e1`` by rejection sampling (no gradient), ``v`` uniform on the
    sphere orthogonal to ``e1``, ``theta0 = (w, sqrt(1 - w^2) v)``; the Householder reflection
    with ``u = e1 - mu`` maps ``e1`` to ``mu``, ``theta = theta0 - 2 u (u . theta0) / |u|^2``, and
    is differentiable in ``mu`` (the reparameterisation that trains the amortizer). Explained in
    chapter `amortized-vdsw`."""
    mu = _direction("mu", mu)
    kappa = _kappa(kappa)
    n = check_int("n", n, 1)
    g = generator if generator is not None else torch.Generator().manual_seed(0)
    return _householder(_vmf_base(kappa, mu.shape[0], n, g), mu.to(DTYPE))


def vmf_mean_cosine(kappa: float, d: int = 3) -> float:
    """``E[theta . mu] = A_d(kappa) = I_{d/2}(kappa) / I_{d/2-1}(kappa)`` under ``vMF(mu, kappa)``;
    for ``d = 3`` it is ``coth(kappa) - 1/kappa``."""
    kappa = _kappa(kappa)
    d = check_int("d", d, 2)
    if d == 3:
        return float(1.0 / math.tanh(kappa) - 1.0 / kappa)
    from scipy.special import ive
    return float(ive(d / 2.0, kappa) / ive(d / 2.0 - 1.0, kappa))


# --------------------------------------------------------------------------- v-DSW

def vdsw(X, Y, eps, kappa: float, n_proj: int = 64, p: float = 2.0,
         generator: torch.Generator | None = None) -> torch.Tensor:
    """v-DSW at a fixed location ``eps``, ``(mean_l W_p^p(theta_l#mu, theta_l#nu))^(1/p)`` with
    ``theta_l ~ vMF(eps, kappa)``, ``l = 1..n_proj``: the Monte Carlo estimate of the quantity
    inside the max of Definition 1 (Eq. (4)) of the paper. Explained in chapter `amortized-vdsw`."""
    X, Y = _clouds(X, Y)
    eps = _direction("eps", eps, X.shape[1])
    kappa = _kappa(kappa)
    n_proj = check_int("n_proj", n_proj, 1)
    p = check_real("p", p, 1.0)
    g = generator if generator is not None else torch.Generator().manual_seed(0)
    th = _householder(_vmf_base(kappa, X.shape[1], n_proj, g), eps.to(DTYPE))
    return _swp(X, Y, th, p).mean().pow(1.0 / p)


def _random_direction(d: int, gen: torch.Generator) -> torch.Tensor:
    e = torch.randn(d, generator=gen, dtype=DTYPE)
    return e / e.norm()


def vdsw_pga(X, Y, kappa: float, steps: int = 30, lr: float = 0.1, n_proj: int = 64,
             p: float = 2.0, seed: int = 0) -> tuple[float, torch.Tensor]:
    """``max_eps`` v-DSW by projected gradient ascent on the sphere: the per-pair baseline of the
    paper (Algorithm 1 with the amortizer replaced by ``steps`` ascent steps on ``eps`` itself).
    Each step ascends ``E_{theta ~ vMF(eps, kappa)} W_p^p`` (a fresh batch of ``n_proj``
    directions, reparameterised through the Householder map) and projects ``eps`` back onto the
    sphere. ``kappa = inf`` gives Max-SW (the single direction ``theta = eps``). Starts from a
    uniformly random ``eps``. Returns ``(value, eps)``, the value re-estimated at the final
    ``eps`` with fresh directions. All vMF draws are made in one batch up front (their law around
    ``e1`` does not depend on ``eps``). Explained in chapter `amortized-vdsw`."""
    X, Y = _clouds(X, Y)
    kappa = _kappa(kappa, allow_inf=True)
    steps = check_int("steps", steps, 0)
    lr = check_real("lr", lr, 0.0, lo_open=True)
    n_proj = check_int("n_proj", n_proj, 1)
    p = check_real("p", p, 1.0)
    g = torch.Generator().manual_seed(check_int("seed", seed, 0))
    value, eps = _pga(X[None], Y[None], kappa, steps, lr, n_proj, p, g)
    return float(value[0]), eps[0]


def _pga(X: torch.Tensor, Y: torch.Tensor, kappa: float, steps: int, lr: float, n_proj: int,
         p: float, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Projected gradient ascent for a batch of pairs ``(B, n, d)`` at once; each pair has its own
    ``eps`` and its own directions, so this is ``B`` independent runs. Returns values ``(B,)`` and
    locations ``(B, d)``."""
    with one_thread():
        return _pga_loop(X, Y, kappa, steps, lr, n_proj, p, g)


def _pga_loop(X, Y, kappa, steps, lr, n_proj, p, g) -> tuple[torch.Tensor, torch.Tensor]:
    B, _, d = X.shape
    eps = torch.randn(B, d, generator=g, dtype=DTYPE)
    eps = eps / eps.norm(dim=-1, keepdim=True)
    L = 1 if kappa == math.inf else n_proj
    base = _vmf_base(kappa, d, (steps + 1) * B * L, g).reshape(steps + 1, B, L, d)
    for s in range(steps):
        e = eps.clone().requires_grad_(True)
        obj = _swp(X, Y, _householder(base[s], e), p).mean(-1).sum()
        (grad,) = torch.autograd.grad(obj, e)
        eps = eps + lr * grad
        eps = eps / eps.norm(dim=-1, keepdim=True)
    with torch.no_grad():
        value = _swp(X, Y, _householder(base[steps], eps), p).mean(-1).pow(1.0 / p)
    return value, eps


# --------------------------------------------------------------------------- the amortizer

class AttnAmortizer(nn.Module):
    """The self-attention amortized model of the paper (Sec. 4.2), with efficient attention:
    ``f(X, Y) = normalize((g(X) + g(Y)) / 2)``, where
    ``g(X) = mean_i [softmax_row(Q) (softmax_col(K)^T V)]_i`` and ``Q, K, V`` are linear maps of
    the points (``d -> d_model``, ``d -> d_model``, ``d -> d``). The attention costs ``O(n)``
    (Shen et al. 2021), mean pooling makes ``g`` invariant to the order of the points, and the sum
    makes ``f`` symmetric in ``(X, Y)``. Explained in chapter `amortized-vdsw`."""

    def __init__(self, d: int = 3, d_model: int = 32, seed: int = 0) -> None:
        super().__init__()
        d = check_int("d", d, 2)
        d_model = check_int("d_model", d_model, 1)
        nets.seed_everything(check_int("seed", seed, 0))
        self.d = d
        self.q = nn.Linear(d, d_model)
        self.k = nn.Linear(d, d_model)
        self.v = nn.Linear(d, d)

    def g(self, X: torch.Tensor) -> torch.Tensor:
        """One cloud ``(n, d)`` (or a batch ``(B, n, d)``) to an unnormalised direction."""
        Q = torch.softmax(self.q(X), dim=-1)            # over features, per point
        K = torch.softmax(self.k(X), dim=-2)            # over points, per feature
        A = Q @ (K.transpose(-1, -2) @ self.v(X))       # (n, d): linear in n
        return A.mean(dim=-2)

    def forward(self, X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
        if X.shape != Y.shape or X.shape[-1] != self.d or X.ndim < 2:
            raise ValueError(f"X and Y must both have shape (..., n, {self.d}), got "
                             f"{tuple(X.shape)} and {tuple(Y.shape)}")
        e = (self.g(X) + self.g(Y)) / 2.0
        return e / e.norm(dim=-1, keepdim=True).clamp_min(1e-12)


def train_amortizer(pair_sampler: Callable[[torch.Generator], tuple[torch.Tensor, torch.Tensor]],
                    kappa: float, steps: int = 300, seed: int = 0, d: int = 3, d_model: int = 32,
                    n_proj: int = 16, lr: float = 1e-3, p: float = 2.0
                    ) -> tuple[AttnAmortizer, nets.History]:
    """Train :class:`AttnAmortizer` to maximise the pair-averaged
    ``E_{theta ~ vMF(f(X, Y), kappa)} W_p^p(theta#mu, theta#nu)`` (the amortized objective,
    Eq. (6) of the paper) with ``n_proj`` reparameterised directions per pair, by Adam through the
    book's training loop :func:`paperlab.nets.fit`. ``pair_sampler(gen)`` returns a batch of pairs
    ``(X, Y)``, each of shape ``(B, n, d)``. Returns the model and its loss history (the loss is
    minus the objective). Explained in chapter `amortized-vdsw`."""
    kappa = _kappa(kappa)
    steps = check_int("steps", steps, 1)
    p = check_real("p", p, 1.0)
    n_proj = check_int("n_proj", n_proj, 1)
    model = AttnAmortizer(d, d_model, seed).float()      # trained in single precision (speed)

    def loss_fn(gen: torch.Generator) -> torch.Tensor:
        X, Y = pair_sampler(gen)
        X, Y = X.float(), Y.float()
        E = model(X, Y)                                                   # (B, d)
        base = _vmf_base(kappa, d, X.shape[0] * n_proj, gen).reshape(X.shape[0], n_proj, d)
        return -_swp(X, Y, _householder(base.float(), E), p).mean()

    with one_thread():
        hist = nets.fit(model, loss_fn, steps=steps, lr=lr, seed=seed)
    return model.to(DTYPE), hist


# --------------------------------------------------------------------------- the experiment

KINDS = ("blob", "sphere", "torus")


def _rotations(B: int, gen: torch.Generator) -> torch.Tensor:
    """``B`` uniformly random rotations of ``R^3`` (QR of a Gaussian matrix, signs fixed)."""
    A = torch.randn(B, 3, 3, generator=gen, dtype=DTYPE)
    Q, R = torch.linalg.qr(A)
    Q = Q * torch.sign(torch.diagonal(R, dim1=-2, dim2=-1))[:, None, :]
    det = torch.linalg.det(Q)
    return torch.cat([Q[..., :2], Q[..., 2:] * det[:, None, None]], dim=-1)


def _shapes(B: int, gen: torch.Generator) -> dict[str, torch.Tensor]:
    """Random shape parameters: kind (0 blob, 1 sphere, 2 torus), sizes and a rotation."""
    return {"kind": torch.randint(0, 3, (B,), generator=gen),
            "axes": 0.1 + 0.9 * torch.rand(B, 1, 3, generator=gen, dtype=DTYPE),
            "size": torch.rand(B, 3, generator=gen, dtype=DTYPE),
            "rot": _rotations(B, gen)}


def _points(shape: dict[str, torch.Tensor], n: int, gen: torch.Generator) -> torch.Tensor:
    """``n`` points from each shape of :func:`_shapes`, centred at the origin: ``(B, n, 3)``."""
    B = shape["kind"].shape[0]
    blob = torch.randn(B, n, 3, generator=gen, dtype=DTYPE) * shape["axes"]
    s = torch.randn(B, n, 3, generator=gen, dtype=DTYPE)
    sphere = s / s.norm(dim=-1, keepdim=True) * (0.4 + 0.6 * shape["size"][:, :1, None])
    a, b = (2 * math.pi * torch.rand(B, n, 2, generator=gen, dtype=DTYPE)).unbind(-1)
    R, r = 0.5 + 0.4 * shape["size"][:, 1:2], 0.1 + 0.2 * shape["size"][:, 2:3]
    torus = torch.stack([(R + r * torch.cos(b)) * torch.cos(a), (R + r * torch.cos(b)) * torch.sin(a),
                         r * torch.sin(b)], dim=-1)
    k = shape["kind"][:, None, None]
    C = torch.where(k == 0, blob, torch.where(k == 1, sphere, torus))
    return C @ shape["rot"].transpose(-1, -2)


def random_clouds(B: int, n: int = 128, generator: torch.Generator | None = None,
                  shift: float = 0.3) -> tuple[torch.Tensor, torch.Tensor]:
    """``B`` random 3-D point clouds of ``n`` points, as a tensor ``(B, n, 3)``, and their kinds
    (0 blob, 1 sphere, 2 torus; chapter `amortized-vdsw`). A blob is Gaussian with axis
    scales drawn from ``[0.1, 1]``; a sphere has radius in ``[0.4, 1]``; a torus has radii
    ``R`` in ``[0.5, 0.9]`` and ``r`` in ``[0.1, 0.3]``. Every cloud is turned by a uniformly
    random rotation and moved by a Gaussian shift of size ``shift`` per coordinate."""
    B = check_int("B", B, 1)
    n = check_int("n", n, 2)
    shift = check_real("shift", shift, 0.0)
    g = generator if generator is not None else torch.Generator().manual_seed(0)
    shape = _shapes(B, g)
    C = _points(shape, n, g) + shift * torch.randn(B, 1, 3, generator=g, dtype=DTYPE)
    return C, shape["kind"]


PAIRS = ("reconstruction", "unrelated")


def random_pairs(B: int, n: int = 128, generator: torch.Generator | None = None,
                 kind: str = "reconstruction", shift: float = 0.3) -> tuple[torch.Tensor, torch.Tensor]:
    """``B`` pairs of clouds ``(X, Y)``, each ``(B, n, 3)`` (chapter `amortized-vdsw`).

    ``kind="reconstruction"``, the paper's setting in miniature: ``X`` is a random shape centred
    at the origin (inputs of a point-cloud autoencoder are normalised) and ``Y`` is an imperfect
    copy, a fresh sample of the same shape moved by a Gaussian offset of size ``shift`` per
    coordinate. ``kind="unrelated"``: two independent :func:`random_clouds`, each moved by its
    own offset of size ``shift``."""
    B = check_int("B", B, 1)
    n = check_int("n", n, 2)
    check_choice("kind", kind, PAIRS)
    shift = check_real("shift", shift, 0.0)
    g = generator if generator is not None else torch.Generator().manual_seed(0)
    if kind == "unrelated":
        return random_clouds(B, n, g, shift)[0], random_clouds(B, n, g, shift)[0]
    shape = _shapes(B, g)
    X = _points(shape, n, g)
    Y = _points(shape, n, g) + shift * torch.randn(B, 1, 3, generator=g, dtype=DTYPE)
    return X, Y


def pair_sampler(kind: str = "reconstruction", batch: int = 16, n: int = 128, pool: int = 1024,
                 seed: int = 0) -> Callable[[torch.Generator], tuple[torch.Tensor, torch.Tensor]]:
    """The amortizer's training set (chapter `amortized-vdsw`): ``pool`` pairs of
    :func:`random_pairs` drawn once at ``seed``, and a function ``gen -> (X, Y)`` that returns
    ``batch`` of them chosen at random."""
    batch = check_int("batch", batch, 1)
    pool = check_int("pool", pool, batch)
    X, Y = random_pairs(pool, n, torch.Generator().manual_seed(check_int("seed", seed, 0)), kind)

    def sample(gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.randint(0, pool, (batch,), generator=gen)
        return X[idx], Y[idx]

    return sample


def counterexample(n: int = 128, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two different clouds with the same projection on ``e1`` (outcome (a) of chapter
    `amortized-vdsw`): the first coordinates of ``Y`` are a permutation of those of ``X``, so
    ``W_2(e1#mu, e1#nu) = 0`` exactly, while the other coordinates have spread 0.3 in ``X`` and
    1.5 in ``Y``."""
    n = check_int("n", n, 2)
    rng = np.random.default_rng(check_int("seed", seed, 0))
    a = rng.standard_normal(n)
    X = np.c_[a, 0.3 * rng.standard_normal((n, 2))]
    Y = np.c_[a[rng.permutation(n)], 1.5 * rng.standard_normal((n, 2))]
    return X, Y


METHODS = ("random", "amortized", "v-DSW PGA", "Max-SW PGA")


@dataclass(frozen=True)
class Regime:
    """One family of held-out pairs (see :func:`random_pairs`): the clouds ``X, Y``
    ``(P, n, 3)``, each method's location ``eps[m]`` ``(P, 3)``, the objective
    ``objective[m]`` = ``E_{theta ~ vMF(eps, kappa)} W_2^2`` per pair (estimated with the same
    ``n_eval`` directions for every method), and the amortizer's training ``loss``."""

    X: torch.Tensor
    Y: torch.Tensor
    eps: dict[str, torch.Tensor]
    objective: dict[str, np.ndarray]
    loss: np.ndarray
    model: AttnAmortizer

    def ratio(self, method: str = "amortized") -> float:
        """Mean objective of ``method`` over the pairs, divided by v-DSW PGA's."""
        return float(self.objective[method].mean() / self.objective["v-DSW PGA"].mean())


@dataclass(frozen=True)
class Experiment:
    """Results of :func:`simulate` (chapter `amortized-vdsw`). ``regimes[k]`` for ``k`` in
    :data:`PAIRS`; ``time_wall``/``time_cpu``: seconds per pair to find ``eps`` and evaluate
    v-DSW with it, for ``"amortized"`` and ``"v-DSW PGA"`` (median over ``n_timed`` pairs run one
    at a time); ``symmetry_error``, ``permutation_error``: ``max |f(X,Y) - f(Y,X)|`` and
    ``max |f(X,Y) - f(PX, P'Y)|``; ``counter_w2_e1``: ``W_2^2(e1#mu, e1#nu)`` of
    :func:`counterexample`; ``counter_kappas``/``counter_vdsw``: v-DSW(eps = e1, kappa) there;
    ``vmf_kappas``/``vmf_cos``: mean of ``theta . eps`` over 20000 draws."""

    kappa: float
    seed: int
    regimes: dict[str, Regime]
    time_wall: dict[str, float]
    time_cpu: dict[str, float]
    symmetry_error: float
    permutation_error: float
    counter_w2_e1: float
    counter_kappas: np.ndarray
    counter_vdsw: np.ndarray
    vmf_kappas: tuple[float, ...]
    vmf_cos: np.ndarray

    def speedup(self, clock: str = "cpu") -> float:
        t = self.time_cpu if clock == "cpu" else self.time_wall
        return t["v-DSW PGA"] / t["amortized"]


def _timed(fn, pairs: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of ``fn(i)`` over ``i < pairs`` (one call per pair)."""
    wall, cpu = [], []
    for i in range(pairs):
        w0, c0 = time.perf_counter(), time.process_time()
        fn(i)
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return float(np.median(wall)), float(np.median(cpu))


def simulate(kappa: float = 10.0, n_pairs: int = 100, n: int = 128, steps: int = 300,
             batch: int = 16, lr: float = 0.03, pga_steps: int = 30, pga_lr: float = 1.0,
             n_proj: int = 16, n_eval: int = 256, n_timed: int = 10, seed: int = 0) -> Experiment:
    """The chapter's experiment. For each pair family of :data:`PAIRS`: train the amortizer
    (``steps`` Adam steps of ``batch`` pairs, ``n_proj`` vMF directions each, on a pool of 1024
    training pairs) and compare, on ``n_pairs`` held-out pairs, the objective
    ``E W_2^2`` at ``eps`` = a random direction, the amortizer's prediction, and ``pga_steps``
    steps of projected gradient ascent for v-DSW (``n_proj`` directions a step) and for Max-SW.
    Then time, pair by pair, "find ``eps`` and evaluate v-DSW with 64 directions" for the
    amortizer and for PGA, and run the symmetry, counterexample and sampler checks.
    Uncached; :func:`experiment` is the cached version."""
    kappa = _kappa(kappa)
    n_pairs = check_int("n_pairs", n_pairs, 1)
    n_timed = check_int("n_timed", n_timed, 1, n_pairs)
    n_eval = check_int("n_eval", n_eval, 1)
    seed = check_int("seed", seed, 0)
    regimes = {}
    with one_thread():
        for r, kind in enumerate(PAIRS):
            model, hist = train_amortizer(pair_sampler(kind, batch, n, seed=seed), kappa, steps, seed,
                                          lr=lr, n_proj=n_proj)
            g = torch.Generator().manual_seed(10_000 + 100 * seed + r)
            X, Y = random_pairs(n_pairs, n, g, kind)
            with torch.no_grad():
                eps = {"random": torch.randn(n_pairs, 3, generator=g, dtype=DTYPE),
                       "amortized": model(X, Y)}
            eps["v-DSW PGA"] = _pga(X, Y, kappa, pga_steps, pga_lr, n_proj, 2.0, g)[1]
            eps["Max-SW PGA"] = _pga(X, Y, math.inf, pga_steps, pga_lr, 1, 2.0, g)[1]
            base = _vmf_base(kappa, 3, n_eval, g).expand(n_pairs, n_eval, 3)
            with torch.no_grad():
                obj = {m: _swp(X, Y, _householder(base, e), 2.0).mean(-1).numpy() for m, e in eps.items()}
            regimes[kind] = Regime(X=X, Y=Y, eps=eps, objective=obj, loss=np.asarray(hist.loss),
                                   model=model)

        X, Y = regimes["reconstruction"].X, regimes["reconstruction"].Y
        model = regimes["reconstruction"].model

        def amortized(i: int) -> None:
            with torch.no_grad():
                vdsw(X[i], Y[i], model(X[i], Y[i]), kappa, 64)

        def pga(i: int) -> None:
            vdsw_pga(X[i], Y[i], kappa, pga_steps, pga_lr, n_proj, seed=i)
            vdsw(X[i], Y[i], regimes["reconstruction"].eps["v-DSW PGA"][i], kappa, 64)

        amortized(0), pga(0)                                   # warm-up
        t_a, t_p = _timed(amortized, n_timed), _timed(pga, n_timed)

        with torch.no_grad():
            e = model(X[0], Y[0])
            sym = float((e - model(Y[0], X[0])).abs().max())
            pg = torch.Generator().manual_seed(seed)
            perm = float((e - model(X[0][torch.randperm(n, generator=pg)],
                                    Y[0][torch.randperm(n, generator=pg)])).abs().max())
            cx, cy = counterexample(n, seed)
            w2 = float(sliced_wp(cx, cy, [[1.0, 0.0, 0.0]])[0])
            ks = np.geomspace(1.0, 1000.0, 10)
            cv = np.array([float(vdsw(cx, cy, [1.0, 0.0, 0.0], k, 512,
                                      generator=torch.Generator().manual_seed(seed)) ** 2) for k in ks])
            vk = (1.0, 10.0, 100.0)
            mu = torch.tensor([0.3, -0.5, 0.8], dtype=DTYPE)
            cos = np.array([float((sample_vmf(mu, k, 20000, torch.Generator().manual_seed(seed + 1))
                                   @ (mu / mu.norm())).mean()) for k in vk])
    return Experiment(kappa=kappa, seed=seed, regimes=regimes,
                      time_wall={"amortized": t_a[0], "v-DSW PGA": t_p[0]},
                      time_cpu={"amortized": t_a[1], "v-DSW PGA": t_p[1]},
                      symmetry_error=sym, permutation_error=perm, counter_w2_e1=w2,
                      counter_kappas=ks, counter_vdsw=cv, vmf_kappas=vk, vmf_cos=cos)


def experiment(kappa: float = 10.0, seed: int = 0) -> Experiment:
    """:func:`simulate` at the chapter's settings, cached: the chapter's one heavy step."""
    return _experiment(float(kappa), int(seed))


@cached(maxsize=2)
def _experiment(kappa: float, seed: int) -> Experiment:
    return simulate(kappa=kappa, seed=seed)


# --------------------------------------------------------------------------- interactive figure

_N_DIRS = 24                          # vMF directions drawn in the left panel
_COLORS = {"random": "#9a9a9a", "amortized": plotting.PALETTE[0], "v-DSW PGA": plotting.PALETTE[2],
           "Max-SW PGA": plotting.PALETTE[3]}


@cached(maxsize=16)
def _eval_base(kappa: float) -> torch.Tensor:
    return _vmf_base(kappa, 3, 64, torch.Generator().manual_seed(1))


@cached(maxsize=256)
def _pga_at(pairs: str, pair: int, kappa: float) -> torch.Tensor:
    ex = experiment()
    r = ex.regimes[pairs]
    if kappa == ex.kappa:
        return r.eps["v-DSW PGA"][pair]
    with torch.enable_grad():
        return _pga(r.X[pair:pair + 1], r.Y[pair:pair + 1], kappa, 30, 1.0, 16, 2.0,
                    torch.Generator().manual_seed(pair))[1][0]


@cached(maxsize=512)
def _panel(pairs: str, pair: int, kappa: float, method: str):
    """Everything :func:`draw` plots, computed on one thread and cached."""
    r = experiment().regimes[pairs]
    with one_thread(), torch.no_grad():
        X, Y = r.X[pair], r.Y[pair]
        eps = {m: r.eps[m][pair] for m in METHODS if m != "v-DSW PGA"}
        eps["v-DSW PGA"] = _pga_at(pairs, pair, kappa)
        base = _eval_base(kappa)
        obj = {m: float(_swp(X, Y, _householder(base, e), 2.0).mean()) for m, e in eps.items()}
        e = eps[method] / eps[method].norm()
        a = torch.zeros(3, dtype=DTYPE)
        a[int(torch.argmin(e.abs()))] = 1.0
        across = a - (a @ e) * e
        across = across / across.norm()
        P = torch.stack([e, across], 1)                       # (3, 2): the viewing plane
        return obj, (X @ P).numpy(), (Y @ P).numpy(), (_householder(base[:_N_DIRS], e) @ P).numpy()


def draw(kappa: float = 10.0, pair: int = 0, method: str = "amortized",
         pairs: str = "reconstruction") -> Figure:
    """The chapter's interactive figure (chapter `amortized-vdsw`, section Explore).

    Left: held-out pair number ``pair`` of the family ``pairs``, seen in the plane spanned by the
    location ``eps`` that ``method`` chose and a direction across it, with ``eps`` (black) and
    24 directions of ``vMF(eps, kappa)`` (grey). Right: the objective
    ``E_{theta ~ vMF(eps, kappa)} W_2^2`` of this pair for every method's ``eps`` (64 common
    directions). The amortizer was trained once, at the chapter's ``kappa = 10``; PGA is rerun
    at the slider's ``kappa``.
    """
    kappa = check_real("kappa", kappa, 1.0, 200.0)
    pair = check_int("pair", pair, 0, 99)
    check_choice("method", method, METHODS[1:])
    check_choice("pairs", pairs, PAIRS)
    kappa = float(f"{kappa:.4g}")
    obj, px, py, dirs = _panel(pairs, pair, kappa, method)

    fig, (ax0, ax1) = plotting.figure(2, width=8.4, height=3.6, layout="fixed")
    ax0.scatter(px[:, 0], px[:, 1], s=4, color=plotting.PALETTE[0], lw=0)
    ax0.scatter(py[:, 0], py[:, 1], s=4, color=plotting.PALETTE[1], lw=0)
    seg = np.stack([-2.2 * dirs, 2.2 * dirs], 1)
    ax0.add_collection(LineCollection(seg, colors="#9a9a9a", linewidths=0.6, alpha=0.6))
    ax0.plot([-2.2, 2.2], [0.0, 0.0], color="black", lw=1.2)
    ax0.set_xlim(-2.2, 2.2)
    ax0.set_ylim(-2.2, 2.2)
    ax0.set_xticks((-2, 0, 2))
    ax0.set_yticks((-2, 0, 2))
    plotting.key(ax0, [("X", plotting.PALETTE[0]), ("Y", plotting.PALETTE[1]),
                       (f"vMF(ε, {kappa:.3g})", "#9a9a9a", "/")], x=0.03, y=0.97, width=0.3)
    plotting.labels(ax0, "coordinate along ε", "coordinate across ε", f"pair {pair}, ε from {method}")

    names = list(METHODS)
    vals = [obj[m] for m in names]
    colors = [_COLORS[m] if m in (method, "random") else _COLORS[m] + "66" for m in names]
    ax1.barh(range(len(names)), vals, color=colors)
    ax1.set_yticks(range(len(names)), names)
    ax1.invert_yaxis()
    ax1.set_xlim(0, 1.15 * max(max(vals), 1e-9))
    ax1.text(0.98, 0.04, f"{method} / v-DSW PGA = {obj[method] / max(obj['v-DSW PGA'], 1e-12):.2f}",
             transform=ax1.transAxes, ha="right", va="bottom", fontsize=8)
    plotting.labels(ax1, "objective E W₂² (squared units)", "", f"{pairs} pairs, κ = {kappa:.3g}")
    fig.subplots_adjust(left=0.08, right=0.98, wspace=0.55)
    return fig


#: Slider box of :func:`draw`; the first entry (kappa) is the website scrubber's parameter.
SLIDERS = {
    "kappa": LogSlider(1.0, 200.0, default=10.0, label="concentration κ"),
    "pair": IntSlider(0, 99, default=0, label="held-out pair"),
    "method": Choice(METHODS[1:], default="amortized", label="ε from"),
    "pairs": Choice(PAIRS, default="reconstruction", label="pairs"),
}
