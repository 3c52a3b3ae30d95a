"""Tests of paperlab.optim.vr_halpern (chapter ``vr-halpern``, Cai, Alacaoglu and Diakonikolas 2024)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from paperlab.optim import vr_halpern as vh
from paperlab.optim.common import first_below


@pytest.fixture(scope="module")
def small():
    return vh.finite_sum_cocoercive(60, 6, seed=2)


# --------------------------------------------------------------------------- the operators

def test_full_and_batch_are_means_of_the_components(small):
    P = small
    u = np.linspace(-1, 1, 6)
    comps = np.array([P.component(i, u) for i in range(P.n)])
    np.testing.assert_allclose(P.full(u), comps.mean(axis=0), atol=1e-12)
    idx = np.array([3, 3, 17, 59])
    np.testing.assert_allclose(P.batch(u, idx), comps[idx].mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(P.full(P.u_star), 0.0, atol=1e-12)


def test_constants_bound_every_pair_and_are_attained(small):
    P = small
    g = np.random.default_rng(0)
    worst_bar = worst_F = 0.0
    for _ in range(300):
        u, v = 3 * g.standard_normal((2, P.d))
        lhs = np.mean([np.sum((P.component(i, u) - P.component(i, v)) ** 2) for i in range(P.n)])
        ip = (P.full(u) - P.full(v)) @ (u - v)
        assert ip > 0                                    # monotone (strictly, B is invertible)
        worst_bar = max(worst_bar, lhs / ip)
        worst_F = max(worst_F, np.sum((P.full(u) - P.full(v)) ** 2) / ip)
    assert worst_bar <= P.L_bar * (1 + 1e-10) and worst_F <= P.L_F * (1 + 1e-10)
    # attained along u - v = B^{-1} x with x the top eigenvector: the constants are exact
    IJ = np.eye(P.d) + P.J
    _, V = np.linalg.eigh(IJ.T @ P.B @ P.B.T @ IJ)
    delta = np.linalg.solve(P.B, V[:, -1])
    dF = P.full(delta) - P.full(0 * delta)
    ratio = np.sum(dF ** 2) / (dF @ delta)
    assert ratio == pytest.approx(P.L_F, rel=1e-9)
    assert P.L_F <= P.L_bar


def test_same_seed_gives_the_same_mean_problem_for_every_n():
    a, b = vh.finite_sum_cocoercive(100, seed=4), vh.finite_sum_cocoercive(900, seed=4)
    np.testing.assert_array_equal(a.u_star, b.u_star)
    u = np.ones(a.d)
    np.testing.assert_allclose(a.full(u), b.full(u), atol=1e-12)


# --------------------------------------------------------------------------- the methods

def naive_halpern(F, u0, L, steps):
    u, out = u0.copy(), [u0.copy()]
    for k in range(1, steps + 1):
        lam = 1.0 / (k + 1)
        u = lam * u0 + (1 - lam) * (u - F(u) / L)
        out.append(u.copy())
    return out


def test_halpern_matches_a_naive_loop_and_its_bound(small):
    P = small
    u0 = np.zeros(P.d)
    run = vh.halpern(P.full, u0, P.L_F, 40)
    ref = naive_halpern(P.full, u0, P.L_F, 39)
    np.testing.assert_allclose(run.error, [np.linalg.norm(P.full(u)) for u in ref], rtol=1e-10)
    np.testing.assert_allclose(run.info["u"], ref[-1], rtol=1e-10)
    assert run.cost.tolist() == list(range(1, 41))
    bound = vh.halpern_bound(np.arange(40), P.L_F, np.linalg.norm(u0 - P.u_star))
    assert np.all(run.error <= bound)


def test_halpern_bound_on_a_rotation_plus_a_ridge():
    """A non-gradient linear monotone operator with a closed-form constant."""
    A = np.array([[1.0, 2.0], [-2.0, 1.0]])        # cocoercive with L = ||A||^2 / 1 = 5
    F = lambda u: A @ u - np.array([1.0, 0.0])
    u_star = np.linalg.solve(A, [1.0, 0.0])
    run = vh.halpern(F, np.zeros(2), 5.0, 200)
    assert np.all(run.error <= vh.halpern_bound(np.arange(200), 5.0, np.linalg.norm(u_star)) + 1e-12)


def test_vr_halpern_with_p_one_is_halpern(small):
    P = small
    u0 = np.zeros(P.d)
    vr = vh.vr_halpern(P.full, P.batch, P.n, u0, P.L_F, 30, seed=1, p=1.0)
    h = vh.halpern(P.full, u0, P.L_F, 30)
    np.testing.assert_allclose(vr.error, h.error, rtol=1e-12)
    np.testing.assert_allclose(vr.cost, h.cost)
    assert np.all(vr.info["estimator_error"] == 0.0)


def test_vr_halpern_matches_a_naive_page_loop(small):
    P = small
    u0, b, p, L = np.zeros(P.d), 5, 0.2, P.L_bar
    run = vh.vr_halpern(P.full, P.batch, P.n, u0, L, 4.0, seed=7, batch=b, p=p)
    rng = np.random.default_rng(7)
    u, Ft, calls, k, us = u0.copy(), P.full(u0), P.n, 0, [u0]
    while calls < 4.0 * P.n:
        lam = 1.0 / (k + 2)
        new = lam * u0 + (1 - lam) * (u - Ft / L)
        if rng.random() < p:
            Ft, calls = P.full(new), calls + P.n
        else:
            S = rng.integers(0, P.n, b)
            Ft = Ft + sum(P.component(i, new) - P.component(i, u) for i in S) / b
            calls += 2 * b
        u, k = new, k + 1
        us.append(u)
    assert run.info["iterations"] == k
    np.testing.assert_allclose(run.error, [np.linalg.norm(P.full(v)) for v in us], rtol=1e-9)
    assert run.cost[-1] == pytest.approx(calls / P.n)


def test_minibatch_halpern_stalls_and_vr_does_not():
    runs = vh.comparison(n=1000, seeds=(0, 1), budget=60.0, halpern_budget=60)
    for mb, vr in zip(runs["mini-batch Halpern"], runs["VR-Halpern"]):
        tail = mb.error[mb.cost > 30]
        assert tail.min() > 0.03                  # the noise floor
        assert vr.error[-1] < 0.03
        assert np.median(mb.info["estimator_error"]) > 100 * np.median(vr.info["estimator_error"])


# --------------------------------------------------------------------------- the claims

def test_claims_at_a_second_instance():
    """op_seed = 1, seeds 5-9: VR-Halpern reaches 10 % in <= 1/4 of Halpern's epochs, and 1 %
    within 150 epochs and in at most half of Halpern's epochs."""
    runs = vh.comparison(n=1000, seeds=(5, 6, 7, 8, 9), op_seed=1)
    h = runs["Halpern"][0]
    vr10 = np.median([first_below(c, 0.1) for c in runs["VR-Halpern"]])
    assert vr10 <= 0.25 * first_below(h, 0.1)
    vr1 = max(first_below(c, 0.01) for c in runs["VR-Halpern"])
    assert vr1 <= 150 and vr1 <= 0.5 * first_below(h, 0.01), (vr1, first_below(h, 0.01))


def test_gain_grows_with_n():
    sc = vh.scaling(ns=(250, 4000), seeds=(0, 1, 2), op_seed=1)
    ratio = {n: v["Halpern"] / np.median(v["VR-Halpern"]) for n, v in sc.items()}
    assert ratio[4000] >= 2 * ratio[250], ratio          # sqrt(16) = 4 in theory


# --------------------------------------------------------------------------- bad inputs

def test_bad_inputs(small):
    P = small
    u0 = np.zeros(P.d)
    with pytest.raises(ValueError, match="L must be in"):
        vh.halpern(P.full, u0, 0.0, 10)
    with pytest.raises(ValueError, match="L_bar must be in"):
        vh.vr_halpern(P.full, P.batch, P.n, u0, -1.0, 10)
    for p in (0.0, 1.5, np.nan):
        with pytest.raises(ValueError, match="p must be"):
            vh.vr_halpern(P.full, P.batch, P.n, u0, 1.0, 10, p=p)
    with pytest.raises(ValueError, match=r"batch must be an integer in \[1, 60\]"):
        vh.vr_halpern(P.full, P.batch, P.n, u0, 1.0, 10, batch=61)
    with pytest.raises(ValueError, match=r"u0 does not fit the operator F_full: u must have shape"):
        vh.vr_halpern(P.full, P.batch, P.n, np.zeros(5), 1.0, 10)
    with pytest.raises(ValueError, match="u0 must have the operator's dimension"):
        vh.halpern(lambda u: np.zeros(3), np.zeros(2), 1.0, 10)
    with pytest.raises(ValueError, match="budget must be"):
        vh.halpern(P.full, u0, 1.0, 0)
    with pytest.raises(ValueError, match="spread must be in"):
        vh.finite_sum_cocoercive(10, spread=1.0)
    with pytest.raises(ValueError, match="n must be one of"):
        vh.draw(n=500)


def test_a_non_monotone_operator_warns():
    with pytest.warns(vh.NotMonotoneWarning, match="not monotone"):
        vh.halpern(lambda u: -u, np.ones(3), 1.0, 5)
    P = vh.finite_sum_cocoercive(20, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        vh.halpern(P.full, np.zeros(3), P.L_F, 5)


# --------------------------------------------------------------------------- determinism

def test_determinism(small):
    P = small
    a = vh.vr_halpern(P.full, P.batch, P.n, np.zeros(P.d), P.L_bar, 20, seed=3)
    b = vh.vr_halpern(P.full, P.batch, P.n, np.zeros(P.d), P.L_bar, 20, seed=3)
    np.testing.assert_array_equal(a.error, b.error)
    np.testing.assert_array_equal(a.cost, b.cost)
    vh._scaling.cache_clear()
    first = dict(vh.scaling(ns=(250,), seeds=(0,)))
    vh._scaling.cache_clear()
    assert dict(vh.scaling(ns=(250,), seeds=(0,))) == first
