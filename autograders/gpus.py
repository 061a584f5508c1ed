"""Which GPUs this process sees: CUDA_VISIBLE_DEVICES (ids or UUIDs, in CUDA's order), and whether CUDA is
there at all without importing torch where no NVIDIA device exists."""
from __future__ import annotations

import os


def visible_devices(value: str | None = None) -> list[str]:
    "The entries of CUDA_VISIBLE_DEVICES (`value`, else this process's), in order; [] when it is unset or empty."
    value = os.environ.get("CUDA_VISIBLE_DEVICES") if value is None else value
    return [v.strip() for v in (value or "").split(",") if v.strip()]


GPU_NODES = ("/dev/nvidiactl", "/dev/dxg", "/dev/kfd", "/dev/nvhost-ctrl-gpu")   # NVIDIA, WSL2, ROCm, Tegra


def cuda_available() -> bool:
    """torch.cuda.is_available(), without importing torch (a second, in a cold worker, before the kernel can
    start) on a machine with none of the GPU device nodes torch's CUDA (or ROCm) needs: no CUDA there."""
    if not any(os.path.exists(d) for d in GPU_NODES):
        return False
    import torch
    return torch.cuda.is_available()
