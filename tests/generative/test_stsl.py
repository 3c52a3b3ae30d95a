"""Tests of paperlab.generative.stsl (chapter stsl-second-order-tweedie)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from paperlab.data import GaussianMixture
from paperlab.generative import stsl
from paperlab.generative.diffusion import gmm_score_fn

G2 = stsl.chapter_gmm()
RNG = np.random.default_rng(7)


def gaussian(S) -> GaussianMixture:
    S = np.asarray(S, dtype=float)
    return GaussianMixture([1.0], [np.zeros(len(S))], [S])


def test_torch_score_matches_the_numpy_score():
    sc = stsl.torch_gmm_score(G2)
    x = RNG.standard_normal((20, 2)) * 2
    for t in (0.05, 0.5, 0.95):
        np.testing.assert_allclose(sc(torch.as_tensor(x), t).numpy(), gmm_score_fn(G2)(x, t), atol=1e-12)


@pytest.mark.parametrize("gmm", [G2, stsl.gmm8d(0)])
def test_hessian_matches_finite_differences_of_the_score(gmm):
    mix = gmm.diffuse(0.8, 0.6)
    x = mix.sample(5, seed=1)
    H = stsl.gmm_hessian(mix, x)
    h = 1e-6
    for i in range(gmm.dim):
        e = np.zeros(gmm.dim)
        e[i] = h
        col = (mix.score(x + e) - mix.score(x - e)) / (2 * h)
        np.testing.assert_allclose(H[:, :, i], col, atol=1e-6)
    np.testing.assert_allclose(H, H.transpose(0, 2, 1), atol=1e-12)


def test_hutchinson_is_exact_on_a_gaussian_with_the_same_probes():
    """For a Gaussian, s is linear, so the finite difference is exact: the estimate is the mean
    of z^T H z over the probes z = eps / delta, whatever delta."""
    S = np.array([[0.5, 0.2], [0.2, 0.3]])
    sc = stsl.torch_gmm_score(gaussian(S))
    x = RNG.standard_normal((6, 2))
    mix = sc.marginal(0.5)
    H = -mix._prec[0]
    g = torch.Generator().manual_seed(3)
    z = np.stack([torch.randn(x.shape, generator=g, dtype=torch.float64).numpy() for _ in range(4)])
    want = np.einsum("pni,ij,pnj->n", z, H, z) / 4
    for delta in (1e-4, 0.3, 5.0):
        est = stsl.hutchinson_trace_fd(sc, x, 0.5, n_probes=4, delta=delta, seed=3)
        assert isinstance(est, np.ndarray)
        np.testing.assert_allclose(est, want, rtol=1e-6)
    xt = torch.as_tensor(x)
    out = stsl.hutchinson_trace_fd(sc, xt, 0.5, n_probes=4, delta=0.1, seed=3)
    assert isinstance(out, torch.Tensor)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-9)


def test_tweedie_moments_of_a_gaussian():
    """x_0 ~ N(0, S): x_0 | x_t is Gaussian with cov (S^-1 + a^2/s^2 I)^-1, mean cov a x_t / s^2."""
    S = np.array([[0.5, 0.2], [0.2, 0.3]])
    g = gaussian(S)
    a, s = 0.6, 0.8
    mix = g.diffuse(a, s)
    x = RNG.standard_normal((3, 2))
    mean, cov = stsl.tweedie_moments(mix.score, lambda z: stsl.gmm_hessian(mix, z), x, a, s)
    C = np.linalg.inv(np.linalg.inv(S) + (a * a / (s * s)) * np.eye(2))
    np.testing.assert_allclose(cov, np.broadcast_to(C, cov.shape), atol=1e-12)
    np.testing.assert_allclose(mean, x @ (a / s**2 * C).T, atol=1e-12)


def test_gmm_posterior_is_prior_times_likelihood():
    A, y, sy = np.array([[1.0, 0.5]]), np.array([0.7]), 0.3
    post = stsl.gmm_posterior(G2, A, y, sy)
    x = RNG.standard_normal((50, 2)) * 2
    diff = post.log_prob(x) - (G2.log_prob(x) - 0.5 * ((x @ A.T - y) ** 2).sum(1) / sy**2)
    assert np.ptp(diff) < 1e-9


# ----------------------------------------------------------------------------- the samplers

def test_eta_zero_is_psld_bit_for_bit_at_a_second_seed():
    sc = stsl.torch_gmm_score(G2)
    a = stsl.stsl_sample(sc, stsl.A_OBS, [-0.4], 0.1, n_steps=8, inner=3, eta=0.0, n=40, seed=5)
    b = stsl.psld_sample(sc, stsl.A_OBS, [-0.4], 0.1, n_steps=8, inner=3, n=40, seed=5)
    assert np.array_equal(a, b)
    c = stsl.stsl_sample(sc, stsl.A_OBS, [-0.4], 0.1, n_steps=8, inner=3, eta=0.5, n=40, seed=5)
    assert not np.array_equal(a, c)


def test_closed_form_gradient_equals_autograd():
    sc = stsl.torch_gmm_score(G2)
    for eta in (0.0, 0.3):
        a = stsl.stsl_sample(sc, stsl.A_OBS, [1.0], 0.1, n_steps=6, inner=2, eta=eta, n=30, seed=2)
        b = stsl.stsl_sample_gmm(G2, stsl.A_OBS, [1.0], 0.1, n_steps=6, inner=2, eta=eta, n=30, seed=2)
        np.testing.assert_allclose(a, b, atol=1e-9)


def test_the_trace_drift_is_minus_grad_trace():
    """The gradient of the estimator, averaged over probes, is grad Tr H: the STSL drift."""
    sc = stsl.torch_gmm_score(G2)
    x = torch.tensor(RNG.standard_normal((4, 2)), requires_grad=True)
    t = 0.4
    g = torch.Generator().manual_seed(0)
    # the probe average of the gradient of the estimator is grad Tr H
    est = stsl.hutchinson_trace_fd(sc, x, t, n_probes=4000, delta=1e-4, generator=g).sum()
    (grad,) = torch.autograd.grad(est, x)
    mix = sc.marginal(t)
    h = 1e-5
    num = np.zeros((4, 2))
    for i in range(2):
        e = np.zeros(2)
        e[i] = h
        tr = lambda z: np.trace(stsl.gmm_hessian(mix, z), axis1=1, axis2=2)  # noqa: E731
        num[:, i] = (tr(x.detach().numpy() + e) - tr(x.detach().numpy() - e)) / (2 * h)
    np.testing.assert_allclose(grad.numpy(), num, rtol=0.15, atol=0.15 * np.abs(num).max())


def test_samples_land_on_the_measurement():
    x = stsl.stsl_sample_gmm(G2, stsl.A_OBS, [1.5], 0.1, n=200, seed=0)
    assert abs(x[:, 0].mean() - 1.5) < 0.05
    m = stsl.posterior_metrics(x, stsl.gmm_posterior(G2, stsl.A_OBS, [1.5], 0.1))
    assert 0 <= m["mode_tv"] <= 1 and 0.3 < m["spread_ratio"] < 1.5


# ----------------------------------------------------------------------------- the chapter's claim

def _check_claim(trace: dict, tweedie_err) -> None:
    assert trace["rel_err_of_mean"] < 0.05
    assert 0.85 < trace["rms_err_over_theory"] < 1.15
    assert np.max(tweedie_err) < 0.05


@pytest.mark.parametrize("dim", [2, 8])
def test_claim_at_a_second_seed(dim):
    g = G2 if dim == 2 else stsl.gmm8d(1)
    for t in (0.1, 0.9):
        tr = stsl.trace_check(g, t, n_points=300, seed=1)
        a = float(gmm_score_fn(g).schedule.alpha(t))
        _, _, err = stsl.tweedie_check(g, t, a * g.means[:2], seed=1)
        _check_claim(tr, err)


def test_determinism():
    a = stsl.trace_check(G2, 0.5, n_points=100, n_probes=16, seed=4)
    b = stsl.trace_check(G2, 0.5, n_points=100, n_probes=16, seed=4)
    assert a == b
    x = stsl.stsl_sample_gmm(G2, stsl.A_OBS, [0.3], 0.1, n_steps=5, n=20, seed=4)
    assert np.array_equal(x, stsl.stsl_sample_gmm(G2, stsl.A_OBS, [0.3], 0.1, n_steps=5, n=20, seed=4))


# ----------------------------------------------------------------------------- bad inputs

def test_bad_inputs():
    sc = stsl.torch_gmm_score(G2)
    A = stsl.A_OBS
    with pytest.raises(ValueError, match="A and y do not match"):
        stsl.stsl_sample(sc, A, [1.0, 2.0], 0.1)
    with pytest.raises(ValueError, match="A and y do not match"):
        stsl.gmm_posterior(G2, A, [1.0, 2.0], 0.1)
    with pytest.raises(ValueError, match="columns"):
        stsl.gmm_posterior(G2, np.ones((1, 3)), [1.0], 0.1)
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError, match="sigma_y"):
            stsl.stsl_sample(sc, A, [1.0], bad)
    with pytest.raises(ValueError, match="eta"):
        stsl.stsl_sample(sc, A, [1.0], 0.1, eta=-0.1)
    with pytest.raises(ValueError, match="inner"):
        stsl.stsl_sample(sc, A, [1.0], 0.1, inner=0)
    with pytest.raises(ValueError, match="delta"):
        stsl.stsl_sample(sc, A, [1.0], 0.1, delta=0.0)
    with pytest.raises(ValueError, match="delta"):
        stsl.hutchinson_trace_fd(sc, np.zeros((2, 2)), 0.5, delta=-1e-3)
    with pytest.raises(ValueError, match="n_probes"):
        stsl.hutchinson_trace_fd(sc, np.zeros((2, 2)), 0.5, n_probes=0)
    with pytest.raises(ValueError, match="alpha"):
        stsl.tweedie_moments(G2.score, lambda z: stsl.gmm_hessian(G2, z), np.zeros((1, 2)), 0.0, 0.5)
    with pytest.raises(ValueError, match="gmm"):
        stsl.stsl_sample_gmm("gmm", A, [1.0], 0.1)
    with pytest.raises(ValueError, match="eta"):
        stsl.draw(eta=-0.5)
