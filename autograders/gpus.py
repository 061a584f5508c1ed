"""Which GPUs this process sees: CUDA_VISIBLE_DEVICES (ids or UUIDs, in CUDA's order), and whether CUDA is
there at all without importing torch where no NVIDIA device exists."""
from __future__ import annotations

import os


def visible_devices(value: str | None = None) -> list[str]:
    "The entries of CUDA_VISIBLE_DEVICES (`value`, else this process's), in order; [] when it is unset or empty."
    value = os.environ.get("CUDA_VISIBLE_DEVICES") if value is None else value
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def cuda_available() -> bool:
    """torch.cuda.is_available(), without importing torch (a second, in a cold worker, before the kernel can
    start) on a machine with no NVIDIA device node (/dev/nvidiactl; /dev/dxg under WSL2): no CUDA there."""
    if not any(os.path.exists(d) for d in ("/dev/nvidiactl", "/dev/dxg")):
        return False
    import torch
    return torch.cuda.is_available()
