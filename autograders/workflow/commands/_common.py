"""Arguments and error handling shared by the workflow commands."""
from __future__ import annotations

import argparse
import functools
import sys

from ...cluster import ClusterError
from ..course import DEFAULT_COURSE_DIR, Course, WorkflowError


def add_course_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--course", default=DEFAULT_COURSE_DIR, metavar="DIR",
                        help="the course folder")
    parser.add_argument("--source-dir", "--assignments", dest="source_dir", default=None, metavar="DIR",
                        help="where the assignment source notebooks live (default: the installed assignment units)")
    # `--assignments DIR` is the deprecated spelling of --source-dir; it is kept out of the help.
    parser._option_string_actions["--assignments"].option_strings.remove("--assignments")


def open_course(args, create: bool = True) -> Course:
    return Course.open(args.course, getattr(args, "source_dir", None), create=create)


def friendly_errors(run):
    "Print a WorkflowError (or a cluster that cannot be used) as one line on stderr and exit 2, not a traceback."
    @functools.wraps(run)
    def wrapper(args) -> int:
        try:
            return run(args)
        except (WorkflowError, ClusterError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    return wrapper
