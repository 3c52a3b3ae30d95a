"""Small-gain certificates for gradient play in games (Sharma, arXiv:2512.06791, 2025).

Explained in chapter ``small-gain-nash``.

Notation (as in the chapter). Player ``i = 1..N`` controls a block ``x_i`` of the joint strategy
``x`` and minimises its own cost ``f_i(x)``. The *pseudo-gradient* stacks every player's own
gradient, ``F(x) = (grad_{x_1} f_1(x), ..., grad_{x_N} f_N(x))``; a Nash equilibrium of an
unconstrained game is a zero of ``F``, and *gradient play* is the Euler step
``x <- x - h F(x)`` (projected onto the strategy sets when there are any).

The small-gain Nash (SGN) certificate uses only

* ``mu_i > 0``: player ``i``'s own curvature,
  ``<F_i(x) - F_i(y), x_i - y_i> >= mu_i ||x_i - y_i||^2`` when only ``x_i`` moves;
* ``L_ij >= 0``: how strongly player ``j``'s move shifts player ``i``'s gradient,
  ``||F_i(x) - F_i(y)|| <= L_ij ||x_j - y_j||`` when only ``x_j`` moves.

For weights ``w > 0`` the *SGN matrix* ``M(w)`` has ``M_ii = w_i mu_i`` and
``M_ij = -(w_i L_ij + w_j L_ji) / 2`` (:func:`sgn_matrix`). If ``M(w)`` is positive definite, ``F``
is strongly monotone in the weighted inner product ``<u, v>_W = sum_i w_i <u_i, v_i>`` with
constant ``alpha(w) = lambda_min(W^{-1/2} M(w) W^{-1/2})`` (:func:`sgn_margin`), even when it is not
monotone in the Euclidean one. Gradient play then contracts in ``||.||_W`` for every step
``h < 2 alpha / ell_W^2`` (:func:`certify`), ``ell_W`` being ``F``'s Lipschitz constant in that
norm.

This module holds the certificate (:func:`sgn_matrix`, :func:`sgn_margin`, :func:`small_gain_ratio`,
:func:`weight_band`, :func:`certify`), gradient play (:func:`gradient_play`), the quadratic test
game of Section 5.1 of the paper (:func:`quadratic_game`; it lives here, not in
``paperlab.data``, because only this chapter uses it), the chapter's three cases
(:data:`CASES`) and its interactive figure (:func:`draw`, :data:`SLIDERS`).

Constants follow the authors' code (github.com/AashVed/SmallGainNash): the margin is the
weighted-metric constant ``lambda_min(W^{-1/2} M W^{-1/2})`` (their ``sgn_margin``), the Euler
bound is ``2 alpha / ell_W^2`` with ``ell_W = ||W^{1/2} J W^{-1/2}||_2`` (their
``lipschitz_constant``), and the two-player band is the closed form of their ``two_player_band``
(written there for the ratio ``w_2/w_1``; here for ``r = w_1/w_2``).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator
from scipy.optimize import minimize

from ..cache import cached
from .. import plotting
from .._validate import check_array, check_int, check_real
from ..widgets import FloatSlider
from .common import Curve

__all__ = ["sgn_matrix", "sgn_margin", "small_gain_ratio", "weight_band", "band_margin",
           "Certificate", "certify", "metric_lipschitz", "w_norm", "gradient_play",
           "w_step_ratios", "stable_step_limit",
           "QuadraticGame", "quadratic_game", "CASES", "case_game", "case_runs",
           "random_starts", "random_players", "n_player_study", "draw", "SLIDERS"]

#: Iterates whose Euclidean norm exceeds this are treated as diverged by :func:`gradient_play`.
BLOW_UP = 1e100


# --------------------------------------------------------------------------- validation

def _check_mu_L(mu, L) -> tuple[np.ndarray, np.ndarray]:
    """``mu``: a positive vector of length ``N``; ``L``: ``(N, N)``, nonnegative, zero diagonal."""
    mu = check_array("mu", mu, ndim=1)
    if mu.size < 1:
        raise ValueError("mu must have one entry per player, got an empty array")
    if np.any(mu <= 0):
        raise ValueError(f"mu must be positive (each player's own curvature mu_i > 0), got "
                         f"{mu.tolist()}")
    n = mu.size
    L = check_array("L", L, ndim=2, shape=(n, n))
    if np.any(L < 0):
        raise ValueError("L must be nonnegative: L_ij is a Lipschitz bound on how player j's "
                         "move shifts player i's gradient")
    if np.any(np.diag(L) != 0):
        raise ValueError("L must have a zero diagonal: L_ii is not a cross-player coupling "
                         "(own curvature goes in mu)")
    return mu, L


def _check_w(w, n: int) -> np.ndarray:
    w = check_array("w", w, ndim=1, shape=(n,))
    if np.any(w <= 0):
        raise ValueError(f"w must be positive (one metric weight per player), got {w.tolist()}")
    return w


def _check_blocks(blocks, n_players: int, size: int) -> tuple[int, ...]:
    """Block sizes of the players in a joint vector of length ``size`` (equal split if None)."""
    if blocks is None:
        if size % n_players:
            raise ValueError(f"cannot split a vector of length {size} into {n_players} equal "
                             f"player blocks; pass blocks=(d_1, ..., d_N)")
        return (size // n_players,) * n_players
    b = tuple(check_int("blocks[i]", v, 1) for v in blocks)
    if len(b) != n_players or sum(b) != size:
        raise ValueError(f"blocks must give {n_players} positive sizes summing to {size}, got {b}")
    return b


# --------------------------------------------------------------------------- the certificate

def sgn_matrix(mu, L, w) -> np.ndarray:
    """The SGN matrix ``M(w)`` of Sharma (2025), chapter Eq. (3).

    ``M_ii = w_i mu_i`` and ``M_ij = -(w_i L_ij + w_j L_ji) / 2`` for ``i != j``. It is
    ``(W A + A^T W) / 2`` with ``W = diag(w)`` and the comparison matrix ``A = diag(mu) - L``.
    The certificate holds when it is positive definite. Explained in chapter ``small-gain-nash``.
    """
    mu, L = _check_mu_L(mu, L)
    w = _check_w(w, mu.size)
    M = -0.5 * (w[:, None] * L + (w[:, None] * L).T)
    M[np.diag_indices_from(M)] = w * mu
    return M


def sgn_margin(mu, L, w) -> float:
    """The SGN margin ``alpha(w) = lambda_min(W^{-1/2} M(w) W^{-1/2})``, chapter Eq. (4).

    The strong-monotonicity constant that the certificate guarantees in the metric
    ``||x||_W^2 = sum_i w_i ||x_i||^2``: ``<F(x) - F(y), x - y>_W >= alpha ||x - y||_W^2``.
    Positive exactly when ``M(w)`` is positive definite. It does not change when ``w`` is
    scaled, and it is at least ``lambda_min(M(w)) / max_i w_i``. Same constant as
    ``sgn_margin`` in the authors' code. Explained in chapter ``small-gain-nash``.
    """
    mu, L = _check_mu_L(mu, L)
    w = _check_w(w, mu.size)
    s = 1.0 / np.sqrt(w)
    return float(np.linalg.eigvalsh(sgn_matrix(mu, L, w) * s[:, None] * s[None, :])[0])


def small_gain_ratio(mu, L) -> float:
    """``rho(diag(mu)^{-1} L)``: a certificate exists for some ``w > 0`` iff it is below 1.

    ``M(w) = (W A + A^T W)/2`` with the Z-matrix ``A = diag(mu) - L``. Some positive diagonal
    ``W`` makes it positive definite exactly when ``A`` is a nonsingular M-matrix, that is
    when this spectral radius is below 1 (the small-gain condition). Two players:
    ``sqrt(L_12 L_21 / (mu_1 mu_2))``. Explained in chapter ``small-gain-nash``.
    """
    mu, L = _check_mu_L(mu, L)
    return float(np.max(np.abs(np.linalg.eigvals(L / mu[:, None]))))


def weight_band(mu1: float, mu2: float, L12: float, L21: float) -> tuple[float, float] | None:
    """The two-player timescale band: ratios ``r = w_1/w_2`` with ``M(w)`` positive definite.

    ``M(w) > 0`` iff ``(r L_12 + L_21)^2 < 4 r mu_1 mu_2`` (chapter Eq. (5)), whose roots are
    ``r_pm = [2 mu_1 mu_2 - L_12 L_21 pm 2 sqrt(mu_1 mu_2 (mu_1 mu_2 - L_12 L_21))] / L_12^2``.
    Returns ``(r_lo, r_hi)`` (``r_lo`` may be 0 and ``r_hi`` infinite when a coupling is 0), or
    ``None`` when the band is empty, that is when ``L_12 L_21 >= mu_1 mu_2``. Explained in
    chapter ``small-gain-nash``.
    """
    mu1 = check_real("mu1", mu1, 0.0, lo_open=True)
    mu2 = check_real("mu2", mu2, 0.0, lo_open=True)
    L12 = check_real("L12", L12, 0.0)
    L21 = check_real("L21", L21, 0.0)
    p, q = mu1 * mu2, L12 * L21
    if q >= p:
        return None
    if L12 == 0.0:                           # L21^2 < 4 r p
        return (L21**2 / (4 * p), float("inf"))
    root = 2.0 * np.sqrt(p * (p - q))
    lo, hi = (2 * p - q - root) / L12**2, (2 * p - q + root) / L12**2
    if L21 == 0.0:
        lo = 0.0
    else:                                    # the same root, computed without cancellation
        lo = (L21 / L12) ** 2 / hi
    return (float(lo), float(hi))


def band_margin(r, mu1: float, mu2: float, L12: float, L21: float) -> np.ndarray:
    """``alpha`` at weights ``w = (r, 1)`` for two players, for an array of ratios ``r``.

    In closed form, ``alpha(r) = (mu_1 + mu_2)/2 - sqrt(((mu_1 - mu_2)/2)^2 + k(r)^2/4)`` with
    ``k(r) = L_12 sqrt(r) + L_21 / sqrt(r)``: the smallest eigenvalue of the 2x2 matrix
    ``W^{-1/2} M W^{-1/2}``. ``k`` is smallest, so ``alpha`` largest, at ``r* = L_21 / L_12``.
    Explained in chapter ``small-gain-nash``.
    """
    r = check_array("r", r, ndim=None)
    if np.any(r <= 0):
        raise ValueError("r must be positive (a ratio of weights w_1/w_2)")
    mu1 = check_real("mu1", mu1, 0.0, lo_open=True)
    mu2 = check_real("mu2", mu2, 0.0, lo_open=True)
    L12 = check_real("L12", L12, 0.0)
    L21 = check_real("L21", L21, 0.0)
    k = L12 * np.sqrt(r) + L21 / np.sqrt(r)
    return 0.5 * (mu1 + mu2) - np.sqrt(0.25 * (mu1 - mu2) ** 2 + 0.25 * k**2)


def _expand(w: np.ndarray, blocks: Sequence[int]) -> np.ndarray:
    return np.repeat(w, blocks)


def metric_lipschitz(J, w, blocks: Sequence[int] | None = None) -> float:
    """``ell_W = ||W^{1/2} J W^{-1/2}||_2``: ``F(x) = J x``'s Lipschitz constant in ``||.||_W``.

    ``W`` repeats player ``i``'s weight ``w_i`` over its block (sizes ``blocks``; an equal split
    if ``None``). Same constant as ``lipschitz_constant`` in the authors' code. Explained in
    chapter ``small-gain-nash``.
    """
    J = check_array("J", J, ndim=2)
    if J.shape[0] != J.shape[1]:
        raise ValueError(f"J must be square, got shape {J.shape}")
    w = check_array("w", w, ndim=1)
    if w.size < 1 or np.any(w <= 0):
        raise ValueError(f"w must be positive (one metric weight per player), got {w.tolist()}")
    d = np.sqrt(_expand(w, _check_blocks(blocks, w.size, J.shape[0])))
    return float(np.linalg.norm(d[:, None] * J / d[None, :], 2))


def w_norm(x, w, blocks: Sequence[int] | None = None) -> np.ndarray:
    """``||x||_W = sqrt(sum_i w_i ||x_i||^2)`` for a vector ``x`` or each row of an array.

    Explained in chapter ``small-gain-nash``.
    """
    x = check_array("x", x, finite=False)
    if x.ndim not in (1, 2):
        raise ValueError(f"x must be a vector or a 2-D array of vectors, got shape {x.shape}")
    w = check_array("w", w, ndim=1)
    if np.any(w <= 0):
        raise ValueError(f"w must be positive, got {w.tolist()}")
    ww = _expand(w, _check_blocks(blocks, w.size, x.shape[-1]))
    return np.sqrt((x**2) @ ww)


@dataclass(frozen=True)
class Certificate:
    """The output of :func:`certify`.

    Attributes
    ----------
    weights:
        The metric weights ``w`` (largest entry 1) chosen to maximise the margin.
    margin:
        ``alpha(w)`` of :func:`sgn_margin`; the certificate holds when it is positive.
    ratio:
        ``rho(diag(mu)^{-1} L)`` of :func:`small_gain_ratio`; below 1 iff some ``w`` certifies.
    lipschitz:
        ``ell_W`` of :func:`metric_lipschitz` when a Jacobian was given, else ``None``.
    h_max:
        The certified Euler step bound ``2 alpha / ell_W^2`` (``None`` without a Jacobian or
        without a certificate).
    blocks:
        The players' block sizes (``None`` when no Jacobian was given).
    """

    weights: np.ndarray
    margin: float
    ratio: float
    lipschitz: float | None
    h_max: float | None
    blocks: tuple[int, ...] | None

    @property
    def certified(self) -> bool:
        """True when ``M(w)`` is positive definite (the margin is positive)."""
        return self.margin > 0

    def factor(self, h: float) -> float:
        """The certified per-step factor ``sqrt(1 - 2 h alpha + h^2 ell_W^2)`` of chapter Eq. (7).

        ``||x_{k+1} - x*||_W <= factor(h) ||x_k - x*||_W`` for gradient play with step ``h``;
        below 1 exactly when ``0 < h < h_max``.
        """
        h = check_real("h", h, 0.0, lo_open=True)
        if self.lipschitz is None:
            raise ValueError("factor(h) needs the Lipschitz constant: call certify(mu, L, J=...)")
        return float(np.sqrt(max(1.0 - 2 * h * self.margin + h**2 * self.lipschitz**2, 0.0)))


def _m_matrix_weights(mu: np.ndarray, L: np.ndarray) -> np.ndarray:
    """Weights that certify whenever ``A = diag(mu) - L`` is a nonsingular M-matrix.

    With ``x = A^{-1} 1 > 0`` and ``y = A^{-T} 1 > 0``, ``w = y / x`` makes ``W A + A^T W``
    positive definite (a classical construction for M-matrices); a good starting point.
    """
    A = np.diag(mu) - L
    try:
        x = np.linalg.solve(A, np.ones(mu.size))
        y = np.linalg.solve(A.T, np.ones(mu.size))
    except np.linalg.LinAlgError:
        return np.ones(mu.size)
    if np.all(x > 0) and np.all(y > 0):
        return y / x
    return np.ones(mu.size)


def _best_weights(mu: np.ndarray, L: np.ndarray) -> np.ndarray:
    """Weights that maximise ``alpha(w)`` (largest entry 1).

    Two players with both couplings positive: the closed form ``w_1/w_2 = L_21/L_12``
    (chapter Eq. (6)). Otherwise: maximise ``alpha(exp(u))`` over ``u`` (the last entry fixed at
    0, entries kept in [-25, 25]) with Nelder-Mead from the M-matrix weights.
    """
    n = mu.size
    if n == 1:
        return np.ones(1)
    if n == 2 and L[0, 1] > 0 and L[1, 0] > 0:
        w = np.array([L[1, 0] / L[0, 1], 1.0])
        return w / w.max()
    w0 = _m_matrix_weights(mu, L)
    u0 = np.log(w0[:-1] / w0[-1])

    def neg_alpha(u: np.ndarray) -> float:
        w = np.exp(np.append(np.clip(u, -25.0, 25.0), 0.0))
        s = 1.0 / np.sqrt(w)
        M = -0.5 * (w[:, None] * L + (w[:, None] * L).T)
        M[np.diag_indices_from(M)] = w * mu
        return -float(np.linalg.eigvalsh(M * s[:, None] * s[None, :])[0])

    res = minimize(neg_alpha, u0, method="Nelder-Mead",
                   options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 4000 * n})
    u = res.x if res.fun <= neg_alpha(u0) else u0
    w = np.exp(np.append(np.clip(u, -25.0, 25.0), 0.0))
    return w / w.max()


def certify(mu, L, J=None, blocks: Sequence[int] | None = None) -> Certificate:
    """The SGN certificate of Sharma (2025): metric weights, margin, rate and safe Euler step.

    1. Weights ``w`` that maximise the margin ``alpha(w)`` of :func:`sgn_margin` (closed form for
       two players, chapter Eq. (6); numerical optimisation over ``log w`` otherwise).
    2. If ``J`` (the Jacobian of ``F``, or a bound on it for a linear game) is given, the
       Lipschitz constant ``ell_W`` of :func:`metric_lipschitz` and the step bound
       ``h_max = 2 alpha / ell_W^2`` (chapter Eq. (7)): projected gradient play contracts in
       ``||.||_W`` by ``sqrt(1 - 2 h alpha + h^2 ell_W^2) < 1`` for every ``0 < h < h_max``.

    ``mu`` has one entry per player; ``L`` is ``(N, N)`` with zero diagonal; ``blocks`` are the
    players' block sizes in ``J`` (an equal split if ``None``). Explained in chapter
    ``small-gain-nash``.
    """
    mu, L = _check_mu_L(mu, L)
    w = _best_weights(mu, L)
    alpha = sgn_margin(mu, L, w)
    rho = small_gain_ratio(mu, L)
    ell = h_max = bl = None
    if J is not None:
        J = check_array("J", J, ndim=2)
        if J.shape[0] != J.shape[1]:
            raise ValueError(f"J must be square, got shape {J.shape}")
        bl = _check_blocks(blocks, mu.size, J.shape[0])
        ell = metric_lipschitz(J, w, bl)
        if alpha > 0 and ell > 0:
            h_max = 2 * alpha / ell**2
    return Certificate(weights=w, margin=alpha, ratio=rho, lipschitz=ell, h_max=h_max, blocks=bl)


# --------------------------------------------------------------------------- gradient play

def gradient_play(F: Callable[[np.ndarray], np.ndarray], x0, h: float, steps: int,
                  proj: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """Simultaneous gradient play, the (projected) Euler step of chapter Eq. (1).

    ``x_{k+1} = Pi(x_k - h F(x_k))``: every player steps along its own negative gradient with
    the same step ``h``; ``Pi`` is ``proj`` (identity if ``None``), the projection onto the
    product of the players' strategy sets. Returns the array ``(steps + 1, n)`` of iterates.
    A run whose iterate exceeds ``BLOW_UP`` in norm has diverged: it stops there and the rows
    after it are ``inf``. Explained in chapter ``small-gain-nash``.
    """
    if not callable(F):
        raise ValueError(f"F must be a function x -> F(x), got {F!r}")
    x = check_array("x0", x0, ndim=1).copy()
    h = check_real("h", h, 0.0, lo_open=True)
    steps = check_int("steps", steps, 0)
    if proj is not None and not callable(proj):
        raise ValueError(f"proj must be a function x -> Pi(x) or None, got {proj!r}")
    traj = np.full((steps + 1, x.size), np.inf)
    traj[0] = x
    for k in range(steps):
        g = np.asarray(F(x), dtype=float)
        if g.shape != x.shape:
            raise ValueError(f"F(x) must have the shape of x, {x.shape}, got {g.shape}")
        x = x - h * g
        if proj is not None:
            x = np.asarray(proj(x), dtype=float)
        if not np.all(np.isfinite(x)) or np.linalg.norm(x) > BLOW_UP:
            break
        traj[k + 1] = x
    return traj


def w_step_ratios(J, w, h: float, X0, steps: int, blocks: Sequence[int] | None = None
                  ) -> np.ndarray:
    """``||x_{k+1}||_W^2 / ||x_k||_W^2`` for gradient play on ``F(x) = J x`` (Nash at 0).

    One row per step ``k = 0..steps-1``, one column per starting point (rows of ``X0``). The
    certificate promises every entry is at most ``1 - 2 h alpha + h^2 ell_W^2`` (chapter
    Eq. (7)). Explained in chapter ``small-gain-nash``.
    """
    J = check_array("J", J, ndim=2)
    if J.shape[0] != J.shape[1]:
        raise ValueError(f"J must be square, got shape {J.shape}")
    w = check_array("w", w, ndim=1)
    if np.any(w <= 0):
        raise ValueError(f"w must be positive, got {w.tolist()}")
    h = check_real("h", h, 0.0, lo_open=True)
    X0 = check_array("X0", X0, ndim=2, shape=(None, J.shape[0]))
    steps = check_int("steps", steps, 1)
    d = _expand(w, _check_blocks(blocks, w.size, J.shape[0]))
    sq = (_linear_play(J, X0, h, steps) ** 2) @ d
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return sq[1:] / sq[:-1]


def stable_step_limit(J) -> float:
    """The true stability limit of gradient play on ``F(x) = J x``: the largest ``h_true`` with
    ``rho(I - h J) < 1`` for every ``0 < h < h_true``.

    ``|1 - h lambda| < 1`` iff ``0 < h < 2 Re(lambda) / |lambda|^2`` for each eigenvalue
    ``lambda`` of ``J``; 0 if some eigenvalue has ``Re(lambda) <= 0`` (no step converges). The
    certificate's ``h_max`` is a lower bound on it. Explained in chapter ``small-gain-nash``.
    """
    J = check_array("J", J, ndim=2)
    if J.shape[0] != J.shape[1]:
        raise ValueError(f"J must be square, got shape {J.shape}")
    lam = np.linalg.eigvals(J)
    if np.any(lam.real <= 0):
        return 0.0
    return float(np.min(2 * lam.real / np.abs(lam) ** 2))


def _linear_play(J: np.ndarray, X0: np.ndarray, h: float, steps: int) -> np.ndarray:
    """Gradient play on ``F(x) = J x`` from many starts at once: ``(steps + 1, m, n)``."""
    T = np.eye(J.shape[0]) - h * J
    out = np.empty((steps + 1,) + X0.shape)
    out[0] = X0
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(steps):
            out[k + 1] = out[k] @ T.T
    return out


# --------------------------------------------------------------------------- the test game

@dataclass(frozen=True)
class QuadraticGame:
    """A two-player quadratic game with its Nash equilibrium at 0.

    ``f_1(x) = x_1^T H_1 x_1 / 2 + a x_1^T R x_2`` and
    ``f_2(x) = x_2^T H_2 x_2 / 2 + b x_1^T R x_2``, so ``F(x) = J x`` with
    ``J = [[H_1, a R], [b R^T, H_2]]``. ``mu = (lambda_min(H_1), lambda_min(H_2))`` and
    ``L = [[0, |a|], [|b|, 0]]`` (``||R||_2 = 1``) are the constants the certificate uses.
    """

    J: np.ndarray
    mu: np.ndarray
    L: np.ndarray
    blocks: tuple[int, int]
    a: float
    b: float

    def F(self, x: np.ndarray) -> np.ndarray:
        """The pseudo-gradient ``(grad_{x_1} f_1, grad_{x_2} f_2) = J x``."""
        return self.J @ x

    @property
    def euclidean_margin(self) -> float:
        """``lambda_min((J + J^T)/2)``: Rosen's test, positive iff ``F`` is strongly monotone."""
        return float(np.linalg.eigvalsh(0.5 * (self.J + self.J.T))[0])

    def certify(self) -> Certificate:
        """:func:`certify` with this game's constants and Jacobian."""
        return certify(self.mu, self.L, J=self.J, blocks=self.blocks)


def quadratic_game(mu1: float = 1.0, mu2: float = 1.0, a: float = 3.0, b: float = 0.2,
                   dim: int = 1, *, seed: int = 0) -> QuadraticGame:
    """The quadratic game of Section 5.1 of Sharma (2025), and a block version.

    ``dim = 1``: ``f_1 = mu_1 x_1^2 / 2 + a x_1 x_2`` and ``f_2 = mu_2 x_2^2 / 2 + b x_1 x_2``, so
    ``J = [[mu_1, a], [b, mu_2]]`` (the paper's example has ``mu = (1, 1)``, ``a = 10``,
    ``b = 0.05``). ``dim > 1``: each player has ``dim`` coordinates, ``H_i`` has eigenvalues
    evenly spaced from ``mu_i`` to ``2 mu_i`` in a random basis, and ``R`` is a random matrix of
    spectral norm 1 (both drawn with ``seed``), so the certificate's constants are the same
    but no longer exact. Explained in chapter ``small-gain-nash``.
    """
    mu1 = check_real("mu1", mu1, 0.0, lo_open=True)
    mu2 = check_real("mu2", mu2, 0.0, lo_open=True)
    a = check_real("a", a)
    b = check_real("b", b)
    dim = check_int("dim", dim, 1)
    if dim == 1:
        H1, H2, R = np.array([[mu1]]), np.array([[mu2]]), np.array([[1.0]])
    else:
        g = np.random.default_rng(check_int("seed", seed, 0))
        U1, _ = np.linalg.qr(g.standard_normal((dim, dim)))
        U2, _ = np.linalg.qr(g.standard_normal((dim, dim)))
        s = np.linspace(1.0, 2.0, dim)
        H1, H2 = (U1 * (mu1 * s)) @ U1.T, (U2 * (mu2 * s)) @ U2.T
        H1, H2 = 0.5 * (H1 + H1.T), 0.5 * (H2 + H2.T)
        R = g.standard_normal((dim, dim))
        R /= np.linalg.norm(R, 2)
    J = np.block([[H1, a * R], [b * R.T, H2]])
    mu = np.array([np.linalg.eigvalsh(H1)[0], np.linalg.eigvalsh(H2)[0]])
    L = np.array([[0.0, abs(a)], [abs(b), 0.0]])
    return QuadraticGame(J=J, mu=mu, L=L, blocks=(dim, dim), a=a, b=b)


# --------------------------------------------------------------------------- the chapter's cases

#: The chapter's three cases (``mu = (1, 1)``) and the step at which each is run. Case A's step
#: is a fraction of its certified ``h_max``; B and C have no certificate, so a fixed step.
CASES: dict[str, dict] = {
    "A": {"a": 3.0, "b": 0.2, "h": None, "h_frac": 0.9,
          "label": "A: a = 3, b = 0.2 (certified)"},
    "B": {"a": 3.0, "b": 0.5, "h": 0.5, "h_frac": None,
          "label": "B: a = 3, b = 0.5 (no certificate)"},
    "C": {"a": 3.0, "b": -3.0, "h": 0.1, "h_frac": None,
          "label": "C: a = 3, b = −3 (no certificate)"},
}


def case_game(name: str, dim: int = 1, seed: int = 0) -> tuple[QuadraticGame, Certificate, float]:
    """Case ``name`` of :data:`CASES`: its game, its certificate and the step ``h`` it is run at.

    Explained in chapter ``small-gain-nash``.
    """
    if name not in CASES:
        raise ValueError(f"name must be one of {list(CASES)}, got {name!r}")
    c = CASES[name]
    game = quadratic_game(1.0, 1.0, c["a"], c["b"], dim, seed=seed)
    cert = game.certify()
    h = c["h"] if c["h"] is not None else c["h_frac"] * cert.h_max
    return game, cert, float(h)


def random_starts(n: int, dim: int = 2, *, seed: int = 0) -> np.ndarray:
    """``n`` seeded points on the Euclidean unit sphere of ``R^dim``, shape ``(n, dim)``."""
    n = check_int("n", n, 1)
    dim = check_int("dim", dim, 1)
    X = np.random.default_rng(check_int("seed", seed, 0)).standard_normal((n, dim))
    return X / np.linalg.norm(X, axis=1, keepdims=True)


@cached(maxsize=16)
def _case_runs(name: str, steps: int, n_starts: int, seed: int) -> tuple:
    game, cert, h = case_game(name)
    X0 = random_starts(n_starts, game.J.shape[0], seed=seed)
    traj = _linear_play(game.J, X0, h, steps)
    with np.errstate(over="ignore", invalid="ignore"):
        rel = np.linalg.norm(traj, axis=2) / np.linalg.norm(X0, axis=1)
    rel = np.where(np.isfinite(rel), rel, np.inf)
    k = np.arange(steps + 1, dtype=float)
    return tuple(Curve(k, rel[:, i], info={"case": name, "h": h}) for i in range(n_starts))


def case_runs(name: str, steps: int = 200, n_starts: int = 16, seed: int = 0) -> list[Curve]:
    """Gradient play on case ``name`` from ``n_starts`` random unit starts, as Part 1's curves.

    Each :class:`~paperlab.optim.common.Curve` has the iteration ``k`` as cost and the relative
    distance to the equilibrium ``||x_k|| / ||x_0||`` (Euclidean) as error. Cached.
    Explained in chapter ``small-gain-nash``.
    """
    steps = check_int("steps", steps, 1)
    n_starts = check_int("n_starts", n_starts, 1)
    seed = check_int("seed", seed, 0)
    if name not in CASES:
        raise ValueError(f"name must be one of {list(CASES)}, got {name!r}")
    return list(_case_runs(name, steps, n_starts, seed))


def random_players(n_players: int = 4, scale: float = 0.9, *, seed: int = 0
                   ) -> tuple[np.ndarray, np.ndarray]:
    """A random ``N``-player instance of the certificate's constants: ``(mu, L)``.

    ``mu_i`` uniform in [0.5, 2] and off-diagonal ``L_ij`` uniform in [0, ``scale``] (zero
    diagonal), seeded. Explained in chapter ``small-gain-nash``.
    """
    n_players = check_int("n_players", n_players, 2)
    scale = check_real("scale", scale, 0.0)
    g = np.random.default_rng(check_int("seed", seed, 0))
    mu = g.uniform(0.5, 2.0, n_players)
    L = g.uniform(0.0, scale, (n_players, n_players))
    np.fill_diagonal(L, 0.0)
    return mu, L


@cached(maxsize=4)
def _n_player_study(n_players: int, n_games: int, scale: float, seed: int) -> dict:
    rho, best, unit = [], [], []
    for s in range(n_games):
        mu, L = random_players(n_players, scale, seed=seed + s)
        cert = certify(mu, L)
        rho.append(cert.ratio)
        best.append(cert.margin)
        unit.append(sgn_margin(mu, L, np.ones(n_players)))
    return {"rho": np.array(rho), "alpha_best": np.array(best), "alpha_unit": np.array(unit)}


def n_player_study(n_players: int = 4, n_games: int = 60, scale: float = 0.9,
                   seed: int = 0) -> dict[str, np.ndarray]:
    """Certify ``n_games`` random ``N``-player instances (:func:`random_players`, seeds
    ``seed, seed + 1, ...``).

    Returns arrays ``rho`` (:func:`small_gain_ratio`), ``alpha_best`` (the margin at the
    optimised weights of :func:`certify`) and ``alpha_unit`` (the margin with all weights 1,
    the unweighted test). Part 1 of the theorem: ``alpha_best > 0`` exactly when ``rho < 1``.
    Cached. Explained in chapter ``small-gain-nash``.
    """
    n_players = check_int("n_players", n_players, 2)
    n_games = check_int("n_games", n_games, 1)
    scale = check_real("scale", scale, 0.0)
    seed = check_int("seed", seed, 0)
    out = _n_player_study(n_players, n_games, scale, seed)
    return {k: v.copy() for k, v in out.items()}


# --------------------------------------------------------------------------- interactive figure

#: Iterations of gradient play drawn by :func:`draw`.
DRAW_STEPS = 200
_R_GRID = np.geomspace(1e-4, 1e4, 240)
_R_TICKS = [1e-4, 1e-2, 1.0, 1e2, 1e4]

SLIDERS = {
    "b": FloatSlider(-4.0, 4.0, default=0.2, step=0.05, label="coupling b"),
    "a": FloatSlider(-4.0, 4.0, default=3.0, step=0.05, label="coupling a"),
    "mu2": FloatSlider(0.2, 3.0, default=1.0, step=0.05, label="curvature μ₂"),
    "h": FloatSlider(0.01, 1.0, default=0.1, step=0.01, label="step h"),
}


def draw(b: float = 0.2, a: float = 3.0, mu2: float = 1.0, h: float = 0.1) -> Figure:
    """The chapter's figure, for ``f_1 = x_1^2/2 + a x_1 x_2``, ``f_2 = mu_2 x_2^2/2 + b x_1 x_2``.

    Left: the SGN margin ``alpha`` against the weight ratio ``r = w_1/w_2`` (Eq. (4)), the band
    where it is positive (Eq. (5)) and the Euclidean margin ``lambda_min(sym J)`` for
    comparison. Right: 200 steps of gradient play with step ``h`` from the unit start along
    which the Euclidean distance grows fastest, measured in the Euclidean norm and (when there
    is a certificate) in its ``W``-norm, with the certified bound ``factor(h)^k`` when
    ``h < h_max``.
    Explained in chapter ``small-gain-nash``.
    """
    b = check_real("b", b)
    a = check_real("a", a)
    mu2 = check_real("mu2", mu2, 0.0, lo_open=True)
    h = check_real("h", h, 0.0, lo_open=True)
    game = quadratic_game(1.0, mu2, a, b)
    cert = game.certify()
    band = weight_band(1.0, mu2, abs(a), abs(b))
    blue, orange, green = plotting.PALETTE[0], plotting.PALETTE[1], plotting.PALETTE[2]

    fig, (ax0, ax1) = plotting.figure(2, width=8.6, height=3.5, layout="none")
    ax0.set_position((0.075, 0.15, 0.37, 0.74))
    ax1.set_position((0.58, 0.15, 0.40, 0.74))

    alpha_r = band_margin(_R_GRID, 1.0, mu2, abs(a), abs(b))
    ax0.axhline(0.0, color="0.5", lw=0.8)
    ax0.plot(_R_GRID, alpha_r, color=blue)
    ax0.axhline(game.euclidean_margin, color=orange, ls="--", lw=1.2)
    if band is not None:
        lo, hi = max(band[0], _R_GRID[0]), min(band[1], _R_GRID[-1])
        ax0.axvspan(lo, hi, color=green, alpha=0.15, lw=0)
        ax0.plot([cert.weights[0] / cert.weights[1]], [cert.margin], "o", color=green, ms=5)
        title0 = f"band: α* = {cert.margin:.3f}"
    else:
        title0 = f"no band: ρ = {cert.ratio:.2f} ≥ 1"
    ax0.set_xscale("log")
    ax0.xaxis.set_major_locator(FixedLocator(_R_TICKS))
    ax0.xaxis.set_major_formatter(FixedFormatter(["1e-4", "0.01", "1", "100", "1e4"]))
    ax0.xaxis.set_minor_locator(NullLocator())
    ax0.set_xlim(_R_GRID[0], _R_GRID[-1])
    ax0.set_ylim(-4.0, 2.6)                  # room for the legend above max alpha = 1
    ax0.yaxis.set_major_locator(FixedLocator([-4.0, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0]))
    ax0.yaxis.set_major_formatter(FixedFormatter(["−4", "−3", "−2", "−1", "0", "1", "2"]))
    plotting.key(ax0, [("SGN margin α(r)", blue), (f"Euclidean: {game.euclidean_margin:.2f}", orange, "--")],
                 x=0.03, y=0.96)
    plotting.labels(ax0, "weight ratio r = w₁/w₂", "margin")
    _title(ax0, title0)

    # start along the eigenvector of sym J with the smallest eigenvalue: fastest Euclidean growth
    evals, evecs = np.linalg.eigh(0.5 * (game.J + game.J.T))
    x0 = evecs[:, 0] * np.sign(evecs[0, 0] or 1.0)
    traj = _linear_play(game.J, x0[None, :], h, DRAW_STEPS)[:, 0, :]
    w = cert.weights
    with np.errstate(over="ignore", invalid="ignore"):
        e_norm = np.linalg.norm(traj, axis=1)
        w_rel = np.sqrt((traj**2) @ w) / np.sqrt((x0**2) @ w)
    k = np.arange(DRAW_STEPS + 1)
    ax1.plot(k, e_norm, color=orange)
    entries = [("Euclidean ‖xₖ‖", orange)]
    if cert.certified:
        ax1.plot(k, w_rel, color=blue)
        entries.append(("‖xₖ‖_W / ‖x₀‖_W", blue))
    if cert.certified and h < cert.h_max:
        ax1.plot(k, cert.factor(h) ** k, ":", color="black", lw=1.3)
        entries.append(("certified bound", "black", "┈"))
        title1 = f"h < h_max = {cert.h_max:.3f}: certified"
    elif cert.certified:
        title1 = f"h ≥ h_max = {cert.h_max:.3f}: no guarantee"
    else:
        title1 = "no certificate for any h"
    spec = np.max(np.abs(np.linalg.eigvals(np.eye(2) - h * game.J)))
    title1 += "; converges" if spec < 1 else "; diverges"
    ax1.set_yscale("log")
    ax1.set_ylim(1e-4, 1e2)
    ax1.yaxis.set_major_locator(FixedLocator([1e-4, 1e-2, 1.0, 1e2]))
    ax1.yaxis.set_major_formatter(FixedFormatter(["1e-4", "0.01", "1", "100"]))
    ax1.yaxis.set_minor_locator(NullLocator())
    ax1.set_xlim(0, DRAW_STEPS)
    ax1.xaxis.set_major_locator(FixedLocator([0, 50, 100, 150, 200]))
    ax1.xaxis.set_major_formatter(FixedFormatter(["0", "50", "100", "150", "200"]))
    plotting.key(ax1, entries)
    plotting.labels(ax1, "iteration k", "distance to Nash, ‖x₀‖ = 1")
    _title(ax1, title1)
    return fig


def _title(ax, text: str) -> None:
    """A title placed as plain text: matplotlib's own title re-measures the axes at every draw,
    a fifth of this figure's render time (helper of :func:`draw`)."""
    ax.text(0.5, 1.03, text, transform=ax.transAxes, ha="center", va="bottom", fontsize=11)
