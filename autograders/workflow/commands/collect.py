"""`ch4grade collect SOURCE`: a folder or zip of submissions into submitted/<student>/<assignment>/."""
from __future__ import annotations

from ..collect import collect
from ..safezip import MiB, ZipLimits
from ._common import add_course_argument, friendly_errors, open_course


def add_arguments(parser) -> None:
    parser.add_argument("source", help="a folder, a .zip archive or one .ipynb of submissions")
    add_course_argument(parser)
    parser.add_argument("--max-total-mib", type=float, default=1024,
                        help="cap on everything read from a zip, uncompressed (default 1024)")
    parser.add_argument("--max-notebook-mib", type=float, default=64, help="cap on one notebook (default 64)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when any file was rejected")


@friendly_errors
def run(args) -> int:
    course = open_course(args)
    limits = ZipLimits(max_total=int(args.max_total_mib * MiB), max_member=int(args.max_notebook_mib * MiB))
    summary = collect(course, args.source, limits)
    print("\n".join(summary.lines()))
    print(f"summary: {course.root / 'collect_summary.json'}")
    return 1 if (args.strict and not summary.ok) else 0
