"""Assignments and their checks. `get_assignment(name)` loads one by name; `ASSIGNMENTS` lists them."""
from __future__ import annotations

import importlib

from .spec import Assignment, Check, CheckFailed, Item

ASSIGNMENTS = ("ch04_questionnaire", "ch04_pixel_similarity", "ch04_sgd", "ch04_learner", "ch04_full_mnist")


class UnknownAssignment(KeyError):
    pass


def get_assignment(name: str) -> Assignment:
    "The `ASSIGNMENT` of `autograders.checks.<name>`."
    if name not in ASSIGNMENTS:
        raise UnknownAssignment(f"unknown assignment {name!r}; known: {', '.join(ASSIGNMENTS)}")
    module = importlib.import_module(f"{__name__}.{name}")
    return module.ASSIGNMENT


def available_assignments() -> list[str]:
    "The assignments whose checks module exists in this installation."
    out = []
    for name in ASSIGNMENTS:
        try:
            importlib.import_module(f"{__name__}.{name}")
            out.append(name)
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{name}":
                raise
    return out
