"""Grade one notebook in a process of its own (the batch runs one per submission):

    python -m autograders.worker NOTEBOOK --result-fd FD [--gate-fds GO,READY] [--assignment NAME] [--config JSON]

The result goes back to the batch over the pipe `FD` (JSON, then EOF), never through a file: nothing a
kernel could reach decides what the batch records. The fd is not inherited by the kernel. The worker
dies with its parent (SIGTERM via PR_SET_PDEATHSIG), shutting its kernel down on the way, and as a child
subreaper kills every process its kernel left behind before it answers.

With `--gate-fds`, the worker starts its kernel, writes one byte to READY, and runs the first cell only
after the batch writes one byte to GO (the batch prestarts the next submission's kernel while the current
one runs, and holds it there until a slot is free); if the batch closes GO instead, the worker exits.
"""
from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import signal
import sys

from .engine import GradeConfig, grade_notebook
from .execute import processes
from .execute.session import Limits

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


def kill_descendants() -> None:
    """Kill every process left below this worker. As a child subreaper the worker inherits the kernel's
    orphans, even those that cleared their environment (no kernel token) and started a new session."""
    processes.kill_until_gone(lambda: processes.descendants(os.getpid()))


def config_from_json(text: str | None) -> GradeConfig:
    d = json.loads(text) if text else {}
    limits = Limits(**d.pop("limits", {}))
    return GradeConfig(limits=limits, **d)


def cpu_seconds() -> float:
    """The CPU time this worker used (imports, messages, checks' own work): a warm worker's counts from its
    fork, a cold one's includes importing the grader. Its kernel's is `timings.cpu_s.kernel` (the engine's)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    return round(own.ru_utime + own.ru_stime, 3)


def answer(fd: int, text: str) -> None:
    "Write the whole result to the batch's pipe and close it."
    data = text.encode("utf-8")
    with os.fdopen(fd, "wb", closefd=True) as f:
        f.write(data)


def gate(go_fd: int, ready_fd: int):
    "`grade_notebook`'s `ready`: say the kernel is ready, then wait for the batch's go (exit if it is gone)."
    def ready() -> None:
        os.write(ready_fd, b"r")
        os.close(ready_fd)
        go = os.read(go_fd, 1)
        os.close(go_fd)
        if go != b"g":
            raise SystemExit(143)
    return ready


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("notebook")
    p.add_argument("--result-fd", type=int, required=True)
    p.add_argument("--assignment")
    p.add_argument("--student")
    p.add_argument("--config")
    p.add_argument("--gate-fds")
    args = p.parse_args(argv)
    fds = [args.result_fd, *(int(f) for f in args.gate_fds.split(","))] if args.gate_fds else [args.result_fd]
    for fd in fds:
        os.set_inheritable(fd, False)       # the kernel never gets them
    ready = gate(fds[1], fds[2]) if args.gate_fds else None
    try:
        libc = ctypes.CDLL(None)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1)
    except (OSError, AttributeError):
        pass
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    # a terminal's Ctrl-C reaches us too: the batch decides (it kills us and records nothing). A handler,
    # not SIG_IGN, so that the kernel we exec does not inherit an ignored SIGINT.
    signal.signal(signal.SIGINT, lambda *_: None)
    try:
        result = grade_notebook(args.notebook, args.assignment, config_from_json(args.config), student=args.student,
                                ready=ready)
    finally:
        kill_descendants()
    result.timings.setdefault("cpu_s", {})["grader"] = cpu_seconds()
    answer(args.result_fd, json.dumps(result.to_dict()))   # after every process the submission started is gone
    return 0


if __name__ == "__main__":
    sys.exit(main())
