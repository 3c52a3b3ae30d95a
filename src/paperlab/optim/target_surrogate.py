"""Target-based surrogates and SSO (Lavington, Vaswani, Babanezhad, Schmidt and Le Roux, ICML 2023).

Explained in chapter ``target-surrogates-sso``.

The model maps parameters ``theta`` to *targets* ``z = f(theta)``; here ``f`` is linear,
``z = X theta`` (the logits of a linear classifier), and the loss is the mean of a per-example loss
of the targets, ``L(z) = (1/b) sum_i l(z_i, y_i)``. The paper's premise is that the gradient
``grad_z L`` is the *expensive* part (an environment, a simulator, a large loss network), while
moving ``theta`` to fit given targets is cheap. One expensive call at ``z_t = f(theta_t)`` defines
the surrogate

    g_t(theta) = L(z_t) + (1/b) [ <G, f(theta) - z_t> + (1 / (2 eta)) ||f(theta) - z_t||^2 ],

with ``G_i = l'(z_{t,i}, y_i)``: the loss linearised in target space plus a proximity term. When
every ``l(., y)`` is ``L_z``-smooth and ``eta <= 1/L_z``, ``g_t`` lies above the loss everywhere and
touches it at ``theta_t`` (the paper's majorisation result; ``L_z = 1/4`` for the logistic loss).
Minimising ``g_t`` with ``m`` cheap gradient steps and repeating is the majorisation-minimisation
algorithm of the full-batch setting (``batch = N``); on a mini-batch it is SSO, which the paper
reads as projected SGD in target space: step ``z~ = z_t - eta G``, then fit ``X_B theta`` to
``z~``. With ``m = 1`` it is plain SGD.

This module holds the surrogate (:func:`surrogate`), the algorithm (:func:`sso`), the chapter's
two datasets, the optimum used to measure ``f(theta) - f*`` (:func:`logistic_optimum`), the
majorisation check (:func:`majorization_gaps`), the cached experiments and the interactive
figure (:func:`draw`, :data:`SLIDERS`).

Conventions, checked against the authors' code (``WilderLavington/Target-Based-Surrogates-For-
Stochastic-Optimization``, ``optimizers/sgd_fmdopt.py``): the surrogate is the batch *mean* of
per-example terms, so ``eta`` is a per-example target-space step that does not depend on the
batch size (the code writes the mean of ``s l'_i f_i + (f_i - z_i)^2``, which is ``s`` times our
``g_t`` with ``eta = s/2``); mini-batches are drawn without replacement, epoch by epoch, dropping
the incomplete last batch. The code minimises the surrogate with an Armijo line search; we use
the constant step ``1/lambda_max`` of the surrogate's Hessian, which is exact for a linear model
(``inner_step`` overrides it).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FixedLocator, MaxNLocator, NullLocator
from scipy.optimize import linprog

from ..cache import cached
from .. import plotting
from .._validate import check_array, check_choice, check_int, check_labels_pm1, check_real
from ..widgets import IntSlider, LogSlider
from .common import Curve, convergence, logistic_regression

__all__ = ["L_Z_LOGISTIC", "logistic_loss_z", "logistic_grad_z", "surrogate", "sso",
           "logistic_optimum", "majorization_gaps", "synthetic_dataset", "breast_cancer_dataset",
           "dataset", "full_batch_runs", "eta_sweep", "draw", "SLIDERS"]

#: Smoothness of the logistic loss in its target: ``l''(z) = s(1 - s) <= 1/4``.
L_Z_LOGISTIC = 0.25


# --------------------------------------------------------------------------- the loss in target space

def logistic_loss_z(z, y) -> np.ndarray:
    """Per-example logistic loss of the targets, ``l(z_i, y_i) = log(1 + exp(-y_i z_i))``.

    ``z`` are the model's outputs (logits) and ``y`` the labels in ``{-1, +1}``. Explained in
    chapter ``target-surrogates-sso``.
    """
    z = check_array("z", z, ndim=1)
    return _loss(z, check_labels_pm1("y", y, n=z.shape[0]))


def _loss(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    m = y * z                      # softplus(-m), stable and five times faster than logaddexp
    return np.maximum(-m, 0.0) + np.log1p(np.exp(-np.abs(m)))


def logistic_grad_z(z, y) -> np.ndarray:
    """The expensive gradient of the paper, here in closed form: ``l'(z_i, y_i) = -y_i s(-y_i z_i)``.

    ``s`` is the sigmoid, evaluated as ``(1 - tanh(m/2))/2`` so that huge margins do not overflow.
    Its derivative ``l''`` is at most ``1/4`` (:data:`L_Z_LOGISTIC`). Explained in chapter
    ``target-surrogates-sso``.
    """
    z = check_array("z", z, ndim=1)
    return _grad(z, check_labels_pm1("y", y, n=z.shape[0]))


def _grad(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    return -y * 0.5 * (1.0 - np.tanh(0.5 * y * z))


def _check_data(X, y) -> tuple[np.ndarray, np.ndarray]:
    X = check_array("X", X, ndim=2)
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X must have at least one row and one column, got shape {X.shape}")
    y = check_labels_pm1("y", y, n=X.shape[0])
    return X, y


# --------------------------------------------------------------------------- the surrogate

def surrogate(theta, theta_t, X, G, eta: float, loss_t: float = 0.0) -> float:
    """The target-based surrogate ``g_t(theta)`` of Lavington et al. (2023) for a linear model.

    ``g_t(theta) = loss_t + (1/b) [<G, X theta - z_t> + ||X theta - z_t||^2 / (2 eta)]`` with
    ``z_t = X theta_t`` and ``b`` the number of rows of ``X``. ``G`` holds the per-example
    gradients ``l'(z_{t,i}, y_i)`` (one expensive call) and ``loss_t = L(z_t)``; with the default
    ``loss_t = 0`` the function returns ``g_t(theta) - L(z_t)``. For ``eta <= 1/L_z`` it is an
    upper bound on ``L(X theta)`` that touches it at ``theta_t``. Explained in chapter
    ``target-surrogates-sso``.
    """
    X = check_array("X", X, ndim=2)
    b, d = X.shape
    theta = check_array("theta", theta, ndim=1, shape=(d,))
    theta_t = check_array("theta_t", theta_t, ndim=1, shape=(d,))
    G = check_array("G", G, ndim=1, shape=(b,))
    eta = check_real("eta", eta, 0.0, lo_open=True)
    loss_t = check_real("loss_t", loss_t)
    dz = X @ (theta - theta_t)                  # f(theta) - z_t
    return float(loss_t + (G @ dz + dz @ dz / (2.0 * eta)) / b)


# --------------------------------------------------------------------------- the algorithm

def sso(X, y, grad_z: Callable = logistic_grad_z, eta: float = 1.0, m: int = 10, batch: int = 50,
        n_calls: int = 200, seed: int = 0, inner_step: float | None = None, *,
        loss_z: Callable = logistic_loss_z, f_star: float = 0.0) -> Curve:
    """Stochastic surrogate optimisation (SSO) of Lavington et al. (2023) for ``z = X theta``.

    Each outer step ``t`` (one *expensive call*):

    1. draws a mini-batch ``B`` of ``batch`` rows (without replacement, epoch by epoch);
    2. computes the targets ``z_t = X_B theta_t`` and ``G = grad_z(z_t, y_B)``, the only call
       of the expensive gradient;
    3. takes ``m`` gradient steps on the surrogate ``g_t`` (:func:`surrogate`) from
       ``theta_t``. Its gradient is ``X_B^T (X_B w - z~) / (b eta)`` with the target step
       ``z~ = z_t - eta G``: the inner loop fits the model to ``z~``, the paper's projection
       in target space. It never calls ``grad_z`` again.

    ``m = 1`` is SGD with step ``eta b / ||X_B||^2`` on the batch-mean loss; ``batch = N`` is
    the full-batch majorisation-minimisation algorithm. The inner step defaults to
    ``1 / lambda_max(X_B^T X_B / (b eta))``, the surrogate's smoothness constant.

    Returns a :class:`~paperlab.optim.common.Curve`: ``cost`` is the number of expensive calls
    ``0..n_calls`` and ``error`` is ``f(theta_t) - f_star`` with ``f`` the mean loss over all
    ``N`` rows (``f_star = 0`` gives the loss itself); ``info["theta"]`` is the last iterate.
    Explained in chapter ``target-surrogates-sso``.
    """
    X, y = _check_data(X, y)
    N, d = X.shape
    if not callable(grad_z) or not callable(loss_z):
        raise ValueError("grad_z and loss_z must be functions of (z, y)")
    eta = check_real("eta", eta, 0.0, lo_open=True)
    m = check_int("m", m, 1)
    batch = check_int("batch", batch, 1, N)
    n_calls = check_int("n_calls", n_calls, 0)
    seed = check_int("seed", seed, 0)
    if inner_step is not None:
        inner_step = check_real("inner_step", inner_step, 0.0, lo_open=True)
    f_star = check_real("f_star", f_star)
    rng = np.random.default_rng(seed)
    # the labels were checked once above: skip the per-call checks of the built-in loss
    grad_z = _grad if grad_z is logistic_grad_z else grad_z
    loss_z = _loss if loss_z is logistic_loss_z else loss_z

    theta = np.zeros(d)
    errors = [float(loss_z(X @ theta, y).sum()) / N - f_star]
    perm, pos = rng.permutation(N), 0
    for _ in range(n_calls):
        if pos + batch > N:                       # a new epoch: reshuffle, drop the remainder
            perm, pos = rng.permutation(N), 0
        B = perm[pos:pos + batch]
        pos += batch
        XB, yB = X[B], y[B]
        z_t = XB @ theta                          # targets of the batch
        G = grad_z(z_t, yB)                       # the one expensive call
        z_tilde = z_t - eta * G                   # gradient step in target space
        H = XB.T @ XB / (batch * eta)             # Hessian of the surrogate g_t
        v = XB.T @ z_tilde / (batch * eta)        # so that grad g_t(w) = H w - v
        alpha = inner_step if inner_step is not None else 1.0 / np.linalg.eigvalsh(H)[-1]
        w = theta
        for _ in range(m):                        # m cheap steps: fit X_B w to z_tilde
            w = w - alpha * (H @ w - v)
        theta = w
        errors.append(float(loss_z(X @ theta, y).sum()) / N - f_star)
    return Curve(np.arange(n_calls + 1, dtype=float), np.array(errors),
                 {"theta": theta, "eta": eta, "m": m, "batch": batch, "seed": seed})


# --------------------------------------------------------------------------- optimum, majorisation

def logistic_optimum(X, y, tol: float = 1e-13, max_iter: int = 100) -> tuple[np.ndarray, float]:
    """The minimiser ``theta*`` and the value ``f*`` of the mean logistic loss, by Newton's method.

    Damped Newton steps (halved until the loss does not increase) from ``theta = 0`` until the
    gradient norm is below ``tol``. Raises ``ValueError`` when the data are linearly separable
    (decided by a linear program), where the loss has no minimiser. Used to measure
    ``f(theta_t) - f*``. Explained in chapter ``target-surrogates-sso``.
    """
    X, y = _check_data(X, y)
    tol = check_real("tol", tol, 0.0, lo_open=True)
    max_iter = check_int("max_iter", max_iter, 1)
    N, d = X.shape
    # separable data (some theta with every y_i x_i^T theta >= 1): the loss has no minimiser
    lp = linprog(np.zeros(d), A_ub=-(y[:, None] * X), b_ub=-np.ones(N),
                 bounds=[(None, None)] * d, method="highs")
    if lp.status == 0:
        raise ValueError("the data are linearly separable, so the logistic loss has no minimiser "
                         "(f* = 0 is approached as ||theta|| -> infinity); use non-separable data")
    theta = np.zeros(d)

    def value(th):
        return float(np.mean(np.logaddexp(0.0, -y * (X @ th))))

    f = value(theta)
    for _ in range(max_iter):
        s = 0.5 * (1.0 - np.tanh(0.5 * y * (X @ theta)))          # sigma(-margin)
        grad = -(X.T @ (s * y)) / N
        if np.linalg.norm(grad) < tol:
            return theta, f
        hess = (X.T * (s * (1.0 - s))) @ X / N
        step = np.linalg.solve(hess + 1e-15 * np.eye(d), grad)
        t = 1.0
        while t > 1e-10 and value(theta - t * step) > f:
            t *= 0.5
        theta = theta - t * step
        f = value(theta)
    raise ValueError(f"Newton's method did not reach a gradient norm below {tol:g} in {max_iter} "
                     f"iterations (the data are close to separable): raise max_iter or tol")


def majorization_gaps(X, y, theta_t, eta: float, n_points: int = 100, radius: float = 1.0,
                      seed: int = 0) -> np.ndarray:
    """``g_t(theta) - L(X theta)`` at ``n_points`` random ``theta`` near ``theta_t`` (full batch).

    The points are ``theta_t + r u`` with ``u`` uniform on the unit sphere and ``r`` uniform in
    ``(0, radius]``. The paper's majorisation result says every gap is ``>= 0`` when
    ``eta <= 1/L_z = 4`` (logistic loss); for larger ``eta`` some gaps are negative wherever
    the loss is close to its maximal curvature, e.g. near ``theta_t = 0``. Explained in chapter
    ``target-surrogates-sso``.
    """
    X, y = _check_data(X, y)
    N, d = X.shape
    theta_t = check_array("theta_t", theta_t, ndim=1, shape=(d,))
    eta = check_real("eta", eta, 0.0, lo_open=True)
    n_points = check_int("n_points", n_points, 1)
    radius = check_real("radius", radius, 0.0, lo_open=True)
    g = np.random.default_rng(check_int("seed", seed, 0))
    U = g.standard_normal((n_points, d))
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    thetas = theta_t + radius * g.uniform(0.0, 1.0, (n_points, 1)) * U
    z_t = X @ theta_t
    G = logistic_grad_z(z_t, y)
    loss_t = float(np.mean(logistic_loss_z(z_t, y)))
    dZ = (thetas - theta_t) @ X.T                       # f(theta) - z_t, one row per point
    upper = loss_t + (dZ @ G + np.einsum("ij,ij->i", dZ, dZ) / (2.0 * eta)) / N
    loss = np.mean(np.logaddexp(0.0, -y * (thetas @ X.T)), axis=1)
    return upper - loss


# --------------------------------------------------------------------------- datasets

def synthetic_dataset(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The chapter's ill-conditioned logistic regression: N = 2000 points in d = 20.

    Gaussian features scaled by ``linspace(0.2, 3, 20)`` (so ``X^T X`` has condition number
    about 225), labels from a random linear model flipped with probability 0.1 (so a minimiser
    exists): :func:`paperlab.optim.common.logistic_regression`. Explained in chapter
    ``target-surrogates-sso``.
    """
    P = logistic_regression(2000, 20, scales=(0.2, 3.0), label_noise=0.1,
                            seed=check_int("seed", seed, 0))
    return P.X, P.y


def breast_cancer_dataset() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled breast-cancer data: 569 tumours, label +1 for benign.

    The ten "mean" features, standardised, plus a constant feature for the bias (d = 11). All
    30 features make the classes linearly separable, so the loss would have no minimiser; the
    ten mean features do not, and their strong correlations make ``X^T X`` badly conditioned
    (about 2e4). Explained in chapter ``target-surrogates-sso``.
    """
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    Z = X[:, :10]
    Z = (Z - Z.mean(axis=0)) / Z.std(axis=0)
    return np.c_[Z, np.ones(len(y))], np.where(y == 1, 1.0, -1.0)


_DATASETS = ("synthetic", "breast cancer")


@cached(maxsize=8)
def _dataset(name: str, seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    X, y = synthetic_dataset(seed) if name == "synthetic" else breast_cancer_dataset()
    _, f_star = logistic_optimum(X, y)
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y, f_star


def dataset(name: str = "synthetic", seed: int = 0) -> tuple[np.ndarray, np.ndarray, float]:
    """``(X, y, f*)`` for ``name`` in ``("synthetic", "breast cancer")``; cached, read-only.

    ``seed`` selects the synthetic instance (the breast-cancer data have none). Explained in
    chapter ``target-surrogates-sso``.
    """
    check_choice("name", name, _DATASETS)
    return _dataset(name, check_int("seed", seed, 0) if name == "synthetic" else 0)


# --------------------------------------------------------------------------- experiments

#: Floor for ``f - f*`` in plots: below it the difference is rounding error.
FLOOR = 1e-15


def _clip(c: Curve) -> Curve:
    return Curve(c.cost, np.maximum(c.error, FLOOR), c.info)


def full_batch_runs(name: str = "synthetic", eta: float = 4.0, ms=(1, 10, 30), n_calls: int = 200,
                    seed: int = 0) -> Mapping[int, Curve]:
    """The full-batch majorisation-minimisation algorithm (``batch = N``) for each ``m``.

    Returns a read-only mapping ``{m: Curve}`` of ``f(theta_t) - f*`` (floored at ``1e-15``)
    against expensive calls; ``m = 1`` is gradient descent with step ``1 / L`` when
    ``eta = 1/L_z = 4``. Cached. Explained in chapter ``target-surrogates-sso``.
    """
    check_choice("name", name, _DATASETS)
    eta = check_real("eta", eta, 0.0, lo_open=True)
    ms = tuple(check_int("m", m, 1) for m in ms)
    return _full_batch_runs(name, eta, ms, check_int("n_calls", n_calls, 1), check_int("seed", seed, 0))


@cached(maxsize=16)
def _full_batch_runs(name, eta, ms, n_calls, seed):
    X, y, f_star = dataset(name, seed)
    return MappingProxyType({m: _clip(sso(X, y, eta=eta, m=m, batch=len(y), n_calls=n_calls,
                                          f_star=f_star)) for m in ms})


def eta_sweep(name: str = "synthetic", etas=(0.125, 0.25, 0.5, 1.0, 2.0, 4.0), ms=(1, 10, 30),
              batch: int = 50, n_calls: int = 200, seeds=(0, 1, 2),
              data_seed: int = 0) -> Mapping[tuple[float, int], tuple[Curve, ...]]:
    """SSO on mini-batches for every ``(eta, m)`` of the grid and every seed.

    Returns a read-only mapping ``{(eta, m): (Curve per seed)}`` of ``f(theta_t) - f*``
    (floored at ``1e-15``) against expensive calls. A seed fixes the batch sequence, so every
    ``(eta, m)`` sees the same batches. Cached: the chapter computes it once. Explained in
    chapter ``target-surrogates-sso``.
    """
    check_choice("name", name, _DATASETS)
    etas = tuple(check_real("eta", e, 0.0, lo_open=True) for e in etas)
    ms = tuple(check_int("m", m, 1) for m in ms)
    seeds = tuple(check_int("seed", s, 0) for s in seeds)
    X, _, _ = dataset(name, data_seed)
    batch = check_int("batch", batch, 1, X.shape[0])
    return _eta_sweep(name, etas, ms, batch, check_int("n_calls", n_calls, 1), seeds,
                      check_int("data_seed", data_seed, 0))


@cached(maxsize=8)
def _eta_sweep(name, etas, ms, batch, n_calls, seeds, data_seed):
    X, y, f_star = dataset(name, data_seed)
    out = {(e, m): tuple(_clip(sso(X, y, eta=e, m=m, batch=batch, n_calls=n_calls, seed=s,
                                   f_star=f_star)) for s in seeds)
           for e in etas for m in ms}
    return MappingProxyType(out)


# --------------------------------------------------------------------------- interactive figure

SLIDERS = {
    "eta": LogSlider(0.1, 10.0, default=0.5, label="target step η"),
    "m": IntSlider(1, 30, default=10, label="inner steps m"),
    "batch": IntSlider(10, 200, default=50, step=10, label="batch b"),
}

#: Expensive calls of one run in :func:`draw`.
DRAW_CALLS = 100
_YTICKS = [1e-4, 1e-2, 1.0]
_YLABELS = ["1e-4", "0.01", "1"]


def draw(eta: float = 0.5, m: int = 10, batch: int = 50) -> Figure:
    """The chapter's figure: SSO with ``m`` inner steps against SGD (``m = 1``) at the same ``eta``.

    Left: ``f(theta_t) - f*`` against expensive calls on the synthetic data (seed 0), for SSO
    and for SGD. Right: the first surrogate, at ``theta_0 = 0``, along the line from
    ``theta_0`` through the SSO iterate ``theta_1``, above the batch loss it replaces when
    ``eta <= 1/L_z = 4`` and dipping below it when ``eta > 4``. Explained in chapter
    ``target-surrogates-sso``.
    """
    eta = check_real("eta", eta, 0.0, lo_open=True)
    m = check_int("m", m, 1)
    batch = check_int("batch", batch, 1, 2000)
    X, y, f_star = dataset("synthetic", 0)
    run = sso(X, y, eta=eta, m=m, batch=batch, n_calls=DRAW_CALLS, f_star=f_star)
    base = run if m == 1 else sso(X, y, eta=eta, m=1, batch=batch, n_calls=DRAW_CALLS,
                                  f_star=f_star)
    fig, (ax0, ax1) = plotting.figure(2, width=8.4, height=3.5, layout="fixed")

    blue, orange = plotting.PALETTE[0], plotting.PALETTE[1]
    runs = {f"SSO, m = {m}": [_clip(run)], "SGD (m = 1)": [_clip(base)]}
    convergence(ax0, runs, xlabel="expensive gradient calls", ylabel="f(θₜ) − f*",
                colors={f"SSO, m = {m}": blue, "SGD (m = 1)": orange}, legend=False)
    ax0.lines[-1].set_linestyle("--")
    # fixed ticks and title position: automatic log ticks (mathtext) and title placement cost
    # more than the rest of the figure
    ax0.set_ylim(1e-5, 10.0)
    ax0.yaxis.set_major_locator(FixedLocator(_YTICKS))
    ax0.yaxis.set_major_formatter(FixedFormatter(_YLABELS))
    ax0.yaxis.set_minor_locator(NullLocator())
    ax0.xaxis.set_major_locator(FixedLocator([0, DRAW_CALLS // 2, DRAW_CALLS]))
    plotting.key(ax0, [(f"SSO, m = {m}", blue, "—"), ("SGD (m = 1)", orange, "– –")], y=0.2)
    ax0.set_title(f"η = {eta:.3g}, b = {batch}: final gap {run.error[-1]:.1e} vs "
                  f"{base.error[-1]:.1e}", fontsize=9, y=1.0)

    # the first surrogate (theta_0 = 0) along the segment to theta_1, on the first batch
    rng = np.random.default_rng(0)
    B = rng.permutation(len(y))[:batch]          # sso's first batch at seed 0
    XB, yB = X[B], y[B]
    first = sso(XB, yB, eta=eta, m=m, batch=batch, n_calls=1, seed=0)
    direction = first.info["theta"]
    s = np.linspace(-0.5, 2.0, 60)
    zs = np.outer(s, XB @ direction)             # targets along the line, (60, b)
    G = logistic_grad_z(np.zeros(batch), yB)
    loss_line = np.mean(np.logaddexp(0.0, -yB * zs), axis=1)
    surr_line = np.log(2.0) + (zs @ G + np.sum(zs**2, axis=1) / (2 * eta)) / batch
    ax1.plot(s, loss_line, color="black")
    ax1.plot(s, surr_line, color=blue)
    ax1.plot([1.0], [surr_line[np.argmin(np.abs(s - 1.0))]], "o", color=blue)
    ax1.axvline(1.0, color="0.6", lw=0.8)
    lo, hi = loss_line.min(), max(loss_line.max(), np.log(2.0) + 0.3)
    ax1.set_ylim(lo - 0.15 * (hi - lo), hi)
    ax1.xaxis.set_major_locator(FixedLocator([0.0, 1.0, 2.0]))     # few ticks: faster to draw
    ax1.yaxis.set_major_locator(MaxNLocator(3))
    plotting.key(ax1, [("batch loss", "black", "—"), ("surrogate g₀", blue, "—")])
    ok = eta <= 1.0 / L_Z_LOGISTIC
    plotting.labels(ax1, "position along θ₀ → θ₁  (1 = after m steps)",
                    "value on the first batch")
    ax1.set_title("η ≤ 4: an upper bound" if ok else "η > 4: not an upper bound", fontsize=9, y=1.0)
    return fig
