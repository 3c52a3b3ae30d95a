"""Tests of paperlab.theory.bandlimited_rf (chapter bandlimited-random-nets)."""
from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from paperlab import plotting
from paperlab.theory import bandlimited_rf as br


def test_hidden_units_are_bounded_and_nested():
    a, b = br.sample_hidden(500, 3, 2.5, seed=4)
    assert a.shape == (500, 3) and b.shape == (500,)
    assert np.abs(a).max() <= 2.5 and np.abs(b).max() <= 2.5
    assert np.abs(a).max() > 2.4                         # the whole box is used
    a2, b2 = br.sample_hidden(100, 3, 2.5, seed=4)
    assert np.array_equal(a2, a[:100]) and np.array_equal(b2, b[:100])


def test_fit_is_the_ridge_solution():
    x = np.linspace(-1, 1, 301)
    y = np.sin(3 * x)
    a, b = br.sample_hidden(40, 1, 3.0, seed=1)
    rho = 1e-4
    c = br.fit_random_net(x, y, a, b, ridge=rho)
    Phi = np.tanh(np.outer(x, a[:, 0]) - b)
    # the normal equations of (1/M)||Phi c - y||^2 + rho ||c||^2
    np.testing.assert_allclose(Phi.T @ (Phi @ c - y) / len(x) + rho * c, 0, atol=1e-10)
    np.testing.assert_allclose(br.predict(x, a, b, c), Phi @ c)
    err = br.rel_l2_error(a, b, c, lambda t: np.sin(3 * t), x)
    assert err == pytest.approx(np.linalg.norm(Phi @ c - y) / np.linalg.norm(y))
    # more hidden units than points: the dual form of the same problem
    a, b = br.sample_hidden(500, 1, 3.0, seed=1)
    c = br.fit_random_net(x, y, a, b, ridge=rho)
    Phi = np.tanh(np.outer(x, a[:, 0]) - b)
    np.testing.assert_allclose(Phi.T @ (Phi @ c - y) / len(x) + rho * c, 0, atol=1e-9)


def test_activations_and_dimension():
    X = np.random.default_rng(0).uniform(-1, 1, (200, 2))
    a, b = br.sample_hidden(30, 2, 1.0, seed=0)
    for act in br.ACTIVATIONS:
        Phi = br.features(X, a, b, act)
        assert Phi.shape == (200, 30) and np.all(np.isfinite(Phi))
    np.testing.assert_allclose(br.features(X, a, b, "sigmoid"), 1 / (1 + np.exp(-(X @ a.T - b))))


def test_experiment_matches_fit_random_net():
    """The nested Gram solve of simulate equals fitting each width from scratch."""
    res = br.simulate(lams=(4,), widths=(20, 60), ks=(2,), M=201, ridge=1e-6)
    x = np.linspace(-1, 1, 201)
    xt = 0.5 * (x[1:] + x[:-1])
    for N in (20, 60):
        a, b = br.sample_hidden(N, 1, 4.0, 0)
        c = br.fit_random_net(x, np.sin(2 * np.pi * x), a, b, ridge=1e-6)
        err = br.rel_l2_error(a, b, c, lambda t: np.sin(2 * np.pi * t), xt)
        assert res.error(2, 4.0, N) == pytest.approx(err, rel=1e-6)


def test_band_energy_floor():
    freqs, amps, _ = br.multi_frequency_target(4)
    total = 1 + 1 / 4 + 1 / 9 + 1 / 16
    assert br.band_energy_floor(freqs, amps, 0.0) == pytest.approx(1.0)
    expected = np.sqrt((1 / 9 + 1 / 16) / total)
    assert br.band_energy_floor(freqs, amps, 2.5 * np.pi) == pytest.approx(expected)
    assert br.band_energy_floor(freqs, amps, 100.0) == 0.0
    # fitting kappa recovers the constant that generated the floors
    lams = np.array([1.0, 2.0, 3.0])
    floors = [br.band_energy_floor(freqs, amps, 2.2 * l) for l in lams]
    kappa = br.fit_band_constant(lams, floors, freqs, amps)
    assert [br.band_energy_floor(freqs, amps, kappa * l) for l in lams] == pytest.approx(floors)


def _check_claim(res: br.Experiment) -> None:
    for N in res.widths:
        assert res.error(16, 2.0, N) > 0.9
    assert res.error(16, 32.0, 1600) < 0.01
    assert res.error(4, 1.0, 1600) > 0.8
    assert res.error(4, 4.0, 1600) < 0.01


def test_claim_at_a_second_seed():
    _check_claim(br.simulate(lams=(1, 2, 4, 32), ks=(4, 16), seed=1))


def test_determinism():
    a = br.simulate(lams=(2, 8), widths=(50, 200), ks=(4,), M=401, seed=3)
    b = br.simulate(lams=(2, 8), widths=(50, 200), ks=(4,), M=401, seed=3)
    assert np.array_equal(a.errors[4], b.errors[4]) and np.array_equal(a.multi, b.multi)
    assert a.kappa == b.kappa and a.table() == b.table()


def test_draw_corner_cases():
    for params in ({}, {"lam": 0.5, "k": 1, "N": 50}, {"lam": 128.0, "k": 32, "N": 1600}):
        fig = br.draw(**params)
        assert isinstance(fig, Figure)
        plotting.to_png(fig, dpi=30)
        plotting.close(fig)
    assert list(br.SLIDERS)[0] == "lam"


# ----------------------------------------------------------------------------- bad inputs

def test_bad_inputs():
    x = np.linspace(-1, 1, 50)
    a, b = br.sample_hidden(10, 1, 1.0)
    for lam in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="lam"):
            br.sample_hidden(10, 1, lam)
    with pytest.raises(ValueError, match="N must be"):
        br.sample_hidden(0, 1, 1.0)
    with pytest.raises(ValueError, match="ridge"):
        br.fit_random_net(x, np.sin(x), a, b, ridge=-1e-3)
    with pytest.raises(ValueError, match="finite"):
        br.fit_random_net(x, np.where(x > 0, np.nan, 0.0), a, b)
    with pytest.raises(ValueError, match="finite"):
        br.rel_l2_error(a, b, np.zeros(10), np.full(50, np.nan), x)
    options = r"act must be one of \['tanh', 'sigmoid', 'relu', 'gaussian'\]"
    with pytest.raises(ValueError, match=options):
        br.fit_random_net(x, np.sin(x), a, b, act="softplus")
    with pytest.raises(ValueError, match="target at the 50 points"):
        br.fit_random_net(x, np.sin(x)[:20], a, b)
    with pytest.raises(ValueError, match="d = 1"):
        br.features(np.zeros((5, 2)), a, b)
    with pytest.raises(ValueError, match="cutoff"):
        br.band_energy_floor([1.0], [1.0], -1.0)
    with pytest.raises(ValueError, match="zero on the grid"):
        br.rel_l2_error(a, b, np.zeros(10), np.zeros(50), x)
    with pytest.raises(ValueError, match="N must be one of"):
        br.draw(N=300)
    with pytest.raises(ValueError, match="lam"):
        br.draw(lam=200.0)
