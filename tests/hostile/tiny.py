"""The tiny assignment the hostile corpus attacks: `tiny_assignment`'s checks under the name `hostile_tiny`.

`CH4GRADE_EXTRA_CHECKS=hostile.tiny` (with tests/ on PYTHONPATH) registers it for `ch4grade grade`.
Its instructor notebook is written at import (atomically) to `$CH4GRADE_HOSTILE_SOURCE`, or to a
per-user folder in the temp dir; `ASSIGNMENT.source` points at it.
"""
from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path

import nbtools
import tiny_assignment as tiny
from autograders.checks.spec import Assignment

NAME = "hostile_tiny"
GOOD, POINTS, FULL = tiny.GOOD, tiny.POINTS, tiny.FULL
build = functools.partial(tiny.build, assignment=NAME)


def write(path: Path, nb) -> Path:
    return nbtools.write(path, nb)


def _source() -> Path:
    env = os.environ.get("CH4GRADE_HOSTILE_SOURCE")
    path = Path(env) if env else Path(tempfile.gettempdir()) / f"ch4grade-hostile-{os.getuid()}" / "source.ipynb"
    return write(path, build())


SOURCE = _source()
A = ASSIGNMENT = Assignment(NAME, data=(), source=str(SOURCE))
A.items = tiny.A.items   # the same checks
