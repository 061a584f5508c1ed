"""`ch4grade export [NAME]`: grades.csv, summary.csv and Gradescope results.json from the gradebook."""
from __future__ import annotations

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
    return 0
