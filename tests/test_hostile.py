"""Hostile and broken submissions (tests/hostile/cases.py) against the grading engine and the batch,
under strict isolation (the strongest sandbox this machine has; CI installs bubblewrap).

For each case: the exact per-item scores and a clear reason; no attack gains a point; the grading never
crashes and stays within its budget plus a small margin; every other item is graded as it would be alone.
Around the batch: classmates graded before it keep their result files byte for byte, a classmate graded
beside it scores full marks, nothing connects to the host's loopback, nothing is planted outside the
sandbox, no process of a sandbox uid survives, and a restarted kernel is as isolated as the first.
Batch level: `--jobs 2` changes nobody's result, and a grader killed with SIGKILL midway loses no
finished result and leaves no kernel behind.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import uuid
from pathlib import Path

import nbformat
import pytest

from autograders.batch import INDEX, grade_many
from autograders.engine import GradeConfig, grade_notebook
from autograders.execute.processes import matching as processes
from autograders.execute.sandbox import choose
from autograders.execute.sandbox.cgroup import KernelCgroup
from autograders.execute.session import TOKEN_ENV, Limits
from autograders.execute.template import why_not as template_why_not
from autograders.results import SubmissionResult
from hostile import cases, tiny

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
LIMITS = dict(cell_timeout=15, budget=60, checks_budget=60, mem_mb=1500, startup_timeout=60, scratch_mb=256)
MARGIN_S = 20          # one kernel (re)start on 2 shared cores, and interrupting a cell
UIDS = (51000, 51199)  # this module's kernels run under these uids (as root): a leftover is any process of one
SANDBOX = choose("auto")
if SANDBOX.backend == "none":
    msg = "no sandbox works on this machine (install bubblewrap): " + "; ".join(SANDBOX.skipped)
    if os.environ.get("CI"):
        raise RuntimeError(msg)
    pytest.skip(msg, allow_module_level=True)


def _cgroups() -> bool:
    cg, _ = KernelCgroup.create(f"probe-{uuid.uuid4().hex[:8]}", 64, 16)
    if cg:
        cg.remove()
    return cg is not None


# the limit cases run where their limit is enforced (CI: root, bubblewrap, cgroups: all of them)
APPLICABLE = {"signal_everything": SANDBOX.backend == "bwrap", "disk_fill": SANDBOX.backend == "bwrap",
              "child_memory_bomb_without_token": _cgroups(), "fork_bomb": _cgroups()}
CASES = cases.ALL + cases.SANDBOX + [c for name, c in cases.SANDBOX_LIMITS.items() if APPLICABLE[name]]


def config(**limits) -> GradeConfig:
    return GradeConfig(limits=Limits(**{**LIMITS, **limits}), device="cpu", isolation="strict")


def _env() -> dict:
    return {"CH4GRADE_EXTRA_CHECKS": "hostile.tiny", "CH4GRADE_HOSTILE_SOURCE": str(tiny.SOURCE),
            "CH4GRADE_SANDBOX_UIDS": f"{UIDS[0]}-{UIDS[1]}",
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
    "Live processes of this module's kernels: any process of a sandbox uid (as root), else any kernel token."
    if os.geteuid() != 0:
        return processes(TOKEN_ENV.encode())
    found = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and UIDS[0] <= os.stat(f"/proc/{entry}").st_uid <= UIDS[1]:
                found.append(int(entry))
        except OSError:
            continue
    return found


class Listener:
    "A TCP server on the host's loopback that counts who reaches it."

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.5)
        self.port, self.accepted, self._stop = self.sock.getsockname()[1], 0, threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
                self.accepted += 1
                conn.close()
            except OSError:
                continue

    def close(self):
        self._stop.set()
        self.sock.close()


@pytest.fixture(scope="module")
def listener():
    lst = Listener()
    yield lst
    lst.close()


def _snapshot(paths) -> dict:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in paths}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, env_vars, listener):
    """Every case graded once, in one batch of two workers, as `ch4grade grade --jobs 2 --isolation strict` does.
    Two classmates (good, wrong) were graded into the same folder before it; a third (good2) beside it."""
    d = tmp_path_factory.mktemp("hostile")
    subs, out = d / "subs", d / "out"
    subs.mkdir()
    cases.CONTEXT.update(root=ROOT, site_packages=sysconfig.get_paths()["purelib"], out_dir=out,
                         port=listener.port)
    started = time.time()
    good = tiny.write(subs / "good.ipynb", tiny.build())
    wrong = tiny.write(subs / "wrong.ipynb", tiny.build({"dist": cases.WRONG_DIST}))
    cfg = config()
    cfg.executed_dir = str(d / "executed")
    grade_many([good, wrong], out, tiny.NAME, cfg, jobs=2, progress=False)
    before = _snapshot([out / "good.json", out / "wrong.json"])
    paths = [c.make(subs, c.name) for c in CASES]
    good2 = tiny.write(subs / "good2.ipynb", tiny.build())
    t = time.monotonic()
    everyone = paths + [good2, good, wrong]
    pairs = grade_many(everyone, out, tiny.NAME, cfg, jobs=2, progress=False)
    wall = time.monotonic() - t
    by_name = {Path(nb).stem: pair for nb, pair in zip(everyone, pairs)}
    return {"dir": d, "out": out, "pairs": by_name, "wall": wall, "executed": d / "executed", "config": cfg,
            "before": before, "started": started}


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


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
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
    assert len(text) < 1_000_000 and "not kept" in text          # cut at the cap, or refused whole (over 24 MB)
    assert (corpus["executed"] / "output_flood_100mb.ipynb").stat().st_size < 2_000_000


def test_no_child_process_outlives_grading(corpus):
    for token in (cases.SLEEP_TOKEN, cases.SLEEP_NOENV):
        assert processes(f"sleep\0{token}".encode(), "cmdline") == [], token
    assert our_kernels() == []


def test_every_kernel_was_sandboxed_and_verified(corpus):
    "Each result says which sandbox ran it and what the grader itself read from /proc about its kernel."
    for name, (_, r) in corpus["pairs"].items():
        iso = r.environment.get("isolation")
        if r.status == "error" and not iso:                    # not a notebook: no kernel was started
            continue
        assert iso["backend"] == SANDBOX.backend and iso["mode"] == "strict", name
        seen = iso["verified"]
        assert seen["capabilities"] == "none" and seen["no_new_privs"], (name, seen)
        if SANDBOX.backend == "bwrap":
            assert {"mnt", "pid", "net"} <= set(seen["separate_namespaces"]), (name, seen)
        if os.geteuid() == 0 and SANDBOX.backend == "bwrap":
            assert UIDS[0] <= seen["uid"] <= UIDS[1], (name, seen)
        if template_why_not(SANDBOX, cuda=False) is None:      # the whole corpus ran in kernels of the template
            assert "forked from" in iso["enforced"].get("process", ""), (name, iso.get("template_not_used"), iso["enforced"])
            assert set(seen["separate_namespaces"]) == {"mnt", "pid", "net", "ipc", "uts"}, (name, seen)


def test_a_restarted_kernel_is_as_isolated_as_the_first(corpus):
    "Modules planted for the next launch, then a crash: the new kernel imports none of them."
    _, r = corpus["pairs"]["plant_modules_then_crash"]
    assert any("stopped the kernel" in n for n in r.notes)
    seen = r.environment["isolation"]["verified"]
    assert seen["capabilities"] == "none" and "net" in seen["separate_namespaces"]
    for d in (Path(tempfile.gettempdir()), Path.home(), ROOT):
        for name in ("ipykernel_launcher.py", "sitecustomize.py", "usercustomize.py", "site.py"):
            p = d / name
            assert not p.exists() or p.stat().st_mtime < corpus["started"], p


def test_classmates_results_are_untouched(corpus):
    """Graded before the attackers: their result files keep every byte (and the resume index vouches for them);
    graded beside them: full marks."""
    out = corpus["out"]
    assert _snapshot([out / "good.json", out / "wrong.json"]) == corpus["before"]
    index = json.loads((out / INDEX).read_text())
    for name in ("good.json", "wrong.json", "good2.json"):
        assert index[name]["result_sha256"] == hashlib.sha256((out / name).read_bytes()).hexdigest()
    good2 = corpus["pairs"]["good2"][1]
    assert good2.status == "graded" and {i.id: i.score for i in good2.items} == tiny.FULL
    assert not list(out.glob("*.d")) and not any(json.loads(p.read_text()).get("submission") == "forged"
                                                 for p in out.glob("*.json") if p.name != INDEX)


def test_nothing_reached_the_hosts_loopback(corpus, listener):
    assert listener.accepted == 0


def test_nothing_was_planted_in_the_environment(corpus):
    site = Path(sysconfig.get_paths()["purelib"])
    assert not (site / "ch4grade_poison.pth").exists()
    assert not (site / "sitecustomize.py").exists() or (site / "sitecustomize.py").stat().st_mtime < corpus["started"]


def test_public_messages_never_carry_what_hidden_checks_sent(corpus):
    "Every public check runs before any hidden one: a student error in a public check cannot repeat hidden inputs."
    _, r = corpus["pairs"]["exfiltrate_hidden_inputs"]
    text = r.item("total").feedback
    assert "(4, 28, 28)" in text and "(7, 28, 28)" not in text, text
    assert r.item("dist").score == tiny.FULL["dist"]


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
                             "--cell-timeout", "10", "--mem-mb", "1500", "--isolation", "strict"], env=env, cwd=str(TESTS.parent),
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
