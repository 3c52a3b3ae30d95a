"""Tests of paperlab.nn.intrinsic_dimension (chapter `intrinsic-dimension`)."""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
from torch import nn

from paperlab import nets
from paperlab.nn import intrinsic_dimension as intdim


def _tiny(seed: int = 0) -> nn.Sequential:
    return nets.mlp([6, 5, 5, 3], seed=seed)  # D = 35 + 30 + 18 = 83


def _x(n: int = 16) -> torch.Tensor:
    return torch.randn(n, 6, generator=torch.Generator().manual_seed(1))


# --- correctness ------------------------------------------------------------------------------

def test_theta_d_zero_reproduces_the_base_network():
    base = _tiny()
    model = intdim.SubspaceModel(base, d=7, seed=3)
    assert torch.equal(model.theta_d.detach(), torch.zeros(7))
    assert torch.equal(model(_x()), base(_x()))


def test_identity_projection_with_d_equal_D_is_the_base_network():
    base = _tiny()
    D = nets.n_params(base)
    model = intdim.SubspaceModel(base, d=D, P=torch.eye(D))
    v = torch.randn(D, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        model.theta_d.copy_(v)
    moved = copy.deepcopy(base)
    theta = torch.nn.utils.parameters_to_vector(base.parameters()) + v
    torch.nn.utils.vector_to_parameters(theta, moved.parameters())
    torch.testing.assert_close(model(_x()), moved(_x()), rtol=1e-6, atol=1e-6)


def test_gradient_is_the_projected_full_gradient():
    # d/d theta_d L(theta_0 + P theta_d) at theta_d = 0 equals P^T grad L(theta_0).
    base = _tiny()
    model = intdim.SubspaceModel(base, d=11, seed=5)
    x, y = _x(), torch.arange(16) % 3
    nn.functional.cross_entropy(model(x), y).backward()
    full = copy.deepcopy(base)
    nn.functional.cross_entropy(full(x), y).backward()
    g_full = torch.cat([p.grad.reshape(-1) for p in full.parameters()])
    torch.testing.assert_close(model.theta_d.grad, model.P.T @ g_full, rtol=1e-5, atol=1e-6)


def test_train_and_eval_modes_reach_the_base_network():
    base = nn.Sequential(nn.Linear(6, 5), nn.Dropout(0.5), nn.Linear(5, 3))
    model = intdim.SubspaceModel(base, d=4)
    model.eval()
    assert torch.equal(model(_x()), model(_x()))  # dropout off: deterministic
    model.train()
    assert model._base[0].training


def test_random_projection_has_unit_columns_and_is_seeded():
    P = intdim.random_projection(500, 40, seed=0)
    assert P.shape == (500, 40)
    torch.testing.assert_close(P.norm(dim=0), torch.ones(40))
    assert torch.equal(P, intdim.random_projection(500, 40, seed=0))
    assert not torch.equal(P, intdim.random_projection(500, 40, seed=1))
    raw = intdim.random_projection(500, 40, seed=0, normalize=False)
    assert 15 < float(raw.norm(dim=0).mean()) < 30  # about sqrt(500) = 22.4


def test_only_theta_d_is_trained_and_the_base_is_untouched():
    base = _tiny()
    before = [p.detach().clone() for p in base.parameters()]
    model = intdim.SubspaceModel(base, d=9)
    assert [n for n, _ in model.named_parameters()] == ["theta_d"]
    assert nets.n_params(model) == 9 and model.D == 83 and model.d == 9
    x, y = _x(64), torch.arange(64) % 3
    acc = intdim.train_subspace(model, x, y, x, y, steps=20, lr=0.1)
    assert 0.0 <= acc <= 1.0
    assert float(model.theta_d.detach().abs().sum()) > 0
    assert all(torch.equal(a, b) for a, b in zip(before, base.parameters()))
    assert torch.equal(model.theta0, torch.nn.utils.parameters_to_vector(base.parameters()))


def test_intrinsic_dim_matches_a_hand_computed_interpolation():
    ds, accs = [10, 100, 1000], [0.5, 0.8, 0.95]
    # threshold 0.9 lies 2/3 of the way from 0.8 to 0.95: log d = log 100 + (2/3) log 10
    assert intdim.intrinsic_dim(ds, accs, 1.0, 0.9) == pytest.approx(100 * 10 ** (2 / 3))
    # baseline 0.9, frac 0.5: threshold 0.45, already met at the first grid point
    assert intdim.intrinsic_dim(ds, accs, 0.9, 0.5) == 10
    # a threshold met exactly at a grid point returns that point
    assert intdim.intrinsic_dim(ds, accs, 1.0, 0.8) == pytest.approx(100)
    # never reached: infinite
    assert intdim.intrinsic_dim(ds, accs, 1.0, 0.99) == math.inf
    # the first crossing counts, even if the curve dips afterwards
    assert intdim.intrinsic_dim([1, 2, 4, 8], [0.1, 0.95, 0.5, 0.99], 1.0, 0.9) < 2


def test_table_lists_every_width():
    res = intdim.run_experiment(widths=(4,), dims=(2, 8), steps=5)
    text = repr(res.table(0.9))
    assert "64-4-4-10" in text and "d_int90" in text
    assert "<table>" in res.table()._repr_html_()


# --- the chapter's claim at a second seed --------------------------------------------------------

def test_claim_holds_at_seed_1():
    # All three widths; the grid starts at d = 64, where every width is still far below the
    # threshold (checked below), so the first crossing and its interpolation are the same as on
    # the chapter's full grid.
    res = intdim.run_experiment(dims=(64, 128, 256, 512), seed=1)
    dint = res.d_int(0.9)
    vals = np.array([dint[w] for w in res.widths])
    rel = res.acc / res.baseline[:, None]
    assert np.all(rel[:, 0] < 0.85), f"d = 64 already near the threshold: {rel[:, 0]}"
    assert np.all(np.isfinite(vals)), dint
    assert vals.max() / vals.min() <= 2.5, dint
    assert max(res.D) / min(res.D) > 5
    assert dint[64] <= 0.1 * res.D[res.widths.index(64)], dint
    assert np.all(rel[:, -1] >= 0.9), rel[:, -1]


def test_experiment_is_deterministic_and_cached():
    kw = dict(widths=(8,), dims=(4, 16), steps=30, seed=2)
    a, b = intdim.sweep(**kw), intdim.sweep(**kw)
    np.testing.assert_array_equal(a.acc, b.acc)
    np.testing.assert_array_equal(a.baseline, b.baseline)
    c = intdim.run_experiment(**kw)
    np.testing.assert_array_equal(a.acc, c.acc)
    assert intdim.run_experiment(widths=[8], dims=[4, 16], steps=30, seed=2) is c
    assert not c.acc.flags.writeable


# --- bad inputs -----------------------------------------------------------------------------------

@pytest.mark.parametrize("d", [0, -3, 84])
def test_d_outside_1_to_D_is_rejected(d):
    with pytest.raises(ValueError, match="d must be between 1 and D = 83"):
        intdim.SubspaceModel(_tiny(), d=d)


def test_non_integer_d_is_rejected():
    with pytest.raises(ValueError, match="d must be an integer"):
        intdim.SubspaceModel(_tiny(), d=2.5)


def test_base_module_without_parameters_is_rejected():
    with pytest.raises(ValueError, match="no parameters"):
        intdim.SubspaceModel(nn.ReLU(), d=1)
    with pytest.raises(ValueError, match="torch.nn.Module"):
        intdim.SubspaceModel(lambda x: x, d=1)


def test_unnormalized_custom_P_needs_normalize_false():
    base = _tiny()
    P = 2.0 * torch.eye(83)[:, :5]
    with pytest.raises(ValueError, match="unit norm.*normalize=False"):
        intdim.SubspaceModel(base, d=5, P=P)
    model = intdim.SubspaceModel(base, d=5, P=P.requires_grad_(True), normalize=False)
    torch.testing.assert_close(model.P.norm(dim=0), torch.full((5,), 2.0))


def test_P_of_the_wrong_shape_is_rejected():
    with pytest.raises(ValueError, match="P must have shape"):
        intdim.SubspaceModel(_tiny(), d=5, P=torch.eye(83)[:, :4])
    with pytest.raises(ValueError, match="finite"):
        intdim.SubspaceModel(_tiny(), d=1, P=torch.full((83, 1), float("nan")))


@pytest.mark.parametrize("frac", [0.0, -0.1, 1.01, float("nan")])
def test_frac_outside_0_1_is_rejected(frac):
    with pytest.raises(ValueError, match="frac"):
        intdim.intrinsic_dim([1, 2], [0.5, 0.9], 1.0, frac)
    with pytest.raises(ValueError, match="frac"):
        intdim.draw(frac=frac)


def test_intrinsic_dim_rejects_bad_grids():
    with pytest.raises(ValueError, match="one entry per entry of ds"):
        intdim.intrinsic_dim([1, 2, 4], [0.5, 0.9], 1.0)
    with pytest.raises(ValueError, match="strictly increasing"):
        intdim.intrinsic_dim([4, 2], [0.5, 0.9], 1.0)
    with pytest.raises(ValueError, match="strictly increasing"):
        intdim.intrinsic_dim([0, 2], [0.5, 0.9], 1.0)
    with pytest.raises(ValueError, match="accuracies in"):
        intdim.intrinsic_dim([1, 2], [0.5, 1.2], 1.0)
    with pytest.raises(ValueError, match="baseline"):
        intdim.intrinsic_dim([1, 2], [0.5, 0.9], 0.0)


def test_other_bad_inputs():
    with pytest.raises(ValueError, match="SubspaceModel"):
        intdim.train_subspace(_tiny(), _x(), torch.zeros(16, dtype=torch.long), _x(),
                              torch.zeros(16, dtype=torch.long))
    with pytest.raises(ValueError, match="at most D"):
        intdim.run_experiment(widths=(2,), dims=(8, 512), steps=1)
    with pytest.raises(ValueError, match="strictly increasing"):
        intdim.run_experiment(dims=(64, 32))
    with pytest.raises(ValueError, match="width"):
        intdim.draw(width=48)
