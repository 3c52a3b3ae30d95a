"""Locality and weight sharing buy samples: CNN vs LCN vs FCN on the Dynamic Signal Distribution.

Explained in chapter ``cnn-lcn-fcn-sample-complexity``. The paper is Lahoti, Karp, Winston,
Singh and Li, "Role of Locality and Weight Sharing in Image-Based Tasks: A Sample Complexity
Separation between CNNs, LCNs, and FCNs" (ICLR 2024).

Notation (as in the chapter). An input ``x`` is ``k`` patches ``x_1, ..., x_k`` of dimension
``d``. Under the Dynamic Signal Distribution (DSD) a label ``y`` is +1 or -1 with equal
probability, one patch ``j*`` is chosen uniformly at random, and

    x_{j*} = y w* + sigma xi_{j*},    x_j = sigma xi_j  (j != j*),

with ``||w*|| = 1`` and ``xi_j ~ N(0, I_d)`` independent (:func:`dsd_sample`). Three two-layer
networks with ``m`` filters, the odd activation ``psi(z) = z^3`` and fixed output weights
``1/m`` score an input (:func:`scores`):

* CNN (locality + weight sharing):  ``f(x) = (1/m) sum_j sum_r psi(w_r . x_j)``, ``w_r in R^d``;
* LCN (locality only):              ``f(x) = (1/m) sum_j sum_r psi(w_{j,r} . x_j)``;
* FCN (neither):                    ``f(x) = (1/m) sum_r psi(W_r . vec(x))``, ``W_r in R^{kd}``.

They are trained by full-batch gradient descent with heavy-ball momentum on the logistic loss
from an isotropic Gaussian initialisation (:func:`train_gd`). Both choices keep training
*orthogonally equivariant*, the property the paper's lower bounds assume: rotating every input
by an orthogonal matrix (block-diagonal for the LCN, one block repeated for the CNN) rotates the
learned weights the same way. Adam, which rescales coordinates one by one, is not.

The architectures and the cubic activation are this chapter's choice for a small experiment;
the paper's upper bounds analyse its own networks and training procedure.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from ..cache import cached
from .. import plotting
from .._validate import check_array, check_choice, check_int, check_real
from ..threads import one_thread
from ..widgets import Choice, FloatSlider

__all__ = ["ARCHS", "LRS", "dsd_sample", "init_weights", "scores", "gradient", "train_gd",
           "train_eval", "samples_needed", "Experiment", "experiment", "draw", "SLIDERS"]

#: The three architectures, from most to least structured.
ARCHS: tuple[str, ...] = ("CNN", "LCN", "FCN")
#: Learning rates tried for every architecture; the validation split picks one per fit.
LRS: tuple[float, ...] = (0.05, 0.2, 1.0)
#: Sizes of the validation and test sets (per seed).
N_VAL, N_TEST = 500, 2000


def _check_dims(k, d, sigma) -> tuple[int, int, float]:
    k = check_int("k", k, 1, 256)
    d = check_int("d", d, 1, 256)
    sigma = check_real("sigma", sigma, 0.0, 10.0, lo_open=True)
    return k, d, sigma


def _dsd(rng: np.random.Generator, n: int, k: int, d: int, sigma: float,
         w_star: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = rng.choice(np.array([-1.0, 1.0]), size=n)
    j_star = rng.integers(0, k, size=n)
    X = sigma * rng.standard_normal((n, k, d))
    X[np.arange(n), j_star] += y[:, None] * w_star
    return X.astype(np.float32), y.astype(np.float32)


def dsd_sample(n: int, k: int, d: int, sigma: float, seed: int = 0, *,
               w_star=None) -> tuple[np.ndarray, np.ndarray]:
    """``n`` draws from the Dynamic Signal Distribution (Section 4 of Lahoti et al., 2024).

    Returns ``X`` of shape ``(n, k, d)`` (``k`` patches of dimension ``d``) and labels ``y`` in
    {-1, +1}. One uniformly random patch holds ``y w* + sigma xi``, the others ``sigma xi``, with
    standard Gaussian ``xi``. ``w_star`` defaults to the first basis vector ``e_1``: gradient
    descent from an isotropic start is rotation equivariant, so the direction does not matter.
    """
    n = check_int("n", n, 1)
    k, d, sigma = _check_dims(k, d, sigma)
    seed = check_int("seed", seed, 0)
    if w_star is None:
        w = np.zeros(d)
        w[0] = 1.0
    else:
        w = check_array("w_star", w_star, shape=(d,))
        norm = float(np.linalg.norm(w))
        if not abs(norm - 1.0) < 1e-6:
            raise ValueError(f"w_star must be a unit vector of length d = {d}, got norm {norm:.4g}")
    return _dsd(np.random.default_rng(seed), n, k, d, sigma, w)


def _shape(arch: str, k: int, d: int, m: int) -> tuple[int, ...]:
    return {"CNN": (d, m), "LCN": (k, d, m), "FCN": (k * d, m)}[arch]


def init_weights(arch: str, k: int, d: int, m: int = 4, *, batch: tuple[int, ...] = (),
                 seed: int = 0) -> np.ndarray:
    """Isotropic Gaussian first-layer weights, std ``0.3 / sqrt(fan_in)``, one column per filter.

    Shapes (after the leading ``batch`` axes): CNN ``(d, m)`` (``m`` shared filters), LCN
    ``(k, d, m)`` (``m`` filters per patch), FCN ``(k d, m)`` (``m`` filters on the whole input).
    ``fan_in`` is ``d`` for the CNN and LCN and ``k d`` for the FCN.
    """
    check_choice("arch", arch, ARCHS)
    k, d, _ = _check_dims(k, d, 1.0)
    m = check_int("m", m, 1, 64)
    fan_in = k * d if arch == "FCN" else d
    rng = np.random.default_rng(check_int("seed", seed, 0))
    W = rng.standard_normal(tuple(batch) + _shape(arch, k, d, m)) * (0.3 / np.sqrt(fan_in))
    return W.astype(np.float32)


def _layout(arch: str, X: np.ndarray) -> np.ndarray:
    """Put a stack of datasets ``X`` (S, n, k, d) in the layout of ``arch``'s matrix product."""
    S, n, k, d = X.shape
    if arch == "CNN":
        return X.reshape(S, 1, n * k, d)                                  # every patch a row
    if arch == "LCN":
        return np.ascontiguousarray(X.transpose(0, 2, 1, 3))[:, None]   # (S, 1, k, n, d)
    return X.reshape(S, 1, n, k * d)                                      # vec(x) a row


def _forward(arch: str, W: np.ndarray, Xl: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Pre-activations ``Z`` and scores ``f`` (S, L, n) for laid-out data ``Xl``."""
    m = W.shape[-1]
    Z = Xl @ W
    Z3 = Z * Z * Z
    if arch == "CNN":
        f = Z3.reshape(*Z.shape[:2], n, -1).sum(-1)
    elif arch == "LCN":
        f = Z3.sum(axis=(2, 4))
    else:
        f = Z3.sum(-1)
    return Z, f / m


def scores(arch: str, W, X) -> np.ndarray:
    """Network outputs ``f(x)`` for every input (the three models of the module docstring).

    ``X`` is ``(n, k, d)`` and ``W`` has the shape of :func:`init_weights` without batch axes;
    returns ``(n,)``. The predicted label is ``sign(f(x))``.
    """
    check_choice("arch", arch, ARCHS)
    X = check_array("X", X, ndim=3).astype(np.float32)
    n, k, d = X.shape
    W = check_array("W", W).astype(np.float32)
    if W.ndim < 2 or W.shape[:-1] != _shape(arch, k, d, 1)[:-1]:
        raise ValueError(f"W must have shape {_shape(arch, k, d, 1)[:-1] + ('m',)} for the {arch} "
                         f"on inputs with k = {k}, d = {d}; got {W.shape}")
    return _forward(arch, W[None, None], _layout(arch, X[None]), n)[1][0, 0]


def gradient(arch: str, W: np.ndarray, Xl: np.ndarray, y: np.ndarray,
             weight_decay: float = 1e-3) -> np.ndarray:
    """Gradient of ``mean_i log(1 + exp(-y_i f(x_i))) + (weight_decay / 2) ||W||^2``.

    Batched over datasets and learning rates: ``W`` is ``(S, L, ...)``, ``Xl`` the data in the
    layout of ``arch`` (shared over ``L``) and ``y`` is ``(S, n)``. With ``r_i = -y_i
    sigmoid(-y_i f(x_i)) / n``, the chain rule through ``psi'(z) = 3 z^2`` gives, for the CNN,
    ``grad w_r = (3/m) sum_i r_i sum_j (w_r . x_{ij})^2 x_{ij}`` (sum over patches, the weight
    sharing); for the LCN the same without the sum over ``j``; for the FCN with ``vec(x_i)``.
    """
    n = y.shape[-1]
    m = W.shape[-1]
    Z, f = _forward(arch, W, Xl, n)
    yy = y[:, None, :]
    r = (-yy * 0.5 * (1.0 + np.tanh(-0.5 * yy * f))) * np.float32(3.0 / (m * n))   # (S, L, n)
    G = Z * Z
    if arch == "CNN":
        G = (G.reshape(*G.shape[:2], n, -1) * r[..., None]).reshape(Z.shape)
        g = np.swapaxes(Xl, -1, -2) @ G
    elif arch == "LCN":
        g = np.swapaxes(Xl, -1, -2) @ (G * r[:, :, None, :, None])
    else:
        g = np.swapaxes(Xl, -1, -2) @ (G * r[..., None])
    return g + np.float32(weight_decay) * W


def train_gd(arch: str, X, y, lrs=LRS, *, m: int = 4, steps: int = 200, momentum: float = 0.9,
             weight_decay: float = 1e-3, seed=0) -> np.ndarray:
    """Full-batch heavy-ball gradient descent on the logistic loss, for every learning rate.

    ``X`` is ``(S, n, k, d)`` (``S`` independent training sets) and ``y`` is ``(S, n)``. Every
    dataset is trained once per learning rate in ``lrs`` from the same start (:func:`init_weights`
    at ``seed``; pass one seed per dataset to give each its own start), all in one batched
    computation. The update is
    ``v <- momentum v + grad``, ``W <- W - lr v``. Runs that overflow are returned as NaN
    weights. Returns weights of shape ``(S, len(lrs), ...)``.
    """
    check_choice("arch", arch, ARCHS)
    X = check_array("X", X, ndim=4).astype(np.float32)
    S, n, k, d = X.shape
    check_int("n", n, 2)
    y = check_array("y", y, shape=(S, n)).astype(np.float32)
    lr = np.array([check_real("lrs[i]", v, 0.0, 100.0, lo_open=True) for v in lrs], np.float32)
    steps = check_int("steps", steps, 1)
    beta = np.float32(check_real("momentum", momentum, 0.0, 1.0, hi_open=True))
    wd = check_real("weight_decay", weight_decay, 0.0)
    L = lr.size
    seeds = [seed] * S if np.ndim(seed) == 0 else list(seed)
    if len(seeds) != S:
        raise ValueError(f"seed must be one integer or one per dataset ({S}), got {len(seeds)}")
    W = np.stack([init_weights(arch, k, d, m, seed=s) for s in seeds])[:, None].repeat(L, axis=1)
    V = np.zeros_like(W)
    lr = lr.reshape((1, L) + (1,) * (W.ndim - 2))
    Xl = _layout(arch, X)
    with one_thread(), np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            V *= beta
            V += gradient(arch, W, Xl, y, wd)
            W -= lr * V
    bad = ~np.isfinite(W.reshape(S, L, -1)).all(-1)
    W[bad] = np.nan
    return W


def _accuracy(arch: str, W: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Accuracy (S, L) of batched weights on a stack of datasets; NaN weights score 0."""
    with np.errstate(over="ignore", invalid="ignore"):
        f = _forward(arch, W, _layout(arch, X), X.shape[1])[1]
        acc = ((f * y[:, None, :]) > 0).mean(-1)
    acc[~np.isfinite(W.reshape(*W.shape[:2], -1)).all(-1)] = 0.0
    return acc


def _fit_grid(k: int, d: int, sigma: float, ns: tuple[int, ...], seeds: tuple[int, ...],
              steps: int, m: int) -> dict[str, np.ndarray]:
    """Test accuracy (seeds, ns) of every architecture, lr picked on the validation split."""
    w = np.zeros(d)
    w[0] = 1.0
    pools = [_dsd(np.random.default_rng((s, k, 0)), max(ns), k, d, sigma, w) for s in seeds]
    vals = [_dsd(np.random.default_rng((s, k, 1)), N_VAL, k, d, sigma, w) for s in seeds]
    tests = [_dsd(np.random.default_rng((s, k, 2)), N_TEST, k, d, sigma, w) for s in seeds]
    Xv, yv = np.stack([v[0] for v in vals]), np.stack([v[1] for v in vals])
    Xt, yt = np.stack([t[0] for t in tests]), np.stack([t[1] for t in tests])
    out = {a: np.zeros((len(seeds), len(ns))) for a in ARCHS}
    for a_i, arch in enumerate(ARCHS):
        for j, n in enumerate(ns):                 # nested training sets: the first n of a pool
            X = np.stack([p[0][:n] for p in pools])
            y = np.stack([p[1][:n] for p in pools])
            W = train_gd(arch, X, y, LRS, m=m, steps=steps, seed=[1000 * s + 10 * k + a_i for s in seeds])
            best = _accuracy(arch, W, Xv, yv).argmax(1)
            out[arch][:, j] = _accuracy(arch, W, Xt, yt)[np.arange(len(seeds)), best]
    return out


def train_eval(arch: str, n: int, k: int, d: int = 8, sigma: float = 0.35, seed: int = 0, *,
               steps: int = 200, m: int = 4) -> float:
    """Test accuracy of ``arch`` trained on ``n`` DSD samples (lr from :data:`LRS` by validation).

    One point of the chapter's learning curves: draw ``n`` training, 500 validation and 2000
    test samples at ``seed``, train with :func:`train_gd` at every learning rate, keep the one
    with the best validation accuracy and return its test accuracy.
    """
    check_choice("arch", arch, ARCHS)
    n = check_int("n", n, 2)
    k, d, sigma = _check_dims(k, d, sigma)
    seed = check_int("seed", seed, 0)
    with one_thread():
        return float(_fit_grid(k, d, sigma, (n,), (seed,), check_int("steps", steps, 1),
                               check_int("m", m, 1, 64))[arch][0, 0])


def samples_needed(accs, ns, target: float = 0.75) -> float:
    """The sample complexity ``n*``: the smallest ``n`` in ``ns`` whose accuracy reaches ``target``.

    ``accs`` has one entry per entry of ``ns`` (average seeds first). Returns ``inf`` when no
    size in the grid reaches the target (``n*`` is then larger than the grid).
    """
    ns = check_array("ns", ns, ndim=1)
    accs = check_array("accs", accs, shape=ns.shape)
    target = check_real("target", target, 0.0, 1.0)
    if np.any(np.diff(ns) <= 0):
        raise ValueError("ns must be strictly increasing")
    hit = np.nonzero(accs >= target)[0]
    return float(ns[hit[0]]) if hit.size else float("inf")


@dataclass(frozen=True)
class Experiment:
    """Learning curves: ``acc[arch]`` has shape ``(len(ks), len(seeds), len(ns))``."""

    ks: tuple[int, ...]
    ns: tuple[int, ...]
    seeds: tuple[int, ...]
    d: int
    sigma: float
    acc: dict

    def mean(self, arch: str, k: int) -> np.ndarray:
        """Seed-averaged test accuracy of ``arch`` at ``k`` patches, one entry per ``n``."""
        return self.acc[arch][self.ks.index(k)].mean(0)

    def n_star(self, arch: str, target: float = 0.75) -> np.ndarray:
        """:func:`samples_needed` of the seed-averaged curve, one entry per ``k``."""
        return np.array([samples_needed(self.mean(arch, k), self.ns, target) for k in self.ks])


@cached(maxsize=4)
def experiment(ks: tuple[int, ...] = (4, 8, 16), ns: tuple[int, ...] = (8, 16, 32, 64, 128, 256, 512, 1024),
               seeds: tuple[int, ...] = (0, 1), d: int = 8, sigma: float = 0.35, steps: int = 200,
               m: int = 4) -> Experiment:
    """The chapter's experiment: every architecture at every ``k`` and ``n``, for each seed.

    Cached; a few seconds on one core. Seeds enter only through the data and the initialisation.
    """
    ks = tuple(check_int("ks[i]", k, 1, 64) for k in ks)
    ns = tuple(check_int("ns[i]", n, 2) for n in ns)
    seeds = tuple(check_int("seeds[i]", s, 0) for s in seeds)
    if not ks or not ns or not seeds:
        raise ValueError("ks, ns and seeds must be non-empty")
    if any(b <= a for a, b in zip(ns, ns[1:])):
        raise ValueError(f"ns must be strictly increasing, got {ns}")
    d = check_int("d", d, 1, 64)
    sigma = check_real("sigma", sigma, 0.0, 10.0, lo_open=True)
    acc = {a: [] for a in ARCHS}
    with one_thread():
        for k in ks:
            res = _fit_grid(k, d, sigma, ns, seeds, check_int("steps", steps, 1), check_int("m", m, 1, 64))
            for a in ARCHS:
                acc[a].append(res[a])
    return Experiment(ks, ns, seeds, d, sigma, {a: np.array(v) for a, v in acc.items()})


# --------------------------------------------------------------------------- interactive figure

_COLOURS = {"CNN": plotting.PALETTE[0], "LCN": plotting.PALETTE[1], "FCN": plotting.PALETTE[3]}
_SHOW = {"all three": ARCHS, "CNN vs LCN (weight sharing)": ("CNN", "LCN"),
         "LCN vs FCN (locality)": ("LCN", "FCN")}

SLIDERS = {
    "k": Choice((4, 8, 16), default=16, label="patches k"),
    "target": FloatSlider(0.6, 0.9, default=0.75, step=0.025, label="target accuracy"),
    "compare": Choice(tuple(_SHOW), default="all three", label="compare"),
}


def draw(k: int = 16, target: float = 0.75, compare: str = "all three") -> Figure:
    """The chapter's interactive figure (chapter ``cnn-lcn-fcn-sample-complexity``, Explore).

    Left: test accuracy against the number of training samples ``n`` at ``k`` patches (mean of
    two seeds, the band spans them), with the target accuracy. Right: the samples needed to reach
    the target, ``n*``, against ``k`` on log-log axes, with reference slopes 1 and 2; an open
    triangle marks ``n*`` beyond the largest ``n`` tried.
    """
    check_choice("k", k, SLIDERS["k"].options)
    target = check_real("target", target, 0.5, 1.0)
    check_choice("compare", compare, tuple(_SHOW))
    res = experiment()
    archs = _SHOW[compare]
    ns = np.array(res.ns)
    fig, (ax0, ax1) = plotting.figure(2, width=9.0, height=3.5, layout="fixed")
    for a in archs:
        A = res.acc[a][res.ks.index(k)]
        ax0.fill_between(ns, A.min(0), A.max(0), color=_COLOURS[a], alpha=0.2, lw=0)
        ax0.plot(ns, A.mean(0), "o-", color=_COLOURS[a], ms=3)
    ax0.axhline(target, color="grey", lw=0.8, ls="--")
    ax0.set_xscale("log")
    ax0.set_xticks(ns[::2], [str(v) for v in ns[::2]])
    ax0.minorticks_off()
    ax0.set_ylim(0.45, 1.0)
    plotting.key(ax0, [(a, _COLOURS[a]) for a in archs], width=0.2)
    plotting.labels(ax0, "training samples n", "test accuracy", f"learning curves, k = {k}")

    ks = np.array(res.ks, dtype=float)
    top = 2.0 * ns[-1]
    for a in archs:
        ns_star = res.n_star(a, target)
        done = np.isfinite(ns_star)
        ax1.plot(ks[done], ns_star[done], "o-", color=_COLOURS[a], ms=5)
        if (~done).any():
            ax1.plot(ks[~done], np.full((~done).sum(), top), "^", mfc="white", color=_COLOURS[a], ms=7)
    ref = 2 * ns[0] * (ks / ks[0])
    ax1.plot(ks, ref, ":", color="grey", lw=1)
    ax1.plot(ks, ref * (ks / ks[0]), "--", color="grey", lw=1)
    ax1.text(ks[-1] * 1.05, ref[-1], "\u221d k", color="grey", fontsize=8, va="center")
    ax1.text(ks[-1] * 1.05, ref[-1] * ks[-1] / ks[0], "\u221d k\u00b2", color="grey", fontsize=8,
             va="center")
    ax1.set(xscale="log", yscale="log", ylim=(ns[0] / 1.5, top * 1.5), xlim=(ks[0] / 1.25, ks[-1] * 1.6))
    ax1.set_xticks(ks, [str(int(v)) for v in ks])
    ax1.set_yticks(ns[::2], [str(v) for v in ns[::2]])
    ax1.minorticks_off()
    ax1.axhline(ns[-1] * 1.4, color="grey", lw=0.5)
    ax1.text(ks[0], top * 1.1, f"\u25b3 = beyond n = {ns[-1]}", fontsize=8, va="center")
    plotting.labels(ax1, "patches k", "samples needed n*", f"samples to reach {target:.3g}")
    return fig
