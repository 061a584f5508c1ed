"""Ctrl-C and resume: no submission starts after the interrupt, what finished is kept, the next run grades
exactly what is left, and the gradebook always ends up holding the newest results."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

import tiny_assignment as tiny
from autograders.results import ItemResult, SubmissionResult
from autograders.workflow.autograde import AutogradeInterrupted, autograde
from autograders.workflow.collect import collect

TESTS = Path(__file__).resolve().parent


def test_ctrl_c_during_a_batch_starts_nothing_more_and_the_rerun_grades_the_rest(tmp_path):
    subs = tmp_path / "subs"
    tiny.notebook(subs, name="s0.ipynb")                               # quick
    slow = [nbformat.v4.new_code_cell("import time\ntime.sleep(4)")]
    for n in (1, 2):
        tiny.notebook(subs, extra=slow, name=f"s{n}.ipynb")           # each takes 4 s or more
    out = tmp_path / "out"
    env = {**os.environ, "CH4GRADE_EXTRA_CHECKS": "tiny_assignment",
           "CH4GRADE_TINY_SOURCE": str(tiny.write_source(tmp_path)),
           "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "autograders.cli", "grade", *sorted(subs.glob("*.ipynb")), "--assignment", "tiny",
           "--out", out, "--jobs", "1", "-q"]
    proc = subprocess.Popen(list(map(str, cmd)), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not (out / "s0.json").exists():                # s0 is graded: s1 has just started (and sleeps 4 s)
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)                      # what Ctrl-C sends to the grader
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "interrupted: 1 graded, 2 left" in stderr
    assert sorted(p.name for p in out.glob("s*.json")) == ["s0.json"]       # s1 stopped, s2 never began
    first = (out / "s0.json").read_bytes()

    rerun = subprocess.run(list(map(str, cmd)) + ["--format", "json"], env=env, capture_output=True, text=True,
                           timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert (out / "s0.json").read_bytes() == first                             # kept, not graded again
    for n in (1, 2):
        r = SubmissionResult.load(out / f"s{n}.json")
        assert (r.status, r.score) == ("graded", 5), r.error


# -- the course workflow: the gradebook follows the newest results ----------------------------------------
class Grader:
    "A stand-in for the engine: `double` scores what `scores` says; Ctrl-C on the students in `stop_at`."

    def __init__(self, scores: dict[str, float], stop_at=()):
        self.scores, self.stop_at, self.calls = scores, set(stop_at), []

    def __call__(self, path, assignment, source, student):
        if student in self.stop_at:
            raise KeyboardInterrupt
        self.calls.append(student)
        s = self.scores[student]
        return SubmissionResult(str(path), assignment, student, items=[
            ItemResult("double", s, 2.0, "passed" if s == 2 else "partial"),
            ItemResult("q01", 0.0, 1.0, "manual")]), None


def _auto_scores(course, name):
    with course.gradebook() as gb:
        return {s: gb.find_grade("double_check", name, name, s).auto_score for s in ("alice", "bob")}


def test_interrupted_autograde_records_what_finished_and_resume_keeps_the_gradebook_newest(tmp_path):
    from test_workflow import NAME, released_course, student_nb

    course = released_course(tmp_path / "course")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for s in ("alice", "bob"):
        nbformat.write(student_nb(course, "return 2 * x", "It descends."), inbox / f"{s}_{NAME}.ipynb")
    collect(course, inbox, progress=False)
    autograde(course, NAME, grader=Grader({"alice": 1, "bob": 1}), progress=False)
    assert _auto_scores(course, NAME) == {"alice": 1, "bob": 1}

    second = Grader({"alice": 2}, stop_at={"bob"})                 # --force, Ctrl-C while bob is graded
    with pytest.raises(AutogradeInterrupted) as e:
        autograde(course, NAME, grader=second, force=True, progress=False)
    assert [s.student for s in e.value.left] == ["bob"] and second.calls == ["alice"]
    assert [g.submission.student for g in e.value.summary.graded] == ["alice"]
    assert _auto_scores(course, NAME) == {"alice": 2, "bob": 1}     # the finished one is in the gradebook
    assert course.result("alice", NAME, NAME).score == 2

    third = Grader({"alice": 0, "bob": 0})
    summary = autograde(course, NAME, grader=third, progress=False)
    assert third.calls == []                                       # both resumed: same bytes, same settings
    assert {g.submission.student: g.skipped for g in summary.graded} == {"alice": True, "bob": True}
    assert _auto_scores(course, NAME) == {"alice": 2, "bob": 1}     # the newest result of each, not an older one
