"""Penalty functions for bilevel optimization (Kwon, Kwon, Wright and Nowak, ICLR 2024).

Explained in chapter ``penalty-bilevel``.

A bilevel problem asks for

    min_x psi(x),   psi(x) = min { f(x, y) : y in S(x) },   S(x) = argmin_y g(x, y),

an upper-level objective ``f`` minimised over the solutions of a lower-level problem ``g``. When
``S(x)`` has many points the usual implicit-differentiation hypergradient, which inverts the
lower-level Hessian ``grad^2_yy g``, does not exist. The paper replaces ``psi`` by the penalty
function of its formulation (P_pen),

    psi_sigma(x) = [ min_y (sigma f + g)(x, y) - min_z g(x, z) ] / sigma,

shows that it is ``O(sigma)``-close to ``psi`` in value and gradient under a proximal error bound
(Theorem 1.1, informal; Section 3), and minimises it with first-order oracles only: by Danskin's
theorem

    grad psi_sigma(x) = grad_x f(x, y*_sigma) + [grad_x g(x, y*_sigma) - grad_x g(x, z*)] / sigma,

with ``y*_sigma`` a minimiser of ``h_sigma = sigma f + g`` and ``z*`` any point of ``S(x)``.

This module holds

* the shared bilevel plumbing (:class:`BilevelProblem`, :class:`History`), which the chapter
  ``bo-rep-unbounded-smoothness`` (:mod:`paperlab.optim.borep`) reuses;
* the method: :func:`penalty_hypergrad`, :func:`inner_gd` and the deterministic double-loop
  algorithm :func:`penalty_bilevel`;
* the implicit-differentiation formula it replaces (:func:`implicit_hypergrad`,
  :func:`implicit_bilevel`), which fails when ``grad^2_yy g`` is singular;
* the chapter's toy problem with a line of lower-level solutions and closed forms
  (:class:`MultiSolutionToy`, :func:`toy_bilevel_multi_ll`), its experiments
  (:func:`gap_vs_sigma`) and its interactive figure (:func:`draw`, :data:`SLIDERS`).
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

from ..cache import cached
from .. import plotting
from .._validate import check_array, check_int, check_real
from ..widgets import FloatSlider, IntSlider, LogSlider
from .common import Curve, convergence

__all__ = ["BilevelProblem", "History", "StepSizeWarning", "SingularHessianError",
           "penalty_hypergrad", "inner_gd", "penalty_bilevel", "implicit_hypergrad",
           "implicit_bilevel", "MultiSolutionToy", "toy_bilevel_multi_ll", "gap_vs_sigma",
           "draw", "SLIDERS"]

GradFn = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


class StepSizeWarning(UserWarning):
    """A step size is above ``2 / L``, where gradient descent on an ``L``-smooth function may diverge."""


class SingularHessianError(ValueError):
    """The lower-level Hessian ``grad^2_yy g`` is singular, so the implicit formula is undefined."""


# --------------------------------------------------------------------------- shared plumbing

class BilevelProblem:
    """A bilevel problem ``min_x f(x, y*(x))`` with ``y*(x)`` minimising ``g(x, .)``.

    Subclasses define the two objectives and their gradients, each gradient returned as the pair
    of partial gradients ``(grad_x, grad_y)``; problems that offer second-order oracles also
    define :meth:`hess_yy_g` and :meth:`hess_xy_g`. ``dx`` and ``dy`` are the dimensions of
    ``x`` and ``y``; ``L_f`` and ``L_g`` bound the smoothness of ``f`` and ``g`` in ``y``
    (they set the default inner step sizes).

    Shared by the chapters ``penalty-bilevel`` and ``bo-rep-unbounded-smoothness``; explained in
    chapter ``penalty-bilevel``.
    """

    dx: int
    dy: int
    L_f: float
    L_g: float

    def f(self, x: np.ndarray, y: np.ndarray) -> float:
        raise NotImplementedError

    def g(self, x: np.ndarray, y: np.ndarray) -> float:
        raise NotImplementedError

    def grad_f(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(grad_x f(x, y), grad_y f(x, y))``."""
        raise NotImplementedError

    def grad_g(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(grad_x g(x, y), grad_y g(x, y))``."""
        raise NotImplementedError

    def grad_y_f(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``grad_y f(x, y)`` alone (inner loops need only this; override to save work)."""
        return self.grad_f(x, y)[1]

    def grad_y_g(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``grad_y g(x, y)`` alone (inner loops need only this; override to save work)."""
        return self.grad_g(x, y)[1]

    def hess_yy_g(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``grad^2_yy g(x, y)``, shape ``(dy, dy)``."""
        raise NotImplementedError(f"{type(self).__name__} offers no second-order oracle")

    def hess_xy_g(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``grad^2_xy g(x, y)``, shape ``(dx, dy)``: row ``i`` is ``d/dx_i grad_y g``."""
        raise NotImplementedError(f"{type(self).__name__} offers no second-order oracle")

    def check_x(self, x, name: str = "x") -> np.ndarray:
        """``x`` as a float vector of length ``dx`` (a scalar is accepted when ``dx = 1``)."""
        if self.dx == 1 and np.ndim(x) == 0:
            x = [check_real(name, x)]
        return check_array(name, x, ndim=1, shape=(self.dx,))

    def check_y(self, y, name: str = "y") -> np.ndarray:
        """``y`` as a float vector of length ``dy``."""
        return check_array(name, y, ndim=1, shape=(self.dy,))


@dataclass(frozen=True, eq=False)
class History:
    """The iterates of one run of a bilevel method.

    Attributes
    ----------
    xs:
        ``(K + 1, dx)``: the upper-level iterates ``x_0, ..., x_K``.
    ys:
        ``(K + 1, dy)``: the lower-level iterate in use at each ``x_k`` (for the penalty method,
        the approximate minimiser of ``h_sigma(x_k, .)``).
    grads:
        ``(K, dx)``: the hypergradient estimates that moved ``x``.
    calls:
        ``(K + 1,)``: cumulative oracle calls (gradients and Hessian-vector products) spent
        before ``x_k`` was produced.
    method:
        A label for plots.
    zs:
        ``(K + 1, dy)`` or ``None``: the method's auxiliary iterate (a point of ``S(x)`` for the
        penalty method, the linear-system iterate for BO-REP).
    lower_calls:
        ``(K + 1,)`` or ``None``: the part of ``calls`` spent on lower-level gradient steps.
    info:
        Anything else (step sizes, flags such as ``diverged``).

    Explained in chapter ``penalty-bilevel`` (and used by ``bo-rep-unbounded-smoothness``).
    """

    xs: np.ndarray
    ys: np.ndarray
    grads: np.ndarray
    calls: np.ndarray
    method: str
    zs: np.ndarray | None = None
    lower_calls: np.ndarray | None = None
    info: dict = field(default_factory=dict)

    @property
    def n_iter(self) -> int:
        """The number of upper-level steps ``K``."""
        return len(self.xs) - 1

    def curve(self, error, cost: str = "iterations") -> Curve:
        """A :class:`~paperlab.optim.common.Curve` of ``error`` (one value per ``x_k``) against
        ``cost``: ``"iterations"`` (``k``), ``"calls"`` (all oracle calls) or ``"lower"``
        (lower-level gradient calls)."""
        err = check_array("error", error, ndim=1, shape=(len(self.xs),), finite=False)
        if cost == "iterations":
            c = np.arange(len(self.xs), dtype=float)
        elif cost == "calls":
            c = self.calls
        elif cost == "lower" and self.lower_calls is not None:
            c = self.lower_calls
        else:
            raise ValueError(f"cost must be one of ['iterations', 'calls', 'lower'] (with lower "
                             f"calls recorded), got {cost!r}")
        return Curve(c.astype(float), err, {"method": self.method})


# --------------------------------------------------------------------------- the method

def penalty_hypergrad(x, y, z, grad_f: GradFn, grad_g: GradFn, sigma: float) -> np.ndarray:
    """The first-order hypergradient of the penalty function ``psi_sigma`` (Kwon et al., 2024).

    ``G = grad_x f(x, y) + [grad_x g(x, y) - grad_x g(x, z)] / sigma``.

    With ``y`` the minimiser ``y*_sigma`` of ``h_sigma(x, .) = sigma f(x, .) + g(x, .)`` and
    ``z`` any minimiser of ``g(x, .)``, this is exactly ``grad psi_sigma(x)`` (Danskin's theorem
    applied to both minima in the definition of ``psi_sigma``); the paper's algorithms use it
    with approximate ``y`` and ``z``. Only gradients of ``f`` and ``g`` are needed: no Hessian,
    no inverse. ``grad_f`` and ``grad_g`` map ``(x, y)`` to ``(grad_x, grad_y)``.
    Explained in chapter ``penalty-bilevel``.
    """
    sigma = check_real("sigma", sigma, 0.0, lo_open=True)
    x = check_array("x", x, ndim=1)
    y = check_array("y", y, ndim=1)
    z = check_array("z", z, ndim=1, shape=y.shape)
    fx = check_array("grad_f(x, y)[0]", grad_f(x, y)[0], ndim=1, shape=x.shape)
    gxy = check_array("grad_g(x, y)[0]", grad_g(x, y)[0], ndim=1, shape=x.shape)
    gxz = check_array("grad_g(x, z)[0]", grad_g(x, z)[0], ndim=1, shape=x.shape)
    return fx + (gxy - gxz) / sigma


def inner_gd(grad_y: Callable[[np.ndarray], np.ndarray], y0, step: float, n_steps: int,
             proj: Callable[[np.ndarray], np.ndarray] | None = None, *,
             tol: float | None = None) -> np.ndarray:
    """(Projected) gradient descent, the inner loops of the paper's double-loop algorithm.

    ``y <- proj(y - step * grad_y(y))``, ``n_steps`` times from ``y0`` (``proj`` is the
    projection onto the lower-level feasible set ``Y``; ``None`` means ``Y = R^dy``). With
    ``tol``, it stops early once the step ``||y_new - y|| / step`` (the gradient mapping) is at
    most ``tol``. Returns the last iterate. Explained in chapter ``penalty-bilevel``.
    """
    y = check_array("y0", y0, ndim=1).copy()
    step = check_real("step", step, 0.0, lo_open=True)
    n_steps = check_int("n_steps", n_steps, 1)
    if tol is not None:
        tol = check_real("tol", tol, 0.0, lo_open=True)
    with np.errstate(over="ignore", invalid="ignore"):   # divergence is reported below
        for _ in range(n_steps):
            y_new = y - step * grad_y(y)
            if proj is not None:
                y_new = proj(y_new)
            if tol is not None and np.linalg.norm(y_new - y) <= tol * step:
                return y_new
            y = y_new
    if not np.all(np.isfinite(y)):
        raise ValueError(f"inner_gd diverged (non-finite iterate); the step {step:g} is too large "
                         f"for this function: use at most 2/L")
    return y


def penalty_bilevel(problem: BilevelProblem, x0, sigma: float, outer: int = 200, inner: int = 20,
                    alpha: float = 0.5, beta: float | None = None, *, y0=None, z0=None,
                    proj_y: Callable[[np.ndarray], np.ndarray] | None = None) -> History:
    """The paper's deterministic double-loop penalty method (Kwon et al., 2024).

    For ``k = 0, ..., outer - 1``, with warm starts:

    1. ``inner`` steps of ``y <- proj_Y(y - beta grad_y h_sigma(x_k, y))``, ``h_sigma = sigma f + g``;
    2. ``inner`` steps of ``z <- proj_Y(z - beta grad_y g(x_k, z))``;
    3. ``G_k = grad_x f(x_k, y) + [grad_x g(x_k, y) - grad_x g(x_k, z)] / sigma``
       (:func:`penalty_hypergrad`);
    4. ``x_{k+1} = x_k - alpha G_k``.

    ``beta`` defaults to ``1 / (sigma L_f + L_g)``, the inverse smoothness of ``h_sigma`` in
    ``y``; a :class:`StepSizeWarning` is raised when ``beta`` exceeds twice that, or when
    ``alpha`` exceeds ``2 / L`` for problems that know the smoothness ``L`` of ``psi_sigma``
    (``problem.outer_smoothness(sigma)``). ``y0`` and ``z0`` default to zero. The paper takes
    ``sigma = O(epsilon)`` to reach an ``epsilon``-stationary point of ``psi``. Oracle calls:
    ``2 inner`` gradients for ``y`` (of ``f`` and ``g``), ``inner`` for ``z`` and 3 for ``G``.
    Explained in chapter ``penalty-bilevel``.
    """
    sigma = check_real("sigma", sigma, 0.0, lo_open=True)
    outer = check_int("outer", outer, 1)
    inner = check_int("inner", inner, 1)
    alpha = check_real("alpha", alpha, 0.0, lo_open=True)
    L_h = sigma * problem.L_f + problem.L_g
    beta = 1.0 / L_h if beta is None else check_real("beta", beta, 0.0, lo_open=True)
    if beta > 2.0 / L_h:
        warnings.warn(f"beta = {beta:g} is above 2/(sigma L_f + L_g) = {2 / L_h:g}: the inner "
                      f"loops may diverge", StepSizeWarning, stacklevel=2)
    if hasattr(problem, "outer_smoothness"):
        L_out = problem.outer_smoothness(sigma)
        if alpha > 2.0 / L_out:
            warnings.warn(f"alpha = {alpha:g} is above 2/L = {2 / L_out:g} for psi_sigma: the "
                          f"outer loop may diverge", StepSizeWarning, stacklevel=2)
    x = problem.check_x(x0, "x0").copy()
    y = np.zeros(problem.dy) if y0 is None else problem.check_y(y0, "y0").copy()
    z = np.zeros(problem.dy) if z0 is None else problem.check_y(z0, "z0").copy()

    def grad_h(xk):          # grad_y h_sigma(x_k, .) = sigma grad_y f + grad_y g
        return lambda v: sigma * problem.grad_y_f(xk, v) + problem.grad_y_g(xk, v)

    xs, ys, zs, grads = [x.copy()], [y.copy()], [z.copy()], []
    per_outer = 3 * inner + 3
    for _ in range(outer):
        y = inner_gd(grad_h(x), y, beta, inner, proj_y)
        z = inner_gd(lambda v, xk=x: problem.grad_y_g(xk, v), z, beta, inner, proj_y)
        G = penalty_hypergrad(x, y, z, problem.grad_f, problem.grad_g, sigma)
        x = x - alpha * G
        xs.append(x.copy())
        ys.append(y.copy())
        zs.append(z.copy())
        grads.append(G)
    calls = per_outer * np.arange(outer + 1, dtype=float)
    return History(np.array(xs), np.array(ys), np.array(grads), calls,
                   f"penalty, σ = {sigma:.3g}", zs=np.array(zs),
                   lower_calls=calls, info={"sigma": sigma, "alpha": alpha, "beta": beta,
                                            "inner": inner})


# --------------------------------------------------------------------------- what it replaces

def implicit_hypergrad(problem: BilevelProblem, x, y, *, pinv: bool = False) -> np.ndarray:
    """The implicit-differentiation hypergradient, valid when ``grad^2_yy g`` is invertible.

    ``grad psi(x) = grad_x f(x, y) - grad^2_xy g(x, y) [grad^2_yy g(x, y)]^{-1} grad_y f(x, y)``
    at the lower-level solution ``y = y*(x)``. With a singular lower-level Hessian (many
    lower-level solutions, as in the toy of the chapter) the inverse does not exist and this
    raises :class:`SingularHessianError`; ``pinv=True`` uses the Moore-Penrose pseudo-inverse
    instead, whose answer then depends on *which* lower-level solution ``y`` is plugged in.
    Explained in chapter ``penalty-bilevel``.
    """
    x = problem.check_x(x)
    y = problem.check_y(y)
    fx, fy = problem.grad_f(x, y)
    H = problem.hess_yy_g(x, y)
    J = problem.hess_xy_g(x, y)
    if pinv:
        v = np.linalg.pinv(H) @ fy
    else:
        rank = np.linalg.matrix_rank(H)
        if rank < H.shape[0]:
            raise SingularHessianError(
                f"the lower-level Hessian grad^2_yy g has rank {rank} < {H.shape[0]}: the lower "
                f"level has many solutions, so the implicit-function formula, which needs "
                f"[grad^2_yy g]^(-1), is undefined (use pinv=True to see what a pseudo-inverse "
                f"gives, or the penalty hypergradient)")
        v = np.linalg.solve(H, fy)
    return fx - J @ v


def implicit_bilevel(problem: BilevelProblem, x0, outer: int = 200, inner: int = 20,
                     alpha: float = 0.5, beta: float | None = None, *, y0=None) -> History:
    """Approximate implicit differentiation with a pseudo-inverse: the method that fails here.

    For each ``x_k``: ``inner`` warm-started gradient steps on ``g(x_k, .)`` (step ``beta``,
    default ``1 / L_g``), then ``x_{k+1} = x_k - alpha *`` :func:`implicit_hypergrad` ``(...,
    pinv=True)``. When ``S(x)`` has many points, gradient descent returns one of them (which one
    depends on ``y0``) and the formula differentiates ``f`` at that point, not at the point of
    ``S(x)`` that minimises ``f``: the method converges to a wrong ``x``.
    Explained in chapter ``penalty-bilevel``.
    """
    outer = check_int("outer", outer, 1)
    inner = check_int("inner", inner, 1)
    alpha = check_real("alpha", alpha, 0.0, lo_open=True)
    beta = 1.0 / problem.L_g if beta is None else check_real("beta", beta, 0.0, lo_open=True)
    if beta > 2.0 / problem.L_g:
        warnings.warn(f"beta = {beta:g} is above 2/L_g = {2 / problem.L_g:g}: the inner loop may "
                      f"diverge", StepSizeWarning, stacklevel=2)
    x = problem.check_x(x0, "x0").copy()
    y = np.zeros(problem.dy) if y0 is None else problem.check_y(y0, "y0").copy()
    xs, ys, grads = [x.copy()], [y.copy()], []
    for _ in range(outer):
        y = inner_gd(lambda v, xk=x: problem.grad_y_g(xk, v), y, beta, inner)
        G = implicit_hypergrad(problem, x, y, pinv=True)
        x = x - alpha * G
        xs.append(x.copy())
        ys.append(y.copy())
        grads.append(G)
    calls = (inner + 4) * np.arange(outer + 1, dtype=float)
    return History(np.array(xs), np.array(ys), np.array(grads), calls, "implicit, pseudo-inverse",
                   lower_calls=inner * np.arange(outer + 1, dtype=float),
                   info={"alpha": alpha, "beta": beta, "inner": inner})


# --------------------------------------------------------------------------- the toy problem

class MultiSolutionToy(BilevelProblem):
    """A bilevel problem with a line of lower-level solutions and closed forms for everything.

    ``x`` in R, ``y`` in R^2,

    * ``g(x, y) = (y_1 + y_2 - x)^2 / 2``: every ``y`` on the line ``y_1 + y_2 = x`` solves the
      lower level, and ``grad^2_yy g = [[1, 1], [1, 1]]`` is singular;
    * ``f(x, y) = (x - 1)^2 / 2 + (y - c)^T D (y - c) / 2`` with ``D = diag(1, kappa)``.

    With ``C = c_1 + c_2`` and ``m = kappa / (1 + kappa)``:
    ``psi(x) = (x - 1)^2/2 + m (x - C)^2 / 2`` and
    ``psi_sigma(x) = (x - 1)^2/2 + m_sigma (x - C)^2 / 2`` with ``m_sigma = m / (1 + sigma m)``,
    so ``psi_sigma' - psi' = -sigma m^2 (x - C) / (1 + sigma m)``, exactly of order ``sigma``.
    With ``kappa = 1`` a pseudo-inverse happens to give the right hypergradient at every lower-level
    solution; with ``kappa != 1`` it does not. ``g`` satisfies the proximal error bound with
    ``mu = 2`` (its curvature across the line). Explained in chapter ``penalty-bilevel``.
    """

    dx = 1
    dy = 2

    def __init__(self, c=(2.0, -0.5), kappa: float = 3.0) -> None:
        self.c = check_array("c", c, ndim=1, shape=(2,)).copy()
        self.kappa = check_real("kappa", kappa, 0.0, lo_open=True)
        self.D = np.array([1.0, self.kappa])
        self.C = float(self.c.sum())
        self.m = self.kappa / (1.0 + self.kappa)
        self.L_f = max(1.0, self.kappa)
        self.L_g = 2.0
        self._ones = np.ones(2)

    def __repr__(self) -> str:
        return f"MultiSolutionToy(c=({self.c[0]:g}, {self.c[1]:g}), kappa={self.kappa:g})"

    # objectives and oracles (x is a length-1 vector)
    def f(self, x, y) -> float:
        d = y - self.c
        return float(0.5 * (x[0] - 1.0) ** 2 + 0.5 * d @ (self.D * d))

    def g(self, x, y) -> float:
        return float(0.5 * (y[0] + y[1] - x[0]) ** 2)

    def grad_f(self, x, y):
        return np.array([x[0] - 1.0]), self.D * (y - self.c)

    def grad_g(self, x, y):
        r = y[0] + y[1] - x[0]
        return np.array([-r]), r * self._ones

    def grad_y_f(self, x, y):
        return self.D * (y - self.c)

    def grad_y_g(self, x, y):
        return (y[0] + y[1] - x[0]) * self._ones

    def hess_yy_g(self, x, y) -> np.ndarray:
        return np.ones((2, 2))

    def hess_xy_g(self, x, y) -> np.ndarray:
        return -np.ones((1, 2))

    # closed forms (x a float)
    def _m_sigma(self, sigma: float) -> float:
        sigma = check_real("sigma", sigma, 0.0)
        return self.m / (1.0 + sigma * self.m)

    def psi(self, x: float) -> float:
        """The hyper-objective ``psi(x) = min_{y in S(x)} f(x, y)``."""
        return 0.5 * (x - 1.0) ** 2 + 0.5 * self.m * (x - self.C) ** 2

    def dpsi(self, x: float) -> float:
        """``psi'(x) = (x - 1) + m (x - C)``."""
        return (x - 1.0) + self.m * (x - self.C)

    def psi_sigma(self, x: float, sigma: float) -> float:
        """The penalty function ``psi_sigma(x)``, in closed form."""
        return 0.5 * (x - 1.0) ** 2 + 0.5 * self._m_sigma(sigma) * (x - self.C) ** 2

    def dpsi_sigma(self, x: float, sigma: float) -> float:
        """``psi_sigma'(x) = (x - 1) + m_sigma (x - C)``."""
        return (x - 1.0) + self._m_sigma(sigma) * (x - self.C)

    @property
    def x_star(self) -> float:
        """The minimiser of ``psi``: ``(1 + m C) / (1 + m)``."""
        return (1.0 + self.m * self.C) / (1.0 + self.m)

    def x_bar(self, sigma: float) -> float:
        """The minimiser of ``psi_sigma``: ``(1 + m_sigma C) / (1 + m_sigma)``."""
        ms = self._m_sigma(sigma)
        return (1.0 + ms * self.C) / (1.0 + ms)

    def outer_smoothness(self, sigma: float) -> float:
        """``psi_sigma'' = 1 + m_sigma``: the smoothness of the outer problem."""
        return 1.0 + self._m_sigma(sigma)

    def y_sigma(self, x: float, sigma: float) -> np.ndarray:
        """The exact minimiser of ``h_sigma(x, .) = sigma f(x, .) + g(x, .)``."""
        sigma = check_real("sigma", sigma, 0.0, lo_open=True)
        A = sigma * np.diag(self.D) + np.ones((2, 2))
        return np.linalg.solve(A, sigma * self.D * self.c + x)

    def y_best(self, x: float) -> np.ndarray:
        """The lower-level solution that ``psi`` selects: ``argmin {f(x, y) : y_1 + y_2 = x}``."""
        return self.c + (x - self.C) * np.array([self.kappa, 1.0]) / (1.0 + self.kappa)


def toy_bilevel_multi_ll(c=(2.0, -0.5), kappa: float = 3.0) -> MultiSolutionToy:
    """The chapter's toy: a lower level with a line of solutions and a singular Hessian.

    ``g = (y_1 + y_2 - x)^2 / 2``, ``f = (x - 1)^2/2 + (y_1 - c_1)^2/2 + kappa (y_2 - c_2)^2/2``;
    see :class:`MultiSolutionToy` for the closed forms of ``psi``, ``psi_sigma`` and their
    minimisers. Explained in chapter ``penalty-bilevel``.
    """
    return MultiSolutionToy(c, kappa)


# --------------------------------------------------------------------------- experiments

def gap_vs_sigma(problem: MultiSolutionToy, x0: float, sigmas: Sequence[float],
                 inner: int | None = None, tol: float = 1e-11,
                 max_steps: int = 200_000) -> np.ndarray:
    """``|G(x0) - psi'(x0)|`` for each ``sigma``: how far the penalty hypergradient is from the
    true one (Theorem 1.1 of Kwon et al. (2024) says ``O(sigma)``).

    ``G`` is :func:`penalty_hypergrad` at ``y`` and ``z`` found by :func:`inner_gd` from zero with
    the step ``1 / (sigma L_f + L_g)``: ``inner`` steps each if given, else run until the gradient
    mapping is below ``tol`` (at most ``max_steps``; small ``sigma`` needs about ``1 / sigma``
    steps, since ``h_sigma`` is then nearly flat along the line of lower-level solutions).
    Explained in chapter ``penalty-bilevel``.
    """
    x0 = check_real("x0", x0)
    sig = tuple(check_real("sigma", s, 0.0, lo_open=True) for s in np.atleast_1d(sigmas))
    if inner is not None:
        inner = check_int("inner", inner, 1)
    return np.array(_gap_vs_sigma(problem, x0, sig, inner, check_real("tol", tol, 0.0, lo_open=True),
                                  check_int("max_steps", max_steps, 1)))


def _gap(problem: MultiSolutionToy, x0: float, sigma: float, inner: int | None, tol: float,
         max_steps: int) -> float:
    x = np.array([x0])
    beta = 1.0 / (sigma * problem.L_f + problem.L_g)
    n, t = (inner, None) if inner is not None else (max_steps, tol)
    y = inner_gd(lambda v: sigma * problem.grad_y_f(x, v) + problem.grad_y_g(x, v),
                 np.zeros(2), beta, n, tol=t)
    z = inner_gd(lambda v: problem.grad_y_g(x, v), np.zeros(2), beta, n, tol=t)
    G = penalty_hypergrad(x, y, z, problem.grad_f, problem.grad_g, sigma)[0]
    return abs(G - problem.dpsi(x0))


@cached(maxsize=32)
def _gap_vs_sigma(problem, x0, sigmas, inner, tol, max_steps) -> tuple[float, ...]:
    return tuple(_gap(problem, x0, s, inner, tol, max_steps) for s in sigmas)


# --------------------------------------------------------------------------- interactive figure

#: Outer iterations of the runs in :func:`draw`.
DRAW_OUTER = 30
_DRAW_SIGMAS = np.geomspace(1e-3, 1.0, 7)
_TOY = MultiSolutionToy()

SLIDERS = {
    "sigma": LogSlider(1e-3, 1.0, default=0.05, label="penalty σ"),
    "inner": IntSlider(1, 50, default=10, label="inner steps T"),
    "x0": FloatSlider(-3.0, 5.0, default=3.0, step=0.1, label="start x₀"),
}


def _decade_axis(ax, lo: int, hi: int) -> None:
    """Fixed decade ticks on a log y axis (automatic log ticks are slow to draw)."""
    ax.set_yscale("log")
    exps = list(range(lo, hi + 1, 3))
    ax.yaxis.set_major_locator(FixedLocator([10.0 ** k for k in exps]))
    ax.yaxis.set_major_formatter(FixedFormatter([f"1e{k}" if k else "1" for k in exps]))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set_ylim(10.0 ** lo, 10.0 ** hi)


def draw(sigma: float = 0.05, inner: int = 10, x0: float = 3.0) -> Figure:
    """The chapter's figure: the penalty method against implicit differentiation on the toy.

    Left: ``|x_k - x*|`` over ``DRAW_OUTER`` outer iterations for the penalty method (penalty
    ``sigma``, ``inner`` warm-started inner steps) and for implicit differentiation with a
    pseudo-inverse (same inner steps), with the floor ``|x_bar_sigma - x*|`` that the penalty
    method converges to. Right: the hypergradient error ``|G(x0) - psi'(x0)|`` against ``sigma``,
    exact (inner problems solved) and with ``inner`` cold-started inner steps, and the error of
    the pseudo-inverse formula at the lower-level solution gradient descent returns.
    Explained in chapter ``penalty-bilevel``.
    """
    sigma = check_real("sigma", sigma, 0.0, lo_open=True)
    inner = check_int("inner", inner, 1)
    x0 = check_real("x0", x0)
    P = _TOY
    pen = penalty_bilevel(P, x0, sigma, DRAW_OUTER, inner)
    imp = implicit_bilevel(P, x0, DRAW_OUTER, inner)
    floor = max(abs(P.x_bar(sigma) - P.x_star), 1e-16)

    fig, (ax0, ax1) = plotting.figure(2, width=8.6, height=3.5, layout="fixed")
    blue, orange, green = plotting.PALETTE[0], plotting.PALETTE[1], plotting.PALETTE[2]
    errs = {h.method: [h.curve(np.maximum(np.abs(h.xs[:, 0] - P.x_star), 1e-16))]
            for h in (pen, imp)}
    convergence(ax0, errs, xlabel="outer iteration k", ylabel="|xₖ − x*|",
                grid=np.arange(DRAW_OUTER + 1), colors={pen.method: blue, imp.method: orange},
                legend=False)
    ax0.axhline(floor, color=blue, ls=":", lw=1.2)
    _decade_axis(ax0, -6, 3)
    ax0.xaxis.set_major_locator(FixedLocator([0, 10, 20, 30]))
    ax0.set_xlim(0, DRAW_OUTER)
    plotting.key(ax0, [(pen.method, blue, "—"), (imp.method, orange, "—"),
                       ("|x̄σ − x*| (closed form)", blue, "···")], x=0.42)
    ax0.set_title(f"penalty ends {abs(pen.xs[-1, 0] - P.x_star):.1e} from x*", fontsize=10)

    exact = np.abs([P.dpsi_sigma(x0, s) - P.dpsi(x0) for s in _DRAW_SIGMAS])
    est = gap_vs_sigma(P, x0, _DRAW_SIGMAS, inner=inner)
    y_gd = inner_gd(lambda v: P.grad_y_g(np.array([x0]), v), np.zeros(2), 1.0 / P.L_g, inner)
    pinv_err = abs(implicit_hypergrad(P, [x0], y_gd, pinv=True)[0] - P.dpsi(x0))
    lo = 1e-6
    ax1.loglog(_DRAW_SIGMAS, np.maximum(exact, lo), "--", color="black", lw=1.2)
    ax1.loglog(_DRAW_SIGMAS, np.maximum(est, lo), "o-", ms=3, color=blue)
    ax1.axhline(max(pinv_err, lo), color=orange, lw=1.5)
    ax1.axvline(sigma, color="0.5", lw=0.8)
    ax1.xaxis.set_major_locator(FixedLocator([1e-3, 1e-2, 1e-1, 1.0]))
    ax1.xaxis.set_major_formatter(FixedFormatter(["0.001", "0.01", "0.1", "1"]))
    ax1.xaxis.set_minor_locator(NullLocator())
    _decade_axis(ax1, -6, 3)
    plotting.key(ax1, [("penalty, exact inner solves", "black", "– –"),
                       (f"penalty, T = {inner} inner steps", blue, "—"),
                       ("implicit, pseudo-inverse", orange, "—")], x=0.40, y=0.25)
    plotting.labels(ax1, "penalty σ", "|G(x₀) − ψ′(x₀)|", f"hypergradient error at x₀ = {x0:.2g}")
    ax1.title.set_fontsize(10)
    return fig
