"""Grade one notebook in a process of its own (the batch runs one per submission):

    python -m autograders.worker NOTEBOOK OUT.json [--assignment NAME] [--config JSON]

It dies with its parent (SIGTERM via PR_SET_PDEATHSIG), shutting its kernel down on the way, and
writes its result atomically, so a batch killed midway leaves whole results or none.
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


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("notebook")
    p.add_argument("out")
    p.add_argument("--assignment")
    p.add_argument("--student")
    p.add_argument("--config")
    args = p.parse_args(argv)
    try:
        libc = ctypes.CDLL(None)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1)
    except (OSError, AttributeError):
        pass
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        result = grade_notebook(args.notebook, args.assignment, config_from_json(args.config), student=args.student)
    finally:
        kill_descendants()
    result.save(args.out)  # after every process the submission started is gone
    return 0


if __name__ == "__main__":
    sys.exit(main())
