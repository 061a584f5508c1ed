"""`ch4grade export [NAME]`: grades.csv, summary.csv, Gradescope results.json, canvas.csv and moodle.csv."""
from __future__ import annotations

import sys

from ..export import export
from ._common import add_course_argument, friendly_errors, open_course


def add_arguments(parser) -> None:
    parser.add_argument("name", nargs="?", help="the assignment (default: all)")
    add_course_argument(parser)
    parser.add_argument("--out", help="output folder (default: <course>/exports)")


@friendly_errors
def run(args) -> int:
    course = open_course(args, create=False)
    res = export(course, args.name, args.out)
    print(f"grades:     {res.grades_csv} ({res.rows} rows)")
    print(f"summary:    {res.summary_csv}")
    print(f"gradescope: {len(res.gradescope)} results.json under {res.gradescope[0].parents[2] if res.gradescope else '-'}")
    print(f"canvas:     {res.canvas_csv}")
    print(f"moodle:     {res.moodle_csv}")
    if res.pending:
        print(f"warning: {res.pending} submission(s) still have written answers to grade by hand; the LMS files "
              f"hold partial totals (graded so far): grade them, then export again", file=sys.stderr)
    return 0
