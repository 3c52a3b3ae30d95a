"""Tests of paperlab.generative.pvq (chapter multivariate-gmm-vq-compression)."""
import numpy as np
import pytest
import torch

from paperlab.generative import pvq


def test_scalar_quantizer_matches_theory_at_high_rate():
    """Uniform quantization of N(0, 1): MSE ~ Delta^2 / 12, rate ~ h(Y) - log2 Delta."""
    y = np.random.default_rng(0).standard_normal((200_000, 1))
    r, d = pvq.scalar_quant_rd(y, [0.05])
    assert d[0] == pytest.approx(0.05**2 / 12, rel=0.03)
    assert r[0] == pytest.approx(0.5 * np.log2(2 * np.pi * np.e) - np.log2(0.05), abs=0.02)


def test_hard_forward_is_nearest_codeword_and_rate_is_code_length():
    q = pvq.PVQ(4, K=5, n_groups=2, seed=1)
    y = np.random.default_rng(1).standard_normal((50, 4))
    y_hat, b = q(y, hard=True)
    cb = q.codebooks.detach().numpy()
    for m in range(2):
        d2 = ((y[:, None, 2 * m:2 * m + 2] - cb[m][None]) ** 2).sum(-1)
        np.testing.assert_allclose(y_hat.detach().numpy()[:, 2 * m:2 * m + 2], cb[m][d2.argmin(1)])
    assert torch.allclose(q.rate_bits(b), torch.full((50,), 2 * np.log2(5), dtype=torch.float64))
    assert (q.encode(y) == b.argmax(-1).numpy()).all()


def test_gumbel_straight_through_is_one_hot_with_gradients():
    q = pvq.PVQ(2, K=8, seed=0)
    y_hat, b = q(np.zeros((10, 2)), hard=False, generator=torch.Generator().manual_seed(0))
    np.testing.assert_allclose(b.detach().sum(-1).numpy(), 1.0)
    assert set(np.unique(np.round(b.detach().numpy(), 12))) <= {0.0, 1.0}
    (y_hat ** 2).sum().backward()
    assert q.codebooks.grad is not None and torch.isfinite(q.codebooks.grad).all()


def test_lloyd_with_lambda_zero_is_kmeans():
    """Two far clusters, K = 2, lam = 0: the codewords are the cluster means."""
    rng = np.random.default_rng(2)
    y = np.r_[rng.normal(-5, 0.1, (100, 1)), rng.normal(5, 0.1, (300, 1))]
    q = pvq.train_pvq(y, K=2, lam=0.0, seed=0)
    c = np.sort(q.codebooks.detach().numpy().ravel())
    np.testing.assert_allclose(c, [y[:100].mean(), y[100:].mean()], atol=1e-12)
    r, _ = q.evaluate(y)
    assert r == pytest.approx(-(0.25 * np.log2(0.25) + 0.75 * np.log2(0.75)), abs=1e-3)


def test_larger_lambda_lowers_rate():
    y = pvq.correlated_gaussian(1000, seed=3)
    rates = [pvq.train_pvq(y, K=32, lam=lam).evaluate(y, lam)[0] for lam in (0.003, 0.03, 0.3)]
    assert rates[0] > rates[1] > rates[2]


def test_lower_hull_keeps_the_time_sharing_frontier():
    """A dominated point and a point above the chord of its neighbours are both dropped."""
    rate = np.array([3.0, 2.0, 1.9, 1.0, 2.5])
    mse = np.array([0.01, 0.02, 0.03, 0.05, 0.04])       # (0.04, 2.5) is dominated by (0.03, 1.9)
    r, d = pvq.lower_hull(rate, mse)
    np.testing.assert_array_equal(d, [0.01, 0.02, 0.05])  # (0.03, 1.9) lies above the chord
    np.testing.assert_array_equal(r, [3.0, 2.0, 1.0])
    assert pvq.matched_rate(rate, mse, [0.035])[0] == pytest.approx(2.0 - 0.5)
    assert np.isnan(pvq.matched_rate(rate, mse, [0.2])[0])


def test_dithered_digit_blocks_are_continuous_in_unit_interval():
    y = pvq.digit_blocks(2000, seed=0)
    assert y.shape == (2000, 4) and y.min() >= 0.0 and y.max() < 1.0
    assert len(np.unique(y)) > 1000                       # no grid of 17 levels any more
    raw = pvq.digit_blocks(2000, seed=0, dither=False)
    assert len(np.unique(raw)) <= 17 and np.all(np.abs(y * 17 - raw * 16) < 1)


def test_claims_at_a_second_seed():
    """The chapter's two checks at seed 1: on the rho = 0.9 Gaussian, PVQ saves >= 0.4 bits/dim
    at matched MSE wherever its rate is 1.5-3 bits/dim (theory: -1/4 log2(1 - rho^2) = 0.6);
    on digit blocks, two 16-word codebooks lie between K = 256 and the scalar quantizer."""
    ex = pvq.experiment(seed=1)
    r = ex.curves["Gaussian"]["PVQ, K = 256"][0]
    gap = pvq.rate_gap(ex, "Gaussian", "PVQ, K = 256")
    band = (r >= 1.5) & (r <= 3.0)
    assert band.sum() >= 2 and np.all(gap[band] >= 0.4)
    below_scalar = pvq.rate_gap(ex, "digits", "2 codebooks, K = 16")
    above_vq = -pvq.rate_gap(ex, "digits", "2 codebooks, K = 16", "PVQ, K = 256")
    both = np.isfinite(below_scalar) & np.isfinite(above_vq)
    assert both.sum() >= 3
    assert np.all(below_scalar[both] >= 0.05) and np.all(above_vq[both] >= 0.05)


def test_determinism():
    y = pvq.digit_blocks(500, seed=2)
    a = pvq.rd_curve("cascade", y, [0.01, 0.1], seed=2)
    b = pvq.rd_curve("cascade", y, [0.01, 0.1], seed=2)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_bad_inputs():
    with pytest.raises(ValueError, match="divisible"):
        pvq.PVQ(4, K=4, n_groups=3)
    with pytest.raises(ValueError, match="K must be"):
        pvq.PVQ(2, K=1)
    with pytest.raises(ValueError, match="tau"):
        pvq.PVQ(2, K=4, tau=0.0)
    with pytest.raises(ValueError, match="lam"):
        pvq.train_pvq(np.zeros((5, 2)), K=2, lam=-1.0)
    with pytest.raises(ValueError, match="non-empty"):
        pvq.train_pvq(np.zeros((0, 2)), K=2)
    with pytest.raises(ValueError, match="lams"):
        pvq.rd_curve("pvq", np.zeros((5, 2)), [-0.1], K=2)
    with pytest.raises(ValueError, match="method"):
        pvq.rd_curve("jpeg", np.zeros((5, 2)), [0.1])
    with pytest.raises(ValueError, match="steps"):
        pvq.scalar_quant_rd(np.zeros((5, 2)), [0.0])
