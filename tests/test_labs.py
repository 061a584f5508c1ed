"""The lab assignments: notebook structure against the checks modules (ch04_pixel_similarity and ch04_sgd; the
Further Research labs in `test_labs_further.py`), and every lab's instructor notebook scores full marks, on the
real engine (an isolated kernel). Released (stripped) notebooks scoring 0 are in the mutation suite.
"""
from __future__ import annotations

import re

import nbformat
import pytest

from autograders.checks import get_assignment
from autograders.paths import source_notebook
from labtools import LABS, describe, graded_source
from nbtools import assert_follows_conventions

TEST_CELL = re.compile(r'^# Check your answer.*\nfrom autograders import check\ncheck\("(?P<id>\w+)"\)\n'
                       r'### BEGIN HIDDEN TESTS\ncheck\("(?P=id)", hidden=True\)\n### END HIDDEN TESTS$', re.S)


def _nbg(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


@pytest.fixture(params=LABS)
def lab(request):
    name = request.param
    return name, nbformat.read(source_notebook(name), as_version=4), get_assignment(name)


def test_notebook_metadata(lab):
    name, nb, spec = lab
    nbformat.validate(nb)
    assert nb.metadata["ch4grade"] == {"assignment": name}
    assert spec.name == name


def test_grade_ids_are_unique_and_every_instructor_cell_is_locked_or_free(lab):
    _, nb, _ = lab
    ids = [_nbg(c)["grade_id"] for c in nb.cells if _nbg(c)]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for c in nb.cells:
        md = _nbg(c)
        if md:
            assert md["schema_version"] == 3
            assert md["solution"] or md["locked"], md["grade_id"]


def test_items_match_the_checks_module(lab):
    "The shared conventions, plus: exact test-cell metadata and text, and a public check for every item."
    _, nb, spec = lab
    assert_follows_conventions(nb, spec)
    for i, c in enumerate(nb.cells):
        md = _nbg(c)
        if c.cell_type == "code" and md.get("solution") and not md.get("grade"):
            gid = md["grade_id"]
            test = nb.cells[i + 1]
            tmd = _nbg(test)
            assert tmd == {"grade": True, "solution": False, "locked": True, "points": tmd["points"],
                           "grade_id": f"{gid}_check", "schema_version": 3}, gid
            m = TEST_CELL.match(test.source)
            assert m and m["id"] == gid, test.source
    # every item has a public check (the test cell runs something for the student) and a hidden one somewhere
    for item in spec.auto_items:
        assert any(not c.hidden for c in item.checks), item.id
    assert any(c.hidden for item in spec.auto_items for c in item.checks)


def test_prompts_precede_answers(lab):
    "Each answer cell and each prose answer comes right after a locked markdown prompt (or its own code)."
    _, nb, _ = lab
    for i, c in enumerate(nb.cells):
        md = _nbg(c)
        if md.get("solution"):
            before = nb.cells[i - 1]
            assert before.cell_type == "markdown" and _nbg(before).get("locked"), md["grade_id"]


@pytest.mark.slow
@pytest.mark.parametrize("name", LABS + ("ch04_learner", "ch04_full_mnist"))
def test_source_notebook_scores_full_marks(name, mnist_dir):
    r = graded_source(name)
    assert r.status == "graded", describe(r)
    spec = get_assignment(name)
    for item in r.items:
        if spec.items[item.id].manual:
            assert item.status == "manual" and item.answer, item.id
        else:
            assert item.status == "passed" and item.score == item.max_score, describe(r)
    assert r.score == sum(i.points for i in spec.auto_items)
    assert all(c["status"] == "ok" for c in r.cells), describe(r)
    # each notebook is meant to run in a minute or two on 2 CPU cores (generous bound: shared CI machines)
    assert r.timings["execute_s"] < 150, r.timings
