"""Where tensors live and how runs are made repeatable.

`default_device()` picks CUDA when it is there and CPU otherwise; the environment variable
`CH4GRADE_DEVICE` (e.g. `cpu`, `cuda`, `cuda:1`) overrides it. `set_seed(n)` seeds Python's
`random`, NumPy and torch (all devices), so that on CPU one seed gives identical numbers run to run.
"""
from __future__ import annotations

import os
import random

import numpy as np
import torch

DEVICE_ENV = "CH4GRADE_DEVICE"


def default_device(device: str | torch.device | None = None) -> torch.device:
    "The device to use: `device` if given, else `$CH4GRADE_DEVICE`, else CUDA when available, else CPU."
    if device is None:
        device = os.environ.get(DEVICE_ENV) or ("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {device} was asked for, but torch sees no CUDA device")
    return device


def set_seed(seed: int = 42, deterministic: bool = True) -> None:
    "Seed `random`, NumPy and torch; with `deterministic`, ask cuDNN for repeatable kernels too."
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    if deterministic:
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False


def describe_device(device: torch.device | None = None) -> str:
    "A short human name for a device, e.g. `cpu (2 threads)` or `cuda:0 (NVIDIA H100)`."
    device = default_device(device)
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return f"cpu ({torch.get_num_threads()} threads)"
