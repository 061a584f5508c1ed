"""Assignments and their checks. `get_assignment(name)` loads one by name; `ASSIGNMENTS` lists them.

Instructors (and tests) add their own with `$CH4GRADE_EXTRA_CHECKS`: comma-separated importable
modules, each defining `ASSIGNMENT` (an `Assignment` whose `source` is its instructor notebook).
"""
from __future__ import annotations

import importlib
import os

from .spec import Assignment, Check, CheckFailed, Item

ASSIGNMENTS = ("ch04_questionnaire", "ch04_pixel_similarity", "ch04_sgd", "ch04_learner", "ch04_full_mnist")


class UnknownAssignment(KeyError):
    pass


def extra_assignments() -> dict[str, Assignment]:
    found = {}
    for module in filter(None, (m.strip() for m in os.environ.get("CH4GRADE_EXTRA_CHECKS", "").split(","))):
        spec = importlib.import_module(module).ASSIGNMENT
        found[spec.name] = spec
    return found


def get_assignment(name: str) -> Assignment:
    "The `ASSIGNMENT` of `autograders.checks.<name>` (or of an extra checks module)."
    extra = extra_assignments()
    if name in extra:
        return extra[name]
    if name not in ASSIGNMENTS:
        raise UnknownAssignment(f"unknown assignment {name!r}; known: {', '.join([*ASSIGNMENTS, *extra])}")
    module = importlib.import_module(f"{__name__}.{name}")
    return module.ASSIGNMENT


def available_assignments() -> list[str]:
    "The assignments whose checks module exists in this installation."
    out = list(extra_assignments())
    for name in ASSIGNMENTS:
        try:
            importlib.import_module(f"{__name__}.{name}")
            out.append(name)
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{name}":
                raise
    return out
