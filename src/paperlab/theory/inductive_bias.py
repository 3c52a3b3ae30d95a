"""Inductive bias in bits from the test-loss distribution of random hypotheses.

Explained in chapter ``inductive-bias-bits`` (Boopathy, Yue, Hwang, Iyer and Fiete,
"Towards Exact Computation of Inductive Bias", IJCAI 2024).

Notation (as in the chapter). A task gives training data ``(X, Y)`` and test data
``(X_t, Y_t)``; targets are one-hot vectors (``+-1`` for a binary task), so ``Y`` has shape
``(n_train, k)``. A *hypothesis* ``h`` is a function whose training fit is fixed by the data;
the hypothesis space is sampled from a distribution ``p_h(. | train)``. The inductive bias a
test error ``eps`` requires is the information needed to single out hypotheses that reach it,

    I(eps) = -log2 P_{h ~ p_h(.|train)} [ e_test(h) <= eps ]               (Eq. (1) of the chapter)

In the kernel variant of the paper (and its official code) the hypotheses are draws of the
Gaussian-process posterior with an RBF kernel ``k``,

    f = K_tX (K_XX + tau^2 I)^-1 Y + (K_tt - K_tX (K_XX + tau^2 I)^-1 K_Xt)^(1/2) Z     (Eq. (2))

with ``Z ~ N(0, I)`` independently per output, and ``e_test`` is the mean squared error over
test points and outputs. Because ``f`` is Gaussian, the MSE is a quadratic form in ``Z`` (a
generalized chi-squared variable); the paper models its distribution by a scaled non-central
chi-squared ``scale * chi2'(df, nc)`` fitted by maximum likelihood (Eq. (3)), and reads ``I``
off the fitted lower tail, far below the smallest sampled loss.

This module holds the sampler (:func:`gp_posterior_samples`, :func:`test_mse`), the fit
(:func:`fit_ncx2`), the bits (:func:`inductive_bias_bits`, with the Sankaran normal
approximation :func:`sankaran_logcdf` for tails beyond double precision, as in the official
utilities), the plain count (:func:`empirical_bits`), an exact Monte-Carlo reference for the
tail (:func:`exact_mse_draws`), the chapter's tasks and experiment, and its interactive
figure (:func:`draw`, :data:`SLIDERS`).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from scipy import linalg, special, stats

from ..cache import cached
from .. import plotting
from .._validate import check_array, check_choice, check_int, check_real
from ..data import binary_digits
from ..widgets import Choice, FloatSlider
from .common import rbf_kernel

__all__ = ["TAU2", "JITTER", "Task", "sign_task", "digits_task", "gp_posterior",
           "gp_posterior_samples", "test_mse", "fit_ncx2", "sankaran_logcdf",
           "inductive_bias_bits", "empirical_bits", "exact_mse_draws", "Measurement",
           "measure", "TASKS", "task", "draw", "SLIDERS"]

#: Noise variance of the conditioning (near-interpolation), Eq. (2) of the chapter.
TAU2 = 1e-2
#: Jitter added to the posterior covariance before its Cholesky factorisation.
JITTER = 1e-8
_LN2 = math.log(2.0)


# --------------------------------------------------------------------------- tasks

@dataclass(frozen=True)
class Task:
    """A train/test split with ``+-1`` targets of shape ``(n, 1)`` and its base length scale."""

    name: str
    X_train: np.ndarray
    Y_train: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray
    lengthscale: float

    @property
    def dim(self) -> int:
        return int(self.X_train.shape[1])


def sign_task(d: int, n_train: int = 64, n_test: int = 128, seed: int = 0) -> Task:
    """The chapter's synthetic task: ``y = sign(sum_{i<=d/2} x_i - sum_{i>d/2} x_i)``, ``x ~ N(0, I_d)``.

    The base length scale is ``sqrt(d)``, the typical distance between two inputs divided by
    ``sqrt(2)``, so the kernel "sees" every dimension alike.
    """
    d = check_int("d", d, 2, 1024)
    n_train = check_int("n_train", n_train, 2)
    n_test = check_int("n_test", n_test, 1)
    g = np.random.default_rng(check_int("seed", seed, 0))
    X = g.standard_normal((n_train + n_test, d))
    s = np.ones(d)
    s[d // 2:] = -1.0
    y = np.where(X @ s >= 0, 1.0, -1.0)[:, None]
    return Task(f"d = {d}", X[:n_train], y[:n_train], X[n_train:], y[n_train:], math.sqrt(d))


def digits_task(n_train: int = 64, n_test: int = 128, seed: int = 0) -> Task:
    """Digits 0 (+1) versus 1 (-1) of scikit-learn's 8x8 digits (64-D, pixels in [0, 1]).

    A random split of ``n_train`` training and ``n_test`` test images. Pixel data do not fill
    their 64 dimensions the way Gaussian inputs do, so the base length scale is set by the
    same rule that gives ``sqrt(d)`` for Gaussian inputs: the square root of half the median
    squared distance between training inputs.
    """
    n_train = check_int("n_train", n_train, 2)
    n_test = check_int("n_test", n_test, 1)
    X, y = binary_digits(0, 1)
    if n_train + n_test > len(y):
        raise ValueError(f"n_train + n_test must be at most {len(y)}, got {n_train + n_test}")
    p = np.random.default_rng(check_int("seed", seed, 0)).permutation(len(y))
    tr, te = p[:n_train], p[n_train:n_train + n_test]
    sq = ((X[tr, None, :] - X[None, tr, :]) ** 2).sum(-1)
    ell = math.sqrt(float(np.median(sq[np.triu_indices(n_train, 1)])) / 2.0)
    return Task("digits 0/1", X[tr], y[tr, None], X[te], y[te, None], ell)


# --------------------------------------------------------------------------- hypotheses

def _targets(name: str, Y, n: int) -> np.ndarray:
    Y = check_array(name, Y)
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.ndim != 2 or Y.shape[0] != n:
        raise ValueError(f"{name} must have {n} rows (one per input), got shape {Y.shape}")
    return Y


def gp_posterior(X_train, Y_train, X_test, lengthscale: float,
                 noise: float = TAU2) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(n_test, k)`` and covariance ``(n_test, n_test)`` of Eq. (2) of chapter
    ``inductive-bias-bits``.

    ``mean = K_tX (K_XX + noise I)^-1 Y`` and ``cov = K_tt - K_tX (K_XX + noise I)^-1 K_Xt``
    for the RBF kernel of length scale ``lengthscale``. ``noise`` must be positive: conditioning
    without it (exact interpolation) leaves ``K_XX`` numerically singular.
    """
    Xtr = check_array("X_train", X_train, ndim=2)
    Xte = check_array("X_test", X_test, ndim=2)
    Y = _targets("Y_train", Y_train, Xtr.shape[0])
    ell = check_real("lengthscale", lengthscale, 0.0, lo_open=True)
    tau2 = check_real("noise", noise, 0.0)
    K = rbf_kernel(Xtr, Xtr, ell)
    Kt = rbf_kernel(Xte, Xtr, ell)
    try:
        c = linalg.cho_factor(K + tau2 * np.eye(len(K)), lower=True)
    except linalg.LinAlgError as exc:
        raise ValueError(f"K_XX + noise I is singular (noise = {tau2:g}): use noise > 0, e.g. "
                         f"{TAU2:g}, or remove duplicate training inputs") from exc
    mean = Kt @ linalg.cho_solve(c, Y)
    cov = rbf_kernel(Xte, Xte, ell) - Kt @ linalg.cho_solve(c, Kt.T)
    return mean, 0.5 * (cov + cov.T)


def gp_posterior_samples(X_train, Y_train, X_test, lengthscale: float, S: int = 10_000,
                         seed: int = 0, noise: float = TAU2) -> np.ndarray:
    """``S`` hypotheses of Eq. (2), evaluated at the test inputs: shape ``(S, n_test, k)``.

    One Cholesky factor ``L`` of the posterior covariance (plus :data:`JITTER`) serves all
    samples, ``f_s = mean + L Z_s`` with ``Z_s ~ N(0, I)`` per output. The official code uses
    the symmetric square root instead of ``L``; both give the same distribution.
    """
    S = check_int("S", S, 1000)
    g = np.random.default_rng(check_int("seed", seed, 0))
    mean, cov = gp_posterior(X_train, Y_train, X_test, lengthscale, noise)
    L = np.linalg.cholesky(cov + JITTER * np.eye(len(cov)))
    n, k = mean.shape
    Z = g.standard_normal((n, S * k))
    return mean[None] + (L @ Z).reshape(n, S, k).transpose(1, 0, 2)


def test_mse(samples, Y_test) -> np.ndarray:
    """Test MSE of each hypothesis: mean over test points and outputs, shape ``(S,)``."""
    F = check_array("samples", samples, ndim=3)
    Y = _targets("Y_test", Y_test, F.shape[1])
    if Y.shape[1] != F.shape[2]:
        raise ValueError(f"Y_test must have {F.shape[2]} outputs, got {Y.shape[1]}")
    return ((F - Y[None]) ** 2).mean(axis=(1, 2))


test_mse.__test__ = False  # not a pytest test, despite its name


# --------------------------------------------------------------------------- the fit and the bits

def _moment_start(x: np.ndarray) -> tuple[float, float, float]:
    """Starting values ``(df, nc, scale)`` by matching mean, variance and third moment.

    A scaled non-central chi-squared has mean ``s (df + nc)``, variance ``2 s^2 (df + 2 nc)``
    and third central moment ``8 s^3 (df + 3 nc)``. If the three cannot be matched with
    ``nc >= 0``, ``nc = 0`` and the first two are matched.
    """
    mu, v = float(x.mean()), float(x.var())
    m3 = float(((x - mu) ** 3).mean())
    disc = v * v - mu * m3 / 2.0
    if disc > 0:
        s = (v - math.sqrt(disc)) / (2.0 * mu)
        if s > 0:
            nc = v / (2.0 * s * s) - mu / s
            df = mu / s - nc
            if nc >= 0 and df >= 0.5:
                return df, nc, s
    s = v / (2.0 * mu)
    return max(mu / s, 0.5), 0.0, s


def fit_ncx2(mses) -> tuple[float, float, float]:
    """Maximum-likelihood fit of ``scale * chi2'(df, nc)`` to the losses: Eq. (3) of chapter
    ``inductive-bias-bits``; returns ``(df, nc, scale)``.

    As in the official code, ``scipy.stats.ncx2.fit`` with the location fixed at 0. It starts
    from the moment-matched values of :func:`_moment_start` (without them the fit is slow and
    can wander), and ``df`` is kept at 0.5 or more. Needs at least 100 positive losses that
    are not all equal.
    """
    x = check_array("mses", mses, ndim=1)
    if x.size < 100 or np.any(x <= 0) or np.ptp(x) == 0:
        raise ValueError(f"mses must hold at least 100 positive, not all equal losses; got "
                         f"{x.size} values in [{x.min() if x.size else 0:g}, "
                         f"{x.max() if x.size else 0:g}]")
    df0, nc0, s0 = _moment_start(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        df, nc, _, scale = stats.ncx2.fit(x, df0, nc0, floc=0, scale=s0)
        if not (np.isfinite(df) and np.isfinite(nc) and scale > 0) or \
                stats.ncx2.logpdf(x, df, nc, 0, scale).sum() < stats.ncx2.logpdf(x, df0, nc0, 0, s0).sum():
            df, nc, scale = df0, nc0, s0
    return max(float(df), 0.5), max(float(nc), 0.0), float(scale)


def sankaran_logcdf(x: float, df: float, nc: float, scale: float = 1.0) -> float:
    """Natural log of the CDF of ``scale * chi2'(df, nc)`` at ``x`` by Sankaran's normal
    approximation (1959), the fallback of the official utilities.

    ``(x / (scale (df + nc)))^h`` is close to normal with ``h = 1 - 2/3 (df + nc)(df + 3 nc) /
    (df + 2 nc)^2``; the log of the normal CDF is taken with ``scipy.special.log_ndtr``, which
    stays accurate far into the tail (the official code uses the cruder ``-z^2/2``).
    """
    x = check_real("x", x, 0.0, lo_open=True)
    df = check_real("df", df, 0.0, lo_open=True)
    nc = check_real("nc", nc, 0.0)
    scale = check_real("scale", scale, 0.0, lo_open=True)
    k, lam, t = df, nc, x / scale
    h = 1.0 - 2.0 / 3.0 * (k + lam) * (k + 3 * lam) / (k + 2 * lam) ** 2
    p = (k + 2 * lam) / (k + lam) ** 2
    m = (h - 1.0) * (1.0 - 3.0 * h)
    z = ((t / (k + lam)) ** h - (1.0 + h * p * (h - 1.0 - 0.5 * (2.0 - h) * m * p))) / \
        (h * math.sqrt(2.0 * p) * (1.0 + 0.5 * m * p))
    return float(special.log_ndtr(z))


def inductive_bias_bits(eps: float, params: tuple[float, float, float]) -> float:
    """``I(eps) = -log2 F(eps)`` for the fitted ``F = scale * chi2'(df, nc)``: Eq. (1) with the
    fit of Eq. (3) (chapter ``inductive-bias-bits``).

    Where scipy's log-CDF underflows to ``-inf`` (tails below about ``1e-300``) the Sankaran
    approximation :func:`sankaran_logcdf` takes over. ``eps`` must be positive; an ``eps``
    beyond the bulk of the distribution (CDF within ``1e-12`` of 1) returns 0 bits with a
    warning, since then every hypothesis qualifies.
    """
    eps = check_real("eps", eps, 0.0, lo_open=True)
    if not isinstance(params, (tuple, list)) or len(params) != 3:
        raise ValueError(f"params must be the (df, nc, scale) returned by fit_ncx2, got {params!r}")
    df = check_real("params[0] (df)", params[0], 0.0, lo_open=True)
    nc = check_real("params[1] (nc)", params[1], 0.0)
    scale = check_real("params[2] (scale)", params[2], 0.0, lo_open=True)
    lc = float(stats.ncx2.logcdf(eps, df, nc, loc=0, scale=scale))
    if not np.isfinite(lc):
        lc = sankaran_logcdf(eps, df, nc, scale)
    if lc > -1e-12:
        warnings.warn(f"eps = {eps:g} lies above almost every sampled loss (the fitted CDF is 1 "
                      f"to 12 digits): every hypothesis qualifies, 0 bits", stacklevel=2)
        return 0.0
    return -lc / _LN2


def empirical_bits(mses, eps: float, min_count: int = 10) -> float:
    """``-log2`` of the fraction of sampled losses ``<= eps``; ``nan`` if fewer than
    ``min_count`` samples fall below ``eps`` (a count that small says little).
    """
    x = check_array("mses", mses, ndim=1)
    eps = check_real("eps", eps, 0.0, lo_open=True)
    min_count = check_int("min_count", min_count, 1)
    c = int(np.count_nonzero(x <= eps))
    return float("nan") if c < min_count else max(0.0, -math.log2(c / x.size))


def exact_mse_draws(X_train, Y_train, X_test, Y_test, lengthscale: float, N: int = 1_000_000,
                    seed: int = 1, noise: float = TAU2, chunk: int = 50_000) -> np.ndarray:
    """``N`` draws of the test MSE of Eq. (2) hypotheses, sampled in the eigenbasis of the
    posterior covariance: the reference for the tail in chapter ``inductive-bias-bits``.

    With ``cov + JITTER I = V diag(l) V^T`` and ``a = V^T (mean - Y_test)``, the MSE of a
    hypothesis is ``sum_ij (a_ij + sqrt(l_i) z_ij)^2 / (n_test k)``: a generalized chi-squared
    variable with exactly the distribution of :func:`test_mse` of :func:`gp_posterior_samples`.
    Each draw costs ``n_test k`` normal numbers instead of a matrix product, so a million draws
    reach tails of ``1e-4`` that 10,000 hypotheses cannot. Drawn in single precision.
    """
    N = check_int("N", N, 1000)
    chunk = check_int("chunk", chunk, 1)
    mean, cov = gp_posterior(X_train, Y_train, X_test, lengthscale, noise)
    Y = _targets("Y_test", Y_test, mean.shape[0])
    lam, V = np.linalg.eigh(cov + JITTER * np.eye(len(cov)))
    a = V.T @ (mean - Y)                                   # (n_test, k)
    A = a.astype(np.float32)
    sl = np.sqrt(np.clip(lam, 0.0, None)).astype(np.float32)[:, None]
    g = np.random.default_rng(check_int("seed", seed, 0))
    out = np.empty(N)
    for s in range(0, N, chunk):
        m = min(chunk, N - s)
        z = g.standard_normal((m,) + A.shape, dtype=np.float32)
        out[s:s + m] = ((A + sl * z) ** 2).sum(axis=(1, 2), dtype=np.float64)
    return out / Y.size


# --------------------------------------------------------------------------- the experiment

#: The chapter's tasks, in the order of the widget's selector.
TASKS = ("d = 2", "d = 4", "d = 8", "d = 16", "digits 0/1")


@cached(maxsize=16)
def task(name: str, seed: int = 0) -> Task:
    """One of :data:`TASKS` (64 training and 128 test points), cached."""
    check_choice("name", name, TASKS)
    if name.startswith("d = "):
        return sign_task(int(name[4:]), seed=seed)
    return digits_task(seed=seed)


@dataclass(frozen=True)
class Measurement:
    """Sampled losses of one task and length scale, and the fitted ``(df, nc, scale)``."""

    task: str
    lengthscale: float
    mses: np.ndarray
    params: tuple[float, float, float]

    def bits(self, eps: float) -> float:
        """``I(eps)`` from the fit (Eq. (1) with Eq. (3)), warnings silenced."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return inductive_bias_bits(eps, self.params)


@cached(maxsize=64)
def measure(name: str, factor: float = 1.0, S: int = 10_000, seed: int = 0) -> Measurement:
    """Sample ``S`` hypotheses for task ``name`` at length scale ``factor`` times its base
    length scale, with :data:`TAU2`, and fit Eq. (3). Cached: the chapter's heavy step."""
    factor = check_real("factor", factor, 0.0, lo_open=True)
    t = task(name, seed)
    ell = factor * t.lengthscale
    F = gp_posterior_samples(t.X_train, t.Y_train, t.X_test, ell, S=S, seed=seed)
    mses = test_mse(F, t.Y_test)
    mses.flags.writeable = False
    return Measurement(name, ell, mses, fit_ncx2(mses))


# --------------------------------------------------------------------------- interactive figure

_W_S = 1000                       # hypotheses per setting in the widget (the chapter uses 10,000)
_FACTORS = (0.25, 0.5, 1.0, 2.0, 4.0)
_EGRID = np.linspace(0.02, 2.5, 160)


@cached(maxsize=64)
def _widget(name: str, factor: float):
    m = measure(name, factor, S=_W_S, seed=0)
    df, nc, sc = m.params
    counts, edges = np.histogram(m.mses, bins=40, density=True)
    lo, hi = edges[0], edges[-1]
    pad = 0.3 * (hi - lo)
    xs = np.linspace(max(lo - pad, 1e-4), hi + pad, 120)
    pdf = stats.ncx2.pdf(xs, df, nc, 0, sc)
    with np.errstate(divide="ignore"):
        lc = stats.ncx2.logcdf(_EGRID, df, nc, 0, sc)
    for i in np.flatnonzero(~np.isfinite(lc)):
        lc[i] = sankaran_logcdf(float(_EGRID[i]), df, nc, sc)
    curve = np.maximum(-lc / _LN2, 0.0)
    emp = np.array([empirical_bits(m.mses, e, min_count=10) for e in _EGRID[::4]])
    return m, counts, edges, xs, pdf, curve, emp


@cached(maxsize=len(TASKS))
def _widget_task(name: str) -> None:
    """Fill the widget's cache for every length scale of task ``name`` at its first redraw
    (about half a second once per task), so moving the other sliders only plots."""
    for f in _FACTORS:
        _widget(name, f)


def draw(eps: float = 0.6, factor: float = 1.0, task: str = "d = 16") -> Figure:
    """The chapter's interactive figure (chapter ``inductive-bias-bits``, section Explore).

    Left: the test MSE of 1000 GP-posterior hypotheses (histogram) and the fitted scaled
    non-central chi-squared (line), with the target error ``eps``. Right: the required
    inductive bias ``I(eps')`` against ``eps'`` from the fit, the plain count where enough
    hypotheses reach ``eps'``, and the point at ``eps``.
    """
    eps = check_real("eps", eps, 0.0, lo_open=True)
    factor = check_choice("factor", factor, _FACTORS)
    name = check_choice("task", task, TASKS)
    _widget_task(name)
    m, counts, edges, xs, pdf, curve, emp = _widget(name, factor)
    bits = m.bits(eps)
    blue, orange, green = plotting.PALETTE[0], plotting.PALETTE[1], plotting.PALETTE[2]

    fig, (ax0, ax1) = plotting.figure(2, width=9.0, height=3.6, layout="fixed")
    ax0.stairs(counts, edges, fill=True, color=blue, alpha=0.35)
    ax0.plot(xs, pdf, color=blue, lw=1.5)
    ax0.axvline(eps, color=orange, lw=1.5)
    ax0.set_xlim(0, max(xs[-1], eps) * 1.05)
    plotting.key(ax0, [("1000 hypotheses", blue), ("fitted χ²", blue, "—"), ("target ε", orange, "|")])
    plotting.labels(ax0, "test MSE of a hypothesis", "density",
                    f"{name}, length scale {m.lengthscale:.2g}")

    ax1.plot(_EGRID, curve, color=blue)
    ax1.plot(_EGRID[::4], emp, "o", ms=3, color=green)
    ax1.plot([eps], [bits], "o", color=orange, ms=7)
    top = 40.0 if bits < 36 else 10.0 * math.ceil(min(bits, 1e4) * 1.15 / 10.0)
    ax1.set_ylim(-0.02 * top, top)
    ax1.set_xlim(0, 2.5)
    ax1.set_yticks(np.linspace(0, top, 5))
    plotting.key(ax1, [("ncx2 fit", blue, "—"), ("count of samples", green)], x=0.55)
    plotting.labels(ax1, "target test MSE ε", "inductive bias I(ε) (bits)",
                    f"I({eps:.2f}) = {bits:.1f} bits" if bits < 1e4 else f"I({eps:.2f}) > 10⁴ bits")
    return fig


#: Slider box of :func:`draw`; the first entry (eps) is the website scrubber's parameter.
SLIDERS = {
    "eps": FloatSlider(0.05, 2.0, default=0.6, step=0.05, label="target test MSE ε"),
    "factor": Choice(_FACTORS, default=1.0, label="length scale (× base)"),
    "task": Choice(TASKS, default="d = 16", label="task"),
}
