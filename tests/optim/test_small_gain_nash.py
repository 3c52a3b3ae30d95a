"""Tests of paperlab.optim.small_gain_nash (chapter ``small-gain-nash``, Sharma 2025)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import eigh

from paperlab.optim import small_gain_nash as sgn


# --------------------------------------------------------------------------- naive references

def naive_sgn_matrix(mu, L, w):
    n = len(mu)
    M = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            M[i, j] = w[i] * mu[i] if i == j else -(w[i] * L[i][j] + w[j] * L[j][i]) / 2
    return M


def random_instance(rng, n, scale):
    mu = rng.uniform(0.5, 2.0, n)
    L = rng.uniform(0.0, scale, (n, n))
    np.fill_diagonal(L, 0.0)
    return mu, L


# --------------------------------------------------------------------------- correctness

def test_sgn_matrix_matches_a_loop_and_the_m_matrix_form():
    rng = np.random.default_rng(0)
    mu, L = random_instance(rng, 4, 1.0)
    w = rng.uniform(0.1, 3.0, 4)
    M = sgn.sgn_matrix(mu, L, w)
    np.testing.assert_allclose(M, naive_sgn_matrix(mu, L, w), rtol=1e-15)
    A, W = np.diag(mu) - L, np.diag(w)
    np.testing.assert_allclose(M, 0.5 * (W @ A + A.T @ W), rtol=1e-15)


def test_margin_is_the_generalized_eigenvalue_and_scale_free():
    rng = np.random.default_rng(1)
    mu, L = random_instance(rng, 3, 0.8)
    w = rng.uniform(0.2, 2.0, 3)
    alpha = sgn.sgn_margin(mu, L, w)
    ref = eigh(naive_sgn_matrix(mu, L, w), np.diag(w), eigvals_only=True)[0]
    assert alpha == pytest.approx(ref, rel=1e-12)
    assert sgn.sgn_margin(mu, L, 7.0 * w) == pytest.approx(alpha, rel=1e-12)
    # the cruder bound lambda_min(M) / max w is never larger
    assert np.linalg.eigvalsh(sgn.sgn_matrix(mu, L, w))[0] / w.max() <= alpha + 1e-12


def test_margin_bounds_the_weighted_monotonicity_of_the_game():
    """<Jx, x>_W >= alpha ||x||_W^2 for the block game: the certificate is a lower bound."""
    game = sgn.quadratic_game(1.0, 1.3, 2.0, 0.3, dim=3, seed=4)
    cert = game.certify()
    d = np.repeat(cert.weights, game.blocks)
    X = np.random.default_rng(2).standard_normal((500, 6))
    ratio = np.einsum("ni,ij,nj->n", X * d, game.J, X) / ((X**2) @ d)
    assert ratio.min() >= cert.margin - 1e-12


def test_band_closed_form_against_a_brute_force_grid():
    mu1, mu2, L12, L21 = 1.0, 1.5, 3.0, 0.2
    lo, hi = sgn.weight_band(mu1, mu2, L12, L21)
    mu, L = np.array([mu1, mu2]), np.array([[0.0, L12], [L21, 0.0]])
    for r in (lo, hi):            # the ends are where M(w) becomes singular
        assert abs(np.linalg.det(sgn.sgn_matrix(mu, L, [r, 1.0]))) < 1e-12
    r = np.geomspace(1e-4, 1e4, 4001)
    pos = np.array([np.linalg.eigvalsh(sgn.sgn_matrix(mu, L, [x, 1.0]))[0] > 0 for x in r])
    inside = (r > lo) & (r < hi)
    assert np.array_equal(pos, inside)
    np.testing.assert_allclose(sgn.band_margin(r, mu1, mu2, L12, L21),
                               [sgn.sgn_margin(mu, L, [x, 1.0]) for x in r], atol=1e-12)


def test_band_edge_cases():
    assert sgn.weight_band(1.0, 1.0, 3.0, 0.5) is None          # L12 L21 > mu1 mu2
    assert sgn.weight_band(1.0, 1.0, 1.0, 1.0) is None          # equality: empty
    assert sgn.weight_band(1.0, 2.0, 0.0, 0.0) == (0.0, float("inf"))
    assert sgn.weight_band(1.0, 2.0, 4.0, 0.0) == pytest.approx((0.0, 0.5))
    assert sgn.weight_band(1.0, 2.0, 0.0, 4.0) == pytest.approx((2.0, float("inf")))


def test_two_player_weights_maximise_the_margin():
    for mu1, mu2, L12, L21 in ((1, 1, 3, 0.2), (0.5, 2.0, 0.3, 1.1), (1, 1, 10, 0.05)):
        mu, L = np.array([mu1, mu2], float), np.array([[0, L12], [L21, 0]], float)
        cert = sgn.certify(mu, L)
        assert cert.weights[0] / cert.weights[1] == pytest.approx(L21 / L12, rel=1e-12)
        r = np.geomspace(1e-5, 1e5, 20001)
        assert cert.margin >= sgn.band_margin(r, mu1, mu2, L12, L21).max() - 1e-12
        # closed form of the best margin
        best = 0.5 * (mu1 + mu2) - np.sqrt(0.25 * (mu1 - mu2) ** 2 + L12 * L21)
        assert cert.margin == pytest.approx(best, rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
def test_n_player_certificate_exists_iff_small_gain_ratio_below_one(seed):
    rng = np.random.default_rng(seed)
    hits = {True: 0, False: 0}
    for _ in range(25):
        mu, L = random_instance(rng, 4, 0.9)
        cert = sgn.certify(mu, L)
        rho = sgn.small_gain_ratio(mu, L)
        if abs(rho - 1) < 0.02:
            continue                   # too close to the boundary to decide numerically
        assert cert.certified == (rho < 1), (rho, cert.margin)
        hits[rho < 1] += 1
        if rho < 1:                    # the optimiser does at least as well as the M-matrix start
            w0 = sgn._m_matrix_weights(mu, L)
            assert cert.margin >= sgn.sgn_margin(mu, L, w0) - 1e-9
    assert hits[True] >= 3 and hits[False] >= 3, hits


def test_gradient_play_matches_the_matrix_power():
    game = sgn.quadratic_game(1.0, 1.0, 3.0, 0.2)
    x0 = np.array([0.6, -0.8])
    traj = sgn.gradient_play(game.F, x0, 0.1, 30)
    T = np.eye(2) - 0.1 * game.J
    np.testing.assert_allclose(traj[30], np.linalg.matrix_power(T, 30) @ x0, rtol=1e-12)
    assert traj.shape == (31, 2)
    box = sgn.gradient_play(game.F, x0, 0.1, 5, proj=lambda x: np.clip(x, -0.5, 0.5))
    assert np.all(np.abs(box[1:]) <= 0.5)


def test_gradient_play_stops_cleanly_on_divergence():
    game = sgn.quadratic_game(1.0, 1.0, 4.0, 4.0)
    traj = sgn.gradient_play(game.F, [1.0, -1.0], 1.0, 400)
    finite = np.isfinite(traj).all(axis=1)
    assert finite[0] and not finite[-1]
    assert np.all(np.isinf(traj[~finite]))


def test_w_norm_and_lipschitz():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    assert sgn.w_norm(x, [2.0, 0.5]) == pytest.approx(np.sqrt(2 * 5 + 0.5 * 25))
    game = sgn.quadratic_game(1.0, 1.0, 3.0, 0.2)
    w = np.array([1 / 15, 1.0])
    S = np.diag(np.sqrt(w)) @ game.J @ np.diag(1 / np.sqrt(w))
    np.testing.assert_allclose(S, S.T, atol=1e-15)      # balanced weights symmetrise J here
    assert sgn.metric_lipschitz(game.J, w) == pytest.approx(1 + np.sqrt(0.6), rel=1e-12)


# --------------------------------------------------------------------------- the claims

def _worst_step_ratio(J, w, blocks, h, X0, steps):
    d = np.repeat(w, blocks)
    T = np.eye(J.shape[0]) - h * J
    X, worst = X0.copy(), 0.0
    for _ in range(steps):
        Y = X @ T.T
        worst = max(worst, float(np.max(((Y**2) @ d) / ((X**2) @ d))))
        X = Y
    return worst


def test_case_a_certified_although_not_euclidean_monotone():
    game, cert, h = sgn.case_game("A")
    assert game.euclidean_margin == pytest.approx(-0.6)
    assert cert.certified and cert.margin == pytest.approx(1 - np.sqrt(0.6))
    lo, hi = sgn.weight_band(1.0, 1.0, 3.0, 0.2)
    assert lo < 1 / 15 < hi
    assert cert.weights[0] / cert.weights[1] == pytest.approx(1 / 15)
    X0 = sgn.random_starts(64, 2, seed=3)
    bound = cert.factor(h) ** 2
    assert bound < 1
    assert _worst_step_ratio(game.J, cert.weights, game.blocks, h, X0, 200) <= bound * (1 + 1e-12)


@pytest.mark.parametrize("seed", [0, 5])
def test_step_bound_holds_on_the_block_game_at_a_second_instance(seed):
    game = sgn.quadratic_game(1.0, 0.8, 2.5, 0.25, dim=3, seed=seed)
    cert = game.certify()
    assert cert.certified
    X0 = sgn.random_starts(64, 6, seed=seed)
    for frac in (0.3, 0.9):
        h = frac * cert.h_max
        ratio = _worst_step_ratio(game.J, cert.weights, game.blocks, h, X0, 100)
        assert ratio <= cert.factor(h) ** 2 * (1 + 1e-12)


def test_cases_b_and_c():
    game, cert, h = sgn.case_game("B")
    assert sgn.weight_band(1.0, 1.0, 3.0, 0.5) is None and not cert.certified
    finals = [c.error[-1] for c in sgn.case_runs("B")]
    assert min(finals) > 1e3
    # the unstable eigenvalue of I - hJ is 1 + h sqrt(1.5) - h
    assert np.max(np.abs(np.linalg.eigvals(np.eye(2) - h * game.J))) == \
        pytest.approx(1 + h * (np.sqrt(1.5) - 1))
    game, cert, h = sgn.case_game("C")
    assert not cert.certified and game.euclidean_margin == pytest.approx(1.0)
    assert max(c.error[-1] for c in sgn.case_runs("C")) < 1e-3
    rho = lambda s: np.max(np.abs(np.linalg.eigvals(np.eye(2) - s * game.J)))   # noqa: E731
    assert rho(0.19) < 1 < rho(0.21)                         # |1 - h(1 +- 3i)| < 1 iff h < 0.2


# --------------------------------------------------------------------------- bad inputs

def test_bad_inputs():
    mu, L = np.array([1.0, 1.0]), np.array([[0.0, 3.0], [0.2, 0.0]])
    with pytest.raises(ValueError, match="mu must be positive"):
        sgn.certify([1.0, 0.0], L)
    with pytest.raises(ValueError, match="mu must be positive"):
        sgn.sgn_matrix([1.0, -2.0], L, [1.0, 1.0])
    with pytest.raises(ValueError, match="L must be nonnegative"):
        sgn.certify(mu, -L)
    with pytest.raises(ValueError, match="zero diagonal"):
        sgn.certify(mu, L + np.eye(2))
    with pytest.raises(ValueError, match=r"L must have shape \(2, 2\)"):
        sgn.certify(mu, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="w must be positive"):
        sgn.sgn_margin(mu, L, [1.0, 0.0])
    with pytest.raises(ValueError, match=r"w must have shape \(2\)"):
        sgn.sgn_matrix(mu, L, [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="h must be in"):
        sgn.gradient_play(lambda x: x, [1.0], 0.0, 10)
    with pytest.raises(ValueError, match="h must be in"):
        sgn.gradient_play(lambda x: x, [1.0], -0.1, 10)
    with pytest.raises(ValueError, match="mu1 must be in"):
        sgn.weight_band(0.0, 1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="L21 must be in"):
        sgn.weight_band(1.0, 1.0, 1.0, -1.0)
    with pytest.raises(ValueError, match="F.x. must have the shape of x"):
        sgn.gradient_play(lambda x: np.ones(3), [1.0, 2.0], 0.1, 3)
    with pytest.raises(ValueError, match="blocks must give 2"):
        sgn.certify(mu, L, J=np.eye(4), blocks=(1, 2))
    with pytest.raises(ValueError, match="cannot split"):
        sgn.certify(mu, L, J=np.eye(3))
    with pytest.raises(ValueError, match="J must be square"):
        sgn.certify(mu, L, J=np.ones((2, 3)))
    with pytest.raises(ValueError, match="mu2 must be in"):
        sgn.draw(mu2=0.0)
    with pytest.raises(ValueError, match="name must be one of"):
        sgn.case_game("D")
    with pytest.raises(ValueError, match="needs the Lipschitz constant"):
        sgn.certify(mu, L).factor(0.1)


# --------------------------------------------------------------------------- determinism

def test_determinism():
    a = sgn.quadratic_game(1.0, 1.0, 3.0, 0.2, dim=3, seed=7)
    b = sgn.quadratic_game(1.0, 1.0, 3.0, 0.2, dim=3, seed=7)
    np.testing.assert_array_equal(a.J, b.J)
    ca, cb = a.certify(), b.certify()
    assert ca.margin == cb.margin and ca.h_max == cb.h_max
    sgn._case_runs.cache_clear()
    first = [c.error for c in sgn.case_runs("A")]
    sgn._case_runs.cache_clear()
    np.testing.assert_array_equal(first, [c.error for c in sgn.case_runs("A")])


def test_step_ratios_and_stability_limit_against_naive_versions():
    game = sgn.quadratic_game(1.0, 1.3, 2.0, 0.3, dim=2, seed=1)
    w = np.array([0.2, 1.0])
    X0 = sgn.random_starts(5, 4, seed=2)
    R = sgn.w_step_ratios(game.J, w, 0.1, X0, 7)
    d = np.repeat(w, 2)
    for m in range(5):
        x = X0[m]
        for k in range(7):
            y = x - 0.1 * game.J @ x
            assert R[k, m] == pytest.approx((d @ y**2) / (d @ x**2), rel=1e-12)
            x = y
    J = sgn.case_game("A")[0].J
    hs = np.linspace(0.01, 2.0, 400)
    stable = [np.max(np.abs(np.linalg.eigvals(np.eye(2) - s * J))) < 1 for s in hs]
    h_true = sgn.stable_step_limit(J)
    assert h_true == pytest.approx(2 / (1 + np.sqrt(0.6)))
    assert np.array_equal(stable, hs < h_true)
    assert sgn.stable_step_limit(sgn.case_game("B")[0].J) == 0.0
    assert sgn.stable_step_limit(sgn.case_game("C")[0].J) == pytest.approx(0.2)
