"""Further Research 2: the chapter redone on all ten digits of MNIST (60,000 train, 10,000 test images).

- pixel similarity: the mean image of each digit, and each test image given the digit of its nearest mean,
  by the chapter's L1 distance (`mnist_distance`) and by L2 (RMSE, the book's `dist_3_sqr`);
- a linear model with softmax, trained with cross-entropy written by hand (`log_softmax` + `nll`), checked
  against `F.cross_entropy` (about 92% is the classic figure);
- an MLP and a small CNN trained with our from-scratch `Learner` (SGD with momentum and a one-cycle
  schedule, both written in `reference.learner`): >= 98% and >= 99% on the 10,000 test images.
"""
from __future__ import annotations

import torch
from torch import nn

from .data import load_mnist
from .device import default_device, set_seed
from .learner import DataLoaders, Learner, OneCycle, SGD, TensorLoader
from .pixel_similarity import mnist_distance, rmse_distance
from .rows import at_least, row, timer

SECTION = "full_mnist"
MEAN, STD = 0.1307, 0.3081   # the training images' pixel mean and standard deviation (checked in the tests)


# ----------------------------------------------------------------------------------------------------------
# Data

def load_full(split: str) -> tuple[torch.Tensor, torch.Tensor]:
    "All ten digits: float images in [0, 1], [N, 28, 28], and int64 labels."
    x, y = load_mnist(split)
    return x.float() / 255, y


def normalize(x: torch.Tensor) -> torch.Tensor: return (x - MEAN) / STD


def full_dls(bs: int = 128, flat: bool = True, seed: int = 42, device=None) -> DataLoaders:
    """Train (shuffled with `seed`) and test loaders of normalized images, flat [N, 784] or [N, 1, 28, 28].
    With `device`, the tensors are put there once (so a GPU does not copy every batch)."""
    (tx, ty), (vx, vy) = load_full("train"), load_full("test")
    shape = (-1, 28 * 28) if flat else (-1, 1, 28, 28)
    tx, vx = normalize(tx).view(shape), normalize(vx).view(shape)
    if device is not None: tx, ty, vx, vy = (t.to(device) for t in (tx, ty, vx, vy))
    g = torch.Generator().manual_seed(seed)  # on the CPU, so the order is the same on any device
    return DataLoaders(TensorLoader(tx, ty, bs, shuffle=True, generator=g), TensorLoader(vx, vy, 1000))


# ----------------------------------------------------------------------------------------------------------
# Pixel similarity, ten classes

def mean_digits(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    "The 'ideal' digits: the mean image of each class, [10, 28, 28]."
    return torch.stack([x[y == d].mean(0) for d in range(10)])


def nearest_mean(x: torch.Tensor, means: torch.Tensor, dist=mnist_distance, chunk: int = 1000) -> torch.Tensor:
    "The class of the nearest mean image for each image of `x` (by `dist`, broadcasting [n,1,28,28] against [10,28,28])."
    return torch.cat([dist(x[i:i + chunk, None], means).argmin(1) for i in range(0, len(x), chunk)])


def pixel_similarity_accuracy(device=None) -> dict[str, float]:
    "Test accuracy of nearest-mean classification by L1 and by L2 (RMSE), means from the 60,000 training images."
    device = default_device(device)
    (tx, ty), (vx, vy) = load_full("train"), load_full("test")
    means, vx, vy = mean_digits(tx.to(device), ty.to(device)), vx.to(device), vy.to(device)
    return {name: (nearest_mean(vx, means, dist) == vy).float().mean().item()
            for name, dist in (("l1", mnist_distance), ("l2", rmse_distance))}


# ----------------------------------------------------------------------------------------------------------
# Cross-entropy from scratch

def log_softmax(x: torch.Tensor) -> torch.Tensor:
    "log(softmax(x)) along the last axis, computed stably: x - logsumexp(x), with the max taken out first."
    m = x.max(-1, keepdim=True)[0]
    return x - m - (x - m).exp().sum(-1, keepdim=True).log()


def nll(log_probs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    "Negative log likelihood: minus the mean log probability of each row's target class."
    return -log_probs[torch.arange(len(targets), device=targets.device), targets].mean()


def cross_entropy(preds: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    "The loss for ten classes: `nll(log_softmax(preds), targets)` (equal to `F.cross_entropy`)."
    return nll(log_softmax(preds), targets)


def accuracy(preds: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    "Fraction of rows whose largest activation is the target class."
    return (preds.argmax(-1) == targets).float().mean()


# ----------------------------------------------------------------------------------------------------------
# Models

def linear_model() -> nn.Module: return nn.Linear(28 * 28, 10)


def mlp(n_hidden: int = 256) -> nn.Module:
    return nn.Sequential(nn.Linear(28 * 28, n_hidden), nn.ReLU(), nn.Linear(n_hidden, 10))


def conv(ni, nf, ks=3, stride=2):
    return nn.Sequential(nn.Conv2d(ni, nf, ks, stride=stride, padding=ks // 2, bias=False), nn.BatchNorm2d(nf), nn.ReLU())


def cnn() -> nn.Module:
    "A small all-convolutional net (course22p2 style): 28 -> 14 -> 7 -> 4 -> 2 -> 1."
    return nn.Sequential(conv(1, 16, ks=5), conv(16, 32), conv(32, 64), conv(64, 128),
                         nn.Conv2d(128, 10, 3, stride=2, padding=1), nn.Flatten())


# The settings that reach the bands, measured on a 2-core CPU (see benchmarks/time_to_98.py).
CONFIGS = {
    "linear": dict(model=linear_model, flat=True, bs=128, epochs=2, max_lr=0.1, mom=0.9),
    "mlp": dict(model=mlp, flat=True, bs=128, epochs=4, max_lr=0.1, mom=0.9),
    "cnn": dict(model=cnn, flat=False, bs=128, epochs=2, max_lr=0.2, mom=0.9),
}


def train(kind: str, epochs: int | None = None, seed: int = 42, device=None, progress: bool = False, **kw) -> Learner:
    """Train `kind` ('linear', 'mlp' or 'cnn') on the 60,000 training images with our Learner: SGD with momentum,
    one-cycle lr, cross-entropy from scratch; `learn.recorder.metrics['accuracy'][-1]` is the test accuracy."""
    cfg = {**CONFIGS[kind], **kw}
    device = default_device(device)
    set_seed(seed)
    dls = full_dls(cfg["bs"], flat=cfg["flat"], seed=seed, device=device)
    mom = cfg["mom"]
    learn = Learner(dls, cfg["model"](), cross_entropy, opt_func=lambda p, lr: SGD(p, lr, mom=mom), lr=cfg["max_lr"],
                    cbs=[OneCycle(cfg["max_lr"])], metrics=accuracy, device=device, progress=progress)
    return learn.fit(cfg["epochs"] if epochs is None else epochs)


# ----------------------------------------------------------------------------------------------------------
# `ch4grade reproduce` rows

def reproduce_rows(device=None, quick: bool = False, seed: int = 42) -> list[dict]:
    device = default_device(device)
    rows = []
    with timer() as t:
        accs = pixel_similarity_accuracy(device)
    rows.append(at_least(SECTION, "ten-digit pixel similarity, nearest mean by L1 (mnist_distance): test accuracy",
                         accs["l1"], 0.60, t.seconds, note=" (the 3-vs-7 baseline was 0.95)"))
    rows.append(at_least(SECTION, "ten-digit pixel similarity, nearest mean by L2 (RMSE): test accuracy",
                         accs["l2"], 0.78, t.seconds))
    with timer() as t:
        logits, targets = torch.randn(64, 10, generator=torch.Generator().manual_seed(0)) * 5, torch.arange(64) % 10
        diff = (cross_entropy(logits, targets) - nn.functional.cross_entropy(logits, targets)).abs().item()
    rows.append(row(SECTION, "from-scratch cross_entropy vs F.cross_entropy: |difference|", diff, "< 1e-5",
                    diff < 1e-5, t.seconds))
    bands = {"linear": (0.90, " (classic: about 0.92)"), "mlp": (0.98, ""), "cnn": (0.99, "")}
    for kind in ("linear", "mlp", "cnn"):
        if quick and kind == "cnn" and device.type == "cpu": continue  # the CNN takes minutes on a small CPU
        with timer() as t:
            learn = train(kind, seed=seed, device=device)
        band, note = bands[kind]
        epochs = len(learn.recorder.log)
        rows.append(at_least(SECTION, f"{kind} with our Learner, {epochs} epochs: test accuracy",
                             learn.recorder.metrics["accuracy"][-1], band, t.seconds, note=note))
    return rows
