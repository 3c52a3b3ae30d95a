"""Tiny networks and the one training loop of the book (torch, CPU, deterministic).

Every chapter that trains a network builds it with :func:`mlp` or :func:`cnn` and trains it
with :func:`train` (or, for a custom loss, :func:`fit`), so seeds, devices and determinism are handled in one place.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ._validate import check_choice, check_int, check_real
from .threads import one_thread

__all__ = ["seed_everything", "one_thread", "mlp", "cnn", "n_params", "as_tensor", "fit", "train", "accuracy",
           "History"]

_ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU,
                                                     "sigmoid": nn.Sigmoid}


def seed_everything(seed: int) -> torch.Generator:
    """Seed numpy's and torch's global generators; return a torch generator with that seed."""
    seed = check_int("seed", seed, 0)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def mlp(sizes: Sequence[int], activation: str = "relu", *, seed: int = 0) -> nn.Sequential:
    """A fully connected network ``sizes[0] -> ... -> sizes[-1]`` with ``activation`` between
    layers and a linear output, initialized by torch's default (Kaiming-uniform) rule at ``seed``."""
    sizes = [check_int(f"sizes[{i}]", s, 1) for i, s in enumerate(sizes)]
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output size, got {sizes}")
    check_choice("activation", activation, _ACTIVATIONS)
    seed_everything(seed)
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(_ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


def cnn(in_channels: int = 1, n_classes: int = 10, width: int = 16, image_size: int = 8, *,
        seed: int = 0) -> nn.Sequential:
    """A two-convolution network (3x3 convs, ReLU, one 2x2 max-pool) with a linear head."""
    in_channels = check_int("in_channels", in_channels, 1)
    n_classes = check_int("n_classes", n_classes, 2)
    width = check_int("width", width, 1)
    image_size = check_int("image_size", image_size, 4)
    seed_everything(seed)
    half = image_size // 2
    return nn.Sequential(
        nn.Conv2d(in_channels, width, 3, padding=1), nn.ReLU(),
        nn.Conv2d(width, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(width * half * half, n_classes))


def n_params(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def as_tensor(x, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``x`` as a CPU tensor of ``dtype`` (labels: pass ``torch.long``)."""
    if isinstance(x, torch.Tensor):
        return x.to(dtype=dtype)
    return torch.as_tensor(np.asarray(x), dtype=dtype)


@dataclass
class History:
    """What :func:`train` records: the training loss after every step."""

    loss: list[float] = field(default_factory=list)

    @property
    def final_loss(self) -> float:
        return self.loss[-1] if self.loss else float("nan")


_LOSSES: dict[str, Callable[..., torch.Tensor]] = {
    "cross_entropy": nn.functional.cross_entropy,
    "mse": nn.functional.mse_loss,
}


def fit(model: nn.Module, loss_fn: Callable[[torch.Generator], torch.Tensor], *, steps: int = 300,
        lr: float = 1e-3, optimizer: str = "adam", weight_decay: float = 0.0, seed: int = 0,
        params: Sequence[torch.nn.Parameter] | None = None, betas: tuple[float, float] = (0.9, 0.999),
        ) -> History:
    """The one training loop of the book: ``steps`` optimizer steps on ``loss_fn(generator)``.

    ``loss_fn`` receives a ``torch.Generator`` seeded with ``seed`` and returns a scalar loss
    tensor; it draws its own minibatch, noise levels or samples from that generator, so every run
    is reproducible. :func:`train` (supervised learning on fixed ``(X, y)``) and the diffusion
    toolkit's denoising score matching (:func:`paperlab.generative.diffusion.train_dsm`) are
    both this loop. ``params`` defaults to the model's trainable parameters. A non-finite loss
    raises ``RuntimeError("loss diverged; lower lr")``.
    """
    steps = check_int("steps", steps, 1)
    lr = check_real("lr", lr, 0.0, lo_open=True)
    weight_decay = check_real("weight_decay", weight_decay, 0.0)
    check_choice("optimizer", optimizer, ("adam", "sgd"))
    params = [p for p in (model.parameters() if params is None else params) if p.requires_grad]
    if not params:
        raise ValueError("model has no trainable parameters")
    gen = seed_everything(seed)
    if optimizer == "adam":
        opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, betas=betas)
    else:
        opt = torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    hist = History()
    model.train()
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        value = loss_fn(gen)
        v = float(value.detach())
        if not math.isfinite(v):
            model.eval()
            raise RuntimeError(f"loss diverged (got {v}); lower lr (was {lr:g})")
        value.backward()
        opt.step()
        hist.loss.append(v)
    model.eval()
    return hist


def train(model: nn.Module, X, y, *, steps: int = 300, lr: float = 1e-3, optimizer: str = "adam",
          batch_size: int | None = None, loss: str = "cross_entropy", weight_decay: float = 0.0,
          seed: int = 0) -> History:
    """Train ``model`` on ``(X, y)`` in place: supervised learning through :func:`fit`.

    Full-batch when ``batch_size`` is ``None``, otherwise minibatches drawn by a generator seeded
    with ``seed``. ``optimizer`` is ``"adam"`` or ``"sgd"``; ``loss`` is ``"cross_entropy"``
    (integer labels) or ``"mse"``. Runs on the CPU with deterministic algorithms.
    """
    check_choice("loss", loss, _LOSSES)
    X = as_tensor(X)
    y = as_tensor(y, torch.long if loss == "cross_entropy" else torch.float32)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X and y must have the same number of rows, got {X.shape[0]} and {y.shape[0]}")
    n = X.shape[0]
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, 1, n)
    fn = _LOSSES[loss]

    def loss_fn(gen: torch.Generator) -> torch.Tensor:
        if batch_size is None:
            return fn(model(X), y)
        idx = torch.randint(0, n, (batch_size,), generator=gen)
        return fn(model(X[idx]), y[idx])

    return fit(model, loss_fn, steps=steps, lr=lr, optimizer=optimizer,
               weight_decay=weight_decay, seed=seed)


@torch.no_grad()
def accuracy(model: nn.Module, X, y) -> float:
    """Fraction of rows of ``X`` whose arg-max output equals the integer label in ``y``."""
    X = as_tensor(X)
    y = as_tensor(y, torch.long)
    model.eval()
    return float((model(X).argmax(dim=1) == y).float().mean())
