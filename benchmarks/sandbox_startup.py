"""What the sandbox costs per kernel: start-up of a grading kernel under each backend, side by side.

    uv run python benchmarks/sandbox_startup.py [--repeat N]

For every backend that works on this machine (bwrap, landlock) and the baseline `none` (rlimits only), in one
run and interleaved (so a busy moment hits all alike), it times:
- start: `KernelSession.start()` until the kernel answers (launcher, cgroup, uid, namespaces, ipykernel);
- first cell: `import torch` in the fresh kernel (what every chapter-4 notebook does first);
- shutdown: `KernelSession.shutdown()` until every process is gone and the cgroup removed.
It prints the median of each and the ratio of each backend's start + first cell to the baseline's.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograders.execute.sandbox import choose, problem  # noqa: E402
from autograders.execute.session import KernelSession, Limits  # noqa: E402


def one(backend: str) -> tuple[float, float, float]:
    s = KernelSession(env={"MPLBACKEND": "agg"}, limits=Limits(threads=1), sandbox=choose(backend))
    t0 = time.perf_counter()
    s.start()
    t1 = time.perf_counter()
    run = s.execute("import torch", timeout=120)
    t2 = time.perf_counter()
    assert run.status == "ok", run.error
    s.shutdown()
    return t1 - t0, t2 - t1, time.perf_counter() - t2


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    backends = [b for b in ("bwrap", "landlock") if problem(b) is None] + ["none"]
    skipped = {b: problem(b) for b in ("bwrap", "landlock") if problem(b)}
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; uid {os.geteuid()}; "
          f"repeats {args.repeat}; not available: {skipped or 'none'}")
    one("none")                                              # warm the page cache for everyone
    times = {b: [] for b in backends}
    for _ in range(args.repeat):
        for b in backends:
            times[b].append(one(b))
    med = {b: [statistics.median(t[i] for t in times[b]) for i in range(3)] for b in backends}
    base = med["none"][0] + med["none"][1]
    print(f"{'backend':10s} {'start s':>8s} {'import torch s':>15s} {'shutdown s':>11s} {'start+torch vs none':>20s}")
    for b in backends:
        start, torch_s, down = med[b]
        print(f"{b:10s} {start:8.3f} {torch_s:15.3f} {down:11.3f} {(start + torch_s) / base:19.2f}x")
    for b in backends[:-1]:
        print(f"the {b} sandbox adds {med[b][0] - med['none'][0]:+.3f} s to a kernel's start-up")


if __name__ == "__main__":
    main()
