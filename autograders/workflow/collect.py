"""`collect`: a folder, a zip or a single notebook of submissions into nbgrader's layout.

Every input file ends in the summary with a status: `collected`, `updated` (a newer submission replaced
an older one, which is kept under `collect_archive/`), `unchanged`, `duplicate` (the same student and
assignment twice in this batch: the newest file wins, but a file identified by its name or folder always
beats one identified only by its metadata), `rejected` (with the reason) or `ignored`
(OS litter such as `__MACOSX/` or `.DS_Store`). A bad file never stops the others.

Who the student is follows `names.identify`, with the plain folders that are containers decided once for
the whole run (`names.container_folders`): an LMS folder (Moodle's `..._assignsubmission_file_/`) is the
identity of every file in it; a per-student folder and a file name inside it must agree, or the file is
`rejected` as ambiguous (a student's own file name never files it under a classmate, nor marks the
classmate's file `duplicate`); the path wins over the notebook's metadata, which only fills in when the
path names nobody, and a notebook whose metadata names someone else is collected for the student of its
path, with a warning. A notebook that only its metadata names never displaces a submission its path
identified: in the same run it is the `duplicate`, and when the submission already collected was
identified by a file name or folder (per its `collected_from.json`, or with no record at all) it is
`rejected` rather than replacing it. Each entry keeps the student's original name (`display_name`), also
written to `collected_from.json` beside the notebook (with `identified_by`) and, for a new student, into
the gradebook's `last_name`.

Two files with the same id and the same student (the same `names.normalise_name`, or a name that is the
id itself, as in nbgrader's own folders) are one student resubmitting: the newest is kept, the other is a
`duplicate` (reported, never deleted from the source). Two files whose names differ but meet on one id
(`José` and `Jose`, or a name already recorded in `submitted/<id>/*/collected_from.json` by an earlier
collect) are different students: one keeps the id (the recorded name, else the ASCII one, else the first
in sort order) and every other gets `names.alternative_id`; the summary's `warnings` name the files.
Names that differ but look alike in ASCII (`Park 지민` -> `park-...` and `Park 서연` -> `park-...`) are
listed there too, so that nobody mistakes one for the other.

The submission time written to nbgrader's `timestamp.txt` (what late penalties read) is the submission's
own, never the time of collection (`submission_time`): a zip member's date_time, else the time an LMS put
in the file or folder name (Blackboard's `_attempt_YYYY-MM-DD-HH-MM-SS`; Canvas and Moodle names carry
none), else the file's mtime; the time of collection only when none of these exists. Zip and LMS times
carry no time zone and are read as this machine's local time.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import zipfile
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import nbformat

from .course import Course, WorkflowError
from .files import atomic_write_bytes, atomic_write_text, write_json
from .names import (METADATA, SOURCES, alternative_id, ascii_id, container_folders, identify, loses_letters,
                    normalise_name)
from .safezip import MiB, ZipLimits, read_members

IGNORED_PARTS = ("__MACOSX", ".ipynb_checkpoints", ".DS_Store", "Thumbs.db", "desktop.ini")
STATUSES = ("collected", "updated", "unchanged", "duplicate", "rejected", "ignored")


@dataclass
class Entry:
    source: str                     # path in the folder / zip
    status: str = "rejected"
    reason: str = ""
    student: str | None = None
    assignment: str | None = None
    how: str = ""                   # how the student was identified
    dest: str = ""
    display_name: str | None = None  # the student's original name (file name, folder or metadata)
    warnings: list[str] = field(default_factory=list)  # identity problems: metadata mismatch, shared id


@dataclass
class CollectSummary:
    source: str
    entries: list[Entry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # across files: names sharing an id, look-alike ids

    def count(self, status: str) -> int:
        return sum(e.status == status for e in self.entries)

    @property
    def ok(self) -> bool:
        return self.count("rejected") == 0

    def lines(self) -> list[str]:
        n_warn = len(self.warnings) + sum(len(e.warnings) for e in self.entries)
        out = [f"collect {self.source}: " + ", ".join(f"{self.count(s)} {s}" for s in STATUSES if self.count(s))
               + (f"; {n_warn} warning{'s' * (n_warn != 1)}" if n_warn else "")]
        for e in self.entries:
            if e.status in ("collected", "updated", "unchanged"):
                name = f" [{e.display_name}]" if e.display_name and e.display_name != e.student else ""
                out.append(f"  {e.status:9s} {e.student}/{e.assignment}{name}  <- {e.source}  ({e.how})")
        for e in self.entries:
            if e.status in ("duplicate", "rejected"):
                out.append(f"  {e.status.upper():9s} {e.source}: {e.reason}")
        for e in self.entries:
            for w in e.warnings:
                out.append(f"  WARNING   {e.source}: {w}")
        for w in self.warnings:
            out.append(f"  WARNING   {w}")
        return out

    def to_dict(self) -> dict:
        return {"source": self.source, "entries": [asdict(e) for e in self.entries], "warnings": self.warnings}


@dataclass
class _Candidate:
    entry: Entry
    data: bytes
    mtime: float


def _ignored(relpath: str) -> bool:
    parts = relpath.replace("\\", "/").split("/")
    return any(p in IGNORED_PARTS or p.startswith("._") for p in parts)


NAME_TIME = re.compile(r"_attempt_(\d{4})-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)")
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip can hold: what tools write when they know none


def submission_time(relpath: str, zip_date_time: tuple | None = None, mtime: float = 0.0) -> float:
    "When the student handed it in (POSIX seconds; 0 if unknown): zip date_time, else LMS name, else mtime."
    for fields in (zip_date_time if zip_date_time and tuple(zip_date_time) != ZIP_EPOCH else None,
                   next((tuple(map(int, m.groups())) for m in NAME_TIME.finditer(relpath)), None)):
        if fields:
            try:
                return dt.datetime(*fields).timestamp()
            except (ValueError, OverflowError):
                pass
    return mtime


def _iter_folder(folder: Path, limits: ZipLimits) -> Iterator[tuple[str, Callable[[], bytes] | None, float, str]]:
    "(relpath, reader or None, mtime, problem) for every file under `folder`, never following symlinks."
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        base = Path(dirpath)
        for d in list(dirnames):
            if (base / d).is_symlink():
                dirnames.remove(d)
                yield str((base / d).relative_to(folder)), None, 0.0, "symbolic link (not followed)"
        dirnames.sort()
        for name in sorted(filenames):
            p = base / name
            rel = str(p.relative_to(folder))
            if p.is_symlink():
                yield rel, None, 0.0, "symbolic link (not followed)"
                continue
            st = p.stat()
            if st.st_size > limits.max_member:
                yield rel, None, st.st_mtime, f"too large ({st.st_size / MiB:.1f} MiB)"
                continue
            yield rel, p.read_bytes, submission_time(rel, mtime=st.st_mtime), ""


def _iter_zip(path: Path, limits: ZipLimits):
    mtime = path.stat().st_mtime
    for m in read_members(path, limits):
        when = submission_time(m.name, m.date_time, mtime)
        yield m.name, (lambda d=m.data: d) if m.data is not None else None, when, m.problem


def _inputs(source: Path, limits: ZipLimits):
    if not source.exists():
        raise WorkflowError(f"{source} does not exist")
    if source.is_dir():
        return _iter_folder(source, limits)
    if zipfile.is_zipfile(source):
        return _iter_zip(source, limits)
    if source.suffix.lower() == ".ipynb":
        st = source.stat()
        if st.st_size > limits.max_member:
            return iter([(source.name, None, st.st_mtime, f"too large ({st.st_size / MiB:.1f} MiB)")])
        return iter([(source.name, source.read_bytes, submission_time(source.name, mtime=st.st_mtime), "")])
    raise WorkflowError(f"{source} is neither a folder, a zip archive nor a notebook")


def _parse(data: bytes):
    "The notebook in `data`, or raise ValueError with a short reason."
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("not a notebook (not UTF-8 text)")
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as e:  # JSON errors, schema errors
        raise ValueError(f"not a notebook ({type(e).__name__}: {str(e).splitlines()[0][:120] if str(e) else ''})")
    if not isinstance(nb.get("cells"), list):
        raise ValueError("not a notebook (no cells)")
    return nb


def collect(course: Course, source: str | Path, limits: ZipLimits | None = None,
            progress: bool = True) -> CollectSummary:
    from tqdm.auto import tqdm

    limits = limits or ZipLimits()
    source = Path(source).expanduser()
    known = course.available()
    if not known:
        raise WorkflowError(f"no assignments known (none in {course.assignments_dir} or {course.root / 'source'})")
    summary = CollectSummary(str(source))
    candidates: list[_Candidate] = []
    try:
        inputs = list(_inputs(source, limits)) if source.is_dir() else _inputs(source, limits)
    except (zipfile.BadZipFile, OSError) as e:
        raise WorkflowError(f"cannot read {source}: {e}")
    notebooks: list[tuple[Entry, bytes, float, dict]] = []
    for rel, reader, mtime, problem in tqdm(inputs, desc="collect", unit="file", disable=not progress):
        entry = Entry(rel)
        summary.entries.append(entry)
        if _ignored(rel):
            entry.status, entry.reason = "ignored", "operating-system litter"
            continue
        if problem:
            entry.reason = problem
            continue
        if rel.lower().endswith(".zip"):
            entry.reason = "nested archive (collect it on its own)"
            continue
        if not rel.lower().endswith(".ipynb"):
            entry.reason = f"not a notebook ({Path(rel).suffix or 'no extension'})"
            continue
        try:
            data = reader()
            nb = _parse(data)
        except ValueError as e:
            entry.reason = str(e)
            continue
        except OSError as e:
            entry.reason = f"cannot read: {e}"
            continue
        notebooks.append((entry, data, mtime, nb.metadata))

    # which plain folders hold several students' files (their names decide) is a matter of the whole listing
    containers = container_folders([e.source for e, *_ in notebooks], known)
    for entry, data, mtime, metadata in notebooks:
        ident = identify(entry.source, known, metadata, containers)
        entry.student, entry.assignment, entry.how = ident.student, ident.assignment, ident.how
        entry.display_name, entry.warnings = ident.name, list(ident.warnings)
        if ident.problem:
            entry.reason = ident.problem
            continue
        if ident.assignment is None:
            entry.reason = f"unknown assignment (expected one of: {', '.join(known)} in the name or metadata)"
            continue
        if ident.student is None:
            entry.reason = ("cannot tell the student: name the file <student>_<assignment>.ipynb "
                            "or set metadata ch4grade.student")
            continue
        candidates.append(_Candidate(entry, data, mtime))

    _separate_students(course, candidates, summary)
    # a notebook only its metadata names never replaces a submission that its path identified before
    kept = []
    for c in candidates:
        why = _displaces_named(course, c) if c.entry.how == METADATA else ""
        if why:
            c.entry.reason = why  # (status: rejected)
        else:
            kept.append(c)
    candidates = kept
    # the same student and assignment twice: keep the newest (then the last in path order); a file whose
    # name or folder says who it is beats one that only its own metadata names
    by_key: dict[tuple[str, str], list[_Candidate]] = {}
    for c in candidates:
        by_key.setdefault((c.entry.student, c.entry.assignment), []).append(c)
    winners = []
    for group in by_key.values():
        group.sort(key=lambda c: (c.entry.how != METADATA, c.mtime, c.entry.source))
        winner = group[-1]
        for loser in group[:-1]:
            loser.entry.status = "duplicate"
            if loser.entry.how == METADATA and winner.entry.how != METADATA:
                loser.entry.reason = (f"only its notebook metadata names {winner.entry.student}, whose "
                                      f"{winner.entry.how} identifies another file: kept {winner.entry.source}")
            else:
                loser.entry.reason = (f"another file for {winner.entry.student}/{winner.entry.assignment} "
                                      f"is newer: kept {winner.entry.source}")
        winners.append(winner)

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    for c in winners:
        _store(course, c, stamp)

    students = {c.entry.student: c.entry.display_name for c in sorted(winners, key=lambda c: c.entry.source)
                if c.entry.status in ("collected", "updated", "unchanged")}
    if students:
        with course.gradebook() as gb:
            for s in sorted(students):
                student = gb.update_or_create_student(s)
                name = students[s]
                if name and name != s and not (student.first_name or student.last_name):
                    # the whole name as the last name: which part is the family name is not ours to guess
                    student.first_name, student.last_name = "", name[:128]
                    gb.db.commit()
    write_json(course.root / "collect_summary.json", summary.to_dict())
    return summary


def _store(course: Course, c: _Candidate, stamp: str) -> None:
    e = c.entry
    folder = course.submitted_dir(e.student, e.assignment)
    dest = folder / f"{e.assignment}.ipynb"
    e.dest = str(dest)
    if dest.exists():
        if hashlib.sha256(dest.read_bytes()).digest() == hashlib.sha256(c.data).digest():
            e.status, e.reason = "unchanged", "identical to the submission already collected"
            _record_name(folder / "collected_from.json", e)
            return
        archive = course.root / "collect_archive" / stamp / e.student / e.assignment
        archive.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(folder, archive, dirs_exist_ok=True)
        e.status, e.reason = "updated", f"previous submission kept in {archive}"
    else:
        e.status = "collected"
    atomic_write_bytes(dest, c.data)
    when = dt.datetime.fromtimestamp(c.mtime or dt.datetime.now().timestamp(), dt.timezone.utc)
    atomic_write_text(folder / "timestamp.txt", when.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
    atomic_write_text(folder / "collected_from.json", json.dumps(
        {"source": e.source, "identified_by": e.how, "display_name": e.display_name, "warnings": e.warnings},
        ensure_ascii=False))


def _displaces_named(course: Course, c: _Candidate) -> str:
    """Why the metadata-only candidate `c` must not replace the submission already collected for its student
    and assignment ('' when it may: none there, the same bytes, or one that metadata identified too). A
    submission with no readable `collected_from.json` was not collected from a metadata-only notebook
    (nbgrader put it there, or an older collect) and is kept as well."""
    e = c.entry
    folder = course.submitted_dir(e.student, e.assignment)
    dest = folder / f"{e.assignment}.ipynb"
    if not dest.exists():
        return ""
    try:
        if dest.read_bytes() == c.data:
            return ""
    except OSError:
        pass
    try:
        record = json.loads((folder / "collected_from.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = None
    record = record if isinstance(record, dict) else {}
    how = record.get("identified_by")
    if how == METADATA:
        return ""
    was = (f"by its {SOURCES.get(how, how)} ({record.get('source')})" if isinstance(how, str) and how
           else "by its path (no collect record)")
    return (f"only its notebook metadata names {e.student!r}, whose submission collected before was identified "
            f"{was}: not collected, so as not to replace it (name the file {e.student}_{e.assignment}.ipynb "
            f"to collect it)")


def _record_name(record: Path, e: Entry) -> None:
    "Add the student's name to a record written before names were kept (the id stays the owner's)."
    try:
        data = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(data, dict) and not data.get("display_name") and e.display_name:
        data["display_name"] = e.display_name
        atomic_write_text(record, json.dumps(data, ensure_ascii=False))


def _is_id_itself(name: str | None, sid: str) -> bool:
    "A name that is already the id (nbgrader's folders, lower-case user names) goes with any name of that id."
    return name is None or name.strip() == sid


def _recorded_names(course: Course, sid: str) -> dict[str, str]:
    "normalised name -> name of the students earlier collects stored under `sid` (any assignment)."
    out: dict[str, str] = {}
    for record in sorted((course.root / "submitted" / sid).glob("*/collected_from.json")):
        try:
            name = json.loads(record.read_text(encoding="utf-8")).get("display_name")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(name, str) and name and not _is_id_itself(name, sid):
            out.setdefault(normalise_name(name), name)
    return out


def _separate_students(course: Course, candidates: list[_Candidate], summary: CollectSummary) -> None:
    """Different names that meet on one id keep distinct ids (see the module docstring); report them, and
    the look-alike ids of names that lost letters to ASCII."""
    by_id: dict[str, list[_Candidate]] = defaultdict(list)
    for c in candidates:
        by_id[c.entry.student].append(c)
    for sid, group in sorted(by_id.items()):
        recorded = _recorded_names(course, sid)
        named: dict[str, list[_Candidate]] = defaultdict(list)
        for c in group:
            if not _is_id_itself(c.entry.display_name, sid):
                named[normalise_name(c.entry.display_name)].append(c)
        if recorded:
            owners = set(recorded)
        else:
            first = min(named, key=lambda k: (not k.isascii(), k), default=None)
            owners = {first} if first is not None else set()
        owner_name = next(iter(recorded.values()), None) or next(
            (cs[0].entry.display_name for k, cs in named.items() if k in owners), None)
        for c in group:  # `alice/ch04.ipynb` beside `Alice_ch04.ipynb`: the name, for display
            if _is_id_itself(c.entry.display_name, sid) and owner_name:
                c.entry.display_name = owner_name
        moved = {k: cs for k, cs in named.items() if k not in owners}
        for cs in moved.values():
            new = alternative_id(cs[0].entry.display_name)
            for c in cs:
                c.entry.student = new
                c.entry.warnings.append(f"another student's name also gives the id {sid!r}: "
                                        f"collected as {new!r} instead")
        if moved:
            kept = ", ".join(c.entry.source for c in group if c.entry.student == sid) or "collected earlier"
            others = "; ".join(f"{cs[0].entry.display_name!r} -> {cs[0].entry.student!r} "
                               f"({', '.join(c.entry.source for c in cs)})" for _, cs in sorted(moved.items()))
            summary.warnings.append(f"different names give the same id {sid!r}, kept apart: "
                                    f"{owner_name!r} -> {sid!r} ({kept}); {others}")
    # look-alike ids: names that lost letters to ASCII, with the same ASCII part as another student's
    by_base: dict[str, dict[str, tuple[str, list[str]]]] = defaultdict(dict)
    for c in candidates:
        name = c.entry.display_name or c.entry.student
        base = ascii_id(name)
        if base:
            _, sources = by_base[base].setdefault(c.entry.student, (name, []))
            sources.append(c.entry.source)
    for base, ids in sorted(by_base.items()):
        if len(ids) > 1 and any(loses_letters(name) for name, _ in ids.values()):
            listed = "; ".join(f"{name!r} -> {sid!r} ({', '.join(srcs)})"
                               for sid, (name, srcs) in sorted(ids.items()))
            summary.warnings.append(f"different students whose names look alike in ASCII ({base!r}), "
                                    f"kept apart: {listed}")
