import numpy as np
import pytest

from paperlab.theory import common


def test_rbf_kernel_matches_naive():
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(5, 3)), rng.normal(size=(4, 3))
    K = common.rbf_kernel(A, B, 0.7)
    naive = np.array([[np.exp(-np.sum((a - b) ** 2) / (2 * 0.49)) for b in B] for a in A])
    np.testing.assert_allclose(K, naive, atol=1e-12)


def test_kernel_ridge_interpolates_with_tiny_ridge():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 2))
    y = np.sin(X[:, 0])
    K = common.rbf_kernel(X, X, 1.0)
    pred = common.kernel_ridge(K, y, 1e-10, K)
    np.testing.assert_allclose(pred, y, atol=1e-4)


def test_ridge_both_branches_agree():
    rng = np.random.default_rng(2)
    P, y = rng.normal(size=(20, 8)), rng.normal(size=20)
    w = common.ridge(P, y, 0.3)
    np.testing.assert_allclose(w, np.linalg.solve(P.T @ P + 0.3 * np.eye(8), P.T @ y), atol=1e-10)
    Pw = rng.normal(size=(8, 20))
    w2 = common.ridge(Pw, y[:8], 0.3)
    np.testing.assert_allclose(w2, np.linalg.solve(Pw.T @ Pw + 0.3 * np.eye(20), Pw.T @ y[:8]), atol=1e-10)


def test_power_law_and_slope_interval():
    x = np.array([10, 20, 40, 80, 160.0])
    coef, expo = common.fit_power_law(x, 3 * x ** -0.5)
    assert abs(coef - 3) < 1e-9 and abs(expo + 0.5) < 1e-9
    rng = np.random.default_rng(0)
    Y = 2 * x ** -1.0 * np.exp(0.05 * rng.normal(size=(10, 5)))
    s, lo, hi = common.slope_interval(x, Y)
    assert lo <= s <= hi and lo < -0.9 and hi > -1.1 and hi - lo < 0.2


def test_learning_curve_shape():
    out = common.learning_curve(lambda n, s: n + s, [1, 2, 3], [0, 10])
    assert out.shape == (2, 3) and out[1, 2] == 13


@pytest.mark.parametrize("call, match", [
    (lambda: common.rbf_kernel(np.ones((2, 2)), np.ones((2, 2)), 0), "lengthscale"),
    (lambda: common.kernel_ridge(np.eye(2), [1, 2], -1), "ridge"),
    (lambda: common.slope_interval([1, 2], [[1, -1]]), "positive"),
    (lambda: common.ridge(np.ones((3, 2)), [1, 2], 0.1), "rows"),
])
def test_bad_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()
