"""A Markdown table of a batch, for terminals and CI job summaries (`$GITHUB_STEP_SUMMARY`).

Every cell is escaped for a Markdown table (`|`, newlines); a long reason is cut at a word boundary with
an ellipsis; prose answers awaiting the grader are said to be pending, never failed.
"""
from __future__ import annotations

from ..results import SubmissionResult

REASON_CHARS = 80


def shorten(text: str, limit: int = REASON_CHARS) -> str:
    "`text` on one line, cut at the last word boundary before `limit` characters, with an ellipsis."
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    if " " in cut and text[limit - 1] != " ":
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip() + "…"


def cell(text: str) -> str:
    "Text safe inside a Markdown table cell: one line, `|` escaped."
    return " ".join(str(text).split()).replace("|", "\\|")


def to_markdown(results: list[SubmissionResult]) -> str:
    lines = ["| submission | assignment | score | status | failed items | pending |", "|---|---|---|---|---|---|"]
    for r in results:
        failed = [i.id for i in r.items if i.status not in ("passed", "manual")]
        pending = [i.id for i in r.items if i.status == "manual"]
        status = ("error" if r.status == "error" else "graded") + (f": {shorten(r.error)}" if r.error else "")
        lines.append("| " + " | ".join(cell(c) for c in (
            r.student or r.submission, r.assignment, f"{r.score:g}/{r.auto_max_score:g}", status,
            ", ".join(failed[:12]) + (", …" if len(failed) > 12 else ""),
            f"pending: {', '.join(pending)}" if pending else "")) + " |")
    return "\n".join(lines) + "\n"
