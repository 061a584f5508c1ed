"""The safe format values cross the kernel boundary in: JSON plus raw tensor bytes, never pickle.

This module is self-contained (standard library, plus NumPy and torch when present) because its source
is also sent into the student's kernel, so one implementation encodes on both sides:
  - None, bool, int, str and finite floats are themselves; non-finite floats are tagged;
  - tensors and NumPy arrays carry dtype, shape and base64 bytes (allow-listed dtypes only);
  - lists, tuples and dicts are tagged and nested at most MAX_DEPTH deep;
  - anything else becomes `Opaque(type, repr)` (its repr cut short).
`decode` builds only these types and checks every size, so a hostile payload cannot run code.
"""
import base64
import json
import math

MAX_DEPTH = 12
MAX_BYTES = 256 * 2**20
MAX_ITEMS = 100_000
DTYPES = ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool")


class Opaque:
    "A value of a type that cannot cross the boundary: its type name and a short repr."

    def __init__(self, type_name, text):
        self.type_name, self.text = str(type_name), str(text)

    def __repr__(self):
        return f"<{self.type_name}: {self.text}>"

    def __eq__(self, other):
        return isinstance(other, Opaque) and (self.type_name, self.text) == (other.type_name, other.text)


class CodecError(ValueError):
    pass


def _array_payload(arr, kind, requires_grad=False):
    if not arr.flags.c_contiguous:  # (np.ascontiguousarray would turn a 0-d array into 1-d)
        arr = arr.copy(order="C")
    dtype = str(arr.dtype)
    if dtype not in DTYPES:
        arr, dtype = arr.astype("float64"), "float64"
    if arr.nbytes > MAX_BYTES:
        raise CodecError(f"array of {arr.nbytes} bytes is too large to send")
    return {kind: {"dtype": dtype, "shape": list(arr.shape), "grad": bool(requires_grad),
                   "data": base64.b64encode(arr.tobytes()).decode("ascii")}}


def _encode(obj, depth):
    if depth > MAX_DEPTH:
        return {"__opaque__": ["nested too deep", ""]}
    if obj is None or isinstance(obj, (bool, int, str)) and not (isinstance(obj, int) and abs(obj) > 2**62):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else {"__float__": repr(obj)}
    if isinstance(obj, int):  # a huge int
        return {"__bigint__": str(obj)}
    mod = type(obj).__module__ or ""
    if mod.startswith("torch") and type(obj).__name__ in ("Tensor", "Parameter") or (
            mod.startswith("fastai") and hasattr(obj, "detach") and hasattr(obj, "numpy")):
        t = obj.detach().cpu()
        if str(t.dtype) == "torch.bfloat16":
            t = t.float()
        if t.is_complex():
            return {"__opaque__": ["complex tensor", repr(t)[:300]]}
        return _array_payload(t.numpy(), "__tensor__", getattr(obj, "requires_grad", False))
    if mod == "numpy" and type(obj).__name__ == "ndarray":
        return _array_payload(obj, "__ndarray__")
    if mod == "numpy" and hasattr(obj, "item") and hasattr(obj, "dtype"):  # a NumPy scalar
        return _encode(obj.item(), depth + 1)
    if isinstance(obj, (list, tuple)):
        if len(obj) > MAX_ITEMS:
            raise CodecError(f"a list of {len(obj)} items is too long to send")
        tag = "__list__" if isinstance(obj, list) else "__tuple__"
        return {tag: [_encode(x, depth + 1) for x in obj]}
    if isinstance(obj, dict):
        if len(obj) > MAX_ITEMS:
            raise CodecError(f"a dict of {len(obj)} items is too long to send")
        return {"__dict__": [[_encode(k, depth + 1), _encode(v, depth + 1)] for k, v in obj.items()]}
    try:
        text = repr(obj)
    except Exception as e:  # a hostile __repr__
        text = f"(repr failed: {type(e).__name__})"
    return {"__opaque__": [f"{mod}.{type(obj).__qualname__}", text[:300]]}


def encode(obj):
    "A value as a JSON string in the safe format."
    return json.dumps(_encode(obj, 0))


def _decode_array(spec, as_tensor):
    import numpy as np
    if not isinstance(spec, dict) or spec.get("dtype") not in DTYPES:
        raise CodecError("bad array payload")
    shape = spec.get("shape")
    if not isinstance(shape, list) or len(shape) > 16 or not all(isinstance(n, int) and 0 <= n for n in shape):
        raise CodecError("bad array shape")
    data = base64.b64decode(spec.get("data", ""), validate=True)
    dtype = np.dtype(spec["dtype"])
    count = 1
    for n in shape:
        count *= n
    if count * dtype.itemsize != len(data) or len(data) > MAX_BYTES:
        raise CodecError("array data does not match its shape")
    arr = np.frombuffer(data, dtype=dtype).reshape(shape).copy()
    if not as_tensor:
        return arr
    import torch
    return torch.from_numpy(arr)


def _decode(obj, depth):
    if depth > MAX_DEPTH + 2:
        raise CodecError("payload nested too deep")
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, list):  # plain JSON lists are not produced by encode
        raise CodecError("untagged list in payload")
    if not isinstance(obj, dict) or len(obj) != 1:
        raise CodecError("bad payload")
    (tag, body), = obj.items()
    if tag == "__float__":
        if body not in ("nan", "inf", "-inf"):
            raise CodecError("bad float")
        return float(body)
    if tag == "__bigint__":
        return int(str(body)[:4000])
    if tag in ("__tensor__", "__ndarray__"):
        return _decode_array(body, tag == "__tensor__")
    if tag in ("__list__", "__tuple__"):
        if not isinstance(body, list) or len(body) > MAX_ITEMS:
            raise CodecError("bad list")
        items = [_decode(x, depth + 1) for x in body]
        return items if tag == "__list__" else tuple(items)
    if tag == "__dict__":
        if not isinstance(body, list) or len(body) > MAX_ITEMS:
            raise CodecError("bad dict")
        out = {}
        for pair in body:
            if not isinstance(pair, list) or len(pair) != 2:
                raise CodecError("bad dict entry")
            key = _decode(pair[0], depth + 1)
            try:
                out[key] = _decode(pair[1], depth + 1)
            except TypeError:
                raise CodecError("unhashable dict key") from None
        return out
    if tag == "__opaque__":
        if not isinstance(body, list) or len(body) != 2:
            raise CodecError("bad opaque value")
        return Opaque(str(body[0])[:200], str(body[1])[:300])
    raise CodecError(f"unknown tag {tag[:40]!r}")


def decode(text):
    "The value a JSON string in the safe format stands for (tensors come back as torch tensors)."
    if isinstance(text, (bytes, bytearray)):
        text = text.decode("utf-8")
    if len(text) > 2 * MAX_BYTES:
        raise CodecError("payload too large")
    try:
        return _decode(json.loads(text), 0)
    except (json.JSONDecodeError, RecursionError, ValueError, TypeError) as e:
        if isinstance(e, CodecError):
            raise
        raise CodecError(f"malformed payload: {e}") from None
