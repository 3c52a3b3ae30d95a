"""The Rashomon ratio of linear classifiers (Semenova, Rudin and Parr, FAccT 2022).

Explained in chapter ``rashomon-ratio``.

Notation (as in the chapter). A hypothesis space ``F`` carries a prior ``rho``; ``L(f)`` is the
empirical 0-1 loss of ``f`` on the training set and ``f_hat`` an empirical risk minimiser. The
paper defines

* the *Rashomon set* ``R(F, theta) = {f in F : L(f) <= L(f_hat) + theta}``, every model whose
  training loss is within ``theta`` of the best one (Eq. (1) of the chapter), and
* the *Rashomon ratio* ``rho(R(F, theta)) / rho(F)``, the share of the hypothesis space that is
  almost optimal (Eq. (2) of the chapter).

Here ``F`` is the space of linear classifiers ``f(x) = sign(w . x + b)`` on ``p`` standardised
features, parametrised by ``(w, b)`` on the unit sphere ``S^p`` (the scale of ``(w, b)`` does not
change the classifier) with the uniform (surface) measure as prior. The ratio is then a volume
fraction, estimated by Monte Carlo: draw ``K`` points of the sphere, compute every training loss
with one matrix product, count those inside the Rashomon set.

This module holds the estimator (:func:`sample_linear_hypotheses`, :func:`empirical_losses`,
:func:`optimal_loss`, :func:`rashomon_ratio`), the baselines the paper compares across
(:func:`method_spread`), the chapter's datasets (:func:`synthetic`, :func:`load_task`), its
experiment (:func:`simulate`, :func:`experiment`) and its interactive figure (:func:`draw`,
:data:`SLIDERS`).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullLocator
from scipy import stats

from ..cache import cached
from .. import plotting
from .._validate import check_array, check_choice, check_int, check_real
from ..widgets import Choice, FloatSlider

__all__ = ["MAX_FEATURES", "METHODS", "SIMPLE_MODELS", "TASKS", "sample_linear_hypotheses",
           "empirical_losses", "optimal_loss", "rashomon_ratio", "synthetic", "Task",
           "load_task", "method_spread", "Experiment", "simulate", "experiment", "draw",
           "SLIDERS"]

#: Largest number of features the Monte Carlo estimator accepts. The Rashomon ratio shrinks
#: roughly exponentially with the dimension of the sphere, so beyond a dozen features almost no
#: random draw lands in the Rashomon set and the estimate is 0 with a useless interval.
MAX_FEATURES = 12

#: The six learning algorithms whose test accuracies are compared (names used as dict keys).
METHODS = ("logistic regression", "CART (depth 4)", "random forest", "gradient boosting",
           "RBF SVM", "k nearest neighbours")
#: The two "simple" models: a depth-2 tree and logistic regression on the first 3 features.
SIMPLE_MODELS = ("tree of depth 2", "LR on 3 features")

#: The chapter's seven tasks: four synthetic ones with label noise eta, three bundled datasets.
TASKS = ("synthetic, η = 0", "synthetic, η = 0.1", "synthetic, η = 0.2", "synthetic, η = 0.3",
         "breast cancer", "wine (class 0)", "iris (versicolor)")
_ETAS = {TASKS[0]: 0.0, TASKS[1]: 0.1, TASKS[2]: 0.2, TASKS[3]: 0.3}
_CHUNK = 4096            # hypotheses per matrix product in empirical_losses (bounded memory)


# --------------------------------------------------------------------------- the estimator

def sample_linear_hypotheses(p: int, K: int = 50_000, seed: int = 0) -> np.ndarray:
    """``K`` linear classifiers ``(w, b)`` drawn uniformly from the unit sphere ``S^p``.

    Row ``k`` is ``(w_1, ..., w_p, b)`` with ``||(w, b)|| = 1``: a normalised Gaussian vector,
    which is uniform on the sphere. This is the prior ``rho`` of the chapter's hypothesis space,
    under which the Rashomon ratio (Eq. (2) of chapter ``rashomon-ratio``) is a volume fraction.
    """
    p = _check_p(check_int("p", p, 1))
    K = check_int("K", K, 100)
    seed = check_int("seed", seed, 0)
    H = np.random.default_rng([seed, 24]).standard_normal((K, p + 1))
    return H / np.linalg.norm(H, axis=1, keepdims=True)


def empirical_losses(X, y, H) -> np.ndarray:
    """Training 0-1 losses ``L(f_k)`` of every sampled classifier ``f_k(x) = sign(w_k . x + b_k)``.

    ``X`` is ``(n, p)``; ``y`` holds two classes (``{0, 1}`` or ``{-1, +1}``; the larger value is
    the positive class); ``H`` is ``(K, p + 1)`` as returned by :func:`sample_linear_hypotheses`.
    A classifier predicts ``+1`` where ``w . x + b > 0`` and ``-1`` elsewhere. With
    ``S_ik = 1[w_k . x_i + b_k > 0]`` and ``n_+`` positive labels, the number of errors is
    ``n_+ - sum_i y_i S_ik`` (Eq. (3) of chapter ``rashomon-ratio``), so all ``K`` losses come
    from one ``(n, p + 1) x (p + 1, K)`` product and one matrix-vector product, done in blocks
    of hypotheses to bound the memory.
    ``y`` may also be ``(n, T)``: ``T`` label vectors for the same inputs (the chapter's noisy
    copies of one task), evaluated with the same product; the result is then ``(K, T)``.
    Returns a ``(K,)`` array of losses in ``[0, 1]``.
    """
    X = _check_x(X)
    Y = check_array("y", y)
    if Y.ndim not in (1, 2):
        raise ValueError(f"y must be 1-dimensional (or 2-dimensional, one column per label "
                         f"vector), got shape {Y.shape}")
    Ys = np.stack([_check_labels(col, X.shape[0]) for col in Y.reshape(len(Y), -1).T])
    H = check_array("H", H, ndim=2)
    if H.shape[1] != X.shape[1] + 1:
        raise ValueError(f"H must have p + 1 = {X.shape[1] + 1} columns (w and b) for X with "
                         f"{X.shape[1]} features, got {H.shape[1]}")
    A = np.c_[X, np.ones(len(X))].astype(np.float32)
    Ht = np.ascontiguousarray(H.T, dtype=np.float32)
    n_pos = (Ys > 0).sum(1).astype(np.float32)[:, None]          # (T, 1)
    Ys = Ys.astype(np.float32)
    errors = np.empty((Ys.shape[0], H.shape[0]), dtype=np.float32)
    for i in range(0, H.shape[0], _CHUNK):
        S = (A @ Ht[:, i:i + _CHUNK] > 0).astype(np.float32)     # (n, chunk) predictions
        errors[:, i:i + _CHUNK] = n_pos - Ys @ S                  # exact: integers < 2^24
    losses = errors.T.astype(np.float64) / len(X)
    return losses[:, 0] if Y.ndim == 1 else losses


def optimal_loss(X, y, losses=None) -> float:
    """The best training 0-1 loss ``L(f_hat)`` found for a linear classifier on ``(X, y)``.

    Minimising the 0-1 loss exactly is NP-hard, and the smallest loss among random draws
    overestimates the optimum, which would inflate the Rashomon set. So ``L(f_hat)`` is the
    smallest of (i) the losses of the random draws (``losses``, if given) and (ii) the 0-1 losses
    of L1-regularised logistic regression fitted at three regularisation strengths
    (``C`` = 0.1, 1, 10). Used as the
    reference loss of Eq. (1) in chapter ``rashomon-ratio``.
    """
    from sklearn.linear_model import LogisticRegression

    X, ys = _check_xy(X, y)
    best = 1.0
    if losses is not None:
        L = check_array("losses", losses, ndim=1)
        if L.size == 0 or np.any((L < 0) | (L > 1)):
            raise ValueError("losses must be a non-empty array of 0-1 losses in [0, 1]")
        best = float(L.min())
    if np.unique(ys).size == 2:
        for C in (0.1, 1.0, 10.0):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                lr = LogisticRegression(l1_ratio=1.0, solver="liblinear", C=C, max_iter=1000)
                lr.fit(X, ys)
            best = min(best, float(np.mean(lr.predict(X) != ys)))
    else:                       # one class only: the constant classifier is perfect
        best = 0.0
    return best


def rashomon_ratio(losses, best_loss: float, theta: float,
                   level: float = 0.95) -> tuple[float, float, float]:
    """Monte Carlo Rashomon ratio with an exact (Clopper-Pearson) binomial interval.

    The ratio ``rho(R(F, theta)) / rho(F)`` (Eq. (2) of chapter ``rashomon-ratio``) is estimated
    by the fraction of the ``K`` random hypotheses whose loss is at most
    ``best_loss + theta`` (Eq. (1)). Each draw is in or out of the set independently, so the
    count is binomial and the interval is the exact Clopper-Pearson interval at ``level``.
    Returns ``(ratio, low, high)``. A count of zero gives ``ratio = 0`` with a positive ``high``.
    """
    L = check_array("losses", losses, ndim=1)
    if L.size < 100:
        raise ValueError(f"losses must hold at least K = 100 sampled hypotheses, got {L.size}")
    best = check_real("best_loss", best_loss, 0.0, 1.0)
    theta = check_real("theta", theta, 0.0, 1.0)
    level = check_real("level", level, 0.0, 1.0, lo_open=True, hi_open=True)
    k = int(np.count_nonzero(L <= best + theta + 1e-12))
    K = L.size
    a = (1 - level) / 2
    low = 0.0 if k == 0 else float(stats.beta.ppf(a, k, K - k + 1))
    high = 1.0 if k == K else float(stats.beta.ppf(1 - a, k + 1, K - k))
    return k / K, low, high


# --------------------------------------------------------------------------- data

@dataclass(frozen=True)
class Task:
    """A binary task with labels in ``{-1, +1}``, split into training and test parts."""

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def synthetic(eta: float, n_train: int = 3000, n_test: int = 1000, sep: float = 1.0,
              p: int = 4, seed: int = 0) -> Task:
    """Two Gaussian classes in ``R^p`` with a share ``eta`` of labels flipped at random.

    Class ``y`` in ``{-1, +1}`` (equally likely) has mean ``y (sep / 2) (1, ..., 1)`` and identity
    covariance. Each label, training and test alike, is flipped when an independent uniform
    ``u_i < eta``; the points and the ``u_i`` depend only on ``seed``, so the tasks for
    different ``eta`` share their inputs and the flipped sets are nested. For any classifier the
    expected loss is then ``eta + (1 - 2 eta) L_0`` (Eq. (4) of chapter ``rashomon-ratio``).
    """
    eta = check_real("eta", eta, 0.0, 0.5, hi_open=True)
    n_train = check_int("n_train", n_train, 10)
    n_test = check_int("n_test", n_test, 10)
    sep = check_real("sep", sep, 0.0)
    p = _check_p(check_int("p", p, 1))
    seed = check_int("seed", seed, 0)
    g = np.random.default_rng([seed, 2022])
    n = n_train + n_test
    clean = np.where(g.random(n) < 0.5, 1.0, -1.0)
    X = g.standard_normal((n, p)) + clean[:, None] * sep / 2
    y = np.where(g.random(n) < eta, -clean, clean)
    name = f"synthetic, η = {eta:g}"
    return Task(name, X[:n_train], y[:n_train], X[n_train:], y[n_train:])


def load_task(name: str, seed: int = 0, p: int = 4) -> Task:
    """One of the chapter's seven tasks (:data:`TASKS`), with ``p`` features.

    Synthetic tasks come from :func:`synthetic`. The three bundled scikit-learn datasets are
    made binary (breast cancer: benign vs malignant; wine: class 0 vs the rest; iris: versicolor
    vs virginica), split in half at random (stratified, ``seed``), standardised, and reduced to
    their ``p`` directions of largest variance (principal components of the standardised
    training features, each rescaled to unit variance). ``p`` is fixed because the ratio shrinks
    about exponentially with it; comparing ratios across tasks needs the same ``p``.
    """
    check_choice("name", name, TASKS)
    seed = check_int("seed", seed, 0)
    p = _check_p(check_int("p", p, 1))
    if name in _ETAS:
        return synthetic(_ETAS[name], p=p, seed=seed)
    from sklearn.datasets import load_breast_cancer, load_iris, load_wine
    from sklearn.model_selection import train_test_split

    if name == "breast cancer":
        X, y = load_breast_cancer(return_X_y=True)
        y = np.where(y == 1, 1.0, -1.0)
    elif name == "wine (class 0)":
        X, y = load_wine(return_X_y=True)
        y = np.where(y == 0, 1.0, -1.0)
    else:
        X, y = load_iris(return_X_y=True)
        keep = y > 0
        X, y = X[keep], np.where(y[keep] == 1, 1.0, -1.0)
    if p > X.shape[1]:
        raise ValueError(f"p must be at most {X.shape[1]} for {name}, got {p}")
    Xtr, Xte, ytr, yte = train_test_split(X.astype(float), y, test_size=0.5, stratify=y,
                                          random_state=seed)
    mu, sd = Xtr.mean(0), Xtr.std(0)
    sd[sd == 0] = 1.0
    Xtr, Xte = (Xtr - mu) / sd, (Xte - mu) / sd
    _, _, Vt = np.linalg.svd(Xtr, full_matrices=False)
    V = Vt[:p].T * np.sign(Vt[:p, :1].T + 1e-300)      # a fixed sign for each direction
    scale = (Xtr @ V).std(0)
    return Task(name, Xtr @ V / scale, ytr, Xte @ V / scale, yte)


# --------------------------------------------------------------------------- the baselines

def method_spread(X_train, y_train, X_test, y_test, seed: int = 0) -> dict[str, float]:
    """Test accuracies of the six algorithms of :data:`METHODS` and the two simple models.

    The algorithms, with scikit-learn's default settings unless stated: logistic regression,
    CART of depth 4, a random forest of 100 trees, gradient boosting, an RBF-kernel SVM and
    5-nearest neighbours. The simple models (:data:`SIMPLE_MODELS`) are a tree of depth 2 and
    logistic regression on the first three features. The paper's hypothesis (chapter
    ``rashomon-ratio``): where the Rashomon ratio is large, these accuracies are close to each
    other, and a simple model is about as good as the best algorithm.
    """
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeClassifier

    Xtr, ytr = _check_xy(X_train, y_train, "X_train", "y_train")
    Xte, yte = _check_xy(X_test, y_test, "X_test", "y_test")
    if Xte.shape[1] != Xtr.shape[1]:
        raise ValueError(f"X_test must have {Xtr.shape[1]} features like X_train, "
                         f"got {Xte.shape[1]}")
    if np.unique(ytr).size < 2:
        raise ValueError("y_train must contain both classes to fit the classifiers")
    seed = check_int("seed", seed, 0)
    models = {
        METHODS[0]: LogisticRegression(max_iter=1000),
        METHODS[1]: DecisionTreeClassifier(max_depth=4, random_state=seed),
        METHODS[2]: RandomForestClassifier(n_estimators=100, random_state=seed),
        METHODS[3]: GradientBoostingClassifier(random_state=seed),
        METHODS[4]: SVC(kernel="rbf"),
        METHODS[5]: KNeighborsClassifier(n_neighbors=5),
        SIMPLE_MODELS[0]: DecisionTreeClassifier(max_depth=2, random_state=seed),
    }
    acc = {name: float(m.fit(Xtr, ytr).score(Xte, yte)) for name, m in models.items()}
    k = min(3, Xtr.shape[1])
    acc[SIMPLE_MODELS[1]] = float(LogisticRegression(max_iter=1000).fit(Xtr[:, :k], ytr)
                                  .score(Xte[:, :k], yte))
    return acc


# --------------------------------------------------------------------------- the experiment

@dataclass(frozen=True)
class Experiment:
    """Results of :func:`simulate`, one entry per task of :data:`TASKS`.

    ``losses[t]``: the ``K`` sampled training losses; ``best[t]``: ``L(f_hat)``
    (:func:`optimal_loss`); ``accuracy[t]``: test accuracies from :func:`method_spread`;
    ``n_train[t]``: training points.
    """

    K: int
    seed: int
    losses: dict[str, np.ndarray]
    best: dict[str, float]
    accuracy: dict[str, dict[str, float]]
    n_train: dict[str, int]

    def ratio(self, task: str, theta: float) -> tuple[float, float, float]:
        """``(ratio, low, high)`` of ``task`` at ``theta`` (:func:`rashomon_ratio`)."""
        check_choice("task", task, list(self.losses))
        return rashomon_ratio(self.losses[task], self.best[task], theta)

    def spread(self, task: str) -> float:
        """Largest minus smallest test accuracy over the six algorithms of :data:`METHODS`."""
        a = [self.accuracy[task][m] for m in METHODS]
        return max(a) - min(a)

    def simple_gap(self, task: str) -> float:
        """Best test accuracy of the six algorithms minus the best of the two simple models."""
        return (max(self.accuracy[task][m] for m in METHODS)
                - max(self.accuracy[task][m] for m in SIMPLE_MODELS))

    def table(self, theta: float = 0.02) -> str:
        """A text table: ratio with interval, best loss, accuracy spread and simple-model gap."""
        rows = [f"{'task':<20} {'n':>5} {'L(f_hat)':>8} {'ratio at θ = ' + format(theta, 'g'):>17}"
                f" {'95% interval':>19} {'spread':>7} {'simple gap':>10}"]
        for t in self.losses:
            r, lo, hi = self.ratio(t, theta)
            rows.append(f"{t:<20} {self.n_train[t]:>5} {self.best[t]:>8.3f} {r:>17.2e} "
                        f"[{lo:.2e}, {hi:.2e}] {self.spread(t):>7.3f} {self.simple_gap(t):>10.3f}")
        return "\n".join(rows)


def simulate(K: int = 50_000, seed: int = 0, tasks: tuple[str, ...] = TASKS) -> Experiment:
    """Estimate the Rashomon ratio and run the baselines on each task (uncached).

    One set of ``K`` hypotheses (:func:`sample_linear_hypotheses`, ``p = 4``) serves every task,
    so differences between tasks are not Monte Carlo noise of different draws; the synthetic
    tasks share their inputs, so their losses come from one product. For each task:
    the ``K`` training losses (:func:`empirical_losses`), ``L(f_hat)`` (:func:`optimal_loss`) and
    the test accuracies of :func:`method_spread`. Deterministic given ``seed``.
    """
    K = check_int("K", K, 100)
    seed = check_int("seed", seed, 0)
    tasks = tuple(check_choice("tasks", t, TASKS) for t in tasks)
    if not tasks:
        raise ValueError(f"tasks must name at least one of {list(TASKS)}")
    H = sample_linear_hypotheses(4, K, seed)
    data = {t: load_task(t, seed) for t in tasks}
    noisy = [t for t in tasks if t in _ETAS]       # same inputs, nested label flips
    losses = {}
    if noisy:
        L = empirical_losses(data[noisy[0]].X_train,
                             np.stack([data[t].y_train for t in noisy], axis=1), H)
        losses.update({t: L[:, j].copy() for j, t in enumerate(noisy)})
    for t in tasks:
        if t not in losses:
            losses[t] = empirical_losses(data[t].X_train, data[t].y_train, H)
    best, acc, n = {}, {}, {}
    for t in tasks:
        task = data[t]
        best[t] = optimal_loss(task.X_train, task.y_train, losses[t])
        acc[t] = method_spread(task.X_train, task.y_train, task.X_test, task.y_test, seed)
        n[t] = len(task.y_train)
    return Experiment(K=K, seed=seed, losses=losses, best=best, accuracy=acc, n_train=n)


@cached(maxsize=4)
def experiment(K: int = 50_000, seed: int = 0, tasks: tuple[str, ...] = TASKS) -> Experiment:
    """:func:`simulate`, cached on its arguments: the chapter's one heavy step."""
    return simulate(K=K, seed=seed, tasks=tuple(tasks))


# --------------------------------------------------------------------------- interactive figure

_THETAS = np.linspace(0.0, 0.1, 51)
_SHORT = {TASKS[0]: "η = 0", TASKS[1]: "η = 0.1", TASKS[2]: "η = 0.2", TASKS[3]: "η = 0.3",
          TASKS[4]: "breast cancer", TASKS[5]: "wine", TASKS[6]: "iris"}


@cached(maxsize=1)
def _curves() -> dict[str, np.ndarray]:
    """log10 of the ratio on a grid of theta for every task, from the cached experiment."""
    res = experiment()
    out = {}
    for t in TASKS:
        L = np.sort(res.losses[t])
        counts = np.searchsorted(L, res.best[t] + _THETAS + 1e-12, side="right")
        out[t] = np.log10(np.maximum(counts, 0.5) / L.size)   # 0 hits drawn at half a hit
    return out


@cached(maxsize=len(TASKS))
def _histogram(task: str) -> tuple[np.ndarray, np.ndarray]:
    res = experiment()
    b = res.best[task]
    edges = b - 0.01 + 0.0025 * np.arange(57)          # from L(f_hat) - 0.01 to + 0.13
    counts, _ = np.histogram(res.losses[task], bins=edges)
    return edges, counts


def draw(theta: float = 0.02, task: str = "synthetic, η = 0") -> Figure:
    """The chapter's interactive figure (chapter ``rashomon-ratio``, section Explore).

    Left: the log10 Rashomon ratio against ``theta`` for the seven tasks, ``task`` highlighted,
    with its value and 95 % interval at ``theta``. Right: the low tail of the distribution of
    training losses of the 50,000 sampled classifiers of ``task``; the bars inside the Rashomon
    set (loss at most ``L(f_hat) + theta``) are coloured.
    """
    theta = check_real("theta", theta, 0.0, 0.1)
    check_choice("task", task, TASKS)
    res = experiment()
    curves = _curves()
    r, lo, hi = res.ratio(task, theta)
    blue, grey, orange = plotting.PALETTE[0], "#b0b0b0", plotting.PALETTE[1]

    fig, (ax0, ax1) = plotting.figure(2, width=9.0, height=3.6, layout="fixed")
    others = [np.c_[_THETAS, curves[t]] for t in TASKS if t != task]
    ax0.add_collection(LineCollection(others, colors=grey, linewidths=1.0))
    ax0.plot(_THETAS, curves[task], color=blue, lw=2.0)
    ax0.axvline(theta, color="black", lw=0.8, ls=":")
    if r > 0:
        ax0.plot([theta], [np.log10(r)], "o", color=blue, ms=5)
        ax0.plot([theta, theta], np.log10([max(lo, 1e-6), hi]), color=blue, lw=3, alpha=0.5)
        txt = f"ratio {r:.2g}  [{lo:.2g}, {hi:.2g}]"
    else:
        txt = f"no draw inside: ratio < {hi:.1g}"
    ax0.set_xlim(0, 0.1)
    ax0.set_ylim(-5, 0)
    ax0.xaxis.set_major_locator(FixedLocator([0, 0.025, 0.05, 0.075, 0.1]))
    ax0.yaxis.set_major_locator(FixedLocator([-5, -4, -3, -2, -1, 0]))
    plotting.key(ax0, [(_SHORT[task], blue), ("other tasks", grey)], y=0.97)
    plotting.labels(ax0, "Rashomon parameter θ (0-1 loss)", "log₁₀ Rashomon ratio", txt)

    edges, counts = _histogram(task)
    inside = int(np.count_nonzero(edges[1:] <= res.best[task] + theta + 1e-12))
    ax1.stairs(counts, edges, fill=True, color=grey, linewidth=0)
    if inside:
        ax1.stairs(counts[:inside], edges[:inside + 1], fill=True, color=blue, linewidth=0)
    top = max(int(counts.max()), 1)
    ax1.set_ylim(0, 1.35 * top)                      # room for the key
    ax1.yaxis.set_major_locator(FixedLocator(_nice_ticks(top)))
    ax1.axvline(res.best[task], color=orange, lw=1.2)
    ax1.axvline(res.best[task] + theta, color="black", lw=0.8, ls=":")
    ax1.set_xlim(edges[0], edges[-1])
    first = np.ceil(edges[0] / 0.05) * 0.05
    ax1.xaxis.set_major_locator(FixedLocator(np.round(np.arange(first, edges[-1], 0.05), 2)))
    ax1.xaxis.set_minor_locator(NullLocator())
    plotting.key(ax1, [(f"best loss {res.best[task]:.3f}", orange, "|"),
                       (f"in the set: {int(round(r * res.K))} of {res.K:,}", blue)], x=0.12)
    plotting.labels(ax1, "training 0-1 loss of a sampled classifier", "classifiers per bin",
                    f"spread of 6 methods' test accuracy: {res.spread(task):.3f}")
    return fig


def _nice_ticks(top: int) -> list[int]:
    """Three or four round tick values from 0 to about ``top`` (fixed ticks redraw faster)."""
    step = 10 ** int(np.floor(np.log10(max(top, 1))))
    for m in (1, 2, 5, 10):
        if top / (m * step) <= 3:
            return [int(m * step * i) for i in range(int(top // (m * step)) + 1)]
    return [0, top]


#: Slider box of :func:`draw`; the first entry (theta) is the website scrubber's parameter.
SLIDERS = {
    "theta": FloatSlider(0.0, 0.1, default=0.02, step=0.005, label="Rashomon parameter θ"),
    "task": Choice(TASKS, default=TASKS[0], label="task"),
}


# --------------------------------------------------------------------------- validation helpers

def _check_p(p: int) -> int:
    if p > MAX_FEATURES:
        raise ValueError(f"p must be at most {MAX_FEATURES} features, got {p}: the Rashomon ratio "
                         f"shrinks about exponentially with p, so almost no random draw lands in "
                         f"the Rashomon set; use fewer features (e.g. the top principal "
                         f"components)")
    return p


def _check_x(X, name: str = "X") -> np.ndarray:
    X = check_array(name, X, ndim=2)
    if X.shape[0] == 0:
        raise ValueError(f"{name} must have at least one row")
    _check_p(X.shape[1])
    return X


def _check_labels(y, n: int, name: str = "y") -> np.ndarray:
    """Check that ``y`` has ``n`` binary labels and return them mapped to ``{-1, +1}``."""
    ya = check_array(name, y, ndim=1)
    if ya.shape[0] != n:
        raise ValueError(f"{name} must have {n} entries (one per row of the data), "
                         f"got {ya.shape[0]}")
    values = set(np.unique(ya).tolist())
    if not (values <= {0.0, 1.0} or values <= {-1.0, 1.0}):
        raise ValueError(f"{name} must be binary, with labels in {{0, 1}} or {{-1, +1}}; found "
                         f"{sorted(values)[:5]}")
    return np.where(ya == 1.0, 1.0, -1.0)


def _check_xy(X, y, xname: str = "X", yname: str = "y") -> tuple[np.ndarray, np.ndarray]:
    """Check ``(X, y)`` and return ``y`` mapped to ``{-1, +1}``."""
    X = _check_x(X, xname)
    return X, _check_labels(y, X.shape[0], yname)
