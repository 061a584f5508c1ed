"""Who submitted what: the student id and assignment of a submitted file, from its path or metadata.

Recognised file names (any of `_ - . space` as separators, case-insensitive assignment names):
- `alice_ch04_sgd.ipynb`, `ch04_sgd_alice.ipynb`, `ch04_sgd-alice (1).ipynb`
- Canvas: `smithalice_12345_678901_ch04_sgd.ipynb`, `smithalice_LATE_12345_678901_ch04_sgd-1.ipynb`; the
  part after the two numbers is the student's own file name, so the login counts even when that part
  names no assignment (`smithalice_12345_678901_homework.ipynb`: the assignment then comes from a folder
  or the metadata). Guards against look-alikes: the login is not an assignment name and the second number
  (Canvas's attachment id) has at least 3 digits, so `hw_1_2_ch04_sgd.ipynb` is not Canvas but a plain
  name (student `hw_1_2`).
- Moodle: `Alice Smith_12345_assignsubmission_file_ch04_sgd.ipynb`
- Blackboard: `Homework 4_alice_attempt_2024-03-01-10-22-33_ch04_sgd.ipynb`

Recognised folders:
- an LMS folder: Moodle's "download submissions in folders" `Alice Smith_12345_assignsubmission_file_/`
  (or `_onlinetext_`), or a folder named like a Blackboard attempt. The LMS made it, so it IS the identity
  of every file below it (the outermost one, should a student have uploaded a folder named like one);
  a file name inside it that names someone else is reported in `Identity.warnings`, never obeyed.
- a plain per-student folder: `alice/ch04_sgd.ipynb` or nbgrader's own `alice/ch04_sgd/ch04_sgd.ipynb`
  (the folder a file is in, or the one above when that is named for an assignment). It names the student
  whatever the file is called (`alice/my homework.ipynb` too, the assignment then from the metadata).
- a plain container folder: `submissions/alice_ch04_sgd.ipynb`, `submissions/bob_ch04_sgd.ipynb`, where
  the file names say who; it names no student itself. Which plain folders are containers is decided per
  collect run from the whole listing (`container_folders`): a folder whose notebooks' file names name two
  or more students, none of them the folder's own name, and with no per-student folder beside it (a
  sibling folder holding a notebook that it alone names, or one named for it, and nobody else's). That
  last guard keeps a student who uploads `bob_...` and `carol_...` into her own folder, next to Bob's,
  from turning her folder into a container; a lone folder like that is still taken for one.
  Otherwise a plain folder is a student's: when its name and the file name give different students the
  file is refused (`Identity.problem`: ambiguous, filed under neither, so it cannot replace or displace
  anybody's submission), since the file name is the student's own choice and the folder the instructor's;
  the same holds for a folder named like an LMS one inside a student's folder. So `late/dave_ch04_sgd.ipynb`
  alone in `late/` is refused too: nothing tells a folder of one from a student's. `identify` without
  `containers` treats every plain folder as a student's.

Notebook metadata never decides against the path: `metadata.ch4grade.student` (or `student_id`) is used
only when neither the file name nor a folder names a student; when it names someone else, the path's
student is kept and the mismatch is reported in `Identity.warnings`. Likewise the assignment comes from
the name or a folder; `metadata.ch4grade.assignment` (which every released notebook carries) is used
when they name none, and a contradiction is reported, the name's assignment kept. (`collect` also keeps a
notebook that only its metadata names from replacing a submission its path identified.)

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

CANVAS = re.compile(r"^(?P<student>[^_]+?)(?:_late)?_\d+_\d{3,}_(?P<rest>.+)$", re.I)
MOODLE = re.compile(r"^(?P<student>.+?)_\d+_assignsubmission_(?:file|onlinetext)_(?P<rest>.*)$", re.I)
BLACKBOARD = re.compile(r"^.+?_(?P<student>[^_]+)_attempt_\d{4}(?:-\d\d){5}(?:_(?P<rest>.*))?$", re.I)
MOODLE_FOLDER = re.compile(r"^(?P<student>.+?)_\d+_assignsubmission_(?:file|onlinetext)_?$", re.I)
LMS_FOLDERS = (("moodle", MOODLE_FOLDER), ("blackboard", BLACKBOARD))  # folders an LMS makes (Canvas makes none)
COPY_SUFFIX = re.compile(r"(?:\s*\(\d+\)|-\d+)$")  # "name (1)" from browsers, "name-1" from Canvas
SEPARATORS = "_-. "
SOURCES = {"canvas": "Canvas file name", "moodle": "Moodle file name", "blackboard": "Blackboard file name",
           "moodle folder": "Moodle folder", "blackboard folder": "Blackboard folder"}
METADATA = "notebook metadata"  # `Identity.how` of a student named only by the notebook's own metadata


@dataclass
class Identity:
    student: str | None
    assignment: str | None
    how: str  # which rule found the student, for the collect summary: a key of SOURCES, `file name`,
    #           `folder name` or METADATA
    name: str | None = None  # the student's name as the file name, folder or metadata gave it
    warnings: list[str] = field(default_factory=list)  # what contradicts the identity kept
    problem: str = ""  # why the file must not be collected at all (its path names two students)


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


def _parts(relpath: str) -> list[str]:
    return [p for p in re.split(r"[\\/]+", relpath) if p and p != "."]


def _stem(filename: str) -> str:
    return COPY_SUFFIX.sub("", re.sub(r"\.ipynb$", "", filename, flags=re.I)).strip()


def _is_assignment(text: str, assignments: list[str]) -> bool:
    return text.strip().lower() in {a.lower() for a in assignments}


def _from_file_name(stem: str, assignments: list[str]) -> tuple[str | None, str, str | None]:
    "(student, how, assignment) that the file name alone gives; either may be None."
    student, how, rest = None, "", stem
    for rule, pattern in (("canvas", CANVAS), ("moodle", MOODLE), ("blackboard", BLACKBOARD)):
        m = pattern.match(stem)
        if m and not (rule == "canvas" and _is_assignment(m.group("student"), assignments)):
            student, how = m.group("student"), rule
            rest = COPY_SUFFIX.sub("", (m.group("rest") or "")).strip()
            break
    assignment, leftover = _strip_assignment(rest, assignments)
    if student is None and assignment and leftover:
        student, how = leftover, "file name"
    return (student.strip() or None) if student else None, how, assignment


def _lms_folder(folders: list[str]) -> tuple[int, str, str] | None:
    """(index, student, how) of the outermost LMS folder among `folders`, or None. Outermost: the LMS
    made that one; a folder below it named like one is part of what the student uploaded."""
    for i, folder in enumerate(folders):
        for rule, pattern in LMS_FOLDERS:
            m = pattern.match(folder.strip())
            if m and m.group("student").strip():
                return i, m.group("student").strip(), f"{rule} folder"
    return None


def _path_names(parts: list[str], assignments: list[str]):
    """What the path says: (student, how) of the LMS folder or else the file name (either may be None),
    the plain folder above that (`_student_folder`), and the LMS folder's index (None without one)."""
    lms = _lms_folder(parts[:-1])
    if lms:
        i, student, how = lms
        return student, how, _student_folder(parts[:i + 1], assignments), i
    student, how, _ = _from_file_name(_stem(parts[-1]), assignments)
    return student, how, _student_folder(parts, assignments), None


def _student_folder(parts: list[str], assignments: list[str]) -> tuple[str, str] | None:
    """(key, name) of the plain folder that would name the student of the file (or LMS folder) at `parts`:
    the folder it is in, or the one above when that is an assignment's (`alice/ch04_sgd/ch04_sgd.ipynb`)."""
    i = len(parts) - 2
    if i >= 0 and _is_assignment(parts[i], assignments):
        i -= 1
    if i < 0 or _is_assignment(parts[i], assignments) or not clean_student_id(parts[i]):
        return None
    return "/".join(parts[:i + 1]), parts[i].strip()


def _same_id(a: str, b: str) -> bool:
    return clean_student_id(a) == clean_student_id(b) or same_student(a, b)


def _part_of(a: str, b: str) -> bool:
    "Whether name `a` is the same student as `b` or a part of it (`alice` in `Alice Smith`)."
    if _same_id(a, b):
        return True
    part, whole = (set(re.split(r"[\s.\-']+", normalise_name(t))) - {""} for t in (a, b))
    return bool(part) and part <= whole


def container_folders(relpaths, assignments: list[str]) -> set[str]:
    """The plain folders of one collect run that are containers, whose files' names say who they are
    (see the module docstring), as `/`-joined paths; pass them to `identify`. `relpaths` are those of
    all the run's notebooks."""
    folders: dict[str, tuple[str, list[str]]] = {}  # key -> (folder's id, ids the names below it give)
    for rel in relpaths:
        parts = _parts(rel)
        if not parts:
            continue
        student, _, plain, _ = _path_names(parts, assignments)
        if plain is None:
            continue
        key, name = plain
        folders.setdefault(key, (clean_student_id(name), []))[1].append(
            clean_student_id(student) if student else "")

    def named(key: str) -> set[str]:
        return {s for s in folders[key][1] if s}

    def a_students(key: str) -> bool:
        "A notebook the folder alone names, or one named for it, and no one else's: a per-student folder."
        own, ids = folders[key]
        return len(named(key)) <= 1 and any(not s or s == own for s in ids)

    by_parent: dict[str, list[str]] = {}
    for key in folders:
        by_parent.setdefault(key.rpartition("/")[0], []).append(key)
    out = set()
    for key, (own, _) in folders.items():
        if len(named(key)) < 2 or own in named(key):
            continue  # one name, or the folder's own among them: a student's folder
        if any(a_students(other) for other in by_parent[key.rpartition("/")[0]] if other != key):
            continue  # beside per-student folders: one student's folder holding files named for others
        out.add(key)
    return out


def identify(relpath: str, assignments: list[str], metadata: dict | None = None,
             containers=None) -> Identity:
    """Student and assignment of the file at `relpath` (relative to the collected folder or zip root).
    Either may be None when nothing identifies it; `problem` is set (and the student None) when the path
    names two different students and the file must not be collected. An LMS folder wins over the file
    name; a plain folder in `containers` (from `container_folders`) leaves it to the file name, any
    other plain folder must agree with it. The path wins over the notebook's metadata; `warnings` says
    where anything disagrees with the identity kept."""
    meta = (metadata or {}).get("ch4grade", {}) if isinstance(metadata, dict) else {}
    meta = meta if isinstance(meta, dict) else {}
    meta_student = meta.get("student") or meta.get("student_id")
    meta_assignment = meta.get("assignment")
    parts = _parts(relpath)
    stem = _stem(parts[-1]) if parts else ""
    file_student, file_how, assignment = _from_file_name(stem, assignments)
    warnings: list[str] = []

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

    student, how, problem = None, "", ""
    named, named_how, plain, lms_at = _path_names(parts, assignments) if parts else (None, "", None, None)
    if lms_at is not None and file_student and not _part_of(file_student, named):
        # Moodle's folder is who submitted; the file inside keeps whatever name the student gave it
        warnings.append(f"the file name names {_short(file_student)} but it is in the {SOURCES[named_how]} "
                        f"{_short(parts[lms_at])}: kept {_short(named)}")
    if named and not clean_student_id(named):
        warnings.append(f"the {SOURCES.get(named_how, named_how)} gives no usable student id ({_short(named)})")
        named = None
    if plain and plain[0] not in (containers or ()):
        folder = plain[1]  # a student's folder: what the path names below it must be that student
        if named and not _same_id(named, folder):
            what = f"inside the {SOURCES[named_how]} of" if lms_at is not None else "named for"
            problem = (f"in folder {_short(folder)} but {what} {_short(named)}: ambiguous, not collected; "
                       f"rename or move it")
        elif named:
            student, how = named, named_how
        else:
            student, how = folder, "folder name"
    elif named:
        student, how = named, named_how

    meta_name = str(meta_student).strip() if meta_student not in (None, "") else ""
    meta_id = clean_student_id(meta_name) if meta_name else ""
    if problem:
        student, how = None, ""
    elif student is None:
        if meta_id:
            student, how = meta_name, METADATA
    elif meta_id and meta_id != clean_student_id(student) and not same_student(meta_name, student):
        warnings.append(f"notebook metadata names student {_short(meta_name)} but the "
                        f"{SOURCES.get(how, how)} says {_short(student)}: kept {_short(student)}")
    sid = clean_student_id(student) if student else None
    return Identity(sid or None, assignment, how or "file name", student if sid else None, warnings, problem)
