"""`export`: grades out of the gradebook (manual scores included) as CSV and Gradescope results.

- `exports/grades.csv`: one row per student, assignment and item: auto, manual and final score.
- `exports/summary.csv`: one row per submission: every item's final score in a column, the auto and
  manual subtotals, the total and the maximum.
- `exports/gradescope/<student>/<assignment>/results.json`: Gradescope's autograder format (one test
  per item; scores from the gradebook; output under the same hidden-material rules as feedback).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from .course import Course, WorkflowError, cell_order
from .feedback import item_text
from .files import atomic_write_text, read_json, write_json
from .gradebook import SubmissionGrades, all_submissions

LONG_FIELDS = ["student", "assignment", "notebook", "item", "kind", "max_score", "auto_score", "manual_score",
               "extra_credit", "score", "needs_manual_grade", "status"]


@dataclass
class ExportResult:
    grades_csv: Path
    summary_csv: Path
    gradescope: list[Path]
    rows: int


def _csv(rows: list[dict], fields: list[str]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in fields})
    return buf.getvalue()


def _results(course: Course, g: SubmissionGrades) -> dict | None:
    p = course.results_path(g.student, g.assignment, g.notebook)
    return read_json(p) if p.exists() else None


def gradescope_json(g: SubmissionGrades, result: dict | None) -> dict:
    items = {i["id"]: i for i in (result or {}).get("items", [])}
    tests = []
    for n, cell in enumerate(g.cells, 1):
        item = items.get(cell.item)
        if cell.kind == "manual":
            status = "passed" if cell.manual_score is not None and cell.score >= cell.max_score else "failed"
        else:
            status = "passed" if cell.score >= cell.max_score - 1e-9 else "failed"
        tests.append({"score": round(cell.score, 6), "max_score": cell.max_score, "status": status,
                      "name": cell.item + (" (written answer)" if cell.kind == "manual" else ""),
                      "number": str(n), "output": item_text(item, cell),
                      "visibility": "after_published" if (item or {}).get("visibility") == "hidden" else "visible"})
    out = {"score": round(g.score, 6), "tests": tests, "visibility": "visible", "stdout_visibility": "hidden"}
    if result and result.get("status") == "error" and result.get("error"):
        out["output"] = "The grader could not run the whole notebook: " + result["error"].splitlines()[0][:300]
    if result and result.get("timings", {}).get("total_s") is not None:
        out["execution_time"] = result["timings"]["total_s"]
    return out


def export(course: Course, name: str | None = None, out_dir: Path | None = None) -> ExportResult:
    if not course.db_path.exists():
        raise WorkflowError(f"no gradebook in {course.root}; run release, collect and autograde first")
    out_dir = Path(out_dir) if out_dir else course.exports_dir
    orders = {a: cell_order(course.release_notebook(a)) for a in course.released()}
    with course.gradebook() as gb:
        subs = all_submissions(gb, name, orders)
    if not subs:
        raise WorkflowError("no submissions in the gradebook; run `ch4grade autograde` first")
    long_rows, wide_rows, item_cols, written = [], [], [], []
    for g in subs:
        result = _results(course, g)
        statuses = {i["id"]: i.get("status") for i in (result or {}).get("items", [])}
        wide = {"student": g.student, "assignment": g.assignment}
        for c in g.cells:
            long_rows.append({"student": g.student, "assignment": g.assignment, "notebook": g.notebook,
                              "item": c.item, "kind": c.kind, "max_score": c.max_score, "auto_score": c.auto_score,
                              "manual_score": c.manual_score, "extra_credit": c.extra_credit, "score": c.score,
                              "needs_manual_grade": c.needs_manual_grade,
                              "status": "manual" if c.kind == "manual" else statuses.get(c.item, "")})
            wide[c.item] = c.score
            if c.item not in item_cols:
                item_cols.append(c.item)
        wide.update(auto_score=g.auto_total, manual_score=g.manual_total, total=g.score, max_score=g.max_score,
                    needs_manual_grade=g.needs_manual_grade)
        wide_rows.append(wide)
        written.append(write_json(out_dir / "gradescope" / g.student / g.assignment / "results.json",
                                  gradescope_json(g, result)))
    grades_csv = atomic_write_text(out_dir / "grades.csv", _csv(long_rows, LONG_FIELDS))
    summary_fields = ["student", "assignment", *item_cols, "auto_score", "manual_score", "total", "max_score",
                      "needs_manual_grade"]
    summary_csv = atomic_write_text(out_dir / "summary.csv", _csv(wide_rows, summary_fields))
    return ExportResult(grades_csv, summary_csv, written, len(long_rows))
