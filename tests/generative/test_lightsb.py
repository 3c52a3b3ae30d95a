"""Tests of paperlab.generative.lightsb (chapter light-sb)."""
import math

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from paperlab import plotting
from paperlab.generative import lightsb as L

A, B, b = L.GAUSS_A, L.GAUSS_B, L.GAUSS_b


# ----------------------------------------------------------------------------- the Gaussian oracle

@pytest.mark.parametrize("eps", [0.05, 0.5, 2.0])
def test_oracle_is_the_entropic_plan(eps):
    """Independent check: the joint Gaussian [[A, C], [C^T, B]] is an entropic OT plan iff its
    density's cross term is exp(x^T y / eps), i.e. the off-diagonal block of the precision is -I/eps."""
    C, S, cond = L.gaussian_eot_plan(A, B, b, eps)
    joint = np.block([[A, C], [C.T, B]])
    assert np.linalg.eigvalsh(joint).min() > 0
    P = np.linalg.inv(joint)
    np.testing.assert_allclose(P[:2, 2:], -np.eye(2) / eps, atol=1e-9)
    np.testing.assert_allclose(S, S.T, atol=1e-12)
    np.testing.assert_allclose(S @ A @ S + eps * S, B, atol=1e-10)     # K = 1 is exact
    np.testing.assert_allclose(cond, eps * S, atol=1e-10)
    np.testing.assert_allclose(cond, B - C.T @ np.linalg.inv(A) @ C, atol=1e-10)


def test_oracle_limits():
    """eps -> 0: the OT map, whose conditional covariance vanishes; eps large: independence."""
    _, _, cond = L.gaussian_eot_plan(A, B, b, 1e-6)
    assert np.abs(cond).max() < 1e-5
    C, _, cond = L.gaussian_eot_plan(A, B, b, 1e4)
    assert np.abs(C).max() < 1e-3
    np.testing.assert_allclose(cond, B, atol=1e-3)


# ----------------------------------------------------------------------------- the potentials

def test_log_c_is_the_integral_of_the_potential():
    """c(x) = int exp(x y / eps) v(y) dy (Eq. (4)), checked by quadrature in 1-D with K = 3."""
    m = L.LightSB(1, n_components=3, epsilon=0.4, seed=3)
    with torch.no_grad():
        m.r.copy_(torch.tensor([[-1.0], [0.5], [2.0]], dtype=torch.float64))
        m.log_s.copy_(torch.log(torch.tensor([[0.3], [1.0], [0.7]], dtype=torch.float64)))
        m.log_alpha_raw.copy_(0.4 * torch.log(torch.tensor([0.2, 0.5, 0.3], dtype=torch.float64)))
    grid = np.linspace(-30, 40, 200_001)
    logv = m._log_v(torch.as_tensor(grid[:, None])).detach().numpy()
    for x in (-1.3, 0.0, 0.8):
        direct = np.log(np.trapezoid(np.exp(x * grid / 0.4 + logv), grid))
        closed = float(m._log_c(torch.tensor([[x]], dtype=torch.float64)).detach())
        assert closed == pytest.approx(direct, abs=1e-7)


def test_diagonal_and_full_agree():
    d = L.LightSB(2, n_components=4, epsilon=0.3, diagonal=True, seed=1)
    f = L.LightSB(2, n_components=4, epsilon=0.3, diagonal=False, seed=1)
    with torch.no_grad():
        s = torch.rand(4, 2, dtype=torch.float64) + 0.5
        d.log_s.copy_(torch.log(s))
        f.L.copy_(torch.diag_embed(torch.sqrt(s - 1e-4)))
        f.r.copy_(d.r)
    x = np.random.default_rng(0).standard_normal((50, 2))
    assert float(d.loss(x, x + 1).detach()) == pytest.approx(float(f.loss(x, x + 1).detach()), abs=1e-10)


def test_loss_is_minimal_at_the_oracle():
    """The objective (Eq. (6)) of a K = 1 model is smallest at r = b, S = S* (a KL up to a constant)."""
    eps = 0.5
    _, S_true, _ = L.gaussian_eot_plan(A, B, b, eps)
    rng = np.random.default_rng(0)
    x = rng.multivariate_normal(np.zeros(2), A, size=200_000)
    y = rng.multivariate_normal(b, B, size=200_000)
    m = L.LightSB(2, n_components=1, epsilon=eps, diagonal=False)

    def loss_at(S, r):
        with torch.no_grad():
            m.L.copy_(torch.as_tensor(np.linalg.cholesky(S - 1e-4 * np.eye(2)))[None])
            m.r.copy_(torch.as_tensor(r)[None])
        return float(m.loss(x, y).detach())

    best = loss_at(S_true, b)
    for dS, dr in ((0.1 * np.eye(2), 0), (-0.1 * np.eye(2), 0), (np.array([[0, .1], [.1, 0]]), 0),
                   (0, np.array([0.2, 0.0])), (0, np.array([0.0, -0.2]))):
        assert loss_at(S_true + dS, b + dr) > best + 1e-3


# ----------------------------------------------------------------------------- sampling

def test_conditional_samples_match_the_closed_form():
    eps = 0.5
    _, S_true, cond = L.gaussian_eot_plan(A, B, b, eps)
    m = L.LightSB(2, n_components=1, epsilon=eps, diagonal=False)
    with torch.no_grad():
        m.L.copy_(torch.as_tensor(np.linalg.cholesky(S_true - 1e-4 * np.eye(2)))[None])
        m.r.copy_(torch.as_tensor(b)[None])
    x = np.array([0.7, -0.4])
    y = m.sample_conditional(x, n=40_000, seed=1)
    assert y.shape == (1, 40_000, 2)
    np.testing.assert_allclose(y[0].mean(0), b + S_true @ x, atol=0.03)
    np.testing.assert_allclose(np.cov(y[0].T), cond, atol=0.03)


def test_mixture_weights_pick_components():
    m = L.LightSB(1, n_components=2, epsilon=0.1, seed=0)
    with torch.no_grad():
        m.r.copy_(torch.tensor([[-3.0], [3.0]], dtype=torch.float64))
    y = m.sample_conditional(np.array([[-1.0], [1.0]]), n=200, seed=0)
    assert np.all(y[0] < 0) and np.all(y[1] > 0)        # x pulls y towards its own side


def test_bridge_endpoints_and_variance():
    m = L.LightSB(2, n_components=1, epsilon=0.8, seed=0)
    x = np.zeros((20_000, 2))
    t, paths = m.sample_bridge(x, n_times=10, seed=2)
    assert t.shape == (11,) and paths.shape == (11, 20_000, 2)
    np.testing.assert_allclose(paths[0], x)
    y = m.sample_conditional(x, seed=2)[:, 0]
    np.testing.assert_allclose(paths[-1], y)              # same seed: same endpoints
    mid = paths[5] - 0.5 * paths[-1]                      # minus the straight line at t = 1/2
    assert np.var(mid[:, 0]) == pytest.approx(0.8 * 0.25, rel=0.05)


# ----------------------------------------------------------------------------- the chapter's claim

def _check_claim(fit: L.GaussianFit) -> None:
    assert fit.S_err < 0.1 and fit.cov_err < 0.1 and fit.r_err < 0.1


def test_claim_at_a_second_seed():
    _check_claim(L.gaussian_experiment((0.5,), seed=1)[0.5])


def test_fit_accepts_samplers_and_is_deterministic():
    def xs(n, gen):
        return torch.randn(n, 2, generator=gen, dtype=torch.float64).numpy()

    def ys(n, gen):
        return (torch.randn(n, 2, generator=gen, dtype=torch.float64) + 2).numpy()

    out = []
    for _ in range(2):
        m = L.LightSB(2, n_components=3, epsilon=0.2, seed=4)
        h = m.fit(xs, ys, steps=40, seed=4)
        out.append((m.params(), h.loss))
    assert out[0][1] == out[1][1]
    for a, c in zip(out[0][0], out[1][0]):
        assert np.array_equal(a, c)
    assert out[0][1][-1] < out[0][1][0]


def test_draw_corner_cases():
    for params in ({}, {"epsilon": 0.01, "trajectories": 5, "x1": 2.0, "x2": -2.0}):
        fig = L.draw(**params)
        assert isinstance(fig, Figure)
        plotting.to_png(fig, dpi=30)
        plotting.close(fig)
    assert list(L.SLIDERS)[0] == "epsilon"


# ----------------------------------------------------------------------------- bad inputs

@pytest.mark.parametrize("eps", [0, -0.1, float("nan"), "0.1"])
def test_bad_epsilon(eps):
    with pytest.raises(ValueError, match="epsilon"):
        L.LightSB(2, epsilon=eps)


def test_small_epsilon_warns():
    with pytest.warns(RuntimeWarning, match="log-sum-exp"):
        L.LightSB(2, epsilon=5e-4)


def test_other_bad_inputs():
    with pytest.raises(ValueError, match="n_components"):
        L.LightSB(2, n_components=0)
    with pytest.raises(ValueError, match="dim"):
        L.LightSB(0)
    m = L.LightSB(2, n_components=2)
    with pytest.raises(ValueError, match=r"x must have shape \(n, 2\)"):
        m.loss(np.zeros((5, 3)), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="y must have shape"):
        m.loss(np.zeros((5, 2)), np.zeros((5, 1)))
    with pytest.raises(ValueError, match="finite"):
        m.loss(np.array([[np.nan, 0.0]]), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="finite"):
        m.fit(np.zeros((5, 2)), np.array([[0.0, np.inf]]), steps=2)
    with pytest.raises(ValueError, match="x_sampler"):
        m.fit(np.zeros((5, 3)), np.zeros((5, 2)), steps=2)
    with pytest.raises(ValueError, match="x must have shape"):
        m.sample_conditional(np.zeros(3))
    with pytest.raises(ValueError, match="B must be symmetric positive definite"):
        L.gaussian_eot_plan(A, -B, b, 0.5)
    with pytest.raises(ValueError, match="eps"):
        L.gaussian_eot_plan(A, B, b, 0.0)
    with pytest.raises(ValueError, match="epsilon must be one of"):
        L.draw(epsilon=0.2)
