"""`ch4grade autograde [NAME] [--jobs N]`: grade collected submissions into autograded/ and the gradebook."""
from __future__ import annotations

import sys

from ...commands import cluster, device, isolation
from ..autograde import AutogradeInterrupted, autograde
from ._common import add_course_argument, friendly_errors, open_course


def add_arguments(parser) -> None:
    parser.add_argument("name", nargs="?", help="the assignment (default: every collected one)")
    add_course_argument(parser)
    parser.add_argument("--jobs", "-j", type=int, default=1, help="notebooks graded at once")
    parser.add_argument("--student", help="only this student's submissions")
    parser.add_argument("--force", action="store_true", help="grade again even when already graded")
    isolation.add_argument(parser)
    device.add_argument(parser)
    cluster.add_argument(parser)


@friendly_errors
def run(args) -> int:
    if args.jobs < 1:
        print("error: --jobs must be at least 1", file=sys.stderr)
        return 2
    if isolation.resolve(args.isolation, "ch4grade autograde") is None:
        return 2
    ok, on = device.resolve(args.device, "ch4grade autograde", args.cluster)
    if not ok or not cluster.resolve(args.cluster, "ch4grade autograde"):
        return 2
    ok, gpus = device.resolve_gpus(args, "ch4grade autograde")
    if not ok:
        return 2
    course = open_course(args, create=False)
    try:
        summary = autograde(course, args.name, jobs=args.jobs, force=args.force, student=args.student,
                            isolation=args.isolation, device=on, cluster=args.cluster, gpus=gpus,
                            kernels_per_gpu=args.kernels_per_gpu)
    except AutogradeInterrupted as e:           # Ctrl-C: what was graded is recorded; say what is left
        print("\n".join(e.summary.table()))
        print(str(e) + "".join(f"\n  left: {s.student}/{s.assignment}" for s in e.left), file=sys.stderr)
        return 130
    print("\n".join(summary.table()))
    for w in summary.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(f"autograded: {course.root / 'autograded'}   gradebook: {course.db_path}")
    print(f"manual grading: `ch4grade formgrader --course {course.root}`")
    return 0
