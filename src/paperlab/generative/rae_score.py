"""Regularized auto-encoders estimate the score (Alain and Bengio, JMLR 2014).

Explained in chapter ``rae-learns-score``.

Notation (as in the chapter). Data ``x ~ p`` on the real line. An auto-encoder is a
*reconstruction function* ``r(x)``. Here it is linear in its parameters,

    r(x) = x + Phi(x) w,                                           (chapter Eq. (3))

with a row ``Phi(x)`` of ``K`` Gaussian bumps ``phi_k(x) = exp(-(x - c_k)^2 / (2 h^2))``
(centres ``c_k``, width ``h``), so ``r(x) - x`` can be any smooth function the bumps span. Two
training criteria are fitted exactly, by one ``K x K`` linear solve each:

* the **contractive** criterion (Eq. (2) of the chapter; the reconstruction-contractive
  criterion of Section 3 of the paper, with penalty weight ``lambda = sigma^2``)
  ``E_p[(r(x) - x)^2 + sigma^2 r'(x)^2]`` (:func:`fit_cae_score`);
* the **denoising** criterion ``E_{x, e}[(r(x + sigma e) - x)^2]``, ``e ~ N(0, 1)``
  (:func:`fit_dae_score`).

The paper's Theorem 1 says the minimiser satisfies ``r(x) = x + sigma^2 d log p(x)/dx +
o(sigma^2)``; so ``(r(x) - x) / sigma^2`` (the score estimate, :class:`ScoreEstimate`) tends to
the score. :func:`approx_mh` samples with it by an approximate Metropolis-Hastings chain
(Section 4 of the paper). Expectations over ``p`` are either sample means or an exact
quadrature (:func:`quadrature`) on the chapter's 1-D mixture (:func:`density`).
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from ..cache import cached
from ..threads import one_thread
from .. import plotting
from .._validate import check_array, check_choice, check_int, check_real
from ..data import GaussianMixture
from ..widgets import Choice, IntSlider, LogSlider

__all__ = ["density", "true_score", "centers_grid", "rbf_basis", "ScoreEstimate", "cae_moments", "fit_cae_score",
           "fit_dae_score", "quadrature", "score_error", "loglog_slope", "approx_mh", "tv_to_density",
           "SIGMAS", "DATA", "SAMPLE_RIDGE", "fit", "Experiment", "experiment", "draw", "SLIDERS",
           "WIDTH", "N_BASIS", "DOMAIN"]

#: Width ``h`` of every Gaussian bump of the basis.
WIDTH = 0.35
#: Default number of bumps ``K`` (centres evenly spaced on :data:`DOMAIN`).
N_BASIS = 60
#: Interval that holds the centres.
DOMAIN = (-5.0, 5.0)


# --------------------------------------------------------------------------- the data law

@cached(maxsize=1)
def density() -> GaussianMixture:
    """The chapter's 1-D data law: ``0.4 N(-2, 0.6^2) + 0.6 N(1.5, 0.8^2)``."""
    return GaussianMixture([0.4, 0.6], [[-2.0], [1.5]], [[[0.36]], [[0.64]]])


def _points(name: str, x) -> np.ndarray:
    x = check_array(name, x)
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of points, got shape {x.shape}")
    return x


def true_score(x, sigma: float = 0.0) -> np.ndarray:
    """Exact ``d/dx log p_sigma(x)`` of :func:`density` convolved with ``N(0, sigma^2)``.

    ``sigma = 0`` gives the score of ``p`` itself; ``sigma > 0`` the score of the law of
    ``x + sigma e``, which the denoising criterion recovers exactly (Tweedie's formula).
    """
    x = _points("x", x)
    sigma = check_real("sigma", sigma, 0.0)
    g = density() if sigma == 0 else density().diffuse(1.0, sigma)
    return g.score(x[:, None])[:, 0]


def _score_1d(x: np.ndarray) -> np.ndarray:
    """Unchecked exact score of :func:`density` for a 1-D array (the hot loop of the exact chain)."""
    g = density()
    m, v = g.means[:, 0], g.covs[:, 0, 0]
    d = x[:, None] - m[None, :]
    logc = np.log(g.weights) - 0.5 * np.log(v) - 0.5 * d * d / v
    r = np.exp(logc - logc.max(axis=1, keepdims=True))
    return -(r * d / v).sum(axis=1) / r.sum(axis=1)


def centers_grid(n_basis: int = N_BASIS) -> np.ndarray:
    """``n_basis`` evenly spaced centres on :data:`DOMAIN`."""
    n_basis = check_int("n_basis", n_basis, 1)
    return np.linspace(*DOMAIN, n_basis)


# --------------------------------------------------------------------------- the basis

def _basis_args(centers, width) -> tuple[np.ndarray, float]:
    c = check_array("centers", centers)
    if c.ndim != 1 or c.size == 0:
        raise ValueError(f"centers must be a non-empty 1-D array of bump centres, got shape {c.shape}")
    return c, check_real("width", width, 0.0, lo_open=True)


def rbf_basis(x, centers, width: float) -> tuple[np.ndarray, np.ndarray]:
    """``(Phi, dPhi)``: the bumps ``phi_k(x_i) = exp(-(x_i - c_k)^2 / (2 width^2))`` and their
    derivatives ``phi_k'(x_i) = -(x_i - c_k) / width^2 * phi_k(x_i)``, each of shape ``(n, K)``.

    The basis of the auto-encoder ``r(x) = x + Phi(x) w`` (Eq. (3) of chapter ``rae-learns-score``).
    """
    x = _points("x", x)
    c, h = _basis_args(centers, width)
    d = x[:, None] - c[None, :]
    q = 0.5 * (d / h) ** 2
    # bumps below e^-60 are set to 0: exact to 1e-26, and it keeps denormal numbers (which make
    # matrix products a hundred times slower) out of the Gram matrices
    phi = np.where(q < 60.0, np.exp(-np.minimum(q, 60.0)), 0.0)
    return phi, -(d / (h * h)) * phi


@dataclass(frozen=True)
class ScoreEstimate:
    """A fitted auto-encoder ``r(x) = x + Phi(x) w`` and its score estimate.

    Calling it returns ``s_hat(x) = (r(x) - x) / sigma^2 = Phi(x) w / sigma^2`` (Eq. (4) of
    chapter ``rae-learns-score``); :meth:`reconstruct` returns ``r(x)``.
    """

    w: np.ndarray
    sigma: float
    centers: np.ndarray
    width: float
    method: str

    def reconstruct(self, x) -> np.ndarray:
        """``r(x) = x + Phi(x) w``."""
        x = _points("x", x)
        return x + rbf_basis(x, self.centers, self.width)[0] @ self.w

    def __call__(self, x) -> np.ndarray:
        x = _points("x", x)
        return rbf_basis(x, self.centers, self.width)[0] @ self.w / (self.sigma * self.sigma)


def _weights(x: np.ndarray, weights) -> np.ndarray:
    if weights is None:
        return np.full(x.size, 1.0 / x.size)
    wt = check_array("weights", weights, ndim=1)
    if wt.shape != x.shape:
        raise ValueError(f"weights must have one entry per point, {x.size}; got {wt.size}")
    if np.any(wt < 0) or wt.sum() <= 0:
        raise ValueError("weights must be non-negative and not all zero")
    return wt / wt.sum()


def _solve(A: np.ndarray, b: np.ndarray, ridge: float) -> np.ndarray:
    """Solve ``(A + ridge * mean(diag A) I) w = b`` (a relative ridge keeps the RBF Gram matrix,
    whose condition number is huge, solvable without changing the fit)."""
    K = A.shape[0]
    lam = ridge * float(np.trace(A)) / K
    return np.linalg.solve(A + lam * np.eye(K), b)


def _warn_small(n: int, K: int, what: str) -> None:
    if n < K:
        warnings.warn(f"{what}: {n} points for {K} basis functions; the fit is underdetermined and "
                      f"only the ridge keeps it unique", stacklevel=3)


def cae_moments(data_or_grid, centers, width: float, weights=None) -> tuple[np.ndarray, ...]:
    """The three expectations of the contractive criterion, ``(G, G', g)`` with
    ``G = E[Phi^T Phi]``, ``G' = E[Phi'^T Phi']`` and ``g = E[Phi'^T]`` (Eq. (5) of chapter
    ``rae-learns-score``). They do not depend on ``sigma``: one set serves every noise level.
    """
    x = _points("data_or_grid", data_or_grid)
    c, h = _basis_args(centers, width)
    wt = _weights(x, weights)
    if weights is None:
        _warn_small(x.size, c.size, "fit_cae_score")
    phi, dphi = rbf_basis(x, c, h)
    return phi.T @ (wt[:, None] * phi), dphi.T @ (wt[:, None] * dphi), dphi.T @ wt


def fit_cae_score(data_or_grid, sigma: float, centers, width: float, weights=None,
                  ridge: float = 1e-9, *, moments: tuple | None = None) -> ScoreEstimate:
    """Minimise the contractive criterion (Eq. (2) of chapter ``rae-learns-score``) exactly.

    ``J(w) = E[(Phi w)^2] + sigma^2 E[(1 + Phi' w)^2] = w^T G w + sigma^2 (1 + 2 w^T g + w^T G' w)``
    with ``G = E[Phi^T Phi]``, ``G' = E[Phi'^T Phi']`` and ``g = E[Phi'^T]``, so

        w* = -sigma^2 (G + sigma^2 G')^{-1} g                                  (Eq. (5))

    and ``s_hat = Phi w* / sigma^2``. This is the paper's reconstruction-contractive criterion
    (Section 3, penalty ``lambda = sigma^2``) for the model ``r(x) = x + Phi(x) w``.
    Expectations are sample means over ``data_or_grid`` or, with ``weights`` (e.g.
    ``p(x_i) dx`` from :func:`quadrature`), weighted sums over a grid; ``moments`` may pass
    them precomputed by :func:`cae_moments` for the same data. ``ridge`` is relative to the
    mean diagonal of ``G + sigma^2 G'``.
    """
    sigma = check_real("sigma", sigma, 0.0, lo_open=True)
    c, h = _basis_args(centers, width)
    ridge = check_real("ridge", ridge, 0.0)
    G, Gp, g = cae_moments(data_or_grid, c, h, weights) if moments is None else moments
    if G.shape != (c.size, c.size):
        raise ValueError(f"moments must be for {c.size} basis functions, got G of shape {G.shape}")
    w = _solve(G + sigma * sigma * Gp, -sigma * sigma * g, ridge)
    return ScoreEstimate(w=w, sigma=sigma, centers=c, width=h, method="contractive")


def fit_dae_score(x, sigma: float, centers, width: float, n_noise: int = 10, seed: int = 0,
                  weights=None, ridge: float = 1e-9) -> ScoreEstimate:
    """Minimise the denoising criterion ``E_{x, e}[(r(x + sigma e) - x)^2]`` exactly (Eq. (6) of
    chapter ``rae-learns-score``).

    With ``r(z) = z + Phi(z) w`` this is least squares of the shift ``x - x_tilde`` on
    ``Phi(x_tilde)``, ``x_tilde = x + sigma e``. Its minimiser over all functions is
    ``r(z) = E[x | x_tilde = z] = z + sigma^2 d/dz log p_sigma(z)`` (Tweedie's formula), so
    ``s_hat = (r - x)/sigma^2`` estimates the score of ``p`` smoothed by ``N(0, sigma^2)``, which
    is the score of ``p`` up to ``O(sigma^2)``.

    Without ``weights``, ``x`` are samples and each gets ``n_noise`` seeded Gaussian
    corruptions. With ``weights`` (``p(x_i) dx`` of a grid), the expectation over ``e`` is an
    ``n_noise``-node Gauss-Hermite rule instead, so the whole criterion is a quadrature.
    """
    x = _points("x", x)
    sigma = check_real("sigma", sigma, 0.0, lo_open=True)
    c, h = _basis_args(centers, width)
    n_noise = check_int("n_noise", n_noise, 1)
    seed = check_int("seed", seed, 0)
    ridge = check_real("ridge", ridge, 0.0)
    wt = _weights(x, weights)
    if weights is None:
        _warn_small(x.size * n_noise, c.size, "fit_dae_score")
        e = np.random.default_rng([seed, 74]).standard_normal((x.size, n_noise))
        we = np.full(n_noise, 1.0 / n_noise)
    else:
        nodes, hw = np.polynomial.hermite_e.hermegauss(n_noise)
        e = np.broadcast_to(nodes, (x.size, n_noise))
        we = hw / hw.sum()
    xt = (x[:, None] + sigma * e).ravel()
    ww = (wt[:, None] * we[None, :]).ravel()
    phi = rbf_basis(xt, c, h)[0]
    G = phi.T @ (ww[:, None] * phi)
    b = phi.T @ (ww * (-sigma * e.ravel()))               # target x - x_tilde = -sigma e
    w = _solve(G, b, ridge)
    return ScoreEstimate(w=w, sigma=sigma, centers=c, width=h, method="denoising")


# --------------------------------------------------------------------------- measuring

@cached(maxsize=4)
def quadrature(n: int = 1201, lo: float = -6.0, hi: float = 6.0) -> tuple[np.ndarray, np.ndarray]:
    """A grid on ``[lo, hi]`` and its weights ``p(x_i) dx`` (normalised) for :func:`density`.

    Sums against these weights are expectations over ``p`` to many digits (the density is
    smooth and its mass outside ``[-6, 6]`` is below ``1e-7``). Read-only arrays.
    """
    n = check_int("n", n, 3)
    x = np.linspace(check_real("lo", lo), check_real("hi", hi, lo, lo_open=True), n)
    w = np.exp(density().log_prob(x[:, None]))
    w /= w.sum()
    x.flags.writeable = False
    w.flags.writeable = False
    return x, w


def score_error(score_fn: Callable[[np.ndarray], np.ndarray], sigma_ref: float = 0.0) -> float:
    """The ``p``-weighted root-mean-square error ``(E_p[(s_hat(x) - s(x))^2])^{1/2}``.

    ``s`` is the score of :func:`density` (``sigma_ref = 0``) or of its smoothed version
    (``sigma_ref > 0``). Computed with :func:`quadrature`.
    """
    x, w = quadrature()
    d = np.asarray(score_fn(x), dtype=float) - true_score(x, sigma_ref)
    return float(np.sqrt(np.sum(w * d * d)))


def loglog_slope(sigmas, errors) -> float:
    """Least-squares slope of ``log(error)`` against ``log(sigma)``: 2 for an ``O(sigma^2)`` error."""
    s = check_array("sigmas", sigmas, ndim=1)
    e = check_array("errors", errors, ndim=1, shape=(s.size,))
    if s.size < 2 or np.any(s <= 0) or np.any(e <= 0):
        raise ValueError("loglog_slope needs at least 2 positive sigmas and errors")
    return float(np.polyfit(np.log(s), np.log(e), 1)[0])


def approx_mh(score_fn: Callable[[np.ndarray], np.ndarray], x0: float, n_steps: int = 5000,
              step: float = 1.5, seed: int = 0, n_quad: int = 8) -> np.ndarray:
    """Random-walk Metropolis with an *estimated* log-density ratio (Section 4 of the paper).

    Propose ``x' = x + step * N(0, 1)`` and accept with probability ``min(1, exp(D))``, where
    ``D = int_x^{x'} s_hat(u) du`` (Eq. (7) of chapter ``rae-learns-score``) stands in for
    ``log p(x') - log p(x)``, by the trapezoid rule with ``n_quad`` intervals. Only the score is
    needed, never ``p``. Returns the ``n_steps + 1`` states, ``x0`` first. Pass the exact score
    to get an (almost) exact chain with the same random numbers.
    """
    x0 = check_real("x0", x0)
    n_steps = check_int("n_steps", n_steps, 1)
    step = check_real("step", step, 0.0, lo_open=True)
    seed = check_int("seed", seed, 0)
    n_quad = check_int("n_quad", n_quad, 1)
    g = np.random.default_rng([seed, 7474])
    prop, logu = step * g.standard_normal(n_steps), np.log(g.random(n_steps))
    u = np.linspace(0.0, 1.0, n_quad + 1)
    tw = np.full(n_quad + 1, 1.0 / n_quad)
    tw[[0, -1]] *= 0.5
    out = np.empty(n_steps + 1)
    out[0] = x = x0
    for i in range(n_steps):
        xp = x + prop[i]
        s = np.asarray(score_fn(x + u * prop[i]), dtype=float)
        if s.shape != u.shape or not np.all(np.isfinite(s)):
            raise ValueError("score_fn must return one finite value per point")
        if logu[i] < prop[i] * float(tw @ s):
            x = xp
        out[i + 1] = x
    return out


def tv_to_density(samples, bins: int = 40) -> float:
    """Total-variation distance between the histogram of ``samples`` on ``bins`` equal bins of
    :data:`DOMAIN` (plus one bin for everything outside) and the bin masses of :func:`density`."""
    x = _points("samples", samples)
    bins = check_int("bins", bins, 1)
    edges = np.linspace(*DOMAIN, bins + 1)
    g = density()
    cdf = sum(wk * 0.5 * (1 + np.vectorize(math.erf)((edges - m[0]) / (math.sqrt(2 * S[0, 0]))))
              for wk, m, S in zip(g.weights, g.means, g.covs))
    p = np.diff(cdf)
    q = np.histogram(x, edges)[0] / x.size
    return float(0.5 * (np.abs(q - p).sum() + abs((1 - q.sum()) - (1 - p.sum()))))


# --------------------------------------------------------------------------- the experiment

#: Noise levels of the chapter's error-versus-sigma curves (the claim is checked on [0.05, 0.4]).
SIGMAS = tuple(float(f"{v:.4g}") for v in np.geomspace(0.05, 0.4, 7))
#: The three ways of taking the expectations over ``p``.
DATA = ("quadrature", "n=2000", "n=200")
#: Ridge of the sample-based fits (relative to the mean diagonal; quadrature fits use 1e-9).
SAMPLE_RIDGE = 1e-3
#: Corrupted copies in a sample-based denoising fit: ``n * n_noise = 4000`` points in all.
DAE_POINTS = 4000


@cached(maxsize=8)
def _dataset(data: str, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    check_choice("data", data, DATA)
    if data == "quadrature":
        return quadrature()
    return density().sample(int(data.split("=")[1]), seed=seed)[:, 0], None


@cached(maxsize=128)
def _moments(data: str, n_basis: int, seed: int) -> tuple[np.ndarray, ...]:
    x, w = _dataset(data, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cae_moments(x, centers_grid(n_basis), WIDTH, w)


def fit(method: str, data: str, sigma: float, n_basis: int = N_BASIS, seed: int = 0) -> ScoreEstimate:
    """The chapter's fits: ``method`` "contractive" or "denoising", expectations by ``data``.

    "quadrature": the exact expectations over :func:`density` (grid of :func:`quadrature`; for
    the denoising criterion every 6th grid point and a 10-node Gauss-Hermite rule over the
    noise, as accurate to 7 digits), ridge ``1e-9``. "n=2000"/"n=200": sample means over ``n`` seeded draws (the
    denoising fit corrupts each ``4000 / n`` times), ridge :data:`SAMPLE_RIDGE`.
    """
    check_choice("method", method, ("contractive", "denoising"))
    check_choice("data", data, DATA)
    n_basis = check_int("n_basis", n_basis, 2, 500)
    seed = check_int("seed", seed, 0)
    c = centers_grid(n_basis)
    x, w = _dataset(data, seed)
    ridge = 1e-9 if data == "quadrature" else SAMPLE_RIDGE
    if method == "contractive":
        return fit_cae_score(x, sigma, c, WIDTH, ridge=ridge, moments=_moments(data, n_basis, seed))
    if data == "quadrature":
        return fit_dae_score(x[::6], sigma, c, WIDTH, n_noise=10, weights=w[::6])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_dae_score(x, sigma, c, WIDTH, n_noise=DAE_POINTS // x.size, seed=seed, ridge=ridge)


@dataclass(frozen=True)
class Experiment:
    """Results of :func:`experiment`.

    ``errors[(method, data)]``: ``p``-weighted RMS score error at each of ``sigmas`` for
    ``method`` in {"contractive", "denoising"} and ``data`` in {"quadrature", "n=2000"};
    ``slopes`` the log-log slopes of those curves. ``chain``/``chain_exact``: the approximate
    MH chain (score of the quadrature contractive fit at ``mh_sigma``) and the chain with the
    exact score, same random numbers; ``tv``/``tv_exact`` their distances to ``p`` on 40 bins.
    """

    sigmas: tuple[float, ...]
    errors: dict[tuple[str, str], np.ndarray]
    slopes: dict[tuple[str, str], float]
    mh_sigma: float
    mh_step: float
    chain: np.ndarray
    chain_exact: np.ndarray
    tv: float
    tv_exact: float


@cached(maxsize=4)
def experiment(seed: int = 0, n_basis: int = N_BASIS, mh_sigma: float = 0.1, mh_steps: int = 5000,
               mh_step: float = 1.5) -> Experiment:
    """The chapter's measurements (cached): score errors against ``sigma`` for both criteria,
    by quadrature and from ``n = 2000`` samples, and the approximate MH chain from ``x0 = 0``."""
    seed = check_int("seed", seed, 0)
    errors, slopes = {}, {}
    with one_thread():
        for method in ("contractive", "denoising"):
            for data in ("quadrature", "n=2000"):
                e = np.array([score_error(fit(method, data, s, n_basis, seed)) for s in SIGMAS])
                errors[method, data], slopes[method, data] = e, loglog_slope(SIGMAS, e)
        est = fit("contractive", "quadrature", mh_sigma, n_basis, seed)
        chain = approx_mh(est, 0.0, mh_steps, mh_step, seed)
        exact = approx_mh(_score_1d, 0.0, mh_steps, mh_step, seed)
    return Experiment(sigmas=SIGMAS, errors=errors, slopes=slopes, mh_sigma=mh_sigma,
                      mh_step=mh_step, chain=chain, chain_exact=exact, tv=tv_to_density(chain),
                      tv_exact=tv_to_density(exact))


# --------------------------------------------------------------------------- interactive figure

_XS = np.linspace(-5.0, 5.0, 161)
_GRID = tuple(float(f"{v:.3g}") for v in np.geomspace(0.02, 0.5, 7))


@cached(maxsize=1)
def _truth() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, w = quadrature()
    return true_score(_XS), np.exp(density().log_prob(_XS[:, None])), true_score(x)


@cached(maxsize=2048)
def _widget_fits(sigma: float, n_basis: int, data: str) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Both estimates on the plotting grid and their errors, at one ``sigma``."""
    out = []
    for method in ("contractive", "denoising"):
        est = fit(method, data, sigma, n_basis, 0)
        out.append(est(_XS))
        out.append(score_error(est))
    return out[0], out[2], out[1], out[3]


def draw(sigma: float = 0.1, n_basis: int = N_BASIS, data: str = "quadrature") -> Figure:
    """The chapter's interactive figure (chapter ``rae-learns-score``, section Explore).

    Left: the true score of the mixture and the estimates ``(r(x) - x)/sigma^2`` of the
    contractive and denoising auto-encoders with ``n_basis`` bumps, with expectations by
    quadrature or from 2000 or 200 samples. Right: their ``p``-weighted RMS errors against
    ``sigma`` (7 noise levels, cached), the current ``sigma`` marked.
    """
    sigma = float(f"{check_real('sigma', sigma, 0.01, 1.0):.3g}")
    n_basis = check_int("n_basis", n_basis, 2, 200)
    check_choice("data", data, DATA)
    with one_thread():
        cae, dae, e_c, e_d = _widget_fits(sigma, n_basis, data)
        curves = np.array([_widget_fits(s, n_basis, data)[2:] for s in _GRID])
    s_true, p, _ = _truth()
    blue, orange = plotting.PALETTE[0], plotting.PALETTE[1]

    fig, (ax0, ax1) = plotting.figure(2, width=9.0, height=3.6, layout="fixed")
    ax0.fill_between(_XS, -8, -8 + 12 * p, color="#e4e4e4", lw=0)
    ax0.plot(_XS, s_true, color="black", lw=1.2)
    ax0.plot(_XS, np.clip(cae, -20, 20), color=blue, lw=1.5)
    ax0.plot(_XS, np.clip(dae, -20, 20), color=orange, lw=1.5, ls="--")
    ax0.set_xlim(-5, 5)
    ax0.set_ylim(-8, 8)
    ax0.set_yticks((-8, -4, 0, 4, 8))
    plotting.key(ax0, [("true score", "black"), ("contractive", blue), ("denoising", orange),
                       ("p(x), not to scale", "#999999")], x=0.62)
    plotting.labels(ax0, "x", "score d log p(x)/dx", f"σ = {sigma:.3g}, K = {n_basis}, {data}")

    ax1.plot(_GRID, curves[:, 0], "o-", color=blue, ms=3)
    ax1.plot(_GRID, curves[:, 1], "s--", color=orange, ms=3)
    ax1.plot(_GRID, 2.0 * (np.asarray(_GRID) / 0.5) ** 2, ":", color="grey", lw=1)
    ax1.plot([sigma, sigma], [e_c, e_d], "o", color="black", ms=4)
    ax1.set(xscale="log", yscale="log", xlim=(0.018, 0.55), ylim=(1e-3, 30))
    ax1.set_xticks((0.02, 0.05, 0.1, 0.2, 0.5), ("0.02", "0.05", "0.1", "0.2", "0.5"))
    # plain tick labels: matplotlib's default 10^k labels go through its slow math-text parser
    ax1.set_yticks((1e-3, 1e-2, 1e-1, 1, 10), ("0.001", "0.01", "0.1", "1", "10"))
    ax1.minorticks_off()
    plotting.key(ax1, [(f"contractive ({e_c:.3f} at this σ)", blue),
                       (f"denoising ({e_d:.3f})", orange), ("slope 2", "grey")], x=0.35, y=0.2)
    plotting.labels(ax1, "noise level σ", "RMS score error under p", "error of (r(x) − x)/σ²")
    return fig


#: Slider box of :func:`draw`; the first entry (sigma) is the website scrubber's parameter.
SLIDERS = {
    "sigma": LogSlider(0.02, 0.5, default=0.1, label="noise level σ"),
    "n_basis": IntSlider(10, 100, default=N_BASIS, step=5, label="basis size K"),
    "data": Choice(DATA, default="quadrature", label="expectations"),
}
