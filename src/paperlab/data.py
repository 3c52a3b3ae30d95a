"""Seeded datasets shared by every chapter: synthetic generators and scikit-learn's bundled sets.

Nothing here touches the network: the real datasets are the ones scikit-learn ships inside
its wheel (``load_digits``, ``load_iris``, ...). Every generator takes a ``seed`` and returns the
same arrays for the same seed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import check_array, check_int, check_real

__all__ = ["rng", "blobs", "Split", "digits", "binary_digits", "GaussianMixture", "gmm2d"]


def rng(seed: int) -> np.random.Generator:
    """The book's random generator: ``numpy.random.default_rng(seed)`` with a checked seed."""
    return np.random.default_rng(check_int("seed", seed, 0))


def blobs(n: int = 200, d: int = 2, sep: float = 4.0, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs with labels +1/-1, centred at +-(sep/2) e_1 with unit covariance.

    With ``sep`` of 4 or more and a few hundred points the classes are separable with high
    probability; chapters that need separability check it (e.g. with a margin function).
    """
    n = check_int("n", n, 2)
    d = check_int("d", d, 1)
    sep = check_real("sep", sep, 0.0)
    g = rng(seed)
    y = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    X = g.standard_normal((n, d))
    X[:, 0] += y * sep / 2
    return X, y


@dataclass(frozen=True)
class Split:
    """A train/test split: ``X_train, y_train, X_test, y_test`` (features float32, labels int64)."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def n_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_test.max()) + 1)


def digits(test_size: int = 360, *, standardize: bool = True, seed: int = 0) -> Split:
    """scikit-learn's bundled 8x8 digits (1797 images, 64 features, 10 classes), split at random.

    The default split is 1437 training and 360 test images. With ``standardize`` each feature is
    centred and scaled by the training set's mean and standard deviation (constant pixels keep
    scale 1).
    """
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    test_size = check_int("test_size", test_size, 1, len(y) - 1)
    perm = rng(seed).permutation(len(y))
    te, tr = perm[:test_size], perm[test_size:]
    Xtr, Xte = X[tr].astype(np.float64), X[te].astype(np.float64)
    if standardize:
        mu, sd = Xtr.mean(0), Xtr.std(0)
        sd[sd == 0] = 1.0
        Xtr, Xte = (Xtr - mu) / sd, (Xte - mu) / sd
    return Split(Xtr.astype(np.float32), y[tr].astype(np.int64), Xte.astype(np.float32),
                 y[te].astype(np.int64))


def binary_digits(a: int = 0, b: int = 1, *, scale: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Digits ``a`` (label +1) versus ``b`` (label -1) from scikit-learn's bundled 8x8 digits.

    With ``scale`` the pixel values (0..16) are divided by 16.
    """
    from sklearn.datasets import load_digits

    a = check_int("a", a, 0, 9)
    b = check_int("b", b, 0, 9)
    if a == b:
        raise ValueError(f"a and b must be different digits, got a=b={a}")
    X, y = load_digits(return_X_y=True)
    keep = (y == a) | (y == b)
    A = X[keep].astype(np.float64) / (16.0 if scale else 1.0)
    return A, np.where(y[keep] == a, 1.0, -1.0)


class GaussianMixture:
    """A mixture of Gaussians with exact density, score and samples.

    ``p(x) = sum_k w_k N(x; m_k, S_k)``. Its *diffused* version under the variance-preserving
    forward process ``z = alpha x + sigma e`` (``alpha^2 + sigma^2 = 1``) is again a mixture,
    with means ``alpha m_k`` and covariances ``alpha^2 S_k + sigma^2 I``: so diffusion chapters
    get the exact noise predictor ``eps(z) = -sigma * grad log p_t(z)`` without training.
    """

    def __init__(self, weights, means, covs) -> None:
        w = check_array("weights", weights, ndim=1)
        m = check_array("means", means, ndim=2)
        S = check_array("covs", covs, ndim=3)
        k, d = m.shape
        if w.shape[0] != k or S.shape != (k, d, d):
            raise ValueError(f"weights must have {k} entries and covs shape ({k}, {d}, {d}); "
                             f"got {w.shape[0]} and {S.shape}")
        if np.any(w <= 0):
            raise ValueError("weights must be positive")
        if np.any(np.linalg.eigvalsh(S) <= 0):
            raise ValueError("every covariance in covs must be symmetric positive definite")
        self.weights, self.means, self.covs = w / w.sum(), m, S
        self._prec = np.linalg.inv(S)
        self._logdet = np.linalg.slogdet(S)[1]

    @property
    def dim(self) -> int:
        return int(self.means.shape[1])

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` exact samples, shape ``(n, dim)``."""
        n = check_int("n", n, 1)
        g = rng(seed)
        comp = g.choice(len(self.weights), size=n, p=self.weights)
        L = np.linalg.cholesky(self.covs)
        return self.means[comp] + np.einsum("nij,nj->ni", L[comp], g.standard_normal((n, self.dim)))

    def _terms(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Responsibilities ``r`` (k, n), ``log p(x)`` (n,) and ``S_k^{-1}(x - m_k)`` (k, n, d).

        One component at a time on contiguous (n, d) arrays: several times faster than a
        broadcast (n, k, d) einsum when d and k are small, as in the book's 2-D mixtures.
        """
        k = len(self.weights)
        pd = np.empty((k,) + x.shape)
        maha = np.empty((k, x.shape[0]))
        for j in range(k):
            diff = x - self.means[j]
            pd[j] = diff @ self._prec[j]                              # precisions are symmetric
            maha[j] = np.einsum("ni,ni->n", diff, pd[j])
        const = np.log(self.weights) - 0.5 * (self._logdet + self.dim * np.log(2 * np.pi))
        logc = const[:, None] - 0.5 * maha
        top = logc.max(axis=0)
        e = np.exp(logc - top)
        tot = e.sum(axis=0)
        return e / tot, top + np.log(tot), pd

    def _responsibilities(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r, lse, _ = self._terms(x)
        return r.T, lse

    def log_prob(self, x) -> np.ndarray:
        """``log p(x)`` for each row of ``x``."""
        x = check_array("x", x, ndim=2, shape=(None, self.dim))
        return self._responsibilities(x)[1]

    def score(self, x) -> np.ndarray:
        """``grad_x log p(x)`` for each row of ``x``, shape ``(n, dim)``."""
        x = check_array("x", x, ndim=2, shape=(None, self.dim))
        r, _, pd = self._terms(x)
        return -np.einsum("kn,kni->ni", r, pd)

    def diffuse(self, alpha: float, sigma: float) -> "GaussianMixture":
        """The law of ``alpha x + sigma e`` with ``x ~ p``, ``e ~ N(0, I)``."""
        alpha = check_real("alpha", alpha, 0.0)
        sigma = check_real("sigma", sigma, 0.0)
        if alpha == 0 and sigma == 0:
            raise ValueError("alpha and sigma cannot both be 0")
        covs = alpha**2 * self.covs + sigma**2 * np.eye(self.dim)[None]
        return GaussianMixture(self.weights, alpha * self.means, covs)


def gmm2d() -> GaussianMixture:
    """The book's standard 2-D test density: three well-separated, anisotropic components."""
    means = np.array([[-2.0, -1.0], [2.0, -1.0], [0.0, 2.0]])
    covs = np.array([[[0.30, 0.10], [0.10, 0.15]],
                     [[0.15, -0.08], [-0.08, 0.30]],
                     [[0.25, 0.0], [0.0, 0.10]]])
    return GaussianMixture([0.3, 0.3, 0.4], means, covs)
