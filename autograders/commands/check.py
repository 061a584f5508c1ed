"""`ch4grade check NOTEBOOK`: a student's pre-submission check with the public checks only.

The notebook runs in the same isolated kernel as in grading, so what passes here passes there
(hidden checks aside). Prints per-item feedback. Exit codes: 0 when every public check passes, 1 when any
fails or errors, 2 when the notebook could not be checked at all.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ..engine import GradeConfig, grade_notebook
from ..execute.session import Limits
from . import isolation


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("notebook", type=Path, help="the notebook to check")
    p.add_argument("--assignment", help="the assignment (default: from the notebook's metadata)")
    p.add_argument("--cell-timeout", type=float, default=Limits.cell_timeout, help="seconds per cell")
    isolation.add_argument(p)


def run(args: argparse.Namespace) -> int:
    if not args.notebook.exists():
        print(f"no such notebook: {args.notebook}")
        return 2
    from ..data import prepare_for
    from ..engine import infer_assignment
    from ..notebook import NotebookError, read_notebook
    try:
        name = args.assignment or infer_assignment(read_notebook(args.notebook))
        if name:
            prepare_for([name])
    except NotebookError:
        pass
    if isolation.resolve(args.isolation, "ch4grade check") is None:
        return 2
    config = GradeConfig(limits=Limits(cell_timeout=args.cell_timeout), run_hidden=False, isolation=args.isolation)
    r = grade_notebook(args.notebook, args.assignment, config)
    if r.error:
        print(f"could not check {args.notebook.name}: {r.error}")
        return 2
    print(f"{args.notebook.name} ({r.assignment}), public checks only:\n")
    for item in r.items:
        if item.status == "manual":
            print(f"{item.id}: graded by hand ({item.max_score:g} points)")
            continue
        print(f"{item.id}: {item.score:g}/{item.max_score:g} {item.status}")
        for line in item.feedback.splitlines():
            print(f"    {line}")
    for note in r.notes:
        print(f"note: {note}")
    print(f"\npublic score: {r.score:g}/{r.auto_max_score:g} (hidden checks and prose answers are graded later)")
    failing = failing_items(r)
    if failing:
        print(f"{len(failing)} item(s) with a failing public check: {', '.join(failing)} (exit 1)")
        return 1
    print("every public check passes")
    return 0


def failing_items(result) -> list[str]:
    "The autograded items whose public checks did not all pass (failed, partial, error or not run)."
    return [i.id for i in result.items if i.status not in ("passed", "manual")]
