"""The sandbox and the trust boundaries around it: backends, probes, results only the grader writes,
grader failures, redaction. The hostile corpus (test_hostile.py) attacks all of it end to end; these tests
pin each mechanism down on its own, most of them without a kernel."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

import tiny_assignment as tiny
from autograders.batch import ResumeIndex, fingerprint, grade_many
from autograders.checks.spec import Assignment, GraderError
from autograders.engine import GradeConfig, grade_notebook
from autograders.execute import sandbox
from autograders.execute.sandbox import bwrap, choose
from autograders.execute.sandbox.view import allow_list, grader_dirs, kernel_view
from autograders.execute.scope import run_block
from autograders.execute.session import KernelSession, Limits
from autograders.namespace import KernelNamespace
from autograders.redact import WITHHELD, Redactor
from autograders.results import SubmissionResult

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
BOX = choose("auto")
LIMITS = Limits(cell_timeout=30, budget=90, checks_budget=60, mem_mb=1500)


def _need_sandbox():
    if BOX.backend == "none":
        msg = "no sandbox works here (install bubblewrap)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)


# ---- choosing a backend ------------------------------------------------------------------------
def test_ci_grades_under_bubblewrap():
    "CI installs bubblewrap and runs as root: the suite must exercise the strict path, not fall back."
    if not os.environ.get("CI"):
        pytest.skip("outside CI the machine may lack bubblewrap")
    assert choose("strict").backend == "bwrap", bwrap.problem()


def test_strict_refuses_when_no_sandbox_works(monkeypatch, capsys):
    monkeypatch.setattr(bwrap, "problem", lambda: "bubblewrap is not installed")
    monkeypatch.setattr(sandbox, "landlock_problem", lambda: "Landlock is not enabled")
    with pytest.raises(sandbox.IsolationUnavailable, match="apt install bubblewrap"):
        choose("strict")
    assert choose("auto").backend == "none" and choose("auto").warning
    import argparse

    from autograders.commands import grade
    p = argparse.ArgumentParser()
    grade.add_arguments(p)
    units = str(ROOT / "autograders" / "assignments")
    code = grade.run(p.parse_args([units, "--isolation", "strict", "--out", "/nonexistent"]))
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "strict" in err[0] and "bubblewrap" in err[0]


def test_unknown_isolation_is_refused():
    with pytest.raises(ValueError, match="strict"):
        choose("docker")


# ---- what the kernel sees ----------------------------------------------------------------------
def test_the_view_hides_the_grader_and_shows_the_runtime(tmp_path):
    view = kernel_view([tmp_path], tmp_path / "run", None, 64, cuda=False)
    shown = [str(p) for p in view.read_only]
    assert str(Path(sys.prefix).absolute()) in shown or str(Path(sys.prefix).resolve()) in shown
    assert str(tmp_path.resolve()) in shown
    assert not any(p == ROOT or ROOT in p.parents and ".venv" not in p.parts for p in view.read_only)
    assert ROOT.resolve() in grader_dirs() and (ROOT / "autograders").resolve() in [d.resolve() for d in grader_dirs()]


def test_allow_list_carves_hidden_folders_out(tmp_path):
    for rel in ("a/keep.txt", "a/secret/x.txt", "a/b/keep2.txt", "c.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    got = allow_list([tmp_path], [tmp_path / "a" / "secret"])
    assert str(tmp_path / "a" / "secret") not in got and str(tmp_path) not in got
    assert {str(tmp_path / "a" / "keep.txt"), str(tmp_path / "a" / "b"), str(tmp_path / "c.txt")} <= set(got)


def test_bubblewrap_command_binds_no_grader_folder(tmp_path):
    view = kernel_view([], tmp_path / "run", None, 64, cuda=False)
    cmd = bwrap.command(view, ["python"], {"HOME": "/tmp"}, 50001, 50001)
    bound = {cmd[i + 1] for i, a in enumerate(cmd) if a in ("--ro-bind", "--bind", "--dev-bind")}
    grader = [ROOT / "autograders", ROOT / "autograders" / "assignments", ROOT / "reference"]
    assert not any(Path(b) == ROOT or Path(b) in grader
                   for b in bound)
    for flag in ("--unshare-pid", "--unshare-net", "--die-with-parent", "--new-session", "--clearenv"):
        assert flag in cmd
    assert "--reuid=50001" in cmd and "--bounding-set=-all" in cmd


# ---- probes: the grader's inputs never in the student's globals -------------------------------
def test_run_block_keeps_inputs_out_of_student_globals():
    ns = {"peek": lambda: globals().get("y"), "type": lambda x: "fooled", "len": lambda x: 99}
    exec("def peek(): return globals().get('y')", ns)
    got = run_block(ns, "result = (peek(), type(x).__name__, len(x))", {"x": [1, 2], "y": "labels"})
    assert got == (None, "list", 2)
    assert "x" not in ns and "y" not in ns and "result" not in ns


def test_set_global_feeds_a_student_function_and_is_restored():
    ns = {"dl": "the student's"}
    exec("def first(): return dl[0]", ns)
    assert run_block(ns, "set_global('dl', data)\nresult = first()", {"data": [7, 8]}) == 7
    assert ns["dl"] == "the student's"
    run_block(ns, "set_global('opt', 1)", {})
    assert "opt" not in ns


def test_probes_in_a_kernel_hide_inputs_and_drop_payload_floods():
    _need_sandbox()
    with KernelSession(env={"MPLBACKEND": "agg"}, limits=LIMITS, sandbox=BOX) as s:
        code = ("import sys\nfrom IPython.display import display\nblob = 'x' * (8 * 2**20)\n"
                "for i in range(6):\n    display({'application/x-ch4grade+json': {'nonce': str(i), 'v': blob}}, raw=True)\n"
                "def model(x):\n    import sys\n    f, found = sys._getframe(), []\n"
                "    return globals().get('y')\n")
        run = s.execute(code, timeout=60)
        assert run.status == "ok" and run.answer is None and run.dropped_bytes >= 6 * 8 * 2**20
        assert sum(len(json.dumps(o)) for o in run.outputs) < 10_000       # nothing of the flood was kept
        ns = KernelNamespace(s, deadline=time.monotonic() + 60)
        assert ns.run("result = model(x)", x=torch.zeros(3), y=torch.ones(3)) is None
        assert ns.call("model", torch.zeros(2)) is None


# ---- results only the grader writes ------------------------------------------------------------
def test_resume_index_vouches_only_for_what_the_batch_wrote(tmp_path):
    nb = tiny.notebook(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    r = SubmissionResult(submission=str(nb), assignment="tiny", notebook_sha256=__import__("hashlib").sha256(
        nb.read_bytes()).hexdigest())
    text = json.dumps(r.to_dict())
    cfg = GradeConfig()
    ResumeIndex(out).record(out / "sub.json", text, r, fingerprint(cfg, "tiny"))
    (out / "sub.json").write_text(text)
    assert ResumeIndex(out).vouches(out / "sub.json", nb, fingerprint(cfg, "tiny")) is not None
    assert ResumeIndex(out).vouches(out / "sub.json", nb, fingerprint(GradeConfig(run_hidden=False), "tiny")) is None
    (out / "sub.json").write_text(text.replace('"graded"', '"graded" '))            # tampered: not vouched
    assert ResumeIndex(out).vouches(out / "sub.json", nb, fingerprint(cfg, "tiny")) is None


def _workers() -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and b"autograders.worker" in Path(f"/proc/{entry}/cmdline").read_bytes() \
                    and int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1]) == os.getpid():
                found.append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    return found


def test_a_killed_worker_yields_an_error_whatever_is_on_disk(tiny_env):
    _need_sandbox()
    slow = tiny.notebook(tiny_env, {"total": "import time\ntime.sleep(120)\ndef total(n): return n"}, name="slow.ipynb")
    out = tiny_env / "out"
    cfg = GradeConfig(limits=Limits(cell_timeout=200, budget=300, mem_mb=1500), isolation="strict")
    result: list = []
    t = threading.Thread(target=lambda: result.append(grade_many([slow], out, "tiny", cfg, progress=False)))
    t.start()
    deadline = time.monotonic() + 120
    while not _workers() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(8)                                                      # the kernel is running the slow cell
    forged = SubmissionResult(submission=str(slow), assignment="tiny", notebook_sha256="x",
                              items=[]).to_dict() | {"score": 999}
    (out / "slow.json").write_text(json.dumps(forged))                # a forged full-marks file...
    for pid in _workers():
        os.kill(pid, signal.SIGKILL)                                   # ...and the worker killed
    t.join(timeout=120)
    (_, r), = result[0]
    assert r.status == "error" and r.grader_failure and "exited with code -9" in r.error
    assert json.loads((out / "slow.json").read_text())["grader_failure"] is True
    assert all(i.status in ("not_run", "manual") and i.score == 0 for i in r.items)


def test_a_result_that_cannot_be_written_is_that_submissions_error(tiny_env):
    _need_sandbox()
    subs = tiny_env / "subs"
    for name in ("alice", "bob"):
        tiny.notebook(subs, name=f"{name}.ipynb")
    out = tiny_env / "out"
    (out / "bob.json").mkdir(parents=True)                            # a folder where bob's result goes
    env = {**os.environ, "CH4GRADE_EXTRA_CHECKS": "tiny_assignment", "CH4GRADE_TINY_SOURCE": tiny.A.source}
    proc = subprocess.run([sys.executable, "-m", "autograders.cli", "grade", str(subs), "--assignment", "tiny",
                           "--out", str(out), "--jobs", "2", "-q", "--isolation", "strict", "--format", "json"],
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2, proc.stderr[-2000:]
    alice = json.loads((out / "alice.json").read_text())
    assert alice["score"] == 5 and not alice["grader_failure"]
    assert "bob" in (out / "summary.md").read_text() and (out / "bob.json").is_dir()
    assert "could not be written" in (out / "summary.md").read_text()


# ---- a grader-side failure is never charged to the student -----------------------------------
GRADER_BREAKS = Assignment("tiny_broken", data=())


@GRADER_BREAKS.check("dist", "needs the grader's data", points=2, hidden=True)
def _(ns):
    raise GraderError("the reference data could not be loaded")


@GRADER_BREAKS.check("total", "the sum of 1..n", points=1)
def _(ns):
    assert ns.call("total", 4) == 10


def test_a_check_that_breaks_on_the_graders_side_is_not_run_and_said_openly(tiny_env):
    _need_sandbox()
    GRADER_BREAKS.source = tiny.A.source
    r = grade_notebook(tiny.notebook(tiny_env), GRADER_BREAKS, GradeConfig(limits=LIMITS, isolation="strict"))
    dist = r.item("dist")
    assert r.grader_failure and "grader failure" in r.error and "reference data" in r.error
    assert dist.status == "not_run" and dist.score == 0
    assert "could not run this check" in dist.feedback and "reference data" in dist.feedback   # hidden, yet said
    assert r.item("total").score == 1


def test_missing_grader_data_fails_the_grader_not_the_student(tmp_path):
    "The released pixel-similarity notebook, graded with no MNIST files: exit 2, every item not_run, the reason."
    empty = tmp_path / "mnist"
    empty.mkdir()
    from autograders.paths import source_notebook
    nb = tmp_path / "alice.ipynb"
    nb.write_bytes(source_notebook("ch04_pixel_similarity").read_bytes())
    env = {**os.environ, "CH4GRADE_MNIST_DIR": str(empty), "FASTAI_HOME": str(tmp_path / "fastai")}
    proc = subprocess.run([sys.executable, "-m", "autograders.cli", "grade", str(nb), "--out", str(tmp_path / "out"),
                           "-q", "--isolation", "auto", "--format", "json"], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 2, proc.stderr[-2000:]
    r = json.loads((tmp_path / "out" / "alice.json").read_text())
    assert r["grader_failure"] and "MNIST" in r["error"]
    assert {i["status"] for i in r["items"]} <= {"not_run", "manual"} and r["score"] == 0
    hidden = [i for i in r["items"] if i["visibility"] == "hidden"]
    assert all("MNIST" in i["feedback"] for i in hidden)


# ---- feedback: bounded, and never the answer key ----------------------------------------------
def test_redactor_withholds_secrets_and_bounds_length():
    secret = "The mean absolute difference is robust to a few very wrong pixels, unlike the squared error."
    shared = Redactor([secret], public=["unlike the squared error. the public check says so itself"])
    r = shared.fresh()
    assert r.clean("x" * 5000).endswith("…") and len(r.clean("x" * 5000)) == 400
    assert r.clean("expected 3.0, got 2.5") == "expected 3.0, got 2.5"
    shown = "unlike the squared error. the public check"        # in the secret, but the public check says it too
    assert r.clean(shown) == shown
    assert r.clean("your code raised ValueError: " + secret[10:80]) == WITHHELD
    assert r.clean("expected 3.0, got 2.5") == WITHHELD          # once one is withheld, all are: no guessing game
    assert shared.fresh().clean("THE MEAN ABSOLUTE   difference is robust to a few very wrong pixels") == WITHHELD
    assert shared.fresh().clean("expected 3.0, got 2.5") == "expected 3.0, got 2.5"   # a new grading starts clean


# ---- the other backends ------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["landlock", "none"])
def test_other_backends_grade_a_perfect_notebook(tiny_env, backend):
    if sandbox.problem(backend):
        pytest.skip(f"{backend} is not available here: {sandbox.problem(backend)}")
    key = ROOT / "autograders" / "assignments" / "ch04_sgd" / "answer_key.yaml"
    reader = (f"try:\n    print(open({str(key)!r}).read()[:10])\n"
              "except OSError as e:\n    print('blocked', type(e).__name__)\n")
    nb = tiny.notebook(tiny_env, {"dist": reader + tiny.GOOD["dist"]})
    cfg = GradeConfig(limits=LIMITS, isolation=backend, executed_dir=str(tiny_env / "executed"))
    r = grade_notebook(nb, tiny.A, cfg)
    assert {i.id: i.score for i in r.items} == tiny.FULL, [i.feedback for i in r.items]
    iso = r.environment["isolation"]
    assert iso["backend"] == backend
    executed = (tiny_env / "executed" / nb.name).read_text()
    if backend == "landlock":
        assert "blocked PermissionError" in executed and iso["verified"]["capabilities"] == "none"
    else:
        assert "no sandbox" in iso["warning"]


FLOOD = r'''
import json, sys, time
from autograders.execute.sandbox import choose
from autograders.execute.session import KernelSession, Limits

def peak_mb():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1]) / 1024

with KernelSession(env={"MPLBACKEND": "agg"}, limits=Limits(mem_mb=3000), sandbox=choose(sys.argv[1])) as s:
    assert s.execute("x = 1", timeout=60).status == "ok"
    before = peak_mb()
    flood = ("k = get_ipython().kernel\nblob = 'x' * (100 * 2**20)\n"
             "for i in range(12):\n"
             "    k.session.send(k.iopub_socket, 'stream', {'name': 'stdout', 'text': blob}, parent=k.get_parent())\n"
             "print('after the flood')\n")
    t = time.monotonic()
    run = s.execute(flood, timeout=120)
    print(json.dumps({"status": run.status, "grew_mb": peak_mb() - before, "seconds": time.monotonic() - t,
                      "alive": s.alive(), "next": s.execute("print(6 * 7)", timeout=60).outputs}))
'''


def test_a_message_flood_does_not_grow_the_grader():
    "1.2 GB of 100 MB messages from the kernel: the grader refuses each (over 24 MB) and stays small."
    _need_sandbox()
    proc = subprocess.run([sys.executable, "-c", FLOOD, BOX.backend], capture_output=True, text=True, timeout=300,
                          cwd=str(ROOT))
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["status"] == "ok" and got["alive"], got
    assert got["grew_mb"] < 300, got
    assert "42" in json.dumps(got["next"])                      # the kernel still answers afterwards
