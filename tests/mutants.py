"""The mutation suite's machinery: answers written differently (`ok`) and plausible student bugs (`bug`), packed
into few notebooks and graded with the real engine.

Each `tests/mutations/<assignment>.py` lists `VARIANTS`, each one edit of ONE answer cell of the instructor's
source notebook:

    ok("is_3", "a comparison written the other way round", replace=("a < b", "b > a"))
    bug("is_3", "compares with > (calls a 7 a 3)", replace=("<", ">"))
    bug("q09", "a whole new cell", source="nine = torch.arange(9)\\n...")

Packing (one kernel per notebook, many variants per notebook, so the suite stays fast): round `j` takes the
`j`-th bug of every item whose bit `j` of its position is 0 (notebook `j.0`) or 1 (notebook `j.1`); rounds
after the third put every item's `j`-th bug in one notebook; every other item gets one of its `ok` variants
(else the model answer). A notebook passes when each bugged item loses
points and every other item keeps full marks: one mistake costs one item. Two items land in different groups
of some round whenever their positions differ in one of the low bits, so a cascade from one item into a
neighbour cannot hide behind the neighbour's own bug in every round.

Run by hand (prints each packed notebook's verdicts):  uv run python tests/mutants.py ch04_sgd [--seed N]
"""
from __future__ import annotations

import importlib.util
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
for _p in (HERE.parent, HERE):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))


SPREAD = 3   # rounds whose bugs are split over two notebooks (see `pack`)


@dataclass(frozen=True)
class Variant:
    item: str
    kind: str                         # "ok" | "bug"
    title: str
    source: str | None = None         # the whole new cell
    replace: tuple[str, str] | None = None   # or: (old, new), `old` exactly once in the model answer

    def apply(self, model: str) -> str:
        if self.source is not None:
            return self.source
        old, new = self.replace
        if model.count(old) != 1:
            raise ValueError(f"{self.item} / {self.title}: {old!r} is not exactly once in the model answer")
        return model.replace(old, new)


def ok(item: str, title: str, source: str | None = None, replace: tuple[str, str] | None = None) -> Variant:
    "A correct answer written differently from the model answer: it must get full marks."
    return Variant(item, "ok", title, source, replace)


def bug(item: str, title: str, source: str | None = None, replace: tuple[str, str] | None = None) -> Variant:
    "A plausible student bug: it must lose points on its own item and cost no other item anything."
    return Variant(item, "bug", title, source, replace)


def load(assignment: str) -> list[Variant]:
    "The `VARIANTS` of tests/mutations/<assignment>.py."
    path = HERE / "mutations" / f"{assignment}.py"
    spec = importlib.util.spec_from_file_location(f"mutations_{assignment}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.VARIANTS)


@dataclass
class Packed:
    "One notebook of the suite: which items carry a bug and which a correct variant."
    name: str
    path: Path
    bugs: dict[str, Variant] = field(default_factory=dict)
    oks: dict[str, Variant] = field(default_factory=dict)


def _nbg(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def pack(assignment: str, variants: list[Variant], dest: Path) -> list[Packed]:
    "The suite's notebooks for `assignment`, written under `dest`."
    from autograders.checks import get_assignment
    from autograders.paths import source_notebook
    spec = get_assignment(assignment)
    src = nbformat.read(str(source_notebook(assignment)), as_version=4)
    items = [i.id for i in spec.auto_items]
    unknown = {v.item for v in variants} - set(items)
    if unknown:
        raise ValueError(f"{assignment}: variants for unknown items {sorted(unknown)}")
    bugs = {i: [v for v in variants if v.item == i and v.kind == "bug"] for i in items}
    oks = {i: [v for v in variants if v.item == i and v.kind == "ok"] for i in items}
    rounds = max([len(b) for b in bugs.values()] + [1])
    bits = max(1, (len(items) - 1).bit_length())
    out = []
    for j in range(rounds):
        # the first SPREAD rounds split the items in two groups by one bit of their position (cascades show);
        # later rounds put every item's extra bug in one notebook (the suite stays fast)
        for group in (0, 1) if j < SPREAD else (0,):
            packed = Packed(f"{assignment}.{j}.{group}", dest / f"{assignment}-{j}-{group}.ipynb")
            for pos, item in enumerate(items):
                in_group = (pos >> (j % bits)) & 1 == group if j < SPREAD else True
                if in_group and len(bugs[item]) > j:
                    packed.bugs[item] = bugs[item][j]
                elif oks[item]:
                    packed.oks[item] = oks[item][(2 * j + group) % len(oks[item])]
            if not packed.bugs and not packed.oks:
                continue
            nb = nbformat.from_dict(src)
            chosen = {**packed.oks, **packed.bugs}
            for cell in nb.cells:
                gid = _nbg(cell).get("grade_id")
                if gid in chosen and _nbg(cell).get("solution"):
                    cell.source = chosen[gid].apply(cell.source)
            dest.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, str(packed.path))
            out.append(packed)
    return out


def verdicts(packed: Packed, result) -> list[str]:
    "What is wrong with `result` for `packed` ([] when every bug lost its item and nothing else lost anything)."
    problems = []
    if result.status != "graded" or result.grader_failure:
        problems.append(f"{packed.name}: not graded cleanly: {result.error}")
    for it in result.items:
        if it.status == "manual":
            continue
        if it.id in packed.bugs:
            if it.score >= it.max_score:
                problems.append(f"{packed.name}: bug NOT caught: {it.id} / {packed.bugs[it.id].title}")
        elif it.score < it.max_score:
            what = f"ok variant '{packed.oks[it.id].title}'" if it.id in packed.oks else "model answer"
            problems.append(f"{packed.name}: {it.id} ({what}) lost points {it.score}/{it.max_score} next to bugs "
                            f"in {sorted(packed.bugs)}:\n    " + it.feedback.replace("\n", "\n    "))
    return problems


def config(assignment: str, seed: int = 1):
    "How the suite grades (one torch thread: it runs beside other tests)."
    from autograders.checks import get_assignment
    from autograders.engine import GradeConfig
    from autograders.execute.session import Limits
    from labtools import fastai_home
    home = fastai_home(tuple(get_assignment(assignment).data) or ("mnist_sample",))
    return GradeConfig(fastai_home=home, device="cpu", limits=Limits(threads=1), check_seed=seed)


def grade(path: Path, assignment: str, seed: int = 1):
    "The engine's result for one packed notebook."
    from autograders.engine import grade_notebook
    return grade_notebook(str(path), assignment, config=config(assignment, seed))


def _stable(items) -> str:
    "Items' results as JSON, without the seconds they took (everything else must reproduce exactly)."
    import dataclasses
    import json
    out = []
    for item in items:
        d = dataclasses.asdict(item)
        d.pop("seconds", None)
        for c in d.get("checks", []):
            c.pop("seconds", None)
        out.append(d)
    return json.dumps(out, sort_keys=True, default=str)


def _rescore_bugs(g, packed: Packed, result, seeds: list[int]) -> dict:
    """{seed: {item: (score, max)}} for each bugged item under each seed, cheaply: a bug is caught under a seed
    as soon as one of its item's checks fails, so the checks that failed under the first seed go first (the
    quickest first) and the others run only if those pass. Items with no failing check under the first seed are not re-scored (the
    first verdict already reports them)."""
    from autograders.namespace import KernelNamespace
    ns = KernelNamespace(g.session, sources=g.plan.answers, figures=g.figures)
    items = {i.id: i for i in result.items}
    out: dict = {seed: {} for seed in seeds}
    for item_id in packed.bugs:
        spec_item, first = g.spec.items[item_id], items[item_id]
        if first.score >= first.max_score or item_id in g.plan.problems:
            continue                     # not caught at all (reported), or caught before any check runs
        # the checks that failed first, the quickest of them first (a training check is the dearest to repeat)
        took = {c.name: (c.status == "passed", c.seconds or 0.0) for c in first.checks}
        checks = sorted(spec_item.checks, key=lambda c: took.get(c.name, (True, 0.0)))
        for seed in seeds:
            score = spec_item.points
            for check in checks:
                ns.deadline = time.monotonic() + check.timeout
                res = g.run_check(check, ns, seed)
                if res.status != "passed":
                    score = 0.0          # caught under this seed: the rest cannot undo it
                    break
            out[seed][item_id] = (score, spec_item.points)
    return out


def graded_under_seeds(packed: Packed, assignment: str, seeds: list[int], twice: bool = True):
    """Execute `packed` once, then score it under each seed (the first: every item, and with `twice` a second
    time, to show the seed reproduces the scoring byte for byte; the others: only the bugged items, since only
    they can be flaky): (result of the first seed, {seed: {item: (score, max)}}, whether the second scoring was
    identical; True when not asked)."""
    from autograders.checks import get_assignment
    from autograders.engine import Grader
    from autograders.execute.sandbox import choose
    from autograders.results import SubmissionResult
    from autograders.notebook import read_notebook
    spec = get_assignment(assignment)
    cfg = config(assignment, seeds[0])
    result = SubmissionResult(submission=str(packed.path), assignment=assignment)
    g = Grader(spec, read_notebook(packed.path), cfg, result, time.monotonic(), Path(spec.source),
               choose(cfg.isolation))
    try:
        stop = g.execute()
        result.items = g.score(stop)
        reproduced = not twice or _stable(result.items) == _stable(g.score(stop, check_seed=seeds[0]))
        result.status = "graded"
        result.grader_failure = bool(g.grader_failures)
        result.error = "; ".join(g.grader_failures) or None
        later = _rescore_bugs(g, packed, result, seeds[1:])
    finally:
        g.close()
    return result, later, reproduced


def main(argv: list[str]) -> int:
    import argparse
    import os
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("assignment")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seeds", type=int, default=1, help="re-score the bugged items under this many seeds")
    parser.add_argument("--only", help="grade only the packed notebooks whose name contains this")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.path.insert(0, str(HERE))
    import conftest  # noqa: F401  (finds the MNIST folder)
    dest = Path(tempfile.mkdtemp(prefix=f"mutants-{args.assignment}-"))
    failures = 0
    for packed in pack(args.assignment, load(args.assignment), dest):
        if args.only and args.only not in packed.name:
            continue
        t = time.monotonic()
        result, later, reproduced = graded_under_seeds(packed, args.assignment,
                                                       list(range(args.seed, args.seed + args.seeds)))
        problems = verdicts(packed, result)
        problems += [f"{packed.name}: seed {seed}: bug NOT caught: {item} / {packed.bugs[item].title}"
                     for seed, scores in later.items() for item, (score, top) in scores.items() if score >= top]
        if not reproduced:
            problems.append(f"{packed.name}: the same seed did not reproduce the scoring")
        failures += len(problems)
        score = sum(i.score for i in result.items)
        print(f"== {packed.name}: {score:g}; bugs {sorted(packed.bugs)}; {len(problems)} problem(s); "
              f"{time.monotonic() - t:.0f} s", flush=True)
        for p in problems:
            print("  " + p, flush=True)
    print(f"{failures} problem(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
