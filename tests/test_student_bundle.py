"""The student's folder (`ch4grade release`): a notebook, `ch4check.py` and its sealed data, and nothing more.

In-process: the runtime's comparison, secrets, answer lookup and report. Then, per assignment, the folder the
course workflow writes (its public checks recorded on the model answers; recordings are cached by content in
`$CH4GRADE_CACHE/recordings`, so a second session does not train again):
  - gives nothing away: no line of a solution or hidden test, no line of a reference function body, no answer
    value in plaintext, no hidden check, and `ch4check.py` imports nothing of this package;
  - in a virtual environment with only torch, torchvision, fastai, NumPy, matplotlib and ipykernel (no ch4grade,
    no nbgrader, no `reference`), the released notebook with the model answers filled in passes every check cell,
    printing only ✓ lines; a wrong answer fails its own cell with a short message, no traceback and no answer;
  - the same answers get the same public verdicts from the student's check and from `ch4grade grade`.
"""
from __future__ import annotations

import ast
import gzip
import json
from pathlib import Path

import nbformat
import pytest
import torch

from autograders.checks import get_assignment
from autograders.student import runtime, seal
from autograders.student.bundle import DATA, MODULE, leaks, module_text
from autograders.checks.kernel_filter import common_names, without_names
from autograders.student.forbidden import forbidden_lines, found_in
from autograders.student.runtime import CheckCellFailed, Mismatch, answer_source, compare

from labtools import fastai_home
from student_env import cell_text, fill_answers, run_as_student

ALL = ("ch04_pixel_similarity", "ch04_questionnaire", "ch04_sgd", "ch04_learner", "ch04_full_mnist")
CHEAP = ("ch04_pixel_similarity", "ch04_questionnaire")   # run in the student's environment (seconds each)


def _enc(value):
    from autograders.execute import codec
    return json.loads(codec.encode(value))


# ---- the runtime, in-process ------------------------------------------------------------------------------------
def test_compare_accepts_what_the_grader_accepts_and_says_where_values_differ():
    compare(_enc((1.5, [torch.ones(3)], "torch.float32")), (1.5000001, (torch.ones(3, dtype=torch.float64),), "torch.float64"))
    compare(_enc(torch.tensor(2.0)), 2.0)                  # a one-element tensor and a number are alike
    compare(_enc(torch.tensor([True, False])), torch.tensor([1, 0]))
    want = torch.zeros(28, 28)
    got = want.clone()
    got[3, 4] = 0.5
    with pytest.raises(Mismatch) as e:
        compare(_enc(want), got)
    assert e.value.message == "1 of 784 values differ; at [3, 4] expected 0, got 0.5"
    with pytest.raises(Mismatch, match=r"expected shape \(28, 28\), got shape \(784,\)"):
        compare(_enc(want), got.reshape(-1))
    with pytest.raises(Mismatch, match="item 1: expected 2, got 3"):
        compare(_enc([1, 2]), [1, 3])
    with pytest.raises(Mismatch, match="expected 'a', got 'b'"):
        compare(_enc("a"), "b")


def test_a_secret_is_recognised_but_never_shown():
    g = torch.Generator().manual_seed(0)
    for value, near, far in ((0.951123, 0.95114, 0.9411), (torch.rand(28, 28, generator=g), None, None),
                             (torch.arange(9).reshape(3, 3), None, None)):
        sealed = seal._secret(value, "salt")
        text = json.dumps(sealed)
        if isinstance(value, float):
            assert "0.951" not in text
            compare(sealed, near, "salt")
            compare(sealed, torch.tensor(near), "salt")
            with pytest.raises(Mismatch) as e:
                compare(sealed, far, "salt")
            assert "0.951" not in e.value.message and "not shown" in e.value.message
            continue
        assert f"{float(value.reshape(-1)[5]):.4f}" not in text and "data" not in text
        compare(sealed, value.clone(), "salt")
        other = value.clone()
        other.reshape(-1)[5] += 1
        with pytest.raises(Mismatch, match="not shown"):
            compare(sealed, other, "salt")
        if not value.is_floating_point():   # a hash: salted
            with pytest.raises(Mismatch, match="not shown"):
                compare(sealed, value.clone(), "another salt")


def test_the_answer_is_found_by_grade_id_not_by_the_last_cell_run():
    q04, q07 = "def double_odds(nums):\n    return [2 * n for n in nums if n % 2]\n", "def rmse(a, b): ...\n"
    nb = {"cells": [{"cell_type": "code", "source": q04, "metadata": {"nbgrader": {"grade_id": "q04"}}},
                    {"cell_type": "code", "source": q07, "metadata": {"nbgrader": {"grade_id": "q07"}}}]}
    ns = {"In": ["", q04, q07, 'check("q04")']}
    assert answer_source("q04", ["double_odds"], ns, nb) == q04
    assert answer_source("q07", ["rmse"], ns, nb) == q07
    # no notebook to read (a plain kernel): the last cell run that defines the item's names
    assert answer_source("q04", ["double_odds"], ns, {}) == q04
    edited = q04.replace("2 * n", "n + n")
    ns["In"] += [edited, "x = 1"]
    assert answer_source("q04", ["double_odds"], ns, {}) == edited
    assert answer_source("q04", ["double_odds"], ns, nb) == edited   # the saved notebook is older than what ran
    assert answer_source("q09", ["nine"], ns, {}) is None


def _plan(checks, placeholder=None):
    return {"assignment": "demo", "salt": "s", "ref": "", "ref_names": [],
            "items": {"dist": {"names": ["dist"], "placeholder": placeholder, "checks": checks}}}


def _call_dist(a, b, want):
    return {"op": "run", "body": "result = dist(*__args)", "what": "`dist(...)` ", "ref": False, "seed": 1,
            "inputs": {"__args": _enc([a, b])}, "want": _enc(want)}


def test_check_prints_one_line_per_check_and_fails_its_cell_without_a_traceback(capsys):
    a, b = torch.rand(5), torch.rand(5)
    plan = _plan([{"name": "the L1 distance", "mode": "replay", "given": None,
                   "steps": [{"op": "has", "name": "dist", "want": True}, _call_dist(a, b, (a - b).abs().mean())]},
                  {"name": "no loop", "mode": "graded", "given": None, "why": "it reads your code"}],
                 placeholder="def dist(a, b):\n    # YOUR CODE HERE\n    raise NotImplementedError()")
    good = {"dist": lambda x, y: (x - y).abs().mean(), "In": ["", "dist = lambda x, y: (x - y).abs().mean()"]}
    assert runtime.check("dist", good, plan) is None
    assert capsys.readouterr().out == ("dist:\n  ✓ the L1 distance\n"
                                       "  · no loop: checked when your notebook is graded (it reads your code)\n")
    bad = {"dist": lambda x, y: ((x - y) ** 2).mean(), "In": ["", "dist = lambda x, y: ((x - y) ** 2).mean()"]}
    with pytest.raises(CheckCellFailed) as e:
        runtime.check("dist", bad, plan)
    out = capsys.readouterr().out
    assert "✗ the L1 distance\n      `dist(...)`: expected " in out and ", got " in out
    assert e.value._render_traceback_() == ["\x1b[0;31mdist: 1 check(s) did not pass (see above)\x1b[0m"]
    raises = {"dist": lambda x, y: x.foo, "In": ["", "dist = lambda x, y: x.foo"]}
    with pytest.raises(CheckCellFailed):
        runtime.check("dist", raises, plan)
    assert "`dist(...)` raised AttributeError: 'Tensor' object has no attribute 'foo'" in capsys.readouterr().out
    blank = {"In": ["", plan["items"]["dist"]["placeholder"]]}
    with pytest.raises(CheckCellFailed):
        runtime.check("dist", blank, plan)
    assert "✗ not answered yet" in capsys.readouterr().out
    with pytest.raises(CheckCellFailed, match="no item 'q99'"):
        runtime.check("q99", good, plan)


def test_the_student_module_imports_nothing_of_this_package():
    text = module_text()
    tree = ast.parse(text)
    imported = {(n.module if isinstance(n, ast.ImportFrom) else a.name).split(".")[0]
                for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
                for a in (n.names if isinstance(n, ast.Import) else [n])}
    assert imported <= {"__future__", "ast", "base64", "builtins", "gzip", "hashlib", "json", "math", "os", "sys",
                        "types", "pathlib", "random", "zlib", "contextlib", "io", "warnings", "torch", "numpy", "IPython", "google", "__main__"}, imported


# ---- the folders ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def course(tmp_path_factory, mnist_dir):
    from autograders.workflow.course import Course
    from autograders.paths import source_notebook
    return Course.open(tmp_path_factory.mktemp("bundle") / "course", source_notebook(ALL[0]).parents[1])


_RELEASED: dict = {}


def released(course, name: str) -> Path:
    "The student folder of `name` (released once per module), as the course workflow writes it."
    if name not in _RELEASED:
        from autograders.student import bundle
        from autograders.workflow.release import release
        spec = get_assignment(name)
        home = fastai_home(tuple(spec.data))
        real = bundle.write_bundle
        bundle.write_bundle = lambda *a, **k: real(*a, **{**k, "fastai_home": home})
        try:
            [r] = release(course, name, progress=False)
        finally:
            bundle.write_bundle = real
        assert r.ok, r.error
        _RELEASED[name] = r.path.parent
    return _RELEASED[name]


def _recording(name: str):
    from autograders.student.bundle import recording_key, recordings_cache
    from autograders.student.record import Recording
    spec = get_assignment(name)
    return Recording.loads((recordings_cache() / f"{name}-{recording_key(spec)}.json").read_text())


@pytest.mark.parametrize("name", ALL)
def test_the_folder_gives_nothing_away(course, name):
    folder = released(course, name)
    assert sorted(p.name for p in folder.iterdir()) == sorted([f"{name}.ipynb", MODULE, DATA])
    spec = get_assignment(name)
    source = nbformat.read(spec.source, as_version=4)
    rec = _recording(name)
    assert leaks(folder, source, rec) == []
    plan = json.loads(gzip.decompress((folder / DATA).read_bytes()))
    # the kernel helpers students receive copy no model answer, even respaced or under another name
    # (kernel_common, the probes' plumbing, seeds NumPy as reference/device.py does: no answer)
    helpers = without_names(plan["ref"], common_names()) if plan["ref"] else ""
    assert found_in(helpers, forbidden_lines(source), loose=True) == []
    hidden = {c.name for i in spec.auto_items for c in i.checks if c.hidden}
    public = {(i.id, c.name) for i in spec.auto_items for c in i.checks if not c.hidden}
    assert {(i, c["name"]) for i, item in plan["items"].items() for c in item["checks"]} == public
    text = (folder / MODULE).read_text() + json.dumps(plan)
    assert not [h for h in hidden - {n for _, n in public} if json.dumps(h)[1:-1] in text]
    assert "autograders" not in "".join(l for l in (folder / MODULE).read_text().splitlines()
                                        if l.startswith(("import", "from")))
    # every check cell imports ch4check; no check cell imports this package
    nb = nbformat.read(folder / f"{name}.ipynb", as_version=4)
    checks = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]
    assert checks and all("from ch4check import check" in c.source and "autograders" not in c.source for c in checks)
    # most public checks replay in the student's notebook; the rest say why they wait for the grader
    modes = [c["mode"] for item in plan["items"].values() for c in item["checks"]]
    assert modes.count("replay") >= 0.6 * len(modes), modes


def test_the_leak_test_catches_each_kind_of_leak(course, tmp_path):
    name = "ch04_pixel_similarity"
    folder = released(course, name)
    spec = get_assignment(name)
    source = nbformat.read(spec.source, as_version=4)
    rec = _recording(name)
    from autograders.workflow.release import secret_snippets
    planted = {"solution": secret_snippets(source)[0],
               "reference": next(l.strip() for l in Path(__import__("reference.pixel_similarity").pixel_similarity.__file__)
                                 .read_text().splitlines() if "def mnist_distance" in l) and
               "return (a - b).abs().mean((-1, -2))"}
    for kind, line in planted.items():
        copy = tmp_path / kind
        copy.mkdir()
        for f in folder.iterdir():
            (copy / f.name).write_bytes(f.read_bytes())
        with open(copy / MODULE, "a") as f:
            f.write(f"\n# {line}\n")
        assert any(line in leak for leak in leaks(copy, source, rec)), kind
    # an answer value in plaintext in the data
    copy = tmp_path / "answer"
    copy.mkdir()
    for f in folder.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    plan = json.loads(gzip.decompress((copy / DATA).read_bytes()))
    plan["extra"] = _enc(rec.answers["mean3"])
    (copy / DATA).write_bytes(gzip.compress(json.dumps(plan).encode()))
    assert any("`mean3`" in leak for leak in leaks(copy, source, rec))


def _student_run(course, name: str, nb) -> dict[str, str]:
    "Run `nb` in the student's environment in the folder of `name`: check cell grade_id -> what it showed."
    folder = released(course, name)
    run_as_student(nb, folder, env={"FASTAI_HOME": fastai_home(tuple(get_assignment(name).data))})
    return {c.metadata["nbgrader"]["grade_id"]: cell_text(c) for c in nb.cells
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")}


def _verdicts(shown: dict[str, str], spec) -> dict[tuple[str, str], bool]:
    "(item, check) -> passed, from the ✓ / ✗ lines each check cell printed."
    out = {}
    for item in spec.auto_items:
        text = shown.get(f"{item.id}_check", "")
        for c in item.checks:
            if not c.hidden:
                if f"✓ {c.name}" in text:
                    out[item.id, c.name] = True
                elif f"✗ {c.name}" in text or "✗ not answered yet" in text:
                    out[item.id, c.name] = False
    return out


def _graded_verdicts(path: Path, name: str) -> dict[tuple[str, str], bool]:
    from autograders.engine import GradeConfig, grade_notebook
    result = grade_notebook(path, name, GradeConfig(fastai_home=fastai_home(tuple(get_assignment(name).data))))
    assert not result.grader_failure, result.error
    return {(i.id, c.name): c.status == "passed" for i in result.items for c in i.checks if not c.hidden}


WRONG = {   # one wrong answer per assignment, in an item no public check is given to
    "ch04_pixel_similarity": ("rmse", "def rmse_distance(a, b): return ((a - b) ** 2).sqrt().mean((-1, -2))\n"),
    "ch04_questionnaire": ("q07", "def rmse(a, b): return ((a - b) ** 2).sqrt().mean()\n"
                                  "def l1(a, b): return (a - b).abs().mean()\n"),
}


_FILLED: dict = {}


def _filled_run(course, name):
    "The released notebook with the model answers filled in, run in the student's environment (once per module)."
    if name not in _FILLED:
        spec = get_assignment(name)
        folder = released(course, name)
        filled = fill_answers(nbformat.read(folder / f"{name}.ipynb", as_version=4),
                              nbformat.read(spec.source, as_version=4))
        _FILLED[name] = filled, _student_run(course, name, filled)
    return _FILLED[name]


@pytest.mark.parametrize("name", ALL)
def test_model_answers_pass_every_check_cell_in_a_students_environment(course, name):
    spec = get_assignment(name)
    filled, shown = _filled_run(course, name)
    for gid, text in shown.items():
        lines = [l for l in text.splitlines() if l.strip()]
        assert lines[0] == f"{gid[:-len('_check')]}:", text
        assert all(l.startswith(("  ✓ ", "  · ")) for l in lines[1:]), text
    verdicts = _verdicts(shown, spec)
    assert verdicts and all(verdicts.values())
    errors = [c for c in filled.cells if any(o.get("output_type") == "error" for o in c.get("outputs", []))]
    assert errors == []


@pytest.mark.parametrize("name", CHEAP)
def test_a_wrong_answer_fails_its_cell_and_verdicts_match_the_grader(course, name, tmp_path):
    spec = get_assignment(name)
    folder = released(course, name)
    source = nbformat.read(spec.source, as_version=4)
    filled, shown = _filled_run(course, name)

    item, answer = WRONG[name]
    wrong = fill_answers(nbformat.read(folder / f"{name}.ipynb", as_version=4), source)
    [cell] = [c for c in wrong.cells if c.metadata.get("nbgrader", {}).get("grade_id") == item]
    cell.source = answer
    shown_wrong = _student_run(course, name, wrong)
    text = shown_wrong[f"{item}_check"]
    assert "✗" in text and "expected" in text and "got" in text, text
    assert "Traceback" not in text and "File " not in text and "ch4check.py" not in text, text
    assert ".mean().sqrt()" not in text and "sqrt" not in text, text          # not the answer's code
    [check_cell] = [c for c in wrong.cells if c.metadata.get("nbgrader", {}).get("grade_id") == f"{item}_check"]
    [err] = [o for o in check_cell.outputs if o.get("output_type") == "error"]
    assert err["ename"] == "CheckCellFailed"
    others = {k: v for k, v in _verdicts(shown_wrong, spec).items() if k[0] != item}
    assert others and all(others.values())

    # the same verdicts as `ch4grade grade`, check by check (the wrong answer is in an item nothing is given to)
    for nb, shown_ in ((filled, shown), (wrong, shown_wrong)):
        path = tmp_path / f"{name}.ipynb"
        nbformat.write(nb, path)
        graded = _graded_verdicts(path, name)
        student = _verdicts(shown_, spec)
        replayed = {(i, c["name"]) for i, it in json.loads(gzip.decompress((folder / DATA).read_bytes()))["items"].items()
                    for c in it["checks"] if c["mode"] == "replay" and not c.get("rest")}
        assert {k: graded[k] for k in replayed} == {k: student[k] for k in replayed}
    assert not all(graded.values())


def test_what_changes_with_the_notebooks_random_numbers_is_not_compared():
    net = {"kinds": ["Linear", "ReLU", "Linear"], "weights": torch.randn(8, 4), "sizes": [(4, 8), (8, 1)]}
    other = {**net, "weights": torch.randn(8, 4)}
    masked = seal._mask(_enc(net), other)
    compare(masked, {**net, "weights": torch.zeros(3)})          # any weights at all
    with pytest.raises(Mismatch, match="'kinds'"):
        compare(masked, {**net, "kinds": ["Linear", "Linear"]})
    assert seal._compares_something(masked)
    assert not seal._compares_something(seal._mask(_enc(torch.randn(3)), torch.randn(3)))
    # a trained value that moved a little when the sums ran in another order: compared, within 50x that
    out = torch.randn(20, 10)
    near = seal._mask(_enc(out), out + 1e-3)
    assert seal._compares_something(near) and "__close__" in near
    compare(near, out + 0.03)
    with pytest.raises(Mismatch):
        compare(near, out + 0.2)


def test_images_travel_as_bytes_and_come_back_exact():
    x = torch.randint(0, 256, (40, 28, 28), generator=torch.Generator().manual_seed(0)).float() / 255
    packed = seal._as_u8(x)
    assert packed is not None and len(json.dumps(packed)) < len(json.dumps(_enc(x))) / 3
    assert torch.equal(runtime.u8_images(packed["__u8__"]), x)
    assert seal._as_u8(x + 1e-3) is None and seal._as_u8(x.double()) is None


def test_nbgraders_own_autograde_still_runs_the_full_grader(course, monkeypatch):
    """A student's submission from the folder (check cells importing ch4check) autograded by nbgrader itself: its
    check cells are the instructor's again (hidden tests included, run with ch4grade), and score full marks."""
    from nbgrader.converters import Autograde
    from nbgrader.utils import capture_log
    name = "ch04_pixel_similarity"
    spec = get_assignment(name)
    folder = released(course, name)
    filled = fill_answers(nbformat.read(folder / f"{name}.ipynb", as_version=4), nbformat.read(spec.source, as_version=4))
    target = course.submitted_dir("alice", name)
    target.mkdir(parents=True, exist_ok=True)
    nbformat.write(filled, target / f"{name}.ipynb")
    monkeypatch.setenv("FASTAI_HOME", fastai_home(tuple(spec.data)))
    app = Autograde(coursedir=course.coursedir(assignment_id=name, student_id="alice"), config=course.config())
    app.force = True
    outcome = capture_log(app)
    assert outcome.get("success"), (outcome.get("error") or outcome.get("log") or "")[-3000:]
    graded = nbformat.read(course.autograded_dir("alice", name) / f"{name}.ipynb", as_version=4)
    checks = [c for c in graded.cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]
    assert all("from autograders import check" in c.source and "hidden=True" in c.source for c in checks)
    assert not [c for c in checks if any(o.get("output_type") == "error" for o in c.outputs)]
    with course.gradebook() as gb:
        sub = gb.find_submission_notebook(name, name, "alice")
        assert sub.code_score == sub.max_code_score == sum(i.points for i in spec.auto_items)
