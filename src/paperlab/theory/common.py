"""Shared pieces of the learning-theory part: kernels, ridge solvers and rate fits with intervals.

Several chapters of Part 7 regress with a kernel or with random features, and several make a
rate visible (an error that scales like ``n^-a``). The rules of the part:

* a kernel regressor is :func:`kernel_ridge` on a Gram matrix from :func:`rbf_kernel`
  (or a chapter's own kernel), and a linear probe on features is :func:`ridge`;
* a rate is a slope fitted over a range of sizes and averaged over seeds, reported with an
  interval (:func:`slope_interval`), never read off a single point;
* learning curves are run over a grid of sizes and seeds with :func:`learning_curve`.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy import linalg

from .._validate import check_array, check_int, check_real
from ..optim.common import fit_loglog

__all__ = ["rbf_kernel", "kernel_ridge", "ridge", "fit_power_law", "fit_loglog",
           "slope_interval", "learning_curve"]


def rbf_kernel(A, B, lengthscale: float) -> np.ndarray:
    """Gaussian kernel ``k(a, b) = exp(-||a - b||^2 / (2 l^2))`` between the rows of A and B."""
    A = check_array("A", A, ndim=2)
    B = check_array("B", B, ndim=2)
    if A.shape[1] != B.shape[1]:
        raise ValueError(f"A and B must have the same number of columns, got {A.shape[1]} and {B.shape[1]}")
    ell = check_real("lengthscale", lengthscale, 0.0, lo_open=True)
    sq = (A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2.0 * A @ B.T
    return np.exp(-np.maximum(sq, 0.0) / (2.0 * ell * ell))


def kernel_ridge(K_train, y, ridge: float, K_test=None) -> np.ndarray:
    """Kernel ridge regression: coefficients ``c = (K + ridge I)^-1 y``; predictions if K_test given.

    ``K_test`` has shape (n_test, n_train). ``y`` may be (n,) or (n, outputs). Solved by a
    Cholesky factorisation (``ridge`` > 0 keeps it positive definite).
    """
    K = check_array("K_train", K_train, ndim=2)
    n = K.shape[0]
    if K.shape != (n, n):
        raise ValueError(f"K_train must be square, got shape {K.shape}")
    Y = np.asarray(y, dtype=float)
    if Y.shape[0] != n or Y.ndim not in (1, 2) or not np.all(np.isfinite(Y)):
        raise ValueError(f"y must be finite with {n} rows, got shape {Y.shape}")
    lam = check_real("ridge", ridge, 0.0, lo_open=True)
    c = linalg.cho_solve(linalg.cho_factor(K + lam * np.eye(n), lower=True), Y)
    if K_test is None:
        return c
    Kt = check_array("K_test", K_test, ndim=2)
    if Kt.shape[1] != n:
        raise ValueError(f"K_test must have {n} columns, got shape {Kt.shape}")
    return Kt @ c


def ridge(Phi, y, ridge: float = 0.0) -> np.ndarray:
    """Least squares ``argmin_w ||Phi w - y||^2 + ridge ||w||^2`` (minimum-norm when ridge = 0)."""
    P = check_array("Phi", Phi, ndim=2)
    Y = np.asarray(y, dtype=float)
    if Y.shape[0] != P.shape[0] or not np.all(np.isfinite(Y)):
        raise ValueError(f"y must be finite with {P.shape[0]} rows, got shape {Y.shape}")
    lam = check_real("ridge", ridge, 0.0)
    if lam == 0.0:
        return np.linalg.lstsq(P, Y, rcond=None)[0]
    n, p = P.shape
    if p <= n:
        return linalg.solve(P.T @ P + lam * np.eye(p), P.T @ Y, assume_a="pos")
    return P.T @ linalg.solve(P @ P.T + lam * np.eye(n), Y, assume_a="pos")


def fit_power_law(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """Fit ``y = coef * x^exponent`` by least squares in log-log space; returns ``(coef, exponent)``."""
    slope, intercept = fit_loglog(x, y)
    return float(np.exp(intercept)), slope


def slope_interval(x: Sequence[float], Y, *, level: float = 0.95, n_boot: int = 2000,
                   seed: int = 0) -> tuple[float, float, float]:
    """Log-log slope of a seed-averaged curve with a bootstrap interval over seeds.

    ``Y`` has shape (seeds, len(x)): one curve per seed. The slope is fitted to the geometric
    mean over seeds; the interval resamples seeds with replacement ``n_boot`` times. Returns
    ``(slope, low, high)``. With one seed the interval collapses to the slope.
    """
    xa = check_array("x", x, ndim=1)
    Ya = np.atleast_2d(check_array("Y", Y, finite=True))
    if Ya.shape[1] != xa.size:
        raise ValueError(f"Y must have shape (seeds, {xa.size}), got {Ya.shape}")
    if np.any(Ya <= 0):
        raise ValueError("Y must be positive to fit a log-log slope")
    lv = check_real("level", level, 0.0, 1.0, lo_open=True, hi_open=True)
    B = check_int("n_boot", n_boot, 1)
    logY = np.log(Ya)
    lx = np.log(xa)
    slope = fit_loglog(xa, np.exp(logY.mean(0)))[0]
    S = Ya.shape[0]
    if S == 1:
        return slope, slope, slope
    idx = np.random.default_rng(seed).integers(0, S, size=(B, S))
    means = logY[idx].mean(1)                      # (B, len(x))
    xc = lx - lx.mean()
    boots = (means - means.mean(1, keepdims=True)) @ xc / (xc @ xc)
    lo, hi = np.quantile(boots, [(1 - lv) / 2, (1 + lv) / 2])
    return slope, float(lo), float(hi)


def learning_curve(fit_and_score: Callable[[int, int], float], sizes: Sequence[int],
                   seeds: Sequence[int]) -> np.ndarray:
    """Run ``fit_and_score(n, seed)`` over a grid; returns an array of shape (seeds, sizes)."""
    ns = [check_int("sizes[i]", n, 1) for n in sizes]
    ss = [check_int("seeds[i]", s) for s in seeds]
    if not ns or not ss:
        raise ValueError("sizes and seeds must be non-empty")
    return np.array([[float(fit_and_score(n, s)) for n in ns] for s in ss])
