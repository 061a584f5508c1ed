"""The command line, in-process: --version, help on every option of every command, exit codes of grade and
check, the course commands' --source-dir, and the submission times collect writes (no kernels)."""
from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import zipfile

import pytest

from autograders import cli
from autograders.commands.check import failing_items
from autograders.commands.grade import verdict
from autograders.results import ItemResult, SubmissionResult
from autograders.workflow.collect import _iter_zip, submission_time
from autograders.workflow.safezip import ZipLimits


def sub_parser(name: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"ch4grade {name}", formatter_class=cli.HelpFormatter)
    importlib.import_module(cli.COMMANDS[name][0]).add_arguments(p)
    return p


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip() == f"ch4grade {cli.package_version()}"
    assert cli.package_version() != "unknown"


def test_main_help_says_what_ch4grade_is():
    assert cli.build_parser().description.startswith("ch4grade: autograde chapter 4")


@pytest.mark.parametrize("name", sorted(cli.COMMANDS))
def test_every_option_has_help(name):
    p = sub_parser(name)
    nohelp = [a.dest for a in p._actions if not a.help and not isinstance(a, argparse._SubParsersAction)]
    assert not nohelp, nohelp


def test_defaults_are_shown():
    text = sub_parser("grade").format_help()
    assert "(default: 42)" in text and "(default: ch4grade-results)" in text
    assert "(default: None)" not in text and "(default: False)" not in text


def test_source_dir_and_hidden_deprecated_assignments():
    p = sub_parser("release")
    assert p.parse_args(["--source-dir", "X"]).source_dir == "X"
    assert p.parse_args(["--assignments", "Y"]).source_dir == "Y"
    assert "--assignments" not in p.format_help() and "--source-dir" in p.format_help()
    demo = sub_parser("demo")
    assert demo.parse_args(["--assignment", "a", "--assignment", "b", "c"]).assignments == ["a", "b", "c"]


def result(name: str, score: float, status: str = "graded", error: str | None = None,
           grader_failure: bool = False, item_status: str = "passed") -> SubmissionResult:
    items = [] if error else [ItemResult(id="f", score=score, max_score=4, status=item_status)]
    return SubmissionResult(submission=f"{name}.ipynb", student=name, assignment="lab", status=status,
                            error=error, items=items, grader_failure=grader_failure)


def test_grade_verdict_exit_codes_and_reasons():
    good, low = result("ada", 4), result("ben", 1, item_status="partial")
    broken = result("cy", 0, status="error", error="not a notebook")
    crashed = result("dee", 0, status="error", error="worker died", grader_failure=True)
    assert verdict([good, low], None) == (0, [])
    code, lines = verdict([good, low], 50)
    assert code == 1 and len(lines) == 1 and "ben.ipynb" in lines[0] and "25.0%" in lines[0]
    code, lines = verdict([good, broken], 50)
    assert code == 1 and lines == ["cy.ipynb (lab): 0/0: not graded: not a notebook"]
    assert verdict([good, broken], None)[0] == 0
    code, lines = verdict([low, broken, crashed], 10)
    assert code == 2 and len(lines) == 2 and "grader failed: worker died" in lines[1]


def test_check_fails_on_any_failing_public_check():
    r = result("ada", 4)
    r.items.append(ItemResult(id="q01", score=0, max_score=1, status="manual"))
    assert failing_items(r) == []
    r.items.append(ItemResult(id="g", score=0, max_score=1, status="error"))
    assert failing_items(r) == ["g"]


def test_submission_time_order(tmp_path):
    old = (2020, 5, 17, 8, 30, 0)
    mtime = dt.datetime(2026, 1, 1).timestamp()
    bb = "Homework 4_alice_attempt_2024-03-01-10-22-33_lab.ipynb"
    assert submission_time("x.ipynb", old, mtime) == dt.datetime(*old).timestamp()
    assert submission_time(bb, None, mtime) == dt.datetime(2024, 3, 1, 10, 22, 33).timestamp()
    assert submission_time(bb, (1980, 1, 1, 0, 0, 0), mtime) == dt.datetime(2024, 3, 1, 10, 22, 33).timestamp()
    assert submission_time("ben_12345_678901_lab.ipynb", None, mtime) == mtime


def test_zip_member_time_is_the_submission_time(tmp_path):
    z = tmp_path / "subs.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr(zipfile.ZipInfo("ada_lab.ipynb", date_time=(2020, 5, 17, 8, 30, 0)), b"{}")
    os.utime(z, (0, dt.datetime(2026, 1, 1).timestamp()))
    [(name, _, when, _)] = list(_iter_zip(z, ZipLimits()))
    assert name == "ada_lab.ipynb" and when == dt.datetime(2020, 5, 17, 8, 30).timestamp()


def test_grade_exits_1_on_a_submission_not_graded(tmp_path, capsys):
    bad = tmp_path / "cy.ipynb"
    bad.write_text("not a notebook")
    code = cli.main(["grade", str(bad), "--out", str(tmp_path / "out"), "-q", "--fail-under", "50"])
    err = capsys.readouterr().err
    assert code == 1 and "cy.ipynb" in err and "not graded" in err, err


def test_device_cuda_without_a_gpu_refuses_to_grade(tmp_path, capsys):
    "--device cuda on a machine without CUDA: exit 2 and one line, nothing graded (no silent CPU fallback)."
    import torch

    from autograders.cli import main
    from autograders.commands.device import NoGPU, config_device

    assert config_device("auto") is None and config_device("cpu") == "cpu"
    if torch.cuda.is_available():
        assert config_device("cuda") == "cuda"
        return
    with pytest.raises(NoGPU):
        config_device("cuda")
    nb = tmp_path / "a.ipynb"
    nb.write_text("{}")
    for argv in (["grade", str(nb), "--out", str(tmp_path / "out"), "--device", "cuda"],
                 ["autograde", "--course", str(tmp_path / "course"), "--device", "cuda"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "--device cuda: no CUDA device" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()
