"""Hostile and broken submissions (tests/hostile/cases.py) against the grading engine and the batch.

For each case: the exact per-item scores and a clear reason; no fooling attempt gains a point; the
grading never crashes and stays within its budget plus a small margin; every other item is graded as it
would be alone. Batch level: `--jobs 2` changes nobody's result, and a grader killed with SIGKILL midway
loses no finished result and leaves no kernel behind.
"""
from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import nbformat
import pytest

from autograders.batch import grade_many
from autograders.execute.processes import matching as processes
from autograders.engine import GradeConfig, grade_notebook
from autograders.execute.session import TOKEN_ENV, Limits
from autograders.results import SubmissionResult
from hostile import cases, tiny

TESTS = Path(__file__).resolve().parent
LIMITS = dict(cell_timeout=15, budget=60, checks_budget=60, mem_mb=1500, startup_timeout=60)
MARGIN_S = 20          # one kernel (re)start on 2 shared cores, and interrupting a cell
MARKER = f"ch4grade-hostile-{uuid.uuid4().hex[:8]}"   # in every kernel's environment: finds our processes


def config(**limits) -> GradeConfig:
    return GradeConfig(limits=Limits(**{**LIMITS, **limits}), device="cpu")


def _env() -> dict:
    return {"CH4GRADE_EXTRA_CHECKS": "hostile.tiny", "CH4GRADE_HOSTILE_SOURCE": str(tiny.SOURCE),
            "CH4GRADE_HOSTILE_MARKER": MARKER,
            "PYTHONPATH": os.pathsep.join(p for p in (str(TESTS), os.environ.get("PYTHONPATH")) if p)}


@pytest.fixture(scope="module")
def env_vars():
    saved = {k: os.environ.get(k) for k in _env()}
    os.environ.update(_env())
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def our_kernels() -> list[int]:
    "Processes carrying a kernel token that were started by this test module (they carry MARKER)."
    return [p for p in processes(MARKER.encode()) if p in processes(TOKEN_ENV.encode())]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, env_vars):
    "Every case graded once, in one batch of two workers, as `ch4grade grade --jobs 2` does."
    d = tmp_path_factory.mktemp("hostile")
    subs = d / "subs"
    subs.mkdir()
    paths = [c.make(subs, c.name) for c in cases.ALL]
    good = tiny.write(subs / "good.ipynb", tiny.build())
    wrong = tiny.write(subs / "wrong.ipynb", tiny.build({"dist": cases.WRONG_DIST}))
    cfg = config()
    cfg.executed_dir = str(d / "executed")
    t = time.monotonic()
    pairs = grade_many(paths + [good, wrong], d / "out", tiny.NAME, cfg, jobs=2, progress=False)
    wall = time.monotonic() - t
    by_name = {Path(nb).stem: pair for nb, pair in zip(paths + [good, wrong], pairs)}
    return {"dir": d, "pairs": by_name, "wall": wall, "executed": d / "executed", "config": cfg}


def where(result: SubmissionResult, place: str) -> str:
    if place == "error":
        return result.error or ""
    if place == "notes":
        return "\n".join(result.notes)
    kind, gid = place.split(":")
    if kind == "item":
        return result.item(gid).feedback
    cells = [c for c in result.cells if c["grade_id"] == gid]
    return "\n".join(f"{c['status']}: {c['detail']}" for c in cells)


@pytest.mark.parametrize("case", cases.ALL, ids=lambda c: c.name)
def test_case(corpus, case):
    path, r = corpus["pairs"][case.name]
    saved = SubmissionResult.load(path)                       # the file on disk, as the grader wrote it
    assert saved.to_dict() == r.to_dict()
    assert not r.grader_failure, r.notes
    scores = {i.id: i.score for i in r.items}
    if case.scores is None:                                   # not a gradable notebook
        assert r.status == "error"
        assert {i.id: i.status for i in r.items} == {"dist": "not_run", "total": "not_run", "plot": "not_run",
                                                    "why": "manual"}
        assert scores == {"dist": 0.0, "total": 0.0, "plot": 0.0, "why": 0.0}
    else:
        assert r.status == "graded", r.error
        assert scores == case.scores, {i.id: i.feedback for i in r.items}
        # no fooling gains a point, and every item the case does not attack is graded as if alone
        good = {i.id: i.status for i in corpus["pairs"]["good"][1].items}
        for item in r.items:
            if item.score == tiny.FULL[item.id] and item.id != "why":
                assert item.status == good[item.id] == "passed"
            elif item.id != "why":
                assert item.status in ("failed", "error") and item.feedback
    place, text = case.reason
    assert text in where(r, place), where(r, place)
    assert r.score <= sum(case.scores.values()) if case.scores else r.score == 0
    lim = corpus["config"].limits
    assert r.timings["total_s"] < lim.budget + lim.checks_budget + MARGIN_S
    if "execute_s" in r.timings:
        assert r.timings["execute_s"] < lim.budget + MARGIN_S


def test_results_stay_small(corpus):
    for name, (path, r) in corpus["pairs"].items():
        assert path.stat().st_size < 100_000, name                  # 100 MB of output: the result stays small


def test_output_flood_is_truncated_in_the_executed_notebook(corpus):
    nb = nbformat.read(str(corpus["executed"] / "output_flood_100mb.ipynb"), 4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "total")
    text = "".join(o.get("text", "") for o in cell.outputs)
    assert len(text) < 1_000_000 and "more bytes of output were not kept" in text
    assert (corpus["executed"] / "output_flood_100mb.ipynb").stat().st_size < 2_000_000


def test_no_child_process_outlives_grading(corpus):
    for token in (cases.SLEEP_TOKEN, cases.SLEEP_NOENV):
        assert processes(f"sleep\0{token}".encode(), "cmdline") == [], token
    assert our_kernels() == []


def test_forged_result_file_is_overwritten_by_the_grader(corpus):
    path, r = corpus["pairs"]["write_forged_result_file"]
    data = json.loads(path.read_text())
    assert data["submission"] != "forged" and data["score"] == 2.0
    out = next(c for c in r.cells if c["grade_id"] == "dist")
    assert out["status"] == "ok"


def test_batch_of_two_gives_each_submission_its_result_alone(corpus, env_vars):
    "The good and wrong submissions, graded alone in this process, score exactly as in the hostile batch."
    for name in ("good", "wrong"):
        path, in_batch = corpus["pairs"][name]
        same_inputs = dataclasses.replace(config(), check_seed=in_batch.environment["check_seed"])
        alone = grade_notebook(in_batch.submission, tiny.A, same_inputs)
        assert alone.status == in_batch.status == "graded"
        assert [(i.id, i.score, i.status, i.feedback) for i in alone.items] == \
               [(i.id, i.score, i.status, i.feedback) for i in in_batch.items]
    assert corpus["pairs"]["wrong"][1].score == 2


def test_cell_sleeping_past_the_budget(tmp_path, env_vars):
    path = tiny.write(tmp_path / "sleepy.ipynb", tiny.build({"total": "import time\ntime.sleep(1000)\n" + cases.TOTAL}))
    t = time.monotonic()
    r = grade_notebook(path, tiny.A, config(cell_timeout=600, budget=6))
    wall = time.monotonic() - t
    assert wall < 6 + 60 + MARGIN_S                       # the budget, the checks (none run) and a margin
    assert r.timings["execute_s"] < 6 + 5
    assert {i.id: i.score for i in r.items} == {"dist": 0.0, "total": 0.0, "plot": 0.0, "why": 0.0}
    # "dist" ran before the budget ran out, but an exhausted budget stops every check: nothing scores
    assert {i.id: i.status for i in r.items} == {"dist": "not_run", "total": "not_run", "plot": "not_run",
                                                "why": "manual"}
    assert "budget" in r.item("total").feedback and "6 s" in r.item("total").feedback


def _cli(out: Path, subs: list[Path], **popen):
    env = {**os.environ, **_env()}
    return subprocess.Popen([sys.executable, "-m", "autograders.cli", "grade", *map(str, subs), "--assignment",
                             tiny.NAME, "--out", str(out), "--jobs", "1", "-q", "--device", "cpu", "--budget", "60",
                             "--cell-timeout", "10", "--mem-mb", "1500"], env=env, cwd=str(TESTS.parent),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)


def test_sigkill_midway_loses_no_finished_result(tmp_path):
    subs = [tiny.write(tmp_path / "subs" / f"s{i}.ipynb", tiny.build({"total": f"def total(n): return {i}"}
                                                                      if i % 2 else None)) for i in range(4)]
    out = tmp_path / "out"
    proc = _cli(out, subs, start_new_session=True)
    deadline = time.monotonic() + 240
    while not list(out.glob("s*.json")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.glob("s*.json")
            if not p.name.endswith(".gradescope.json")}
    assert done and len(done) < len(subs)
    for p in out.glob("*.json"):
        json.loads(p.read_text())                               # no half-written file
    second = _cli(out, subs)
    stdout, stderr = second.communicate(timeout=400)
    assert second.returncode == 0, stderr.decode()[-2000:]
    for name, (data, mtime) in done.items():
        assert (out / name).read_bytes() == data and (out / name).stat().st_mtime_ns == mtime
    for i, nb in enumerate(subs):
        r = SubmissionResult.load(out / f"s{i}.json")
        assert r.status == "graded" and not r.grader_failure
        assert {it.id: it.score for it in r.items} == (
            {**tiny.FULL, "total": 0.0} if i % 2 else tiny.FULL)
    time.sleep(2)                                               # a killed worker's kernel notices its parent is gone
    assert our_kernels() == []
