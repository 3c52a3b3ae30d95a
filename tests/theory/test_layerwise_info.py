"""Tests of paperlab.theory.layerwise_info (chapter info-theoretic-depth-bounds)."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import integrate, stats

from paperlab.theory import layerwise_info as li

MU10 = li.unit_mean(10)


# ----------------------------------------------------------------------------- building blocks

def test_gaussian_kl_matches_numerical_integration():
    for m1, v1, m2, v2 in ((0.3, 0.7, -0.2, 1.3), (1.0, 2.0, 1.0, 2.0), (0.0, 1.0, 0.5, 1.0 + 1e-9)):
        p, q = stats.norm(m1, math.sqrt(v1)), stats.norm(m2, math.sqrt(v2))
        num = integrate.quad(lambda t: p.pdf(t) * (p.logpdf(t) - q.logpdf(t)), -30, 30)[0]
        assert li.gaussian_kl(m1, v1, m2, v2) == pytest.approx(num, abs=1e-10)


def test_conditionals_match_simulated_training_sets():
    """Given w, a training input is N(Y w, (1 - 1/n) I): check the first two moments."""
    rng = np.random.default_rng(7)
    n, d, sets = 5, 3, 200_000
    mu = np.array([0.6, -0.3, 0.2])
    y = rng.choice((-1.0, 1.0), size=(sets, n))
    x = y[..., None] * mu + rng.standard_normal((sets, n, d))
    w = (y[..., None] * x).mean(1)
    m_tr, v_tr, m_te, v_te = li.conditional_gaussians(w, mu, n, l=1, s=0.0)
    proj = y[:, 0] * np.einsum("sd,sd->s", w, x[:, 0])       # Y_1 w^T X_1 (no noise: s = 0)
    r = proj - m_tr
    assert abs(r.mean()) < 4 * r.std() / math.sqrt(sets)
    assert np.mean(r ** 2 - v_tr) == pytest.approx(0.0, abs=4 * np.std(r ** 2 - v_tr) / math.sqrt(sets))
    # a fresh sample is independent of w
    yt = rng.choice((-1.0, 1.0), size=sets)
    xt = yt[:, None] * mu + rng.standard_normal((sets, d))
    rt = yt * np.einsum("sd,sd->s", w, xt) - m_te
    assert abs(rt.mean()) < 4 * rt.std() / math.sqrt(sets)
    assert np.mean(rt ** 2 - v_te) == pytest.approx(0.0, abs=4 * np.std(rt ** 2 - v_te) / math.sqrt(sets))


def test_conditionals_with_gain_and_noise():
    w = li.draw_weights(MU10, 20, 50, seed=1)
    a = (w * w).sum(1)
    m_tr, v_tr, m_te, v_te = li.conditional_gaussians(w, MU10, 20, l=3, s=0.5, g=2.0)
    np.testing.assert_allclose(m_tr, 4 * a)
    np.testing.assert_allclose(v_tr, 16 * a * 0.95 + 0.25 * (1 + 4 + 16))
    np.testing.assert_allclose(m_te, 4 * w[:, 0])
    np.testing.assert_allclose(v_te, 16 * a + 0.25 * 21)
    assert li.noise_variance(0, 0.5) == 0.0 and li.noise_variance(3, 0.5, 2.0) == pytest.approx(5.25)


def test_kl_by_layer_is_the_average_of_conditional_kls():
    n, s, g = 20, 0.5, 1.3
    w = li.draw_weights(MU10, n, 4000, seed=3)
    kl = li.kl_by_layer(MU10, n, s, g, L=4, n_mc=4000, seed=3)
    for l in range(1, 5):
        m1, v1, m2, v2 = li.conditional_gaussians(w, MU10, n, l, s, g)
        assert kl[l - 1] == pytest.approx(li.gaussian_kl(m1, v1, m2, v2).mean(), rel=1e-10)


def test_kl_input_is_the_individual_sample_mutual_information():
    """KL_0 = E_w KL(N(w, (1-1/n) I) || N(mu, I)) in d dimensions = (d/2) log(n/(n-1))."""
    for d, n in ((1, 5), (10, 20)):
        mu = li.unit_mean(d)
        w = li.draw_weights(mu, n, 200_000, seed=0)
        c = 1 - 1 / n
        mc = 0.5 * (d * c - d - d * math.log(c) + ((w - mu) ** 2).sum(1)).mean()
        assert li.kl_input(d, n) == pytest.approx(mc, rel=5e-3)


def test_gap_matches_brute_force_training():
    for n, s, L in ((20, 0.5, 8), (5, 1.0, 3), (10, 0.0, 2)):
        exact = li.generalization_gap(MU10, n, s, L=L)
        sim, se = li.simulate_gap(MU10, n, s, L=L, n_sets=20_000, seed=2)
        assert abs(exact - sim) < 4 * se + 1e-3, (n, s, L, exact, sim, se)


def test_remaining_loss_has_the_same_mean_at_every_layer():
    """Tower property: E_train[loss_l(W, T_l, Y)] is the same train loss for every l."""
    n, s, g, L = 20, 0.5, 1.0, 6
    rng = np.random.default_rng(5)
    w = li.draw_weights(MU10, n, 200_000, seed=5)
    y = rng.choice((-1.0, 1.0), size=w.shape[0])
    train, test = li.expected_losses(MU10, n, s, g, L)
    for l in (1, 3, 6):
        m1, v1, m2, v2 = li.conditional_gaussians(w, MU10, n, l, s, g)
        t_tr = y * m1 + np.sqrt(v1) * rng.standard_normal(y.size)
        t_te = y * m2 + np.sqrt(v2) * rng.standard_normal(y.size)
        assert li.remaining_loss(t_tr, y, l, L, s, g).mean() == pytest.approx(train, abs=4e-3)
        assert li.remaining_loss(t_te, y, l, L, s, g).mean() == pytest.approx(test, abs=4e-3)
    assert np.all(li.remaining_loss(np.array([-1.0, 2.0]), np.array([1.0, 1.0]), 4, 4, 0.5) == [1.0, 0.0])


@pytest.mark.parametrize("g", [0.5, 1.0, 2.0])
def test_data_processing_kl_decreases_with_depth(g):
    kl = li.kl_by_layer(MU10, 20, 0.3, g, L=12, n_mc=5000)
    assert np.all(np.diff(kl) < 0)
    assert li.kl_input(10, 20) > kl[0]
    flat = li.kl_by_layer(MU10, 20, 0.0, g, L=5, n_mc=5000)      # no noise: no contraction
    np.testing.assert_allclose(flat, flat[0], rtol=1e-12)


def test_bound_holds_everywhere_on_the_chapter_grid():
    r = li.experiment()
    for key, e in r.table.items():
        assert np.all(li.bound_from_kl(e["kl"]) >= e["gap"]), key
        assert li.bound_from_kl(e["kl0"]) >= li.bound_from_kl(e["kl"][0]), key
    assert np.all(r.bound_n[..., 1] >= r.gap_n)


def test_bound_from_kl():
    assert li.bound_from_kl(0.5) == pytest.approx(0.5)
    assert li.bound_from_kl(2.0, sigma=1.0) == pytest.approx(2.0)
    np.testing.assert_allclose(li.bound_from_kl([0.0, 8.0]), [0.0, 2.0])


# ----------------------------------------------------------------------------- the chapter's claim

def _claim(seed: int) -> dict:
    kl = li.kl_by_layer(MU10, 20, 0.5, 1.0, L=8, seed=seed)
    gap = li.generalization_gap(MU10, 20, 0.5, 1.0, L=8, seed=seed)
    b5 = li.bound_from_kl(li.kl_by_layer(MU10, 5, 0.5, 1.0, L=8, seed=seed))
    b100 = li.bound_from_kl(li.kl_by_layer(MU10, 100, 0.5, 1.0, L=8, seed=seed))
    return {"kl": kl, "gap": gap, "factor": b5 / b100}


def test_claim_at_a_second_seed():
    c = _claim(1)
    assert np.all(np.diff(c["kl"]) < 0)
    assert np.all(li.bound_from_kl(c["kl"]) >= 1.5 * c["gap"])
    assert c["kl"][-1] / c["kl"][0] <= 0.65
    assert np.all(c["factor"] >= 3.0)


def test_rates():
    rates = li.experiment().rates(1000)
    slope, lo, hi = rates["bound"]
    assert -0.6 < lo <= slope <= hi < -0.45
    assert -1.1 < rates["gap"][1] <= rates["gap"][2] < -0.9


def test_determinism():
    a, b = _claim(3), _claim(3)
    assert np.array_equal(a["kl"], b["kl"]) and a["gap"] == b["gap"]


# ----------------------------------------------------------------------------- bad inputs

@pytest.mark.parametrize("kwargs, match", [
    ({"n": 1}, "n must be"), ({"n": 2.5}, "n must be"), ({"s": -0.1}, "s must be"),
    ({"L": 0}, "L must be"), ({"g": 0.0}, "g must be"), ({"n_mc": 0}, "n_mc"),
    ({"s": float("nan")}, "s must be"),
])
def test_bad_inputs(kwargs, match):
    args = dict(mu=MU10, n=20, s=0.5, g=1.0, L=8, n_mc=100, seed=0) | kwargs
    with pytest.raises(ValueError, match=match):
        li.kl_by_layer(**args)
    with pytest.raises(ValueError, match=match):
        li.generalization_gap(**args)


def test_zero_mean_warns_but_computes():
    with pytest.warns(UserWarning, match="no signal"):
        kl = li.kl_by_layer(np.zeros(3), 10, 0.5, L=3, n_mc=1000)
    assert np.all(np.isfinite(kl)) and np.all(np.diff(kl) < 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        train, test = li.expected_losses(np.zeros(3), 10, 0.5, L=3)
    assert test == pytest.approx(0.5) and train < 0.5


def test_bad_arrays():
    w = li.draw_weights(MU10, 20, 10)
    w[0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        li.conditional_gaussians(w, MU10, 20, 1, 0.5)
    with pytest.raises(ValueError, match="columns"):
        li.conditional_gaussians(np.zeros((4, 3)), MU10, 20, 1, 0.5)
    with pytest.raises(ValueError, match="mu"):
        li.kl_by_layer([], 20, 0.5)
    with pytest.raises(ValueError, match="mu"):
        li.kl_by_layer([1.0, np.inf], 20, 0.5)
    with pytest.raises(ValueError, match="labels"):
        li.remaining_loss([0.1], [0.5], 1, 2, 0.5)
    with pytest.raises(ValueError, match="l must be"):
        li.remaining_loss([0.1], [1.0], 3, 2, 0.5)
    with pytest.raises(ValueError, match="non-negative"):
        li.bound_from_kl(-0.1)
    with pytest.raises(ValueError, match="positive variances"):
        li.gaussian_kl(0, 0, 0, 1)
