"""BO-REP: bilevel optimization under unbounded smoothness (Hao, Gong and Liu, ICLR 2024).

Explained in chapter ``bo-rep-unbounded-smoothness``.

The problem is ``min_x Phi(x) = f(x, y*(x))`` with ``y*(x) = argmin_y g(x, y)``, where the lower
level ``g(x, .)`` is strongly convex and the upper level ``f`` is *(L0, L1)-smooth*: its Hessian
is bounded by ``L0 + L1 ||grad f||`` rather than by a constant (recurrent networks behave like
this). Then ``Phi`` has no global smoothness constant, and gradient methods with a fixed step,
tuned where ``Phi`` is gentle, blow up where it is steep. BO-REP (Algorithm 1 of the paper)

* moves ``x`` by normalized momentum, ``m_t = beta m_{t-1} + (1 - beta) h_t``,
  ``x_{t+1} = x_t - eta m_t / ||m_t||``, so a step never exceeds ``eta``;
* estimates the hypergradient ``h_t = grad_x f - grad^2_xy g z_t`` with ``z_t`` tracking the
  solution of ``grad^2_yy g z = grad_y f`` by one stochastic step per iteration (the SOBA-style
  update of the official code);
* refines the lower-level variable once at the start (*initialization refinement*, a
  multi-epoch SGD) and then updates it only every ``I`` iterations, by ``N`` SGD steps
  (*periodic updates*).

This module holds the algorithm (:func:`bo_rep`) and its pieces (:func:`sgd_lower`,
:func:`refine_lower`), the baseline it is compared with, a stocBiO-style fixed-step
approximate-implicit-differentiation method with a Neumann-series hypergradient
(:func:`aid_sgd`, :func:`neumann_z`), the chapter's toy problem with closed forms
(:class:`CoshBilevel`, :func:`cosh_bilevel`) and the interactive figure (:func:`draw`,
:data:`SLIDERS`). It reuses the bilevel plumbing of :mod:`paperlab.optim.penalty_bilevel`
(:class:`~paperlab.optim.penalty_bilevel.BilevelProblem`,
:class:`~paperlab.optim.penalty_bilevel.History`).
"""
from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

from ..cache import cached
from .. import plotting
from .._validate import check_array, check_int, check_real
from ..data import rng as make_rng
from ..widgets import FloatSlider, IntSlider, LogSlider
from .common import convergence
from .penalty_bilevel import BilevelProblem, History

__all__ = ["CoshBilevel", "cosh_bilevel", "neumann_z", "sgd_lower", "refine_lower", "bo_rep",
           "aid_sgd", "largest_safe_step", "draw", "SLIDERS"]


# --------------------------------------------------------------------------- the toy problem

class CoshBilevel(BilevelProblem):
    """A 2-D bilevel problem whose upper level is (L0, L1)-smooth but not L-smooth.

    ``x, y`` in R^2,

    * ``g(x, y) = ||y - W x||^2 / 2 + sum_j mu_j y_j^2 / 2`` (strongly convex in ``y``), so
      ``y*(x) = B x`` with ``B = diag(1 / (1 + mu)) W``;
    * ``f(x, y) = sum_j cosh(y_j) + rho ||x - a||^2 / 2``, whose Hessian ``diag(cosh y)`` is bounded
      by ``1 + ||grad_y f||`` but not by a constant: ``(L0, L1) = (max(1, rho), 1)``.

    Hence ``Phi(x) = sum_j cosh((B x)_j) + rho ||x - a||^2 / 2`` and
    ``grad Phi(x) = B^T sinh(B x) + rho (x - a)`` in closed form. Stochastic oracles add
    independent ``N(0, noise^2 I)`` noise to every gradient and Hessian-vector product.
    Explained in chapter ``bo-rep-unbounded-smoothness``.
    """

    dx = 2
    dy = 2

    def __init__(self, W=((2.0, 0.5), (-0.5, 1.5)), mu=(0.5, 1.0), rho: float = 1.0,
                 a=(1.0, -1.0), noise: float = 0.5) -> None:
        self.W = check_array("W", W, ndim=2, shape=(2, 2)).copy()
        mu_arr = np.broadcast_to(np.asarray(mu, dtype=float), (2,)).copy() \
            if np.ndim(mu) == 0 else check_array("mu", mu, ndim=1, shape=(2,)).copy()
        check_array("mu", mu_arr)
        if np.any(mu_arr <= 0):
            raise ValueError(f"mu must be positive (mu > 0 makes the lower level strongly convex, "
                             f"as BO-REP assumes), got {mu_arr.tolist()}")
        self.mu = mu_arr
        self.rho = check_real("rho", rho, 0.0)
        self.a = check_array("a", a, ndim=1, shape=(2,)).copy()
        self.noise = check_real("noise", noise, 0.0)
        self.H = 1.0 + self.mu                       # grad^2_yy g = diag(1 + mu)
        self.B = self.W / self.H[:, None]            # y*(x) = B x
        self.L_g = float(self.H.max())
        self.mu_g = float(self.H.min())
        self.L_f = math.inf                          # f is not L-smooth: that is the point
        self.L0, self.L1 = max(1.0, self.rho), 1.0

    def __repr__(self) -> str:
        return (f"CoshBilevel(W={self.W.tolist()}, mu={self.mu.tolist()}, rho={self.rho:g}, "
                f"a={self.a.tolist()}, noise={self.noise:g})")

    def with_noise(self, noise: float) -> CoshBilevel:
        """The same problem with another oracle noise level."""
        return CoshBilevel(self.W, self.mu, self.rho, self.a, noise)

    # exact oracles
    def f(self, x, y) -> float:
        return float(np.cosh(y).sum() + 0.5 * self.rho * np.sum((x - self.a) ** 2))

    def g(self, x, y) -> float:
        r = y - self.W @ x
        return float(0.5 * r @ r + 0.5 * np.sum(self.mu * y * y))

    def grad_f(self, x, y):
        return self.rho * (x - self.a), np.sinh(y)

    def grad_g(self, x, y):
        r = y - self.W @ x
        return -self.W.T @ r, r + self.mu * y

    def grad_y_g(self, x, y):
        return self.H * y - self.W @ x

    def hess_yy_g(self, x, y) -> np.ndarray:
        return np.diag(self.H)

    def hess_xy_g(self, x, y) -> np.ndarray:
        return -self.W.T

    def hvp_yy(self, x, y, v) -> np.ndarray:
        """``grad^2_yy g(x, y) v``."""
        return self.H * v

    def hvp_xy(self, x, y, v) -> np.ndarray:
        """``grad^2_xy g(x, y) v`` (a vector in x-space)."""
        return -self.W.T @ v

    # closed forms
    def y_star(self, x) -> np.ndarray:
        """The lower-level solution ``y*(x) = B x``."""
        return self.B @ np.asarray(x, dtype=float)

    def phi(self, x) -> float:
        """The hyper-objective ``Phi(x) = f(x, y*(x))``."""
        x = np.asarray(x, dtype=float)
        with np.errstate(over="ignore"):
            return float(np.cosh(self.B @ x).sum() + 0.5 * self.rho * np.sum((x - self.a) ** 2))

    def grad_phi(self, x) -> np.ndarray:
        """``grad Phi(x) = B^T sinh(B x) + rho (x - a)``."""
        x = np.asarray(x, dtype=float)
        with np.errstate(over="ignore", invalid="ignore"):
            return self.B.T @ np.sinh(self.B @ x) + self.rho * (x - self.a)

    def grad_phi_norms(self, xs) -> np.ndarray:
        """``||grad Phi(x_t)||`` for each row of ``xs`` (``inf`` where it overflows)."""
        xs = np.asarray(xs, dtype=float)
        with np.errstate(over="ignore", invalid="ignore"):
            G = np.sinh(xs @ self.B.T) @ self.B + self.rho * (xs - self.a)
            out = np.linalg.norm(G, axis=1)
        return np.where(np.isfinite(out), out, np.inf)

    def hess_phi(self, x) -> np.ndarray:
        """``grad^2 Phi(x) = B^T diag(cosh(B x)) B + rho I``."""
        x = np.asarray(x, dtype=float)
        return self.B.T @ (np.cosh(self.B @ x)[:, None] * self.B) + self.rho * np.eye(2)

    @functools.cached_property
    def x_star(self) -> np.ndarray:
        """The minimiser of ``Phi`` (``Phi`` is strictly convex here), by Newton's method."""
        x = np.zeros(2)
        for _ in range(100):
            step = np.linalg.solve(self.hess_phi(x), self.grad_phi(x))
            x = x - step
            if np.linalg.norm(step) < 1e-14:
                break
        return x


def cosh_bilevel(W=((2.0, 0.5), (-0.5, 1.5)), mu=(0.5, 1.0), rho: float = 1.0, a=(1.0, -1.0),
                 noise: float = 0.5) -> CoshBilevel:
    """The chapter's toy: a strongly convex quadratic lower level under a ``cosh`` upper level.

    ``g = ||y - W x||^2/2 + sum_j mu_j y_j^2/2``, ``f = sum_j cosh(y_j) + rho ||x - a||^2/2``, with
    closed-form ``y*``, ``Phi``, ``grad Phi`` (see :class:`CoshBilevel`); ``mu`` is a number or one
    value per coordinate and must be positive. Explained in chapter ``bo-rep-unbounded-smoothness``.
    """
    return CoshBilevel(W, mu, rho, a, noise)


# --------------------------------------------------------------------------- the pieces

def neumann_z(hvp: Callable[[np.ndarray], np.ndarray], v, L: float, n_terms: int) -> np.ndarray:
    """The truncated Neumann series for ``[grad^2_yy g]^{-1} v``, as in stocBiO (Ji et al., 2021).

    ``z = (1/L) sum_{q=0}^{Q-1} p_q`` with ``p_0 = v``, ``p_{q+1} = p_q - hvp(p_q) / L``, that is
    ``(1/L) sum_q (I - H/L)^q v``. ``hvp`` may be stochastic (fresh noise at every call), which
    gives the stochastic Neumann estimate. ``L`` must bound the eigenvalues of ``H``; the error
    then shrinks like ``(1 - mu/L)^Q``. Explained in chapter ``bo-rep-unbounded-smoothness``.
    """
    v = check_array("v", v, ndim=1)
    L = check_real("L", L, 0.0, lo_open=True)
    n_terms = check_int("n_terms", n_terms, 1)
    z = np.zeros_like(v)
    p = v.copy()
    for _ in range(n_terms):
        z = z + p / L
        p = p - hvp(p) / L
    return z


def sgd_lower(problem: CoshBilevel, x, y, step: float, n_steps: int,
              rng: np.random.Generator) -> np.ndarray:
    """``n_steps`` stochastic gradient steps on ``g(x, .)`` from ``y``: the periodic update.

    ``y <- y - step * (grad_y g(x, y) + noise * xi)``, ``xi ~ N(0, I)``: the lower-level update
    of BO-REP (the periodic branch of Algorithm 2, UpdateLower, of Hao et al. 2024, run every
    ``I`` iterations) and of the baseline (run every iteration).
    Explained in chapter ``bo-rep-unbounded-smoothness``.
    """
    xi = problem.noise * rng.standard_normal((n_steps, problem.dy))
    Wx = problem.W @ x
    H = problem.H
    for k in range(n_steps):
        y = y - step * (H * y - Wx + xi[k])
    return y


def refine_lower(problem: CoshBilevel, x, y, step: float, n_steps: int,
                 rng: np.random.Generator, n_epochs: int = 4) -> np.ndarray:
    """Initialization refinement: a multi-epoch SGD on ``g(x_0, .)`` before BO-REP starts.

    The refinement branch of Algorithm 2 (UpdateLower) of Hao et al. (2024), here in a simple
    Epoch-SGD form.

    Epoch ``k = 0, ..., n_epochs - 1`` runs about ``n_steps 2^k / (2^n_epochs - 1)`` SGD steps
    with step ``step / 2^k`` from the average iterate of the previous epoch (Epoch-SGD, Hazan
    and Kale 2014), ``n_steps`` steps in all; it returns the last epoch's average. Halving the
    step and averaging damp the noise, so ``y_0`` starts close to ``y*(x_0)``, as the analysis of
    BO-REP requires. Explained in chapter ``bo-rep-unbounded-smoothness``.
    """
    n_epochs = check_int("n_epochs", n_epochs, 1)
    total = 2 ** n_epochs - 1
    lengths = [max(1, round(n_steps * 2 ** k / total)) for k in range(n_epochs)]
    lengths[-1] = max(1, n_steps - sum(lengths[:-1]))
    xi = problem.noise * rng.standard_normal((sum(lengths), problem.dy))
    Wx = problem.W @ x
    H = problem.H
    i = 0
    for k, n in enumerate(lengths):
        s = step / 2 ** k
        avg = np.zeros_like(y)
        for _ in range(n):
            y = y - s * (H * y - Wx + xi[i])
            avg += y
            i += 1
        y = avg / n
    return y


def _check_common(problem, x0, y0, steps, seed):
    if not isinstance(problem, CoshBilevel):
        raise ValueError(f"problem must be a CoshBilevel (see cosh_bilevel), got {type(problem).__name__}")
    x = problem.check_x(x0, "x0").copy()
    y = np.zeros(problem.dy) if y0 is None else problem.check_y(y0, "y0").copy()
    return x, y, check_int("steps", steps, 1), make_rng(seed)


def _diverged(x, blowup: float) -> bool:
    """``||x|| > blowup`` or ``x`` not finite (a NaN fails every comparison)."""
    return not float(x @ x) <= blowup * blowup


# --------------------------------------------------------------------------- the methods

def bo_rep(problem: CoshBilevel, x0, y0=None, eta: float = 0.05, beta: float = 0.9,
           period: int = 10, n_lower: int = 10, t0_refine: int = 100, nu: float | None = None,
           gamma: float | None = None, steps: int = 2000, seed: int = 0,
           blowup: float = 1e3) -> History:
    """BO-REP, Algorithm 1 of Hao, Gong and Liu (2024), with stochastic oracles.

    1. Initialization refinement: ``y_0 =`` :func:`refine_lower` ``(x_0, y0, gamma, t0_refine)``.
    2. For ``t = 0, ..., steps - 1``:

       * periodic update: if ``t > 0`` and ``t mod period = 0``, ``y_t =`` :func:`sgd_lower`
         ``(x_t, y_{t-1}, gamma, n_lower)``; otherwise ``y_t = y_{t-1}``;
       * linear-system step: ``z_{t+1} = z_t - nu (grad^2_yy g z_t - grad_y f)`` (one stochastic
         step on ``z^T H z / 2 - grad_y f^T z``, as in the official code);
       * hypergradient: ``h_t = grad_x f - grad^2_xy g z_{t+1}``;
       * normalized momentum: ``m_t = beta m_{t-1} + (1 - beta) h_t``,
         ``x_{t+1} = x_t - eta m_t / ||m_t||``.

    Every oracle is stochastic (``problem.noise``). ``gamma`` and ``nu`` default to ``1 / L_g``.
    A run stops early (``info["diverged"]`` = the iteration) if ``||x|| > blowup``. Oracle calls:
    one gradient of ``f`` and two Hessian-vector products per iteration, plus the lower-level
    gradients (``lower_calls``: ``t0_refine`` at the start, ``n_lower`` every ``period``).
    Explained in chapter ``bo-rep-unbounded-smoothness``.
    """
    x, y, steps, rng = _check_common(problem, x0, y0, steps, seed)
    eta = check_real("eta", eta, 0.0, lo_open=True)
    beta = check_real("beta", beta, 0.0, 1.0, hi_open=True)
    period = check_int("period", period, 1)
    n_lower = check_int("n_lower", n_lower, 1)
    t0_refine = check_int("t0_refine", t0_refine, 1)
    gamma = 1.0 / problem.L_g if gamma is None else check_real("gamma", gamma, 0.0, lo_open=True)
    nu = 1.0 / problem.L_g if nu is None else check_real("nu", nu, 0.0, lo_open=True)
    blowup = check_real("blowup", blowup, 0.0, lo_open=True)
    P, s = problem, problem.noise
    with np.errstate(over="ignore", invalid="ignore"):
        y = refine_lower(P, x, y, gamma, t0_refine, rng)
        z, m = np.zeros(P.dy), np.zeros(P.dx)
        xs, ys, zs, hs = [x], [y], [z], []
        lower = [float(t0_refine)]
        diverged = None
        for t in range(steps):
            if t > 0 and t % period == 0:                   # periodic lower-level update
                y = sgd_lower(P, x, y, gamma, n_lower, rng)
                lower.append(lower[-1] + n_lower)
            else:
                lower.append(lower[-1])
            xi = s * rng.standard_normal((4, P.dy))         # noise of the four oracle calls
            fx = P.rho * (x - P.a) + xi[0]                  # stochastic grad_x f
            fy = np.sinh(y) + xi[1]                         # stochastic grad_y f
            z = z - nu * (P.H * z + xi[2] - fy)             # stochastic step on the linear system
            h = fx + P.W.T @ z + xi[3]                      # grad_x f - grad^2_xy g z
            m = beta * m + (1.0 - beta) * h
            x = x - eta * m / max(float(np.linalg.norm(m)), 1e-300)
            xs.append(x)
            ys.append(y)
            zs.append(z)
            hs.append(h)
            if _diverged(x, blowup):
                diverged = t
                break
    k = len(xs) - 1
    lower_calls = np.array(lower[:k + 1])
    calls = lower_calls + 3.0 * np.arange(k + 1)
    return History(np.array(xs), np.array(ys), np.array(hs), calls,
                   f"BO-REP, I = {period}", zs=np.array(zs), lower_calls=lower_calls,
                   info={"eta": eta, "beta": beta, "period": period, "n_lower": n_lower,
                         "t0_refine": t0_refine, "diverged": diverged, "seed": seed})


def aid_sgd(problem: CoshBilevel, x0, y0=None, alpha: float = 0.1, n_lower: int = 10,
            n_neumann: int = 10, gamma: float | None = None, steps: int = 2000, seed: int = 0,
            blowup: float = 1e3) -> History:
    """Fixed-step approximate implicit differentiation (AID), stocBiO-style: the baseline.

    For ``t = 0, ..., steps - 1``: ``n_lower`` warm-started SGD steps on ``g(x_t, .)``
    (:func:`sgd_lower`, every iteration), the stochastic Neumann estimate
    ``z =`` :func:`neumann_z` ``(grad_y f, L_g, n_neumann)`` of ``[grad^2_yy g]^{-1} grad_y f``,
    ``h_t = grad_x f - grad^2_xy g z`` and ``x_{t+1} = x_t - alpha h_t``: a fixed step, as the
    methods designed for L-smooth upper levels take. The run stops (``info["diverged"]`` = the
    iteration) when ``||x|| > blowup`` or ``x`` overflows.
    Explained in chapter ``bo-rep-unbounded-smoothness``.
    """
    x, y, steps, rng = _check_common(problem, x0, y0, steps, seed)
    alpha = check_real("alpha", alpha, 0.0, lo_open=True)
    n_lower = check_int("n_lower", n_lower, 1)
    n_neumann = check_int("n_neumann", n_neumann, 1)
    gamma = 1.0 / problem.L_g if gamma is None else check_real("gamma", gamma, 0.0, lo_open=True)
    blowup = check_real("blowup", blowup, 0.0, lo_open=True)
    P, s = problem, problem.noise
    xs, ys, hs = [x], [y], []
    diverged = None
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps):
            y = sgd_lower(P, x, y, gamma, n_lower, rng)
            xi = s * rng.standard_normal((3 + n_neumann, P.dy))
            fx = P.rho * (x - P.a) + xi[0]
            fy = np.sinh(y) + xi[1]
            if not np.all(np.isfinite(fy)):                 # overflow: x_{t+1} is not finite
                diverged = t
                xs.append(np.full(P.dx, np.inf))
                ys.append(y)
                hs.append(np.full(P.dx, np.inf))
                break
            noise_hvp = iter(xi[3:])                        # fresh noise for every HVP
            z = neumann_z(lambda v: P.H * v + next(noise_hvp), fy, P.L_g, n_neumann)
            h = fx + P.W.T @ z + xi[2]
            x = x - alpha * h
            xs.append(x)
            ys.append(y)
            hs.append(h)
            if _diverged(x, blowup):
                diverged = t
                break
    k = len(xs) - 1
    lower_calls = n_lower * np.arange(k + 1, dtype=float)
    calls = lower_calls + (2.0 + n_neumann) * np.arange(k + 1)
    return History(np.array(xs), np.array(ys), np.array(hs) if hs else np.zeros((0, 2)), calls,
                   f"AID-SGD, α = {alpha:g}", lower_calls=lower_calls,
                   info={"alpha": alpha, "n_lower": n_lower, "n_neumann": n_neumann,
                         "diverged": diverged, "seed": seed})


# --------------------------------------------------------------------------- experiments

def largest_safe_step(problem: CoshBilevel, x0, alphas=tuple(np.geomspace(1.0, 1e-4, 17)),
                      steps: int = 200, seeds=(0, 1, 2)) -> float:
    """The largest fixed step in ``alphas`` with which :func:`aid_sgd` does not diverge.

    Tries the steps from the largest down and returns the first one for which no run (one per
    seed, ``steps`` iterations from ``x0``) blows up; ``0.0`` if all do. Under unbounded
    smoothness this step is set by the steepest point the run visits, not by the optimum.
    Explained in chapter ``bo-rep-unbounded-smoothness``.
    """
    alphas = sorted((check_real("alpha", a, 0.0, lo_open=True) for a in alphas), reverse=True)
    seeds = [check_int("seed", s, 0) for s in seeds]
    for alpha in alphas:
        if all(aid_sgd(problem, x0, alpha=alpha, steps=steps, seed=s).info["diverged"] is None
               for s in seeds):
            return float(alpha)
    return 0.0


# --------------------------------------------------------------------------- interactive figure

#: Iterations of each run in :func:`draw`.
DRAW_STEPS = 400
_AID_STEPS = 100

SLIDERS = {
    "eta": LogSlider(0.005, 0.2, default=0.05, label="BO-REP step η"),
    "period": IntSlider(1, 50, default=10, label="update period I"),
    "noise": FloatSlider(0.0, 2.0, default=0.5, step=0.05, label="oracle noise σ"),
    "r0": FloatSlider(1.0, 6.0, default=4 * math.sqrt(2), step=0.1, label="‖x₀‖"),
}


@cached(maxsize=8)
def _background(noise: float) -> tuple[CoshBilevel, np.ndarray]:
    P = cosh_bilevel(noise=noise)
    g = np.linspace(-5.0, 5.0, 120)
    X, Y = np.meshgrid(g, g)
    pts = np.stack([X.ravel(), Y.ravel()], axis=1)
    with np.errstate(over="ignore"):
        vals = np.cosh(pts @ P.B.T).sum(axis=1) + 0.5 * P.rho * np.sum((pts - P.a) ** 2, axis=1)
    return P, np.log10(vals).reshape(X.shape)


def draw(eta: float = 0.05, period: int = 10, noise: float = 0.5,
         r0: float = 4 * math.sqrt(2)) -> Figure:
    """The chapter's figure: BO-REP against fixed-step AID-SGD on the cosh toy.

    Left: ``||grad Phi(x_t)||`` against the iteration for BO-REP (step ``eta``, lower-level update
    period ``period``, ``DRAW_STEPS`` iterations) and for AID-SGD with the fixed step 0.1
    (``_AID_STEPS`` iterations, or until it diverges), both
    from ``x_0 = r0 (1, 1) / sqrt(2)`` with oracle noise ``noise`` (seed 0). Right: the two
    trajectories over the contours of ``log10 Phi``. Explained in chapter
    ``bo-rep-unbounded-smoothness``.
    """
    eta = check_real("eta", eta, 0.0, lo_open=True)
    period = check_int("period", period, 1)
    noise = check_real("noise", noise, 0.0)
    r0 = check_real("r0", r0, 0.0)
    P, logphi = _background(round(noise, 6))
    x0 = r0 * np.array([1.0, 1.0]) / math.sqrt(2)
    run = bo_rep(P, x0, eta=eta, period=period, steps=DRAW_STEPS)
    aid = aid_sgd(P, x0, alpha=0.1, steps=_AID_STEPS)
    blue, orange = plotting.PALETTE[0], plotting.PALETTE[3]

    fig, (ax0, ax1) = plotting.figure(2, width=8.8, height=3.6, layout="fixed")
    curves = {run.method: [run.curve(np.maximum(P.grad_phi_norms(run.xs), 1e-3))]}
    convergence(ax0, curves, xlabel="iteration t", ylabel="‖∇Φ(xₜ)‖",
                grid=np.arange(run.n_iter + 1), colors={run.method: blue}, legend=False)
    ax0.plot(np.minimum(P.grad_phi_norms(aid.xs), 1e9), color=orange, label=aid.method)
    ax0.set_yscale("log")
    ax0.yaxis.set_major_locator(FixedLocator([1e-2, 1.0, 1e2, 1e4, 1e6, 1e8]))
    ax0.yaxis.set_major_formatter(FixedFormatter(["0.01", "1", "100", "1e4", "1e6", "1e8"]))
    ax0.yaxis.set_minor_locator(NullLocator())
    ax0.set_ylim(1e-2, 1e9)
    ax0.set_xlim(0, DRAW_STEPS)
    ax0.xaxis.set_major_locator(FixedLocator([0, 200, 400]))
    ax0.axhline(0.5, color="0.4", lw=0.8, ls=":")
    plotting.key(ax0, [(run.method, blue), (aid.method, orange)], x=0.55, y=0.95)
    every = run.info["t0_refine"] + (run.n_iter - 1) * run.info["n_lower"]   # I = 1
    ax0.set_title(f"BO-REP: {run.lower_calls[-1]:,.0f} lower-level calls (I = 1: {every:,})",
                  fontsize=9.5)

    ax1.imshow(logphi, extent=(-5, 5, -5, 5), origin="lower", cmap="Greys", alpha=0.55,
               aspect="auto", interpolation="nearest")
    ax1.plot(*run.xs.T, color=blue, lw=1.2)
    ax1.plot(*np.clip(aid.xs, -5, 5).T, "o-", ms=3, color=orange, lw=1)
    ax1.plot(*P.x_star, "*", ms=11, color="black")
    ax1.plot(*x0, "s", ms=6, color="black")
    ax1.set_xlim(-5, 5)
    ax1.set_ylim(-5, 5)
    for axis in (ax1.xaxis, ax1.yaxis):
        axis.set_major_locator(FixedLocator([-4, -2, 0, 2, 4]))
    ax1.grid(False)
    d = aid.info["diverged"]
    status = "AID-SGD diverged at t = %d" % d if d is not None else f"AID-SGD stable for {_AID_STEPS} steps"
    plotting.labels(ax1, "x₁", "x₂", f"{status}; ★ = x*, ■ = x₀")
    ax1.title.set_fontsize(9.5)
    return fig
