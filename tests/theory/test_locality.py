"""Tests of paperlab.theory.locality (chapter cnn-lcn-fcn-sample-complexity)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from paperlab.theory import locality as loc

RNG = np.random.default_rng(7)


# ----------------------------------------------------------------------------- the data

def test_dsd_has_one_signal_patch_with_the_label():
    X, y = loc.dsd_sample(4000, k=5, d=6, sigma=0.3, seed=3)
    assert X.shape == (4000, 5, 6) and y.shape == (4000,)
    assert set(np.unique(y)) == {-1.0, 1.0}
    proj = X[..., 0] * y[:, None]                 # y (w* . x_j) with w* = e_1
    signal = proj.argmax(1)
    # the signal patch has mean 1, the others mean 0, all with noise sd sigma
    top = proj[np.arange(len(y)), signal]
    assert abs(np.median(top) - 1.0) < 0.05
    others = np.delete(X[..., 1:], 0, axis=2).ravel()
    assert abs(others.std() - 0.3) < 0.01
    # every patch position is equally likely to carry the signal
    counts = np.bincount(signal, minlength=5) / len(y)
    assert np.all(np.abs(counts - 0.2) < 0.03)


def test_dsd_accepts_a_unit_w_star_and_is_seeded():
    w = np.ones(4) / 2.0
    X1, y1 = loc.dsd_sample(50, 3, 4, 0.5, seed=1, w_star=w)
    X2, y2 = loc.dsd_sample(50, 3, 4, 0.5, seed=1, w_star=w)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    with pytest.raises(ValueError, match="w_star must be a unit vector"):
        loc.dsd_sample(50, 3, 4, 0.5, w_star=np.ones(4))


# ----------------------------------------------------------------------------- the models

def naive_scores(arch, W, X):
    n, k, d = X.shape
    m = W.shape[-1]
    out = np.zeros(n)
    for i in range(n):
        for r in range(m):
            if arch == "CNN":
                out[i] += sum((W[:, r] @ X[i, j]) ** 3 for j in range(k))
            elif arch == "LCN":
                out[i] += sum((W[j, :, r] @ X[i, j]) ** 3 for j in range(k))
            else:
                out[i] += (W[:, r] @ X[i].ravel()) ** 3
    return out / m


@pytest.mark.parametrize("arch", loc.ARCHS)
def test_scores_match_the_formulas(arch):
    X, _ = loc.dsd_sample(7, 3, 4, 0.5, seed=2)
    W = loc.init_weights(arch, 3, 4, m=5, seed=1) * 5
    np.testing.assert_allclose(loc.scores(arch, W, X), naive_scores(arch, W, X), rtol=2e-4, atol=1e-6)


@pytest.mark.parametrize("arch", loc.ARCHS)
def test_gradient_matches_torch_autograd(arch):
    S, n, k, d, m, wd = 2, 9, 3, 4, 3, 1e-2
    X = np.stack([loc.dsd_sample(n, k, d, 0.5, seed=s)[0] for s in range(S)])
    y = np.stack([loc.dsd_sample(n, k, d, 0.5, seed=s)[1] for s in range(S)])
    W = loc.init_weights(arch, k, d, m, batch=(S, 2), seed=4) * 4
    g = loc.gradient(arch, W, loc._layout(arch, X), y, weight_decay=wd)
    for s in range(S):
        for li in range(2):
            Wt = torch.tensor(W[s, li], dtype=torch.float64, requires_grad=True)
            Xt = torch.tensor(X[s], dtype=torch.float64)
            if arch == "CNN":
                f = (torch.einsum("nkd,dm->nkm", Xt, Wt) ** 3).sum((1, 2)) / m
            elif arch == "LCN":
                f = (torch.einsum("nkd,kdm->nkm", Xt, Wt) ** 3).sum((1, 2)) / m
            else:
                f = ((Xt.reshape(n, -1) @ Wt) ** 3).sum(1) / m
            loss = torch.nn.functional.softplus(-torch.tensor(y[s], dtype=torch.float64) * f).mean() \
                + 0.5 * wd * (Wt ** 2).sum()
            loss.backward()
            np.testing.assert_allclose(g[s, li], Wt.grad.numpy(), rtol=1e-3, atol=1e-6)


def test_cnn_gradient_is_rotation_equivariant():
    """Rotating every patch by Q (and the filters with it) rotates the gradient: the property
    that makes gradient descent from an isotropic start orthogonally equivariant."""
    X, y = loc.dsd_sample(20, 4, 5, 0.4, seed=0)
    Q, _ = np.linalg.qr(RNG.standard_normal((5, 5)))
    W = loc.init_weights("CNN", 4, 5, 3, batch=(1, 1), seed=0) * 3
    g = loc.gradient("CNN", W, loc._layout("CNN", X[None]), y[None])
    XQ = (X @ Q).astype(np.float32)
    gQ = loc.gradient("CNN", (Q.T @ W).astype(np.float32), loc._layout("CNN", XQ[None]), y[None])
    np.testing.assert_allclose(gQ, Q.T @ g, rtol=1e-3, atol=1e-5)


def test_training_fits_the_training_set_and_flags_overflow():
    X, y = loc.dsd_sample(64, 4, 8, 0.35, seed=0)
    W = loc.train_gd("CNN", X[None], y[None], lrs=(0.05, 50.0), steps=100)
    acc = loc._accuracy("CNN", W, X[None], y[None])
    assert acc[0, 0] > 0.9                     # a good step size learns
    assert np.isnan(W[0, 1]).all() and acc[0, 1] == 0.0   # a huge one overflows, is flagged


def test_samples_needed():
    ns = [8, 16, 32, 64]
    assert loc.samples_needed([0.5, 0.7, 0.8, 0.9], ns, 0.75) == 32
    assert loc.samples_needed([0.8, 0.7, 0.8, 0.9], ns, 0.75) == 8
    assert loc.samples_needed([0.5, 0.6, 0.6, 0.7], ns, 0.75) == np.inf
    with pytest.raises(ValueError, match="increasing"):
        loc.samples_needed([0.5, 0.6], [16, 8])


# ----------------------------------------------------------------------------- the claim

def test_claim_at_a_second_seed():
    """Seed 1, k = 16: weight sharing wins at n = 64, locality wins at n = 1024; at k = 4 the
    three architectures are close at n = 1024."""
    r = loc.experiment(ks=(4, 16), ns=(64, 1024), seeds=(1,))
    acc = {a: r.acc[a][:, 0] for a in loc.ARCHS}          # (k, n)
    assert acc["CNN"][1, 0] >= acc["LCN"][1, 0] + 0.1
    assert acc["LCN"][1, 1] >= acc["FCN"][1, 1] + 0.05
    k4 = [acc[a][0, 1] for a in loc.ARCHS]
    assert max(k4) - min(k4) <= 0.1


def test_train_eval_is_deterministic():
    a = loc.train_eval("LCN", 32, 4, 4, 0.35, seed=2, steps=50)
    b = loc.train_eval("LCN", 32, 4, 4, 0.35, seed=2, steps=50)
    assert a == b and 0.4 <= a <= 1.0


# ----------------------------------------------------------------------------- bad inputs

@pytest.mark.parametrize("kwargs, match", [
    (dict(k=0), "k must be"), (dict(d=0), "d must be"), (dict(sigma=0.0), "sigma must be"),
    (dict(sigma=-1.0), "sigma must be"), (dict(n=1), "n must be"), (dict(arch="RNN"), "arch must be"),
])
def test_bad_inputs(kwargs, match):
    args = dict(arch="CNN", n=16, k=4, d=4, sigma=0.35, seed=0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        loc.train_eval(**args)


def test_bad_inputs_of_the_sampler_and_draw():
    with pytest.raises(ValueError, match="k must be"):
        loc.dsd_sample(10, 0, 4, 0.3)
    with pytest.raises(ValueError, match="sigma must be"):
        loc.dsd_sample(10, 2, 4, 0.0)
    with pytest.raises(ValueError, match="k must be"):
        loc.draw(k=5)
