"""The nbgrader course workflow: release, collect, autograde into the gradebook, feedback, export, demo.

Most tests use `tests/fixtures/workflow/ch04_fixture` (a two-item nbgrader notebook in the project's
conventions, with a tiny checks spec below) so they run in seconds; the real assignments are covered by
the release test (every assignment present) and by the demo (slow).
"""
from __future__ import annotations

import csv
import json
import os
import re
import stat
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograders.results import SubmissionResult
from autograders.checks import available_assignments, get_assignment
from autograders.workflow import demo_students as ds
from autograders.workflow.autograde import autograde, engine_grader
from autograders.workflow.collect import collect
from autograders.workflow.course import Course, WorkflowError, default_assignments_dir
from autograders.workflow.export import export
from autograders.workflow.feedback import generate_feedback
from autograders.workflow.gradebook import SUGGESTION_TAG
from autograders.workflow.names import identify
from autograders.workflow.release import release
from autograders.workflow.safezip import ZipLimits

FIXTURES = Path(__file__).parent / "fixtures" / "workflow"
NAME = "ch04_fixture"
SECRET_CODE = "fixture_secret_value = 41 + 1"
SECRET_PROSE = "zebra-striped tensors"
REAL = sorted(n for n in available_assignments() if get_assignment(n).source)   # the registered units


def fixture_spec():
    "The checks of the fixture assignment (a public and a hidden check, and a prose item)."
    from autograders.checks.expect import expect_close
    from autograders.checks.spec import Assignment

    A = Assignment(NAME, data=())   # it loads no dataset

    @A.check("double", "double(3) is 6", points=1)
    def _(ns):
        expect_close(ns.call("double", 3), 6, "double(3)")

    @A.check("double", "negative and fractional inputs", points=1, hidden=True)
    def _(ns):
        expect_close(ns.call("double", -2.25), -4.5, "double(-2.25)")

    A.manual("q01", points=1)
    return A


def fixture_grader(path, assignment, source, student):
    "The real engine, on the fixture's spec (the engine accepts an Assignment object for the name)."
    return engine_grader(path, fixture_spec(), source, student)


@pytest.fixture
def course(tmp_path):
    return released_course(tmp_path / "course")


def released_course(root: Path) -> Course:
    "A course folder with the fixture assignment released."
    c = Course.open(root, FIXTURES)
    [r] = release(c, NAME, progress=False)
    assert r.ok, r.error
    return c


def student_nb(course, double_body: str, prose: str, student: str | None = None):
    nb = nbformat.read(course.release_notebook(NAME), as_version=4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid == "double":
            cell.source = f"def double(x):\n    {double_body}\n"
        elif gid == "q01":
            cell.source = prose
    if student:
        nb.metadata.setdefault("ch4grade", {})["student"] = student
    return nb


# -- release -----------------------------------------------------------------------------------------
def solution_regions(nb) -> list[str]:
    """Independent of the release module: every non-trivial line of solutions, hidden tests and model
    answers that the instructor's visible text (prompts, locked cells) does not also contain."""
    out, visible = [], []
    for cell in nb.cells:
        md = cell.metadata.get("nbgrader", {})
        src = cell.source
        blocks = re.findall(r"BEGIN SOLUTION[^\n]*\n(.*?)\n[^\n]*END SOLUTION", src, re.S)
        blocks += re.findall(r"BEGIN HIDDEN TESTS[^\n]*\n(.*?)\n[^\n]*END HIDDEN TESTS", src, re.S)
        if md.get("solution") and cell.cell_type == "markdown" and not blocks:
            blocks = [src]
        else:  # what stays around the delimited regions is the instructor's, visible to students
            visible.append(re.sub(r"BEGIN (SOLUTION|HIDDEN TESTS).*?END (SOLUTION|HIDDEN TESTS)", "", src,
                                  flags=re.S))
        out += [line.strip() for b in blocks for line in b.splitlines() if len(line.strip()) >= 8]
    visible_text = "\n".join(visible)
    return [line for line in out if line not in visible_text]


@pytest.mark.parametrize("name", [NAME, *REAL])
def test_release_strips_every_solution_and_hidden_test(tmp_path, name):
    assignments = FIXTURES if name == NAME else default_assignments_dir()
    c = Course.open(tmp_path / "course", assignments)
    [r] = release(c, name, progress=False, student_checks=False)   # (the student folder: test_student_bundle)
    assert r.ok, r.error
    source = nbformat.read(c.source_notebook(name), as_version=4)
    released_text = c.release_notebook(name).read_text()
    secrets = solution_regions(source)
    assert secrets, "the source notebook should have solutions to strip"
    leaked = [s for s in secrets if s in released_text]
    assert leaked == []
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS"):
        assert marker not in released_text
    released = nbformat.read(c.release_notebook(name), as_version=4)
    # answer cells survive as stubs, and the gradebook knows every grade cell with its points
    src_grades = {cl.metadata["nbgrader"]["grade_id"]: cl.metadata["nbgrader"]["points"] for cl in source.cells
                  if cl.metadata.get("nbgrader", {}).get("grade")}
    rel_ids = {cl.metadata.get("nbgrader", {}).get("grade_id") for cl in released.cells}
    assert set(src_grades) <= rel_ids
    with c.gradebook() as gb:
        cells = {gc.name: gc.max_score for gc in gb.find_notebook(name, name).grade_cells}
    assert cells == {k: float(v) for k, v in src_grades.items()}
    # students get the notebook: never the unit's checks, kernel helpers or answer key
    assert sorted(p.name for p in c.release_notebook(name).parent.iterdir()) == [f"{name}.ipynb"]
    if name == NAME:
        assert SECRET_CODE not in released_text and SECRET_PROSE not in released_text
        assert "raise NotImplementedError()" in released_text and "YOUR ANSWER HERE" in released_text


def test_release_unknown_assignment_is_a_clear_error(tmp_path):
    c = Course.open(tmp_path / "course", FIXTURES)
    with pytest.raises(WorkflowError, match="unknown assignment 'nope'.*ch04_fixture"):
        release(c, "nope", progress=False)


# -- collect -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("path, student, assignment", [
    ("alice_ch04_sgd.ipynb", "alice", "ch04_sgd"),
    ("ch04_sgd_alice.ipynb", "alice", "ch04_sgd"),
    ("ch04_sgd-Bob (1).ipynb", "bob", "ch04_sgd"),
    ("smithalice_LATE_12345_678901_ch04_sgd-1.ipynb", "smithalice", "ch04_sgd"),
    ("Alice Smith_12345_assignsubmission_file_ch04_sgd.ipynb", "alice_smith", "ch04_sgd"),
    ("Homework 4_alice_attempt_2024-03-01-10-22-33_ch04_sgd.ipynb", "alice", "ch04_sgd"),
    ("export/alice/ch04_sgd.ipynb", "alice", "ch04_sgd"),
    ("submitted/alice/ch04_sgd/ch04_sgd.ipynb", "alice", "ch04_sgd"),
    ("carol_ch04_full_mnist.ipynb", "carol", "ch04_full_mnist"),
    ("ch04_sgd.ipynb", None, "ch04_sgd"),
    ("alice_homework.ipynb", None, None),
    ("alice_ch04_sgdx.ipynb", None, None),
])
def test_identify_students_from_file_names(path, student, assignment):
    known = ["ch04_questionnaire", "ch04_pixel_similarity", "ch04_sgd", "ch04_learner", "ch04_full_mnist"]
    got = identify(path, known)
    assert (got.student, got.assignment) == (student, assignment)


def test_identify_prefers_notebook_metadata():
    got = identify("whatever.ipynb", ["ch04_sgd"], {"ch4grade": {"assignment": "ch04_sgd", "student": "Dan"}})
    assert (got.student, got.assignment, got.how) == ("dan", "ch04_sgd", "notebook metadata")


def test_collect_zip_with_good_and_bad_members(course, tmp_path):
    good = nbformat.writes(student_nb(course, "return 2 * x", "an answer"))
    other = student_nb(course, "return 2 * x", "an answer")
    other.metadata["ch4grade"]["assignment"] = "ch99_other"
    zpath = tmp_path / "subs.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("alice_ch04_fixture.ipynb", good)
        zf.writestr("ch04_fixture/ch04_fixture_bob.ipynb", good)  # an assignment's folder: the file name says who
        zf.writestr(zipfile.ZipInfo("../evil_ch04_fixture.ipynb"), good)
        zf.writestr(zipfile.ZipInfo("/tmp/abs_ch04_fixture.ipynb"), good)
        link = zipfile.ZipInfo("link_ch04_fixture.ipynb")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
        zf.writestr("bomb_ch04_fixture.ipynb", b" " * (8 * 2**20))           # ~8000:1
        zf.writestr("carol_ch04_fixture.pdf", b"%PDF-1.4")
        zf.writestr("dave_ch04_fixture.ipynb", b"{not json")
        zf.writestr("erin_ch99.ipynb", nbformat.writes(other))
        zf.writestr("__MACOSX/._alice_ch04_fixture.ipynb", b"\x00")
    summary = collect(course, zpath, progress=False)
    status = {e.source: (e.status, e.reason) for e in summary.entries}
    assert status["alice_ch04_fixture.ipynb"][0] == "collected"
    assert status["ch04_fixture/ch04_fixture_bob.ipynb"][0] == "collected"
    assert status["../evil_ch04_fixture.ipynb"] == ("rejected", "path escapes the archive ('..')")
    assert status["/tmp/abs_ch04_fixture.ipynb"] == ("rejected", "absolute path")
    assert status["link_ch04_fixture.ipynb"] == ("rejected", "symbolic link")
    assert status["bomb_ch04_fixture.ipynb"][0] == "rejected" and "zip bomb" in status["bomb_ch04_fixture.ipynb"][1]
    assert status["carol_ch04_fixture.pdf"] == ("rejected", "not a notebook (.pdf)")
    assert status["dave_ch04_fixture.ipynb"][0] == "rejected" and "not a notebook" in status["dave_ch04_fixture.ipynb"][1]
    assert status["erin_ch99.ipynb"][0] == "rejected" and "unknown assignment" in status["erin_ch99.ipynb"][1]
    assert status["__MACOSX/._alice_ch04_fixture.ipynb"][0] == "ignored"
    assert sorted(s.student for s in course.submissions()) == ["alice", "bob"]
    for s in course.submissions():
        assert s.path == course.root / "submitted" / s.student / NAME / f"{NAME}.ipynb"
        assert (s.path.parent / "timestamp.txt").exists()
    assert not (tmp_path / "evil_ch04_fixture.ipynb").exists() and not Path("/tmp/abs_ch04_fixture.ipynb").exists()
    with course.gradebook() as gb:
        assert sorted(s.id for s in gb.students) == ["alice", "bob"]
    assert json.loads((course.root / "collect_summary.json").read_text())["entries"]


def test_collect_total_size_cap(course, tmp_path):
    good = nbformat.writes(student_nb(course, "return 2 * x", "an answer"))
    zpath = tmp_path / "subs.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for s in ("amy", "ben", "cat"):
            zf.writestr(f"{s}_ch04_fixture.ipynb", good)
    summary = collect(course, zpath, ZipLimits(max_total=int(2.5 * len(good))), progress=False)
    assert [e.status for e in summary.entries] == ["collected", "collected", "rejected"]
    assert "total" in summary.entries[2].reason


def test_collect_folder_duplicates_symlinks_and_resubmission(course, tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "alice").mkdir(parents=True)
    old = inbox / "alice" / "ch04_fixture.ipynb"
    nbformat.write(student_nb(course, "return x", "old"), old)
    os.utime(old, (1_600_000_000, 1_600_000_000))
    new = inbox / "alice_ch04_fixture.ipynb"
    nbformat.write(student_nb(course, "return 2 * x", "new"), new)
    (inbox / "notes.txt").write_text("hello")
    (inbox / "zed_ch04_fixture.ipynb").symlink_to(new)
    (inbox / "who.ipynb").write_text(nbformat.writes(student_nb(course, "return 2 * x", "meta", student="mallory")))
    summary = collect(course, inbox, progress=False)
    by = {e.source: e for e in summary.entries}
    assert by["alice_ch04_fixture.ipynb"].status == "collected"
    assert by[str(Path("alice") / "ch04_fixture.ipynb")].status == "duplicate"
    assert "kept alice_ch04_fixture.ipynb" in by[str(Path("alice") / "ch04_fixture.ipynb")].reason
    assert by["zed_ch04_fixture.ipynb"].status == "rejected" and "symbolic link" in by["zed_ch04_fixture.ipynb"].reason
    assert by["notes.txt"].status == "rejected"
    assert (by["who.ipynb"].status, by["who.ipynb"].student) == ("collected", "mallory")
    dest = course.root / "submitted" / "alice" / NAME / f"{NAME}.ipynb"
    assert "return 2 * x" in dest.read_text()
    # collecting the same files again changes nothing; a changed file replaces and archives the old one
    again = collect(course, inbox, progress=False)
    assert {e.status for e in again.entries if e.source == "alice_ch04_fixture.ipynb"} == {"unchanged"}
    nbformat.write(student_nb(course, "return x + x", "newer"), new)
    third = collect(course, inbox, progress=False)
    [entry] = [e for e in third.entries if e.source == "alice_ch04_fixture.ipynb"]
    assert entry.status == "updated"
    archived = list((course.root / "collect_archive").rglob("ch04_fixture.ipynb"))
    assert len(archived) == 1 and "return 2 * x" in archived[0].read_text()
    assert "return x + x" in dest.read_text()


def test_collect_missing_source_is_a_clear_error(course, tmp_path):
    with pytest.raises(WorkflowError, match="does not exist"):
        collect(course, tmp_path / "nowhere", progress=False)


# -- autograde -> gradebook -> export ------------------------------------------------------------------
@pytest.fixture
def graded(course, tmp_path, monkeypatch):
    return grade_alice_and_bob(course, tmp_path, monkeypatch)


def grade_alice_and_bob(course, tmp_path, monkeypatch):
    """alice right, bob wrong on the hidden check only, graded by the real engine; a stub rubric.
    (Also the shared course of tests/test_browser.py, there with a module-scoped MonkeyPatch.)"""
    from autograders.prose import Suggestion
    from autograders.workflow import autograde as autograde_module

    def stub(assignment, answers):   # the fixture unit has no answer key: a fixed suggestion per prose answer
        return {i: Suggestion(i, 0.5, 1, [{"id": "gradient", "points": 0.5, "words": ["gradient"]}], ["stochastic"],
                              [], ["en"], 0.55, ["short"]) for i in answers}
    monkeypatch.setattr(autograde_module, "suggest_prose", stub)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    nbformat.write(student_nb(course, "return 2 * x", "Gradient steps on mini-batches."),
                   inbox / "alice_ch04_fixture.ipynb")
    nbformat.write(student_nb(course, "return 2 * int(x)", "It descends."), inbox / "bob_ch04_fixture.ipynb")
    collect(course, inbox, progress=False)
    summary = autograde(course, NAME, grader=fixture_grader, progress=False)
    return course, summary


def test_gradebook_round_trip_auto_and_manual_scores(graded, tmp_path):
    course, summary = graded
    results = {g.submission.student: g.result for g in summary.graded}
    assert results["alice"].status == "graded", results["alice"].error
    for s in ("alice", "bob"):
        folder = course.root / "autograded" / s / NAME
        assert (folder / f"{NAME}.ipynb").exists() and course.results_path(s, NAME, NAME).exists()
        assert not list(folder.glob("*.json"))     # nothing of ours that nbgrader's feedback would copy out
    with course.gradebook() as gb:
        a = gb.find_grade("double_check", NAME, NAME, "alice")
        b = gb.find_grade("double_check", NAME, NAME, "bob")
        assert (a.auto_score, a.needs_manual_grade) == (2.0, False)
        assert (b.auto_score, b.needs_manual_grade) == (1.0, False)
        prose = gb.find_grade("q01", NAME, NAME, "bob")
        assert prose.auto_score is None and prose.needs_manual_grade       # left to a human
        comment = gb.find_comment("q01", NAME, NAME, "bob")
        assert comment.auto_comment.startswith(SUGGESTION_TAG) and "Missing: stochastic" in comment.auto_comment
        # what formgrader does: a manual score on the prose cell, through nbgrader's Gradebook API
        prose.manual_score = 0.75
        prose.needs_manual_grade = False
        comment.manual_comment = "Say which gradient."
        gb.db.commit()
        # a regrade that produces no suggestion (a broken key, say) must not leave the old one beside the answer
        from autograders.workflow.gradebook import record_result
        bob = next(g.result for g in summary.graded if g.submission.student == "bob")
        record_result(gb, "bob", NAME, NAME, bob, suggestions={})
        assert gb.find_comment("q01", NAME, NAME, "bob").auto_comment is None
        assert gb.find_comment("q01", NAME, NAME, "bob").manual_comment == "Say which gradient."
        gb.db.commit()
    res = export(course)
    rows = list(csv.DictReader(res.grades_csv.open()))
    bob = {r["item"]: r for r in rows if r["student"] == "bob"}
    assert (bob["double"]["auto_score"], bob["double"]["score"], bob["double"]["kind"]) == ("1.0", "1.0", "auto")
    assert (bob["q01"]["manual_score"], bob["q01"]["score"], bob["q01"]["kind"]) == ("0.75", "0.75", "manual")
    summary_rows = {r["student"]: r for r in csv.DictReader(res.summary_csv.open())}
    assert (summary_rows["bob"]["auto_score"], summary_rows["bob"]["manual_score"],
            summary_rows["bob"]["total"], summary_rows["bob"]["max_score"]) == ("1.0", "0.75", "1.75", "3.0")
    gs = json.loads((course.exports_dir / "gradescope" / "bob" / NAME / "results.json").read_text())
    assert gs["score"] == 1.75 and [t["score"] for t in gs["tests"]] == [1.0, 0.75]
    assert gs["execution_time"] > 0 and {t["visibility"] for t in gs["tests"]} == {"visible"}
    # re-running autograde resumes (no regrading) and never overwrites the manual score
    again = autograde(course, NAME, grader=fixture_grader, progress=False)
    assert all(g.skipped for g in again.graded)
    with course.gradebook() as gb:
        assert gb.find_grade("q01", NAME, NAME, "bob").manual_score == 0.75


def test_formgrader_never_sees_a_students_active_content(course, tmp_path):
    """HTML, scripts and SVG a student's notebook carries (in outputs, prose, and stored outputs of a cell the
    grader never runs) do not reach the notebook formgrader shows, and formgrader sanitises what it renders."""
    nb = student_nb(course, "return 2 * x", "<img src=x onerror=alert(1)> <script>alert(2)</script> It descends.")
    nb.cells.append(nbformat.v4.new_code_cell("from IPython.display import HTML, SVG, display\n"
                                              "display(HTML('<b onmouseover=alert(3)>hi</b>'))\n"
                                              "display(SVG('<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(4)\"/>'))"))
    stored = nbformat.v4.new_code_cell("   ")
    stored.outputs = [nbformat.v4.new_output("display_data", data={"text/html": "<script>alert(5)</script>",
                                                                   "application/javascript": "alert(6)"})]
    nb.cells.append(stored)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    nbformat.write(nb, inbox / "alice_ch04_fixture.ipynb")
    collect(course, inbox, progress=False)
    autograde(course, NAME, grader=fixture_grader, progress=False)
    shown = nbformat.read(course.root / "autograded" / "alice" / NAME / f"{NAME}.ipynb", as_version=4)
    prose = "".join(c.source for c in shown.cells if c.cell_type == "markdown")
    outputs = [o for c in shown.cells if c.cell_type == "code" for o in c.outputs]
    kinds = {k for o in outputs for k in o.get("data", {})}
    assert "<img" not in prose and "<script" not in prose and "&lt;script>alert(2)" in prose   # shown as text
    assert not kinds & {"text/html", "image/svg+xml", "application/javascript"}, kinds
    assert kinds <= {"text/plain", "image/png", "image/jpeg", "image/gif", "application/json"}, kinds
    assert any("not shown" in json.dumps(o.get("data", {})) for o in outputs)
    assert "c.HTMLExporter.sanitize_html = True" in (course.root / "nbgrader_config.py").read_text()


def page_text(html_text: str) -> str:
    "What a reader of an HTML page sees: no tags, styles or scripts; entities decoded; spaces collapsed."
    import html
    import re

    text = re.sub(r"<(style|script)\b.*?</\1>", " ", html_text, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)))


def test_feedback_never_reveals_hidden_material(graded):
    course, _ = graded
    with course.gradebook() as gb:
        gb.find_comment("q01", NAME, NAME, "bob").manual_comment = "See the chapter's SGD section."
        gb.db.commit()
    pages = {(p.student, p.assignment): p.path for p in generate_feedback(course, progress=False)}
    raw = [pages[(s, NAME)].read_text() for s in ("alice", "bob")]
    alice, bob = map(page_text, raw)
    assert "double(3) is 6" in bob and "(hidden)" in bob and "hidden check did not pass" in bob
    assert "See the chapter's SGD section." in bob and "Pending: this answer is graded by hand" in bob   # the annotated notebook
    assert "Feedback:" in bob and "def double" in bob and "pending (graded by hand)" in bob
    for page in (alice, bob):    # a written answer nobody has graded is pending, never a zero
        assert "q01 : pending (graded by hand), out of 1" in page and "Written response" not in page
        assert "Score: 0.0 / 1.0" not in page
    for page in (alice, bob, *raw):
        for secret in ("-4.5", "-2.25", "double(-2.25)", SECRET_CODE, SECRET_PROSE, "41 + 1", SUGGESTION_TAG,
                       "stochastic", "hidden=True"):
            assert secret not in page, secret
    # nbgrader's own Generate Feedback (formgrader's button) under the course's config: the same page, and
    # nothing of ours (results, markers) copied beside it
    from nbgrader.apps import NbGraderAPI

    page = pages[("bob", NAME)]
    page.unlink()
    out = NbGraderAPI(coursedir=course.coursedir(), config=course.config()).generate_feedback(NAME, "bob")
    assert out["success"], out.get("error")
    assert page_text(page.read_text()) == bob
    assert {p.name for p in page.parent.iterdir()} <= {f"{NAME}.html", "timestamp.txt"}
    export(course)
    text = (course.exports_dir / "gradescope" / "bob" / NAME / "results.json").read_text()
    for secret in ("-4.5", "-2.25", SUGGESTION_TAG):
        assert secret not in text


def test_annotations_keep_hidden_details_and_rubric_notes_for_graders_only():
    """Check cells get the grader's full account and the student's (which drops hidden details even if the
    engine leaked them into its result); a prose answer gets the rubric suggestion for graders;
    `for_students` (what nbgrader's Generate Feedback runs) leaves only the student's parts, and a
    submission cannot pass its own cell off as a graders' note."""
    from autograders.workflow.annotate import annotate, for_students

    leaky = SubmissionResult.from_dict({"submission": "s.ipynb", "assignment": "a", "status": "graded", "items": [
        {"id": "dist", "score": 1, "max_score": 3, "status": "partial", "visibility": "public",
         "feedback": "~ held-out (hidden): expected SECRET_E got SECRET_G",
         "checks": [{"name": "public one", "score": 1, "max_score": 1, "status": "passed"},
                    {"name": "public two", "score": 0, "max_score": 1, "status": "failed", "message": "off by one",
                     "expected": "PUBLIC_E", "got": "PUBLIC_G"},
                    {"name": "held-out", "score": 0, "max_score": 1, "status": "failed", "hidden": True,
                     "message": "SECRET_M", "expected": "SECRET_E", "got": "SECRET_G"}]},
        {"id": "secret_item", "score": 0, "max_score": 1, "status": "failed", "visibility": "hidden",
         "feedback": "SECRET_F", "checks": [{"name": "hid", "score": 0, "max_score": 1, "status": "failed",
                                             "message": "SECRET_M2", "expected": "SECRET_E2", "got": "x"}]},
        {"id": "q01", "score": 0, "max_score": 1, "status": "manual"}]})

    def graded(grade_id, kind):
        cell = nbformat.v4.new_code_cell("check()") if kind == "code" else nbformat.v4.new_markdown_cell("It descends.")
        cell.metadata["nbgrader"] = {"grade": True, "solution": kind != "code", "grade_id": grade_id, "points": 1}
        return cell

    fake = nbformat.v4.new_markdown_cell("Rubric suggestion: 1 / 1, all matched")
    fake.metadata["ch4grade"] = {"audience": "graders"}
    nb = nbformat.v4.new_notebook(cells=[graded("dist_check", "code"), graded("secret_item_check", "code"),
                                         graded("q01", "markdown"), fake])
    annotate(nb, leaky, {"q01": {"score": 0.5, "max_score": 1, "matched": ["descends"], "missed": ["minibatches"]}})
    graders = nbformat.writes(nb)
    for text in ("SECRET_M", "SECRET_E2", "PUBLIC_E", "minibatches", "[rubric suggestion"):
        assert text in graders, text
    student = nbformat.writes(for_students(nb))
    assert "PUBLIC_E" in student and "off by one" in student and "held-out" in student and "secret_item" in student
    assert "SECRET" not in student and "minibatches" not in student and "rubric suggestion" not in student
    assert "Rubric suggestion: 1 / 1, all matched" in student      # the student's own cell, not ours: kept as theirs
    [fake_cell] = [c for c in nb.cells if "all matched" in c.source]
    assert fake_cell.source.startswith("*⚠ written by the student")    # and labelled so for the grader
    assert [len(c.outputs) for c in nb.cells if c.cell_type == "code"] == [1, 1]


def test_students_never_read_the_grading_machines_paths():
    "A warning printed while grading names the grader's venv: the student's view says <python> instead."
    import sys

    from autograders.paths import ROOT
    from autograders.workflow.annotate import for_students

    cell = nbformat.v4.new_code_cell("learn.fit(1)")
    site = f"{sys.prefix}/lib/python3.11/site-packages/torch/jit/_script.py"
    cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text=f"{site}:1491: FutureWarning: deprecated\n"),
                    nbformat.v4.new_output("error", ename="E", evalue="x", traceback=[f"File {ROOT}/a.py", "E: x"]),
                    nbformat.v4.new_output("execute_result", data={"text/plain": f"'{sys.prefix}'"})]
    nb = for_students(nbformat.v4.new_notebook(cells=[cell]))
    text = nbformat.writes(nb)
    assert sys.prefix not in text and str(ROOT) not in text
    assert "<python>/lib/python3.11/site-packages/torch/jit/_script.py:1491: FutureWarning" in text
    assert "File <grader>/a.py" in text
    other = nbformat.v4.new_code_cell("x")       # graded on another machine, another venv
    other.outputs = [nbformat.v4.new_output("stream", name="stderr",
                                            text="/home/runner/work/c/c/.venv/lib/python3.12/site-packages/a.py:1: W\n")]
    assert "<python>/lib/python3.12/site-packages/a.py:1: W" in nbformat.writes(for_students(
        nbformat.v4.new_notebook(cells=[other])))


# -- the command line ----------------------------------------------------------------------------------
def test_cli_errors_are_one_line(tmp_path, capsys):
    from autograders.cli import main

    assert main(["collect", str(tmp_path / "nothing"), "--course", str(tmp_path / "c"),
                 "--source-dir", str(FIXTURES)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["autograde", "--course", str(tmp_path / "none")]) == 2
    assert "not a ch4grade course" in capsys.readouterr().err


def test_demo_students_are_built_from_the_source(course):
    source = nbformat.read(course.source_notebook(NAME), as_version=4)
    released = nbformat.read(course.release_notebook(NAME), as_version=4)
    perfect = ds.perfect(source, released)
    text = nbformat.writes(perfect)
    assert SECRET_CODE in text and "BEGIN SOLUTION" not in text and "hidden=True" not in text
    broken = ds.broken(source, released)
    assert 'raise RuntimeError' in nbformat.writes(broken)
    assert ds.mutate("def f(a, b): return (a - b).abs().mean((-1, -2))") == "def f(a, b): return (a - b).mean((-1, -2))"


# -- the demo, end to end ------------------------------------------------------------------------------
@pytest.mark.slow
def test_demo_end_to_end(tmp_path, http_mirror, monkeypatch):
    """The README's main command as on a newcomer's machine: no $CH4GRADE_MNIST_DIR, no ../shared beside the
    checkout, an empty download cache. The demo downloads MNIST once (here from a local mirror) into the
    cache `ch4grade data` uses, then runs every step."""
    from autograders.workflow import course as course_module
    from autograders.workflow.demo import DEMO_ASSIGNMENTS, run_demo
    from reference.data import locate

    missing = [a for a in DEMO_ASSIGNMENTS if a not in REAL]
    if missing:
        pytest.skip(f"assignments not written yet: {missing}")
    monkeypatch.setenv("FASTAI_HOME", os.environ.get("CH4GRADE_TEST_FASTAI_HOME") or str(tmp_path / "fastai"))
    monkeypatch.delenv(locate.MNIST_DIR_ENV)
    monkeypatch.setenv(locate.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(locate, "MIRRORS", (http_mirror[0],))
    monkeypatch.setattr(course_module, "project_root", lambda: tmp_path / "fresh-clone" / "ch4grade")
    said = []
    res = run_demo(tmp_path / "demo", jobs=2, progress=False, log=said.append)
    cache = (tmp_path / "cache" / "mnist").resolve()
    assert said[0] == f"MNIST files: {cache}" and sorted(p.name for p in cache.iterdir()) == sorted(locate.FILES)
    c = res.course
    assert c.root == (tmp_path / "demo").resolve() and res.inbox.parent.parent == c.root
    assert all(r.ok for r in res.released)
    assert res.collected.count("collected") == 4 * len(DEMO_ASSIGNMENTS)
    assert res.collected.count("rejected") == 1 and res.collected.count("ignored") == 1
    rows = {(r["student"], r["assignment"]): r for r in csv.DictReader(res.exported.summary_csv.open())}
    for a in DEMO_ASSIGNMENTS:
        results = json.loads(c.results_path("ada", a, a).read_text())
        auto_max = sum(i["max_score"] for i in results["items"] if i["status"] != "manual")
        assert float(rows[("ada", a)]["auto_score"]) == pytest.approx(auto_max), a
        for other in ("ben", "cy", "dee"):
            assert float(rows[(other, a)]["total"]) < float(rows[("ada", a)]["total"]) or auto_max == 0, (other, a)
    student, assignment, cell, score = res.manual
    grades = [r for r in csv.DictReader(res.exported.grades_csv.open())
              if (r["student"], r["assignment"], r["item"]) == (student, assignment, cell)]
    assert grades and float(grades[0]["manual_score"]) == score
    assert res.report.html.exists() and all(f.suffix == ".png" and f.stat().st_size > 0 for f in res.report.figures)
    for p in res.feedback:
        assert p.path.exists()
    assert len(res.table) == 1 + 4 * len(DEMO_ASSIGNMENTS)
    assert "prose pending" in res.table[0] and "pending" not in res.table[0].split("prose pending")[1]
