"""A whole class: `ch4grade grade` (warm workers, cold workers, optionally a Dask LocalCluster) against
`nbgrader autograde`, side by side in one run, on the same identical submissions.

    uv run python benchmarks/batch_vs_nbgrader.py [--assignment ch04_questionnaire] [--sizes 1 20 100]
        [--jobs 2] [--cluster] [--no-nbgrader]

For each class size N (copies of the assignment's source notebook, solutions in place):
- nbgrader 0.9.6: a throwaway course (`grading_overhead.NbgraderCourse`) with N students; `NbGraderAPI.autograde`
  for each student in turn, timed as a whole (nbgrader grades one submission at a time; this process's imports
  not counted); then the `nbgrader autograde NAME --force` command for the whole class, timed as a whole
  command (its Python start and imports counted, as ch4grade's are). The scores are read back from its gradebook.
- ch4grade warm: `ch4grade grade SUBS --jobs J` in a subprocess (the whole command: start-up, data check,
  the warm template, every result file), into a fresh folder.
- ch4grade cold: the same with CH4GRADE_WARM=0 (each submission a worker process that imports the grader,
  and a kernel started when its turn comes: how ch4grade graded before warm workers).
- with --cluster: the same on a 2-worker Dask LocalCluster (`--cluster local:J`; needs ch4grade[dask]).
- ch4grade served (unless --no-served): `ch4grade grade SUBS --jobs J --server SOCKET` on a `ch4grade serve --jobs J`
  started before the first class and left warm from one class to the next (its start is not counted, as
  nbgrader's API calls do not count their process's imports); the command's own start is counted.
Printed per run: wall seconds, seconds per submission, the machine's busy CPU seconds per submission (/proc/stat),
the ratios to nbgrader's API and command, the peak memory of the machine during the run (MemTotal - MemAvailable, sampled every 0.2 s, above what it was before) and the
kernels' own peaks (each result's environment.peak_memory_mb: its cgroup, or its processes' RSS).
Targets (issue 12): one notebook <= 0.7x nbgrader, a class of 20 <= 0.35x.
The data `untar_data` needs must be prepared (`ch4grade data`).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from autograders.batch import meminfo_mb  # noqa: E402
from grading_overhead import NbgraderCourse, load_avg  # noqa: E402


def mem_used_mb() -> float:
    info = meminfo_mb()
    return info["MemTotal"] - info["MemAvailable"]


def busy_cpu_s() -> float:
    "The machine's busy CPU seconds so far, all cores (/proc/stat: user, nice, system, irq, softirq)."
    with open("/proc/stat") as f:
        fields = f.readline().split()
    return sum(int(fields[i]) for i in (1, 2, 3, 6, 7)) / os.sysconf("SC_CLK_TCK")


class PeakMemory:
    """The machine's peak memory use above its level at the start, sampled in a thread; and the CPU seconds
    the machine was busy meanwhile (`cpu`: everything running, the tool's processes and any other load)."""

    def __enter__(self):
        self.cpu0 = busy_cpu_s()
        self.base, self.peak, self.done = mem_used_mb(), 0.0, threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self):
        while not self.done.wait(0.2):
            self.peak = max(self.peak, mem_used_mb() - self.base)

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()
        self.cpu = busy_cpu_s() - self.cpu0


def ch4grade(subs: Path, out: Path, assignment: str, how: list[str], env: dict) -> dict:
    cmd = [sys.executable, "-m", "autograders.cli", "grade", str(subs), "--assignment", assignment,
           "--out", str(out), "--format", "json", "-q", "--check-seed", "1", *how]
    with PeakMemory() as mem:
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **env})
        wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"ch4grade {' '.join(how)} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    results = [json.loads(p.read_text()) for p in sorted(out.glob("*.json")) if not p.name.startswith(".")]
    kernels = [r["environment"].get("peak_memory_mb") or 0 for r in results]
    scores = sorted({r["score"] for r in results})
    return {"wall": wall, "scores": scores, "mem": mem.peak, "cpu": mem.cpu, "kernel_mb": max(kernels, default=0),
            "kernel_mean_mb": sum(kernels) / max(1, len(kernels))}


def nbgrader(base: Path, assignment: str, n: int, cell_timeout: int) -> tuple[dict, dict]:
    """nbgrader on a class of `n`: its API, one autograde call per student (imports not counted), then its
    command, `nbgrader autograde` for the whole class (a whole command, as ch4grade's is)."""
    from autograders.paths import source_notebook
    runs = []
    for how in ("api", "command"):      # each on a course of its own: scores from an empty gradebook
        course = NbgraderCourse(base / f"nbgrader-{n}-{how}", assignment, source_notebook(assignment), cell_timeout,
                                students=n)
        with PeakMemory() as mem:
            t = time.perf_counter()
            if how == "command":
                course.autograde_command()
            for student in course.students if how == "api" else ():
                _, out = course.autograde(student)
                if not out.get("success"):
                    raise SystemExit(f"nbgrader autograde failed:\n{(out.get('error') or out.get('log') or '')[-3000:]}")
            wall = time.perf_counter() - t
        scores = sorted({course.score(student)[0] for student in course.students})
        runs.append({"wall": wall, "scores": scores, "mem": mem.peak, "cpu": mem.cpu, "kernel_mb": None,
                     "kernel_mean_mb": None})
    return runs[0], runs[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="ch04_questionnaire")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 20])
    parser.add_argument("--jobs", type=int, default=2, help="ch4grade --jobs (default 2)")
    parser.add_argument("--cluster", action="store_true", help="also grade on a Dask LocalCluster of --jobs workers")
    parser.add_argument("--no-nbgrader", action="store_true", help="leave nbgrader out (its runs take longest)")
    parser.add_argument("--no-cold", action="store_true", help="leave the cold-worker run out")
    parser.add_argument("--no-served", action="store_true", help="leave the run on `ch4grade serve` out")
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    import nbgrader as nbg
    from autograders.execute.session import Limits
    from autograders.paths import source_notebook

    source = source_notebook(args.assignment)
    base = Path(tempfile.mkdtemp(prefix="ch4grade-batch-bench-"))
    ways = {"ch4grade warm": ([f"--jobs={args.jobs}"], {"CH4GRADE_WARM": "1"})}
    if not args.no_cold:
        ways["ch4grade cold"] = ([f"--jobs={args.jobs}"], {"CH4GRADE_WARM": "0"})
    if args.cluster:
        ways["ch4grade cluster"] = ([f"--cluster=local:{args.jobs}"], {})
    server = None
    if not args.no_served:
        sock = base / "serve" / "s.sock"
        server = subprocess.Popen([sys.executable, "-m", "autograders.cli", "serve", "--socket", str(sock),
                                   f"--jobs={args.jobs}", "--assignment", args.assignment],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        ready = server.stdout.readline()
        if "ready" not in ready:
            server.kill()
            raise SystemExit(f"ch4grade serve did not start: {ready}")
        ways["ch4grade served"] = ([f"--jobs={args.jobs}", "--server", str(sock)], {})
    print(f"{args.assignment}, classes of {', '.join(map(str, args.sizes))}; ch4grade --jobs {args.jobs}; "
          f"cores: {os.cpu_count()}; nbgrader {nbg.__version__}; load at start: {load_avg()}", flush=True)
    rows = []
    try:
        for n in args.sizes:
            subs = base / f"class-{n}"
            subs.mkdir()
            for i in range(n):
                shutil.copy2(source, subs / f"student{i:03d}.ipynb")
            got = {}
            for way, (how, env) in ways.items():
                got[way] = ch4grade(subs, base / f"out-{n}-{way.split()[-1]}", args.assignment, how, env)
                print(f"  {n:>4} x {way:<17} {got[way]['wall']:8.1f} s; load {load_avg()}", flush=True)
            if not args.no_nbgrader:
                got["nbgrader autograde"], got["nbgrader command"] = nbgrader(base, args.assignment, n,
                                                                              int(Limits.cell_timeout))
                for way in ("nbgrader autograde", "nbgrader command"):
                    print(f"  {n:>4} x {way:<17} {got[way]['wall']:8.1f} s; load {load_avg()}", flush=True)
            rows.append((n, got))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=60)
        shutil.rmtree(base, ignore_errors=True)
    print()
    print(f"{'class':>5}  {'tool':<19}{'wall s':>9}{'s/nb':>8}{'CPU s/nb':>10}{'x nbgrader':>12}{'x command':>11}"
          f"{'machine MB':>12}{'kernel MB':>11}  scores")
    for n, got in rows:
        ref = got.get("nbgrader autograde", {}).get("wall")
        cmd = got.get("nbgrader command", {}).get("wall")
        for way, g in got.items():
            ratio = f"{g['wall'] / ref:.2f}" if ref else "—"
            ratio_cmd = f"{g['wall'] / cmd:.2f}" if cmd else "—"
            kernel = "—" if g["kernel_mb"] is None else f"{g['kernel_mb']:.0f}"
            print(f"{n:>5}  {way:<19}{g['wall']:9.1f}{g['wall'] / n:8.2f}{g['cpu'] / n:10.2f}{ratio:>12}{ratio_cmd:>11}"
                  f"{g['mem']:12.0f}{kernel:>11}  {', '.join(f'{s:g}' for s in g['scores'])}")
    print(f"load at end: {load_avg()}")
    print("x nbgrader = wall / the wall of nbgrader's API calls for the same class (its Python start and imports not "
          "counted);\nx command = wall / the wall of the `nbgrader autograde` command for the whole class (counted, as "
          "ch4grade's are);\nCPU s/nb = the machine's busy CPU seconds (all cores) during the run, per notebook;\nmachine MB = peak memory in use above the level before the run; kernel MB = the largest "
          "kernel's own peak.\nch4grade's wall is the whole command.")


if __name__ == "__main__":
    main()
