"""CI in students' repositories (`ch4grade ci init`), on the small example unit `ch05_softmax`:
the generated workflows pass actionlint and the providers' schemas; the template repository holds no
solution, hidden check or reference code; and the workflow's check step, run here on a student's copy,
reports a filled notebook green, a wrong answer red (with an annotation), and an infrastructure failure
green with a warning."""
from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograders.ci.init import WORKFLOW_PATHS, ci_init
from autograders.workflow.course import Course

TESTS = Path(__file__).resolve().parent
UNITS = TESTS / "example_units"
NAME = "ch05_softmax"
NOTEBOOK = f"{NAME}/{NAME}.ipynb"


@pytest.fixture(scope="module")
def repos(tmp_path_factory):
    "One template repository per provider, from one course."
    from autograders import checks

    root = tmp_path_factory.mktemp("ci")
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(UNITS))
        checks._registered.cache_clear()
        course = Course.open(root / "course", create=True)
        made = {p: ci_init(root / f"repo-{p}", course, [NAME], p).dest for p in ("github", "gitlab")}
        yield made
        checks._registered.cache_clear()
        for mod in ("ch05_softmax", "ch05_softmax.checks", "ch05_softmax.kernel"):
            sys.modules.pop(mod, None)


def _tool(name: str) -> str:
    path = Path(sys.executable).parent / name
    if not path.exists():
        pytest.fail(f"{name} is not installed (a dev dependency)")
    return str(path)


def test_the_workflows_pass_actionlint_and_the_schemas(repos):
    github = repos["github"] / WORKFLOW_PATHS["github"]
    gitlab = repos["gitlab"] / WORKFLOW_PATHS["gitlab"]
    lint = subprocess.run([_tool("actionlint"), "-no-color", str(github)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    for schema, path in (("vendor.github-workflows", github), ("vendor.gitlab-ci", gitlab)):
        res = subprocess.run([_tool("check-jsonschema"), "--builtin-schema", schema, str(path)],
                             capture_output=True, text=True)
        assert res.returncode == 0, res.stdout + res.stderr
    # a broken workflow is caught by the same tools (so the checks above can fail)
    bad = github.parent / "broken.yml"
    bad.write_text(github.read_text().replace("runs-on: ubuntu-latest", "runs-on: [ubuntu-latest\n"))
    try:
        assert subprocess.run([_tool("actionlint"), "-no-color", str(bad)], capture_output=True).returncode != 0
    finally:
        bad.unlink()


def test_the_template_holds_what_students_get_and_nothing_else(repos):
    from autograders.paths import source_notebook
    from autograders.student.forbidden import forbidden_lines, found_in

    for provider, repo in repos.items():
        files = sorted(str(p.relative_to(repo)) for p in repo.rglob("*") if p.is_file())
        assert files == sorted([NOTEBOOK, f"{NAME}/ch4check.py", f"{NAME}/ch4check_data.json.gz", ".ch4check/run.py",
                                ".ch4check/requirements.txt", "README.md", str(WORKFLOW_PATHS[provider])]), files
        source = nbformat.read(str(source_notebook(NAME)), as_version=4)
        forbidden = forbidden_lines(source)
        assert forbidden   # the model answers' lines, which must not be here
        for path in repo.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                text = gzip.decompress(data).decode() if path.suffix == ".gz" else data.decode()
                assert found_in(text, forbidden) == [], path
                if path.suffix != ".py":
                    assert "BEGIN SOLUTION" not in text and "hidden=True" not in text and "autograders" not in text, path
                else:   # the runners: standard library, nbformat/nbclient, torch; nothing of ch4grade
                    assert not [ln for ln in text.splitlines() if ln.startswith(("import", "from")) and "autograders" in ln]
    reqs = (repos["github"] / ".ch4check/requirements.txt").read_text().split()
    assert {r.split("==")[0] for r in reqs} >= {"torch", "fastai", "nbclient", "ipykernel"}


def _student_copy(repo: Path, tmp_path: Path, **answers) -> Path:
    "A student's clone of the template, with the model answers filled in (and `answers` over them)."
    from autograders.paths import source_notebook
    from student_env import fill_answers

    clone = tmp_path / "student"
    shutil.copytree(repo, clone)
    path = clone / NOTEBOOK
    nb = fill_answers(nbformat.read(path, as_version=4), nbformat.read(str(source_notebook(NAME)), as_version=4))
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
    nbformat.write(nb, path)
    return clone


def _run_step(clone: Path) -> tuple[int, str, str, dict]:
    "The workflow's check step, as the runner runs it (GITHUB_STEP_SUMMARY set)."
    summary = clone / "summary.md"
    res = subprocess.run([sys.executable, ".ch4check/run.py", NOTEBOOK, "--annotations", "--json", "out.json",
                          "--junit", "out.xml"], cwd=clone, capture_output=True, text=True, timeout=600,
                         env={**_env(), "GITHUB_STEP_SUMMARY": str(summary)})
    return res.returncode, res.stdout, summary.read_text(), json.loads((clone / "out.json").read_text())


def _env() -> dict:
    import os
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)} | {"MPLBACKEND": "agg"}


def test_a_filled_notebook_is_green_and_a_wrong_answer_red(repos, tmp_path):
    code, out, summary, data = _run_step(_student_copy(repos["github"], tmp_path / "ok"))
    assert code == 0, out
    assert [(r["item"], r["status"]) for r in data["items"]] == [("softmax", "passed"), ("nll", "passed")]
    assert "2/2 items, 3/3 points" in summary and "| softmax | 1 | ✓ |" in summary and "::error" not in out

    wrong = "def softmax(x):\n    return x.exp() / x.exp().sum()"     # sums over the whole batch
    code, out, summary, data = _run_step(_student_copy(repos["github"], tmp_path / "wrong", softmax=wrong))
    assert code == 1, out
    status = {r["item"]: r["status"] for r in data["items"]}
    assert status["softmax"] == "failed"
    # nll is checked with the student's own softmax here (the grader gives it the reference's): it fails too
    assert "| softmax | 1 | ✗ |" in summary and "0/2 items, 0/3 points" in summary
    assert f"::error file={NOTEBOOK},title=ch4check softmax::" in out
    xml = (tmp_path / "wrong" / "student" / "out.xml").read_text()
    assert 'name="softmax"' in xml and "<failure" in xml


def test_an_infrastructure_failure_stays_green_and_says_so(repos, tmp_path):
    # the locked set-up cell (here: `import torch`) fails as a data download would, before the answers it feeds
    clone = _student_copy(repos["github"], tmp_path, setup="raise ConnectionError('the download failed')\nimport torch",
                          softmax="def softmax(x):\n    return torch.softmax(x, -1)")
    code, out, summary, data = _run_step(clone)
    assert code == 0, out
    assert {r["status"] for r in data["items"]} == {"infrastructure"}
    assert "⚠ not checked" in summary and "ConnectionError" in summary
    (clone / NAME / "ch4check.py").unlink()
    code, out, summary, _ = _run_step(clone)
    assert code == 0 and "::warning" in out and "ch4check.py is missing" in summary
