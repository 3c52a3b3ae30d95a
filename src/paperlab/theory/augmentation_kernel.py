"""Augmentation defines an RKHS: KRR and top-d probes on the Boolean cube (Zhai et al., ICLR 2024).

Explained in chapter ``augmentation-rkhs``.

The paper "Understanding Augmentation-based Self-Supervised Representation Learning via RKHS
Approximation and Regression" (Zhai, Liu, Risteski, Kolter and Ravikumar, ICLR 2024) starts
from an augmentation ``A(a | x)`` (the law of a view ``a`` of an input ``x``) and the marginal
``p_A(a) = sum_x A(a | x) p_X(x)`` of the views. The augmentation alone defines the kernel

    K_X(x, x') = sum_a A(a | x) A(a | x') / p_A(a),

whose RKHS ``H_Gamma`` holds the targets the augmentation makes learnable. Its Mercer
eigenfunctions are what an ideal encoder learns; a linear probe on an encoder is then RKHS
regression, and the constants of its error bound are governed by the *augmentation complexity*
``kappa`` with ``kappa^2 = sup_x K_X(x, x)``, not by the size of the encoder.

This module makes every one of these objects exact on a finite space: ``X = {0, 1}^D`` with the
uniform law, and the augmentation that flips each bit independently with probability ``alpha``
(the analogue of random masking or token replacement). Then

* ``K_X(x, x') = 2^D [(1 - alpha)^2 + alpha^2]^(D - h) [2 alpha (1 - alpha)]^h`` with ``h`` the
  Hamming distance (:func:`flip_kernel`);
* the eigenfunctions are the parities (Walsh functions) ``chi_S(x) = prod_{i in S} (-1)^(x_i)``
  with eigenvalues ``lambda_S = (1 - 2 alpha)^(2 |S|)`` (:func:`eigenvalues`,
  :func:`walsh_features`);
* ``kappa^2 = (1 + (1 - 2 alpha)^2)^D`` (:func:`augmentation_complexity`) and
  ``||f||_H^2 = sum_S f_S^2 / lambda_S`` (:func:`rkhs_norm_sq`).

The two estimators of the chapter are kernel ridge regression with ``K_X`` (an arbitrary encoder
whose span is the whole RKHS; :func:`krr_cv`, :func:`krr_fixed`) and least squares on the top-d
eigenfunctions (a near-optimal encoder; :func:`probe_top_d`). :func:`experiment` runs the
chapter's two sweeps and :func:`draw` / :data:`SLIDERS` are its interactive figure.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from matplotlib.figure import Figure
from scipy import linalg

from ..cache import cached
from ..threads import one_thread
from .. import plotting
from .._validate import check_array, check_int, check_real
from ..widgets import FloatSlider, IntSlider, LogSlider
from .common import ridge as ridge_solve

__all__ = ["D_MAX", "TARGET", "SIGMA", "ALPHAS", "RIDGES", "cube", "flip_kernel", "eigenvalues",
           "augmentation_complexity", "walsh_subsets", "walsh_features", "target_values",
           "target_coefficients", "rkhs_norm_sq", "sample", "krr_fixed", "krr_cv",
           "probe_top_d", "Experiment", "experiment", "draw", "SLIDERS"]

#: Largest cube dimension: the dense 2^D x 2^D kernel of D = 12 already holds 16.8 M numbers.
D_MAX = 12
#: The chapter's target f* = chi_{1} + 0.7 chi_{1,2} + 0.5 chi_{1,2,3} (bits counted from 1 in
#: the text, from 0 here): (subset, coefficient) pairs.
TARGET: tuple[tuple[tuple[int, ...], float], ...] = (((0,), 1.0), ((0, 1), 0.7), ((0, 1, 2), 0.5))
#: Standard deviation of the label noise.
SIGMA = 0.3
#: The augmentation strengths of the chapter's sweep.
ALPHAS: tuple[float, ...] = (0.02, 0.05, 0.08, 0.11, 0.14, 0.17, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45)
#: Ridge grid ``mu`` searched by cross-validation (objective (1/n) sum (f(x_i) - y_i)^2 + mu ||f||_H^2).
RIDGES: tuple[float, ...] = tuple(float(v) for v in np.geomspace(1e-8, 10.0, 28))


# --------------------------------------------------------------------------- checks

def _check_D(D) -> int:
    return check_int("D", D, 1, D_MAX)


def _check_alpha(alpha) -> float:
    return check_real("alpha", alpha, 0.0, 0.5, lo_open=True, hi_open=True)


# --------------------------------------------------------------------------- the cube

@cached(maxsize=4)
def cube(D: int = 10) -> np.ndarray:
    """All ``N = 2^D`` points of ``{0, 1}^D`` as an ``(N, D)`` int8 array; row ``k`` is ``k`` in binary.

    Bit ``i`` of row ``k`` is ``(k >> i) & 1``. Read-only (it is cached and shared).
    """
    D = _check_D(D)
    X = ((np.arange(2 ** D)[:, None] >> np.arange(D)) & 1).astype(np.int8)
    X.flags.writeable = False
    return X


@cached(maxsize=2)
def _hamming(D: int) -> np.ndarray:
    """``(N, N)`` Hamming distances between all points of the cube (uint8, read-only)."""
    k = np.arange(2 ** D)
    x = k[:, None] ^ k[None, :]
    h = np.zeros(x.shape, dtype=np.uint8)
    for i in range(D):
        h += ((x >> i) & 1).astype(np.uint8)
    h.flags.writeable = False
    return h


def _kernel_by_distance(D: int, alpha: float) -> np.ndarray:
    """``K_X`` as a function of the Hamming distance ``h = 0..D`` (see :func:`flip_kernel`)."""
    same = (1.0 - alpha) ** 2 + alpha ** 2          # both views agree on a bit where x_i = x'_i
    diff = 2.0 * alpha * (1.0 - alpha)              # ... and where x_i != x'_i
    h = np.arange(D + 1)
    return 2.0 ** D * same ** (D - h) * diff ** h


def flip_kernel(D: int, alpha: float, rows=None, cols=None) -> np.ndarray:
    """The augmentation kernel ``K_X`` of the bit-flip augmentation on ``{0, 1}^D``.

    The augmentation draws a view ``a`` of ``x`` by flipping each bit independently with
    probability ``alpha``: ``A(a | x) = alpha^(d(a, x)) (1 - alpha)^(D - d(a, x))``. Under the
    uniform law ``p_A(a) = 2^-D``, and the paper's kernel
    ``K_X(x, x') = sum_a A(a | x) A(a | x') / p_A(a)`` factorises over the bits:

        K_X(x, x') = 2^D [(1 - alpha)^2 + alpha^2]^(D - h) [2 alpha (1 - alpha)]^h,

    where ``h`` is the Hamming distance of ``x`` and ``x'`` (chapter ``augmentation-rkhs``,
    Eq. (2)). Returns the ``(N, N)`` Gram matrix on the whole cube (``N = 2^D``), or only the
    block ``rows x cols`` when index arrays are given (how the regressions use it).
    """
    D = _check_D(D)
    alpha = _check_alpha(alpha)
    table = _kernel_by_distance(D, alpha)
    H = _hamming(D)
    N = 2 ** D
    r = np.arange(N) if rows is None else _check_index("rows", rows, N)
    c = np.arange(N) if cols is None else _check_index("cols", cols, N)
    return table[H[np.ix_(r, c)]]


def _check_index(name: str, idx, N: int) -> np.ndarray:
    a = np.asarray(idx)
    if a.ndim != 1 or a.dtype.kind not in "iu":
        raise ValueError(f"{name} must be a 1-D array of integer point indices, got {a.dtype} "
                         f"with shape {a.shape}")
    if a.size and (a.min() < 0 or a.max() >= N):
        raise ValueError(f"{name} must index points of the cube, 0..{N - 1}")
    return a


def eigenvalues(alpha: float, degree) -> np.ndarray:
    """Mercer eigenvalue ``lambda_S = (1 - 2 alpha)^(2 |S|)`` of the parity ``chi_S`` (Eq. (3)).

    The integral operator ``(T f)(x) = E_{x'}[K_X(x, x') f(x')]`` of :func:`flip_kernel`
    factorises over bits into the 2 x 2 matrix ``[[c, s], [s, c]]`` (``c = (1-alpha)^2 + alpha^2``,
    ``s = 2 alpha (1 - alpha)``), whose eigenvalues are ``c + s = 1`` (constant function) and
    ``c - s = (1 - 2 alpha)^2`` (the sign ``(-1)^(x_i)``). ``degree`` is ``|S|`` (int or array).
    """
    alpha = _check_alpha(alpha)
    deg = np.asarray(degree)
    if deg.dtype.kind not in "iu" or np.any(deg < 0):
        raise ValueError(f"degree must be a non-negative integer |S| (or an array of them), got {degree!r}")
    return (1.0 - 2.0 * alpha) ** (2.0 * deg)


def augmentation_complexity(D: int, alpha: float) -> float:
    """The augmentation complexity ``kappa``, with ``kappa^2 = sup_x K_X(x, x)`` (Eq. (4)).

    For the bit-flip augmentation ``K_X(x, x) = 2^D [(1-alpha)^2 + alpha^2]^D`` is the same at
    every ``x``, and equals the trace ``sum_S lambda_S = (1 + (1 - 2 alpha)^2)^D``. It falls from
    ``2^(D/2)`` (no augmentation, ``alpha -> 0``) to 1 (``alpha -> 1/2``: every view is noise).
    """
    D = _check_D(D)
    alpha = _check_alpha(alpha)
    return float(math.sqrt((1.0 + (1.0 - 2.0 * alpha) ** 2) ** D))


# --------------------------------------------------------------------------- Walsh analysis

@cached(maxsize=16)
def walsh_subsets(D: int, max_degree: int) -> tuple[tuple[int, ...], ...]:
    """All subsets ``S`` of ``{0..D-1}`` with ``|S| <= max_degree``, by degree then lexicographically.

    This is the index set of the top-d eigenspace: ``d = sum_{r <= q} C(D, r)`` functions
    (11, 56 and 176 for ``D = 10`` and ``q = 1, 2, 3``).
    """
    D = _check_D(D)
    q = check_int("max_degree", max_degree, 0, D)
    return tuple(S for r in range(q + 1) for S in combinations(range(D), r))


def walsh_features(X, max_degree: int) -> np.ndarray:
    """Parities ``chi_S(x) = prod_{i in S} (-1)^(x_i)`` for all ``|S| <= max_degree`` (columns).

    ``X`` is an ``(n, D)`` array of bits. The columns follow :func:`walsh_subsets`; they are
    orthonormal in ``L^2`` of the uniform law, and are the eigenfunctions of ``K_X`` with the
    largest eigenvalues, so this is the exact top-d encoder of chapter ``augmentation-rkhs``.
    """
    Xa = check_array("X", X, ndim=2)
    if not np.all((Xa == 0) | (Xa == 1)):
        raise ValueError("X must contain only the bits 0 and 1")
    D = Xa.shape[1]
    if not 1 <= D <= D_MAX:
        raise ValueError(f"X must have between 1 and {D_MAX} columns (bits), got {D}")
    q = check_int("max_degree", max_degree, 0, D)
    signs = 1.0 - 2.0 * Xa
    subsets = walsh_subsets(D, q)
    Phi = np.ones((Xa.shape[0], len(subsets)))
    for j, S in enumerate(subsets):
        for i in S:
            Phi[:, j] *= signs[:, i]
    return Phi


def target_coefficients() -> dict[tuple[int, ...], float]:
    """Walsh coefficients ``f*_S`` of the chapter's target (see :data:`TARGET`)."""
    return dict(TARGET)


def target_values(D: int = 10) -> np.ndarray:
    """``f*(x) = chi_{1}(x) + 0.7 chi_{1,2}(x) + 0.5 chi_{1,2,3}(x)`` at every point of the cube.

    Needs ``D >= 3``. Returns a read-only array of ``2^D`` values (cached).
    """
    return _target_values(check_int("D", D, 3, D_MAX))


@cached(maxsize=4)
def _target_values(D: int) -> np.ndarray:
    s = 1.0 - 2.0 * cube(D)
    out = np.zeros(s.shape[0])
    for S, coef in TARGET:
        out += coef * np.prod(s[:, list(S)], axis=1)
    out.flags.writeable = False
    return out


def rkhs_norm_sq(coeffs, degrees, alpha: float) -> float:
    """``||f||_H^2 = sum_S f_S^2 / lambda_S`` for ``f = sum_S f_S chi_S`` (Eq. (5)).

    ``coeffs`` are the Walsh coefficients ``f_S`` and ``degrees`` the matching ``|S|``. Stronger
    augmentation (larger ``alpha``) shrinks ``lambda_S`` and so *raises* the norm of a target with
    high-degree parts: the other side of the trade-off.
    """
    c = check_array("coeffs", coeffs, ndim=1)
    deg = np.asarray(degrees)
    if deg.shape != c.shape:
        raise ValueError(f"degrees must have one entry per coefficient, got shapes {deg.shape} and {c.shape}")
    return float(np.sum(c ** 2 / eigenvalues(alpha, deg)))


# --------------------------------------------------------------------------- data and estimators

def sample(D: int, n: int, seed: int = 0, sigma: float = SIGMA) -> tuple[np.ndarray, np.ndarray]:
    """``n`` i.i.d. uniform points of the cube (as indices) and noisy labels ``y = f*(x) + sigma e``.

    Points are drawn with replacement, as the theory assumes; ``n`` may be at most ``4 N``.
    """
    D = check_int("D", D, 3, D_MAX)
    N = 2 ** D
    n = check_int("n", n, 2, 4 * N)
    seed = check_int("seed", seed, 0)
    sigma = check_real("sigma", sigma, 0.0)
    rng = np.random.default_rng([seed, 62])
    idx = rng.integers(0, N, size=n)
    y = target_values(D)[idx] + sigma * rng.standard_normal(n)
    return idx, y


def _check_train(K, idx, y) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    Ka = check_array("K", K, ndim=2)
    N = Ka.shape[0]
    if Ka.shape != (N, N):
        raise ValueError(f"K must be the square Gram matrix of the whole cube, got shape {Ka.shape}")
    ia = _check_index("idx", idx, N)
    if ia.size < 2:
        raise ValueError("idx must name at least 2 training points")
    ya = check_array("y", y, ndim=1)
    if ya.size != ia.size:
        raise ValueError(f"y must have one label per training index ({ia.size}), got {ya.size}")
    return Ka, ia, ya


def krr_fixed(K, idx, y, ridge: float) -> np.ndarray:
    """Kernel ridge regression with a given ridge ``mu``; predictions at every point of the cube.

    ``f_hat = argmin (1/n) sum_i (f(x_i) - y_i)^2 + mu ||f||_H^2``, i.e.
    ``f_hat(x) = K(x, X) (K(X, X) + n mu I)^-1 y`` (RKHS regression, Section 3 of the paper). ``K``
    is the Gram matrix of the whole cube (:func:`flip_kernel`), ``idx`` the training points.
    """
    Ka, ia, ya = _check_train(K, idx, y)
    mu = check_real("ridge", ridge, 0.0, lo_open=True)
    n = ia.size
    with one_thread():
        A = Ka[np.ix_(ia, ia)] + n * mu * np.eye(n)
        c = linalg.cho_solve(linalg.cho_factor(A, lower=True), ya)
        return Ka[:, ia] @ c


def _loo_errors(Ktr: np.ndarray, y: np.ndarray, ridges: np.ndarray) -> np.ndarray:
    """Exact leave-one-out squared errors of KRR for every ridge, from one eigendecomposition.

    With the hat matrix ``H = K (K + n mu I)^-1``, the leave-one-out residual of point ``i`` is
    ``(y_i - (H y)_i) / (1 - H_ii)`` (the classical identity for linear smoothers).
    """
    n = y.size
    e, U = np.linalg.eigh(Ktr)
    e = np.maximum(e, 0.0)
    Uy = U.T @ y
    U2 = U * U
    out = np.empty(ridges.size)
    for j, mu in enumerate(ridges):
        shrink = e / (e + n * mu)
        fit = U @ (shrink * Uy)
        h = U2 @ shrink
        out[j] = np.mean(((y - fit) / np.maximum(1.0 - h, 1e-12)) ** 2)
    return out


def krr_cv(K, idx, y, ridges: Sequence[float] = RIDGES) -> tuple[np.ndarray, float]:
    """KRR with the ridge chosen by leave-one-out cross-validation; ``(predictions, ridge)``.

    Every ``mu`` in ``ridges`` is scored by its exact leave-one-out error (one eigendecomposition
    of ``K(X, X)`` serves all of them); the best is refitted on all points with
    :func:`krr_fixed`. Predictions are at every point of the cube. This is the estimator of the
    paper's first bound with an honestly tuned regulariser (chapter ``augmentation-rkhs``).
    """
    Ka, ia, ya = _check_train(K, idx, y)
    r = check_array("ridges", ridges, ndim=1)
    if r.size == 0 or np.any(r <= 0):
        raise ValueError("ridges must be a non-empty list of positive numbers")
    with one_thread():
        err = _loo_errors(Ka[np.ix_(ia, ia)], ya, r)
    mu = float(r[int(np.argmin(err))])
    return krr_fixed(Ka, ia, ya, mu), mu


def probe_top_d(D: int, idx, y, max_degree: int) -> np.ndarray:
    """Least-squares linear probe on the top-d eigenfunctions; predictions on the whole cube.

    The encoder is exact: ``phi(x) = (chi_S(x))_{|S| <= q}`` (:func:`walsh_features`), the
    top ``d = sum_{r<=q} C(D, r)`` eigenfunctions of ``K_X`` for every ``alpha`` in (0, 1/2). The
    probe is the minimum-norm least-squares fit (:func:`paperlab.theory.common.ridge` with
    ``ridge = 0``), the setting of the paper's second bound (near-optimal encoders).
    """
    D = check_int("D", D, 3, D_MAX)
    q = check_int("max_degree", max_degree, 0, D)
    Phi = _features(D, q)
    ia = _check_index("idx", idx, Phi.shape[0])
    ya = check_array("y", y, ndim=1)
    if ya.size != ia.size:
        raise ValueError(f"y must have one label per training index ({ia.size}), got {ya.size}")
    with one_thread():
        w = ridge_solve(Phi[ia], ya, 0.0)
        return Phi @ w


@cached(maxsize=8)
def _features(D: int, q: int) -> np.ndarray:
    F = walsh_features(cube(D), q)
    F.flags.writeable = False
    return F


def _mse(pred: np.ndarray, D: int) -> float:
    """Population excess risk: mean of ``(f_hat - f*)^2`` over all ``2^D`` points (exact)."""
    return float(np.mean((pred - target_values(D)) ** 2))


# --------------------------------------------------------------------------- the experiment

@dataclass(frozen=True)
class Experiment:
    """Results of :func:`experiment` (all errors are exact population MSEs ``E(f_hat - f*)^2``).

    ``krr_cv[n]`` / ``krr_fixed[n]``: arrays (seeds, alphas) of KRR errors with the ridge chosen
    by leave-one-out CV, or fixed by the rule ``n mu = sigma^2``; ``ridge_cv[n]`` the chosen
    ridges. ``probe[q]``: array (seeds, sizes) of top-d probe errors. ``kappa_sq`` and
    ``norm_sq``: ``kappa^2`` and ``||f*||_H^2`` per alpha.
    """

    D: int
    alphas: tuple[float, ...]
    ns: tuple[int, ...]
    seeds: int
    krr_cv: dict[int, np.ndarray]
    krr_fixed: dict[int, np.ndarray]
    ridge_cv: dict[int, np.ndarray]
    kappa_sq: np.ndarray
    norm_sq: np.ndarray
    probe_sizes: tuple[int, ...]
    probe: dict[int, np.ndarray]
    probe_dims: dict[int, int]

    def summary(self, n: int = 200) -> dict[str, float]:
        """The chapter's checked numbers at ``n`` training points (seed-averaged)."""
        if n not in self.ns:
            raise ValueError(f"n must be one of the simulated {self.ns}, got {n}")
        out: dict[str, float] = {}
        for name, res in (("fixed", self.krr_fixed[n]), ("cv", self.krr_cv[n])):
            m = res.mean(0)
            k = int(np.argmin(m))
            out[f"{name}_best_alpha"] = self.alphas[k]
            out[f"{name}_mse_best"] = float(m[k])
            out[f"{name}_mse_first"] = float(m[0])
            out[f"{name}_mse_last"] = float(m[-1])
        j = self.probe_sizes.index(800) if 800 in self.probe_sizes else len(self.probe_sizes) - 1
        for q, res in self.probe.items():
            out[f"probe_q{q}_mse_n{self.probe_sizes[j]}"] = float(res[:, j].mean())
        return out


def _one_alpha(D: int, alpha: float, idx: np.ndarray, y: np.ndarray, f: np.ndarray,
               ridges: np.ndarray) -> tuple[float, float, float]:
    """KRR errors at one alpha and one sample: (LOO-CV ridge, fixed-rule ridge, chosen ridge)."""
    n = idx.size
    Ktr = flip_kernel(D, alpha, idx, idx)
    Kte = flip_kernel(D, alpha, None, idx)
    err = _loo_errors(Ktr, y, ridges)
    mu = float(ridges[int(np.argmin(err))])
    out = []
    for m in (mu, SIGMA ** 2 / n):
        c = linalg.cho_solve(linalg.cho_factor(Ktr + n * m * np.eye(n), lower=True), y)
        out.append(float(np.mean((Kte @ c - f) ** 2)))
    return out[0], out[1], mu


@cached(maxsize=4)
def experiment(D: int = 10, alphas: tuple[float, ...] = ALPHAS, ns: tuple[int, ...] = (50, 200),
               seeds: int = 10,
               probe_sizes: tuple[int, ...] = (20, 40, 70, 120, 200, 300, 450, 600, 800, 1000),
               probe_degrees: tuple[int, ...] = (1, 2, 3), seed0: int = 0) -> Experiment:
    """The chapter's two sweeps, seed by seed (cached: the chapter's one heavy step).

    (a) For each ``n`` in ``ns``, seed and ``alpha``: KRR with ``K_X`` and the ridge chosen by
    leave-one-out CV over :data:`RIDGES`, and KRR with the fixed rule ``n mu = sigma^2`` (the
    posterior mean of a Gaussian process with covariance ``K_X``). (b) For each ``q`` in
    ``probe_degrees``, size and seed: least squares on the top-d eigenfunctions. Seed ``s``
    uses the same sample for every ``alpha`` (:func:`sample`), so the curves differ only by
    the augmentation; the seeds are ``seed0, ..., seed0 + seeds - 1``.
    """
    D = check_int("D", D, 3, D_MAX)
    seed0 = check_int("seed0", seed0, 0)
    al = tuple(_check_alpha(a) for a in alphas)
    ns = tuple(check_int("ns", n, 2, 4 * 2 ** D) for n in ns)
    seeds = check_int("seeds", seeds, 1)
    ps = tuple(check_int("probe_sizes", n, 2, 4 * 2 ** D) for n in probe_sizes)
    qs = tuple(check_int("probe_degrees", q, 0, D) for q in probe_degrees)
    f = target_values(D)
    ridges = np.asarray(RIDGES)
    cv, fx, mus = {}, {}, {}
    with one_thread():
        for n in ns:
            cv[n], fx[n], mus[n] = (np.zeros((seeds, len(al))) for _ in range(3))
            for s in range(seeds):
                idx, y = sample(D, n, seed0 + s)
                for j, a in enumerate(al):
                    cv[n][s, j], fx[n][s, j], mus[n][s, j] = _one_alpha(D, a, idx, y, f, ridges)
        probe = {}
        for q in qs:
            probe[q] = np.zeros((seeds, len(ps)))
            for s in range(seeds):
                for j, n in enumerate(ps):
                    idx, y = sample(D, n, seed0 + s)
                    probe[q][s, j] = _mse(probe_top_d(D, idx, y, q), D)
    coefs = np.array([c for _, c in TARGET])
    degs = np.array([len(S) for S, _ in TARGET])
    return Experiment(D=D, alphas=al, ns=ns, seeds=seeds, krr_cv=cv, krr_fixed=fx, ridge_cv=mus,
                      kappa_sq=np.array([augmentation_complexity(D, a) ** 2 for a in al]),
                      norm_sq=np.array([rkhs_norm_sq(coefs, degs, a) for a in al]),
                      probe_sizes=ps, probe=probe,
                      probe_dims={q: len(walsh_subsets(D, q)) for q in qs})


# --------------------------------------------------------------------------- interactive figure

_D = 10
_ENERGY = {len(S): c * c for S, c in TARGET}          # target energy per degree


@cached(maxsize=256)
def _widget_probe(n: int, q: int) -> np.ndarray:
    """Top-d probe of the widget's sample (independent of alpha: cached per ``(n, q)``)."""
    idx, y = sample(_D, n, 0)
    return probe_top_d(_D, idx, y, q)


def draw(alpha: float = 0.2, n: float = 200, q: int = 2) -> Figure:
    """The chapter's interactive figure (chapter ``augmentation-rkhs``, section Explore).

    Left: the spectrum of ``K_X`` at ``alpha`` (eigenvalue ``lambda_r`` of the degree-``r``
    parities), the target's energy per degree, and the ridge ``mu = sigma^2 / n`` of the KRR fit.
    Right: predictions against the truth at all 1024 points, for KRR with ``K_X`` (ridge
    ``n mu = sigma^2``) and for the top-d probe with degree ``q``, from one sample of ``n`` points.
    """
    alpha = check_real("alpha", alpha, 0.01, 0.49)
    n = int(round(check_real("n", n, 10, 2000)))
    q = check_int("q", q, 1, 3)
    idx, y = sample(_D, n, 0)
    K_cols = flip_kernel(_D, alpha, None, idx)
    with one_thread():
        Ktr = K_cols[idx]
        c = linalg.cho_solve(linalg.cho_factor(Ktr + SIGMA ** 2 * np.eye(n), lower=True), y)
        pred_krr = K_cols @ c
    pred_probe = _widget_probe(n, q)
    f = target_values(_D)
    e_krr = float(np.mean((pred_krr - f) ** 2))
    e_probe = float(np.mean((pred_probe - f) ** 2))
    kappa2 = augmentation_complexity(_D, alpha) ** 2
    coefs = np.array([cc for _, cc in TARGET])
    degs = np.array([len(S) for S, _ in TARGET])
    norm2 = rkhs_norm_sq(coefs, degs, alpha)
    blue, orange, green, grey = plotting.PALETTE[0], plotting.PALETTE[1], plotting.PALETTE[2], "#8a8a8a"

    fig, (ax0, ax1) = plotting.figure(2, width=9.0, height=3.7, layout="fixed")
    r = np.arange(_D + 1)
    lam = eigenvalues(alpha, r)
    ax0.vlines(r, 1e-12, lam, color=blue, lw=7)
    mu = SIGMA ** 2 / n
    ax0.axhline(mu, color=grey, lw=1.2, ls="--")
    en = np.array([_ENERGY.get(k, 0.0) for k in (1, 2, 3)])
    ax0.scatter([1, 2, 3], lam[1:4], s=20 + 80 * en, color=orange, zorder=3)
    ax0.set_yscale("log")
    ax0.set_ylim(1e-12, 3.0)
    ax0.set_yticks([1e-12, 1e-8, 1e-4, 1], ["1e-12", "1e-8", "1e-4", "1"])
    ax0.set_xticks(r[::2])
    ax0.minorticks_off()
    plotting.key(ax0, [("eigenvalue λ_r", blue), ("target's parts", orange),
                       ("ridge μ = σ²/n", grey, "--")], x=0.55, y=0.96)
    plotting.labels(ax0, "degree r = |S| of the parity", "eigenvalue λ_r",
                    f"α = {alpha:.2f}: κ² = {kappa2:.3g}, ‖f*‖²_H = {norm2:.3g}")

    ax1.plot([-2.5, 2.5], [-2.5, 2.5], color=grey, lw=0.8)
    jitter = (np.arange(f.size) % 7 - 3) * 0.012
    ax1.plot(f + jitter - 0.05, pred_krr, ".", ms=2, color=blue)
    ax1.plot(f + jitter + 0.05, pred_probe, ".", ms=2, color=green)
    ax1.set_xlim(-2.5, 2.5)
    ax1.set_ylim(-3.0, 3.0)
    ax1.set_xticks([-2, -1, 0, 1, 2])
    ax1.set_yticks([-2, 0, 2])
    d = len(walsh_subsets(_D, q))
    plotting.key(ax1, [(f"KRR with K_X: MSE {e_krr:.3f}", blue),
                       (f"top-{d} probe (q = {q}): MSE {e_probe:.3f}", green)], x=0.03, y=0.97)
    plotting.labels(ax1, "true value f*(x)", "prediction f̂(x)",
                    f"all {f.size} points, n = {n} noisy labels")
    return fig


#: Slider box of :func:`draw`; the first entry (alpha) is the website scrubber's parameter.
SLIDERS = {
    "alpha": FloatSlider(0.02, 0.45, default=0.2, step=0.01, label="flip probability α"),
    "n": LogSlider(20, 1000, default=200, label="labelled points n"),
    "q": IntSlider(1, 3, default=2, label="probe degree q"),
}
