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


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def assert_follows_conventions(nb, spec) -> None:
    """An assignment's source notebook against its checks module, per ARCHITECTURE.md: its metadata, unique
    grade_ids with schema 3, every autograded answer (solution markers) followed by its `<id>_check` test cell
    (locked, the module's points, `check(id)` public and hidden), and the prose answers' points."""
    assert nb.metadata["ch4grade"]["assignment"] == spec.name
    assert nb.metadata["kernelspec"]["name"] == "python3"
    metas = [nbgrader_meta(c) for c in nb.cells if nbgrader_meta(c)]
    assert all(m.get("schema_version") == 3 for m in metas)
    ids = [m["grade_id"] for m in metas]
    assert len(ids) == len(set(ids)), f"duplicate grade_ids: {sorted(i for i in ids if ids.count(i) > 1)}"
    auto = {}
    for i, cell in enumerate(nb.cells):
        m = nbgrader_meta(cell)
        if cell.cell_type != "code" or not m.get("solution") or m.get("grade"):
            continue
        gid = m["grade_id"]
        assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source, gid
        test = nb.cells[i + 1]
        tm = nbgrader_meta(test)
        assert tm.get("grade_id") == f"{gid}_check" and tm["grade"] and tm["locked"] and not tm["solution"], gid
        assert f'check("{gid}")' in test.source and f'check("{gid}", hidden=True)' in test.source, gid
        assert "### BEGIN HIDDEN TESTS" in test.source, gid
        auto[gid] = tm["points"]
    assert auto == {i.id: i.points for i in spec.auto_items}
    prose = {nbgrader_meta(c)["grade_id"]: nbgrader_meta(c)["points"] for c in nb.cells
             if c.cell_type == "markdown" and nbgrader_meta(c).get("grade") and nbgrader_meta(c).get("solution")}
    assert prose == {i.id: i.points for i in spec.manual_items}
