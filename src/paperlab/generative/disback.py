"""Distribution Backtracking (DisBack) for one-step diffusion distillation (Zhang et al.,
"Distribution Backtracking Builds A Faster Convergence Trajectory for Diffusion Distillation",
ICLR 2025; arXiv:2408.15991).

Explained in chapter ``disback-distillation``.

Notation (as in the chapter). Data ``x0`` live in ``R^2``; the Gaussian path is the toolkit's
VP-cosine schedule ``x_t = alpha_t x0 + sigma_t e``. Every score network here predicts the noise,
``eps(x, t) = -sigma_t s(x, t)`` (:func:`paperlab.generative.diffusion.score_mlp`).

* The **teacher** ``s_theta`` is trained by denoising score matching (DSM) on data (Eq. (1) of the
  chapter).
* A one-step **generator** ``G_eta: z -> x``, ``z ~ N(0, I)``, is trained by score distillation:
  ``grad_eta = E_{t,e}[w(t) (s_fake - s_target)(x_t, t) dx_t/deta]`` with
  ``x_t = alpha_t G_eta(z) + sigma_t e`` (Eq. (2)), written as the loss
  ``1/2 ||x_t - sg(x_t - w(t)(s_fake - s_target))||^2`` with ``w(t) = sigma_t^2`` (Eq. (3)). The
  fake score ``s_phi`` follows the generator by DSM on its samples.
* **Degradation recording** (Algorithm 1 of the paper, stage 1): fine-tune a copy of the teacher by
  DSM on samples of the *initial* generator and keep ``N`` evenly spaced checkpoints:
  ``s_0 = s_theta, s_1, ..., s_N``.
* **Backtracking** (stage 2): start the fake score at ``s_N`` and distill against
  ``s_{N-1}, ..., s_0`` in turn, a fixed number of iterations each.
* The **endpoint** baseline distills against ``s_theta`` throughout, with ``s_phi`` initialized
  from ``s_theta``.

All training goes through the book's one loop, :func:`paperlab.nets.fit`.
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator
from torch import nn

from ..cache import cached
from .. import nets, plotting
from .._validate import check_array, check_choice, check_int, check_real
from ..data import GaussianMixture
from ..widgets import Choice, IntSlider
from .diffusion import mmd2, schedule, score_mlp

__all__ = ["ring8", "make_generator", "train_score_dsm", "record_degradation", "distill",
           "mmd_rbf", "experiment", "draw", "SLIDERS"]

#: Generator iterations per DisBack stage (targets s_3, s_2, s_1, s_0) in the chapter.
ITERS = (25, 25, 50, 700)
#: Where the initial generator's samples sit: near (OFFSET, OFFSET), off the ring of radius 2.
OFFSET = 3.5
#: The diffusion path of the chapter.
SCHED = schedule("vp-cosine")
#: Distillation and DSM draw t uniformly from [T_LO, T_HI].
T_LO, T_HI = 0.02, 0.98


# --------------------------------------------------------------------------- data and networks

def ring8(radius: float = 2.0, std: float = 0.15) -> GaussianMixture:
    """Eight equal Gaussians with standard deviation ``std`` evenly spaced on a circle."""
    radius = check_real("radius", radius, 0.0, lo_open=True)
    std = check_real("std", std, 0.0, lo_open=True)
    ang = 2 * np.pi * np.arange(8) / 8
    means = radius * np.c_[np.cos(ang), np.sin(ang)]
    return GaussianMixture(np.full(8, 1 / 8), means, np.tile(std**2 * np.eye(2), (8, 1, 1)))


def make_generator(dim: int = 2, width: int = 64, offset: float = 0.0, seed: int = 0) -> nn.Module:
    """A one-step generator ``G_eta: R^dim -> R^dim``, an MLP with two hidden layers of ``width``
    (GELU), randomly initialized at ``seed``; ``offset`` is added to every entry of the output
    bias, so the initial samples form a small blob centred near ``(offset, ..., offset)``."""
    net = nets.mlp([check_int("dim", dim, 1), check_int("width", width, 1), width, dim],
                   activation="gelu", seed=seed)
    with torch.no_grad():
        net[-1].bias += check_real("offset", offset)
    return net


def _alpha_sigma(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``alpha_t = cos(pi t / 2)``, ``sigma_t = sin(pi t / 2)`` (the toolkit's VP-cosine path,
    :data:`SCHED`), as (n, 1) tensors."""
    half_pi_t = (0.5 * np.pi) * t[:, None]
    return torch.cos(half_pi_t), torch.sin(half_pi_t)


def _dsm_loss(net: nn.Module, x0: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """``E ||eps_net(alpha_t x0 + sigma_t e, t) - e||^2`` (Eq. (1)), ``t ~ U[T_LO, T_HI]``."""
    n = x0.shape[0]
    t = T_LO + (T_HI - T_LO) * torch.rand(n, generator=gen)
    e = torch.randn(x0.shape, generator=gen)
    a, s = _alpha_sigma(t)
    return ((net(a * x0 + s * e, t) - e) ** 2).sum(1).mean()


def _sampler_of(sampler) -> Callable[[int, torch.Generator], torch.Tensor]:
    """A ``(batch, generator) -> tensor`` sampler from an (n, d) array or such a callable."""
    if callable(sampler):
        return sampler
    X = torch.as_tensor(check_array("sampler", sampler, ndim=2), dtype=torch.float32)
    return lambda b, g: X[torch.randint(0, X.shape[0], (b,), generator=g)]


def train_score_dsm(net: nn.Module, sampler, steps: int, lr: float = 1e-3, seed: int = 0,
                    checkpoint_every: int | None = None, batch: int = 256) -> list[dict]:
    """Denoising score matching (Eq. (1)) of the noise predictor ``net`` on samples ``x0`` from
    ``sampler`` (an (n, d) array, or a function ``(batch, torch.Generator) -> tensor``), through
    :func:`paperlab.nets.fit`.

    Returns snapshots (state dicts) after every ``checkpoint_every`` steps (the last one is the
    trained net); an empty list when ``checkpoint_every`` is ``None``.
    """
    steps = check_int("steps", steps, 1)
    every = None if checkpoint_every is None else check_int("checkpoint_every", checkpoint_every, 1, steps)
    batch = check_int("batch", batch, 1)
    draw_x0 = _sampler_of(sampler)
    snaps: list[dict] = []
    calls = [0]

    def loss_fn(gen: torch.Generator) -> torch.Tensor:
        if every is not None and calls[0] > 0 and calls[0] % every == 0:
            snaps.append(copy.deepcopy(net.state_dict()))     # parameters after calls[0] steps
        calls[0] += 1
        with torch.no_grad():
            x0 = draw_x0(batch, gen)
        return _dsm_loss(net, x0, gen)

    nets.fit(net, loss_fn, steps=steps, lr=lr, seed=seed)
    if every is not None and steps % every == 0:
        snaps.append(copy.deepcopy(net.state_dict()))
    return snaps


def _generator_sampler(generator: nn.Module, dim: int) -> Callable[[int, torch.Generator], torch.Tensor]:
    def draw(b: int, g: torch.Generator) -> torch.Tensor:
        return generator(torch.randn(b, dim, generator=g))
    return draw


def _dim_of(generator: nn.Module, teacher: nn.Module) -> int:
    """The data dimension shared by ``generator`` (R^d -> R^d) and the score net ``teacher``."""
    lin = [m for m in generator.modules() if isinstance(m, nn.Linear)]
    if not lin:
        raise ValueError("generator must contain nn.Linear layers")
    d_in, d_out = lin[0].in_features, lin[-1].out_features
    with torch.no_grad():
        try:
            out = teacher(torch.zeros(1, d_out), torch.full((1,), 0.5))
        except RuntimeError as exc:
            raise ValueError(f"generator output dimension {d_out} does not match the teacher's "
                             f"input") from exc
    if out.shape[1] != d_out:
        raise ValueError(f"generator output dimension {d_out} does not match the teacher's "
                         f"output dimension {out.shape[1]}")
    return d_in


def record_degradation(teacher: nn.Module, generator: nn.Module, n_ckpt: int = 4, steps: int = 400,
                       seed: int = 0, lr: float = 1e-3) -> list[nn.Module]:
    """Stage 1 of DisBack (Algorithm 1 of the paper): fine-tune a copy of ``teacher`` by DSM on
    samples of the (frozen) initial ``generator`` for ``steps`` steps and keep ``n_ckpt`` evenly
    spaced checkpoints. Returns the degradation path ``[s_0 = teacher, s_1, ..., s_N]``
    (``N = n_ckpt``), each a separate frozen copy."""
    n_ckpt = check_int("n_ckpt", n_ckpt, 1)
    steps = check_int("steps", steps, n_ckpt)
    if steps % n_ckpt:
        raise ValueError(f"steps must be a multiple of n_ckpt, got steps={steps}, n_ckpt={n_ckpt}")
    dim = _dim_of(generator, teacher)
    G = copy.deepcopy(generator).requires_grad_(False)
    psi = copy.deepcopy(teacher).requires_grad_(True)
    snaps = train_score_dsm(psi, _generator_sampler(G, dim), steps, lr=lr, seed=seed,
                            checkpoint_every=steps // n_ckpt)
    path = [copy.deepcopy(teacher)]
    for sd in snaps:
        net = copy.deepcopy(teacher)
        net.load_state_dict(sd)
        path.append(net)
    for net in path:
        net.requires_grad_(False).eval()
    return path


def distill(generator: nn.Module, targets: Sequence[nn.Module], fake_init: nn.Module,
            iters_per_stage: Sequence[int], fake_steps: int = 2, seed: int = 0, lr: float = 1e-3,
            batch: int = 256, snapshot_every: int = 20, n_snapshot: int = 500) -> dict:
    """Score distillation of a one-step ``generator`` (trained in place), stage by stage.

    Stage ``j`` distills against ``targets[j]`` for ``iters_per_stage[j]`` generator iterations.
    Each iteration is ``fake_steps`` DSM steps (Eq. (1)) of the fake score ``s_phi`` on generator
    samples, then one generator step on ``1/2 ||x_t - sg(x_t - w(t)(s_phi - s_target))||^2`` with
    ``w(t) = sigma_t^2`` (Eqs. (2)-(3)). DisBack passes the degradation path backwards,
    ``targets = [s_{N-1}, ..., s_0]`` with ``fake_init = s_N`` (Algorithm 1, stage 2); the endpoint
    baseline passes ``targets = [s_theta]`` with ``fake_init = s_theta``.

    The generator and ``s_phi`` are trained by one :func:`paperlab.nets.fit` run whose steps
    alternate between the two losses (each step leaves the other network's gradients empty, so
    Adam moves only the network being trained).

    Returns a dict with ``mismatch`` (per iteration, the mean of
    ``||sigma_t (s_phi - s_target)(x_t, t)||`` on the generator batch), ``stage`` (the stage index
    per iteration), ``snap_iters`` and ``snapshots`` (``n_snapshot`` generator samples from fixed
    noise every ``snapshot_every`` iterations, including iteration 0).
    """
    targets = list(targets)
    if not targets:
        raise ValueError("targets must hold at least one score network")
    if isinstance(iters_per_stage, (int, np.integer)) or len(iters_per_stage) != len(targets):
        raise ValueError(f"iters_per_stage must be a list of {len(targets)} positive ints, one per "
                         f"target, got {iters_per_stage!r}")
    iters = [check_int(f"iters_per_stage[{j}]", k, 1) for j, k in enumerate(iters_per_stage)]
    fake_steps = check_int("fake_steps", fake_steps, 1)
    snapshot_every = check_int("snapshot_every", snapshot_every, 1)
    dim = _dim_of(generator, targets[0])
    for net in targets:
        net.requires_grad_(False).eval()
    fake = copy.deepcopy(fake_init).requires_grad_(True)
    both = nn.ModuleDict({"generator": generator, "fake": fake})
    stage_of = np.repeat(np.arange(len(targets)), iters)
    total = int(stage_of.size)
    z_fixed = torch.randn(n_snapshot, dim, generator=torch.Generator().manual_seed(10_000 + seed))
    log = {"mismatch": np.zeros(total), "stage": stage_of, "snap_iters": [], "snapshots": []}
    calls = [0]

    def snapshot(it: int) -> None:
        with torch.no_grad():
            log["snap_iters"].append(it)
            log["snapshots"].append(generator(z_fixed).numpy().copy())

    def loss_fn(gen: torch.Generator) -> torch.Tensor:
        it, phase = divmod(calls[0], fake_steps + 1)
        calls[0] += 1
        z = torch.randn(batch, dim, generator=gen)
        if phase < fake_steps:                                  # (a) fake score follows G
            if phase == 0 and it % snapshot_every == 0:
                snapshot(it)
            with torch.no_grad():
                x0 = generator(z)
            return _dsm_loss(fake, x0, gen)
        x0 = generator(z)                                       # (b) generator step
        t = T_LO + (T_HI - T_LO) * torch.rand(batch, generator=gen)
        a, s = _alpha_sigma(t)
        xt = a * x0 + s * torch.randn(x0.shape, generator=gen)
        with torch.no_grad():
            # s = -eps / sigma, so w (s_fake - s_target) = sigma (eps_target - eps_fake)
            diff = targets[stage_of[it]](xt, t) - fake(xt, t)
            log["mismatch"][it] = float(diff.norm(dim=1).mean())
            goal = xt - s * diff
        return 0.5 * ((xt - goal) ** 2).sum(1).mean()

    nets.fit(both, loss_fn, steps=total * (fake_steps + 1), lr=lr, seed=seed)
    snapshot(total)
    log["snap_iters"] = np.array(log["snap_iters"])
    log["snapshots"] = np.stack(log["snapshots"])
    return log


def mmd_rbf(x, y, bandwidths=(0.2, 0.5, 1.0)) -> float:
    """Unbiased RBF MMD² between two samples (the toolkit's
    :func:`paperlab.generative.diffusion.mmd2`)."""
    return mmd2(x, y, bandwidths)


# --------------------------------------------------------------------------- experiment

@dataclass(frozen=True)
class Experiment:
    """Logs of both methods (``logs["DisBack"]``, ``logs["endpoint"]``), MMD² to data at every
    snapshot (``mmd``), the data sample and the teacher's own samples for reference."""

    logs: dict
    mmd: dict
    data: np.ndarray
    iters_per_stage: tuple


def experiment(seed: int = 0, iters_per_stage: tuple = ITERS, teacher_steps: int = 1000,
               degrade_steps: int = 200, degrade_lr: float = 1e-4, fake_steps: int = 2,
               lr: float = 5e-4, offset: float = OFFSET) -> Experiment:
    """The chapter's experiment (chapter ``disback-distillation``): a teacher trained by DSM on the
    8-Gaussian ring (``teacher_steps``); a generator whose initial samples sit near
    ``(offset, offset)``, off the teacher's data; a degradation path of ``len(iters_per_stage)``
    checkpoints (``degrade_steps`` DSM steps at ``degrade_lr`` on the initial generator); then
    DisBack and the endpoint baseline from the same initial generator, ``sum(iters_per_stage)``
    generator iterations each at learning rate ``lr``. Cached."""
    if isinstance(iters_per_stage, (int, np.integer)) or len(iters_per_stage) < 1:
        raise ValueError(f"iters_per_stage must be a list of positive ints, got {iters_per_stage!r}")
    return _experiment(check_int("seed", seed, 0),
                       tuple(check_int("iters_per_stage", k, 1) for k in iters_per_stage),
                       check_int("teacher_steps", teacher_steps, 1),
                       check_int("degrade_steps", degrade_steps, 1),
                       check_real("degrade_lr", degrade_lr, 0.0, lo_open=True),
                       check_int("fake_steps", fake_steps, 1),
                       check_real("lr", lr, 0.0, lo_open=True), check_real("offset", offset))


@cached(maxsize=4)
def _experiment(seed: int, iters: tuple, teacher_steps: int, degrade_steps: int, degrade_lr: float,
                fake_steps: int, lr: float, offset: float) -> Experiment:
    ring = ring8()
    data = ring.sample(20_000, seed=seed)
    with nets.one_thread():
        teacher = score_mlp(dim=2, width=64, depth=2, seed=seed)
        train_score_dsm(teacher, data, teacher_steps, lr=2e-3, seed=seed)
        teacher.requires_grad_(False).eval()
        G0 = make_generator(offset=offset, seed=seed + 1)
        path = record_degradation(teacher, G0, n_ckpt=len(iters), steps=degrade_steps, seed=seed,
                                  lr=degrade_lr)
        logs = {
            "DisBack": distill(copy.deepcopy(G0), path[-2::-1], path[-1], iters,
                               fake_steps=fake_steps, seed=seed, lr=lr),
            "endpoint": distill(copy.deepcopy(G0), [teacher], teacher, [sum(iters)],
                                fake_steps=fake_steps, seed=seed, lr=lr),
        }
    ref = data[:500]
    mmd = {m: np.array([mmd2(s, ref) for s in lg["snapshots"]]) for m, lg in logs.items()}
    return Experiment(logs, mmd, data[:2000], iters)


def summary(ex: Experiment, early: int = 100) -> dict:
    """The chapter's checked quantities: mean mismatch over the first ``early`` iterations, the
    final MMD², and the first snapshot iteration with MMD² below twice the endpoint's final MMD²."""
    early = check_int("early", early, 1)
    out = {}
    thr = 2 * ex.mmd["endpoint"][-1]
    for m, lg in ex.logs.items():
        hit = np.nonzero(ex.mmd[m] < thr)[0]
        out[m] = {"early_mismatch": float(lg["mismatch"][:early].mean()),
                  "final_mmd2": float(ex.mmd[m][-1]),
                  "first_iter_below": int(lg["snap_iters"][hit[0]]) if hit.size else -1}
    return out


# --------------------------------------------------------------------------- interactive figure

_COL = {"DisBack": plotting.PALETTE[0], "endpoint": plotting.PALETTE[1]}


def draw(iteration: int = 800, method: str = "both", show_target: bool | str = "yes") -> Figure:
    """The chapter's interactive figure (chapter ``disback-distillation``): generator samples at
    ``iteration`` (left) and MMD² to the data against iteration (right)."""
    ex = experiment()
    last = int(ex.logs["DisBack"]["snap_iters"][-1])
    iteration = check_int("iteration", iteration, 0, last)
    check_choice("method", method, ("both", "DisBack", "endpoint"))
    check_choice("show_target", show_target, ("yes", "no", True, False))
    methods = ["DisBack", "endpoint"] if method == "both" else [method]
    fig, (ax0, ax1) = plotting.figure(2, width=9.0, height=3.6, layout="fixed")
    if show_target in ("yes", True):
        ax0.plot(ex.data[:600, 0], ex.data[:600, 1], ".", ms=2, color="#c0c0c0")
    for m in methods:
        lg = ex.logs[m]
        j = int(np.argmin(np.abs(lg["snap_iters"] - iteration)))
        x = lg["snapshots"][j][:300]
        ax0.plot(x[:, 0], x[:, 1], ".", ms=3, color=_COL[m])
        ax1.plot(lg["snap_iters"], ex.mmd[m], color=_COL[m])
    ax0.set(xlim=(-3.2, 4.8), ylim=(-3.2, 4.8))
    ax1.axvline(iteration, color="grey", lw=0.8, ls="--")
    ax1.set_yscale("log")
    ax1.set_ylim(0.04, 5.0)
    ax1.yaxis.set_major_locator(FixedLocator([0.05, 0.1, 0.3, 1.0, 3.0]))
    ax1.yaxis.set_major_formatter(FixedFormatter(["0.05", "0.1", "0.3", "1", "3"]))
    ax1.yaxis.set_minor_locator(NullLocator())
    plotting.key(ax1, [(m, _COL[m]) for m in methods])
    plotting.labels(ax0, "x₁", "x₂", f"generator samples, iteration {iteration}")
    plotting.labels(ax1, "generator iteration", "MMD² to data", "distance to the data")
    return fig


#: Slider box of :func:`draw`; the first entry (iteration) is the website scrubber's parameter.
SLIDERS = {
    "iteration": IntSlider(0, sum(ITERS), default=sum(ITERS), step=20, label="iteration"),
    "method": Choice(("both", "DisBack", "endpoint"), default="both", label="method"),
    "show_target": Choice(("yes", "no"), default="yes", label="show data"),
}
