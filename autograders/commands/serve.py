"""`ch4grade serve`: keep a grader warm between batches; `ch4grade grade ... --server` then grades on it.

For submissions that come one at a time (a late one, a grading service, a student's CI run on a shared
runner): each one's grading skips the imports a lone `ch4grade grade` pays for (`autograders/server.py`).
It stays up until stopped (Ctrl-C or SIGTERM); only its own user may use it.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    from ..server import default_socket
    p.add_argument("--socket", type=Path, default=None,
                   help=f"where it listens (default: {default_socket()}); `grade --server` takes the same")
    p.add_argument("--jobs", "-j", type=int, default=1,
                   help="the --jobs its requests will mostly use (the kernel template is started for it)")
    p.add_argument("--assignment", action="append", default=None, metavar="NAME",
                   help="assignments whose modules the kernel template imports (repeatable; default: every one)")


def run(args: argparse.Namespace) -> int:
    from ..checks import available_assignments
    from ..server import default_socket, serve
    known = available_assignments()
    names = args.assignment or known
    unknown = sorted(set(names) - set(known))
    if unknown:
        print(f"ch4grade serve: unknown assignment(s) {', '.join(unknown)}; known: {', '.join(known)}", file=sys.stderr)
        return 2
    return serve(args.socket or default_socket(), max(1, args.jobs), sorted(names))
