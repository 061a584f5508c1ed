"""The grading engine on a tiny assignment: isolation, robustness, and that only right answers score."""
from __future__ import annotations

import json
import time

import nbformat
import pytest

from autograders.engine import GradeConfig, grade_notebook
from autograders.execute.session import Limits
from tiny_assignment import A, FULL, notebook

@pytest.fixture
def source(tmp_path):
    return notebook(tmp_path, name="source.ipynb")


def grade(path, source, **limits):
    return grade_notebook(path, A, GradeConfig(limits=Limits(**{"cell_timeout": 30, "budget": 120, **limits})),
                          source=source)


def scores(result):
    return {i.id: i.score for i in result.items}


def test_correct_notebook_scores_full(tmp_path, source):
    r = grade(notebook(tmp_path), source)
    assert r.status == "graded", r.error
    assert scores(r) == FULL
    assert r.item("why").status == "manual" and "robust" in r.item("why").answer
    assert r.max_score == 7 and r.auto_max_score == 5
    assert r.environment["device"] and r.environment["torch"]
    assert r.timings["execute_s"] > 0


def test_l2_instead_of_l1_loses_only_that_item(tmp_path, source):
    r = grade(notebook(tmp_path, {"dist": "def mnist_distance(a, b): return ((a - b)**2).mean((-1, -2)).sqrt()"}), source)
    assert scores(r) == {**FULL, "dist": 0.0}
    item = r.item("dist")
    assert item.status == "failed"
    public, hidden = item.checks
    assert public.expected and public.got            # public checks say what was expected
    assert hidden.expected is None and hidden.got is None and "hidden" in hidden.message


def test_hard_coded_printout_and_fooling_do_not_score(tmp_path, source):
    fooling = ("import torch\ntorch.allclose = lambda *a, **k: True\nimport builtins\n"
               "print('All tests passed'); print(json.dumps({'score': 100}) if False else '{\"score\": 100}')\n"
               "def mnist_distance(a, b): return torch.tensor([0.1114, 0.1586])\n")
    r = grade(notebook(tmp_path, {"dist": fooling}), source)
    assert r.item("dist").score == 0 and r.item("total").score == 1


def test_failing_and_crashing_cells_do_not_stop_later_cells(tmp_path, source):
    r = grade(notebook(tmp_path, {"dist": "raise ValueError('oops')",
                                  "total": "import os\nos._exit(3)"}), source)
    assert r.status == "graded"
    assert scores(r) == {**FULL, "dist": 0.0, "total": 0.0}
    assert "not defined" in r.item("dist").checks[0].message
    assert any("stopped the kernel" in n for n in r.notes)


def test_endless_loop_times_out_and_the_rest_is_graded(tmp_path, source):
    t = time.monotonic()
    r = grade(notebook(tmp_path, {"total": "def total(n): return sum(range(n + 1))\nwhile True: pass"}), source,
              cell_timeout=3)
    assert time.monotonic() - t < 60
    assert scores(r) == FULL  # the function was defined before the loop; the loop was interrupted
    assert any(c["status"] == "timeout" for c in r.cells)


def test_budget_exhausted_marks_not_run(tmp_path, source):
    r = grade(notebook(tmp_path, {"dist": "import time\ntime.sleep(30)"}), source, cell_timeout=60, budget=4)
    assert {i.status for i in r.items if i.id != "why"} == {"not_run"}
    assert all(i.score == 0 for i in r.items)
    assert "budget" in r.item("total").feedback


def test_missing_duplicated_and_moved_answer_cells(tmp_path, source):
    nb = nbformat.read(str(notebook(tmp_path)), 4)
    dup = nbformat.from_dict(json.loads(json.dumps(nb.cells[1])))
    nb.cells.insert(2, dup)                                   # "dist" twice (a split copies the metadata)
    del nb.cells[nb.cells.index(next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "total"))]
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, str(path))
    r = grade(path, source)
    assert r.item("dist").score == 0 and "appears 2 times" in r.item("dist").feedback
    assert r.item("total").score == 0 and "missing" in r.item("total").feedback
    assert r.item("plot").score == 1
    moved = grade(notebook(tmp_path, order=["plot", "dist", "total"], name="moved.ipynb"), source)
    assert moved.item("plot").score == 0 and "moved" in moved.item("plot").feedback
    assert moved.item("dist").score == 3 and moved.item("total").score == 1


def test_edited_locked_cell_is_restored(tmp_path, source):
    nb = nbformat.read(str(notebook(tmp_path)), 4)
    nb.cells[0].source = "raise SystemExit('no torch for you')"
    path = tmp_path / "edited.ipynb"
    nbformat.write(nb, str(path))
    r = grade(path, source)
    assert scores(r) == FULL
    assert any("was edited" in n for n in r.notes)


def test_grader_packages_cannot_be_imported(tmp_path, source):
    cheat = "from reference.pixel_similarity import mnist_distance"
    r = grade(notebook(tmp_path, {"dist": cheat}), source)
    assert r.item("dist").score == 0
    err = next(c for c in r.cells if c["grade_id"] == "dist")
    assert "cannot be imported while grading" in err["detail"]


@pytest.mark.parametrize("content", [b"", b"{not json", b"\xff\xfe\x00garbage", b'{"a": 1}', b"[1, 2]"])
def test_unreadable_files_give_an_error_result(tmp_path, source, content):
    path = tmp_path / "bad.ipynb"
    path.write_bytes(content)
    r = grade(path, source)
    assert r.status == "error" and r.error
    assert [i.status for i in r.items] == ["not_run", "not_run", "not_run", "manual"]
    assert r.score == 0


@pytest.mark.parametrize("bomb", ["x = bytearray(64 * 2**30)",          # refused by the address-space cap
                                  "x = torch.ones(700_000_000)"])       # touched memory: the RSS watchdog
def test_memory_bomb_is_stopped_and_the_rest_graded(tmp_path, source, bomb):
    r = grade(notebook(tmp_path, {"total": "def total(n): return sum(range(n + 1))\n" + bomb}), source, mem_mb=1500)
    assert r.item("dist").score == 3 and r.item("plot").score == 1
    total = next(c for c in r.cells if c["grade_id"] == "total")
    assert total["status"] in ("error", "died")
    assert "MemoryError" in total["detail"] or "memory" in total["detail"]


def test_result_json_round_trip(tmp_path, source):
    from autograders.results import SubmissionResult
    r = grade(notebook(tmp_path), source)
    back = SubmissionResult.load(r.save(tmp_path / "r.json"))
    assert back.to_dict() == r.to_dict()


def test_check_inputs_are_fresh_per_grading_and_reproducible_by_seed(tmp_path, source):
    wrong = notebook(tmp_path, {"dist": "def mnist_distance(a, b): return (a - b).pow(2).mean((-1, -2))"})
    first, second = grade(wrong, source), grade(wrong, source)
    seed = first.environment["check_seed"]
    assert isinstance(seed, int) and seed != second.environment["check_seed"]
    assert first.item("dist").feedback != second.item("dist").feedback     # other random inputs
    again = grade_notebook(wrong, A, GradeConfig(limits=Limits(cell_timeout=30, budget=120), check_seed=seed),
                           source=source)
    assert again.item("dist").feedback == first.item("dist").feedback
