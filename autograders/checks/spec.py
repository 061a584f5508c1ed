"""What an assignment grades: items (one per answer cell, by grade_id), each made of checks.

    A = Assignment("ch04_sgd")
    A.manual("q01", points=1)                                  # prose, graded by hand

    @A.check("mnist_loss", "matches the reference", points=2)  # a public check
    def _(ns): ...

    @A.check("mnist_loss", "held-out targets", points=1, hidden=True)
    def _(ns): ...

A check passes when it returns None, fails when it raises `CheckFailed`, and may return a float in
[0, 1] for partial credit. An item's points are the sum of its checks' points.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


class CheckFailed(AssertionError):
    "A check that did not pass: `message` for the student, with what was expected and what came back."

    def __init__(self, message: str, expected: Any = None, got: Any = None):
        super().__init__(message)
        self.message, self.expected, self.got = message, expected, got


class GraderError(RuntimeError):
    """The grader's own side failed (its data, its reference): never the student's fault. A check raises it
    when it cannot prepare its inputs; the item is then `not_run` and the result a grader failure."""


@dataclass
class Check:
    item_id: str
    name: str
    points: float
    fn: Callable[[Any], Any]
    hidden: bool = False
    timeout: float = 120.0


@dataclass
class Item:
    id: str
    checks: list[Check] = field(default_factory=list)
    manual_points: float = 0.0

    @property
    def manual(self) -> bool:
        return not self.checks and self.manual_points > 0

    @property
    def points(self) -> float:
        return self.manual_points if self.manual else sum(c.points for c in self.checks)

    @property
    def visibility(self) -> str:
        return "hidden" if self.checks and all(c.hidden for c in self.checks) else "public"


class Assignment:
    "The items of one assignment, in the order they were declared."

    def __init__(self, name: str, notebook: str | None = None, title: str = "",
                 data: tuple[str, ...] = ("mnist_sample",), source: str | None = None):
        """`data`: the fastai datasets (`mnist_sample`, `mnist_png`) its notebook loads with `untar_data`;
        `source`: its instructor notebook (default `assignments/<name>/<name>.ipynb`)."""
        self.name, self.title, self.data = name, title or name, tuple(data)
        self.source = source
        self.notebook = notebook or f"{name}.ipynb"
        self.items: dict[str, Item] = {}

    def _item(self, item_id: str) -> Item:
        return self.items.setdefault(item_id, Item(item_id))

    def check(self, item_id: str, name: str, points: float = 1, hidden: bool = False, timeout: float = 120.0):
        "Decorator: register `fn(ns)` as a check of `item_id`."
        def register(fn):
            item = self._item(item_id)
            if item.manual_points:
                raise ValueError(f"{self.name}: {item_id} is a manual item and cannot have checks")
            if any(c.name == name for c in item.checks):
                raise ValueError(f"{self.name}: {item_id} already has a check named {name!r}")
            item.checks.append(Check(item_id, name, float(points), fn, hidden, timeout))
            return fn
        return register

    def manual(self, item_id: str, points: float) -> None:
        "Register a prose answer graded by hand."
        item = self._item(item_id)
        if item.checks:
            raise ValueError(f"{self.name}: {item_id} has checks and cannot be manual")
        item.manual_points = float(points)

    @property
    def auto_items(self) -> list[Item]:
        return [i for i in self.items.values() if not i.manual]

    @property
    def manual_items(self) -> list[Item]:
        return [i for i in self.items.values() if i.manual]

    @property
    def points(self) -> float:
        return sum(i.points for i in self.items.values())

    def __repr__(self) -> str:
        return f"Assignment({self.name!r}, {len(self.auto_items)} autograded + {len(self.manual_items)} manual items)"
