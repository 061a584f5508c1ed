"""Grade many notebooks: in parallel, each in its own worker process, resumable, never losing a result.

Each submission's result is written (atomically) as soon as it is done; a re-run skips submissions
whose result exists for the same notebook bytes. A worker that crashes or overruns its hard time limit
still leaves a result: status `error`, every item `not_run`, with the reason.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict
from pathlib import Path

from tqdm import tqdm

from .engine import GradeConfig, _not_run, environment
from .checks import get_assignment
from .results import SubmissionResult, write_atomic


def result_path(out_dir: Path, notebook: Path, taken: set[str]) -> Path:
    "A result file name per notebook, unique within the batch (same stems get a hash suffix)."
    stem = notebook.stem
    if stem in taken:
        stem = f"{stem}-{hashlib.sha1(str(notebook.resolve()).encode()).hexdigest()[:8]}"
    taken.add(stem)
    return out_dir / f"{stem}.json"


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def finished(path: Path, notebook: Path) -> SubmissionResult | None:
    "The saved result for `notebook` if it is complete and for the same bytes."
    try:
        r = SubmissionResult.load(path)
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if r.notebook_sha256 != _sha256(notebook) or r.grader_failure:
        return None
    return r


def _crash_result(notebook: Path, assignment: str | None, reason: str, config: GradeConfig,
                  student: str | None) -> SubmissionResult:
    r = SubmissionResult(submission=str(notebook), assignment=assignment, student=student, status="error",
                         error=reason, grader_failure=True, notebook_sha256=_sha256(notebook))
    if assignment:
        try:
            r.items = _not_run(get_assignment(assignment), reason)
        except KeyError:
            pass
    r.environment = environment(config)
    return r


def hard_limit(config: GradeConfig) -> float:
    "Seconds after which a worker is killed: every budget plus start-up and restarts."
    lim = config.limits
    return lim.budget + lim.checks_budget + lim.startup_timeout * (config.max_restarts + 1) + 60


def grade_one(notebook: Path, out: Path, assignment: str | None, config: GradeConfig,
              student: str | None = None) -> SubmissionResult:
    cmd = [sys.executable, "-m", "autograders.worker", str(notebook), str(out),
           "--config", json.dumps(asdict(config))]
    if assignment:
        cmd += ["--assignment", assignment]
    if student:
        cmd += ["--student", student]
    t = time.monotonic()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=hard_limit(config))
        reason = f"the grading worker exited with code {proc.returncode}: {proc.stderr.strip()[-800:]}"
    except subprocess.TimeoutExpired:
        reason = f"the grading worker ran past its hard limit of {hard_limit(config):.0f} s and was killed"
    r = finished(out, notebook) if out.exists() else None
    if r is None:
        r = _crash_result(notebook, assignment, reason, config, student)
        r.timings = {"total_s": round(time.monotonic() - t, 3)}
        r.save(out)
    return r


def grade_many(notebooks: list[Path], out_dir: Path, assignment: str | None = None,
               config: GradeConfig | None = None, jobs: int = 1, resume: bool = True,
               progress: bool = True, students: dict[Path, str] | None = None) -> list[tuple[Path, SubmissionResult]]:
    "Grade `notebooks` into `out_dir`; returns (result file, result) in the notebooks' order."
    config = config or GradeConfig()
    jobs = max(1, jobs)
    if config.limits.threads is None:
        config.limits.threads = max(1, (os.cpu_count() or 1) // jobs)
    out_dir.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    paths = [result_path(out_dir, Path(nb), taken) for nb in notebooks]
    results: dict[int, SubmissionResult] = {}
    todo = []
    for i, (nb, out) in enumerate(zip(notebooks, paths)):
        done = finished(out, Path(nb)) if resume and out.exists() else None
        if done is not None:
            results[i] = done
        else:
            todo.append(i)
    bar = tqdm(total=len(notebooks), initial=len(results), desc="grading", unit="nb", disable=not progress,
               file=sys.stderr)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(grade_one, Path(notebooks[i]), paths[i], assignment, config,
                               (students or {}).get(Path(notebooks[i]))): i for i in todo}
        for fut in as_completed(futures):
            i = futures[fut]
            results[i] = fut.result()
            r = results[i]
            bar.set_postfix_str(f"{Path(notebooks[i]).name}: {r.score:g}/{r.auto_max_score:g}")
            bar.update()
    bar.close()
    return [(paths[i], results[i]) for i in range(len(notebooks))]


def write_reports(pairs: list[tuple[Path, SubmissionResult]], out_dir: Path, formats: tuple[str, ...]) -> list[Path]:
    "Gradescope files per submission, JUnit XML and a Markdown summary for the batch."
    from .exporters import to_gradescope, to_junit, to_markdown
    written = []
    if "gradescope" in formats:
        for path, r in pairs:
            written.append(write_atomic(path.with_suffix(".gradescope.json"), json.dumps(to_gradescope(r), indent=1)))
    if "junit" in formats:
        written.append(write_atomic(out_dir / "junit.xml", to_junit([r for _, r in pairs])))
    summary = to_markdown([r for _, r in pairs])
    written.append(write_atomic(out_dir / "summary.md", summary))
    step = os.environ.get("GITHUB_STEP_SUMMARY")
    if step:
        with open(step, "a", encoding="utf-8") as f:
            f.write("## ch4grade\n\n" + summary)
    return written
