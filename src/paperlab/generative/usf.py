"""Per-step solver schedules and S³ search (Liu et al. 2024, "A Unified Sampling Framework for
Solver Searching of Diffusion Probabilistic Models").

Explained in chapter `usf-solver-schedule-search`.

Every step of a fast diffusion ODE solver is one *exponential-integrator* step from time
``t_i`` to ``t_{i+1}`` in the half log-SNR ``lambda = log(alpha / sigma)``. Written this way
(Eq. (5)-(6) of the paper), a step has a handful of separate decisions: the time it lands on,
whether the network output is used as a data prediction ``x0_hat`` or a noise prediction
``eps_hat``, the Taylor order (how many past outputs estimate the derivatives), and whether a
corrector re-solves the step with the output at the new point. A *solver schedule* is the list
of these decisions, one dict per step::

    {"t": 1.0, "pred": "data", "order": 1, "corrector": False}

:func:`usf_sample` runs any such schedule; :func:`baseline_schedule` writes DDIM,
DPM-Solver++(2M) and UniPC-2 in this form; :func:`s3_search` is the paper's predictor-guided
search (S³, Sec. 4): score random schedules, fit a cheap predictor of their error, evolve
candidates under the predictor, truly evaluate the most promising ones, refit, repeat.

The model is a score function ``score(x, t)`` that carries its noise schedule as ``.schedule``,
as :func:`paperlab.generative.diffusion.gmm_score_fn` returns; by default the exact score of
:func:`paperlab.data.gmm2d` on the linear-beta VP SDE (``"vp-linear"``, as DPM-Solver uses).
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from ..cache import cached
from .. import plotting
from .._validate import check_array, check_choice, check_int, check_real
from ..widgets import Choice, IntSlider
from .diffusion import Schedule, gmm_score_fn, schedule as make_schedule

__all__ = ["PREDS", "ORDERS", "BASELINES", "T_MIN", "log_snr", "inverse_log_snr", "nfe_of",
           "usf_sample", "baseline_schedule", "timestep_grid", "s3_search", "endpoint_error",
           "default_model", "Experiment", "simulate", "experiment", "draw", "SLIDERS"]

PREDS = ("data", "noise")
ORDERS = (1, 2, 3)
BASELINES = ("ddim", "dpmpp2m", "unipc2")
POOL = 8
#: The last time of every schedule (the sampler stops here, as DPM-Solver does on the VP SDE).
T_MIN = 1e-3
_KEYS = ("t", "pred", "order", "corrector")


# --------------------------------------------------------------------------- the log-SNR clock

def log_snr(sched: Schedule, t) -> np.ndarray:
    """Half log-SNR ``lambda_t = log(alpha_t / sigma_t)``, decreasing in ``t``."""
    return np.asarray(sched.log_snr(np.asarray(t, dtype=float)), dtype=float)


def inverse_log_snr(sched: Schedule, lam, t_lo: float = T_MIN, t_hi: float = 1.0) -> np.ndarray:
    """The time ``t`` in ``[t_lo, t_hi]`` with ``lambda_t = lam`` (vectorised bisection, 60 halvings)."""
    lam = np.asarray(lam, dtype=float)
    lo = np.full(lam.shape, float(t_lo))
    hi = np.full(lam.shape, float(t_hi))
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        right = log_snr(sched, mid) > lam          # lambda decreases: the root lies later
        lo = np.where(right, mid, lo)
        hi = np.where(right, hi, mid)
    return 0.5 * (lo + hi)


# --------------------------------------------------------------------------- schedules

def _check_steps(steps, t_min: float) -> list[dict]:
    """Validate a solver schedule; return it as a list of normalised dicts."""
    if isinstance(steps, dict) or not isinstance(steps, Sequence) or len(steps) < 1:
        raise ValueError("schedule must be a non-empty list of dicts with keys "
                         f"{list(_KEYS)}; NFE must be >= 1")
    out = []
    for i, d in enumerate(steps):
        if not isinstance(d, dict):
            raise ValueError(f"schedule[{i}] must be a dict with keys {list(_KEYS)}, got {d!r}")
        unknown = set(d) - set(_KEYS)
        if unknown:
            raise ValueError(f"schedule[{i}] has unknown decision names {sorted(unknown)}; "
                             f"allowed are {list(_KEYS)}")
        if "t" not in d:
            raise ValueError(f"schedule[{i}] needs a time 't'")
        t = check_real(f"schedule[{i}]['t']", d["t"], t_min, 1.0, lo_open=True)
        pred = check_choice(f"schedule[{i}]['pred']", d.get("pred", "data"), PREDS)
        order = check_int(f"schedule[{i}]['order']", d.get("order", 1), 1, 3)
        corr = d.get("corrector", False)
        if corr in ("on", "off"):
            corr = corr == "on"
        corr = check_choice(f"schedule[{i}]['corrector']", corr, (False, True, 0, 1))
        out.append({"t": t, "pred": pred, "order": order, "corrector": bool(corr)})
    ts = [d["t"] for d in out]
    if any(b >= a for a, b in zip(ts, ts[1:])):
        raise ValueError(f"schedule times must be strictly decreasing in ({t_min:g}, 1], got {ts}")
    return out


def nfe_of(steps) -> int:
    """Model evaluations a schedule costs: one per step, plus one if the last step corrects."""
    steps = _check_steps(steps, 0.0)
    return len(steps) + int(steps[-1]["corrector"])


def _phis(h: float, data: bool) -> tuple[float, float, float]:
    """``phi_1, phi_2, phi_3`` of the official DPM-Solver(++) code (``h`` > 0)."""
    if data:
        p1 = np.expm1(-h)
        p2 = p1 / h + 1.0
    else:
        p1 = np.expm1(h)
        p2 = p1 / h - 1.0
    return p1, p2, p2 / h - 0.5


def _predict(x, lam, alpha, sigma, hist, i, order, data):
    """One exponential-integrator predictor step from ``t_i`` to ``t_{i+1}`` (Eq. (6)).

    ``hist[k]`` holds ``(lambda_k, x0_hat_k, eps_hat_k)`` of the k-th model evaluation.
    Order 1 is DDIM / DPM-Solver++-1, order 2 the multistep DPM-Solver++(2M) (equal to UniP-2
    with ``B(h) = e^h - 1``), order 3 DPM-Solver++(3M); the same coefficients with ``+h`` in
    place of ``-h`` give the noise-prediction versions (Lu et al. 2022a,b).
    """
    j = 1 if data else 2
    m0 = hist[i][j]
    h = lam[i + 1] - lam[i]
    p1, p2, p3 = _phis(h, data)
    if data:
        base = (sigma[i + 1] / sigma[i]) * x - alpha[i + 1] * p1 * m0
        scale = -alpha[i + 1]
    else:
        base = (alpha[i + 1] / alpha[i]) * x - sigma[i + 1] * p1 * m0
        scale = -sigma[i + 1]
    if order == 1:
        return base
    m1 = hist[i - 1][j]
    r0 = (lam[i] - lam[i - 1]) / h
    D1_0 = (m0 - m1) / r0
    if order == 2:
        return base + 0.5 * scale * p1 * D1_0
    m2 = hist[i - 2][j]
    r1 = (lam[i - 1] - lam[i - 2]) / h
    D1_1 = (m1 - m2) / r1
    D1 = D1_0 + (r0 / (r0 + r1)) * (D1_0 - D1_1)
    D2 = (D1_0 - D1_1) / (r0 + r1)
    sgn = -1.0 if data else 1.0               # data: + alpha phi_2 D1; noise: - sigma phi_2 D1
    return base + scale * (sgn * p2 * D1 + p3 * D2)


def _correct(x, lam, alpha, sigma, hist, i, order, data, m_new):
    """UniC-p corrector (Zhao et al. 2023, Alg. 2, variant ``B(h) = e^h - 1``): re-solve the step
    from ``t_i`` to ``t_{i+1}`` with the ``order - 1`` past outputs and ``m_new``, the model output
    at the predicted point (which the next step reuses, so the corrector costs no evaluation).
    """
    j = 1 if data else 2
    m0 = hist[i][j]
    h = lam[i + 1] - lam[i]
    hh = -h if data else h
    h_phi_1 = np.expm1(hh)
    B = np.expm1(hh)
    rks, D1s = [], []
    for k in range(1, order):
        rk = (lam[i - k] - lam[i]) / h
        rks.append(rk)
        D1s.append((hist[i - k][j] - m0) / rk)
    rks.append(1.0)
    if order == 1:
        rhos = np.array([0.5])
    else:
        rks_a = np.asarray(rks)
        R, b = [], []
        h_phi_k, fact = h_phi_1 / hh - 1.0, 1.0
        for k in range(1, order + 1):
            R.append(rks_a ** (k - 1))
            b.append(h_phi_k * fact / B)
            fact *= k + 1
            h_phi_k = h_phi_k / hh - 1.0 / fact
        rhos = np.linalg.solve(np.asarray(R), np.asarray(b))
    if data:
        base = (sigma[i + 1] / sigma[i]) * x - alpha[i + 1] * h_phi_1 * m0
        scale = -alpha[i + 1] * B
    else:
        base = (alpha[i + 1] / alpha[i]) * x - sigma[i + 1] * h_phi_1 * m0
        scale = -sigma[i + 1] * B
    res = rhos[-1] * (m_new - m0)
    for rho, D in zip(rhos[:-1], D1s):
        res = res + rho * D
    return base + scale * res


def default_model() -> Callable:
    """The chapter's model: the exact score of :func:`paperlab.data.gmm2d` on ``"vp-linear"``."""
    return _default_model()


@cached(maxsize=1)
def _default_model():
    return gmm_score_fn(None, make_schedule("vp-linear"))


def usf_sample(model: Callable, z_T, schedule, *, t_min: float = T_MIN,
               sched: Schedule | None = None) -> np.ndarray:
    """Run a per-step solver schedule from ``z_T`` (the state at ``schedule[0]['t']``) to ``t_min``.

    ``model(x, t)`` returns the score ``grad log p_t(x)``; its ``.schedule`` (or ``sched``) gives
    ``alpha_t, sigma_t``. Step ``i`` evaluates the model once at ``(x_i, t_i)`` and turns the
    score into ``x0_hat = (x + sigma^2 score) / alpha`` or ``eps_hat = -sigma score`` as
    ``schedule[i]['pred']`` says, then takes the exponential-integrator step of Eq. (6)
    (``_predict``) of order ``schedule[i]['order']`` to ``t_{i+1}`` (the next step's time, or
    ``t_min`` after the last step). An order above the number of outputs available (order ``p``
    needs ``p - 1`` past ones) is clipped, with a warning. If ``schedule[i]['corrector']``, the
    model is evaluated at the predicted point and the step is re-solved with UniC (``_correct``);
    that output is reused by step ``i + 1``, so only a corrector on the last step costs one extra
    evaluation (:func:`nfe_of`).
    """
    if not callable(model):
        raise ValueError(f"model must be a score function model(x, t), got {model!r}")
    sc = sched if sched is not None else getattr(model, "schedule", None)
    if not isinstance(sc, Schedule):
        raise ValueError("the noise schedule is unknown: pass sched=, or a model with a "
                         ".schedule attribute (as diffusion.gmm_score_fn returns)")
    t_min = check_real("t_min", t_min, 0.0, 1.0, lo_open=True, hi_open=True)
    steps = _check_steps(schedule, t_min)
    x = check_array("z_T", z_T, ndim=2).copy()
    if x.shape[0] == 0:
        raise ValueError("z_T must hold at least one point")
    ts = np.array([d["t"] for d in steps] + [t_min])
    alpha, sigma = np.asarray(sc.alpha(ts), float), np.asarray(sc.sigma(ts), float)
    lam = np.log(alpha) - np.log(sigma)
    if not np.all(np.isfinite(lam)):
        raise ValueError(f"log-SNR is infinite at some schedule time for the {sc.name!r} schedule "
                         f"(alpha or sigma is 0); use times in ({t_min:g}, 1) with alpha, sigma > 0")

    def evaluate(xx, k):
        s = np.asarray(model(xx, float(ts[k])), dtype=float)
        if s.shape != xx.shape or not np.all(np.isfinite(s)):
            raise ValueError(f"model returned shape {s.shape} or non-finite values at t = {ts[k]:g}")
        return (lam[k], (xx + sigma[k] ** 2 * s) / alpha[k], -sigma[k] * s)

    clipped = []
    hist: list = []
    n = len(steps)
    for i, d in enumerate(steps):
        if len(hist) == i:                      # not already evaluated by a corrector
            hist.append(evaluate(x, i))
        order = d["order"]
        if order > i + 1:
            clipped.append((i, order))
            order = i + 1
        data = d["pred"] == "data"
        x_pred = _predict(x, lam, alpha, sigma, hist, i, order, data)
        if d["corrector"]:
            hist.append(evaluate(x_pred, i + 1))
            x = _correct(x, lam, alpha, sigma, hist, i, order, data, hist[i + 1][1 if data else 2])
        else:
            x = x_pred
        if i == n - 1 and len(hist) > n:
            hist.pop()
    if clipped:
        warnings.warn(f"order clipped to the available history at steps {clipped} "
                      "(order p needs p - 1 earlier model outputs)", UserWarning, stacklevel=2)
    return x


def _lambda_uniform_times(sc: Schedule, nfe: int, t_min: float) -> np.ndarray:
    lam = np.linspace(float(log_snr(sc, 1.0)), float(log_snr(sc, t_min)), nfe + 1)
    t = inverse_log_snr(sc, lam, t_min, 1.0)
    t[0], t[-1] = 1.0, t_min
    return t[:-1]


def baseline_schedule(name: str, nfe: int, *, sched: Schedule | str = "vp-linear",
                      t_min: float = T_MIN) -> list[dict]:
    """A classical fixed solver written as a per-step schedule of ``nfe`` steps.

    * ``"ddim"``: order 1 with noise prediction (DDIM = DPM-Solver-1), times uniform in ``t``;
    * ``"dpmpp2m"``: DPM-Solver++(2M): data prediction, order 2 (order 1 at the first step),
      times uniform in ``lambda``;
    * ``"unipc2"``: UniPC-2: the same predictor with the UniC corrector after every step but the
      last (which would cost an extra evaluation), times uniform in ``lambda``.
    """
    check_choice("name", name, BASELINES)
    nfe = check_int("nfe", nfe, 1)
    sc = make_schedule(sched) if isinstance(sched, str) else sched
    t_min = check_real("t_min", t_min, 0.0, 1.0, lo_open=True, hi_open=True)
    if name == "ddim":
        ts = np.linspace(1.0, t_min, nfe + 1)[:-1]
        return [{"t": float(t), "pred": "noise", "order": 1, "corrector": False} for t in ts]
    ts = _lambda_uniform_times(sc, nfe, t_min)
    return [{"t": float(t), "pred": "data", "order": min(2, i + 1),
             "corrector": name == "unipc2" and i < nfe - 1} for i, t in enumerate(ts)]


# --------------------------------------------------------------------------- S³ search

def timestep_grid(sched: Schedule | str = "vp-linear", n: int = 200,
                  t_min: float = T_MIN) -> np.ndarray:
    """The search's candidate times: ``n`` points uniform in ``lambda``, from ``t = 1`` to ``t_min``
    (both ends included; a schedule starts at index 0 and picks interior indices)."""
    sc = make_schedule(sched) if isinstance(sched, str) else sched
    n = check_int("n", n, 3)
    lam = np.linspace(float(log_snr(sc, 1.0)), float(log_snr(sc, t_min)), n)
    t = inverse_log_snr(sc, lam, t_min, 1.0)
    t[0], t[-1] = 1.0, t_min
    return t


@dataclass(frozen=True)
class _Cand:
    """A schedule in the search's encoding: interior grid indices and per-step decisions."""

    idx: tuple[int, ...]      # nfe - 1 increasing indices in 1 .. n_grid - 2
    pred: tuple[int, ...]     # 0 = data, 1 = noise
    order: tuple[int, ...]    # 1..3, at most step + 1
    corr: tuple[int, ...]     # 0/1, last step always 0


def _to_steps(c: _Cand, grid: np.ndarray) -> list[dict]:
    ts = [1.0] + [float(grid[k]) for k in c.idx]
    return [{"t": t, "pred": PREDS[p], "order": o, "corrector": bool(k)}
            for t, p, o, k in zip(ts, c.pred, c.order, c.corr)]


def _from_steps(steps: list[dict], grid: np.ndarray) -> _Cand:
    """Snap a schedule onto the grid (used to seed the search with the baselines)."""
    n = len(steps)
    idx = sorted({int(np.argmin(np.abs(grid[1:-1] - d["t"]))) + 1 for d in steps[1:]})
    k = 1
    while len(idx) < n - 1:                     # two times snapped to one point: spread them
        if k not in idx:
            idx = sorted(idx + [k])
        k += 1
    return _Cand(tuple(idx), tuple(PREDS.index(d["pred"]) for d in steps),
                 tuple(min(d["order"], i + 1) for i, d in enumerate(steps)),
                 tuple(int(d["corrector"]) if i < n - 1 else 0 for i, d in enumerate(steps)))


def _random_cand(rng: np.random.Generator, nfe: int, n_grid: int) -> _Cand:
    idx = tuple(sorted(rng.choice(np.arange(1, n_grid - 1), size=nfe - 1, replace=False).tolist()))
    pred = tuple(rng.integers(0, 2, nfe).tolist())
    order = tuple(int(rng.integers(1, min(3, i + 1) + 1)) for i in range(nfe))
    corr = tuple(rng.integers(0, 2, nfe - 1).tolist()) + (0,)
    return _Cand(idx, pred, order, corr)


def _mutate(c: _Cand, rng: np.random.Generator, n_grid: int) -> _Cand:
    """Change one decision at random: move a time, flip a prediction type or a corrector, or
    change an order."""
    nfe = len(c.pred)
    idx, pred, order, corr = list(c.idx), list(c.pred), list(c.order), list(c.corr)
    u = rng.random(3)
    kind = int(u[0] * 4) if nfe > 1 else 1 + int(u[0] * 2)
    if kind == 0:
        j = int(u[1] * (nfe - 1))
        lo = idx[j - 1] + 1 if j > 0 else 1
        hi = idx[j + 1] - 1 if j < nfe - 2 else n_grid - 2
        step = 1 + int(-6.0 * np.log(1.0 - u[2]))          # exponential, mean about 6 points
        idx[j] = min(hi, max(lo, idx[j] + (step if u[1] * (nfe - 1) - j < 0.5 else -step)))
    elif kind == 1:
        j = int(u[1] * nfe)
        pred[j] = 1 - pred[j]
    elif kind == 2:
        j = int(u[1] * nfe)
        order[j] = 1 + int(u[2] * min(3, j + 1))
    else:
        j = int(u[1] * (nfe - 1))
        corr[j] = 1 - corr[j]
    return _Cand(tuple(idx), tuple(pred), tuple(order), tuple(corr))


def _crossover(a: _Cand, b: _Cand, rng: np.random.Generator) -> _Cand:
    """Per-step decisions from either parent; times from one of them."""
    m = rng.integers(0, 2, len(a.pred)).astype(bool)
    pick = lambda u, v: tuple(x if k else y for x, y, k in zip(u, v, m))  # noqa: E731
    return _Cand(a.idx if rng.integers(0, 2) else b.idx, pick(a.pred, b.pred),
                 pick(a.order, b.order), pick(a.corr, b.corr))


def _features(cands: list[_Cand], n_grid: int) -> np.ndarray:
    """The predictor's inputs: one-hot decisions per step (prediction type x order x corrector,
    12 cells), the step sizes ``h_i`` in ``lambda`` (from the grid positions) with their squares,
    and ``h_i^(p_i + 1)``, the size of a p-th order step's local error."""
    nfe = len(cands[0].pred)
    idx = np.asarray([c.idx for c in cands], float).reshape(len(cands), nfe - 1)
    pos = np.concatenate([np.zeros((len(cands), 1)), idx, np.full((len(cands), 1), n_grid - 1.0)], 1)
    h = np.diff(pos, axis=1) / (n_grid - 1) * 4.0          # in units of a quarter of the range
    pred = np.asarray([c.pred for c in cands])
    order = np.asarray([c.order for c in cands])
    corr = np.asarray([c.corr for c in cands])
    cell = pred * 6 + (order - 1) * 2 + corr                # 0..11
    onehot = (cell[:, :, None] == np.arange(12)).reshape(len(cands), -1).astype(float)
    local = h ** (order + corr + 1.0)
    return np.concatenate([np.ones((len(cands), 1)), onehot, h, h * h, local], 1)


def _fit_ridge(F: np.ndarray, y: np.ndarray, reg: float = 1e-2) -> np.ndarray:
    """Ridge regression of ``y`` on ``F``, weighted toward the best schedules: weight
    ``exp(-rank / 16)``, so the predictor is accurate where the search is looking."""
    rank = np.argsort(np.argsort(y))
    sw = np.exp(-rank / 16.0)
    A = F.T @ (sw[:, None] * F) + reg * sw.sum() * np.eye(F.shape[1])
    A[0, 0] -= reg * sw.sum()                   # no penalty on the intercept
    return np.linalg.solve(A, F.T @ (sw * y))


def _spearman(a, b) -> float:
    ra = np.argsort(np.argsort(a)).astype(float)
    rb = np.argsort(np.argsort(b)).astype(float)
    if ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def s3_search(eval_fn: Callable[[list[dict]], float], nfe: int, rounds: int = 8, n_init: int = 64,
              topk: int = 16, seed: int = 0, *, sched: Schedule | str = "vp-linear",
              t_min: float = T_MIN, n_grid: int = 200, generations: int = 2, n_children: int = 64,
              init: Sequence[list[dict]] | None = None) -> tuple[list[dict], dict]:
    """S³, the predictor-guided solver search (Sec. 4 of the paper, reduced).

    1. Truly evaluate ``n_init`` schedules with ``eval_fn`` (lower is better): the ``init``
       schedules (default: the three baselines of :func:`baseline_schedule`, snapped to the
       grid) and random ones. Times come from :func:`timestep_grid` (``n_grid`` points); the first
       time is ``1``; orders never exceed the history; the last step never corrects (fixed NFE).
    2. Each of ``rounds`` rounds: fit a ridge predictor of ``log eval_fn`` on one-hot decisions and
       times (``_features``); breed ``n_candidates`` new schedules from the 16 best by mutation
       and crossover; keep the ``topk`` the predictor ranks best; truly evaluate them; refit.

    Returns the best truly evaluated schedule and a log with ``"best"`` (best true error after the
    initial batch and after each round), ``"spearman"`` (rank correlation, per round, between the
    predictor's scores and the true errors of the batch it chose, before refitting), ``"errors"``
    (every true evaluation, in order) and ``"n_evals"``.
    """
    if not callable(eval_fn):
        raise ValueError(f"eval_fn must be a function of a schedule, got {eval_fn!r}")
    nfe = check_int("nfe", nfe, 1)
    rounds = check_int("rounds", rounds, 0)
    n_init = check_int("n_init", n_init, 2)
    topk = check_int("topk", topk, 1)
    n_grid = check_int("n_grid", n_grid, nfe + 2)
    generations = check_int("generations", generations, 1)
    n_children = check_int("n_children", n_children, 1)
    seed = check_int("seed", seed, 0)
    sc = make_schedule(sched) if isinstance(sched, str) else sched
    grid = timestep_grid(sc, n_grid, t_min)
    rng = np.random.default_rng([seed, nfe, 51])
    if init is None:
        init = [baseline_schedule(b, nfe, sched=sc, t_min=t_min) for b in BASELINES]
    pop = [_from_steps(_check_steps(s, t_min), grid) for s in init]
    pop = list(dict.fromkeys(pop))[:n_init]
    seen = set(pop)
    while len(pop) < n_init:
        c = _random_cand(rng, nfe, n_grid)
        if c not in seen:
            seen.add(c)
            pop.append(c)

    def true_eval(c):
        v = float(eval_fn(_to_steps(c, grid)))
        return v if np.isfinite(v) else 1e6

    errs = [true_eval(c) for c in pop]
    log = {"best": [min(errs)], "spearman": [], "errors": list(errs)}
    for _ in range(rounds):
        w = _fit_ridge(_features(pop, n_grid), np.log(np.asarray(errs) + 1e-12))
        order_ = np.argsort(errs)
        pool = [pop[k] for k in order_[:POOL]]
        born: set = set()
        for _ in range(generations):             # evolve under the predictor's scores
            kids = []
            for _ in range(n_children):
                if rng.random() < 0.5 or len(pool) < 2:
                    c = pool[int(rng.integers(0, len(pool)))]
                    for _ in range(int(rng.integers(1, 3))):
                        c = _mutate(c, rng, n_grid)
                else:
                    a, b = rng.choice(len(pool), 2, replace=False)
                    c = _mutate(_crossover(pool[a], pool[b], rng), rng, n_grid)
                if c not in seen and c not in born:
                    born.add(c)
                    kids.append(c)
            if not kids:
                break
            cand = pool + kids
            sc_ = _features(cand, n_grid) @ w
            pool = [cand[k] for k in np.argsort(sc_, kind="stable")[:POOL]]
        fresh = [c for c in pool if c not in seen]
        if not fresh:
            break
        scores = _features(fresh, n_grid) @ w
        chosen = [fresh[k] for k in np.argsort(scores, kind="stable")[:topk]]
        seen.update(chosen)
        new = [true_eval(c) for c in chosen]
        log["spearman"].append(_spearman(np.sort(scores)[:len(chosen)], new))
        pop += chosen
        errs += new
        log["errors"] += new
        log["best"].append(min(errs))
    log["n_evals"] = len(errs)
    best = pop[int(np.argmin(errs))]
    return _to_steps(best, grid), log


# --------------------------------------------------------------------------- the experiment

def endpoint_error(x, ref) -> float:
    """Mean Euclidean distance ``E = mean ||x_0 - x_0^ref||`` between paired endpoints."""
    return float(np.linalg.norm(np.asarray(x) - np.asarray(ref), axis=1).mean())


@cached(maxsize=8)
def _batch(n: int, seed: int, which: int) -> tuple[np.ndarray, np.ndarray]:
    """Noise ``z_T`` (``which`` = 0: search batch, 1: fresh test batch) and its 500-step
    DPM-Solver++(2M) reference endpoint."""
    z = np.random.default_rng([seed, which, 51]).standard_normal((n, 2))
    ref = usf_sample(_default_model(), z, baseline_schedule("dpmpp2m", 500))
    return z, ref


@dataclass(frozen=True)
class Experiment:
    """Results of :func:`simulate` (errors in data units, on the fresh test batch).

    ``errors[m][k]``: endpoint error of method ``m`` ("DDIM", "DPM-Solver++(2M)", "UniPC-2",
    "searched") at ``nfes[k]``; ``searched[nfe]``: the schedule S³ found; ``logs[nfe]``: its
    search log; ``conv_nfes``, ``conv_errors``: DPM-Solver++(2M) at larger NFE, for the order check.
    """

    seed: int
    nfes: tuple[int, ...]
    errors: dict[str, np.ndarray]
    searched: dict[int, list[dict]]
    logs: dict[int, dict]
    conv_nfes: tuple[int, ...]
    conv_errors: np.ndarray

    def slope(self) -> float:
        """Log-log slope of DPM-Solver++(2M)'s error against NFE (minus the fitted exponent)."""
        return float(-np.polyfit(np.log(self.conv_nfes), np.log(self.conv_errors), 1)[0])

    def summary(self, nfe: int = 5) -> dict[str, float]:
        if nfe not in self.nfes:
            raise ValueError(f"nfe must be one of the simulated {self.nfes}, got {nfe}")
        k = self.nfes.index(nfe)
        return {"error_ddim": float(self.errors["DDIM"][k]),
                "error_dpmpp2m": float(self.errors["DPM-Solver++(2M)"][k]),
                "error_unipc2": float(self.errors["UniPC-2"][k]),
                "error_searched": float(self.errors["searched"][k]),
                "ratio_searched_to_dpmpp2m": float(self.errors["searched"][k]
                                                   / self.errors["DPM-Solver++(2M)"][k]),
                "dpmpp2m_slope": self.slope()}


METHODS = {"DDIM": "ddim", "DPM-Solver++(2M)": "dpmpp2m", "UniPC-2": "unipc2"}


def simulate(nfes: tuple[int, ...] = (4, 5, 6, 7, 8), seed: int = 0, n_search: int = 300,
             n_test: int = 2000, conv_nfes: tuple[int, ...] = (10, 20, 40)) -> Experiment:
    """The chapter's experiment. For each NFE, S³ searches on ``n_search`` noise points (error
    against the 500-step DPM-Solver++(2M) reference from the same noise); then every baseline and
    the searched schedule are scored on a fresh batch of ``n_test`` points. DPM-Solver++(2M) is
    also run at ``conv_nfes`` to measure its convergence order. Uncached; see :func:`experiment`.
    """
    seed = check_int("seed", seed, 0)
    nfes = tuple(check_int("nfes", n, 2, 20) for n in nfes)
    n_search = check_int("n_search", n_search, 10)
    n_test = check_int("n_test", n_test, 10)
    model = _default_model()
    zs, rs = _batch(n_search, seed, 0)
    zt, rt = _batch(n_test, seed, 1)
    errors = {m: np.zeros(len(nfes)) for m in (*METHODS, "searched")}
    searched, logs = {}, {}
    for k, nfe in enumerate(nfes):
        best, log = s3_search(lambda s: endpoint_error(usf_sample(model, zs, s), rs), nfe, seed=seed)
        searched[nfe], logs[nfe] = best, log
        for m, b in METHODS.items():
            errors[m][k] = endpoint_error(usf_sample(model, zt, baseline_schedule(b, nfe)), rt)
        errors["searched"][k] = endpoint_error(usf_sample(model, zt, best), rt)
    conv = np.array([endpoint_error(usf_sample(model, zt, baseline_schedule("dpmpp2m", n)), rt)
                     for n in conv_nfes])
    return Experiment(seed, nfes, errors, searched, logs, tuple(conv_nfes), conv)


@cached(maxsize=4)
def experiment(nfes: tuple[int, ...] = (4, 5, 6, 7, 8), seed: int = 0, n_search: int = 300,
               n_test: int = 2000) -> Experiment:
    """:func:`simulate`, cached: the chapter's one heavy step (also feeds :func:`draw`)."""
    return simulate(tuple(nfes), seed, n_search, n_test)


# --------------------------------------------------------------------------- interactive figure

_W_N = 1000
_COLORS = {"DDIM": plotting.PALETTE[1], "DPM-Solver++(2M)": plotting.PALETTE[0],
           "UniPC-2": plotting.PALETTE[2], "searched": plotting.PALETTE[3]}


@cached(maxsize=64)
def _widget_run(nfe: int, method: str) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    res = experiment()
    steps = res.searched[nfe] if method == "searched" else baseline_schedule(METHODS[method], nfe)
    z, ref = _batch(2000, 0, 1)
    return usf_sample(_default_model(), z[:_W_N], steps), ref[:_W_N], steps


def _table(steps: list[dict]) -> str:
    lines = ["step   t     pred  ord corr"]
    for i, d in enumerate(steps):
        lines.append(f"{i + 1:>3} {d['t']:6.3f}  {d['pred']:<5} {d['order']:>2}  "
                     f"{'on' if d['corrector'] else 'off'}")
    return "\n".join(lines)


def draw(nfe: int = 5, method: str = "searched") -> Figure:
    """The chapter's interactive figure (chapter ``usf-solver-schedule-search``, section Explore).

    Left: 1000 samples of the chosen solver at ``nfe`` evaluations against the reference
    endpoints from the same noise, and the solver's decision table. Right: endpoint error against
    NFE for the three fixed solvers and the searched schedules, the current one circled.
    """
    nfe = check_int("nfe", nfe, 4, 8)
    check_choice("method", method, tuple(_COLORS))
    res = experiment()
    x, ref, steps = _widget_run(nfe, method)
    fig, (ax0, ax1) = plotting.figure(2, width=9.0, height=3.9, layout="fixed")
    ax0.scatter(*ref.T, s=4, color="#9a9a9a", lw=0)
    ax0.scatter(*x.T, s=4, color=_COLORS[method], lw=0)
    e = endpoint_error(x, ref)
    ax0.set_xlim(-4, 4)
    ax0.set_ylim(-3, 4)
    ax0.set_xticks((-4, -2, 0, 2, 4))
    ax0.set_yticks((-2, 0, 2, 4))
    ax0.text(0.02, 0.02, _table(steps), transform=ax0.transAxes, family="monospace", fontsize=6.5,
             va="bottom", ha="left", bbox=dict(facecolor="white", alpha=0.8, lw=0))
    plotting.labels(ax0, "x₁", "x₂", f"{method}, NFE = {nfe}: error {e:.3f}")
    for m, c in _COLORS.items():
        ax1.plot(res.nfes, res.errors[m], "o-", color=c, ms=3, lw=1.4)
    k = res.nfes.index(nfe)
    ax1.plot([nfe], [res.errors[method][k]], "o", ms=11, mfc="none", mec="black")
    ax1.set_yscale("log")
    ax1.set_xticks(res.nfes)
    ax1.minorticks_off()
    plotting.labels(ax1, "model evaluations (NFE)", "endpoint error (data units)",
                    "error against the reference")
    plotting.key(ax1, [(m, c) for m, c in _COLORS.items()], x=0.5, y=0.96)
    return fig


#: Slider box of :func:`draw`; the first entry (NFE) is the website scrubber's parameter.
SLIDERS = {
    "nfe": IntSlider(4, 8, default=5, label="evaluations NFE"),
    "method": Choice(tuple(_COLORS), default="searched", label="solver"),
}
