"""Tests of paperlab.optim.optimistic_omd (chapter ``optimistic-omd-sea``, Chen et al. 2024)."""
from __future__ import annotations

import numpy as np
import pytest

from paperlab.optim import optimistic_omd as om


# --------------------------------------------------------------------------- naive references

def naive_oomd(stream, T, L=1.0, delta=1.0):
    """Optimistic OMD round by round, with explicit projections and a running sum."""
    d = stream.d
    x_hat, M, total = np.zeros(d), np.zeros(d), 0.0
    out = []
    for t in range(T):
        eta = min(1 / (4 * L), 2.0 / np.sqrt(delta + total))
        y = x_hat - eta * M
        x = y if np.linalg.norm(y) <= 1 else y / np.linalg.norm(y)
        g = stream.grad(t, x)
        total += float(np.sum((g - M) ** 2))
        z = x_hat - eta * g
        x_hat = z if np.linalg.norm(z) <= 1 else z / np.linalg.norm(z)
        M = g
        out.append(x)
    return np.array(out)


def naive_ogd(stream, T, G):
    x = np.zeros(stream.d)
    out = []
    for t in range(T):
        out.append(x)
        z = x - 2.0 / (G * np.sqrt(t + 1)) * stream.grad(t, x)
        x = z if np.linalg.norm(z) <= 1 else z / np.linalg.norm(z)
    return np.array(out)


# --------------------------------------------------------------------------- correctness

def test_projection_onto_the_ball():
    x = np.array([[3.0, 4.0], [0.3, 0.4]])
    np.testing.assert_allclose(om.project_ball(x), [[0.6, 0.8], [0.3, 0.4]])
    np.testing.assert_allclose(om.project_ball(x, 10.0), x)


@pytest.mark.parametrize("sigma,period,kappa", [(0.5, None, 0.0), (0.0, 7, 0.0), (0.2, 3, 1.5)])
def test_oomd_and_ogd_match_naive_loops(sigma, period, kappa):
    s = om.sea_stream(300, 4, sigma, period, seed=3, kappa=kappa)
    np.testing.assert_allclose(om.oomd(s.grad, 300, np.zeros(4)), naive_oomd(s, 300), atol=1e-13)
    G = float(s.G)
    np.testing.assert_allclose(om.ogd(s.grad, 300, np.zeros(4), G=G), naive_ogd(s, 300, G),
                               atol=1e-13)


def test_batched_runs_equal_separate_runs():
    streams = [om.sea_stream(200, 5, sg, p, seed=k) for k, (sg, p) in
               enumerate([(0.0, None), (0.5, 10), (1.0, 1)])]
    batch = om.stack_streams(streams)
    xs, etas = om.oomd(batch.grad, 200, np.zeros((3, 5)), return_steps=True)
    for b, s in enumerate(streams):
        xb, eb = om.oomd(s.grad, 200, np.zeros(5), return_steps=True)
        np.testing.assert_allclose(xs[:, b], xb, atol=1e-14)
        np.testing.assert_allclose(etas[:, b], eb, atol=1e-15)


def test_step_size_is_capped_then_shrinks():
    s = om.sea_stream(2000, 5, 1.0, None, seed=0)
    _, eta = om.oomd(s.grad, 2000, np.zeros(5), L=2.0, return_steps=True)
    assert eta[0] == pytest.approx(1 / 8)
    assert np.all(np.diff(eta) <= 1e-15) and eta[-1] < 0.05


def test_expected_gradient_and_noise_statistics():
    s = om.sea_stream(20000, 5, 0.7, None, seed=1, kappa=0.5)
    noise = s.xi + s.zeta[:, None] * 0.3           # grad f - grad F at x = 0.3 * ones
    assert np.abs(noise.mean(0)).max() < 0.03
    np.testing.assert_allclose(np.mean(s.xi ** 2), 0.49, rtol=1e-12)   # +-sigma exactly
    assert s.G == pytest.approx(1 + 0.7 * np.sqrt(5) + 0.5)


def test_comparator_in_closed_form():
    s = om.sea_stream(500, 5, 0.0, None)
    u, loss = om.comparator(s.centers)
    np.testing.assert_allclose(u, s.centers[0], atol=1e-12)
    assert loss == pytest.approx(0.0, abs=1e-20)
    s = om.sea_stream(400, 5, 0.0, 100)             # equal time at c and -c: u* = 0
    u, loss = om.comparator(s.centers)
    np.testing.assert_allclose(u, 0.0, atol=1e-12)
    assert loss == pytest.approx(400 * (np.sqrt(1.25) - 1), rel=1e-12)


def test_comparator_beats_random_points():
    s = om.sea_stream(350, 5, 0.0, 100)             # 200 rounds at c, 150 at -c
    u, loss = om.comparator(s.centers)
    pts = om.project_ball(np.random.default_rng(0).normal(size=(2000, 5)))
    others = np.array([om._phi(p - s.centers).sum() for p in pts])
    assert loss <= others.min() + 1e-12


def test_regret_and_variation_by_hand():
    s = om.sea_stream(1000, 5, 0.3, 50, seed=2)
    xs = om.oomd(s.grad, 1000, np.zeros(5))
    by_hand = sum(om._phi(x - c) for x, c in zip(xs[:600], s.centers[:600])) \
        - om.comparator(s.centers[:600])[1]
    assert om.regret(xs, s, 600) == pytest.approx(by_hand, rel=1e-12)
    sigma2, Sigma2 = om.variation(s)
    assert sigma2[-1] == pytest.approx(1000 * 5 * 0.09)
    jump = om._switch_jump(5, 1.0)
    assert Sigma2[-1] == pytest.approx(19 * jump)   # 19 switches in 1000 rounds
    c = s.centers[0]
    pts = om.project_ball(np.random.default_rng(0).normal(size=(5000, 5)))
    sampled = np.sum((om._phi_grad(pts - c) - om._phi_grad(pts + c)) ** 2, axis=1).max()
    assert sampled <= jump + 1e-9 and jump >= 0.8 - 1e-12


# --------------------------------------------------------------------------- the claims

@pytest.fixture(scope="module")
def other_seeds():
    return om.experiment(seeds=(5, 6, 7, 8, 9))


def _at(ex, alg, label, T):
    return ex.regret[alg][label][:, list(ex.horizons).index(T)].mean()


def test_bounded_regret_without_noise_or_variation(other_seeds):
    r250, r4000 = (_at(other_seeds, "OOMD", "σ = 0", T) for T in (250, 4000))
    assert 0 <= r4000 <= 1.5 * r250


def test_sqrt_growth_with_noise_and_with_fast_switching(other_seeds):
    for label in ("σ = 0.5", "switch every round"):
        ratio = _at(other_seeds, "OOMD", label, 4000) / _at(other_seeds, "OOMD", label, 250)
        assert 2 <= ratio <= 6, (label, ratio)


def test_regret_scales_with_the_noise(other_seeds):
    i = list(other_seeds.horizons).index(4000)
    norm = [_at(other_seeds, "OOMD", lab, 4000) / other_seeds.bound[lab][i]
            for lab in ("σ = 0.1", "σ = 0.5", "σ = 1")]
    assert max(norm) / min(norm) <= 1.5, norm


def test_oomd_tracks_a_switching_centre_better_than_ogd(other_seeds):
    assert _at(other_seeds, "OOMD", "switch every 10", 4000) < \
        _at(other_seeds, "OGD", "switch every 10", 4000)


def test_experiment_is_deterministic():
    a = om._experiment.__wrapped__(600, (0, 1), 5, 6)
    b = om._experiment.__wrapped__(600, (0, 1), 5, 6)
    for alg in a.regret:
        for lab in a.regret[alg]:
            np.testing.assert_array_equal(a.regret[alg][lab], b.regret[alg][lab])


# --------------------------------------------------------------------------- bad inputs

def test_bad_inputs():
    s = om.sea_stream(10, 3, 0.1)
    with pytest.raises(ValueError, match="radius must be in"):
        om.oomd(s.grad, 10, np.zeros(3), radius=0.0)
    with pytest.raises(ValueError, match="T must be an integer"):
        om.oomd(s.grad, 0, np.zeros(3))
    with pytest.raises(ValueError, match="L must be in"):
        om.oomd(s.grad, 10, np.zeros(3), L=-1.0)
    with pytest.raises(ValueError, match="sigma must be in"):
        om.sea_stream(10, 3, -0.5)
    with pytest.raises(ValueError, match="grad_oracle must return an array of shape"):
        om.oomd(lambda t, x: np.zeros(2), 10, np.zeros(3))
    with pytest.raises(ValueError, match="grad_oracle must return an array of shape"):
        om.ogd(lambda t, x: np.zeros((3, 3)), 10, np.zeros(3))
    with pytest.raises(ValueError, match="x0 must lie in the ball"):
        om.ogd(s.grad, 10, np.ones(3), radius=1.0)
    with pytest.raises(ValueError, match="G must be in"):
        om.ogd(s.grad, 10, np.zeros(3), G=0.0)
    with pytest.raises(ValueError, match="switch_period must be an integer"):
        om.sea_stream(10, 3, 0.1, switch_period=0)
    with pytest.raises(ValueError, match="T must be an integer"):
        om.sea_stream(0, 3, 0.1)
    with pytest.raises(ValueError, match="same T"):
        om.stack_streams([om.sea_stream(10, 3, 0.1), om.sea_stream(11, 3, 0.1)])
    with pytest.raises(ValueError, match="period must be one of"):
        om.draw(period=3)
