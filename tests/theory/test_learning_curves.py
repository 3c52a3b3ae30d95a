"""Tests of paperlab.theory.learning_curves (chapter learning-curve-extrapolation)."""
import itertools

import numpy as np
import pytest
from matplotlib.figure import Figure

from paperlab import plotting
from paperlab.theory import learning_curves as lc

X = np.geomspace(300, 30000, 24)


def test_pattern_is_increasing_concave_and_bounded():
    y = lc.accuracy_pattern(X, 5.0, 0.5, 0.97)
    assert np.all(np.diff(y) > 0)
    xl = np.linspace(100, 1000, 50)
    assert np.all(np.diff(lc.accuracy_pattern(xl, 5.0, 0.5, 0.97), 2) < 0)
    assert np.all(y < 0.97)


def test_fit_recovers_an_exact_pattern():
    a, b, c = 4.0, 0.6, 0.96
    t = lc.fit_trend(X, lc.accuracy_pattern(X, a, b, c))
    assert t.valid
    assert t.a == pytest.approx(a, rel=1e-3) and t.b == pytest.approx(b, rel=1e-3)
    assert t.c == pytest.approx(c, abs=1e-5)


def test_sequence_on_an_exact_pattern_predicts_the_target_at_every_level():
    y = lc.accuracy_pattern(X, 4.0, 0.6, 0.96)
    preds, valid = lc.trend_sequence(X, y, X[-1])
    assert np.all(np.isnan(preds[:3])) and not valid[:3].any()
    assert valid[3:].all()
    np.testing.assert_allclose(preds[3:], y[-1], atol=1e-4)
    level = lc.prediction_level(preds, valid)
    assert level == 6


def test_anchoring_pulls_the_trend_to_the_newest_point():
    rng = np.random.default_rng(0)
    y = lc.accuracy_pattern(X[:10], 4.0, 0.6, 0.96) + 0.003 * rng.standard_normal(10)
    gaps = [abs(lc.fit_trend(X[:10], y, w)(X[9:10])[0] - y[9]) for w in (0.0, 10.0, 1000.0)]
    assert gaps[2] < gaps[1] < gaps[0]
    assert gaps[2] < 1e-4


def test_a_failed_or_improper_fit_is_invalid_not_an_error():
    y = np.linspace(0.9, 0.8, 8)                       # a decreasing "learning curve"
    t = lc.fit_trend(X[:8], y)
    assert not t.valid
    preds, valid = lc.trend_sequence(X[:8], y, X[-1])
    assert not valid.any()
    assert lc.prediction_level(preds, valid) is None
    assert lc.proximity_stop(preds, 0.01, None) is None


def test_prediction_level_and_proximity_stop():
    p = np.array([np.nan, np.nan, np.nan, 0.90, 0.95, 0.93, 0.94, 0.945, 0.9455, 0.946, 0.9461])
    v = np.array([0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1], bool)
    # levels 4-6 (0.90, 0.95, 0.93) and 5-7 are not monotone; 6-8 (0.93, 0.94, 0.945) are
    assert lc.prediction_level(p, v) == 8
    v2 = v.copy()
    v2[5] = False                                          # trend 6 invalid: first triple is 7-9
    assert lc.prediction_level(p, v2) == 9
    assert lc.proximity_stop(p, 0.001, 8) == 9             # |0.9455 - 0.945| <= 0.001
    assert lc.proximity_stop(p, 0.001, 8, patience=2) == 10
    assert lc.proximity_stop(p, 1e-6, 7) is None


def _brute_force_viterbi(words, ls, lt, le):
    K = ls.size
    best, arg = -np.inf, None
    for seq in itertools.product(range(K), repeat=len(words)):
        s = ls[seq[0]] + le[seq[0], words[0]]
        for t in range(1, len(words)):
            s += lt[seq[t - 1], seq[t]] + le[seq[t], words[t]]
        if s > best:
            best, arg = s, seq
    return np.array(arg)


def test_viterbi_matches_brute_force():
    rng = np.random.default_rng(1)
    K, V = 3, 5
    ls = np.log(rng.dirichlet(np.ones(K)))
    lt = np.log(rng.dirichlet(np.ones(K), size=K))
    le = np.log(rng.dirichlet(np.ones(V), size=K))
    words = rng.integers(0, V, size=(6, 5))
    path = lc.viterbi(words, ls, lt, le)
    for s in range(6):
        np.testing.assert_array_equal(path[s], _brute_force_viterbi(words[s], ls, lt, le))


def test_train_hmm_is_add_k_smoothed_counting():
    words = np.array([[0, 1, 1], [2, 1, 0]])
    tags = np.array([[0, 1, 1], [1, 1, 0]])
    ls, lt, le = lc.train_hmm(words, tags, 2, 3, smoothing=0.1)
    np.testing.assert_allclose(np.exp(ls), [1.1 / 2.2, 1.1 / 2.2])
    # transitions from tag 1: 1->1 twice, 1->0 once
    np.testing.assert_allclose(np.exp(lt[1]), [1.1 / 3.2, 2.1 / 3.2])
    # tag 1 emitted words 1, 1, 2, 1
    np.testing.assert_allclose(np.exp(le[1]), [0.1 / 4.3, 3.1 / 4.3, 1.1 / 4.3])
    for m in (lt, le):
        np.testing.assert_allclose(np.exp(m).sum(1), 1.0)


def test_the_tagging_curve_rises():
    x, acc = lc.hmm_tagging_curve(0)
    assert x.size == 24 and x[-1] == 30000
    assert np.all((acc > 0.5) & (acc < 1))
    assert acc[-1] - acc[0] > 0.08
    assert np.mean(np.diff(acc) > 0) > 0.8


# ----------------------------------------------------------------------------- the chapter's claim

def _check_claim(e):
    assert e.error_at_fraction(0.25) <= 0.015
    assert e.stop is not None and e.fraction[e.stop - 1] < 0.6
    assert abs(e.preds[e.stop - 1] - e.final) <= 0.01
    plain, anchored = e.outlier_errors()
    assert anchored <= plain


def test_claim_at_seed_0():
    _check_claim(lc.experiment(0))


def test_claim_at_a_second_seed():
    _check_claim(lc.experiment(4))


def test_determinism():
    a = lc.experiment.__wrapped__(0)
    b = lc.experiment(0)
    assert np.array_equal(a.acc, b.acc)
    np.testing.assert_array_equal(a.preds, b.preds)
    assert a.stop == b.stop and a.level == b.level


def test_draw_corner_cases():
    for params in ({}, {"tau": 1e-4, "anchor_weight": 20.0, "outlier_level": 23},
                   {"tau": 1e-2, "outlier_level": 1}):
        fig = lc.draw(**params)
        assert isinstance(fig, Figure)
        plotting.to_png(fig, dpi=30)
        plotting.close(fig)
    assert list(lc.SLIDERS)[0] == "tau"


# ----------------------------------------------------------------------------- bad inputs

@pytest.mark.parametrize("x, acc, match", [
    (X[:5][::-1], np.linspace(0.8, 0.9, 5), "increasing"),
    (np.array([1.0, 2.0, 2.0, 3.0, 4.0]), np.linspace(0.8, 0.9, 5), "increasing"),
    (X[:3], np.linspace(0.8, 0.9, 3), "at least 4"),
    (X[:5], np.array([0.8, 0.9, 1.2, 0.9, 0.95]), r"\[0, 1\]"),
    (X[:5], np.array([0.8, -0.1, 0.9, 0.9, 0.95]), r"\[0, 1\]"),
    (X[:5], np.linspace(0.8, 0.9, 4), "same length"),
])
def test_bad_curves(x, acc, match):
    with pytest.raises(ValueError, match=match):
        lc.fit_trend(x, acc)
    with pytest.raises(ValueError, match=match):
        lc.trend_sequence(x, acc, 30000)


@pytest.mark.parametrize("tau", [0.0, -0.01, float("nan")])
def test_bad_tau(tau):
    with pytest.raises(ValueError, match="tau"):
        lc.proximity_stop(np.ones(6), tau, 4)
    with pytest.raises(ValueError, match="tau"):
        lc.draw(tau=tau)


def test_other_bad_inputs():
    with pytest.raises(ValueError, match="anchor_weight"):
        lc.fit_trend(X[:5], np.linspace(0.8, 0.9, 5), anchor_weight=-1)
    with pytest.raises(ValueError, match="x_target"):
        lc.trend_sequence(X[:5], np.linspace(0.8, 0.9, 5), 0)
    with pytest.raises(ValueError, match="patience"):
        lc.proximity_stop(np.ones(6), 0.1, 4, patience=0)
    with pytest.raises(ValueError, match="valid"):
        lc.prediction_level(np.ones(5), np.ones(4, bool))
    with pytest.raises(ValueError, match="sizes"):
        lc.hmm_tagging_curve(0, sizes=(10, 5))
    with pytest.raises(ValueError, match="level"):
        lc.with_outlier(np.ones(5), 6)
    with pytest.raises(ValueError, match="positive"):
        lc.accuracy_pattern([0.0, 1.0], 1.0, 1.0, 1.0)
