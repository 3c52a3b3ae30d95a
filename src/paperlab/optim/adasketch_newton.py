"""AdaSketch-Newton: sketched Newton steps for equality-constrained optimisation
(Hong, Na, Mahoney and Kolar, ICML 2023).

Explained in chapter ``adasketch-newton``.

The problem is ``min f(x)`` subject to ``c(x) = 0`` with ``x`` in ``R^n`` and ``c(x)`` in ``R^m``.
With the Lagrangian ``L(x, lam) = f(x) + lam^T c(x)``, its gradient ``grad_x L`` and Hessian
``H = grad_x^2 L``, and the constraint Jacobian ``G``, one iteration of AdaSketch-Newton

1. builds the Newton-KKT system ``K Delta = rhs`` with ``K = [[B, G^T], [G, 0]]``,
   ``rhs = -(grad_x L, c)`` and ``B = H + tau I`` (``tau > 0`` only when the reduced Hessian is
   not safely positive definite), chapter Eq. (2);
2. solves it only roughly, by randomized Kaczmarz
   (:func:`paperlab.linalg.kaczmarz.randomized_kaczmarz`), until the residual passes the
   adaptive accuracy test ``||K||_F psi ||r|| <= theta_t delta ||rhs||``, chapter Eq. (4);
3. checks that the rough direction descends the exact augmented Lagrangian
   ``L_{mu,nu} = L + (mu/2)||c||^2 + (nu/2)||grad_x L||^2`` (:func:`exact_aug_lagrangian`, chapter
   Eq. (3)): ``grad L_{mu,nu}^T Delta <= -(nu/2)||rhs||^2``. If not, it raises ``mu``, lowers
   ``nu`` and ``delta``, and solves more accurately (chapter Eq. (5));
4. takes the Armijo step on ``L_{mu,nu}`` (chapter Eq. (6)).

The constants follow the authors' Julia code (github.com/IlgeeHong/AdaSketch-Newton):
``psi = 20 max(||B||_F^2, 1) / (min(xi_G, 1) min(xi_B, 1))`` with ``xi_G = lambda_min(G G^T)``;
``Upsilon = max(||G||_F, ||H||_F, 1)``; ``delta <- min(delta, (0.5 - beta) nu /
((1 + mu + nu) Upsilon^2 psi^2))`` floored at ``1e-6``; on a failed descent test
``mu <- rho^2 mu``, ``nu <- nu / rho``, ``delta <- min(delta / rho^4, ...)``; the run stops with an
error when ``xi_G < 1e-2``; defaults ``mu_0 = 1``, ``nu_0 = 0.1``, ``delta_0 = 0.1``,
``beta = 0.1``, ``rho = 1.5``, ``xi_B = 0.1`` (their ``Param.jl``). Their norms are Julia's
``norm``, the Frobenius norm for matrices. One deliberate difference: their code evaluates the
gradient of ``L_{mu,nu}`` with the Hessian of ``f`` where the formula has the Hessian of the
Lagrangian; this module uses the exact gradient.

This module also holds the chapter's test problem (:func:`constrained_logreg`, here rather
than in ``paperlab.data`` because only this chapter uses it), the experiment
(:func:`experiment`) and the interactive figure (:func:`draw`, :data:`SLIDERS`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator
from scipy.special import expit

from ..cache import cached
from .. import plotting
from .._validate import check_array, check_choice, check_int, check_real
from ..linalg.kaczmarz import kaczmarz_flops, randomized_kaczmarz
from ..widgets import Choice
from .common import Curve

__all__ = ["SingularJacobianError", "Problem", "constrained_logreg", "exact_aug_lagrangian",
           "kkt_system", "Result", "adasketch_newton", "scipy_solution", "experiment",
           "sketch_runs", "draw", "SLIDERS"]

#: ``xi_G = lambda_min(G G^T)`` below this stops the run (the authors' code).
XI_G_MIN = 1e-2
#: The reduced Hessian is modified when its smallest eigenvalue is below this (the authors'
#: code for constrained logistic regression).
REDUCED_HESS_TOL = 1e-2
#: Floor on the accuracy parameter ``delta`` (the authors' code, "handle numerical issue").
DELTA_MIN = 1e-6
#: The penalty updates stop when ``mu`` exceeds this or ``nu`` falls below ``NU_MIN``.
MU_MAX, NU_MIN = 1e8, 1e-8
#: At most this many halvings in one Armijo line search.
MAX_HALVINGS = 60


class SingularJacobianError(RuntimeError):
    """The constraint Jacobian is (nearly) rank deficient: ``lambda_min(G G^T) < 1e-2``."""


# --------------------------------------------------------------------------- the problem

@dataclass(frozen=True, eq=False)
class Problem:
    """Constrained logistic regression: ``min f(x)`` subject to ``C x = 0`` and ``||x||^2 = 1``.

    ``f(x) = (1/N) sum_i log(1 + exp(-y_i a_i^T x))`` with rows ``a_i`` of ``A`` (features and a
    constant 1) and labels ``y_i`` in {-1, +1}; ``c(x) = (C x, ||x||^2 - 1)``. The Hessian of the
    constraints weighted by ``lam`` is ``2 lam_m I`` (only the last constraint is curved).
    """

    A: np.ndarray
    y: np.ndarray
    C: np.ndarray

    @property
    def n(self) -> int:
        """Number of variables."""
        return int(self.A.shape[1])

    @property
    def m(self) -> int:
        """Number of constraints."""
        return int(self.C.shape[0] + 1)

    def f(self, x: np.ndarray) -> float:
        return float(np.mean(np.logaddexp(0.0, -self.y * (self.A @ x))))

    def grad(self, x: np.ndarray) -> np.ndarray:
        s = expit(-self.y * (self.A @ x))
        return -(self.A.T @ (s * self.y)) / len(self.y)

    def hess(self, x: np.ndarray) -> np.ndarray:
        z = self.y * (self.A @ x)
        s = expit(z) * expit(-z)
        return (self.A.T * s) @ self.A / len(self.y)

    def cons(self, x: np.ndarray) -> np.ndarray:
        return np.r_[self.C @ x, x @ x - 1.0]

    def jac(self, x: np.ndarray) -> np.ndarray:
        return np.vstack([self.C, 2.0 * x])

    def cons_hess(self, x: np.ndarray, lam: np.ndarray) -> np.ndarray:
        """``sum_j lam_j grad^2 c_j(x) = 2 lam_m I``."""
        return 2.0 * lam[-1] * np.eye(self.n)


@cached(maxsize=1)
def _breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return np.c_[X, np.ones(len(y))], np.where(y == 1, 1.0, -1.0)


def constrained_logreg(n_linear: int = 5, seed: int = 0) -> Problem:
    """The chapter's problem: logistic regression on scikit-learn's breast-cancer data with
    ``n_linear`` random linear constraints and a norm constraint.

    569 patients, 30 standardized features plus a constant, so ``n = 31`` variables and
    ``m = n_linear + 1`` constraints (a KKT system of size 37 by default). ``C`` has
    ``n_linear`` Gaussian rows scaled to unit norm, drawn with ``seed``. The paper's
    experiment uses LIBSVM datasets with 10 random linear constraints ``C x = b`` and the same
    norm constraint. Explained in chapter ``adasketch-newton``.
    """
    A, y = _breast_cancer()
    n_linear = check_int("n_linear", n_linear, 0, A.shape[1] - 2)
    C = np.random.default_rng(check_int("seed", seed, 0)).standard_normal((n_linear, A.shape[1]))
    C /= np.linalg.norm(C, axis=1, keepdims=True)
    return Problem(A=A.copy(), y=y.copy(), C=C)


def _check_problem(problem) -> None:
    for name in ("n", "m", "f", "grad", "hess", "cons", "jac", "cons_hess"):
        if not hasattr(problem, name):
            raise ValueError(f"problem must provide n, m, f, grad, hess, cons, jac and cons_hess "
                             f"(see Problem); it has no {name!r}")


def _check_point(problem, x, lam) -> tuple[np.ndarray, np.ndarray]:
    x = check_array("x", x, ndim=1, shape=(problem.n,))
    lam = check_array("lam", lam, ndim=1, shape=(problem.m,))
    return x, lam


# --------------------------------------------------------------------------- merit function

@dataclass(frozen=True)
class _Local:
    """Everything AdaSketch-Newton evaluates at one point ``(x, lam)``."""

    f: float
    c: np.ndarray
    G: np.ndarray
    grad_L: np.ndarray
    H: np.ndarray          # Hessian of the Lagrangian


def _local(problem, x: np.ndarray, lam: np.ndarray) -> _Local:
    G = problem.jac(x)
    return _Local(f=problem.f(x), c=problem.cons(x), G=G, grad_L=problem.grad(x) + G.T @ lam,
                  H=problem.hess(x) + problem.cons_hess(x, lam))


def _merit(p: _Local, lam: np.ndarray, mu: float, nu: float) -> float:
    return float(p.f + lam @ p.c + 0.5 * mu * p.c @ p.c + 0.5 * nu * p.grad_L @ p.grad_L)


def _merit_grad(p: _Local, mu: float, nu: float) -> np.ndarray:
    gx = p.grad_L + nu * p.H @ p.grad_L + mu * p.G.T @ p.c
    return np.r_[gx, p.c + nu * p.G @ p.grad_L]


def exact_aug_lagrangian(problem, x, lam, mu: float, nu: float) -> tuple[float, np.ndarray]:
    """The exact augmented Lagrangian of Hong et al. (2023), chapter Eq. (3), and its gradient.

    ``L_{mu,nu}(x, lam) = f + lam^T c + (mu/2)||c||^2 + (nu/2)||grad_x L||^2`` with gradient
    ``((I + nu H) grad_x L + mu G^T c,  c + nu G grad_x L)``, ``H`` the Hessian of the
    Lagrangian. Its stationary points with small enough ``nu`` and large enough ``mu`` are the
    KKT points of the problem, which makes it a merit function for Newton steps in ``(x, lam)``.
    Explained in chapter ``adasketch-newton``.
    """
    _check_problem(problem)
    x, lam = _check_point(problem, x, lam)
    mu = check_real("mu", mu, 0.0, lo_open=True)
    nu = check_real("nu", nu, 0.0, lo_open=True)
    p = _local(problem, x, lam)
    return _merit(p, lam, mu, nu), _merit_grad(p, mu, nu)


def kkt_system(problem, x, lam, xi_B: float = 0.1) -> tuple[np.ndarray, np.ndarray, dict]:
    """The Newton-KKT system ``K Delta = rhs`` of chapter Eq. (2) at ``(x, lam)``.

    ``K = [[B, G^T], [G, 0]]``, ``rhs = -(grad_x L, c)`` and ``B = H + tau I``, where
    ``tau = xi_B + ||H||_F`` if the reduced Hessian ``Z^T H Z`` (``Z`` an orthonormal basis of
    the null space of ``G``) has an eigenvalue below ``1e-2``, else 0. Also returns the
    constants ``xi_G = lambda_min(G G^T)``, ``psi`` and ``Upsilon`` of the accuracy test. Raises
    :class:`SingularJacobianError` if ``xi_G < 1e-2``. Explained in chapter ``adasketch-newton``.
    """
    _check_problem(problem)
    x, lam = _check_point(problem, x, lam)
    xi_B = check_real("xi_B", xi_B, 0.0, lo_open=True)
    return _kkt(_local(problem, x, lam), xi_B)


def _kkt(p: _Local, xi_B: float) -> tuple[np.ndarray, np.ndarray, dict]:
    n, m = p.H.shape[0], p.G.shape[0]
    xi_G = float(np.linalg.eigvalsh(p.G @ p.G.T)[0])
    if xi_G < XI_G_MIN:
        raise SingularJacobianError(f"the constraint Jacobian is nearly rank deficient: "
                                    f"lambda_min(G G^T) = {xi_G:.3g} < {XI_G_MIN:g}")
    tau = 0.0
    if m < n:
        Q, _ = np.linalg.qr(p.G.T, mode="complete")
        Z = Q[:, m:]
        if np.linalg.eigvalsh(Z.T @ p.H @ Z)[0] < REDUCED_HESS_TOL:
            tau = xi_B + float(np.linalg.norm(p.H))
    B = p.H + tau * np.eye(n)
    K = np.block([[B, p.G.T], [p.G, np.zeros((m, m))]])
    rhs = -np.r_[p.grad_L, p.c]
    psi = 20.0 * max(float(np.linalg.norm(B)) ** 2, 1.0) / (min(xi_G, 1.0) * min(xi_B, 1.0))
    upsilon = max(float(np.linalg.norm(p.G)), float(np.linalg.norm(p.H)), 1.0)
    return K, rhs, {"xi_G": xi_G, "tau": tau, "psi": psi, "upsilon": upsilon,
                    "K_norm": float(np.linalg.norm(K))}


# --------------------------------------------------------------------------- the method

@dataclass
class Result:
    """The output of :func:`adasketch_newton`.

    ``kkt[t]`` is the KKT residual ``||(grad_x L, c)||`` at iterate ``t`` (``t = 0..T``);
    ``inner_iters[t]``, ``alphas[t]``, ``thetas[t]``, ``mus[t]``, ``nus[t]``, ``deltas[t]`` and
    ``capped[t]`` describe step ``t`` (Kaczmarz steps, step size, accuracy parameter, penalty
    parameters after the descent test, whether a Kaczmarz call hit ``max_inner``);
    ``eps[t]`` is the relative residual the accuracy test asked for,
    ``loosen theta_t delta / (||K||_F psi)``, and ``rel_res[t] = ||K Delta - rhs|| / ||rhs||`` the
    one reached; ``flops[t]`` counts the linear-algebra flops spent before iterate ``t``.
    """

    x: np.ndarray
    lam: np.ndarray
    kkt: np.ndarray
    inner_iters: np.ndarray
    alphas: np.ndarray
    thetas: np.ndarray
    mus: np.ndarray
    nus: np.ndarray
    deltas: np.ndarray
    capped: np.ndarray
    flops: np.ndarray
    converged: bool
    solver: str
    theta: str
    eps: np.ndarray
    rel_res: np.ndarray
    info: dict = field(default_factory=dict)

    @property
    def n_iter(self) -> int:
        return len(self.kkt) - 1

    def curve(self, cost: str = "iteration") -> Curve:
        """The run as a Part 1 :class:`~paperlab.optim.common.Curve`: KKT residual against
        ``"iteration"`` or ``"flops"``."""
        check_choice("cost", cost, ("iteration", "flops"))
        c = np.arange(len(self.kkt), dtype=float) if cost == "iteration" else self.flops
        return Curve(c, self.kkt, info={"solver": self.solver, "theta": self.theta})

    @property
    def ratios(self) -> np.ndarray:
        """Contraction ratios ``kkt[t+1] / kkt[t]``."""
        return self.kkt[1:] / self.kkt[:-1]


def _theta(mode: str, kkt: float) -> float:
    return 1.0 if mode == "const" else min(1.0, kkt)


def adasketch_newton(problem, x0, lam0, *, theta: str = "const", mu0: float = 1.0,
                     nu0: float = 0.1, beta: float = 0.1, delta0: float = 0.1, rho: float = 1.5,
                     xi_B: float = 0.1, max_iter: int = 100, max_inner: int = 20_000,
                     tol: float = 1e-8, solver: str = "kaczmarz", loosen: float = 1.0,
                     rng=0) -> Result:
    """AdaSketch-Newton, the method of Hong, Na, Mahoney and Kolar (ICML 2023).

    From ``(x0, lam0)``, until the KKT residual is at most ``tol`` or ``max_iter`` steps:

    1. ``K, rhs`` of :func:`kkt_system` (chapter Eq. (2)); stop with
       :class:`SingularJacobianError` if ``lambda_min(G G^T) < 1e-2``.
    2. ``delta <- max(min(delta, (0.5 - beta) nu / ((1 + mu + nu) Upsilon^2 psi^2)), 1e-6)``.
    3. Randomized Kaczmarz on ``K Delta = rhs`` (uniform rows, from 0) until
       ``||K||_F psi ||r|| <= theta_t delta ||rhs||`` (chapter Eq. (4)) or ``max_inner`` steps.
    4. Descent test ``grad L_{mu,nu}^T Delta <= -(nu/2) ||rhs||^2``; if it fails,
       ``mu <- rho^2 mu``, ``nu <- nu / rho``, ``delta <- min(delta / rho^4, ...)`` and go back
       to 3, continuing from the current ``Delta`` (chapter Eq. (5)).
    5. Armijo: the largest ``alpha`` in 1, 1/2, 1/4, ... with
       ``L_{mu,nu}(z + alpha Delta) <= L_{mu,nu}(z) + alpha beta grad L_{mu,nu}^T Delta``
       (chapter Eq. (6)); ``z = (x, lam) <- z + alpha Delta``.

    ``theta="const"`` uses ``theta_t = 1`` (local linear rate); ``theta="decay"`` uses
    ``theta_t = min(1, ||rhs_t||)``, which tends to 0 (superlinear rate). ``loosen`` multiplies
    the right side of the accuracy test of step 3: 1 is the paper's test; the chapter uses a
    large value to make the two local rates visible. ``solver="exact"`` replaces step 3 by a
    dense solve: exact Newton with the same merit function and line search.

    Flops (linear algebra only): ``4 N`` per Kaczmarz step and ``2 N^2 + 2 N`` per residual
    check (one every ``N`` steps), ``N^3/3 + 2 N^2`` per dense solve (an ``LDL^T``
    factorisation and two triangular solves), with ``N = n + m``. Explained in chapter
    ``adasketch-newton``.
    """
    _check_problem(problem)
    x = check_array("x0", x0, ndim=1, shape=(problem.n,)).copy()
    lam = check_array("lam0", lam0, ndim=1, shape=(problem.m,)).copy()
    check_choice("theta", theta, ("const", "decay"))
    check_choice("solver", solver, ("kaczmarz", "exact"))
    mu = check_real("mu0", mu0, 0.0, lo_open=True)
    nu = check_real("nu0", nu0, 0.0, lo_open=True)
    beta = check_real("beta", beta, 0.0, 0.5, lo_open=True, hi_open=True)
    delta = check_real("delta0", delta0, 0.0, lo_open=True)
    rho = check_real("rho", rho, 1.0, lo_open=True)
    xi_B = check_real("xi_B", xi_B, 0.0, lo_open=True)
    max_iter = check_int("max_iter", max_iter, 1)
    max_inner = check_int("max_inner", max_inner, 1)
    tol = check_real("tol", tol, 0.0, lo_open=True)
    loosen = check_real("loosen", loosen, 1.0)
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(
        check_int("rng", rng, 0))

    N = problem.n + problem.m
    p = _local(problem, x, lam)
    kkt = [float(np.linalg.norm(np.r_[p.grad_L, p.c]))]
    flops = [0.0]
    rec: dict[str, list] = {k: [] for k in ("inner", "alpha", "theta", "mu", "nu", "delta",
                                            "capped", "eps", "rel_res")}
    ls_failures = 0
    while kkt[-1] > tol and len(kkt) <= max_iter:
        K, rhs, const = _kkt(p, xi_B)
        psi, ups, k_norm = const["psi"], const["upsilon"], const["K_norm"]

        def trial(mu_: float, nu_: float) -> float:
            return (0.5 - beta) * nu_ / ((1 + mu_ + nu_) * ups**2 * psi**2)

        delta = max(min(delta, trial(mu, nu)), DELTA_MIN)
        th = _theta(theta, kkt[-1])
        rhs_norm = float(np.linalg.norm(rhs))
        spent, hit = 0.0, False
        steps_total = 0
        if solver == "exact":
            d = np.linalg.solve(K, rhs)
            spent += N**3 / 3 + 2 * N**2
        else:
            d = np.zeros(N)
        while True:
            if solver == "kaczmarz":
                target = loosen * th * delta * rhs_norm / (k_norm * psi)
                d, steps = randomized_kaczmarz(K, rhs, d, stop=target, rng=gen,
                                               max_iter=max_inner)
                steps_total += steps
                spent += kaczmarz_flops(N, N, steps, -(-steps // N) + 1)
                hit = hit or (steps >= max_inner and
                              float(np.linalg.norm(K @ d - rhs)) > target)
            eps = loosen * th * delta / (k_norm * psi)     # relative accuracy asked for
            slope = float(_merit_grad(p, mu, nu) @ d)
            if mu > MU_MAX or nu < NU_MIN or slope <= -0.5 * nu * rhs_norm**2:
                break
            mu, nu = rho**2 * mu, nu / rho
            delta = max(min(delta / rho**4, trial(mu, nu)), DELTA_MIN)
        # Armijo line search on the exact augmented Lagrangian
        phi0, alpha = _merit(p, lam, mu, nu), 1.0
        for _ in range(MAX_HALVINGS):
            x_new, lam_new = x + alpha * d[:problem.n], lam + alpha * d[problem.n:]
            p_new = _local(problem, x_new, lam_new)
            if _merit(p_new, lam_new, mu, nu) <= phi0 + alpha * beta * slope:
                break
            alpha *= 0.5
        else:
            ls_failures += 1
        x, lam, p = x_new, lam_new, p_new
        kkt.append(float(np.linalg.norm(np.r_[p.grad_L, p.c])))
        flops.append(flops[-1] + spent)
        rel_res = float(np.linalg.norm(K @ d - rhs)) / rhs_norm
        for k, v in (("inner", steps_total), ("alpha", alpha), ("theta", th), ("mu", mu),
                     ("nu", nu), ("delta", delta), ("capped", hit), ("eps", eps),
                     ("rel_res", rel_res)):
            rec[k].append(v)
    return Result(x=x, lam=lam, kkt=np.array(kkt), inner_iters=np.array(rec["inner"], dtype=int),
                  alphas=np.array(rec["alpha"]), thetas=np.array(rec["theta"]),
                  mus=np.array(rec["mu"]), nus=np.array(rec["nu"]),
                  deltas=np.array(rec["delta"]), capped=np.array(rec["capped"], dtype=bool),
                  flops=np.array(flops), converged=kkt[-1] <= tol, solver=solver, theta=theta,
                  eps=np.array(rec["eps"]), rel_res=np.array(rec["rel_res"]),
                  info={"loosen": loosen, "max_inner": max_inner, "line_search_failures":
                        ls_failures, "n": problem.n, "m": problem.m})


def scipy_solution(problem, x0=None) -> np.ndarray:
    """The problem's solution by scipy's SLSQP (a reference), from ``x0`` (default
    ``(1, ..., 1)/sqrt(n)``). Explained in chapter ``adasketch-newton``."""
    from scipy.optimize import minimize

    _check_problem(problem)
    x0 = np.ones(problem.n) / np.sqrt(problem.n) if x0 is None else \
        check_array("x0", x0, ndim=1, shape=(problem.n,))
    res = minimize(problem.f, x0, jac=problem.grad, method="SLSQP",
                   constraints=[{"type": "eq", "fun": problem.cons, "jac": problem.jac}],
                   options={"ftol": 1e-15, "maxiter": 2000})
    return res.x


# --------------------------------------------------------------------------- experiment

#: The loosening of the accuracy test with which the chapter shows the two local rates: it
#: turns the paper's relative accuracy of about 3e-10 into about 0.1 on the chapter's problem.
LOOSE = 3e8
#: The Kaczmarz cap of the chapter's main runs (the authors' code caps at 1e6 steps).
MAX_INNER = 20_000


@cached(maxsize=64)
def _run(theta: str, loosen: float, max_inner: int, seed: int, solver: str = "kaczmarz",
         mu0: float = 1.0, problem_seed: int = 0) -> Result:
    problem = constrained_logreg(5, problem_seed)
    return adasketch_newton(problem, np.ones(problem.n), np.ones(problem.m), theta=theta,
                            mu0=mu0, loosen=loosen, max_inner=max_inner, solver=solver,
                            rng=seed, max_iter=100, tol=1e-8)


def experiment(seed: int = 0, problem_seed: int = 0) -> dict[str, Result]:
    """The chapter's runs on :func:`constrained_logreg` from ``x0 = (1, ..., 1)``,
    ``lam0 = (1, ..., 1)``, to a KKT residual of ``1e-8``.

    Keys: ``"exact"`` (dense KKT solves), ``"const"`` and ``"decay"`` (AdaSketch-Newton with the
    paper's accuracy test, ``theta_t = 1`` and ``theta_t -> 0``, Kaczmarz capped at
    :data:`MAX_INNER` steps), ``"loose const"`` and ``"loose decay"`` (the same with the test
    loosened by :data:`LOOSE`). ``seed`` drives Kaczmarz's row choices, ``problem_seed`` the
    random constraints. Cached. Explained in chapter ``adasketch-newton``.
    """
    seed = check_int("seed", seed, 0)
    problem_seed = check_int("problem_seed", problem_seed, 0)
    return {"exact": _run("const", 1.0, MAX_INNER, seed, "exact", 1.0, problem_seed),
            "const": _run("const", 1.0, MAX_INNER, seed, "kaczmarz", 1.0, problem_seed),
            "decay": _run("decay", 1.0, MAX_INNER, seed, "kaczmarz", 1.0, problem_seed),
            "loose const": _run("const", LOOSE, MAX_INNER, seed, "kaczmarz", 1.0, problem_seed),
            "loose decay": _run("decay", LOOSE, MAX_INNER, seed, "kaczmarz", 1.0, problem_seed)}


def sketch_runs(theta: str = "const", loosen: float = 1.0, seeds=(0, 1, 2),
                max_inner: int = MAX_INNER, problem_seed: int = 0) -> list[Result]:
    """AdaSketch-Newton on :func:`constrained_logreg` once per Kaczmarz seed in ``seeds``
    (the chapter's settings of :func:`experiment`). Cached. Explained in chapter
    ``adasketch-newton``."""
    check_choice("theta", theta, ("const", "decay"))
    loosen = check_real("loosen", loosen, 1.0)
    max_inner = check_int("max_inner", max_inner, 1)
    problem_seed = check_int("problem_seed", problem_seed, 0)
    return [_run(theta, loosen, max_inner, check_int("seed", s, 0), "kaczmarz", 1.0, problem_seed)
            for s in seeds]


# --------------------------------------------------------------------------- interactive figure

_LOOSENINGS = (1.0, 1e4, 1e8, 3e8, 1e9)
_CAPS = (300, 3000, 20_000)

SLIDERS = {
    "loosen": Choice(_LOOSENINGS, default=1.0, label="accuracy test loosened × s"),
    "theta": Choice(("const", "decay"), default="const", label="θₜ"),
    "max_inner": Choice(_CAPS, default=MAX_INNER, label="Kaczmarz cap"),
}


@cached(maxsize=1)
def _widget_runs() -> dict:
    """Every run the figure can show (30, a second or two), computed on the first redraw."""
    runs = {(s, th, cap): _run(th, s, cap, 0) for s in _LOOSENINGS for th in ("const", "decay")
            for cap in _CAPS}
    runs["exact"] = _run("const", 1.0, MAX_INNER, 0, "exact")
    return runs


def draw(loosen: float = 1.0, theta: str = "const", max_inner: int = MAX_INNER) -> Figure:
    """The chapter's figure: one AdaSketch-Newton run on :func:`constrained_logreg`.

    Left: the KKT residual against the Newton iteration, next to exact Newton (dashed), with
    the step sizes ``alpha_t < 1`` marked. Right: the Kaczmarz steps spent on each Newton
    step, the cap ``max_inner`` (dotted), and the relative accuracy the test asked for. All 30
    runs (``loosen`` x ``theta`` x ``max_inner``) are computed once, on the first call.
    Explained in chapter ``adasketch-newton``.
    """
    check_choice("loosen", loosen, _LOOSENINGS)
    check_choice("theta", theta, ("const", "decay"))
    check_choice("max_inner", max_inner, _CAPS)
    runs = _widget_runs()
    run, ex = runs[(float(loosen), theta, int(max_inner))], runs["exact"]
    blue, orange, grey = plotting.PALETTE[0], plotting.PALETTE[1], "0.45"

    fig, (ax0, ax1) = plotting.figure(2, width=8.6, height=3.5, layout="none")
    ax0.set_position((0.085, 0.15, 0.37, 0.74))
    ax1.set_position((0.585, 0.15, 0.37, 0.74))
    t = np.arange(run.n_iter + 1)
    ax0.semilogy(np.arange(ex.n_iter + 1), ex.kkt, "--", color=grey, lw=1.2)
    ax0.semilogy(t, run.kkt, "o-", color=blue, ms=3)
    entries = [("exact Newton", grey, "--"), ("AdaSketch-Newton", blue)]
    short = np.flatnonzero(run.alphas < 1) + 1
    if short.size:
        ax0.semilogy(short, run.kkt[short], "s", color=orange, ms=6, mfc="none")
        entries.append(("step αₜ < 1", orange, "□"))
    ax0.set_ylim(1e-13, 1e3)
    ax0.yaxis.set_major_locator(FixedLocator([1e-12, 1e-8, 1e-4, 1.0]))
    ax0.yaxis.set_major_formatter(FixedFormatter(["1e-12", "1e-8", "1e-4", "1"]))
    ax0.yaxis.set_minor_locator(NullLocator())
    last = max(run.n_iter, ex.n_iter)
    xticks = list(range(0, last + 1, 5 if last <= 25 else 10))
    ax0.set_xlim(-0.5, last + 0.5)
    for ax in (ax0, ax1):           # few fixed ticks: tick labels are most of a redraw's cost
        ax.xaxis.set_major_locator(FixedLocator(xticks))
        ax.xaxis.set_major_formatter(FixedFormatter([str(v) for v in xticks]))
    plotting.key(ax0, entries)
    plotting.labels(ax0, "Newton iteration t", "KKT residual")
    _title(ax0, f"{run.n_iter} Newton steps (exact: {ex.n_iter})")

    k = np.arange(1, run.n_iter + 1)
    # one LineCollection instead of a bar per step: a redraw stays fast for 50-step runs
    ax1.vlines(k, 10.0, np.maximum(run.inner_iters, 10), color=blue, alpha=0.8,
               lw=max(1.5, min(14.0, 220.0 / len(k))))
    ax1.axhline(max_inner, color="black", ls=":", lw=1.2)
    ax1.set_yscale("log")
    ax1.set_ylim(10, 3e5)
    ax1.yaxis.set_major_locator(FixedLocator([10, 100, 1000, 1e4, 1e5]))
    ax1.yaxis.set_major_formatter(FixedFormatter(["10", "100", "1000", "1e4", "1e5"]))
    ax1.yaxis.set_minor_locator(NullLocator())
    ax1.set_xlim(-0.5, last + 0.5)
    plotting.key(ax1, [("Kaczmarz steps", blue, "▮"), (f"cap {max_inner}", "black", "┈")],
                 x=0.55, y=0.96)
    plotting.labels(ax1, "Newton iteration t", "Kaczmarz steps")
    ratio = run.flops[-1] / ex.flops[-1]
    _title(ax1, f"ε ≈ {np.median(run.eps):.0e}; {ratio:.0f}× the flops of exact")
    return fig


def _title(ax, text: str) -> None:
    """A title placed as plain text (matplotlib's title re-measures the axes at every draw)."""
    ax.text(0.5, 1.03, text, transform=ax.transAxes, ha="center", va="bottom", fontsize=11)
