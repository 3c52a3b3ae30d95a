"""Adan: adaptive Nesterov momentum without gradients at extrapolated points (Xie et al., 2024).

Explained in chapter ``adan-optimizer``.

Nesterov's accelerated gradient evaluates the gradient at an *extrapolated* point
``theta_k - eta * mu * v_{k-1}``, not at the iterate. The paper's Lemma 1 rewrites the method
so that every gradient is taken at the iterate itself, at the price of a gradient difference:
the *Nesterov momentum estimation* (NME)

    m_k = mu * m_{k-1} + g_k + mu * (g_k - g_{k-1}).

Adan (Algorithm 1) feeds this estimate into Adam-style moving averages. This module holds

* :func:`nesterov_vs_nme`: Nesterov's method and its NME rewriting side by side (Lemma 1);
* :class:`Adan`: the optimizer as a ``torch.optim.Optimizer``, following the authors' released
  code (github.com/sail-sg/Adan): the code's betas are one minus the paper's, moments start at 0
  with Adam's bias correction, the first gradient difference is zero (``g_0 := g_1``),
  decoupled weight decay is proximal by default (``no_prox=False``);
* :func:`adan_numpy`: an independent float64 numpy version of the same update, the reference
  the tests and the chapter compare :class:`Adan` against;
* the chapter's experiments (:func:`digits_race`, :func:`fidelity`) and its interactive figure
  (:func:`draw`, :data:`SLIDERS`).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import torch
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator
from torch import nn

from ..cache import cached
from .. import nets, plotting
from .._validate import check_array, check_choice, check_int, check_real
from ..data import digits, rng
from ..nets import as_tensor, mlp
from ..widgets import FloatSlider, LogSlider
from .common import Curve, Quadratic, quadratic

__all__ = ["Adan", "adan_numpy", "adam_numpy", "nesterov_vs_nme", "gradient_descent",
           "fidelity", "train_mlp", "RaceResult", "digits_race", "rosenbrock", "rosenbrock_grad",
           "draw", "SLIDERS", "OPTIMIZERS", "LR_GRIDS"]

#: The defaults of the released code, ``(beta1, beta2, beta3)`` in the code's convention
#: (the paper's betas are ``1 -`` these: 0.02, 0.08, 0.01).
DEFAULT_BETAS = (0.98, 0.92, 0.99)


def _check_betas(betas) -> tuple[float, float, float]:
    try:
        b = tuple(betas)
    except TypeError:
        raise ValueError(f"betas must be three numbers (beta1, beta2, beta3), "
                         f"got {betas!r}") from None
    if len(b) != 3:
        raise ValueError(f"betas must be three numbers (beta1, beta2, beta3), got {len(b)}")
    return tuple(check_real(f"betas[{i}]", x, 0.0, 1.0, hi_open=True) for i, x in enumerate(b))


def _check_hyper(lr, betas, eps, weight_decay, max_grad_norm) -> tuple:
    """The checks of the released code (lr, eps, max_grad_norm >= 0, each beta in [0, 1)),
    plus ``weight_decay >= 0``."""
    return (check_real("lr", lr, 0.0), _check_betas(betas), check_real("eps", eps, 0.0),
            check_real("weight_decay", weight_decay, 0.0),
            check_real("max_grad_norm", max_grad_norm, 0.0))


# --------------------------------------------------------------------------- Lemma 1: NME

def _grad_fn_of(problem) -> tuple[Callable[[np.ndarray], np.ndarray], int]:
    if isinstance(problem, Quadratic):
        return problem.grad, problem.b.size
    Q = check_array("Q", problem, ndim=2)
    if Q.shape[0] != Q.shape[1]:
        raise ValueError(f"Q must be a square matrix, got shape {Q.shape}")
    return (lambda x: Q @ x), Q.shape[0]


def nesterov_vs_nme(Q, x0, lr: float, mu: float, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Nesterov's method and its NME rewriting (Lemma 1 of Xie et al.) on a quadratic.

    ``Q`` is a :class:`~paperlab.optim.common.Quadratic` (gradient ``Qx - b``) or a square
    matrix (gradient ``Qx``). Both runs start at ``x0`` and take ``steps`` gradient calls.

    *Nesterov* (Eq. (3) of the paper, momentum ``mu`` = the paper's ``1 - beta_1``):
    ``y_k = theta_k - lr * mu * v_{k-1}``, ``v_k = mu * v_{k-1} + grad f(y_k)``,
    ``theta_{k+1} = theta_k - lr * v_k``, with ``v_{-1} = 0``. The gradient is taken at the
    extrapolated point ``y_k``.

    *NME* (Lemma 1): ``g_k = grad f(z_k)`` at the iterate itself,
    ``m_k = mu * m_{k-1} + g_k + mu * (g_k - g_{k-1})``, ``z_{k+1} = z_k - lr * m_k``, with
    ``m_{-1} = g_{-1} = 0`` and ``z_0 = x0``.

    Lemma 1 says ``z_k = y_k`` for every ``k``. Returns ``(ys, zs)``, arrays ``(steps + 1, d)``:
    Nesterov's extrapolated points and the NME iterates. Explained in chapter
    ``adan-optimizer``.
    """
    grad, d = _grad_fn_of(Q)
    x0 = check_array("x0", x0, ndim=1, shape=(d,))
    lr = check_real("lr", lr, 0.0, lo_open=True)
    mu = check_real("mu", mu, 0.0, 1.0, hi_open=True)
    steps = check_int("steps", steps, 1)

    # Nesterov: the gradient at the look-ahead point y_k
    theta, v = x0.copy(), np.zeros(d)
    ys = [theta - lr * mu * v]
    for _ in range(steps):
        y = theta - lr * mu * v
        v = mu * v + grad(y)
        theta = theta - lr * v
        ys.append(theta - lr * mu * v)            # the next look-ahead point y_{k+1}

    # NME: the gradient at the iterate, plus a gradient difference
    z, m, g_prev = x0.copy(), np.zeros(d), np.zeros(d)
    zs = [z]
    for _ in range(steps):
        g = grad(z)
        m = mu * m + g + mu * (g - g_prev)
        g_prev = g
        z = z - lr * m
        zs.append(z)
    return np.array(ys), np.array(zs)


def gradient_descent(Q, x0, lr: float, steps: int) -> np.ndarray:
    """Plain gradient descent ``x_{k+1} = x_k - lr * grad f(x_k)``: the chapter's baseline.

    ``Q`` as in :func:`nesterov_vs_nme`. Returns the iterates, ``(steps + 1, d)``. Explained in
    chapter ``adan-optimizer``.
    """
    grad, d = _grad_fn_of(Q)
    x = check_array("x0", x0, ndim=1, shape=(d,)).copy()
    lr = check_real("lr", lr, 0.0, lo_open=True)
    steps = check_int("steps", steps, 1)
    xs = [x]
    for _ in range(steps):
        x = x - lr * grad(x)
        xs.append(x)
    return np.array(xs)


# --------------------------------------------------------------------------- Adan in torch

class Adan(torch.optim.Optimizer):
    """Adan, Algorithm 1 of Xie et al., as in the authors' released code.

    Per parameter, with the gradient ``g_k`` (after optional global-norm clipping) and the
    code's betas (``beta_code = 1 - beta_paper``; defaults 0.98, 0.92, 0.99):

    * ``m_k = b1 m_{k-1} + (1 - b1) g_k``  (moving average of gradients)
    * ``v_k = b2 v_{k-1} + (1 - b2) (g_k - g_{k-1})``  (of gradient differences)
    * ``n_k = b3 n_{k-1} + (1 - b3) [g_k + b2 (g_k - g_{k-1})]^2``  (second moment of the NME
      gradient)
    * ``theta <- theta - eta_k * (m_k / (1 - b1^k) + b2 v_k / (1 - b2^k))`` with the step
      ``eta_k = lr / (sqrt(n_k / (1 - b3^k)) + eps)``

    Moments start at 0 and are bias-corrected as in Adam; the first gradient difference is 0
    (``g_0 := g_1``). Decoupled weight decay ``lambda = weight_decay``: by default the
    proximal step of Algorithm 1, ``theta <- theta / (1 + lr * lambda)`` *after* the update;
    with ``no_prox=True`` the AdamW-style ``theta <- (1 - lr * lambda) theta`` *before* it.
    ``max_grad_norm > 0`` scales all gradients by ``min(1, max_grad_norm / (||g|| + eps))``,
    ``||g||`` the global norm over every parameter.

    Raises ``ValueError`` for ``lr``, ``eps``, ``weight_decay`` or ``max_grad_norm`` below 0,
    or a beta outside ``[0, 1)``, and ``RuntimeError`` for sparse gradients. Explained in
    chapter ``adan-optimizer``.
    """

    def __init__(self, params: Iterable, lr: float = 1e-3,
                 betas: Sequence[float] = DEFAULT_BETAS, eps: float = 1e-8,
                 weight_decay: float = 0.0, no_prox: bool = False,
                 max_grad_norm: float = 0.0) -> None:
        lr, betas, eps, weight_decay, max_grad_norm = _check_hyper(lr, betas, eps, weight_decay,
                                                                  max_grad_norm)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        no_prox=bool(no_prox), max_grad_norm=max_grad_norm)
        super().__init__(params, defaults)

    @torch.no_grad()
    def _clip_factor(self) -> float:
        """``min(1, max_grad_norm / (||g|| + eps))`` over all gradients; 1 without clipping."""
        max_norm, eps = self.defaults["max_grad_norm"], self.defaults["eps"]
        if max_norm <= 0:
            return 1.0
        sq = sum(float(p.grad.pow(2).sum()) for group in self.param_groups
                 for p in group["params"] if p.grad is not None)
        return min(1.0, max_norm / (math.sqrt(sq) + eps))

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None):
        """One Adan step for every parameter with a gradient; returns ``closure()`` if given."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        clip = self._clip_factor()
        for group in self.param_groups:
            b1, b2, b3 = group["betas"]
            lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise RuntimeError("Adan does not support sparse gradients")
                g = p.grad * clip
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["m"] = torch.zeros_like(p)
                    state["v"] = torch.zeros_like(p)
                    state["n"] = torch.zeros_like(p)
                    state["g_prev"] = g.clone()          # g_0 := g_1: first difference is 0
                state["step"] += 1
                k = state["step"]
                m, v, n = state["m"], state["v"], state["n"]
                diff = g - state["g_prev"]
                m.mul_(b1).add_(g, alpha=1 - b1)
                v.mul_(b2).add_(diff, alpha=1 - b2)
                nme = g + b2 * diff                      # the NME gradient of Lemma 1
                n.mul_(b3).addcmul_(nme, nme, value=1 - b3)
                denom = n.sqrt().div_(math.sqrt(1 - b3 ** k)).add_(eps)
                if group["no_prox"]:
                    p.mul_(1 - lr * wd)
                p.addcdiv_(m, denom, value=-lr / (1 - b1 ** k))
                p.addcdiv_(v, denom, value=-lr * b2 / (1 - b2 ** k))
                if not group["no_prox"]:
                    p.div_(1 + lr * wd)
                state["g_prev"].copy_(g)
        return loss


# --------------------------------------------------------------------------- numpy references

def _global_clip(g: np.ndarray, max_grad_norm: float, eps: float) -> np.ndarray:
    if max_grad_norm <= 0:
        return g
    return g * min(1.0, max_grad_norm / (float(np.linalg.norm(g)) + eps))


def _call_grad(grad_fn, x: np.ndarray) -> np.ndarray:
    g = np.asarray(grad_fn(x.copy()), dtype=np.float64)
    if g.shape != x.shape:
        raise ValueError(f"grad_fn must return an array of shape {x.shape}, got {g.shape}")
    if not np.all(np.isfinite(g)):
        raise ValueError("grad_fn returned a non-finite gradient (NaN or inf)")
    return g


def adan_numpy(grad_fn: Callable[[np.ndarray], np.ndarray], x0, steps: int, *,
               lr: float = 1e-3, betas: Sequence[float] = DEFAULT_BETAS, eps: float = 1e-8,
               weight_decay: float = 0.0, no_prox: bool = False,
               max_grad_norm: float = 0.0) -> np.ndarray:
    """Adan in float64 numpy: the reference for :class:`Adan` (Algorithm 1 of Xie et al.).

    Written from the formulas, with bias-corrected moments
    ``m_hat = m_k / (1 - b1^k)``, ``v_hat = v_k / (1 - b2^k)``, ``n_hat = n_k / (1 - b3^k)`` and
    the update ``theta_{k+1} = [theta_k - lr (m_hat + b2 v_hat) / (sqrt(n_hat) + eps)] /
    (1 + lr * lambda)`` (``no_prox=False``), or with ``(1 - lr * lambda) theta_k`` in place of
    ``theta_k`` and no division (``no_prox=True``). ``g_0 := g_1``, so the first difference is 0.
    Betas in the code's convention. ``grad_fn(x)`` returns the gradient at ``x`` (a stochastic
    one is fine). Returns the iterates, an array ``(steps + 1, d)``. Explained in chapter
    ``adan-optimizer``.
    """
    x = check_array("x0", x0, ndim=1).astype(np.float64).copy()
    steps = check_int("steps", steps, 0)
    lr, (b1, b2, b3), eps, lam, max_norm = _check_hyper(lr, betas, eps, weight_decay,
                                                        max_grad_norm)
    m, v, n = np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)
    g_prev = None
    xs = [x.copy()]
    for k in range(1, steps + 1):
        g = _global_clip(_call_grad(grad_fn, x), max_norm, eps)
        dg = np.zeros_like(g) if g_prev is None else g - g_prev
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * dg
        n = b3 * n + (1 - b3) * (g + b2 * dg) ** 2
        m_hat, v_hat, n_hat = m / (1 - b1**k), v / (1 - b2**k), n / (1 - b3**k)
        direction = (m_hat + b2 * v_hat) / (np.sqrt(n_hat) + eps)
        if no_prox:
            x = (1 - lr * lam) * x - lr * direction
        else:
            x = (x - lr * direction) / (1 + lr * lam)
        g_prev = g
        xs.append(x.copy())
    return np.array(xs)


def adam_numpy(grad_fn: Callable[[np.ndarray], np.ndarray], x0, steps: int, *,
               lr: float = 1e-3, betas: Sequence[float] = (0.9, 0.999),
               eps: float = 1e-8) -> np.ndarray:
    """Adam (Kingma and Ba) in numpy, the baseline of the chapter's Rosenbrock figure.

    ``m_k = b1 m + (1 - b1) g``, ``n_k = b2 n + (1 - b2) g^2``, ``theta -= lr m_hat /
    (sqrt(n_hat) + eps)``. Returns the iterates, ``(steps + 1, d)``. Explained in chapter
    ``adan-optimizer``.
    """
    x = check_array("x0", x0, ndim=1).astype(np.float64).copy()
    steps = check_int("steps", steps, 0)
    lr = check_real("lr", lr, 0.0)
    if len(tuple(betas)) != 2:
        raise ValueError(f"betas must be two numbers (beta1, beta2), got {betas!r}")
    b1, b2 = (check_real(f"betas[{i}]", b, 0.0, 1.0, hi_open=True) for i, b in enumerate(betas))
    eps = check_real("eps", eps, 0.0)
    m, n = np.zeros_like(x), np.zeros_like(x)
    xs = [x.copy()]
    for k in range(1, steps + 1):
        g = _call_grad(grad_fn, x)
        m = b1 * m + (1 - b1) * g
        n = b2 * n + (1 - b2) * g * g
        x = x - lr * (m / (1 - b1**k)) / (np.sqrt(n / (1 - b2**k)) + eps)
        xs.append(x.copy())
    return np.array(xs)


# --------------------------------------------------------------------------- fidelity check

def _flat(params) -> np.ndarray:
    return torch.cat([p.detach().reshape(-1) for p in params]).numpy().copy()


def _set_flat(params, x: np.ndarray) -> None:
    i = 0
    with torch.no_grad():
        for p in params:
            p.copy_(torch.from_numpy(x[i:i + p.numel()]).reshape(p.shape))
            i += p.numel()


def _run_torch_adan(params, loss_fn, steps: int, hp: Mapping) -> np.ndarray:
    opt = Adan(params, **hp)
    xs = [_flat(params)]
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        loss_fn().backward()
        opt.step()
        xs.append(_flat(params))
    return np.array(xs)


def _fidelity_quadratic(problem: Quadratic, steps: int, hp: Mapping) -> float:
    Q, b = torch.from_numpy(problem.Q), torch.from_numpy(problem.b)
    x = torch.zeros(problem.b.size, dtype=torch.float64, requires_grad=True)
    ours = _run_torch_adan([x], lambda: 0.5 * x @ Q @ x - b @ x, steps, hp)
    ref = adan_numpy(problem.grad, np.zeros(problem.b.size), steps, **hp)
    return float(np.abs(ours - ref).max())


def _fidelity_mlp(steps: int, hp: Mapping, seed: int, n: int = 256) -> float:
    X, y = _digits_tensors()
    X, y = X[:n].double(), y[:n]
    net = mlp([64, 64, 10], seed=seed).double()
    params = list(net.parameters())
    x0 = _flat(params)
    loss = lambda: nn.functional.cross_entropy(net(X), y)   # noqa: E731

    def grad_fn(x: np.ndarray) -> np.ndarray:              # autograd only for the gradient
        _set_flat(params, x)
        for p in params:
            p.grad = None
        loss().backward()
        return torch.cat([p.grad.reshape(-1) for p in params]).numpy().copy()

    ref = adan_numpy(grad_fn, x0, steps, **hp)
    _set_flat(params, x0)
    ours = _run_torch_adan(params, loss, steps, hp)
    return float(np.abs(ours - ref).max())


def fidelity(problem: str = "quadratic", steps: int = 100, *, seed: int = 0,
             **hp) -> float:
    """Max-abs gap between :class:`Adan` (torch, float64) and :func:`adan_numpy` over ``steps``.

    ``problem`` is ``"quadratic"`` (``common.quadratic(50, 1e3, seed=seed)`` from 0) or
    ``"mlp"`` (an MLP 64-64-10 initialised at ``seed``, full-batch cross-entropy on 256 training
    digits). Both runs start from the same point and take the same gradients (autograd gives
    the numpy reference its MLP gradients); ``hp`` are Adan's hyper-parameters (default lr is
    ``1e-2`` here). Returns ``max_k ||theta_k^torch - theta_k^numpy||_inf``. This replaces the
    spec's comparison with timm's Adan (timm is not a dependency of the book). Explained in
    chapter ``adan-optimizer``.
    """
    check_choice("problem", problem, ("quadratic", "mlp"))
    steps = check_int("steps", steps, 1)
    seed = check_int("seed", seed, 0)
    hp = {"lr": 1e-2, **hp}
    with nets.one_thread():
        if problem == "quadratic":
            return _fidelity_quadratic(quadratic(50, 1e3, seed=seed), steps, hp)
        return _fidelity_mlp(steps, hp, seed)


# --------------------------------------------------------------------------- the digits race

#: The optimizers of the race and how each is built (Adan and AdamW with the paper's decoupled
#: weight decay 0.02; SGD with Nesterov momentum 0.9).
OPTIMIZERS = ("SGD-Nesterov", "Adam", "AdamW", "Adan")
#: Learning rates tried for each optimizer. Each grid brackets that optimizer's best rate for
#: this problem (the rate above the grid is worse or diverges); SGD's rates are ten times larger.
LR_GRIDS: Mapping[str, tuple[float, ...]] = MappingProxyType({
    "SGD-Nesterov": (0.1, 0.3, 1.0),
    "Adam": (1e-2, 3e-2, 1e-1),
    "AdamW": (1e-2, 3e-2, 1e-1),
    "Adan": (1e-2, 3e-2, 1e-1),
})
WEIGHT_DECAY = 0.02


def _make_optimizer(name: str, params, lr: float) -> torch.optim.Optimizer:
    if name == "Adan":
        return Adan(params, lr=lr, weight_decay=WEIGHT_DECAY)
    if name == "Adam":
        return torch.optim.Adam(params, lr=lr)
    if name == "AdamW":
        return torch.optim.AdamW(params, lr=lr, weight_decay=WEIGHT_DECAY)
    return torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True)


@cached(maxsize=2)
def _digits_tensors() -> tuple[torch.Tensor, torch.Tensor]:
    s = digits(seed=0)
    return as_tensor(s.X_train), as_tensor(s.y_train, torch.long)


def train_mlp(optimizer: str, lr: float, seed: int = 0, *, steps: int = 300, batch: int = 128,
              every: int = 10) -> Curve:
    """Train an MLP 64-64-10 on the digits with one optimizer; the race's single run.

    Minibatches of ``batch`` training images drawn with replacement by a generator seeded with
    ``seed``, which also initialises the network (``paperlab.nets.mlp``). The loop is written
    here because ``paperlab.nets.train`` builds its own optimizer (Adam or SGD). Returns a
    :class:`~paperlab.optim.common.Curve`: ``cost`` = step, ``error`` = the mean cross-entropy
    on all 1437 training images, measured every ``every`` steps and at the end. Cached.
    Explained in chapter ``adan-optimizer``.
    """
    check_choice("optimizer", optimizer, OPTIMIZERS)
    lr = check_real("lr", lr, 0.0, lo_open=True)
    return _train_mlp(optimizer, lr, check_int("seed", seed, 0), check_int("steps", steps, 1),
                      check_int("batch", batch, 1, 1437), check_int("every", every, 1))


@cached(maxsize=256)
def _train_mlp(optimizer: str, lr: float, seed: int, steps: int, batch: int, every: int) -> Curve:
    X, y = _digits_tensors()
    with nets.one_thread():
        net = mlp([64, 64, 10], seed=seed)
        opt = _make_optimizer(optimizer, net.parameters(), lr)
        gen = torch.Generator().manual_seed(seed)
        cost, err = [], []

        def record(k: int) -> None:
            with torch.no_grad():
                cost.append(k)
                err.append(float(nn.functional.cross_entropy(net(X), y)))

        record(0)
        for k in range(1, steps + 1):
            idx = torch.randint(0, len(y), (batch,), generator=gen)
            opt.zero_grad(set_to_none=True)
            nn.functional.cross_entropy(net(X[idx]), y[idx]).backward()
            opt.step()
            if k % every == 0 or k == steps:
                record(k)
    return Curve(np.array(cost, float), np.array(err), info={"optimizer": optimizer, "lr": lr,
                                                             "seed": seed})


@dataclass(frozen=True)
class RaceResult:
    """The digits race: every run, the chosen learning rates and the final training losses.

    ``tuning[(optimizer, lr)]`` is the seed-``seeds[0]`` run at each learning rate of the grid;
    ``best_lr[optimizer]`` the rate with the lowest final training loss there; ``runs[optimizer]``
    the runs at that rate for every seed; ``final[optimizer]`` their final training losses.
    """

    tuning: Mapping[tuple[str, float], Curve]
    best_lr: Mapping[str, float]
    runs: Mapping[str, tuple[Curve, ...]]
    final: Mapping[str, tuple[float, ...]]
    seeds: tuple[int, ...]

    def mean_final(self, optimizer: str) -> float:
        """Mean final training loss of ``optimizer`` over the seeds, at its best rate."""
        return float(np.mean(self.final[optimizer]))


def digits_race(optimizers: Sequence[str] = OPTIMIZERS, seeds: Sequence[int] = (0, 1, 2), *,
                steps: int = 300, batch: int = 128) -> RaceResult:
    """SGD-Nesterov, Adam, AdamW and Adan on an MLP 64-64-10 for the digits (the chapter's race).

    Each optimizer's learning rate is tuned on the first seed over its grid in
    :data:`LR_GRIDS` (lowest final training loss), then run at that rate for every seed.
    Cached. Explained in chapter ``adan-optimizer``.
    """
    optimizers = tuple(check_choice("optimizer", o, OPTIMIZERS) for o in optimizers)
    seeds = tuple(check_int("seed", s, 0) for s in seeds)
    if not optimizers or not seeds:
        raise ValueError("digits_race needs at least one optimizer and one seed")
    return _digits_race(optimizers, seeds, check_int("steps", steps, 1),
                        check_int("batch", batch, 1, 1437))


@cached(maxsize=4)
def _digits_race(optimizers, seeds, steps, batch) -> RaceResult:
    tuning = {(o, lr): _train_mlp(o, lr, seeds[0], steps, batch, 10)
              for o in optimizers for lr in LR_GRIDS[o]}
    best = {o: min(LR_GRIDS[o], key=lambda lr: tuning[(o, lr)].error[-1]) for o in optimizers}
    runs = {o: tuple(_train_mlp(o, best[o], s, steps, batch, 10) for s in seeds)
            for o in optimizers}
    final = {o: tuple(float(c.error[-1]) for c in runs[o]) for o in optimizers}
    return RaceResult(MappingProxyType(tuning), MappingProxyType(best), MappingProxyType(runs),
                      MappingProxyType(final), seeds)


# --------------------------------------------------------------------------- Rosenbrock

def rosenbrock(x: np.ndarray) -> np.ndarray:
    """Rosenbrock's function ``(1 - x_1)^2 + 100 (x_2 - x_1^2)^2`` (minimum 0 at ``(1, 1)``);
    ``x`` has shape ``(..., 2)``. Explained in chapter ``adan-optimizer``."""
    x = np.asarray(x, dtype=float)
    return (1 - x[..., 0]) ** 2 + 100 * (x[..., 1] - x[..., 0] ** 2) ** 2


def rosenbrock_grad(x: np.ndarray) -> np.ndarray:
    """The gradient of :func:`rosenbrock` at one point ``x`` of shape ``(2,)``.

    Explained in chapter ``adan-optimizer``.
    """
    a, b = float(x[0]), float(x[1])
    return np.array([-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)])


#: Start, steps and gradient-noise level of the Rosenbrock figure.
ROSEN_START = (-1.2, 1.0)
ROSEN_STEPS = 500
ROSEN_NOISE = 2.0


@cached(maxsize=1)
def _rosen_noise() -> np.ndarray:
    return ROSEN_NOISE * rng(0).standard_normal((ROSEN_STEPS + 1, 2))


def _noisy_rosenbrock() -> Callable[[np.ndarray], np.ndarray]:
    """A fresh stochastic gradient oracle: the exact gradient plus the k-th fixed noise draw."""
    noise, calls = _rosen_noise(), [0]

    def grad(x: np.ndarray) -> np.ndarray:
        k = calls[0]
        calls[0] += 1
        return rosenbrock_grad(x) + noise[k]
    return grad


@cached(maxsize=1)
def _rosen_contours() -> list[np.ndarray]:
    """Contour lines of ``log10 f`` for the figure, computed once (drawing them is then cheap)."""
    from contourpy import contour_generator

    gx, gy = np.linspace(-2.0, 2.0, 160), np.linspace(-1.0, 3.0, 160)
    GX, GY = np.meshgrid(gx, gy)
    gen = contour_generator(gx, gy, np.log10(rosenbrock(np.stack([GX, GY], -1))))
    return [seg for level in (-1.0, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0)
            for seg in gen.lines(level)]


# --------------------------------------------------------------------------- interactive figure

SLIDERS = {
    "lr": LogSlider(1e-3, 0.3, default=3e-2, label="learning rate η"),
    "beta1": FloatSlider(0.8, 0.999, default=0.98, step=0.001, label="β₁ (code)"),
    "beta2": FloatSlider(0.8, 0.999, default=0.92, step=0.001, label="β₂ (code)"),
    "beta3": FloatSlider(0.8, 0.999, default=0.99, step=0.001, label="β₃ (code)"),
}

_LOSS_TICKS = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)


def _fixed_ticks(axis, ticks: Sequence[float], labels: Sequence[str]) -> None:
    """Fixed tick positions and labels: matplotlib's automatic ticks cost more than the plot."""
    axis.set_major_locator(FixedLocator(list(ticks)))
    axis.set_major_formatter(FixedFormatter(list(labels)))
    axis.set_minor_locator(NullLocator())


def draw(lr: float = 3e-2, beta1: float = 0.98, beta2: float = 0.92,
         beta3: float = 0.99) -> Figure:
    """The chapter's figure: Adan and Adam on a noisy Rosenbrock function, and the digits race.

    Left: 500 steps of :func:`adan_numpy` (betas ``(beta1, beta2, beta3)``) and of
    :func:`adam_numpy` (betas ``(beta1, beta3)``: the same averaging of gradients and squares,
    without the gradient difference) from ``(-1.2, 1)``, with the same stochastic gradients
    (exact gradient plus fixed Gaussian noise of standard deviation 2), over contours of
    ``log10 f``. Right: the precomputed training-loss curves of the digits race (seed 0, default
    betas) at the grid learning rate nearest to ``lr``. Explained in chapter
    ``adan-optimizer``.
    """
    lr = check_real("lr", lr, 0.0, lo_open=True)
    b1, b2, b3 = _check_betas((beta1, beta2, beta3))
    x0 = np.array(ROSEN_START)
    with np.errstate(over="ignore", invalid="ignore"):
        try:
            adan = adan_numpy(_noisy_rosenbrock(), x0, ROSEN_STEPS, lr=lr, betas=(b1, b2, b3))
            adam = adam_numpy(_noisy_rosenbrock(), x0, ROSEN_STEPS, lr=lr, betas=(b1, b3))
        except ValueError:     # a diverged run (non-finite gradient)
            adan = adam = None

    fig, (ax0, ax1) = plotting.figure(2, width=8.6, height=3.6, layout="fixed")
    ax0.add_collection(LineCollection(_rosen_contours(), colors="0.78", linewidths=0.7))
    ax0.plot(1, 1, "*", color="black", ms=10)
    ax0.plot(*x0, "o", color="black", ms=4)
    if adan is None:
        plotting.message(ax0, "a run diverged at this setting")
    else:
        entries = []
        for xs, name, col in ((adam, "Adam", plotting.PALETTE[1]),
                              (adan, "Adan", plotting.PALETTE[0])):
            ax0.plot(xs[:, 0], xs[:, 1], "-", color=col, lw=1.2)
            entries.append((f"{name}: f = {float(rosenbrock(xs[-1])):.2g}", col, "—"))
        plotting.key(ax0, entries, x=0.55, y=0.2)
    ax0.set_xlim(-2, 2)
    ax0.set_ylim(-1, 3)
    ax0.grid(False)
    _fixed_ticks(ax0.xaxis, (-2, -1, 0, 1, 2), ("−2", "−1", "0", "1", "2"))
    _fixed_ticks(ax0.yaxis, (-1, 0, 1, 2, 3), ("−1", "0", "1", "2", "3"))
    plotting.labels(ax0, "x₁", "x₂", f"noisy Rosenbrock, {ROSEN_STEPS} steps, η = {lr:.2g}")

    race = digits_race()
    near = min(LR_GRIDS["Adan"], key=lambda g: abs(math.log(g / lr)))
    entries = []
    for o, col in (("Adam", plotting.PALETTE[1]), ("AdamW", plotting.PALETTE[2]),
                   ("Adan", plotting.PALETTE[0])):
        c = race.tuning[(o, near)]
        ax1.plot(c.cost, np.maximum(c.error, 1e-5), color=col, lw=2.2 if o == "Adan" else 1.3)
        entries.append((f"{o}, final {c.error[-1]:.1e}", col, "—"))
    ax1.set_yscale("log")
    ax1.set_ylim(2e-5, 5)
    ax1.set_xlim(0, 300)
    _fixed_ticks(ax1.yaxis, _LOSS_TICKS, ("10⁻⁴", "10⁻³", "10⁻²", "10⁻¹", "1"))
    _fixed_ticks(ax1.xaxis, (0, 100, 200, 300), ("0", "100", "200", "300"))
    plotting.key(ax1, entries, x=0.5)
    plotting.labels(ax1, "step", "training loss (cross-entropy)",
                    f"digits MLP, seed 0, η = {near:g}")
    return fig
