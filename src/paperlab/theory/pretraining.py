"""Unsupervised pretraining by MLE, then ERM downstream (Ge, Tang, Fan and Jin, ICLR 2024).

Explained in chapter ``pretraining-advantage``.

The paper ("On the Provable Advantage of Unsupervised Pretraining", arXiv 2303.01566) studies a
two-phase algorithm: fit a latent-variable model ``p_phi(x, z)`` by maximum
likelihood on ``m`` unlabeled points, then fit a downstream predictor ``psi`` by empirical risk
minimization on ``n`` labeled points, feeding it the representation the pretrained model gives.
Under an "informative" condition its excess risk is ``O~(sqrt(C_Phi / m) + sqrt(C_Psi / n))``,
against ``O~(sqrt(C_{Phi o Psi} / n))`` for supervised learning alone. Factor models are one of
the paper's worked instances. This module holds the smallest such instance, the one the chapter
runs:

* the factor model ``x = B z + sigma eps`` with ``z ~ N(0, I_r)``, ``eps ~ N(0, I_d)``, and the
  downstream task ``y = beta^T z + sigma_y xi`` (:func:`sample_factor_model`);
* pretraining: the maximum-likelihood factor model, in closed form because with isotropic noise
  it is probabilistic PCA (Tipping and Bishop, 1999): :func:`ppca_mle`,
  :func:`ppca_from_covariance`;
* the representation: the posterior mean ``E[z | x] = (B^T B + s2 I)^-1 B^T x``
  (:func:`posterior_map`, :func:`posterior_features`);
* downstream ERM: least squares on the features (:func:`erm_linear`; minimum-norm when the
  solution is not unique);
* the exact excess risk of any linear predictor ``x -> w^T x`` (:func:`excess_risk_linear`) and
  the best excess risk a given representation allows (:func:`representation_floor`);
* the chapter's experiment (:func:`run_grid`, :func:`experiment`) and its interactive figure
  (:func:`draw`, :data:`SLIDERS`).

The baseline is supervised ERM over the composed class ``Phi o Psi``: here every predictor
``x -> beta^T M_B x`` with ``M_B = (B^T B + sigma^2 I)^-1 B^T``, which is every linear function of
``x``. ERM over it is least squares on the raw ``x`` in ``R^d`` (minimum-norm when ``n < d``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from ..cache import cached
from ..threads import one_thread
from .. import plotting
from .._validate import check_array, check_int, check_real
from ..widgets import FloatSlider, IntSlider, LogSlider
from .common import ridge

__all__ = ["sample_factor_model", "ppca_from_covariance", "ppca_mle", "posterior_map",
           "posterior_features", "erm_linear", "excess_risk_linear", "representation_floor",
           "Grid", "run_grid", "experiment", "NS", "MS", "draw", "SLIDERS"]

#: Labeled sample sizes of the chapter's experiment (a log grid from 10 to 320).
NS: tuple[int, ...] = (10, 14, 20, 28, 40, 57, 80, 113, 160, 226, 320)
#: Unlabeled sample sizes of the chapter's experiment; 0 means "no pretraining" (supervised).
MS: tuple[int, ...] = (0, 60, 200, 1000, 10000)


# --------------------------------------------------------------------------- the model

def _check_dims(d, r) -> tuple[int, int]:
    d = check_int("d", d, 2)
    r = check_int("r", r, 1, d - 1)
    return d, r


def sample_factor_model(d: int, r: int, n: int, *, scale: float = 0.3, sigma: float = 1.0,
                        sigma_y: float = 0.5, seed: int = 0):
    """Draw one instance of the chapter's factor model and ``n`` labeled points from it.

    ``B`` has i.i.d. ``N(0, scale^2)`` entries and ``beta ~ N(0, I_r)``. Then
    ``z ~ N(0, I_r)``, ``x = B z + sigma eps`` and ``y = beta^T z + sigma_y xi`` (the factor
    model with a linear downstream task, one of the worked examples of Ge et al. (2024)). Returns
    ``(X, y, B, beta)`` with ``X`` of shape ``(n, d)``.
    """
    d, r = _check_dims(d, r)
    n = check_int("n", n, 1)
    scale = check_real("scale", scale, 0.0, lo_open=True)
    sigma = check_real("sigma", sigma, 0.0, lo_open=True)
    sigma_y = check_real("sigma_y", sigma_y, 0.0)
    rng = np.random.default_rng(check_int("seed", seed, 0))
    B = scale * rng.standard_normal((d, r))
    beta = rng.standard_normal(r)
    z = rng.standard_normal((n, r))
    X = z @ B.T + sigma * rng.standard_normal((n, d))
    y = z @ beta + sigma_y * rng.standard_normal(n)
    return X, y, B, beta


# --------------------------------------------------------------------------- pretraining (MLE)

def ppca_from_covariance(C, r: int) -> tuple[np.ndarray, np.ndarray | float]:
    """Maximum-likelihood factor model ``(B_hat, s2_hat)`` from a second-moment matrix ``C``.

    For ``x ~ N(0, B B^T + s2 I)`` the log-likelihood of ``m`` points depends on the data only
    through ``C = X^T X / m``, and its maximizer is probabilistic PCA (Tipping and Bishop 1999,
    their Eqs. (7)-(8)). With the eigenpairs ``(l_i, u_i)`` of ``C``, largest first,

    ``s2_hat = mean(l_{r+1}, ..., l_d)``,  ``B_hat = U_r diag(sqrt(max(l_i - s2_hat, 0)))``,

    up to any rotation ``B_hat -> B_hat Q`` (the likelihood cannot see it). ``C`` may be a stack
    of matrices, shape ``(..., d, d)``; the results are then stacked too. Raises ``ValueError``
    if ``s2_hat <= 0`` (degenerate data: the trailing eigenvalues vanish).
    """
    C = check_array("C", C)
    if C.ndim < 2 or C.shape[-1] != C.shape[-2]:
        raise ValueError(f"C must be a (stack of) square matrices, got shape {C.shape}")
    d = C.shape[-1]
    r = check_int("r", r, 1, d - 1)
    lam, U = np.linalg.eigh(C)                        # ascending
    s2 = lam[..., : d - r].mean(-1)
    if np.any(s2 <= 1e-12 * np.maximum(np.abs(lam[..., -1]), 1e-300)):
        raise ValueError("the MLE noise variance s2_hat = mean of the d - r smallest eigenvalues "
                         "is <= 0: the data are degenerate (too few points, or lying in an "
                         "r-dimensional subspace); use more points or a smaller r")
    top = lam[..., d - r:][..., ::-1]                 # l_1 >= ... >= l_r
    Ur = U[..., :, d - r:][..., ::-1]
    B = Ur * np.sqrt(np.maximum(top - s2[..., None], 0.0))[..., None, :]
    return B, (float(s2) if np.ndim(s2) == 0 else s2)


def ppca_mle(X, r: int) -> tuple[np.ndarray, float]:
    """Pretraining: the MLE ``(B_hat, s2_hat)`` of the factor model from unlabeled data ``X``.

    ``X`` has shape ``(m, d)``; the model has mean zero, so ``C = X^T X / m`` and the answer is
    :func:`ppca_from_covariance`. Needs ``1 <= r < d`` and ``m >= r + 1`` points.
    """
    X = check_array("X", X, ndim=2)
    m, d = X.shape
    _check_dims(d, r)
    if m < r + 1:
        raise ValueError(f"X must have at least r + 1 = {r + 1} rows (unlabeled points m >= r + 1), "
                         f"got m = {m}")
    return ppca_from_covariance(X.T @ X / m, r)


def posterior_map(B, s2) -> np.ndarray:
    """The matrix ``M = (B^T B + s2 I)^-1 B^T`` with ``E[z | x] = M x`` under the factor model.

    This is the learned representation that the downstream predictor reads. ``B`` may be a stack
    ``(..., d, r)`` with ``s2`` of shape ``(...)``.
    """
    B = check_array("B", B)
    if B.ndim < 2:
        raise ValueError(f"B must be a (d, r) matrix, got shape {B.shape}")
    s2 = np.asarray(check_array("s2", s2), dtype=float)
    if np.any(s2 <= 0):
        raise ValueError("s2 must be > 0 (a noise variance)")
    r = B.shape[-1]
    Bt = np.swapaxes(B, -1, -2)
    G = Bt @ B + s2[..., None, None] * np.eye(r)
    return np.linalg.solve(G, Bt)


def posterior_features(X, B, s2) -> np.ndarray:
    """Posterior-mean features ``z_hat(x) = (B^T B + s2 I)^-1 B^T x`` of the rows of ``X``."""
    X = check_array("X", X, ndim=2)
    B = check_array("B", B, ndim=2)
    if B.shape[0] != X.shape[1]:
        raise ValueError(f"B must have d = {X.shape[1]} rows (one per feature of X), got {B.shape}")
    return X @ posterior_map(B, s2).T


# --------------------------------------------------------------------------- downstream ERM

def erm_linear(F, y) -> np.ndarray:
    """Downstream ERM with the squared loss: ``argmin_beta sum_j (y_j - beta^T F_j)^2``.

    The minimum-norm solution when it is not unique (``n`` below the number of features), i.e.
    :func:`paperlab.theory.common.ridge` with ``ridge = 0``. ``F`` may be a stack
    ``(..., n, k)`` with ``y`` of shape ``(..., n)``; stacks are solved by a pseudo-inverse,
    which gives the same minimum-norm answer.
    """
    F = check_array("F", F)
    y = check_array("y", y)
    if F.ndim < 2 or y.shape != F.shape[:-1]:
        raise ValueError(f"F must be (..., n, k) and y (..., n); got {F.shape} and {y.shape}")
    if F.ndim == 2:
        return ridge(F, y, 0.0)
    return (np.linalg.pinv(F) @ y[..., None])[..., 0]


def excess_risk_linear(w, w_star, Sigma_x) -> np.ndarray | float:
    """Exact excess squared-loss risk ``(w - w*)^T Sigma_x (w - w*)`` of ``x -> w^T x``.

    With ``E[y | x] = w*^T x`` and ``E[x x^T] = Sigma_x``, the risk of ``w`` is the risk of
    ``w*`` plus this term. Stacks ``(..., d)`` and ``(..., d, d)`` are allowed.
    """
    w = check_array("w", w)
    w_star = check_array("w_star", w_star)
    S = check_array("Sigma_x", Sigma_x)
    if w.shape != w_star.shape or S.shape != w.shape + (w.shape[-1],):
        raise ValueError(f"w and w_star must have shape (..., d) and Sigma_x (..., d, d); got "
                         f"{w.shape}, {w_star.shape} and {S.shape}")
    e = w - w_star
    out = np.einsum("...i,...ij,...j->...", e, S, e)
    return float(out) if out.ndim == 0 else out


def representation_floor(M, w_star, Sigma_x) -> np.ndarray | float:
    """The least excess risk of any predictor ``x -> beta^T M x`` (the limit ``n -> infinity``).

    ``min_beta (M^T beta - w*)^T Sigma_x (M^T beta - w*)``: a projection of ``w*`` onto the row
    space of ``M`` in the ``Sigma_x`` inner product. It is zero for the true representation
    ``M = M_B`` and measures what pretraining on ``m`` points leaves on the table (the
    ``C_Phi / m`` term of the bound). Stacks are allowed.
    """
    M = check_array("M", M)
    w_star = check_array("w_star", w_star)
    S = check_array("Sigma_x", Sigma_x)
    a = M @ S @ w_star[..., None]                                   # (..., r, 1)
    G = M @ S @ np.swapaxes(M, -1, -2)                              # (..., r, r)
    gain = (np.swapaxes(a, -1, -2) @ np.linalg.pinv(G) @ a)[..., 0, 0]
    total = np.einsum("...i,...ij,...j->...", w_star, S, w_star)
    out = np.maximum(total - gain, 0.0)
    return float(out) if out.ndim == 0 else out


# --------------------------------------------------------------------------- the experiment

def _wishart(L: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """``sum_{i<=k} x_i x_i^T`` for ``k`` fresh points ``x_i ~ N(0, L L^T)``, for a stack of ``L``.

    For ``k <= d`` the points are drawn; for ``k > d`` the sum is drawn directly from its
    Wishart law by the Bartlett decomposition (the same distribution, at a cost independent
    of ``k``). Pretraining only sees this sum, so ``m = 10^4`` costs no more than ``m = d``.
    """
    R, d, _ = L.shape
    if k <= d:
        A = L @ rng.standard_normal((R, d, k))
    else:
        T = np.tril(rng.standard_normal((R, d, d)), -1)
        idx = np.arange(d)
        T[:, idx, idx] = np.sqrt(rng.chisquare(k - idx, size=(R, d)))
        A = L @ T
    return A @ np.swapaxes(A, -1, -2)


@dataclass(frozen=True)
class Grid:
    """Excess risks of the chapter's experiment, per repetition.

    ``excess[s, i, j]``: repetition ``s``, unlabeled size ``ms[i]`` (``0`` = supervised least
    squares on raw ``x``), labeled size ``ns[j]``. ``floor[s, i]``: :func:`representation_floor`
    of the pretrained representation (NaN for ``m = 0``). ``oracle[s, j]``: ERM on the true
    posterior features (``m = infinity``).
    """

    d: int
    r: int
    scale: float
    ns: tuple[int, ...]
    ms: tuple[int, ...]
    excess: np.ndarray
    floor: np.ndarray
    oracle: np.ndarray

    def median(self, m: int, n: int | None = None):
        """Median excess risk over repetitions at ``m`` (all ``ns``, or one ``n``)."""
        if m not in self.ms:
            raise ValueError(f"m must be one of the simulated sizes {list(self.ms)}, got {m}")
        row = np.median(self.excess[:, self.ms.index(m)], axis=0)
        if n is None:
            return row
        if n not in self.ns:
            raise ValueError(f"n must be one of the simulated sizes {list(self.ns)}, got {n}")
        return float(row[self.ns.index(n)])

    def table(self) -> str:
        """Median excess risk for every ``(m, n)``, as text."""
        head = "m \\ n     " + "".join(f"{n:>8d}" for n in self.ns)
        lines = [head]
        for m in self.ms:
            name = "supervised" if m == 0 else f"{m:<10d}"
            lines.append(f"{name:<10}" + "".join(f"{v:8.4f}" for v in self.median(m)))
        lines.append(f"{'oracle':<10}" + "".join(f"{v:8.4f}" for v in np.median(self.oracle, 0)))
        return "\n".join(lines)


def run_grid(d: int = 50, r: int = 3, ns=NS, ms=MS, reps: int = 20, seed: int = 0, *,
             scale: float = 0.3, sigma: float = 1.0, sigma_y: float = 0.5) -> Grid:
    """Excess risk of MLE pretraining + ERM against supervised ERM over a grid of ``(m, n)``.

    Each repetition draws a factor model (:func:`sample_factor_model`), a nested sequence of
    unlabeled sets (the first ``m`` points for every ``m`` in ``ms``) and a nested sequence of
    labeled sets (the first ``n`` points), independent of each other. For every ``m > 0`` it
    pretrains (:func:`ppca_from_covariance` on the unlabeled second moment), builds the
    representation (:func:`posterior_map`) and, for every ``n``, runs ERM on the ``n`` labeled
    features (:func:`erm_linear`): the MLE + ERM algorithm of Ge et al. (2024). ``m = 0`` is the supervised
    baseline, minimum-norm least squares on raw ``x``. The excess risk of the resulting linear
    predictor ``w = M_hat^T beta_hat`` is exact (:func:`excess_risk_linear`). All repetitions
    run at once as stacked arrays (on one BLAS thread: these matrices are small, and threads only
    add overhead).
    """
    with one_thread():
        return _run_grid(d, r, ns, ms, reps, seed, scale, sigma, sigma_y)


def _run_grid(d, r, ns, ms, reps, seed, scale, sigma, sigma_y) -> Grid:
    d, r = _check_dims(d, r)
    ns = tuple(check_int("n", n, 1) for n in ns)
    ms = tuple(check_int("m", m, 0) for m in ms)
    if not ns or not ms:
        raise ValueError("ns and ms must be non-empty")
    for m in ms:
        if 0 < m < r + 1:
            raise ValueError(f"every m must be 0 (no pretraining) or >= r + 1 = {r + 1}, got m = {m}")
    R = check_int("reps", reps, 1)
    scale = check_real("scale", scale, 0.0, lo_open=True)
    sigma = check_real("sigma", sigma, 0.0, lo_open=True)
    sigma_y = check_real("sigma_y", sigma_y, 0.0)
    rng = np.random.default_rng(check_int("seed", seed, 0))

    B = scale * rng.standard_normal((R, d, r))
    beta = rng.standard_normal((R, r))
    Sigma = B @ np.swapaxes(B, 1, 2) + sigma ** 2 * np.eye(d)
    M_true = posterior_map(B, np.full(R, sigma ** 2))                 # (R, r, d)
    w_star = (np.swapaxes(M_true, 1, 2) @ beta[..., None])[..., 0]   # (R, d)

    N = max(ns)
    z = rng.standard_normal((R, N, r))
    X = z @ np.swapaxes(B, 1, 2) + sigma * rng.standard_normal((R, N, d))
    y = (z @ beta[..., None])[..., 0] + sigma_y * rng.standard_normal((R, N))

    def downstream(M: np.ndarray) -> np.ndarray:     # ERM on features X M^T, every n
        F = X @ np.swapaxes(M, 1, 2)
        out = np.empty((R, len(ns)))
        for j, n in enumerate(ns):
            b = erm_linear(F[:, :n], y[:, :n])
            w = (np.swapaxes(M, 1, 2) @ b[..., None])[..., 0]
            out[:, j] = excess_risk_linear(w, w_star, Sigma)
        return out

    excess = np.empty((R, len(ms), len(ns)))
    floor = np.full((R, len(ms)), np.nan)
    L = np.linalg.cholesky(Sigma)
    S_acc, seen = np.zeros((R, d, d)), 0
    for m in sorted(set(ms) - {0}):                  # nested unlabeled sets, smallest first
        S_acc = S_acc + _wishart(L, m - seen, rng)
        seen = m
        B_hat, s2_hat = ppca_from_covariance(S_acc / m, r)
        M_hat = posterior_map(B_hat, s2_hat)
        i = ms.index(m)
        excess[:, i] = downstream(M_hat)
        floor[:, i] = representation_floor(M_hat, w_star, Sigma)
    if 0 in ms:                                      # supervised: least squares on raw x
        i = ms.index(0)
        for j, n in enumerate(ns):
            w = erm_linear(X[:, :n], y[:, :n])
            excess[:, i, j] = excess_risk_linear(w, w_star, Sigma)
    # repeated m values share one computation
    for i, m in enumerate(ms):
        excess[:, i] = excess[:, ms.index(m)]
        floor[:, i] = floor[:, ms.index(m)]
    return Grid(d=d, r=r, scale=scale, ns=ns, ms=ms, excess=excess, floor=floor,
                oracle=downstream(M_true))


@cached(maxsize=4)
def experiment(d: int = 50, r: int = 3, reps: int = 20, seed: int = 0, scale: float = 0.3) -> Grid:
    """The chapter's experiment: :func:`run_grid` on :data:`NS` x :data:`MS`, cached."""
    return run_grid(d=d, r=r, ns=NS, ms=MS, reps=reps, seed=seed, scale=scale)


# --------------------------------------------------------------------------- interactive figure

#: Unlabeled sizes the slider snaps to (log grid, 20 to 10^4).
_W_MS: tuple[int, ...] = (20, 45, 100, 200, 450, 1000, 2000, 4500, 10000)
_W_NS: tuple[int, ...] = (10, 14, 20, 28, 40, 57, 80, 160, 320)
_W_REPS = 8


@cached(maxsize=64)
def _widget_grid(r: int, scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    g = run_grid(50, r, _W_NS, (0,) + _W_MS, _W_REPS, 0, scale=scale)
    med = np.median(g.excess, axis=0)                 # (1 + len(_W_MS), len(_W_NS))
    return med[0], med[1:], np.median(g.floor[:, 1:], axis=0), np.median(g.oracle, axis=0)


def draw(m: float = 1000.0, r: int = 3, scale: float = 0.3) -> Figure:
    """The chapter's interactive figure (chapter ``pretraining-advantage``, section Explore).

    Left: median excess risk (d = 50) against the labeled size ``n`` for
    supervised least squares, for pretraining on ``m`` unlabeled points + ERM (``m`` snaps to a
    log grid; 8 repetitions, computed once per ``(r, scale)``), with its representation floor,
    and for the true representation. Right: the same
    at n = 40 and n = 320 against ``m``, with the supervised risks as horizontal lines.
    """
    m = check_real("m", m, 20.0, 10000.0)
    r = check_int("r", r, 1, 6)
    scale = check_real("scale", scale, 0.1, 1.0)
    i = int(np.argmin(np.abs(np.log(np.asarray(_W_MS, float)) - np.log(m))))
    m_eff = _W_MS[i]
    sup, pre, floor, oracle = _widget_grid(r, round(scale, 1))
    pal = plotting.PALETTE
    fig, (ax0, ax1) = plotting.figure(2, width=9.4, height=3.6, layout="fixed")
    ns = np.asarray(_W_NS, float)
    ax0.plot(ns, sup, "o-", ms=3, color=pal[1])
    ax0.plot(ns, pre[i], "o-", ms=3, color=pal[0])
    ax0.axhline(floor[i], color=pal[0], lw=1, ls=":")
    ax0.plot(ns, oracle, color="grey", lw=1.2, ls="--")
    ax0.axvline(50, color="black", lw=0.6, ls=":")
    ax0.set(xscale="log", yscale="log", ylim=(1e-4, 30))
    ax0.set_xticks((10, 30, 100, 300), ("10", "30", "100", "300"))
    ax0.set_yticks((1e-4, 1e-2, 1), ("0.0001", "0.01", "1"))
    ax0.minorticks_off()
    plotting.key(ax0, [("supervised (m = 0)", pal[1]), (f"pretrained, m = {m_eff}", pal[0]),
                       ("its floor (n → ∞)", pal[0], "⋯"), ("true representation", "grey", "--")])
    plotting.labels(ax0, "labeled points n", "excess risk", f"d = 50, r = {r}, scale {scale:.1f}")

    mm = np.asarray(_W_MS, float)
    for j, c in ((_W_NS.index(40), pal[2]), (_W_NS.index(320), pal[4])):
        ax1.plot(mm, pre[:, j], "o-", ms=3, color=c)
        ax1.axhline(sup[j], color=c, lw=1, ls="--")
    ax1.plot(mm, floor, color=pal[0], lw=1, ls=":")
    ax1.axvline(m_eff, color="black", lw=0.6)
    ax1.set(xscale="log", yscale="log", ylim=(1e-4, 30))
    ax1.set_xticks((30, 300, 3000), ("30", "300", "3000"))
    ax1.set_yticks((1e-4, 1e-2, 1), ("", "", ""))
    ax1.minorticks_off()
    plotting.key(ax1, [("pretrained, n = 40", pal[2]), ("pretrained, n = 320", pal[4]),
                       ("supervised", "black", "--"), ("floor (n → ∞)", pal[0], "⋯")])
    plotting.labels(ax1, "unlabeled points m", "", "more unlabeled data")
    return fig


#: Slider box of :func:`draw`; the first entry (m) is the website scrubber's parameter.
SLIDERS = {
    "m": LogSlider(20.0, 10000.0, default=1000.0, label="unlabeled points m"),
    "r": IntSlider(1, 6, default=3, label="latent dimension r"),
    "scale": FloatSlider(0.1, 1.0, default=0.3, step=0.1, label="signal scale of B"),
}
