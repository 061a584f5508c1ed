"""The autograded notebook, annotated for the people who read it.

The engine never runs check cells, so without this formgrader would show them empty. `annotate` gives
each check cell two outputs, and puts a cell after each prose answer:
- for **graders** (formgrader): every check of the item with its message, expected and obtained values,
  hidden checks included; and the rubric's suggestion for a prose answer (kept here, in the notebook,
  so that it stays visible after a grader types a comment over the gradebook's copy);
- for the **student** (the feedback page): the same text as `feedback.item_text`, under its rules
  (hidden checks by name and a fixed message only).
Each added output or cell carries `metadata.ch4grade.audience` ("graders" or "student");
`for_students` removes everything for graders, and is what nbgrader's Generate Feedback runs
(`nbgrader_hooks.StudentView`), so no route to a student carries a rubric note or a hidden check.
"""
from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat

from ..results import ItemResult, SubmissionResult
from .feedback import STATUS_WORDS, item_text
from .gradebook import CHECK_SUFFIX, format_suggestion

GRADERS, STUDENT = "graders", "student"
GRADERS_HEAD = "ch4grade, for graders (the student never sees this output):"
STUDENT_HEAD = "Feedback:"
SUGGESTION_HEAD = "**Rubric suggestion, for graders only** (never shown to the student; the score is yours to give):"


def audience(node) -> str | None:
    "Who an output or cell we added is for (None: not ours, the student's own)."
    meta = node.get("metadata", {}).get("ch4grade", {})
    return meta.get("audience") if isinstance(meta, dict) else None


def _output(text: str, who: str):
    return nbformat.v4.new_output("display_data", data={"text/plain": text},
                                  metadata={"ch4grade": {"audience": who}})


def _mark(status: str) -> str:
    return {"passed": "✓", "partial": "~", "manual": "·"}.get(status, "✗")


def grader_text(item: ItemResult | None, result: SubmissionResult) -> str:
    "Everything the grader knows of one item, hidden checks included."
    if item is None:
        why = result.error or "the grader produced no result for this item"
        return f"not graded: {why}"
    lines = [f"{_mark(item.status)} {item.id}: {item.score:g} / {item.max_score:g}, "
             f"{STATUS_WORDS.get(item.status, item.status)}" + (" (hidden item)" if item.visibility == "hidden" else "")]
    for ch in item.checks:
        lines.append(f"  {_mark(ch.status)} {ch.name}{' (hidden)' if ch.hidden else ''}: "
                     f"{STATUS_WORDS.get(ch.status, ch.status)}")
        if ch.status != "passed":
            lines += [f"      {line}" for line in (ch.message or "").splitlines()]
            if ch.expected is not None or ch.got is not None:
                lines.append(f"      expected: {ch.expected}")
                lines.append(f"      got:      {ch.got}")
    if not item.checks and item.feedback:
        lines += [f"  {line}" for line in item.feedback.splitlines()]
    return "\n".join(lines)


def student_text(item: ItemResult | None, result: SubmissionResult) -> str:
    "What the student may read of one item (the feedback rules of `feedback.item_text`)."
    if item is None:
        if result.status == "error":
            first = (result.error or "").splitlines()[:1]
            return "The grader could not run your whole notebook" + (f": {first[0][:300]}" if first else ".")
        return "Not graded."
    head = f"{item.id}: {item.score:g} / {item.max_score:g}, {STATUS_WORDS.get(item.status, item.status)}"
    body = item_text(item, None)
    return head + ("\n" + body if body else "")


def _markdown_escape(text: str) -> str:
    text = html.escape(text, quote=False)
    for ch in "\\`*_[]#|":
        text = text.replace(ch, "\\" + ch)
    return text


def suggestion_cell(item_id: str, suggestion) -> nbformat.NotebookNode:
    text = format_suggestion(suggestion)
    cell = nbformat.v4.new_markdown_cell(f"{SUGGESTION_HEAD}\n\n> {_markdown_escape(text)}")
    cell.metadata["ch4grade"] = {"audience": GRADERS, "item": item_id}
    return cell


def annotate(nb, result: SubmissionResult, suggestions: dict | None = None):
    "Check cells get their outputs, prose answers their rubric suggestion (in place; returns `nb`)."
    items = {i.id: i for i in result.items}
    suggestions = suggestions or {}
    cells = []
    for cell in _disown(nb).cells:
        cells.append(cell)
        meta = cell.metadata.get("nbgrader", {})
        grade_id = str(meta.get("grade_id", ""))
        if cell.cell_type == "code" and meta.get("grade") and grade_id.endswith(CHECK_SUFFIX):
            item = items.get(grade_id[: -len(CHECK_SUFFIX)])
            cell.outputs = [_output(f"{GRADERS_HEAD}\n{grader_text(item, result)}", GRADERS),
                            _output(f"{STUDENT_HEAD}\n{student_text(item, result)}", STUDENT)]
            cell.execution_count = None
        elif cell.cell_type == "markdown" and meta.get("grade") and grade_id in suggestions:
            cells.append(suggestion_cell(grade_id, suggestions[grade_id]))
    nb.cells = cells
    return nb


IMPERSONATION = re.compile(r"rubric\s+suggestion|for\s+graders|ch4grade", re.I)
STUDENT_WROTE = "⚠ written by the student, not by ch4grade:"


def _disown(nb):
    """The student's notebook with any `ch4grade` metadata of its own removed: a submission cannot pass
    a cell or output off as ours (a fake rubric note for the grader) nor hide one of its cells. Text of
    theirs that reads like one of our notes is labelled as theirs."""
    for cell in nb.cells:
        cell.get("metadata", {}).pop("ch4grade", None)
        if cell.cell_type == "markdown" and IMPERSONATION.search(cell.source):
            cell.source = f"*{STUDENT_WROTE}*\n\n{cell.source}"
        for out in cell.get("outputs", []):
            out.get("metadata", {}).pop("ch4grade", None)
            if out.get("output_type") == "stream" and IMPERSONATION.search(out.get("text", "")):
                out["text"] = f"{STUDENT_WROTE}\n{out['text']}"
            elif "text/plain" in out.get("data", {}) and IMPERSONATION.search(str(out["data"]["text/plain"])):
                out["data"]["text/plain"] = f"{STUDENT_WROTE}\n{out['data']['text/plain']}"
    return nb


def private_paths() -> list[tuple[str, str]]:
    """Where the grader lives on its machine, longest first, and what a student reads instead: the
    warnings their code printed while graded name files of the grading machine's Python environment."""
    import sys

    from ..paths import ROOT

    places = {}
    for path, label in ((sys.prefix, "<python>"), (sys.base_prefix, "<python>"), (str(ROOT), "<grader>")):
        for p in {path, str(Path(path).resolve())}:
            if len(p) > 1:
                places[p] = label
    return sorted(places.items(), key=lambda kv: -len(kv[0]))


# any Python environment's files (feedback may be written on another machine than the one that graded)
PYTHON_FILES = re.compile(r"/[^\s'\"<>:]*?/(?=lib/python\d[\d.]*/(?:site|dist)-packages/)")


def _scrub(text, places):
    if isinstance(text, list):
        return [_scrub(t, places) for t in text]
    if not isinstance(text, str):
        return text
    for path, label in places:
        text = text.replace(path, label)
    return PYTHON_FILES.sub("<python>/", text)


def for_students(nb):
    """`nb` without anything we added for graders, and without the grading machine's paths in outputs
    (in place; returns `nb`)."""
    places = private_paths()
    nb.cells = [c for c in nb.cells if audience(c) != GRADERS]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.get("outputs", []) if audience(o) != GRADERS]
            for out in cell.outputs:
                if "text" in out:
                    out["text"] = _scrub(out["text"], places)
                if "traceback" in out:
                    out["traceback"] = _scrub(out["traceback"], places)
                for mime in ("text/plain", "text/html", "text/markdown"):
                    if mime in out.get("data", {}):
                        out["data"][mime] = _scrub(out["data"][mime], places)
    return nb
