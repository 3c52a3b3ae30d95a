"""Tests of paperlab.generative.disback (chapter disback-distillation)."""
import numpy as np
import pytest
import torch
from torch import nn

from paperlab.generative import disback as db
from paperlab.generative.diffusion import score_mlp


class ExactGaussianEps(nn.Module):
    """Exact noise predictor for data N(0, I) on the VP path: p_t = N(0, I), eps = sigma_t x."""

    def forward(self, x, t):
        return torch.sin(0.5 * np.pi * t)[:, None] * x


def test_ring_and_generator_offset():
    x = db.ring8().sample(4000, seed=0)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1).mean(), 2.0, atol=0.05)
    G = db.make_generator(offset=3.5, seed=1)
    with torch.no_grad():
        y = G(torch.randn(1000, 2)).numpy()
    assert np.all(np.abs(y.mean(0) - 3.5) < 0.5) and y.std(0).max() < 0.5


def test_dsm_learns_the_exact_gaussian_noise_predictor():
    """Data N(0, I): the DSM optimum is eps(x, t) = sigma_t x (Eq. (1))."""
    data = np.random.default_rng(0).standard_normal((20_000, 2))
    net = score_mlp(dim=2, width=64, depth=2, seed=0)
    x = torch.randn(2000, 2, generator=torch.Generator().manual_seed(1))
    t = torch.full((2000,), 0.6)

    def err():
        with torch.no_grad():
            return float(((net(x, t) - ExactGaussianEps()(x, t)) ** 2).sum(1).mean())

    before = err()
    snaps = db.train_score_dsm(net, data, 400, lr=2e-3, seed=0, checkpoint_every=100)
    assert len(snaps) == 4
    assert all(torch.equal(snaps[-1][k], v) for k, v in net.state_dict().items())
    assert err() < 0.05 and err() < 0.1 * before


def test_record_degradation_returns_teacher_then_frozen_checkpoints():
    teacher = score_mlp(dim=2, width=16, depth=2, seed=0)
    G = db.make_generator(width=16, offset=2.0, seed=1)
    path = db.record_degradation(teacher, G, n_ckpt=3, steps=30, seed=0)
    assert len(path) == 4
    for k, v in teacher.state_dict().items():
        assert torch.equal(path[0].state_dict()[k], v)
    w = [p.state_dict()["body.0.weight"] for p in path]
    assert all(not torch.equal(a, b) for a, b in zip(w, w[1:]))
    assert all(not p.requires_grad for net in path for p in net.parameters())


def test_distillation_pulls_generator_to_the_target():
    """Endpoint distillation against the exact N(0, I) score moves an offset generator to 0."""
    G = db.make_generator(width=32, offset=2.0, seed=0)
    log = db.distill(G, [ExactGaussianEps()], score_mlp(dim=2, width=32, depth=2, seed=0), [300],
                     fake_steps=2, seed=0, lr=2e-3, snapshot_every=100, n_snapshot=500)
    assert list(log["snap_iters"]) == [0, 100, 200, 300]
    start, end = log["snapshots"][0].mean(0), log["snapshots"][-1].mean(0)
    assert np.all(np.abs(start - 2.0) < 0.5) and np.linalg.norm(end) < 0.5 * np.linalg.norm(start)


def test_distill_is_deterministic():
    def run():
        G = db.make_generator(width=16, offset=1.0, seed=0)
        fake = score_mlp(dim=2, width=16, depth=2, seed=0)
        return db.distill(G, [ExactGaussianEps(), ExactGaussianEps()], fake, [10, 10], seed=3,
                          snapshot_every=10, n_snapshot=50)
    a, b = run(), run()
    assert np.array_equal(a["mismatch"], b["mismatch"]) and np.array_equal(a["snapshots"], b["snapshots"])
    assert list(a["stage"]) == [0] * 10 + [1] * 10


def test_claims_at_a_second_seed():
    """Seed 1: early mismatch >= 30 % lower; DisBack reaches 2x the endpoint's final MMD^2 no
    later than the endpoint + 10 %; final MMD^2 within 1.25x."""
    s = db.summary(db.experiment(seed=1))
    assert s["DisBack"]["early_mismatch"] <= 0.7 * s["endpoint"]["early_mismatch"]
    assert 0 <= s["DisBack"]["first_iter_below"] <= 1.1 * s["endpoint"]["first_iter_below"]
    assert s["DisBack"]["final_mmd2"] <= 1.25 * s["endpoint"]["final_mmd2"]


def test_bad_inputs():
    teacher = score_mlp(dim=2, width=8, depth=1, seed=0)
    G = db.make_generator(width=8)
    with pytest.raises(ValueError, match="n_ckpt"):
        db.record_degradation(teacher, G, n_ckpt=0)
    with pytest.raises(ValueError, match="iters_per_stage"):
        db.distill(G, [teacher, teacher], teacher, [10])
    with pytest.raises(ValueError, match="iters_per_stage"):
        db.distill(G, [teacher], teacher, [0])
    with pytest.raises(ValueError, match="iters_per_stage"):
        db.distill(G, [teacher], teacher, 10)
    with pytest.raises(ValueError, match="dimension"):
        db.distill(db.make_generator(dim=3, width=8), [teacher], teacher, [5])
    with pytest.raises(ValueError, match="offset"):
        db.make_generator(offset=float("nan"))
    with pytest.raises(RuntimeError, match="loss diverged"):
        db.train_score_dsm(score_mlp(dim=2, width=8, depth=1), lambda b, g: torch.full((b, 2), float("nan")), 5)
