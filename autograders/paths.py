"Where an assignment's files live: each assignment is a unit folder (see `autograders/checks/__init__.py`)."
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def source_notebook(assignment: str) -> Path:
    "The instructor's source notebook (with solutions) of `assignment`."
    from .checks import get_assignment
    spec = get_assignment(assignment)
    return Path(spec.source) if spec.source else (spec.folder or ROOT) / spec.notebook


def answer_key(assignment: str) -> Path | None:
    "The prose answer key of `assignment` (None if it has none, or is not a registered unit)."
    from .checks import UnknownAssignment, get_assignment
    try:
        return get_assignment(assignment).answer_key
    except UnknownAssignment:
        return None
