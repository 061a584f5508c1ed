"""`ch4grade ci init DIR`: an assignment template repository whose CI runs the public checks on every push.

Exit codes: 0 written; 2 a problem you can fix (unknown assignment, a non-empty folder, a release that
failed its leak check).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..ci.init import PROVIDERS, ci_init, grading_init
from ..ci.merge import merge_shards
from ..workflow.commands._common import add_course_argument, friendly_errors, open_course


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    init = sub.add_parser("init", help="write an assignment template repository (students' repositories are made from it)",
                          formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    init.add_argument("dir", metavar="DIR", help="the template repository's folder (created; must be empty)")
    init.add_argument("--provider", choices=PROVIDERS, default="github", help="whose CI runs the checks")
    init.add_argument("--assignment", action="append", default=[], metavar="NAME",
                      help="an assignment to put in (repeat for several; default: every assignment)")
    init.add_argument("--force", action="store_true", help="write into a folder that is not empty")
    add_course_argument(init)
    grading = sub.add_parser("grading", help="write the grading workflow into your private copy of ch4grade",
                             formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    grading.add_argument("dir", metavar="DIR", nargs="?", default=".", help="the grading repository")
    grading.add_argument("--provider", choices=PROVIDERS, default="github", help="whose CI grades")
    grading.add_argument("--cron", default="0 3 * * *", help="when the schedule runs it (UTC; GitHub only)")
    grading.add_argument("--shards", type=int, default=1, help="runners the class is split over (GitLab; "
                         "on GitHub set the CH4GRADE_SHARDS variable)")
    grading.add_argument("--force", action="store_true", help="replace an existing workflow file")
    merge = sub.add_parser("merge", help="the course folders of several grading runners into one course",
                           formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    merge.add_argument("shards", nargs="+", type=Path, metavar="SHARD", help="graded course folders")
    add_course_argument(merge)


@friendly_errors
def run(args: argparse.Namespace) -> int:
    if args.action == "grading":
        res = grading_init(args.dir, args.provider, args.cron, args.shards, args.force)
        for path in res.files:
            print(path)
        return 0
    course = open_course(args)
    if args.action == "merge":
        for shard, count in merge_shards(course, args.shards).items():
            print(f"{shard}: {count} submission(s)")
        return 0
    res = ci_init(args.dir, course, args.assignment, args.provider, args.force)
    for path in res.files:
        print(path)
    print(f"\ntemplate repository written to {res.dest}: commit it, push it, and make it a template "
          f"({'Settings → Template repository' if args.provider == 'github' else 'Settings → General → Templates'}).",
          file=sys.stderr)
    return 0
