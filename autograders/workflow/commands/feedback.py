"""`ch4grade feedback [NAME]`: HTML feedback per student and assignment (hidden checks never revealed)."""
from __future__ import annotations

from ..feedback import generate_feedback
from ._common import add_course_argument, friendly_errors, open_course


def add_arguments(parser) -> None:
    parser.add_argument("name", nargs="?", help="the assignment (default: all)")
    add_course_argument(parser)
    parser.add_argument("--student", help="only this student")


@friendly_errors
def run(args) -> int:
    course = open_course(args, create=False)
    pages = generate_feedback(course, args.name, args.student)
    for p in pages:
        print(f"{p.student:16s} {p.assignment:24s} {p.path}")
    return 0
