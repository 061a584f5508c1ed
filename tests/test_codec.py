"""The safe value format between kernel and grader: exact round trips, and hostile payloads refused."""
from __future__ import annotations

import base64
import json
import math

import numpy as np
import pytest
import torch

from autograders.execute.codec import CodecError, Opaque, decode, encode


@pytest.mark.parametrize("value", [
    None, True, 0, -3, 2**70, 1.5, "ünïcode", [], (), {},
    [1, (2, "x"), {"k": [None]}], {1: "a", "b": 2.0, (1, 2): 3},
])
def test_plain_values_round_trip(value):
    assert decode(encode(value)) == value
    assert type(decode(encode(value))) is type(value)


def test_special_floats():
    inf, nan = decode(encode([math.inf, math.nan]))
    assert inf == math.inf and math.isnan(nan)


@pytest.mark.parametrize("t", [
    torch.tensor(3.5), torch.arange(6.).reshape(2, 3), torch.zeros(0, 4), torch.tensor([True, False]),
    torch.randint(0, 255, (3, 28, 28), dtype=torch.uint8), torch.arange(10).reshape(2, 5).T,  # not contiguous
    torch.randn(4, dtype=torch.float64),
])
def test_tensors_keep_shape_dtype_and_values(t):
    back = decode(encode(t))
    assert isinstance(back, torch.Tensor) and back.shape == t.shape and back.dtype == t.dtype
    assert torch.equal(back, t)


def test_grad_tensors_bfloat16_and_numpy():
    p = torch.nn.Parameter(torch.ones(2))
    assert torch.equal(decode(encode(p)), torch.ones(2))
    assert decode(encode(torch.ones(2, dtype=torch.bfloat16))).dtype == torch.float32
    arr = np.arange(4, dtype=np.int32).reshape(2, 2)
    back = decode(encode(arr))
    assert isinstance(back, np.ndarray) and back.dtype == np.int32 and (back == arr).all()
    assert decode(encode(np.float32(2.5))) == 2.5 and decode(encode(np.array(7))).shape == ()


def test_other_objects_become_opaque():
    class Evil:
        def __repr__(self):
            raise RuntimeError("no")
    out = decode(encode([torch.nn.Linear(2, 1), Evil()]))
    assert all(isinstance(o, Opaque) for o in out)
    assert "Linear" in out[0].type_name and "repr failed" in out[1].text


@pytest.mark.parametrize("payload", [
    "not json", "[1, 2]", '{"__pickle__": "gASV"}', '{"a": 1, "b": 2}',
    json.dumps({"__tensor__": {"dtype": "object", "shape": [1], "data": ""}}),
    json.dumps({"__tensor__": {"dtype": "float32", "shape": [1000000], "data": base64.b64encode(b"1234").decode()}}),
    json.dumps({"__tensor__": {"dtype": "float32", "shape": [-1], "data": ""}}),
    json.dumps({"__float__": "__import__('os')"}),
    "{" * 100000,
])
def test_hostile_payloads_are_refused(payload):
    with pytest.raises(CodecError):
        decode(payload)
