"""Exporters (Gradescope, JUnit, Markdown, LMS CSVs) and the one atomic write: fast, in-process, on
synthetic results and gradebook grades (no kernel, no gradebook database)."""
from __future__ import annotations

import csv
import io
import json
import os
import stat
from datetime import datetime, timezone
from pathlib import Path

import jsonschema
import pytest

from autograders.exporters import to_gradescope, to_junit, to_markdown
from autograders.exporters.gradescope import PENDING, gradescope_results
from autograders.exporters.summary import shorten
from autograders.results import CheckResult, ItemResult, SubmissionResult
from autograders.workflow.export import lms_csvs
from autograders.workflow.gradebook import CellGrade, SubmissionGrades
from reference.files import write_atomic

FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "-4.5 secret expected"

# Gradescope's results.json, from https://gradescope-autograders.readthedocs.io/en/latest/specs/
VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
FORMAT = {"enum": ["text", "html", "simple_format", "md", "ansi"]}
GRADESCOPE_SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["tests"],
    "properties": {
        "score": {"type": "number"}, "execution_time": {"type": "number", "minimum": 0},
        "output": {"type": "string"}, "output_format": FORMAT, "test_output_format": FORMAT,
        "test_name_format": FORMAT, "visibility": VISIBILITY, "stdout_visibility": VISIBILITY,
        "extra_data": {"type": "object"},
        "tests": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["name", "max_score"],
            "properties": {
                "score": {"type": "number"}, "max_score": {"type": "number"},
                "status": {"enum": ["passed", "failed"]}, "name": {"type": "string"},
                "name_format": FORMAT, "number": {"type": "string"}, "output": {"type": "string"},
                "output_format": FORMAT, "tags": {"type": "array", "items": {"type": "string"}},
                "visibility": VISIBILITY, "extra_data": {"type": "object"}}}},
        "leaderboard": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["name", "value"],
            "properties": {"name": {"type": "string"}, "value": {"type": ["number", "string"]},
                           "order": {"enum": ["asc", "desc"]}}}}}}


def result(student="bob", status="graded", error=None) -> SubmissionResult:
    "A public item with a failed check, a hidden item, a public item with a hidden check, a prose item."
    items = [
        ItemResult("dist", 1, 2, "partial", "dist: 1 of 2 checks", checks=[
            CheckResult("matches the reference", 1, 1, "passed"),
            CheckResult("broadcasts", 0, 1, "failed", "wrong shape", expected="(5,)", got="(5, 28)")]),
        ItemResult("secret_item", 0, 1, "failed", f"feedback quoting {SECRET}", visibility="hidden",
                   checks=[CheckResult("hidden one", 0, 1, "failed", SECRET, expected=SECRET, got="0", hidden=True)]),
        ItemResult("total", 1, 2, "partial", checks=[
            CheckResult("sums", 1, 1, "passed"),
            CheckResult("negatives", 0, 1, "failed", SECRET, expected=SECRET, got="1", hidden=True)]),
        ItemResult("unanswered", 0, 1, "not_run", "not answered yet"),
        ItemResult("q01", 0, 1, "manual", answer="It descends."),
    ]
    return SubmissionResult(submission=f"/subs/{student}.ipynb", assignment="ch04_tiny", student=student,
                            status=status, error=error, items=items, notes=["edited a locked cell"],
                            environment={"hostname": "grader-1"}, timings={"total_s": 3.25})


def grades(manual_score=None, comment=None) -> SubmissionGrades:
    def cell(item, kind, mx, score, manual=None):
        return CellGrade(f"{item}_check" if kind == "auto" else item, item, kind, mx,
                         score if kind == "auto" else None, manual, None, score, kind == "manual" and manual is None,
                         manual_comment=comment if kind == "manual" else None)
    return SubmissionGrades("bob", "ch04_tiny", "ch04_tiny", [
        cell("dist", "auto", 2, 1), cell("secret_item", "auto", 1, 0), cell("total", "auto", 2, 1),
        cell("unanswered", "auto", 1, 0), cell("q01", "manual", 1, manual_score or 0, manual_score)])


# -- Gradescope ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("build", [
    lambda: to_gradescope(result()),
    lambda: to_gradescope(result(status="error", error="kernel died\nTraceback ...")),
    lambda: gradescope_results(result(), grades()),
    lambda: gradescope_results(result(), grades(0.5, "Say which gradient.")),
    lambda: gradescope_results(None, grades()),
], ids=["grade", "grade-error", "export-pending", "export-graded", "export-no-result"])
def test_every_gradescope_output_follows_the_spec_and_hides_hidden_material(build, request):
    "(Without the engine's result the gradebook cannot tell a hidden item: its score shows, nothing else.)"
    out = build()
    jsonschema.validate(out, GRADESCOPE_SCHEMA)
    text = json.dumps(out)
    assert SECRET not in text and "Traceback" not in text
    tests = {t["extra_data"]["item"]: t for t in out["tests"]}
    assert out["score"] == round(sum(t.get("score", 0) for t in out["tests"]), 6)
    assert [t["number"] for t in out["tests"]] == [str(n) for n in range(1, len(out["tests"]) + 1)]
    without_result = "export-no-result" == request.node.callspec.id
    assert tests["secret_item"]["visibility"] == ("visible" if without_result else "after_published")
    assert {t["visibility"] for i, t in tests.items() if i != "secret_item"} == {"visible"}


def test_both_paths_build_the_same_tests_for_autograded_items():
    direct, exported = to_gradescope(result()), gradescope_results(result(), grades())
    assert direct["tests"] == exported["tests"][:4]
    dist = direct["tests"][0]
    assert (dist["score"], dist["max_score"], dist["status"]) == (1, 2, "failed")
    assert "wrong shape" in dist["output"] and "expected: (5,)" in dist["output"]
    assert "hidden check did not pass" in direct["tests"][2]["output"]


def test_prose_is_left_out_by_grade_and_pending_in_export_until_graded_by_hand():
    assert "q01" not in {t["extra_data"]["item"] for t in to_gradescope(result())["tests"]}
    pending = gradescope_results(result(), grades())
    q01 = pending["tests"][-1]
    assert q01["name"] == "q01 (written answer)" and q01["output"] == PENDING and q01["max_score"] == 1
    assert "score" not in q01 and "status" not in q01
    assert pending["extra_data"]["pending"] == ["q01"] and "q01" in pending["output"]
    graded = gradescope_results(result(), grades(1, "Good."))
    q01 = graded["tests"][-1]
    assert (q01["score"], q01["status"], q01["output"]) == (1, "passed", "Instructor: Good.")
    assert graded["score"] == pending["score"] + 1


# -- JUnit --------------------------------------------------------------------------------------------
def junit_text(results=None) -> str:
    return to_junit(results or [result(), result("carol", "error", "not valid notebook JSON")],
                    timestamp=datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc))


def test_junit_is_valid_against_jenkins_schema():
    xmlschema = pytest.importorskip("xmlschema")
    xmlschema.XMLSchema(FIXTURES / "junit-10.xsd").validate(junit_text())


def test_junit_ids_are_stable_and_a_real_parser_reads_the_results(tmp_path):
    junitparser = pytest.importorskip("junitparser")
    first = result()
    second = result()
    second.items[0].checks[1] = CheckResult("broadcasts", 1, 1, "passed")     # the score changed
    ids = [[(c.classname, c.name) for s in junitparser.JUnitXml.fromstring(to_junit([r])) for c in s]
           for r in (first, second)]
    assert ids[0] == ids[1] and ("ch04_tiny.dist", "broadcasts") in ids[0]
    path = tmp_path / "junit.xml"
    path.write_text(junit_text())
    bob, carol = junitparser.JUnitXml.fromfile(str(path))
    assert (bob.tests, bob.failures, bob.errors, bob.skipped) == (7, 3, 1, 1)
    assert bob.timestamp == "2026-01-02T03:04:05" and bob.hostname == "grader-1"
    assert bob._elem.get("file") == "/subs/bob.ipynb"
    cases = {(c.classname, c.name): c for c in bob}
    broadcasts = cases[("ch04_tiny.dist", "broadcasts")]
    assert isinstance(broadcasts.result[0], junitparser.Failure) and broadcasts.system_out == "score: 0/1"
    prose = cases[("ch04_tiny.q01", "written answer")]
    assert isinstance(prose.result[0], junitparser.Skipped) and prose.result[0].message == PENDING
    assert isinstance(cases[("ch04_tiny.unanswered", "answer")].result[0], junitparser.Error)
    assert cases[("ch04_tiny.dist", "matches the reference")].is_passed
    assert SECRET not in junit_text()
    grading = {(c.classname, c.name): c for c in carol}[("ch04_tiny", "grading")]
    assert isinstance(grading.result[0], junitparser.Error) and "not valid notebook" in grading.result[0].message


# -- Markdown summary ---------------------------------------------------------------------------------
def test_markdown_cuts_reasons_at_a_word_and_escapes_table_cells():
    long = "the kernel died | while running cell 7\nbecause " + "memory " * 20
    md = to_markdown([result(), result("carol|x", "error", long)])
    rows = md.splitlines()
    assert len(rows) == 4 and all(r.replace("\\|", "").count("|") == 7 for r in rows)
    carol = rows[3]
    assert "carol\\|x" in carol and "died \\| while" in carol and "…" in carol and "memory memory …" not in carol
    assert "pending: q01" in rows[2] and "q01" not in rows[2].split("|")[5]
    assert shorten("alpha beta gamma", 12) == "alpha beta…" and shorten("short", 12) == "short"
    assert shorten("x" * 30, 10) == "x" * 9 + "…"


# -- LMS files ------------------------------------------------------------------------------------------
def test_canvas_and_moodle_csvs_hold_one_row_per_student_and_totals_so_far():
    other = SubmissionGrades("alice", "ch04_other", "ch04_other", [
        CellGrade("a_check", "a", "auto", 3, 3, None, None, 3, False)])
    canvas, moodle = lms_csvs([grades(), grades(0.5), other])
    rows = list(csv.reader(io.StringIO(canvas)))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "ch04_tiny", "ch04_other"]
    assert rows[1] == ["    Points Possible", "", "", "", "", "7", "3"]
    assert rows[2:] == [["alice", "", "", "alice", "", "", "3"], ["bob", "", "", "bob", "", "2.5", ""]]
    assert list(csv.reader(io.StringIO(moodle))) == [
        ["ID number", "ch04_tiny", "ch04_other"], ["alice", "", "3"], ["bob", "2.5", ""]]


# -- the one atomic write -----------------------------------------------------------------------------
def test_atomic_write_makes_0644_files_whatever_the_umask_and_leaves_nothing_on_failure(tmp_path, monkeypatch):
    from autograders.results import write_atomic as results_write
    from autograders.workflow.files import atomic_write_bytes, atomic_write_text, write_json
    assert results_write is atomic_write_bytes is atomic_write_text is write_atomic
    old = os.umask(0o077)
    try:
        a = write_atomic(tmp_path / "new" / "a.txt", "héllo")
        b = write_json(tmp_path / "b.json", {"x": 1})
        c = result().save(tmp_path / "r.json")
    finally:
        os.umask(old)
    assert a.read_text(encoding="utf-8") == "héllo" and json.loads(b.read_text()) == {"x": 1}
    assert {stat.S_IMODE(p.stat().st_mode) for p in (a, b, c)} == {0o644}

    write_atomic(a, b"v2")
    assert a.read_bytes() == b"v2"

    def no_room(*args):
        raise OSError("disk full")
    monkeypatch.setattr(os, "fsync", no_room)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(a, b"v3")
    assert a.read_bytes() == b"v2" and sorted(p.name for p in a.parent.iterdir()) == ["a.txt"]


def test_reference_data_writers_use_the_one_atomic_write():
    import inspect

    from reference.data import cache, locate
    for module in (cache, locate):
        src = inspect.getsource(module)
        assert "mkstemp" not in src and "os.replace" not in src


def test_export_command_warns_when_written_answers_are_still_to_grade(monkeypatch, capsys, tmp_path):
    import argparse

    from autograders.workflow.commands import export as command
    from autograders.workflow.export import ExportResult
    for pending in (2, 0):
        res = ExportResult(tmp_path / "grades.csv", tmp_path / "summary.csv", [], 3,
                           tmp_path / "canvas.csv", tmp_path / "moodle.csv", pending)
        monkeypatch.setattr(command, "open_course", lambda args, create: None)
        monkeypatch.setattr(command, "export", lambda course, name, out: res)
        assert command.run(argparse.Namespace(name=None, out=None, course="c")) == 0
        out, err = capsys.readouterr()
        assert "canvas.csv" in out and "moodle.csv" in out
        assert ("2 submission(s) still have written answers" in err) == bool(pending)
