"""Tests of paperlab.generative.bdia (chapter bdia-exact-inversion)."""
from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from paperlab import plotting
from paperlab.data import GaussianMixture, gmm2d
from paperlab.generative import bdia

RNG = np.random.default_rng(12345)
EPS = bdia.gmm_eps()


def gaussian(s: float) -> GaussianMixture:
    """x ~ N(0, s^2 I) in 2-D: p_t = N(0, v_t I) with v_t = abar_t s^2 + 1 - abar_t."""
    return GaussianMixture([1.0], [[0.0, 0.0]], [[[s * s, 0.0], [0.0, s * s]]])


def v(t, s):
    ab = bdia.ALPHA_BAR[t]
    return ab * s * s + 1.0 - ab


# ----------------------------------------------------------------------------- schedule

def test_schedule_is_the_linear_ddpm_schedule():
    ab = bdia.ALPHA_BAR
    assert ab.shape == (1000,)
    assert ab[0] == pytest.approx(1 - 1e-4)
    assert ab[1] == pytest.approx((1 - 1e-4) * (1 - (1e-4 + (0.02 - 1e-4) / 999)))
    assert np.all(np.diff(ab) < 0)
    assert 1e-5 < ab[-1] < 1e-4            # about 4e-5: z_999 is almost pure noise
    assert not ab.flags.writeable


def test_make_timesteps():
    t = bdia.make_timesteps(10)
    assert t.dtype.kind == "i"
    assert t.tolist() == [999, 899, 799, 699, 599, 500, 400, 300, 200, 100, 0]
    full = bdia.make_timesteps(999)
    assert full.tolist() == list(range(999, -1, -1))


# ----------------------------------------------------------------------------- the eps model

def test_gmm_eps_is_minus_sigma_times_the_exact_score():
    s = 2.0
    eps = bdia.gmm_eps(gaussian(s))
    z = RNG.standard_normal((7, 2))
    for t in (0, 300, 999):
        sigma = np.sqrt(1 - bdia.ALPHA_BAR[t])
        # for a Gaussian, grad log p_t(z) = -z / v_t, so eps_hat = sigma_t z / v_t
        np.testing.assert_allclose(eps(z, t), sigma * z / v(t, s), rtol=1e-12)
    g = gmm2d()
    a, sig = np.sqrt(bdia.ALPHA_BAR[500]), np.sqrt(1 - bdia.ALPHA_BAR[500])
    np.testing.assert_allclose(EPS(z, 500), -sig * g.diffuse(a, sig).score(z), rtol=1e-12)


# ----------------------------------------------------------------------------- DDIM

def test_ddim_delta_is_exact_along_a_noising_path():
    """If eps_hat is the noise that made z_i, one Delta lands exactly on alpha_j x + sigma_j e."""
    x, e = RNG.standard_normal((5, 2)), RNG.standard_normal((5, 2))
    ab = bdia.ALPHA_BAR
    for i, j in ((900, 100), (100, 900), (0, 999), (400, 400)):
        z_i = np.sqrt(ab[i]) * x + np.sqrt(1 - ab[i]) * e
        z_j = np.sqrt(ab[j]) * x + np.sqrt(1 - ab[j]) * e
        np.testing.assert_allclose(z_i + bdia.ddim_delta(z_i, e, ab[i], ab[j]), z_j, atol=1e-12)
    assert np.all(bdia.ddim_delta(z_i, e, ab[400], ab[400]) == 0)


def test_gamma_zero_is_ddim():
    z = RNG.standard_normal((20, 2))
    t = bdia.make_timesteps(8)
    ab = bdia.ALPHA_BAR[t]
    ref = [z]
    for k in range(len(t) - 1):       # a hand-written DDIM loop
        zk = ref[-1]
        e = EPS(zk, t[k])
        x0 = (zk - np.sqrt(1 - ab[k]) * e) / np.sqrt(ab[k])
        ref.append(np.sqrt(ab[k + 1]) * x0 + np.sqrt(1 - ab[k + 1]) * e)
    out = bdia.bdia_sample(EPS, z, t, gamma=0.0)
    assert len(out) == len(t)
    for a, b in zip(out, ref):
        np.testing.assert_allclose(a, b, atol=1e-13)


def test_ddim_and_bdia_converge_to_the_closed_form_flow():
    """For x ~ N(0, s^2 I) the probability-flow ODE only rescales: z_t / sqrt(v_t) is constant.

    DDIM (gamma = 0) is first order: its error halves when N doubles. BDIA with gamma = 1 is a
    symmetric two-step rule (like leapfrog) and is second order: its error falls about 4-fold.
    """
    s = 2.0
    eps = bdia.gmm_eps(gaussian(s))
    z = RNG.standard_normal((50, 2))
    exact = z * np.sqrt(v(0, s) / v(999, s))

    def err(n, g):
        return np.abs(bdia.bdia_sample(eps, z, bdia.make_timesteps(n), gamma=g)[-1] - exact).max()

    ddim = [err(n, 0.0) for n in (10, 20, 40)]
    leap = [err(n, 1.0) for n in (10, 20, 40)]
    assert err(999, 0.0) < 0.01 * np.abs(exact).max()
    for a, b in zip(ddim, ddim[1:]):
        assert 1.8 < a / b < 2.2
    for a, b in zip(leap, leap[1:]):
        assert a / b > 3.5
    assert err(10, 0.5) < ddim[0]


def test_ddim_inversion_is_only_approximate():
    x0 = gmm2d().sample(500, seed=4)
    t = bdia.make_timesteps(10)
    rec = bdia.bdia_sample(EPS, bdia.ddim_invert(EPS, x0, t), t, gamma=0.0)[-1]
    e10 = np.linalg.norm(rec - x0, axis=1)[:50].mean()
    assert np.linalg.norm(rec - x0, axis=1).mean() > 0.05
    # with 40 times more steps the error is about 40 times smaller (first order), never zero
    t = bdia.make_timesteps(400)
    rec = bdia.bdia_sample(EPS, bdia.ddim_invert(EPS, x0[:50], t), t, gamma=0.0)[-1]
    e400 = np.linalg.norm(rec - x0[:50], axis=1).mean()
    assert e10 / 60 < e400 < e10 / 20


# ----------------------------------------------------------------------------- BDIA

def _random_step_inputs():
    z_ip1, z_i, e = (RNG.standard_normal((6, 2)) for _ in range(3))
    ab = bdia.ALPHA_BAR
    return z_ip1, z_i, e, ab[600], ab[500], ab[400]


@pytest.mark.parametrize("gamma", [0.0, 0.3, 0.5, 1.0])
def test_step_agrees_with_the_readme_and_the_official_code(gamma):
    """The paper's form, the official README's form (gamma <-> 1 - gamma) and the official code.

    README:  z_{i-1} = z_{i+1} - g'(z_{i+1} - z_i) - (1 - g') D(t_i->t_{i+1}) + D(t_i->t_{i-1})
    code:    z_{i-1} = z_{i+1} - (1 - g)(z_{i+1} - z_i) - g D(t_i->t_{i+1}) + D(t_i->t_{i-1})
    """
    z_ip1, z_i, e, a_ip1, a_i, a_im1 = _random_step_inputs()
    back = bdia.ddim_delta(z_i, e, a_i, a_ip1)
    fwd = bdia.ddim_delta(z_i, e, a_i, a_im1)
    ours = bdia.bdia_step(z_ip1, z_i, e, a_ip1, a_i, a_im1, gamma)
    g_readme = 1.0 - gamma
    readme = z_ip1 - g_readme * (z_ip1 - z_i) - (1 - g_readme) * back + fwd
    code = z_ip1 - (1 - gamma) * (z_ip1 - z_i) - gamma * back + fwd
    np.testing.assert_allclose(ours, readme, atol=1e-13)
    np.testing.assert_allclose(ours, code, atol=1e-13)
    if gamma == 0:   # DDIM: z_{i+1} plays no role
        np.testing.assert_allclose(ours, z_i + fwd, atol=1e-14)


@pytest.mark.parametrize("gamma", [0.05, 0.5, 0.94, 1.0])
def test_step_inverse_undoes_the_step(gamma):
    z_ip1, z_i, e, a_ip1, a_i, a_im1 = _random_step_inputs()
    z_im1 = bdia.bdia_step(z_ip1, z_i, e, a_ip1, a_i, a_im1, gamma)
    back = bdia.bdia_step_inverse(z_im1, z_i, e, a_ip1, a_i, a_im1, gamma)
    np.testing.assert_allclose(back, z_ip1, atol=1e-12 / gamma)


@pytest.mark.parametrize("gamma", [0.5, 0.9, 1.0])
def test_round_trip_is_exact(gamma):
    x0 = gmm2d().sample(400, seed=5)
    t = bdia.make_timesteps(10)
    zs = bdia.bdia_invert(EPS, x0, None, t, gamma=gamma)
    assert len(zs) == len(t) and zs[0] is not None
    rec = bdia.bdia_sample(EPS, zs[-1], t, gamma=gamma, z_Nm1=zs[-2])
    np.testing.assert_allclose(rec[-1], x0, atol=1e-10)
    # the whole trajectory is retraced, not just its end
    for a, b in zip(rec, zs[::-1]):
        np.testing.assert_allclose(a, b, atol=1e-9)
    # any partner z_1 gives an exact round trip
    z1 = x0 + 0.3 * RNG.standard_normal(x0.shape)
    zs = bdia.bdia_invert(EPS, x0, z1, t, gamma=gamma)
    rec = bdia.bdia_sample(EPS, zs[-1], t, gamma=gamma, z_Nm1=zs[-2])[-1]
    np.testing.assert_allclose(rec, x0, atol=1e-8)


def test_inversion_retraces_a_bdia_sample():
    z_N = RNG.standard_normal((300, 2))
    t = bdia.make_timesteps(20)
    fwd = bdia.bdia_sample(EPS, z_N, t, gamma=0.9)
    inv = bdia.bdia_invert(EPS, fwd[-1], fwd[-2], t, gamma=0.9)
    np.testing.assert_allclose(inv[-1], z_N, atol=1e-10)


def test_inversion_amplifies_mismatch_like_one_over_gamma():
    """The chapter's warning: with gamma = 0.5 the latent grows like 2^N; with gamma = 1 not."""
    x0 = gmm2d().sample(500, seed=6)
    rms = {}
    for g in (0.5, 1.0):
        for n in (10, 20):
            z = bdia.bdia_invert(EPS, x0, None, bdia.make_timesteps(n), gamma=g)[-1]
            rms[g, n] = np.sqrt(np.mean(z ** 2))
    assert rms[0.5, 20] > 100 * rms[0.5, 10] > 100
    assert 0.8 < rms[1.0, 10] < 1.2 and 0.8 < rms[1.0, 20] < 1.2


def test_nfe_counts():
    calls = []

    def eps(z, t):
        calls.append(t)
        return EPS(z, t)

    t = bdia.make_timesteps(10)
    z = RNG.standard_normal((10, 2))
    bdia.bdia_sample(eps, z, t)
    assert len(calls) == 10 and calls == t[:-1].tolist()    # N NFEs, at t_N ... t_1
    calls.clear()
    zs = bdia.bdia_invert(eps, z, None, t)
    assert len(calls) == 10
    calls.clear()
    bdia.bdia_sample(eps, zs[-1], t, z_Nm1=zs[-2])
    assert len(calls) == 9
    calls.clear()
    bdia.ddim_invert(eps, z, t)
    assert len(calls) == 10


# ----------------------------------------------------------------------------- the chapter's claim

def _check_claim(s: dict) -> None:
    assert s["bdia_roundtrip_max_gamma_0.5"] < 1e-8
    assert s["bdia_roundtrip_max_gamma_1"] < 1e-8
    assert s["ddim_roundtrip_mean"] > 0.05
    assert s["endpoint_bdia_0.5"] <= 0.8 * s["endpoint_ddim"]


def test_claim_at_a_second_seed():
    _check_claim(bdia.simulate(n=4000, steps=(10,), seed=1).summary(10))


def test_determinism():
    a = bdia.simulate(n=300, steps=(5, 10), seed=3, paths_n=3)
    b = bdia.simulate(n=300, steps=(5, 10), seed=3, paths_n=3)
    assert a.summary(10) == b.summary(10)
    for k in a.roundtrip_mean:
        assert np.array_equal(a.roundtrip_mean[k], b.roundtrip_mean[k])
        assert np.array_equal(a.latent_rms[k], b.latent_rms[k])
    for k in a.paths:
        assert np.array_equal(a.paths[k], b.paths[k])
    assert bdia.experiment(n=300, steps=(5, 10), seed=3, paths_n=3).summary(5) == a.summary(5)


def test_experiment_shapes_and_summary_errors():
    r = bdia.simulate(n=200, steps=(5, 7), seed=0, paths_steps=5, paths_n=4)
    assert r.paths["DDIM"].shape == (6, 4, 2) and r.paths["reference"].shape == (1000, 4, 2)
    assert set(r.endpoint) == {0.0, 0.5, 1.0} and r.endpoint[0.5].shape == (2,)
    assert 0 < r.reference_error < 0.01
    with pytest.raises(ValueError, match="one of the simulated"):
        r.summary(10)


def test_draw_corner_cases():
    for params in ({}, {"gamma": 0.0}, {"gamma": 0.05, "n_steps": 50, "paths": 0}):
        fig = bdia.draw(**params)
        assert isinstance(fig, Figure)
        plotting.to_png(fig, dpi=30)
        plotting.close(fig)
    assert list(bdia.SLIDERS)[0] == "gamma"


# ----------------------------------------------------------------------------- bad inputs

def test_inversion_with_gamma_zero_is_refused():
    x0 = np.zeros((3, 2))
    t = bdia.make_timesteps(5)
    for g in (0, 0.0):
        with pytest.raises(ValueError, match="gamma=0 is DDIM and not invertible"):
            bdia.bdia_invert(EPS, x0, None, t, gamma=g)
    with pytest.raises(ValueError, match="gamma=0 is DDIM and not invertible"):
        bdia.bdia_step_inverse(x0, x0, x0, 0.5, 0.6, 0.7, gamma=0)


@pytest.mark.parametrize("gamma", [-0.1, 1.5, float("nan"), "0.5", None, True])
def test_gamma_outside_the_unit_interval(gamma):
    x0 = np.zeros((3, 2))
    t = bdia.make_timesteps(5)
    with pytest.raises(ValueError, match="gamma"):
        bdia.bdia_invert(EPS, x0, None, t, gamma=gamma)
    with pytest.raises(ValueError, match="gamma"):
        bdia.bdia_sample(EPS, x0, t, gamma=gamma)


@pytest.mark.parametrize("timesteps, match", [
    ([0, 500, 999], "strictly decreasing"),
    ([999, 500, 500, 0], "strictly decreasing"),
    ([999.0, 500.5, 0.0], "integers"),
    (["a", "b", "c"], "integers"),
    ([1000, 500, 0], r"\[0, 1000\)"),
    ([999, 500, -1], r"\[0, 1000\)"),
    ([[999, 500, 0]], "1-dimensional"),
    ([999, 0], "N >= 2"),
    ([999], "N >= 2"),
    ([], "N >= 2"),
])
def test_bad_timesteps(timesteps, match):
    x0 = np.zeros((3, 2))
    with pytest.raises(ValueError, match=match):
        bdia.bdia_sample(EPS, x0, timesteps)
    with pytest.raises(ValueError, match=match):
        bdia.bdia_invert(EPS, x0, None, timesteps)


def test_integer_valued_float_timesteps_are_accepted():
    x0 = gmm2d().sample(5)
    a = bdia.bdia_sample(EPS, x0, [999.0, 500.0, 0.0])[-1]
    b = bdia.bdia_sample(EPS, x0, np.array([999, 500, 0]))[-1]
    assert np.array_equal(a, b)


def test_ddim_invert_needs_one_step():
    with pytest.raises(ValueError, match="N >= 1"):
        bdia.ddim_invert(EPS, np.zeros((3, 2)), [5])
    assert bdia.ddim_invert(EPS, np.zeros((3, 2)), [999, 0]).shape == (3, 2)


def test_shape_mismatches():
    t = bdia.make_timesteps(5)
    with pytest.raises(ValueError, match="same shape"):
        bdia.bdia_invert(EPS, np.zeros((3, 2)), np.zeros((4, 2)), t)
    with pytest.raises(ValueError, match="same shape"):
        bdia.bdia_sample(EPS, np.zeros((3, 2)), t, z_Nm1=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="same shape"):
        bdia.ddim_delta(np.zeros((3, 2)), np.zeros((2, 2)), 0.5, 0.6)
    with pytest.raises(ValueError, match="same shape"):
        bdia.bdia_step(np.zeros((3, 2)), np.zeros((3, 1)), np.zeros((3, 1)), 0.4, 0.5, 0.6)
    with pytest.raises(ValueError, match="eps_fn returned shape"):
        bdia.bdia_sample(lambda z, t: np.zeros(3), np.zeros((3, 2)), t)
    with pytest.raises(ValueError, match="non-empty"):
        bdia.bdia_sample(EPS, np.zeros((0, 2)), t)


def test_other_bad_inputs():
    t = bdia.make_timesteps(5)
    with pytest.raises(ValueError, match="eps_fn must be a function"):
        bdia.bdia_sample("eps", np.zeros((3, 2)), t)
    with pytest.raises(ValueError, match="eps_fn returned non-finite"):
        bdia.bdia_sample(lambda z, t: np.full_like(z, np.nan), np.zeros((3, 2)), t)
    with pytest.raises(ValueError, match="finite"):
        bdia.bdia_sample(EPS, np.array([[np.inf, 0.0]]), t)
    for bad in (0.0, 1.5, -0.2):
        with pytest.raises(ValueError, match="abar_i"):
            bdia.ddim_delta(np.zeros(2), np.zeros(2), bad, 0.5)
    with pytest.raises(ValueError, match="abar"):
        bdia.bdia_sample(EPS, np.zeros((3, 2)), t, abar=[0.5, 0.0, 1.2])
    with pytest.raises(ValueError, match="n_steps"):
        bdia.make_timesteps(0)
    with pytest.raises(ValueError, match="n_steps"):
        bdia.make_timesteps(1000)
    with pytest.raises(ValueError, match="t must be"):
        EPS(np.zeros((2, 2)), 1000)
    with pytest.raises(ValueError, match="GaussianMixture"):
        bdia.gmm_eps("gmm")
    with pytest.raises(ValueError, match="beta_end"):
        bdia.alpha_bar(beta_end=1.5)


def test_inversion_overflow_is_reported():
    x0 = gmm2d().sample(20, seed=0)
    with pytest.raises(ValueError, match="overflowed|non-finite"):
        bdia.bdia_invert(EPS, x0, None, bdia.make_timesteps(400), gamma=1e-3)


def test_a_custom_schedule():
    ab = bdia.alpha_bar(T=50, beta_start=1e-3, beta_end=0.2)
    eps = bdia.gmm_eps(abar=ab)
    x0 = gmm2d().sample(50, seed=2)
    t = bdia.make_timesteps(7, T=50)
    zs = bdia.bdia_invert(eps, x0, None, t, gamma=0.8, abar=ab)
    rec = bdia.bdia_sample(eps, zs[-1], t, gamma=0.8, z_Nm1=zs[-2], abar=ab)[-1]
    np.testing.assert_allclose(rec, x0, atol=1e-10)
    with pytest.raises(ValueError, match=r"\[0, 50\)"):
        bdia.bdia_sample(eps, x0, [60, 10, 0], abar=ab)
