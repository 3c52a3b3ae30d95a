"""Tests of paperlab.optim.adan (chapter ``adan-optimizer``, Xie et al. 2024)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from paperlab.optim import adan
from paperlab.optim.common import quadratic


# --------------------------------------------------------------------------- Lemma 1 (NME)

def naive_nesterov(Q, b, x0, lr, mu, steps):
    """Nesterov with the gradient at the look-ahead point, written out; returns the y_k."""
    theta, v = x0.copy(), np.zeros_like(x0)
    ys = []
    for _ in range(steps + 1):
        y = theta - lr * mu * v
        ys.append(y)
        v = mu * v + (Q @ y - b)
        theta = theta - lr * v
    return np.array(ys)


@pytest.mark.parametrize("seed,d,kappa", [(0, 50, 1e3), (1, 20, 1e2)])
def test_nme_iterates_are_nesterovs_lookahead_points(seed, d, kappa):
    q = quadratic(d, kappa, seed=seed)
    mu = (np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)
    x0 = np.random.default_rng(seed).standard_normal(d)
    ys, zs = adan.nesterov_vs_nme(q, x0, 1.0 / q.L, mu, 200)
    assert ys.shape == zs.shape == (201, d)
    np.testing.assert_allclose(ys, naive_nesterov(q.Q, q.b, x0, 1.0 / q.L, mu, 200),
                               rtol=0, atol=1e-10)
    assert np.abs(ys - zs).max() <= 1e-10 * max(1.0, np.abs(ys).max())
    np.testing.assert_array_equal(ys[0], x0)


def test_nme_first_momentum_is_one_plus_mu_times_the_gradient():
    Q = np.diag([1.0, 4.0])
    x0 = np.array([1.0, 1.0])
    _, zs = adan.nesterov_vs_nme(Q, x0, 0.1, 0.5, 1)
    np.testing.assert_allclose(zs[1], x0 - 0.1 * 1.5 * (Q @ x0), rtol=1e-15)


def test_nesterov_beats_gradient_descent_on_an_ill_conditioned_quadratic():
    q = quadratic(50, 1e3, seed=2)
    fs = q.value(q.x_star)
    mu = (np.sqrt(1e3) - 1) / (np.sqrt(1e3) + 1)
    ys, _ = adan.nesterov_vs_nme(q, np.zeros(50), 1.0, mu, 200)
    xs = adan.gradient_descent(q, np.zeros(50), 1.0, 200)
    assert q.value(ys[-1]) - fs < 1e-2 * (q.value(xs[-1]) - fs)


# --------------------------------------------------------------------------- Adan itself

def test_first_step_in_closed_form():
    """g_0 := g_1 makes v_1 = 0; bias correction makes m_hat = g, n_hat = g^2: a sign step."""
    g = np.array([3.0, -0.5, 1e-3])
    xs = adan.adan_numpy(lambda x: g, np.zeros(3), 1, lr=0.1, eps=0.0)
    np.testing.assert_allclose(xs[1], -0.1 * np.sign(g), rtol=1e-14)
    p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = adan.Adan([p], lr=0.1, eps=0.0)
    (p @ torch.from_numpy(g)).backward()
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), xs[1], rtol=1e-14)


def naive_adan(grad_fn, x0, steps, lr, betas, eps, wd, no_prox):
    """Algorithm 1 in the paper's convention (beta_paper = 1 - beta_code), element by element."""
    p1, p2, p3 = (1 - b for b in betas)
    x = list(x0)
    d = len(x)
    m, v, n, g_prev = [0.0] * d, [0.0] * d, [0.0] * d, None
    out = [list(x)]
    for k in range(1, steps + 1):
        g = list(grad_fn(np.array(x)))
        g_prev = g if g_prev is None else g_prev
        for i in range(d):
            dg = g[i] - g_prev[i]
            m[i] = (1 - p1) * m[i] + p1 * g[i]
            v[i] = (1 - p2) * v[i] + p2 * dg
            n[i] = (1 - p3) * n[i] + p3 * (g[i] + (1 - p2) * dg) ** 2
            eta = lr / ((n[i] / (1 - (1 - p3) ** k)) ** 0.5 + eps)
            step = eta * (m[i] / (1 - (1 - p1) ** k) + (1 - p2) * v[i] / (1 - (1 - p2) ** k))
            x[i] = (1 - lr * wd) * x[i] - step if no_prox else (x[i] - step) / (1 + lr * wd)
        g_prev = g
        out.append(list(x))
    return np.array(out)


@pytest.mark.parametrize("no_prox", [False, True])
def test_numpy_reference_matches_the_papers_convention(no_prox):
    q = quadratic(6, 30.0, seed=4)
    betas = (0.9, 0.85, 0.95)
    ref = naive_adan(q.grad, np.ones(6), 40, 0.05, betas, 1e-8, 0.1, no_prox)
    got = adan.adan_numpy(q.grad, np.ones(6), 40, lr=0.05, betas=betas, weight_decay=0.1,
                          no_prox=no_prox)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("hp", [{}, {"weight_decay": 0.1}, {"weight_decay": 0.1, "no_prox": True},
                                {"max_grad_norm": 0.5, "betas": (0.9, 0.8, 0.95)}],
                         ids=["default", "prox-wd", "no-prox-wd", "clipped"])
def test_torch_adan_matches_numpy_on_the_quadratic(hp):
    assert adan.fidelity("quadratic", 100, seed=1, **hp) <= 1e-10


@pytest.mark.parametrize("hp", [{}, {"weight_decay": 0.02, "max_grad_norm": 1.0}],
                         ids=["default", "wd-clipped"])
def test_torch_adan_matches_numpy_on_the_mlp(hp):
    assert adan.fidelity("mlp", 100, seed=3, **hp) <= 1e-10


@pytest.mark.parametrize("no_prox,expected", [(False, 1 / 1.05), (True, 0.95)])
def test_weight_decay_order_with_a_zero_gradient(no_prox, expected):
    p = torch.ones(4, dtype=torch.float64, requires_grad=True)
    opt = adan.Adan([p], lr=0.5, weight_decay=0.1, no_prox=no_prox)
    (0.0 * p.sum()).backward()
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), expected, rtol=1e-14)


def test_closure_and_parameters_without_gradients():
    a = torch.ones(2, requires_grad=True)
    b = torch.ones(2, requires_grad=True)
    opt = adan.Adan([a, b], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (a ** 2).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == pytest.approx(2.0)
    assert torch.all(a < 1) and torch.all(b == 1)


# --------------------------------------------------------------------------- the claims

def test_digits_race_at_two_other_seeds():
    """The chapter's sanity check (Adan's final training loss <= 1.1 x Adam's) at seeds 3, 4."""
    race = adan.digits_race(("Adam", "Adan"), seeds=(3, 4))
    assert race.mean_final("Adan") <= 1.1 * race.mean_final("Adam"), dict(race.final)
    assert race.best_lr["Adan"] in adan.LR_GRIDS["Adan"]


def test_training_is_deterministic():
    a = adan._train_mlp.__wrapped__("Adan", 0.03, 5, 40, 128, 10)
    b = adan._train_mlp.__wrapped__("Adan", 0.03, 5, 40, 128, 10)
    np.testing.assert_array_equal(a.error, b.error)
    assert a.error[-1] < a.error[0]


def test_rosenbrock_gradient_matches_finite_differences():
    x = np.array([-0.7, 1.3])
    h = 1e-6
    fd = [(adan.rosenbrock(x + h * e) - adan.rosenbrock(x - h * e)) / (2 * h) for e in np.eye(2)]
    np.testing.assert_allclose(adan.rosenbrock_grad(x), fd, rtol=1e-7)
    assert adan.rosenbrock(np.array([1.0, 1.0])) == 0.0


# --------------------------------------------------------------------------- bad inputs

def _p():
    return [torch.zeros(2, requires_grad=True)]


@pytest.mark.parametrize("kwargs,match", [
    ({"lr": -1e-3}, "lr must be in"),
    ({"betas": (1.0, 0.92, 0.99)}, r"betas\[0\] must be in"),
    ({"betas": (0.98, -0.1, 0.99)}, r"betas\[1\] must be in"),
    ({"betas": (0.98, 0.92, 1.5)}, r"betas\[2\] must be in"),
    ({"betas": (0.9, 0.9)}, "three numbers"),
    ({"eps": -1e-8}, "eps must be in"),
    ({"max_grad_norm": -1.0}, "max_grad_norm must be in"),
    ({"weight_decay": -0.1}, "weight_decay must be in"),
    ({"lr": float("nan")}, "lr must be finite"),
])
def test_bad_hyperparameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        adan.Adan(_p(), **kwargs)
    with pytest.raises(ValueError, match=match):
        adan.adan_numpy(lambda x: x, np.ones(2), 3, **kwargs)


def test_sparse_gradients_are_refused():
    emb = torch.nn.Embedding(5, 3, sparse=True)
    opt = adan.Adan(emb.parameters())
    emb(torch.tensor([1, 2])).sum().backward()
    with pytest.raises(RuntimeError, match="sparse"):
        opt.step()


def test_bad_inputs_of_the_helpers():
    q = quadratic(4, 10.0)
    with pytest.raises(ValueError, match="grad_fn must return an array of shape"):
        adan.adan_numpy(lambda x: np.ones(3), np.ones(4), 2)
    with pytest.raises(ValueError, match="non-finite"):
        adan.adan_numpy(lambda x: np.full(4, np.nan), np.ones(4), 2)
    with pytest.raises(ValueError, match="mu must be in"):
        adan.nesterov_vs_nme(q, np.zeros(4), 1.0, 1.0, 10)
    with pytest.raises(ValueError, match="lr must be in"):
        adan.nesterov_vs_nme(q, np.zeros(4), 0.0, 0.5, 10)
    with pytest.raises(ValueError, match="x0 must have shape"):
        adan.nesterov_vs_nme(q, np.zeros(3), 1.0, 0.5, 10)
    with pytest.raises(ValueError, match="Q must be a square matrix"):
        adan.nesterov_vs_nme(np.ones((2, 3)), np.zeros(2), 1.0, 0.5, 10)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        adan.train_mlp("Lion", 1e-3)
    with pytest.raises(ValueError, match="problem must be one of"):
        adan.fidelity("resnet")
    with pytest.raises(ValueError, match="beta1 must be in|betas\\[0\\] must be in"):
        adan.draw(beta1=1.0)
