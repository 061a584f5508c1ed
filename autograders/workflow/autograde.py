"""`autograde`: every collected submission through the grading engine, into autograded/ and the gradebook.

For each submitted/<student>/<assignment>/<notebook>.ipynb:
1. grade it with `autograders.engine.grade_notebook` (several at once with --jobs);
2. write, as soon as it is graded, autograded/<student>/<assignment>/<notebook>.ipynb (the executed
   notebook when the engine returns one, else the submission) with its locked cells restored and missing
   grade cells put back from the gradebook (so formgrader can show every cell), annotated (`annotate`),
   with nbgrader's timestamp.txt; and the engine's `SubmissionResult` as
   results/<student>/<assignment>/<notebook>.results.json (`Course.result` reads it back);
3. record the scores in the gradebook (see `gradebook.record_result`) with the prose suggestion for
   every prose answer.
A submission already graded from the same bytes is not graded again (resume: the batch's resume index,
`.grading/<assignment>/results/`) unless `force`; its newest result is still written out and re-recorded,
which is idempotent. A crash of the engine on one notebook becomes an `error` result for it; the others go
on. Ctrl-C: no submission starts after it, the finished ones are written and recorded, and
`AutogradeInterrupted` says what is left (graded on the next run).
"""
from __future__ import annotations

import hashlib
import json
import shutil
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import nbformat

from ..notebook import make_inert
from ..results import SubmissionResult
from .course import Course, Submission, WorkflowError
from .files import atomic_write_text
from .gradebook import record_result


# grader(path, assignment, source notebook or None, student) -> (SubmissionResult, executed notebook text or None)
Grader = Callable[[str, str], tuple]


def engine_grader(path: str, assignment: str, source: str | None = None,
                  student: str | None = None) -> tuple[SubmissionResult, str | None]:
    """The real engine, asked to write the executed notebook. Top-level so that worker processes can
    pickle it. `source` is the instructor notebook (the course's source/ copy)."""
    import tempfile

    from autograders.engine import GradeConfig, grade_notebook

    with tempfile.TemporaryDirectory(prefix="ch4grade-exec-") as tmp:
        config = GradeConfig(executed_dir=tmp)
        kwargs = {"source": source} if source else {}
        result = grade_notebook(path, assignment=assignment, config=config, student=student, **kwargs)
        executed = Path(tmp) / Path(path).name
        text = executed.read_text(encoding="utf-8") if executed.is_file() else None
    return result, text


def _safe_grade(grader: Grader, path: str, assignment: str, source: str | None,
                student: str) -> tuple[SubmissionResult, str | None]:
    try:
        return grader(path, assignment, source, student)
    except Exception as e:  # one broken submission must not stop the batch
        return error_result(path, assignment, f"{type(e).__name__}: {e}", traceback.format_exc()), None


def error_result(path: str, assignment: str, error: str, detail: str = "") -> SubmissionResult:
    "The grader crashed on a submission: its grader failure (never charged to the student; graded again next run)."
    return SubmissionResult(str(path), assignment, status="error", error=error, grader_failure=True,
                            notes=[detail[-4000:]] if detail else [])


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@dataclass
class Graded:
    submission: Submission
    result: SubmissionResult
    skipped: bool = False        # resumed: graded before from the same bytes
    warnings: list[str] = field(default_factory=list)
    suggestions: dict | None = None   # the rubric's, per prose item (computed once, for notebook and gradebook)


@dataclass
class AutogradeSummary:
    graded: list[Graded] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def table(self) -> list[str]:
        lines = [f"{'student':16s} {'assignment':24s} {'auto score':>12s}  status"]
        for g in sorted(self.graded, key=lambda g: (g.submission.assignment, g.submission.student)):
            r = g.result
            auto = round(sum(i.score for i in r.items if i.status != "manual"), 6)
            status = r.status + (" (resumed)" if g.skipped else "")
            if r.error:
                status += f": {r.error[:60]}"
            lines.append(f"{g.submission.student:16s} {g.submission.assignment:24s} {auto:>5g} / {r.auto_max_score:<5g}  {status}")
        return lines


class AutogradeInterrupted(KeyboardInterrupt):
    "Ctrl-C during autograde: `summary` holds what was graded and recorded, `left` the submissions not graded."

    def __init__(self, summary: "AutogradeSummary", left: list[Submission]):
        super().__init__(f"interrupted: {len(summary.graded)} graded and recorded in the gradebook, "
                         f"{len(left)} left to grade (run `ch4grade autograde` again to grade them)")
        self.summary, self.left = summary, left


def _results_dir(course: Course, assignment: str) -> Path:
    "Where the batch writes results and its resume index, for every grader."
    return course.root / ".grading" / assignment / "results"


def _settings(assignment: str, isolation: str, device: str | None) -> str:
    from autograders.batch import fingerprint
    from autograders.engine import GradeConfig
    return fingerprint(GradeConfig(isolation=isolation, device=device), assignment)


def _resumed(course: Course, sub: Submission, settings: str) -> SubmissionResult | None:
    "The newest result for `sub` when the resume index vouches for it (same bytes, same settings)."
    from autograders.batch import ResumeIndex
    results_dir = _results_dir(course, sub.assignment)
    r = ResumeIndex(results_dir).vouches(results_dir / f"{sub.student}.json", sub.path, settings)
    if r is not None:
        r.submission = str(sub.path)
    return r


def _record_local(course: Course, sub: Submission, result: SubmissionResult, settings: str) -> None:
    "A given grader's result, in the batch's results folder and resume index (as the batch records its own)."
    from autograders.batch import ResumeIndex
    results_dir = _results_dir(course, sub.assignment)
    results_dir.mkdir(parents=True, exist_ok=True)
    out = results_dir / f"{sub.student}.json"
    result.notebook_sha256 = sha256_file(sub.path)
    text = json.dumps(result.to_dict(), indent=1)
    ResumeIndex(results_dir).record(out, text, result, settings)
    atomic_write_text(out, text)


def _write_outputs(course: Course, sub: Submission, result: SubmissionResult, executed: str | None,
                   suggestions: dict | None = None) -> list[str]:
    """autograded/<student>/<assignment>/: the notebook (annotated for formgrader: each check cell's
    feedback, each prose answer's rubric suggestion), timestamp.txt; and the results JSON."""
    warnings = []
    folder = course.autograded_dir(sub.student, sub.assignment)
    folder.mkdir(parents=True, exist_ok=True)
    result.save(course.results_path(sub.student, sub.assignment, sub.notebook))
    text = executed if executed is not None else sub.path.read_text(encoding="utf-8")
    try:
        text = _restore_cells(course, sub, text, result, suggestions)
    except Exception as e:  # keep the student's cells (inert) rather than lose them
        warnings.append(f"{sub.student}/{sub.assignment}: could not restore locked cells ({type(e).__name__}: {e})")
        try:
            nb = nbformat.reads(text, as_version=4)
            make_inert(nb)
            text = nbformat.writes(nb)
        except Exception:
            text = None
    if text is not None:          # (never a file formgrader could show with the student's active content)
        atomic_write_text(folder / f"{sub.notebook}.ipynb", text)
    ts = sub.path.parent / "timestamp.txt"
    if ts.exists():
        shutil.copy2(ts, folder / "timestamp.txt")
    return warnings


def _restore_cells(course: Course, sub: Submission, text: str, result: SubmissionResult,
                   suggestions: dict | None) -> str:
    """nbgrader's own sanitising for formgrader: locked cells from the gradebook, deleted grade cells
    re-added; then our annotations (`annotate`)."""
    from .annotate import annotate
    from nbgrader.preprocessors import DeduplicateIds, OverwriteCells

    import logging

    nb = nbformat.reads(text, as_version=4)
    make_inert(nb)      # the student's cells: no HTML, scripts or SVG in the instructor's browser
    resources = {"nbgrader": {"notebook": sub.notebook, "assignment": sub.assignment,
                              "student": sub.student, "db_url": course.db_url}}
    log = logging.getLogger("traitlets")
    level = log.level
    log.setLevel(logging.ERROR)  # "checksum has changed" for every test cell: hidden tests put back, expected
    try:
        nb, resources = DeduplicateIds().preprocess(nb, resources)
        nb, resources = OverwriteCells(add_missing_cells=True).preprocess(nb, resources)
    finally:
        log.setLevel(level)
    return nbformat.writes(annotate(nb, result, suggestions))


def suggest_prose(assignment: str, answers: dict[str, str]) -> dict:
    """{item id: Suggestion} for a submission's prose answers (the whole notebook's, so pasted text is caught).
    An item the key does not cover gets none: the caller reports it, graders grade it by hand."""
    from autograders.prose import load_key, suggest_notebook
    key = load_key(assignment)
    return suggest_notebook({i: t for i, t in answers.items() if i in key}, key)


def _suggestions(course: Course, sub: Submission, result: SubmissionResult, warn: list[str]) -> dict:
    "The suggestion for every prose item of the result (none when the unit has no answer key)."
    manual = [i for i in result.items if i.status == "manual"]
    if not manual:
        return {}
    from autograders.prose import AnswerKeyError
    from autograders.prose.answers import MAX_CHARS, prose_answers
    try:
        cells = prose_answers(nbformat.read(sub.path, as_version=4), {i.id for i in manual})
    except Exception:
        cells = {}
    answers = {i.id: str(i.answer)[:MAX_CHARS] if i.answer is not None else cells.get(i.id, "") for i in manual}
    try:
        out = suggest_prose(sub.assignment, answers)
        missing = [i for i in answers if i not in out]
        if missing:      # one item the key lacks costs that item's suggestion, not the notebook's
            warn.append(f"{sub.student}/{sub.assignment}: no answer key entry for {', '.join(missing)}: graded by hand without a suggestion")
        return out
    except FileNotFoundError:
        warn.append(f"no answer key for {sub.assignment} (answer_key.yaml in its folder): its prose answers get no suggestion")
    except Exception as e:  # a broken key, a bug: graders grade by hand
        kind = "the answer key is broken" if isinstance(e, AnswerKeyError) else type(e).__name__
        warn.append(f"{sub.student}/{sub.assignment}: no suggestions for its prose answers ({kind}: {e})")
    return {}


def _batch_available() -> bool:
    try:
        import autograders.batch  # noqa: F401
    except ImportError:
        return False
    return True


def _grade_with_batch(course: Course, todo: list[Submission], jobs: int, force: bool, progress: bool,
                      isolation: str, device: str | None, cluster: str | None, finish,
                      gpus: list[str] | None = None, kernels_per_gpu: int = 1) -> None:
    """The engine through `autograders.batch` (a worker process per notebook, hard time limits, resume):
    per assignment, the submissions are staged as `.grading/<assignment>/submissions/<student>.ipynb`
    so that results and executed notebooks get one name per student. Calls finish(submission, result,
    executed, resumed) for each; on Ctrl-C, for those graded, then raises BatchInterrupted."""
    from autograders.batch import BatchInterrupted, ResumeIndex, fingerprint, grade_many
    from autograders.engine import GradeConfig

    groups: dict[str, list[Submission]] = {}
    for sub in todo:
        groups.setdefault(sub.assignment, []).append(sub)
    for assignment, subs in groups.items():
        work = course.root / ".grading" / assignment
        executed_dir, results_dir = work / "executed", _results_dir(course, assignment)
        staged, resumed = [], set()
        config = GradeConfig(executed_dir=str(executed_dir), isolation=isolation, device=device)
        index, settings = ResumeIndex(results_dir), fingerprint(config, assignment)
        for sub in subs:
            p = work / "submissions" / f"{sub.student}.ipynb"
            data = sub.path.read_bytes()
            if not p.exists() or p.read_bytes() != data:
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_bytes(data)
            vouched = not force and index.vouches(results_dir / f"{p.stem}.json", p, settings) is not None
            if vouched:
                resumed.add(p)
            stale = executed_dir / p.name
            if stale.exists() and not vouched:
                stale.unlink()
            staged.append(p)
        by_path = dict(zip(staged, subs))
        by_stem = {p.stem: p for p in staged}      # result files are named after the staged notebooks

        def hand_over(pairs):
            for result_file, result in pairs:
                p = by_stem[result_file.stem]
                result.submission = str(by_path[p].path)
                executed = executed_dir / p.name
                finish(by_path[p], result, executed.read_text(encoding="utf-8") if executed.is_file() else None,
                       p in resumed)
        try:
            pairs = grade_many(staged, results_dir, assignment=assignment, config=config, jobs=jobs,
                               resume=not force, progress=progress, students={p: s.student for p, s in by_path.items()},
                               cluster=cluster, gpus=gpus, kernels_per_gpu=kernels_per_gpu)
        except BatchInterrupted as e:
            hand_over(e.done)
            raise
        hand_over(pairs)


def _grade_locally(course: Course, subs: list[Submission], grader: Grader, jobs: int, force: bool,
                   settings, source, finish, progress: bool) -> None:
    """A given grader (tests, or no batch module): in this process, or in a process pool with --jobs; the
    same resume index and results folder as the batch."""
    from tqdm.auto import tqdm

    todo = []
    for sub in subs:
        previous = None if force else _resumed(course, sub, settings(sub.assignment))
        if previous is not None:
            finish(sub, previous, None, True)
        else:
            todo.append(sub)

    def done(sub: Submission, result: SubmissionResult, executed: str | None) -> None:
        _record_local(course, sub, result, settings(sub.assignment))
        finish(sub, result, executed)

    bar = tqdm(total=len(todo), desc="autograde", unit="notebook", disable=not progress or not todo)
    if jobs <= 1 or len(todo) <= 1:
        for sub in todo:
            bar.set_postfix_str(f"{sub.student}/{sub.assignment}")
            done(sub, *_safe_grade(grader, str(sub.path), sub.assignment, source(sub), sub.student))
            bar.update()
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(_safe_grade, grader, str(s.path), s.assignment, source(s), s.student): s
                       for s in todo}
            try:
                for fut in as_completed(futures):
                    sub = futures[fut]
                    try:
                        result, executed = fut.result()
                    except Exception as e:  # the worker process itself died
                        result, executed = error_result(str(sub.path), sub.assignment, f"worker died: {e}"), None
                    done(sub, result, executed)
                    bar.update()
            except KeyboardInterrupt:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    bar.close()


def autograde(course: Course, name: str | None = None, jobs: int = 1, force: bool = False,
              student: str | None = None, grader: Grader | None = None, progress: bool = True,
              isolation: str = "auto", device: str | None = None, cluster: str | None = None,
              gpus: list[str] | None = None, kernels_per_gpu: int = 1) -> AutogradeSummary:
    """Grade the collected submissions (`name`'s, or every assignment's; `student`'s only) and record them.
    `device`: GradeConfig.device (None: a GPU when there is one, "cpu", "cuda"); `cluster`: a Dask cluster
    to grade on (`batch.grade_many`); `gpus`, `kernels_per_gpu`: the GPUs to grade on, and how many notebooks
    on each at once (in place of `jobs`); `grader` replaces the engine (tests), in this process or `jobs`
    processes."""
    from tqdm.auto import tqdm

    subs = course.submissions(name, student)
    if not subs:
        where = course.root / "submitted"
        raise WorkflowError(f"no submissions{' for ' + name if name else ''} in {where}; run `ch4grade collect` first")
    released = set(course.released())
    missing = sorted({s.assignment for s in subs} - released)
    if missing:
        raise WorkflowError(f"not released (no gradebook entries): {', '.join(missing)}; run `ch4grade release` first")

    summary = AutogradeSummary()
    if grader is None and not _batch_available():
        grader = engine_grader

    def source(sub: Submission) -> str | None:
        p = course.source_notebook(sub.assignment)
        return str(p) if p.exists() else None

    def finish(sub: Submission, result: SubmissionResult, executed: str | None, resumed: bool = False) -> None:
        result.student = result.student or sub.student
        g = Graded(sub, result, skipped=resumed)
        g.suggestions = _suggestions(course, sub, result, g.warnings)
        notebook = course.autograded_dir(sub.student, sub.assignment) / f"{sub.notebook}.ipynb"
        try:
            if resumed and executed is None and notebook.exists():   # keep the notebook, bring the results up to date
                result.save(course.results_path(sub.student, sub.assignment, sub.notebook))
            else:
                g.warnings += _write_outputs(course, sub, result, executed, g.suggestions)
        except OSError as e:  # that submission's files, not the class's grading
            g.warnings.append(f"{sub.student}/{sub.assignment}: could not write its autograded files ({e})")
        summary.graded.append(g)

    interrupted = False
    try:
        if grader is None:
            _grade_with_batch(course, subs, jobs, force, progress, isolation, device, cluster, finish,
                              gpus, kernels_per_gpu)
        else:
            _grade_locally(course, subs, grader, jobs, force, lambda a: _settings(a, isolation, device), source,
                           finish, progress)
    except KeyboardInterrupt:
        interrupted = True

    # the gradebook: one writer (this process), every submission, resumed ones too (idempotent)
    with course.gradebook() as gb:
        for g in tqdm(summary.graded, desc="gradebook", unit="submission", disable=not progress):
            sub = g.submission
            ts = (sub.path.parent / "timestamp.txt")
            timestamp = ts.read_text().strip() if ts.exists() else None
            suggestions = g.suggestions if g.suggestions is not None else _suggestions(course, sub, g.result, g.warnings)
            try:
                outcome = record_result(gb, sub.student, sub.assignment, sub.notebook, g.result,
                                        suggestions, timestamp)
                g.warnings += outcome.warnings
            except Exception as e:
                g.warnings.append(f"{sub.student}/{sub.assignment}: gradebook update failed: {type(e).__name__}: {e}")
    for g in summary.graded:
        for w in g.warnings:
            if w not in summary.warnings:
                summary.warnings.append(w)
    if interrupted:
        done = {id(g.submission) for g in summary.graded}
        raise AutogradeInterrupted(summary, [s for s in subs if id(s) not in done])
    return summary
