"""Read submitted notebooks defensively and line their cells up with the assignment's source.

`read_notebook` turns anything (truncated JSON, nbformat v3, non-UTF-8 bytes, not a notebook) into
either a v4 notebook or a `NotebookError` with a clear message. `make_inert` removes what a student's
notebook could run in an instructor's browser (HTML, JavaScript, SVG outputs; raw HTML in markdown). `plan` decides what runs: the student's
cells, with locked instructor cells restored from the source (edited or deleted ones), test cells
skipped (the grader scores in its own process), and per item a problem when its answer cell is
missing, duplicated (or split) or moved.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

MAX_NOTEBOOK_BYTES = 64 * 2**20
# Output types an instructor's browser shows without running anything the student wrote.
INERT_MIME = ("text/plain", "image/png", "image/jpeg", "image/gif", "application/json")


def inert_bundle(data: dict) -> dict:
    "The entries of a display's data that are inert: plain text, bitmaps, JSON (each of a sound shape)."
    out = {}
    for k, v in data.items() if isinstance(data, dict) else ():
        if k not in INERT_MIME:
            continue
        if isinstance(v, str) or isinstance(v, list) and all(isinstance(x, str) for x in v):
            out[k] = v
        elif k == "application/json" and isinstance(v, (dict, list)):
            out[k] = v
    return out


def make_inert(nb) -> None:
    """In place: every output keeps only inert types (a note replaces what is removed); markdown cells have
    their raw HTML escaped; raw cells lose the format that would render them as HTML."""
    for cell in nb.cells:
        if cell.get("cell_type") == "markdown":
            cell["source"] = cell.get("source", "").replace("<", "&lt;")
        elif cell.get("cell_type") == "raw":
            cell.get("metadata", {}).pop("format", None)
            cell.get("metadata", {}).pop("raw_mimetype", None)
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else ():
            if "data" in out:
                kept = inert_bundle(out["data"])
                dropped = sorted(set(out["data"]) - set(kept))
                if dropped and "text/plain" not in kept:
                    kept["text/plain"] = f"[ch4grade: output of type {', '.join(dropped)[:200]} not shown]"
                out["data"] = kept


class NotebookError(Exception):
    "A file that cannot be graded as a notebook."


def read_notebook(path: str | Path) -> nbformat.NotebookNode:
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as e:
        raise NotebookError(f"cannot read {path.name}: {e.strerror}") from None
    if size > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"{path.name} is {size / 2**20:.0f} MB, over the {MAX_NOTEBOOK_BYTES // 2**20} MB limit")
    raw = path.read_bytes()
    if not raw.strip():
        raise NotebookError(f"{path.name} is empty")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise NotebookError(f"{path.name} is not UTF-8 text (bad byte at position {e.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise NotebookError(f"{path.name} is not valid notebook JSON (line {e.lineno}: {e.msg}); "
                            "was it truncated or edited by hand?") from None
    if not isinstance(data, dict) or not ("cells" in data or "worksheets" in data):
        raise NotebookError(f"{path.name} is JSON but not a Jupyter notebook")
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as e:  # nbformat raises many kinds
        raise NotebookError(f"{path.name} could not be read as a notebook ({type(e).__name__}: {e})") from None
    for cell in nb.get("cells", []):
        if not isinstance(cell, dict) or "cell_type" not in cell:
            raise NotebookError(f"{path.name} has a malformed cell")
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
        cell.setdefault("metadata", {})
    return nb


def nbgrader(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def grade_id(cell) -> str | None:
    gid = nbgrader(cell).get("grade_id")
    return gid if isinstance(gid, str) and gid else None


def is_answer(cell) -> bool:
    return bool(nbgrader(cell).get("solution"))


def is_test(cell) -> bool:
    m = nbgrader(cell)
    return bool(m.get("grade")) and not m.get("solution")


def is_locked_code(cell) -> bool:
    m = nbgrader(cell)
    return cell.get("cell_type") == "code" and bool(m.get("locked")) and not m.get("solution") and not m.get("grade")


def notebook_assignment(nb) -> str | None:
    meta = nb.get("metadata", {}).get("ch4grade", {})
    name = meta.get("assignment") if isinstance(meta, dict) else None
    return name if isinstance(name, str) else None


@dataclass
class PlannedCell:
    index: int | None          # index in the student's notebook (None: restored from the source)
    grade_id: str | None
    source: str
    origin: str                # student | restored


@dataclass
class Plan:
    cells: list[PlannedCell] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)   # item id -> why it scores 0
    answers: dict[str, str] = field(default_factory=dict)    # item id -> the student's answer source
    notes: list[str] = field(default_factory=list)


def _longest_increasing(seq: list[int]) -> set[int]:
    "Positions in `seq` of one longest strictly increasing subsequence."
    best: list[list[int]] = []
    for pos, value in enumerate(seq):
        chain = max((c for c in best if seq[c[-1]] < value), key=len, default=[])
        best.append(chain + [pos])
    return set(max(best, key=len, default=[]))


def plan(student, source, item_ids: list[str]) -> Plan:
    "What to execute for `student`, given the instructor's `source` notebook and the gradable items."
    out = Plan()
    src_cells = source.cells if source is not None else []
    src_by_id = {grade_id(c): c for c in src_cells if grade_id(c)}
    src_order = [grade_id(c) for c in src_cells if grade_id(c) and is_answer(c)]
    seen: dict[str, list[int]] = {}
    for i, cell in enumerate(student.cells):
        gid = grade_id(cell)
        if gid and is_answer(cell):
            seen.setdefault(gid, []).append(i)

    for item in item_ids:
        where = seen.get(item, [])
        if not where:
            out.problems[item] = (f"the answer cell `{item}` is missing (deleted, or its nbgrader metadata "
                                  "was changed or stripped)")
        elif len(where) > 1:
            out.problems[item] = (f"the answer cell `{item}` appears {len(where)} times (split or duplicated); "
                                  "keep your whole answer in the one original cell")
        else:
            out.answers[item] = student.cells[where[0]].get("source", "")
    ranked = [(gid, src_order.index(gid)) for gid in sorted(seen, key=lambda g: seen[g][0])
              if len(seen[gid]) == 1 and gid in src_order]
    keep = _longest_increasing([r for _, r in ranked])
    for pos, (gid, _) in enumerate(ranked):
        if pos not in keep and gid in item_ids and gid not in out.problems:
            out.problems[gid] = f"the answer cell `{gid}` was moved out of its place; move it back"

    present = {grade_id(c) for c in student.cells if grade_id(c)}
    pending = []  # locked source cells the student deleted, to put back after their predecessor
    previous = None
    for c in src_cells:
        gid = grade_id(c)
        if gid and is_locked_code(c) and gid not in present:
            pending.append((previous, c))
            out.notes.append(f"the locked cell `{gid}` was deleted; the original was run")
        if gid:
            previous = gid
    restore_after: dict[str | None, list] = {}
    for prev, c in pending:
        restore_after.setdefault(prev if prev in present else None, []).append(c)

    for c in restore_after.pop(None, []):
        out.cells.append(PlannedCell(None, grade_id(c), c.source, "restored"))
    for i, cell in enumerate(student.cells):
        gid = grade_id(cell)
        if cell.get("cell_type") == "code" and not is_test(cell):
            original = src_by_id.get(gid) if gid else None
            if original is not None and is_locked_code(original):
                if cell.get("source", "") != original.source:
                    out.notes.append(f"the locked cell `{gid}` was edited; the original was run")
                out.cells.append(PlannedCell(i, gid, original.source, "restored"))
            elif not (original is not None and is_test(original)):
                out.cells.append(PlannedCell(i, gid, cell.get("source", ""), "student"))
        elif cell.get("cell_type") == "code" and gid and gid in src_by_id and not is_test(src_by_id[gid]):
            # a cell the student turned into a test cell by editing its metadata: run it as written
            out.cells.append(PlannedCell(i, gid, cell.get("source", ""), "student"))
        for c in restore_after.pop(gid, []) if gid else []:
            out.cells.append(PlannedCell(None, grade_id(c), c.source, "restored"))
    return out


_SOLUTION = re.compile(r"^([ \t]*)### BEGIN SOLUTION.*?### END SOLUTION[^\n]*", re.M | re.S)


def _same_code(a: str, b: str) -> bool:
    "Whether two cells are the same program (comments, blank lines and formatting aside)."
    import ast
    try:
        return ast.dump(ast.parse(a)) == ast.dump(ast.parse(b))
    except (SyntaxError, ValueError):
        return False


def unanswered(answers: dict[str, str], source, item_ids) -> dict[str, str]:
    """The items whose answer cell still holds what release left there (`raise NotImplementedError()` where
    the solution was): item id -> why it scores 0. A blank notebook scores 0 on every item."""
    model = {grade_id(c): c.source for c in (source.cells if source is not None else []) if is_answer(c)}
    out = {}
    for item in item_ids:
        if item in answers and item in model and _SOLUTION.search(model[item]):
            placeholder = _SOLUTION.sub(lambda m: f"{m.group(1)}raise NotImplementedError()", model[item])
            if _same_code(answers[item], placeholder) or not answers[item].strip():
                out[item] = "not answered yet: the cell still holds the placeholder `raise NotImplementedError()`"
    return out


def imported_modules(nb) -> tuple[str, ...]:
    """The modules the notebook's code cells import at top level (`import a.b`, `from a.b import c`), in
    order, each once: read from the instructor's notebook, they are what a grading kernel imports while it
    is prestarted, before the student's first cell (`execute/startup.py`). Cells that do not parse are
    skipped; IPython magics and shell lines are left out."""
    import ast
    found: dict[str, None] = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        src = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                found.update((alias.name, None) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found[node.module] = None
    return tuple(found)
