"""Grade one notebook in a process of its own (the batch runs one per submission):

    python -m autograders.worker NOTEBOOK OUT.json [--assignment NAME] [--config JSON]

It dies with its parent (SIGTERM via PR_SET_PDEATHSIG), shutting its kernel down on the way, and
writes its result atomically, so a batch killed midway leaves whole results or none.
"""
from __future__ import annotations

import argparse
import ctypes
import json
import signal
import sys

from .engine import GradeConfig, grade_notebook
from .execute.session import Limits

PR_SET_PDEATHSIG = 1


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
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    result = grade_notebook(args.notebook, args.assignment, config_from_json(args.config), student=args.student)
    result.save(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
