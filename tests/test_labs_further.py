"""The Further Research labs `ch04_learner` and `ch04_full_mnist`: notebook structure against the checks modules.

Grading them for real is in `test_labs.py` (the source notebooks score full marks) and the mutation suite
(`test_mutations.py`: answers written differently, plausible bugs, blank releases).
"""
from __future__ import annotations


import nbformat
import pytest

from autograders.checks import get_assignment
from autograders.paths import source_notebook
from nbtools import assert_follows_conventions

LABS = ("ch04_learner", "ch04_full_mnist")


def _nbg(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


# ----------------------------------------------------------------------------------------------------------
# Structure (fast)

@pytest.mark.parametrize("name", LABS)
def test_structure_matches_the_checks_module(name):
    "The shared conventions, plus: everything else the instructor wrote is locked, with a grade_id."
    nb = nbformat.read(str(source_notebook(name)), as_version=4)
    assert_follows_conventions(nb, get_assignment(name))
    for c in nb.cells:
        m = _nbg(c)
        if not m.get("solution") and not m.get("grade"):
            assert m.get("locked") and m.get("grade_id"), c.source[:60]


@pytest.mark.parametrize("name", LABS)
def test_every_item_has_public_and_hidden_checks(name):
    for item in get_assignment(name).auto_items:
        assert any(not c.hidden for c in item.checks), item.id
        assert any(c.hidden for c in item.checks), item.id
