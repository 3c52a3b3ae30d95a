"""Tests of paperlab.generative.reddiff (chapter red-diff-variational-inverse)."""
from __future__ import annotations

import numpy as np
import pytest

from paperlab.data import GaussianMixture
from paperlab.generative import reddiff as R

RNG = np.random.default_rng(84)


def _gauss(d=5):
    B = RNG.standard_normal((d, d))
    return RNG.standard_normal(d), B @ B.T / d + 0.1 * np.eye(d)


def test_gaussian_eps_is_the_exact_mixture_eps():
    m, C = _gauss(3)
    eps = R.gaussian_prior_eps(m, C)
    ref = R.gmm_prior_eps(GaussianMixture([1.0], [m], [C]))
    x = RNG.standard_normal((7, 3))
    for a, s in ((0.9, np.sqrt(1 - 0.81)), (0.1, np.sqrt(0.99))):
        np.testing.assert_allclose(eps(x, a, s), ref(x, a, s), atol=1e-10)
        M = np.linalg.inv(a * a * C + s * s * np.eye(3))
        np.testing.assert_allclose(eps(x, a, s), s * (x - a * m) @ M.T, atol=1e-12)


def test_time_weights_match_the_official_options():
    a, s = R.schedule_grid(10)
    r = s / a
    np.testing.assert_allclose(R.time_weights(a, s, 0.25, "inv_snr"), 0.25 * r)
    np.testing.assert_allclose(R.time_weights(a, s, 0.25, "sqrt"), 0.25 * np.sqrt(r))
    np.testing.assert_allclose(R.time_weights(a, s, 0.25, "log"), 0.25 * np.log(1 + r))
    np.testing.assert_allclose(R.time_weights(a, s, 2.0, "const"), 2.0)
    assert np.all(np.diff(s) > 0)                      # grid runs clean -> noisy


def test_gradient_is_the_loss_gradient():
    """One step of the algorithm uses Eq. (5): check it against the loss by finite differences."""
    m, C = _gauss(4)
    A = RNG.standard_normal((2, 4))
    y = RNG.standard_normal((1, 2))
    mu = RNG.standard_normal((1, 4))
    e = RNG.standard_normal((1, 4))
    a, s, w, v = 0.6, 0.8, 0.3, 2.0
    eps_hat = R.gaussian_prior_eps(m, C)(a * mu + s * e, a, s)   # held fixed (stop gradient)

    def loss(u):
        return w * np.mean((eps_hat - e) * u) + v * np.mean((y - u @ A.T) ** 2) / 2

    g = (w / 4) * (eps_hat - e) + (v / 2) * (mu @ A.T - y) @ A
    h = 1e-6
    fd = np.array([(loss(mu + h * np.eye(4)[i]) - loss(mu - h * np.eye(4)[i])) / (2 * h) for i in range(4)])
    np.testing.assert_allclose(g[0], fd, atol=1e-7)


def test_random_time_reddiff_converges_to_the_fixed_point():
    m, C = _gauss(6)
    A = np.eye(6)[:3]
    y = RNG.standard_normal((2, 3))
    a, s = R.schedule_grid(100)
    w = R.time_weights(a, s, 0.25)
    star = R.reddiff_fixed_point(A, y, 1.0, m, C, w, a, s)
    _, tr = R.reddiff(R.gaussian_prior_eps(m, C), A, y, 1.0, a, s, n_iter=4000, lr=0.05,
                      t_order="random", seed=3)
    avg = tr[2001:].mean(0)
    assert np.linalg.norm(avg - star) / np.linalg.norm(star) < 0.05


def test_start_is_the_pseudo_inverse_and_shapes():
    m, C = _gauss(4)
    A = RNG.standard_normal((2, 4))
    y = RNG.standard_normal(2)
    a, s = R.schedule_grid(20)
    mu, tr = R.reddiff(R.gaussian_prior_eps(m, C), A, y, 0.5, a, s, n_iter=20)
    assert mu.shape == (1, 4) and tr.shape == (21, 1, 4)
    np.testing.assert_allclose(tr[0, 0], np.linalg.pinv(A) @ y)


def test_claims_at_a_second_seed():
    e = R.digits_experiment(seed=1)
    assert e.rel_error < 0.05
    assert e.residual_descending <= 1.1 * e.residual_star
    assert R.near_mode_fraction(R.gmm_runs(seed=1)[-1]) >= 0.9


def test_posterior_modes():
    modes = R.posterior_modes()
    assert modes.shape == (2, 2)
    assert np.allclose(np.sort(modes[:, 1]), [-0.5, 2.0], atol=0.05)


def test_determinism():
    a = R.gmm_runs.__wrapped__(n_runs=8, n_iter=50, seed=2)
    b = R.gmm_runs.__wrapped__(n_runs=8, n_iter=50, seed=2)
    np.testing.assert_array_equal(a, b)


def test_bad_inputs():
    m, C = _gauss(4)
    eps = R.gaussian_prior_eps(m, C)
    A = np.eye(4)[:2]
    a, s = R.schedule_grid(10)
    y = np.zeros(2)
    with pytest.raises(ValueError, match="sigma_v"):
        R.reddiff(eps, A, y, 0.0, a, s)
    with pytest.raises(ValueError, match="lam"):
        R.reddiff(eps, A, y, 1.0, a, s, lam=-1)
    with pytest.raises(ValueError, match="weighting"):
        R.reddiff(eps, A, y, 1.0, a, s, weighting="cubic")
    with pytest.raises(ValueError, match="t_order"):
        R.reddiff(eps, A, y, 1.0, a, s, t_order="ascending")
    with pytest.raises(ValueError, match="y must have the shape"):
        R.reddiff(eps, A, np.zeros(3), 1.0, a, s)
    with pytest.raises(ValueError, match="n_iter"):
        R.reddiff(eps, A, y, 1.0, a, s, n_iter=0)
    with pytest.raises(ValueError, match="C must"):
        R.gaussian_prior_eps(m, -np.eye(4))
