import numpy as np
import pytest
from matplotlib.figure import Figure

from paperlab import plotting
from paperlab.data import GaussianMixture
from paperlab.generative import diffusion as D
from paperlab.generative import fkc as F

SC = D.schedule("vp-linear")


def gaussian_score(s0):
    """Data N(0, s0^2 I): q_tau = N(0, v_tau I), q^beta = N(0, s0^2 / beta I)."""
    return D.gmm_score_fn(GaussianMixture([1.0], [[0.0, 0.0]], [s0 ** 2 * np.eye(2)]), SC)


# ----------------------------------------------------------------------------- SMC pieces

def test_ess_and_systematic_resampling():
    assert F.ess(np.zeros(10)) == pytest.approx(10)
    assert F.ess(np.array([0.0, -800.0, -800.0])) == pytest.approx(1)
    assert F.ess(np.log([1.0, 1.0, 2.0])) == pytest.approx(16 / 6)
    rng = np.random.default_rng(0)
    w = np.array([0.1, 0.2, 0.3, 0.4])
    idx = F.systematic_resample(np.log(w), rng)
    counts = np.bincount(idx, minlength=4)
    assert counts.sum() == 4 and np.all(np.abs(counts - 4 * w) < 1)
    big = F.systematic_resample(np.log(np.r_[w, w] / 2), np.random.default_rng(1))
    assert np.all(np.abs(np.bincount(big, minlength=8) - 8 * np.r_[w, w] / 2) < 1)


def test_coefficients():
    assert F.annealed_coefficients(2.0, 0.0) == (2.0, 1.0)
    eta, zeta = F.annealed_coefficients(2.0, 0.5)
    assert eta == pytest.approx(1.5) and zeta == pytest.approx(1 / np.sqrt(2))
    assert F.annealed_coefficients(1.0, 0.7) == (1.0, 1.0)


# ----------------------------------------------------------------------------- correctness

def test_weight_rate_makes_q_beta_a_solution_of_the_fk_pde():
    """For Gaussian q_tau the weighted SDE's Feynman-Kac PDE holds for p = q^beta: check it
    pointwise with finite differences (the derivation of chapter Eq. (5))."""
    s0, beta, a = 0.5, 2.5, 0.3
    eta, zeta = F.annealed_coefficients(beta, a)
    x = np.random.default_rng(0).normal(size=(6, 2))
    tau = 0.4
    score = gaussian_score(s0)

    def logp(x, tau):        # log q_tau^beta, unnormalised
        return beta * score.marginal(tau).log_prob(x)

    h = 1e-5
    dlogp_dt = -(logp(x, tau + h) - logp(x, tau - h)) / (2 * h)          # t = 1 - tau
    b = float(SC.beta(tau))
    s = score(x, tau)
    v = float(SC.alpha(tau)) ** 2 * s0 ** 2 + float(SC.sigma(tau)) ** 2
    lap_logq = -2.0 / v
    drift = 0.5 * b * x + eta * b * s
    div_drift = 0.5 * b * 2 + eta * b * lap_logq
    grad_logp = beta * s
    g = (beta - 1.0) * (-0.5 * b * 2 + 0.5 * b * beta * (s * s).sum(1))
    rhs = -div_drift - (drift * grad_logp).sum(1) + 0.5 * zeta ** 2 * b * (
        beta * lap_logq + (grad_logp ** 2).sum(1)) + g
    # equal up to a constant in x (the normaliser's time derivative)
    diff = dlogp_dt - rhs
    np.testing.assert_allclose(diff, diff[0], atol=1e-5)


def test_fkc_anneals_a_gaussian():
    s0, beta = 0.8, 2.0
    x, log = F.annealed_fkc_sample(gaussian_score(s0), beta, SC, 3000, 200, a=0.0, seed=1)
    assert x.var(axis=0).mean() == pytest.approx(s0 ** 2 / beta, rel=0.1)
    assert log["ess"].shape == (200,) and log["n_resample"] >= 1


def test_tempered_noise_variant_corrects_most_of_the_bias():
    """a = 1/2: the unweighted SDE gives half the target variance; the weights bring it most of
    the way back. Its Monte Carlo error is larger than for a = 0 (less noise to diversify the
    resampled particles), so only this weaker statement is checked."""
    s0, beta = 0.8, 2.0
    target = s0 ** 2 / beta
    fkc = np.mean([F.annealed_fkc_sample(gaussian_score(s0), beta, SC, 3000, 200, a=0.5, seed=s)[0]
                   .var(axis=0).mean() for s in range(3)])
    naive = F.annealed_fkc_sample(gaussian_score(s0), beta, SC, 3000, 200, a=0.5, weighted=False,
                                  seed=0)[0].var(axis=0).mean()
    assert naive < 0.6 * target
    assert 0.75 * target < fkc < 1.1 * target


def test_beta_one_is_the_plain_reverse_sde():
    x, log = F.annealed_fkc_sample(gaussian_score(0.6), 1.0, SC, 500, 50, a=0.5, seed=2)
    y, _ = F.annealed_fkc_sample(gaussian_score(0.6), 1.0, SC, 500, 50, weighted=False, seed=2)
    assert log["n_resample"] == 0 and np.all(log["ess"] == 1.0)
    # resampling with equal weights permutes nothing but may duplicate: compare moments
    assert abs(x.var() - y.var()) < 0.05


def test_target_formula_matches_grid_integration():
    beta = 2.0
    xs, ys = np.meshgrid(np.linspace(-6, 6, 600), np.linspace(-6, 7, 650))
    pts = np.c_[xs.ravel(), ys.ravel()]
    lp = beta * F.chapter_gmm().log_prob(pts)
    p = np.exp(lp - lp.max())
    lab = np.argmin(((pts[:, None] - F.MEANS[None]) ** 2).sum(-1), axis=1)
    share = np.bincount(lab, weights=p, minlength=3) / p.sum()
    w, v = F.annealed_target(beta)
    np.testing.assert_allclose(share, w, atol=1e-3)
    m0 = lab == 0
    var0 = (((pts[m0] - F.MEANS[0]) ** 2).sum(1) * p[m0]).sum() / p[m0].sum() / 2
    assert var0 == pytest.approx(v[0], rel=1e-2)


def test_cfg_with_equal_scores_has_no_weights():
    sc = gaussian_score(0.7)
    x, log = F.cfg_fkc_sample(sc, sc, 3.0, SC, 300, 40, seed=0)
    assert log["n_resample"] == 0 and np.all(log["ess"] == pytest.approx(1.0))


def test_cfg_fkc_matches_the_gaussian_target():
    """q1 = N(0, 1), q2 = N(1, 0.5^2) per coordinate: the CFG target is Gaussian in closed form."""
    q1 = D.gmm_score_fn(GaussianMixture([1.0], [[0.0, 0.0]], [np.eye(2)]), SC)
    q2 = D.gmm_score_fn(GaussianMixture([1.0], [[1.0, 1.0]], [0.25 * np.eye(2)]), SC)
    g = 2.0
    prec = (1 - g) * 1.0 + g * 4.0                      # precision of the target
    mean = g * 4.0 * 1.0 / prec
    x, _ = F.cfg_fkc_sample(q1, q2, g, SC, 4000, 200, seed=3)
    y, _ = F.cfg_fkc_sample(q1, q2, g, SC, 4000, 200, weighted=False, seed=3)
    assert np.abs(x.mean(0) - mean).max() < 0.03
    assert x.var(0).mean() == pytest.approx(1 / prec, rel=0.1)
    assert np.abs(y.mean(0) - mean).max() > 2 * np.abs(x.mean(0) - mean).max()


# ----------------------------------------------------------------------------- the chapter's claim

def _check_claim(s):
    assert s["fkc_tv"] < 0.06 and abs(s["fkc_var_rel_error"]) < 0.15
    assert s["naive_tv"] > 0.15 and s["naive_var_rel_error"] < -0.25


def test_claim_at_a_second_seed():
    _check_claim(F.simulate(K=2000, n_steps=300, seed=1, betas=(2.0,), cfg_betas=(2.0,)).summary(2.0))


def test_determinism():
    a = F.simulate(K=300, n_steps=60, seed=4, betas=(2.0,), cfg_betas=(2.0,))
    b = F.simulate(K=300, n_steps=60, seed=4, betas=(2.0,), cfg_betas=(2.0,))
    assert a.summary(2.0) == b.summary(2.0)
    np.testing.assert_array_equal(a.samples[(2.0, "FKC a=0")], b.samples[(2.0, "FKC a=0")])


def test_draw_corner_cases():
    for params in ({}, {"beta": 0.3, "fkc": "off"}, {"beta": 3.0, "a": "1/2"}):
        fig = F.draw(**params)
        assert isinstance(fig, Figure)
        plotting.to_png(fig, dpi=30)
        plotting.close(fig)
    assert list(F.SLIDERS)[0] == "beta"


# ----------------------------------------------------------------------------- bad inputs

def test_bad_inputs():
    sc = gaussian_score(0.5)
    for b in (0.0, -1.0):
        with pytest.raises(ValueError, match="beta"):
            F.annealed_fkc_sample(sc, b, SC, 10, 5)
        with pytest.raises(ValueError, match="beta"):
            F.cfg_fkc_sample(sc, sc, b, SC, 10, 5)
    with pytest.raises(ValueError, match=r"zeta\^2"):
        F.annealed_fkc_sample(sc, 3.0, SC, 10, 5, a=2.0)     # (3 + 2(-2)2)/3 < 0
    for k in (1, 0):
        with pytest.raises(ValueError, match="n_particles"):
            F.annealed_fkc_sample(sc, 2.0, SC, k, 5)
    for e in (0.0, 1.5, -0.1):
        with pytest.raises(ValueError, match="ess_frac"):
            F.annealed_fkc_sample(sc, 2.0, SC, 10, 5, ess_frac=e)
    with pytest.raises(ValueError, match="n_steps"):
        F.annealed_fkc_sample(sc, 2.0, SC, 10, 0)
    with pytest.raises(ValueError, match="vp-linear"):
        F.annealed_fkc_sample(sc, 2.0, "vp-cosine", 10, 5)
    with pytest.raises(ValueError, match="a must be"):
        F.draw(a="0.5")
