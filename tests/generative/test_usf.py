"""Tests of paperlab.generative.usf (chapter usf-solver-schedule-search)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from matplotlib.figure import Figure

from paperlab import plotting
from paperlab.data import GaussianMixture
from paperlab.generative import usf
from paperlab.generative.diffusion import gmm_score_fn, schedule

SC = schedule("vp-linear")
GAUSS = gmm_score_fn(GaussianMixture([1.0], [[0.5, -0.3]], [[[0.5, 0.1], [0.1, 0.3]]]), SC)
Z = np.random.default_rng(3).standard_normal((100, 2))


def _exact_gaussian_flow(z):
    """For Gaussian data N(m, S) the PF-ODE is linear: x_t = alpha_t m + C_t^{1/2} C_1^{-1/2}(x_1 - alpha_1 m)
    with C_t = alpha_t^2 S + sigma_t^2 I (the flow map of a Gaussian is this affine map)."""
    m = np.array([0.5, -0.3])
    S = np.array([[0.5, 0.1], [0.1, 0.3]])

    def sqrtm(C, p):
        w, V = np.linalg.eigh(C)
        return (V * w ** p) @ V.T

    a1, s1 = float(SC.alpha(1.0)), float(SC.sigma(1.0))
    a0, s0 = float(SC.alpha(usf.T_MIN)), float(SC.sigma(usf.T_MIN))
    M = sqrtm(a0 ** 2 * S + s0 ** 2 * np.eye(2), 0.5) @ sqrtm(a1 ** 2 * S + s1 ** 2 * np.eye(2), -0.5)
    return a0 * m + (z - a1 * m) @ M.T


EXACT = _exact_gaussian_flow(Z)


def _uniform(n, pred, order, corr):
    ts = usf._lambda_uniform_times(SC, n, usf.T_MIN)
    return [{"t": float(t), "pred": pred, "order": min(order, i + 1), "corrector": corr and i < n - 1}
            for i, t in enumerate(ts)]


def _slope(pred, order, corr, ns=(20, 40, 80)):
    errs = [np.abs(usf.usf_sample(GAUSS, Z, _uniform(n, pred, order, corr)) - EXACT).max() for n in ns]
    return -np.polyfit(np.log(ns), np.log(errs), 1)[0]


@pytest.mark.parametrize("pred", usf.PREDS)
@pytest.mark.parametrize("order, corr, lo, hi", [(1, False, 0.85, 1.2), (2, False, 1.7, 2.4),
                                                (3, False, 2.1, 3.6), (1, True, 1.7, 2.4),
                                                (2, True, 2.5, 3.6)])
def test_convergence_orders(pred, order, corr, lo, hi):
    """Order p converges like NFE^-p; the UniC corrector adds one order at no extra NFE.

    Order 3 starts with an order-1 and an order-2 step (no history yet); the first step's local
    error is O(h^2), so between 20 and 80 steps the measured slope lies between 2 and 3.
    """
    assert lo < _slope(pred, order, corr) < hi


def test_fine_solver_matches_the_closed_form_flow():
    x = usf.usf_sample(GAUSS, Z, _uniform(400, "data", 3, False))
    np.testing.assert_allclose(x, EXACT, atol=1e-4)


def test_order_one_is_ddim_and_both_predictions_agree():
    """Order 1 in either parameterisation is DDIM (exact for a constant prediction): equal."""
    a = usf.usf_sample(GAUSS, Z, _uniform(6, "data", 1, False))
    b = usf.usf_sample(GAUSS, Z, _uniform(6, "noise", 1, False))
    np.testing.assert_allclose(a, b, atol=1e-10)


def test_order_two_is_dpm_solver_pp_2m_by_hand():
    steps = _uniform(3, "data", 2, False)
    ts = [d["t"] for d in steps] + [usf.T_MIN]
    a, s = SC.alpha(np.array(ts)), SC.sigma(np.array(ts))
    lam = np.log(a / s)
    x, prev = Z.copy(), None
    for i in range(3):
        x0 = (x + s[i] ** 2 * GAUSS(x, ts[i])) / a[i]
        h = lam[i + 1] - lam[i]
        D = x0 if prev is None else (1 + 1 / (2 * (lam[i] - lam[i - 1]) / h)) * x0 \
            - 1 / (2 * (lam[i] - lam[i - 1]) / h) * prev
        x = s[i + 1] / s[i] * x - a[i + 1] * np.expm1(-h) * D
        prev = x0
    np.testing.assert_allclose(usf.usf_sample(GAUSS, Z, steps), x, atol=1e-12)


def test_nfe_counts_and_the_corrector_reuses_evaluations():
    calls = []

    def model(x, t):
        calls.append(t)
        return GAUSS(x, t)

    model.schedule = SC
    for name in usf.BASELINES:
        calls.clear()
        usf.usf_sample(model, Z, usf.baseline_schedule(name, 6))
        assert len(calls) == 6 == usf.nfe_of(usf.baseline_schedule(name, 6))
    steps = usf.baseline_schedule("unipc2", 4)
    steps[-1]["corrector"] = True
    calls.clear()
    usf.usf_sample(model, Z, steps)
    assert len(calls) == 5 == usf.nfe_of(steps)


def test_order_above_history_is_clipped_with_a_warning():
    steps = _uniform(4, "data", 1, False)
    steps[0]["order"] = 3
    with pytest.warns(UserWarning, match="clipped"):
        a = usf.usf_sample(GAUSS, Z, steps)
    steps[0]["order"] = 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        b = usf.usf_sample(GAUSS, Z, steps)
    np.testing.assert_array_equal(a, b)


def test_inverse_log_snr_and_grid():
    t = np.array([0.01, 0.3, 0.9])
    np.testing.assert_allclose(usf.inverse_log_snr(SC, usf.log_snr(SC, t)), t, atol=1e-10)
    g = usf.timestep_grid(SC, 200)
    assert g.shape == (200,) and g[0] == 1.0 and g[-1] == usf.T_MIN and np.all(np.diff(g) < 0)
    np.testing.assert_allclose(np.diff(usf.log_snr(SC, g)), np.diff(usf.log_snr(SC, g))[0], rtol=1e-6)


def test_search_improves_and_is_deterministic():
    model = usf.default_model()
    z, ref = usf._batch(100, 2, 0)

    def f(s):
        return usf.endpoint_error(usf.usf_sample(model, z, s), ref)

    best, log = usf.s3_search(f, 4, rounds=2, topk=4, n_init=16, seed=3)
    best2, log2 = usf.s3_search(f, 4, rounds=2, topk=4, n_init=16, seed=3)
    assert best == best2 and log["errors"] == log2["errors"]
    assert log["n_evals"] == 16 + 8 and len(log["best"]) == 3
    assert np.all(np.diff(log["best"]) <= 0) and f(best) == pytest.approx(log["best"][-1])
    assert len(best) == 4 and best[0]["t"] == 1.0 and not best[-1]["corrector"]
    assert all(d["order"] <= i + 1 for i, d in enumerate(best))


def _check_claim(s):
    assert s["ratio_searched_to_dpmpp2m"] <= 0.7
    assert 1.5 <= s["dpmpp2m_slope"] <= 2.5


def test_claim_at_a_second_seed():
    _check_claim(usf.simulate(nfes=(5,), seed=1, n_test=1000).summary(5))


def test_determinism():
    a = usf.simulate(nfes=(4,), seed=2, n_search=100, n_test=200).summary(4)
    b = usf.simulate(nfes=(4,), seed=2, n_search=100, n_test=200).summary(4)
    assert a == b


def test_draw_corner_cases():
    for params in ({}, {"nfe": 4, "method": "DDIM"}, {"nfe": 8, "method": "UniPC-2"}):
        fig = usf.draw(**params)
        assert isinstance(fig, Figure)
        plotting.to_png(fig, dpi=30)
        plotting.close(fig)


# ----------------------------------------------------------------------------- bad inputs

@pytest.mark.parametrize("steps, match", [
    ([], "NFE must be >= 1"),
    ({"t": 1.0}, "non-empty list"),
    ([{"t": 1.0, "solver": "heun"}], "unknown decision names"),
    ([{"t": 1.0, "pred": "velocity"}], "pred"),
    ([{"t": 1.0, "order": 4}], "order"),
    ([{"t": 1.0, "corrector": "maybe"}], "corrector"),
    ([{"t": 0.5}, {"t": 0.7}], "strictly decreasing"),
    ([{"t": 0.5}, {"t": 0.5}], "strictly decreasing"),
    ([{"t": 1.2}], r"schedule\[0\]\['t'\]"),
    ([{"t": 1e-4}], r"schedule\[0\]\['t'\]"),
    ([{"pred": "data"}], "needs a time"),
])
def test_bad_schedules(steps, match):
    with pytest.raises(ValueError, match=match):
        usf.usf_sample(GAUSS, Z, steps)


def test_other_bad_inputs():
    with pytest.raises(ValueError, match="nfe"):
        usf.baseline_schedule("ddim", 0)
    with pytest.raises(ValueError, match="name"):
        usf.baseline_schedule("heun", 5)
    with pytest.raises(ValueError, match="nfe"):
        usf.s3_search(lambda s: 0.0, 0)
    with pytest.raises(ValueError, match="noise schedule"):
        usf.usf_sample(lambda x, t: x, Z, [{"t": 1.0}])
    with pytest.raises(ValueError, match="z_T"):
        usf.usf_sample(GAUSS, np.zeros(3), [{"t": 1.0}])
    with pytest.raises(ValueError, match="nfe"):
        usf.draw(nfe=3)
    with pytest.raises(ValueError, match="method"):
        usf.draw(method="Euler")
