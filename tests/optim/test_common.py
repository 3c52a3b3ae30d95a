import numpy as np
import pytest

from paperlab import plotting
from paperlab.optim import common


def test_resample_and_first_below():
    c = common.Curve([0, 2, 5], [1.0, 0.1, 0.01])
    assert np.allclose(common.resample(c, [0, 1, 2, 4, 6]), [1.0, 1.0, 0.1, 0.1, 0.01])
    assert np.isnan(common.resample(common.Curve([1, 2], [1, 2]), [0.5])[0])
    assert common.first_below(c, 0.1) == 2 and common.first_below(c, 1e-3) == float("inf")
    with pytest.raises(ValueError, match="non-decreasing"):
        common.Curve([0, 2, 1], [1, 1, 1])
    with pytest.raises(ValueError, match="same length"):
        common.Curve([0, 1], [1.0])


def test_fit_loglog_recovers_a_power_law():
    x = np.geomspace(1, 1e3, 20)
    s, _ = common.fit_loglog(x, 3 * x ** -0.5)
    assert s == pytest.approx(-0.5)
    with pytest.raises(ValueError, match="positive"):
        common.fit_loglog([1, 2], [0, 1])


def test_convergence_plot_draws_bands():
    runs = {"a": [common.Curve(np.arange(10), 0.5 ** np.arange(10) * (1 + s)) for s in range(3)],
            "b": [common.Curve(np.arange(0, 10, 2), np.ones(5))]}
    fig, (ax,) = plotting.figure()
    common.convergence(ax, runs, xlabel="iterations", ylabel="error")
    assert len(ax.lines) == 2 and len(ax.collections) == 1
    plotting.close(fig)
    with pytest.raises(ValueError, match="at least one method"):
        common.convergence(ax, {}, xlabel="x", ylabel="y")


def test_quadratic_has_the_condition_number_asked():
    q = common.quadratic(20, kappa=100.0, seed=1)
    assert q.L == pytest.approx(1.0) and q.mu == pytest.approx(0.01)
    assert np.allclose(q.grad(q.x_star), 0, atol=1e-10)


def test_logistic_gradient_matches_finite_differences():
    p = common.logistic_regression(200, 5, lam=0.1, seed=0)
    w = np.random.default_rng(0).standard_normal(5)
    h = 1e-6
    fd = np.array([(p.value(w + h * e) - p.value(w - h * e)) / (2 * h) for e in np.eye(5)])
    assert np.allclose(p.grad(w), fd, atol=1e-7)
    assert set(np.unique(p.y)) == {-1.0, 1.0}
    with pytest.raises(ValueError, match="label_noise"):
        common.logistic_regression(label_noise=0.7)
