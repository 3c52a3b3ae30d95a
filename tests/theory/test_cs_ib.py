"""Tests of paperlab.theory.cs_ib (chapter cauchy-schwarz-ib)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from paperlab.theory import cs_ib

RNG = np.random.default_rng(7)


def naive_gram(a, b, sigma):
    a, b = np.atleast_2d(a.T).T, np.atleast_2d(b.T).T
    return np.array([[math.exp(-np.sum((ai - bj) ** 2) / (2 * sigma ** 2)) for bj in b] for ai in a])


def naive_cs_div(x, y, yh, sigma):
    """Eq. (4) with explicit loops over j and i."""
    K, Ly, Lh, Lhy = (naive_gram(x, x, sigma), naive_gram(y, y, sigma), naive_gram(yh, yh, sigma),
                      naive_gram(yh, y, sigma))
    n = len(x)

    def term(L):
        return math.log2(sum(sum(K[j, i] * L[j, i] for i in range(n)) / sum(K[j, i] ** 2 for i in range(n))
                             for j in range(n)))

    return term(Ly) + term(Lh) - 2 * term(Lhy)


def naive_qmi(x, t, sigma):
    Kx, Kt = naive_gram(x, x, sigma), naive_gram(t, t, sigma)
    n = len(x)
    one = np.ones(n)
    return (math.log2(np.trace(Kx @ Kt) / n ** 2) + math.log2(one @ Kx @ one * (one @ Kt @ one) / n ** 4)
            - 2 * math.log2(one @ Kx @ Kt @ one / n ** 3))


# ----------------------------------------------------------------------------- estimators

def test_gaussian_gram_matches_the_definition():
    a, b = RNG.standard_normal((6, 3)), RNG.standard_normal((4, 3))
    for sigma in (0.5, 1.0, 2.0):
        np.testing.assert_allclose(cs_ib.gaussian_gram(a, b, sigma).numpy(), naive_gram(a, b, sigma),
                                   rtol=1e-12)
    g = cs_ib.gaussian_gram(RNG.standard_normal(5), RNG.standard_normal(3))   # 1-D = one variable
    assert tuple(g.shape) == (5, 3)


def test_cs_divergence_matches_a_naive_loop():
    x, y = RNG.standard_normal((12, 3)), RNG.standard_normal(12)
    yh = y + 0.5 * RNG.standard_normal(12)
    for sigma in (0.7, 1.0):
        got = float(cs_ib.cs_divergence_conditional(x, y, yh, sigma))
        assert got == pytest.approx(naive_cs_div(x, y, yh, sigma), rel=1e-10)


def test_cs_divergence_is_zero_iff_the_prediction_is_exact():
    Xtr, ytr, _, _ = cs_ib.diabetes_split(0)
    assert abs(float(cs_ib.cs_divergence_conditional(Xtr, ytr, ytr))) < 1e-9
    noisy = ytr + 0.3 * RNG.standard_normal(len(ytr))
    assert float(cs_ib.cs_divergence_conditional(Xtr, ytr, noisy)) > 1e-3
    # larger errors, larger divergence
    d = [float(cs_ib.cs_divergence_conditional(Xtr, ytr, ytr + s)) for s in (0.1, 0.5, 1.0)]
    assert 0 < d[0] < d[1] < d[2]


def test_cs_divergence_keeps_gradients():
    x = torch.randn(10, 2, dtype=torch.float64)
    y = torch.randn(10, dtype=torch.float64)
    yh = (y + 0.3).clone().requires_grad_(True)
    cs_ib.cs_divergence_conditional(x, y, yh).backward()
    assert yh.grad is not None and torch.isfinite(yh.grad).all() and yh.grad.abs().sum() > 0


def test_cs_qmi_matches_the_formula_and_its_limits():
    x, t = RNG.standard_normal((15, 3)), RNG.standard_normal((15, 2))
    assert float(cs_ib.cs_qmi(x, t, 1.0, normalized=False)) == pytest.approx(naive_qmi(x, t, 1.0), rel=1e-10)
    q = float(cs_ib.cs_qmi(x, t, 1.0, normalized=True))
    assert q == pytest.approx(naive_qmi(x, t, 1.0) / math.sqrt(naive_qmi(x, x, 1.0) * naive_qmi(t, t, 1.0)),
                              rel=1e-10)
    assert float(cs_ib.cs_qmi(x, x)) == pytest.approx(1.0, abs=1e-12)        # normalized I(x; x) = 1
    assert float(cs_ib.cs_qmi(x, np.ones((15, 2)), normalized=False)) == pytest.approx(0.0, abs=1e-12)
    assert float(cs_ib.cs_qmi(x, t, normalized=False)) >= 0


# ----------------------------------------------------------------------------- training

def test_training_is_deterministic_and_logs_the_plane():
    Xtr, ytr, _, _ = cs_ib.diabetes_split(0)
    m1, l1 = cs_ib.train_cs_ib(Xtr, ytr, 0.1, steps=20, seed=3, every=5)
    m2, l2 = cs_ib.train_cs_ib(Xtr, ytr, 0.1, steps=20, seed=3, every=5)
    assert l1.loss == l2.loss and l1.ixt == l2.ixt and l1.ity == l2.ity
    assert l1.steps == [0, 5, 10, 15, 20] and len(l1.loss) == 20
    for p, q in zip(m1.parameters(), m2.parameters()):
        assert torch.equal(p, q)
    assert l1.ixt[-1] == pytest.approx(cs_ib.info_plane(m1, Xtr, ytr)[0], rel=1e-6)


def test_the_loss_is_the_estimator():
    """The training loop's precomputed form equals cs_divergence_conditional + r * cs_qmi."""
    Xtr, ytr, _, _ = cs_ib.diabetes_split(0)
    model, log = cs_ib.train_cs_ib(Xtr, ytr, 0.1, steps=1, seed=0)
    fresh = cs_ib.CSIBNet(10, seed=0)                      # the weights before the one step
    X = torch.tensor(Xtr, dtype=torch.float32)
    with torch.no_grad():
        t, yh = fresh(X)
        want = cs_ib.cs_divergence_conditional(X, torch.tensor(ytr, dtype=torch.float32), yh) \
            + 0.1 * cs_ib.cs_qmi(X, t)
    assert log.loss[0] == pytest.approx(float(want), rel=1e-4)


def test_fgsm_moves_every_feature_by_eps():
    Xtr, ytr, Xte, yte = cs_ib.diabetes_split(0)
    model, _ = cs_ib.train_cs_ib(Xtr, ytr, 0.0, steps=30, seed=0)
    adv = cs_ib.fgsm(model, Xte, yte, 0.2).numpy()
    np.testing.assert_allclose(np.abs(adv - Xte), 0.2, atol=1e-6)
    assert cs_ib.fgsm_rmse(model, Xte, yte, 0.0) == pytest.approx(cs_ib.rmse(model, Xte, yte), rel=1e-6)
    assert cs_ib.fgsm_rmse(model, Xte, yte, 0.3) > cs_ib.rmse(model, Xte, yte)


# ----------------------------------------------------------------------------- the chapter's claim

def test_claim_at_a_second_seed():
    res = cs_ib.experiment(seed=1, r_grid=(0.0, 0.1), mse_r_grid=(0.0,))
    assert res.logs["cs", 0.1].ixt[-1] <= 0.8 * res.logs["cs", 0.0].ixt[-1]
    best = min(res.test_rmse["cs", r] for r in (0.0, 0.1))
    assert best <= 1.05 * res.test_rmse["mse", 0.0]


def test_diabetes_split():
    Xtr, ytr, Xte, yte = cs_ib.diabetes_split(0)
    assert Xtr.shape == (309, 10) and Xte.shape == (133, 10)
    np.testing.assert_allclose(Xtr.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(ytr.std(), 1, rtol=1e-12)


# ----------------------------------------------------------------------------- bad inputs

@pytest.mark.parametrize("sigma", [0.0, -1.0, float("nan")])
def test_bad_sigma(sigma):
    x = np.zeros((5, 2))
    with pytest.raises(ValueError, match="sigma"):
        cs_ib.cs_divergence_conditional(x, np.zeros(5), np.zeros(5), sigma=sigma)
    with pytest.raises(ValueError, match="sigma"):
        cs_ib.cs_qmi(x, x, sigma=sigma)
    with pytest.raises(ValueError, match="sigma"):
        cs_ib.gaussian_gram(x, x, sigma)


def test_batch_sizes_must_agree():
    with pytest.raises(ValueError, match="batch sizes"):
        cs_ib.cs_divergence_conditional(np.zeros((5, 2)), np.zeros(5), np.zeros(4))
    with pytest.raises(ValueError, match="batch sizes"):
        cs_ib.cs_divergence_conditional(np.zeros((6, 2)), np.zeros(5), np.zeros(5))
    with pytest.raises(ValueError, match="batch sizes"):
        cs_ib.cs_qmi(np.zeros((5, 2)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="batch sizes"):
        cs_ib.train_cs_ib(np.zeros((5, 2)), np.zeros(4), 0.1, steps=1)


def test_too_few_samples():
    with pytest.raises(ValueError, match="N >= 2"):
        cs_ib.cs_divergence_conditional(np.zeros((1, 2)), np.zeros(1), np.zeros(1))
    with pytest.raises(ValueError, match="N >= 2"):
        cs_ib.cs_qmi(np.zeros((1, 2)), np.zeros((1, 2)))


def test_other_bad_inputs():
    Xtr, ytr, _, _ = cs_ib.diabetes_split(0)
    with pytest.raises(ValueError, match="r must be"):
        cs_ib.train_cs_ib(Xtr, ytr, -0.1, steps=1)
    with pytest.raises(ValueError, match="prediction"):
        cs_ib.train_cs_ib(Xtr, ytr, 0.1, steps=1, prediction="mae")
    with pytest.raises(ValueError, match="finite"):
        cs_ib.cs_qmi(np.full((3, 2), np.nan), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="same dimension"):
        cs_ib.cs_divergence_conditional(np.zeros((3, 2)), np.zeros((3, 1)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="eps"):
        cs_ib.fgsm(cs_ib.CSIBNet(10), Xtr, ytr, -0.1)
    with pytest.raises(ValueError, match="r must be one of"):
        cs_ib.draw(r=0.5)
    with pytest.raises(ValueError, match="split"):
        cs_ib.draw(split="valid")
