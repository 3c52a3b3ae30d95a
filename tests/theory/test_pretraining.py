"""Tests of paperlab.theory.pretraining (chapter pretraining-advantage)."""
import numpy as np
import pytest
from matplotlib.figure import Figure
from scipy.stats import multivariate_normal, ortho_group

from paperlab import plotting
from paperlab.theory import pretraining as pt
from paperlab.theory.common import ridge, slope_interval


def _loglik(X, B, s2):
    d = X.shape[1]
    return multivariate_normal(np.zeros(d), B @ B.T + s2 * np.eye(d)).logpdf(X).sum()


# ----------------------------------------------------------------------------- pretraining

def test_ppca_on_the_exact_covariance_recovers_the_model_up_to_rotation():
    rng = np.random.default_rng(0)
    B = 0.5 * rng.standard_normal((12, 3))
    Sigma = B @ B.T + 0.7 * np.eye(12)
    B_hat, s2 = pt.ppca_from_covariance(Sigma, 3)
    assert s2 == pytest.approx(0.7)
    np.testing.assert_allclose(B_hat @ B_hat.T, B @ B.T, atol=1e-10)
    # same column space, different basis: only B B^T is identifiable
    Q = np.linalg.lstsq(B, B_hat, rcond=None)[0]
    np.testing.assert_allclose(Q.T @ Q, np.eye(3), atol=1e-10)


def test_ppca_mle_maximizes_the_likelihood():
    X, _, B, _ = pt.sample_factor_model(10, 2, 400, scale=0.6, seed=3)
    B_hat, s2 = pt.ppca_mle(X, 2)
    best = _loglik(X, B_hat, s2)
    assert best >= _loglik(X, B, 1.0)                      # better than the truth on this sample
    rng = np.random.default_rng(1)
    for _ in range(20):                                     # and than any nearby model
        Bp = B_hat + 0.02 * rng.standard_normal(B_hat.shape)
        sp = s2 * np.exp(0.02 * rng.standard_normal())
        assert _loglik(X, Bp, sp) <= best + 1e-9


def test_ppca_is_consistent():
    X, _, B, _ = pt.sample_factor_model(20, 3, 200_000, scale=0.5, seed=2)
    B_hat, s2 = pt.ppca_mle(X, 3)
    assert s2 == pytest.approx(1.0, abs=0.01)
    assert np.abs(B_hat @ B_hat.T - B @ B.T).max() < 0.03


def test_ppca_batches():
    rng = np.random.default_rng(4)
    Cs = np.stack([np.cov(rng.standard_normal((40, 8)), rowvar=False) for _ in range(3)])
    Bs, s2s = pt.ppca_from_covariance(Cs, 2)
    for k in range(3):
        B, s2 = pt.ppca_from_covariance(Cs[k], 2)
        np.testing.assert_allclose(Bs[k] @ Bs[k].T, B @ B.T, atol=1e-12)
        assert s2s[k] == pytest.approx(s2)


# ----------------------------------------------------------------------------- representation

def test_posterior_mean_is_gaussian_conditioning():
    rng = np.random.default_rng(5)
    B = rng.standard_normal((9, 3))
    s2 = 0.4
    M = pt.posterior_map(B, s2)
    # E[z | x] = Cov(z, x) Cov(x)^-1 x = B^T (B B^T + s2 I)^-1 x
    np.testing.assert_allclose(M, B.T @ np.linalg.inv(B @ B.T + s2 * np.eye(9)), atol=1e-12)
    X = rng.standard_normal((4, 9))
    np.testing.assert_allclose(pt.posterior_features(X, B, s2), X @ M.T, atol=1e-12)


def test_erm_is_rotation_equivariant():
    """The 'informative up to a transformation' point: rotating B_hat changes nothing downstream."""
    X, y, _, _ = pt.sample_factor_model(15, 3, 60, seed=6)
    B_hat, s2 = pt.ppca_mle(X[:40], 3)
    Q = ortho_group.rvs(3, random_state=0)
    preds = []
    for Bq in (B_hat, B_hat @ Q):
        F = pt.posterior_features(X[40:], Bq, s2)
        preds.append(F @ pt.erm_linear(F, y[40:]))
    np.testing.assert_allclose(preds[0], preds[1], atol=1e-10)


def test_erm_linear_is_min_norm_least_squares_and_batches():
    rng = np.random.default_rng(7)
    F, y = rng.standard_normal((3, 6, 10)), rng.standard_normal((3, 6))   # n < k: min norm
    out = pt.erm_linear(F, y)
    for k in range(3):
        np.testing.assert_allclose(out[k], ridge(F[k], y[k]), atol=1e-10)
        np.testing.assert_allclose(out[k], np.linalg.pinv(F[k]) @ y[k], atol=1e-10)


def test_excess_risk_matches_monte_carlo():
    d, r = 8, 2
    X, y, B, beta = pt.sample_factor_model(d, r, 400_000, sigma_y=0.3, seed=8)
    Sigma = B @ B.T + np.eye(d)
    w_star = pt.posterior_map(B, 1.0).T @ beta
    w = w_star + 0.2 * np.random.default_rng(0).standard_normal(d)
    mc = np.mean((y - X @ w) ** 2) - np.mean((y - X @ w_star) ** 2)
    assert pt.excess_risk_linear(w, w_star, Sigma) == pytest.approx(mc, rel=0.03)


def test_representation_floor():
    rng = np.random.default_rng(9)
    B = rng.standard_normal((10, 3))
    Sigma = B @ B.T + np.eye(10)
    M = pt.posterior_map(B, 1.0)
    w_star = M.T @ rng.standard_normal(3)
    assert pt.representation_floor(M, w_star, Sigma) == pytest.approx(0.0, abs=1e-10)
    M_bad = pt.posterior_map(B + 0.3 * rng.standard_normal(B.shape), 1.0)
    floor = pt.representation_floor(M_bad, w_star, Sigma)
    # the floor is the minimum over beta: no beta does better, the projection attains it
    b = np.linalg.solve(M_bad @ Sigma @ M_bad.T, M_bad @ Sigma @ w_star)
    assert pt.excess_risk_linear(M_bad.T @ b, w_star, Sigma) == pytest.approx(floor)
    for _ in range(10):
        bb = b + 0.1 * rng.standard_normal(3)
        assert pt.excess_risk_linear(M_bad.T @ bb, w_star, Sigma) >= floor


def test_wishart_sums_have_the_right_law():
    rng = np.random.default_rng(10)
    A = rng.standard_normal((4, 4))
    Sigma = A @ A.T + np.eye(4)
    L = np.broadcast_to(np.linalg.cholesky(Sigma), (20000, 4, 4)).copy()
    for k in (3, 50):                      # drawn points, and the Bartlett decomposition
        W = pt._wishart(L, k, rng)
        np.testing.assert_allclose(W.mean(0), k * Sigma, rtol=0.03, atol=0.05 * k)
        # Var(W_ij) = k (Sigma_ij^2 + Sigma_ii Sigma_jj)
        var = k * (Sigma ** 2 + np.outer(np.diag(Sigma), np.diag(Sigma)))
        np.testing.assert_allclose(W.var(0), var, rtol=0.08)


# ----------------------------------------------------------------------------- the chapter's claim

def _check_claim(g):
    at320 = [g.median(m, 320) for m in (60, 200, 1000, 10000)]
    assert all(b <= 0.8 * a for a, b in zip(at320, at320[1:])), at320
    assert g.median(10000, 160) <= 0.25 * g.median(0, 160)
    idx = [g.ms.index(m) for m in (200, 1000, 10000)]
    s, lo, hi = slope_interval([200, 1000, 10000], g.floor[:, idx])
    assert -1.3 < lo and hi < -0.7


def test_claim_at_a_second_seed():
    _check_claim(pt.run_grid(seed=1))


def test_claim_at_seed_0_and_determinism():
    a, b = pt.run_grid(seed=0), pt.run_grid(seed=0)
    _check_claim(a)
    assert np.array_equal(a.excess, b.excess) and np.array_equal(a.oracle, b.oracle)
    assert np.array_equal(a.floor, b.floor, equal_nan=True)
    assert pt.experiment().table() == a.table()


def test_pretraining_approaches_the_oracle():
    g = pt.experiment()
    assert g.median(10000, 320) <= 1.5 * (np.median(g.oracle[:, -1]) + np.median(g.floor[:, -1]))


def test_draw_corner_cases():
    for params in ({}, {"m": 20, "r": 6, "scale": 1.0}, {"m": 10000, "r": 1, "scale": 0.1}):
        fig = pt.draw(**params)
        assert isinstance(fig, Figure)
        plotting.to_png(fig, dpi=30)
        plotting.close(fig)
    assert list(pt.SLIDERS)[0] == "m"


# ----------------------------------------------------------------------------- bad inputs

@pytest.mark.parametrize("r", [0, 50, 60, -1])
def test_bad_r(r):
    with pytest.raises(ValueError, match="r must be"):
        pt.run_grid(d=50, r=r, reps=1)
    with pytest.raises(ValueError, match="r must be"):
        pt.ppca_mle(np.ones((100, 50)), r)


def test_bad_m_and_n():
    with pytest.raises(ValueError, match="r \\+ 1"):
        pt.run_grid(d=10, r=3, ms=(0, 3), reps=1)
    with pytest.raises(ValueError, match="r \\+ 1"):
        pt.ppca_mle(np.random.default_rng(0).standard_normal((3, 10)), 3)
    with pytest.raises(ValueError, match="n must be"):
        pt.run_grid(d=10, r=2, ns=(0, 10), reps=1)
    with pytest.raises(ValueError, match="reps"):
        pt.run_grid(d=10, r=2, reps=0)


def test_degenerate_data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 2)) @ rng.standard_normal((2, 6))     # rank 2 data in R^6
    with pytest.raises(ValueError, match="s2_hat"):
        pt.ppca_mle(X, 2)
    with pytest.raises(ValueError, match="s2_hat"):
        pt.ppca_from_covariance(np.zeros((5, 5)), 1)


def test_other_bad_inputs():
    with pytest.raises(ValueError, match="finite"):
        pt.ppca_mle(np.full((10, 4), np.nan), 1)
    with pytest.raises(ValueError, match="square"):
        pt.ppca_from_covariance(np.ones((3, 4)), 1)
    with pytest.raises(ValueError, match="s2"):
        pt.posterior_map(np.ones((4, 2)), 0.0)
    with pytest.raises(ValueError, match="rows"):
        pt.posterior_features(np.ones((3, 4)), np.ones((5, 2)), 1.0)
    with pytest.raises(ValueError, match="shape"):
        pt.excess_risk_linear(np.ones(3), np.ones(4), np.eye(3))
    with pytest.raises(ValueError, match="F must be"):
        pt.erm_linear(np.ones((5, 2)), np.ones(4))
    with pytest.raises(ValueError, match="m must be"):
        pt.draw(m=5)
    with pytest.raises(ValueError, match="simulated"):
        pt.experiment().median(7)
