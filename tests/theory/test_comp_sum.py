import numpy as np
import pytest
from matplotlib.figure import Figure
from scipy.optimize import minimize

from paperlab import plotting
from paperlab.theory import comp_sum as cs

RNG = np.random.default_rng(7)


def test_loss_matches_the_comp_sum_definition():
    h = RNG.standard_normal((20, 4))
    y = RNG.integers(0, 4, 20)
    u = np.array([np.exp(h[i] - h[i, y[i]]).sum() - 1.0 for i in range(20)])
    for tau in (0.0, 0.5, 1.5, 2.0):
        phi = ((1 + u) ** (1 - tau) - 1) / (1 - tau)
        np.testing.assert_allclose(cs.loss(h, y, tau), phi, rtol=1e-10)
    np.testing.assert_allclose(cs.loss(h, y, 1.0), np.log1p(u), rtol=1e-10)
    s = np.exp(h) / np.exp(h).sum(1, keepdims=True)
    np.testing.assert_allclose(cs.loss(h, y, 2.0), 1 - s[np.arange(20), y], atol=1e-12)


@pytest.mark.parametrize("tau", [0.0, 0.5, 1.0, 1.5])
def test_best_conditional_risk_is_the_numerical_minimum(tau):
    p = RNG.dirichlet(np.ones(4))
    res = minimize(lambda h: cs.conditional_risk(h, p, tau)[0], np.zeros(4), method="BFGS")
    assert cs.best_conditional_risk(p, tau)[0] == pytest.approx(res.fun, abs=1e-6)


def test_mae_infimum_is_one_minus_max():
    p = np.array([0.5, 0.3, 0.2])
    assert cs.best_conditional_risk(p, 2.0)[0] == pytest.approx(0.5)
    assert cs.conditional_excess([30.0, 0.0, 0.0], p, 2.0)[0] == pytest.approx(0.0, abs=1e-12)


def test_T_special_cases_and_inverse():
    t = np.linspace(0, 1, 11)
    np.testing.assert_allclose(cs.T_tau(t, 0.0, 5), 1 - np.sqrt(1 - t ** 2), atol=1e-12)
    np.testing.assert_allclose(cs.T_tau(t, 2.0, 4), t / 4)
    # continuity in tau at 1 and at 2
    np.testing.assert_allclose(cs.T_tau(t, 1 - 1e-6, 3), cs.T_tau(t, 1.0, 3), atol=1e-5)
    np.testing.assert_allclose(cs.T_tau(t, 1 + 1e-6, 3), cs.T_tau(t, 1.0, 3), atol=1e-5)
    np.testing.assert_allclose(cs.T_tau(t, 2 - 1e-3, 3), t / 3, atol=2e-3)
    e = cs.T_tau(t, 1.5, 3)
    # near t = 0, T ~ c t^2 is resolved only to ~1e-16, so the inverse only to ~1e-8
    np.testing.assert_allclose(cs.Gamma_tau(e, 1.5, 3), t, atol=1e-7)
    assert cs.Gamma_tau(10.0, 1.0, 3) == 1.0


def test_binary_bound_is_attained_at_a_near_tie():
    """n = 2, p = ((1+t)/2, (1-t)/2), scores a hair in favour of the wrong class: equality."""
    for tau in (0.0, 0.5, 1.0, 1.5, 2.0):
        for t in (0.2, 0.6, 0.9):
            p = np.array([(1 + t) / 2, (1 - t) / 2])
            h = np.array([0.0, 1e-9])
            assert cs.zero_one_excess(h, p)[0] == pytest.approx(t)
            assert cs.conditional_excess(h, p, tau)[0] == pytest.approx(
                cs.T_tau(t, tau, 2), rel=1e-6, abs=1e-12)


def _check_claim(family, gaps):
    assert sum(v[0] for v in family.values()) == 0
    assert max(v[1] for k, v in family.items() if k[0] == 2) <= 1.01
    for g in gaps.values():
        assert np.all(np.diff(g) <= 1e-12)


def test_claim_at_a_second_seed():
    ex = cs.experiment(size=20_000, seed=1, steps=60, radii=(0.5, 2.0, 8.0))
    _check_claim(ex.family, ex.gaps)


def test_training_respects_the_bound():
    ex = cs.experiment(size=1000, seed=0, steps=60, radii=(1.0, 4.0))
    for tau, (sur, zo) in ex.curves.items():
        assert np.all(zo <= cs.Gamma_tau(np.maximum(sur, 0), tau, 3) + 1e-9)
        assert np.all(np.diff(sur) <= 1e-12)     # monotone descent (backtracking)


def test_determinism():
    a = cs.check_family(ns=(3,), size=2000, seed=4)
    b = cs.check_family(ns=(3,), size=2000, seed=4)
    assert a == b


def test_draw_corner_cases():
    for params in ({}, {"tau": 0.0, "n": 10, "alpha": 0.05}, {"tau": 2.0, "n": 2, "alpha": 10.0}):
        fig = cs.draw(**params)
        assert isinstance(fig, Figure)
        plotting.to_png(fig, dpi=30)
        plotting.close(fig)
    assert list(cs.SLIDERS)[0] == "tau"


@pytest.mark.parametrize("tau", [-0.1, 2.1, float("nan"), "1"])
def test_bad_tau(tau):
    with pytest.raises(ValueError, match="tau"):
        cs.loss(np.zeros((1, 3)), [0], tau)
    with pytest.raises(ValueError, match="tau"):
        cs.T_tau(0.5, tau, 3)


def test_other_bad_inputs():
    with pytest.raises(ValueError, match="n"):
        cs.T_tau(0.5, 1.0, 1)
    with pytest.raises(ValueError, match="n >= 2"):
        cs.loss(np.zeros((2, 1)), [0, 0], 1.0)
    with pytest.raises(ValueError, match="sum to 1"):
        cs.conditional_excess(np.zeros(3), [0.5, 0.4, 0.2], 1.0)
    with pytest.raises(ValueError, match="sum to 1"):
        cs.best_conditional_risk([0.5, 0.5 + 1e-7], 1.0)
    with pytest.raises(ValueError, match="finite"):
        cs.conditional_risk([0.0, np.inf, 1.0], [0.2, 0.3, 0.5], 1.0)
    with pytest.raises(ValueError, match="y must"):
        cs.loss(np.zeros((2, 3)), [0, 3], 1.0)
    with pytest.raises(ValueError, match="r must"):
        cs.LinearScores(np.ones((4, 2)), r=-1.0)
