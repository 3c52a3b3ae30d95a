"""Tests of paperlab.generative.rae_score (chapter rae-learns-score)."""
from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from paperlab import plotting
from paperlab.generative import rae_score as R

C = R.centers_grid(60)
RNG = np.random.default_rng(2024)


# ----------------------------------------------------------------------------- the pieces

def test_rbf_basis_and_its_derivative():
    x = np.linspace(-4, 4, 37)
    phi, dphi = R.rbf_basis(x, C, 0.35)
    assert phi.shape == dphi.shape == (37, 60)
    np.testing.assert_allclose(phi[:, 7], np.exp(-(x - C[7]) ** 2 / (2 * 0.35**2)), atol=1e-25)
    h = 1e-6
    fd = (R.rbf_basis(x + h, C, 0.35)[0] - R.rbf_basis(x - h, C, 0.35)[0]) / (2 * h)
    np.testing.assert_allclose(dphi, fd, atol=1e-6)


def test_true_score_matches_finite_differences():
    x = np.linspace(-4, 4, 21)
    for s in (0.0, 0.3):
        g = R.density() if s == 0 else R.density().diffuse(1.0, s)
        h = 1e-5
        fd = (g.log_prob((x + h)[:, None]) - g.log_prob((x - h)[:, None])) / (2 * h)
        np.testing.assert_allclose(R.true_score(x, s), fd, atol=1e-6)
    np.testing.assert_allclose(R._score_1d(x), R.true_score(x), atol=1e-12)


def test_quadrature_is_an_expectation():
    x, w = R.quadrature()
    assert w.sum() == pytest.approx(1.0)
    g = R.density()
    mean = float(g.weights @ g.means[:, 0])
    assert float(w @ x) == pytest.approx(mean, abs=1e-6)   # mass beyond [-6, 6] ~ 1e-8
    assert float(w @ R.true_score(x)) == pytest.approx(0.0, abs=1e-6)  # E_p[score] = 0


def test_cae_closed_form_equals_stacked_least_squares():
    """J(w) = ||Phi w||^2_W + sigma^2 ||1 + Phi' w||^2_W is least squares on a stacked system."""
    x = R.density().sample(500, seed=3)[:, 0]
    c = R.centers_grid(15)
    for sigma in (0.1, 0.4):
        est = R.fit_cae_score(x, sigma, c, 0.6, ridge=0.0)
        phi, dphi = R.rbf_basis(x, c, 0.6)
        A = np.vstack([phi, sigma * dphi]) / np.sqrt(x.size)
        b = np.concatenate([np.zeros(x.size), -sigma * np.ones(x.size)]) / np.sqrt(x.size)
        w_ls = np.linalg.lstsq(A, b, rcond=None)[0]
        np.testing.assert_allclose(est.w, w_ls, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(est(x), phi @ w_ls / sigma**2, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(est.reconstruct(x), x + phi @ w_ls, atol=1e-10)


def test_dae_equals_least_squares_on_corrupted_copies():
    x = R.density().sample(300, seed=4)[:, 0]
    c = R.centers_grid(12)
    est = R.fit_dae_score(x, 0.3, c, 0.7, n_noise=5, seed=9, ridge=0.0)
    e = np.random.default_rng([9, 74]).standard_normal((300, 5))
    xt = (x[:, None] + 0.3 * e).ravel()
    phi = R.rbf_basis(xt, c, 0.7)[0]
    w_ls = np.linalg.lstsq(phi, np.repeat(x, 5) - xt, rcond=None)[0]
    np.testing.assert_allclose(est.w, w_ls, rtol=1e-6, atol=1e-9)


def test_dae_quadrature_recovers_the_smoothed_score():
    """Tweedie: the denoising optimum is the score of p * N(0, sigma^2), up to the basis error."""
    x, w = R.quadrature()
    for sigma in (0.05, 0.2, 0.4):
        est = R.fit_dae_score(x[::4], sigma, C, R.WIDTH, n_noise=12, weights=w[::4])
        assert R.score_error(est, sigma_ref=sigma) < 0.005
    # a finer rule changes nothing: the quadrature has converged
    a = R.fit_dae_score(x[::6], 0.1, C, R.WIDTH, n_noise=10, weights=w[::6])
    b = R.fit_dae_score(x, 0.1, C, R.WIDTH, n_noise=24, weights=w)
    assert abs(R.score_error(a) - R.score_error(b)) < 1e-6


def test_cae_limit_is_the_projection_of_the_score():
    """Integration by parts, g = E[Phi'] = -E[Phi s], makes the sigma -> 0 limit
    -Phi G^{-1} g the L2(p) projection of the score on the basis: its error is the basis error."""
    x, w = R.quadrature()
    phi, dphi = R.rbf_basis(x, C, R.WIDTH)
    np.testing.assert_allclose(dphi.T @ w, -(phi.T @ (w * R.true_score(x))), atol=1e-7)
    sw = np.sqrt(w)
    proj = phi @ np.linalg.lstsq(sw[:, None] * phi, sw * R.true_score(x), rcond=1e-12)[0]
    floor = np.sqrt(np.sum(w * (proj - R.true_score(x)) ** 2))
    assert floor < 0.005
    # the Gram matrix has condition number ~1e17: a tiny ridge is needed to reach the floor
    assert R.score_error(R.fit_cae_score(x, 1e-4, C, R.WIDTH, weights=w, ridge=1e-13)) < 1.5 * floor
    assert R.score_error(R.fit_cae_score(x, 1e-4, C, R.WIDTH, weights=w)) < 0.005


def test_loglog_slope():
    s = np.array([0.05, 0.1, 0.2])
    assert R.loglog_slope(s, 3 * s**2) == pytest.approx(2.0)


def test_mh_with_the_exact_score_samples_a_gaussian():
    chain = R.approx_mh(lambda x: -x, 0.0, n_steps=20000, step=2.0, seed=5)
    assert chain.shape == (20001,) and chain[0] == 0.0
    assert abs(chain.mean()) < 0.1 and abs(chain.var() - 1.0) < 0.1


def test_mh_trapezoid_is_exact_for_a_linear_score():
    """For a linear score the trapezoid rule is exact: the chain equals exact Metropolis."""
    a = R.approx_mh(lambda x: -x, 0.3, n_steps=500, step=1.0, seed=1, n_quad=1)
    b = R.approx_mh(lambda x: -x, 0.3, n_steps=500, step=1.0, seed=1, n_quad=16)
    np.testing.assert_array_equal(a, b)


def test_tv_of_exact_samples_is_small():
    x = R.density().sample(50_000, seed=0)[:, 0]
    assert R.tv_to_density(x) < 0.02
    assert R.tv_to_density(np.full(100, 7.0)) == pytest.approx(1.0, abs=1e-4)


# ----------------------------------------------------------------------------- the chapter's claim

def _check_claim(e: R.Experiment) -> None:
    for method in ("contractive", "denoising"):
        assert 1.4 <= e.slopes[method, "quadrature"] <= 2.4
        assert e.errors[method, "quadrature"][0] < 0.03
    assert e.tv < 0.1


def test_claim_at_a_second_instance():
    """A finer basis (K = 80) and a second chain seed."""
    _check_claim(R.experiment(seed=1, n_basis=80))


def test_error_shrinks_like_sigma_squared_until_the_basis_floor():
    x, w = R.quadrature()
    errs = [R.score_error(R.fit_cae_score(x, s, C, R.WIDTH, weights=w)) for s in (0.2, 0.1, 0.05)]
    assert 3.0 < errs[0] / errs[1] < 4.5 and 3.0 < errs[1] / errs[2] < 4.5


def test_determinism():
    a = R.experiment.__wrapped__(seed=2, n_basis=30, mh_steps=300)
    b = R.experiment.__wrapped__(seed=2, n_basis=30, mh_steps=300)
    assert a.slopes == b.slopes and a.tv == b.tv
    np.testing.assert_array_equal(a.chain, b.chain)
    for k in a.errors:
        np.testing.assert_array_equal(a.errors[k], b.errors[k])


def test_draw_corner_cases():
    for params in ({}, {"sigma": 0.02, "n_basis": 10, "data": "n=200"},
                   {"sigma": 0.5, "n_basis": 100, "data": "n=2000"}):
        fig = R.draw(**params)
        assert isinstance(fig, Figure)
        plotting.to_png(fig, dpi=30)
        plotting.close(fig)
    assert list(R.SLIDERS)[0] == "sigma"


# ----------------------------------------------------------------------------- bad inputs

@pytest.mark.parametrize("sigma", [0.0, -0.1, float("nan"), "0.1"])
def test_bad_sigma(sigma):
    x = np.linspace(-1, 1, 100)
    with pytest.raises(ValueError, match="sigma"):
        R.fit_cae_score(x, sigma, C, 0.35)
    with pytest.raises(ValueError, match="sigma"):
        R.fit_dae_score(x, sigma, C, 0.35)


@pytest.mark.parametrize("width", [0.0, -1.0])
def test_bad_width(width):
    with pytest.raises(ValueError, match="width"):
        R.rbf_basis([0.0], C, width)
    with pytest.raises(ValueError, match="width"):
        R.fit_cae_score(np.zeros(100), 0.1, C, width)


def test_bad_centers_and_data():
    with pytest.raises(ValueError, match="centers"):
        R.fit_cae_score(np.zeros(100), 0.1, [], 0.35)
    with pytest.raises(ValueError, match="centers"):
        R.fit_dae_score(np.zeros(100), 0.1, np.zeros((3, 2)), 0.35)
    with pytest.raises(ValueError, match="data_or_grid"):
        R.fit_cae_score([], 0.1, C, 0.35)
    with pytest.raises(ValueError, match="weights"):
        R.fit_cae_score(np.zeros(10), 0.1, C, 0.35, weights=np.ones(3))
    with pytest.raises(ValueError, match="weights"):
        R.fit_cae_score(np.zeros(3), 0.1, C, 0.35, weights=[1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match="n_noise"):
        R.fit_dae_score(np.zeros(100), 0.1, C, 0.35, n_noise=0)
    with pytest.raises(ValueError, match="data"):
        R.fit("contractive", "n=50", 0.1)
    with pytest.raises(ValueError, match="method"):
        R.fit("sparse", "quadrature", 0.1)


def test_too_few_points_warns():
    x = R.density().sample(20, seed=0)[:, 0]
    with pytest.warns(UserWarning, match="20 points for 60 basis functions"):
        R.fit_cae_score(x, 0.1, C, 0.35, ridge=1e-3)
    with pytest.warns(UserWarning, match="basis functions"):
        R.fit_dae_score(x[:5], 0.1, C, 0.35, n_noise=2, ridge=1e-3)


def test_bad_mh_inputs():
    with pytest.raises(ValueError, match="step"):
        R.approx_mh(lambda x: -x, 0.0, step=0.0)
    with pytest.raises(ValueError, match="n_steps"):
        R.approx_mh(lambda x: -x, 0.0, n_steps=0)
    with pytest.raises(ValueError, match="x0"):
        R.approx_mh(lambda x: -x, float("inf"))
    with pytest.raises(ValueError, match="score_fn"):
        R.approx_mh(lambda x: np.full_like(x, np.nan), 0.0, n_steps=3)
