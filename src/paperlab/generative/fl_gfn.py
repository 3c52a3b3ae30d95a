"""Forward-looking GFlowNets: local credit from intermediate energies (Pan et al., ICML 2023).

Explained in chapter ``fl-gflownet-local-credit``.

Notation (as in the chapter). A GFlowNet builds an object step by step. Here the object is a
set ``x`` of ``k`` elements out of ``n``; a state ``s`` is a partial set (a bit vector of
length ``n``), and one action adds one element that is not yet in ``s``. Every state has an
energy

    E(s) = sum_{i in s} e_i + sum_{i < j in s} J_ij,

and the target is ``p(x) ∝ R(x) = exp(-E(x))`` over the ``C(n, k)`` complete sets (924 for the
chapter's ``n = 12``, ``k = 6``). The backward policy is fixed and uniform,
``P_B(s | s') = 1 / |s'|``. A network reads the bit vector of ``s`` and outputs ``n`` logits of
the forward policy ``P_F(s' | s)`` (elements already in ``s`` are masked) and one number: the
log state flow ``log F(s)`` for detailed balance, or the *forward-looking* flow ``log F~(s)``
with ``F(s) = F~(s) exp(-E(s))`` for FL-DB.

* Detailed balance, DB (Bengio et al. 2023, Eq. (5) of the chapter): the residual
  ``log F(s) + log P_F(s'|s) - log F(s') - log P_B(s|s')`` with ``log F(x) := -E(x)`` at
  complete sets.
* Forward-looking DB, FL-DB (Pan et al. 2023, their Eq. (7); Eq. (6) of the chapter): the
  residual ``log F~(s) + log P_F(s'|s) - log F~(s') - log P_B(s|s') + E(s') - E(s)`` with
  ``log F~(x) := 0`` at complete sets.

Both losses are the mean squared residual over the transitions of a batch of on-policy
trajectories (:func:`gfn_loss`), trained by the book's one loop :func:`paperlab.nets.fit`
(:func:`train_gfn`). With ``incomplete=True`` each trajectory is cut after ``L ~ U{1..k-1}``
steps, so no complete set, and hence no reward ``R(x)``, is ever seen. The distribution the
sampler produces over complete sets is computed exactly by dynamic programming over all
partial sets (:func:`model_distribution`), so the curves have no sampling noise.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import torch
from matplotlib.figure import Figure

from .. import nets, plotting
from ..cache import cached
from .._validate import check_array, check_choice, check_int, check_real
from ..widgets import Choice, IntSlider

__all__ = ["SetEnv", "OBJECTIVES", "GFNModel", "gfn_loss", "model_distribution", "train_gfn",
           "TrainLog", "sample_sets", "tv", "tv_to_target", "METHODS", "Experiment", "simulate",
           "experiment", "draw", "SLIDERS"]

#: The two training objectives: detailed balance and forward-looking detailed balance.
OBJECTIVES = ("db", "fldb")


# --------------------------------------------------------------------------- the environment

class SetEnv:
    """Build a set of ``k`` out of ``n`` elements, one element per step (chapter Eq. (1)).

    The energies are ``e_i ~ N(0, scale_e^2)`` and ``J_ij = J_ji ~ N(0, scale_J^2)`` (zero
    diagonal), drawn at ``seed`` unless given as ``e`` (length ``n``) and ``J`` (``n x n``,
    symmetric; its diagonal is ignored). ``E(s) = sum_{i in s} e_i + sum_{i<j in s} J_ij`` is
    defined for every partial set, which is what FL-DB needs. All ``sum_{j <= k} C(n, j)``
    partial sets are enumerated once (``n <= 16``), ordered by size; ``.terminal`` indexes the
    ``C(n, k)`` complete sets, in the order of :meth:`exact_distribution`.
    """

    def __init__(self, n: int = 12, k: int = 6, seed: int = 0, *, scale_e: float = 1.0,
                 scale_J: float = 0.5, e=None, J=None) -> None:
        self.n = check_int("n", n, 2, 16)
        self.k = check_int("k", k, 1)
        if self.k > self.n:
            raise ValueError(f"k must be in [1, n] = [1, {self.n}] (a set of k of the n "
                             f"elements), got k = {self.k}")
        self.seed = check_int("seed", seed, 0)
        scale_e = check_real("scale_e", scale_e, 0.0)
        scale_J = check_real("scale_J", scale_J, 0.0)
        rng = np.random.default_rng([self.seed, 80])
        e0 = rng.normal(0.0, 1.0, self.n) * scale_e
        A = rng.normal(0.0, 1.0, (self.n, self.n)) * scale_J
        J0 = np.triu(A, 1)
        J0 = J0 + J0.T
        if e is not None:
            e0 = check_array("e", e, shape=(self.n,))
        if J is not None:
            J0 = check_array("J", J, shape=(self.n, self.n))
            if not np.allclose(J0, J0.T):
                raise ValueError("J must be symmetric (J_ij = J_ji)")
            J0 = J0 - np.diag(np.diag(J0))
        self.e, self.J = e0, J0

        masks = [sum(1 << i for i in c) for j in range(self.k + 1)
                 for c in combinations(range(self.n), j)]
        self.masks = np.asarray(masks, dtype=np.int64)           # ordered by size
        self.bits = ((self.masks[:, None] >> np.arange(self.n)) & 1).astype(np.float64)
        self.size = self.bits.sum(1).astype(int)
        self.index = np.full(1 << self.n, -1, dtype=np.int64)
        self.index[self.masks] = np.arange(self.masks.size)
        self.energy = self.energies(self.bits)
        self.terminal = np.flatnonzero(self.size == self.k)
        self.nonterminal = np.flatnonzero(self.size < self.k)
        # parents of every state: parent index and the element added (for the exact DP)
        self._parents = {}
        for j in range(1, self.k + 1):
            idx = np.flatnonzero(self.size == j)
            elems = np.stack([np.flatnonzero(self.bits[s]) for s in idx])   # (S_j, j)
            par = self.index[self.masks[idx][:, None] & ~(1 << elems)]
            self._parents[j] = (idx, par, elems)

    def energies(self, bits) -> np.ndarray:
        """``E(s)`` for rows ``bits`` (0/1 indicators of shape ``(m, n)``): chapter Eq. (1)."""
        b = check_array("bits", bits, ndim=2)
        if b.shape[1] != self.n:
            raise ValueError(f"bits must have n = {self.n} columns, got {b.shape[1]}")
        return b @ self.e + 0.5 * np.einsum("mi,ij,mj->m", b, self.J, b)

    @property
    def n_terminal(self) -> int:
        """Number of complete sets, ``C(n, k)``."""
        return int(self.terminal.size)

    def exact_distribution(self) -> np.ndarray:
        """The target ``p(x) = exp(-E(x)) / Z`` over the complete sets, by enumeration."""
        lw = -self.energy[self.terminal]
        w = np.exp(lw - lw.max())
        return w / w.sum()

    def terminal_index(self, sets) -> np.ndarray:
        """Position in :meth:`exact_distribution` of each row of ``sets`` (0/1 indicators)."""
        s = check_array("sets", sets, ndim=2)
        if s.shape[1] != self.n or not np.all(np.isin(s, (0.0, 1.0))):
            raise ValueError(f"sets must be 0/1 indicator rows of length n = {self.n}")
        if np.any(s.sum(1) != self.k):
            raise ValueError(f"every set must have exactly k = {self.k} elements")
        m = (s.astype(np.int64) << np.arange(self.n)).sum(1)
        return self.index[m] - self.terminal[0]


# --------------------------------------------------------------------------- the model

class GFNModel(torch.nn.Module):
    """An MLP on the ``n``-bit indicator of ``s``: ``n`` forward logits and one log-flow.

    The last output is ``log F(s)`` (DB) or ``log F~(s)`` (FL-DB); the first ``n`` are the
    logits of ``P_F(. | s)``, masked by :meth:`log_pf` so that only absent elements can be
    added.
    """

    def __init__(self, n: int, hidden: int = 64, seed: int = 0) -> None:
        super().__init__()
        self.n = n
        self.net = nets.mlp([n, hidden, hidden, n + 1], "relu", seed=seed)

    def forward(self, bits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.net(bits)
        return self.log_pf(out[:, :self.n], bits), out[:, self.n]

    @staticmethod
    def log_pf(logits: torch.Tensor, bits: torch.Tensor) -> torch.Tensor:
        """``log P_F(. | s)`` over the ``n`` elements, ``-inf`` for elements already in ``s``."""
        return torch.log_softmax(logits.masked_fill(bits > 0.5, -math.inf), dim=1)


def _check_eps(eps) -> float:
    return check_real("eps", eps, 0.0, 1.0, hi_open=True)


def _rollout(model: GFNModel, n_traj: int, k: int, eps: float, gen: torch.Generator
             ) -> tuple[torch.Tensor, torch.Tensor]:
    """``n_traj`` trajectories of ``k`` steps from the empty set under ``(1-eps) P_F + eps U``.

    ``U`` is uniform over the elements not yet in the set. Returns the visited states
    ``(k+1, n_traj, n)`` and the actions ``(k, n_traj)``. Sampling needs no gradient, so the
    network is evaluated in numpy with the model's current weights (the same function as
    :meth:`GFNModel.forward`, with far less per-call overhead); the uniforms come from ``gen``.
    """
    n = model.n
    layers = [m for m in model.net if isinstance(m, torch.nn.Linear)]
    Ws = [(m.weight.detach().numpy().T, m.bias.detach().numpy()) for m in layers]
    u = torch.rand((k, n_traj), generator=gen, dtype=torch.float64).numpy()
    s = np.zeros((n_traj, n), dtype=np.float32)
    states, actions = [s], []
    rows = np.arange(n_traj)
    for t in range(k):
        h = s
        for i, (W, b) in enumerate(Ws):
            h = h @ W + b
            if i < len(Ws) - 1:
                h = np.maximum(h, 0.0)
        logits = np.where(s > 0.5, -np.inf, h[:, :n].astype(np.float64))
        p = np.exp(logits - logits.max(1, keepdims=True))
        free = (s < 0.5)
        p = (1 - eps) * p / p.sum(1, keepdims=True) + eps * free / free.sum(1, keepdims=True)
        c = np.cumsum(p, 1)
        a = np.minimum((c < u[t][:, None] * c[:, -1:]).sum(1), n - 1)
        a = np.where(free[rows, a], a, np.argmax(free * p, 1))     # guard against rounding
        s = s.copy()
        s[rows, a] = 1.0
        states.append(s)
        actions.append(a)
    return torch.from_numpy(np.stack(states)), torch.from_numpy(np.stack(actions))


def gfn_loss(model: GFNModel, env: SetEnv, states: torch.Tensor, actions: torch.Tensor,
             objective: str = "fldb", lengths: torch.Tensor | None = None) -> torch.Tensor:
    """Mean squared DB or FL-DB residual over the transitions ``s_t -> s_{t+1}`` of a batch.

    ``states`` ``(k+1, B, n)`` and ``actions`` ``(k, B)`` come from :func:`_rollout`. With
    ``lengths`` (``(B,)``), trajectory ``b`` contributes only its first ``lengths[b]``
    transitions (an incomplete trajectory). DB residual (chapter Eq. (5)):
    ``log F(s) + log P_F(s'|s) - log F(s') - log P_B(s|s')`` with ``log F(x) = -E(x)`` at
    complete sets. FL-DB residual (chapter Eq. (6); Eq. (7) of Pan et al. 2023):
    ``log F~(s) + log P_F(s'|s) - log F~(s') - log P_B(s|s') + E(s') - E(s)`` with
    ``log F~(x) = 0`` at complete sets. ``P_B(s|s') = 1/|s'|``.
    """
    check_choice("objective", objective, OBJECTIVES)
    T, B, n = states.shape
    k = T - 1
    if lengths is not None:                      # the longest cut trajectory sets the depth
        k = int(lengths.max())
        states, actions = states[:k + 1], actions[:k]
    done = bool(states[-1, 0].sum() >= env.k)    # all trajectories have the same length
    m = k if done else k + 1                     # a complete set's flow is fixed, not learned
    logp, logf = model(states[:m].reshape(m * B, n))        # one pass over s_0 .. s_{m-1}
    logp, logf = logp.reshape(m, B, n)[:k], logf.reshape(m, B)
    lpf = logp.gather(2, actions.unsqueeze(2)).squeeze(2)                    # (k, B)
    lpb = -torch.log(torch.arange(1, k + 1, dtype=torch.float32)).unsqueeze(1)   # log 1/|s'|
    codes = (states.numpy().astype(np.int64) << np.arange(n)).sum(2)
    E = torch.as_tensor(env.energy[env.index[codes]], dtype=torch.float32)  # (k+1, B)
    if done:
        last = -E[-1] if objective == "db" else torch.zeros(B)
        logf = torch.cat([logf, last.unsqueeze(0)])
    if objective == "db":
        delta = logf[:-1] + lpf - logf[1:] - lpb
    else:
        delta = logf[:-1] + lpf - logf[1:] - lpb + E[1:] - E[:-1]
    if lengths is None:
        return (delta ** 2).mean()
    use = (torch.arange(k).unsqueeze(1) < lengths.unsqueeze(0)).float()
    return ((delta ** 2) * use).sum() / use.sum()


@torch.no_grad()
def model_distribution(model: GFNModel, env: SetEnv) -> np.ndarray:
    """The exact probability that the sampler (``eps = 0``) ends in each complete set.

    Dynamic programming over all partial sets, smallest first:
    ``P(s') = sum_{i in s'} P(s' - {i}) P_F(s' | s' - {i})``, from ``P(empty) = 1``. One
    forward pass of the network over the non-terminal states. Order as in
    :meth:`SetEnv.exact_distribution`.
    """
    X = torch.as_tensor(env.bits[env.nonterminal], dtype=torch.float32)
    logp, _ = model(X)
    pf = np.zeros((env.masks.size, env.n))
    q = logp.double().exp().numpy()
    pf[env.nonterminal] = q / q.sum(1, keepdims=True)       # float32 rounding: renormalize
    P = np.zeros(env.masks.size)
    P[0] = 1.0
    for j in range(1, env.k + 1):
        idx, par, elems = env._parents[j]
        P[idx] = (P[par] * pf[par, elems]).sum(1)
    return P[env.terminal]


def tv(p, q) -> float:
    """Total variation distance ``(1/2) sum |p - q|`` between two distributions."""
    p = check_array("p", p, ndim=1)
    q = check_array("q", q, shape=p.shape)
    return 0.5 * float(np.abs(p - q).sum())


@dataclass(frozen=True)
class TrainLog:
    """What :func:`train_gfn` records: ``steps`` (updates done at each snapshot), the exact
    sampler distribution over complete sets at each snapshot (``dist``, one row each), its TV
    to the target (``tv``) and the loss after every update (``loss``)."""

    steps: np.ndarray
    dist: np.ndarray
    tv: np.ndarray
    loss: np.ndarray


def train_gfn(env: SetEnv, objective: str = "fldb", steps: int = 800, incomplete: bool = False,
              seed: int = 0, *, eps: float = 0.05, batch: int = 32, lr: float = 1e-3,
              every: int = 25, hidden: int = 64) -> tuple[GFNModel, TrainLog]:
    """Train a GFlowNet on ``env`` with DB or FL-DB (chapter Algorithm 1).

    Each update samples ``batch`` on-policy trajectories with ``eps``-uniform exploration
    (:func:`_rollout`), cuts each after ``L ~ U{1..k-1}`` steps if ``incomplete``, and takes one
    Adam step (``lr``) on :func:`gfn_loss`, through :func:`paperlab.nets.fit`. Every ``every``
    updates the exact sampler distribution (:func:`model_distribution`) is recorded.
    """
    if not isinstance(env, SetEnv):
        raise ValueError(f"env must be a SetEnv, got {type(env).__name__}")
    check_choice("objective", objective, OBJECTIVES)
    steps = check_int("steps", steps, 1)
    every = check_int("every", every, 1, steps)
    if steps % every:
        raise ValueError(f"steps must be a multiple of every = {every}, got {steps}")
    eps = _check_eps(eps)
    batch = check_int("batch", batch, 1)
    if incomplete and env.k < 2:
        raise ValueError("incomplete trajectories need k >= 2 (a cut after 1..k-1 steps)")
    model = GFNModel(env.n, check_int("hidden", hidden, 1), seed=seed)
    target = env.exact_distribution()
    snaps: list[np.ndarray] = []
    count = [0]

    def loss_fn(gen: torch.Generator) -> torch.Tensor:
        if count[0] % every == 0:
            snaps.append(model_distribution(model, env))
        count[0] += 1
        lengths = torch.randint(1, env.k, (batch,), generator=gen) if incomplete else None
        depth = env.k if lengths is None else int(lengths.max())
        states, actions = _rollout(model, batch, depth, eps, gen)
        return gfn_loss(model, env, states, actions, objective, lengths)

    with nets.one_thread():
        hist = nets.fit(model, loss_fn, steps=steps, lr=lr, seed=seed)
        snaps.append(model_distribution(model, env))
    dist = np.stack(snaps)
    return model, TrainLog(steps=np.arange(0, steps + 1, every), dist=dist,
                           tv=np.array([tv(d, target) for d in dist]), loss=np.asarray(hist.loss))


@torch.no_grad()
def sample_sets(model: GFNModel, env: SetEnv, n: int, seed: int = 0) -> np.ndarray:
    """``n`` complete sets drawn from the trained sampler (no exploration), as 0/1 rows."""
    n = check_int("n", n, 1)
    gen = nets.seed_everything(check_int("seed", seed, 0))
    states, _ = _rollout(model, n, env.k, 0.0, gen)
    return states[-1].numpy().astype(np.int64)


def tv_to_target(samples, env: SetEnv) -> float:
    """TV between the empirical distribution of ``samples`` (0/1 rows) and the target."""
    idx = env.terminal_index(samples)
    emp = np.bincount(idx, minlength=env.n_terminal) / idx.size
    return tv(emp, env.exact_distribution())


# --------------------------------------------------------------------------- the experiment

#: The chapter's four training runs: label -> (objective, incomplete trajectories only).
METHODS: dict[str, tuple[str, bool]] = {
    "DB": ("db", False),
    "FL-DB": ("fldb", False),
    "FL-DB, incomplete": ("fldb", True),
    "DB, incomplete": ("db", True),
}


@dataclass(frozen=True)
class Experiment:
    """Results of :func:`simulate`.

    ``steps``: updates done at each snapshot. ``tv[m]``: exact TV between the sampler of method
    ``m`` and the target at each snapshot. ``dist[m]``: the sampler's exact distribution over
    the complete sets (snapshots x sets). ``target``: the target ``p(x)``. ``empirical_tv[m]``:
    TV of the empirical distribution of ``n_samples`` sets drawn from the final sampler (the
    paper's kind of measurement, which has a sampling-noise floor); ``floor``: the same for
    ``n_samples`` exact draws from the target.
    """

    seed: int
    steps: np.ndarray
    tv: dict[str, np.ndarray]
    dist: dict[str, np.ndarray]
    target: np.ndarray
    empirical_tv: dict[str, float]
    floor: float
    n_samples: int

    def at(self, method: str, update: int) -> float:
        """Exact TV of ``method`` after ``update`` updates (a snapshot)."""
        check_choice("method", method, list(METHODS))
        hit = np.flatnonzero(self.steps == update)
        if hit.size == 0:
            raise ValueError(f"update must be one of the snapshots {self.steps.tolist()}, "
                             f"got {update}")
        return float(self.tv[method][hit[0]])

    def reduction(self, method: str) -> float:
        """Relative reduction of the TV from initialization to the last update."""
        return 1.0 - self.tv[method][-1] / self.tv[method][0]


def simulate(seed: int = 0, steps: int = 800, every: int = 25, n_samples: int = 4000) -> Experiment:
    """Run the chapter's experiment: the four :data:`METHODS` on ``SetEnv(seed=seed)``.

    Each run starts from the same network (seed ``seed``) and trains for ``steps`` updates of
    32 on-policy trajectories (:func:`train_gfn`); the exact sampler distribution is recorded
    every ``every`` updates, and ``n_samples`` sets are drawn from each final sampler.
    Uncached; :func:`experiment` is the cached version.
    """
    seed = check_int("seed", seed, 0)
    n_samples = check_int("n_samples", n_samples, 1)
    env = SetEnv(seed=seed)
    target = env.exact_distribution()
    tvs, dists, emp = {}, {}, {}
    log = None
    for name, (objective, incomplete) in METHODS.items():
        model, log = train_gfn(env, objective, steps, incomplete, seed, every=every)
        tvs[name], dists[name] = log.tv, log.dist
        emp[name] = tv_to_target(sample_sets(model, env, n_samples, seed=seed + 1), env)
    idx = np.random.default_rng([seed, 95]).choice(target.size, n_samples, p=target)
    floor = tv(np.bincount(idx, minlength=target.size) / n_samples, target)
    return Experiment(seed=seed, steps=log.steps, tv=tvs, dist=dists, target=target,
                      empirical_tv=emp, floor=floor, n_samples=n_samples)


@cached(maxsize=2)
def experiment(seed: int = 0, steps: int = 800, every: int = 25,
               n_samples: int = 4000) -> Experiment:
    """:func:`simulate`, cached on its arguments: the chapter's one heavy step (about 10 s)."""
    return simulate(seed=seed, steps=steps, every=every, n_samples=n_samples)


# --------------------------------------------------------------------------- interactive figure

_COLOURS = {"DB": plotting.PALETTE[1], "FL-DB": plotting.PALETTE[0],
            "FL-DB, incomplete": plotting.PALETTE[2], "DB, incomplete": plotting.PALETTE[3]}


@cached(maxsize=1)
def _widget_data() -> tuple[Experiment, np.ndarray, np.ndarray]:
    res = experiment()
    lt = np.log(res.target)
    order = np.argsort(-res.target)
    return res, lt, order


def draw(update: int = 400, method: str = "FL-DB", highlight: int = 20) -> Figure:
    """The chapter's interactive figure (chapter ``fl-gflownet-local-credit``, section Explore).

    Left: exact TV to the target against the number of updates for the four runs, with a
    marker at ``update``. Right: the sampler's log-probability of every complete set against
    the target's, for ``method`` after ``update`` updates; the ``highlight`` most probable
    target sets are marked. Reads cached snapshots only.
    """
    update = check_int("update", update, 0, 800)
    check_choice("method", method, list(METHODS))
    highlight = check_int("highlight", highlight, 0, 100)
    res, lt, order = _widget_data()
    j = int(np.argmin(np.abs(res.steps - update)))
    fig, (ax0, ax1) = plotting.figure(2, width=9.0, height=3.6, layout="fixed")
    for name, c in _COLOURS.items():
        ax0.plot(res.steps, res.tv[name], color=c, lw=2.4 if name == method else 1.2)
    ax0.axvline(res.steps[j], color="grey", lw=0.8, ls=":")
    ax0.set_ylim(0, 0.9)
    ax0.set_xticks([0, 200, 400, 600, 800])
    ax0.set_yticks([0, 0.2, 0.4, 0.6, 0.8])
    plotting.key(ax0, [(n, c) for n, c in _COLOURS.items()], x=0.5, y=0.7)
    plotting.labels(ax0, "updates (32 trajectories each)", "TV to the target",
                    f"{method}: TV = {res.tv[method][j]:.3f} at {res.steps[j]}")

    lq = np.log(np.maximum(res.dist[method][j], 1e-30))
    lo = float(lt.min()) - 0.5
    ax1.plot([lo, 0], [lo, 0], color="grey", lw=0.8)
    ax1.plot(lt, lq, ".", ms=2.5, color=_COLOURS[method], alpha=0.6)
    if highlight:
        top = order[:highlight]
        ax1.plot(lt[top], lq[top], "o", ms=4.5, mfc="none", mec="black", mew=0.8)
        mass = float(res.dist[method][j][top].sum())
        plotting.key(ax1, [(f"top {highlight} target sets: sampler mass {mass:.2f} "
                            f"(target {res.target[top].sum():.2f})", "black", "\u25cb")],
                     x=0.03, y=0.96, width=0.9)
    ax1.set_xlim(lo, 0)
    ax1.set_ylim(lo - 2, 0.5)
    ticks = np.arange(-5 * np.floor(-lo / 5), 1, 5)
    ax1.set_xticks(ticks)
    ax1.set_yticks(ticks)
    plotting.labels(ax1, "target log p(x)", "sampler log p(x)", f"all {lt.size} sets")
    return fig


#: Slider box of :func:`draw`; the first entry (update) is the website scrubber's parameter.
SLIDERS = {
    "update": IntSlider(0, 800, default=400, step=25, label="updates done"),
    "method": Choice(tuple(METHODS), default="FL-DB", label="method (right panel)"),
    "highlight": IntSlider(0, 50, default=20, step=5, label="top target sets marked"),
}
