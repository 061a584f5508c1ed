"""Read MNIST's IDX files (gzipped or raw) into NumPy arrays, rejecting truncated or corrupt files.

The format: two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions, then one
big-endian uint32 per dimension, then the data. See http://yann.lecun.com/exdb/mnist/.
"""
from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np


class MnistDataError(Exception):
    "A missing, truncated or corrupt MNIST file, with a message that says which and what to do."


_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
           0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx_bytes(raw: bytes, name: str = "<bytes>") -> np.ndarray:
    "Parse the bytes of one (decompressed) IDX file."
    if len(raw) < 4:
        raise MnistDataError(f"{name}: only {len(raw)} bytes, too short for an IDX header")
    zero, code, ndim = raw[:2], raw[2], raw[3]
    if zero != b"\x00\x00" or code not in _DTYPES or not 1 <= ndim <= 4:
        raise MnistDataError(f"{name}: not an IDX file (bad magic number {raw[:4].hex()})")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise MnistDataError(f"{name}: truncated header")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_DTYPES[code])
    expected = int(np.prod(shape)) * dtype.itemsize
    got = len(raw) - header
    if got != expected:
        raise MnistDataError(f"{name}: truncated or corrupt: header says {shape} ({expected} data bytes), "
                             f"file has {got}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx(path: str | Path) -> np.ndarray:
    "Read an IDX file, gzipped (`.gz`) or not."
    path = Path(path)
    if not path.exists():
        raise MnistDataError(f"{path}: no such file")
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, zlib.error) as e:
        raise MnistDataError(f"{path}: corrupt or truncated gzip data ({e})") from e
    return read_idx_bytes(raw, str(path))
