"""The grading repository's workflow, its steps run here as the runners would (two shards, then the merge
job) on real git repositories of students: the commits collected are the last before the deadline, each
shard grades its own students in sandboxed kernels, and the merged course has one gradebook and the exports.
The generated workflows themselves pass actionlint and the providers' schemas."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograders.ci.init import GRADING_PATHS, grading_init
from autograders.cli import main

TESTS = Path(__file__).resolve().parent
UNITS = TESTS / "example_units"
NAME = "ch05_softmax"


def _tool(name: str) -> str:
    path = Path(sys.executable).parent / name
    if not path.exists():
        pytest.fail(f"{name} is not installed (a dev dependency)")
    return str(path)


@pytest.mark.parametrize("provider", ["github", "gitlab"])
def test_the_grading_workflows_pass_actionlint_and_the_schemas(tmp_path, provider):
    res = grading_init(tmp_path, provider, cron="59 14 1 12 *", shards=3)
    path = tmp_path / GRADING_PATHS[provider]
    assert path in res.files and (tmp_path / "repos.txt").exists()
    text = path.read_text()
    assert "STUDENT_REPOS_TOKEN" in text and "@" + "CRON@" not in text and "@" + "SHARDS@" not in text
    schema = {"github": "vendor.github-workflows", "gitlab": "vendor.gitlab-ci"}[provider]
    res = subprocess.run([_tool("check-jsonschema"), "--builtin-schema", schema, str(path)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    if provider == "github":
        lint = subprocess.run([_tool("actionlint"), "-no-color", str(path)], capture_output=True, text=True)
        assert lint.returncode == 0, lint.stdout + lint.stderr
        assert '"59 14 1 12 *"' in text
    else:
        assert "parallel: 3" in text


def _student_repo(root: Path, student: str, commits: list[tuple[str, str]], source) -> Path:
    "A student's repository: the released layout, one commit per (softmax answer, date)."
    import os
    repo = root / f"ch05-{student}"
    (repo / NAME).mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    for answer, when in commits:
        nb = nbformat.from_dict(json.loads(json.dumps(source)))
        for cell in nb.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if gid == "softmax":
                cell.source = answer
            elif gid == "nll":
                cell.source = "def nll(x, y):\n    return -softmax(x)[range(len(y)), y].log().mean()"
        nbformat.write(nb, repo / NAME / f"{NAME}.ipynb")
        env = {**os.environ, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when, "GIT_AUTHOR_NAME": student,
               "GIT_AUTHOR_EMAIL": "s@example.org", "GIT_COMMITTER_NAME": student, "GIT_COMMITTER_EMAIL": "s@example.org"}
        subprocess.run(["git", "add", "-A"], cwd=repo, check=True, env=env)
        subprocess.run(["git", "commit", "-q", "-m", "work"], cwd=repo, check=True, env=env)
    return repo


def test_the_workflow_steps_grade_a_class_in_shards(tmp_path, monkeypatch, capsys):
    from autograders import checks
    monkeypatch.syspath_prepend(str(UNITS))
    monkeypatch.setenv("PYTHONPATH", str(UNITS))      # the grading workers import the unit too
    checks._registered.cache_clear()
    try:
        released_dir = tmp_path / "released"
        assert main(["release", NAME, "--no-student-checks", "--course", str(released_dir)]) == 0
        released = nbformat.read(released_dir / "release" / NAME / f"{NAME}.ipynb", as_version=4)
        right = "def softmax(x):\n    return x.exp() / x.exp().sum(-1, keepdim=True)"
        wrong = "def softmax(x):\n    return x.exp() / x.exp().sum()"
        remotes = tmp_path / "remotes"
        alice = _student_repo(remotes, "alice", [(right, "2026-11-30T10:00:00Z"), (wrong, "2026-12-02T10:00:00Z")], released)
        bob = _student_repo(remotes, "bob", [(wrong, "2026-11-30T11:00:00Z")], released)
        repos = tmp_path / "repos.txt"
        repos.write_text(f"alice {alice}\nbob {bob}\n")
        shards = []
        for k in (1, 2):          # the grade job, once per shard
            course = tmp_path / f"course-shard-{k}"
            assert main(["release", NAME, "--no-student-checks", "--course", str(course)]) == 0
            assert main(["collect", "--from-git", str(repos), "--deadline", "2026-12-01T00:00:00Z",
                         "--shard", f"{k}/2", "--course", str(course)]) == 0
            assert main(["autograde", "--jobs", "1", "--course", str(course)]) == 0
            shards.append(course)
        final = tmp_path / "course"           # the merge job
        assert main(["release", NAME, "--no-student-checks", "--course", str(final)]) == 0
        assert main(["ci", "merge", *map(str, shards), "--course", str(final)]) == 0
        assert main(["export", "--course", str(final)]) == 0
    finally:
        checks._registered.cache_clear()
        for mod in ("ch05_softmax", "ch05_softmax.checks"):
            sys.modules.pop(mod, None)
    rows = {r["student"]: r for r in csv.DictReader((final / "exports" / "summary.csv").open())}
    assert set(rows) == {"alice", "bob"}
    assert float(rows["alice"]["softmax"]) == 1.0 and float(rows["bob"]["softmax"]) == 0.0   # alice's on-time commit
    record = json.loads((final / "collect_git.json").read_text())
    assert record["alice"]["committed_at"].startswith("2026-11-30T10:00:00")
    assert (final / "submitted" / "bob" / NAME / f"{NAME}.ipynb").exists()
