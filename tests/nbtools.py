"""Helpers for tests that build notebooks: nbgrader-style cells and a notebook writer."""
from __future__ import annotations

import os
from pathlib import Path

import nbformat


def _meta(**nbgrader):
    return {"nbgrader": {"schema_version": 3, **nbgrader}}


def code(source: str, **meta):
    return nbformat.v4.new_code_cell(source, metadata=meta)


def answer(gid: str, source: str):
    "An autograded answer cell."
    return nbformat.v4.new_code_cell(source, metadata=_meta(grade=False, solution=True, locked=False, grade_id=gid))


def test_cell(gid: str, points: float, source: str | None = None):
    "The test cell of an item (the engine never runs it)."
    return nbformat.v4.new_code_cell(source or f'from autograders import check\ncheck("{gid}")',
                                     metadata=_meta(grade=True, solution=False, locked=True, points=points,
                                                    grade_id=f"{gid}_check"))


def locked(gid: str, source: str):
    return nbformat.v4.new_code_cell(source, metadata=_meta(grade=False, solution=False, locked=True, grade_id=gid))


def prose(gid: str, text: str, points: float):
    return nbformat.v4.new_markdown_cell(text, metadata=_meta(grade=True, solution=True, locked=False,
                                                              points=points, grade_id=gid))


def new(cells: list, assignment: str | None = None) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    if assignment:
        nb.metadata["ch4grade"] = {"assignment": assignment}
    return nb


def write(path: Path, cells_or_nb, assignment: str | None = None) -> Path:
    "Write a notebook (or a list of cells) atomically: a reader in another process never sees half a file."
    nb = cells_or_nb if isinstance(cells_or_nb, dict) else new(cells_or_nb, assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    nbformat.write(nb, str(tmp))
    os.replace(tmp, path)
    return path
