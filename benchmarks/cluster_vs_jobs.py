"""Grading a class on a Dask LocalCluster (`--cluster local:N`) against local worker processes (`--jobs N`).

    uv run python benchmarks/cluster_vs_jobs.py [--assignment NAME] [--students 8] [--workers 2] [--repeat 1]

A class of identical submissions (copies of the assignment's source notebook, solutions in place) is graded
by `ch4grade grade` in a subprocess, once each way per repeat, alternating which goes first; each run into a
fresh results folder (nothing resumed). Printed: wall time of the whole command (including starting the
LocalCluster), seconds per submission, the ratio cluster / jobs, and whether both gave the same scores.
The data `untar_data` needs must be prepared (`ch4grade data`); needs the extra `ch4grade[dask]`.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def load_avg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def grade(subs: Path, out: Path, assignment: str, how: list[str]) -> tuple[float, dict]:
    cmd = [sys.executable, "-m", "autograders.cli", "grade", str(subs), "--assignment", assignment,
           "--out", str(out), "--format", "json", "-q", "--check-seed", "1", *how]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(how)} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    scores = {p.stem: json.loads(p.read_text())["score"] for p in out.glob("*.json") if not p.name.startswith(".")}
    return wall, scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="ch04_questionnaire")
    parser.add_argument("--students", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="--jobs N against --cluster local:N")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    from autograders.paths import source_notebook

    source = source_notebook(args.assignment)
    base = Path(tempfile.mkdtemp(prefix="ch4grade-cluster-bench-"))
    subs = base / "subs"
    subs.mkdir()
    for i in range(args.students):
        shutil.copy2(source, subs / f"student{i:03d}.ipynb")
    ways = {"jobs": ["--jobs", str(args.workers)], "cluster": ["--cluster", f"local:{args.workers}"]}
    print(f"{args.students} x {args.assignment}, {args.workers} at a time; cores: {os.cpu_count()}; "
          f"load at start: {load_avg()}")
    rows = []
    try:
        for rep in range(args.repeat):
            order = ("jobs", "cluster") if rep % 2 == 0 else ("cluster", "jobs")
            got = {}
            for way in order:
                got[way] = grade(subs, base / f"out-{way}-{rep}", args.assignment, ways[way])
                print(f"  #{rep + 1} {way:8s} {got[way][0]:7.1f} s; load {load_avg()}", flush=True)
            rows.append(got)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print()
    print(f"{'run':>4}  {'--jobs s':>9} {'per nb':>7}  {'--cluster s':>11} {'per nb':>7}  {'ratio':>6}  same scores")
    for rep, got in enumerate(rows, 1):
        (tj, sj), (tc, sc) = got["jobs"], got["cluster"]
        print(f"{rep:>4}  {tj:9.1f} {tj / args.students:7.2f}  {tc:11.1f} {tc / args.students:7.2f}  "
              f"{tc / tj:6.2f}  {sj == sc}")
    print(f"load at end: {load_avg()}")
    print("ratio = --cluster local:N wall / --jobs N wall (the cluster's start-up included)")


if __name__ == "__main__":
    main()
