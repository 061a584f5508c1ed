"""`export`: grades out of the gradebook (manual scores included) as CSV and Gradescope results.

- `exports/grades.csv`: one row per student, assignment and item: auto, manual and final score.
- `exports/summary.csv`: one row per submission: every item's final score in a column, the auto and
  manual subtotals, the total and the maximum.
- `exports/gradescope/<student>/<assignment>/results.json`: Gradescope's autograder format
  (`exporters.gradescope.gradescope_results`, the one builder `grade --format gradescope` uses too;
  unmarked prose answers exported as pending tests).
- `exports/canvas.csv`: Canvas's gradebook import: `Student,ID,SIS User ID,SIS Login ID,Section`, then one
  column per assignment named after it (Canvas matches the column by name, or creates the assignment);
  a second row "Points Possible". We know no Canvas ids or names: Student and SIS Login ID are our
  student id, ID, SIS User ID and Section are left empty.
- `exports/moodle.csv`: Moodle's grade import (CSV): `ID number` (our student id: map it to the user
  field "ID number", or to "Username" where logins are the ids) and one column per assignment.
The LMS files hold each student's total per assignment as graded so far: an unmarked prose answer counts
nothing yet (`summary.csv`'s `needs_manual_grade` says which; `ExportResult.pending` counts them, and the
export command warns).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from .course import Course, WorkflowError, cell_order
from ..exporters.gradescope import gradescope_results
from .files import atomic_write_text, write_json
from .gradebook import SubmissionGrades, all_submissions

LONG_FIELDS = ["student", "assignment", "notebook", "item", "kind", "max_score", "auto_score", "manual_score",
               "extra_credit", "score", "needs_manual_grade", "status"]


@dataclass
class ExportResult:
    grades_csv: Path
    summary_csv: Path
    gradescope: list[Path]
    rows: int
    canvas_csv: Path | None = None
    moodle_csv: Path | None = None
    pending: int = 0            # submissions with a prose answer still to grade by hand


def _csv(rows: list[dict], fields: list[str]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in fields})
    return buf.getvalue()


def lms_csvs(subs: list[SubmissionGrades]) -> tuple[str, str]:
    "(canvas.csv, moodle.csv): one row per student, each assignment's total as graded so far."
    assignments = list(dict.fromkeys(g.assignment for g in subs))
    totals: dict[str, dict[str, float]] = {}
    points: dict[str, float] = {}
    for g in subs:
        totals.setdefault(g.student, {})[g.assignment] = round(g.score, 6)
        points[g.assignment] = round(g.max_score, 6)
    canvas_fields = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *assignments]
    canvas = [{"Student": "    Points Possible", **points}]
    canvas += [{"Student": s, "SIS Login ID": s, **t} for s, t in sorted(totals.items())]
    moodle = [{"ID number": s, **t} for s, t in sorted(totals.items())]
    return _csv(canvas, canvas_fields), _csv(moodle, ["ID number", *assignments])


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
        result = course.result(g.student, g.assignment, g.notebook)
        statuses = {i.id: i.status for i in result.items} if result is not None else {}
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
                                  gradescope_results(result, g)))
    grades_csv = atomic_write_text(out_dir / "grades.csv", _csv(long_rows, LONG_FIELDS))
    summary_fields = ["student", "assignment", *item_cols, "auto_score", "manual_score", "total", "max_score",
                      "needs_manual_grade"]
    summary_csv = atomic_write_text(out_dir / "summary.csv", _csv(wide_rows, summary_fields))
    canvas, moodle = lms_csvs(subs)
    return ExportResult(grades_csv, summary_csv, written, len(long_rows),
                        atomic_write_text(out_dir / "canvas.csv", canvas),
                        atomic_write_text(out_dir / "moodle.csv", moodle),
                        sum(g.needs_manual_grade for g in subs))
