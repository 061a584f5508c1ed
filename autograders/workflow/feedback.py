"""`feedback`: one page per student and assignment, feedback/<student>/<assignment>/<notebook>.html: the
student's annotated notebook (their code and outputs, each check cell showing how its item was graded,
see `annotate`), under a summary of scores; written by nbgrader's Generate Feedback with our
preprocessors (`nbgrader_hooks`), so the formgrader button and `nbgrader generate_feedback` in the course
folder make the same page.

What a student sees, per item: the score (the grader's manual score when there is one), the status, and
the engine's feedback (`item_text`), with these rules:
- a public check shows its message, and what was expected and obtained;
- a hidden check, or any check of a hidden item, shows its name and a fixed short message only: never
  the engine's message, expected or obtained values (defence in depth: even if an engine bug put them
  in its result, they would not reach the page);
- a prose answer shows the manual score and the grader's comment, or "pending" until it is graded; the
  rubric's unreviewed suggestion (the auto comment, the graders' cell) is never shown;
- no solution or source text from the instructor's notebook is ever read here.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..results import ItemResult
from .course import Course, WorkflowError, cell_order
from .gradebook import CellGrade, all_submissions

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


@dataclass
class FeedbackPage:
    student: str
    assignment: str
    path: Path


def generate_feedback(course: Course, name: str | None = None, student: str | None = None,
                      progress: bool = True) -> list[FeedbackPage]:
    """nbgrader's Generate Feedback with our preprocessors (`nbgrader_hooks.FEEDBACK_PREPROCESSORS`),
    whatever the course's config says: each student's annotated notebook, as HTML."""
    from nbgrader.apps import NbGraderAPI
    from tqdm.auto import tqdm

    from .nbgrader_hooks import FEEDBACK_PREPROCESSORS

    if not course.db_path.exists():
        raise WorkflowError(f"no gradebook in {course.root}; run release, collect and autograde first")
    orders = {a: cell_order(course.release_notebook(a)) for a in course.released()}
    with course.gradebook() as gb:
        subs = [s for s in all_submissions(gb, name, orders) if not student or s.student == student]
    if not subs:
        raise WorkflowError("no graded submissions in the gradebook; run `ch4grade autograde` first")
    config = course.config()
    config.GenerateFeedback.preprocessors = FEEDBACK_PREPROCESSORS
    api = NbGraderAPI(coursedir=course.coursedir(), config=config)
    pages = []
    for g in tqdm(subs, desc="feedback", unit="page", disable=not progress):
        if not (course.autograded_dir(g.student, g.assignment) / f"{g.notebook}.ipynb").exists():
            raise WorkflowError(f"no autograded notebook for {g.student}/{g.assignment}; run `ch4grade autograde`")
        out = api.generate_feedback(g.assignment, g.student, force=True)
        page_path = course.feedback_dir(g.student, g.assignment) / f"{g.notebook}.html"
        if not out.get("success") or not page_path.exists():
            log = (out.get("error") or out.get("log") or "").strip().splitlines()
            raise WorkflowError(f"nbgrader could not write the feedback of {g.student}/{g.assignment}: "
                                f"{log[-1] if log else 'no reason given'}")
        pages.append(FeedbackPage(g.student, g.assignment, page_path))
    return pages


def item_text(item: ItemResult | None, grade: CellGrade | None) -> str:
    "The same feedback as plain text (Gradescope's test output), under the same hidden-material rules."
    lines = []
    if item is not None:
        hidden_item = item.visibility == "hidden"
        if hidden_item:
            lines.append(hidden_message(item.status))
        elif item.feedback and item.status != "manual" and not item.checks:
            lines.append(item.feedback)
        for ch in item.checks:
            if hidden_item or ch.hidden:
                lines.append(f"- {ch.name} (hidden): {hidden_message(ch.status)}")
                continue
            lines.append(f"- {ch.name}: {STATUS_WORDS.get(ch.status, ch.status)}")
            if ch.status != "passed":
                if ch.message:
                    lines.append(f"  {ch.message}")
                if ch.expected is not None or ch.got is not None:
                    lines.append(f"  expected: {ch.expected}\n  got: {ch.got}")
    if grade is not None and grade.manual_comment:
        lines.append(f"Instructor: {grade.manual_comment}")
    if grade is not None and grade.kind == "manual" and grade.manual_score is None:
        lines.append("Not graded yet.")
    return "\n".join(lines)
