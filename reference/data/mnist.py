"""MNIST as tensors, and MNIST_SAMPLE (the 3s and 7s) in the order the book loads it.

`load_mnist("train")` gives uint8 images [60000, 28, 28] and int64 labels. The book builds
`stacked_threes` from `(path/'train'/'3').ls().sorted()`, i.e. PNG files named `<mnist index>.png`
sorted as strings, so `stacked_threes[1]` is `10000.png`; `sample_indices` reproduces that order.
Arrays come memory-mapped from the tensor cache (cache.py), so after the first run loading takes milliseconds.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from .cache import load_split
from .locate import SPLIT_FILES, mnist_dir  # noqa: F401  (SPLIT_FILES re-exported)

# fastai's MNIST_SAMPLE calls MNIST's test set `valid`.
SAMPLE_SPLITS = {"train": "train", "valid": "test"}


def _load_arrays(split: str) -> tuple[np.ndarray, np.ndarray]:
    "Read-only (memory-mapped) uint8 images and labels of `split`, from the MD5-checked files."
    if split not in SPLIT_FILES:
        raise ValueError(f"split must be one of {list(SPLIT_FILES)}, not {split!r}")
    return load_split(mnist_dir(), split)


def load_mnist(split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    "MNIST images (uint8, [N, 28, 28]) and labels (int64, [N]) for `split` in {'train', 'test'}."
    if split not in SPLIT_FILES:
        raise ValueError(f"split must be one of {list(SPLIT_FILES)}, not {split!r}")
    images, labels = load_split(mnist_dir(), split, mmap_mode="c")  # private copy-on-write: callers may write
    return torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64))


@lru_cache(maxsize=None)
def _sample_indices(split: str, digit: int) -> tuple[int, ...]:
    # The files are MD5-checked originals, so the answer never depends on which folder they came from.
    if split not in SAMPLE_SPLITS:
        raise ValueError(f"split must be one of {list(SAMPLE_SPLITS)}, not {split!r}")
    _, labels = _load_arrays(SAMPLE_SPLITS[split])
    idxs = np.nonzero(labels == digit)[0].tolist()
    return tuple(sorted(idxs, key=lambda i: f"{i}.png"))


def sample_indices(split: str, digit: int) -> list[int]:
    "MNIST indices of `digit` in MNIST_SAMPLE's `split` ('train' or 'valid'), in the book's sorted-file order."
    mnist_dir()  # validate the data on every call, even when the answer is remembered
    return list(_sample_indices(split, digit))


def sample_stack(split: str, digit: int) -> torch.Tensor:
    "The book's stacked tensor, e.g. `stacked_threes` = sample_stack('train', 3): float in [0, 1], [N, 28, 28]."
    images, _ = _load_arrays(SAMPLE_SPLITS[split])
    stack = images[sample_indices(split, digit)].astype(np.float32)
    stack /= np.float32(255)  # in NumPy: bit-identical to the book's `.float()/255`, several times faster here
    return torch.from_numpy(stack)
