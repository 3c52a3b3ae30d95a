import numpy as np
import pytest
import torch

from paperlab import data, nets


def test_blobs_seeded_and_labelled():
    X, y = data.blobs(50, seed=3)
    X2, y2 = data.blobs(50, seed=3)
    assert np.array_equal(X, X2) and set(np.unique(y)) == {-1.0, 1.0}
    with pytest.raises(ValueError, match="n must be an integer"):
        data.blobs(1)


def test_digits_split():
    s = data.digits()
    assert s.X_train.shape == (1437, 64) and s.X_test.shape == (360, 64)
    assert s.n_classes == 10
    assert abs(float(s.X_train.mean())) < 1e-5
    with pytest.raises(ValueError, match="test_size"):
        data.digits(test_size=0)


def test_binary_digits():
    A, y = data.binary_digits(0, 1)
    assert A.shape[1] == 64 and A.max() <= 1.0 and set(np.unique(y)) == {-1.0, 1.0}
    with pytest.raises(ValueError, match="different digits"):
        data.binary_digits(3, 3)


def test_gmm_score_matches_finite_differences():
    g = data.gmm2d()
    x = g.sample(5, seed=1)
    h = 1e-5
    fd = np.stack([(g.log_prob(x + h * e) - g.log_prob(x - h * e)) / (2 * h) for e in np.eye(2)], 1)
    assert np.allclose(g.score(x), fd, atol=1e-6)


def test_gmm_diffuse_is_the_law_of_the_noised_variable():
    g = data.gmm2d()
    a, s = 0.6, 0.8
    z = a * g.sample(200_000, seed=0) + s * np.random.default_rng(1).standard_normal((200_000, 2))
    gt = g.diffuse(a, s)
    mean = (gt.weights[:, None] * gt.means).sum(0)
    assert np.allclose(z.mean(0), mean, atol=0.01)


def test_gmm_bad_inputs():
    with pytest.raises(ValueError, match="positive definite"):
        data.GaussianMixture([1.0], [[0.0, 0.0]], [[[1.0, 0.0], [0.0, -1.0]]])
    with pytest.raises(ValueError, match=r"x must have shape \(any, 2\)"):
        data.gmm2d().score(np.zeros((3, 3)))


def test_mlp_and_training_are_deterministic():
    s = data.digits()
    accs = []
    for _ in range(2):
        m = nets.mlp([64, 16, 10], seed=0)
        h = nets.train(m, s.X_train, s.y_train, steps=30, lr=1e-2, seed=0)
        accs.append((nets.accuracy(m, s.X_test, s.y_test), h.final_loss))
    assert accs[0] == accs[1]
    assert accs[0][0] > 0.8
    assert nets.n_params(nets.mlp([64, 16, 10])) == 64 * 16 + 16 + 16 * 10 + 10


def test_minibatch_and_cnn():
    s = data.digits()
    m = nets.cnn(width=4)
    X = torch.as_tensor(s.X_train[:200]).reshape(-1, 1, 8, 8)
    h = nets.train(m, X, s.y_train[:200], steps=5, lr=1e-2, batch_size=32)
    assert len(h.loss) == 5


def test_train_bad_inputs():
    m = nets.mlp([2, 2])
    with pytest.raises(ValueError, match="lr must be in"):
        nets.train(m, np.zeros((4, 2)), np.zeros(4), lr=0)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        nets.train(m, np.zeros((4, 2)), np.zeros(4), optimizer="lbfgs")
    with pytest.raises(ValueError, match="same number of rows"):
        nets.train(m, np.zeros((4, 2)), np.zeros(3))
    for p in m.parameters():
        p.requires_grad_(False)
    with pytest.raises(ValueError, match="no trainable parameters"):
        nets.train(m, np.zeros((4, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="activation must be one of"):
        nets.mlp([2, 2], activation="swish")


def test_one_thread_restores_the_setting():
    before = torch.get_num_threads()
    with nets.one_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
