"""`ch4grade grade NOTEBOOK...`: grade notebooks in isolated kernels; results as JSON, Gradescope, JUnit.

Exit codes: 2 when the grader itself failed on some submission (its result file says why); else, under
`--fail-under`, 1 when a submission scored below the bar or could not be graded at all (a submission not
graded is never a pass); else 0. Each such submission gets one line on stderr (even with -q).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..batch import grade_many, write_reports
from ..engine import GradeConfig
from ..execute.session import Limits
from ..cluster import ClusterError
from . import cluster, device, isolation


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("notebooks", nargs="+", type=Path, metavar="NOTEBOOK", help="notebooks (or folders of them)")
    p.add_argument("--assignment", help="assignment name (default: from each notebook's metadata)")
    p.add_argument("--out", type=Path, default=Path("ch4grade-results"), help="results folder")
    p.add_argument("--format", default="json,gradescope,junit",
                   help="comma-separated: json (always written), gradescope, junit")
    p.add_argument("--jobs", "-j", type=int, default=1, help="submissions graded at once")
    p.add_argument("--fail-under", type=float, default=None, metavar="PERCENT",
                   help="exit 1 if a submission scores below PERCENT of its autograded points")
    p.add_argument("--no-resume", action="store_true", help="grade again even where a result exists")
    p.add_argument("--cell-timeout", type=float, default=Limits.cell_timeout, help="seconds per cell")
    p.add_argument("--budget", type=float, default=Limits.budget, help="seconds for all cells of a notebook")
    p.add_argument("--mem-mb", type=int, default=Limits.mem_mb, help="memory cap of a kernel (MB)")
    p.add_argument("--fastai-home", help="prepared data for untar_data (default: $FASTAI_HOME or ~/.fastai)")
    p.add_argument("--no-hidden", action="store_true", help="run public checks only")
    p.add_argument("--seed", type=int, default=42, help="the kernel's random seed (the student's own training)")
    p.add_argument("--check-seed", type=int, default=None, metavar="N",
                   help="the seed the checks draw their inputs from (default: fresh per grading, recorded in each "
                        "result as environment.check_seed; pass it back to reproduce a grading exactly)")
    isolation.add_argument(p)
    device.add_argument(p)
    cluster.add_argument(p)
    p.add_argument("--server", nargs="?", const="", default=None, metavar="SOCKET",
                   help="grade on a running `ch4grade serve` (warm between batches: fastest for one notebook "
                        "at a time); SOCKET defaults to the server's default")
    p.add_argument("--quiet", "-q", action="store_true",
                   help="no progress bar and no per-submission lines (failures still go to stderr)")


def collect_notebooks(paths: list[Path]) -> list[Path]:
    found = []
    for p in paths:
        if p.is_dir():
            found += sorted(q for q in p.rglob("*.ipynb") if ".ipynb_checkpoints" not in q.parts)
        else:
            found.append(p)
    return found


def run(args: argparse.Namespace, held=None) -> int:
    """Grade `args.notebooks` (this command). `held`: the warm grader of the `ch4grade serve` that runs this
    request (`server.Warm`)."""
    if args.server is not None and held is None:
        from .. import server
        return server.ask(args)
    notebooks = collect_notebooks(args.notebooks)
    missing = [p for p in notebooks if not p.exists()]
    if missing:
        print(f"ch4grade grade: no such file: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    if not notebooks:
        print("ch4grade grade: no notebooks found", file=sys.stderr)
        return 2
    formats = tuple(f.strip() for f in args.format.split(",") if f.strip())
    unknown = set(formats) - {"json", "gradescope", "junit"}
    if unknown:
        print(f"ch4grade grade: unknown format(s) {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    settings = config_of(args)
    if settings is None:
        return 2
    config, gpus = settings
    _prepare_data(args, notebooks)
    try:
        pairs = grade_many(notebooks, args.out, args.assignment, config, jobs=args.jobs,
                           resume=not args.no_resume, progress=not args.quiet, cluster=args.cluster,
                           gpus=gpus, kernels_per_gpu=args.kernels_per_gpu, held=held)
    except ClusterError as e:
        print(f"ch4grade grade: {e}", file=sys.stderr)
        return 2
    write_reports(pairs, args.out, formats)
    if not args.quiet:
        for path, r in pairs:
            status = f"ERROR: {r.error}" if r.error else f"{r.score:g}/{r.auto_max_score:g}"
            print(f"{Path(r.submission).name}: {r.assignment}: {status} -> {path}")
    code, lines = verdict([r for _, r in pairs], args.fail_under)
    for line in lines:
        print(line, file=sys.stderr)
    return code


def config_of(args: argparse.Namespace) -> tuple[GradeConfig, list[str] | None] | None:
    "(the grading settings, the GPUs) that `args` ask for; None (after one line on stderr) when they cannot be had."
    if isolation.resolve(args.isolation, "ch4grade grade") is None:
        return None
    ok, on = device.resolve(args.device, "ch4grade grade", args.cluster)
    if not ok or not cluster.resolve(args.cluster, "ch4grade grade"):
        return None
    ok, gpus = device.resolve_gpus(args, "ch4grade grade")
    if not ok:
        return None
    limits = Limits(cell_timeout=args.cell_timeout, budget=args.budget, mem_mb=args.mem_mb)
    return GradeConfig(limits=limits, seed=args.seed, check_seed=args.check_seed, fastai_home=args.fastai_home,
                       device=on, run_hidden=not args.no_hidden, isolation=args.isolation), gpus


def verdict(results, fail_under: float | None) -> tuple[int, list[str]]:
    "The exit code, and one line per submission that was not graded or scored below `fail_under` percent."
    code, lines = 0, []
    for r in results:
        name = f"{Path(r.submission).name} ({r.assignment})"
        score = f"{r.score:g}/{r.auto_max_score:g}"
        if r.grader_failure:
            code = 2
            lines.append(f"{name}: {score}: not graded, the grader failed: {r.error}")
        elif r.error or r.status != "graded":
            code = max(code, 1 if fail_under is not None else 0)
            lines.append(f"{name}: {score}: not graded: {r.error or r.status}")
        elif fail_under is not None:
            percent = 100 * r.score / r.auto_max_score if r.auto_max_score else 100.0
            if percent < fail_under:
                code = max(code, 1)
                lines.append(f"{name}: {score} = {percent:.1f}% is below --fail-under {fail_under:g}%")
    return code, lines


def _prepare_data(args, notebooks: list[Path]) -> None:
    from ..checks import available_assignments
    from ..data import prepare_for
    from ..engine import infer_assignment
    from ..notebook import NotebookError, read_notebook
    names = {args.assignment} if args.assignment else set()
    if not names:
        for nb in notebooks:
            try:
                names.add(infer_assignment(read_notebook(nb)))
            except NotebookError:
                continue
    names &= set(available_assignments())
    if names:
        try:
            prepare_for(sorted(names), args.fastai_home, progress=not args.quiet)
        except Exception as e:  # grading goes on; the notebooks' untar_data will report what is missing
            print(f"ch4grade grade: could not prepare the data ({e})", file=sys.stderr)
