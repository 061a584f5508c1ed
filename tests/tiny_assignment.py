"""A tiny assignment for engine, batch and CLI tests: three autograded items and one prose item.

`CH4GRADE_EXTRA_CHECKS=tiny_assignment` (with tests/ on PYTHONPATH) registers it for `ch4grade grade`;
`write_source(folder)` writes its instructor notebook, which `ASSIGNMENT.source` must point at.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch

import nbtools as nbt
from autograders.checks.expect import expect_close, expect_true
from autograders.checks.spec import Assignment

A = ASSIGNMENT = Assignment("tiny", data=(), source=os.environ.get("CH4GRADE_TINY_SOURCE"))


@A.check("dist", "L1 distance on random images", points=2)
def _(ns):
    a, b = torch.rand(28, 28), torch.rand(4, 28, 28)
    expect_close(ns.call("mnist_distance", a, b), (a - b).abs().mean((-1, -2)), "mnist_distance(a, b)")


@A.check("dist", "held-out shapes", points=1, hidden=True)
def _(ns):
    a, b = torch.rand(7, 28, 28), torch.rand(7, 28, 28)
    expect_close(ns.call("mnist_distance", a, b), (a - b).abs().mean((-1, -2)), "mnist_distance(a, b)")


@A.check("total", "the sum of 1..n", points=1)
def _(ns):
    n = int(torch.randint(10, 1000, ()).item())
    expect_close(ns.call("total", n), n * (n + 1) // 2, f"total({n})")


@A.check("plot", "a ReLU line over [-2, 2]", points=1)
def _(ns):
    lines = [l for ax in ns.figures("plot") for l in ax["lines"]]
    expect_true(lines, "no line was drawn by the cell")
    x, y = lines[-1]["x"], lines[-1]["y"]
    expect_true(x.min() <= -2 and x.max() >= 2, "the x range does not cover [-2, 2]")
    expect_close(y, x.clamp(min=0), "the plotted y values")


A.manual("why", points=2)

GOOD = {
    "dist": "def mnist_distance(a, b): return (a - b).abs().mean((-1, -2))",
    "total": "def total(n): return sum(range(n + 1))",
    "plot": "import matplotlib.pyplot as plt\nx = torch.linspace(-2, 2, 41)\nplt.plot(x, x.clamp(min=0)); plt.show()",
}


POINTS = {i.id: i.points for i in A.items.values()}
FULL = {"dist": 3.0, "total": 1.0, "plot": 1.0, "why": 0.0}   # "why" is graded by hand


def build(answers=None, order=None, extra=(), assignment="tiny"):
    "A submission as a notebook object: the model answers, with `answers` replacing some of them."
    answers = {**GOOD, **(answers or {})}
    cells = [nbt.locked("setup", "import torch")]
    for gid in order or ["dist", "total", "plot"]:
        cells += [nbt.answer(gid, answers[gid]), nbt.test_cell(gid, POINTS[gid])]
    cells += [nbt.prose("why", "Because the mean of absolute differences is robust.", 2), *extra]
    return nbt.new(cells, assignment)


def notebook(tmp_path: Path, answers=None, extra=(), name="sub.ipynb", order=None):
    "Write a submission (see `build`) as `tmp_path/name`."
    return nbt.write(tmp_path / name, build(answers, order, extra))


def write_source(folder: Path) -> Path:
    "The instructor notebook (all answers right), which is also a perfect submission."
    return notebook(folder, name="source.ipynb")
