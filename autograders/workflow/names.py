"""Who submitted what: the student id and assignment of a submitted file, from its name or metadata.

Recognised file names (any of `_ - . space` as separators, case-insensitive assignment names):
- `alice_ch04_sgd.ipynb`, `ch04_sgd_alice.ipynb`, `ch04_sgd-alice (1).ipynb`
- Canvas: `smithalice_12345_678901_ch04_sgd.ipynb`, `smithalice_LATE_12345_678901_ch04_sgd-1.ipynb`
- Moodle: `Alice Smith_12345_assignsubmission_file_ch04_sgd.ipynb`
- Blackboard: `Homework 4_alice_attempt_2024-03-01-10-22-33_ch04_sgd.ipynb`
- a per-student folder: `alice/ch04_sgd.ipynb` or nbgrader's own `alice/ch04_sgd/ch04_sgd.ipynb`

The name (or folder) wins: it is what the LMS or the instructor's export says, while a notebook's
metadata is whatever the student's file carries. `metadata.ch4grade.student` (or `student_id`) is used
only when neither the file name nor its folder names a student; when it names someone else, the name's
student is kept and the mismatch is reported in `Identity.warnings`. Likewise the assignment comes from
the name or a folder; `metadata.ch4grade.assignment` (which every released notebook carries) is used
when they name none, and a contradiction is reported, the name's assignment kept.

Student ids (`clean_student_id`): a valid nbgrader id, ASCII letters, digits and `_ - .`, lower case, at
most 64 characters.
- A name that survives ASCII transliteration keeps the id it always had: `Alice Smith` -> `alice_smith`,
  `alice` -> `alice`. Accented Latin counts as transliterable (only combining accents are lost):
  `José García` -> `jose_garcia`, as before.
- A name that loses letters or digits in transliteration (Hangul, Cyrillic, CJK, but also `ß`, `ø`,
  `ł`, which do not decompose) gets what is left in ASCII plus a hash of the name: `Park 지민` ->
  `park-<8 hex>`, `지민` -> `s-<8 hex>`. The hash is of `normalise_name` (NFC, case-folded, runs of
  whitespace and `_` as one space), so the same name always gives the same id, on any machine and
  whatever else is collected with it; NFD file names (macOS zips) give the same id as NFC ones.
The original name is kept in `Identity.name` for display. Two different names that still meet on one id
(`José`/`Jose`, `O'Brien`/`OBrien`, a hash collision) are kept apart by `collect`, which gives
`alternative_id` to all but one of them and reports it.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field

CANVAS = re.compile(r"^(?P<student>[^_]+?)(?:_late)?_\d+_\d+_(?P<rest>.+)$", re.I)
MOODLE = re.compile(r"^(?P<student>.+?)_\d+_assignsubmission_(?:file|onlinetext)_(?P<rest>.*)$", re.I)
BLACKBOARD = re.compile(r"^.+?_(?P<student>[^_]+)_attempt_\d{4}(?:-\d\d){5}(?:_(?P<rest>.*))?$", re.I)
COPY_SUFFIX = re.compile(r"(?:\s*\(\d+\)|-\d+)$")  # "name (1)" from browsers, "name-1" from Canvas
SEPARATORS = "_-. "
METADATA = "notebook metadata"  # `Identity.how` of a student named only by the notebook's own metadata


@dataclass
class Identity:
    student: str | None
    assignment: str | None
    how: str  # which rule found the student, for the collect summary
    name: str | None = None  # the student's name as the file name, folder or metadata gave it
    warnings: list[str] = field(default_factory=list)  # what contradicts the identity kept


_INVISIBLE = ("Cc", "Cf")  # control and format characters (zero-width spaces, direction marks)


def _visible(raw: str) -> str:
    return "".join(ch for ch in str(raw) if ch.isspace() or unicodedata.category(ch) not in _INVISIBLE)


def normalise_name(raw: str) -> str:
    """The form of a name that identifies a person: NFC, case-folded, invisible characters dropped, runs
    of whitespace and `_` (which ids use for spaces) as one space. Two spellings with the same form are
    the same student; the name hash is taken of it."""
    text = unicodedata.normalize("NFC", _visible(raw))
    text = unicodedata.normalize("NFC", text.casefold())
    return re.sub(r"[\s_]+", " ", text).strip()


def name_hash(raw: str, length: int = 8) -> str:
    "A short, stable hex digest of `normalise_name(raw)`."
    return hashlib.sha256(normalise_name(raw).encode("utf-8")).hexdigest()[:length]


def ascii_id(raw: str) -> str:
    "The id before non-Latin names were supported: transliterate to ASCII, drop everything else."
    text = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode()
    text = re.sub(r"\s+", "_", text.strip())
    text = re.sub(r"[^A-Za-z0-9_.-]", "", text).strip("._-")
    return text.lower()[:64]


def loses_letters(raw: str) -> bool:
    """Whether ASCII transliteration drops a letter or digit of `raw` (not just a combining accent or a
    punctuation mark): `Park 지민`, `Søren`, `Straße` do, `José`, `O’Brien` do not."""
    return any(ord(ch) > 127 and unicodedata.category(ch)[0] in "LN"
               for ch in unicodedata.normalize("NFKD", _visible(raw)))


def _with_hash(raw: str, length: int) -> str:
    digest = name_hash(raw, length)
    base = ascii_id(_visible(raw))[: 64 - length - 1].rstrip("._-")
    return f"{base or 's'}-{digest}"


def clean_student_id(raw: str) -> str:
    """A safe nbgrader student id for the name `raw` (see the module docstring): today's ASCII id when the
    name transliterates, else its ASCII part (or `s`) plus `-` and a hash of the name.
    Returns '' when nothing usable is left (an empty name, only punctuation or symbols)."""
    raw = str(raw)
    if loses_letters(raw):
        return _with_hash(raw, 8)
    return ascii_id(raw)


def alternative_id(raw: str) -> str:
    """The id `collect` gives a name whose `clean_student_id` another name in the course already holds:
    its ASCII part (or `s`) plus `-` and a longer hash of the name, stable like the first."""
    return _with_hash(str(raw), 12)


def same_student(a: str, b: str) -> bool:
    "Whether two names are the same student: the same `normalise_name`."
    return normalise_name(a) == normalise_name(b)


def _short(text, limit: int = 80) -> str:
    text = str(text)
    return repr(text if len(text) <= limit else text[:limit] + "...")


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
    Either may be None when nothing identifies it. The file name or folder wins over the notebook's
    metadata; `warnings` says where the metadata disagrees."""
    meta = (metadata or {}).get("ch4grade", {}) if isinstance(metadata, dict) else {}
    meta = meta if isinstance(meta, dict) else {}
    meta_student = meta.get("student") or meta.get("student_id")
    meta_assignment = meta.get("assignment")
    parts = [p for p in re.split(r"[\\/]+", relpath) if p and p != "."]
    stem = re.sub(r"\.ipynb$", "", parts[-1], flags=re.I) if parts else ""
    stem = COPY_SUFFIX.sub("", stem).strip()
    student, how, rest = None, "", stem
    warnings: list[str] = []

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

    if isinstance(meta_assignment, str) and meta_assignment in assignments:
        if assignment is None:
            assignment = meta_assignment
        elif meta_assignment != assignment:
            warnings.append(f"notebook metadata says assignment {_short(meta_assignment)} but the file's path "
                            f"says {_short(assignment)}: kept {_short(assignment)}")

    source = {"canvas": "Canvas file name", "moodle": "Moodle file name",
              "blackboard": "Blackboard file name"}.get(how, how)
    student = student.strip() if student else None
    if student and not clean_student_id(student):
        warnings.append(f"the {source} gives no usable student id ({_short(student)})")
        student, how = None, ""
    meta_name = str(meta_student).strip() if meta_student not in (None, "") else ""
    meta_id = clean_student_id(meta_name) if meta_name else ""
    if student is None:
        if meta_id:
            student, how = meta_name, METADATA
    elif meta_id and meta_id != clean_student_id(student) and not same_student(meta_name, student):
        warnings.append(f"notebook metadata names student {_short(meta_name)} but the {source} says "
                        f"{_short(student)}: kept {_short(student)}")
    sid = clean_student_id(student) if student else None
    return Identity(sid or None, assignment, how or "file name", student if sid else None, warnings)
