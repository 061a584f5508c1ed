"""`ch4grade grade` end to end (parallel, resumable, exit codes, all formats), the pytest plugin and the
student self-check, on the tiny assignment registered through `$CH4GRADE_EXTRA_CHECKS`."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

import tiny_assignment as tiny

TESTS = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    d = tmp_path_factory.mktemp("batch")
    source = tiny.write_source(d)
    subs = d / "subs"
    tiny.notebook(subs, name="alice.ipynb")
    tiny.notebook(subs, {"dist": "def mnist_distance(a, b): return ((a - b)**2).mean((-1, -2))"}, name="bob.ipynb")
    (subs / "carol.ipynb").write_text('{"cells": [')
    env = {**os.environ, "CH4GRADE_EXTRA_CHECKS": "tiny_assignment", "CH4GRADE_TINY_SOURCE": str(source),
           "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    return d, subs, env


def ch4grade(env, *args, check=False):
    return subprocess.run([sys.executable, "-m", "autograders.cli", *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=600, check=check)


@pytest.fixture(scope="module")
def graded(course):
    d, subs, env = course
    out = d / "out"
    proc = ch4grade(env, "grade", subs, "--assignment", "tiny", "--out", out, "--jobs", "2", "-q")
    return proc, out


def test_batch_results_in_every_format(graded):
    proc, out = graded
    assert proc.returncode == 0, proc.stderr
    alice, bob, carol = (json.loads((out / f"{n}.json").read_text()) for n in ("alice", "bob", "carol"))
    assert (alice["score"], alice["auto_max_score"], alice["status"]) == (5, 5, "graded")
    assert bob["score"] == 2 and {i["id"]: i["score"] for i in bob["items"]}["dist"] == 0
    assert carol["status"] == "error" and "not valid notebook JSON" in carol["error"]
    assert {i["status"] for i in carol["items"]} == {"not_run", "manual"}

    gs = json.loads((out / "bob.gradescope.json").read_text())
    assert set(gs) == {"score", "execution_time", "output", "output_format", "visibility", "stdout_visibility",
                       "extra_data", "tests"}      # Gradescope's keys only (tests/test_exports.py: the schema)
    assert gs["score"] == 2 and gs["extra_data"]["max_score"] == 5
    test = next(t for t in gs["tests"] if t["name"] == "dist")
    assert set(test) == {"name", "number", "score", "max_score", "status", "output", "output_format", "tags",
                         "visibility", "extra_data"}
    assert test["status"] == "failed" and "expected" in test["output"]

    suites = ET.parse(out / "junit.xml").getroot().findall("testsuite")
    assert len(suites) == 3
    bob_suite = next(s for s in suites if "bob" in s.get("name"))
    assert int(bob_suite.get("failures")) == 2 and int(bob_suite.get("skipped")) == 1   # the prose: pending
    assert int(bob_suite.get("tests")) == 5
    assert "| " in (out / "summary.md").read_text()


def test_rerun_resumes_and_regrades_changed_notebooks(course, graded):
    d, subs, env = course
    _, out = graded
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.json") if "gradescope" not in p.name}
    tiny.notebook(subs, {"total": "def total(n): return 0"}, name="alice.ipynb")   # alice resubmits
    proc = ch4grade(env, "grade", subs, "--assignment", "tiny", "--out", out, "-q")
    assert proc.returncode == 0, proc.stderr
    after = {p.name: p.stat().st_mtime_ns for p in out.glob("*.json") if "gradescope" not in p.name}
    assert after["bob.json"] == before["bob.json"]          # unchanged: not graded again
    assert after["alice.json"] != before["alice.json"]
    assert json.loads((out / "alice.json").read_text())["score"] == 4


def test_fail_under_and_missing_files_exit_codes(course, tmp_path):
    d, subs, env = course
    proc = ch4grade(env, "grade", subs / "bob.ipynb", "--assignment", "tiny", "--out", tmp_path, "-q",
                    "--fail-under", "90")
    assert proc.returncode == 1
    assert ch4grade(env, "grade", tmp_path / "nope.ipynb", "--out", tmp_path).returncode == 2


def test_check_exits_1_on_a_failing_public_check_and_0_when_all_pass(course, tmp_path):
    "`ch4grade check`, as a student runs it: the failing item named on the last line, exit 1; all pass, exit 0."
    _, _, env = course         # (its own notebooks: the class's are resubmitted by another test)
    wrong = tiny.notebook(tmp_path, {"dist": "def mnist_distance(a, b): return ((a - b)**2).mean((-1, -2))"},
                          name="wrong.ipynb")
    right = tiny.notebook(tmp_path, name="right.ipynb")
    wrong = ch4grade(env, "check", wrong, "--assignment", "tiny")
    assert wrong.returncode == 1, wrong.stdout + wrong.stderr
    assert wrong.stdout.strip().splitlines()[-1] == "1 item(s) with a failing public check: dist (exit 1)"
    right = ch4grade(env, "check", right, "--assignment", "tiny")
    assert right.returncode == 0 and right.stdout.strip().endswith("every public check passes"), right.stdout


def test_pytest_plugin_one_test_per_check(course):
    d, subs, env = course
    bob = subs / "bob.ipynb"
    tiny.notebook(subs, {"dist": "def mnist_distance(a, b): return ((a - b)**2).mean((-1, -2))"}, name="bob.ipynb")
    proc = subprocess.run([sys.executable, "-m", "pytest", "--notebook", str(bob),
                           "--assignment", "tiny", "-q", "-p", "no:cacheprovider", "--rootdir", str(d)],
                          env=env, capture_output=True, text=True, timeout=300, cwd=d)
    assert "2 failed, 2 passed" in proc.stdout, proc.stdout + proc.stderr
    assert "values differ" in proc.stdout


@pytest.fixture
def tiny_registered(monkeypatch):
    monkeypatch.setenv("CH4GRADE_EXTRA_CHECKS", "tiny_assignment")


def test_self_check_in_the_students_namespace(capsys, tiny_registered):
    from autograders import check
    import torch
    ns = {"torch": torch, "mnist_distance": lambda a, b: (a - b).abs().mean((-1, -2))}
    assert check("dist", assignment="tiny", user_ns=ns) == 2          # public checks only
    assert check("dist", hidden=True, assignment="tiny", user_ns=ns) == 3
    assert "✓" in capsys.readouterr().out
    ns["mnist_distance"] = lambda a, b: (a - b).pow(2).mean((-1, -2))
    with pytest.raises(AssertionError, match="did not pass"):
        check("dist", assignment="tiny", user_ns=ns)
    assert "expected" in capsys.readouterr().out


def test_self_check_reads_the_answer_cell_and_redraws_its_plot(capsys, tiny_registered):
    import matplotlib
    matplotlib.use("Agg")
    import torch
    from autograders import check
    plot = "import matplotlib.pyplot as plt\nx = torch.linspace(-2, 2, 41)\nplt.plot(x, x.clamp(min=0)); plt.show()"
    ns = {"torch": torch, "In": ["", "import torch", plot, 'check("plot")']}
    assert check("plot", assignment="tiny", user_ns=ns) == 1
    ns["In"][2] = plot.replace("x.clamp(min=0)", "torch.sigmoid(x)")
    with pytest.raises(AssertionError):
        check("plot", assignment="tiny", user_ns=ns)
    assert "plotted y values" in capsys.readouterr().out
