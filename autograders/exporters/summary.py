"""A Markdown table of a batch, for terminals and CI job summaries (`$GITHUB_STEP_SUMMARY`)."""
from __future__ import annotations

from ..results import SubmissionResult


def to_markdown(results: list[SubmissionResult]) -> str:
    lines = ["| submission | assignment | score | status | failed items |", "|---|---|---|---|---|"]
    for r in results:
        failed = [i.id for i in r.items if i.status not in ("passed", "manual")]
        status = r.status if r.status == "error" else "graded"
        lines.append(f"| {r.student or r.submission} | {r.assignment} | {r.score:g}/{r.auto_max_score:g} | "
                     f"{status}{': ' + r.error[:80] if r.error else ''} | {', '.join(failed[:12])} |")
    return "\n".join(lines) + "\n"
