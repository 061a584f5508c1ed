"""`feedback`: one HTML page per student and assignment, from the gradebook and the engine's results.

What a student sees, per item: the score (the grader's manual score when there is one), the status, and
the engine's feedback, with these rules:
- a public check shows its message, and what was expected and obtained;
- a hidden check, or any check of a hidden item, shows its name and a fixed short message only: never
  the engine's message, expected or obtained values (defence in depth: even if an engine bug put them
  in its result, they would not reach the page);
- a prose answer shows the manual score and the grader's comment; the rubric's unreviewed suggestion
  (the auto comment) is never shown;
- no solution or source text from the instructor's notebook is ever read here.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .course import Course, WorkflowError, cell_order
from .files import atomic_write_text, read_json
from .gradebook import CellGrade, SubmissionGrades, all_submissions
from .htmlkit import esc, num, page, table

HIDDEN_MESSAGES = {
    "passed": "hidden check passed",
    "partial": "hidden check partly passed",
    "failed": "hidden check did not pass",
    "error": "your code raised an error in a hidden check",
    "not_run": "hidden check could not run",
}
STATUS_WORDS = {"passed": "passed", "partial": "partial credit", "failed": "failed", "error": "error",
                "not_run": "not run", "manual": "graded by hand"}


def hidden_message(status: str) -> str:
    return HIDDEN_MESSAGES.get(status, "hidden check")


def _checks_html(item: dict) -> str:
    hidden_item = item.get("visibility") == "hidden"
    lines = []
    for ch in item.get("checks") or []:
        status = ch.get("status", "")
        name = esc(ch.get("name", "check"))
        if hidden_item or ch.get("hidden"):
            lines.append(f'<li class="{esc(status)}">{name} <span class="muted">(hidden)</span>: '
                         f"{esc(hidden_message(status))}</li>")
            continue
        text = f'<li class="{esc(status)}">{name}: {esc(STATUS_WORDS.get(status, status))}'
        if ch.get("message") and status != "passed":
            text += f"<pre>{esc(ch['message'])}</pre>"
        if status != "passed" and (ch.get("expected") is not None or ch.get("got") is not None):
            text += f"<pre>expected: {esc(ch.get('expected'))}\ngot:      {esc(ch.get('got'))}</pre>"
        lines.append(text + "</li>")
    return f"<ul>{''.join(lines)}</ul>" if lines else ""


def _item_feedback(item: dict | None, grade: CellGrade | None) -> str:
    parts = []
    if item is not None:
        if item.get("visibility") == "hidden":
            parts.append(esc(hidden_message(item.get("status", ""))))
        elif item.get("feedback") and item.get("status") != "manual" and not item.get("checks"):
            # the item's summary line is built from its checks (and may quote hidden ones): shown only
            # when there are no per-check results to show instead
            parts.append(f"<pre>{esc(item['feedback'])}</pre>")
        parts.append(_checks_html(item))
    if grade is not None and grade.manual_comment:
        parts.append(f"<p><b>Instructor:</b> {esc(grade.manual_comment)}</p>")
    if grade is not None and grade.kind == "manual" and grade.manual_score is None:
        parts.append('<p class="muted">Not graded yet.</p>')
    return "".join(parts)


@dataclass
class FeedbackPage:
    student: str
    assignment: str
    path: Path


def render(grades: SubmissionGrades, result: dict | None) -> str:
    items = {i["id"]: i for i in (result or {}).get("items", [])}
    by_item = grades.by_item()
    order = [c.item for c in grades.cells] + [i for i in items if i not in by_item]
    rows, classes = [], []
    for item_id in order:
        item, grade = items.get(item_id), by_item.get(item_id)
        status = "manual" if grade is not None and grade.kind == "manual" else (item or {}).get("status", "not_run")
        if grade is not None and grade.kind == "auto" and grade.manual_score is not None:
            status_text = "adjusted by the instructor"
        elif status == "manual" and grade is not None and grade.manual_score is None:
            status_text = "awaiting grading"
        else:
            status_text = STATUS_WORDS.get(status, status)
        score = grade.score if grade is not None else (item or {}).get("score")
        max_score = grade.max_score if grade is not None else (item or {}).get("max_score")
        kind = "written answer" if status == "manual" else "code"
        rows.append([f"<b>{esc(item_id)}</b><br><span class='muted'>{kind}</span>",
                     f"{num(score)} / {num(max_score)}", esc(status_text), _item_feedback(item, grade)])
        classes.append(status)
    head = (f"<h1>Feedback: {esc(grades.assignment)}</h1>"
            f"<p>Student: <b>{esc(grades.student)}</b></p>"
            f'<p class="total">Score: {num(grades.score)} / {num(grades.max_score)}</p>')
    if grades.needs_manual_grade:
        head += '<p class="muted">Some answers are still waiting to be graded by hand; this score may change.</p>'
    if result and result.get("status") == "error":
        head += (f'<p class="error">The grader could not run your whole notebook: '
                 f"{esc((result.get('error') or '').splitlines()[0][:300] if result.get('error') else '')}</p>")
    return page(f"{grades.assignment} feedback for {grades.student}",
                head + table(["item", "score", "status", "feedback"], rows, classes))


def generate_feedback(course: Course, name: str | None = None, student: str | None = None,
                      progress: bool = True) -> list[FeedbackPage]:
    from tqdm.auto import tqdm

    if not course.db_path.exists():
        raise WorkflowError(f"no gradebook in {course.root}; run release, collect and autograde first")
    orders = {a: cell_order(course.release_notebook(a)) for a in course.released()}
    with course.gradebook() as gb:
        subs = [s for s in all_submissions(gb, name, orders) if not student or s.student == student]
    if not subs:
        raise WorkflowError("no graded submissions in the gradebook; run `ch4grade autograde` first")
    pages = []
    for g in tqdm(subs, desc="feedback", unit="page", disable=not progress):
        rpath = course.results_path(g.student, g.assignment, g.notebook)
        result = read_json(rpath) if rpath.exists() else None
        out = course.feedback_dir(g.student, g.assignment) / f"{g.notebook}.html"
        atomic_write_text(out, render(g, result))
        pages.append(FeedbackPage(g.student, g.assignment, out))
    return pages


def item_text(item: dict | None, grade: CellGrade | None) -> str:
    "The same feedback as plain text (Gradescope's test output), under the same hidden-material rules."
    lines = []
    if item is not None:
        checks = item.get("checks") or []
        if item.get("visibility") == "hidden":
            lines.append(hidden_message(item.get("status", "")))
        elif item.get("feedback") and item.get("status") != "manual" and not checks:
            lines.append(item["feedback"])
        for ch in checks:
            status = ch.get("status", "")
            if item.get("visibility") == "hidden" or ch.get("hidden"):
                lines.append(f"- {ch.get('name', 'check')} (hidden): {hidden_message(status)}")
                continue
            lines.append(f"- {ch.get('name', 'check')}: {STATUS_WORDS.get(status, status)}")
            if status != "passed":
                if ch.get("message"):
                    lines.append(f"  {ch['message']}")
                if ch.get("expected") is not None or ch.get("got") is not None:
                    lines.append(f"  expected: {ch.get('expected')}\n  got: {ch.get('got')}")
    if grade is not None and grade.manual_comment:
        lines.append(f"Instructor: {grade.manual_comment}")
    if grade is not None and grade.kind == "manual" and grade.manual_score is None:
        lines.append("Not graded yet.")
    return "\n".join(lines)
