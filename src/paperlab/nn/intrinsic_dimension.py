"""Intrinsic dimension of an objective landscape: training in a random subspace.

Li, Farkhoor, Liu and Yosinski (ICLR 2018), "Measuring the Intrinsic Dimension of Objective
Landscapes". Instead of training all ``D`` parameters of a network, train only ``d`` of them,
through a fixed random linear map (Section 2 of the paper):

    theta_D = theta_0 + P theta_d,    P in R^{D x d} with unit-norm columns,  theta_d(0) = 0.

The *intrinsic dimension* ``d_int90`` is the smallest ``d`` whose subspace training reaches 90 %
of the accuracy of ordinary (full) training (also Section 2). This module holds the subspace
model, its training, the ``d_int`` estimate, the chapter's experiment (MLPs of three widths on
the bundled digits) and the chapter's interactive figure.

Explained in chapter `intrinsic-dimension`.
"""
from __future__ import annotations

import copy
import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn
from torch.func import functional_call

from ..cache import cached
from .. import data as pl_data
from .. import nets, plotting
from .._validate import check_array, check_choice, check_int, check_real
from ..widgets import Choice, FloatSlider

__all__ = ["SubspaceModel", "random_projection", "train_subspace", "intrinsic_dim",
           "IntrinsicDimResult", "sweep", "run_experiment", "draw", "SLIDERS", "WIDTHS", "DIMS"]

#: Hidden widths ``h`` of the MLPs ``64-h-h-10`` compared in the chapter.
WIDTHS: tuple[int, ...] = (16, 32, 64)
#: Subspace dimensions ``d`` tried for every width (powers of two).
DIMS: tuple[int, ...] = (8, 16, 32, 64, 128, 256, 512)
#: Tolerance on the column norms of a user-supplied projection matrix.
_NORM_TOL = 1e-4


def random_projection(D: int, d: int, seed: int = 0, *, normalize: bool = True) -> torch.Tensor:
    """A dense random ``D x d`` matrix ``P`` with i.i.d. N(0, 1) entries, columns scaled to norm 1.

    This is the dense projection of Section 2 of Li et al. (2018): each column is a random
    direction in parameter space, normalized to unit length, so one unit of ``theta_d`` moves
    ``theta_D`` by one unit of Euclidean distance. For large ``D`` the columns are nearly
    orthogonal as well (their inner products are of order ``1/sqrt(D)``). The authors' code
    does the same for its dense projection: Gaussian entries, each column normalized over all
    layers' parameters together. With ``normalize=False`` the raw Gaussian matrix is returned
    (columns of norm about ``sqrt(D)``).

    Explained in chapter `intrinsic-dimension`.
    """
    D = check_int("D", D, 1)
    d = check_int("d", d, 1, D)
    seed = check_int("seed", seed, 0)
    gen = torch.Generator().manual_seed(seed)
    P = torch.randn(D, d, generator=gen)
    if normalize:
        P = P / P.norm(dim=0, keepdim=True)
    return P


class SubspaceModel(nn.Module):
    """A network whose ``D`` parameters are ``theta_0 + P theta_d``: only ``theta_d`` is trained.

    Implements the reparameterization of Section 2 of Li et al. (2018),
    ``theta_D = theta_0 + P theta_d``. ``theta_0`` is a frozen copy of ``base_module``'s
    parameters (its initialization), ``P`` a fixed ``D x d`` matrix with unit-norm columns
    (:func:`random_projection` with ``seed``, unless ``P`` is given), and ``theta_d``, the one
    trainable parameter, starts at zero, so the untrained model computes exactly what
    ``base_module`` computes. The forward pass rebuilds the base module's weights from
    ``theta_D`` and runs it with :func:`torch.func.functional_call`.

    Parameters
    ----------
    base_module:
        The network to reparameterize (e.g. ``paperlab.nets.mlp([64, h, h, 10])``); it is
        copied, not modified.
    d:
        Dimension of the subspace, ``1 <= d <= D``.
    seed:
        Seed of the random projection.
    P:
        Optional ``D x d`` projection to use instead of a random one. Its columns must have
        unit norm unless ``normalize=False`` is passed explicitly.
    normalize:
        Require (for a given ``P``) or produce (for a random ``P``) unit-norm columns.

    Explained in chapter `intrinsic-dimension`.
    """

    def __init__(self, base_module: nn.Module, d: int, seed: int = 0, *, P=None,
                 normalize: bool = True) -> None:
        super().__init__()
        if not isinstance(base_module, nn.Module):
            raise ValueError(f"base_module must be a torch.nn.Module, "
                             f"got {type(base_module).__name__}")
        named = [(n, p) for n, p in base_module.named_parameters()]
        if not named:
            raise ValueError("base_module has no parameters: there is nothing to reparameterize")
        D = sum(p.numel() for _, p in named)
        d = check_int("d", d)
        if not 1 <= d <= D:
            raise ValueError(f"d must be between 1 and D = {D} (the number of parameters of "
                             f"base_module), got d = {d}")
        seed = check_int("seed", seed, 0)
        if P is None:
            P = random_projection(D, d, seed, normalize=normalize)
        else:
            if isinstance(P, torch.Tensor):
                P = P.detach().cpu()
            P = torch.as_tensor(check_array("P", P, ndim=2, shape=(D, d)), dtype=torch.float32)
            if normalize:
                norms = P.norm(dim=0)
                worst = float((norms - 1).abs().max())
                if worst > _NORM_TOL:
                    raise ValueError(f"the columns of P must have unit norm (the paper's "
                                     f"convention); one is off by {worst:.3g}. Normalize them "
                                     f"(P / P.norm(dim=0)) or pass normalize=False to use P "
                                     f"as given")
        base = copy.deepcopy(base_module)
        for p in base.parameters():
            p.requires_grad_(False)
        # Kept in a tuple so that its D parameters are not registered as parameters of this model.
        self._base = (base,)
        self._names = [n for n, _ in named]
        self._shapes = [tuple(p.shape) for _, p in named]
        self._sizes = [p.numel() for _, p in named]
        theta0 = torch.cat([p.detach().reshape(-1) for _, p in named]).float()
        self.register_buffer("theta0", theta0)
        self.register_buffer("P", P.float().contiguous())
        self.theta_d = nn.Parameter(torch.zeros(d))

    @property
    def D(self) -> int:
        """Number of parameters of the base network (the native dimension)."""
        return int(self.theta0.numel())

    @property
    def d(self) -> int:
        """Dimension of the trained subspace."""
        return int(self.theta_d.numel())

    def train(self, mode: bool = True) -> "SubspaceModel":
        """Set training mode here and in the (unregistered) base network, e.g. for dropout."""
        super().train(mode)
        self._base[0].train(mode)
        return self

    def theta(self) -> torch.Tensor:
        """The full parameter vector ``theta_D = theta_0 + P theta_d`` (Section 2)."""
        return self.theta0 + self.P @ self.theta_d

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Run the base network with its parameters set to ``theta()``."""
        chunks = torch.split(self.theta(), self._sizes)
        params = {n: c.view(s) for n, c, s in zip(self._names, chunks, self._shapes)}
        return functional_call(self._base[0], params, (x,))


def train_subspace(model: SubspaceModel, X, y, X_test, y_test, *, steps: int = 100,
                   lr: float = 0.1, seed: int = 0) -> float:
    """Train ``theta_d`` of ``model`` on ``(X, y)`` and return its accuracy on ``(X_test, y_test)``.

    Uses the book's one training loop, :func:`paperlab.nets.train` (full-batch Adam,
    cross-entropy); only ``theta_d`` moves, ``theta_0`` and ``P`` stay frozen, as in Section 2 of
    Li et al. (2018). The test accuracy is the performance measure whose 90 % threshold defines
    ``d_int90``.

    Explained in chapter `intrinsic-dimension`.
    """
    if not isinstance(model, SubspaceModel):
        raise ValueError(f"model must be a SubspaceModel, got {type(model).__name__}")
    nets.train(model, X, y, steps=steps, lr=lr, seed=seed)
    return nets.accuracy(model, X_test, y_test)


def intrinsic_dim(ds: Sequence[float], accs: Sequence[float], baseline: float,
                  frac: float = 0.9) -> float:
    """``d_int``: the smallest ``d`` whose accuracy reaches ``frac * baseline`` (Section 2).

    ``ds`` is the grid of subspace dimensions (increasing) and ``accs`` the accuracy reached at
    each. With ``frac=0.9`` this is the paper's ``d_int90``. The grid answer is refined by linear
    interpolation in ``log d`` between the last grid point below the threshold and the first
    one at or above it:

        log d_int = log d_{i-1} + (t - a_{i-1}) / (a_i - a_{i-1}) * (log d_i - log d_{i-1}),
        t = frac * baseline.

    Returns ``ds[0]`` if the first grid point already reaches the threshold (``d_int`` is then
    at most ``ds[0]``) and ``inf`` if no grid point reaches it.

    Explained in chapter `intrinsic-dimension`.
    """
    ds_arr = check_array("ds", ds, ndim=1)
    a = check_array("accs", accs, ndim=1)
    if ds_arr.size == 0:
        raise ValueError("ds must contain at least one subspace dimension")
    if a.shape != ds_arr.shape:
        raise ValueError(f"accs must have one entry per entry of ds ({ds_arr.size}), got {a.size}")
    if np.any(ds_arr < 1) or np.any(np.diff(ds_arr) <= 0):
        raise ValueError(f"ds must be strictly increasing dimensions >= 1, got {ds_arr.tolist()}")
    if np.any((a < 0) | (a > 1)):
        raise ValueError("accs must be accuracies in [0, 1]")
    baseline = check_real("baseline", baseline, 0.0, 1.0, lo_open=True)
    frac = check_real("frac", frac, 0.0, 1.0, lo_open=True)
    t = frac * baseline
    hit = np.flatnonzero(a >= t)
    if hit.size == 0:
        return math.inf
    i = int(hit[0])
    if i == 0:
        return float(ds_arr[0])
    l0, l1 = math.log(ds_arr[i - 1]), math.log(ds_arr[i])
    w = (t - a[i - 1]) / (a[i] - a[i - 1])
    return float(math.exp(l0 + w * (l1 - l0)))


@dataclass(frozen=True)
class IntrinsicDimResult:
    """The chapter's measurements: accuracy of subspace training for every width and ``d``.

    ``acc[i, j]`` is the test accuracy of width ``widths[i]`` trained in a subspace of dimension
    ``dims[j]``; ``baseline[i]`` the test accuracy of full training of the same network (same
    initialization, same number of steps); ``D[i]`` its number of parameters; ``init_acc[i]``
    the accuracy of the untrained network (``theta_d = 0``). The arrays are read-only.

    Explained in chapter `intrinsic-dimension`.
    """

    widths: tuple[int, ...]
    dims: tuple[int, ...]
    D: tuple[int, ...]
    acc: np.ndarray
    baseline: np.ndarray
    init_acc: np.ndarray
    steps: int
    seed: int

    def d_int(self, frac: float = 0.9) -> dict[int, float]:
        """``{width: d_int}`` at threshold ``frac`` (:func:`intrinsic_dim`, no retraining)."""
        return {w: intrinsic_dim(self.dims, self.acc[i], float(self.baseline[i]), frac)
                for i, w in enumerate(self.widths)}

    def table(self, frac: float = 0.9) -> "Table":
        """The chapter's table: network, ``D``, ``A_full``, threshold, ``d_int``, ``D / d_int``."""
        dint = self.d_int(frac)
        pct = f"{100 * frac:.0f}"
        rows = []
        for i, w in enumerate(self.widths):
            di = dint[w]
            rows.append((f"64-{w}-{w}-10", f"{self.D[i]:,}", f"{self.baseline[i]:.3f}",
                         f"{frac * self.baseline[i]:.3f}",
                         f"{di:.0f}" if math.isfinite(di) else f"> {self.dims[-1]}",
                         f"{self.D[i] / di:.0f}×" if math.isfinite(di) else "-"))
        head = ("network", "D (parameters)", "A_full (test acc.)", f"threshold {frac:g}·A_full",
                f"d_int{pct}", f"D / d_int{pct}")
        return Table(head, tuple(rows))


@dataclass(frozen=True)
class Table:
    """A small table that shows as HTML in a notebook and as aligned text elsewhere."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def _repr_html_(self) -> str:
        th = "".join(f"<th>{html.escape(h)}</th>" for h in self.header)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
                       for r in self.rows)
        return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"

    def __repr__(self) -> str:
        cols = list(zip(self.header, *self.rows))
        wid = [max(len(c) for c in col) for col in cols]
        lines = ["  ".join(c.rjust(w) for c, w in zip(r, wid)) for r in (self.header, *self.rows)]
        lines.insert(1, "  ".join("-" * w for w in wid))
        return "\n".join(lines)


def sweep(widths: Sequence[int] = WIDTHS, dims: Sequence[int] = DIMS, *, steps: int = 100,
          seed: int = 0, lr_subspace: float = 0.1, lr_full: float = 1e-2) -> IntrinsicDimResult:
    """Measure ``A(d)`` and ``A_full`` for MLPs ``64-h-h-10`` on the bundled digits (no cache).

    For each width ``h`` in ``widths`` the network ``paperlab.nets.mlp([64, h, h, 10],
    seed=seed)`` gives ``theta_0``. For each ``d`` in ``dims`` it is trained in the random
    subspace of ``SubspaceModel(net, d, seed=seed)`` (Adam on ``theta_d``, ``lr_subspace``), and
    once in full (Adam on all ``D`` parameters, ``lr_full``) for the baseline ``A_full``. Every
    run is full-batch on the 1437 training digits for the same number of ``steps`` and is scored
    on the 360 test digits (:func:`paperlab.data.digits`): the protocol of Sections 2 and 3 of
    Li et al. (2018) at toy scale. Runs on one CPU thread: these networks are too small to gain
    from more, and the numbers then do not depend on the machine's core count.

    Explained in chapter `intrinsic-dimension`.
    """
    widths, dims, steps, seed, lr_subspace, lr_full = _check_sweep(widths, dims, steps, seed,
                                                                    lr_subspace, lr_full)
    split = pl_data.digits()
    Xtr, ytr = nets.as_tensor(split.X_train), nets.as_tensor(split.y_train, torch.long)
    Xte, yte = nets.as_tensor(split.X_test), nets.as_tensor(split.y_test, torch.long)
    acc = np.zeros((len(widths), len(dims)))
    base_acc, init_acc, Ds = np.zeros(len(widths)), np.zeros(len(widths)), []
    with nets.one_thread():
        for i, h in enumerate(widths):
            net = nets.mlp([split.n_features, h, h, split.n_classes], seed=seed)
            D = nets.n_params(net)
            if dims[-1] > D:
                raise ValueError(f"every d must be at most D = {D} (width {h}), got d = {dims[-1]}")
            Ds.append(D)
            init_acc[i] = nets.accuracy(net, Xte, yte)
            for j, d in enumerate(dims):
                model = SubspaceModel(net, d, seed=seed)
                acc[i, j] = train_subspace(model, Xtr, ytr, Xte, yte, steps=steps,
                                           lr=lr_subspace, seed=seed)
            nets.train(net, Xtr, ytr, steps=steps, lr=lr_full, seed=seed)  # the baseline A_full
            base_acc[i] = nets.accuracy(net, Xte, yte)
    for arr in (acc, base_acc, init_acc):
        arr.setflags(write=False)
    return IntrinsicDimResult(widths, dims, tuple(Ds), acc, base_acc, init_acc, steps, seed)


def run_experiment(widths: Sequence[int] = WIDTHS, dims: Sequence[int] = DIMS, *,
                   steps: int = 100, seed: int = 0, lr_subspace: float = 0.1,
                   lr_full: float = 1e-2) -> IntrinsicDimResult:
    """The chapter's experiment: :func:`sweep`, computed once and cached.

    A second call with the same arguments returns the same (read-only) result without
    retraining, so the chapter's figures and its ``draw`` never train a network again;
    ``run_experiment.cache_clear()`` empties the cache.

    Explained in chapter `intrinsic-dimension`.
    """
    return _cached_sweep(*_check_sweep(widths, dims, steps, seed, lr_subspace, lr_full))


def _check_sweep(widths, dims, steps, seed, lr_subspace, lr_full) -> tuple:
    widths = tuple(check_int(f"widths[{i}]", w, 1) for i, w in enumerate(widths))
    dims = tuple(check_int(f"dims[{i}]", d, 1) for i, d in enumerate(dims))
    if not widths or not dims:
        raise ValueError("widths and dims must each contain at least one value")
    if any(b <= a for a, b in zip(dims, dims[1:])):
        raise ValueError(f"dims must be strictly increasing, got {list(dims)}")
    return (widths, dims, check_int("steps", steps, 1), check_int("seed", seed, 0),
            check_real("lr_subspace", lr_subspace, 0.0, lo_open=True),
            check_real("lr_full", lr_full, 0.0, lo_open=True))


@cached(maxsize=8)
def _cached_sweep(widths, dims, steps, seed, lr_subspace, lr_full) -> IntrinsicDimResult:
    return sweep(widths, dims, steps=steps, seed=seed, lr_subspace=lr_subspace, lr_full=lr_full)


run_experiment.cache_clear = _cached_sweep.cache_clear  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------
# The chapter's interactive figure
# ---------------------------------------------------------------------------------------------

#: The threshold fraction (first: the website's scrubber varies it) and the highlighted width.
SLIDERS = {
    "frac": FloatSlider(0.7, 0.99, default=0.9, step=0.01, label="threshold fraction"),
    "width": Choice(WIDTHS, default=64, label="highlighted width h"),
}


def draw(frac: float = 0.9, width: int = 64) -> Figure:
    """The chapter's interactive figure: where each width crosses the threshold ``frac``.

    Each width's subspace-training accuracy divided by its own full-training accuracy,
    ``A(d) / A_full``, against ``d`` (log scale). The dashed line is the threshold ``frac``; the
    dots on it mark every width's interpolated ``d_int`` (:func:`intrinsic_dim`), and the
    dotted vertical line the highlighted ``width``'s. Reads the cached :func:`run_experiment`
    (seed 0): moving a slider never retrains.

    Explained in chapter `intrinsic-dimension`.
    """
    frac = check_real("frac", frac, 0.0, 1.0, lo_open=True)
    width = check_choice("width", width, WIDTHS)
    res = run_experiment()
    k = res.widths.index(width)
    dint = res.d_int(frac)
    # Fixed axes position instead of constrained layout, and a linear axis in log2(d) instead
    # of a log-scaled one: both make a slider move render faster.
    fig, (ax,) = plotting.figure(1, width=6.4, height=3.6, layout="none")
    ax.set_position([0.095, 0.13, 0.885, 0.79])
    x = np.log2(res.dims)
    for i, w in enumerate(res.widths):
        sel, color, di = i == k, plotting.PALETTE[i], dint[w]
        shown = f"= {di:.0f}" if math.isfinite(di) else f"> {res.dims[-1]}"
        ax.plot(x, res.acc[i] / res.baseline[i], "o-", color=color,
                alpha=1.0 if sel else 0.45, lw=2.4 if sel else 1.2, ms=4 if sel else 3,
                zorder=3 if sel else 2, label=f"h = {w}, D = {res.D[i]:,}: d_int {shown}")
        if math.isfinite(di):
            ax.plot([math.log2(di)], [frac], "o", color=color, ms=8 if sel else 5, mec="white",
                    zorder=4)
    ax.axhline(frac, color="k", lw=1, ls="--", zorder=1)
    ax.set_xticks(x, [str(d) for d in res.dims])
    ax.set_ylim(0, 1.1)
    ax.legend(loc="lower right", title=f"threshold {frac:.2f} · A_full", alignment="left",
              frameon=True, facecolor="white", edgecolor="none", framealpha=0.9)
    d_k = dint[width]
    if math.isfinite(d_k):
        ax.axvline(math.log2(d_k), color=plotting.PALETTE[k], lw=1.4, ls=":", zorder=1)
        title = (f"h = {width}: d_int = {d_k:.0f} of D = {res.D[k]:,} parameters "
                 f"(D / d_int = {res.D[k] / d_k:.0f})")
    else:
        title = f"h = {width}: no d up to {res.dims[-1]} reaches {frac:.2f} · A_full"
    plotting.labels(ax, "subspace dimension d (log scale)", "test accuracy / A_full", title)
    return fig
