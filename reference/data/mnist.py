"""MNIST as tensors, and MNIST_SAMPLE (the 3s and 7s) in the order the book loads it.

`load_mnist("train")` gives uint8 images [60000, 28, 28] and int64 labels. The book builds
`stacked_threes` from `(path/'train'/'3').ls().sorted()`, i.e. PNG files named `<mnist index>.png`
sorted as strings, so `stacked_threes[1]` is `10000.png`; `sample_indices` reproduces that order.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from .idx import MnistDataError, read_idx
from .locate import mnist_dir

SPLIT_FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
               "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}
# fastai's MNIST_SAMPLE calls MNIST's test set `valid`.
SAMPLE_SPLITS = {"train": "train", "valid": "test"}


@lru_cache(maxsize=None)
def _load_arrays(split: str) -> tuple[np.ndarray, np.ndarray]:
    if split not in SPLIT_FILES:
        raise ValueError(f"split must be one of {list(SPLIT_FILES)}, not {split!r}")
    folder = mnist_dir()
    images, labels = (read_idx(folder / f) for f in SPLIT_FILES[split])
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise MnistDataError(f"{folder}: {split} images {images.shape} and labels {labels.shape} do not match")
    return images, labels


def load_mnist(split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    "MNIST images (uint8, [N, 28, 28]) and labels (int64, [N]) for `split` in {'train', 'test'}."
    images, labels = _load_arrays(split)
    return torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64))


def sample_indices(split: str, digit: int) -> list[int]:
    "MNIST indices of `digit` in MNIST_SAMPLE's `split` ('train' or 'valid'), in the book's sorted-file order."
    _, labels = _load_arrays(SAMPLE_SPLITS[split])
    idxs = np.nonzero(labels == digit)[0].tolist()
    return sorted(idxs, key=lambda i: f"{i}.png")


def sample_stack(split: str, digit: int) -> torch.Tensor:
    "The book's stacked tensor, e.g. `stacked_threes` = sample_stack('train', 3): float in [0, 1], [N, 28, 28]."
    images, _ = _load_arrays(SAMPLE_SPLITS[split])
    return torch.from_numpy(images[sample_indices(split, digit)]).float() / 255
