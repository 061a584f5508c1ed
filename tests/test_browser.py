"""What an instructor sees in formgrader, and a student in the feedback page, in a real headless Chromium.

One graded course per module (the workflow tests' fixture assignment: alice right, bob wrong on the hidden
check, a stub rubric), one formgrader (`autograders.workflow.formgrader.start`) and one browser for every
test. Playwright drives Debian's `chromium` (no browser download). Without chromium these tests skip, but
fail under CI (`CI` set). A screenshot of each page goes to the test-artifacts folder (`artifacts_dir`).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.request

import pytest
from test_workflow import NAME, grade_alice_and_bob, released_course

from autograders.cli import main
from autograders.workflow.course import CONFIG_NAME, Course
from autograders.workflow.feedback import generate_feedback
from autograders.workflow.formgrader import start

browser_test = pytest.mark.browser
VIEWPORT = {"width": 1280, "height": 900}
URL = re.compile(r"http://127\.0\.0\.1:(\d+)/formgrader\?token=[\w-]{20,}")


def chromium_path() -> str:
    path = shutil.which("chromium")
    if not path:
        msg = "chromium is not installed (`apt-get install chromium`; .ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(msg + " (CI must not skip browser tests)")
        pytest.skip(msg)
    return path


@pytest.fixture(scope="module")
def browser():
    path = chromium_path()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path)
        yield b
        b.close()


@pytest.fixture(scope="module")
def course(browser, tmp_path_factory):
    "The graded course, with `ch4grade feedback`'s pages (built once the browser is known to be there)."
    tmp = tmp_path_factory.mktemp("browser")
    with pytest.MonkeyPatch.context() as mp:
        c, summary = grade_alice_and_bob(released_course(tmp / "course"), tmp, mp)
    assert {g.result.status for g in summary.graded} == {"graded"}
    generate_feedback(c, NAME)
    return c


@pytest.fixture(scope="module")
def formgrader(course):
    fg = start(course, log=course.root.parent / "formgrader.log")
    yield fg
    fg.stop()


@pytest.fixture
def page(browser, formgrader):
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(15_000)
    pg = context.new_page()
    pg.goto(formgrader.url)        # the token becomes a login cookie; later pages need no token
    yield pg
    context.close()


def visit(page, url: str, shot: str, artifacts_dir):
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=artifacts_dir / f"{shot}.png", full_page=True)
    return page


def open_submission(page, formgrader, student: str, artifacts_dir):
    "The manual-grading page of `student`'s notebook, reached the way an instructor clicks to it."
    visit(page, f"{formgrader.base}/formgrader/gradebook/{NAME}/{NAME}", "formgrader-notebook-submissions",
          artifacts_dir)
    row = page.locator("td.name", has=page.locator("a.name-shown", has_text=student))   # names are hidden
    row.locator("a.name-hidden").click()                                                  # ("Submission #n")
    page.wait_for_load_state("networkidle")
    page.locator("#q01").wait_for()
    page.screenshot(path=artifacts_dir / f"formgrader-submission-{student}.png", full_page=True)
    return page


@browser_test
def test_formgrader_lists_the_assignment_and_its_submissions(page, formgrader, artifacts_dir):
    assert page.url.endswith("/formgrader/manage_assignments")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=artifacts_dir / "formgrader-assignments.png", full_page=True)
    row = page.locator("tr", has=page.locator(f"td >> text={NAME}"))
    assert row.count() == 1 and row.locator("td").nth(-3).inner_text().strip() == "2"   # # Submissions
    visit(page, f"{formgrader.base}/formgrader/manage_submissions/{NAME}", "formgrader-submissions", artifacts_dir)
    rows = {r.locator("td").nth(1).inner_text(): r.inner_text() for r in page.locator("tbody tr").all()}
    assert set(rows) == {"alice", "bob"}
    assert "2 / 3" in rows["alice"] and "1 / 3" in rows["bob"]
    assert "needs manual grading" in rows["alice"]                # her prose answer (no test grades it)


@browser_test
def test_autograded_scores_are_shown_on_the_check_cells(page, formgrader, artifacts_dir):
    for student, score in (("alice", "2"), ("bob", "1")):
        open_submission(page, formgrader, student, artifacts_dir)
        box = page.locator("#double_check")
        assert box.get_attribute("placeholder") == score          # formgrader shows auto_score there
        assert "/ 2.0" in page.locator(".nbgrader_cell", has=box).inner_text()


@browser_test
def test_a_manual_score_typed_into_a_prose_cell_is_saved(page, formgrader, course, artifacts_dir):
    from nbgrader.api import Gradebook
    open_submission(page, formgrader, "bob", artifacts_dir)
    with page.expect_response(lambda r: "/formgrader/api/grade/" in r.url and r.request.method == "PUT") as put:
        page.fill("#q01", "0.75")
        page.press("#q01", "Tab")                                 # formgrader saves on change
    assert put.value.ok
    page.screenshot(path=artifacts_dir / "formgrader-manual-score.png", full_page=True)
    with Gradebook(course.db_url) as gb:
        grade = gb.find_grade("q01", NAME, NAME, "bob")
        assert grade.manual_score == 0.75 and not grade.needs_manual_grade


@browser_test
def test_check_cells_show_each_checks_feedback(page, formgrader, artifacts_dir):
    open_submission(page, formgrader, "bob", artifacts_dir)
    cell = page.locator("div.cell", has=page.locator("#double_check"))
    shown = cell.locator(".output_wrapper").inner_text()
    assert cell.locator(".output_wrapper").is_visible()
    assert "ch4grade, for graders" in shown and "double: 1 / 2, partial credit" in shown, shown
    assert "✓ double(3) is 6: passed" in shown and "(hidden): failed" in shown, shown   # each check, hidden too


@browser_test
def test_a_prose_cells_rubric_suggestion_is_visible_in_formgrader(page, formgrader, artifacts_dir):
    open_submission(page, formgrader, "bob", artifacts_dir)
    note = page.locator("div.text_cell", has_text="[rubric suggestion")
    assert note.count() >= 1 and note.first.is_visible()          # a cell the grader reads, not a placeholder
    assert "Missing: stochastic" in note.first.inner_text()
    # a grader types a comment over the gradebook's copy of the suggestion: the graders' cell still shows it
    with page.expect_response(lambda r: "/formgrader/api/comment/" in r.url and r.request.method == "PUT") as put:
        page.fill("#q01-comment", "Say which gradient.")
        page.press("#q01-comment", "Tab")
    assert put.value.ok
    page.reload()
    page.wait_for_load_state("networkidle")
    assert page.input_value("#q01-comment") == "Say which gradient."
    note = page.locator("div.text_cell", has_text="[rubric suggestion")
    assert note.count() >= 1 and "Missing: stochastic" in note.first.inner_text()


@browser_test
def test_feedback_pages_carry_no_grader_notes(browser, course, artifacts_dir):
    pages = sorted((course.root / "feedback").glob(f"*/{NAME}/*.html"))
    assert {p.parts[-3] for p in pages} == {"alice", "bob"}
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        for path in pages:
            page.goto(path.as_uri())
            page.screenshot(path=artifacts_dir / f"feedback-{path.parts[-3]}.png", full_page=True)
            text, html = page.inner_text("body"), path.read_text(encoding="utf-8")
            assert "double" in text                                # the page rendered the student's notebook
            for leak in ("[rubric suggestion", "needs review"):
                assert leak not in text and leak not in html, (path, leak)
    finally:
        context.close()


# -- the command (no browser) ---------------------------------------------------------------------------
def test_cli_prints_the_url_and_ctrl_c_stops_the_server(tmp_path):
    course = released_course(tmp_path / "course")
    proc = subprocess.Popen([sys.executable, "-m", "autograders.cli", "formgrader", "--course", str(course.root),
                             "--no-browser"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        for line in proc.stdout:
            if (m := URL.search(line)):
                break
        else:
            pytest.fail(f"no formgrader URL printed (exit {proc.wait()})")
        browse = urllib.request.build_opener(urllib.request.HTTPCookieProcessor()).open
        with browse(m.group(0), timeout=10) as r:                    # the token logs in: the assignments page
            assert r.status == 200 and r.url.endswith("/formgrader/manage_assignments")
        with browse(m.group(0).replace("formgrader?", "formgrader/api/assignments?"), timeout=10) as r:
            assert [a["name"] for a in json.load(r)] == [NAME]            # formgrader found the course
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{m.group(1)}/api/status", timeout=2)
    finally:
        proc.kill()


def test_cli_without_a_gradebook_is_a_clear_error(tmp_path, capsys):
    Course.open(tmp_path / "course").db_path.unlink()            # a course folder whose gradebook is gone
    assert (tmp_path / "course" / CONFIG_NAME).exists()
    assert main(["formgrader", "--course", str(tmp_path / "course"), "--no-browser"]) == 2
    assert "no gradebook" in capsys.readouterr().err
    assert main(["formgrader", "--course", str(tmp_path / "nowhere"), "--no-browser"]) == 2
