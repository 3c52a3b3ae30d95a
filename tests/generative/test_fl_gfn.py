"""Tests of paperlab.generative.fl_gfn (chapter fl-gflownet-local-credit)."""
from __future__ import annotations

from itertools import combinations, permutations

import numpy as np
import pytest
import torch

from paperlab.generative import fl_gfn as F


@pytest.fixture(scope="module")
def env():
    return F.SetEnv()


def test_env_enumerates_sets_and_energies(env):
    assert env.n_terminal == 924                          # C(12, 6)
    assert env.masks.size == sum(len(list(combinations(range(12), j))) for j in range(7))
    rng = np.random.default_rng(0)
    for s in rng.choice(env.masks.size, 20, replace=False):
        members = np.flatnonzero(env.bits[s])
        naive = sum(env.e[i] for i in members) + sum(env.J[i, j] for i, j in combinations(members, 2))
        assert env.energy[s] == pytest.approx(naive, abs=1e-12)
    assert env.energy[0] == 0.0
    p = env.exact_distribution()
    w = np.exp(-env.energy[env.terminal])
    np.testing.assert_allclose(p, w / w.sum(), rtol=1e-12)
    np.testing.assert_array_equal(env.terminal_index(env.bits[env.terminal]), np.arange(924))


def test_model_distribution_matches_brute_force():
    """Sum over all k! orderings of the product of P_F, for a small environment."""
    small = F.SetEnv(n=5, k=3, seed=3)
    model = F.GFNModel(5, hidden=16, seed=1)
    dist = F.model_distribution(model, small)
    assert dist.sum() == pytest.approx(1.0, abs=1e-9)
    with torch.no_grad():
        for pos, t in enumerate(small.terminal):
            members = np.flatnonzero(small.bits[t])
            total = 0.0
            for order in permutations(members):
                s, prob = np.zeros(5, dtype=np.float32), 1.0
                for a in order:
                    logp, _ = model(torch.from_numpy(s[None]))
                    prob *= float(logp[0, a].exp())
                    s = s.copy()
                    s[a] = 1.0
                total += prob
            assert dist[pos] == pytest.approx(total, rel=1e-5)


def test_sampler_matches_the_exact_distribution(env):
    model = F.GFNModel(12, seed=2)
    samples = F.sample_sets(model, env, 20000, seed=0)
    assert samples.shape == (20000, 12) and np.all(samples.sum(1) == 6)
    idx = env.terminal_index(samples)
    emp = np.bincount(idx, minlength=924) / idx.size
    exact = F.model_distribution(model, env)
    # the difference is sampling noise only: far below the noise floor of a wrong sampler
    assert F.tv(emp, exact) < 0.12
    assert F.tv_to_target(samples, env) == pytest.approx(F.tv(emp, env.exact_distribution()))


class _Shifted(torch.nn.Module):
    """The same policy, with log F(s) = log F~(s) - E(s): the DB view of an FL-DB model."""

    def __init__(self, model, env):
        super().__init__()
        self.model, self.env = model, env

    def forward(self, bits):
        logp, logf = self.model(bits)
        E = torch.as_tensor(self.env.energies(bits.numpy()), dtype=torch.float32)
        return logp, logf - E


def test_fldb_is_db_with_the_reparametrized_flow(env):
    """Eq. (6) of the chapter is Eq. (5) with F(s) = F~(s) exp(-E(s)), terminals included."""
    model = F.GFNModel(12, seed=4)
    gen = torch.Generator().manual_seed(0)
    states, actions = F._rollout(model, 16, env.k, 0.1, gen)
    fl = F.gfn_loss(model, env, states, actions, "fldb")
    db = F.gfn_loss(_Shifted(model, env), env, states, actions, "db")
    assert float(fl.detach()) == pytest.approx(float(db.detach()), rel=1e-4)
    lengths = torch.tensor([1, 2, 3, 4, 5] * 3 + [2])
    fl = F.gfn_loss(model, env, states, actions, "fldb", lengths)
    db = F.gfn_loss(_Shifted(model, env), env, states, actions, "db", lengths)
    assert float(fl.detach()) == pytest.approx(float(db.detach()), rel=1e-4)


def test_training_is_deterministic(env):
    a = F.train_gfn(env, "fldb", steps=50, seed=3, every=25)[1]
    b = F.train_gfn(env, "fldb", steps=50, seed=3, every=25)[1]
    np.testing.assert_array_equal(a.tv, b.tv)
    assert a.steps.tolist() == [0, 25, 50] and a.dist.shape == (3, 924)


def test_claim_at_a_second_seed():
    res = F.simulate(seed=1)
    assert res.at("FL-DB", 400) < res.at("DB", 400)
    assert res.reduction("FL-DB, incomplete") >= 0.3
    assert res.reduction("DB, incomplete") < 0.1


def test_bad_inputs(env):
    with pytest.raises(ValueError, match="k must be"):
        F.SetEnv(n=5, k=6)
    with pytest.raises(ValueError, match="finite"):
        F.SetEnv(n=4, k=2, e=[0.0, np.nan, 1.0, 2.0])
    with pytest.raises(ValueError, match="finite"):
        F.SetEnv(n=3, k=2, J=np.full((3, 3), np.inf))
    with pytest.raises(ValueError, match="objective"):
        F.train_gfn(env, "tb", steps=25)
    for eps in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError, match="eps"):
            F.train_gfn(env, "fldb", steps=25, eps=eps)
    with pytest.raises(ValueError, match="method"):
        F.draw(method="TB")
    with pytest.raises(ValueError, match="exactly k"):
        F.tv_to_target(np.ones((2, 12)), env)
