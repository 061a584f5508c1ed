"""`collect`: a folder, a zip or a single notebook of submissions into nbgrader's layout.

Every input file ends in the summary with a status: `collected`, `updated` (a newer submission replaced
an older one, which is kept under `collect_archive/`), `unchanged`, `duplicate` (the same student and
assignment twice in this batch: the newest file wins), `rejected` (with the reason) or `ignored`
(OS litter such as `__MACOSX/` or `.DS_Store`). A bad file never stops the others.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import nbformat

from .course import Course, WorkflowError
from .files import atomic_write_bytes, atomic_write_text, write_json
from .names import identify
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


@dataclass
class CollectSummary:
    source: str
    entries: list[Entry] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(e.status == status for e in self.entries)

    @property
    def ok(self) -> bool:
        return self.count("rejected") == 0

    def lines(self) -> list[str]:
        out = [f"collect {self.source}: " + ", ".join(f"{self.count(s)} {s}" for s in STATUSES if self.count(s))]
        for e in self.entries:
            if e.status in ("collected", "updated", "unchanged"):
                out.append(f"  {e.status:9s} {e.student}/{e.assignment}  <- {e.source}  ({e.how})")
        for e in self.entries:
            if e.status in ("duplicate", "rejected"):
                out.append(f"  {e.status.upper():9s} {e.source}: {e.reason}")
        return out

    def to_dict(self) -> dict:
        return {"source": self.source, "entries": [asdict(e) for e in self.entries]}


@dataclass
class _Candidate:
    entry: Entry
    data: bytes
    mtime: float


def _ignored(relpath: str) -> bool:
    parts = relpath.replace("\\", "/").split("/")
    return any(p in IGNORED_PARTS or p.startswith("._") for p in parts)


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
            yield rel, p.read_bytes, st.st_mtime, ""


def _iter_zip(path: Path, limits: ZipLimits):
    for m in read_members(path, limits):
        mtime = 0.0
        if m.date_time:
            try:
                mtime = dt.datetime(*m.date_time).timestamp()
            except ValueError:
                pass
        yield m.name, (lambda d=m.data: d) if m.data is not None else None, mtime, m.problem


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
        return iter([(source.name, source.read_bytes, st.st_mtime, "")])
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
        ident = identify(rel, known, nb.metadata)
        entry.student, entry.assignment, entry.how = ident.student, ident.assignment, ident.how
        if ident.assignment is None:
            entry.reason = f"unknown assignment (expected one of: {', '.join(known)} in the name or metadata)"
            continue
        if ident.student is None:
            entry.reason = ("cannot tell the student: name the file <student>_<assignment>.ipynb "
                            "or set metadata ch4grade.student")
            continue
        candidates.append(_Candidate(entry, data, mtime))

    # the same student and assignment twice: keep the newest (then the last in path order)
    by_key: dict[tuple[str, str], list[_Candidate]] = {}
    for c in candidates:
        by_key.setdefault((c.entry.student, c.entry.assignment), []).append(c)
    winners = []
    for group in by_key.values():
        group.sort(key=lambda c: (c.mtime, c.entry.source))
        winner = group[-1]
        for loser in group[:-1]:
            loser.entry.status = "duplicate"
            loser.entry.reason = (f"another file for {winner.entry.student}/{winner.entry.assignment} "
                                  f"is newer: kept {winner.entry.source}")
        winners.append(winner)

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    for c in winners:
        _store(course, c, stamp)

    students = sorted({c.entry.student for c in winners if c.entry.status in ("collected", "updated", "unchanged")})
    if students:
        with course.gradebook() as gb:
            for s in students:
                gb.update_or_create_student(s)
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
    atomic_write_text(folder / "collected_from.json", json.dumps({"source": e.source, "identified_by": e.how}))
