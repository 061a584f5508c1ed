"""`ch4grade report [NAME]`: the class report (HTML, score histogram, per-question difficulty)."""
from __future__ import annotations

from ..htmlkit import num
from ..report import write_report
from ._common import add_course_argument, friendly_errors, open_course


def add_arguments(parser) -> None:
    parser.add_argument("name", nargs="?", help="the assignment (default: all)")
    add_course_argument(parser)
    parser.add_argument("--out", help="output folder (default: <course>/reports)")
    parser.add_argument("--top", type=int, default=10, help="how many most-failed items to list")


@friendly_errors
def run(args) -> int:
    course = open_course(args, create=False)
    rep = write_report(course, args.name, args.out, args.top)
    for a in rep.stats.values():
        d = a.describe()
        print(f"{a.name:24s} n={d['n']:<3d} mean={num(d['mean'])} median={num(d['median'])} / {num(d['max_score'])}")
    print(f"report: {rep.html}")
    for f in rep.figures:
        print(f"figure: {f}")
    return 0
