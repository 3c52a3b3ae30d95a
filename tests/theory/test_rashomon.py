"""Tests of paperlab.theory.rashomon (chapter rashomon-ratio)."""
from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from paperlab import plotting
from paperlab.theory import rashomon as rs

RNG = np.random.default_rng(7)


def test_hypotheses_are_uniform_on_the_sphere():
    H = rs.sample_linear_hypotheses(3, 20_000, seed=1)
    assert H.shape == (20_000, 4)
    np.testing.assert_allclose(np.linalg.norm(H, axis=1), 1.0, atol=1e-12)
    # uniform on S^3: mean 0, second moments I / 4
    assert np.abs(H.mean(0)).max() < 0.02
    np.testing.assert_allclose(H.T @ H / len(H), np.eye(4) / 4, atol=0.01)
    assert np.array_equal(H, rs.sample_linear_hypotheses(3, 20_000, seed=1))


def test_losses_match_a_naive_loop():
    X = RNG.standard_normal((57, 3))
    y = np.where(RNG.random(57) < 0.4, 1, 0)          # {0, 1} labels
    H = rs.sample_linear_hypotheses(3, 300, seed=2)
    L = rs.empirical_losses(X, y, H)
    naive = [np.mean(np.where(X @ h[:3] + h[3] > 0, 1, 0) != y) for h in H]
    np.testing.assert_allclose(L, naive, atol=1e-12)
    # {-1, +1} labels give the same losses; flipping every label gives 1 - L
    ypm = np.where(y == 1, 1.0, -1.0)
    np.testing.assert_allclose(rs.empirical_losses(X, ypm, H), L, atol=1e-12)
    np.testing.assert_allclose(rs.empirical_losses(X, -ypm, H), 1 - L, atol=1e-12)
    # several label vectors at once
    both = rs.empirical_losses(X, np.c_[ypm, -ypm], H)
    assert both.shape == (300, 2)
    np.testing.assert_allclose(both[:, 0], L, atol=1e-12)


def test_ratio_and_exact_interval():
    losses = np.r_[np.full(30, 0.1), np.full(970, 0.5)]
    r, lo, hi = rs.rashomon_ratio(losses, 0.1, 0.0)
    assert r == pytest.approx(0.03)
    assert lo < 0.03 < hi
    # Clopper-Pearson: P(Bin(K, hi) <= k) = 2.5 %
    from scipy import stats
    assert stats.binom.cdf(30, 1000, hi) == pytest.approx(0.025, rel=1e-6)
    assert rs.rashomon_ratio(losses, 0.1, 0.4)[0] == 1.0
    r0, lo0, hi0 = rs.rashomon_ratio(losses, 0.0, 0.05)
    assert r0 == 0.0 and lo0 == 0.0 and 0 < hi0 < 0.005


def test_optimal_loss_is_at_most_the_sampled_minimum():
    t = rs.synthetic(0.1, n_train=400, n_test=50, seed=3)
    H = rs.sample_linear_hypotheses(4, 2000, seed=3)
    L = rs.empirical_losses(t.X_train, t.y_train, H)
    best = rs.optimal_loss(t.X_train, t.y_train, L)
    assert best <= L.min()
    assert 0.1 < best < 0.4


def test_label_noise_is_nested_and_affine():
    a, b = rs.synthetic(0.0, seed=5), rs.synthetic(0.3, seed=5)
    assert np.array_equal(a.X_train, b.X_train)
    flipped = a.y_train != b.y_train
    assert 0.27 < flipped.mean() < 0.33
    assert np.all((rs.synthetic(0.1, seed=5).y_train != a.y_train) <= flipped)


def test_tasks_are_binary_with_four_features():
    for name in rs.TASKS:
        t = rs.load_task(name)
        assert t.X_train.shape[1] == 4 and t.X_test.shape[1] == 4
        assert set(np.unique(t.y_train)) == {-1.0, 1.0}
    np.testing.assert_allclose(rs.load_task("wine (class 0)").X_train.std(0), 1.0)


def _check_claim(res: rs.Experiment) -> None:
    synth = rs.TASKS[:4]
    ratios = [res.ratio(t, 0.02)[0] for t in synth]
    assert all(b > a for a, b in zip(ratios, ratios[1:])), ratios
    assert ratios[-1] >= 3 * ratios[0], ratios
    top = max(rs.TASKS, key=lambda t: res.ratio(t, 0.02)[0])
    assert res.simple_gap(top) <= 0.05


def test_claim_at_a_second_seed():
    _check_claim(rs.simulate(seed=1))


def test_determinism():
    a = rs.simulate(K=2000, seed=3, tasks=rs.TASKS[2:6])
    b = rs.simulate(K=2000, seed=3, tasks=rs.TASKS[2:6])
    for t in a.losses:
        assert np.array_equal(a.losses[t], b.losses[t])
        assert a.best[t] == b.best[t] and a.accuracy[t] == b.accuracy[t]
    assert a.table() == b.table()
    # the shared product for the synthetic tasks equals separate products
    one = rs.simulate(K=2000, seed=3, tasks=(rs.TASKS[3],))
    assert np.array_equal(one.losses[rs.TASKS[3]], a.losses[rs.TASKS[3]])


def test_method_spread_keys():
    t = rs.load_task("iris (versicolor)")
    acc = rs.method_spread(t.X_train, t.y_train, t.X_test, t.y_test)
    assert set(acc) == set(rs.METHODS) | set(rs.SIMPLE_MODELS)
    assert all(0.5 <= a <= 1.0 for a in acc.values())


def test_draw_corner_cases():
    for params in ({}, {"theta": 0.0, "task": "breast cancer"},
                   {"theta": 0.1, "task": "iris (versicolor)"}):
        fig = rs.draw(**params)
        assert isinstance(fig, Figure)
        plotting.to_png(fig, dpi=30)
        plotting.close(fig)
    assert list(rs.SLIDERS)[0] == "theta"


# ----------------------------------------------------------------------------- bad inputs

def test_bad_inputs():
    X = RNG.standard_normal((20, 3))
    y = np.where(RNG.random(20) < 0.5, 1.0, -1.0)
    H = rs.sample_linear_hypotheses(3, 100)
    L = rs.empirical_losses(X, y, H)
    with pytest.raises(ValueError, match="theta"):
        rs.rashomon_ratio(L, 0.1, -0.01)
    with pytest.raises(ValueError, match="K"):
        rs.sample_linear_hypotheses(3, 99)
    with pytest.raises(ValueError, match="at least K = 100"):
        rs.rashomon_ratio(L[:50], 0.1, 0.02)
    with pytest.raises(ValueError, match="binary"):
        rs.empirical_losses(X, np.arange(20) % 3, H)
    with pytest.raises(ValueError, match="binary"):
        rs.optimal_loss(X, np.full(20, 2.0))
    with pytest.raises(ValueError, match="fewer features"):
        rs.sample_linear_hypotheses(13, 1000)
    with pytest.raises(ValueError, match="fewer features"):
        rs.empirical_losses(RNG.standard_normal((5, 13)), np.ones(5), np.ones((100, 14)))
    with pytest.raises(ValueError, match="columns"):
        rs.empirical_losses(X, y, np.ones((100, 3)))
    with pytest.raises(ValueError, match="entries"):
        rs.empirical_losses(X, y[:10], H)
    with pytest.raises(ValueError, match="finite"):
        rs.empirical_losses(np.full((20, 3), np.nan), y, H)
    with pytest.raises(ValueError, match="eta"):
        rs.synthetic(0.5)
    with pytest.raises(ValueError, match="name"):
        rs.load_task("mnist")
    with pytest.raises(ValueError, match="both classes"):
        rs.method_spread(X, np.ones(20), X, y)
    with pytest.raises(ValueError, match="theta"):
        rs.draw(theta=0.2)
    with pytest.raises(ValueError, match="task"):
        rs.draw(task="mnist")
