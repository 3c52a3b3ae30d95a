"""Shared pieces of the optimization part: test problems, convergence curves and rate fits.

Every chapter of Part 1 compares methods the same way: an error measure against a cost
(iterations, oracle calls, epochs, floats sent), on a log scale, one line per method with a
shaded band over seeds (:func:`convergence`); rates are fitted on a log-log plot
(:func:`fit_loglog`) rather than read off one point, and speed-ups are reported as ratios to a
baseline measured in the same run (:func:`first_below`).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from matplotlib.axes import Axes

from .. import plotting
from .._validate import check_array, check_int, check_real

__all__ = ["Curve", "resample", "convergence", "fit_loglog", "first_below", "Quadratic",
           "quadratic", "LogisticRegression", "logistic_regression"]


@dataclass
class Curve:
    """One run of one method: ``cost[i]`` spent when ``error[i]`` was measured.

    ``cost`` is non-decreasing (iterations, oracle calls, epochs, floats sent ...). ``info``
    holds anything else a chapter wants to keep (step sizes, accepted steps ...).
    """

    cost: np.ndarray
    error: np.ndarray
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.cost = check_array("cost", self.cost, ndim=1)
        self.error = check_array("error", self.error, ndim=1, finite=False)
        if self.cost.shape != self.error.shape:
            raise ValueError(f"cost and error must have the same length, got {self.cost.size} "
                             f"and {self.error.size}")
        if np.any(np.diff(self.cost) < 0):
            raise ValueError("cost must be non-decreasing")


def resample(curve: Curve, grid: Sequence[float]) -> np.ndarray:
    """The error of ``curve`` at each cost of ``grid``: the last value measured at or before it.

    Runs whose costs differ (a random full pass here, a cheap step there) become comparable on
    one grid; grid points before the first measurement get ``nan``.
    """
    g = check_array("grid", grid, ndim=1)
    idx = np.searchsorted(curve.cost, g, side="right") - 1
    out = np.full(g.shape, np.nan)
    ok = idx >= 0
    out[ok] = curve.error[idx[ok]]
    return out


def convergence(ax: Axes, runs: Mapping[str, Sequence[Curve]], *, xlabel: str, ylabel: str,
                grid: Sequence[float] | None = None, logx: bool = False, logy: bool = True,
                colors: Mapping[str, str] | None = None, title: str | None = None,
                legend: bool = True) -> Axes:
    """The part's convergence plot: one line per method (median over its runs) with a shaded
    10-90 % band over seeds, error against cost.

    ``runs`` maps a method's label to its curves (one per seed). They are resampled on
    ``grid`` (default: 200 points spanning every curve's costs). A slider figure passes
    ``legend=False`` and labels its lines with :func:`paperlab.plotting.key`, which is faster.
    """
    if not runs:
        raise ValueError("runs must contain at least one method")
    all_costs = np.concatenate([c.cost for cs in runs.values() for c in cs])
    if grid is None:
        lo, hi = float(all_costs.min()), float(all_costs.max())
        grid = np.geomspace(max(lo, 1e-12), hi, 200) if logx and lo > 0 else np.linspace(lo, hi, 200)
    grid = np.asarray(grid, dtype=float)
    for i, (label, curves) in enumerate(runs.items()):
        if not curves:
            continue
        ys = np.stack([resample(c, grid) for c in curves])
        color = (colors or {}).get(label, plotting.PALETTE[i % len(plotting.PALETTE)])
        with np.errstate(all="ignore"):
            plotting.band(ax, grid, ys, label=label, color=color)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    plotting.labels(ax, xlabel, ylabel, title)
    if legend:
        ax.legend()
    return ax


def fit_loglog(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """Least-squares fit of ``log y = slope * log x + intercept``; returns ``(slope, intercept)``.

    The way Part 1 measures a rate (``y ~ x^slope``): over a range of points, never from one.
    """
    xa = check_array("x", x, ndim=1)
    ya = check_array("y", y, ndim=1, shape=(xa.size,))
    if xa.size < 2:
        raise ValueError("fit_loglog needs at least two points")
    if np.any(xa <= 0) or np.any(ya <= 0):
        raise ValueError("fit_loglog needs positive x and y")
    slope, intercept = np.polyfit(np.log(xa), np.log(ya), 1)
    return float(slope), float(intercept)


def first_below(curve: Curve, threshold: float) -> float:
    """The cost at which ``curve.error`` first drops to ``threshold`` or below (``inf`` if never).

    Speed-ups are ratios of these costs for two methods measured in the same run.
    """
    t = check_real("threshold", threshold)
    hit = np.flatnonzero(curve.error <= t)
    return float(curve.cost[hit[0]]) if hit.size else float("inf")


@dataclass(frozen=True)
class Quadratic:
    """``f(x) = 0.5 x^T Q x - b^T x`` with known minimiser, smoothness ``L`` and curvature ``mu``."""

    Q: np.ndarray
    b: np.ndarray

    @property
    def x_star(self) -> np.ndarray:
        return np.linalg.solve(self.Q, self.b)

    @property
    def L(self) -> float:
        return float(np.linalg.eigvalsh(self.Q)[-1])

    @property
    def mu(self) -> float:
        return float(np.linalg.eigvalsh(self.Q)[0])

    def value(self, x: np.ndarray) -> float:
        return float(0.5 * x @ self.Q @ x - self.b @ x)

    def grad(self, x: np.ndarray) -> np.ndarray:
        return self.Q @ x - self.b


def quadratic(d: int = 50, kappa: float = 1e3, *, seed: int = 0) -> Quadratic:
    """A random quadratic in ``R^d`` with eigenvalues log-spaced from 1/kappa to 1 (so L = 1,
    mu = 1/kappa, condition number kappa) in a random orthonormal basis."""
    d = check_int("d", d, 1)
    kappa = check_real("kappa", kappa, 1.0)
    rng = np.random.default_rng(check_int("seed", seed, 0))
    U, _ = np.linalg.qr(rng.standard_normal((d, d)))
    eig = np.geomspace(1.0 / kappa, 1.0, d)
    Q = (U * eig) @ U.T
    return Quadratic(Q=0.5 * (Q + Q.T), b=rng.standard_normal(d))


@dataclass(frozen=True)
class LogisticRegression:
    """The mean logistic loss ``f(w) = (1/N) sum log(1 + exp(-y_i x_i^T w)) + (lam/2)||w||^2``
    with labels ``y_i`` in {-1, +1}."""

    X: np.ndarray
    y: np.ndarray
    lam: float = 0.0

    @property
    def L(self) -> float:
        """Smoothness constant ``||X||_2^2 / (4N) + lam``."""
        return float(np.linalg.norm(self.X, 2) ** 2 / (4 * len(self.y)) + self.lam)

    def value(self, w: np.ndarray) -> float:
        m = self.y * (self.X @ w)
        return float(np.mean(np.logaddexp(0.0, -m)) + 0.5 * self.lam * w @ w)

    def grad(self, w: np.ndarray) -> np.ndarray:
        m = self.y * (self.X @ w)
        s = 0.5 * (1.0 - np.tanh(0.5 * m))          # sigma(-m), stable for large |m|
        return -(self.X.T @ (s * self.y)) / len(self.y) + self.lam * w


def logistic_regression(n: int = 2000, d: int = 20, *, scales: tuple[float, float] = (0.2, 3.0),
                        label_noise: float = 0.1, lam: float = 0.0, seed: int = 0) -> LogisticRegression:
    """Synthetic ill-conditioned logistic regression: Gaussian features scaled by
    ``linspace(*scales, d)``, labels from a random linear model flipped with probability
    ``label_noise``."""
    n = check_int("n", n, 2)
    d = check_int("d", d, 1)
    label_noise = check_real("label_noise", label_noise, 0.0, 0.5)
    lam = check_real("lam", lam, 0.0)
    lo, hi = (check_real("scales[0]", scales[0], 0.0, lo_open=True),
              check_real("scales[1]", scales[1], 0.0, lo_open=True))
    rng = np.random.default_rng(check_int("seed", seed, 0))
    X = rng.standard_normal((n, d)) * np.linspace(lo, hi, d)
    w_true = rng.standard_normal(d)
    y = np.sign(X @ w_true + 1e-12)
    flip = rng.random(n) < label_noise
    y[flip] *= -1
    return LogisticRegression(X=X, y=y, lam=lam)
