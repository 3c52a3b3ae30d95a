"""Generative marginalization models (Liu, Ramadge and Adams, ICML 2024).

Explained in chapter ``marginalization-models``.

Notation (as in the chapter). ``x`` is a vector of ``D`` binary variables and ``s`` a subset of
their indices, given as a 0/1 ``mask``; ``x_s`` is ``x`` restricted to ``s``. Both networks read
the same encoding of ``(x_s, s)``: ``2 D`` inputs, the values ``x_i 1[i in s]`` and the mask
``1[i in s]`` (:func:`encode_subset`).

* The any-order autoregressive model (AO-ARM) ``phi`` outputs ``D`` logits; logit ``i`` gives
  ``p_phi(x_i = 1 | x_s)`` for every ``i`` outside ``s``. It is trained by the AO-ARM loss
  (chapter Eq. (3)): for ``x ~ data``, a random ordering ``sigma`` and ``d ~ U{1..D}``,
  ``-(D / (D - d + 1)) sum_{j >= d} log p_phi(x_sigma(j) | x_sigma(<d))``
  (:func:`arm_loss`, :func:`train_ao_arm`). A marginal ``log p(x_s)`` then costs ``|s|``
  network calls, one per factor of the chain rule (:func:`arm_log_marginal`).
* The marginalization model (MaM) ``theta`` outputs one number, ``log p_theta(x_s)``. It is
  trained by distillation from the AO-ARM through the marginalization self-consistency (chapter
  Eq. (4); Eq. (5) of the paper):
  ``(log p_theta(x_sigma(<d)) + log p_phi(x_sigma(d) | x_sigma(<d)) - log p_theta(x_sigma(<=d)))^2``
  plus ``lam_norm (log p_theta(empty))^2`` (:func:`mam_loss`, :func:`train_mam`). A marginal
  then costs one call (:func:`mam_log_marginal`).

The chapter's data come from a 1-D Ising chain with ``D = 10`` spins (:func:`ising_chain`), whose
1024 states can be enumerated, so every marginal is known exactly (:func:`exact_log_marginal`).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
from matplotlib.figure import Figure

from .. import nets, plotting
from ..cache import cached
from .._validate import check_array, check_int, check_real
from ..widgets import Choice, IntSlider

__all__ = ["ising_chain", "encode_subset", "exact_log_marginal", "arm_loss", "train_ao_arm",
           "mam_loss", "train_mam", "arm_log_marginal", "mam_log_marginal", "random_queries",
           "self_consistency_residual", "Experiment", "simulate", "experiment", "draw", "SLIDERS"]

#: Largest dimension the enumeration oracle accepts (2^16 states).
D_MAX_ORACLE = 16


# --------------------------------------------------------------------------- data and oracle

def ising_chain(D: int = 10, J: float = 0.8, h: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """All ``2^D`` states of a 1-D Ising chain and their exact log-probabilities (chapter Eq. (1)).

    ``p(x) ∝ exp(J sum_i t_i t_{i+1} + h sum_i t_i)`` with spins ``t = 2 x - 1``. Row ``c`` of
    the returned states is the binary expansion of ``c`` (``x_i`` = bit ``i``), the layout that
    :func:`exact_log_marginal` expects.
    """
    D = check_int("D", D, 2, D_MAX_ORACLE)
    J = check_real("J", J)
    h = check_real("h", h)
    X = ((np.arange(1 << D)[:, None] >> np.arange(D)) & 1).astype(np.float64)
    t = 2 * X - 1
    logw = J * (t[:, :-1] * t[:, 1:]).sum(1) + h * t.sum(1)
    m = logw.max()
    return X, logw - (m + math.log(np.exp(logw - m).sum()))


def _binary(name: str, x) -> np.ndarray:
    a = check_array(name, x)
    if a.ndim not in (1, 2):
        raise ValueError(f"{name} must be a vector or a matrix of rows, got shape {a.shape}")
    if not np.all((a == 0) | (a == 1)):
        bad = np.unique(a[(a != 0) & (a != 1)])[:5]
        raise ValueError(f"{name} must be binary (0 or 1 only), found {bad.tolist()}")
    return np.atleast_2d(a)


def _pair(x, mask) -> tuple[np.ndarray, np.ndarray]:
    x, m = np.asarray(x), np.asarray(mask)
    if x.shape != m.shape:
        raise ValueError(f"mask must have the same shape as x, got {m.shape} and {x.shape}")
    return _binary("x", x), _binary("mask", m)


def encode_subset(x, mask) -> torch.Tensor:
    """The network input for ``(x_s, s)``: ``[x * mask, mask]``, ``2 D`` columns (chapter Eq. (2)).

    ``x`` and ``mask`` are 0/1 arrays of the same shape, ``(D,)`` or ``(m, D)``; values outside
    the subset are zeroed, so the input does not depend on them.
    """
    if isinstance(x, torch.Tensor) and isinstance(mask, torch.Tensor):
        if x.shape != mask.shape:
            raise ValueError(f"mask must have the same shape as x, got {tuple(mask.shape)} and "
                             f"{tuple(x.shape)}")
        return torch.cat([x * mask, mask], dim=-1)
    x, m = _pair(x, mask)
    return torch.as_tensor(np.concatenate([x * m, m], axis=1), dtype=torch.float32)


def exact_log_marginal(logp_table, x, mask) -> np.ndarray:
    """``log p(x_s) = log sum_{x' : x'_s = x_s} p(x')`` by enumeration (``D <= 16``).

    ``logp_table`` holds ``log p`` of all ``2^D`` states, state ``c`` having ``x_i`` = bit ``i``
    of ``c`` (as returned by :func:`ising_chain`). One value per row of ``x``; the empty subset
    gives ``log 1 = 0``.
    """
    lp = check_array("logp_table", logp_table, ndim=1, finite=False)
    if np.any(np.isnan(lp)) or np.any(lp == np.inf):
        raise ValueError("logp_table must hold log-probabilities (no NaN, no +inf)")
    D = int(round(math.log2(lp.size))) if lp.size > 0 else 0
    if lp.size < 2 or (1 << D) != lp.size:
        raise ValueError(f"logp_table must have 2^D entries, got {lp.size}")
    if D > D_MAX_ORACLE:
        raise ValueError(f"the enumeration oracle needs D <= {D_MAX_ORACLE}, got D = {D}")
    x, m = _pair(x, mask)
    if x.shape[1] != D:
        raise ValueError(f"x must have D = {D} columns (logp_table has 2^{D} entries), "
                         f"got {x.shape[1]}")
    w = 1 << np.arange(D)
    xc = (x.astype(np.int64) * w).sum(1)
    mc = (m.astype(np.int64) * w).sum(1)
    states = np.arange(lp.size)
    out = np.empty(x.shape[0])
    for q in range(x.shape[0]):
        hit = ((states ^ xc[q]) & mc[q]) == 0
        v = lp[hit]
        top = v.max()
        out[q] = top + math.log(np.exp(v - top).sum())
    return out


# --------------------------------------------------------------------------- training

def _random_masks(n: int, D: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor,
                                                                  torch.Tensor]:
    """For each row: a random ordering ``sigma``, ``d ~ U{1..D}``, the mask of ``sigma(<d)``
    and the one-hot of ``sigma(d)``."""
    order = torch.argsort(torch.rand(n, D, generator=gen), dim=1)
    d = torch.randint(1, D + 1, (n,), generator=gen)
    rank = torch.argsort(order, dim=1)                     # position of each index in sigma
    seen = (rank < (d - 1).unsqueeze(1)).float()           # sigma(<d): d - 1 variables
    nxt = (rank == (d - 1).unsqueeze(1)).float()           # sigma(d)
    return seen, nxt, d


def _batch(data: torch.Tensor, n: int, gen: torch.Generator) -> torch.Tensor:
    return data[torch.randint(0, data.shape[0], (n,), generator=gen)]


def arm_loss(arm: torch.nn.Module, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """The AO-ARM loss on a batch ``x`` (chapter Eq. (3)).

    ``-(D / (D - d + 1)) sum_{j >= d} log p_phi(x_sigma(j) | x_sigma(<d))``, averaged over the
    batch, with one ordering ``sigma`` and one ``d ~ U{1..D}`` per row. It is an unbiased
    estimate of the negative log-likelihood averaged over orderings.
    """
    D = x.shape[1]
    seen, _, d = _random_masks(x.shape[0], D, gen)
    logits = arm(encode_subset(x, seen))
    nll = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none")
    per_row = ((1 - seen) * nll).sum(1) * D / (D - d + 1).float()
    return per_row.mean()


def _fit_two_phase(model: torch.nn.Module, loss_fn, steps: int, lr: float, seed: int) -> None:
    """:func:`paperlab.nets.fit` for 80 % of ``steps`` at ``lr``, then 20 % at ``lr / 10``.

    A step decay of the learning rate: with a constant rate the last iterate of Adam keeps
    jittering by about 0.05 nats per conditional on this problem, which is as large as the
    errors the chapter measures."""
    lr = check_real("lr", lr, 0.0, lo_open=True)
    first = max(1, int(round(0.8 * steps)))
    with nets.one_thread():
        nets.fit(model, loss_fn, steps=first, lr=lr, seed=seed)
        if steps > first:
            nets.fit(model, loss_fn, steps=steps - first, lr=lr / 10, seed=seed + 1000)


def train_ao_arm(data, steps: int = 1500, seed: int = 0, *, batch: int = 256, lr: float = 1e-3,
                 hidden: int = 128) -> torch.nn.Module:
    """Train the AO-ARM ``phi`` (MLP ``2D -> hidden -> hidden -> D``) on binary ``data``
    by :func:`arm_loss` through :func:`paperlab.nets.fit` (Step 1 of chapter Algorithm 1)."""
    X = torch.as_tensor(_binary("data", data), dtype=torch.float32)
    D = X.shape[1]
    steps = check_int("steps", steps, 1)
    batch = check_int("batch", batch, 1)
    arm = nets.mlp([2 * D, check_int("hidden", hidden, 1), hidden, D], "relu", seed=seed)
    _fit_two_phase(arm, lambda gen: arm_loss(arm, _batch(X, batch, gen), gen), steps, lr, seed)
    arm.requires_grad_(False)
    return arm


def _cond_logp(arm: torch.nn.Module, x: torch.Tensor, seen: torch.Tensor,
               nxt: torch.Tensor) -> torch.Tensor:
    """``log p_phi(x_i | x_seen)`` for the one index ``i`` marked in ``nxt`` (one ARM call)."""
    logits = (arm(encode_subset(x, seen)) * nxt).sum(1)
    xi = (x * nxt).sum(1)
    return -torch.nn.functional.binary_cross_entropy_with_logits(logits, xi, reduction="none")


def mam_loss(mam: torch.nn.Module, arm: torch.nn.Module, x: torch.Tensor, gen: torch.Generator,
             lam_norm: float = 1.0) -> torch.Tensor:
    """The MaM self-consistency loss on a batch ``x`` (chapter Eq. (4)).

    ``(log p_theta(x_sigma(<d)) + log p_phi(x_sigma(d) | x_sigma(<d)) - log p_theta(x_sigma(<=d)))^2``
    averaged over the batch, plus ``lam_norm (log p_theta(empty))^2``, which pins the total mass
    to 1. The AO-ARM ``phi`` is frozen.
    """
    B, D = x.shape
    seen, nxt, _ = _random_masks(B, D, gen)
    with torch.no_grad():
        cond = _cond_logp(arm, x, seen, nxt)
    zero = torch.zeros(1, D)
    inp = torch.cat([encode_subset(x, seen), encode_subset(x, seen + nxt),
                     encode_subset(zero, zero)])
    out = mam(inp).squeeze(1)
    small, big, empty = out[:B], out[B:2 * B], out[2 * B]
    return ((small + cond - big) ** 2).mean() + lam_norm * empty ** 2


def train_mam(arm: torch.nn.Module, data, steps: int = 1500, lam_norm: float = 1.0,
              seed: int = 0, *, batch: int = 256, lr: float = 1e-3,
              hidden: int = 128) -> torch.nn.Module:
    """Train the MaM ``theta`` (MLP ``2D -> hidden -> hidden -> 1``) by distilling the AO-ARM
    ``arm`` through :func:`mam_loss` with :func:`paperlab.nets.fit` (Step 2 of chapter
    Algorithm 1)."""
    X = torch.as_tensor(_binary("data", data), dtype=torch.float32)
    D = X.shape[1]
    if not isinstance(arm, torch.nn.Module):
        raise ValueError(f"arm must be a trained AO-ARM (torch module), got {type(arm).__name__}")
    lam_norm = check_real("lam_norm", lam_norm, 0.0)
    steps = check_int("steps", steps, 1)
    batch = check_int("batch", batch, 1)
    mam = nets.mlp([2 * D, check_int("hidden", hidden, 1), hidden, 1], "relu", seed=seed + 1)
    _fit_two_phase(mam, lambda gen: mam_loss(mam, arm, _batch(X, batch, gen), gen, lam_norm),
                   steps, lr, seed + 1)
    mam.requires_grad_(False)
    return mam


# --------------------------------------------------------------------------- inference

@torch.no_grad()
def mam_log_marginal(mam: torch.nn.Module, x, mask) -> np.ndarray:
    """``log p_theta(x_s)`` for each row: one network call for the whole batch."""
    return mam(encode_subset(x, mask)).squeeze(1).double().numpy()


@torch.no_grad()
def arm_log_marginal(arm: torch.nn.Module, x, mask, order: str = "random",
                     seed: int = 0) -> tuple[np.ndarray, int]:
    """``log p_phi(x_s)`` by the chain rule over the variables of ``s``: ``|s|`` network calls.

    The variables of each row's subset are visited in a random order (``order="random"``,
    seeded) or left to right (``"left-to-right"``); a perfect AO-ARM gives the same value for
    every order. Returns the log-marginals and the number of sequential network calls, the
    largest ``|s|`` of the batch.
    """
    x, m = _pair(x, mask)
    if order not in ("random", "left-to-right"):
        raise ValueError(f"order must be one of ['random', 'left-to-right'], got {order!r}")
    xt = torch.as_tensor(x, dtype=torch.float32)
    n, D = x.shape
    key = np.random.default_rng(check_int("seed", seed, 0)).random((n, D)) \
        if order == "random" else np.tile(np.arange(D, dtype=float), (n, 1))
    key = np.where(m > 0, key, np.inf)                  # subset members first, in the chosen order
    ranks = np.argsort(np.argsort(key, axis=1), axis=1)
    size = m.sum(1).astype(int)
    total = torch.zeros(n, dtype=torch.float64)
    calls = int(size.max())
    for j in range(calls):
        seen = torch.as_tensor((ranks < j) & (m > 0), dtype=torch.float32)
        nxt = torch.as_tensor((ranks == j) & (m > 0), dtype=torch.float32)
        total += _cond_logp(arm, xt, seen, nxt).double() * torch.as_tensor(j < size)
    return total.numpy(), calls


def random_queries(X, logp, n: int, seed: int = 0, size: int | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """``n`` queries ``(x, s)``: ``x`` drawn from the exact law (rows ``X``, log-probs
    ``logp``), ``|s| ~ U{1..D}`` (or ``size``) and ``s`` a uniform subset of that size."""
    n = check_int("n", n, 1)
    X = _binary("X", X)
    D = X.shape[1]
    rng = np.random.default_rng([check_int("seed", seed, 0), 95])
    x = X[rng.choice(X.shape[0], n, p=np.exp(logp - logp.max()) / np.exp(logp - logp.max()).sum())]
    sizes = rng.integers(1, D + 1, n) if size is None else np.full(n, check_int("size", size, 1, D))
    mask = (np.argsort(rng.random((n, D)), axis=1) < sizes[:, None]).astype(np.float64)
    return x, mask


@torch.no_grad()
def self_consistency_residual(mam: torch.nn.Module, arm: torch.nn.Module, x, seed: int = 0
                              ) -> np.ndarray:
    """The residual of chapter Eq. (4) at one random ``(sigma, d)`` per row of ``x``."""
    xt = torch.as_tensor(_binary("x", x), dtype=torch.float32)
    gen = torch.Generator().manual_seed(check_int("seed", seed, 0))
    seen, nxt, _ = _random_masks(xt.shape[0], xt.shape[1], gen)
    r = (mam(encode_subset(xt, seen)) - mam(encode_subset(xt, seen + nxt))).squeeze(1) \
        + _cond_logp(arm, xt, seen, nxt)
    return r.double().numpy()


# --------------------------------------------------------------------------- the experiment

@dataclass(frozen=True)
class Experiment:
    """Results of :func:`simulate`.

    ``x``, ``mask``: the ``n_queries`` random queries; ``exact``, ``mam``, ``arm``: their
    log-marginals (exact by enumeration, MaM in one call, AO-ARM by a random-order chain);
    ``arm_calls``: the sequential ARM calls for the batch; ``residual``: the self-consistency
    residual (Eq. (4)) at fresh ``(x, sigma, d)``; ``time_mam``/``time_arm``: seconds per batch of
    ``n_queries`` full-size queries (``|s| = D``), best of several runs (wall clock, machine
    dependent, never checked).
    """

    seed: int
    x: np.ndarray
    mask: np.ndarray
    exact: np.ndarray
    mam: np.ndarray
    arm: np.ndarray
    arm_calls: int
    residual: np.ndarray
    time_mam: float
    time_arm: float

    @property
    def sizes(self) -> np.ndarray:
        return self.mask.sum(1).astype(int)

    def mae(self, which: str) -> float:
        """Mean absolute error of ``"mam"`` or ``"arm"`` log-marginals against the exact ones."""
        if which not in ("mam", "arm"):
            raise ValueError(f"which must be 'mam' or 'arm', got {which!r}")
        return float(np.abs(getattr(self, which) - self.exact).mean())

    def mae_by_size(self, which: str) -> np.ndarray:
        """Mean absolute error for each subset size ``|s| = 1..D``."""
        err = np.abs(getattr(self, which) - self.exact)
        return np.array([err[self.sizes == k].mean() if np.any(self.sizes == k) else np.nan
                         for k in range(1, self.x.shape[1] + 1)])


def _best_time(fn, repeats: int = 5) -> float:
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def simulate(seed: int = 0, steps: int = 1500, n_data: int = 20000, n_queries: int = 500,
             lr: float = 3e-3) -> Experiment:
    """The chapter's experiment: train the AO-ARM and the MaM on ``n_data`` samples of the Ising
    chain (:func:`ising_chain`), then compare their log-marginals with the exact ones on
    ``n_queries`` random queries (:func:`random_queries`). Uncached; see :func:`experiment`."""
    seed = check_int("seed", seed, 0)
    X, lp = ising_chain()
    rng = np.random.default_rng([seed, 950])
    data = X[rng.choice(X.shape[0], check_int("n_data", n_data, 1), p=np.exp(lp))]
    arm = train_ao_arm(data, steps, seed, lr=lr)
    mam = train_mam(arm, data, steps, 1.0, seed, lr=lr)
    x, mask = random_queries(X, lp, n_queries, seed=seed)
    exact = exact_log_marginal(lp, x, mask)
    with nets.one_thread():
        m = mam_log_marginal(mam, x, mask)
        a, calls = arm_log_marginal(arm, x, mask, seed=seed)
        xr, _ = random_queries(X, lp, n_queries, seed=seed + 1)
        res = self_consistency_residual(mam, arm, xr, seed=seed + 1)
        full = np.ones_like(x)
        t_mam = _best_time(lambda: mam_log_marginal(mam, x, full))
        t_arm = _best_time(lambda: arm_log_marginal(arm, x, full, seed=seed))
    return Experiment(seed=seed, x=x, mask=mask, exact=exact, mam=m, arm=a, arm_calls=calls,
                      residual=res, time_mam=t_mam, time_arm=t_arm)


@cached(maxsize=2)
def experiment(seed: int = 0, steps: int = 1500, n_data: int = 20000,
               n_queries: int = 500) -> Experiment:
    """:func:`simulate`, cached on its arguments: the chapter's one heavy step."""
    return simulate(seed=seed, steps=steps, n_data=n_data, n_queries=n_queries)


# --------------------------------------------------------------------------- interactive figure

_BLUE, _ORANGE, _GREY = plotting.PALETTE[0], plotting.PALETTE[1], "#9a9a9a"


@cached(maxsize=1)
def _widget_data():
    res = experiment()
    order = {k: np.flatnonzero(res.sizes == k) for k in range(1, res.x.shape[1] + 1)}
    lo = float(min(res.exact.min(), res.mam.min(), res.arm.min())) - 0.3
    return res, order, lo


def draw(size: int = 4, query: int = 0, show: str = "MaM") -> Figure:
    """The chapter's interactive figure (chapter ``marginalization-models``, section Explore).

    Left: ``show`` ("MaM" or "AO-ARM") log-marginals against the exact ones for the 500 queries,
    with the queries of subset size ``size`` coloured and query number ``query`` among them
    circled. Right: that query, ``x_s``, with its exact, MaM and ARM log-probabilities and the
    number of network calls each model needed. Reads cached results only.
    """
    size = check_int("size", size, 1, 10)
    query = check_int("query", query, 0, 19)
    if show not in ("MaM", "AO-ARM"):
        raise ValueError(f"show must be one of ['MaM', 'AO-ARM'], got {show!r}")
    res, order, lo = _widget_data()
    pred = res.mam if show == "MaM" else res.arm
    fig, (ax0, ax1) = plotting.figure(2, width=9.0, height=3.6, layout="fixed")
    ax0.plot([lo, 0.1], [lo, 0.1], color=_GREY, lw=0.8)
    ax0.plot(res.exact, pred, ".", ms=2.5, color=_GREY)
    idx = order.get(size, np.array([], dtype=int))
    ax0.plot(res.exact[idx], pred[idx], ".", ms=4, color=_BLUE if show == "MaM" else _ORANGE)
    ax0.set(xlim=(lo, 0.1), ylim=(lo, 0.1))
    ticks = np.arange(-2 * np.floor(-lo / 2), 0.5, 2)
    ax0.set_xticks(ticks)
    ax0.set_yticks(ticks)
    err = float(np.abs(pred[idx] - res.exact[idx]).mean()) if idx.size else float("nan")
    plotting.labels(ax0, "exact log p(x_s) (nats)", f"{show} log p(x_s) (nats)",
                    f"|s| = {size}: {idx.size} queries, mean error {err:.3f}")
    if idx.size == 0:
        plotting.message(ax1, f"no query of size {size} among the 500")
        ax1.set_axis_off()
        return fig
    q = int(idx[query % idx.size])
    ax0.plot([res.exact[q]], [pred[q]], "o", ms=8, mfc="none", mec="black", mew=1.2)
    xs = " ".join(str(int(v)) if m else "·" for v, m in zip(res.x[q], res.mask[q]))
    vals = (("exact", res.exact[q], _GREY, "enumeration"),
            ("MaM", res.mam[q], _BLUE, "1 network call"),
            ("AO-ARM", res.arm[q], _ORANGE, f"{size} network calls"))
    ax1.barh([2, 1, 0], [v[1] for v in vals], height=0.6, color=[v[2] for v in vals])
    for row, (name, v, c, calls) in enumerate(vals):
        ax1.text(lo + 0.2, 2 - row, f"{name}: {v:.3f}  ({calls})", va="center", fontsize=8)
    ax1.set(xlim=(lo, 0.1), ylim=(-0.6, 2.6))
    ax1.set_xticks(ticks)
    ax1.set_yticks([])
    plotting.labels(ax1, "log p(x_s) (nats)", "", f"x_s = {xs}   (· = not in s)")
    return fig


#: Slider box of :func:`draw`; the first entry (size) is the website scrubber's parameter.
SLIDERS = {
    "size": IntSlider(1, 10, default=4, label="subset size |s|"),
    "query": IntSlider(0, 19, default=0, label="query"),
    "show": Choice(("MaM", "AO-ARM"), default="MaM", label="model (left panel)"),
}
