"""Tests of paperlab.optim.lr_perceptron (chapter ``logreg-to-perceptron``, Tyurin 2025)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from paperlab.optim import lr_perceptron as lrp


# --------------------------------------------------------------------------- naive references

def naive_lr_gd(A, y, gamma, steps, normalized=False):
    """LR+GD written point by point, straight from Eq. (3) and Section 6 of the paper."""
    n, d = A.shape
    theta = np.zeros(d)
    out = [theta.copy()]
    for _ in range(steps):
        grad = np.zeros(d)
        weight = 0.0
        for i in range(n):
            s = 1.0 / (1.0 + np.exp(min(y[i] * A[i] @ theta, 700.0)))
            grad -= s * y[i] * A[i] / n
            weight += s / n
        beta = 1.0 / weight if normalized else 1.0
        theta = theta - gamma * beta * grad
        out.append(theta.copy())
    return np.array(out)


def naive_batch_perceptron(A, y, steps, normalized=False):
    """(Normalized) Batch Perceptron point by point, as printed in Sections 3 and 5."""
    n, d = A.shape
    theta = np.zeros(d)
    out = [theta.copy()]
    for t in range(steps):
        S = [i for i in range(n) if y[i] * A[i] @ theta <= 0]
        if not S:
            out.append(theta.copy())
            continue
        step = sum(y[i] * A[i] for i in S)
        if normalized:
            theta = theta + step / len(S)
        else:
            theta = theta + step / (2 * n if t == 0 else n)
        out.append(theta.copy())
    return np.array(out)


# --------------------------------------------------------------------------- correctness

def test_gradient_matches_finite_differences():
    A, y = lrp.blobs_dataset(40, seed=3)
    theta = np.array([0.7, -0.4])
    g = lrp.logistic_grad(theta, A, y)
    h = 1e-6
    f = lrp.logistic_loss
    fd = np.array([(f(theta + h * e, A, y) - f(theta - h * e, A, y)) / (2 * h) for e in np.eye(2)])
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-9)


def test_gradient_has_no_overflow_at_huge_margins():
    A, y = lrp.two_point_dataset()
    g = lrp.logistic_grad(np.array([1e6, -1e6]), A, y)
    assert np.all(np.isfinite(g))


@pytest.mark.parametrize("normalized", [False, True])
@pytest.mark.parametrize("data", ["blobs", "worst"])
def test_lr_gd_matches_a_naive_loop(normalized, data):
    A, y = lrp.blobs_dataset(30, seed=1) if data == "blobs" else lrp.worst_case_dataset(12)
    for gamma in (0.3, 5.0):
        tr = lrp.lr_gd(A, y, gamma, normalized=normalized, max_iter=25, stop_at_sep=False)
        ref = naive_lr_gd(A, y, gamma, 25, normalized=normalized)
        np.testing.assert_allclose(tr.thetas, ref, rtol=1e-10, atol=1e-12)
        losses = [np.mean(np.log1p(np.exp(-y * (A @ th)))) for th in ref]
        np.testing.assert_allclose(tr.losses, losses, rtol=1e-10)


@pytest.mark.parametrize("normalized", [False, True])
def test_batch_perceptron_matches_a_naive_loop(normalized):
    A, y = lrp.blobs_dataset(50, seed=2)
    tr = lrp.batch_perceptron(A, y, normalized=normalized, max_iter=30, stop_at_sep=False)
    np.testing.assert_allclose(tr.thetas, naive_batch_perceptron(A, y, 30, normalized), atol=1e-12)
    assert tr.errors[-1] == 0 and tr.n_sep is not None
    assert np.all(tr.min_margins[tr.n_sep:] > 0) and np.all(tr.min_margins[:tr.n_sep] <= 0)


def test_worst_case_iterates_follow_the_proof_of_theorem_5_1():
    """hat theta_k = (1/4 (1 + 2(k-1)/n), (n - 2k)/(2n)) while only the +1 point is wrong."""
    n = 100
    A, y = lrp.worst_case_dataset(n)
    tr = lrp.batch_perceptron(A, y, max_iter=20, stop_at_sep=False, warn=False)
    for k in range(1, 21):
        expected = [0.25 * (1 + 2 * (k - 1) / n), (n - 2 * k) / (2 * n)]
        np.testing.assert_allclose(tr.thetas[k], expected, atol=1e-14)


def test_worst_case_separation_time_in_closed_form():
    """The +1 point's margin turns positive at the first k with 10k > 3n + 2 (exercise 1).

    When 3n + 2 is a multiple of 10 the margin at k = (3n + 2)/10 is exactly 0 in exact
    arithmetic: a tie that Assumption 3.1 excludes, and floating point may round it either way.
    """
    for n in range(10, 600, 3):
        k = (3 * n + 2) // 10 + 1
        got = lrp.batch_perceptron(*lrp.worst_case_dataset(n)).n_sep
        assert got in ((k - 1, k) if (3 * n + 2) % 10 == 0 else (k,)), (n, got, k)


def test_two_point_example_of_theorem_4_1():
    A, y = lrp.two_point_dataset()
    for gamma in (1.0, 40.0):
        tr = lrp.lr_gd(A, y, gamma, max_iter=2, stop_at_sep=False, warn=False)
        np.testing.assert_allclose(tr.thetas[1], gamma * np.array([0.5, 0.75]), rtol=1e-14)
        f1 = 0.5 * (np.logaddexp(0, gamma / 4) + np.logaddexp(0, -3.5 * gamma))
        assert tr.losses[1] == pytest.approx(f1, rel=1e-12)
    tr = lrp.lr_gd(A, y, 1e4, max_iter=2, stop_at_sep=False)
    np.testing.assert_allclose(tr.thetas[2] / 1e4, [1.0, 0.25], atol=1e-12)
    assert tr.n_sep == 2 and tr.losses[1] > 1e3 and tr.losses[2] < 1e-100


def test_worst_case_margin_and_radius_in_closed_form():
    for n in (10, 1000):
        mu, R = lrp.margin_radius(*lrp.worst_case_dataset(n))
        assert mu == pytest.approx(0.5, abs=1e-9)
        assert R == pytest.approx(np.sqrt(1.25), rel=1e-15)


def test_margin_bounds_every_normalized_margin():
    A, y = lrp.blobs_dataset(300, seed=4)
    mu, R = lrp.margin_radius(A, y)
    assert mu >= 0.2 - 1e-9          # blobs_dataset guarantees the margin gap=0.2 along e_1
    tr = lrp.lr_gd(A, y, 10.0, max_iter=3000, stop_at_sep=False)
    assert np.nanmax(tr.normalized_margins) <= mu + 1e-9


# --------------------------------------------------------------------------- the claims

def test_table_1_worst_case_n_1000():
    tab = lrp.separation_table((1000,), (0.1, 1.0, 10.0, 100.0))
    assert 290 <= tab[("LR+GD", 1000, 100.0)] <= 330
    for g, paper in ((100.0, 2), (10.0, 2), (1.0, 16), (0.1, 157)):
        assert tab[("Normalized LR+GD", 1000, g)] <= 1.1 * paper
    assert tab[("LR+GD", 1000, 0.1)] > 10_000


@pytest.mark.parametrize("n", [100, 1000])
def test_bounds_of_theorems_3_3_and_6_1_hold_at_a_second_size(n):
    tab = lrp.separation_table((n,), (0.1, 1.0, 10.0, 100.0))
    mu, R = 0.5, np.sqrt(1.25)
    assert tab[("Batch Perceptron", n, np.inf)] <= lrp.perceptron_bound(mu, R, n)
    assert tab[("Normalized Batch Perceptron", n, np.inf)] <= R**2 / mu**2
    for g in (0.1, 1.0, 10.0, 100.0):
        assert tab[("Normalized LR+GD", n, g)] <= lrp.normalized_bound(mu, R, n, g)
    # large gamma: LR+GD takes about as many iterations as its limit, the batch perceptron
    assert abs(tab[("LR+GD", n, 100.0)] - tab[("Batch Perceptron", n, np.inf)]) <= 0.1 * n


def test_batch_perceptron_needs_omega_n_iterations():
    counts = [lrp.batch_perceptron(*lrp.worst_case_dataset(n)).n_sep for n in (100, 200, 400, 800)]
    ratios = np.array(counts[1:]) / np.array(counts[:-1])
    assert np.all((ratios > 1.8) & (ratios < 2.2)), counts
    assert all(lrp.batch_perceptron(*lrp.worst_case_dataset(n), normalized=True).n_sep <= 5
               for n in (100, 800))


@pytest.mark.parametrize("seed", [0, 1])
def test_theorem_3_2_iterates_divided_by_gamma_approach_the_perceptron(seed):
    A, y = lrp.blobs_dataset(200, seed=seed)
    gaps = lrp.limit_gap(A, y, [1.0, 10.0, 100.0, 1e4], t_max=10)
    assert np.all(np.diff(gaps) < 0), gaps
    assert gaps[-1] < 1e-3
    assert lrp.limit_gap(A, y, [1e4], t_max=10, normalized=True)[0] < 1e-3


def test_digits_large_steps_separate_faster_with_larger_losses():
    """Section 4 on real data: before separating, a larger step has a larger loss, yet wins."""
    A, y = lrp.digits_dataset(8, 9)
    assert A.shape == (354, 64) and lrp.is_separable(A, y)
    small = lrp.lr_gd(A, y, 1.0)
    large = lrp.lr_gd(A, y, 100.0)
    assert large.n_sep < small.n_sep / 10
    assert large.losses[1:large.n_sep].max() > 100 * small.losses[1:small.n_sep].max()
    assert lrp.digits_dataset(0, 1, n=50)[0].shape == (50, 64)


# --------------------------------------------------------------------------- bad inputs

def test_labels_must_be_plus_minus_one():
    A, y = lrp.blobs_dataset(20)
    with pytest.raises(ValueError, match=r"only the labels \+1 and -1"):
        lrp.lr_gd(A, (y > 0).astype(float), 1.0)
    with pytest.raises(ValueError, match=r"only the labels \+1 and -1"):
        lrp.batch_perceptron(A, 2 * y)
    with pytest.raises(ValueError, match="must have 20 entries"):
        lrp.lr_gd(A, y[:-1], 1.0)


@pytest.mark.parametrize("gamma", [0.0, -1.0, np.inf, np.nan])
def test_step_size_must_be_positive_and_finite(gamma):
    A, y = lrp.blobs_dataset(20)
    with pytest.raises(ValueError, match="gamma must be"):
        lrp.lr_gd(A, y, gamma)


def test_zero_rows_are_rejected():
    A, y = lrp.blobs_dataset(20)
    A[3] = 0.0
    for fn in (lambda: lrp.lr_gd(A, y, 1.0), lambda: lrp.batch_perceptron(A, y),
               lambda: lrp.margin_radius(A, y)):
        with pytest.raises(ValueError, match=r"zero rows \[3\]"):
            fn()


def test_other_bad_inputs():
    A, y = lrp.blobs_dataset(20)
    with pytest.raises(ValueError, match="A must be 2-dimensional"):
        lrp.lr_gd(A[:, 0], y, 1.0)
    with pytest.raises(ValueError, match="finite"):
        lrp.lr_gd(np.where(A > 1, np.nan, A), y, 1.0)
    with pytest.raises(ValueError, match="max_iter"):
        lrp.lr_gd(A, y, 1.0, max_iter=-1)
    with pytest.raises(ValueError, match="n must be"):
        lrp.worst_case_dataset(1)
    with pytest.raises(ValueError, match="method must be one of"):
        lrp.draw(method="Adam")
    with pytest.raises(ValueError, match="gamma must be"):
        lrp.separation_table((100,), (0.0,))
    with pytest.raises(ValueError, match="theta must have shape"):
        lrp.logistic_grad(np.zeros(3), A, y)


def test_non_separable_data_warn_and_give_none():
    A = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0]])
    y = np.array([1.0, -1.0, 1.0])
    assert not lrp.is_separable(A, y)
    with pytest.warns(lrp.NotSeparatedWarning, match="not linearly separable"):
        tr = lrp.lr_gd(A, y, 1.0, max_iter=50)
    assert tr.n_sep is None and tr.n_iter == 50
    with pytest.warns(lrp.NotSeparatedWarning, match="not linearly separable"):
        assert lrp.batch_perceptron(A, y, max_iter=50).n_sep is None
    with pytest.warns(lrp.NotSeparatedWarning, match="not linearly separable"):
        lrp.lr_gd(A, y, 1.0, max_iter=5, stop_at_sep=False)
    with pytest.raises(ValueError, match="not linearly separable"):
        lrp.margin_radius(A, y)


def test_separable_data_that_need_more_iterations_say_so():
    A, y = lrp.worst_case_dataset(1000)
    with pytest.warns(lrp.NotSeparatedWarning, match="raise max_iter"):
        assert lrp.lr_gd(A, y, 0.1, max_iter=100).n_sep is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lrp.lr_gd(A, y, 0.1, max_iter=100, warn=False)
        lrp.lr_gd(A, y, 0.1, max_iter=100, stop_at_sep=False)   # a fixed budget was asked for


# --------------------------------------------------------------------------- determinism

def test_determinism():
    lrp._separation_table.cache_clear()
    first = dict(lrp.separation_table())
    lrp._separation_table.cache_clear()
    assert dict(lrp.separation_table([100, 1000])) == first
    with pytest.raises(TypeError):
        first_view = lrp.separation_table()
        first_view[("LR+GD", 100, 0.1)] = 0          # the cached table is read-only
    a, b = lrp.blobs_dataset(100, seed=5), lrp.blobs_dataset(100, seed=5)
    np.testing.assert_array_equal(a[0], b[0])
    t1, t2 = lrp.lr_gd(*a, 3.0), lrp.lr_gd(*b, 3.0)
    np.testing.assert_array_equal(t1.thetas, t2.thetas)
