"""Vector priors and multi-codebook quantization (Zhu et al., "Unified Multivariate Gaussian
Mixture for Efficient Neural Image Compression", CVPR 2022).

Explained in chapter ``multivariate-gmm-vq-compression``.

Notation (as in the chapter). A latent vector ``y`` in ``R^d`` is split into ``M`` groups
``y = [y^(1); ...; y^(M)]`` of ``d / M`` entries. Group ``m`` has a codebook ``C_m`` of ``K``
codewords ``c_{m,k}`` (the means of a multivariate Gaussian mixture) and a categorical prior
``pi^(m) = softmax(a_m)`` over its indices. Probabilistic vector quantization (PVQ) assigns

    logits l_k(y) = -||y - c_k||^2 / tau                        (Eq. (1) of the chapter)
    b = one-hot index, y_hat = sum_k b_k c_k                    (Eq. (2))
    R = sum_m -log2 pi^(m)_{b_m}   bits per vector              (Eq. (3))

and is trained on ``||y - y_hat||^2 + lam R`` (Eq. (4)). The paper relaxes ``b`` with a
Gumbel-softmax and a straight-through gradient (:meth:`PVQ.forward` with ``hard=False``). This
module minimizes the same objective with the deterministic alternative named in the chapter spec:
entropy-constrained Lloyd iterations (Chou, Lookabaugh and Gray 1989), which alternate the best
assignment for fixed codebooks and priors (``argmin_k ||y - c_k||^2 - lam log2 pi_k``) with the
best codebooks (group means) and priors (index frequencies) for fixed assignments.

Also here: the factorized scalar baseline (:func:`scalar_quant_rd`), the two-level cascade whose
second level has a prior conditioned on the first index (:func:`train_cascade`), rate-distortion
curves (:func:`rd_curve`), the data (:func:`correlated_gaussian`, :func:`digit_blocks`), the
chapter's experiment (:func:`experiment`) and its interactive figure (:func:`draw`,
:data:`SLIDERS`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from ..cache import cached
from .. import plotting
from .._validate import check_array, check_choice, check_int, check_real
from ..widgets import Choice, IntSlider

__all__ = ["PVQ", "train_pvq", "Cascade", "train_cascade", "scalar_quant_rd", "rd_curve",
           "correlated_gaussian", "digit_blocks", "pareto", "lower_hull",
           "matched_rate", "experiment", "rate_gap", "LAMS",
           "DELTAS", "draw", "SLIDERS"]

_LOG2 = np.log(2.0)


def _data(y) -> np.ndarray:
    y = check_array("y", y, ndim=2)
    if y.shape[0] == 0 or y.shape[1] == 0:
        raise ValueError(f"y must be a non-empty (n, d) array of vectors, got shape {y.shape}")
    return y


# --------------------------------------------------------------------------- the quantizer

class PVQ(nn.Module):
    """Probabilistic vector quantizer with ``n_groups`` codebooks of ``K`` codewords each
    (chapter ``multivariate-gmm-vq-compression``).

    ``codebooks`` has shape ``(M, K, d / M)``, ``prior_logits`` shape ``(M, K)``;
    ``pi^(m) = softmax(prior_logits[m])``. ``tau`` is the temperature of the logits (Eq. (1)).
    """

    def __init__(self, dim: int, K: int, n_groups: int = 1, tau: float = 1.0, seed: int = 0) -> None:
        super().__init__()
        self.dim = check_int("dim", dim, 1)
        self.K = check_int("K", K, 2)
        self.n_groups = check_int("n_groups", n_groups, 1, self.dim)
        if self.dim % self.n_groups:
            raise ValueError(f"dim must be divisible by n_groups, got dim={dim}, n_groups={n_groups}")
        self.tau = check_real("tau", tau, 0.0, lo_open=True)
        g = torch.Generator().manual_seed(check_int("seed", seed, 0))
        self.codebooks = nn.Parameter(torch.randn(self.n_groups, self.K, self.dim // self.n_groups,
                                                  generator=g, dtype=torch.float64))
        self.prior_logits = nn.Parameter(torch.zeros(self.n_groups, self.K, dtype=torch.float64))

    def _groups(self, y: torch.Tensor) -> torch.Tensor:
        return y.reshape(y.shape[0], self.n_groups, self.dim // self.n_groups)

    def logits(self, y) -> torch.Tensor:
        """``l_k(y^(m)) = -||y^(m) - c_{m,k}||^2 / tau`` (Eq. (1)), shape (n, M, K)."""
        yt = torch.as_tensor(_data(y), dtype=torch.float64)
        if yt.shape[1] != self.dim:
            raise ValueError(f"y must have {self.dim} columns, got {yt.shape[1]}")
        d2 = ((self._groups(yt)[:, :, None, :] - self.codebooks[None]) ** 2).sum(-1)
        return -d2 / self.tau

    def forward(self, y, hard: bool = False, generator: torch.Generator | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """Quantize ``y``: returns ``(y_hat, b)`` with one-hot ``b`` of shape (n, M, K) (Eq. (2)).

        ``hard=True`` (inference) takes ``b = one_hot(argmax_k l_k)``, the nearest codeword.
        ``hard=False`` (the paper's training relaxation) draws ``b`` from the Gumbel-softmax of
        the logits with a straight-through gradient: one-hot in the forward pass, the gradient of
        ``softmax((l + g))`` in the backward pass.
        """
        ell = self.logits(y)
        if hard:
            b = nn.functional.one_hot(ell.argmax(-1), self.K).to(ell.dtype)
        else:
            u = torch.rand(ell.shape, generator=generator, dtype=ell.dtype).clamp_(1e-12, 1 - 1e-12)
            soft = torch.softmax(ell - torch.log(-torch.log(u)), dim=-1)
            b = nn.functional.one_hot(soft.argmax(-1), self.K).to(ell.dtype)
            b = b + soft - soft.detach()
        y_hat = torch.einsum("nmk,mkj->nmj", b, self.codebooks).reshape(-1, self.dim)
        return y_hat, b

    def rate_bits(self, b) -> torch.Tensor:
        """Ideal code length ``sum_m -log2 pi^(m)_{b_m}`` of each vector (Eq. (3)), shape (n,)."""
        b = torch.as_tensor(b, dtype=torch.float64)
        logp = torch.log_softmax(self.prior_logits, dim=-1) / _LOG2
        return -(b * logp[None]).sum((-1, -2))

    @torch.no_grad()
    def encode(self, y, lam: float = 0.0) -> np.ndarray:
        """Entropy-constrained encoder: ``argmin_k ||y^(m) - c_{m,k}||^2 - lam log2 pi_k`` per
        group, indices of shape (n, M). ``lam = 0`` is the nearest codeword (``argmax`` of Eq. (1))."""
        lam = check_real("lam", lam, 0.0)
        logp = torch.log_softmax(self.prior_logits, dim=-1) / _LOG2
        cost = -self.logits(y) * self.tau - lam * logp[None]
        return cost.argmin(-1).numpy()

    @torch.no_grad()
    def evaluate(self, y, lam: float = 0.0) -> tuple[float, float]:
        """``(bits per dimension, MSE per dimension)`` of the hard quantizer on ``y``."""
        y = _data(y)
        idx = self.encode(y, lam)
        cb = self.codebooks.numpy()
        y_hat = cb[np.arange(self.n_groups)[None], idx].reshape(len(y), self.dim)
        logp = torch.log_softmax(self.prior_logits, dim=-1).numpy() / _LOG2
        rate = -logp[np.arange(self.n_groups)[None], idx].sum(1).mean()
        return float(rate / self.dim), float(((y - y_hat) ** 2).mean())


def _lloyd(z: np.ndarray, K: int, lam: float, iters: int, rng: np.random.Generator,
           contexts: np.ndarray | None = None, n_ctx: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entropy-constrained Lloyd iterations for one group ``z`` (n, p): codebook (K, p), log2-prior
    (n_ctx, K) and indices (n,). With ``contexts`` the prior is a table ``pi(k | context)``."""
    n, p = z.shape
    ctx = np.zeros(n, dtype=int) if contexts is None else contexts
    C = z[rng.choice(n, size=K, replace=n < K)].copy()
    logp = np.full((n_ctx, K), -np.log2(K))

    def assign() -> np.ndarray:
        # argmin_k ||z - c_k||^2 - lam log2 pi_k; ||z||^2 is the same for every k and is dropped.
        cost = z @ C.T
        cost *= -2.0
        if n_ctx == 1:
            cost += (C * C).sum(1) - lam * logp[0]
        else:
            cost += (C * C).sum(1)
            cost -= lam * logp[ctx]
        return cost.argmin(1)

    for _ in range(iters):
        idx = assign()
        counts = np.bincount(ctx * K + idx, minlength=n_ctx * K).reshape(n_ctx, K).astype(float)
        tot = counts.sum(0)
        used = tot > 0
        sums = np.stack([np.bincount(idx, weights=z[:, j], minlength=K) for j in range(p)], axis=1)
        C[used] = sums[used] / tot[used, None]
        smoothed = counts + 1e-3
        logp = np.log2(smoothed / smoothed.sum(1, keepdims=True))
    return C, logp, assign()


def train_pvq(y, K: int, n_groups: int = 1, lam: float = 0.1, steps: int = 20, seed: int = 0) -> PVQ:
    """Fit a :class:`PVQ` to the rows of ``y`` by minimizing Eq. (4),
    ``mean ||y - y_hat||^2 + lam * R``, with ``R`` in bits per vector (chapter
    ``multivariate-gmm-vq-compression``).

    Each group is fitted by ``steps`` entropy-constrained Lloyd iterations (assign with
    ``argmin ||y - c_k||^2 - lam log2 pi_k``, then set codewords to the means of their cells and
    the prior to the index frequencies). Codewords start at random data points (``seed``).
    Use :meth:`PVQ.evaluate` with the same ``lam`` to measure the rate and distortion.
    """
    y = _data(y)
    lam = check_real("lam", lam, 0.0)
    steps = check_int("steps", steps, 1)
    q = PVQ(y.shape[1], K, n_groups, seed=seed)
    rng = np.random.default_rng([check_int("seed", seed, 0), 50])
    p = q.dim // q.n_groups
    with torch.no_grad():
        for m in range(q.n_groups):
            C, logp, _ = _lloyd(y[:, m * p:(m + 1) * p], q.K, lam, steps, rng)
            q.codebooks[m] = torch.as_tensor(C)
            q.prior_logits[m] = torch.as_tensor(logp[0] * _LOG2)
    return q


@dataclass(frozen=True)
class Cascade:
    """A two-level cascade: level 1 quantizes ``y`` with codebook ``C1`` and prior ``pi1``; level 2
    quantizes the residual ``y - y_hat_1`` with codebook ``C2`` and a prior table
    ``pi2(k | b_1)`` conditioned on the level-1 index (no context model)."""

    C1: np.ndarray
    logp1: np.ndarray
    C2: np.ndarray
    logp2: np.ndarray
    lam: float

    def evaluate(self, y) -> tuple[float, float]:
        """``(bits per dimension, MSE per dimension)`` of the cascade on ``y``."""
        y = _data(y)
        d2 = ((y[:, None, :] - self.C1[None]) ** 2).sum(-1)
        b1 = np.argmin(d2 - self.lam * self.logp1[None], axis=1)
        res = y - self.C1[b1]
        d2 = ((res[:, None, :] - self.C2[None]) ** 2).sum(-1)
        b2 = np.argmin(d2 - self.lam * self.logp2[b1], axis=1)
        rate = -(self.logp1[b1] + self.logp2[b1, b2]).mean()
        return float(rate / y.shape[1]), float(((res - self.C2[b2]) ** 2).mean())


def train_cascade(y, K1: int = 16, K2: int = 16, lam: float = 0.1, steps: int = 20,
                  seed: int = 0) -> Cascade:
    """Two-level cascaded PVQ (chapter ``multivariate-gmm-vq-compression``): level 1 as
    :func:`train_pvq`, level 2 on the residual with a prior table ``pi2(. | b_1)`` of shape
    (K1, K2), both by entropy-constrained Lloyd iterations on Eq. (4)."""
    y = _data(y)
    K1, K2 = check_int("K1", K1, 2), check_int("K2", K2, 2)
    lam = check_real("lam", lam, 0.0)
    steps = check_int("steps", steps, 1)
    rng = np.random.default_rng([check_int("seed", seed, 0), 51])
    C1, logp1, b1 = _lloyd(y, K1, lam, steps, rng)
    C2, logp2, _ = _lloyd(y - C1[b1], K2, lam, steps, rng, contexts=b1, n_ctx=K1)
    return Cascade(C1, logp1[0], C2, logp2, lam)


# --------------------------------------------------------------------------- the scalar baseline

def scalar_quant_rd(y, steps) -> tuple[np.ndarray, np.ndarray]:
    """Uniform scalar quantization of every dimension with step ``Delta`` and a factorized prior:
    the rate is the sum over dimensions of the empirical entropy of that dimension's indices.
    Returns ``(bits per dimension, MSE per dimension)``, one entry per step in ``steps``."""
    y = _data(y)
    steps = check_array("steps", steps, ndim=1)
    if steps.size == 0 or np.any(steps <= 0):
        raise ValueError("steps must be a non-empty list of positive step sizes Delta")
    rates, mses = [], []
    for delta in steps:
        q = np.round(y / delta)
        bits = 0.0
        for j in range(y.shape[1]):
            _, counts = np.unique(q[:, j], return_counts=True)
            p = counts / counts.sum()
            bits += -(p * np.log2(p)).sum()
        rates.append(bits / y.shape[1])
        mses.append(float(((y - q * delta) ** 2).mean()))
    return np.array(rates), np.array(mses)


def rd_curve(method: str, y, lams, **kw) -> tuple[np.ndarray, np.ndarray]:
    """Rate-distortion points ``(bits per dimension, MSE per dimension)`` of ``method`` on ``y``,
    one per value in ``lams``: ``"scalar"`` (``lams`` are step sizes), ``"pvq"``
    (:func:`train_pvq`, keywords ``K``, ``n_groups``) or ``"cascade"`` (:func:`train_cascade`)."""
    check_choice("method", method, ("scalar", "pvq", "cascade"))
    y = _data(y)
    lams = check_array("lams", lams, ndim=1)
    if lams.size == 0 or np.any(lams < 0):
        raise ValueError("lams must be a non-empty list of values >= 0 (lambda >= 0)")
    if method == "scalar":
        return scalar_quant_rd(y, lams)
    pts = []
    for lam in lams:
        if method == "pvq":
            pts.append(train_pvq(y, lam=float(lam), **kw).evaluate(y, float(lam)))
        else:
            pts.append(train_cascade(y, lam=float(lam), **kw).evaluate(y))
    r, d = zip(*pts)
    return np.array(r), np.array(d)


def pareto(curve_rate, curve_mse) -> tuple[np.ndarray, np.ndarray]:
    """The Pareto-optimal points of an RD curve, sorted by MSE: those that no other point beats
    in both rate and MSE. For the scalar quantizer this is the best step size for each
    distortion (a coarser step can code some data more cheaply and more accurately than a
    finer one when the grid happens to fit the data)."""
    r, d = np.asarray(curve_rate, float), np.asarray(curve_mse, float)
    order = np.lexsort((r, d))
    r, d = r[order], d[order]
    keep = np.r_[True, r[1:] < np.minimum.accumulate(r)[:-1]]
    return r[keep], d[keep]


def lower_hull(curve_rate, curve_mse) -> tuple[np.ndarray, np.ndarray]:
    """The lower convex hull of RD points in the (MSE, rate) plane, sorted by MSE: the rates
    reachable by time sharing, coding a fraction of the vectors with one quantizer and the rest
    with another. It keeps only :func:`pareto` points."""
    r, d = pareto(curve_rate, curve_mse)
    hull: list[int] = []
    for i in range(len(d)):
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            # drop b if it lies on or above the chord from a to i
            if (r[b] - r[a]) * (d[i] - d[a]) >= (r[i] - r[a]) * (d[b] - d[a]):
                hull.pop()
            else:
                break
        hull.append(i)
    return r[hull], d[hull]


def matched_rate(curve_rate, curve_mse, mse) -> np.ndarray:
    """The rate of an RD curve at the given MSE values: linear interpolation between the points
    of its lower convex hull (:func:`lower_hull`), the best that time sharing between the curve's
    quantizers can do. NaN outside the curve's MSE range."""
    r, d = lower_hull(curve_rate, curve_mse)
    return np.interp(np.asarray(mse, float), d, r, left=np.nan, right=np.nan)


# --------------------------------------------------------------------------- data

def correlated_gaussian(n: int = 4000, rho: float = 0.9, seed: int = 0) -> np.ndarray:
    """``n`` samples of a 2-D Gaussian with unit variances and correlation ``rho``."""
    n = check_int("n", n, 1)
    rho = check_real("rho", rho, -1.0, 1.0, lo_open=True, hi_open=True)
    cov = np.array([[1.0, rho], [rho, 1.0]])
    return np.random.default_rng([check_int("seed", seed, 0), 60]).multivariate_normal(
        np.zeros(2), cov, size=n)


@cached(maxsize=2)
def _blocks() -> np.ndarray:
    from sklearn.datasets import load_digits
    X = load_digits().images                                       # (1797, 8, 8), integers 0..16
    b = X.reshape(-1, 4, 2, 4, 2).transpose(0, 1, 3, 2, 4).reshape(-1, 4)
    return b[b.sum(1) > 0]                                         # drop all-background blocks


def digit_blocks(n: int = 4000, seed: int = 0, dither: bool = True) -> np.ndarray:
    """``n`` random 2x2 pixel blocks (4-vectors) of scikit-learn's digits, all-background blocks
    removed (about 21 000 blocks remain).

    The digits' pixels are integers ``v`` from 0 to 16. With ``dither`` (the default) each pixel
    becomes ``(v + u) / 17`` with ``u ~ Uniform[0, 1)``, the usual dequantization of pixel data
    in density modelling: a continuous variable in [0, 1). Without it the values are ``v / 16``,
    a grid of 17 levels that a scalar quantizer with step ``1/16`` codes losslessly, which is a
    property of how the data were stored, not of scalar quantization.
    """
    n = check_int("n", n, 1)
    b = _blocks()
    rng = np.random.default_rng([check_int("seed", seed, 0), 61])
    x = b[rng.choice(len(b), size=min(n, len(b)), replace=False)].astype(float)
    if dither:
        return (x + rng.uniform(size=x.shape)) / 17.0
    return x / 16.0


# --------------------------------------------------------------------------- experiment

#: The five lambda values of the chapter (bits are weighted by lambda in Eq. (4)).
LAMS = (0.003, 0.01, 0.02, 0.05, 0.15)


@dataclass(frozen=True)
class Experiment:
    """RD curves ``curves[dataset][method] = (bits per dim, MSE per dim)`` measured on held-out
    vectors ``test[dataset]``, the training vectors ``train[dataset]``, and the fitted quantizers
    at every lambda (``models[dataset][method][i]``), for the chapter's figures."""

    train: dict
    test: dict
    curves: dict
    models: dict


#: Step sizes Delta of the scalar baseline for each data set.
DELTAS = {"Gaussian": tuple(np.geomspace(0.12, 1.5, 36)), "digits": tuple(np.geomspace(0.06, 1.2, 36))}


def experiment(seed: int = 0, n: int = 4000) -> Experiment:
    """The chapter's experiment (chapter ``multivariate-gmm-vq-compression``).

    Data: (a) a 2-D Gaussian with ``rho = 0.9``; (b) dithered 2x2 digit blocks. For each, ``n``
    training and ``n`` held-out vectors. Methods: the scalar factorized quantizer (the lower
    convex hull of its points over the step sizes :data:`DELTAS`), a single-codebook PVQ (K = 256) and, on digits, two codebooks (M = 2,
    K = 16) and the two-level cascade (K = 16 + 16), each trained at the five :data:`LAMS`.

    Every rate and MSE is measured on the held-out vectors: the quantizers (codebooks and priors)
    see only the training vectors. The scalar baseline gets the benefit of the doubt: its rate is
    the empirical entropy of the held-out indices themselves, a lower bound for any factorized
    code of them. Cached.
    """
    return _experiment(check_int("seed", seed, 0), check_int("n", n, 10))


@cached(maxsize=2)
def _experiment(seed: int, n: int) -> Experiment:
    g = correlated_gaussian(2 * n, 0.9, seed)
    d = digit_blocks(2 * n, seed)
    train = {"Gaussian": g[:n], "digits": d[:n]}
    test = {"Gaussian": g[n:], "digits": d[n:]}
    curves, models = {}, {}
    for name, y in train.items():
        yt = test[name]
        r, dd = lower_hull(*scalar_quant_rd(yt, DELTAS[name]))
        curves[name] = {"scalar": (r[::-1], dd[::-1])}          # from fine to coarse steps
        models[name] = {}
        specs = {"PVQ, K = 256": dict(K=256, n_groups=1)}
        if name == "digits":
            specs["2 codebooks, K = 16"] = dict(K=16, n_groups=2)
        for label, kw in specs.items():
            qs = [train_pvq(y, lam=lam, seed=seed, **kw) for lam in LAMS]
            models[name][label] = qs
            r, dd = zip(*(q.evaluate(yt, lam) for q, lam in zip(qs, LAMS)))
            curves[name][label] = (np.array(r), np.array(dd))
        if name == "digits":
            cs = [train_cascade(y, 16, 16, lam=lam, seed=seed) for lam in LAMS]
            models[name]["cascade, 16 + 16"] = cs
            r, dd = zip(*(c.evaluate(yt) for c in cs))
            curves[name]["cascade, 16 + 16"] = (np.array(r), np.array(dd))
    return Experiment(train, test, curves, models)


def rate_gap(ex: Experiment, dataset: str, method: str, baseline: str = "scalar") -> np.ndarray:
    """Bits per dimension that ``method`` saves against ``baseline`` at matched MSE, one value per
    lambda: ``R_baseline(D) - R_method(D)`` with ``R_baseline`` interpolated at the method's MSE
    ``D`` (:func:`matched_rate`; NaN where ``D`` is outside the baseline's range)."""
    check_choice("dataset", dataset, tuple(ex.curves))
    check_choice("method", method, tuple(ex.curves[dataset]))
    check_choice("baseline", baseline, tuple(ex.curves[dataset]))
    r, d = ex.curves[dataset][method]
    rb, db = ex.curves[dataset][baseline]
    return matched_rate(rb, db, d) - r


# --------------------------------------------------------------------------- interactive figure

_COLORS = {"scalar": plotting.PALETTE[1], "PVQ, K = 256": plotting.PALETTE[0],
           "2 codebooks, K = 16": plotting.PALETTE[2], "cascade, 16 + 16": plotting.PALETTE[4]}
_GROUPS = ("all", "scalar vs PVQ", "PVQ variants")


@cached(maxsize=16)
def _panel(dataset: str, lam_index: int) -> tuple:
    """Precomputed arrays of one redraw: data points, codewords in use and their sizes, curves."""
    ex = experiment()
    y = ex.test[dataset][:400]
    q = ex.models[dataset]["PVQ, K = 256"][lam_index]
    cb = q.codebooks.detach().numpy()[0]
    pri = np.exp(q.prior_logits.detach().numpy()[0])
    used = pri > 2e-3 * pri.max()
    curves = {k: (r, -10 * np.log10(d)) for k, (r, d) in ex.curves[dataset].items()}
    return y, cb[used, :2], 3 + 300 * pri[used], int(used.sum()), curves


def draw(lam_index: int = 2, dataset: str = "Gaussian", methods: str = "all") -> Figure:
    """The chapter's interactive figure (chapter ``multivariate-gmm-vq-compression``).

    Left: held-out data and the codewords of the single-codebook PVQ at ``LAMS[lam_index]``, dot
    area proportional to the prior probability (for digits, the first two pixels of each block).
    Right: the rate-distortion curves (quality ``-10 log10 MSE`` in dB against bits per
    dimension) of the chosen ``methods``, with the points at this lambda circled.
    """
    lam_index = check_int("lam_index", lam_index, 0, len(LAMS) - 1)
    check_choice("dataset", dataset, ("Gaussian", "digits"))
    check_choice("methods", methods, _GROUPS)
    y, cw, size, n_used, curves = _panel(dataset, lam_index)
    fig, (ax0, ax1) = plotting.figure(2, width=9.0, height=3.6, layout="fixed")
    ax0.plot(y[:, 0], y[:, 1], ".", ms=2, color="#b0b0b0")
    ax0.scatter(cw[:, 0], cw[:, 1], s=size, color=plotting.PALETTE[0], lw=0)
    plotting.labels(ax0, "y₁", "y₂", f"λ = {LAMS[lam_index]:g}: {n_used} codewords in use")
    keep = {"all": list(curves), "scalar vs PVQ": ["scalar", "PVQ, K = 256"],
            "PVQ variants": [k for k in curves if k != "scalar"]}[methods]
    entries = []
    for k in keep:
        r, q = curves[k]
        ok = r > 0                      # a zero-rate point (one codeword) has no place on the curve
        ax1.plot(r[ok], q[ok], "o-" if k != "scalar" else "-", color=_COLORS[k], ms=3)
        if k != "scalar" and ok[lam_index]:
            ax1.plot(r[lam_index], q[lam_index], "o", ms=9, mfc="none", color=_COLORS[k])
        entries.append((k, _COLORS[k]))
    if dataset == "Gaussian" and methods != "scalar vs PVQ":
        entries.append(("(variants: digits only)", "#808080", ""))
    plotting.key(ax1, entries, x=0.5, y=0.3)
    plotting.labels(ax1, "rate (bits per dimension)", "quality −10 log₁₀ MSE (dB)", "rate–distortion")
    return fig


#: Slider box of :func:`draw`; the first entry (lambda) is the website scrubber's parameter.
SLIDERS = {
    "lam_index": IntSlider(0, len(LAMS) - 1, default=2, label="λ index"),
    "dataset": Choice(("Gaussian", "digits"), default="Gaussian", label="data"),
    "methods": Choice(_GROUPS, default="all", label="methods"),
}
