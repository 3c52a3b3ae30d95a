import itertools
import math

import numpy as np
import pytest
from matplotlib.figure import Figure

from paperlab import plotting
from paperlab.theory import estimability as est

RNG = np.random.default_rng(2024)


# ----------------------------------------------------------------------------- the algorithm

def _brute_force_rank(X: np.ndarray) -> int:
    """Rank over GF(2) = log2 of the number of distinct vectors X^T c, c in F_2^m."""
    m = X.shape[0]
    span = {tuple((np.array(c) @ X) % 2) for c in itertools.product((0, 1), repeat=m)}
    return int(round(math.log2(len(span))))


def test_gf2_solve_fits_and_has_the_right_rank():
    for _ in range(200):
        d, m = int(RNG.integers(2, 9)), int(RNG.integers(1, 9))
        theta = RNG.integers(0, 2, d)
        X = RNG.integers(0, 2, (m, d))
        y = X @ theta % 2
        h, r = est.gf2_solve(X, y)
        assert np.array_equal(X @ h % 2, y)
        assert r == _brute_force_rank(X)
        if r == d:
            assert np.array_equal(h, theta)           # full rank: the target is the only fit


def test_gf2_solve_sets_free_variables_to_zero():
    X = np.array([[1, 1, 0, 0], [0, 0, 1, 1]])
    h, r = est.gf2_solve(X, [1, 1])
    assert r == 2 and h.tolist() == [1, 0, 1, 0]       # pivots in columns 0 and 2
    h, r = est.gf2_solve(np.zeros((3, 4)), [0, 0, 0])
    assert r == 0 and h.tolist() == [0, 0, 0, 0]


def test_packed_solver_agrees_with_the_readable_one():
    d, m, T = 9, 7, 300
    rng = np.random.default_rng(5)
    X = rng.integers(0, 2, (T, m, d))
    theta = rng.integers(0, 2, (T, d))
    y = np.einsum("tmd,td->tm", X, theta) % 2
    weights = (1 << np.arange(d)).astype(np.uint64)
    packed = (X.astype(np.uint64) * weights).sum(-1) | (y.astype(np.uint64) << np.uint64(d))
    th_packed, r_packed = est._solve_packed(packed.astype(np.uint64), d)
    for t in range(T):
        h, r = est.gf2_solve(X[t], y[t])
        assert r == r_packed[t]
        assert int((h.astype(np.uint64) * weights).sum()) == int(th_packed[t])


# ----------------------------------------------------------------------------- exact laws

def test_rank_law_matches_the_closed_form_and_a_simulation():
    d, m = 6, 4
    P = est.rank_distribution(d, m)
    assert P.sum() == pytest.approx(1.0, abs=1e-14)
    full = np.prod([1 - 2.0 ** (i - d) for i in range(m)])      # m independent rows
    assert P[m] == pytest.approx(full, rel=1e-12)
    _, ranks = est.simulate_parity_erm(d, m, trials=40_000, seed=3)
    emp = np.bincount(ranks, minlength=m + 1) / ranks.size
    np.testing.assert_allclose(emp, P, atol=0.01)


def test_loss_law_given_rank_is_two_atoms_with_p_equal_2_to_rank_minus_d():
    d, m = 8, 7
    L, r = est.simulate_parity_erm(d, m, trials=40_000, seed=4)
    assert set(np.unique(L)) <= {0.0, 0.5}
    for k in (6, 7):
        sel = r == k
        assert np.mean(L[sel] == 0) == pytest.approx(2.0 ** (k - d), abs=0.02)
    assert np.mean(L == 0) == pytest.approx(est.success_probability(d, m), abs=0.01)


def test_best_estimator_is_optimal_among_constants_per_rank():
    for p in np.linspace(0, 1, 11):
        errs = [p * abs(e) + (1 - p) * abs(e - 0.5) for e in np.linspace(0, 0.5, 51)]
        assert min(errs) == pytest.approx(float(est.best_estimator_error(p)), abs=1e-12)
    assert est.best_estimator([16, 15, 10], 16).tolist() == [0.0, 0.0, 0.5]


def test_occam_and_overshoot():
    b = est.occam_bound(0.0, 16 * math.log(2), np.arange(1, 33), 0.05)
    assert b.min() == pytest.approx(math.sqrt((16 * math.log(2) + math.log(20)) / 64))
    assert b.min() > 0.4
    assert est.overshoot_probability(16, 20, 0.05) == 0.0
    assert est.overshoot_probability(16, 15, 0.05) == pytest.approx(
        est.success_probability(16, 15) - 0.1)


def test_learnable_once_m_exceeds_d():
    # P(rank < d) <= (2^d - 1) 2^-m
    for m in (20, 26, 30):
        assert 1 - est.success_probability(16, m) <= 2.0 ** (16 - m)


# ----------------------------------------------------------------------------- the chapter's claim

def _check_claim(ex):
    s15, s26 = ex.at(15), ex.at(26)
    assert 0.35 <= s15["p_success"] <= 0.43
    assert s15["best_error"] >= 0.17
    assert s26["p_success"] >= 0.99


def test_claim_at_a_second_seed():
    _check_claim(est.experiment(seed=1, ms=(15, 26)))


def test_exact_values_of_the_claim():
    assert est.success_probability(16, 15) == pytest.approx(0.390, abs=5e-4)
    assert est.estimation_lower_bound(16, 15) == pytest.approx(0.195, abs=5e-4)


def test_determinism():
    a = est.experiment(seed=7, ms=(5, 15), trials=500)
    est._experiment.cache_clear()
    b = est.experiment(seed=7, ms=(5, 15), trials=500)
    assert a.at(15) == b.at(15) and a.at(5) == b.at(5)
    La, ra = est.simulate_parity_erm(12, 10, 300, seed=2)
    Lb, rb = est.simulate_parity_erm(12, 10, 300, seed=2)
    assert np.array_equal(La, Lb) and np.array_equal(ra, rb)


def test_draw_corner_cases():
    for params in ({}, {"d": 24, "m": 48, "delta": 0.2}, {"d": 8, "m": 1, "delta": 0.01}):
        fig = est.draw(**params)
        assert isinstance(fig, Figure)
        plotting.to_png(fig, dpi=30)
        plotting.close(fig)
    assert list(est.SLIDERS)[0] == "m"


# ----------------------------------------------------------------------------- bad inputs

@pytest.mark.parametrize("d", [1, 0, 63, 100, 2.5])
def test_bad_dimension(d):
    with pytest.raises(ValueError, match="d must be"):
        est.simulate_parity_erm(d, 5)


def test_bad_sizes_and_trials():
    with pytest.raises(ValueError, match="m must be"):
        est.simulate_parity_erm(8, 0)
    with pytest.raises(ValueError, match="trials must be"):
        est.simulate_parity_erm(8, 5, trials=99)
    with pytest.raises(ValueError, match="m must be"):
        est.rank_distribution(8, 0)
    with pytest.raises(ValueError, match="delta"):
        est.occam_bound(0.0, 5.0, 10, 1.5)
    with pytest.raises(ValueError, match="p must be"):
        est.best_estimator_error(1.2)
    with pytest.raises(ValueError, match="rank must"):
        est.posterior_success(9, 8)


def test_bad_systems():
    with pytest.raises(ValueError, match="no parity"):
        est.gf2_solve([[1, 0], [1, 0]], [0, 1])
    with pytest.raises(ValueError, match="bits 0 and 1"):
        est.gf2_solve([[2, 0]], [0])
    with pytest.raises(ValueError, match="y must have 2"):
        est.gf2_solve([[1, 0], [0, 1]], [0])
