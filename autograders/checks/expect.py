"""Comparisons that raise `CheckFailed` with a message a student can act on.

Values may be tensors, NumPy arrays, numbers, or (nested) lists and tuples of them.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from .spec import CheckFailed


def summarize(value: Any, limit: int = 120) -> str:
    "A short description of a value for feedback: shape and a few numbers of a tensor."
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(value)
    if isinstance(value, torch.Tensor):
        if value.numel() <= 6:
            body = str([round(v, 4) if isinstance(v, float) else v for v in value.flatten().tolist()])
        else:
            flat = value.flatten()[:4].tolist()
            body = "[" + ", ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in flat) + ", ...]"
        return f"tensor of shape {tuple(value.shape)}, dtype {str(value.dtype).replace('torch.', '')}: {body}"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def kind_of(value: Any) -> str:
    """What a value is, without its content: checks given reference pieces echo nothing the student's code made
    (it could carry what it dug out of `ref`)."""
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}, dtype {str(value.dtype).replace('torch.', '')}"
    if value is None or isinstance(value, (bool, int, float)):
        return {type(None): "None", bool: "a bool", int: "an int", float: "a float"}[type(value)]
    return "a value that is not a tensor"


def pack_images(u8: torch.Tensor) -> dict:
    "Images as compressed bytes for the trip into the kernel (`kernel_common.unpack` there; about 5 times smaller)."
    import base64
    import zlib
    return {"shape": list(u8.shape),
            "data": base64.b64encode(zlib.compress(u8.contiguous().numpy().tobytes(), 6)).decode("ascii")}


def _as_tensor(value: Any, what: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value)
    if isinstance(value, bool) or value is None or isinstance(value, str):
        raise CheckFailed(f"{what}: expected numbers, got {summarize(value)}", got=summarize(value))
    try:
        return torch.as_tensor(value)
    except (TypeError, ValueError, RuntimeError):
        raise CheckFailed(f"{what}: expected numbers, got {summarize(value)}", got=summarize(value)) from None


def expect_close(got: Any, want: Any, what: str, atol: float = 1e-4, rtol: float = 1e-4,
                 check_shape: bool = True) -> None:
    "`got` equals `want` within tolerance, with the same shape (unless `check_shape=False`)."
    g, w = _as_tensor(got, what), _as_tensor(want, what)
    if check_shape and tuple(g.shape) != tuple(w.shape):
        raise CheckFailed(f"{what}: expected shape {tuple(w.shape)}, got shape {tuple(g.shape)}",
                          expected=f"shape {tuple(w.shape)}", got=f"shape {tuple(g.shape)}")
    if g.numel() != w.numel():   # without the shape check, still as many numbers (an empty tensor never passes)
        raise CheckFailed(f"{what}: expected {w.numel()} number(s), got {g.numel()}",
                          expected=f"{w.numel()} number(s)", got=f"{g.numel()} number(s)")
    g, w = g.double(), w.double()
    try:
        ok = torch.allclose(g, w, atol=atol, rtol=rtol, equal_nan=False)
    except RuntimeError as e:  # shapes that do not broadcast
        raise CheckFailed(f"{what}: cannot compare {summarize(got)} with the expected {summarize(want)} ({e})",
                          expected=summarize(want), got=summarize(got)) from None
    if not ok:
        diff = (g - w).abs()
        worst = diff.max().item() if diff.numel() else math.nan
        raise CheckFailed(f"{what}: values differ from the expected ones (largest difference {worst:.4g})",
                          expected=summarize(want), got=summarize(got))


def expect_equal(got: Any, want: Any, what: str) -> None:
    "`got == want` exactly (tensors: same shape and values)."
    if isinstance(want, (torch.Tensor, np.ndarray)) or isinstance(got, (torch.Tensor, np.ndarray)):
        g, w = _as_tensor(got, what), _as_tensor(want, what)
        if tuple(g.shape) != tuple(w.shape) or not torch.equal(g.to(w.dtype), w):
            raise CheckFailed(f"{what}: not the expected values", expected=summarize(want), got=summarize(got))
        return
    if type(got) in (tuple, list) and type(want) in (tuple, list):
        same = len(got) == len(want) and all(_equal(a, b) for a, b in zip(got, want))
    else:
        same = _equal(got, want)
    if not same:
        raise CheckFailed(f"{what}: expected {summarize(want)}, got {summarize(got)}",
                          expected=summarize(want), got=summarize(got))


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, (torch.Tensor, np.ndarray)) or isinstance(b, (torch.Tensor, np.ndarray)):
        try:
            return bool(torch.equal(_as_tensor(a, ""), _as_tensor(b, "").to(_as_tensor(a, "").dtype)))
        except CheckFailed:
            return False
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return bool(a == b)


def expect_true(condition: Any, message: str, expected: Any = None, got: Any = None) -> None:
    "Fail with `message` unless `condition` holds."
    if not condition:
        raise CheckFailed(message, expected=expected, got=got)


def expect_shape(got: Any, shape: tuple, what: str) -> None:
    "`got` is a tensor/array of exactly `shape`."
    g = _as_tensor(got, what)
    if tuple(g.shape) != tuple(shape):
        raise CheckFailed(f"{what}: expected shape {tuple(shape)}, got {tuple(g.shape)}",
                          expected=f"shape {tuple(shape)}", got=f"shape {tuple(g.shape)}")
