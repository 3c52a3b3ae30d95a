"""The Cauchy-Schwarz divergence information bottleneck for regression (Yu et al., ICLR 2024).

Explained in chapter ``cauchy-schwarz-ib``.

The paper "Cauchy-Schwarz Divergence Information Bottleneck for Regression" (Shujian Yu, Xi Yu,
Sigurd Loekse, Robert Jenssen and Jose C. Principe; ICLR 2024, arXiv 2404.17951) trains a
deterministic encoder ``t = f(x)`` and a decoder ``y_hat = g(t)`` by minimizing

    D_CS(p(y | x) || q(y_hat | x)) + r * I_CS(x; t)                              (chapter Eq. (3))

where ``D_CS(p || q) = -log((int p q)^2 / (int p^2 int q^2))`` is the Cauchy-Schwarz (CS)
divergence and ``I_CS`` the CS quadratic mutual information (QMI). Both terms have closed-form
kernel (Parzen window) estimators, so no variational bound and no Gaussian decoder is needed.
Notation: ``K`` is the Gaussian Gram matrix of the inputs ``x``, ``L^y``, ``L^yhat`` those of
the targets and predictions, ``L^{yhat y}`` the cross Gram matrix between them; logarithms are
base 2 (bits), as in the official code (``github.com/SJYuCNEL/Cauchy-Schwarz-Information-Bottleneck``,
file ``loss_cs.py``: ``GaussianMatrix``, ``CS_Div``, ``CS_QMI``, ``CS_QMI_normalized``, ``FGSM``).

This module holds

* the estimators: :func:`gaussian_gram`, :func:`cs_divergence_conditional` (chapter Eq. (4)),
  :func:`cs_qmi` (chapter Eq. (5) and its normalized form, Eq. (6));
* the network and its training: :class:`CSIBNet`, :func:`train_cs_ib` (CS-IB, and the MSE and
  MSE + r * QMI baselines through ``prediction="mse"``), :func:`info_plane`, :func:`fgsm`;
* the chapter's data (:func:`diabetes_split`), experiment (:func:`experiment`) and interactive
  figure (:func:`draw`, :data:`SLIDERS`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from ..cache import cached
from .. import plotting
from .._validate import check_array, check_choice, check_int, check_real
from ..nets import fit, mlp, one_thread
from ..widgets import Choice, FloatSlider

__all__ = ["gaussian_gram", "cs_divergence_conditional", "cs_qmi", "CSIBNet", "TrainLog",
           "train_cs_ib", "info_plane", "fgsm", "fgsm_rmse", "rmse", "diabetes_split",
           "R_GRID", "Experiment", "experiment", "draw", "SLIDERS"]

#: The compression weights r of the chapter's experiment.
R_GRID: tuple[float, ...] = (0.0, 1e-3, 1e-2, 1e-1)

_DTYPE = torch.float64


# --------------------------------------------------------------------------- estimators

def _as_2d(name: str, a) -> torch.Tensor:
    """``a`` as a tensor of shape (N, d) (a 1-D input is one column; arrays become float64,
    float tensors keep their dtype and autograd graph)."""
    if isinstance(a, torch.Tensor):
        t = a if a.is_floating_point() else a.to(_DTYPE)
    else:
        t = torch.tensor(check_array(name, a), dtype=_DTYPE)
    if t.ndim == 1:
        t = t[:, None]
    if t.ndim != 2 or t.shape[0] == 0 or t.shape[1] == 0:
        raise ValueError(f"{name} must be a 1-D or 2-D array of samples (rows), got shape "
                         f"{tuple(t.shape)}")
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} must contain only finite numbers (no NaN or inf)")
    return t


def gaussian_gram(a, b, sigma: float = 1.0) -> torch.Tensor:
    """Gaussian Gram matrix ``kappa_sigma(a_i, b_j) = exp(-||a_i - b_j||^2 / (2 sigma^2))``.

    The kernel of every estimator of chapter ``cauchy-schwarz-ib`` (the official code's
    ``GaussianMatrix``). ``a`` is (N, d) and ``b`` is (M, d); a 1-D array is read as N samples
    of one variable. Returns an (N, M) tensor (float64 for arrays, else the dtype of ``a``) that
    keeps the autograd graph.
    """
    sigma = check_real("sigma", sigma, 0.0, lo_open=True)
    A = _as_2d("a", a)
    B = _as_2d("b", b).to(A.dtype)
    if A.shape[1] != B.shape[1]:
        raise ValueError(f"a and b must have the same number of columns, got {A.shape[1]} "
                         f"and {B.shape[1]}")
    return _gram(A, B, sigma)


def _gram(A: torch.Tensor, B: torch.Tensor, sigma: float) -> torch.Tensor:
    """:func:`gaussian_gram` without the input checks (the training loop's inner call)."""
    sq = (A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2.0 * A @ B.T
    return torch.exp(-sq.clamp_min(0.0) / (2.0 * sigma * sigma))


def _same_n(**arrays: torch.Tensor) -> int:
    ns = {k: int(v.shape[0]) for k, v in arrays.items()}
    if len(set(ns.values())) != 1:
        raise ValueError("the batch sizes must agree (one row per sample): got "
                         + ", ".join(f"{k} has {n}" for k, n in ns.items()))
    n = next(iter(ns.values()))
    if n < 2:
        raise ValueError(f"the estimators need N >= 2 samples, got N = {n}")
    return n


def cs_divergence_conditional(x, y, yhat, sigma: float = 1.0) -> torch.Tensor:
    """Empirical conditional CS divergence ``D_CS(p(y|x) || q(yhat|x))``: chapter Eq. (4).

    With ``K = kappa(x, x)``, ``L^y = kappa(y, y)``, ``L^yhat = kappa(yhat, yhat)`` and the cross
    matrix ``L^{yhat y}_{ji} = kappa(yhat_j, y_i)``, and ``S_j = sum_i K_ji^2``,

        D = log2 sum_j (sum_i K_ji L^y_ji / S_j) + log2 sum_j (sum_i K_ji L^yhat_ji / S_j)
            - 2 log2 sum_j (sum_i K_ji L^{yhat y}_ji / S_j),

    the prediction term of CS-IB (the official ``CS_Div``, which the code comments as Eq. (18)
    of the paper's appendix). It is 0 when ``yhat = y`` and positive otherwise (Cauchy-Schwarz).
    All three use the same kernel width ``sigma``, as the official code does.
    """
    sigma = check_real("sigma", sigma, 0.0, lo_open=True)
    X, Y, Yh = _as_2d("x", x), _as_2d("y", y), _as_2d("yhat", yhat)
    _same_n(x=X, y=Y, yhat=Yh)
    if Y.shape[1] != Yh.shape[1]:
        raise ValueError(f"y and yhat must have the same dimension, got {Y.shape[1]} and "
                         f"{Yh.shape[1]}")
    K = gaussian_gram(X, X, sigma)
    s = (K * K).sum(1)                                     # S_j = sum_i K_ji^2
    return _cs_term(K, s, gaussian_gram(Y, Y, sigma)) + _cs_term(K, s, gaussian_gram(Yh, Yh, sigma)) \
        - 2.0 * _cs_term(K, s, gaussian_gram(Yh, Y, sigma))


def _cs_term(K: torch.Tensor, s: torch.Tensor, L: torch.Tensor) -> torch.Tensor:
    """``log2 sum_j (sum_i K_ji L_ji / S_j)``, one of the three terms of Eq. (4)."""
    return torch.log2(((K * L).sum(1) / s).sum())


def _qmi(Kx: torch.Tensor, Kt: torch.Tensor) -> torch.Tensor:
    n = Kx.shape[0]
    self1 = (Kx * Kt).sum() / n ** 2                       # tr(Kx Kt) / N^2 (both symmetric)
    self2 = Kx.sum() * Kt.sum() / n ** 4
    cross = (Kx.sum(0) * Kt.sum(0)).sum() / n ** 3         # 1^T Kx Kt 1 / N^3
    return torch.log2(self1) + torch.log2(self2) - 2.0 * torch.log2(cross)


def cs_qmi(x, t, sigma: float = 1.0, normalized: bool = True) -> torch.Tensor:
    """Empirical CS quadratic mutual information ``I_CS(x; t)``: chapter Eqs. (5) and (6).

    ``I = log2(tr(K_x K_t) / N^2) + log2(1^T K_x 1 * 1^T K_t 1 / N^4) - 2 log2(1^T K_x K_t 1 / N^3)``
    (the official ``CS_QMI``): the CS divergence between the joint density of ``(x, t)`` and
    the product of its marginals, each a Parzen estimate. It is >= 0 and 0 when the Gram matrix
    of ``t`` is constant (``t`` carries no information about which sample it came from). With
    ``normalized`` it returns ``I(x; t) / sqrt(I(x; x) I(t; t))`` (the official
    ``CS_QMI_normalized``), the compression term that CS-IB minimizes.
    """
    sigma = check_real("sigma", sigma, 0.0, lo_open=True)
    X, T = _as_2d("x", x), _as_2d("t", t)
    _same_n(x=X, t=T)
    Kx, Kt = gaussian_gram(X, X, sigma), gaussian_gram(T, T, sigma)
    q = _qmi(Kx, Kt)
    if not normalized:
        return q
    return q / torch.sqrt(_qmi(Kx, Kx) * _qmi(Kt, Kt))


# --------------------------------------------------------------------------- the network

class CSIBNet(nn.Module):
    """Deterministic encoder ``t = f(x)`` (10 -> 64 -> 64 -> 8, ReLU) and decoder
    ``y_hat = g(t)`` (8 -> 32 -> 1, ReLU), both built by :func:`paperlab.nets.mlp` (float32)."""

    def __init__(self, n_in: int = 10, width: int = 64, bottleneck: int = 8, dec_width: int = 32,
                 *, seed: int = 0) -> None:
        super().__init__()
        self.encoder = mlp([n_in, width, width, bottleneck], seed=seed)
        self.decoder = mlp([bottleneck, dec_width, 1], seed=seed + 1000)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        t = self.encoder(x)
        return t, self.decoder(t)[:, 0]


@dataclass
class TrainLog:
    """What :func:`train_cs_ib` records: the loss per step and, every ``every`` steps, the
    training set's information-plane point (``ixt``: normalized CS-QMI, ``ity``: bits)."""

    loss: list[float] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)
    ixt: list[float] = field(default_factory=list)
    ity: list[float] = field(default_factory=list)


def train_cs_ib(X, y, r: float, steps: int = 150, seed: int = 0, *, prediction: str = "cs",
                sigma: float = 1.0, lr: float = 2e-3, every: int = 10) -> tuple[CSIBNet, TrainLog]:
    """Train CS-IB on ``(X, y)``: full-batch Adam on chapter Eq. (3).

    ``prediction="cs"`` minimizes ``D_CS(y | x || yhat | x) + r * I_CS_norm(x; t)`` (CS-IB, as
    in the official training loop, with a deterministic ``t``); ``prediction="mse"`` minimizes
    ``MSE + r * I_CS_norm(x; t)`` (the baselines; plain MSE when ``r = 0``). ``X`` (N, d) and
    ``y`` (N,) should be standardized, since ``sigma = 1`` is the official kernel width. The
    Gram matrices of the data (``K`` of ``x``, ``L^y`` of ``y``) do not change during training,
    so they are computed once; each step builds only those of ``yhat`` and ``t``, and evaluates
    exactly :func:`cs_divergence_conditional` and :func:`cs_qmi`. Every ``every`` steps the
    training set's information-plane point (:func:`info_plane`) is logged. Runs in float32 on
    one CPU thread through :func:`paperlab.nets.fit`.
    """
    r = check_real("r", r, 0.0)
    steps = check_int("steps", steps, 1)
    check_choice("prediction", prediction, ("cs", "mse"))
    sigma = check_real("sigma", sigma, 0.0, lo_open=True)
    every = check_int("every", every, 1)
    Xt, Yt = _as_2d("X", X).float(), _as_2d("y", y).float()
    _same_n(X=Xt, y=Yt)
    if Yt.shape[1] != 1:
        raise ValueError(f"y must hold one target per sample, got shape {tuple(Yt.shape)}")
    model = CSIBNet(Xt.shape[1], seed=seed)
    K = gaussian_gram(Xt, Xt, sigma)                       # fixed: x is data
    s = (K * K).sum(1)
    term_y = _cs_term(K, s, gaussian_gram(Yt, Yt, sigma))
    qmi_xx = _qmi(K, K)
    log = TrainLog()
    count = [0]

    def loss_fn(_gen: torch.Generator) -> torch.Tensor:
        if count[0] % every == 0:
            _log_plane(model, Xt, Yt[:, 0], sigma, log, count[0])
        count[0] += 1
        t, yhat = model(Xt)
        yh = yhat[:, None]
        if prediction == "cs":      # Eq. (4) with the constant y-term precomputed
            pred = term_y + _cs_term(K, s, _gram(yh, yh, sigma)) \
                - 2.0 * _cs_term(K, s, _gram(yh, Yt, sigma))
        else:
            pred = torch.mean((yh - Yt) ** 2)
        if r == 0:
            return pred
        Kt = _gram(t, t, sigma)                            # Eqs. (5)-(6)
        return pred + r * _qmi(K, Kt) / torch.sqrt(qmi_xx * _qmi(Kt, Kt))

    with one_thread():
        hist = fit(model, loss_fn, steps=steps, lr=lr, seed=seed)
        _log_plane(model, Xt, Yt[:, 0], sigma, log, steps)
    log.loss = hist.loss
    return model, log


@torch.no_grad()
def _log_plane(model, X, Y, sigma, log: TrainLog, step: int) -> None:
    ixt, ity = info_plane(model, X, Y, sigma=sigma)
    log.steps.append(step)
    log.ixt.append(ixt)
    log.ity.append(ity)


@torch.no_grad()
def info_plane(model: CSIBNet, X, y, sigma: float = 1.0) -> tuple[float, float]:
    """The information-plane point ``(I(x; t), I(t; y))`` of ``model`` on ``(X, y)``.

    ``I(x; t)`` is the normalized CS-QMI (:func:`cs_qmi`); ``I(t; y)`` is the official code's
    Gaussian proxy ``0.5 log2(Var(y) / MSE)`` in bits (for ``y = yhat + Gaussian noise`` this is
    the Shannon mutual information between ``y`` and the prediction).
    """
    Xt, Yt = _as_2d("X", X).float(), _as_2d("y", y)[:, 0].float()
    _same_n(X=Xt, y=Yt)
    t, yhat = model(Xt)
    mse = float(torch.mean((yhat - Yt) ** 2))
    ity = 0.5 * math.log2(float(Yt.var()) / max(mse, 1e-300))
    return float(cs_qmi(Xt, t, sigma)), ity


def fgsm(model: CSIBNet, X, y, eps: float) -> torch.Tensor:
    """The fast gradient sign attack: ``X + eps * sign(grad_X MSE(model(X), y))``.

    As in the official ``FGSM``. Each sample's input gradient depends only on its own error, so
    one batched pass gives the same perturbations as the official one-sample-at-a-time loop.
    """
    eps = check_real("eps", eps, 0.0)
    Xt, Yt = _as_2d("X", X).float(), _as_2d("y", y)[:, 0].float()
    _same_n(X=Xt, y=Yt)
    Xa = Xt.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        loss = torch.mean((model(Xa)[1] - Yt) ** 2)
        (grad,) = torch.autograd.grad(loss, Xa)
    return (Xt + eps * grad.sign()).detach()


@torch.no_grad()
def rmse(model: CSIBNet, X, y) -> float:
    """Root-mean-square error of ``model`` on ``(X, y)``."""
    Xt, Yt = _as_2d("X", X).float(), _as_2d("y", y)[:, 0].float()
    return float(torch.sqrt(torch.mean((model(Xt)[1] - Yt) ** 2)))


def fgsm_rmse(model: CSIBNet, X, y, eps: float) -> float:
    """Test RMSE under the FGSM attack of size ``eps`` (:func:`fgsm`)."""
    return rmse(model, fgsm(model, X, y, eps), y)


# --------------------------------------------------------------------------- data and experiment

@cached(maxsize=4)
def diabetes_split(seed: int = 0, test_fraction: float = 0.3) -> tuple[np.ndarray, ...]:
    """scikit-learn's bundled diabetes data (442 patients, 10 features), split 70/30 at random.

    Features and target are standardized with the training set's mean and standard deviation,
    so the official kernel width ``sigma = 1`` applies. Returns ``(X_train, y_train, X_test,
    y_test)`` as float64 arrays (read-only).
    """
    from sklearn.datasets import load_diabetes

    seed = check_int("seed", seed, 0)
    test_fraction = check_real("test_fraction", test_fraction, 0.05, 0.95)
    X, y = load_diabetes(return_X_y=True)
    perm = np.random.default_rng(seed).permutation(len(y))
    n_te = int(round(test_fraction * len(y)))
    te, tr = perm[:n_te], perm[n_te:]
    mx, sx = X[tr].mean(0), X[tr].std(0)
    my, sy = y[tr].mean(), y[tr].std()
    out = ((X[tr] - mx) / sx, (y[tr] - my) / sy, (X[te] - mx) / sx, (y[te] - my) / sy)
    for a in out:
        a.flags.writeable = False
    return out


@dataclass(frozen=True)
class Experiment:
    """Results of :func:`experiment`, keyed by ``(prediction, r)`` with ``prediction`` in
    ``{"cs", "mse"}``: the trained ``models``, their training ``logs`` (information-plane
    trajectories), train and test RMSE, the final information-plane point on the test set, and
    the RMSE under FGSM for every ``eps`` in ``eps_grid`` on the test set (``fgsm_test``) and the
    training set (``fgsm_train``), in standardized target units."""

    seed: int
    steps: int
    configs: tuple[tuple[str, float], ...]
    models: dict
    logs: dict
    train_rmse: dict
    test_rmse: dict
    test_plane: dict
    eps_grid: tuple[float, ...]
    fgsm_test: dict
    fgsm_train: dict

    def best_r(self, prediction: str = "cs") -> float:
        """The ``r`` with the lowest test RMSE among the runs with this prediction term."""
        rs = [r for p, r in self.configs if p == prediction]
        return min(rs, key=lambda r: self.test_rmse[prediction, r])


@cached(maxsize=4)
def experiment(seed: int = 0, steps: int = 150, r_grid: tuple[float, ...] = R_GRID,
               mse_r_grid: tuple[float, ...] = (0.0, 0.1)) -> Experiment:
    """The chapter's experiment: CS-IB for each ``r`` in ``r_grid`` and the baselines MSE + r * QMI
    for each ``r`` in ``mse_r_grid`` (``r = 0``: plain MSE), all from the same initialization
    ``seed`` on :func:`diabetes_split` ``(seed)``, ``steps`` full-batch Adam steps each. Cached."""
    seed = check_int("seed", seed, 0)
    steps = check_int("steps", steps, 1)
    Xtr, ytr, Xte, yte = diabetes_split(seed)
    configs = tuple([("cs", float(r)) for r in r_grid] + [("mse", float(r)) for r in mse_r_grid])
    eps_grid = tuple(np.round(np.arange(0.0, 0.51, 0.1), 2).tolist())
    out: dict[str, dict] = {k: {} for k in ("models", "logs", "train", "test", "plane", "fgsm",
                                            "fgsm_tr")}
    for pred, r in configs:
        model, log = train_cs_ib(Xtr, ytr, r, steps=steps, seed=seed, prediction=pred)
        key = (pred, r)
        out["models"][key], out["logs"][key] = model, log
        out["train"][key], out["test"][key] = rmse(model, Xtr, ytr), rmse(model, Xte, yte)
        out["plane"][key] = info_plane(model, Xte, yte)
        out["fgsm"][key] = np.array([fgsm_rmse(model, Xte, yte, e) for e in eps_grid])
        out["fgsm_tr"][key] = np.array([fgsm_rmse(model, Xtr, ytr, e) for e in eps_grid])
    return Experiment(seed=seed, steps=steps, configs=configs, models=out["models"],
                      logs=out["logs"], train_rmse=out["train"], test_rmse=out["test"],
                      test_plane=out["plane"], eps_grid=eps_grid, fgsm_test=out["fgsm"],
                      fgsm_train=out["fgsm_tr"])


# --------------------------------------------------------------------------- interactive figure

def draw(r: float = 0.1, eps: float = 0.2, split: str = "test") -> Figure:
    """The chapter's interactive figure (chapter ``cauchy-schwarz-ib``, section Explore).

    Left: the information plane, ``I(x; t)`` (normalized CS-QMI) against ``I(t; y)`` (bits), of
    the training runs of CS-IB for every ``r`` of :data:`R_GRID` (the chosen one in colour) and of
    plain MSE. Right: RMSE under the FGSM attack against its size ``eps`` on the chosen split,
    CS-IB at ``r`` against plain MSE, with the point at ``eps`` (rounded to the grid 0, 0.1, ...,
    0.5 of the precomputed attacks) marked. Everything is precomputed by :func:`experiment`.
    """
    r = float(check_choice("r", r, R_GRID))
    eps = check_real("eps", eps, 0.0, 0.5)
    check_choice("split", split, ("test", "train"))
    res = experiment()
    blue, orange, grey = plotting.PALETTE[0], plotting.PALETTE[1], "#b0b0b0"
    fig, (ax0, ax1) = plotting.figure(2, width=8.6, height=3.5, layout="fixed")
    for rr in R_GRID:
        lg = res.logs["cs", rr]
        ax0.plot(lg.ixt, lg.ity, color=blue if rr == r else grey, lw=2.0 if rr == r else 1.0)
    lg = res.logs["mse", 0.0]
    ax0.plot(lg.ixt, lg.ity, color=orange, lw=1.2, ls="--")
    lg = res.logs["cs", r]
    ax0.plot(lg.ixt[-1], lg.ity[-1], "o", color=blue)
    ax0.set_xlim(0.0, 0.8)
    ax0.set_ylim(0.0, 3.0)
    ax0.set_xticks((0.0, 0.2, 0.4, 0.6, 0.8))
    ax0.set_yticks((0, 1, 2, 3))
    plotting.key(ax0, [(f"CS-IB, r = {r:g}", blue), ("CS-IB, other r", grey),
                       ("MSE (training)", orange)], x=0.03)
    plotting.labels(ax0, "I(x; t), normalized CS-QMI", "I(t; y) on training set (bits)",
                    "information plane (training)")
    e = np.asarray(res.eps_grid)
    table = res.fgsm_test if split == "test" else res.fgsm_train
    curves = np.stack([table["cs", r], table["mse", 0.0]])
    k = int(np.argmin(np.abs(e - eps)))
    ax1.plot(e, curves[0], color=blue)
    ax1.plot(e, curves[1], "--", color=orange)
    ax1.plot([e[k], e[k]], curves[:, k], "o", color="black", ms=5)
    ax1.set_ylim(0.0, 2.5)
    ax1.set_xticks((0.0, 0.1, 0.2, 0.3, 0.4, 0.5))
    ax1.set_yticks((0.0, 0.5, 1.0, 1.5, 2.0, 2.5))
    plotting.key(ax1, [(f"CS-IB r = {r:g}: {curves[0, k]:.3f}", blue),
                       (f"MSE: {curves[1, k]:.3f}", orange)])
    plotting.labels(ax1, "FGSM attack size ε (std. units)", f"{split} RMSE (std. units)",
                    f"adversarial robustness, ε = {e[k]:.1f}")
    return fig


#: Slider box of :func:`draw`; the first entry (r) is the website scrubber's parameter.
SLIDERS = {
    "r": Choice(R_GRID, default=0.1, label="compression weight r"),
    "eps": FloatSlider(0.0, 0.5, default=0.2, step=0.1, label="FGSM size ε"),
    "split": Choice(("test", "train"), default="test", label="data"),
}
