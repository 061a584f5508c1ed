"""A tensor cache: each split's parsed arrays as `.npy` files, loaded memory-mapped in milliseconds.

The files live in `<cache>/tensors/` (`$CH4GRADE_CACHE`, default `~/.cache/ch4grade`), named after the MD5
of the two IDX files they come from, so a different source can never be served a stale cache. They are
written atomically (temporary file, then rename); a cache that cannot be written or read is rebuilt or
skipped, never trusted.
"""
from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np

from ..files import write_atomic
from .idx import MnistDataError, read_idx
from .locate import SPLIT_FILES, cache_dir, file_md5


def read_split(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    "Parse a split's two IDX files (the slow way: gunzip and parse), checking that they fit together."
    if split not in SPLIT_FILES:
        raise ValueError(f"split must be one of {list(SPLIT_FILES)}, not {split!r}")
    images, labels = (read_idx(folder / f) for f in SPLIT_FILES[split])
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise MnistDataError(f"{folder}: {split} images {images.shape} and labels {labels.shape} do not match")
    return images, labels


def cache_paths(folder: Path, split: str) -> tuple[Path, Path]:
    "Where a split's images and labels are cached, keyed by the MD5 of its source files."
    if split not in SPLIT_FILES:
        raise ValueError(f"split must be one of {list(SPLIT_FILES)}, not {split!r}")
    key = hashlib.md5("".join(file_md5(folder / f) for f in SPLIT_FILES[split]).encode()).hexdigest()[:16]
    base = cache_dir() / "tensors"
    return base / f"{split}-{key}-images.npy", base / f"{split}-{key}-labels.npy"


def _save(path: Path, array: np.ndarray) -> None:
    buf = io.BytesIO()
    np.save(buf, array)
    write_atomic(path, buf.getvalue())


def _load(path: Path, mmap_mode: str, ndim: int) -> np.ndarray | None:
    try:
        a = np.load(path, mmap_mode=mmap_mode, allow_pickle=False)
    except (OSError, ValueError):
        return None
    return a if a.dtype == np.uint8 and a.ndim == ndim else None


def load_split(folder: Path, split: str, mmap_mode: str = "r") -> tuple[np.ndarray, np.ndarray]:
    """A split's uint8 images [N, 28, 28] and labels [N], memory-mapped from the cache (built on first use).

    `mmap_mode="c"` gives private copy-on-write arrays (writable, the cache file is never changed)."""
    img_path, lab_path = cache_paths(folder, split)
    images, labels = _load(img_path, mmap_mode, 3), _load(lab_path, mmap_mode, 1)
    if images is not None and labels is not None and len(images) == len(labels):
        return images, labels
    images, labels = read_split(folder, split)
    try:
        _save(img_path, images)
        _save(lab_path, labels)
    except OSError:
        return images, labels  # an unwritable cache: serve the parsed arrays
    cached = _load(img_path, mmap_mode, 3), _load(lab_path, mmap_mode, 1)
    return cached if cached[0] is not None and cached[1] is not None else (images, labels)
