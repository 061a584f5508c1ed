"""`ch4grade release [NAME]`: generate the student version of one or all assignments."""
from __future__ import annotations

import sys

from ..release import release
from ._common import add_course_argument, friendly_errors, open_course


def add_arguments(parser) -> None:
    parser.add_argument("name", nargs="?", help="the assignment (default: all in assignments/)")
    parser.add_argument("--no-student-checks", action="store_true",
                        help="release the notebook only (its check cells then need ch4grade installed)")
    add_course_argument(parser)


@friendly_errors
def run(args) -> int:
    course = open_course(args)
    results = release(course, args.name, student_checks=not args.no_student_checks)
    for r in results:
        if r.ok:
            print(f"released {r.assignment:24s} -> {r.path.parent}/" + (f"  ({r.note})" if r.note else ""))
        else:
            print(f"FAILED   {r.assignment:24s} {r.error}", file=sys.stderr)
            for leak in r.leaks[:5]:
                print(f"         leaked: {leak[:100]}", file=sys.stderr)
    print(f"gradebook: {course.db_path}")
    return 0 if all(r.ok for r in results) else 1
