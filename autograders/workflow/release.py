"""`release`: nbgrader's generate_assignment for one or all assignments, a leak check, the student's checks.

generate_assignment strips solutions and hidden tests, locks cells, and records every grade, solution
and locked cell in the gradebook (what autograde and formgrader later use). After it runs we check the
released notebook ourselves: no line of any solution region or hidden-test block may survive. Then the
student's folder is completed (`autograders.student`): check cells import `ch4check`, written beside the
notebook with the public checks' probes and sealed expected values, recorded on the model answers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .course import Course, WorkflowError

SOLUTION_RE = re.compile(r"#+\s*BEGIN SOLUTION\s*\n(.*?)#+\s*END SOLUTION", re.S)
HIDDEN_RE = re.compile(r"#+\s*BEGIN HIDDEN TESTS\s*\n(.*?)#+\s*END HIDDEN TESTS", re.S)
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


@dataclass
class ReleaseResult:
    assignment: str
    ok: bool
    path: Path | None = None
    error: str = ""
    leaks: list[str] = field(default_factory=list)
    note: str = ""


def secret_snippets(source_nb) -> list[str]:
    """Every text a student must not receive: the lines of solution regions and hidden tests, and whole
    manually graded model answers (markdown solution cells). Trivial lines (blank, `pass`) are left out."""
    out: list[str] = []
    for cell in source_nb.cells:
        md = cell.get("metadata", {}).get("nbgrader", {})
        src = cell.source
        regions = SOLUTION_RE.findall(src) + HIDDEN_RE.findall(src)
        if md.get("solution") and not regions:
            regions = [src]  # a solution cell without delimiters is replaced whole
        for region in regions:
            for line in region.splitlines():
                line = line.strip()
                if len(line) >= 8 and line not in ("pass", "return", "..."):
                    out.append(line)
    return out


def public_text(source_nb) -> str:
    "What the source says outside solutions and hidden tests (prompts may quote a line of the solution)."
    parts = []
    for cell in source_nb.cells:
        md = cell.get("metadata", {}).get("nbgrader", {})
        src = HIDDEN_RE.sub("", SOLUTION_RE.sub("", cell.source))
        if md.get("solution") and src == cell.source:
            continue  # a model answer without delimiters: all of it is secret
        parts.append(src)
    return "\n".join(parts)


def find_leaks(source_nb, released_nb) -> list[str]:
    """Secret snippets of the source found in the released notebook (unless the instructor's own prompt
    text says the same thing), plus any leftover markers."""
    text = "\n".join(c.source for c in released_nb.cells)
    public = public_text(source_nb)
    leaks = [s for s in secret_snippets(source_nb) if s in text and s not in public]
    leaks += [m for m in MARKERS if m in text]
    return leaks


def release_one(course: Course, name: str, student_checks: bool = True) -> ReleaseResult:
    from nbgrader.converters import GenerateAssignment
    from nbgrader.utils import capture_log

    source = course.sync_source(name)
    app = GenerateAssignment(coursedir=course.coursedir(assignment_id=name), config=course.config())
    app.force = True
    app.create_assignment = True
    outcome = capture_log(app)
    if not outcome.get("success"):
        detail = (outcome.get("error") or outcome.get("log") or "").strip().splitlines()
        return ReleaseResult(name, False, error="\n".join(detail[-12:]) or "generate_assignment failed")
    released = course.release_notebook(name)
    if not released.exists():
        return ReleaseResult(name, False, error=f"generate_assignment wrote no {released}")
    leaks = find_leaks(nbformat.read(source, as_version=4), nbformat.read(released, as_version=4))
    if leaks:
        released.unlink()  # never leave a leaking release where it could be handed out
        return ReleaseResult(name, False, error=f"{len(leaks)} solution line(s) survived in the release; removed it",
                             leaks=leaks)
    if not student_checks:
        return ReleaseResult(name, True, released, note="without student checks (its check cells need ch4grade)")
    from ..checks import get_assignment
    from ..student.bundle import BundleError, recordings_cache, write_bundle
    try:
        spec = get_assignment(name)
    except KeyError:
        return ReleaseResult(name, True, released, note="no checks unit by that name: its check cells need ch4grade")
    try:   # the student's folder: this notebook, ch4check.py and its data, in release/<name>/
        write_bundle(spec, released, released.parent, cache=recordings_cache())
    except BundleError as e:
        released.unlink()  # a notebook whose check cells cannot run is not handed out either
        return ReleaseResult(name, False, error=f"student checks: {e}")
    return ReleaseResult(name, True, released)


def release(course: Course, name: str | None = None, progress: bool = True,
            student_checks: bool = True) -> list[ReleaseResult]:
    from tqdm.auto import tqdm

    names = course.resolve(name)
    results = []
    for n in tqdm(names, desc="release", unit="assignment", disable=not progress or len(names) < 2):
        try:
            results.append(release_one(course, n, student_checks))
        except WorkflowError as e:
            results.append(ReleaseResult(n, False, error=str(e)))
    return results
