"""Where assignments come from. An assignment is one unit, a folder holding its notebook, `checks.py`
(defining `ASSIGNMENT`), `kernel.py` and `answer_key.yaml` (see `spec.py`), found by:

1. the entry-point group `ch4grade.assignments` (name -> the unit's module): how an installed package adds
   assignments (chapter 5, or an instructor's own) with no change to the engine; this package registers
   its own units there too (pyproject.toml);
2. the folders of `autograders/assignments/` (the built-in units, also when the package is not installed);
3. `$CH4GRADE_EXTRA_CHECKS`: comma-separated importable modules defining `ASSIGNMENT` (tests, quick trials).

`get_assignment(name)` loads one; `available_assignments()` lists every one found.
"""
from __future__ import annotations

import importlib
import os
from functools import lru_cache
from importlib.metadata import entry_points
from pathlib import Path

from .spec import Assignment, Check, CheckFailed, Item  # noqa: F401  (the checks API)

GROUP = "ch4grade.assignments"
BUILTIN = Path(__file__).resolve().parents[1] / "assignments"


class UnknownAssignment(KeyError):
    pass


def _unit(module) -> Assignment:
    "The `ASSIGNMENT` of a unit's module, bound to the folder the module lives in."
    spec = getattr(module, "ASSIGNMENT", None)
    if not isinstance(spec, Assignment):
        raise TypeError(f"{module.__name__} does not define ASSIGNMENT (an autograders.checks.spec.Assignment)")
    if spec.folder is None:
        spec.bind(Path(module.__file__).resolve().parent)
    return spec


@lru_cache(maxsize=None)
def _registered() -> dict[str, str]:
    "name -> module of every unit registered by an entry point or living in the built-in folder."
    found = {}
    for folder in sorted(BUILTIN.iterdir()) if BUILTIN.is_dir() else []:
        if (folder / "__init__.py").exists() and (folder / "checks.py").exists():
            found[folder.name] = f"autograders.assignments.{folder.name}"
    for ep in entry_points(group=GROUP):
        found.setdefault(ep.name, ep.value.split(":")[0])
    return found


def extra_assignments() -> dict[str, Assignment]:
    found = {}
    for module in filter(None, (m.strip() for m in os.environ.get("CH4GRADE_EXTRA_CHECKS", "").split(","))):
        spec = _unit(importlib.import_module(module))
        found[spec.name] = spec
    return found


def get_assignment(name: str) -> Assignment:
    "The assignment `name` (an extra module, a registered unit, or a built-in one)."
    extra = extra_assignments()
    if name in extra:
        return extra[name]
    units = _registered()
    if name not in units:
        raise UnknownAssignment(f"unknown assignment {name!r}; known: {', '.join([*units, *extra])}")
    spec = _unit(importlib.import_module(units[name]))
    if spec.name != name:
        raise UnknownAssignment(f"the unit registered as {name!r} defines the assignment {spec.name!r}")
    return spec


def available_assignments() -> list[str]:
    "Every assignment this installation can grade."
    return [*extra_assignments(), *(n for n in _registered() if n not in extra_assignments())]


def unit_notebook(name: str) -> Path | None:
    """A registered unit's notebook by its folder's convention (`<name>.ipynb` beside `checks.py`), found without
    importing its checks (torch, the reference); None when it is not there (`paths.source_notebook` then)."""
    import importlib.util
    module = _registered().get(name)
    try:
        spec = importlib.util.find_spec(module) if module else None
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / f"{name}.ipynb"
    return path if path.exists() else None
