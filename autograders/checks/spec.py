"""What an assignment grades: items (one per answer cell, by grade_id), each made of checks.

    A = Assignment("ch04_sgd")
    A.manual("q01", points=1)                                  # prose, graded by hand

    @A.check("mnist_loss", "matches the reference", points=2)  # a public check
    def _(ns): ...

    @A.check("mnist_loss", "held-out targets", points=1, hidden=True)
    def _(ns): ...

A check passes when it returns None, fails when it raises `CheckFailed`, and earns partial credit by
raising `CheckFailed(message, credit=0.5)`. An item's points are the sum of its checks' points. Any other
exception out of a check is the grader's failure (reported openly, never charged to the student).

An assignment is one unit, a folder (see `autograders/checks/__init__.py` for how units are found):
`<name>.ipynb` (the instructor's notebook), `checks.py` (defines `ASSIGNMENT`), `kernel.py` (kernel-side
helpers: the reference pieces a check gives the student's code, see `given`), `answer_key.yaml` (prose).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable


class CheckFailed(AssertionError):
    """A check that did not pass: `message` for the student, with what was expected and what came back.
    `credit` in [0, 1]: the fraction of the check's points still earned (partial credit always comes with
    the message saying what was missing)."""

    def __init__(self, message: str, expected: Any = None, got: Any = None, credit: float = 0.0):
        super().__init__(message)
        self.message, self.expected, self.got, self.credit = message, expected, got, credit


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
    given: tuple[str, ...] | None = None   # upstream names this check replaces with the reference's (see `check`)


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


def answer_names(source: str | None) -> dict[str, set[str]]:
    "item id -> the top-level names its answer cell defines, in the instructor notebook at `source`."
    from .kernel_filter import defined_names
    if not source or not Path(source).exists():
        return {}
    import json
    nb = json.loads(Path(source).read_text(encoding="utf-8"))
    out: dict[str, set[str]] = {}
    for cell in nb.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") == "code" and meta.get("solution") and meta.get("grade_id"):
            src = cell.get("source", "")
            out.setdefault(meta["grade_id"], set()).update(defined_names("".join(src) if isinstance(src, list) else src))
    return out


class Assignment:
    "The items of one assignment, in the order they were declared."

    def __init__(self, name: str, notebook: str | None = None, title: str = "",
                 data: tuple[str, ...] = ("mnist_sample",), source: str | None = None,
                 folder: str | Path | None = None, files: tuple[str, ...] = ()):
        """`data`: the fastai datasets (`mnist_sample`, `mnist_png`) its notebook loads with `untar_data`;
        `folder`: the unit's folder (set when the unit is discovered); `source`: its instructor notebook
        (default `<folder>/<name>.ipynb`); `files`: other files of the folder students receive with it."""
        self.name, self.title, self.data = name, title or name, tuple(data)
        self.source = source
        self.folder = Path(folder) if folder else None
        self.files = tuple(files)
        self.notebook = notebook or f"{name}.ipynb"
        self.items: dict[str, Item] = {}

    def bind(self, folder: Path) -> "Assignment":
        "Called by discovery: the unit lives in `folder` (its notebook, kernel helpers, answer key)."
        self.folder = Path(folder)
        if self.source is None and (self.folder / self.notebook).exists():
            self.source = str(self.folder / self.notebook)
        return self

    @property
    def answer_key(self) -> Path | None:
        "The prose answer key (`answer_key.yaml` in the unit's folder), if it has one."
        for ext in (".yaml", ".yml", ".json"):
            path = self.folder / f"answer_key{ext}" if self.folder else None
            if path is not None and path.exists():
                return path
        return None

    @property
    def kernel_source(self) -> str:
        """The unit's kernel-side helpers (`kernel.py`), whole, with `kernel_common` put in place of its import (see
        `kernel_for` for what a check receives)."""
        from .kernel_filter import inline_common
        path = self.folder / "kernel.py" if self.folder else None
        return inline_common(path.read_text()) if path is not None and path.exists() else ""

    def kernel_for(self, item_id: str) -> str:
        """kernel.py as a check of `item_id` receives it: without any top-level definition whose name an answer
        cell of this item or of a later one defines. Whatever a student's code digs out of `ref` (its module
        globals, frames) is then only the reference of items whose checks have all run."""
        if not hasattr(self, "_kernel_cache"):
            self._kernel_cache = {}
        if item_id not in self._kernel_cache:
            from .kernel_filter import common_names, without_names
            order = [i.id for i in self.auto_items]
            defined = answer_names(self.source)
            later = set().union(*(defined.get(i, set()) for i in order[order.index(item_id):])) \
                if item_id in order else set().union(*defined.values(), set())
            later -= common_names()     # kernel_common's helpers are no item's answer
            self._kernel_cache[item_id] = without_names(self.kernel_source, later)
        return self._kernel_cache[item_id]

    def _item(self, item_id: str) -> Item:
        return self.items.setdefault(item_id, Item(item_id))

    def check(self, item_id: str, name: str, points: float = 1, hidden: bool = False, timeout: float = 120.0,
              given: tuple[str, ...] | None = None):
        """Decorator: register `fn(ns)` as a check of `item_id`.

        `given`: the upstream names (functions or values of EARLIER items) this check replaces with the
        reference's, so that a mistake upstream cannot cost this item. Its blocks (`ns.run`) see the unit's
        `kernel.py` as `ref` and feed it with `set_global("mnist_distance", ref.mnist_distance)`. Such checks
        run after every other check, in item order, so no reference reaches the kernel before the checks of
        the item it answers are done."""
        def register(fn):
            item = self._item(item_id)
            if item.manual_points:
                raise ValueError(f"{self.name}: {item_id} is a manual item and cannot have checks")
            if any(c.name == name for c in item.checks):
                raise ValueError(f"{self.name}: {item_id} already has a check named {name!r}")
            item.checks.append(Check(item_id, name, float(points), fn, hidden, timeout,
                                     tuple(given) if given is not None else None))
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
