"""Tests of paperlab.theory.hierarchical_poly (chapter hierarchical-polynomials-3layer)."""
from __future__ import annotations

import numpy as np
import pytest

from paperlab.theory import hierarchical_poly as hp

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("k, dim", [(1, 5), (2, 15), (3, 35)])
def test_hermite_features_are_orthonormal(k, dim):
    X = RNG.standard_normal((200_000, 5))
    P = hp.hermite_features(X, k)
    assert P.shape == (200_000, dim)
    np.testing.assert_allclose(P.T @ P / len(X), np.eye(dim), atol=0.05)
    np.testing.assert_allclose(P.mean(0), 0.0, atol=0.03)


def test_target_is_standardised_and_p_is_in_the_degree2_basis():
    t = hp.make_target(10, seed=3)
    assert t.signs.sum() == 0 and set(t.signs) == {-1.0, 1.0}
    X = RNG.standard_normal((400, 10))
    np.testing.assert_allclose(hp.hermite_features(X, 2) @ t.w_p, t.p(X), atol=1e-12)
    np.testing.assert_allclose(t.h(X), t.p(X) ** 3 + t.p(X))
    Xb = RNG.standard_normal((200_000, 10))
    pb = t.p(Xb)
    assert abs(pb.mean()) < 0.01 and abs(pb.var() - 1) < 0.02


def test_degree2_projection_matches_the_feature_matrix():
    X = RNG.standard_normal((300, 6))
    y = RNG.standard_normal(300)
    P = hp.hermite_features(X, 2)
    np.testing.assert_allclose(hp.degree2_projection(X, y), P.T @ (y - y.mean()) / 300, atol=1e-12)


def test_projection_of_h_is_proportional_to_p():
    """For a traceless A with A^2 = I the population degree-2 projection of g(p) is c p."""
    t = hp.make_target(8, seed=1)
    X = RNG.standard_normal((400_000, 8))
    w = hp.degree2_projection(X, t.h(X))
    assert hp._corr_with_p(w, t) > 0.99
    c = w @ t.w_p
    assert 4.5 < c < 6.5                     # c = E[h p] = 4 + 12/d = 5.5


def test_layerwise_network_learns_h_and_beats_the_degree2_floor():
    t = hp.make_target(10, seed=2)
    X = RNG.standard_normal((20_000, 10))
    net = hp.three_layer_layerwise(X, t.h(X), m1=100, seed=1)
    Xt = RNG.standard_normal((5000, 10))
    assert hp._corr_with_p(net.w, t) > 0.95
    assert hp.normalized_mse(net.predict(Xt), t.h(Xt)) < 0.2


def test_kernel_ridge_baseline_fits_a_smooth_function():
    X = RNG.standard_normal((400, 3))
    y = np.sin(X[:, 0])
    Xt = RNG.standard_normal((200, 3))
    pred = hp.kernel_ridge_baseline(X, y, Xt)
    assert hp.normalized_mse(pred, np.sin(Xt[:, 0])) < 0.1


def test_n_for_correlation_interpolates():
    r = [1, 2, 4]
    assert hp.n_for_correlation(r, [0.5, 0.8, 1.0 - 1e-9], d=2, level=0.8) == pytest.approx(8.0)
    assert hp.n_for_correlation(r, [0.7, 0.8, 0.9], d=1 + 1, level=0.85) == pytest.approx(4 * 2 ** 1.5)
    assert hp.n_for_correlation(r, [0.1, 0.2, 0.3], d=2) == np.inf


def test_claim_at_a_second_seed():
    r = hp.experiment(ns=(32000,), ns_krr=(2000,), ds=(16, 32, 48), ratios=(2, 4, 8, 16), seeds=(1, 2, 3),
                      seed=1)
    assert r.mse_three_layer[-1] <= 0.7 * r.mse_krr[-1]
    assert r.mse_three_layer[-1] <= 0.7 * r.mse_degree2 < r.mse_krr.min()
    assert r.corr_three_layer[-1] >= 0.95
    slope, lo, hi = r.slope
    assert 1.2 <= lo and hi <= 2.4


def test_deterministic():
    a = hp.feature_recovery_curve((8,), (1, 4), seed=5)
    b = hp.feature_recovery_curve((8,), (1, 4), seed=5)
    np.testing.assert_array_equal(a, b)


def test_bad_inputs():
    with pytest.raises(ValueError, match="k must be"):
        hp.hermite_features(RNG.standard_normal((5, 3)), k=4)
    with pytest.raises(ValueError, match="k must be"):
        hp.three_layer_layerwise(RNG.standard_normal((50, 3)), np.zeros(50), k=0)
    with pytest.raises(ValueError, match="d must be"):
        hp.make_target(1)
    with pytest.raises(ValueError, match="E\\[g\\(p\\) p\\] = 0"):
        hp.make_target(10, g="z2")
    with pytest.raises(ValueError, match="n must be"):
        hp.three_layer_layerwise(RNG.standard_normal((9, 3)), np.zeros(9))
    with pytest.raises(ValueError, match="g must be"):
        hp.make_target(10, g="exp")


def test_fast_outer_gram_equals_ridge_on_the_explicit_features():
    from paperlab.theory.common import ridge
    z = RNG.standard_normal(500)
    y = z ** 3 + RNG.standard_normal(500)
    c, b = hp._draw_outer(40, seed=3)
    F = hp._outer_features(z, c, b)
    G, Fy = hp._gram_1d(z, y, c, b)
    np.testing.assert_allclose(G, F.T @ F, rtol=1e-9, atol=1e-8)
    np.testing.assert_allclose(Fy, F.T @ y, rtol=1e-9, atol=1e-8)
    X = RNG.standard_normal((1000, 4))
    net = hp.three_layer_layerwise(X, X[:, 0] * X[:, 1], m1=40, seed=3)
    phi = (hp.hermite_features(X[500:], 2) @ net.w - net.shift) / net.scale
    a = ridge(hp._outer_features(phi, net.c, net.b), X[500:, 0] * X[500:, 1], 1e-4 * 500)
    np.testing.assert_allclose(net.a, a, rtol=1e-6, atol=1e-8)
