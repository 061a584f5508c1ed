"Where the project's data files live: assignments' source notebooks and the answer key."
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS_DIR = ROOT / "assignments"
SOLUTIONS_DIR = ROOT / "solutions"


def source_notebook(assignment: str) -> Path:
    "The instructor's source notebook (with solutions) of `assignment`."
    return ASSIGNMENTS_DIR / assignment / f"{assignment}.ipynb"
