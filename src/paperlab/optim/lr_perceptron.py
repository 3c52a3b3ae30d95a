"""Logistic regression with huge steps is the batch perceptron (Tyurin, AAAI 2025).

Explained in chapter ``logreg-to-perceptron``.

The data are ``n`` points ``a_i`` in ``R^d`` with labels ``y_i`` in ``{-1, +1}``. A vector
``theta`` *separates* them (problem (1) of the paper) when every margin ``m_i = y_i a_i^T theta``
is positive. This module holds

* the two methods of the paper that minimise the logistic loss (2): gradient descent
  (:func:`lr_gd`, "LR+GD", Eq. (3)) and its normalized variant ("Normalized LR+GD", Section 6);
* their limits as the step size ``gamma`` goes to infinity (:func:`batch_perceptron`): the
  Batch Perceptron of Section 3 and the Normalized Batch Perceptron of Theorem 5.3;
* the datasets of the chapter (the worst case of Theorem 5.1, the two points of Theorem 4.1,
  imbalanced Gaussian blobs, digits 8 versus 9), the margin ``mu`` and radius ``R`` of
  Assumption 1.1, and the iteration bounds of Theorems 3.3 and 6.1;
* the chapter's experiments and its interactive figure (:func:`draw`, :data:`SLIDERS`).

Every run starts at ``theta_0 = 0``, as in the paper.
"""
from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator
from scipy.optimize import linprog, minimize
from scipy.special import expit

from ..cache import cached
from .. import plotting
from .._validate import check_array, check_choice, check_int, check_labels_pm1, check_real
from ..data import binary_digits, rng
from ..widgets import Choice, IntSlider, LogSlider

__all__ = ["Trace", "NotSeparatedWarning", "logistic_loss", "logistic_grad", "lr_gd",
           "batch_perceptron", "worst_case_dataset", "two_point_dataset", "blobs_dataset",
           "digits_dataset", "is_separable", "margin_radius", "perceptron_bound",
           "normalized_bound", "separation_table", "limit_gap", "draw", "SLIDERS"]


class NotSeparatedWarning(UserWarning):
    """A run stopped at ``max_iter`` before it separated the data (``n_sep`` is ``None``)."""


# --------------------------------------------------------------------------- data checks

def _check_data(A, y) -> tuple[np.ndarray, np.ndarray]:
    """Validate a dataset: ``A`` is ``(n, d)`` and finite, no row is zero, ``y`` is +-1."""
    A = check_array("A", A, ndim=2)
    if A.shape[0] < 1 or A.shape[1] < 1:
        raise ValueError(f"A must have at least one row and one column, got shape {A.shape}")
    y = check_labels_pm1("y", y, n=A.shape[0])
    zero = np.flatnonzero(~A.any(axis=1))
    if zero.size:
        raise ValueError(f"A has zero rows {zero[:5].tolist()}: a zero point has margin 0 for "
                         f"every theta, so no linear classifier through the origin can separate "
                         f"it; remove it or add a constant feature")
    return A, y


def _merge_rows(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows ``z_u`` of ``Z`` and their counts ``c_u``.

    Every sum over points in this module has the form ``sum_i g(z_i^T theta) z_i``, which equals
    ``sum_u c_u g(z_u^T theta) z_u``. Merging the copies makes one iteration on the worst-case
    dataset of Theorem 5.1 (two distinct points, ``n`` copies) cost O(1) instead of O(n).
    """
    U, counts = np.unique(Z, axis=0, return_counts=True)
    return U, counts.astype(float)


# --------------------------------------------------------------------------- the trace

@dataclass(frozen=True, eq=False)
class Trace:
    """The iterates of one run, ``theta_0 = 0, theta_1, ..., theta_T``.

    Attributes
    ----------
    thetas:
        Array ``(T + 1, d)``, row ``t`` is ``theta_t``.
    min_margins:
        Array ``(T + 1,)``, the smallest margin ``min_i y_i a_i^T theta_t``; the data are
        separated at ``t`` when it is positive.
    n_sep:
        The first ``t`` with ``min_margins[t] > 0``, or ``None`` if the run stopped at
        ``max_iter`` first.
    method:
        ``"LR+GD"``, ``"Normalized LR+GD"``, ``"Batch Perceptron"`` or
        ``"Normalized Batch Perceptron"``.
    gamma:
        The step size (``None`` for the perceptrons, which have none).

    The logistic losses, the misclassification counts and the normalized margins of every
    iterate are computed on first access (:attr:`losses`, :attr:`errors`,
    :attr:`normalized_margins`).
    """

    thetas: np.ndarray
    min_margins: np.ndarray
    n_sep: int | None
    method: str
    gamma: float | None
    _Z: np.ndarray = field(repr=False)
    _counts: np.ndarray = field(repr=False)

    @functools.cached_property
    def losses(self) -> np.ndarray:
        """The loss (2), ``(1/n) sum_i log(1 + exp(-y_i a_i^T theta_t))``, for every ``t``."""
        M = self.thetas @ self._Z.T
        return np.logaddexp(0.0, -M) @ self._counts / self._counts.sum()

    @functools.cached_property
    def errors(self) -> np.ndarray:
        """How many points have margin ``y_i a_i^T theta_t <= 0``, for every ``t``."""
        return ((self.thetas @ self._Z.T) <= 0) @ self._counts.astype(int)

    @property
    def normalized_margins(self) -> np.ndarray:
        """``min_i y_i a_i^T theta_t / ||theta_t||`` (NaN at ``theta_t = 0``); at most ``mu``."""
        norms = np.linalg.norm(self.thetas, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(norms > 0, self.min_margins / norms, np.nan)

    @property
    def n_iter(self) -> int:
        """Number of steps taken, ``T``."""
        return len(self.thetas) - 1


def _finish(thetas: list, min_margins: list, n_sep: int | None, method: str,
            gamma: float | None, Z: np.ndarray, counts: np.ndarray, max_iter: int,
            stop_at_sep: bool, warn: bool) -> Trace:
    if n_sep is None and warn:
        if not _separable(Z):
            warnings.warn(f"{method} did not separate the data in {max_iter} iterations: the data "
                          f"are not linearly separable through the origin, so no number of "
                          f"iterations will; n_sep is None", NotSeparatedWarning, stacklevel=3)
        elif stop_at_sep:
            warnings.warn(f"{method} did not separate the data within max_iter={max_iter} "
                          f"iterations (the data are separable: raise max_iter); n_sep is None",
                          NotSeparatedWarning, stacklevel=3)
    return Trace(np.array(thetas), np.array(min_margins), n_sep, method, gamma, Z, counts)


# --------------------------------------------------------------------------- the methods

def logistic_loss(theta, A, y) -> float:
    """The logistic loss, Eq. (2) of Tyurin (2025).

    ``f(theta) = (1/n) sum_i log(1 + exp(-y_i a_i^T theta))``. Explained in chapter
    ``logreg-to-perceptron``.
    """
    A, y = _check_data(A, y)
    theta = check_array("theta", theta, ndim=1, shape=(A.shape[1],))
    return float(np.mean(np.logaddexp(0.0, -y * (A @ theta))))


def logistic_grad(theta, A, y) -> np.ndarray:
    """The gradient of the logistic loss, Eq. (3) of Tyurin (2025).

    ``grad f(theta) = -(1/n) sum_i (1 + exp(m_i))^{-1} y_i a_i`` with margins
    ``m_i = y_i a_i^T theta``; the weight ``(1 + exp(m))^{-1} = sigma(-m)`` is evaluated without
    overflow by ``scipy.special.expit``. Explained in chapter ``logreg-to-perceptron``.
    """
    A, y = _check_data(A, y)
    theta = check_array("theta", theta, ndim=1, shape=(A.shape[1],))
    Z = y[:, None] * A
    return -(expit(-(Z @ theta)) @ Z) / len(y)


def lr_gd(A, y, gamma: float, normalized: bool = False,
          max_iter: int = 100_000, *, stop_at_sep: bool = True,
          warn: bool = True) -> Trace:
    """Gradient descent on the logistic loss from ``theta_0 = 0``.

    LR+GD, Eq. (3) of Tyurin (2025) with the gradient of the loss (2):
    ``theta_{t+1} = theta_t - gamma * grad f(theta_t)``.

    Normalized LR+GD, Section 6 (``normalized=True``):
    ``theta_{t+1} = theta_t - gamma * beta_t * grad f(theta_t)`` with
    ``beta_t = [(1/n) sum_i (1 + exp(y_i a_i^T theta_t))^{-1}]^{-1}``.
    Theorem 6.1 bounds its iterations to separate by
    ``R^2/mu^2 + 2 log(2n - 1)/(gamma mu^2)``.

    The run stops at the first separating iterate (every margin positive),
    recorded as ``n_sep``; with ``stop_at_sep=False`` it takes exactly
    ``max_iter`` steps. If it never separates, ``n_sep`` is ``None`` and a
    :class:`NotSeparatedWarning` says why (``warn=False`` silences it).

    Explained in chapter ``logreg-to-perceptron``.
    """
    A, y = _check_data(A, y)
    gamma = check_real("gamma", gamma, 0.0, lo_open=True)
    max_iter = check_int("max_iter", max_iter, 0)
    # distinct rows z_u of y_i a_i, with counts c_u: the sums are unchanged
    Z, c = _merge_rows(y[:, None] * A)
    w = c / len(y)                 # (1/n) sum_i g(z_i) = sum_u w_u g(z_u)
    theta = np.zeros(A.shape[1])
    thetas, min_margins, n_sep = [theta], [], None
    for t in range(max_iter + 1):
        m = Z @ theta              # margins m_i = y_i a_i^T theta_t
        min_margins.append(m.min())
        if n_sep is None and min_margins[-1] > 0:   # separated
            n_sep = t
            if stop_at_sep:
                break
        if t == max_iter:
            break
        s = w * expit(-m)          # (1/n) (1 + exp(m_i))^{-1}
        mean_weight = s.sum()      # 1 / beta_t
        if normalized and mean_weight > 0:
            step = gamma / mean_weight          # gamma * beta_t
        else:
            step = gamma
        theta = theta + step * (s @ Z)          # s @ Z = -grad f(theta_t)
        thetas.append(theta)
    method = "Normalized LR+GD" if normalized else "LR+GD"
    return _finish(thetas, min_margins, n_sep, method, gamma, Z, c,
                   max_iter, stop_at_sep, warn)


def batch_perceptron(A, y, normalized: bool = False,
                     max_iter: int = 100_000, *, stop_at_sep: bool = True,
                     warn: bool = True) -> Trace:
    """The batch perceptron, the ``gamma -> infinity`` limit of LR+GD.

    Batch Perceptron, Section 3 of Tyurin (2025): ``hat theta_0 = 0``,
    ``hat theta_1 = (1/2n) sum_i y_i a_i``, then
    ``hat theta_{t+1} = hat theta_t + (1/n) sum_{i in S_t} y_i a_i`` with
    ``S_t = {i : y_i a_i^T hat theta_t <= 0}``, until ``S_t`` is empty.
    Theorem 3.2: LR+GD has ``theta_t / gamma -> hat theta_t``. Theorem 3.3:
    at most ``n R^2 / mu^2`` iterations. Theorem 5.1: ``Omega(n)`` on
    :func:`worst_case_dataset`.

    Normalized Batch Perceptron, Theorem 5.3 (``normalized=True``): the
    step is ``(1/|S_t|) sum_{i in S_t} y_i a_i``, at most ``R^2 / mu^2``
    iterations; the ``gamma -> infinity`` limit of Normalized LR+GD.

    The first step is the limit of the logistic weights at ``theta_0 = 0``,
    all ``(1 + e^0)^{-1} = 1/2`` (times ``beta_0 = 2`` when normalized).
    Explained in chapter ``logreg-to-perceptron``.
    """
    A, y = _check_data(A, y)
    max_iter = check_int("max_iter", max_iter, 0)
    Z, c = _merge_rows(y[:, None] * A)
    theta = np.zeros(A.shape[1])
    thetas, min_margins, n_sep = [theta], [], None
    for t in range(max_iter + 1):
        m = Z @ theta
        min_margins.append(m.min())
        if n_sep is None and min_margins[-1] > 0:   # S_t is empty
            n_sep = t
            if stop_at_sep:
                break
        if t == max_iter:
            break
        in_S = c * (m <= 0)        # copies of each distinct row in S_t
        if normalized:             # 1 / |S_t|
            scale = 1.0 / in_S.sum() if in_S.sum() > 0 else 0.0
        elif t == 0:               # 1 / (2n) for the first step
            scale = 1.0 / (2 * len(y))
        else:                      # 1 / n afterwards
            scale = 1.0 / len(y)
        theta = theta + scale * (in_S @ Z)
        thetas.append(theta)
    if normalized:
        method = "Normalized Batch Perceptron"
    else:
        method = "Batch Perceptron"
    return _finish(thetas, min_margins, n_sep, method, None, Z, c,
                   max_iter, stop_at_sep, warn)


# --------------------------------------------------------------------------- datasets

def worst_case_dataset(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The dataset of Theorem 5.1 of Tyurin (2025).

    One point ``(0.5, -1)`` with label ``+1`` (row 0) and ``n - 1`` copies
    of ``(-0.5, -1)`` with label ``-1``. The margin ``mu = 0.5`` and the
    radius ``R = sqrt(1.25)`` do not depend on ``n``, yet the Batch
    Perceptron needs ``Omega(n)`` iterations. Explained in chapter
    ``logreg-to-perceptron``.
    """
    n = check_int("n", n, 2)
    A = np.tile([-0.5, -1.0], (n, 1))
    A[0] = [0.5, -1.0]
    y = -np.ones(n)
    y[0] = 1.0
    return A, y


def two_point_dataset() -> tuple[np.ndarray, np.ndarray]:
    """The dataset of Theorem 4.1 of Tyurin (2025): two points in the plane.

    ``(1, -1)`` with label ``+1`` and ``(-1, -4)`` with label ``-1``. LR+GD from ``theta_0 = 0``
    gives ``theta_1 = gamma (1/2, 3/4)``, whose loss grows like ``gamma/8``, and
    ``theta_2 / gamma -> (1, 1/4)``, which separates: a large loss, then a solution.
    Explained in chapter ``logreg-to-perceptron``.
    """
    return np.array([[1.0, -1.0], [-1.0, -4.0]]), np.array([1.0, -1.0])


def blobs_dataset(n: int = 200, *, frac_pos: float = 0.2, spread: float = 0.4, gap: float = 0.2,
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two imbalanced Gaussian blobs in the plane, separable through the origin by construction.

    A fraction ``frac_pos`` of the points (at least one) has label ``+1`` and centre ``(1, -1)``;
    the rest has label ``-1`` and centre ``(-1, -1)``; both have standard deviation ``spread``.
    The first coordinate is clipped so that ``y_i a_{i1} >= gap``: the line ``a_1 = 0``
    separates the classes with margin at least ``gap``. It is the worst case of Theorem 5.1
    with noise (balanced blobs are separated by the first perceptron step, which shows nothing).
    Explained in chapter ``logreg-to-perceptron``.
    """
    n = check_int("n", n, 2)
    frac_pos = check_real("frac_pos", frac_pos, 0.0, 1.0, lo_open=True, hi_open=True)
    spread = check_real("spread", spread, 0.0)
    gap = check_real("gap", gap, 0.0, lo_open=True)
    n_pos = max(1, int(round(frac_pos * n)))
    y = np.r_[np.ones(n_pos), -np.ones(n - n_pos)]
    A = np.c_[y, -np.ones(n)] + spread * rng(seed).standard_normal((n, 2))
    A[:, 0] = y * np.maximum(y * A[:, 0], gap)
    return A, y


@cached(maxsize=4)
def _digits(a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
    return binary_digits(a, b)


def digits_dataset(a: int = 8, b: int = 9, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits, ``a`` (label +1) versus ``b`` (label -1), pixels in [0, 1].

    The first ``n`` images of the two digits (all of them if ``n`` is ``None``; 354 for 8 versus
    9), 64 features, no bias term. The default pair, 8 versus 9, is separable through the
    origin and hard enough to show the chapter's effect; 0 versus 1 is separated within a few
    iterations at every step size. Explained in chapter ``logreg-to-perceptron``.
    """
    A, y = _digits(check_int("a", a, 0, 9), check_int("b", b, 0, 9))
    if n is not None:
        n = check_int("n", n, 1, len(y))
        A, y = A[:n], y[:n]
    return A.copy(), y.copy()


# --------------------------------------------------------------------- margin, radius, bounds

def _separating_point(Z: np.ndarray) -> np.ndarray | None:
    """A ``theta`` with ``Z theta >= 1`` (every margin positive), or ``None`` if there is none.

    Found exactly by the linear program of feasibility (HiGHS).
    """
    res = linprog(np.zeros(Z.shape[1]), A_ub=-Z, b_ub=-np.ones(len(Z)),
                  bounds=[(None, None)] * Z.shape[1], method="highs")
    return res.x if res.status == 0 else None


def _separable(Z: np.ndarray) -> bool:
    return _separating_point(Z) is not None


def is_separable(A, y) -> bool:
    """True if some ``theta`` has every ``y_i a_i^T theta > 0`` (Assumption 1.1, Tyurin 2025).

    Decided exactly by the feasibility of the linear program ``y_i a_i^T theta >= 1``.
    Explained in chapter ``logreg-to-perceptron``.
    """
    A, y = _check_data(A, y)
    return _separable(y[:, None] * A)


def margin_radius(A, y) -> tuple[float, float]:
    """The margin ``mu`` and radius ``R`` of Assumption 1.1 of Tyurin (2025).

    ``mu = max_{||theta|| = 1} min_i y_i a_i^T theta`` and ``R = max_i ||a_i||``. ``mu`` is found
    as ``1/||theta*||`` for the hard-margin problem ``min ||theta||^2`` subject to
    ``y_i a_i^T theta >= 1`` (SLSQP); the value returned is the margin that ``theta*`` achieves,
    ``min_i y_i a_i^T theta* / ||theta*||``, so it never exceeds the true ``mu``. Raises
    ``ValueError`` if the data are not separable through the origin. Explained in chapter
    ``logreg-to-perceptron``.
    """
    A, y = _check_data(A, y)
    Z, _ = _merge_rows(y[:, None] * A)
    R = float(np.linalg.norm(A, axis=1).max())
    start = _separating_point(Z)
    if start is None:
        raise ValueError("the data are not linearly separable through the origin (Assumption 1.1 "
                         "fails), so the margin mu is not positive")
    margins_ge_1 = {"type": "ineq", "fun": lambda th: Z @ th - 1.0, "jac": lambda th: Z}
    res = minimize(lambda th: th @ th, start, jac=lambda th: 2 * th, method="SLSQP",
                   constraints=[margins_ge_1], options={"ftol": 1e-14, "maxiter": 500})
    theta = res.x if np.all(Z @ res.x > 0) else start
    return float((Z @ theta).min() / np.linalg.norm(theta)), R


def perceptron_bound(mu: float, R: float, n: int) -> float:
    """Theorem 3.3 of Tyurin (2025), after Novikoff (1962): the Batch Perceptron's bound.

    It separates the data within ``n R^2 / mu^2`` iterations. Explained in chapter
    ``logreg-to-perceptron``.
    """
    mu = check_real("mu", mu, 0.0, lo_open=True)
    R = check_real("R", R, 0.0, lo_open=True)
    n = check_int("n", n, 1)
    return n * R**2 / mu**2


def normalized_bound(mu: float, R: float, n: int, gamma: float) -> float:
    """Theorem 6.1 of Tyurin (2025): the bound of Normalized LR+GD.

    It separates the data within ``R^2/mu^2 + 2 log(2n - 1)/(gamma mu^2)`` iterations.
    Explained in chapter ``logreg-to-perceptron``.
    """
    mu = check_real("mu", mu, 0.0, lo_open=True)
    R = check_real("R", R, 0.0, lo_open=True)
    n = check_int("n", n, 1)
    gamma = check_real("gamma", gamma, 0.0, lo_open=True)
    return R**2 / mu**2 + 2 * np.log(2 * n - 1) / (gamma * mu**2)


# --------------------------------------------------------------------------- experiments

def separation_table(ns=(100, 1000), gammas=(0.1, 1.0, 10.0, 100.0),
                     max_iter: int = 200_000) -> Mapping[tuple[str, int, float], int | None]:
    """Iterations to separate the worst-case dataset (Theorem 5.1), as in Table 1 of Tyurin (2025).

    Returns a read-only mapping ``{(method, n, gamma): n_sep}`` for ``method`` in
    ``("LR+GD", "Normalized LR+GD")``, plus ``(perceptron, n, inf)`` entries for the two batch
    perceptrons (the ``gamma -> infinity`` limits). Cached: the chapter computes it once.
    Explained in chapter ``logreg-to-perceptron``.
    """
    ns = tuple(check_int("n", n, 2) for n in ns)
    gammas = tuple(check_real("gamma", g, 0.0, lo_open=True) for g in gammas)
    return _separation_table(ns, gammas, check_int("max_iter", max_iter, 1))


@cached(maxsize=8)
def _separation_table(ns: tuple[int, ...], gammas: tuple[float, ...],
                      max_iter: int) -> Mapping[tuple[str, int, float], int | None]:
    table: dict[tuple[str, int, float], int | None] = {}
    for n in ns:
        A, y = worst_case_dataset(n)
        for normalized in (False, True):
            for g in gammas:
                tr = lr_gd(A, y, g, normalized=normalized, max_iter=max_iter)
                table[(tr.method, n, g)] = tr.n_sep
            tr = batch_perceptron(A, y, normalized=normalized, max_iter=max_iter)
            table[(tr.method, n, np.inf)] = tr.n_sep
    return MappingProxyType(table)


def limit_gap(A, y, gammas, t_max: int = 10, normalized: bool = False) -> np.ndarray:
    """Distance of LR+GD's scaled iterates to the batch perceptron's (Theorem 3.2 of Tyurin 2025).

    Returns ``max_{t <= t_max} ||theta_t / gamma - hat theta_t||`` for each ``gamma``, where
    ``theta_t`` are LR+GD iterates (Normalized LR+GD if ``normalized``) and ``hat theta_t`` those
    of the matching batch perceptron; both run exactly ``t_max`` steps. Explained in chapter
    ``logreg-to-perceptron``.
    """
    t_max = check_int("t_max", t_max, 1)
    limit = batch_perceptron(A, y, normalized=normalized, max_iter=t_max, stop_at_sep=False,
                             warn=False).thetas
    out = []
    for g in np.atleast_1d(np.asarray(gammas, dtype=float)):
        tr = lr_gd(A, y, g, normalized=normalized, max_iter=t_max, stop_at_sep=False, warn=False)
        out.append(np.linalg.norm(tr.thetas / g - limit, axis=1).max())
    return np.array(out)


# --------------------------------------------------------------------------- interactive figure

#: Cap on the iterations of one live trajectory in :func:`draw`.
DRAW_MAX_ITER = 2000
_DATASETS = ("worst case", "blobs", "digits 8 vs 9")
_METHODS = ("LR+GD", "Normalized LR+GD")

SLIDERS = {
    "gamma": LogSlider(0.01, 1e4, default=100.0, label="step size γ"),
    "n": IntSlider(10, 2000, default=1000, step=10, label="points n"),
    "method": Choice(_METHODS, default="LR+GD", label="method"),
    "dataset": Choice(_DATASETS, default="worst case", label="dataset"),
}


@cached(maxsize=16)
def _dataset(dataset: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    _digits(8, 9)   # load the digits on the first slider move, not on a later one
    if dataset == "worst case":
        return worst_case_dataset(n)
    if dataset == "blobs":
        return blobs_dataset(n, seed=0)
    A, y = digits_dataset(8, 9)
    return A[:n], y[:n]


@cached(maxsize=64)
def _limit(dataset: str, n: int, normalized: bool) -> Trace:
    A, y = _dataset(dataset, n)
    return batch_perceptron(A, y, normalized=normalized, max_iter=DRAW_MAX_ITER, warn=False)


def draw(gamma: float = 100.0, n: int = 1000, method: str = "LR+GD",
         dataset: str = "worst case") -> Figure:
    """The chapter's figure: a run of (Normalized) LR+GD next to its ``gamma -> infinity`` limit.

    Left: the data and the lines ``theta^T a = 0`` of the last iterate (green) and of the limit
    (dashed black); for digits, ``theta`` as an 8x8 image. Right: the worst normalized margin
    ``min_i y_i a_i^T theta_t / ||theta_t||`` against the iteration ``t`` (the data are separated
    once it is positive), for the method at step ``gamma`` and for its limit, the (normalized)
    batch perceptron. Runs are capped at ``DRAW_MAX_ITER`` iterations; the figure
    says when that is not enough. For digits, ``n`` is capped at the 354 images available.
    Explained in chapter ``logreg-to-perceptron``.
    """
    gamma = check_real("gamma", gamma, 0.0, lo_open=True)
    n = check_int("n", n, 2)
    check_choice("method", method, _METHODS)
    check_choice("dataset", dataset, _DATASETS)
    normalized = method == "Normalized LR+GD"
    A, y = _dataset(dataset, n)
    run = lr_gd(A, y, gamma, normalized=normalized, max_iter=DRAW_MAX_ITER, warn=False)
    lim = _limit(dataset, n, normalized)
    green = plotting.PALETTE[2]

    # fixed axes positions instead of constrained layout: a quarter of the render time saved
    fig, (ax0, ax1) = plotting.figure(2, width=8.4, height=3.5, layout="none")
    ax0.set_position([0.075, 0.16, 0.36, 0.75])
    ax1.set_position([0.575, 0.16, 0.405, 0.75])
    if dataset == "digits 8 vs 9":
        theta = run.thetas[-1]
        v = np.abs(theta).max() or 1.0
        ax0.imshow(theta.reshape(8, 8), cmap="RdBu", vmin=-v, vmax=v)
        ax0.grid(False)
        plotting.labels(ax0, "pixel column", "pixel row",
                        f"θ at t = {run.n_iter} (blue: votes for 8)")
    else:
        _draw_plane(ax0, A, y, run.thetas[-1], lim.thetas[-1], dataset, green)

    ax1.axhline(0.0, color="0.5", lw=0.8)
    ax1.plot(np.arange(1, run.n_iter + 1), run.normalized_margins[1:], color=green)
    ax1.plot(np.arange(1, lim.n_iter + 1), lim.normalized_margins[1:], "--", color="black", lw=1.2)
    ax1.set_xscale("log")
    # fixed ticks: matplotlib's automatic log ticks cost more than the rest of the figure
    ax1.xaxis.set_major_locator(FixedLocator([1, 10, 100, 1000]))
    ax1.xaxis.set_major_formatter(FixedFormatter(["1", "10", "100", "1000"]))
    ax1.xaxis.set_minor_locator(NullLocator())
    ax1.set_xlim(0.9, 1.5 * DRAW_MAX_ITER)
    lo = min(np.nanmin(run.normalized_margins), np.nanmin(lim.normalized_margins), -0.05)
    hi = max(np.nanmax(run.normalized_margins), np.nanmax(lim.normalized_margins), 0.0)
    ax1.set_ylim(lo - 0.05 * (hi - lo), hi + 0.4 * (hi - lo))   # room for the key on top
    plotting.key(ax1, [(f"{method}, γ = {gamma:.3g}", green, "—"),
                       (f"γ → ∞: {lim.method}", "black", "– –")])
    if run.n_sep is None:
        title = f"not separated by t = {DRAW_MAX_ITER}"
        plotting.message(ax1, f"γ = {gamma:.3g} is too small to separate\nwithin {DRAW_MAX_ITER} "
                              f"iterations here")
    else:
        title = f"separated at t = {run.n_sep}"
    lim_txt = "γ → ∞: not by the cap" if lim.n_sep is None else f"γ → ∞: t = {lim.n_sep}"
    plotting.labels(ax1, "iteration t", "worst margin / ‖θₜ‖  (> 0: separated)",
                    f"{title}; {lim_txt}")
    return fig


def _draw_plane(ax, A, y, theta, theta_hat, dataset: str, color: str) -> None:
    """Scatter the 2-D data and draw the lines ``theta^T a = 0`` (helper of :func:`draw`)."""
    blue, orange = plotting.PALETTE[0], plotting.PALETTE[1]
    if dataset == "worst case":
        ax.plot(*A[0], "o", ms=9, color=blue)
        ax.plot(*A[-1], "s", ms=9, color=orange)
        ax.text(A[0, 0] - 0.1, A[0, 1] - 0.3, "1 point, +1", ha="left", fontsize=8)
        ax.text(A[-1, 0] + 0.1, A[-1, 1] - 0.3, f"{len(y) - 1} copies, −1", ha="right",
                fontsize=8)
        lim = 1.6
    else:
        ax.plot(*A[y > 0].T, "o", ms=2.5, color=blue)
        ax.plot(*A[y < 0].T, "s", ms=2.5, color=orange)
        lim = 1.1 * float(np.abs(A).max())
    s = np.array([-lim, lim]) * 1.5
    for th, style, col, lw in ((theta_hat, "--", "black", 1.2), (theta, "-", color, 2.0)):
        nrm = np.linalg.norm(th)
        if nrm > 0:   # the line theta^T a = 0 has direction (-theta_2, theta_1)
            ax.plot(-s * th[1] / nrm, s * th[0] / nrm, style, color=col, lw=lw)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    plotting.labels(ax, "feature a₁", "feature a₂", "data (● +1, ■ −1), lines θᵀa = 0")
