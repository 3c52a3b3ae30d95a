"""Layer-wise KL generalization bounds that shrink with depth (He and Goldfeld, 2024).

Explained in chapter ``info-theoretic-depth-bounds`` ("Information-Theoretic Generalization
Bounds for Deep Neural Networks", H. He and Z. Goldfeld, arXiv:2404.03176).

Notation (as in the chapter). Labels ``Y = +-1`` are equally likely and ``X | Y ~ N(Y mu, I_d)``.
The learner sees ``n`` samples ``Z_i = (X_i, Y_i)`` and returns the class-mean estimate

    w = (1/n) sum_j Y_j X_j  ~  N(mu, I_d / n).                              (Eq. (4) of the chapter)

A noisy linear network of depth ``L`` reads an input ``x`` as

    T_1 = w^T x + xi_1,   T_l = g T_{l-1} + xi_l,   xi_l ~ N(0, s^2)  (Gaussian noise injection),

so ``T_l = g^(l-1) w^T x + N(0, v_l)`` with ``v_l = s^2 sum_{j<l} g^(2j)``. The loss of ``w`` on
``(x, y)`` is the probability that the noisy output has the wrong sign, a number in ``[0, 1]``:

    loss(w, x, y) = P(sign(T_L) != y | w, x) = Phi(-y g^(L-1) w^T x / sqrt(v_L)).       (Eq. (5))

The paper's KL bound (Theorem 1 of the chapter) compares, for each layer ``l``, the *train* law
of ``(W, T_l(X_i), Y_i)`` (a training sample pushed through the trained network) with the *test*
law of ``(W, T_l(X), Y)`` (a fresh sample, independent of ``W``):

    |gen| <= (1/n) sum_i sqrt(2 sigma^2 KL(P^train_l || P^test_l)),   sigma = 1/2 for [0,1] losses.

Here every conditional law is Gaussian (Eq. (6) of the chapter): given ``W = w`` and ``Y = y``,
a training input is ``X_i ~ N(y w, (1 - 1/n) I)`` and a test input ``X ~ N(y mu, I)``, hence

    train:  T_l ~ N(y g^(l-1) |w|^2,   g^(2(l-1)) |w|^2 (1 - 1/n) + v_l)
    test:   T_l ~ N(y g^(l-1) w^T mu,  g^(2(l-1)) |w|^2 + v_l),

and ``KL_l = E_w[KL(train || test)]`` is a one-dimensional Gaussian KL averaged over draws of
``w`` (Monte Carlo). Layer ``l = 0`` is the input itself, where the bound is the individual-sample
mutual-information bound of Bu, Zou and Veeravalli, ``KL_0 = I(W; Z_i) = (d/2) log(n/(n-1))``.

This module holds the conditionals (:func:`conditional_gaussians`), the KL hierarchy
(:func:`kl_by_layer`, :func:`kl_input`), the loss of the remaining network
(:func:`remaining_loss`), the true gap (:func:`expected_losses`, :func:`generalization_gap`),
the bound (:func:`bound_from_kl`), a brute-force simulator for the tests
(:func:`simulate_gap`), the chapter's experiment (:func:`experiment`) and its interactive
figure (:func:`draw`, :data:`SLIDERS`).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from scipy.special import ndtr

from ..cache import cached
from .. import plotting
from .._validate import check_array, check_int, check_real
from ..widgets import FloatSlider, IntSlider, LogSlider
from .common import slope_interval

__all__ = ["unit_mean", "draw_weights", "noise_variance", "conditional_gaussians", "gaussian_kl",
           "kl_by_layer", "kl_input", "remaining_loss", "expected_losses", "generalization_gap",
           "bound_from_kl", "simulate_gap", "Experiment", "experiment", "draw", "SLIDERS"]


# --------------------------------------------------------------------------- checks and draws

def _mu(mu) -> np.ndarray:
    m = check_array("mu", mu, ndim=1)
    if m.size == 0:
        raise ValueError("mu must be a non-empty 1-D array (the class mean, of dimension d >= 1)")
    if not np.any(m):
        warnings.warn("mu = 0: the labels carry no signal, so every test loss is 1/2 and the gap "
                      "measures pure memorisation", UserWarning, stacklevel=3)
    return m


def _common(n, s, g, L=None):
    n = check_int("n", n, 2)
    s = check_real("s", s, 0.0)
    g = check_real("g", g, 0.0, lo_open=True)
    if L is None:
        return n, s, g
    return n, s, g, check_int("L", L, 1)


def unit_mean(d: int) -> np.ndarray:
    """The chapter's class mean ``mu = e_1`` in dimension ``d`` (so ``|mu| = 1``)."""
    d = check_int("d", d, 1)
    m = np.zeros(d)
    m[0] = 1.0
    return m


def draw_weights(mu, n: int, n_mc: int = 100_000, seed: int = 0) -> np.ndarray:
    """``n_mc`` draws of the learner's output ``w = (1/n) sum_j Y_j X_j ~ N(mu, I/n)`` (Eq. (4)).

    Each ``Y_j X_j = mu + Y_j eps_j`` is ``N(mu, I)``, so the average of ``n`` of them is
    ``N(mu, I/n)``: one draw of ``w`` is one training set's result. Shape ``(n_mc, d)``.
    """
    m = _mu(mu)
    n = check_int("n", n, 2)
    n_mc = check_int("n_mc", n_mc, 1)
    seed = check_int("seed", seed, 0)
    z = np.random.default_rng(seed).standard_normal((n_mc, m.size))
    return m + z / math.sqrt(n)


def noise_variance(l: int, s: float, g: float = 1.0) -> float:
    """``v_l = s^2 sum_{j=0}^{l-1} g^(2j)``: the injected-noise variance carried by ``T_l``."""
    l = check_int("l", l, 0)
    s = check_real("s", s, 0.0)
    g = check_real("g", g, 0.0, lo_open=True)
    return s * s * float(sum(g ** (2 * j) for j in range(l)))


def conditional_gaussians(w_samples, mu, n: int, l: int, s: float, g: float = 1.0
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Means and variances of ``T_l`` given ``W = w`` and ``Y = +1`` under both laws (Eq. (6)).

    Returns ``(mean_train, var_train, mean_test, var_test)``, one entry per row of
    ``w_samples``. For ``Y = -1`` the means change sign and the variances stay. Train: a
    training input given ``w`` is ``N(Y w, (1 - 1/n) I)`` (the conditional of one of ``n``
    Gaussian vectors given their mean); test: a fresh input is ``N(Y mu, I)``, independent of ``w``.
    """
    w = check_array("w_samples", w_samples, ndim=2)
    m = _mu(mu)
    if w.shape[1] != m.size:
        raise ValueError(f"w_samples must have {m.size} columns (the dimension of mu), got {w.shape}")
    n, s, g = _common(n, s, g)
    l = check_int("l", l, 1)
    a = np.einsum("ij,ij->i", w, w)               # |w|^2
    b = w @ m                                      # w^T mu
    G = g ** (l - 1)
    v = noise_variance(l, s, g)
    return G * a, G * G * a * (1.0 - 1.0 / n) + v, G * b, G * G * a + v


def gaussian_kl(m1, v1, m2, v2) -> np.ndarray:
    """``KL(N(m1, v1) || N(m2, v2))`` elementwise, written to stay accurate when ``v1 ~ v2``.

    ``KL = (1/2) [log(v2/v1) + (v1 + (m1 - m2)^2)/v2 - 1]``; with ``x = (v2 - v1)/v1`` the first
    and third terms combine into ``log1p(x) - x/(1+x)`` (no cancellation for small ``x``).
    """
    m1, v1, m2, v2 = (np.asarray(a, dtype=float) for a in (m1, v1, m2, v2))
    if np.any(v1 <= 0) or np.any(v2 <= 0):
        raise ValueError("gaussian_kl needs positive variances v1 and v2")
    x = (v2 - v1) / v1
    return 0.5 * (np.log1p(x) - x / (1.0 + x) + (m1 - m2) ** 2 / v2)


def _kl_from_stats(a: np.ndarray, b: np.ndarray, n: int, l: int, s: float, g: float) -> float:
    """``KL_l`` from the sufficient statistics ``a = |w|^2``, ``b = w^T mu`` (no checks).

    ``KL`` is invariant to rescaling ``T_l``, so we divide by ``g^(2(l-1))``: the signal then
    keeps unit gain and the noise variance becomes ``v_l / g^(2(l-1))`` (no overflow for large
    gains and depths).
    """
    r = s * s * sum(g ** (-2 * k) for k in range(l))        # v_l / g^(2(l-1))
    v1 = a * (1.0 - 1.0 / n) + r
    v2 = a + r
    x = (a / n) / v1
    return float(np.mean(0.5 * (np.log1p(x) - x / (1.0 + x) + (a - b) ** 2 / v2)))


def _stats(w: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if not np.all(np.isfinite(w)):
        raise ValueError("the weight draws are not finite")
    return np.einsum("ij,ij->i", w, w), w @ m


def kl_by_layer(mu, n: int, s: float, g: float = 1.0, L: int = 8, n_mc: int = 100_000,
                seed: int = 0) -> np.ndarray:
    """``KL_l = KL(P^train_{W,T_l,Y} || P^test_{W,T_l,Y})`` for ``l = 1..L`` (Theorem 1, Eq. (7)).

    Both laws have the same marginal of ``(W, Y)``, so by the chain rule ``KL_l`` is the average
    over ``w`` (``n_mc`` draws of :func:`draw_weights`) of the KL between the two conditional
    Gaussians of :func:`conditional_gaussians`. Entry ``l - 1`` of the result is ``KL_l``.
    """
    m = _mu(mu)
    n, s, g, L = _common(n, s, g, L)
    w = draw_weights(m, n, n_mc, seed)
    a, b = _stats(w, m)
    return np.array([_kl_from_stats(a, b, n, l, s, g) for l in range(1, L + 1)])


def kl_input(d: int, n: int) -> float:
    """``KL_0 = I(W; Z_i) = (d/2) log(n / (n-1))``: the bound's divergence at the input layer.

    At ``l = 0`` the representation is ``X`` itself; the test law is ``P_W x P_Z``, so the KL is
    the individual-sample mutual information of Bu, Zou and Veeravalli. For this learner it is in
    closed form (the chapter derives it; the test checks it against Monte Carlo).
    """
    d = check_int("d", d, 1)
    n = check_int("n", n, 2)
    return 0.5 * d * math.log(n / (n - 1.0))


def remaining_loss(t, y, l: int, L: int, s: float, g: float = 1.0) -> np.ndarray:
    """The loss as a function of the layer-``l`` representation: ``E[loss | W, T_l = t, Y = y]``.

    The layers after ``l`` add independent noise, so the output is
    ``g^(L-l) t + N(0, v_{L-l})`` and the probability of a wrong sign is
    ``Phi(-y g^(L-l) t / sqrt(v_{L-l}))`` (Eq. (5) applied to the rest of the network; a 0-1
    loss when ``l = L`` or ``s = 0``). It lies in ``[0, 1]``, so it is ``1/2``-sub-Gaussian,
    and its mean under either law equals the mean of Eq. (5): the bound at any layer bounds
    the same gap.
    """
    t = check_array("t", t)
    y = check_array("y", y)
    L = check_int("L", L, 1)
    l = check_int("l", l, 1, L)
    s = check_real("s", s, 0.0)
    g = check_real("g", g, 0.0, lo_open=True)
    if not np.all(np.isin(y, (-1.0, 1.0))):
        raise ValueError("y must contain only the labels +1 and -1")
    v = noise_variance(L - l, s, g)
    z = y * t
    if v == 0.0:
        return (z < 0).astype(float) + 0.5 * (z == 0)
    return ndtr(-(g ** (L - l)) * z / math.sqrt(v))


def _losses_from_stats(a, b, n, L, s, g) -> tuple[float, float]:
    r = s * s * sum(g ** (-2 * k) for k in range(L))        # v_L / g^(2(L-1))
    train = ndtr(-a / np.sqrt(a * (1.0 - 1.0 / n) + r))
    test = ndtr(-b / np.sqrt(a + r))
    return float(train.mean()), float(test.mean())


def expected_losses(mu, n: int, s: float, g: float = 1.0, L: int = 8, n_mc: int = 100_000,
                    seed: int = 0) -> tuple[float, float]:
    """``(E[train loss], E[test loss])`` of Eq. (5), averaged over training sets.

    Given ``w`` and ``Y``, ``T_L`` is Gaussian under both laws (Eq. (6)), so
    ``P(sign T_L != Y) = Phi(-mean / sd)``: train ``Phi(-|w|^2 / sqrt(|w|^2 (1-1/n) + v_L'))``,
    test ``Phi(-w^T mu / sqrt(|w|^2 + v_L'))`` with ``v_L' = v_L / g^(2(L-1))``. The average over
    ``w`` uses the same ``n_mc`` draws as :func:`kl_by_layer` with the same seed.
    """
    m = _mu(mu)
    n, s, g, L = _common(n, s, g, L)
    w = draw_weights(m, n, n_mc, seed)
    return _losses_from_stats(*_stats(w, m), n, L, s, g)


def generalization_gap(mu, n: int, s: float, g: float = 1.0, L: int = 8, n_mc: int = 100_000,
                       seed: int = 0) -> float:
    """The expected generalization gap ``E[test loss - train loss]`` of the depth-``L`` network."""
    train, test = expected_losses(mu, n, s, g, L, n_mc, seed)
    return test - train


def bound_from_kl(kl, sigma: float = 0.5) -> np.ndarray | float:
    """The layer-``l`` bound ``sqrt(2 sigma^2 KL_l)`` of Theorem 1 (Eq. (7)).

    With ``n`` exchangeable samples the average over ``i`` of the per-sample terms is one term.
    ``sigma = 1/2`` for any loss with values in ``[0, 1]`` (Hoeffding's lemma).
    """
    sigma = check_real("sigma", sigma, 0.0, lo_open=True)
    k = check_array("kl", kl)
    if np.any(k < 0):
        raise ValueError("kl must be non-negative (a KL divergence)")
    out = np.sqrt(2.0 * sigma * sigma * k)
    return float(out) if out.ndim == 0 else out


def simulate_gap(mu, n: int, s: float, g: float = 1.0, L: int = 8, n_sets: int = 2000,
                 seed: int = 0) -> tuple[float, float]:
    """Brute force, for the tests: draw ``n_sets`` real training sets, train, measure the loss.

    For each set ``w`` is computed from the data; the train loss is Eq. (5) averaged over the
    set's own samples, the test loss Eq. (5) on ``n`` fresh samples. Returns
    ``(mean gap, standard error)``. Uses no conditional law, so it checks Eq. (6).
    """
    m = _mu(mu)
    n, s, g, L = _common(n, s, g, L)
    n_sets = check_int("n_sets", n_sets, 2)
    rng = np.random.default_rng(check_int("seed", seed, 0))
    d = m.size

    def sample(k):
        y = rng.choice((-1.0, 1.0), size=(n_sets, k))
        x = y[..., None] * m + rng.standard_normal((n_sets, k, d))
        return x, y

    x, y = sample(n)
    w = (y[..., None] * x).mean(1)
    xt, yt = sample(n)
    sd = math.sqrt(noise_variance(L, s, g)) / g ** (L - 1)

    def loss(xx, yy):
        z = yy * np.einsum("skd,sd->sk", xx, w)
        return ndtr(-z / sd).mean(1) if sd > 0 else (z < 0).mean(1)

    gaps = loss(xt, yt) - loss(x, y)
    return float(gaps.mean()), float(gaps.std(ddof=1) / math.sqrt(n_sets))


# --------------------------------------------------------------------------- the experiment

@dataclass(frozen=True)
class Experiment:
    """Everything the chapter plots; built once by :func:`experiment`.

    ``table[(d, n, s)]`` holds ``kl`` (layers 1..L), ``kl0``, ``gap``, ``train`` and ``test``.
    ``s_grid``/``ratios`` (shape ``(len(s_grid), L-1)``) are the contractions
    ``KL_{l+1}/KL_l`` at ``d, n = 10, 20``. ``n_grid`` with ``bound_n`` (seeds x sizes x layers
    1 and L) and ``gap_n`` (seeds x sizes) are the bound and the gap against ``n``.
    """

    L: int
    seed: int
    table: dict
    s_grid: np.ndarray
    ratios: np.ndarray
    n_grid: np.ndarray
    bound_n: np.ndarray
    gap_n: np.ndarray

    def rates(self, n_min: int = 200) -> dict:
        """Log-log slopes (with seed intervals) of the bound at layer L and of the gap, n >= n_min."""
        keep = self.n_grid >= n_min
        x = self.n_grid[keep]
        bound = slope_interval(x, self.bound_n[:, keep, 1], seed=self.seed)
        gap = slope_interval(x, self.gap_n[:, keep], seed=self.seed)
        return {"bound": bound, "gap": gap}


@cached(maxsize=2)
def experiment(L: int = 8, seed: int = 0, n_mc: int = 100_000) -> Experiment:
    """The chapter's experiment (cached): the grid of the spec, a noise sweep and an ``n`` sweep.

    * ``d in {1, 10}``, ``n in {5, 20, 100}``, ``s in {0.1, 0.5, 1}``, ``g = 1``, ``mu = e_1``:
      ``KL_l`` for ``l = 1..L`` (:func:`kl_by_layer`), ``KL_0`` and the gap at depth ``L``;
    * 25 noise levels ``s`` from 0.03 to 3 at ``d = 10, n = 20``: the contractions;
    * 13 sizes ``n`` from 5 to 5000 at ``d = 10, s = 0.5``, 5 Monte Carlo seeds of 20000 draws:
      the bound at layers 1 and ``L`` and the gap.
    """
    L = check_int("L", L, 2)
    seed = check_int("seed", seed, 0)
    n_mc = check_int("n_mc", n_mc, 100)
    table = {}
    for d in (1, 10):
        mu = unit_mean(d)
        for n in (5, 20, 100):
            a, b = _stats(draw_weights(mu, n, n_mc, seed), mu)
            for s in (0.1, 0.5, 1.0):
                kl = np.array([_kl_from_stats(a, b, n, l, s, 1.0) for l in range(1, L + 1)])
                train, test = _losses_from_stats(a, b, n, L, s, 1.0)
                table[(d, n, s)] = {"kl": kl, "kl0": kl_input(d, n), "gap": test - train,
                                    "train": train, "test": test}
    mu = unit_mean(10)
    a, b = _stats(draw_weights(mu, 20, n_mc, seed), mu)
    s_grid = np.geomspace(0.03, 3.0, 25)
    ratios = np.empty((s_grid.size, L - 1))
    for i, s in enumerate(s_grid):
        kl = np.array([_kl_from_stats(a, b, 20, l, s, 1.0) for l in range(1, L + 1)])
        ratios[i] = kl[1:] / kl[:-1]
    n_grid = np.unique(np.round(np.geomspace(5, 5000, 13)).astype(int))
    seeds = range(seed, seed + 5)
    bound_n = np.empty((len(seeds), n_grid.size, 2))
    gap_n = np.empty((len(seeds), n_grid.size))
    for i, sd in enumerate(seeds):
        for j, n in enumerate(n_grid):
            a, b = _stats(draw_weights(mu, int(n), 20_000, sd), mu)
            bound_n[i, j] = [math.sqrt(_kl_from_stats(a, b, int(n), l, 0.5, 1.0) / 2) for l in (1, L)]
            train, test = _losses_from_stats(a, b, int(n), L, 0.5, 1.0)
            gap_n[i, j] = test - train
    return Experiment(L=L, seed=seed, table=table, s_grid=s_grid, ratios=ratios, n_grid=n_grid,
                      bound_n=bound_n, gap_n=gap_n)


# --------------------------------------------------------------------------- interactive figure

_W_D = 10          # dimension of the interactive figure
_W_MC = 10_000     # cached standard-normal draws; w = mu + z / sqrt(n)


@cached(maxsize=1)
def _widget_z() -> np.ndarray:
    return np.random.default_rng(0).standard_normal((_W_MC, _W_D))


@cached(maxsize=512)
def _widget(s: float, L: int, n: int, g: float) -> tuple[np.ndarray, float, float, float]:
    mu = unit_mean(_W_D)
    w = mu + _widget_z() / math.sqrt(n)
    a, b = _stats(w, mu)
    kl = np.array([_kl_from_stats(a, b, n, l, s, g) for l in range(1, L + 1)])
    train, test = _losses_from_stats(a, b, n, L, s, g)
    return kl, kl_input(_W_D, n), train, test


def draw(s: float = 0.5, L: int = 8, n: float = 20, g: float = 1.0) -> Figure:
    """The chapter's interactive figure (chapter ``info-theoretic-depth-bounds``, Explore).

    Left: ``KL_l`` against the layer ``l = 0..L`` (``l = 0``: the input, ``I(W; Z_i)``).
    Right: the bound ``sqrt(KL_l / 2)`` at every layer against the measured gap of the
    depth-``L`` network. ``d = 10``, ``mu = e_1``, 10^4 cached draws of the learner's ``w``.
    """
    s = check_real("s", s, 0.0)
    L = check_int("L", L, 1, 50)
    n = check_int("n", int(round(check_real("n", n, 2.0))), 2)
    g = check_real("g", g, 0.0, lo_open=True)
    kl, kl0, train, test = _widget(round(s, 6), L, n, round(g, 6))
    gap = test - train
    layers = np.arange(L + 1)
    kls = np.r_[kl0, kl]
    bounds = np.sqrt(kls / 2)
    blue, orange, grey = plotting.PALETTE[0], plotting.PALETTE[3], "#7a7a7a"

    fig, (ax0, ax1) = plotting.figure(2, width=9.0, height=3.5, layout="fixed")
    ax0.plot(layers, kls, "o-", color=blue, ms=4)
    ax0.set_yscale("log")
    lo, hi = np.floor(np.log10(kls.min())), np.ceil(np.log10(kls.max()))
    hi = max(hi, lo + 1)
    ax0.set_ylim(10 ** lo, 10 ** hi)
    step = max(1, int(math.ceil((hi - lo) / 4)))
    ticks = 10.0 ** np.arange(lo, hi + 1, step)
    ax0.set_yticks(ticks, [f"{t:g}" for t in ticks])          # plain text: no mathtext to lay out
    ax0.minorticks_off()
    ax0.set_xlim(-0.5, L + 0.5)
    plotting.labels(ax0, "layer l (0 = input)", "KL_l (nats)",
                    f"KL_L / KL_1 = {kl[-1] / kl[0]:.2f}" if kl[0] > 0 else "KL hierarchy")

    ax1.plot(layers, bounds, "o-", color=blue, ms=4)
    ax1.axhline(gap, color=orange, lw=1.6)
    ax1.set_xlim(-0.5, L + 0.5)
    top = max(bounds.max(), gap) * 1.15
    ax1.set_ylim(min(0.0, gap * 1.15), top if top > 0 else 1.0)
    ax1.yaxis.set_major_locator(MaxNLocator(4))
    plotting.key(ax1, [("bound √(KL_l / 2)", blue), (f"gap, depth {L} (train {train:.2f}, "
                                                    f"test {test:.2f})", orange, "—")], x=0.3)
    plotting.labels(ax1, "layer l (0 = input)", "test − train loss",
                    f"n = {n}: gap {gap:.3f}, bound at l = L {bounds[-1]:.3f}")
    for ax in (ax0, ax1):
        ax.xaxis.set_major_locator(MaxNLocator(5, integer=True))
    return fig


#: Slider box of :func:`draw`; the first entry (the noise level s) is the website scrubber's.
SLIDERS = {
    "s": LogSlider(0.01, 2.0, default=0.5, label="injected noise s"),
    "L": IntSlider(1, 20, default=8, label="depth L"),
    "n": LogSlider(2, 500, default=20, label="training samples n"),
    "g": FloatSlider(0.5, 2.0, default=1.0, step=0.05, label="layer gain g"),
}
