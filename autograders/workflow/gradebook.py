"""The engine's results into nbgrader's gradebook, and the grades back out of it.

Into it (`record_result`): each autograded item's score becomes the `auto_score` of the grade cell
`<item id>_check`; a manual score already given there is kept (nbgrader's `score` prefers it) and the
cell is flagged for review, as nbgrader's own autograde does. Prose items are left to the grader: their
`auto_score` stays empty and `needs_manual_grade` true; the prose suggestion is stored as the cell's
`auto_comment`, starting with SUGGESTION_TAG so that nobody mistakes it for a reviewed comment (and so
that feedback never shows it to the student).

Out of it (`submission_grades`): per cell auto, manual and final scores, and the manual comment.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

from ..results import SubmissionResult

SUGGESTION_TAG = "[rubric suggestion - needs review]"
CHECK_SUFFIX = "_check"


def is_suggestion(comment: str | None) -> bool:
    return bool(comment) and comment.startswith(SUGGESTION_TAG)


def format_suggestion(s) -> str:
    "A prose Suggestion (or a dict with its fields) as the text of an auto comment, for graders."
    get = (lambda k: s.get(k)) if isinstance(s, dict) else (lambda k: getattr(s, k, None))
    parts = [f"{SUGGESTION_TAG} {_num(get('score'))} / {_num(get('max_score'))} points."]
    if get("confidence") is not None:
        low = get("low_confidence")
        parts.append(f"Confidence {float(get('confidence')):.2f}{' - LOW, read the answer closely' if low else ''}.")
    if get("languages"):
        parts.append("Language: " + "+".join(get("languages")) + ".")
    if get("matched"):
        parts.append("Stated: " + "; ".join(map(_evidence, get("matched"))) + ".")
    if get("missed"):
        parts.append("Missing: " + "; ".join(map(str, get("missed"))) + ".")
    if get("misconceptions"):
        parts.append("Misconception: " + "; ".join(map(_evidence, get("misconceptions"))) + ".")
    if get("flags"):
        parts.append("Check: " + "; ".join(map(str, get("flags"))) + ".")
    return " ".join(parts)


def _evidence(m) -> str:
    "'id (\"words\")' for a matched key point or misconception; plain ids as they are."
    if isinstance(m, dict):
        words = " / ".join(map(str, m.get("words") or []))
        return f"{m.get('id')} (\"{words}\")" if words else str(m.get("id"))
    return str(m)


def _num(x) -> str:
    if x is None:
        return "?"
    return f"{float(x):g}"


@dataclass
class RecordOutcome:
    scored: int = 0
    suggested: int = 0
    warnings: list[str] = field(default_factory=list)


def record_result(gb, student: str, assignment: str, notebook: str, result: SubmissionResult,
                  suggestions: dict | None = None, timestamp: str | None = None) -> RecordOutcome:
    """Write one submission's engine result into the gradebook `gb`.
    `suggestions` maps a prose item id to its prose Suggestion."""
    from nbgrader.api import MissingEntry

    out = RecordOutcome()
    gb.update_or_create_student(student)
    kwargs = {"timestamp": timestamp} if timestamp else {}
    with warnings.catch_warnings():  # nbgrader's add_submission trips harmless SQLAlchemy autoflush warnings
        warnings.simplefilter("ignore")
        gb.update_or_create_submission(assignment, student, **kwargs)
    failed_run = result.status == "error"
    nb_cells = gb.find_notebook(notebook, assignment)
    check_cells = {c.name for c in nb_cells.grade_cells if c.name.endswith(CHECK_SUFFIX)}
    seen = set()
    for item in result.items:
        item_id = item.id
        if item.status == "manual":
            s = (suggestions or {}).get(item_id)
            try:
                comment = gb.find_comment(item_id, notebook, assignment, student)
            except MissingEntry:
                if s is not None:
                    out.warnings.append(f"{student}/{assignment}: no solution cell {item_id!r} for the prose suggestion")
                continue
            if s is None:      # no suggestion this time: an older submission's must not stay beside this answer
                if is_suggestion(comment.auto_comment):
                    comment.auto_comment = None
                continue
            comment.auto_comment = format_suggestion(s)
            out.suggested += 1
            continue
        cell = item_id + CHECK_SUFFIX
        seen.add(cell)
        try:
            grade = gb.find_grade(cell, notebook, assignment, student)
        except MissingEntry:
            out.warnings.append(f"{student}/{assignment}: no grade cell {cell!r} in the gradebook "
                                f"(item {item_id} scored {item.score}; re-release the assignment?)")
            continue
        grade.auto_score = float(item.score or 0.0)
        if grade.max_score is not None and abs(float(item.max_score or 0) - grade.max_score) > 1e-9:
            out.warnings.append(f"{student}/{assignment}: {item_id} is worth {item.max_score} in the checks "
                                f"but {grade.max_score} in the notebook's {cell}")
        grade.needs_manual_grade = grade.manual_score is not None or failed_run or item.status == "error"
        out.scored += 1
    for cell in sorted(check_cells - seen):
        # the engine produced no result for it (the run failed): leave it to a human, never a silent 0
        grade = gb.find_grade(cell, notebook, assignment, student)
        grade.needs_manual_grade = True
        out.warnings.append(f"{student}/{assignment}: no engine result for {cell}; flagged for manual grading")
    gb.db.commit()
    return out


@dataclass
class CellGrade:
    name: str                  # grade cell name (`<item>_check` or the prose item id)
    item: str                  # the item id
    kind: str                  # "auto" (a check cell) or "manual" (prose)
    max_score: float
    auto_score: float | None
    manual_score: float | None
    extra_credit: float | None
    score: float               # nbgrader's: manual if set, else auto, else 0 (+ extra credit)
    needs_manual_grade: bool
    manual_comment: str | None = None
    auto_comment: str | None = None


@dataclass
class SubmissionGrades:
    student: str
    assignment: str
    notebook: str
    cells: list[CellGrade]

    @property
    def score(self) -> float:
        return sum(c.score for c in self.cells)

    @property
    def max_score(self) -> float:
        return sum(c.max_score for c in self.cells)

    @property
    def auto_total(self) -> float:
        return sum(c.score for c in self.cells if c.kind == "auto")

    @property
    def manual_total(self) -> float:
        return sum(c.score for c in self.cells if c.kind == "manual")

    @property
    def needs_manual_grade(self) -> bool:
        return any(c.needs_manual_grade for c in self.cells)

    def by_item(self) -> dict[str, CellGrade]:
        return {c.item: c for c in self.cells}


def submission_grades(gb, student: str, assignment: str, order: dict | None = None) -> list[SubmissionGrades]:
    """Every notebook of one submission; its grade cells sorted by `order` (grade id -> position, e.g.
    from `Course.cell_order`), else by name."""
    sub = gb.find_submission(assignment, student)
    out = []
    for snb in sub.notebooks:
        comments = {c.name: c for c in snb.comments}
        cells = []
        for g in snb.grades:
            name = g.name
            manual = not name.endswith(CHECK_SUFFIX)
            c = comments.get(name)
            cells.append(CellGrade(
                name=name, item=name if manual else name[: -len(CHECK_SUFFIX)],
                kind="manual" if manual else "auto", max_score=float(g.max_score or 0),
                auto_score=g.auto_score, manual_score=g.manual_score, extra_credit=g.extra_credit,
                score=float(g.score or 0), needs_manual_grade=bool(g.needs_manual_grade),
                manual_comment=c.manual_comment if c else None, auto_comment=c.auto_comment if c else None))
        cells.sort(key=lambda c: (order.get(c.name, len(order)), c.name) if order else (0, c.name))
        out.append(SubmissionGrades(student, assignment, snb.name, cells))
    return out


def all_submissions(gb, assignment: str | None = None, orders: dict | None = None) -> list[SubmissionGrades]:
    "Every submission in the gradebook (of one assignment), `orders` mapping assignment -> cell order."
    out = []
    for a in sorted(gb.assignments, key=lambda a: a.name):
        if assignment and a.name != assignment:
            continue
        for sub in sorted(a.submissions, key=lambda s: s.student.id):
            out.extend(submission_grades(gb, sub.student.id, a.name, (orders or {}).get(a.name)))
    return out


def set_manual_score(gb, student: str, assignment: str, notebook: str, cell: str, score: float,
                     comment: str | None = None) -> None:
    "What a grader does in formgrader: a manual score (and comment) on one grade cell."
    grade = gb.find_grade(cell, notebook, assignment, student)
    if score < 0 or (grade.max_score is not None and score > grade.max_score):
        raise ValueError(f"score {score} outside 0..{grade.max_score} for {cell}")
    grade.manual_score = float(score)
    grade.needs_manual_grade = False
    if comment is not None:
        gb.find_comment(cell, notebook, assignment, student).manual_comment = comment
    gb.db.commit()
