"""Tests of paperlab.optim.penalty_bilevel (chapter ``penalty-bilevel``, Kwon et al. 2024)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.optimize import minimize, minimize_scalar

from paperlab.optim import penalty_bilevel as pb
from paperlab.optim.common import fit_loglog


class StronglyConvexToy(pb.BilevelProblem):
    """g = |y - a x|^2 / 2 (unique solution y* = a x), f = |y - c|^2 / 2 + x^2 / 2."""

    dx, dy, L_f, L_g = 1, 2, 1.0, 1.0

    def __init__(self, a=(1.0, -2.0), c=(0.5, 1.0)):
        self.a, self.c = np.array(a), np.array(c)

    def grad_f(self, x, y):
        return np.array([x[0]]), y - self.c

    def grad_g(self, x, y):
        r = y - self.a * x[0]
        return np.array([-self.a @ r]), r

    def hess_yy_g(self, x, y):
        return np.eye(2)

    def hess_xy_g(self, x, y):
        return -self.a[None, :]


# --------------------------------------------------------------------------- correctness

def test_inner_gd_matches_a_naive_loop_and_projects():
    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    b = np.array([1.0, -4.0])
    y = np.array([5.0, 5.0])
    ref = y.copy()
    for _ in range(7):
        ref = np.clip(ref - 0.2 * (A @ ref - b), -1.0, 1.0)
    got = pb.inner_gd(lambda v: A @ v - b, y, 0.2, 7, proj=lambda v: np.clip(v, -1.0, 1.0))
    np.testing.assert_allclose(got, ref, rtol=0, atol=0)
    assert np.array_equal(y, [5.0, 5.0])                     # the start is not modified
    sol = pb.inner_gd(lambda v: A @ v - b, y, 0.3, 100_000, tol=1e-12)
    np.testing.assert_allclose(sol, np.linalg.solve(A, b), atol=1e-10)


def test_closed_forms_of_the_toy_match_numerical_minimisation():
    P = pb.toy_bilevel_multi_ll()
    for x in (-1.5, 0.3, 2.7):
        X = np.array([x])
        # psi: minimise f over the line y_1 + y_2 = x
        res = minimize_scalar(lambda t: P.f(X, np.array([t, x - t])))
        assert res.fun == pytest.approx(P.psi(x), rel=1e-9, abs=1e-12)
        np.testing.assert_allclose(P.y_best(x), [res.x, x - res.x], atol=1e-6)
        for sigma in (1e-3, 0.1, 1.0):
            # psi_sigma = [min_y (sigma f + g) - min_z g] / sigma, and min_z g = 0
            res = minimize(lambda v: sigma * P.f(X, v) + P.g(X, v), np.zeros(2),
                           method="BFGS", options={"gtol": 1e-12})
            assert res.fun / sigma == pytest.approx(P.psi_sigma(x, sigma), rel=1e-6)
            ys = P.y_sigma(x, sigma)
            np.testing.assert_allclose(sigma * P.grad_f(X, ys)[1] + P.grad_g(X, ys)[1], 0, atol=1e-12)
            h = 1e-5
            fd = (P.psi_sigma(x + h, sigma) - P.psi_sigma(x - h, sigma)) / (2 * h)
            assert P.dpsi_sigma(x, sigma) == pytest.approx(fd, rel=1e-7)
        fd = (P.psi(x + 1e-5) - P.psi(x - 1e-5)) / 2e-5
        assert P.dpsi(x) == pytest.approx(fd, rel=1e-7)
    assert P.dpsi(P.x_star) == pytest.approx(0, abs=1e-14)
    assert P.dpsi_sigma(P.x_bar(0.3), 0.3) == pytest.approx(0, abs=1e-14)


def test_oracles_match_finite_differences():
    P = pb.toy_bilevel_multi_ll(c=(0.3, 1.2), kappa=2.5)
    x, y, h = np.array([0.7]), np.array([-0.4, 1.9]), 1e-6
    for fun, grad in ((P.f, P.grad_f), (P.g, P.grad_g)):
        gx, gy = grad(x, y)
        assert gx[0] == pytest.approx((fun(x + h, y) - fun(x - h, y)) / (2 * h), rel=1e-6)
        fd = [(fun(x, y + h * e) - fun(x, y - h * e)) / (2 * h) for e in np.eye(2)]
        np.testing.assert_allclose(gy, fd, rtol=1e-6)
    np.testing.assert_allclose(P.grad_y_f(x, y), P.grad_f(x, y)[1])
    np.testing.assert_allclose(P.grad_y_g(x, y), P.grad_g(x, y)[1])


def test_exact_inner_solves_give_the_gradient_of_psi_sigma():
    """Danskin: G(x, y*_sigma, z*) = psi_sigma'(x) for every z* in S(x)."""
    P = pb.toy_bilevel_multi_ll()
    for x in (-2.0, 0.5, 3.0):
        for sigma in (1e-3, 0.05, 1.0):
            for t in (-3.0, 0.0, 4.0):                      # three different points of S(x)
                G = pb.penalty_hypergrad([x], P.y_sigma(x, sigma), [t, x - t], P.grad_f,
                                         P.grad_g, sigma)
                assert G[0] == pytest.approx(P.dpsi_sigma(x, sigma), abs=1e-8)


def test_penalty_hypergrad_is_the_formula():
    rng = np.random.default_rng(0)
    x, y, z = rng.standard_normal(3), rng.standard_normal(2), rng.standard_normal(2)
    M = rng.standard_normal((3, 2))

    def grad_f(xx, yy):
        return M @ yy + xx, yy

    def grad_g(xx, yy):
        return np.sin(xx) * yy.sum(), yy

    G = pb.penalty_hypergrad(x, y, z, grad_f, grad_g, 0.25)
    np.testing.assert_allclose(G, M @ y + x + (np.sin(x) * y.sum() - np.sin(x) * z.sum()) / 0.25)


def test_implicit_formula_is_right_when_the_hessian_is_invertible():
    P = StronglyConvexToy()
    for x in (-1.0, 2.0):
        dpsi = P.a @ (P.a * x - P.c) + x                     # psi = |a x - c|^2/2 + x^2/2
        assert pb.implicit_hypergrad(P, [x], P.a * x)[0] == pytest.approx(dpsi, rel=1e-12)
    run = pb.implicit_bilevel(P, [3.0], outer=100, inner=50, alpha=0.1)
    assert run.xs[-1, 0] == pytest.approx((P.a @ P.c) / (P.a @ P.a + 1), abs=1e-8)


def test_pseudo_inverse_depends_on_the_lower_level_solution_unless_kappa_is_one():
    x = 2.0
    P = pb.toy_bilevel_multi_ll(kappa=3.0)
    at_best = pb.implicit_hypergrad(P, [x], P.y_best(x), pinv=True)[0]
    at_min_norm = pb.implicit_hypergrad(P, [x], [x / 2, x / 2], pinv=True)[0]
    assert at_best == pytest.approx(P.dpsi(x), rel=1e-12)
    assert abs(at_min_norm - P.dpsi(x)) > 0.5
    P1 = pb.toy_bilevel_multi_ll(kappa=1.0)                  # isotropic f: any point of S(x) works
    for t in (-5.0, 0.0, 1.0, 7.0):
        assert pb.implicit_hypergrad(P1, [x], [t, x - t], pinv=True)[0] == pytest.approx(P1.dpsi(x))


# --------------------------------------------------------------------------- the claims

@pytest.mark.parametrize("c, kappa, x0", [((2.0, -0.5), 3.0, 3.0), ((-1.0, 3.0), 0.5, -2.0)])
def test_gap_is_of_order_sigma(c, kappa, x0):
    P = pb.toy_bilevel_multi_ll(c, kappa)
    sig = np.geomspace(1e-3, 1e-1, 5)
    gaps = pb.gap_vs_sigma(P, x0, sig)
    slope, _ = fit_loglog(sig, gaps)
    assert 0.9 <= slope <= 1.1, slope
    exact = np.abs([P.dpsi_sigma(x0, s) - P.dpsi(x0) for s in sig])
    np.testing.assert_allclose(gaps, exact, rtol=1e-4)


@pytest.mark.parametrize("c, kappa, x0", [((2.0, -0.5), 3.0, 3.0), ((-1.0, 3.0), 0.5, -2.0)])
def test_penalty_method_converges_within_sigma_and_implicit_does_not(c, kappa, x0):
    P = pb.toy_bilevel_multi_ll(c, kappa)
    sigma = 0.01
    run = pb.penalty_bilevel(P, x0, sigma, outer=200, inner=20)
    assert abs(run.xs[-1, 0] - P.x_star) <= sigma
    assert abs(run.xs[-1, 0] - P.x_bar(sigma)) <= 1e-6
    wrong = pb.implicit_bilevel(P, x0, outer=200, inner=20)
    assert abs(wrong.xs[-1, 0] - P.x_star) > 10 * sigma
    assert run.calls[-1] == 200 * (3 * 20 + 3)


def test_few_inner_steps_are_not_enough_at_small_sigma():
    P = pb.toy_bilevel_multi_ll()
    far = pb.penalty_bilevel(P, 3.0, 1e-3, outer=200, inner=1)
    near = pb.penalty_bilevel(P, 3.0, 1e-3, outer=200, inner=20)
    assert abs(far.xs[-1, 0] - P.x_star) > 10 * abs(near.xs[-1, 0] - P.x_star)


def test_box_constraint_is_respected():
    P = pb.toy_bilevel_multi_ll()
    box = lambda v: np.clip(v, -3.0, 3.0)                   # noqa: E731
    run = pb.penalty_bilevel(P, 4.5, 0.05, outer=50, inner=10, proj_y=box)
    assert np.all(np.abs(run.ys) <= 3.0) and np.all(np.abs(run.zs) <= 3.0)
    assert abs(run.xs[-1, 0] - P.x_bar(0.05)) < 1e-6       # the box is inactive at the solution


# --------------------------------------------------------------------------- bad inputs

@pytest.mark.parametrize("sigma", [0.0, -0.1, np.inf, np.nan])
def test_sigma_must_be_positive(sigma):
    P = pb.toy_bilevel_multi_ll()
    with pytest.raises(ValueError, match="sigma must be"):
        pb.penalty_hypergrad([1.0], [0.0, 0.0], [0.0, 0.0], P.grad_f, P.grad_g, sigma)
    with pytest.raises(ValueError, match="sigma must be"):
        pb.penalty_bilevel(P, 1.0, sigma)
    with pytest.raises(ValueError, match="sigma must be"):
        pb.gap_vs_sigma(P, 1.0, [0.1, sigma])


def test_step_counts_must_be_positive():
    P = pb.toy_bilevel_multi_ll()
    with pytest.raises(ValueError, match="n_steps must be an integer in"):
        pb.inner_gd(lambda v: v, [1.0], 0.1, 0)
    with pytest.raises(ValueError, match="inner must be an integer in"):
        pb.penalty_bilevel(P, 1.0, 0.1, inner=0)
    with pytest.raises(ValueError, match="outer must be an integer in"):
        pb.implicit_bilevel(P, 1.0, outer=0)
    with pytest.raises(ValueError, match="step must be"):
        pb.inner_gd(lambda v: v, [1.0], -0.1, 5)


def test_large_steps_warn():
    P = pb.toy_bilevel_multi_ll()
    with pytest.warns(pb.StepSizeWarning, match="beta"):
        pb.penalty_bilevel(P, 1.0, 0.1, outer=2, inner=2, beta=0.9)
    with pytest.warns(pb.StepSizeWarning, match="alpha"):
        pb.penalty_bilevel(P, 1.0, 0.1, outer=2, inner=2, alpha=1.5)
    with pytest.warns(pb.StepSizeWarning, match="beta"):
        pb.implicit_bilevel(P, 1.0, outer=2, inner=2, beta=1.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pb.penalty_bilevel(P, 1.0, 0.1, outer=2, inner=2)
    with pytest.raises(ValueError, match="diverged"):
        pb.inner_gd(lambda v: 10 * v, [1.0], 1.0, 2000)


def test_shape_mismatches_are_rejected():
    P = pb.toy_bilevel_multi_ll()
    with pytest.raises(ValueError, match="z must have shape"):
        pb.penalty_hypergrad([1.0], [0.0, 0.0], [0.0, 0.0, 0.0], P.grad_f, P.grad_g, 0.1)
    with pytest.raises(ValueError, match=r"grad_f\(x, y\)\[0\] must have shape"):
        pb.penalty_hypergrad([1.0, 2.0], [0.0, 0.0], [0.0, 0.0], P.grad_f, P.grad_g, 0.1)
    with pytest.raises(ValueError, match="x0 must have shape"):
        pb.penalty_bilevel(P, [1.0, 2.0], 0.1)
    with pytest.raises(ValueError, match="y0 must have shape"):
        pb.penalty_bilevel(P, 1.0, 0.1, y0=[0.0])
    with pytest.raises(ValueError, match="c must have shape"):
        pb.toy_bilevel_multi_ll(c=(1.0, 2.0, 3.0))
    with pytest.raises(ValueError, match="kappa must be"):
        pb.toy_bilevel_multi_ll(kappa=0.0)
    with pytest.raises(ValueError, match="cost must be one of"):
        pb.penalty_bilevel(P, 1.0, 0.1, outer=3, inner=1).curve(np.ones(4), cost="seconds")
    with pytest.raises(ValueError, match="error must have shape"):
        pb.penalty_bilevel(P, 1.0, 0.1, outer=3, inner=1).curve(np.ones(3))


def test_singular_hessian_raises_a_clear_error():
    P = pb.toy_bilevel_multi_ll()
    with pytest.raises(pb.SingularHessianError, match="rank 1 < 2"):
        pb.implicit_hypergrad(P, [1.0], P.y_best(1.0))
    assert issubclass(pb.SingularHessianError, ValueError)
    with pytest.raises(NotImplementedError, match="no second-order oracle"):
        pb.BilevelProblem().hess_yy_g(np.zeros(1), np.zeros(1))


# --------------------------------------------------------------------------- determinism

def test_determinism_and_curves():
    P = pb.toy_bilevel_multi_ll()
    a = pb.penalty_bilevel(P, 3.0, 0.01, outer=50, inner=5)
    b = pb.penalty_bilevel(P, 3.0, 0.01, outer=50, inner=5)
    np.testing.assert_array_equal(a.xs, b.xs)
    pb._gap_vs_sigma.cache_clear()
    g1 = pb.gap_vs_sigma(P, 3.0, [1e-2, 1e-1])
    pb._gap_vs_sigma.cache_clear()
    np.testing.assert_array_equal(g1, pb.gap_vs_sigma(P, 3.0, [1e-2, 1e-1]))
    cv = a.curve(np.abs(a.xs[:, 0] - P.x_star), cost="calls")
    assert cv.cost[-1] == a.calls[-1] and cv.error.shape == (51,)
    assert a.n_iter == 50
