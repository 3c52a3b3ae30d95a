"""Tests of paperlab.theory.augmentation_kernel (chapter augmentation-rkhs)."""
from itertools import product
from math import comb

import numpy as np
import pytest

from paperlab.theory import augmentation_kernel as ak


def brute_kernel(D, alpha):
    """K_X(x, x') = sum_a A(a|x) A(a|x') / p_A(a), summed over every view a of the cube."""
    X = np.array(list(product((0, 1), repeat=D)))[:, ::-1]      # same order as ak.cube
    dist = (X[:, None, :] != X[None, :, :]).sum(-1)             # d(a, x) for every pair
    A = alpha ** dist * (1 - alpha) ** (D - dist)               # A[a, x] = A(a | x)
    p_A = A.mean(1)                                             # uniform p_X
    return (A / p_A[:, None]).T @ A


@pytest.mark.parametrize("alpha", [0.05, 0.2, 0.45])
def test_kernel_matches_the_definition(alpha):
    D = 4
    np.testing.assert_allclose(ak.flip_kernel(D, alpha), brute_kernel(D, alpha), rtol=1e-12)
    assert np.allclose(brute_kernel(D, alpha).sum(0) / 2 ** D, 1.0)   # p_A is uniform


def test_kernel_blocks():
    K = ak.flip_kernel(6, 0.1)
    r, c = np.array([3, 0, 63]), np.array([5, 5, 1, 2])
    np.testing.assert_array_equal(ak.flip_kernel(6, 0.1, r, c), K[np.ix_(r, c)])
    np.testing.assert_array_equal(ak.flip_kernel(6, 0.1, None, c), K[:, c])


@pytest.mark.parametrize("alpha", [0.03, 0.25, 0.4])
def test_walsh_functions_are_the_eigenfunctions(alpha):
    D = 6
    K = ak.flip_kernel(D, alpha)
    Phi = ak.walsh_features(ak.cube(D), D)                      # all 64 parities
    deg = np.array([len(S) for S in ak.walsh_subsets(D, D)])
    assert Phi.shape == (64, 64)
    np.testing.assert_allclose(Phi.T @ Phi / 64, np.eye(64), atol=1e-12)   # orthonormal
    T = K / 2 ** D                                              # integral operator, uniform p_X
    np.testing.assert_allclose(T @ Phi, Phi * ak.eigenvalues(alpha, deg), atol=1e-10)
    # Mercer: K = sum_S lambda_S chi_S chi_S^T, so kappa^2 = K(x, x) = trace
    np.testing.assert_allclose((Phi * ak.eigenvalues(alpha, deg)) @ Phi.T, K, rtol=1e-9,
                               atol=1e-12 * K.max())
    kappa = ak.augmentation_complexity(D, alpha)
    np.testing.assert_allclose(np.diag(K), kappa ** 2, rtol=1e-12)
    assert ak.eigenvalues(alpha, deg).sum() == pytest.approx(kappa ** 2)


def test_top_d_dimensions_and_target():
    assert [len(ak.walsh_subsets(10, q)) for q in (1, 2, 3)] == [11, 56, 176]
    assert len(ak.walsh_subsets(10, 3)) == sum(comb(10, r) for r in range(4))
    f = ak.target_values(10)
    Phi = ak.walsh_features(ak.cube(10), 3)
    coef = Phi.T @ f / f.size
    want = np.zeros(176)
    for S, c in ak.TARGET:
        want[ak.walsh_subsets(10, 3).index(S)] = c
    np.testing.assert_allclose(coef, want, atol=1e-12)
    assert np.mean(f ** 2) == pytest.approx(1 + 0.49 + 0.25)


def test_complexity_and_norm_trade_off():
    k = [ak.augmentation_complexity(10, a) ** 2 for a in ak.ALPHAS]
    assert np.all(np.diff(k) < 0)
    assert ak.augmentation_complexity(10, 1e-9) ** 2 == pytest.approx(1024, rel=1e-6)
    norms = [ak.rkhs_norm_sq([1.0, 0.7, 0.5], [1, 2, 3], a) for a in ak.ALPHAS]
    assert np.all(np.diff(norms) > 0)
    a = 0.2
    lam = (1 - 2 * a) ** 2
    assert norms[ak.ALPHAS.index(a)] == pytest.approx(1 / lam + 0.49 / lam ** 2 + 0.25 / lam ** 3)


def test_krr_matches_a_direct_solve_and_loo_is_exact():
    D, alpha = 6, 0.15
    K = ak.flip_kernel(D, alpha)
    idx, y = ak.sample(D, 30, seed=3)
    mu = 1e-3
    pred = ak.krr_fixed(K, idx, y, mu)
    c = np.linalg.solve(K[np.ix_(idx, idx)] + 30 * mu * np.eye(30), y)
    np.testing.assert_allclose(pred, K[:, idx] @ c, rtol=1e-9)
    # leave-one-out identity against brute-force refits
    loo = ak._loo_errors(K[np.ix_(idx, idx)], y, np.array([mu]))[0]
    brute = []
    for i in range(30):
        keep = np.delete(np.arange(30), i)
        Kk = K[np.ix_(idx[keep], idx[keep])]
        ci = np.linalg.solve(Kk + 30 * mu * np.eye(29), y[keep])
        brute.append((K[idx[i], idx[keep]] @ ci - y[i]) ** 2)
    assert loo == pytest.approx(np.mean(brute), rel=1e-8)
    pred_cv, mu_cv = ak.krr_cv(K, idx, y)
    assert mu_cv in ak.RIDGES and pred_cv.shape == (64,)


def test_probe_is_exact_without_noise():
    idx, _ = ak.sample(10, 400, seed=1)
    f = ak.target_values(10)
    np.testing.assert_allclose(ak.probe_top_d(10, idx, f[idx], 3), f, atol=1e-9)
    # with q = 2 the degree-3 part is out of reach: error >= its energy 0.25, and the part
    # acts as extra noise of variance 0.25 (expected excess about 0.25 * 56 / (n - 57))
    idx, _ = ak.sample(10, 1000, seed=1)
    err = np.mean((ak.probe_top_d(10, idx, f[idx], 2) - f) ** 2)
    assert 0.25 <= err < 0.3


def _check_claim(E):
    s = E.summary(200)
    assert s["fixed_best_alpha"] not in (E.alphas[0], E.alphas[-1])
    assert s["fixed_mse_best"] <= 0.5 * s["fixed_mse_first"]
    assert s["fixed_mse_best"] <= 0.5 * s["fixed_mse_last"]
    assert s["cv_mse_best"] <= 0.5 * s["cv_mse_first"]
    assert abs(s["probe_q2_mse_n800"] - 0.25) <= 0.05
    assert s["probe_q3_mse_n800"] < 0.05


def test_claim_at_a_second_seed_set():
    E = ak.experiment(alphas=(0.02, 0.2, 0.3, 0.45), ns=(200,), seeds=4,
                      probe_sizes=(800,), probe_degrees=(2, 3), seed0=100)
    _check_claim(E)


def test_determinism():
    kw = dict(alphas=(0.05, 0.3), ns=(60,), seeds=2, probe_sizes=(100,), probe_degrees=(1,))
    a = ak.experiment.__wrapped__(**kw)
    b = ak.experiment.__wrapped__(**kw)
    assert a.summary(60) == b.summary(60)
    assert np.array_equal(a.krr_cv[60], b.krr_cv[60])
    with pytest.raises(ValueError, match="one of the simulated"):
        a.summary(200)


@pytest.mark.parametrize("call, match", [
    (lambda: ak.flip_kernel(10, 0.0), "alpha"),
    (lambda: ak.flip_kernel(10, 0.5), "alpha"),
    (lambda: ak.flip_kernel(10, -0.1), "alpha"),
    (lambda: ak.augmentation_complexity(10, 0.7), "alpha"),
    (lambda: ak.flip_kernel(13, 0.2), "D"),
    (lambda: ak.cube(0), "D"),
    (lambda: ak.sample(10, 4 * 1024 + 1), "n"),
    (lambda: ak.sample(10, 1), "n"),
    (lambda: ak.walsh_subsets(10, 11), "max_degree"),
    (lambda: ak.walsh_features(ak.cube(4), 5), "max_degree"),
    (lambda: ak.probe_top_d(10, np.array([0, 1]), np.zeros(2), 11), "max_degree"),
    (lambda: ak.walsh_features(np.full((2, 3), 2), 1), "bits"),
    (lambda: ak.eigenvalues(0.2, 1.5), "degree"),
    (lambda: ak.rkhs_norm_sq([1.0, 2.0], [1], 0.2), "degrees"),
    (lambda: ak.krr_fixed(ak.flip_kernel(4, 0.2), np.array([0, 16]), np.zeros(2), 1e-3), "idx"),
    (lambda: ak.krr_fixed(ak.flip_kernel(4, 0.2), np.array([0, 1]), np.zeros(3), 1e-3), "y"),
    (lambda: ak.krr_fixed(ak.flip_kernel(4, 0.2), np.array([0, 1]), np.zeros(2), 0.0), "ridge"),
    (lambda: ak.krr_cv(ak.flip_kernel(4, 0.2), np.array([0, 1]), np.zeros(2), [1.0, -1.0]), "ridges"),
    (lambda: ak.draw(alpha=0.6), "alpha"),
])
def test_bad_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()
