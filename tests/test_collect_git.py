"""`collect --from-git`: students' repositories (real git repositories made here) at their last commit before
the deadline, into the course's submissions with the commit's time; bad repositories reported, never fatal."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograders.ci.git_collect import collect_from_git, read_repos
from autograders.workflow.course import Course, WorkflowError

UNITS = Path(__file__).resolve().parent / "example_units"
NAME = "ch05_softmax"


@pytest.fixture
def course(tmp_path, monkeypatch):
    from autograders import checks
    monkeypatch.syspath_prepend(str(UNITS))
    checks._registered.cache_clear()
    yield Course.open(tmp_path / "course", create=True)
    checks._registered.cache_clear()
    for mod in ("ch05_softmax", "ch05_softmax.checks"):
        sys.modules.pop(mod, None)


def _commit(repo: Path, answer: str, when: str) -> str:
    "Commit a notebook whose answer cell holds `answer`, dated `when` (author and committer)."
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(answer)])
    nb.metadata["ch4grade"] = {"assignment": NAME}
    (repo / NAME).mkdir(exist_ok=True)
    nbformat.write(nb, repo / NAME / f"{NAME}.ipynb")
    env = {**os.environ, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when, "GIT_AUTHOR_NAME": "s",
           "GIT_AUTHOR_EMAIL": "s@example.org", "GIT_COMMITTER_NAME": "s", "GIT_COMMITTER_EMAIL": "s@example.org"}
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True, env=env)
    subprocess.run(["git", "commit", "-q", "-m", answer], cwd=repo, check=True, env=env)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, check=True, env=env, capture_output=True,
                          text=True).stdout.strip()


def _repo(tmp_path: Path, name: str) -> Path:
    repo = tmp_path / "remotes" / name
    repo.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    return repo


def test_the_last_commit_before_the_deadline_is_collected_with_its_time(course, tmp_path):
    alice = _repo(tmp_path, "ch05-alice")
    on_time = _commit(alice, "alice_v1 = 1", "2026-11-30T10:00:00+00:00")
    _commit(alice, "alice_v2_late = 2", "2026-12-02T10:00:00+00:00")
    bob = _repo(tmp_path, "ch05-bob")
    _commit(bob, "bob_late = 1", "2026-12-03T10:00:00+00:00")
    repos = tmp_path / "repos.txt"
    repos.write_text(f"# the class\nalice {alice}\n{bob}   # named by its repository\n"
                     f"carol {tmp_path / 'remotes' / 'missing'}\n")
    fetched, summary = collect_from_git(course, repos, "2026-12-01T00:00:00Z", [NAME], progress=False)
    by = {f.student: f for f in fetched}
    assert by["alice"].commit == on_time and by["alice"].committed_at.startswith("2026-11-30T10:00:00")
    assert by["ch05-bob"].commit is None and "no commit before the deadline" in by["ch05-bob"].problem
    assert by["carol"].problem.startswith("could not fetch")
    submitted = course.root / "submitted" / "alice" / NAME
    assert "alice_v1" in (submitted / f"{NAME}.ipynb").read_text()
    assert (submitted / "timestamp.txt").read_text().startswith("2026-11-30 10:00:00")
    assert summary.count("collected") == 1
    record = json.loads((course.root / "collect_git.json").read_text())
    assert record["alice"]["commit"] == on_time and record["alice"]["deadline"].startswith("2026-12-01T00:00:00")
    assert record["alice"]["url"] == str(alice)

    # a new commit before the next deadline: the mirror is fetched again and the newer notebook replaces it
    newer = _commit(alice, "alice_v3 = 3", "2026-12-04T09:00:00+00:00")
    fetched, summary = collect_from_git(course, repos, "2026-12-05T00:00:00+00:00", [NAME], progress=False)
    assert {f.student: f.commit for f in fetched}["alice"] == newer
    assert "alice_v3" in (submitted / f"{NAME}.ipynb").read_text()
    assert {f.student for f in fetched if f.notebooks} == {"alice", "ch05-bob"}
    # shards split the list between runners: every repository in exactly one
    parts = [{f.student for f in collect_from_git(course, repos, None, [NAME], progress=False, shard=f"{k}/2")[0]}
             for k in (1, 2)]
    assert parts == [{"alice", "carol"}, {"ch05-bob"}]


def test_bad_lists_and_deadlines_are_clear_errors(course, tmp_path):
    bad = tmp_path / "repos.txt"
    bad.write_text("alice https://example.org/a.git extra\n")
    with pytest.raises(WorkflowError, match="expected `STUDENT URL`"):
        read_repos(bad)
    bad.write_text("../etc https://example.org/a.git\n")
    with pytest.raises(WorkflowError, match="not a usable student id"):
        read_repos(bad)
    bad.write_text("a https://example.org/a.git\na https://example.org/b.git\n")
    with pytest.raises(WorkflowError, match="appears twice"):
        read_repos(bad)
    bad.write_text("https://example.org/alice.git\n")
    assert read_repos(bad) == [("alice", "https://example.org/alice.git")]
    with pytest.raises(WorkflowError, match="expected K/N"):
        collect_from_git(course, bad, None, [NAME], progress=False, shard="3/2")
    with pytest.raises(WorkflowError, match="no time zone"):
        collect_from_git(course, bad, "2026-12-01T00:00:00", [NAME], progress=False)
