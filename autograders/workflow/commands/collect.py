"""`ch4grade collect SOURCE`: a folder or zip of submissions into submitted/<student>/<assignment>/;
`ch4grade collect --from-git REPOS.txt [--deadline ISO8601]`: students' repositories at their last commit
before the deadline (autograders/ci/git_collect.py)."""
from __future__ import annotations

from ..collect import collect
from ..safezip import MiB, ZipLimits
from ..course import WorkflowError
from ._common import add_course_argument, friendly_errors, open_course


def add_arguments(parser) -> None:
    parser.add_argument("source", nargs="?", help="a folder, a .zip archive or one .ipynb of submissions")
    parser.add_argument("--from-git", metavar="REPOS.txt", help="collect from students' git repositories "
                        "(one `STUDENT URL` or `URL` per line) instead of SOURCE")
    parser.add_argument("--deadline", metavar="ISO8601", help="with --from-git: the last commit at or before this "
                        "time (with a time zone) is collected (default: the newest)")
    parser.add_argument("--shard", metavar="K/N", help="with --from-git: only every N-th repository from the K-th")
    parser.add_argument("--assignment", action="append", metavar="NAME",
                        help="with --from-git: the assignments to look for (default: every released one)")
    add_course_argument(parser)
    parser.add_argument("--max-total-mib", type=float, default=1024,
                        help="cap on everything read from a zip, uncompressed")
    parser.add_argument("--max-notebook-mib", type=float, default=64, help="cap on one notebook")
    parser.add_argument("--strict", action="store_true", help="exit 1 when any file was rejected")


@friendly_errors
def run(args) -> int:
    course = open_course(args)
    if bool(args.source) == bool(args.from_git):
        raise WorkflowError("give either SOURCE or --from-git REPOS.txt")
    if args.from_git:
        return _from_git(course, args)
    limits = ZipLimits(max_total=int(args.max_total_mib * MiB), max_member=int(args.max_notebook_mib * MiB))
    summary = collect(course, args.source, limits)
    print("\n".join(summary.lines()))
    print(f"summary: {course.root / 'collect_summary.json'}")
    return 1 if (args.strict and not summary.ok) else 0


def _from_git(course, args) -> int:
    from ...ci.git_collect import collect_from_git

    fetched, summary = collect_from_git(course, args.from_git, args.deadline, args.assignment, shard=args.shard)
    for f in fetched:
        what = f"{f.commit[:12]} {f.committed_at}" if f.commit else "-"
        print(f"{f.student:20s} {what:40s} {', '.join(f.notebooks or []) or f.problem}")
    if summary is not None:
        print("\n".join(summary.lines()))
    print(f"commits: {course.root / 'collect_git.json'}")
    problems = [f for f in fetched if f.problem]
    return 1 if (args.strict and (problems or (summary is not None and not summary.ok))) else 0
