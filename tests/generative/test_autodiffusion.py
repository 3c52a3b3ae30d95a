"""Tests of paperlab.generative.autodiffusion (chapter autodiffusion-timestep-search)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import linalg

from paperlab.data import GaussianMixture
from paperlab.generative import autodiffusion as ad
from paperlab.generative.diffusion import ALPHA_BAR, gmm_eps

G = GaussianMixture([0.25] * 4, np.array([[-2., -2.], [-2., 2.], [2., -2.], [2., 2.]]),
                    np.array([np.eye(2) * 0.1] * 4))
PHI = ad.random_features(2, 32, 1.5, 0)


def test_fd_matches_the_sqrtm_formula():
    a, b = G.sample(800, seed=1), G.sample(800, seed=2) * 1.1 + 0.2
    mu_r, S_r = ad.feature_stats(b, PHI)
    mu_g, S_g = ad.feature_stats(a, PHI)
    want = ((mu_g - mu_r) ** 2).sum() + np.trace(S_g + S_r - 2 * linalg.sqrtm(S_g @ S_r).real)
    assert ad.fd_score(a, (mu_r, S_r), PHI) == pytest.approx(want, rel=1e-6, abs=1e-8)
    assert abs(ad.fd_score(b, (mu_r, S_r), PHI)) < 1e-8


def test_ddim_with_every_time_is_accurate_and_k1_is_tweedie():
    eps = gmm_eps(G)
    z = np.random.default_rng(0).standard_normal((5, 2))
    x1 = ad.ddim_sample(eps, z, [500])
    ab = ALPHA_BAR[500]
    np.testing.assert_allclose(x1, (z - np.sqrt(1 - ab) * eps(z, 500)) / np.sqrt(ab))
    assert np.array_equal(ad.ddim_sample(eps, z, [10, 500, 999]), ad.ddim_sample(eps, z, [999, 10, 500]))


def _problem(seed_noise):
    eps = gmm_eps(G)
    ref = ad.feature_stats(G.sample(4000, seed=10), PHI)
    z = np.random.default_rng(seed_noise).standard_normal((600, 2))
    return lambda c: ad.fd_score(ad.ddim_sample(eps, z, c), ref, PHI)


def test_search_beats_uniform_on_a_fresh_batch_at_a_second_seed():
    fit, fresh = _problem(3), _problem(4)
    best, hist = ad.evolve_timesteps(fit, 1000, 4, epochs=6, seed=1)
    assert np.all(np.diff(hist["best"]) <= 0)
    assert fresh(best) <= 0.5 * fresh(tuple(ad.uniform_timesteps(4)))


def test_determinism_and_visited_set():
    fit = _problem(5)
    calls = []

    def counted(c):
        calls.append(c)
        return fit(c)

    a = ad.evolve_timesteps(counted, 1000, 3, pop=10, topk=4, epochs=3, seed=2)
    assert len(calls) == len(set(calls)) == a[1]["evaluations"][-1]
    b = ad.evolve_timesteps(fit, 1000, 3, pop=10, topk=4, epochs=3, seed=2)
    assert a[0] == b[0] and a[1]["best"] == b[1]["best"]


def test_bad_inputs():
    f = lambda c: 0.0  # noqa: E731
    with pytest.raises(ValueError, match="K"):
        ad.evolve_timesteps(f, 100, 0)
    with pytest.raises(ValueError, match="K"):
        ad.evolve_timesteps(f, 100, 100)
    with pytest.raises(ValueError, match="topk"):
        ad.evolve_timesteps(f, 100, 3, topk=1)
    with pytest.raises(ValueError, match="pop"):
        ad.evolve_timesteps(f, 100, 3, pop=5, topk=10)
    with pytest.raises(ValueError, match="distinct"):
        ad.check_timesteps([3, 3, 5])
    with pytest.raises(ValueError, match=r"\[0, 1000\)"):
        ad.check_timesteps([3, 1000])
    with pytest.raises(ValueError, match="more samples"):
        ad.feature_stats(np.zeros((10, 2)), PHI)


def test_per_step_masks_reach_the_right_step():
    calls = []

    def eps(x, t, block_mask=None):
        calls.append((t, tuple(block_mask)))
        return np.zeros_like(x)

    z = np.ones((3, 2))
    ad.ddim_sample(eps, z, [700, 100, 400], block_mask=[[1, 0], [0, 1], [1, 1]])
    assert calls == [(700, (1, 1)), (400, (0, 1)), (100, (1, 0))]
    with pytest.raises(ValueError, match="block_mask"):
        ad.ddim_sample(eps, z, [100, 400], block_mask=[[1, 0]] * 3)
    with pytest.raises(ValueError, match="0 .skip"):
        ad.check_masks([[2, 0]], 1)


def test_full_mask_is_the_full_network():
    net = ad.res_eps_net(seed=1)
    e = ad.net_eps(net)
    x = np.random.default_rng(0).standard_normal((7, 2))
    np.testing.assert_array_equal(e(x, 300), e(x, 300, block_mask=(1, 1, 1, 1)))
    assert not np.allclose(e(x, 300), e(x, 300, block_mask=(1, 0, 1, 1)))


def test_joint_search_respects_the_budget_and_improves():
    fit = _problem(6)
    cost = {}

    def fitness(times, masks):
        assert len(times) == 4 and all(len(m) == 3 for m in masks)
        cost[(times, masks)] = sum(map(sum, masks))
        return fit(times) + 0.1 * (12 - cost[(times, masks)])

    (times, masks), hist = ad.evolve_joint(fitness, 1000, 4, 3, 7, pop=12, topk=4, epochs=4, seed=3)
    assert max(cost.values()) <= 7 and sum(map(sum, masks)) <= 7
    assert list(times) == sorted(times) and len(set(times)) == 4
    assert np.all(np.diff(hist["best"]) <= 0) and len(cost) == hist["evaluations"][-1]
    again = ad.evolve_joint(fitness, 1000, 4, 3, 7, pop=12, topk=4, epochs=4, seed=3)
    assert again[0] == (times, masks)


def test_joint_bad_inputs():
    f = lambda c, m: 0.0  # noqa: E731
    with pytest.raises(ValueError, match="budget"):
        ad.evolve_joint(f, 100, 3, 4, 13)
    with pytest.raises(ValueError, match="budget"):
        ad.evolve_joint(f, 100, 3, 4, -1)
    with pytest.raises(ValueError, match="n_blocks"):
        ad.evolve_joint(f, 100, 3, 0, 0)
    with pytest.raises(ValueError, match="K"):
        ad.evolve_joint(f, 100, 100, 4, 4)
    with pytest.raises(ValueError, match="pop"):
        ad.evolve_joint(f, 100, 3, 4, 4, pop=3, topk=4)
    with pytest.raises(ValueError, match="epoch"):
        ad.draw(epoch=11)
    with pytest.raises(ValueError, match="model"):
        ad.draw(model="other")
