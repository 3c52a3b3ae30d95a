"""Tests of paperlab.optim.masha (chapter ``masha-compressed-vi``, Beznosikov et al. 2022)."""
from __future__ import annotations

import numpy as np
import pytest

from paperlab.data import rng
from paperlab.optim import masha
from paperlab.optim.common import first_below


@pytest.fixture(scope="module")
def small():
    """A small instance for exact comparisons: M = 3 devices, d = 4 (D = 8)."""
    return masha.distributed_bilinear(3, 4, 0.5, coupling=1.0, heterogeneity=1.0, seed=7)


# --------------------------------------------------------------------------- naive references

def naive_masha(ops, gamma, tau, k, n_iter, seed, contractive):
    """Algorithms 1 and 2 of the paper written device by device, with the same random draws
    as the module: the coins first, then per iteration one row of uniform keys per device
    (Rand-k keeps the k smallest keys)."""
    M, D = ops.M, ops.dim
    g = rng(seed)
    coins = g.random(n_iter)
    F = [lambda z, m=m: ops.B[m] @ z + ops.q[m] for m in range(M)]
    z = np.zeros(D)
    w = z.copy()
    Fw = [F[m](w) for m in range(M)]
    e = [np.zeros(D) for _ in range(M)]
    errs, sent = [np.linalg.norm(z - ops.z_star)], [float(D)]
    for t in range(n_iter):
        zbar = tau * z + (1 - tau) * w
        zh = zbar - gamma * np.mean(Fw, axis=0)
        msgs = []
        if not contractive:
            keys = g.random((M, D))
        for m in range(M):
            diff = F[m](zh) - Fw[m]
            msg = np.zeros(D)
            if contractive:
                v = gamma * diff + e[m]
                top = np.argsort(-np.abs(v))[:k]
                msg[top] = v[top]
                e[m] = v - msg
            else:
                keep = np.argsort(keys[m])[:k]
                msg[keep] = diff[keep] * D / k
            msgs.append(msg)
        if contractive:
            z = zbar - gamma * np.mean(Fw, axis=0) - np.mean(msgs, axis=0)
        else:
            z = zbar - gamma * (np.mean(Fw, axis=0) + np.mean(msgs, axis=0))
        s = sent[-1] + k
        if coins[t] < 1 - tau:
            w = z.copy()
            Fw = [F[m](w) for m in range(M)]
            s += D
        sent.append(s)
        errs.append(np.linalg.norm(z - ops.z_star))
    return np.array(sent), np.array(errs)


# --------------------------------------------------------------------------- the problem

def test_operator_is_the_saddle_gradient_field(small):
    """F_m(x, y) = (grad_x f_m, -grad_y f_m), checked by central differences."""
    ops, d, lam = small, 4, 0.5
    g = rng(1)
    z = g.standard_normal(2 * d)
    A = ops.B[:, :d, d:]
    b, c = ops.q[:, :d], ops.q[:, d:]

    def f(m, z):
        x, y = z[:d], z[d:]
        return 0.5 * lam * x @ x + x @ A[m] @ y - 0.5 * lam * y @ y + b[m] @ x - c[m] @ y

    h = 1e-6
    for m in range(ops.M):
        grad = np.array([(f(m, z + h * e) - f(m, z - h * e)) / (2 * h) for e in np.eye(2 * d)])
        expected = np.r_[grad[:d], -grad[d:]]
        np.testing.assert_allclose(ops.local(z)[m], expected, atol=1e-7)


def test_solution_constants_and_heterogeneity():
    ops = masha.distributed_bilinear(seed=3)
    assert ops.M == 10 and ops.dim == 100
    np.testing.assert_allclose(ops.F(ops.z_star), 0.0, atol=1e-12)
    assert ops.mu == pytest.approx(1.0, abs=1e-12)            # the skew part adds nothing
    assert ops.L_bar <= ops.L_max and ops.L_bar > 3 * ops.mu
    # devices disagree at the solution: this is what stalls naive compression
    assert np.linalg.norm(ops.local(ops.z_star), axis=1).min() > 1.0


# --------------------------------------------------------------------------- compressors

def test_randk_is_unbiased_with_variance_d_over_k():
    g = rng(0)
    v = rng(1).standard_normal(20)
    draws = np.array([masha.randk(v, 5, g) for _ in range(20000)])
    assert np.all((draws != 0).sum(axis=1) == 5)
    for row in draws[:100]:                              # kept coordinates are scaled by D/k
        np.testing.assert_allclose(row[row != 0], 4.0 * v[row != 0], rtol=1e-15)
    np.testing.assert_allclose(draws.mean(axis=0), v, atol=0.06)
    second = (draws ** 2).sum(axis=1).mean()
    assert second == pytest.approx(4.0 * v @ v, rel=0.03)


def test_randk_rows_are_independent_and_shapes_kept():
    V = np.ones((50, 10))
    out = masha.randk(V, 3, rng(2))
    assert out.shape == V.shape and np.all((out != 0).sum(axis=1) == 3)
    assert len({tuple(np.flatnonzero(r)) for r in out}) > 20
    assert masha.randk(np.arange(1.0, 6.0), 5, rng(0)).tolist() == [1, 2, 3, 4, 5]


def test_topk_keeps_the_largest_and_is_contractive():
    v = np.array([0.5, -3.0, 2.0, 0.1, -2.5])
    np.testing.assert_array_equal(masha.topk(v, 2), [0, -3.0, 0, 0, -2.5])
    V = rng(4).standard_normal((30, 40))
    C = masha.topk(V, 7)
    assert np.all((C != 0).sum(axis=1) == 7)
    lhs = ((C - V) ** 2).sum(axis=1)
    assert np.all(lhs <= (1 - 7 / 40) * (V ** 2).sum(axis=1) + 1e-12)
    # ties at the k-th magnitude: still exactly k coordinates
    assert (masha.topk(np.ones(6), 2) != 0).sum() == 2


# --------------------------------------------------------------------------- the methods

@pytest.mark.parametrize("contractive", [False, True])
@pytest.mark.parametrize("tau,k", [(0.7, 3), (0.0, 8), (0.95, 1)])
def test_masha_matches_a_device_by_device_loop(small, contractive, tau, k):
    run = masha.masha2 if contractive else masha.masha1
    gamma = 0.15
    curve = run(small, None, gamma, tau, k, 40, seed=5, tol=0.0)
    sent, errs = naive_masha(small, gamma, tau, k, 40, 5, contractive)
    np.testing.assert_allclose(curve.error, errs, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(curve.cost, sent)


def test_without_compression_and_with_a_fresh_anchor_masha_is_extragradient(small):
    """k = D (Rand-D and Top-D are the identity) and tau = 0 (w = z every iteration)."""
    D, gamma = small.dim, 0.2
    eg = masha.extragradient(small, None, gamma, 30, tol=0.0)
    for run in (masha.masha1, masha.masha2):
        c = run(small, None, gamma, 0.0, D, 30, seed=1, tol=0.0)
        np.testing.assert_allclose(c.error, eg.error, rtol=1e-10, atol=1e-13)
        # the same floats, plus the initial F_m(w^0)
        np.testing.assert_array_equal(c.cost[1:], D + eg.cost[1:])


def test_extragradient_matches_its_closed_form(small):
    """For affine F, EG is z+ - z* = (I - gamma Bbar + gamma^2 Bbar^2)(z - z*)."""
    Bb, gamma = small.B.mean(axis=0), 0.3
    T = np.eye(small.dim) - gamma * Bb + gamma**2 * Bb @ Bb
    r = -small.z_star
    expected = [np.linalg.norm(r)]
    for _ in range(25):
        r = T @ r
        expected.append(np.linalg.norm(r))
    curve = masha.extragradient(small, None, gamma, 25, tol=0.0)
    np.testing.assert_allclose(curve.error, expected, rtol=1e-10)
    assert curve.cost[-1] == 25 * 2 * small.dim


def test_compressed_extragradient_matches_a_loop(small):
    g, k, gamma = rng(3), 2, 0.1
    z = np.zeros(small.dim)
    errs = [np.linalg.norm(z - small.z_star)]
    for _ in range(20):
        q1 = masha.randk(small.local(z), k, g).mean(axis=0)
        zh = z - gamma * q1
        z = z - gamma * masha.randk(small.local(zh), k, g).mean(axis=0)
        errs.append(np.linalg.norm(z - small.z_star))
    curve = masha.compressed_extragradient(small, None, gamma, k, 20, seed=3, tol=0.0)
    np.testing.assert_allclose(curve.error, errs, rtol=1e-12)
    np.testing.assert_array_equal(curve.cost, 2 * k * np.arange(21))


def test_divergence_is_detected_not_raised(small):
    curve = masha.extragradient(small, None, 50.0, 500)
    assert curve.info["diverged"] and curve.info["iterations"] < 500
    assert first_below(curve, 1e-6) == float("inf")


# --------------------------------------------------------------------------- the claims

@pytest.mark.parametrize("problem_seed", [1])
def test_claims_on_a_second_instance(problem_seed):
    """The chapter's checks on another random problem, at the chapter's tuned settings."""
    eg = min(masha.tuning_grid("EG", problem_seed=problem_seed).values())
    m1 = first_below(masha.run("MASHA1", 1.4, 0.2, problem_seed=problem_seed, seed=3), 1e-6)
    m2 = masha.run("MASHA2", 1.0, 0.1, problem_seed=problem_seed, seed=3)
    naive = masha.run("RandK-EG", 0.01, n_iter=4000, problem_seed=problem_seed)
    assert m1 <= 0.8 * eg, (m1, eg)
    assert m2.error[-1] <= 1e-12 and not m2.info["diverged"]       # linear, to machine level
    assert naive.error[2000:].min() > 0.1
    # at extragradient's own step size the naive method does not even start to converge
    assert masha.run("RandK-EG", 1.0, n_iter=2000, problem_seed=problem_seed).error.min() > 1.0


# --------------------------------------------------------------------------- bad inputs

def test_bad_inputs(small):
    D = small.dim
    for k in (0, D + 1):
        with pytest.raises(ValueError, match=r"k must be an integer in \[1, 8\]"):
            masha.masha1(small, None, 0.1, 0.5, k, 5)
        with pytest.raises(ValueError, match=r"k must be an integer in \[1, 8\]"):
            masha.topk(np.ones(D), k)
    for tau in (1.0, -0.1, np.nan):
        with pytest.raises(ValueError, match="tau must be"):
            masha.masha2(small, None, 0.1, tau, 2, 5)
    for gamma in (0.0, -1.0, np.inf):
        with pytest.raises(ValueError, match="gamma must be"):
            masha.extragradient(small, None, gamma, 5)
    with pytest.raises(ValueError, match=r"z0 must have shape \(8\), got \(10,\)"):
        masha.masha1(small, np.zeros(D + 2), 0.1, 0.5, 2, 5)
    with pytest.raises(ValueError, match=r"q must have shape \(M, D\) = \(3, 8\)"):
        masha.DistributedVI(small.B, small.q[:, :5])
    with pytest.raises(ValueError, match=r"B must have shape \(M, D, D\)"):
        masha.DistributedVI(small.B[:, :, :5], small.q)
    with pytest.raises(ValueError, match="ops must be a DistributedVI"):
        masha.masha1(np.eye(3), None, 0.1, 0.5, 1, 5)
    with pytest.raises(ValueError, match="rng must be a numpy Generator"):
        masha.randk(np.ones(4), 2, 0)
    with pytest.raises(ValueError, match="lam must be"):
        masha.distributed_bilinear(lam=0.0)
    with pytest.raises(ValueError, match="method must be one of"):
        masha.run("Adam", 1.0)
    with pytest.raises(ValueError, match="p must be None"):
        masha.run("EG", 1.0, 0.2)
    with pytest.raises(ValueError, match="needs the refresh probability"):
        masha.run("MASHA1", 1.0)
    with pytest.raises(ValueError, match="compressor must be one of"):
        masha.draw(compressor="QSGD")


# --------------------------------------------------------------------------- determinism

def test_determinism(small):
    a = masha.masha1(small, None, 0.1, 0.8, 2, 200, seed=9)
    b = masha.masha1(small, None, 0.1, 0.8, 2, 200, seed=9)
    np.testing.assert_array_equal(a.error, b.error)
    masha._run.cache_clear()
    first = dict(masha.tuning_grid("MASHA1", ps=(0.2,), cs=(1.4,)))
    masha._run.cache_clear()
    assert dict(masha.tuning_grid("MASHA1", ps=(0.2,), cs=(1.4,))) == first
    with pytest.raises(TypeError):
        masha.tuning_grid("EG")[(None, 1.0)] = 0.0                 # read-only
