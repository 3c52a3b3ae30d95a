"""Random nets with bandlimited hidden weights (Li, Sonoda, Cao, Wang and Liang, ICML 2023).

Explained in chapter ``bandlimited-random-nets``.

Notation (as in the chapter). A depth-2 *random net* is
``g(x) = sum_{j=1}^N c_j sigma(a_j . x - b_j)`` (Eq. (1) of the chapter): the hidden parameters
``(a_j, b_j)`` are drawn at random and frozen, and only the output weights ``c_j`` are fitted.
The hidden parameters are *bandlimited* when they come from a bounded domain; here
``a_j ~ U[-lam, lam]^d`` and ``b_j ~ U[-lam, lam]``. Since ``sigma(a x - b)`` has Fourier
transform ``|a|^-1 sigma_hat(omega / a) exp(-i omega b / a)``, a unit with ``|a| <= lam`` only
carries frequencies ``|omega| = |a| |zeta|`` where ``sigma_hat(zeta)`` is not negligible: a net
whose weights stay bounded cannot build frequencies far above ``lam``.

This module holds the random net (:func:`sample_hidden`, :func:`features`,
:func:`fit_random_net`, :func:`predict`, :func:`rel_l2_error`), the band-energy predictor of the
error floor (:func:`band_energy_floor`, :func:`fit_band_constant`, :func:`multi_frequency_target`),
the chapter's experiment (:func:`simulate`, :func:`experiment`) and its interactive figure
(:func:`draw`, :data:`SLIDERS`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullLocator
from scipy import linalg

from ..cache import cached
from .. import plotting
from .._validate import check_array, check_choice, check_int, check_real
from ..widgets import Choice, IntSlider, LogSlider
from .common import ridge as ridge_solve

__all__ = ["ACTIVATIONS", "sample_hidden", "features", "fit_random_net", "predict",
           "rel_l2_error", "band_energy_floor", "fit_band_constant", "multi_frequency_target",
           "Experiment", "simulate", "experiment", "draw", "SLIDERS"]

#: The activations sigma a net may use, by name.
ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "tanh": np.tanh,
    "sigmoid": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)),
    "relu": lambda z: np.maximum(z, 0.0),
    "gaussian": lambda z: np.exp(-z * z),
}


def _act(act: str) -> Callable[[np.ndarray], np.ndarray]:
    check_choice("act", act, list(ACTIVATIONS))
    return ACTIVATIONS[act]


def _grid(x, d: int | None = None) -> np.ndarray:
    """Inputs as an ``(M, d)`` array (a 1-D array is ``M`` points of the line)."""
    X = check_array("x", x)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"x must be M points, shape (M,) or (M, d), got shape {X.shape}")
    if d is not None and X.shape[1] != d:
        raise ValueError(f"x must have d = {d} coordinates to match the hidden weights, "
                         f"got {X.shape[1]}")
    return X


def _hidden(a, b) -> tuple[np.ndarray, np.ndarray]:
    A = check_array("a", a)
    if A.ndim == 1:
        A = A[:, None]
    B = check_array("b", b, ndim=1)
    if A.ndim != 2 or A.shape[0] != B.shape[0] or B.size == 0:
        raise ValueError(f"a must be (N, d) and b (N,) with the same N >= 1, got {A.shape} "
                         f"and {B.shape}")
    return A, B


# --------------------------------------------------------------------------- the random net

def sample_hidden(N: int, d: int = 1, lam: float = 1.0,
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``N`` frozen hidden units: ``a_j ~ U[-lam, lam]^d`` and ``b_j ~ U[-lam, lam]``.

    The bounded box is the chapter's bandlimited parameter domain (Eq. (2) of chapter
    ``bandlimited-random-nets``). ``a`` and ``b`` come from separate streams of ``seed``, so the
    first ``n`` units of a draw of ``N > n`` are exactly a draw of ``n``: widths are nested.
    Returns ``a`` of shape ``(N, d)`` and ``b`` of shape ``(N,)``.
    """
    N = check_int("N", N, 1)
    d = check_int("d", d, 1)
    lam = check_real("lam", lam, 0.0, lo_open=True)
    seed = check_int("seed", seed, 0)
    a = np.random.default_rng([seed, 0]).uniform(-lam, lam, size=(N, d))
    b = np.random.default_rng([seed, 1]).uniform(-lam, lam, size=N)
    return a, b


def features(x, a, b, act: str = "tanh") -> np.ndarray:
    """The hidden layer ``Phi_ij = sigma(a_j . x_i - b_j)``: an ``(M, N)`` matrix."""
    A, B = _hidden(a, b)
    X = _grid(x, A.shape[1])
    return _act(act)(X @ A.T - B)


def fit_random_net(x, y, a, b, ridge: float = 1e-8, act: str = "tanh") -> np.ndarray:
    """Output weights ``c = argmin_c (1/M) ||Phi c - y||^2 + ridge ||c||^2`` (Eq. (4) of chapter
    ``bandlimited-random-nets``).

    ``x`` are ``M`` sample points, ``y`` the target there, ``(a, b)`` the frozen hidden units
    (:func:`sample_hidden`). The penalty keeps the coefficients bounded: it is what turns "the
    band is hard to reach" into a visible error floor (with ``ridge = 0`` and exact arithmetic an
    analytic ``sigma`` would be universal on any open parameter set). Solved by
    :func:`paperlab.theory.common.ridge` with penalty ``M * ridge``; ``y`` may hold several
    targets as columns.
    """
    A, B = _hidden(a, b)
    X = _grid(x, A.shape[1])
    Y = check_array("y", y)
    if Y.shape[0] != X.shape[0] or Y.ndim not in (1, 2):
        raise ValueError(f"y must hold the target at the {X.shape[0]} points of x, "
                         f"got shape {Y.shape}")
    rho = check_real("ridge", ridge, 0.0)
    Phi = _act(act)(X @ A.T - B)
    return ridge_solve(Phi, Y, X.shape[0] * rho)


def predict(x, a, b, c, act: str = "tanh") -> np.ndarray:
    """The random net ``g(x) = sum_j c_j sigma(a_j . x - b_j)`` (Eq. (1)) at the points ``x``."""
    Phi = features(x, a, b, act)
    C = check_array("c", c)
    if C.shape[0] != Phi.shape[1]:
        raise ValueError(f"c must have one row per hidden unit ({Phi.shape[1]}), "
                         f"got shape {C.shape}")
    return Phi @ C


def rel_l2_error(a, b, c, f, grid, act: str = "tanh") -> float:
    """Relative L2 error ``||g - f|| / ||f||`` of the net on ``grid`` (equally weighted points).

    ``f`` is a function of the points or an array of its values on ``grid``. The chapter uses a
    test grid offset from the training grid (chapter ``bandlimited-random-nets``).
    """
    X = _grid(grid)
    fv = f(X[:, 0] if X.shape[1] == 1 else X) if callable(f) else f
    fv = check_array("f", fv, ndim=1)
    if fv.shape[0] != X.shape[0]:
        raise ValueError(f"f must give one value per grid point ({X.shape[0]}), got {fv.shape[0]}")
    norm = np.linalg.norm(fv)
    if norm == 0:
        raise ValueError("f is zero on the grid: the relative error is undefined")
    g = predict(grid, a, b, c, act)
    if g.ndim != 1:
        raise ValueError("c must be a single coefficient vector for rel_l2_error")
    return float(np.linalg.norm(g - fv) / norm)


# --------------------------------------------------------------------------- band energy

def band_energy_floor(freqs, amps, cutoff: float) -> float:
    """Share of a target's L2 norm above a cutoff frequency: ``sqrt(sum_{|w|>cut} A^2 / sum A^2)``.

    For ``f = sum_k A_k sin(w_k x + phi_k)`` with ``w_k = pi k`` (orthogonal on ``[-1, 1]``), this
    is the relative L2 error of the best approximation that keeps every component with
    ``|w_k| <= cutoff`` and drops the rest: the floor of a net that can only build frequencies
    up to ``cutoff`` (Eq. (5) of chapter ``bandlimited-random-nets``).
    """
    w = np.abs(check_array("freqs", freqs, ndim=1))
    A = check_array("amps", amps, ndim=1)
    if A.shape != w.shape or w.size == 0:
        raise ValueError(f"freqs and amps must be non-empty and of equal length, got {w.size} "
                         f"and {A.size}")
    cut = check_real("cutoff", cutoff, 0.0)
    total = float(np.sum(A * A))
    if total == 0:
        raise ValueError("amps are all zero: the target has no energy")
    return float(np.sqrt(np.sum(A[w > cut] ** 2) / total))


def fit_band_constant(lams, floors, freqs, amps) -> float:
    """The constant ``kappa`` of the cutoff ``kappa * lam`` that best fits measured floors.

    Least squares over ``kappa``: minimises ``sum_i (band_energy_floor(freqs, amps, kappa lam_i)
    - floors_i)^2``. The predicted floor is a step function of ``kappa``, so the minimum is found
    on a fine logarithmic grid of 4001 values from 0.1 to 100 (the smallest minimiser is kept).
    """
    L = check_array("lams", lams, ndim=1)
    F = check_array("floors", floors, ndim=1)
    if L.shape != F.shape or L.size == 0 or np.any(L <= 0):
        raise ValueError("lams must be positive and as long as floors")
    kappas = np.geomspace(0.1, 100.0, 4001)
    sse = [sum((band_energy_floor(freqs, amps, k * l) - f) ** 2 for l, f in zip(L, F))
           for k in kappas]
    return float(kappas[int(np.argmin(sse))])


def multi_frequency_target(n_freq: int = 32,
                           seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``f(x) = sum_{k=1}^{n_freq} k^-1 sin(pi k x + phi_k)``: returns ``(freqs, amps, phases)``.

    ``freqs = pi k``, ``amps = 1 / k`` and phases ``phi_k ~ U[0, 2 pi)`` from ``seed``. Its energy
    spreads over every frequency up to ``pi n_freq``, so a net's error floor falls gradually as
    ``lam`` grows (chapter ``bandlimited-random-nets``).
    """
    n = check_int("n_freq", n_freq, 1)
    seed = check_int("seed", seed, 0)
    k = np.arange(1, n + 1)
    phases = np.random.default_rng([seed, 2]).uniform(0.0, 2 * np.pi, n)
    return np.pi * k, 1.0 / k, phases


def _multi_values(x: np.ndarray, freqs, amps, phases) -> np.ndarray:
    return np.sin(np.outer(x, freqs) + phases) @ amps


# --------------------------------------------------------------------------- the experiment

@dataclass(frozen=True)
class Experiment:
    """Results of :func:`simulate`.

    ``errors[k]``: relative L2 test errors for ``f = sin(pi k x)``, shape
    ``(len(lams), len(widths))``; ``multi``: errors for the multi-frequency target at the
    largest width, one per ``lam``; ``kappa``: the fitted band constant and ``predicted`` the
    band-energy floors it gives.
    """

    lams: tuple[float, ...]
    widths: tuple[int, ...]
    ks: tuple[int, ...]
    ridge: float
    M: int
    errors: dict[int, np.ndarray]
    multi: np.ndarray
    kappa: float
    predicted: np.ndarray

    def error(self, k: int, lam: float, N: int) -> float:
        """The measured error for ``sin(pi k x)`` at ``lam`` and width ``N``."""
        check_choice("k", k, self.ks)
        check_choice("lam", lam, self.lams)
        check_choice("N", N, self.widths)
        return float(self.errors[k][self.lams.index(lam), self.widths.index(N)])

    def table(self) -> str:
        """The errors as text: one row per ``lam``, one column per ``(k, N)``."""
        head = f"{'λ':>5} | " + " | ".join(f"k = {k:<2} N = " + "/".join(map(str, self.widths))
                                           for k in self.ks)
        rows = [head]
        for i, lam in enumerate(self.lams):
            rows.append(f"{lam:>5g} | " + " | ".join(
                " ".join(f"{e:8.1e}" for e in self.errors[k][i]) for k in self.ks))
        return "\n".join(rows)


def simulate(lams=(1, 2, 4, 8, 16, 32, 64), widths=(100, 400, 1600), ks=(1, 4, 16),
             M: int = 1001, ridge: float = 1e-8, n_freq: int = 32, seed: int = 0) -> Experiment:
    """Fit random tanh nets to ``sin(pi k x)`` and to a multi-frequency target (uncached).

    Training grid: ``M`` equally spaced points of ``[-1, 1]``; test grid: the ``M - 1``
    midpoints. For each ``lam`` one draw of ``max(widths)`` hidden units
    (:func:`sample_hidden`); narrower nets use its first ``N`` units. The output weights solve
    Eq. (4) (:func:`fit_random_net`) through the Gram matrix ``G = Phi^T Phi / M`` of the widest
    net, whose leading ``N x N`` block serves every width: ``(G_N + ridge I) c = Phi_N^T y / M``.
    The multi-frequency floors (largest width) are fitted by :func:`fit_band_constant`.
    """
    lams = tuple(float(check_real("lams", l, 0.0, lo_open=True)) for l in lams)
    widths = tuple(sorted(check_int("widths", n, 1) for n in widths))
    ks = tuple(check_int("ks", k, 1) for k in ks)
    if not lams or not widths or not ks:
        raise ValueError("lams, widths and ks must be non-empty")
    M = check_int("M", M, 3)
    rho = check_real("ridge", ridge, 0.0)
    seed = check_int("seed", seed, 0)
    x = np.linspace(-1.0, 1.0, M)
    xt = 0.5 * (x[1:] + x[:-1])
    freqs, amps, phases = multi_frequency_target(n_freq, seed)
    Y = np.column_stack([np.sin(np.pi * k * x) for k in ks]
                        + [_multi_values(x, freqs, amps, phases)])
    Yt = np.column_stack([np.sin(np.pi * k * xt) for k in ks]
                         + [_multi_values(xt, freqs, amps, phases)])
    norms = np.linalg.norm(Yt, axis=0)
    errs = np.zeros((len(lams), len(widths), Y.shape[1]))
    for i, lam in enumerate(lams):
        a, b = sample_hidden(widths[-1], 1, lam, seed)
        Phi = np.tanh(np.outer(x, a[:, 0]) - b)
        Phit = np.tanh(np.outer(xt, a[:, 0]) - b)
        G = Phi.T @ Phi / M
        R = Phi.T @ Y / M
        for j, N in enumerate(widths):
            c = linalg.solve(G[:N, :N] + rho * np.eye(N), R[:N], assume_a="pos")
            errs[i, j] = np.linalg.norm(Phit[:, :N] @ c - Yt, axis=0) / norms
    multi = errs[:, -1, -1].copy()
    kappa = fit_band_constant(lams, multi, freqs, amps)
    predicted = np.array([band_energy_floor(freqs, amps, kappa * l) for l in lams])
    return Experiment(lams=lams, widths=widths, ks=ks, ridge=rho, M=M,
                      errors={k: errs[:, :, n] for n, k in enumerate(ks)}, multi=multi,
                      kappa=kappa, predicted=predicted)


@cached(maxsize=4)
def experiment(lams=(1, 2, 4, 8, 16, 32, 64), widths=(100, 400, 1600), ks=(1, 4, 16),
               M: int = 1001, ridge: float = 1e-8, n_freq: int = 32, seed: int = 0) -> Experiment:
    """:func:`simulate`, cached on its arguments: the chapter's one heavy step."""
    return simulate(tuple(lams), tuple(widths), tuple(ks), M, ridge, n_freq, seed)


# --------------------------------------------------------------------------- interactive figure

_W_M = 401                                   # training points of the interactive figure
_W_LAMS = 2.0 ** (np.arange(-2, 15) / 2)     # 0.5, 0.71, 1, ..., 128: lam snaps to this grid
_W_WIDTHS = (50, 100, 200, 400, 800, 1600)
_W_K = np.arange(1, 33)


@cached(maxsize=2)
def _w_grids() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    x = np.linspace(-1.0, 1.0, _W_M)
    xt = 0.5 * (x[1:] + x[:-1])
    return x, xt, np.sin(np.pi * np.outer(x, _W_K)), np.sin(np.pi * np.outer(xt, _W_K))


@cached(maxsize=len(_W_LAMS) * len(_W_WIDTHS))
def _w_fit(i_lam: int, N: int) -> tuple[np.ndarray, np.ndarray]:
    """Fits of all 32 targets ``sin(pi k x)`` at one (lam, N): test-grid curves and errors."""
    x, xt, Y, Yt = _w_grids()
    a, b = sample_hidden(N, 1, float(_W_LAMS[i_lam]), 0)
    C = fit_random_net(x, Y, a, b, ridge=1e-8)
    G = np.tanh(np.outer(xt, a[:, 0]) - b) @ C
    return G, np.linalg.norm(G - Yt, axis=0) / np.linalg.norm(Yt, axis=0)


def draw(lam: float = 4.0, k: int = 16, N: int = 400) -> Figure:
    """The chapter's interactive figure (chapter ``bandlimited-random-nets``, section Explore).

    Left: the target ``sin(pi k x)`` and the random tanh net of width ``N`` with hidden
    parameters in ``[-lam, lam]`` fitted to it (Eq. (4), ``ridge = 1e-8``, 401 training points).
    Right: the relative L2 test error of the same hidden layer for every ``k`` from 1 to 32. ``lam``
    snaps to the nearest of 17 values ``2^(j/2)`` from 0.5 to 128, so each (lam, N) is solved
    once (all 32 targets together) and then reused.
    """
    lam = check_real("lam", lam, 0.5, 128.0)
    k = check_int("k", k, 1, 32)
    N = check_choice("N", N, _W_WIDTHS)
    i = int(np.argmin(np.abs(np.log(_W_LAMS) - np.log(lam))))
    curves, errs = _w_fit(i, N)
    _, xt, _, Yt = _w_grids()
    blue, orange = plotting.PALETTE[0], plotting.PALETTE[1]

    fig, (ax0, ax1) = plotting.figure(2, width=9.0, height=3.6, layout="fixed")
    ax0.plot(xt, Yt[:, k - 1], color="black", lw=1.0)
    ax0.plot(xt, curves[:, k - 1], color=orange, lw=1.4)
    ax0.set_xlim(-1, 1)
    ax0.set_ylim(-1.6, 1.9)
    ax0.xaxis.set_major_locator(FixedLocator([-1, -0.5, 0, 0.5, 1]))
    ax0.yaxis.set_major_locator(FixedLocator([-1, 0, 1]))
    plotting.key(ax0, [(f"target sin({k}πx)", "black", "—"), (f"net, N = {N}", orange, "—")],
                 x=0.02, y=0.98)
    plotting.labels(ax0, "input x", "output",
                    f"λ = {_W_LAMS[i]:.3g}: relative L2 error {errs[k - 1]:.2g}")

    ax1.semilogy(_W_K, np.maximum(errs, 1e-6), "o-", color=blue, ms=3, lw=1.2)
    ax1.plot([k], [max(errs[k - 1], 1e-6)], "o", color=orange, ms=8)
    ax1.axhline(1.0, color="0.5", lw=0.8, ls=":")
    ax1.set_xlim(0, 33)
    ax1.set_ylim(1e-6, 3)
    ax1.xaxis.set_major_locator(FixedLocator([1, 8, 16, 24, 32]))
    ax1.yaxis.set_major_locator(FixedLocator([1e-6, 1e-4, 1e-2, 1]))
    ax1.yaxis.set_minor_locator(NullLocator())
    plotting.labels(ax1, "target frequency k in sin(πkx)", "relative L2 test error",
                    f"same hidden layer, every k (λ = {_W_LAMS[i]:.3g}, N = {N})")
    return fig


#: Slider box of :func:`draw`; the first entry (lam) is the website scrubber's parameter.
SLIDERS = {
    "lam": LogSlider(0.5, 128.0, default=4.0, label="weight bound λ"),
    "k": IntSlider(1, 32, default=16, label="target frequency k"),
    "N": Choice(_W_WIDTHS, default=400, label="width N"),
}
