"""Federated learning with long local training: FedAvg, FedProx, SCAFFOLD and FedSpeed
(Sun, Shen, Huang, Ding and Tao, ICLR 2023).

Explained in chapter ``fedspeed``.

``M`` clients each hold a private data set and a local loss ``f_i``; together they minimise
``f = (1/M) sum_i f_i`` (problem (1) of the paper). In each communication round the server sends
its model ``x^t`` to the clients, every client runs ``K`` local steps on its own data, and the
server averages what comes back. When the clients' data differ (label skew), the local steps
pull each client towards its own optimum, away from the global one: *client drift*, which grows
with ``K``. This module holds

* the federated data: :func:`partition_dirichlet` (label skew, after Hsu et al. 2019) and
  :func:`make_clients`, which stacks several federations (seeds, heterogeneity levels) into one
  :class:`Clients` so that they all train at once, vectorised;
* the local solvers of the four methods, all on every client at once: :func:`fedavg_local`
  (local SGD), :func:`fedprox_local` (proximal term), :func:`scaffold_local` (control variates)
  and :func:`fedspeed_local` (Algorithm 1 of the paper: prox-correction and a merged,
  sharpness-aware gradient);
* the driver :func:`run` (rounds of local training and server averaging, returning a
  :class:`History`) and the chapter's cached experiment (:func:`experiment`, :func:`centralised`);
* the interactive figure (:func:`draw`, :data:`SLIDERS`).

The model is multinomial logistic regression (a weight matrix ``W`` of shape
``(classes, features + 1)``, the last feature a constant 1) with a small weight decay
``reg/2 ||W||^2`` in every ``f_i``, as in the official code's ``weight_decay``.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

from ..cache import cached
from .. import plotting
from .._validate import check_array, check_choice, check_int, check_real
from ..data import digits
from ..data import rng as make_rng
from ..widgets import Choice
from .common import Curve, first_below

__all__ = ["METHODS", "HYPER", "DTYPE", "Clients", "History", "partition_dirichlet", "make_clients",
           "loss_and_grad", "fedavg_local", "fedprox_local", "scaffold_local", "fedspeed_local",
           "run", "KS", "FEDERATIONS", "ROUNDS", "centralised", "experiment", "rounds_to", "COLORS",
           "draw", "SLIDERS"]

#: The four methods of the chapter, in plotting order.
METHODS = ("FedAvg", "FedProx", "SCAFFOLD", "FedSpeed")

#: Floating-point type of the training (single precision: twice as fast, and the chapter's
#: losses need no more than four digits).
DTYPE = np.float32

#: The chapter's hyper-parameters (one set for every K and every heterogeneity level).
#: ``lr`` is the local step size of every method, ``batch`` the mini-batch size, ``reg`` the
#: weight decay inside every f_i. FedProx's ``mu`` equals FedSpeed's ``1/lam``: the same
#: proximal pull, so the comparison isolates FedSpeed's correction.
HYPER = {"lr": 0.1, "batch": 16, "reg": 1e-3, "mu": 0.1, "lam": 10.0, "rho": 0.1, "alpha": 0.5}


# --------------------------------------------------------------------------- data

@dataclass(frozen=True, eq=False)
class Clients:
    """Several federations of clients, stacked so that every client trains at once.

    Client ``c`` holds ``n[c]`` examples: rows ``X[c, :n[c]]`` (features with a final constant 1)
    and labels ``Y[c, :n[c]]``; rows past ``n[c]`` are padding and are never sampled. ``group[c]``
    says which federation the client belongs to: the server averages within a group. ``X_eval``
    and ``Y_eval`` are the pooled training set (for the global training loss), ``X_test`` and
    ``Y_test`` the test set; ``reg`` is the weight decay of every ``f_i``. Explained in chapter
    ``fedspeed``.
    """

    X: np.ndarray
    Y: np.ndarray
    n: np.ndarray
    group: np.ndarray
    X_eval: np.ndarray
    Y_eval: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray
    n_classes: int
    reg: float

    @property
    def size(self) -> int:
        """Number of clients in all groups together."""
        return int(self.X.shape[0])

    @property
    def n_groups(self) -> int:
        """Number of federations."""
        return int(self.group.max()) + 1

    @property
    def shape(self) -> tuple[int, int]:
        """Shape ``(classes, features + 1)`` of one model."""
        return (self.n_classes, int(self.X.shape[2]))

    @functools.cached_property
    def flat(self) -> tuple[np.ndarray, np.ndarray]:
        """All clients' rows in one matrix and their one-hot labels (for fast mini-batches)."""
        return (self.X.reshape(-1, self.X.shape[2]).astype(DTYPE),
                np.eye(self.n_classes, dtype=DTYPE)[self.Y.ravel()].T.copy())

    def __repr__(self) -> str:
        return (f"Clients({self.n_groups} group(s) of {self.size // self.n_groups} clients, "
                f"{int(self.n.sum()) // self.n_groups} examples per group)")


def partition_dirichlet(y, n_clients: int, alpha: float, seed: int = 0, *,
                        min_size: int = 10) -> list[np.ndarray]:
    """Split the indices of labels ``y`` among ``n_clients`` clients with label skew.

    For every class ``c`` the share of its examples that goes to each client is drawn from a
    Dirichlet distribution ``Dir(alpha, ..., alpha)`` (Hsu, Qi and Brown, 2019; the split of the
    paper's experiments, Section 5). Small ``alpha`` gives each client one or two classes; large
    ``alpha`` gives every client about the global class mix. The draw is repeated until every
    client has at least ``min_size`` examples. Returns one sorted index array per client.
    Explained in chapter ``fedspeed``.
    """
    y = check_array("y", y, ndim=1, dtype=np.int64)
    n_clients = check_int("n_clients", n_clients, 1, max(1, len(y)))
    alpha = check_real("alpha", alpha, 0.0, lo_open=True)
    min_size = check_int("min_size", min_size, 0, len(y) // n_clients)
    g = make_rng(seed)
    classes = np.unique(y)
    for _ in range(1000):
        parts: list[list[np.ndarray]] = [[] for _ in range(n_clients)]
        for c in classes:
            idx = g.permutation(np.flatnonzero(y == c))
            share = g.dirichlet(np.full(n_clients, alpha))
            cuts = (np.cumsum(share)[:-1] * len(idx)).astype(int)
            for i, chunk in enumerate(np.split(idx, cuts)):
                parts[i].append(chunk)
        out = [np.sort(np.concatenate(p)) for p in parts]
        if min(len(p) for p in out) >= min_size:
            return out
    raise ValueError(f"could not give every client {min_size} examples with alpha={alpha:g}; "
                     f"lower min_size or raise alpha")


@cached(maxsize=1)
def _digits():
    """The chapter's data: scikit-learn's digits, standardised, 1437 train / 360 test."""
    s = digits(seed=0)
    add1 = lambda A: np.hstack([A.astype(np.float64), np.ones((len(A), 1))])  # noqa: E731
    return add1(s.X_train), s.y_train, add1(s.X_test), s.y_test


def make_clients(n_clients: int = 10, federations: Sequence[tuple[float, int]] = ((0.1, 0),), *,
                 reg: float = HYPER["reg"]) -> Clients:
    """The chapter's federations, stacked: for each pair ``(alpha, seed)`` of ``federations`` the
    digits training set (standardised) split among ``n_clients`` clients by
    :func:`partition_dirichlet` with that concentration and seed. Explained in chapter
    ``fedspeed``.
    """
    n_clients = check_int("n_clients", n_clients, 1, 100)
    reg = check_real("reg", reg, 0.0)
    if len(federations) == 0:
        raise ValueError("federations must hold at least one pair (alpha, seed)")
    Xtr, ytr, Xte, yte = _digits()
    parts = [partition_dirichlet(ytr, n_clients, a, s) for a, s in federations]
    nmax = max(len(p) for ps in parts for p in ps)
    C, d = n_clients * len(parts), Xtr.shape[1]
    X, Y = np.zeros((C, nmax, d)), np.zeros((C, nmax), dtype=np.int64)
    n, group = np.zeros(C, dtype=np.int64), np.repeat(np.arange(len(parts)), n_clients)
    for c, idx in enumerate(p for ps in parts for p in ps):
        X[c, :len(idx)], Y[c, :len(idx)], n[c] = Xtr[idx], ytr[idx], len(idx)
    return Clients(X, Y, n, group, Xtr, ytr, Xte, yte, int(ytr.max()) + 1, reg)


# --------------------------------------------------------------------------- local solvers

def loss_and_grad(W: np.ndarray, X: np.ndarray, Y: np.ndarray, reg: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean cross-entropy of softmax regression plus ``reg/2 ||W||^2``, and its gradient, for a
    batch of models at once.

    ``W`` has shape ``(C, k, d)`` (one model per client: ``k`` classes, ``d`` features), ``X``
    shape ``(C, b, d)`` and ``Y`` shape ``(C, b)`` (``b`` examples per client). Returns the ``C``
    losses and the ``(C, k, d)`` gradients. Explained in chapter ``fedspeed``.
    """
    W, X = np.asarray(W, dtype=np.float64), np.asarray(X, dtype=np.float64)
    Z = W @ np.swapaxes(X, 1, 2)                       # logits, (C, k, b)
    top = Z.max(axis=1, keepdims=True)
    S = np.exp(Z - top).sum(axis=1, keepdims=True)
    T = np.moveaxis(np.eye(W.shape[1])[Y], 2, 1)       # one-hot labels, (C, k, b)
    loss = (np.log(S) + top - Z)[T > 0].reshape(Y.shape).mean(axis=1)
    G = (np.exp(Z - top) / S - T) @ X / X.shape[1] + reg * W
    return loss + 0.5 * reg * np.einsum("ckd,ckd->c", W, W), G


class _Sampler:
    """Mini-batches for every client at once: ``b`` indices drawn uniformly (with replacement)
    from each client's own ``n[c]`` examples. A batch is the features ``(C, b, d)`` and the
    one-hot labels ``(C, k, b)``, with the features also transposed, ``(C, d, b)``, since a
    contiguous copy makes the product with the weights twice as fast."""

    def __init__(self, data: Clients, batch: int, rng: np.random.Generator) -> None:
        self.b, self.rng, self.C = batch, rng, data.size
        self.X, self.T = data.flat
        self.offset = (np.arange(self.C) * data.X.shape[1])[:, None]
        self.n = data.n[:, None].astype(np.float64)

    def __call__(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        idx = (self.rng.random((self.C, self.b)) * self.n).astype(np.int64) + self.offset
        X = self.X.take(idx, axis=0)
        return X, np.ascontiguousarray(X.transpose(0, 2, 1)), self.T.take(idx, axis=1).transpose(1, 0, 2)


def _grad(W: np.ndarray, batch: tuple[np.ndarray, ...], reg: float) -> np.ndarray:
    """The gradient of :func:`loss_and_grad` on a sampled batch, in place where it can be
    (classes on the middle axis, so the softmax reduces over a short, strided axis)."""
    X, Xt, T = batch
    Z = W @ Xt                                         # logits, (C, k, b)
    Z -= Z.max(axis=1, keepdims=True)
    np.exp(Z, out=Z)
    Z /= Z.sum(axis=1, keepdims=True)                  # softmax probabilities
    Z -= T
    G = Z @ X
    G *= 1.0 / X.shape[1]
    G += reg * W
    return G


def _check_local(data, K, lr):
    if not isinstance(data, Clients):
        raise ValueError(f"data must be a Clients (make_clients()), got {type(data).__name__}")
    return check_int("K", K, 1), check_real("lr", lr, 0.0, lo_open=True)


def fedavg_local(x_t: np.ndarray, data: Clients, K: int, lr: float, rng: np.random.Generator,
                 *, batch: int = HYPER["batch"]) -> np.ndarray:
    """FedAvg's local training (McMahan et al., 2017): ``K`` steps of mini-batch SGD on each
    client's own loss from the server model, ``x_{i,k+1} = x_{i,k} - lr g_i(x_{i,k})``.

    ``x_t`` holds one model per client, shape ``(C, d, k)``. Returns the ``C`` local models
    ``x_{i,K}``. Explained in chapter ``fedspeed``.
    """
    K, lr = _check_local(data, K, lr)
    sample, x = _Sampler(data, batch, rng), x_t.copy()
    for _ in range(K):
        x -= lr * _grad(x, sample(), data.reg)
    return x


def fedprox_local(x_t: np.ndarray, data: Clients, K: int, lr: float, mu: float,
                  rng: np.random.Generator, *, batch: int = HYPER["batch"]) -> np.ndarray:
    """FedProx's local training (Li et al., 2020): SGD on ``f_i(x) + (mu/2)||x - x_t||^2``.

    ``x_{i,k+1} = x_{i,k} - lr (g_i(x_{i,k}) + mu (x_{i,k} - x_t))``. The proximal term keeps the
    local model near the server model, but it also biases the local solution: its fixed point
    is the minimiser of ``f_i + (mu/2)||x - x_t||^2``, not a point where the clients agree.
    Explained in chapter ``fedspeed``.
    """
    K, lr = _check_local(data, K, lr)
    mu = check_real("mu", mu, 0.0)
    sample, x = _Sampler(data, batch, rng), x_t.copy()
    for _ in range(K):
        x -= lr * (_grad(x, sample(), data.reg) + mu * (x - x_t))
    return x


def scaffold_local(x_t: np.ndarray, c: np.ndarray, c_i: np.ndarray, data: Clients, K: int,
                   lr: float, rng: np.random.Generator, *,
                   batch: int = HYPER["batch"]) -> tuple[np.ndarray, np.ndarray]:
    """SCAFFOLD's local training, Algorithm 1 of Karimireddy et al. (2020) with option II.

    ``y_{k+1} = y_k - lr (g_i(y_k) - c_i + c)``: the control variates ``c_i`` (the client's
    gradient) and ``c`` (their mean) replace the client's drift direction by the global one.
    After ``K`` steps ``c_i^+ = c_i - c + (x_t - y_K) / (K lr)``. Returns ``(y_K, c_i^+)``, one row
    per client. Explained in chapter ``fedspeed``.
    """
    K, lr = _check_local(data, K, lr)
    sample, y = _Sampler(data, batch, rng), x_t.copy()
    for _ in range(K):
        y -= lr * (_grad(y, sample(), data.reg) - c_i + c)
    return y, c_i - c + (x_t - y) / (K * lr)


def fedspeed_local(x_t: np.ndarray, g_hat: np.ndarray, data: Clients, K: int, lr: float,
                   lam: float, rho: float, alpha: float, rng: np.random.Generator, *,
                   batch: int = HYPER["batch"]) -> tuple[np.ndarray, np.ndarray]:
    """FedSpeed's local training, lines 6-14 of Algorithm 1 of Sun et al. (2023).

    Client ``i`` starts at ``x_{i,0} = x_t`` holding its prox-correction ``g_hat_i``. Each of the
    ``K`` steps draws one mini-batch and computes

    * the gradient ``g1 = grad f_i(x_{i,k})``, the ascent point
      ``x_breve = x_{i,k} + rho g1 / ||g1||`` and ``g2 = grad f_i(x_breve)`` on the same batch;
    * the merged gradient ``g = (1 - alpha) g1 + alpha g2`` (Eq. (4) of the paper);
    * the step ``x_{i,k+1} = x_{i,k} - lr (g - g_hat_i + (x_{i,k} - x_t) / lam)``.

    Then the correction absorbs the prox-term's pull, ``g_hat_i <- g_hat_i - (x_{i,K} - x_t)/lam``,
    and the client uploads ``x_tilde_i = x_{i,K} - lam g_hat_i``. Returns
    ``(x_tilde, g_hat)``, one row per client. (The official code runs the perturbed gradient
    alone, ``alpha = 1``, and writes ``1/lam`` as ``lamb``.) Explained in chapter ``fedspeed``.
    """
    K, lr = _check_local(data, K, lr)
    lam = check_real("lam", lam, 0.0, lo_open=True)
    rho = check_real("rho", rho, 0.0)
    alpha = check_real("alpha", alpha, 0.0, 1.0)
    sample, x = _Sampler(data, batch, rng), x_t.copy()
    for _ in range(K):
        b = sample()
        g1 = _grad(x, b, data.reg)
        norm = np.sqrt(np.einsum("ckd,ckd->c", g1, g1))[:, None, None]
        g2 = _grad(x + rho * g1 / (norm + 1e-12), b, data.reg)          # gradient at the ascent point
        g = (1.0 - alpha) * g1 + alpha * g2                           # merged gradient
        x -= lr * (g - g_hat + (x - x_t) / lam)
    g_hat = g_hat - (x - x_t) / lam                                   # prox-correction update
    return x - lam * g_hat, g_hat


# --------------------------------------------------------------------------- driver

@dataclass
class History:
    """What the server measured after every round of :func:`run`, one row per federation.

    ``test_acc[g, t]`` and ``train_loss[g, t]`` are the server model's test accuracy and global
    training loss ``f(x^t)`` (weight decay included) after ``t`` rounds (``t = 0`` is the start).
    Explained in chapter ``fedspeed``.
    """

    method: str
    K: int
    test_acc: np.ndarray
    train_loss: np.ndarray
    info: dict

    @property
    def rounds(self) -> np.ndarray:
        """Round numbers ``0 .. T``."""
        return np.arange(self.test_acc.shape[1])


def _evaluate(x: np.ndarray, data: Clients) -> tuple[np.ndarray, np.ndarray]:
    """Test accuracy and global training loss of each group's server model ``x`` (G, k, d)."""
    G, k, d = x.shape
    Wf = np.ascontiguousarray(x.reshape(G * k, d).T, dtype=np.float64)
    Zte = (data.X_test @ Wf).reshape(-1, G, k)
    acc = (Zte.argmax(axis=2) == data.Y_test[:, None]).mean(axis=0)
    Z = (data.X_eval @ Wf).reshape(-1, G, k)
    top = Z.max(axis=2)
    lse = top + np.log(np.exp(Z - top[..., None]).sum(axis=2))
    nll = (lse - Z[np.arange(len(data.Y_eval)), :, data.Y_eval]).mean(axis=0)
    sq = (Wf * Wf).reshape(d, G, k).sum(axis=(0, 2))
    return acc, nll + 0.5 * data.reg * sq


def _group_mean(v: np.ndarray, data: Clients) -> np.ndarray:
    """Average of the clients' rows within each group: shape (G, ...)."""
    M = data.size // data.n_groups
    return v.reshape(data.n_groups, M, *v.shape[1:]).mean(axis=1)


def run(method: str, clients: Clients, K: int, rounds: int, lr: float = HYPER["lr"],
        seed: int = 0, **hyper) -> History:
    """``rounds`` communication rounds of ``method`` with ``K`` local steps, full participation.

    Every round the server sends its model ``x^t`` to the clients of its group, every client
    runs the method's local solver, and the server averages:

    * FedAvg and FedProx: ``x^{t+1} = mean_i x_{i,K}``;
    * SCAFFOLD: ``x^{t+1} = mean_i y_{i,K}`` and ``c = mean_i c_i`` (global step 1);
    * FedSpeed: ``x^{t+1} = mean_i x_tilde_i`` (line 16 of Algorithm 1).

    ``hyper`` may set ``batch``, ``mu`` (FedProx), ``lam``, ``rho`` and ``alpha`` (FedSpeed);
    the defaults are :data:`HYPER`. All models start at zero. Returns a :class:`History`.
    Explained in chapter ``fedspeed``.
    """
    check_choice("method", method, METHODS)
    if not isinstance(clients, Clients):
        raise ValueError(f"clients must be a Clients (make_clients()), got {type(clients).__name__}")
    K = check_int("K", K, 1)
    rounds = check_int("rounds", rounds, 1)
    lr = check_real("lr", lr, 0.0, lo_open=True)
    unknown = set(hyper) - {"batch", "mu", "lam", "rho", "alpha"}
    if unknown:
        raise ValueError(f"unknown hyper-parameter(s) {sorted(unknown)}; allowed: batch, mu, lam, "
                         f"rho, alpha")
    h = {**HYPER, **hyper}
    batch = check_int("batch", h["batch"], 1)
    g = make_rng(seed)
    x = np.zeros((clients.n_groups, *clients.shape), dtype=DTYPE)   # server models, one per group
    expand = lambda v: np.repeat(v, clients.size // clients.n_groups, axis=0)  # noqa: E731
    state = np.zeros((clients.size, *clients.shape), dtype=DTYPE)   # c_i or g_hat_i
    acc, loss = np.empty((clients.n_groups, rounds + 1)), np.empty((clients.n_groups, rounds + 1))
    acc[:, 0], loss[:, 0] = _evaluate(x, clients)
    for t in range(rounds):
        x_t = expand(x)
        if method == "FedAvg":
            up = fedavg_local(x_t, clients, K, lr, g, batch=batch)
        elif method == "FedProx":
            up = fedprox_local(x_t, clients, K, lr, h["mu"], g, batch=batch)
        elif method == "SCAFFOLD":
            c = expand(_group_mean(state, clients))
            up, state = scaffold_local(x_t, c, state, clients, K, lr, g, batch=batch)
        else:
            up, state = fedspeed_local(x_t, state, clients, K, lr, h["lam"], h["rho"], h["alpha"],
                                       g, batch=batch)
        x = _group_mean(up, clients)
        if not np.all(np.isfinite(x)):
            acc[:, t + 1:], loss[:, t + 1:] = np.nan, np.nan
            break
        acc[:, t + 1], loss[:, t + 1] = _evaluate(x, clients)
    return History(method, K, acc, loss, {"lr": lr, **{k: h[k] for k in ("batch", "mu", "lam", "rho",
                                                                          "alpha")}})


# --------------------------------------------------------------------------- the experiment

#: The chapter's grid: local steps K, and the federations (Dirichlet alpha, seed). Three seeds
#: at the chapter's heterogeneity alpha = 0.1; one seed each at alpha = 1 and 10 (their seeds
#: hardly differ) for the interactive figure.
KS = (1, 5, 20, 50)
FEDERATIONS = ((0.1, 0), (0.1, 1), (0.1, 2), (1.0, 0), (10.0, 0))
ROUNDS = 40


@cached(maxsize=2)
def centralised(reg: float = HYPER["reg"]) -> tuple[float, float]:
    """The centralised reference: ``(f*, test accuracy)`` of the minimiser of the global loss
    ``f`` (all 1437 training images pooled, weight decay ``reg``), by L-BFGS to a gradient norm
    of 1e-9. Explained in chapter ``fedspeed``.
    """
    from scipy.optimize import minimize

    reg = check_real("reg", reg, 0.0)
    Xtr, ytr, Xte, yte = _digits()
    k = int(ytr.max()) + 1
    T = np.eye(k)[ytr]

    def fg(w):
        W = w.reshape(k, -1)
        Z = Xtr @ W.T
        Z -= Z.max(axis=1, keepdims=True)
        P = np.exp(Z)
        S = P.sum(axis=1, keepdims=True)
        f = np.mean(np.log(S[:, 0]) - (Z * T).sum(axis=1)) + 0.5 * reg * w @ w
        return f, ((P / S - T).T @ Xtr / len(ytr) + reg * W).ravel()

    res = minimize(fg, np.zeros(k * Xtr.shape[1]), jac=True, method="L-BFGS-B",
                   options={"maxiter": 10000, "gtol": 1e-9})
    acc = float(np.mean((Xte @ res.x.reshape(k, -1).T).argmax(axis=1) == yte))
    return float(res.fun), acc


@cached(maxsize=2)
def experiment(rounds: int = ROUNDS) -> dict[tuple[str, int], History]:
    """Every method at every K of :data:`KS` on the federations of :data:`FEDERATIONS`, for
    ``rounds`` rounds, with :data:`HYPER`; cached. Returns ``{(method, K): History}``, the rows
    of each history in the order of :data:`FEDERATIONS`. Explained in chapter ``fedspeed``.
    """
    rounds = check_int("rounds", rounds, 1)
    clients = make_clients(10, FEDERATIONS)
    return {(m, K): run(m, clients, K, rounds, seed=K) for K in KS for m in METHODS}


def rounds_to(history: History, eps: float, f_star: float) -> np.ndarray:
    """For each federation of ``history``, the first round at which the training loss is within
    ``eps`` of ``f_star``, ``f(x^t) - f* <= eps`` (``inf`` if never). Explained in chapter
    ``fedspeed``.
    """
    eps = check_real("eps", eps, 0.0, lo_open=True)
    f_star = check_real("f_star", f_star)
    return np.array([first_below(Curve(history.rounds.astype(float), row - f_star), eps)
                     for row in history.train_loss])


# --------------------------------------------------------------------------- interactive figure

_PAIRS = {"all four": METHODS, "FedAvg vs FedSpeed": ("FedAvg", "FedSpeed"),
          "FedProx vs FedSpeed": ("FedProx", "FedSpeed"),
          "SCAFFOLD vs FedSpeed": ("SCAFFOLD", "FedSpeed")}
#: One colour per method, in every figure of the chapter.
COLORS = {"FedAvg": "black", "FedProx": plotting.PALETTE[1], "SCAFFOLD": plotting.PALETTE[0],
          "FedSpeed": plotting.PALETTE[2]}

SLIDERS = {
    "K": Choice(KS, default=20, label="local steps K"),
    "heterogeneity": Choice((0.1, 1.0, 10.0), default=0.1, label="Dirichlet α"),
    "methods": Choice(tuple(_PAIRS), default="all four", label="methods"),
}

_GAP_TICKS = [1e-3, 1e-2, 1e-1, 1.0]


def draw(K: int = 20, heterogeneity: float = 0.1, methods: str = "all four") -> Figure:
    """The chapter's figure: training-loss gap ``f(x^t) - f*`` and test accuracy against rounds.

    ``K`` local steps, label skew ``Dir(heterogeneity)`` over 10 clients, the chosen methods;
    all runs are precomputed by :func:`experiment` (at ``heterogeneity = 0.1`` a band over three
    seeds, otherwise one seed). Explained in chapter ``fedspeed``.
    """
    check_choice("K", K, KS)
    check_choice("heterogeneity", heterogeneity, (0.1, 1.0, 10.0))
    check_choice("methods", methods, tuple(_PAIRS))
    runs = experiment()
    f_star, acc_star = centralised()
    rows = [i for i, (a, _) in enumerate(FEDERATIONS) if a == heterogeneity]
    fig, (ax1, ax2) = plotting.figure(2, width=8.4, height=3.4, layout="fixed")
    t = np.arange(ROUNDS + 1)
    for m in _PAIRS[methods]:
        h = runs[(m, K)]
        with np.errstate(invalid="ignore"):           # a band over seeds on the left only
            plotting.band(ax1, t, np.maximum(h.train_loss[rows] - f_star, 1e-4), color=COLORS[m])
            ax2.plot(t, 100 * np.median(h.test_acc[rows], axis=0), color=COLORS[m])
    ax1.set_yscale("log")
    ax1.set_ylim(1e-3, 3.0)
    ax1.yaxis.set_major_locator(FixedLocator(_GAP_TICKS))
    ax1.yaxis.set_major_formatter(FixedFormatter(["0.001", "0.01", "0.1", "1"]))
    ax1.yaxis.set_minor_locator(NullLocator())
    ax2.axhline(90 * acc_star, color="0.6", lw=0.8, ls=":")
    ax2.set_ylim(80, 100)
    ax2.yaxis.set_major_locator(FixedLocator([80, 85, 90, 95, 100]))
    for ax in (ax1, ax2):
        ax.set_xlim(0, ROUNDS)
        ax.xaxis.set_major_locator(FixedLocator(np.arange(0, ROUNDS + 1, 20)))
    plotting.labels(ax1, "communication round t", "f(xᵗ) − f*", f"training loss gap, K = {K}")
    plotting.labels(ax2, "communication round t", "test accuracy (%)", f"Dir(α = {heterogeneity:g})")
    plotting.key(ax1, [(m, COLORS[m]) for m in _PAIRS[methods]], x=0.62, y=0.96, width=0.35)
    return fig
