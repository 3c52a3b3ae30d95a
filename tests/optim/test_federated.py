"""Tests of paperlab.optim.federated (chapter ``fedspeed``, Sun et al. 2023)."""
from __future__ import annotations

import numpy as np
import pytest

from paperlab.optim import federated as F


@pytest.fixture(scope="module")
def small():
    """One federation of 4 clients at alpha = 0.5."""
    return F.make_clients(4, ((0.5, 3),))


def _batch(data, rng):
    """A batch from the module's sampler and the same batch as plain arrays."""
    s = F._Sampler(data, 5, rng)
    X, Xt, T = s()
    return (X, Xt, T), X.astype(np.float64), T.argmax(axis=1)


# --------------------------------------------------------------------------- data

def test_partition_is_a_partition_with_label_skew():
    y = np.repeat(np.arange(10), 100)
    parts = F.partition_dirichlet(y, 10, 0.1, seed=0)
    allidx = np.concatenate(parts)
    assert sorted(allidx.tolist()) == list(range(1000))          # every example exactly once
    assert min(len(p) for p in parts) >= 10
    # label skew: at alpha = 0.1 a typical client is dominated by one or two classes
    top2 = [np.sort(np.bincount(y[p], minlength=10))[-2:].sum() / len(p) for p in parts]
    assert np.median(top2) > 0.6
    iid = F.partition_dirichlet(y, 10, 100.0, seed=0)
    top2_iid = [np.sort(np.bincount(y[p], minlength=10))[-2:].sum() / len(p) for p in iid]
    assert np.median(top2_iid) < 0.35
    assert all(np.array_equal(a, b) for a, b in zip(parts, F.partition_dirichlet(y, 10, 0.1, seed=0)))


def test_loss_and_grad_matches_finite_differences():
    g = np.random.default_rng(0)
    W, X, Y = g.standard_normal((2, 3, 4)), g.standard_normal((2, 6, 4)), g.integers(0, 3, (2, 6))
    loss, G = F.loss_and_grad(W, X, Y, 0.1)
    # naive loss, one client and one example at a time
    for c in range(2):
        z = X[c] @ W[c].T
        naive = np.mean([np.log(np.exp(z[j]).sum()) - z[j, Y[c, j]] for j in range(6)])
        assert loss[c] == pytest.approx(naive + 0.05 * np.sum(W[c] ** 2))
    h = 1e-6
    for idx in [(0, 0, 0), (1, 2, 3), (0, 1, 2)]:
        Wp = W.copy()
        Wp[idx] += h
        num = (F.loss_and_grad(Wp, X, Y, 0.1)[0][idx[0]] - loss[idx[0]]) / h
        assert num == pytest.approx(G[idx], abs=1e-5)


def test_fast_gradient_matches_loss_and_grad(small):
    g = np.random.default_rng(1)
    W = g.standard_normal((small.size, *small.shape)).astype(F.DTYPE)
    batch, X, Y = _batch(small, g)
    _, G = F.loss_and_grad(W, X, Y, small.reg)
    assert np.allclose(F._grad(W, batch, small.reg), G, atol=1e-4)


# --------------------------------------------------------------------------- the local solvers

def naive_fedspeed(x_t, g_hat, data, K, lr, lam, rho, alpha, rng):
    """Algorithm 1 of the paper, lines 6-14, client by client, with the same random draws."""
    s = F._Sampler(data, F.HYPER["batch"], rng)
    x = x_t.astype(np.float64).copy()
    for _ in range(K):
        b = s()
        Xb, Yb = b[0].astype(np.float64), b[2].argmax(axis=1)
        for c in range(data.size):
            g1 = F.loss_and_grad(x[c:c + 1], Xb[c:c + 1], Yb[c:c + 1], data.reg)[1][0]
            xb = x[c] + rho * g1 / np.linalg.norm(g1)
            g2 = F.loss_and_grad(xb[None], Xb[c:c + 1], Yb[c:c + 1], data.reg)[1][0]
            g = (1 - alpha) * g1 + alpha * g2
            x[c] = x[c] - lr * (g - g_hat[c] + (x[c] - x_t[c]) / lam)
    g_new = g_hat - (x - x_t) / lam
    return x - lam * g_new, g_new


def test_fedspeed_local_follows_algorithm_1(small):
    g = np.random.default_rng(2)
    x_t = (0.1 * g.standard_normal((small.size, *small.shape))).astype(F.DTYPE)
    g_hat = (0.01 * g.standard_normal((small.size, *small.shape))).astype(F.DTYPE)
    got = F.fedspeed_local(x_t, g_hat, small, 4, 0.1, 5.0, 0.2, 0.3, np.random.default_rng(7))
    want = naive_fedspeed(x_t, g_hat, small, 4, 0.1, 5.0, 0.2, 0.3, np.random.default_rng(7))
    assert np.allclose(got[0], want[0], atol=1e-4)
    assert np.allclose(got[1], want[1], atol=1e-5)


def test_special_cases_reduce_to_simpler_methods(small):
    """FedProx with mu = 0 is FedAvg; SCAFFOLD with zero control variates starts as FedAvg;
    FedSpeed with rho = 0, g_hat = 0 and lam -> inf runs local SGD, and then uploads
    x_tilde = x_K - lam g_hat = x_K + (x_K - x_t): the correction doubles the first update."""
    x_t = np.zeros((small.size, *small.shape), dtype=F.DTYPE)
    zero = np.zeros_like(x_t)
    avg = F.fedavg_local(x_t, small, 5, 0.1, np.random.default_rng(3))
    prox = F.fedprox_local(x_t, small, 5, 0.1, 0.0, np.random.default_rng(3))
    sca, _ = F.scaffold_local(x_t, zero, zero, small, 5, 0.1, np.random.default_rng(3))
    fs, _ = F.fedspeed_local(x_t, zero, small, 5, 0.1, 1e12, 0.0, 0.0, np.random.default_rng(3))
    for other in (prox, sca):
        assert np.allclose(avg, other, atol=1e-5)
    assert np.allclose(2 * avg - x_t, fs, atol=1e-5)


def test_fedspeed_fixed_point_is_the_optimum():
    """Noise-free check of the prox-correction: with full-batch gradients (one example per
    client) and rho = 0, FedSpeed's server model converges to the global minimiser, while
    FedAvg with the same K stops at a biased point."""
    data = F.make_clients(3, ((1.0, 0),))
    # shrink each client to a single example, so every mini-batch is the full local data
    data = F.Clients(data.X[:, :1], data.Y[:, :1], np.ones(3, dtype=np.int64), data.group,
                     data.X[:, 0], data.Y[:, 0], data.X_test, data.Y_test, data.n_classes, 0.1)
    h_fs = F.run("FedSpeed", data, 20, 300, lr=0.2, lam=2.0, rho=0.0)
    h_avg = F.run("FedAvg", data, 20, 300, lr=0.2)
    # the global loss of the three pooled examples at its minimum: gradient descent from zero
    W = np.zeros((1, *data.shape))
    Xe, Ye = data.X_eval[None], data.Y_eval[None]
    for _ in range(5000):
        W -= 0.5 * F.loss_and_grad(W, Xe, Ye, 0.1)[1]
    f_star = F.loss_and_grad(W, Xe, Ye, 0.1)[0][0]
    assert h_fs.train_loss[0, -1] - f_star < 1e-5
    assert h_avg.train_loss[0, -1] - f_star > 1e-2


# --------------------------------------------------------------------------- the claim

def test_claim_at_another_seed():
    """FedSpeed needs far fewer rounds than FedAvg at K = 20 on a fresh split (seed 7)."""
    f_star, _ = F.centralised()
    data = F.make_clients(10, ((0.1, 7),))
    r_avg = F.rounds_to(F.run("FedAvg", data, 20, 40, seed=5), 0.1, f_star)[0]
    r_fs = F.rounds_to(F.run("FedSpeed", data, 20, 40, seed=5), 0.1, f_star)[0]
    assert r_fs <= 0.5 * r_avg


def test_deterministic():
    data = F.make_clients(10, ((0.1, 0),))
    a = F.run("FedSpeed", data, 5, 3, seed=1)
    b = F.run("FedSpeed", data, 5, 3, seed=1)
    assert np.array_equal(a.train_loss, b.train_loss) and np.array_equal(a.test_acc, b.test_acc)


def test_centralised_is_a_minimum():
    f_star, acc = F.centralised()
    assert 0.0 < f_star < 0.2 and acc > 0.95


# --------------------------------------------------------------------------- bad inputs

def test_bad_inputs(small):
    y = np.repeat(np.arange(3), 10)
    x_t = np.zeros((small.size, *small.shape), dtype=F.DTYPE)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="n_clients"):
        F.partition_dirichlet(y, 0, 0.5)
    with pytest.raises(ValueError, match="alpha"):
        F.partition_dirichlet(y, 3, 0.0)
    with pytest.raises(ValueError, match="n_clients"):
        F.make_clients(0)
    with pytest.raises(ValueError, match="K"):
        F.fedspeed_local(x_t, x_t, small, 0, 0.1, 1.0, 0.1, 0.5, rng)
    with pytest.raises(ValueError, match="lam"):
        F.fedspeed_local(x_t, x_t, small, 1, 0.1, 0.0, 0.1, 0.5, rng)
    with pytest.raises(ValueError, match="rho"):
        F.fedspeed_local(x_t, x_t, small, 1, 0.1, 1.0, -0.1, 0.5, rng)
    with pytest.raises(ValueError, match="alpha"):
        F.fedspeed_local(x_t, x_t, small, 1, 0.1, 1.0, 0.1, 1.5, rng)
    with pytest.raises(ValueError, match="alpha"):
        F.fedspeed_local(x_t, x_t, small, 1, 0.1, 1.0, 0.1, -0.1, rng)
    with pytest.raises(ValueError, match="lr"):
        F.fedspeed_local(x_t, x_t, small, 1, 0.0, 1.0, 0.1, 0.5, rng)
    with pytest.raises(ValueError, match="lr"):
        F.run("FedAvg", small, 1, 1, lr=-1.0)
    with pytest.raises(ValueError, match="K"):
        F.run("FedAvg", small, 0, 1)
    with pytest.raises(ValueError, match="method"):
        F.run("FedNova", small, 1, 1)
    with pytest.raises(ValueError, match="lam"):
        F.run("FedSpeed", small, 1, 1, lam=-2.0)
    with pytest.raises(ValueError, match="unknown"):
        F.run("FedSpeed", small, 1, 1, beta=0.1)
    with pytest.raises(ValueError, match="K"):
        F.draw(K=3)
