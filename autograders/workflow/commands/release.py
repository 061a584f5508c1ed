"""`ch4grade release [NAME]`: generate the student version of one or all assignments."""
from __future__ import annotations

import sys

from ..release import release
from ._common import add_course_argument, friendly_errors, open_course


def add_arguments(parser) -> None:
    parser.add_argument("name", nargs="?", help="the assignment (default: all in assignments/)")
    add_course_argument(parser)


@friendly_errors
def run(args) -> int:
    course = open_course(args)
    results = release(course, args.name)
    for r in results:
        if r.ok:
            print(f"released {r.assignment:24s} -> {r.path}")
        else:
            print(f"FAILED   {r.assignment:24s} {r.error}", file=sys.stderr)
            for leak in r.leaks[:5]:
                print(f"         leaked: {leak[:100]}", file=sys.stderr)
    print(f"gradebook: {course.db_path}")
    return 0 if all(r.ok for r in results) else 1
