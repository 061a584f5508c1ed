"""Grade one notebook in a process of its own (the batch runs one per submission):

    python -m autograders.worker NOTEBOOK --result-fd FD [--assignment NAME] [--config JSON]

The result goes back to the batch over the pipe `FD` (JSON, then EOF), never through a file: nothing a
kernel could reach decides what the batch records. The fd is not inherited by the kernel. The worker
dies with its parent (SIGTERM via PR_SET_PDEATHSIG), shutting its kernel down on the way, and as a child
subreaper kills every process its kernel left behind before it answers.
"""
from __future__ import annotations

import argparse
import ctypes
import json
import os
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


def answer(fd: int, text: str) -> None:
    "Write the whole result to the batch's pipe and close it."
    data = text.encode("utf-8")
    with os.fdopen(fd, "wb", closefd=True) as f:
        f.write(data)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("notebook")
    p.add_argument("--result-fd", type=int, required=True)
    p.add_argument("--assignment")
    p.add_argument("--student")
    p.add_argument("--config")
    args = p.parse_args(argv)
    os.set_inheritable(args.result_fd, False)       # the kernel never gets it
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
        result = grade_notebook(args.notebook, args.assignment, config_from_json(args.config), student=args.student)
    finally:
        kill_descendants()
    answer(args.result_fd, json.dumps(result.to_dict()))   # after every process the submission started is gone
    return 0


if __name__ == "__main__":
    sys.exit(main())
