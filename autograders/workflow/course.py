"""The course folder: nbgrader's layout, its `nbgrader_config.py` and the SQLite gradebook.

```
course/
  nbgrader_config.py        course id `ch04`, root = this folder, gradebook.db beside it
  gradebook.db              nbgrader's gradebook (SQLite, the embedded default)
  source/<name>/<name>.ipynb            copied from the project's assignments/
  release/<name>/<name>.ipynb           what students get (`ch4grade release`)
  submitted/<student>/<name>/<name>.ipynb   (`ch4grade collect`)
  autograded/<student>/<name>/<name>.ipynb   annotated for formgrader (`ch4grade autograde`)
  results/<student>/<name>/<name>.results.json   the engine's results (graders only: never beside what
                            nbgrader's Generate Feedback copies to students)
  feedback/<student>/<name>/<name>.html     (`ch4grade feedback`, or nbgrader's Generate Feedback)
  exports/                  grades.csv, summary.csv, gradescope/<student>/<name>/results.json
  reports/                  class report (HTML + PNG)
  collect_archive/          earlier submissions replaced by a newer collect (never deleted)
  .grading/<name>/          the batch grader's staging: submissions/<student>.ipynb, results/, executed/
```
`ch4grade formgrader` (or any nbgrader command run inside the folder) uses the same config.
"""
from __future__ import annotations

import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..results import SubmissionResult

COURSE_ID = "ch04"
DEFAULT_COURSE_DIR = "course"
CONFIG_NAME = "nbgrader_config.py"
DB_NAME = "gradebook.db"
RESULTS_SUFFIX = ".results.json"

CONFIG_TEXT = '''\
# nbgrader configuration for the ch4grade course (written by `ch4grade`; edit freely).
import os

c = get_config()  # noqa: F821 (provided by nbgrader's config loader)
_here = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "{course_id}"
c.CourseDirectory.root = _here
# The gradebook: nbgrader's embedded SQLite database beside this file.
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(_here, "{db_name}")
# Students' notebooks are untrusted: formgrader shows them with active HTML (scripts, event handlers) removed.
c.HTMLExporter.sanitize_html = True
# Feedback (formgrader's button, `nbgrader generate_feedback`, `ch4grade feedback`): the student's annotated
# notebook without graders' notes or hidden tests (autograders/workflow/nbgrader_hooks.py); nothing of ours
# is copied beside it.
from autograders.workflow.nbgrader_hooks import FEEDBACK_PREPROCESSORS
c.GenerateFeedback.preprocessors = FEEDBACK_PREPROCESSORS
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.results.json", ".ch4grade*"]
'''


class WorkflowError(Exception):
    "A problem the user can fix (bad folder, missing assignment...): printed without a traceback."


def project_root() -> Path:
    "The checkout (or site-packages folder) this package runs from."
    return Path(__file__).resolve().parents[2]


def default_assignments_dir() -> None:
    "None: the assignment units this installation knows (`autograders.checks.available_assignments`)."
    return None


@dataclass
class Submission:
    "One collected notebook: submitted/<student>/<assignment>/<notebook>.ipynb."
    student: str
    assignment: str
    notebook: str
    path: Path


@dataclass
class Course:
    root: Path
    assignments_dir: Path | None          # a folder of <name>/<name>.ipynb, or None: the registered units

    # -- construction -------------------------------------------------------------------------------
    @classmethod
    def open(cls, root: str | Path = DEFAULT_COURSE_DIR, assignments_dir: str | Path | None = None,
             create: bool = True) -> "Course":
        root = Path(root).expanduser().resolve()
        course = cls(root, Path(assignments_dir).resolve() if assignments_dir else default_assignments_dir())
        if create:
            course.init()
        elif not (root / CONFIG_NAME).exists():
            raise WorkflowError(f"{root} is not a ch4grade course (no {CONFIG_NAME}); run `ch4grade release` first")
        return course

    def init(self) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise WorkflowError(f"course path {self.root} exists and is not a folder")
        self.root.mkdir(parents=True, exist_ok=True)
        config = self.root / CONFIG_NAME
        if not config.exists():
            config.write_text(CONFIG_TEXT.format(course_id=COURSE_ID, db_name=DB_NAME), encoding="utf-8")
        if not self.db_path.exists():
            create_gradebook(self.db_url)

    # -- paths -------------------------------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def db_path(self) -> Path:
        return self.root / DB_NAME

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.db_path}"

    def step_dir(self, step: str) -> Path:
        return self.root / step

    def source_notebook(self, name: str) -> Path:
        return self.root / "source" / name / f"{name}.ipynb"

    def release_notebook(self, name: str) -> Path:
        return self.root / "release" / name / f"{name}.ipynb"

    def submitted_dir(self, student: str, assignment: str) -> Path:
        return self.root / "submitted" / student / assignment

    def autograded_dir(self, student: str, assignment: str) -> Path:
        return self.root / "autograded" / student / assignment

    def results_path(self, student: str, assignment: str, notebook: str) -> Path:
        return self.root / "results" / student / assignment / f"{notebook}{RESULTS_SUFFIX}"

    def result(self, student: str, assignment: str, notebook: str) -> SubmissionResult | None:
        "The engine's newest result for a submission (None before it is autograded)."
        p = self.results_path(student, assignment, notebook)
        if not p.exists():
            return None
        try:
            return SubmissionResult.load(p)
        except (ValueError, TypeError, KeyError) as e:   # damaged, or written by another version of ch4grade
            raise WorkflowError(f"{p}: not a results file this ch4grade can read ({type(e).__name__}: {e}); "
                                f"run `ch4grade autograde --force` for that submission") from e

    def feedback_dir(self, student: str, assignment: str) -> Path:
        return self.root / "feedback" / student / assignment

    @property
    def exports_dir(self) -> Path:
        return self.root / "exports"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    # -- nbgrader objects --------------------------------------------------------------------------
    def config(self):
        "The traitlets Config from this course's nbgrader_config.py."
        from traitlets.config.loader import PyFileConfigLoader

        return PyFileConfigLoader(CONFIG_NAME, path=str(self.root)).load_config()

    def coursedir(self, **attrs):
        "An nbgrader CourseDirectory configured for this course (attrs: assignment_id, student_id...)."
        from nbgrader.coursedir import CourseDirectory

        cd = CourseDirectory(config=self.config())
        cd.root = str(self.root)  # whatever the config says, this folder is the course
        cd.db_url = self.db_url
        for key, value in attrs.items():
            setattr(cd, key, value)
        return cd

    @contextmanager
    def gradebook(self) -> Iterator["object"]:
        "nbgrader's Gradebook on this course's SQLite database (closed on exit)."
        from nbgrader.api import Gradebook

        gb = Gradebook(self.db_url, COURSE_ID)
        try:
            yield gb
        finally:
            gb.close()

    # -- assignments -------------------------------------------------------------------------------
    def available(self) -> list[str]:
        "Assignment names with a source notebook in the assignments folder (or already in source/)."
        names = set()
        if self.assignments_dir is None:
            from ..checks import get_assignment, available_assignments
            names.update(n for n in available_assignments()
                         if get_assignment(n).source and Path(get_assignment(n).source).is_file())
        for base in (self.assignments_dir, self.root / "source"):
            if base is not None and base.is_dir():
                names.update(p.name for p in base.iterdir() if (p / f"{p.name}.ipynb").is_file())
        return sorted(names)

    def resolve(self, name: str | None) -> list[str]:
        "`name` checked against the available assignments, or all of them when None."
        known = self.available()
        if name is None:
            if not known:
                raise WorkflowError(f"no assignments found in {self.assignments_dir or 'the registered units'} "
                                    "(expected <name>/<name>.ipynb)")
            return known
        if name not in known:
            raise WorkflowError(f"unknown assignment {name!r}; available: {', '.join(known) or 'none'}")
        return [name]

    def sync_source(self, name: str) -> Path:
        """Copy the assignment into source/<name>/: from the assignments folder, <name>/ (notebook and any data
        files); from a registered unit, its notebook and the `files` it hands out (never its checks, kernel
        helpers or answer key)."""
        dest = self.root / "source" / name
        from ..checks import UnknownAssignment, get_assignment
        try:
            spec = get_assignment(name)
        except UnknownAssignment:
            spec = None
        unit = spec is not None and spec.folder is not None and self.assignments_dir is not None and \
            (self.assignments_dir / name).resolve() == spec.folder.resolve()   # the units' own folder, named
        if self.assignments_dir is None or unit:
            if spec is not None and spec.source and Path(spec.source).is_file():
                dest.mkdir(parents=True, exist_ok=True)
                shutil.copy2(spec.source, dest / f"{name}.ipynb")
                for f in spec.files:
                    target = dest / f
                    target.parent.mkdir(parents=True, exist_ok=True)
                    if (spec.folder / f).is_dir():
                        shutil.copytree(spec.folder / f, target, dirs_exist_ok=True)
                    else:
                        shutil.copy2(spec.folder / f, target)
                return dest / f"{name}.ipynb"
            if not (dest / f"{name}.ipynb").is_file():
                raise WorkflowError(f"no source notebook for {name!r} (not a registered assignment, none in {dest})")
            return dest / f"{name}.ipynb"
        src = self.assignments_dir / name
        if (src / f"{name}.ipynb").is_file():
            dest.mkdir(parents=True, exist_ok=True)
            for item in src.iterdir():
                if item.name.startswith(".") or item.name in ("__pycache__", ".ipynb_checkpoints"):
                    continue
                if item.is_dir():
                    shutil.copytree(item, dest / item.name, dirs_exist_ok=True)
                else:
                    shutil.copy2(item, dest / item.name)
        elif not (dest / f"{name}.ipynb").is_file():
            raise WorkflowError(f"no source notebook for {name!r} in {self.assignments_dir} or {dest}")
        return dest / f"{name}.ipynb"

    def released(self) -> list[str]:
        "Assignments released into the gradebook."
        if not self.db_path.exists():
            return []
        with self.gradebook() as gb:
            return sorted(a.name for a in gb.assignments)

    # -- submissions -------------------------------------------------------------------------------
    def submissions(self, assignment: str | None = None, student: str | None = None) -> list[Submission]:
        base = self.root / "submitted"
        out: list[Submission] = []
        if not base.is_dir():
            return out
        for sdir in sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")):
            if student and sdir.name != student:
                continue
            for adir in sorted(p for p in sdir.iterdir() if p.is_dir() and not p.name.startswith(".")):
                if assignment and adir.name != assignment:
                    continue
                for nb in sorted(adir.glob("*.ipynb")):
                    out.append(Submission(sdir.name, adir.name, nb.stem, nb))
        return out


def alembic_head() -> str:
    """The gradebook schema revision of the installed nbgrader: the revision of its migration scripts that
    no other script builds on. Read from the files' text (importing them through alembic takes seconds)."""
    import re

    import nbgrader

    revisions, parents = set(), set()
    for script in (Path(nbgrader.__file__).parent / "alembic" / "versions").glob("*.py"):
        text = script.read_text(encoding="utf-8")
        rev = re.search(r"^revision\s*=\s*['\"](\w+)['\"]", text, re.M)
        down = re.search(r"^down_revision\s*=\s*['\"](\w+)['\"]", text, re.M)
        if rev:
            revisions.add(rev.group(1))
        if down:
            parents.add(down.group(1))
    heads = sorted(revisions - parents)
    if len(heads) != 1:
        from nbgrader.api import get_alembic_version  # let nbgrader (alembic) decide

        return get_alembic_version()
    return heads[0]


def create_gradebook(db_url: str) -> None:
    """Create an empty nbgrader gradebook, exactly as `nbgrader.api.Gradebook` does, except that the schema
    revision is read in-process: nbgrader runs the `alembic` command for it (a subprocess that needs
    `alembic` on PATH and takes many seconds on a loaded machine)."""
    from unittest import mock

    import nbgrader.api
    from nbgrader.api import Gradebook

    with mock.patch.object(nbgrader.api, "get_alembic_version", alembic_head):
        Gradebook(db_url, COURSE_ID).close()


def cell_order(notebook_path: Path) -> dict[str, int]:
    "grade_id -> position of every nbgrader cell in a notebook (to list items in the order students see)."
    import nbformat

    try:
        nb = nbformat.read(notebook_path, as_version=4)
    except (OSError, ValueError):
        return {}
    order = {}
    for i, cell in enumerate(nb.cells):
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid:
            order[gid] = i
    return order
