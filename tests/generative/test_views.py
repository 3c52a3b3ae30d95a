import numpy as np
import pytest
from matplotlib.figure import Figure

from paperlab import plotting
from paperlab.data import GaussianMixture, gmm2d
from paperlab.generative import diffusion as D
from paperlab.generative import views as V

RNG = np.random.default_rng(7)


def coeffs(sc, t):
    return float(sc.alpha(t)), float(sc.sigma(t)), float(sc.dalpha(t)), float(sc.dsigma(t))


# ----------------------------------------------------------------------------- conversions

@pytest.mark.parametrize("name", V.CHAPTER_SCHEDULES)
def test_conversions_agree_with_the_toolkit(name):
    sc = D.schedule(name)
    score = D.gmm_score_fn(gmm2d(), sc)
    x = RNG.standard_normal((40, 2)) * 2
    for t in (0.1, 0.5, 0.9):
        s = score(x, t)
        c = coeffs(sc, t)
        np.testing.assert_allclose(V.convert(s, "score", "eps", x, *c), D.eps_from_score(s, c[1]), atol=1e-12)
        np.testing.assert_allclose(V.convert(s, "score", "x0", x, *c), D.x0_from_score(x, s, c[0], c[1]), atol=1e-12)
        np.testing.assert_allclose(V.convert(s, "score", "v", x, *c), D.velocity_from_score(x, s, sc, t),
                                   rtol=1e-10, atol=1e-10)


def test_conversions_on_a_gaussian_in_closed_form():
    """x0 ~ N(m, s0^2 I): E[x0 | x_t] and E[e | x_t] are linear regressions, known exactly."""
    m, s0 = np.array([1.0, -0.5]), 0.6
    g = GaussianMixture([1.0], [m], [s0 ** 2 * np.eye(2)])
    sc = D.schedule("rectified-flow")
    score = D.gmm_score_fn(g, sc)
    x = RNG.standard_normal((10, 2))
    t = 0.4
    a, s, da, ds = coeffs(sc, t)
    var = a * a * s0 * s0 + s * s
    x0 = m + a * s0 * s0 / var * (x - a * m)
    eps = s / var * (x - a * m)
    np.testing.assert_allclose(V.field(score, sc, x, t, "x0"), x0, atol=1e-12)
    np.testing.assert_allclose(V.field(score, sc, x, t, "eps"), eps, atol=1e-12)
    np.testing.assert_allclose(V.field(score, sc, x, t, "v"), da * x0 + ds * eps, atol=1e-12)


def test_flow_matching_target_has_conditional_mean_v():
    """Monte Carlo: average of alpha' x0 + sigma' e over pairs that land near x is v(x)."""
    g = GaussianMixture([1.0], [[0.5, 0.0]], [0.3 * np.eye(2)])   # 1 component: regress exactly
    sc = D.schedule("vp-cosine")
    t = 0.6
    a, s, da, ds = coeffs(sc, t)
    x0 = g.sample(400_000, seed=1)
    e = np.random.default_rng(2).standard_normal(x0.shape)
    xt = a * x0 + s * e
    target = da * x0 + ds * e
    # least squares of the target on (1, x_t): exact for a Gaussian, where v is affine in x
    A = np.c_[np.ones(len(xt)), xt]
    coef = np.linalg.lstsq(A, target, rcond=None)[0]
    probe = RNG.standard_normal((5, 2))
    v = V.field(D.gmm_score_fn(g, sc), sc, probe, t, "v")
    np.testing.assert_allclose(np.c_[np.ones(5), probe] @ coef, v, atol=0.01)


@pytest.mark.parametrize("name", V.CHAPTER_SCHEDULES)
def test_round_trips_are_exact(name):
    assert V.roundtrip_error(D.schedule(name), seed=3) < 1e-10


def test_conversion_needs_alpha_at_t_equal_1():
    sc = D.schedule("rectified-flow")
    x = np.ones((3, 2))
    c = coeffs(sc, 1.0)
    for to in ("x0", "v"):
        with pytest.raises(ValueError, match="alpha must be at least"):
            V.convert(x, "score", to, x, *c)
        with pytest.raises(ValueError, match="alpha must be at least"):
            V.convert(x, "eps", to, x, *c)
    # where no division by alpha is needed the conversion still works
    np.testing.assert_allclose(V.convert(x, "score", "eps", x, *c), -x)
    np.testing.assert_allclose(V.convert(x, "x0", "eps", x, *c), x)
    c = coeffs(sc, 1 - 1e-4)
    assert np.all(np.isfinite(V.convert(x, "score", "x0", x, *c)))


def test_bad_conversion_inputs():
    x = np.zeros((3, 2))
    with pytest.raises(ValueError, match="kind_from"):
        V.convert(x, "noise", "v", x, 0.5, 0.5, -1, 1)
    with pytest.raises(ValueError, match="kind_to"):
        V.convert(x, "eps", "velocity", x, 0.5, 0.5, -1, 1)
    with pytest.raises(ValueError, match="shape"):
        V.convert(np.zeros((2, 2)), "eps", "v", x, 0.5, 0.5, -1, 1)
    with pytest.raises(ValueError, match="sigma must be > 0"):
        V.convert(x, "x0", "score", x, 1.0, 0.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="alpha"):
        V.convert(x, "eps", "v", x, -0.1, 0.5, -1, 1)
    with pytest.raises(ValueError, match="non-zero"):
        V.convert(x, "v", "eps", x, 1.0, 1.0, 1.0, 1.0)


def test_bad_steps():
    with pytest.raises(ValueError, match="n_steps"):
        V.transport("vp-cosine", n=10, n_steps=0)
    with pytest.raises(ValueError, match="n_steps"):
        D.pf_ode_sample(D.gmm_score_fn(), D.schedule("vp-cosine"), np.zeros((2, 2)), 0)
    with pytest.raises(ValueError, match="n_steps"):
        D.reverse_sde_sample(D.gmm_score_fn(), D.schedule("vp-cosine"), np.zeros((2, 2)), 0)
    with pytest.raises(ValueError, match="schedule"):
        V.transport("cosine")
    with pytest.raises(ValueError, match="steps"):
        V.heun_errors(steps=(10,))


# ----------------------------------------------------------------------------- transport

def test_segments_put_the_snapshot_times_on_the_grid():
    r = V.transport("rectified-flow", n=50, n_steps=40, seed=1)
    assert r.ode.shape == (41, 50, 2) and r.sde.shape == (41, 50, 2)
    for t in V.SNAP_TIMES:
        assert np.min(np.abs(r.times - t)) < 1e-12
    assert r.times[0] == D.T_MAX and r.times[-1] == pytest.approx(V.T_MIN)
    assert np.all(np.diff(r.times) < 0)
    np.testing.assert_array_equal(r.ode[0], r.sde[0])


def test_straightness_of_a_line_and_a_corner():
    line = np.linspace(0, 1, 11)[:, None, None] * np.array([[[3.0, 4.0]]])
    assert V.straightness(line)[0] == pytest.approx(1.0)
    corner = np.array([[[0.0, 0.0]], [[1.0, 0.0]], [[1.0, 1.0]]])
    assert V.straightness(corner)[0] == pytest.approx(2 / np.sqrt(2))


def test_mmd_check_has_power():
    """A coarse Euler run (4 steps) fails the chapter's MMD test; the 200-step runs pass it."""
    sc = D.schedule("vp-cosine")
    score = D.gmm_score_fn(gmm2d(), sc)
    z = score.marginal(D.T_MAX).sample(1000, seed=5)
    x = D.pf_ode_sample(score, sc, z, 4, method="euler", t_min=0.5)
    p = score.marginal(0.5)
    exact = p.sample(1000, seed=6)
    noise = np.sqrt(np.mean([D.mmd2(p.sample(1000, seed=10 + r), exact) ** 2 for r in range(3)]))
    assert D.mmd2(x, exact) > 2 * noise


def _check_claim(s):
    for name in V.CHAPTER_SCHEDULES:
        assert s[f"{name}_roundtrip"] < 1e-10
        assert s[f"{name}_mmd_ratio_ode"] < 2 and s[f"{name}_mmd_ratio_sde"] < 2
        assert s[f"{name}_weight_error_ode"] < 0.03 and s[f"{name}_weight_error_sde"] < 0.03
        assert 1.7 <= s[f"{name}_heun_order"] <= 2.3


def test_claim_at_a_second_seed():
    _check_claim(V.simulate(n=2000, seed=1).summary())


def test_determinism():
    a = V.simulate(n=300, n_steps=40, seed=2, n_mmd=200, n_null=2)
    b = V.simulate(n=300, n_steps=40, seed=2, n_mmd=200, n_null=2)
    assert a.summary() == b.summary()
    for s in a.runs:
        np.testing.assert_array_equal(a.runs[s].sde, b.runs[s].sde)


def test_draw_corner_cases():
    for params in ({}, {"t": 1.0, "view": "x0"}, {"t": 0.0, "view": "eps"},
                   {"t": 0.999, "schedule": "rectified-flow", "view": "v"}):
        fig = V.draw(**params)
        assert isinstance(fig, Figure)
        plotting.to_png(fig, dpi=30)
        plotting.close(fig)
    assert list(V.SLIDERS)[0] == "t"
    with pytest.raises(ValueError, match="view"):
        V.draw(view="flow")
