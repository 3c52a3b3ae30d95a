"""Exact diffusion inversion with BDIA-DDIM (Zhang, Lewis and Kleijn, ECCV 2024).

Explained in chapter ``bdia-exact-inversion``.

Notation (as in the chapter). A variance-preserving diffusion with ``T = 1000`` training times
and the linear schedule ``beta_t`` from ``1e-4`` to ``0.02`` has signal level
``abar_t = prod_{s<=t}(1 - beta_s)``, scales ``alpha_t = sqrt(abar_t)`` and
``sigma_t = sqrt(1 - abar_t)``, and noisy states ``z_t = alpha_t x + sigma_t e`` (Eq. (1) of the
chapter). A sampler visits the integer times ``t_N > ... > t_1 > t_0`` (``timesteps``, largest
first); ``z_i`` is the state at ``t_i`` and ``eps_i = eps_fn(z_i, t_i)`` the network's noise
estimate there (one network function evaluation, NFE).

This module holds

* the DDIM increment ``Delta(t_i -> t_j | z_i)`` (:func:`ddim_delta`, Eq. (2));
* naive DDIM inversion (:func:`ddim_invert`, Eq. (3)), the inexact baseline;
* one BDIA-DDIM step and its exact inverse (:func:`bdia_step`, Eq. (4); :func:`bdia_step_inverse`,
  Eq. (5)) and the samplers built from them (:func:`bdia_sample`, :func:`bdia_invert`);
* the exact noise predictor of a Gaussian mixture (:func:`gmm_eps`), the schedule helpers
  (:func:`alpha_bar`, :func:`make_timesteps`), the chapter's experiment (:func:`simulate`,
  :func:`experiment`) and its interactive figure (:func:`draw`, :data:`SLIDERS`).

Convention for ``gamma``: the paper's. ``gamma = 0`` is plain DDIM; ``gamma = 1`` trusts the
backward DDIM step completely. The README of the official repository writes the same update
with ``gamma`` and ``1 - gamma`` swapped; its code uses the paper's convention (see the chapter).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from ..cache import cached
from .. import plotting
from .._validate import check_array, check_int, check_real
from ..data import GaussianMixture, gmm2d
from ..widgets import FloatSlider, IntSlider

__all__ = ["EpsFn", "T_TRAIN", "alpha_bar", "ALPHA_BAR", "make_timesteps", "gmm_eps",
           "ddim_delta", "bdia_step", "bdia_step_inverse", "bdia_sample", "bdia_invert",
           "ddim_invert", "Experiment", "simulate", "experiment", "draw", "SLIDERS"]

#: A noise predictor ``eps_fn(z, t) -> eps_hat`` with ``z`` of shape ``(n, d)`` and integer ``t``.
EpsFn = Callable[[np.ndarray, int], np.ndarray]

#: Number of training times of the schedule used throughout the chapter.
T_TRAIN = 1000


# --------------------------------------------------------------------------- schedule

def alpha_bar(T: int = T_TRAIN, beta_start: float = 1e-4, beta_end: float = 0.02) -> np.ndarray:
    """``abar_t = prod_{s=0}^{t} (1 - beta_s)`` for the linear schedule of DDPM, ``t = 0..T-1``.

    With the defaults, ``abar_0 = 0.9999`` (almost clean data) and ``abar_999 = 4e-5``
    (almost pure noise). ``alpha_t = sqrt(abar_t)`` and ``sigma_t = sqrt(1 - abar_t)`` are the
    signal and noise scales of Eq. (1) in chapter ``bdia-exact-inversion``.
    """
    T = check_int("T", T, 2)
    b0 = check_real("beta_start", beta_start, 0.0, 1.0, lo_open=True, hi_open=True)
    b1 = check_real("beta_end", beta_end, 0.0, 1.0, lo_open=True, hi_open=True)
    return np.cumprod(1.0 - np.linspace(b0, b1, T))


#: The chapter's schedule: ``alpha_bar()`` (T = 1000, linear beta from 1e-4 to 0.02), read-only.
ALPHA_BAR = alpha_bar()
ALPHA_BAR.flags.writeable = False


def make_timesteps(n_steps: int, T: int = T_TRAIN) -> np.ndarray:
    """``n_steps + 1`` evenly spaced integer times ``t_N = T-1 > ... > t_0 = 0`` (largest first).

    This is the time grid of a sampler with ``N = n_steps`` steps; ``n_steps = T - 1`` visits
    every training time (the chapter's 999-step DDIM reference).
    """
    T = check_int("T", T, 2)
    n_steps = check_int("n_steps", n_steps, 1, T - 1)
    return np.round(np.linspace(T - 1, 0, n_steps + 1)).astype(int)


def _check_abar(abar) -> np.ndarray:
    if abar is None:
        return ALPHA_BAR
    ab = check_array("abar", abar, ndim=1)
    if ab.size < 2 or np.any(ab <= 0) or np.any(ab > 1):
        raise ValueError("abar must be a 1-D array of at least 2 values in (0, 1] (abar_t for "
                         "t = 0..T-1)")
    return ab


def _check_timesteps(timesteps, T: int, min_steps: int) -> np.ndarray:
    """Check a grid ``t_N > ... > t_0`` of integers in ``[0, T)`` with ``N >= min_steps``."""
    try:
        arr = np.asarray(timesteps)
    except Exception as exc:  # pragma: no cover - exotic inputs
        raise ValueError(f"timesteps must be a 1-D sequence of integers, "
                         f"got {timesteps!r}") from exc
    if arr.ndim != 1:
        raise ValueError(f"timesteps must be 1-dimensional (t_N, ..., t_0), got shape {arr.shape}")
    n = arr.size - 1
    if n < min_steps:
        raise ValueError(f"this sampler needs N >= {min_steps} steps, i.e. at least "
                         f"{min_steps + 1} timesteps t_N > ... > t_0; got N = {max(n, 0)} "
                         f"({arr.size} timesteps)")
    if arr.dtype.kind not in "iu":
        ok = arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr))
        if not ok:
            raise ValueError(f"timesteps must be integers (indices of the {T} training times), "
                             f"got dtype {arr.dtype}: {arr[:5].tolist()}")
    arr = arr.astype(int)
    if np.any(np.diff(arr) >= 0):
        raise ValueError(f"timesteps must be strictly decreasing (t_N > ... > t_0, largest first), "
                         f"got {arr.tolist()}")
    if arr[-1] < 0 or arr[0] >= T:
        raise ValueError(f"timesteps must lie in [0, {T}) (the schedule has {T} times), "
                         f"got t_N = {arr[0]} and t_0 = {arr[-1]}")
    return arr


def _check_gamma(gamma, *, invert: bool) -> float:
    if invert and not isinstance(gamma, bool) and isinstance(gamma, (int, float, np.number)) \
            and float(gamma) == 0.0:
        raise ValueError("gamma=0 is DDIM and not invertible: the inversion formula (5) divides by "
                         "gamma; use gamma in (0, 1]")
    if invert:
        return check_real("gamma", gamma, 0.0, 1.0, lo_open=True)
    return check_real("gamma", gamma, 0.0, 1.0)


def _abar(name: str, value) -> float:
    return check_real(name, value, 0.0, 1.0, lo_open=True)


def _state(name: str, z, like: np.ndarray | None = None) -> np.ndarray:
    z = check_array(name, z)
    if z.ndim < 1 or z.size == 0:
        raise ValueError(f"{name} must be a non-empty array of states, got shape {z.shape}")
    if like is not None and z.shape != like.shape:
        raise ValueError(f"{name} must have the same shape as the other state, {like.shape}; "
                         f"got {z.shape}")
    return z


def _eps(eps_fn: EpsFn, z: np.ndarray, t: int) -> np.ndarray:
    """One NFE, checked: the prediction must be finite and shaped like ``z``."""
    e = np.asarray(eps_fn(z, int(t)), dtype=float)
    if e.shape != z.shape:
        raise ValueError(f"eps_fn returned shape {e.shape} for a state of shape {z.shape} at "
                         f"t = {t}; it must return one noise estimate per entry of z")
    if not np.all(np.isfinite(e)):
        raise ValueError(f"eps_fn returned non-finite values at t = {t} (largest |z| there: "
                         f"{np.abs(z).max():.3g})")
    return e


# --------------------------------------------------------------------------- exact eps model

def gmm_eps(gmm: GaussianMixture | None = None, abar=None) -> EpsFn:
    """The exact noise predictor ``eps_hat(z, t) = -sigma_t grad log p_t(z)`` of a Gaussian mixture.

    ``p_t`` is the law of ``z_t = alpha_t x + sigma_t e`` (Eq. (1) of chapter
    ``bdia-exact-inversion``) with ``x ~ gmm`` (default: :func:`paperlab.data.gmm2d`), again a
    Gaussian mixture (:meth:`~paperlab.data.GaussianMixture.diffuse`). So this "network" has no
    error at all, and any difference between samplers is the samplers' own truncation error.
    The diffused mixtures are built once per time ``t`` and cached.
    """
    g = gmm2d() if gmm is None else gmm
    if not isinstance(g, GaussianMixture):
        raise ValueError(f"gmm must be a paperlab.data.GaussianMixture, got {type(g).__name__}")
    ab = _check_abar(abar)
    cache: dict[int, tuple[GaussianMixture, float]] = {}

    def eps_fn(z: np.ndarray, t: int) -> np.ndarray:
        t = check_int("t", t, 0, ab.size - 1)
        if t not in cache:
            a, s = float(np.sqrt(ab[t])), float(np.sqrt(1.0 - ab[t]))
            cache[t] = (g.diffuse(a, s), s)
        mix, s = cache[t]
        return -s * mix.score(z)

    eps_fn.gmm = g  # type: ignore[attr-defined]
    return eps_fn


@cached(maxsize=1)
def _default_eps() -> EpsFn:
    return gmm_eps()


# --------------------------------------------------------------------------- DDIM and BDIA

def ddim_delta(z, eps, abar_i: float, abar_j: float) -> np.ndarray:
    """The DDIM increment ``Delta(t_i -> t_j | z_i)``: Eq. (2) of chapter ``bdia-exact-inversion``.

    ``Delta = alpha_j (z_i - sigma_i eps_i) / alpha_i + sigma_j eps_i - z_i``, where
    ``alpha = sqrt(abar)`` and ``sigma = sqrt(1 - abar)``. It predicts the clean point
    ``(z_i - sigma_i eps_i) / alpha_i`` and re-noises it to time ``t_j`` with the *same* noise
    estimate. ``t_j`` may be below ``t_i`` (a sampling step, Song et al. 2021) or above it (a
    backward step, as used by DDIM inversion and by BDIA). ``Delta(t_i -> t_i) = 0``.
    """
    z = _state("z", z)
    eps = _state("eps", eps, like=z)
    abar_i, abar_j = _abar("abar_i", abar_i), _abar("abar_j", abar_j)
    alpha_i, sigma_i = np.sqrt(abar_i), np.sqrt(1.0 - abar_i)
    alpha_j, sigma_j = np.sqrt(abar_j), np.sqrt(1.0 - abar_j)
    return alpha_j * (z - sigma_i * eps) / alpha_i + sigma_j * eps - z


def bdia_step(z_ip1, z_i, eps_i, abar_ip1: float, abar_i: float, abar_im1: float,
              gamma: float = 0.5) -> np.ndarray:
    """One BDIA-DDIM step ``(z_{i+1}, z_i) -> z_{i-1}``: Eq. (4) of chapter
    ``bdia-exact-inversion``.

    ``z_{i-1} = z_i + gamma (z_{i+1} - z_i - Delta(t_i -> t_{i+1} | z_i))
    + Delta(t_i -> t_{i-1} | z_i)``

    (the BDIA-DDIM update of Zhang et al. 2024, in the paper's ``gamma`` convention). The
    backward DDIM step ``Delta(t_i -> t_{i+1} | z_i)`` re-estimates the *previous* interval from
    the newer noise estimate ``eps_i``; ``gamma`` says how much of that correction to apply.
    ``gamma = 0`` is a plain DDIM step. The right side is linear in ``z_{i+1}``, ``z_i`` and
    ``eps_i``, which is what makes it exactly invertible (:func:`bdia_step_inverse`).
    """
    gamma = _check_gamma(gamma, invert=False)
    z_i = _state("z_i", z_i)
    z_ip1 = _state("z_ip1", z_ip1, like=z_i)
    back = ddim_delta(z_i, eps_i, abar_i, abar_ip1)       # Delta(t_i -> t_{i+1} | z_i)
    forward = ddim_delta(z_i, eps_i, abar_i, abar_im1)    # Delta(t_i -> t_{i-1} | z_i)
    return z_i + gamma * (z_ip1 - z_i - back) + forward


def bdia_step_inverse(z_im1, z_i, eps_i, abar_ip1: float, abar_i: float, abar_im1: float,
                      gamma: float = 0.5) -> np.ndarray:
    """The exact inverse of :func:`bdia_step`, ``(z_{i-1}, z_i) -> z_{i+1}``: Eq. (5) of chapter
    ``bdia-exact-inversion``.

    ``z_{i+1} = z_i + Delta(t_i -> t_{i+1} | z_i)
    + (z_{i-1} - z_i - Delta(t_i -> t_{i-1} | z_i)) / gamma``

    Eq. (4) solved for ``z_{i+1}``. Both Deltas use ``eps_i = eps_fn(z_i, t_i)``, which the
    inversion can evaluate because it already knows ``z_i``: no approximation is made.
    Needs ``gamma > 0``.
    """
    gamma = _check_gamma(gamma, invert=True)
    z_i = _state("z_i", z_i)
    z_im1 = _state("z_im1", z_im1, like=z_i)
    back = ddim_delta(z_i, eps_i, abar_i, abar_ip1)       # Delta(t_i -> t_{i+1} | z_i)
    forward = ddim_delta(z_i, eps_i, abar_i, abar_im1)    # Delta(t_i -> t_{i-1} | z_i)
    return z_i + back + (z_im1 - z_i - forward) / gamma


def bdia_sample(eps_fn: EpsFn, z_N, timesteps, gamma: float = 0.5, z_Nm1=None, *,
                abar=None) -> list[np.ndarray]:
    """Generate with BDIA-DDIM from ``z_N`` down the grid ``timesteps`` (``t_N > ... > t_0``).

    Returns the states ``[z_N, z_{N-1}, ..., z_0]`` (so ``[-1]`` is the sample). The first step
    is a plain DDIM step, ``z_{N-1} = z_N + Delta(t_N -> t_{N-1} | z_N)`` (Eq. (2) of chapter
    ``bdia-exact-inversion``), unless the pair is given through ``z_Nm1`` (as returned by
    :func:`bdia_invert`). Every later step applies Eq. (4) with one NFE ``eps_fn(z_i, t_i)``:
    ``N`` NFEs in all, as for DDIM. ``gamma = 0`` is exactly DDIM. ``abar`` is the schedule
    (default :data:`ALPHA_BAR`); timesteps index it.
    """
    ab = _check_abar(abar)
    t = _check_timesteps(timesteps, ab.size, 2)
    gamma = _check_gamma(gamma, invert=False)
    if not callable(eps_fn):
        raise ValueError(f"eps_fn must be a function eps_fn(z, t), got {eps_fn!r}")
    z_N = _state("z_N", z_N)
    a = ab[t]                                   # a[k] = abar at t_{N-k}
    zs = [z_N]
    if z_Nm1 is None:
        zs.append(z_N + ddim_delta(z_N, _eps(eps_fn, z_N, t[0]), a[0], a[1]))
    else:
        zs.append(_state("z_Nm1", z_Nm1, like=z_N))
    for k in range(1, t.size - 1):              # z_i = zs[k] sits at t[k]; i = N - k
        e = _eps(eps_fn, zs[k], t[k])
        zs.append(bdia_step(zs[k - 1], zs[k], e, a[k - 1], a[k], a[k + 1], gamma))
    return zs


def bdia_invert(eps_fn: EpsFn, z0, z1, timesteps, gamma: float = 0.5, *,
                abar=None) -> list[np.ndarray]:
    """Exact BDIA-DDIM inversion: from ``(z_0, z_1)`` up to ``(z_{N-1}, z_N)`` by Eq. (5).

    Returns ``[z_0, z_1, ..., z_N]``; regenerating with
    ``bdia_sample(eps_fn, zs[-1], timesteps, gamma, z_Nm1=zs[-2])`` reproduces ``z_0`` up to
    rounding (chapter ``bdia-exact-inversion``). ``timesteps`` is the same grid as for sampling
    (largest first). With ``z1=None`` the partner of the data point is made by one naive DDIM
    inversion step, ``z_1 = z_0 + Delta(t_0 -> t_1 | z_0)``, as the official code does; any
    ``z_1`` gives an exact round trip. Costs ``N - 1`` NFEs (``N`` with ``z1=None``).

    The recursion divides by ``gamma`` at every step, so any part of ``(z_0, z_1)`` that does not
    fit a smooth trajectory, rounding errors included, grows like ``(1/gamma)^N``. With
    ``gamma`` near 1 the latent stays of noise size; with ``gamma = 0.5`` and tens of steps it
    does not (the chapter shows this). ``gamma`` must be in ``(0, 1]``.
    """
    ab = _check_abar(abar)
    gamma = _check_gamma(gamma, invert=True)
    t = _check_timesteps(timesteps, ab.size, 2)
    if not callable(eps_fn):
        raise ValueError(f"eps_fn must be a function eps_fn(z, t), got {eps_fn!r}")
    tt = t[::-1]                                # tt[k] = t_k, smallest first
    a = ab[tt]
    z0 = _state("z0", z0)
    if z1 is None:
        z1 = z0 + ddim_delta(z0, _eps(eps_fn, z0, tt[0]), a[0], a[1])
    else:
        z1 = _state("z1", z1, like=z0)
    zs = [z0, z1]
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, tt.size - 1):          # from (z_{k-1}, z_k) to z_{k+1}
            e = _eps(eps_fn, zs[k], tt[k])
            z_next = bdia_step_inverse(zs[k - 1], zs[k], e, a[k + 1], a[k], a[k - 1], gamma)
            if not np.all(np.isfinite(z_next)):
                raise ValueError(f"BDIA inversion overflowed at t = {tt[k + 1]} with gamma = "
                                 f"{gamma:g} and N = {tt.size - 1}: the inversion multiplies "
                                 f"mismatches by about 1/gamma per step; use gamma closer to 1 "
                                 f"or fewer steps")
            zs.append(z_next)
    return zs


def ddim_invert(eps_fn: EpsFn, x0, timesteps, *, abar=None) -> np.ndarray:
    """Naive DDIM inversion ``x_0 -> z_N``: Eq. (3) of chapter ``bdia-exact-inversion``.

    ``z_{i+1} = z_i + Delta(t_i -> t_{i+1} | z_i)``, which uses ``eps(z_i, t_i)`` where the
    sampling step it should undo used ``eps(z_{i+1}, t_{i+1})``. Each step is therefore off by a
    local truncation error, and regenerating from the returned ``z_N`` with DDIM
    (``bdia_sample(..., gamma=0)``) does not return exactly to ``x0``. ``N`` NFEs.
    """
    ab = _check_abar(abar)
    t = _check_timesteps(timesteps, ab.size, 1)
    if not callable(eps_fn):
        raise ValueError(f"eps_fn must be a function eps_fn(z, t), got {eps_fn!r}")
    tt = t[::-1]
    a = ab[tt]
    z = _state("x0", x0)
    for k in range(tt.size - 1):
        z = z + ddim_delta(z, _eps(eps_fn, z, tt[k]), a[k], a[k + 1])
    return z


# --------------------------------------------------------------------------- the experiment

def _noise(n: int, seed: int) -> np.ndarray:
    """Starting noise ``z_N ~ N(0, I)`` in 2-D, from a stream separate from the data's."""
    return np.random.default_rng([seed, 8]).standard_normal((n, 2))


@dataclass(frozen=True)
class Experiment:
    """Results of :func:`simulate` (all distances are Euclidean, in data units).

    ``roundtrip_mean[m][k]``/``roundtrip_max[m][k]``: mean/max of ``|x0_rec - x0|`` over the
    particles for method ``m`` ("DDIM", "BDIA 0.5", "BDIA 1") at ``steps[k]``; ``latent_rms[m][k]``
    the root-mean-square size of the recovered ``z_N`` (about 1 for Gaussian noise).
    ``endpoint[g][k]``: mean distance from the BDIA sample with ``gamma = g`` (0 = DDIM) to the
    999-step DDIM reference from the same ``z_N``. ``reference_error``: estimated error of the
    reference itself. ``paths[m]``: trajectories of the first ``paths_n`` particles at
    ``paths_steps`` steps (``[time, particle, coordinate]``), with their times in ``path_times[m]``.
    """

    n: int
    seed: int
    steps: tuple[int, ...]
    roundtrip_mean: dict[str, np.ndarray]
    roundtrip_max: dict[str, np.ndarray]
    latent_rms: dict[str, np.ndarray]
    endpoint: dict[float, np.ndarray]
    reference_error: float
    paths_steps: int
    paths: dict[str, np.ndarray]
    path_times: dict[str, np.ndarray]

    def table(self) -> str:
        """The measurements as a text table, one row per number of steps ``N``."""
        def cells(values, fmt):
            return " ".join(format(v, fmt).rjust(9) for v in values)

        methods = ("DDIM", "BDIA 0.5", "BDIA 1")
        rows = [f"{'':>4} | {'round trip: mean error':^29} | {'rms of the latent z_N':^29} | "
                f"{'distance to the reference':^29}",
                f"{'N':>4} | " + " | ".join([cells(("DDIM inv", "BDIA 0.5", "BDIA 1"), "")] * 2)
                + " | " + cells(("DDIM", "BDIA 0.5", "BDIA 1"), "")]
        for k, N in enumerate(self.steps):
            rows.append(f"{N:>4} | " + cells((self.roundtrip_mean[m][k] for m in methods), ".1e")
                        + " | " + cells((self.latent_rms[m][k] for m in methods), ".3g")
                        + " | " + cells((self.endpoint[g][k] for g in (0.0, 0.5, 1.0)), ".4f"))
        rows.append(f"(the 999-step reference is itself off by about {self.reference_error:.4f})")
        return "\n".join(rows)

    def summary(self, n_steps: int = 10) -> dict[str, float]:
        """The chapter's checked numbers at ``n_steps`` steps."""
        if n_steps not in self.steps:
            raise ValueError(f"n_steps must be one of the simulated {self.steps}, got {n_steps}")
        k = self.steps.index(n_steps)
        return {
            "bdia_roundtrip_max_gamma_0.5": float(self.roundtrip_max["BDIA 0.5"][k]),
            "bdia_roundtrip_max_gamma_1": float(self.roundtrip_max["BDIA 1"][k]),
            "ddim_roundtrip_mean": float(self.roundtrip_mean["DDIM"][k]),
            "endpoint_ddim": float(self.endpoint[0.0][k]),
            "endpoint_bdia_0.5": float(self.endpoint[0.5][k]),
            "endpoint_bdia_1": float(self.endpoint[1.0][k]),
        }


def simulate(n: int = 4000, steps: tuple[int, ...] = (5, 10, 20, 50), seed: int = 0,
             paths_steps: int = 5, paths_n: int = 12) -> Experiment:
    """Run the chapter's experiment on ``n`` particles of :func:`paperlab.data.gmm2d`.

    (a) Round trip ``x0 -> z_N -> x0`` at each ``N`` in ``steps``: naive DDIM inversion
    (Eq. (3)) then DDIM, and BDIA inversion (Eq. (5), ``z_1`` from one DDIM inversion step) then
    BDIA sampling, for ``gamma`` = 0.5 and 1. (b) From ``n`` noise draws ``z_N``, BDIA samples
    with ``gamma`` in {0, 0.5, 1} against a 999-step DDIM reference (every training time); the
    reference's own error is estimated on 500 particles as its distance to a 500-step DDIM run.
    (c) Trajectories of the first ``paths_n`` particles at ``paths_steps`` steps. Everything is
    deterministic given ``seed``. Uncached; :func:`experiment` is the cached version.
    """
    n = check_int("n", n, 2)
    seed = check_int("seed", seed, 0)
    steps = tuple(check_int("steps", s, 2, T_TRAIN - 1) for s in steps)
    if not steps:
        raise ValueError("steps must name at least one number of steps")
    paths_steps = check_int("paths_steps", paths_steps, 2, T_TRAIN - 1)
    paths_n = check_int("paths_n", paths_n, 1, n)
    eps = _default_eps()
    x0 = gmm2d().sample(n, seed=seed)
    zN = _noise(n, seed)

    ref_path = bdia_sample(eps, zN, make_timesteps(T_TRAIN - 1), gamma=0.0)
    ref = ref_path[-1]
    m = min(n, 500)
    coarse = bdia_sample(eps, zN[:m], make_timesteps(500), gamma=0.0)[-1]
    reference_error = float(np.linalg.norm(coarse - ref[:m], axis=1).mean())

    names = ("DDIM", "BDIA 0.5", "BDIA 1")
    rt_mean = {k: np.zeros(len(steps)) for k in names}
    rt_max = {k: np.zeros(len(steps)) for k in names}
    lat = {k: np.zeros(len(steps)) for k in names}
    endpoint = {g: np.zeros(len(steps)) for g in (0.0, 0.5, 1.0)}
    for j, N in enumerate(steps):
        t = make_timesteps(N)
        zT = ddim_invert(eps, x0, t)
        recs = {"DDIM": (bdia_sample(eps, zT, t, gamma=0.0)[-1], zT)}
        for g, name in ((0.5, "BDIA 0.5"), (1.0, "BDIA 1")):
            inv = bdia_invert(eps, x0, None, t, gamma=g)
            recs[name] = (bdia_sample(eps, inv[-1], t, gamma=g, z_Nm1=inv[-2])[-1], inv[-1])
        for name, (rec, latent) in recs.items():
            err = np.linalg.norm(rec - x0, axis=1)
            rt_mean[name][j], rt_max[name][j] = err.mean(), err.max()
            lat[name][j] = np.sqrt(np.mean(latent ** 2))
        for g in endpoint:
            end = bdia_sample(eps, zN, t, gamma=g)[-1]
            endpoint[g][j] = np.linalg.norm(end - ref, axis=1).mean()

    t = make_timesteps(paths_steps)
    paths = {"reference": np.stack([z[:paths_n] for z in ref_path])}
    times = {"reference": make_timesteps(T_TRAIN - 1)}
    for g, name in ((0.0, "DDIM"), (0.5, "BDIA 0.5"), (1.0, "BDIA 1")):
        paths[name] = np.stack(bdia_sample(eps, zN[:paths_n], t, gamma=g))
        times[name] = t
    return Experiment(n=n, seed=seed, steps=steps, roundtrip_mean=rt_mean, roundtrip_max=rt_max,
                      latent_rms=lat, endpoint=endpoint, reference_error=reference_error,
                      paths_steps=paths_steps, paths=paths, path_times=times)


@cached(maxsize=4)
def experiment(n: int = 4000, steps: tuple[int, ...] = (5, 10, 20, 50), seed: int = 0,
               paths_steps: int = 5, paths_n: int = 12) -> Experiment:
    """:func:`simulate`, cached on its (hashable) arguments: the chapter's one heavy step."""
    return simulate(n=n, steps=tuple(steps), seed=seed, paths_steps=paths_steps, paths_n=paths_n)


# --------------------------------------------------------------------------- interactive figure

_W_N = 250          # particles in the interactive figure (a slider move stays under 150 ms)
_LIM = ((-4.0, 4.0), (-3.0, 4.0))
_TICKS = ((-4, -2, 0, 2, 4), (-2, 0, 2, 4))
_SIZE = (9.0, 3.9)             # inches; rendered at 80 dpi by the website and the benchmark


@cached(maxsize=1)
def _widget_base() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    eps = _default_eps()
    x0 = gmm2d().sample(_W_N, seed=0)
    zN = _noise(_W_N, 0)
    ref = bdia_sample(eps, zN, make_timesteps(T_TRAIN - 1), gamma=0.0)[-1]
    return x0, zN, ref


@cached(maxsize=64)
def _widget_ddim(n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    eps = _default_eps()
    x0, zN, _ = _widget_base()
    t = make_timesteps(n_steps)
    end = bdia_sample(eps, zN, t, gamma=0.0)[-1]
    rec = bdia_sample(eps, ddim_invert(eps, x0, t), t, gamma=0.0)[-1]
    return end, rec


@cached(maxsize=1)
def _widget_ddim_all() -> None:
    """Fill the DDIM cache for every N of the slider at the first redraw (about 0.3 s once), so
    a later move of the N slider only computes the BDIA runs."""
    for n in range(SLIDERS["n_steps"].min, SLIDERS["n_steps"].max + 1):
        _widget_ddim(n)


@cached(maxsize=256)
def _widget_bdia(gamma: float, n_steps: int) -> tuple[np.ndarray, np.ndarray | None, float]:
    eps = _default_eps()
    x0, zN, _ = _widget_base()
    t = make_timesteps(n_steps)
    path = np.stack(bdia_sample(eps, zN, t, gamma=gamma))
    if gamma == 0:
        return path, None, float("nan")
    try:
        inv = bdia_invert(eps, x0, None, t, gamma=gamma)
        rec = bdia_sample(eps, inv[-1], t, gamma=gamma, z_Nm1=inv[-2])[-1]
    except ValueError:          # overflow: reported in the figure
        return path, None, float("inf")
    return path, rec, float(np.sqrt(np.mean(inv[-1] ** 2)))


def draw(gamma: float = 0.5, n_steps: int = 10, paths: int = 20) -> Figure:
    """The chapter's interactive figure (chapter ``bdia-exact-inversion``, section Explore).

    Left: BDIA-DDIM samples with weight ``gamma`` and ``n_steps`` steps from 250 noise draws,
    against the 999-step DDIM reference from the same draws, with ``paths`` trajectories.
    Right: the round trip ``x0 -> z_N -> x0`` of 250 data points with naive DDIM inversion and
    with exact BDIA inversion (Eq. (5)), and the size of the BDIA latent ``z_N``.
    """
    gamma = check_real("gamma", gamma, 0.0, 1.0)
    n_steps = check_int("n_steps", n_steps, 2, 200)
    paths = check_int("paths", paths, 0, _W_N)
    x0, _, ref = _widget_base()
    _widget_ddim_all()
    ddim_end, ddim_rec = _widget_ddim(n_steps)
    path, rec, rms = _widget_bdia(round(gamma, 6), n_steps)
    blue, orange, grey = plotting.PALETTE[0], plotting.PALETTE[1], "#9a9a9a"

    # Fixed axes positions and ticks instead of constrained layout: the layout pass costs about
    # a quarter of a redraw, and this figure's size never changes.
    fig, (ax0, ax1) = plotting.figure(2, width=_SIZE[0], height=_SIZE[1], layout="none")
    ax0.set_position((0.06, 0.12, 0.45, 0.79))
    ax1.set_position((0.535, 0.12, 0.45, 0.79))
    e_b = np.linalg.norm(path[-1] - ref, axis=1).mean()
    e_d = np.linalg.norm(ddim_end - ref, axis=1).mean()
    ax0.scatter(*ref.T, s=5, color=grey, lw=0)
    if paths:
        ax0.add_collection(LineCollection(path[:, :paths].transpose(1, 0, 2), colors=blue,
                                          linewidths=0.6, alpha=0.4))
    ax0.scatter(*path[-1].T, s=5, color=blue, lw=0)
    plotting.key(ax0, [("999-step reference", grey), (f"BDIA, γ = {gamma:.2f}", blue)])
    plotting.labels(ax0, "x₁", "x₂",
                    f"generate, N = {n_steps}: error {e_b:.3f} (DDIM {e_d:.3f})")

    r_d = np.linalg.norm(ddim_rec - x0, axis=1)
    ax1.scatter(*x0.T, s=14, color=grey, lw=0)
    ax1.scatter(*ddim_rec.T, s=5, color=orange, lw=0)
    entries = [("data x₀", grey), (f"DDIM inversion (mean error {r_d.mean():.2f})", orange)]
    if rec is None:
        plotting.message(ax1, "γ = 0 is DDIM: no exact inversion" if gamma == 0 else
                         "BDIA inversion overflowed: raise γ or lower N")
        title = "round trip x₀ → z_N → x₀"
    else:
        r_b = np.linalg.norm(rec - x0, axis=1).max()
        ok = np.all(np.abs(rec) < 50)
        if ok:
            ax1.scatter(*rec.T, s=5, color=blue, marker="x", lw=0.6)
            entries.append(("BDIA round trip", blue, "\u00d7"))
        else:
            plotting.message(ax1, "BDIA round trip is off the chart:\nrounding errors grew "
                                  "like (1/γ)^N")
        title = f"round trip: BDIA max error {r_b:.1e}"
        ax1.text(0.02, 0.03, f"BDIA latent size: rms(z_N) = {rms:.3g}\n(Gaussian noise: 1)",
                 transform=ax1.transAxes, fontsize=8, va="bottom",
                 color=plotting.PALETTE[3] if rms > 3 else "black")
    plotting.key(ax1, entries)
    plotting.labels(ax1, "x₁", "", title)
    ax1.tick_params(labelleft=False)             # same y range as the left panel
    for ax in (ax0, ax1):
        ax.set_xlim(*_LIM[0])
        ax.set_ylim(*_LIM[1])
        ax.set_xticks(_TICKS[0])
        ax.set_yticks(_TICKS[1])
    return fig


#: Slider box of :func:`draw`; the first entry (gamma) is the website scrubber's parameter.
SLIDERS = {
    "gamma": FloatSlider(0.05, 1.0, default=0.5, step=0.05, label="BDIA weight γ"),
    "n_steps": IntSlider(5, 50, default=10, label="steps N"),
    "paths": IntSlider(0, 100, default=20, step=5, label="paths drawn"),
}
