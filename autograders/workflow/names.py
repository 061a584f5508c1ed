"""Who submitted what: the student id and assignment of a submitted file, from its name or metadata.

Recognised file names (any of `_ - . space` as separators, case-insensitive assignment names):
- `alice_ch04_sgd.ipynb`, `ch04_sgd_alice.ipynb`, `ch04_sgd-alice (1).ipynb`
- Canvas: `smithalice_12345_678901_ch04_sgd.ipynb`, `smithalice_LATE_12345_678901_ch04_sgd-1.ipynb`
- Moodle: `Alice Smith_12345_assignsubmission_file_ch04_sgd.ipynb`
- Blackboard: `Homework 4_alice_attempt_2024-03-01-10-22-33_ch04_sgd.ipynb`
- a per-student folder: `alice/ch04_sgd.ipynb` or nbgrader's own `alice/ch04_sgd/ch04_sgd.ipynb`
Notebook metadata wins over the name when it is set: `metadata.ch4grade.student` (or `student_id`) and
`metadata.ch4grade.assignment` (which every released notebook carries).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

CANVAS = re.compile(r"^(?P<student>[^_]+?)(?:_late)?_\d+_\d+_(?P<rest>.+)$", re.I)
MOODLE = re.compile(r"^(?P<student>.+?)_\d+_assignsubmission_(?:file|onlinetext)_(?P<rest>.*)$", re.I)
BLACKBOARD = re.compile(r"^.+?_(?P<student>[^_]+)_attempt_\d{4}(?:-\d\d){5}(?:_(?P<rest>.*))?$", re.I)
COPY_SUFFIX = re.compile(r"(?:\s*\(\d+\)|-\d+)$")  # "name (1)" from browsers, "name-1" from Canvas
SEPARATORS = "_-. "


@dataclass
class Identity:
    student: str | None
    assignment: str | None
    how: str  # which rule found it, for the collect summary


def clean_student_id(raw: str) -> str:
    """A safe nbgrader student id: ASCII letters, digits, `_ - .`; spaces become `_`; lower case.
    Returns '' when nothing usable is left."""
    text = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode()
    text = re.sub(r"\s+", "_", text.strip())
    text = re.sub(r"[^A-Za-z0-9_.-]", "", text).strip("._-")
    return text.lower()[:64]


def _strip_assignment(stem: str, assignments: list[str]) -> tuple[str | None, str]:
    "Find an assignment name inside `stem`; return it and what is left around it."
    low = stem.lower()
    for name in sorted(assignments, key=len, reverse=True):  # longest first: no prefix confusion
        for m in re.finditer(re.escape(name.lower()), low):
            before, after = stem[:m.start()], stem[m.end():]
            # the name must stand alone: a separator (or the edge) on both sides
            if (not before or before[-1] in SEPARATORS) and (not after or after[0] in SEPARATORS):
                rest = (before.rstrip(SEPARATORS) + " " + after.lstrip(SEPARATORS)).strip()
                return name, rest
    return None, stem


def identify(relpath: str, assignments: list[str], metadata: dict | None = None) -> Identity:
    """Student and assignment of the file at `relpath` (relative to the collected folder or zip root).
    Either may be None when nothing identifies it."""
    meta = (metadata or {}).get("ch4grade", {}) if isinstance(metadata, dict) else {}
    meta_student = meta.get("student") or meta.get("student_id")
    meta_assignment = meta.get("assignment")
    parts = [p for p in re.split(r"[\\/]+", relpath) if p and p != "."]
    stem = re.sub(r"\.ipynb$", "", parts[-1], flags=re.I) if parts else ""
    stem = COPY_SUFFIX.sub("", stem).strip()
    student, how, rest = None, "", stem

    for rule, pattern in (("canvas", CANVAS), ("moodle", MOODLE), ("blackboard", BLACKBOARD)):
        m = pattern.match(stem)
        if m:
            rest = COPY_SUFFIX.sub("", (m.group("rest") or "")).strip()
            # Canvas's pattern is loose: accept it only when the rest names an assignment
            if rule != "canvas" or _strip_assignment(rest, assignments)[0]:
                student, how = m.group("student"), rule
                break
            rest = stem

    assignment, leftover = _strip_assignment(rest, assignments)
    if student is None:
        if assignment and leftover:
            student, how = leftover, "file name"
        elif assignment and len(parts) >= 2:
            # alice/ch04_sgd.ipynb, or nbgrader's alice/ch04_sgd/ch04_sgd.ipynb
            folder = parts[-2]
            if folder.lower() == assignment.lower() and len(parts) >= 3:
                folder = parts[-3]
            student, how = folder, "folder name"
    if assignment is None and len(parts) >= 2:
        # .../ch04_sgd/notebook.ipynb: the folder names the assignment
        for folder in reversed(parts[:-1]):
            found, _ = _strip_assignment(folder, assignments)
            if found and found.lower() == folder.lower():
                assignment = found
                break

    if meta_assignment in assignments:
        assignment = meta_assignment
    if meta_student and clean_student_id(str(meta_student)):
        student, how = str(meta_student), "notebook metadata"
    student = clean_student_id(student) if student else None
    return Identity(student or None, assignment, how or "file name")
