"""Training-free timestep search: AutoDiffusion (Li, Li, Zheng, Wu, Xiao, Wang, Zheng, Pan, Chao and Ji, ICCV 2023).

Explained in chapter ``autodiffusion-timestep-search``.

A candidate schedule is a set of ``K`` distinct integer times in ``{0, ..., T-1}`` of the discrete
DDPM schedule (:data:`paperlab.generative.diffusion.ALPHA_BAR`). It is scored, with no training,
by the Frechet distance between features of samples generated with it and features of reference
data, and improved by an evolutionary search (top-k selection, per-gene crossover, mutation to
unused times, a visited set), as in the official ``search_ea.py`` (stage 1,
:func:`evolve_timesteps`). Stage 2 (:func:`evolve_joint`) searches the times together with a
sub-network for every step: which residual blocks of the noise network to run, under a budget on
the total number of block evaluations, as in the official
``search_dynamic_unet_imagenet64_classifier_guidance_progressive.py``.

The module also holds the chapter's data (:func:`gmm4`), its small residual noise network
(:func:`res_eps_net`, :func:`trained_eps_net`, :func:`net_eps`), the cached experiment
(:func:`experiment`) and the interactive figure (:func:`draw`, :data:`SLIDERS`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from ..cache import cached
from .. import nets, plotting
from .._validate import check_array, check_choice, check_int, check_real
from ..data import GaussianMixture
from ..widgets import Choice, IntSlider
from .diffusion import ALPHA_BAR, gmm_eps
from .diffusion import ddim_sample as _ddim_steps

__all__ = ["random_features", "feature_stats", "fd_score", "check_timesteps", "uniform_timesteps",
           "quadratic_timesteps", "reference_stats", "check_masks", "ddim_sample", "evolve_timesteps",
           "evolve_joint", "gmm4", "res_eps_net", "train_eps_net", "trained_eps_net", "net_eps",
           "Experiment", "experiment", "draw", "SLIDERS"]

#: A feature map ``phi(x) -> (n, m)``.
FeatureFn = Callable[[np.ndarray], np.ndarray]


def random_features(dim: int = 2, n_features: int = 32, scale: float = 1.5, seed: int = 0) -> FeatureFn:
    """``phi(x) = cos(W x + b)`` with ``W ~ N(0, scale^2)`` (``n_features x dim``) and
    ``b ~ U[0, 2 pi)``: the chapter's cheap stand-in for Inception features."""
    dim = check_int("dim", dim, 1)
    m = check_int("n_features", n_features, 1)
    scale = check_real("scale", scale, 0.0, lo_open=True)
    g = np.random.default_rng([check_int("seed", seed, 0), 23])
    W = scale * g.standard_normal((m, dim))
    b = g.uniform(0.0, 2 * np.pi, m)

    def phi(x: np.ndarray) -> np.ndarray:
        return np.cos(np.asarray(x) @ W.T + b)

    phi.n_features = m  # type: ignore[attr-defined]
    return phi


def feature_stats(x, feat: FeatureFn) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of the features ``feat(x)`` of the samples ``x`` (rows)."""
    x = check_array("x", x, ndim=2)
    F = np.asarray(feat(x), dtype=float)
    if F.shape[0] <= F.shape[1]:
        raise ValueError(f"x must hold more samples than there are features ({F.shape[1]}), got "
                         f"{F.shape[0]}: the feature covariance would be singular")
    return F.mean(0), np.cov(F, rowvar=False)


def _psd_sqrt(C: np.ndarray) -> np.ndarray:
    w, V = np.linalg.eigh(C)
    return (V * np.sqrt(np.clip(w, 0.0, None))) @ V.T


def fd_score(x, ref_stats: tuple[np.ndarray, np.ndarray], feat: FeatureFn) -> float:
    """The Frechet distance ``||mu_g - mu_r||^2 + tr(S_g + S_r - 2 (S_g S_r)^{1/2})`` between the
    features of ``x`` and the reference statistics ``(mu_r, S_r)`` (FID's formula, Heusel et al.
    2017, Eq. (6); AutoDiffusion's fitness). The matrix square root is taken by symmetric
    eigendecompositions: ``tr (S_g S_r)^{1/2} = sum sqrt(eig(S_r^{1/2} S_g S_r^{1/2}))``.
    ``ref_stats`` may carry ``S_r^{1/2}`` as a third entry (:func:`reference_stats`), which saves
    one eigendecomposition per call during a search."""
    mu_r, S_r = ref_stats[0], ref_stats[1]
    mu_g, S_g = feature_stats(x, feat)
    if mu_r.shape != mu_g.shape:
        raise ValueError(f"ref_stats has {mu_r.shape[0]} features, feat gives {mu_g.shape[0]}")
    R = ref_stats[2] if len(ref_stats) > 2 else _psd_sqrt(S_r)
    ev = np.linalg.eigvalsh(R @ S_g @ R)
    tr_sqrt = np.sqrt(np.clip(ev, 0.0, None)).sum()
    return float(((mu_g - mu_r) ** 2).sum() + np.trace(S_g) + np.trace(S_r) - 2.0 * tr_sqrt)


def reference_stats(x, feat: FeatureFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(mu_r, S_r, S_r^{1/2})`` of the reference samples ``x``: computed once per search."""
    mu, S = feature_stats(x, feat)
    return mu, S, _psd_sqrt(S)


def check_timesteps(timesteps, T: int = ALPHA_BAR.size) -> np.ndarray:
    """Return the candidate as a sorted (increasing) integer array, after checking that it holds
    distinct integers in ``[0, T)``."""
    arr = check_array("timesteps", timesteps, ndim=1)
    if arr.size < 1 or np.any(arr != np.round(arr)):
        raise ValueError(f"timesteps must be a non-empty list of integers, got {arr.tolist()}")
    arr = np.sort(arr.astype(int))
    if arr[0] < 0 or arr[-1] >= T:
        raise ValueError(f"timesteps must lie in [0, {T}), got {arr.tolist()}")
    if np.any(np.diff(arr) == 0):
        raise ValueError(f"timesteps must be distinct, got {arr.tolist()}")
    return arr


def uniform_timesteps(K: int, T: int = ALPHA_BAR.size) -> np.ndarray:
    """DDIM's "uniform" discretization (as in the ``ldm`` code the paper starts from):
    ``0, c, 2c, ... (+1)`` with ``c = T // K``."""
    K = check_int("K", K, 1, T - 1)
    return np.arange(0, T, T // K)[:K] + 1


def quadratic_timesteps(K: int, T: int = ALPHA_BAR.size) -> np.ndarray:
    """DDIM's "quad" discretization: ``(linspace(0, sqrt(0.8 T), K))^2 + 1`` as integers."""
    K = check_int("K", K, 1, T - 1)
    ts = (np.linspace(0, np.sqrt(0.8 * T), K) ** 2).astype(int) + 1
    for i in range(1, K):                 # keep them distinct for small T
        ts[i] = max(ts[i], ts[i - 1] + 1)
    return check_timesteps(ts, T)


def check_masks(block_mask, K: int, n_blocks: int | None = None) -> np.ndarray:
    """Return the per-step block masks as a ``(K, n_blocks)`` boolean array. ``block_mask`` is
    either one mask shared by all steps (length ``n_blocks``) or one row per step, rows in the
    order of the *sorted* (increasing) timesteps."""
    m = check_array("block_mask", block_mask)
    if m.ndim == 1:
        m = np.broadcast_to(m, (K, m.size))
    if m.ndim != 2 or m.shape[0] != K or m.shape[1] < 1 or (n_blocks is not None and m.shape[1] != n_blocks):
        raise ValueError(f"block_mask must have shape ({K}, n_blocks) or (n_blocks,), got {m.shape}")
    if np.any((m != 0) & (m != 1)):
        raise ValueError("block_mask entries must be 0 (skip the block) or 1 (run it)")
    return m.astype(bool)


def ddim_sample(eps_fn: Callable[..., np.ndarray], z, timesteps, block_mask=None,
                abar=None) -> np.ndarray:
    """Generate with deterministic DDIM on the candidate ``timesteps`` (any order; ``K`` NFEs).

    The noise ``z`` is placed at the largest selected time; DDIM steps (Song et al. 2021, Eq. (12))
    go down through the selected times, and the last network call returns its clean prediction
    ``x0_hat = (z - sigma eps) / alpha``. ``block_mask`` (stage 2): one mask over the network's
    blocks for all steps, or a ``(K, n_blocks)`` array with one row per step (rows in increasing
    time order, as :func:`evolve_joint` returns them); the step at time ``t`` calls
    ``eps_fn(x, t, block_mask=row)``."""
    ab = ALPHA_BAR if abar is None else check_array("abar", abar, ndim=1)
    inc = check_timesteps(timesteps, ab.size)
    if block_mask is None:
        fn = eps_fn
    else:
        rows = dict(zip(inc.tolist(), check_masks(block_mask, inc.size)))
        fn = lambda x, t: eps_fn(x, t, block_mask=rows[int(t)])  # noqa: E731
    ts = inc[::-1]
    x = check_array("z", z, ndim=2)
    if ts.size > 1:
        x = _ddim_steps(fn, x, ts, abar=ab)
    t = int(ts[-1])
    e = fn(x, t)
    return (x - np.sqrt(1.0 - ab[t]) * e) / np.sqrt(ab[t])


def evolve_timesteps(fitness: Callable[[tuple[int, ...]], float], T: int, K: int, pop: int = 30,
                     topk: int = 10, epochs: int = 10, p_mut: float = 0.25, seed: int = 0,
                     init=None) -> tuple[tuple[int, ...], dict]:
    """Evolutionary search over sets of ``K`` distinct times in ``[0, T)`` (AutoDiffusion, Sec. 3
    and Algorithm 1; the official ``search_ea.py``). Lower ``fitness`` is better.

    Initial population of ``pop``: the start candidate ``init`` (default the uniform grid), half
    the population as its mutations and the rest random sets. Each epoch: keep the ``topk`` best
    candidates seen so far; make ``pop // 2`` children by crossover (each gene from one of two
    random top-k parents, then sorted; rejected if it repeats a time) and ``pop // 2`` by mutation
    (each gene of a random top-k parent replaced with probability ``p_mut`` by an unused time).
    Candidates already evaluated are skipped (visited set). Returns the best candidate and a
    history: ``best`` (best fitness after each epoch, non-increasing), ``evaluations`` and
    ``population`` (the candidates evaluated at each epoch)."""
    T = check_int("T", T, 2)
    K = check_int("K", K, 1, T - 1)
    topk = check_int("topk", topk, 2)
    pop = check_int("pop", pop, topk)
    epochs = check_int("epochs", epochs, 1)
    p_mut = check_real("p_mut", p_mut, 0.0, 1.0)
    rng = np.random.default_rng(check_int("seed", seed, 0))
    start = tuple(check_timesteps(uniform_timesteps(K, T) if init is None else init, T).tolist())
    if len(start) != K:
        raise ValueError(f"init must hold K = {K} times, got {len(start)}")
    seen: dict[tuple[int, ...], float] = {}

    def evaluate(c) -> bool:
        c = tuple(sorted(int(v) for v in c))
        if len(set(c)) != K or c in seen:
            return False
        seen[c] = float(fitness(c))
        return True

    def mutate(parent) -> list[int]:
        cand = list(parent)
        unused = [v for v in range(T) if v not in parent]
        for i in range(K):
            if rng.random() < p_mut and unused:
                cand[i] = unused.pop(int(rng.integers(len(unused))))
        return cand

    def fill(batch: list, make, n: int) -> None:
        tries = 10 * n
        while len(batch) < n and tries > 0:
            tries -= 1
            c = make()
            if evaluate(c):
                batch.append(tuple(sorted(c)))

    first: list = []
    evaluate(start)
    first.append(start)
    fill(first, lambda: mutate(start), pop // 2)
    fill(first, lambda: rng.choice(T, K, replace=False), pop)
    history = {"best": [], "evaluations": [], "population": [first]}
    for _ in range(epochs):
        elite = sorted(seen, key=seen.get)[:topk]

        def cross():
            a, b = elite[rng.integers(len(elite))], elite[rng.integers(len(elite))]
            return [a[i] if rng.random() < 0.5 else b[i] for i in range(K)]

        batch: list = []
        fill(batch, cross, pop // 2)
        fill(batch, lambda: mutate(elite[rng.integers(len(elite))]), pop)
        history["population"].append(batch)
        history["best"].append(min(seen.values()))
        history["evaluations"].append(len(seen))
    best = min(seen, key=seen.get)
    return best, history


Genes = tuple[tuple[int, ...], tuple[tuple[int, ...], ...]]


def evolve_joint(fitness: Callable[[tuple[int, ...], tuple[tuple[int, ...], ...]], float], T: int, K: int,
                 n_blocks: int, budget: int, pop: int = 30, topk: int = 10, epochs: int = 10,
                 p_mut: float = 0.25, seed: int = 0, init=None) -> tuple[Genes, dict]:
    """Stage 2 of AutoDiffusion: search the times *and* a sub-network for every step (Sec. 3 of
    the paper; the official ``search_dynamic_unet_..._progressive.py``). Lower ``fitness`` is
    better; it is called as ``fitness(times, masks)``.

    A candidate is ``K`` genes ``(t_i, m_i)``: a time and a 0/1 mask over the ``n_blocks``
    droppable residual blocks of the noise network used at that time. Genes are kept sorted by
    time, so ``masks[i]`` belongs to ``times[i]``. ``budget`` caps the total number of block
    evaluations, ``sum_i sum_b m_i[b] <= budget`` (between 0 and ``K n_blocks``, the full
    network at every step); candidates over the budget are rejected before they are evaluated.
    The initial population is seeded by the stage-1 times ``init`` (default the uniform grid)
    with random masks that spend the whole budget, half of it, and random times with random masks
    for the rest. Each epoch keeps the ``topk`` best candidates seen, makes ``pop // 2`` children
    by crossover (each gene, time and mask together, from one of two top-k parents, as the
    official code does) and fills the population with mutations (each time replaced by an
    unused time, and each mask given one flipped bit, with probability ``p_mut``). A visited set
    skips repeats. Returns the best ``(times, masks)`` and a history as :func:`evolve_timesteps`
    does (``best``, ``evaluations``, ``population``)."""
    T = check_int("T", T, 2)
    K = check_int("K", K, 1, T - 1)
    n_blocks = check_int("n_blocks", n_blocks, 1)
    budget = check_int("budget", budget, 0, K * n_blocks)
    topk = check_int("topk", topk, 2)
    pop = check_int("pop", pop, topk)
    epochs = check_int("epochs", epochs, 1)
    p_mut = check_real("p_mut", p_mut, 0.0, 1.0)
    rng = np.random.default_rng(check_int("seed", seed, 0))
    start = tuple(check_timesteps(uniform_timesteps(K, T) if init is None else init, T).tolist())
    if len(start) != K:
        raise ValueError(f"init must hold K = {K} times, got {len(start)}")
    seen: dict[Genes, float] = {}

    def canon(genes) -> Genes | None:
        genes = sorted((int(t), tuple(int(b) for b in m)) for t, m in genes)
        times = tuple(t for t, _ in genes)
        masks = tuple(m for _, m in genes)
        if len(set(times)) != K or sum(map(sum, masks)) > budget:
            return None
        return times, masks

    def evaluate(genes) -> Genes | None:
        c = canon(genes)
        if c is None or c in seen:
            return None
        seen[c] = float(fitness(*c))
        return c

    def random_masks() -> list[tuple[int, ...]]:
        on = np.zeros(K * n_blocks, dtype=int)
        on[rng.choice(K * n_blocks, budget, replace=False)] = 1
        return [tuple(r) for r in on.reshape(K, n_blocks).tolist()]

    def mutate(parent: Genes) -> list:
        times, masks = list(parent[0]), [list(m) for m in parent[1]]
        unused = [v for v in range(T) if v not in times]
        for i in range(K):
            if rng.random() < p_mut and unused:
                times[i] = unused.pop(int(rng.integers(len(unused))))
            if rng.random() < p_mut:
                b = int(rng.integers(n_blocks))
                masks[i][b] = 1 - masks[i][b]
        return list(zip(times, masks))

    def fill(batch: list, make, n: int) -> None:
        tries = 10 * n
        while len(batch) < n and tries > 0:
            tries -= 1
            c = evaluate(make())
            if c is not None:
                batch.append(c)

    first: list = []
    fill(first, lambda: list(zip(start, random_masks())), pop // 2)
    fill(first, lambda: list(zip(rng.choice(T, K, replace=False), random_masks())), pop)
    history = {"best": [], "evaluations": [], "population": [first]}
    for _ in range(epochs):
        elite = sorted(seen, key=seen.get)[:topk]

        def cross():
            a, b = elite[rng.integers(len(elite))], elite[rng.integers(len(elite))]
            return [(a[0][i], a[1][i]) if rng.random() < 0.5 else (b[0][i], b[1][i]) for i in range(K)]

        batch: list = []
        fill(batch, cross, pop // 2)
        fill(batch, lambda: mutate(elite[rng.integers(len(elite))]), pop)
        history["population"].append(batch)
        history["best"].append(min(seen.values()))
        history["evaluations"].append(len(seen))
    best = min(seen, key=seen.get)
    return best, history


# --------------------------------------------------------------------------- data and network

def gmm4() -> GaussianMixture:
    """The chapter's data: four equal, round Gaussians (variance 0.1) at ``(+-2, +-2)``."""
    return GaussianMixture([0.25] * 4, np.array([[-2., -2.], [-2., 2.], [2., -2.], [2., 2.]]),
                           np.array([np.eye(2) * 0.1] * 4))


class _ResEps(nn.Module):
    """``eps_theta(x, t)``: input layer on ``(x, Fourier features of t / T)``, ``n_blocks``
    residual blocks ``h <- h + W2 silu(W1 silu(h))`` of width ``width``, a linear read-out. A block
    whose mask entry is 0 is skipped (the identity), which is how a sub-network is run."""

    def __init__(self, width: int, n_blocks: int, n_freq: int, seed: int) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.register_buffer("freq", torch.randn(n_freq, generator=g) * 8.0)
        nets.seed_everything(seed)
        self.inp = nn.Linear(2 + 2 * n_freq, width)
        self.blocks = nn.ModuleList(nn.Sequential(nn.SiLU(), nn.Linear(width, width), nn.SiLU(),
                                                  nn.Linear(width, width)) for _ in range(n_blocks))
        self.out = nn.Sequential(nn.SiLU(), nn.Linear(width, 2))

    def forward(self, x: torch.Tensor, t: torch.Tensor, block_mask=None) -> torch.Tensor:
        ang = t.reshape(-1, 1) * self.freq[None, :]
        h = self.inp(torch.cat([x, torch.sin(ang), torch.cos(ang)], dim=1))
        for b, block in enumerate(self.blocks):
            if block_mask is None or block_mask[b]:
                h = h + block(h)
        return self.out(h)


def res_eps_net(width: int = 32, n_blocks: int = 4, n_freq: int = 8, seed: int = 0) -> nn.Module:
    """The chapter's noise network: a residual MLP with ``n_blocks`` droppable blocks."""
    return _ResEps(check_int("width", width, 1), check_int("n_blocks", n_blocks, 1),
                   check_int("n_freq", n_freq, 1), check_int("seed", seed, 0))


def train_eps_net(net: nn.Module, data, *, steps: int = 700, batch: int = 256, lr: float = 4e-3,
                  seed: int = 0) -> nets.History:
    """Denoising score matching on the discrete schedule (Ho et al. 2020, Eq. (14)):
    minimise ``E ||eps_theta(sqrt(abar_t) x0 + sqrt(1 - abar_t) e, t) - e||^2`` with ``t`` uniform
    on ``{0, ..., T-1}``, through the book's training loop :func:`paperlab.nets.fit` (the pattern of
    :func:`paperlab.generative.diffusion.train_dsm`, on integer times)."""
    X = torch.as_tensor(check_array("data", data, ndim=2), dtype=torch.float32)
    batch = check_int("batch", batch, 1)
    ab = torch.tensor(ALPHA_BAR, dtype=torch.float32)
    T = ab.numel()

    def loss_fn(gen: torch.Generator) -> torch.Tensor:
        idx = torch.randint(0, X.shape[0], (batch,), generator=gen)
        t = torch.randint(0, T, (batch,), generator=gen)
        e = torch.randn(batch, X.shape[1], generator=gen)
        a = ab[t][:, None]
        pred = net(a.sqrt() * X[idx] + (1 - a).sqrt() * e, (t.float() + 1) / T)
        return ((pred - e) ** 2).sum(1).mean()

    return nets.fit(net, loss_fn, steps=check_int("steps", steps, 1), lr=lr, seed=seed)


@cached(maxsize=2)
def trained_eps_net(seed: int = 0, steps: int = 700) -> nn.Module:
    """:func:`res_eps_net` trained by :func:`train_eps_net` on 20 000 samples of :func:`gmm4`;
    cached for the session (about two seconds on one CPU core)."""
    net = res_eps_net(seed=seed)
    with nets.one_thread():
        train_eps_net(net, gmm4().sample(20_000, seed=seed), steps=steps, seed=seed)
    return net


def net_eps(net: nn.Module) -> Callable[..., np.ndarray]:
    """``eps(x, t, block_mask=None)`` of a trained :func:`res_eps_net` as a numpy function."""
    T = ALPHA_BAR.size

    @torch.no_grad()
    def eps(x: np.ndarray, t: int, block_mask=None) -> np.ndarray:
        xt = torch.as_tensor(np.asarray(x), dtype=torch.float32)
        tt = torch.full((xt.shape[0],), (int(t) + 1) / T)
        return net(xt, tt, block_mask).double().numpy()

    return eps


# --------------------------------------------------------------------------- the experiment

#: Numbers of steps searched in the chapter (and the range of the K slider).
KS = (3, 4, 5, 6)
#: Samples per FD evaluation (the fixed noise batch of the search, and the fresh batch).
N_FIT = 1000
#: Stage 2 budgets: total residual-block evaluations over K = 4 steps (16 = the full network).
BUDGETS = (12, 8)
MODELS = ("exact ε", "learned net")


@dataclass(frozen=True)
class Experiment:
    """Results of :func:`experiment` (FD = Frechet distance on the 32 random features).

    ``schedules[K]``: the ``"uniform"``, ``"quadratic"`` and ``"searched"`` (stage 1, exact model)
    time sets. ``epoch_best[K]``: the best candidate after the initial population and after each
    epoch. ``epoch_fd[(model, K)]``: its FD on the search batch (for the learned net, the same
    schedules re-scored). ``search_fd[(model, K, name)]``/``fresh_fd[(model, K, name)]``: FD of
    each schedule on the search batch / on a fresh noise batch against a fresh reference sample.
    ``stage2[B]``: the joint search at budget ``B`` (``times``, ``masks``, ``fd`` on the fresh
    batch, and ``fd_naive`` for the stage-1 times with the last blocks dropped evenly).
    """

    seed: int
    ks: tuple[int, ...]
    schedules: dict
    epoch_best: dict
    epoch_fd: dict
    evaluations: dict
    search_fd: dict
    fresh_fd: dict
    stage2: dict
    floor: dict

    def table(self) -> str:
        """FD on the fresh batch, one row per K: uniform, quadratic, searched, for both models."""
        rows = [f"{'K':>2} | {'exact ε: uniform  quadratic  searched':^38} | "
                f"{'learned net: uniform  quadratic  searched':^42}"]
        for K in self.ks:
            cells = [f"{self.fresh_fd[(m, K, n)]:9.3f}" for m in MODELS
                     for n in ("uniform", "quadratic", "searched")]
            rows.append(f"{K:>2} | " + "  ".join(cells[:3]) + "       | " + "  ".join(cells[3:]))
        rows.append(f"(200-step uniform DDIM on the fresh batch: exact {self.floor['exact ε']:.3f}, "
                    f"learned {self.floor['learned net']:.3f})")
        return "\n".join(rows)


def _noise(n: int, seed: int, stream: int) -> np.ndarray:
    return np.random.default_rng([seed, stream]).standard_normal((n, 2))


@cached(maxsize=2)
def _setup(seed: int):
    g = gmm4()
    phi = random_features(2, 32, 1.5, seed)
    ref = reference_stats(g.sample(4000, seed=1000 + seed), phi)
    ref_fresh = reference_stats(g.sample(4000, seed=2000 + seed), phi)
    eps = {"exact ε": gmm_eps(g), "learned net": net_eps(trained_eps_net(seed))}
    return g, phi, ref, ref_fresh, eps, _noise(N_FIT, seed, 1), _noise(N_FIT, seed, 2)


@cached(maxsize=2)
def experiment(seed: int = 0) -> Experiment:
    """The chapter's experiment on :func:`gmm4` (cached; about 10 s of CPU on one core).

    Stage 1: for each ``K`` in :data:`KS`, :func:`evolve_timesteps` (population 30, top 10,
    10 epochs) with the exact noise predictor and fitness = FD of :data:`N_FIT` DDIM samples from
    a fixed noise batch. All schedules are re-scored on a fresh noise batch, with the exact model
    and with the trained network. Stage 2: :func:`evolve_joint` with the trained network at
    ``K = 4`` for each budget in :data:`BUDGETS`, seeded with the stage-1 times (population 20,
    5 epochs)."""
    seed = check_int("seed", seed, 0)
    g, phi, ref, ref_fresh, eps, z, z_fresh = _setup(seed)
    T = ALPHA_BAR.size
    with nets.one_thread():
        def fd(model, c, masks=None, fresh=False):
            x = ddim_sample(eps[model], z_fresh if fresh else z, c, block_mask=masks)
            return fd_score(x, ref_fresh if fresh else ref, phi)

        schedules, epoch_best, epoch_fd, evals, search_fd, fresh_fd = {}, {}, {}, {}, {}, {}
        for K in KS:
            values: dict = {}

            def fitness(c, values=values):
                values[c] = fd("exact ε", c)
                return values[c]

            best, hist = evolve_timesteps(fitness, T, K, pop=30, topk=10, epochs=10, seed=seed)
            seen: list = []
            epoch_best[K] = []
            for batch in hist["population"]:
                seen += batch
                epoch_best[K].append(min(seen, key=values.get))
            evals[K] = hist["evaluations"][-1]
            schedules[K] = {"uniform": tuple(uniform_timesteps(K).tolist()),
                            "quadratic": tuple(quadratic_timesteps(K).tolist()), "searched": best}
            epoch_fd[("exact ε", K)] = np.array([values[c] for c in epoch_best[K]])
            memo = {}
            epoch_fd[("learned net", K)] = np.array(
                [memo.setdefault(c, fd("learned net", c)) for c in epoch_best[K]])
            for m in MODELS:
                for name, c in schedules[K].items():
                    search_fd[(m, K, name)] = values[c] if m == "exact ε" and c in values else fd(m, c)
                    fresh_fd[(m, K, name)] = fd(m, c, fresh=True)
        floor = {m: fd(m, tuple(range(0, T, 5)), fresh=True) for m in MODELS}

        stage2 = {}
        K, nb = 4, 4
        for B in BUDGETS:
            (times, masks), hist = evolve_joint(lambda c, m: fd("learned net", c, m), T, K, nb, B,
                                                pop=20, topk=8, epochs=5, seed=seed,
                                                init=schedules[K]["searched"])
            naive = tuple(tuple(int(b < B // K) for b in range(nb)) for _ in range(K))
            stage2[B] = {"times": times, "masks": masks, "fd": fd("learned net", times, masks, True),
                         "fd_naive": fd("learned net", schedules[K]["searched"], naive, True),
                         "evaluations": hist["evaluations"][-1], "best": hist["best"]}
    return Experiment(seed=seed, ks=KS, schedules=schedules, epoch_best=epoch_best,
                      epoch_fd=epoch_fd, evaluations=evals, search_fd=search_fd,
                      fresh_fd=fresh_fd, stage2=stage2, floor=floor)


# --------------------------------------------------------------------------- interactive figure

@cached(maxsize=128)
def _widget_samples(K: int, epoch: int, model: str) -> tuple[np.ndarray, float]:
    """One K-step DDIM run of the epoch's best schedule on the fresh batch, and its FD."""
    _, phi, _, ref_fresh, eps, _, z_fresh = _setup(0)
    c = experiment(0).epoch_best[K][epoch]
    with nets.one_thread():
        x = ddim_sample(eps[model], z_fresh, c)
        return x, fd_score(x, ref_fresh, phi)


@cached(maxsize=1)
def _widget_ref() -> np.ndarray:
    return gmm4().sample(300, seed=3000)


def draw(epoch: int = 10, K: int = 4, model: str = "exact ε") -> Figure:
    """The chapter's interactive figure (chapter ``autodiffusion-timestep-search``, Explore).

    Left: the best FD found so far against the epoch of the cached search for ``K`` steps, with
    the uniform and quadratic grids. Right: samples generated with the best schedule after
    ``epoch`` epochs by ``model`` (the exact noise predictor, or the trained network using the
    schedule searched with the exact one) on a fresh noise batch of 1000 (500 drawn; the FD uses
    all), over reference samples in grey; the title lists the schedule's times."""
    epoch = check_int("epoch", epoch, 0, 10)
    K = check_int("K", K, KS[0], KS[-1])
    model = check_choice("model", model, MODELS)
    res = experiment(0)
    x, fresh = _widget_samples(K, epoch, model)
    cand = res.epoch_best[K][epoch]
    curve = res.epoch_fd[(model, K)]
    blue, orange, green, grey = plotting.PALETTE[0], plotting.PALETTE[1], plotting.PALETTE[2], "#9a9a9a"

    fig, (a0, a1) = plotting.figure(2, width=8.6, height=3.5, layout="fixed")
    ep = np.arange(curve.size)
    a0.plot(ep, curve, color=blue)
    a0.plot([epoch], [curve[epoch]], "o", color=plotting.PALETTE[3], ms=8)
    a0.axhline(res.search_fd[(model, K, "uniform")], color=orange, ls="--", lw=1.2)
    a0.axhline(res.search_fd[(model, K, "quadratic")], color=green, ls=":", lw=1.5)
    top = max(curve.max(), res.search_fd[(model, K, "uniform")], res.search_fd[(model, K, "quadratic")])
    a0.set(xticks=[0, 5, 10], ylim=(0, 1.4 * top))          # headroom for the key
    plotting.key(a0, [("searched", blue), ("uniform", orange, "--"), ("quadratic", green, "┈")])
    plotting.labels(a0, "epoch", "FD (search batch)", f"K = {K}: best FD so far")

    ref = _widget_ref()
    a1.scatter(*ref.T, s=3, color=grey, lw=0)
    a1.scatter(*x[:500].T, s=3, color=blue, lw=0)            # half the batch: a faster redraw
    a1.set(xlim=(-4, 4), ylim=(-4, 4), xticks=[-3, 0, 3], yticks=[-3, 0, 3])
    plotting.labels(a1, "x₁", "x₂", f"times {', '.join(map(str, cand))}: fresh FD {fresh:.2f}")
    return fig


SLIDERS = {
    "epoch": IntSlider(0, 10, default=10, label="epoch of the search"),
    "K": IntSlider(KS[0], KS[-1], default=4, label="steps K"),
    "model": Choice(MODELS, default="exact ε", label="noise model"),
}
