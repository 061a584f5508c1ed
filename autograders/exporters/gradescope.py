"""Gradescope's autograder `results.json`, built in one place for both paths (`gradescope_results`):

- `ch4grade grade --format gradescope`: from the engine's result alone (`to_gradescope`);
- `ch4grade export`: from the gradebook (manual scores included) and the engine's result.

Exactly the keys of Gradescope's spec (https://gradescope-autograders.readthedocs.io/en/latest/specs/).
Top level: score (the sum of the tests' scores: graded so far), execution_time, output, output_format,
visibility, stdout_visibility, extra_data, tests (`leaderboard` is never written: there is none). Per test
(one per item, in notebook order): score, max_score, status (`passed` at full points, else `failed`),
name, number, output, output_format, tags, visibility, extra_data.

What a test's output may say follows the feedback page's rules (`workflow.feedback.item_text`): a hidden
item is `after_published` and shows only the fixed hidden-check messages, never messages, expected or
obtained values; a hidden check of a public item likewise.

Prose items (graded by hand):
- from the gradebook: a graded one is a test with its manual score and the grader's comment; one not yet
  graded is PENDING: a test named "<item> (written answer)" with max_score but no score and no status,
  output "pending: graded by hand" (never a failed 0/1 test); the top-level score counts it as nothing yet;
- from `grade` (no gradebook): left out of tests; grade them by hand in Gradescope itself (a question of
  their own), so the autograder's total is the auto-graded part only.
"""
from __future__ import annotations

from ..results import ItemResult, SubmissionResult
from ..workflow.feedback import item_text

PENDING = "pending: graded by hand"


def _visibility(item: ItemResult | None) -> str:
    return "after_published" if item is not None and item.visibility == "hidden" else "visible"


def _test(number: int, item_id: str, item: ItemResult | None, cell) -> dict:
    "One test: from a gradebook cell when there is one (its score wins), else from the engine's item."
    manual = cell.kind == "manual" if cell is not None else item.status == "manual"
    max_score = cell.max_score if cell is not None else item.max_score
    test = {"max_score": max_score, "name": item_id + (" (written answer)" if manual else ""),
            "number": str(number), "output_format": "text",
            "tags": ["written answer" if manual else "autograded"], "visibility": _visibility(item),
            "extra_data": {"item": item_id}}
    if manual and (cell is None or cell.manual_score is None):
        test.update(output=PENDING, tags=["written answer", "pending"])
        test["extra_data"]["pending"] = True
        return test
    score = round(cell.score if cell is not None else item.score, 6)
    test.update(score=score, status="passed" if score >= max_score - 1e-9 else "failed",
                output=item_text(item, cell))
    return test


def gradescope_results(result: SubmissionResult | None, grades=None) -> dict:
    """Gradescope's results.json from an engine result (or None) and, when there is a gradebook, its
    `SubmissionGrades` (then one test per grade cell, scores from the gradebook)."""
    result = result if result is not None else SubmissionResult("", None)    # no engine result: nothing from it
    items = {i.id: i for i in result.items}
    if grades is not None:
        rows = [(c.item, items.get(c.item), c) for c in grades.cells]
    else:
        rows = [(i.id, i, None) for i in result.items if i.status != "manual"]
    tests = [_test(n, item_id, item, cell) for n, (item_id, item, cell) in enumerate(rows, 1)]
    assignment = result.assignment or (grades.assignment if grades else None)
    student = result.student or (grades.student if grades else None)
    if result.status == "error" and result.error:
        output = "The grader could not run the whole notebook: " + result.error.splitlines()[0][:300]
    else:
        output = f"Graded {assignment or 'the notebook'}."
    notes = [n for n in result.notes if "Traceback" not in n]
    pending = [t["extra_data"]["item"] for t in tests if "status" not in t]
    if pending:
        notes.append(f"Written answers still to be graded by hand: {', '.join(pending)}.")
    seconds = result.timings.get("total_s") or 0.0
    return {"score": round(sum(t.get("score", 0) for t in tests), 6),
            "execution_time": round(float(seconds), 3),
            "output": "\n".join([output, *notes]), "output_format": "text", "visibility": "visible",
            "stdout_visibility": "hidden",
            "extra_data": {"assignment": assignment, "student": student,
                           "max_score": round(sum(t["max_score"] for t in tests), 6), "pending": pending},
            "tests": tests}


def to_gradescope(result: SubmissionResult) -> dict:
    "Gradescope's results.json for one graded notebook (no gradebook: prose items left out)."
    return gradescope_results(result)
