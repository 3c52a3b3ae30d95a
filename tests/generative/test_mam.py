"""Tests of paperlab.generative.mam (chapter marginalization-models)."""
from __future__ import annotations

from itertools import product

import numpy as np
import pytest
import torch

from paperlab.generative import mam as M


def test_ising_chain_is_normalized_and_matches_the_formula():
    X, lp = M.ising_chain(D=4, J=0.8, h=0.2)
    assert X.shape == (16, 4) and np.exp(lp).sum() == pytest.approx(1.0)
    w = {}
    for bits in product((0, 1), repeat=4):
        t = 2 * np.array(bits) - 1
        w[bits] = np.exp(0.8 * (t[:-1] * t[1:]).sum() + 0.2 * t.sum())
    Z = sum(w.values())
    for row, l in zip(X, lp):
        assert l == pytest.approx(np.log(w[tuple(int(v) for v in row)] / Z))


def test_exact_log_marginal_against_brute_force():
    X, lp = M.ising_chain(D=5)
    p = np.exp(lp)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, (30, 5)).astype(float)
    mask = rng.integers(0, 2, (30, 5)).astype(float)
    got = M.exact_log_marginal(lp, x, mask)
    for q in range(30):
        keep = np.all((X == x[q]) | (mask[q] == 0), axis=1)
        assert got[q] == pytest.approx(np.log(p[keep].sum()), abs=1e-12)
    assert M.exact_log_marginal(lp, x[:1], np.zeros((1, 5)))[0] == pytest.approx(0.0, abs=1e-12)


def test_encoding_ignores_values_outside_the_subset():
    x1 = np.array([1, 0, 1, 1.0])
    x2 = np.array([1, 1, 0, 1.0])
    mask = np.array([1, 0, 0, 1.0])
    e1, e2 = M.encode_subset(x1, mask), M.encode_subset(x2, mask)
    assert e1.shape == (1, 8) and torch.equal(e1, e2)
    assert e1.tolist() == [[1, 0, 0, 1, 1, 0, 0, 1]]


def test_arm_chain_of_an_exact_conditional_model_is_exact():
    """An 'ARM' whose conditionals are the exact ones gives exact marginals in any order."""
    X, lp = M.ising_chain(D=4)

    class Exact(torch.nn.Module):
        def forward(self, inp):
            out = []
            for row in inp.numpy():
                x, m = row[:4], row[4:]
                logits = []
                for i in range(4):
                    m1 = m.copy(); m1[i] = 1
                    x1 = x.copy(); x1[i] = 1
                    x0 = x.copy(); x0[i] = 0
                    logits.append(M.exact_log_marginal(lp, x1, m1)[0]
                                  - M.exact_log_marginal(lp, x0, m1)[0])
                out.append(logits)
            return torch.tensor(out, dtype=torch.float32)

    rng = np.random.default_rng(1)
    x = X[rng.integers(0, 16, 12)]
    mask = rng.integers(0, 2, (12, 4)).astype(float)
    mask[0] = 1
    exact = M.exact_log_marginal(lp, x, mask)
    for order in ("random", "left-to-right"):
        got, calls = M.arm_log_marginal(Exact(), x, mask, order=order)
        np.testing.assert_allclose(got, exact, atol=1e-5)
        assert calls == 4


def test_claim_at_a_second_seed():
    res = M.simulate(seed=1)
    assert res.mae("mam") < 0.15
    assert res.mae("arm") < 0.15
    assert np.sqrt(np.mean(res.residual ** 2)) < 0.1
    assert res.arm_calls == 10


def test_training_is_deterministic():
    X, lp = M.ising_chain(D=4)
    data = X[np.random.default_rng(0).choice(16, 500, p=np.exp(lp))]
    a1 = M.train_ao_arm(data, steps=30, seed=2, hidden=16)
    a2 = M.train_ao_arm(data, steps=30, seed=2, hidden=16)
    for p1, p2 in zip(a1.parameters(), a2.parameters()):
        assert torch.equal(p1, p2)
    m1 = M.train_mam(a1, data, steps=30, seed=2, hidden=16)
    x, mask = M.random_queries(X, lp, 20, seed=0)
    m2 = M.train_mam(a2, data, steps=30, seed=2, hidden=16)
    np.testing.assert_array_equal(M.mam_log_marginal(m1, x, mask), M.mam_log_marginal(m2, x, mask))


def test_bad_inputs():
    X, lp = M.ising_chain(D=4)
    with pytest.raises(ValueError, match="binary"):
        M.encode_subset([0, 2, 1, 0], [1, 1, 0, 0])
    with pytest.raises(ValueError, match="same shape"):
        M.encode_subset([0, 1, 1, 0], [1, 1, 0])
    with pytest.raises(ValueError, match="same shape"):
        M.exact_log_marginal(lp, [0, 1, 1, 0], [1, 1])
    with pytest.raises(ValueError, match="binary"):
        M.train_ao_arm(np.full((5, 4), 0.5), steps=1)
    with pytest.raises(ValueError, match="D <= 16"):
        M.exact_log_marginal(np.full(1 << 17, -17 * np.log(2)), np.zeros(17), np.ones(17))
    with pytest.raises(ValueError, match="2\\^D"):
        M.exact_log_marginal(np.zeros(10), np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="show"):
        M.draw(show="TB")
