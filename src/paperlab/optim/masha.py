"""Compressed communication for distributed variational inequalities: MASHA1 and MASHA2
(Beznosikov, Richtárik, Diskin, Ryabinin and Gasnikov, NeurIPS 2022).

Explained in chapter ``masha-compressed-vi``.

``M`` devices each hold an operator ``F_m: R^D -> R^D``; together they look for the point
``z*`` with ``F(z*) = 0``, where ``F = (1/M) sum_m F_m`` (an unconstrained variational
inequality, problem (1) of the paper). In every round each device sends a message to a server,
and the messages are what costs. This module holds

* the test problem of the chapter, a distributed strongly-convex-strongly-concave bilinear
  saddle problem (:func:`distributed_bilinear`, a :class:`DistributedVI` with affine
  operators ``F_m(z) = B_m z + q_m``);
* the two compressors of the paper: the unbiased :func:`randk` and the contractive
  :func:`topk`;
* the baselines: uncompressed distributed :func:`extragradient` and the naive
  :func:`compressed_extragradient` that compresses both of its messages;
* the paper's methods, :func:`masha1` (Algorithm 1, unbiased compressors) and :func:`masha2`
  (Algorithm 2, contractive compressors with error feedback);
* the chapter's cached runs and tuning grids (:func:`run`, :func:`tuning_grid`) and its
  interactive figure (:func:`draw`, :data:`SLIDERS`).

Every method returns a :class:`paperlab.optim.common.Curve`: ``cost`` is the number of floats
each device has sent so far and ``error`` the distance ``||z^k - z*||``.

Notation as in the paper: ``gamma`` is the step size and ``tau`` the weight of the current
iterate in the average ``zbar = tau z + (1 - tau) w``; the anchor ``w`` is refreshed with
probability ``1 - tau``.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

from ..cache import cached
from .. import plotting
from .._validate import check_array, check_choice, check_int, check_real
from ..data import rng as make_rng
from ..widgets import Choice, FloatSlider, IntSlider
from .common import Curve, first_below

__all__ = ["DistributedVI", "distributed_bilinear", "randk", "topk", "extragradient",
           "compressed_extragradient", "masha1", "masha2", "step_size", "run", "tuning_grid",
           "METHODS", "EG_CS", "MASHA_CS", "MASHA_PS", "draw", "SLIDERS"]

#: A run stops once the distance to the solution falls to this value (machine precision is
#: near 1e-14 here), or once it has grown by this factor over the start: it diverged.
TOL = 1e-12
BLOWUP = 1e6


# --------------------------------------------------------------------------- the problem

@dataclass(frozen=True, eq=False)
class DistributedVI:
    """``M`` affine operators ``F_m(z) = B_m z + q_m`` on ``R^D``, one per device.

    The problem is to find ``z*`` with ``F(z*) = 0`` for ``F = (1/M) sum_m F_m``, problem (1) of
    Beznosikov et al. (2022) without constraints. ``B`` has shape ``(M, D, D)`` and ``q`` shape
    ``(M, D)``. Explained in chapter ``masha-compressed-vi``.
    """

    B: np.ndarray
    q: np.ndarray

    def __post_init__(self) -> None:
        B = check_array("B", self.B, ndim=3)
        q = check_array("q", self.q, ndim=2)
        M, D, D2 = B.shape
        if D != D2 or M < 1 or D < 1:
            raise ValueError(f"B must have shape (M, D, D) with M, D >= 1, got {B.shape}")
        if q.shape != (M, D):
            raise ValueError(f"q must have shape (M, D) = ({M}, {D}) to match B, got {q.shape}")
        object.__setattr__(self, "B", B)
        object.__setattr__(self, "q", q)
        # one matrix-vector product gives every device's value at once
        object.__setattr__(self, "_B_flat", np.ascontiguousarray(B.reshape(M * D, D)))

    @property
    def M(self) -> int:
        """Number of devices."""
        return int(self.B.shape[0])

    @property
    def dim(self) -> int:
        """Dimension ``D`` of ``z``."""
        return int(self.B.shape[1])

    def local(self, z: np.ndarray) -> np.ndarray:
        """Every device's operator at ``z``: row ``m`` is ``F_m(z)``, shape ``(M, D)``."""
        return (self._B_flat @ z).reshape(self.M, self.dim) + self.q

    def F(self, z: np.ndarray) -> np.ndarray:
        """The mean operator ``F(z) = (1/M) sum_m F_m(z)``."""
        return self.local(z).mean(axis=0)

    @functools.cached_property
    def z_star(self) -> np.ndarray:
        """The solution of ``F(z) = 0``: ``z* = -Bbar^{-1} qbar``."""
        return np.linalg.solve(self.B.mean(axis=0), -self.q.mean(axis=0))

    @functools.cached_property
    def L_bar(self) -> float:
        """Lipschitz constant of the mean operator, ``||Bbar||_2``."""
        return float(np.linalg.norm(self.B.mean(axis=0), 2))

    @functools.cached_property
    def L_local(self) -> np.ndarray:
        """Lipschitz constant of each device's operator, ``||B_m||_2``."""
        return np.array([np.linalg.norm(b, 2) for b in self.B])

    @property
    def L_max(self) -> float:
        """The largest local Lipschitz constant, ``max_m ||B_m||_2``."""
        return float(self.L_local.max())

    @functools.cached_property
    def mu(self) -> float:
        """Strong monotonicity of ``F``: the smallest eigenvalue of ``(Bbar + Bbar^T)/2``."""
        Bb = self.B.mean(axis=0)
        return float(np.linalg.eigvalsh(0.5 * (Bb + Bb.T))[0])

    def __repr__(self) -> str:
        return f"DistributedVI(M={self.M}, D={self.dim})"

    def check_point(self, name: str, z) -> np.ndarray:
        """``z`` as a float vector of length ``D``, or a ``ValueError`` naming ``name``."""
        return check_array(name, z, ndim=1, shape=(self.dim,))


def distributed_bilinear(M: int = 10, d: int = 50, lam: float = 1.0, *, coupling: float = 3.0,
                         heterogeneity: float = 1.0, seed: int = 0) -> DistributedVI:
    """The chapter's distributed saddle problem, after the bilinear experiment of
    Beznosikov et al. (2022).

    Device ``m`` holds ``f_m(x, y) = (lam/2)||x||^2 + x^T A_m y - (lam/2)||y||^2 + b_m^T x
    - c_m^T y`` with ``x, y`` in ``R^d``; the devices want the saddle point of
    ``f = (1/M) sum_m f_m``. The operator of the variational inequality is
    ``F_m(x, y) = (grad_x f_m, -grad_y f_m) = (lam x + A_m y + b_m, -A_m^T x + lam y + c_m)``,
    affine in ``z = (x, y)`` of dimension ``D = 2d`` and ``lam``-strongly monotone.

    ``A_m = (coupling * G_0 + heterogeneity * G_m) / sqrt(d)`` with standard Gaussian
    ``G_0`` (shared by all devices) and ``G_m`` (one per device), so ``||A_m||`` is about
    ``2 sqrt(coupling^2 + heterogeneity^2)``; ``b_m`` and ``c_m`` are standard Gaussian, so the
    devices disagree at the solution (``F_m(z*) != 0``). Explained in chapter
    ``masha-compressed-vi``.
    """
    M = check_int("M", M, 1)
    d = check_int("d", d, 1)
    lam = check_real("lam", lam, 0.0, lo_open=True)
    coupling = check_real("coupling", coupling, 0.0)
    heterogeneity = check_real("heterogeneity", heterogeneity, 0.0)
    g = make_rng(seed)
    A = (coupling * g.standard_normal((1, d, d)) + heterogeneity * g.standard_normal((M, d, d)))
    A /= math.sqrt(d)
    B = np.zeros((M, 2 * d, 2 * d))
    eye = lam * np.eye(d)
    B[:, :d, :d] = eye
    B[:, d:, d:] = eye
    B[:, :d, d:] = A
    B[:, d:, :d] = -A.transpose(0, 2, 1)
    q = g.standard_normal((M, 2 * d))          # (b_m, c_m)
    return DistributedVI(B, q)


# --------------------------------------------------------------------------- compressors

def _check_k(k, D: int) -> int:
    return check_int("k", k, 1, D)


def _check_vectors(v) -> np.ndarray:
    v = check_array("v", v)
    if v.ndim not in (1, 2) or v.shape[-1] < 1:
        raise ValueError(f"v must be a vector or a matrix of row vectors, got shape {v.shape}")
    return v


def _randk_rows(V: np.ndarray, k: int, g: np.random.Generator) -> np.ndarray:
    """Rand-k of every row of ``V`` (no checks): the ``k`` smallest of ``D`` uniform keys mark a
    uniformly random ``k``-subset."""
    keys = g.random(V.shape)
    keep = keys <= np.partition(keys, k - 1, axis=1)[:, k - 1:k]
    return V * keep * (V.shape[1] / k)


def _topk_rows(V: np.ndarray, k: int) -> np.ndarray:
    """Top-k of every row of ``V`` (no checks): the coordinates at or above the row's k-th
    largest magnitude; on a tie there, exactly ``k`` of them (by ``argpartition``)."""
    A = np.abs(V)
    D = V.shape[1]
    keep = A >= np.partition(A, D - k, axis=1)[:, D - k:D - k + 1]
    if keep.sum() > k * V.shape[0]:
        keep = np.zeros(V.shape, dtype=bool)
        np.put_along_axis(keep, np.argpartition(A, D - k, axis=1)[:, D - k:], True, axis=1)
    return V * keep


def randk(v, k: int, rng: np.random.Generator) -> np.ndarray:
    """The unbiased compressor Rand-k of Beznosikov et al. (2022), Section 2.

    Keeps ``k`` coordinates of ``v`` chosen uniformly at random, without replacement, and scales
    them by ``D/k``, so ``E[randk(v)] = v`` and ``E||randk(v)||^2 = (D/k)||v||^2``: its variance
    parameter is ``omega = D/k - 1``. For a 2-D ``v`` every row (one device each) draws its own
    coordinates. Explained in chapter ``masha-compressed-vi``.
    """
    v = _check_vectors(v)
    k = _check_k(k, v.shape[-1])
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy Generator (paperlab.data.rng(seed)), got {rng!r}")
    return _randk_rows(np.atleast_2d(v), k, rng).reshape(v.shape)


def topk(v, k: int) -> np.ndarray:
    """The contractive compressor Top-k of Beznosikov et al. (2022), Section 3.

    Keeps the ``k`` coordinates of ``v`` largest in absolute value and zeroes the rest. It is
    biased but contractive: ``||topk(v) - v||^2 <= (1 - k/D)||v||^2``. For a 2-D ``v`` each row
    is compressed on its own. Explained in chapter ``masha-compressed-vi``.
    """
    v = _check_vectors(v)
    k = _check_k(k, v.shape[-1])
    return _topk_rows(np.atleast_2d(v), k).reshape(v.shape)


# --------------------------------------------------------------------------- the methods

def _start(ops, z0, gamma, n_iter, k=None, tau=None):
    """Checked inputs of a method: ``(z0, gamma, n_iter, k, tau)``."""
    if not isinstance(ops, DistributedVI):
        raise ValueError(f"ops must be a DistributedVI (e.g. distributed_bilinear()), got "
                         f"{type(ops).__name__}")
    z0 = np.zeros(ops.dim) if z0 is None else ops.check_point("z0", z0)
    gamma = check_real("gamma", gamma, 0.0, lo_open=True)
    n_iter = check_int("n_iter", n_iter, 0)
    k = None if k is None else _check_k(k, ops.dim)
    tau = None if tau is None else check_real("tau", tau, 0.0, 1.0, hi_open=True)
    return z0.copy(), gamma, n_iter, k, tau


class _Recorder:
    """Floats sent per device and distance to ``z*`` after every iteration; says when to stop
    (the distance reached ``tol``, or grew by :data:`BLOWUP`: the run diverged)."""

    def __init__(self, ops: DistributedVI, z0: np.ndarray, sent: float, tol: float) -> None:
        self.zs = ops.z_star
        self.tol = check_real("tol", tol, 0.0)
        e0 = float(np.linalg.norm(z0 - self.zs))
        self.limit = BLOWUP * max(e0, 1.0)
        self.cost, self.err = [sent], [e0]
        self.diverged = False

    def stop(self, z: np.ndarray, sent: float) -> bool:
        r = z - self.zs
        e = math.sqrt(r @ r)
        self.cost.append(sent)
        self.err.append(e)
        if not e <= self.limit:        # also catches nan
            self.diverged = True
            return True
        return e <= self.tol

    def curve(self, **info) -> Curve:
        return Curve(np.array(self.cost), np.array(self.err),
                     {"diverged": self.diverged, "iterations": len(self.err) - 1, **info})


def extragradient(ops: DistributedVI, z0=None, gamma: float = 0.1, n_iter: int = 1000, *,
                  tol: float = TOL) -> Curve:
    """Distributed extragradient (Korpelevich, 1976), the uncompressed baseline.

    ``z^{k+1/2} = z^k - gamma F(z^k)``, ``z^{k+1} = z^k - gamma F(z^{k+1/2})``. Each iteration
    every device sends its full ``F_m(z^k)`` and ``F_m(z^{k+1/2})``: ``2D`` floats. Stops early at
    distance ``tol`` or on divergence. Explained in chapter ``masha-compressed-vi``.
    """
    z, gamma, n_iter, _, _ = _start(ops, z0, gamma, n_iter)
    rec, sent = _Recorder(ops, z, 0.0, tol), 0.0
    for _ in range(n_iter):
        zh = z - gamma * ops.local(z).mean(axis=0)       # devices send F_m(z^k)
        z = z - gamma * ops.local(zh).mean(axis=0)       # devices send F_m(z^{k+1/2})
        sent += 2 * ops.dim
        if rec.stop(z, sent):
            break
    return rec.curve(method="EG", gamma=gamma)


def compressed_extragradient(ops: DistributedVI, z0=None, gamma: float = 0.1, k: int = 10,
                             n_iter: int = 1000, *, seed: int = 0, tol: float = TOL) -> Curve:
    """Naive compressed extragradient: both messages of :func:`extragradient` go through
    :func:`randk`.

    ``z^{k+1/2} = z^k - gamma (1/M) sum_m Q_m(F_m(z^k))`` and
    ``z^{k+1} = z^k - gamma (1/M) sum_m Q_m(F_m(z^{k+1/2}))``: ``2k`` floats per device per
    iteration. The estimate is unbiased, but its variance does not vanish at ``z*``, where
    ``F_m(z*) != 0`` on heterogeneous devices: the method the paper improves on. Explained in
    chapter ``masha-compressed-vi``.
    """
    z, gamma, n_iter, k, _ = _start(ops, z0, gamma, n_iter, k=k)
    g = make_rng(seed)
    rec, sent = _Recorder(ops, z, 0.0, tol), 0.0
    for _ in range(n_iter):
        zh = z - gamma * _randk_rows(ops.local(z), k, g).mean(axis=0)
        z = z - gamma * _randk_rows(ops.local(zh), k, g).mean(axis=0)
        sent += 2 * k
        if rec.stop(z, sent):
            break
    return rec.curve(method="RandK-EG", gamma=gamma, k=k)


def masha1(ops: DistributedVI, z0=None, gamma: float = 0.1, tau: float = 0.9, k: int = 10,
           n_iter: int = 1000, *, seed: int = 0, tol: float = TOL) -> Curve:
    """MASHA1, Algorithm 1 of Beznosikov et al. (2022): extragradient with an anchor ``w``
    (loopless variance reduction) and unbiased Rand-k compression.

    From ``w^0 = z^0``, every device sending its full ``F_m(w^0)``, each iteration does

    1. ``zbar^k = tau z^k + (1 - tau) w^k`` and ``z^{k+1/2} = zbar^k - gamma F(w^k)``;
    2. device ``m`` sends ``Q_m(F_m(z^{k+1/2}) - F_m(w^k))`` (Rand-k: ``k`` floats);
    3. ``z^{k+1} = zbar^k - gamma (F(w^k) + (1/M) sum_m Q_m(...))``;
    4. with probability ``1 - tau`` the anchor moves, ``w^{k+1} = z^{k+1}``, and every device
       sends its full ``F_m(w^{k+1})`` (``D`` floats); otherwise ``w^{k+1} = w^k``.

    Only *differences* to the anchor are compressed. They vanish at the solution, and so does
    the compression noise. The paper takes ``1 - tau`` of the order of ``k/D`` (a full vector
    about as often as it costs in compressed ones) and ``gamma`` proportional to
    ``sqrt(1 - tau)`` (see :func:`step_size`). The run stops early at distance ``tol`` or
    on divergence. Explained in chapter ``masha-compressed-vi``.
    """
    z, gamma, n_iter, k, tau = _start(ops, z0, gamma, n_iter, k=k, tau=tau)
    g = make_rng(seed)
    coins = g.random(n_iter)                 # refresh the anchor when coins[t] < 1 - tau
    w = z.copy()
    Fw_m = ops.local(w)                      # F_m(w^0), sent in full: D floats
    gFw = gamma * Fw_m.mean(axis=0)          # gamma F(w^k), known to every device
    rec, sent = _Recorder(ops, z, float(ops.dim), tol), float(ops.dim)
    for t in range(n_iter):
        zbar = z + (1.0 - tau) * (w - z)                 # tau z^k + (1 - tau) w^k
        zh = zbar - gFw                                  # z^{k+1/2}
        msg = _randk_rows(ops.local(zh) - Fw_m, k, g)    # Q_m(F_m(z^{k+1/2}) - F_m(w^k))
        z = zbar - gFw - (gamma / ops.M) * msg.sum(axis=0)      # z^{k+1}
        sent += k
        if coins[t] < 1.0 - tau:                         # w^{k+1} = z^{k+1}
            w = z
            Fw_m = ops.local(w)                          # full F_m(w^{k+1}): D floats
            gFw = gamma * Fw_m.mean(axis=0)
            sent += ops.dim
        if rec.stop(z, sent):
            break
    return rec.curve(method="MASHA1", gamma=gamma, tau=tau, k=k)


def masha2(ops: DistributedVI, z0=None, gamma: float = 0.1, tau: float = 0.9, k: int = 10,
           n_iter: int = 1000, *, seed: int = 0, tol: float = TOL) -> Curve:
    """MASHA2, Algorithm 2 of Beznosikov et al. (2022): :func:`masha1` with a contractive
    compressor (Top-k) and error feedback.

    Steps 1 and 4 are those of :func:`masha1`. In between, device ``m`` sends
    ``C_m(gamma (F_m(z^{k+1/2}) - F_m(w^k)) + e_m^k)`` with ``C_m`` = Top-k, keeps what it did not
    send, ``e_m^{k+1} = e_m^k + gamma (F_m(z^{k+1/2}) - F_m(w^k)) - C_m(...)``, and
    ``z^{k+1} = zbar^k - gamma F(w^k) - (1/M) sum_m C_m(...)``. The memory ``e_m`` (zero at the
    start) sends later whatever Top-k dropped. Top-k has no randomness: only the anchor's coin
    flips depend on ``seed``. The run stops early at distance ``tol`` (default :data:`TOL`) or
    on divergence. Explained in chapter ``masha-compressed-vi``.
    """
    z, gamma, n_iter, k, tau = _start(ops, z0, gamma, n_iter, k=k, tau=tau)
    g = make_rng(seed)
    coins = g.random(n_iter)
    w = z.copy()
    Fw_m = ops.local(w)
    gFw = gamma * Fw_m.mean(axis=0)
    e = np.zeros((ops.M, ops.dim))           # error-feedback memories e_m^0 = 0
    rec, sent = _Recorder(ops, z, float(ops.dim), tol), float(ops.dim)
    for t in range(n_iter):
        zbar = z + (1.0 - tau) * (w - z)
        zh = zbar - gFw
        v = gamma * (ops.local(zh) - Fw_m) + e           # gamma (F_m(z^{k+1/2}) - F_m(w^k)) + e_m
        msg = _topk_rows(v, k)                           # C_m(...): k floats
        e = v - msg                                      # e_m^{k+1}: what was not sent
        z = zbar - gFw - msg.sum(axis=0) / ops.M
        sent += k
        if coins[t] < 1.0 - tau:
            w = z
            Fw_m = ops.local(w)
            gFw = gamma * Fw_m.mean(axis=0)
            sent += ops.dim
        if rec.stop(z, sent):
            break
    return rec.curve(method="MASHA2", gamma=gamma, tau=tau, k=k)


def step_size(ops: DistributedVI, c: float, tau: float) -> float:
    """The step ``gamma = c sqrt(1 - tau) / L_max`` used by the chapter.

    The paper's step for MASHA1/2 is proportional to ``sqrt(1 - tau)`` over a Lipschitz
    constant of the local operators; the constant ``c`` is tuned on a grid (the theory's
    constant is conservative). Explained in chapter ``masha-compressed-vi``.
    """
    if not isinstance(ops, DistributedVI):
        raise ValueError(f"ops must be a DistributedVI, got {type(ops).__name__}")
    c = check_real("c", c, 0.0, lo_open=True)
    tau = check_real("tau", tau, 0.0, 1.0, hi_open=True)
    return c * math.sqrt(1.0 - tau) / ops.L_max


# --------------------------------------------------------------------------- experiments

#: The methods of the chapter and the function that runs each.
METHODS: Mapping[str, Callable[..., Curve]] = MappingProxyType(
    {"EG": extragradient, "RandK-EG": compressed_extragradient, "MASHA1": masha1,
     "MASHA2": masha2})

#: Step constants ``c`` tried by :func:`tuning_grid`: ``gamma = c / L_bar`` for extragradient,
#: ``gamma = c sqrt(1 - tau) / L_max`` for MASHA1 and MASHA2.
EG_CS = (0.5, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.4)
MASHA_CS = (0.7, 1.0, 1.4, 2.0)
#: Anchor refresh probabilities ``p = 1 - tau`` tried by :func:`tuning_grid`.
MASHA_PS = (0.05, 0.1, 0.2, 0.4)


@cached(maxsize=8)
def _problem(M: int, d: int, seed: int) -> DistributedVI:
    return distributed_bilinear(M, d, 1.0, seed=seed)


def run(method: str, c: float, p: float | None = None, *, k: int = 10, seed: int = 0,
        n_iter: int = 8000, tol: float = TOL, M: int = 10, d: int = 50,
        problem_seed: int = 0) -> Curve:
    """One run of ``method`` on the chapter's problem, from ``z^0 = 0``; cached.

    The problem is :func:`distributed_bilinear` ``(M, d, lam=1, seed=problem_seed)``. The step
    is ``gamma = c / L_bar`` for ``"EG"`` and ``"RandK-EG"`` (``p`` must be ``None``) and
    ``gamma = c sqrt(p) / L_max`` with ``tau = 1 - p`` for ``"MASHA1"`` and ``"MASHA2"``
    (:func:`step_size`). ``k`` is the number of coordinates per compressed message and
    ``seed`` drives the compressors and the anchor's coins; the run stops at ``n_iter``
    iterations, at distance ``tol`` or on divergence. Explained in chapter
    ``masha-compressed-vi``.
    """
    check_choice("method", method, tuple(METHODS))
    c = check_real("c", c, 0.0, lo_open=True)
    if method in ("EG", "RandK-EG"):
        if p is not None:
            raise ValueError(f"{method} has no anchor: p must be None, got {p!r}")
    elif p is None:
        raise ValueError(f"{method} needs the refresh probability p = 1 - tau in (0, 1]")
    else:
        p = check_real("p", p, 0.0, 1.0, lo_open=True)
    return _run(method, c, p, check_int("k", k, 1, 2 * check_int("d", d, 1)),
                check_int("seed", seed, 0), check_int("n_iter", n_iter, 1),
                check_real("tol", tol, 0.0), check_int("M", M, 1), d,
                check_int("problem_seed", problem_seed, 0))


@cached(maxsize=256)
def _run(method, c, p, k, seed, n_iter, tol, M, d, problem_seed) -> Curve:
    ops = _problem(M, d, problem_seed)
    if method == "EG":
        return extragradient(ops, None, c / ops.L_bar, n_iter, tol=tol)
    if method == "RandK-EG":
        return compressed_extragradient(ops, None, c / ops.L_bar, k, n_iter, seed=seed, tol=tol)
    return METHODS[method](ops, None, step_size(ops, c, 1.0 - p), 1.0 - p, k, n_iter, seed=seed,
                           tol=tol)


def tuning_grid(method: str, ps: Sequence[float] = MASHA_PS, cs: Sequence[float] | None = None,
                *, target: float = 1e-6, n_iter: int = 3000,
                **kwargs) -> Mapping[tuple[float, float], float]:
    """Floats per device for :func:`run` to reach ``||z - z*|| <= target``, on a grid.

    For ``"MASHA1"`` and ``"MASHA2"`` the grid is every refresh probability ``p = 1 - tau`` of
    ``ps`` times every step constant ``c`` of ``cs`` (default :data:`MASHA_CS`); for ``"EG"``
    every ``c`` of ``cs`` (default :data:`EG_CS`), with key ``(None, c)``. ``inf`` means not
    reached within ``n_iter`` iterations (3000 by default: at ``k = 10`` at least 45 000
    floats, more than twice what extragradient needs on the chapter's problem). ``kwargs`` go
    to :func:`run` (``k``, ``seed``, ``M``, ``d``, ``problem_seed``); each run stops at
    ``target``. Returns a read-only ``{(p, c): floats}``.
    Explained in chapter ``masha-compressed-vi``.
    """
    check_choice("method", method, ("EG", "MASHA1", "MASHA2"))
    target = check_real("target", target, 0.0, lo_open=True)
    if cs is None:
        cs = EG_CS if method == "EG" else MASHA_CS
    grid_ps = (None,) if method == "EG" else tuple(ps)
    floats = {}            # each run stops at the target: only the floats to reach it count
    for p in grid_ps:
        for c in cs:
            curve = run(method, c, p, tol=target, n_iter=n_iter, **kwargs)
            floats[(p, c)] = first_below(curve, target)
    return MappingProxyType(floats)


# --------------------------------------------------------------------------- interactive figure

#: The figure's problem (M devices, d per player, so D = 2d) and its cap on iterations.
DRAW_M, DRAW_D, DRAW_MAX_ITER = 5, 50, 1000
_COMPRESSORS = ("RandK (MASHA1)", "TopK (MASHA2)")
_Y_TICKS = [1e-12, 1e-9, 1e-6, 1e-3, 1.0]

SLIDERS = {
    "k": IntSlider(5, 50, default=10, step=5, label="k (of 2d = 100 sent)"),
    "p": FloatSlider(0.05, 0.5, default=0.2, step=0.05, label="refresh prob. 1 − τ"),
    "c": FloatSlider(0.25, 2.0, default=1.0, step=0.05, label="step scale c"),
    "compressor": Choice(_COMPRESSORS, default=_COMPRESSORS[0], label="compressor"),
}


@cached(maxsize=1)
def _draw_eg() -> Curve:
    """Extragradient on the figure's problem at the best step of :data:`EG_CS`."""
    ops = _problem(DRAW_M, DRAW_D, 0)
    runs = [extragradient(ops, None, c / ops.L_bar, 2000) for c in EG_CS]
    return min(runs, key=lambda r: first_below(r, 1e-6))


def _thin(curve: Curve, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """At most about ``n`` points of a curve, for a fast plot."""
    step = max(1, len(curve.cost) // n)
    return curve.cost[::step], curve.error[::step]


def draw(k: int = 10, p: float = 0.2, c: float = 1.0,
         compressor: str = "RandK (MASHA1)") -> Figure:
    """The chapter's figure: distance to the solution against floats sent per device.

    On :func:`distributed_bilinear` with ``M = 5`` devices and ``d = 50`` (``D = 100``):
    extragradient at its best step (black) and MASHA1 (Rand-k) or MASHA2 (Top-k)
    with ``k`` coordinates per message, anchor refresh probability ``p = 1 - tau`` and step
    ``gamma = c sqrt(p) / L_max``. Runs stop at the right edge of the plot (twice the floats
    extragradient needs to reach 1e-6) or after ``DRAW_MAX_ITER`` iterations. Explained in
    chapter ``masha-compressed-vi``.
    """
    k = check_int("k", k, 1, 2 * DRAW_D)
    p = check_real("p", p, 0.0, 1.0, lo_open=True)
    c = check_real("c", c, 0.0, lo_open=True)
    check_choice("compressor", compressor, _COMPRESSORS)
    ops = _problem(DRAW_M, DRAW_D, 0)
    eg = _draw_eg()
    f_eg = first_below(eg, 1e-6)
    xmax = 2.0 * f_eg
    n_iter = min(DRAW_MAX_ITER, int(xmax // (k + p * ops.dim)) + 1)
    name = "MASHA1" if compressor == _COMPRESSORS[0] else "MASHA2"
    curve = METHODS[name](ops, None, step_size(ops, c, 1.0 - p), 1.0 - p, k, n_iter, seed=0)
    f_run = first_below(curve, 1e-6)

    fig, (ax,) = plotting.figure(1, width=7.2, height=3.6, layout="fixed")
    ax.axhline(1e-6, color="0.6", lw=0.8, ls=":")
    ax.plot(*_thin(eg), color="black")
    ax.plot(*_thin(curve), color=plotting.PALETTE[2], lw=2.2)
    ax.set_yscale("log")
    ax.set_ylim(1e-12, 30.0)
    # fixed ticks: matplotlib's automatic log ticks cost more than the rest of the figure
    ax.yaxis.set_major_locator(FixedLocator(_Y_TICKS))
    ax.yaxis.set_major_formatter(FixedFormatter(["1e-12", "1e-9", "1e-6", "0.001", "1"]))
    ax.yaxis.set_minor_locator(NullLocator())
    xt = np.arange(0.0, xmax, 5000.0 if xmax < 25000 else 10000.0)
    ax.xaxis.set_major_locator(FixedLocator(xt))
    ax.xaxis.set_major_formatter(FixedFormatter(["0"] + [f"{x / 1000:.0f}k" for x in xt[1:]]))
    ax.set_xlim(0.0, xmax)
    plotting.key(ax, [("EG (best γ)", "black"), (f"{name}, k = {k}", plotting.PALETTE[2])], fontsize=9,
                 width=0.3)
    if curve.info["diverged"]:
        title = f"{name} diverged: lower the step scale c"
    elif math.isinf(f_run):
        title = (f"{name} not at 1e-6 by {curve.cost[-1] / 1000:.1f}k floats "
                 f"({curve.info['iterations']} it.)")
    else:
        title = (f"floats to 1e-6: {name} {f_run / 1000:.1f}k, EG {f_eg / 1000:.1f}k "
                 f"({f_run / f_eg:.2f}×)")
    plotting.labels(ax, "floats sent per device", "distance ‖zᵏ − z*‖", title)
    return fig
