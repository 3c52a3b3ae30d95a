"""Tests of paperlab.theory.binary_continual (chapter variational-continual-binary)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from paperlab.theory import binary_continual as bc

RNG = np.random.default_rng(11)


def _small(N=41, P=60, rho=0.5, seed=0):
    T1, T2 = bc.make_teachers(N, rho, seed)
    X, y = bc.make_task(T1, P, seed + 1)
    return T1, T2, X, y


# ----------------------------------------------------------------------------- building blocks

def test_teachers_and_tasks():
    T1, T2 = bc.make_teachers(20001, 0.5, seed=3)
    assert set(np.unique(T1)) == {-1.0, 1.0}
    assert np.mean(T1 * T2) == pytest.approx(0.5, abs=0.02)
    same = bc.make_teachers(101, 1.0)
    assert np.array_equal(*same)
    opp = bc.make_teachers(101, -1.0)
    assert np.array_equal(opp[0], -opp[1])
    X, y = bc.make_task(T1[:101], 30, seed=2)
    assert X.shape == (30, 101) and np.array_equal(y, np.sign(X @ T1[:101]))


def test_field_moments_match_sampling_from_q():
    """Under q, h = w.x / sqrt(N) has mean sum m x / sqrt(N) and variance sum (1 - m^2) / N."""
    N = 51
    m = np.tanh(RNG.standard_normal(N))
    x = RNG.choice((-1.0, 1.0), size=(1, N))
    mu, v = bc.field_moments(x, m)
    w = np.where(RNG.random((200_000, N)) < (1 + m) / 2, 1.0, -1.0)
    h = w @ x[0] / math.sqrt(N)
    assert h.mean() == pytest.approx(mu[0], abs=0.01)
    assert h.var() == pytest.approx(v, rel=0.02)


def test_kl_fields_matches_the_magnetisation_form():
    t, t0 = RNG.standard_normal(30) * 2, RNG.standard_normal(30) * 2
    m, m0 = np.tanh(t), np.tanh(t0)
    direct = np.sum((1 + m) / 2 * np.log((1 + m) / (1 + m0)) + (1 - m) / 2 * np.log((1 - m) / (1 - m0)))
    assert bc.kl_fields(t, t0) == pytest.approx(direct, rel=1e-10)
    assert bc.kl_fields(t0, t0) == pytest.approx(0.0, abs=1e-12)
    # uniform prior: KL = N log 2 - entropy; finite even for saturated fields
    assert bc.kl_fields(np.full(3, 10.0), np.zeros(3)) == pytest.approx(3 * math.log(2), rel=1e-6)


def test_kl_is_locally_the_ewc_quadratic():
    t0 = RNG.standard_normal(20)
    d = 1e-3 * RNG.standard_normal(20)
    quad = 0.5 * np.sum((1 - np.tanh(t0) ** 2) * d ** 2)
    assert bc.kl_fields(t0 + d, t0) == pytest.approx(quad, rel=1e-2)


@pytest.mark.parametrize("penalty", ["kl", "ewc"])
def test_gradient_matches_finite_differences(penalty):
    T1, T2, X, y = _small()
    t0 = RNG.standard_normal(T1.size)
    t = t0 + 0.5 * RNG.standard_normal(T1.size)
    g = bc.free_energy_grad(t, X, y, t0, beta=2.0, penalty=penalty)
    eps = 1e-6
    for i in (0, 7, 40):
        e = np.zeros_like(t)
        e[i] = eps
        num = (bc.free_energy(t + e, X, y, t0, 2.0, penalty) - bc.free_energy(t - e, X, y, t0, 2.0, penalty)) / (2 * eps)
        assert g[i] == pytest.approx(num, rel=1e-5, abs=1e-7)


def test_kl_gradient_is_theta_minus_theta_prev():
    """Eq. (4): dKL/dm = theta - theta0, so dKL/dtheta = (theta - theta0)(1 - m^2)."""
    T1, T2, X, y = _small()
    t0, t = RNG.standard_normal(T1.size), RNG.standard_normal(T1.size)
    g_data = bc.free_energy_grad(t, X, y, t0, beta=0.0)
    g = bc.free_energy_grad(t, X, y, t0, beta=3.0)
    np.testing.assert_allclose(g - g_data, 3.0 * (t - t0) * (1 - np.tanh(t) ** 2), atol=1e-12)


def test_training_lowers_the_free_energy_and_batches_agree():
    T1, T2, X, y = _small()
    t0 = bc.train_fields(X, y, None, 1.0, steps=100, seed=1)
    X2, y2 = bc.make_task(T2, 60, seed=5)
    start = bc.free_energy(t0, X2, y2, t0, 1.0)
    single = bc.train_fields(X2, y2, t0, 1.0, steps=100)
    assert bc.free_energy(single, X2, y2, t0, 1.0) < start
    batch = bc.train_fields(X2, y2, t0, [0.0, 1.0, 1.0], steps=100, penalty=["kl", "kl", "ewc"])
    assert batch.shape == (3, T1.size)
    np.testing.assert_allclose(batch[1], single, atol=1e-10)
    assert not np.allclose(batch[2], single)
    assert np.all(np.abs(batch) <= bc.CLIP)


def test_overlap_error_and_theory():
    T = np.where(RNG.random(401) < 0.5, 1.0, -1.0)
    assert bc.overlap(T, T) == 1.0 and bc.overlap(-T, T) == -1.0
    assert bc.test_error(T, T) == 0.0 and bc.test_error(-T, T) == 1.0
    flip = T.copy()
    flip[:100] *= -1                           # R = 201/401
    R = bc.overlap(flip, T)
    assert R == pytest.approx(201 / 401)
    assert bc.test_error(flip, T, n_test=20_000) == pytest.approx(bc.predicted_error(R), abs=0.015)
    assert bc.predicted_error(0.0) == pytest.approx(0.5)


# ----------------------------------------------------------------------------- the chapter's claim

def _check_claim(run: bc.ContinualRun) -> None:
    b = list(run.betas)
    idx = [b.index(x) for x in (0.0, 1.0, 3.0, 10.0)]
    e1, e2 = run.err1["kl"][idx], run.err2["kl"][idx]
    assert e1[0] - run.err1_task1 >= 0.1
    assert np.all(np.diff(e1) <= 0.02) and np.all(np.diff(e2) >= -0.02)
    assert run.max_theory_gap() < 0.03


def test_claim_at_a_second_seed():
    _check_claim(bc.continual_run(N=401, alpha=2.0, rho=0.5, betas=(0.0, 1.0, 3.0, 10.0),
                                  penalties=("kl",), seed=1))


def test_ewc_protects_less_at_equal_weight():
    run = bc.continual_run(N=201, alpha=2.0, rho=0.5, betas=(1.0, 3.0), steps=300, seed=2)
    assert np.all(run.err1["ewc"] > run.err1["kl"])


def test_determinism():
    a = bc.continual_run(N=101, alpha=1.0, betas=(0.0, 1.0), steps=50, seed=4)
    b = bc.continual_run(N=101, alpha=1.0, betas=(0.0, 1.0), steps=50, seed=4)
    for p in a.err1:
        assert np.array_equal(a.err1[p], b.err1[p]) and np.array_equal(a.theta2[p], b.theta2[p])


# ----------------------------------------------------------------------------- bad inputs

def test_bad_inputs():
    T1, T2, X, y = _small()
    with pytest.raises(ValueError, match="N must be"):
        bc.make_teachers(1, 0.5)
    with pytest.raises(ValueError, match="rho must be"):
        bc.make_teachers(11, 1.5)
    with pytest.raises(ValueError, match="rho must be"):
        bc.continual_run(N=11, rho=-1.2)
    with pytest.raises(ValueError, match="alpha must be"):
        bc.continual_run(N=11, alpha=0.0)
    with pytest.raises(ValueError, match="N must be"):
        bc.continual_run(N=1)
    with pytest.raises(ValueError, match="beta must be"):
        bc.train_fields(X, y, None, -0.1)
    with pytest.raises(ValueError, match="beta must be"):
        bc.continual_run(N=11, betas=(1.0, -1.0))
    with pytest.raises(ValueError, match=r"\+1/-1"):
        bc.train_fields(X * 0.5, y, None, 1.0)
    with pytest.raises(ValueError, match="labels"):
        bc.train_fields(X, y * 2, None, 1.0)
    with pytest.raises(ValueError, match="labels"):
        bc.train_fields(X, y[:-1], None, 1.0)
    with pytest.raises(ValueError, match="theta_prev must have"):
        bc.train_fields(X, y, np.zeros(5), 1.0)
    with pytest.raises(ValueError, match="penalty"):
        bc.train_fields(X, y, None, 1.0, penalty="l2")
    with pytest.raises(ValueError, match="T must be"):
        bc.make_task(np.array([1.0, 0.0, -1.0]), 5)
    with pytest.raises(ValueError, match="R must lie"):
        bc.predicted_error(1.5)
    with pytest.raises(ValueError, match="finite"):
        bc.train_fields(X, y, np.full(T1.size, np.nan), 1.0)
