"""Grading on Dask (`--cluster`): the same results as local grading, written by the grading process alone;
clear exit-2 errors for a bad value or an absent scheduler."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import tiny_assignment as tiny
from autograders.cluster import ClusterError, parse
from autograders.execute.sandbox import choose
from autograders.execute.template import why_not as template_why_not

TESTS = Path(__file__).resolve().parent


def ch4grade(env, *args):
    return subprocess.run([sys.executable, "-m", "autograders.cli", *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=600)


def _digest(out: Path) -> dict:
    "What a grading decided, per submission: status, score, every item's score and status."
    digest = {}
    for p in sorted(out.glob("*.json")):
        if p.name.endswith(".gradescope.json") or p.name.startswith("."):
            continue
        r = json.loads(p.read_text())
        digest[p.stem] = (r["status"], r["score"], [(i["id"], i["score"], i["status"]) for i in r["items"]])
    return digest


def test_a_local_dask_cluster_grades_exactly_as_local_workers_do(tmp_path):
    pytest.importorskip("distributed")
    subs = tmp_path / "subs"
    tiny.notebook(subs, name="alice.ipynb")
    tiny.notebook(subs, {"dist": "def mnist_distance(a, b): return ((a - b)**2).mean((-1, -2))"}, name="bob.ipynb")
    (subs / "carol.ipynb").write_text('{"cells": [')
    env = {**os.environ, "CH4GRADE_EXTRA_CHECKS": "tiny_assignment",
           "CH4GRADE_TINY_SOURCE": str(tiny.write_source(tmp_path)),
           "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    common = ["grade", subs, "--assignment", "tiny", "--check-seed", "7", "-q", "--format", "json"]
    local = ch4grade(env, *common, "--out", tmp_path / "local", "--jobs", "2")
    dask = ch4grade(env, *common, "--out", tmp_path / "dask", "--cluster", "local:2")
    assert local.returncode == 0, local.stderr
    assert dask.returncode == 0, dask.stderr
    got, want = _digest(tmp_path / "dask"), _digest(tmp_path / "local")
    assert got == want and set(got) == {"alice", "bob", "carol"}
    assert got["alice"][:2] == ("graded", 5) and got["bob"][1] == 2 and got["carol"][0] == "error"
    for name in ("alice", "bob"):           # graded by Dask workers, not by this machine's own worker processes
        cluster = json.loads((tmp_path / "dask" / f"{name}.json").read_text())["environment"]
        assert cluster["dask_worker"].startswith("tcp://127.0.0.1:"), cluster
        assert "dask_worker" not in json.loads((tmp_path / "local" / f"{name}.json").read_text())["environment"]
        assert cluster["worker"]["warm_template"], cluster["worker"]   # forked from its Dask worker's template
        if template_why_not(choose("auto"), cuda=False) is None:       # ... and its kernel from a kernel template
            assert "kernel template" in cluster["isolation"]["enforced"]["process"], cluster["isolation"]
    # the grading process wrote the results and vouches for them: a rerun on the cluster grades nothing
    index = json.loads((tmp_path / "dask" / ".ch4grade-index.json").read_text())
    assert len(index) == 3
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "dask").glob("*.json")}
    again = ch4grade(env, *common, "--out", tmp_path / "dask", "--cluster", "local:1")
    assert again.returncode == 0, again.stderr
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "dask").glob("*.json")} == before


@pytest.mark.parametrize("spec, why", [("locl", "want local[:N]"), ("local:0", "N ≥ 1"),
                                       ("tcp://127.0.0.1:9", "the Dask cluster cannot be used")])
def test_a_cluster_that_cannot_be_used_is_one_line_and_exit_2(tmp_path, spec, why):
    pytest.importorskip("distributed")
    nb = tiny.notebook(tmp_path, name="a.ipynb")
    proc = ch4grade(os.environ, "grade", nb, "--out", tmp_path / "out", "--cluster", spec, "-q")
    assert proc.returncode == 2 and why in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert not list((tmp_path / "out").glob("*.json"))          # nothing graded (the folder may exist)


def test_parse():
    assert parse("local") == ("local", 2) and parse("local:3") == ("local", 3)
    assert parse("tcp://10.0.0.1:8786") == ("remote", "tcp://10.0.0.1:8786")
    with pytest.raises(ClusterError):
        parse("10.0.0.1:8786")


def test_a_dask_workers_template_serves_one_batch_and_is_started_again_when_needed(monkeypatch):
    import threading

    from autograders import cluster
    from autograders.batch import cold_start

    class Pool:
        def __init__(self):
            self.gone = threading.Event()

        def start(self):
            pass

    class Kernels:                       # the batch's kernel template
        def __init__(self):
            self.up = True

        def alive(self):
            return self.up

    opened = []

    def open_pool(config=None, names=(), ok=True):
        opened.append((Pool() if ok else None, Kernels() if ok and names else None, threading.Event()))
        return opened[-1]
    monkeypatch.setattr(cluster, "_open_pool", open_pool)
    monkeypatch.delenv("CH4GRADE_WARM", raising=False)
    t = cluster.WorkerTemplates()
    start = lambda batch, names=("tiny",): t.start_for(batch, None, names)[0]
    first = start("batch-1")
    assert first == opened[0][0].start and start("batch-1") == first and len(opened) == 1
    assert t.start_for("batch-1")[1] is opened[0][1]       # its kernel template too, while it is up
    opened[0][1].up = False
    assert t.start_for("batch-1") == (first, None)         # gone: kernels are started as before
    second = start("batch-2")                             # another batch: a fresh template, the old one retired
    assert second == opened[1][0].start and opened[0][2].is_set() and not opened[1][2].is_set()
    assert t.start_for("batch-2")[1] is opened[1][1]
    opened[1][0].gone.set()                               # killed: started again for the next task
    assert start("batch-2") == opened[2][0].start and len(opened) == 3
    monkeypatch.setattr(cluster, "_open_pool", lambda config, names: open_pool(ok=False))
    opened[2][0].gone.set()
    assert t.start_for("batch-2") == (cold_start, None) and len(opened) == 4    # could not start: cold ...
    assert start("batch-2") is cold_start and len(opened) == 4    # ... and not tried again at once
    t.failed_at -= cluster.TEMPLATE_RETRY_S + 1
    assert start("batch-2") is cold_start and len(opened) == 5    # tried again later
    monkeypatch.setattr(cluster, "_open_pool", open_pool)
    t.failed_at = None
    for n in range(3, 8):                                 # new batches are not losses: no limit on them
        assert start(f"batch-{n}") == opened[-1][0].start and len(opened) == n + 3
    t.lost = cluster.MAX_LOST - 1
    opened[-1][0].gone.set()
    assert start("batch-7") is cold_start and len(opened) == 10   # too many lost: cold from now on
    monkeypatch.setenv("CH4GRADE_WARM", "0")
    assert cluster.WorkerTemplates().start_for("batch-9", None, ("tiny",)) == (cold_start, None)
    assert len(opened) == 10
