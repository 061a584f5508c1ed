"""`demo`: the whole course workflow on a made-up class, end to end, in a few minutes on 2 CPU cores.

prepare MNIST_SAMPLE -> release every assignment -> four students hand in (a zip, with LMS-style names
and some litter) -> collect -> autograde -> one manual score on a prose answer -> feedback -> class
report -> export. Students submit only the cheap assignments (DEMO_ASSIGNMENTS) so the demo stays fast.
"""
from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .autograde import AutogradeSummary, autograde
from .collect import CollectSummary, collect
from .course import Course, WorkflowError
from .export import ExportResult, export
from .feedback import FeedbackPage, generate_feedback
from .gradebook import all_submissions, set_manual_score
from .release import ReleaseResult, release
from .report import ClassReport, write_report
from . import demo_students as ds

DEMO_ASSIGNMENTS = ("ch04_questionnaire", "ch04_pixel_similarity")
# student -> (how their notebook is made, file name pattern for the zip)
ROSTER = {
    "ada": ("perfect", "ada_{a}.ipynb"),
    "ben": ("partial0", "ben_12345_678901_{a}.ipynb"),                    # Canvas
    "cy": ("partial1", "Cy_4242_assignsubmission_file_{a}.ipynb"),        # Moodle
    "dee": ("broken", "dee/{a}.ipynb"),                                   # a per-student folder
}
MANUAL_COMMENT = "Clear and complete: well done."
INBOX = "demo_lms_download"      # the students' zip, as the LMS would hand it over (inside the course folder)
TABLE_NOTE = ("prose pending: prose answers awaiting a grader's score (ch4grade formgrader); "
              "errors: code items whose run errored, scored 0 and flagged for review (not pending)")


@dataclass
class DemoResult:
    course: Course
    released: list[ReleaseResult] = field(default_factory=list)
    inbox: Path | None = None
    collected: CollectSummary | None = None
    graded: AutogradeSummary | None = None
    manual: tuple | None = None          # (student, assignment, cell, score)
    feedback: list[FeedbackPage] = field(default_factory=list)
    report: ClassReport | None = None
    exported: ExportResult | None = None
    table: list[str] = field(default_factory=list)


def make_inbox(course: Course, assignments: list[str], out: Path) -> Path:
    "The class's submissions as one zip, as an LMS would hand them over."
    out.mkdir(parents=True, exist_ok=True)
    zpath = out / "submissions.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
        for a in assignments:
            source = nbformat.read(course.source_notebook(a), as_version=4)
            released = nbformat.read(course.release_notebook(a), as_version=4)
            for student, (kind, pattern) in ROSTER.items():
                if kind == "perfect":
                    nb = ds.perfect(source, released)
                elif kind.startswith("partial"):
                    nb = ds.partial(source, released, offset=int(kind[-1]))
                else:
                    nb = ds.broken(source, released)
                zf.writestr(pattern.format(a=a), nbformat.writes(nb))
        zf.writestr("README.txt", "exported from the course site\n")          # rejected: not a notebook
        zf.writestr("__MACOSX/._ada_notes", b"\x00\x05\x16\x07")              # ignored: OS litter
    return zpath


def ensure_mnist_dir(mnist_dir: str | Path | None = None) -> Path:
    """Point `$CH4GRADE_MNIST_DIR` (read by the data loaders, the engine's checks and the grading workers)
    at the MNIST folder: `mnist_dir`, else the variable itself, else `../shared/data/mnist` beside the checkout,
    else the download cache (`$CH4GRADE_CACHE/mnist`, downloaded once with MD5 checks when it is missing)."""
    from reference.data.idx import MnistDataError
    from reference.data.locate import FILES, MNIST_DIR_ENV, download_mnist

    from .course import project_root

    candidates = [mnist_dir, os.environ.get(MNIST_DIR_ENV), project_root().parent / "shared" / "data" / "mnist"]
    for c in candidates:
        if c and all((Path(c).expanduser() / f).exists() for f in FILES):
            folder = Path(c).expanduser().resolve()
            break
    else:
        try:
            folder = download_mnist().resolve()
        except MnistDataError as e:
            raise WorkflowError(f"no MNIST files ({e}); pass --mnist DIR or set ${MNIST_DIR_ENV} to a folder with "
                                f"{', '.join(FILES)}") from None
    os.environ[MNIST_DIR_ENV] = str(folder)
    return folder


def run_demo(out_dir: str | Path = "demo_out", assignments=DEMO_ASSIGNMENTS, jobs: int = 2,
             prepare_data: bool = True, progress: bool = True, log=print,
             mnist_dir: str | Path | None = None, isolation: str = "auto") -> DemoResult:
    "Run the demo with `out_dir` as the course folder; the students' zip goes to `out_dir/INBOX`."
    out_dir = Path(out_dir).resolve()
    log(f"MNIST files: {ensure_mnist_dir(mnist_dir)}")
    course = Course.open(out_dir)
    res = DemoResult(course)
    missing = [a for a in assignments if a not in course.available()]
    if missing:
        raise WorkflowError(f"demo assignments missing from {course.assignments_dir}: {', '.join(missing)}")

    if prepare_data:
        from reference.data.layouts import prepare_fastai_data

        log("1/8 preparing fastai's MNIST_SAMPLE from the MNIST files ...")
        for name, folder in prepare_fastai_data(("mnist_sample",), progress=progress).items():
            log(f"    {name}: {folder}")

    log(f"2/8 releasing {', '.join(assignments)} (each with its student folder: public checks recorded on the "
        "model answers) ...")
    res.released = [r for name in assignments for r in release(course, name, progress=progress)]
    for r in res.released:
        log(f"    {'ok    ' if r.ok else 'FAILED'} {r.assignment} {r.error}")
    failed = [r.assignment for r in res.released if not r.ok and r.assignment in assignments]
    if failed:
        raise WorkflowError(f"release failed for {', '.join(failed)}")

    log(f"3/8 students hand in {', '.join(assignments)} ...")
    res.inbox = make_inbox(course, list(assignments), out_dir / INBOX)
    log(f"    {res.inbox}")

    log("4/8 collecting ...")
    res.collected = collect(course, res.inbox, progress=progress)
    for line in res.collected.lines():
        log("    " + line)

    from ..execute.sandbox import choose
    box = choose(isolation)
    log(f"5/8 autograding ({jobs} at a time, each kernel sandboxed by {box.backend}"
        f"{': ' + box.warning if box.warning else ''}) ...")
    res.graded = autograde(course, None, jobs=jobs, progress=progress, isolation=isolation)
    for w in res.graded.warnings:
        log(f"    warning: {w}")

    log("6/8 one manual score on a prose answer (what a grader does in formgrader) ...")
    res.manual = _grade_one_prose(course)
    if res.manual:
        log(f"    {res.manual[0]}/{res.manual[1]} {res.manual[2]}: {res.manual[3]:g} points, comment {MANUAL_COMMENT!r}")

    log("7/8 feedback and class report ...")
    res.feedback = generate_feedback(course, progress=progress)
    res.report = write_report(course)

    log("8/8 exporting ...")
    res.exported = export(course)
    res.table = score_table(course)
    return res


def _grade_one_prose(course: Course):
    "Give the perfect student full marks (and a comment) on their first prose answer (questionnaire first)."
    with course.gradebook() as gb:
        subs = sorted(all_submissions(gb), key=lambda g: g.assignment != "ch04_questionnaire")
        for g in subs:
            if g.student != "ada":
                continue
            for c in g.cells:
                if c.kind == "manual":
                    set_manual_score(gb, g.student, g.assignment, g.notebook, c.name, c.max_score, MANUAL_COMMENT)
                    return (g.student, g.assignment, c.name, c.max_score)
    return None


def score_table(course: Course) -> list[str]:
    with course.gradebook() as gb:
        subs = all_submissions(gb)
    "One line per submission; TABLE_NOTE explains the last two columns."
    lines = [f"{'student':8s} {'assignment':24s} {'auto':>7s} {'manual':>7s} {'total':>7s} {'max':>5s}  "
             "prose pending  errors (flagged for review)"]
    for g in sorted(subs, key=lambda g: (g.assignment, g.student)):
        pending = sum(c.needs_manual_grade for c in g.cells if c.kind == "manual")
        errors = sum(c.needs_manual_grade for c in g.cells if c.kind == "auto")
        lines.append(f"{g.student:8s} {g.assignment:24s} {g.auto_total:7.2f} {g.manual_total:7.2f} "
                     f"{g.score:7.2f} {g.max_score:5g}  {pending or '':>13}  {errors or ''}")
    return lines


def where(res: DemoResult) -> list[str]:
    c = res.course
    lines = [f"course folder     {c.root}",
             f"  nbgrader config {c.config_path}",
             f"  gradebook       {c.db_path}   (`ch4grade formgrader --course {c.root}` to grade by hand)",
             f"  released        {c.root / 'release'}",
             f"  students' zip   {res.inbox}",
             f"  submitted       {c.root / 'submitted'}   (collected from the zip)",
             f"  autograded      {c.root / 'autograded'}   (annotated notebooks, for formgrader)",
             f"  results         {c.root / 'results'}   (the engine's .results.json, graders only)",
             f"  feedback        {c.root / 'feedback'}"]
    for p in res.feedback[:2]:
        lines.append(f"    e.g.          {p.path}")
    if res.report:
        lines.append(f"  class report    {res.report.html}")
        lines += [f"    figure        {f}" for f in res.report.figures]
    if res.exported:
        lines.append(f"  grades CSV      {res.exported.grades_csv}")
        lines.append(f"  summary CSV     {res.exported.summary_csv}")
        lines.append(f"  Gradescope      {c.exports_dir / 'gradescope'}/<student>/<assignment>/results.json")
    return lines
