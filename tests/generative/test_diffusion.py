import numpy as np
import pytest

from paperlab.data import GaussianMixture, gmm2d
from paperlab.generative import diffusion as D


@pytest.mark.parametrize("name", D.SCHEDULES)
def test_schedule_derivatives_match_finite_differences(name):
    sc = D.schedule(name)
    t = np.linspace(0.05, 0.95, 7)
    h = 1e-6
    np.testing.assert_allclose(sc.dalpha(t), (sc.alpha(t + h) - sc.alpha(t - h)) / (2 * h), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(sc.dsigma(t), (sc.sigma(t + h) - sc.sigma(t - h)) / (2 * h), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", ["vp-cosine", "rectified-flow", "vp-linear"])
def test_forward_sde_reproduces_the_marginal_variance(name):
    # 1-D Gaussian data N(0, s0^2): Var_t = alpha^2 s0^2 + sigma^2 must solve dV/dt = 2 f V + g^2.
    sc = D.schedule(name)
    t = np.linspace(0.1, 0.9, 5)
    s0 = 0.7
    V = lambda t: sc.alpha(t) ** 2 * s0 ** 2 + sc.sigma(t) ** 2
    h = 1e-6
    dV = (V(t + h) - V(t - h)) / (2 * h)
    np.testing.assert_allclose(dV, 2 * sc.drift(t) * V(t) + sc.g2(t), rtol=1e-5)


def test_score_and_tweedie_on_a_gaussian():
    g = GaussianMixture([1.0], [[1.0, -1.0]], [np.diag([0.5, 2.0])])
    sc = D.schedule("vp-cosine")
    score = D.gmm_score_fn(g, sc)
    x = np.array([[0.3, 0.2], [-1.0, 2.0]])
    t = 0.4
    a, s = float(sc.alpha(t)), float(sc.sigma(t))
    cov = a * a * np.diag([0.5, 2.0]) + s * s * np.eye(2)
    np.testing.assert_allclose(score(x, t), -(x - a * np.array([1.0, -1.0])) @ np.linalg.inv(cov), atol=1e-12)
    # Tweedie: E[x0 | x_t] for a Gaussian prior in closed form.
    C0 = np.diag([0.5, 2.0])
    post = np.array([1.0, -1.0]) + (x - a * np.array([1.0, -1.0])) @ np.linalg.inv(cov) @ (a * C0)
    np.testing.assert_allclose(D.x0_from_score(x, score(x, t), a, s), post, atol=1e-12)


def test_velocity_is_alpha_dot_x0_plus_sigma_dot_eps():
    sc = D.schedule("rectified-flow")
    score = D.gmm_score_fn(gmm2d(), sc)
    x = np.random.default_rng(0).normal(size=(50, 2))
    t = 0.3
    a, s = float(sc.alpha(t)), float(sc.sigma(t))
    sx = score(x, t)
    v = float(sc.dalpha(t)) * D.x0_from_score(x, sx, a, s) + float(sc.dsigma(t)) * D.eps_from_score(sx, s)
    np.testing.assert_allclose(D.velocity_from_score(x, sx, sc, t), v, atol=1e-12)


@pytest.mark.parametrize("sampler", ["ode", "sde"])
def test_exact_score_samplers_hit_the_target(sampler):
    sc = D.schedule("vp-linear")
    score = D.gmm_score_fn(gmm2d(), sc)
    z = np.random.default_rng(3).standard_normal((1500, 2))
    x = (D.pf_ode_sample(score, sc, z, 60) if sampler == "ode"
         else D.reverse_sde_sample(score, sc, z, 200, seed=3))
    ref = gmm2d().sample(1500, seed=4)
    noise = abs(D.mmd2(gmm2d().sample(1500, seed=5), ref))
    assert D.mmd2(x, ref) < max(5 * noise, 5e-3)


def test_heun_is_second_order():
    sc = D.schedule("vp-cosine")
    score = D.gmm_score_fn(gmm2d(), sc)
    z = np.random.default_rng(0).standard_normal((200, 2))
    ref = D.pf_ode_sample(score, sc, z, 800, t_min=0.05)
    errs = [np.abs(D.pf_ode_sample(score, sc, z, n, t_min=0.05) - ref).mean() for n in (20, 40, 80)]
    slope = np.log(errs[0] / errs[2]) / np.log(4)
    assert 1.7 < slope < 2.3


def test_ddim_sample_matches_bdia_ddim():
    from paperlab.generative import bdia
    eps = D.gmm_eps()
    z = np.random.default_rng(0).standard_normal((100, 2))
    ts = D.make_timesteps(10)
    out = D.ddim_sample(eps, z, ts)
    ref = bdia.bdia_sample(eps, z, ts, gamma=0.0)[-1]
    np.testing.assert_allclose(out, ref, atol=1e-12)


def test_mmd2_zero_for_same_law_and_positive_for_different():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(800, 2)), rng.normal(size=(800, 2))
    assert abs(D.mmd2(a, b)) < 5e-3
    assert D.mmd2(a, b + 1.0) > 0.1


def test_dsm_training_learns_a_score():
    net = D.score_mlp(width=32, depth=2, seed=1)
    data = gmm2d().sample(4000, seed=1)
    hist = D.train_dsm(net, data, "vp-cosine", steps=300, seed=1)
    assert hist.loss[-1] < hist.loss[0]
    eps = D.net_eps_fn(net)(data[:10], 0.5)
    assert eps.shape == (10, 2) and np.all(np.isfinite(eps))


@pytest.mark.parametrize("call, match", [
    (lambda: D.schedule("cosine"), "schedule"),
    (lambda: D.schedule("vp-cosine").alpha(1.5), "t must be"),
    (lambda: D.time_grid(0), "n_steps"),
    (lambda: D.pf_ode_sample(D.gmm_score_fn(), D.schedule(), np.zeros((3, 2)), 5, method="rk4"), "method"),
    (lambda: D.mmd2(np.zeros((1, 2)), np.zeros((3, 2))), "at least 2"),
    (lambda: D.x0_from_score(np.zeros((1, 2)), np.zeros((1, 2)), 0.0, 1.0), "alpha"),
    (lambda: D.ddim_sample(D.gmm_eps(), np.zeros((2, 2)), [0, 10]), "decreasing"),
])
def test_bad_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()
