"""Checks v2 on a small assignment unit from another package (`tests/example_units/ch05_softmax`, found through
its entry point): one mistake costs one item, an item's names are bound to its answer cell, a blank notebook
scores 0, the same seed reproduces a grading exactly, and a check that breaks is the grader's failure."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
import torch

UNITS = Path(__file__).resolve().parent / "example_units"


@pytest.fixture(autouse=True)
def example_unit(monkeypatch):
    "The example package on sys.path, as `pip install` would put it (its dist-info declares the entry point)."
    from autograders import checks
    monkeypatch.syspath_prepend(str(UNITS))
    checks._registered.cache_clear()
    yield
    checks._registered.cache_clear()
    sys.modules.pop("ch05_softmax", None)
    sys.modules.pop("ch05_softmax.checks", None)


def _variant(tmp_path: Path, name: str = "sub.ipynb", extra_cell: str | None = None, **answers) -> Path:
    from autograders.paths import source_notebook
    nb = nbformat.read(str(source_notebook("ch05_softmax")), as_version=4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
    if extra_cell is not None:
        nb.cells.append(nbformat.v4.new_code_cell(extra_cell))
    path = tmp_path / name
    nbformat.write(nb, str(path))
    return path


def _grade(path: Path, seed: int = 7):
    from autograders.engine import GradeConfig, grade_notebook
    return grade_notebook(path, "ch05_softmax", config=GradeConfig(check_seed=seed))


def _scores(result) -> dict[str, float]:
    return {i.id: i.score for i in result.items}


def test_a_unit_from_another_package_is_found_by_its_entry_point():
    from autograders.checks import available_assignments, get_assignment
    from autograders.execute.sandbox.view import grader_dirs
    assert "ch05_softmax" in available_assignments()
    spec = get_assignment("ch05_softmax")
    assert Path(spec.source) == UNITS / "ch05_softmax" / "ch05_softmax.ipynb"
    assert "def softmax" in spec.kernel_source
    assert UNITS / "ch05_softmax" in grader_dirs(), "the kernel must not see another package's unit either"


def test_model_answers_full_marks_and_one_mistake_costs_one_item(tmp_path):
    good = _grade(_variant(tmp_path, "good.ipynb"))
    assert good.status == "graded" and not good.grader_failure, good.error
    assert _scores(good) == {"softmax": 1.0, "nll": 2.0, "why_log": 0.0}
    # a softmax that forgets the exponential: only `softmax` loses; `nll` is graded with the reference softmax
    bad = _grade(_variant(tmp_path, "bad.ipynb", softmax="def softmax(x):\n    return x / x.sum(-1, keepdim=True)"))
    assert _scores(bad) == {"softmax": 0.0, "nll": 2.0, "why_log": 0.0}, [i.feedback for i in bad.items]


def test_a_later_cell_cannot_change_what_an_earlier_item_is_graded_on(tmp_path):
    r = _grade(_variant(tmp_path, extra_cell="def softmax(x):\n    return x  # reused the name for something else"))
    assert _scores(r)["softmax"] == 1.0, r.items[0].feedback


def test_a_blank_notebook_scores_zero(tmp_path):
    "What nbgrader's release leaves in the answer cells (its ClearSolutions) scores 0, as not answered."
    from nbgrader.preprocessors import ClearSolutions
    from autograders.paths import source_notebook
    nb = nbformat.read(str(source_notebook("ch05_softmax")), as_version=4)
    nb, _ = ClearSolutions().preprocess(nb, {})
    path = tmp_path / "blank.ipynb"
    nbformat.write(nb, str(path))
    r = _grade(path)
    assert r.score == 0 and not r.grader_failure
    assert all("not answered" in i.feedback for i in r.items if i.status != "manual")


def test_the_same_seed_reproduces_a_grading_exactly(tmp_path):
    path = _variant(tmp_path, softmax="def softmax(x):\n    return x.softmax(-1) + 1e-3")

    def stable(result) -> str:
        d = result.to_dict()
        for item in d["items"]:
            item.pop("seconds", None)
            for c in item.get("checks", []):
                c.pop("seconds", None)
        return json.dumps({"items": d["items"], "seed": d["environment"]["check_seed"]}, sort_keys=True)

    assert stable(_grade(path, seed=11)) == stable(_grade(path, seed=11))


def test_a_check_that_breaks_is_the_graders_failure(tmp_path):
    from autograders.checks import get_assignment
    from autograders.engine import GradeConfig, grade_notebook
    spec = get_assignment("ch05_softmax")
    check = spec.items["softmax"].checks[0]
    original = check.fn
    check.fn = lambda ns: ns.call("softmax", torch.zeros(2, 3)).no_such_attribute   # the check's own bug
    try:
        r = grade_notebook(_variant(tmp_path), spec, config=GradeConfig(check_seed=1))
    finally:
        check.fn = original
    item = next(i for i in r.items if i.id == "softmax")
    assert r.grader_failure and item.status == "not_run" and "not your mistake" in item.feedback


def test_checks_given_reference_pieces_run_after_every_other_check():
    from autograders.checks import get_assignment
    from autograders.engine import checks_in_order
    order = [(c.item_id, c.given is not None) for c in checks_in_order(get_assignment("ch05_softmax"))]
    assert order == [("softmax", False), ("nll", True)]


def _defined(source: str) -> set[str]:
    "The top-level names an answer cell defines (functions, classes, assignments)."
    import ast
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


@pytest.mark.parametrize("name", ["ch04_pixel_similarity", "ch04_sgd", "ch04_questionnaire", "ch04_learner",
                                  "ch04_full_mnist", "ch05_softmax"])
def test_checks_are_given_only_what_earlier_items_answer(name):
    """A check may be given the reference's version of a name only if no answer cell of its own item or a
    later one defines that name: the reference of an item's answer never reaches the kernel before its checks."""
    from autograders.checks import get_assignment
    from autograders.paths import source_notebook
    spec = get_assignment(name)
    nb = nbformat.read(str(source_notebook(name)), as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
               if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"}
    order = [i.id for i in spec.auto_items]
    for pos, item in enumerate(spec.auto_items):
        later = set().union(*(_defined(answers.get(i, "")) for i in order[pos:]))
        for check in item.checks:
            assert not set(check.given or ()) & later, (item.id, check.name, set(check.given) & later)
            if check.given is not None:
                assert spec.kernel_source, f"{name}: a check is given reference pieces but kernel.py is empty"


def test_the_wheel_carries_every_unit_and_registers_it(tmp_path):
    "The installed package can grade: each unit's notebook, checks, kernel helpers and answer key are in it."
    import subprocess
    import zipfile
    root = Path(__file__).resolve().parents[1]
    subprocess.run(["uv", "build", "--wheel", "-q", "-o", str(tmp_path)], cwd=root, check=True, timeout=600)
    [wheel] = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    entry_points = next(zipfile.ZipFile(wheel).read(n).decode() for n in names if n.endswith("entry_points.txt"))
    from autograders.checks import BUILTIN
    for unit in sorted(p.name for p in BUILTIN.iterdir() if (p / "checks.py").exists()):
        for f in ("__init__.py", "checks.py", "kernel.py", f"{unit}.ipynb"):
            assert f"autograders/assignments/{unit}/{f}" in names, (unit, f)
        assert f"{unit} = autograders.assignments.{unit}" in entry_points


def test_scoring_runs_without_a_kernel():
    "The score stage on its own: the student's globals as a plain dict (a LocalNamespace), no kernel started."
    import time
    from autograders.checks import get_assignment
    from autograders.engine import GradeConfig, Grader
    from autograders.execute.sandbox import choose
    from autograders.namespace import LocalNamespace
    from autograders.paths import source_notebook
    from autograders.results import SubmissionResult
    spec = get_assignment("ch05_softmax")
    nb = nbformat.read(str(source_notebook("ch05_softmax")), as_version=4)
    g = Grader(spec, nb, GradeConfig(check_seed=3), SubmissionResult(submission="x", assignment=spec.name),
               time.monotonic(), Path(spec.source), choose("none"))
    student = {"torch": torch}
    exec("def softmax(x):\n    return x.exp() / x.exp().sum(-1, keepdim=True)\n"
         "def nll(x, y):\n    return softmax(x)[range(len(y)), y].log().mean()\n", student)   # nll's sign is wrong
    items = {i.id: i for i in g.score(ns=LocalNamespace(student))}
    assert (items["softmax"].score, items["nll"].score) == (1.0, 0.0)
    assert "nll(x, y)" in items["nll"].feedback


def test_ref_never_holds_the_reference_of_its_own_item_or_a_later_one():
    "What a check of item X receives as `ref` defines no name that X's answer cell or a later one defines."
    from autograders.checks import available_assignments, get_assignment
    from autograders.checks.kernel_filter import defined_names
    from autograders.checks.spec import answer_names
    for name in available_assignments():
        spec = get_assignment(name)
        order, answers = [i.id for i in spec.auto_items], answer_names(spec.source)
        for pos, item in enumerate(order):
            reachable = defined_names(spec.kernel_for(item))
            forbidden = set().union(*(answers.get(i, set()) for i in order[pos:]))
            assert not reachable & forbidden, (name, item, reachable & forbidden)
    assert "def softmax" not in get_assignment("ch05_softmax").kernel_for("softmax")
    assert "def softmax" in get_assignment("ch05_softmax").kernel_for("nll")


STEAL = '''import sys
def _stolen():
    f = sys._getframe(1)
    while f is not None:
        if f.f_globals.get("__name__") == "ch4grade_ref" and "softmax" in f.f_globals:
            return f.f_globals["softmax"]
        r = f.f_globals.get("ref") or f.f_locals.get("ref")
        if getattr(r, "softmax", None) is not None:
            return r.softmax
        f = f.f_back
def softmax(x):
    s = _stolen()
    return s(x) if s else x
'''


def test_what_a_student_digs_out_of_a_check_gains_nothing_and_never_comes_back(tmp_path):
    """A softmax that looks for the reference in the frames calling it finds none during its own checks; an nll
    that raises with stolen text (or its `ref`) gets its message without that text."""
    leak = ("def nll(x, y):\n    import sys\n    f = sys._getframe(1)\n    while f is not None:\n"
            "        if 'ref' in f.f_locals:\n            raise ValueError('LEAK:' + str(f.f_locals['ref'])[:60])\n"
            "        f = f.f_back\n    raise ValueError('LEAK: nothing')\n")
    r = _grade(_variant(tmp_path, softmax=STEAL, nll=leak))
    assert _scores(r) == {"softmax": 0.0, "nll": 0.0, "why_log": 0.0}, [i.feedback for i in r.items]
    assert not r.grader_failure
    assert all("LEAK" not in (i.feedback or "") for i in r.items), [i.feedback for i in r.items]


def test_a_tampered_answer_or_an_empty_tensor_is_the_students_failure_not_the_graders(tmp_path):
    hook = ("_ip = get_ipython()\n_orig = _ip.display_pub.publish\n"
            "def _pub(data=None, metadata=None, **kw):\n"
            "    p = data.get('application/x-ch4grade+json') if isinstance(data, dict) else None\n"
            "    if isinstance(p, dict) and 'nonce' in p:\n"
            "        data = {'application/x-ch4grade+json': {'ok': False, 'traceback': 5, 'ename': 7, 'nonce': p['nonce']}}\n"
            "    return _orig(data=data, metadata=metadata, **kw)\n"
            "def softmax(x):\n    return x\n")
    r = _grade(_variant(tmp_path, "tampered.ipynb", softmax=hook + "_ip.display_pub.publish = _pub\n"))
    assert not r.grader_failure and _scores(r)["softmax"] == 0.0, [i.feedback for i in r.items]
    r = _grade(_variant(tmp_path, "empty.ipynb", nll="def nll(x, y):\n    return torch.empty(0)"))
    assert _scores(r)["nll"] == 0.0 and not r.grader_failure
