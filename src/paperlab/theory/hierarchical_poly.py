"""Learning a hierarchical polynomial g(p(x)) with a three-layer network trained layer-wise.

Explained in chapter ``hierarchical-polynomials-3layer``. The paper is Wang, Nichani and Lee,
"Learning Hierarchical Polynomials with Three-Layer Neural Networks" (ICLR 2024).

Notation (as in the chapter). Inputs are ``x ~ N(0, I_d)``. The target is ``h(x) = g(p(x))``
with a degree-2 *feature* ``p`` and a univariate *link* ``g`` of degree ``q = 3``
(:func:`make_target`):

    p(x) = (x^T A x - tr A) / sqrt(2 d),   A = diag(s),  s_i = +-1 (half of each),
    g(z) = z^3 + z.

The network is ``f(x) = sum_i a_i relu(c_i phi(x) + b_i)`` with ``phi(x) = w . psi(x)``. The
paper's inner layer is a wide random layer ``sigma_2(V x)``; this module uses the limit that its
analysis relies on, the degree-``k`` Hermite feature map ``psi`` (:func:`hermite_features`).
Training is layer-wise (:func:`three_layer_layerwise`):

1. one gradient step on ``w`` from ``w = 0`` on the square loss, using the first half of the
   data, gives ``w = (1/n_1) sum_j (y_j - ybar) psi(x_j)``: the empirical degree-``k`` projection
   of ``h``, which for this target is proportional to ``p`` (Section 4 of the paper);
2. with ``phi`` fixed and standardised, random biases ``b_i ~ U[-3, 3]`` and signs ``c_i``, ridge
   regression on the second half fits the outer weights ``a``: a one-dimensional problem, ``g``.

The baseline is kernel ridge regression with a Gaussian kernel (:func:`kernel_ridge_baseline`).
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from scipy import linalg

from ..cache import cached
from .. import plotting
from .._validate import check_array, check_choice, check_int, check_real
from ..threads import one_thread
from ..widgets import Choice, IntSlider, LogSlider
from .common import kernel_ridge, rbf_kernel, ridge, slope_interval

__all__ = ["LINKS", "Target", "make_target", "hermite_features", "degree2_projection",
           "ThreeLayer", "three_layer_layerwise", "kernel_ridge_baseline", "normalized_mse",
           "feature_recovery_curve", "n_for_correlation", "Experiment", "experiment", "draw",
           "SLIDERS"]

#: Odd links ``g`` (an even one would make ``E[g(p) p] = 0``, see :func:`make_target`).
LINKS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "z3+z": lambda z: z ** 3 + z,
    "z3": lambda z: z ** 3,
    "z": lambda z: z,
}
_EVEN_LINKS = ("z2", "z4")


def _check_d(d) -> int:
    return check_int("d", d, 2, 200)


def _check_X(X, d: int | None = None) -> np.ndarray:
    X = check_array("X", X, ndim=2)
    if d is not None and X.shape[1] != d:
        raise ValueError(f"X must have d = {d} columns, got {X.shape[1]}")
    if X.shape[1] < 2:
        raise ValueError(f"X must have at least d = 2 columns, got {X.shape[1]}")
    return X


@dataclass(frozen=True)
class Target:
    """The hierarchical target ``h = g(p)`` of the chapter (see the module docstring)."""

    d: int
    signs: np.ndarray
    g: str

    def p(self, X) -> np.ndarray:
        """The feature ``p(x) = (x^T A x - tr A) / sqrt(2 d)``, mean 0 and variance 1."""
        X = _check_X(X, self.d)
        return ((X * X - 1.0) @ self.signs) / math.sqrt(2 * self.d)

    def h(self, X) -> np.ndarray:
        """The target ``h(x) = g(p(x))``."""
        return LINKS[self.g](self.p(X))

    @property
    def w_p(self) -> np.ndarray:
        """``p`` in the degree-2 Hermite basis of :func:`hermite_features`: ``p = w_p . psi``."""
        D = self.d * (self.d + 1) // 2
        w = np.zeros(D)
        w[: self.d] = self.signs / math.sqrt(self.d)
        return w


def make_target(d: int, g: str = "z3+z", seed: int = 0) -> Target:
    """The chapter's target: ``p(x) = (x^T A x - tr A)/sqrt(2d)`` with ``A = diag(+-1)``, ``h = g(p)``.

    Half of the signs are +1 and half -1 (one more -1 for odd ``d``), in a random order drawn at
    ``seed``. So ``A^2 = I`` and ``A`` is traceless for even ``d``: the benign case in which the
    degree-2 projection of ``h`` is exactly proportional to ``p``. ``g`` is one of :data:`LINKS`;
    an even link (``"z2"``, ``"z4"``) raises, because then ``E[g(p) p] = 0`` and the first
    training stage recovers nothing.
    """
    d = _check_d(d)
    if g in _EVEN_LINKS:
        raise ValueError(f"g = {g!r} is even, so E[g(p) p] = 0: the degree-2 projection of g(p) "
                         f"vanishes and the feature step recovers nothing; use one of {list(LINKS)}")
    check_choice("g", g, LINKS)
    s = np.where(np.arange(d) < d // 2, 1.0, -1.0)
    s = np.random.default_rng(check_int("seed", seed, 0)).permutation(s)
    return Target(d, s, g)


def hermite_features(X, k: int = 2) -> np.ndarray:
    """The orthonormal degree-``k`` Hermite features ``psi(x)`` of ``x ~ N(0, I_d)``.

    ``k = 1``: ``x_i``. ``k = 2``: ``(x_i^2 - 1)/sqrt(2)`` for every ``i``, then ``x_i x_j`` for
    ``i < j`` (``d(d+1)/2`` features). ``k = 3``: ``(x_i^3 - 3 x_i)/sqrt(6)``, then
    ``(x_i^2 - 1) x_j / sqrt(2)`` for ``i != j``, then ``x_i x_j x_l`` for ``i < j < l``. Each
    feature has mean 0 and variance 1 and distinct features are uncorrelated, so
    ``E[psi psi^T] = I``: the infinite-width limit of the random inner layer (Section 3 of the
    paper) projected on degree ``k``.
    """
    X = _check_X(X)
    k = check_int("k", k, 1, 3)
    n, d = X.shape
    if k == 1:
        return X.copy()
    if k == 2:
        iu, ju = np.triu_indices(d, 1)
        return np.hstack([(X * X - 1.0) / math.sqrt(2.0), X[:, iu] * X[:, ju]])
    He2 = (X * X - 1.0) / math.sqrt(2.0)
    cols = [(X ** 3 - 3 * X) / math.sqrt(6.0)]
    pairs = [(i, j) for i in range(d) for j in range(d) if i != j]
    cols.append(np.stack([He2[:, i] * X[:, j] for i, j in pairs], axis=1))
    trip = list(itertools.combinations(range(d), 3))
    cols.append(np.stack([X[:, i] * X[:, j] * X[:, l] for i, j, l in trip], axis=1))
    return np.hstack(cols)


def degree2_projection(X, y) -> np.ndarray:
    """Stage 1: one gradient step from ``w = 0``, ``w = (1/n) sum_j (y_j - ybar) psi(x_j)``.

    At ``w = 0`` the network's output is constant, so the gradient of the square loss in ``w`` is
    ``-(1/n) sum_j (y_j - ybar) psi(x_j)`` up to the (fixed) outer factor: one step of size 1 is
    this empirical projection of ``h`` on the degree-2 Hermite features (Eq. (4) of the paper's
    layer-wise algorithm, with the inner layer replaced by ``psi``). Computed without forming
    ``psi``: the cross terms are the off-diagonal entries of ``X^T diag(y - ybar) X / n``.
    """
    X = _check_X(X)
    y = check_array("y", y, shape=(X.shape[0],))
    n, d = X.shape
    yc = y - y.mean()
    M = (X * yc[:, None]).T @ X / n
    iu, ju = np.triu_indices(d, 1)
    return np.concatenate([(np.diag(M) - yc.mean()) / math.sqrt(2.0), M[iu, ju]])


@dataclass(frozen=True)
class ThreeLayer:
    """A trained three-layer network ``f(x) = a_0 + sum_i a_i relu(c_i phi_std(x) + b_i)``."""

    w: np.ndarray            # inner feature weights, phi(x) = w . psi(x)
    k: int
    shift: float             # phi_std = (phi - shift) / scale
    scale: float
    c: np.ndarray
    b: np.ndarray
    a: np.ndarray            # a[0] is the intercept

    def phi(self, X) -> np.ndarray:
        """The learned feature, standardised on the stage-2 data."""
        return (hermite_features(X, self.k) @ self.w - self.shift) / self.scale

    def outer(self, z) -> np.ndarray:
        """The learned univariate function ``z -> a_0 + sum_i a_i relu(c_i z + b_i)``."""
        z = np.asarray(z, dtype=float)
        return self.a[0] + np.maximum(self.c * z[..., None] + self.b, 0.0) @ self.a[1:]

    def predict(self, X) -> np.ndarray:
        return self.outer(self.phi(X))


def _outer_features(z: np.ndarray, c: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.hstack([np.ones((z.size, 1)), np.maximum(c * z[:, None] + b, 0.0)])


def _draw_outer(m1: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng((check_int("seed", seed, 0), 1))
    return rng.choice(np.array([-1.0, 1.0]), size=m1), rng.uniform(-3.0, 3.0, size=m1)


def _gram_1d(z: np.ndarray, y: np.ndarray, c: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``F^T F`` and ``F^T y`` for ``F = [1, relu(c_i z + b_i)]`` without forming ``F``.

    Unit ``i`` is active on one side of its knot (``z > -b_i`` if ``c_i = 1``, ``z < b_i`` if
    ``c_i = -1``); two units are both active on an interval of the sorted ``z``, where their
    product is a quadratic in ``z``. Prefix sums of ``1, z, z^2, y, z y`` give every entry in
    ``O(n log n + m^2)`` instead of ``O(n m^2)``: what keeps the slider fast.
    """
    o = np.argsort(z)
    zs, ys = z[o], y[o]
    cs = lambda v: np.concatenate([[0.0], np.cumsum(v)])  # noqa: E731
    S0, S1, S2 = cs(np.ones_like(zs)), cs(zs), cs(zs * zs)
    T0, T1 = cs(ys), cs(zs * ys)
    n = zs.size
    L = np.where(c > 0, np.searchsorted(zs, -b, side="right"), 0)
    R = np.where(c > 0, n, np.searchsorted(zs, b, side="left"))
    lo = np.maximum(L[:, None], L[None, :])
    hi = np.maximum(np.minimum(R[:, None], R[None, :]), lo)
    d0, d1, d2 = S0[hi] - S0[lo], S1[hi] - S1[lo], S2[hi] - S2[lo]
    G = np.empty((c.size + 1, c.size + 1))
    G[1:, 1:] = np.outer(c, c) * d2 + (np.outer(c, b) + np.outer(b, c)) * d1 + np.outer(b, b) * d0
    G[0, 0] = n
    G[0, 1:] = G[1:, 0] = c * (S1[R] - S1[L]) + b * (S0[R] - S0[L])
    Fy = np.concatenate([[T0[-1]], c * (T1[R] - T1[L]) + b * (T0[R] - T0[L])])
    return G, Fy


def _stage2(w: np.ndarray, k: int, X2: np.ndarray, y2: np.ndarray, m1: int, seed: int,
            phi2: np.ndarray | None = None) -> ThreeLayer:
    """Stage 2: ridge regression (``lambda = 1e-4 n_2``) of ``y2`` on ``[1, relu(c_i phi + b_i)]``."""
    phi = hermite_features(X2, k) @ w if phi2 is None else phi2
    shift, scale = float(phi.mean()), float(phi.std()) or 1.0
    c, b = _draw_outer(m1, seed)
    G, Fy = _gram_1d((phi - shift) / scale, y2, c, b)
    a = linalg.solve(G + 1e-4 * len(y2) * np.eye(m1 + 1), Fy, assume_a="pos")
    return ThreeLayer(w, k, shift, scale, c, b, a)


def three_layer_layerwise(X, y, m1: int = 100, seed: int = 0, *, k: int = 2) -> ThreeLayer:
    """Train the three-layer network layer-wise (the paper's Algorithm 1, idealised inner layer).

    Stage 1 on the first half of the data: ``w`` = the empirical degree-``k`` projection of
    ``y`` (one gradient step from zero; :func:`degree2_projection` for ``k = 2``). Stage 2 on the
    second half: ``phi = w . psi`` is standardised, ``m1`` ReLU units
    ``relu(c_i phi + b_i)`` get signs ``c_i = +-1`` and biases ``b_i ~ U[-3, 3]`` at ``seed``,
    and ridge regression (``lambda = 1e-4 n_2``) fits the outer weights. Returns the predictor.
    """
    X = _check_X(X)
    n = check_int("n", X.shape[0], 10)
    y = check_array("y", y, shape=(n,))
    m1 = check_int("m1", m1, 1, 2000)
    k = check_int("k", k, 1, 3)
    h1 = n // 2
    if k == 2:
        w = degree2_projection(X[:h1], y[:h1])
    else:
        P = hermite_features(X[:h1], k)
        w = P.T @ (y[:h1] - y[:h1].mean()) / h1
    return _stage2(w, k, X[h1:], y[h1:], m1, seed)


def kernel_ridge_baseline(X, y, Xt, ridges: Sequence[float] = (1e-2, 1e-1, 1.0),
                          val_fraction: float = 0.2) -> np.ndarray:
    """Gaussian-kernel ridge regression (length scale ``sqrt(d)``) predictions at ``Xt``.

    The ridge is chosen from ``ridges`` on a validation split: the model is fitted on the first
    ``1 - val_fraction`` of the data with every ridge, and the one with the smallest validation
    error predicts. (No refit on all the data: that would cost another factorisation.)
    """
    X = _check_X(X)
    n, d = X.shape
    check_int("n", n, 10)
    y = check_array("y", y, shape=(n,))
    Xt = _check_X(Xt, d)
    vf = check_real("val_fraction", val_fraction, 0.0, 0.5, lo_open=True)
    m = n - max(1, int(round(vf * n)))
    ell = math.sqrt(d)
    with one_thread():
        K = rbf_kernel(X[:m], X[:m], ell)
        Kv = rbf_kernel(X[m:], X[:m], ell)
        best, coef = np.inf, None
        for lam in ridges:
            c = kernel_ridge(K, y[:m], check_real("ridge", lam, 0.0, lo_open=True))
            err = float(np.mean((Kv @ c - y[m:]) ** 2))
            if err < best:
                best, coef = err, c
        return rbf_kernel(Xt, X[:m], ell) @ coef


def normalized_mse(pred, truth) -> float:
    """``mean((pred - truth)^2) / var(truth)``: 1 for the best constant, 0 for a perfect fit."""
    truth = check_array("truth", truth, ndim=1)
    pred = check_array("pred", pred, shape=truth.shape)
    return float(np.mean((pred - truth) ** 2) / np.var(truth))


def _corr_with_p(w: np.ndarray, target: Target) -> float:
    """``corr(phi, p)`` in population: the Hermite features are orthonormal, so it is a cosine."""
    wp = target.w_p
    return float(w @ wp / (np.linalg.norm(w) * np.linalg.norm(wp) + 1e-300))


def feature_recovery_curve(ds: Sequence[int], ratios: Sequence[float], seed: int = 0,
                           g: str = "z3+z") -> np.ndarray:
    """``corr(phi, p)`` after stage 1 on ``n_1 = ratio * d^2`` samples, for every ``d`` and ratio.

    Returns an array of shape ``(len(ds), len(ratios))``. The correlation is exact in
    population: ``psi`` is orthonormal, so ``corr(w . psi, w_p . psi)`` is the cosine of ``w``
    and ``w_p``. If the theory is right the curves for different ``d`` collapse onto one another
    when plotted against ``n_1 / d^2``.
    """
    ds = [_check_d(d) for d in ds]
    rs = [check_real("ratios[i]", r, 0.0, 1e4, lo_open=True) for r in ratios]
    seed = check_int("seed", seed, 0)
    out = np.zeros((len(ds), len(rs)))
    with one_thread():
        for i, d in enumerate(ds):
            t = make_target(d, g, seed)
            rng = np.random.default_rng((seed, d, 7))
            n_max = max(10, int(round(max(rs) * d * d)))
            X = rng.standard_normal((n_max, d))
            y = t.h(X)
            for j, r in enumerate(rs):
                n1 = max(10, int(round(r * d * d)))
                out[i, j] = _corr_with_p(degree2_projection(X[:n1], y[:n1]), t)
    return out


def n_for_correlation(ratios: Sequence[float], corr, d: int, level: float = 0.9) -> float:
    """Samples ``n_1`` at which ``corr`` first reaches ``level``, interpolating in ``log n``.

    ``corr`` is one curve of :func:`feature_recovery_curve` (against ``n_1 = ratio * d^2``).
    Returns ``inf`` if the curve never reaches ``level``.
    """
    r = check_array("ratios", ratios, ndim=1)
    c = check_array("corr", corr, shape=r.shape)
    d = _check_d(d)
    level = check_real("level", level, 0.0, 1.0, lo_open=True, hi_open=True)
    hit = np.nonzero(c >= level)[0]
    if hit.size == 0:
        return float("inf")
    j = int(hit[0])
    if j == 0:
        return float(r[0] * d * d)
    t = (level - c[j - 1]) / (c[j] - c[j - 1])
    return float(d * d * np.exp(np.log(r[j - 1]) + t * (np.log(r[j]) - np.log(r[j - 1]))))


@dataclass(frozen=True)
class Experiment:
    """The chapter's numbers: errors against ``n`` at one ``d``, and feature recovery across ``d``."""

    d: int
    ns: tuple[int, ...]
    mse_three_layer: np.ndarray       # (len(ns),)
    corr_three_layer: np.ndarray      # (len(ns),)
    ns_krr: tuple[int, ...]
    mse_krr: np.ndarray               # (len(ns_krr),)
    mse_degree2: float                # error of the best degree <= 2 predictor, c p
    ds: tuple[int, ...]
    ratios: tuple[float, ...]
    corr: np.ndarray                  # (seeds, len(ds), len(ratios))
    n09: np.ndarray                   # (seeds, len(ds)): n_1 with corr(phi, p) = 0.9
    slope: tuple[float, float, float]  # slope of log n09 against log d, with its interval


def _test_set(d: int, seed: int, n: int = 6000) -> np.ndarray:
    return np.random.default_rng((seed, d, 99)).standard_normal((n, d))


@cached(maxsize=4)
def experiment(d: int = 20, ns: tuple[int, ...] = (500, 2000, 8000, 32000),
               ns_krr: tuple[int, ...] = (500, 1000, 2000), ds: tuple[int, ...] = (16, 24, 32, 48),
               ratios: tuple[float, ...] = (1, 2, 4, 8, 16, 32), seeds: tuple[int, ...] = (0, 1, 2, 3),
               seed: int = 0, m1: int = 100) -> Experiment:
    """Run the chapter's experiment (cached; a few seconds, most of it the kernel solves).

    (a) At dimension ``d``: the normalised test MSE of the layer-wise three-layer network for
    each ``n`` in ``ns`` and of kernel ridge regression for each ``n`` in ``ns_krr``, with the
    error of the best degree-2 predictor for reference. (b) For each ``d`` in ``ds``:
    ``corr(phi, p)`` against ``n_1 / d^2`` over ``seeds``, the ``n_1`` reaching 0.9, and the
    log-log slope of that ``n_1`` against ``d`` with a bootstrap interval over seeds.
    """
    d = _check_d(d)
    ns = tuple(check_int("ns[i]", n, 10) for n in ns)
    ns_krr = tuple(check_int("ns_krr[i]", n, 10) for n in ns_krr)
    t = make_target(d, "z3+z", seed)
    rng = np.random.default_rng((seed, d, 1))
    X = rng.standard_normal((max(ns + ns_krr), d))
    y = t.h(X)
    Xt = _test_set(d, seed)
    ht = t.h(Xt)
    with one_thread():
        mse3, corr3 = [], []
        for n in ns:
            net = three_layer_layerwise(X[:n], y[:n], m1, seed)
            mse3.append(normalized_mse(net.predict(Xt), ht))
            corr3.append(_corr_with_p(net.w, t))
        mse_k = [normalized_mse(kernel_ridge_baseline(X[:n], y[:n], Xt), ht) for n in ns_krr]
        # the best degree-<=2 predictor is c p with c = E[h p] (exact for even d): Monte Carlo
        Xm = np.random.default_rng((seed, d, 5)).standard_normal((200_000, d))
        pm = t.p(Xm)
        hm = LINKS["z3+z"](pm)
        cm = float(np.mean(hm * pm))
        mse2 = float(np.mean((hm - cm * pm) ** 2) / np.var(hm))
    corr = np.stack([feature_recovery_curve(ds, ratios, s) for s in seeds])
    n09 = np.array([[n_for_correlation(ratios, corr[s, i], dd) for i, dd in enumerate(ds)]
                    for s in range(len(seeds))])
    slope = slope_interval(np.array(ds, float), n09, seed=seed) if np.all(np.isfinite(n09)) \
        else (float("nan"),) * 3
    return Experiment(d, ns, np.array(mse3), np.array(corr3), ns_krr, np.array(mse_k), mse2,
                      tuple(ds), tuple(ratios), corr, n09, tuple(float(v) for v in slope))


# --------------------------------------------------------------------------- interactive figure

@cached(maxsize=64)
def _widget_data(d: int, n: int) -> tuple:
    """Data, test set and the stage-1 feature for the widget (cached per ``(d, n)``)."""
    t = make_target(d, "z3+z", 0)
    rng = np.random.default_rng((0, d, 1))
    X = rng.standard_normal((n, d))
    y = t.h(X)
    h1 = n // 2
    w = degree2_projection(X[:h1], y[:h1])
    Xt = _test_set(d, 0, 2000)
    phi2 = hermite_features(X[h1:], 2) @ w
    phit = hermite_features(Xt, 2) @ w
    return t, X[h1:], y[h1:], w, phi2, Xt, t.p(Xt), t.h(Xt), phit


_T4 = (-4, -2, 0, 2, 4)

SLIDERS = {
    "n": LogSlider(250, 8000, default=2000, label="samples n"),
    "d": IntSlider(8, 24, default=20, step=2, label="dimension d"),
    "m1": IntSlider(10, 300, default=100, step=10, label="outer width m₁"),
}


def draw(n: float = 2000, d: int = 20, m1: int = 100) -> Figure:
    """The chapter's interactive figure (chapter ``hierarchical-polynomials-3layer``, Explore).

    Left: the learned feature ``phi`` against the true ``p`` on 300 test points, after stage 1
    on ``n/2`` samples. Right: the outer layer's learned function of ``phi`` against the true
    link ``g(z) = z^3 + z``, with the normalised test MSE of the whole network.
    """
    n = int(round(check_real("n", n, 10, 1e5)))
    d = check_int("d", d, 2, 64)
    m1 = check_int("m1", m1, 1, 2000)
    with one_thread():
        t, X2, y2, w, phi2, Xt, pt, ht, phit = _widget_data(d, n)
        net = _stage2(w, 2, X2, y2, m1, 0, phi2=phi2)
        z = (phit - net.shift) / net.scale
        mse = normalized_mse(net.outer(z), ht)
    corr = _corr_with_p(w, t)
    fig, (ax0, ax1) = plotting.figure(2, width=9.0, height=3.5, layout="fixed")
    ax0.plot(pt[:300], z[:300], ".", ms=3, color=plotting.PALETTE[0])
    ax0.plot([-4, 4], [-4, 4], color="grey", lw=0.8, ls="--")
    ax0.set(xlim=(-4, 4), ylim=(-4, 4), xticks=_T4, yticks=_T4)
    plotting.labels(ax0, "true feature p(x)", "learned feature φ(x), standardised",
                    f"stage 1: corr(φ, p) = {corr:.3f}")
    zz = np.linspace(-3.5, 3.5, 141)
    ax1.plot(zz, LINKS["z3+z"](zz), color="grey", lw=1.2)
    ax1.plot(zz, net.outer(zz), color=plotting.PALETTE[3])
    ax1.set(xlim=(-3.5, 3.5), ylim=(-40, 40), xticks=(-3, 0, 3), yticks=(-40, -20, 0, 20, 40))
    plotting.key(ax1, [("true g(z) = z³ + z", "grey"), (f"learned, m₁ = {m1}", plotting.PALETTE[3])],
                 x=0.03, y=0.96)
    plotting.labels(ax1, "z (feature value)", "output", f"stage 2: test MSE {mse:.3f} (normalised)")
    return fig
