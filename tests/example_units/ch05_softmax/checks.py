"""The checks of `ch05_softmax`: `softmax(x)`, and `nll(x, y)` built on it (graded with the reference softmax,
so a wrong softmax costs only its own item)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from autograders.checks.expect import expect_close
from autograders.checks.spec import Assignment

A = ASSIGNMENT = Assignment("ch05_softmax", title="Softmax and the negative log likelihood (example unit)", data=())


@A.check("softmax", "matches F.softmax on random activations", points=1)
def _(ns):
    x = torch.randn(6, 4, generator=ns.rng) * 3
    expect_close(ns.call("softmax", x), F.softmax(x, dim=-1), "softmax(x)", atol=1e-5)


@A.check("nll", "matches F.cross_entropy (with the reference softmax)", points=2, given=("softmax",))
def _(ns):
    x = torch.randn(8, 5, generator=ns.rng) * 2
    y = torch.randint(0, 5, (8,), generator=ns.rng)
    got = ns.run("set_global('softmax', ref.softmax)\nresult = nll(_x, _y)", _x=x, _y=y)
    expect_close(got, F.cross_entropy(x, y), "nll(x, y)", atol=1e-5, check_shape=False)


A.manual("why_log", points=1)
