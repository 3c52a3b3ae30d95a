"""Tests of paperlab.optim.borep (chapter ``bo-rep-unbounded-smoothness``, Hao et al. 2024)."""
from __future__ import annotations

import numpy as np
import pytest

from paperlab.optim import borep as br
from paperlab.optim.penalty_bilevel import BilevelProblem, History

X0 = np.array([4.0, 4.0])


def first_hit(problem, run, level=0.5):
    g = problem.grad_phi_norms(run.xs)
    hit = np.flatnonzero(g <= level)
    return int(hit[0]) if hit.size else None


# --------------------------------------------------------------------------- the problem

def test_closed_forms_match_the_definitions():
    P = br.cosh_bilevel(noise=0.0)
    assert isinstance(P, BilevelProblem)
    rng = np.random.default_rng(0)
    for x in rng.uniform(-3, 3, (4, 2)):
        y = P.y_star(x)
        np.testing.assert_allclose(P.grad_g(x, y)[1], 0, atol=1e-12)        # y* solves g
        assert P.phi(x) == pytest.approx(P.f(x, y), rel=1e-12)
        h = 1e-6
        fd = [(P.phi(x + h * e) - P.phi(x - h * e)) / (2 * h) for e in np.eye(2)]
        np.testing.assert_allclose(P.grad_phi(x), fd, rtol=1e-6, atol=1e-8)
        fd_h = np.array([(P.grad_phi(x + h * e) - P.grad_phi(x - h * e)) / (2 * h) for e in np.eye(2)])
        np.testing.assert_allclose(P.hess_phi(x), fd_h, rtol=1e-5, atol=1e-6)
        for fun, grad in ((P.f, P.grad_f), (P.g, P.grad_g)):
            y2 = rng.standard_normal(2)
            gx, gy = grad(x, y2)
            np.testing.assert_allclose(gx, [(fun(x + h * e, y2) - fun(x - h * e, y2)) / (2 * h)
                                            for e in np.eye(2)], rtol=1e-6, atol=1e-8)
            np.testing.assert_allclose(gy, [(fun(x, y2 + h * e) - fun(x, y2 - h * e)) / (2 * h)
                                            for e in np.eye(2)], rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(P.hvp_yy(x, y, np.ones(2)), P.hess_yy_g(x, y) @ np.ones(2))
        np.testing.assert_allclose(P.hvp_xy(x, y, np.ones(2)), P.hess_xy_g(x, y) @ np.ones(2))
    np.testing.assert_allclose(P.grad_phi(P.x_star), 0, atol=1e-12)
    np.testing.assert_allclose(P.grad_phi_norms([X0, P.x_star]),
                               [np.linalg.norm(P.grad_phi(X0)), 0.0], atol=1e-10)


def test_upper_level_is_l0_l1_smooth_but_not_l_smooth():
    P = br.cosh_bilevel()
    rng = np.random.default_rng(1)
    for _ in range(50):
        x, y = rng.uniform(-4, 4, 2), rng.uniform(-8, 8, 2)
        hess = max(np.cosh(y).max(), P.rho)                  # ||grad^2 f||, f separable
        grad = np.linalg.norm(np.concatenate(P.grad_f(x, y)))
        assert hess <= P.L0 + P.L1 * grad + 1e-9
    # the smoothness of Phi grows without bound along the diagonal
    L = [np.linalg.eigvalsh(P.hess_phi(r * np.ones(2) / np.sqrt(2)))[-1] for r in (1, 3, 5, 7)]
    assert np.all(np.diff(L) > 0) and L[-1] > 100 * L[0]


# --------------------------------------------------------------------------- the pieces

def test_neumann_series_matches_a_naive_sum_and_the_inverse():
    H = np.diag([1.5, 2.0])
    v = np.array([0.3, -1.2])
    naive = sum(np.linalg.matrix_power(np.eye(2) - H / 2.0, q) @ v for q in range(7)) / 2.0
    np.testing.assert_allclose(br.neumann_z(lambda p: H @ p, v, 2.0, 7), naive, rtol=1e-14)
    np.testing.assert_allclose(br.neumann_z(lambda p: H @ p, v, 2.0, 60), np.linalg.solve(H, v),
                               rtol=1e-12)


@pytest.mark.parametrize("x", [[0.40479646, -0.64555843], [-1.0, 2.0], [1.0, 1.0]])
def test_noise_free_neumann_hypergradient_matches_grad_phi(x):
    P = br.cosh_bilevel(noise=0.0)
    x = np.array(x)
    y = P.y_star(x)
    fx, fy = P.grad_f(x, y)
    z = br.neumann_z(lambda v: P.hvp_yy(x, y, v), fy, P.L_g, 10)
    assert np.linalg.norm(fx - P.hvp_xy(x, y, z) - P.grad_phi(x)) <= 1e-3


def test_sgd_lower_matches_a_naive_loop():
    P = br.cosh_bilevel(noise=0.7)
    x, y0 = np.array([0.5, -1.0]), np.array([2.0, 2.0])
    got = br.sgd_lower(P, x, y0, 0.3, 12, np.random.default_rng(5))
    xi = 0.7 * np.random.default_rng(5).standard_normal((12, 2))
    y = y0.copy()
    for k in range(12):
        y = y - 0.3 * (P.grad_g(x, y)[1] + xi[k])
    np.testing.assert_allclose(got, y, rtol=1e-13)
    np.testing.assert_allclose(br.sgd_lower(P.with_noise(0.0), x, y0, 0.5, 200,
                                            np.random.default_rng(0)), P.y_star(x), atol=1e-12)


def test_refinement_averages_the_noise_away():
    P = br.cosh_bilevel(noise=1.0)
    x = X0
    err_refine, err_sgd = [], []
    for s in range(40):
        y_r = br.refine_lower(P, x, np.zeros(2), 1 / P.L_g, 100, np.random.default_rng(s))
        y_s = br.sgd_lower(P, x, np.zeros(2), 1 / P.L_g, 100, np.random.default_rng(s))
        err_refine.append(np.linalg.norm(y_r - P.y_star(x)))
        err_sgd.append(np.linalg.norm(y_s - P.y_star(x)))
    assert np.mean(err_refine) < 0.5 * np.mean(err_sgd)
    y0 = br.refine_lower(P.with_noise(0.0), x, np.zeros(2), 1 / P.L_g, 100, np.random.default_rng(0))
    # without noise the averaging leaves a small bias from the first epoch
    assert np.linalg.norm(y0 - P.y_star(x)) < 1e-3 * np.linalg.norm(P.y_star(x))


def test_bo_rep_matches_a_naive_loop_without_noise():
    P = br.cosh_bilevel(noise=0.0)
    run = br.bo_rep(P, X0, eta=0.05, beta=0.9, period=3, n_lower=4, t0_refine=20, steps=40)
    y = br.refine_lower(P, X0, np.zeros(2), 0.5, 20, np.random.default_rng(0))
    x, z, m = X0.copy(), np.zeros(2), np.zeros(2)
    for t in range(40):
        if t > 0 and t % 3 == 0:
            for _ in range(4):
                y = y - 0.5 * P.grad_g(x, y)[1]
        fx, fy = P.grad_f(x, y)
        z = z - 0.5 * (P.hess_yy_g(x, y) @ z - fy)
        h = fx - P.hess_xy_g(x, y) @ z
        m = 0.9 * m + 0.1 * h
        x = x - 0.05 * m / np.linalg.norm(m)
        np.testing.assert_allclose(run.xs[t + 1], x, rtol=1e-12)
    assert run.lower_calls[-1] == 20 + 4 * 13 and run.calls[-1] == run.lower_calls[-1] + 3 * 40


def test_aid_sgd_matches_a_naive_loop_without_noise():
    P = br.cosh_bilevel(noise=0.0)
    x0 = np.array([1.0, 0.5])
    run = br.aid_sgd(P, x0, alpha=0.05, n_lower=3, n_neumann=5, steps=30)
    x, y = x0.copy(), np.zeros(2)
    H = P.hess_yy_g(x, y)
    for t in range(30):
        for _ in range(3):
            y = y - 0.5 * P.grad_g(x, y)[1]
        fx, fy = P.grad_f(x, y)
        z = sum(np.linalg.matrix_power(np.eye(2) - H / P.L_g, q) @ fy for q in range(5)) / P.L_g
        x = x - 0.05 * (fx - P.hess_xy_g(x, y) @ z)
        np.testing.assert_allclose(run.xs[t + 1], x, rtol=1e-11)
    assert run.calls[-1] == 30 * (3 + 5 + 2)


# --------------------------------------------------------------------------- the claims

@pytest.mark.parametrize("seed", [0, 1])
def test_fixed_step_diverges_and_bo_rep_reaches_the_target(seed):
    P = br.cosh_bilevel()
    aid = br.aid_sgd(P, X0, alpha=0.1, steps=200, seed=seed)
    assert aid.info["diverged"] is not None and aid.info["diverged"] < 200
    assert not np.linalg.norm(aid.xs[-1]) <= 1e3                # blown up (or overflowed)
    every = br.bo_rep(P, X0, period=1, steps=400, seed=seed)
    periodic = br.bo_rep(P, X0, period=10, steps=400, seed=seed)
    t1, t10 = first_hit(P, every), first_hit(P, periodic)
    assert t1 is not None and t10 is not None and t10 <= 1.3 * t1
    # lower-level calls after the shared initialization refinement
    ratio = (periodic.lower_calls[t10] - 100) / (every.lower_calls[t1] - 100)
    assert ratio <= 0.15


def test_claims_on_a_second_instance():
    P = br.cosh_bilevel(W=((1.0, 1.0), (-1.0, 2.0)), mu=(1.0, 0.5), rho=1.0, a=(0.5, 0.5))
    x0 = np.array([3.0, -4.0])
    assert 2 / np.linalg.eigvalsh(P.hess_phi(P.x_star))[-1] > 0.1    # 0.1 is safe near x*
    for seed in (0, 1):
        assert br.aid_sgd(P, x0, alpha=0.1, steps=200, seed=seed).info["diverged"] is not None
        run = br.bo_rep(P, x0, steps=2000, seed=seed)
        assert run.info["diverged"] is None and first_hit(P, run) is not None


def test_safe_fixed_step_shrinks_with_the_start_and_bo_rep_needs_no_tuning():
    P = br.cosh_bilevel()

    def largest_safe(r):
        return br.largest_safe_step(P, r * np.ones(2) / np.sqrt(2), np.geomspace(1.0, 1e-4, 9),
                                    steps=100, seeds=(0,))

    assert largest_safe(2.0) > 10 * largest_safe(6.0)
    assert br.largest_safe_step(P, X0, [1.0, 0.5], steps=50, seeds=(0,)) == 0.0
    for r in (2.0, 6.0):
        run = br.bo_rep(P, r * np.ones(2) / np.sqrt(2), steps=400)
        assert first_hit(P, run) is not None


def test_noise_free_bo_rep_settles_near_the_solution():
    P = br.cosh_bilevel(noise=0.0)
    run = br.bo_rep(P, X0, eta=0.01, steps=1500)
    assert np.median(P.grad_phi_norms(run.xs[-300:])) < 0.2


# --------------------------------------------------------------------------- bad inputs

@pytest.mark.parametrize("kw, match", [
    ({"eta": 0.0}, "eta must be"), ({"eta": -0.1}, "eta must be"),
    ({"beta": 1.0}, "beta must be in"), ({"beta": -0.1}, "beta must be in"),
    ({"period": 0}, "period must be an integer in"), ({"n_lower": 0}, "n_lower must be"),
    ({"steps": 0}, "steps must be"), ({"t0_refine": 0}, "t0_refine must be"),
    ({"nu": 0.0}, "nu must be"), ({"seed": -1}, "seed must be"),
])
def test_bo_rep_rejects_bad_parameters(kw, match):
    with pytest.raises(ValueError, match=match):
        br.bo_rep(br.cosh_bilevel(), X0, **kw)


def test_other_bad_inputs():
    with pytest.raises(ValueError, match="mu must be positive"):
        br.cosh_bilevel(mu=0.0)
    with pytest.raises(ValueError, match="mu must be positive"):
        br.cosh_bilevel(mu=(1.0, -0.5))
    with pytest.raises(ValueError, match="W must have shape"):
        br.cosh_bilevel(W=np.eye(3))
    with pytest.raises(ValueError, match="noise must be"):
        br.cosh_bilevel(noise=-1.0)
    with pytest.raises(ValueError, match="alpha must be"):
        br.aid_sgd(br.cosh_bilevel(), X0, alpha=0.0)
    with pytest.raises(ValueError, match="n_neumann must be"):
        br.aid_sgd(br.cosh_bilevel(), X0, n_neumann=0)
    with pytest.raises(ValueError, match="n_terms must be"):
        br.neumann_z(lambda v: v, [1.0], 1.0, 0)
    with pytest.raises(ValueError, match="x0 must have shape"):
        br.bo_rep(br.cosh_bilevel(), [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="problem must be a CoshBilevel"):
        br.bo_rep(object(), X0)
    with pytest.raises(ValueError, match="eta must be"):
        br.draw(eta=-1.0)


# --------------------------------------------------------------------------- determinism

def test_determinism():
    P = br.cosh_bilevel()
    a, b = br.bo_rep(P, X0, steps=300, seed=3), br.bo_rep(P, X0, steps=300, seed=3)
    np.testing.assert_array_equal(a.xs, b.xs)
    assert isinstance(a, History) and a.method == "BO-REP, I = 10"
    c = br.bo_rep(P, X0, steps=300, seed=4)
    assert not np.array_equal(a.xs, c.xs)
    d1, d2 = br.aid_sgd(P, X0, alpha=0.01, steps=50, seed=3), br.aid_sgd(P, X0, alpha=0.01, steps=50, seed=3)
    np.testing.assert_array_equal(d1.xs, d2.xs)
