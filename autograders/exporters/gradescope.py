"""Gradescope's autograder `results.json`: score, max_score, execution_time, tests[], output.

Hidden items are `after_published` so students see them only once grades are published, and their
output is the short hidden-check message (never expected values). Manual items are left out: they are
graded by hand in Gradescope itself.
"""
from __future__ import annotations

from ..results import SubmissionResult


def to_gradescope(result: SubmissionResult) -> dict:
    tests = []
    for item in result.items:
        if item.status == "manual":
            continue
        tests.append({
            "name": item.id,
            "score": item.score,
            "max_score": item.max_score,
            "status": "passed" if item.status == "passed" else "failed",
            "output": item.feedback,
            "visibility": "after_published" if item.visibility == "hidden" else "visible",
        })
    out = {
        "score": round(sum(t["score"] for t in tests), 6),
        "max_score": round(sum(t["max_score"] for t in tests), 6),
        "execution_time": round(result.timings.get("total_s", 0.0), 3),
        "output": result.error or f"Graded {result.assignment} on {result.environment.get('device', 'cpu')}.",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    if result.notes:
        out["output"] += "\n" + "\n".join(n for n in result.notes if "Traceback" not in n)
    return out
