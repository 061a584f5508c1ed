"""What nbgrader's own Generate Feedback runs for a ch4grade course, so that it makes the same page as
`ch4grade feedback` (one page, one place: feedback/<student>/<assignment>/<notebook>.html).

The course's `nbgrader_config.py` sets `GenerateFeedback.preprocessors = FEEDBACK_PREPROCESSORS`, and
`ch4grade feedback` runs nbgrader's Generate Feedback with the same list whatever the config says.
`StudentView`, after nbgrader's GetGrades:
- removes every output and cell `annotate` added for graders (hidden checks' details, rubric notes);
- drops a comment that is an unreviewed rubric suggestion (the gradebook's auto comment);
- says "pending" under a written answer nobody has graded yet, and keeps nbgrader's page from printing
  "Score: 0.0 / P" for it (its table of contents and cell heading show no score for it);
- puts a summary first: the total, and each item's score and status.
If ch4grade cannot be imported where nbgrader runs, the config fails to load and nbgrader stops: no
feedback at all rather than one that leaks.
"""
from __future__ import annotations

import nbformat
from nbgrader.preprocessors import ClearHiddenTests, GetGrades, NbGraderPreprocessor
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor

from .annotate import STUDENT, for_students
from .gradebook import CHECK_SUFFIX, is_suggestion

PENDING = "Pending: this answer is graded by hand and has no score yet."


def _cell(text: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_markdown_cell(text)
    cell.metadata["ch4grade"] = {"audience": STUDENT}
    return cell


def _status(grade) -> str:
    if grade.manual_score is None and grade.auto_score is None:
        return "pending (graded by hand)" if grade.needs_manual_grade else "not graded"
    if grade.manual_score is not None and grade.auto_score is not None:
        return "adjusted by the instructor"
    score, top = float(grade.score or 0), float(grade.max_score or 0)
    if grade.manual_score is not None:
        return "graded by hand"
    return "passed" if score >= top - 1e-9 else ("partial credit" if score > 0 else "not passed")


class StudentView(NbGraderPreprocessor):
    "The student's feedback notebook: graders' notes out, pending answers marked, a summary first."

    def preprocess(self, nb, resources):
        from nbgrader.api import Gradebook, MissingEntry

        info = resources["nbgrader"]
        for_students(nb)
        rows, pending = [], 0
        with Gradebook(info["db_url"]) as gb:
            cells = []
            for cell in nb.cells:
                cells.append(cell)
                meta = cell.metadata.get("nbgrader", {})
                comment = meta.get("comment")
                if comment and is_suggestion(comment):
                    meta["comment"] = None
                if not meta.get("grade"):
                    continue
                try:
                    grade = gb.find_grade(meta["grade_id"], info["notebook"], info["assignment"], info["student"])
                except MissingEntry:
                    continue
                status = _status(grade)
                item = meta["grade_id"][: -len(CHECK_SUFFIX)] if meta["grade_id"].endswith(CHECK_SUFFIX) \
                    else meta["grade_id"]
                if status.startswith("pending"):
                    # not a zero: nbgrader's page would print "Score: 0.0 / P" for a graded cell, so this one
                    # is shown as an answer (its comment still shown) with the pending note under it
                    meta["grade"] = False
                    pending += 1
                    cells.append(_cell(f"*{PENDING}*"))
                    rows.append(f"- **{item}**: {status}, out of {float(grade.max_score or 0):g}")
                    continue
                rows.append(f"- **{item}**: {float(grade.score or 0):g} / {float(grade.max_score or 0):g}, {status}")
            nb.cells = cells
        head = [f"## Feedback: {info['assignment']}",
                f"**Score: {float(info.get('score') or 0):g} / {float(info.get('max_score') or 0):g}**"]
        if pending:
            head.append(f"{pending} written answer(s) are still to be graded by hand: this score may rise.")
        head.append("Each check cell below shows what the grader found; hidden checks show only whether "
                    "they passed.")
        nb.cells.insert(0, _cell("\n\n".join(head) + ("\n\n" + "\n".join(rows) if rows else "")))
        return nb, resources


FEEDBACK_PREPROCESSORS = [GetGrades, StudentView, ClearHiddenTests, CSSHTMLHeaderPreprocessor]
