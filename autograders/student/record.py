"""Run an assignment's public checks on its model answers and record every probe they send (grader side).

The instructor notebook (model answers in place) runs in the sandboxed kernel as any submission does; then each
public check runs under the fixed PUBLIC_SEED through a `RecordingNamespace`, which notes, per check, each probe
(its code, its inputs, whether it used `ref`, the seed the kernel's generators had) and what came back, which
answer cells the check read, and whether it looked at figures. Every public check must pass on the model answers,
or nothing is written. `seal.py` then decides what of this a student may receive.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..checks.spec import Assignment, answer_names
from ..namespace import KernelNamespace

PUBLIC_SEED = 4_2024   # the public checks' inputs in the student's folder: fixed, unlike a grading's seed


class RecordError(RuntimeError):
    "The model answers could not be recorded (they did not run, or a public check failed on them)."


@dataclass
class CheckLog:
    item: str
    name: str
    given: tuple[str, ...] | None
    steps: list[dict] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)   # answer cells the check read: item -> source
    figures: bool = False
    stable: bool = True      # the same probes (and a pass) when the notebook drew other random numbers


@dataclass
class Recording:
    assignment: str
    seed: int
    checks: list[CheckLog]
    answers: dict[str, Any]          # answer name -> its value in the model notebook (after its item's cell)
    answer_names: dict[str, list[str]]   # item -> the names its answer cell defines
    seconds: float = 0.0

    def dumps(self) -> str:
        "The recording in the codec's safe format (what the grader's cache keeps; never pickle)."
        from ..execute import codec
        return codec.encode({"assignment": self.assignment, "seed": self.seed, "answers": self.answers,
                             "answer_names": self.answer_names, "seconds": self.seconds,
                             "checks": [[c.item, c.name, c.given, c.steps, c.sources, c.figures, c.stable]
                                        for c in self.checks]})

    @classmethod
    def loads(cls, text: str) -> "Recording":
        from ..execute import codec
        d = codec.decode(text)
        checks = [CheckLog(item, name, tuple(given) if given is not None else None, steps, sources, figures, stable)
                  for item, name, given, steps, sources, figures, stable in d["checks"]]
        return cls(d["assignment"], d["seed"], checks, d["answers"], d["answer_names"], d["seconds"])


class RecordingNamespace(KernelNamespace):
    "A kernel namespace that logs what each check asks of the kernel and what it gets back."

    def __init__(self, session, sources=None, figures=None):
        super().__init__(session, sources, figures)
        self.logs: dict[tuple[str, str], CheckLog] = {}
        self._has: str | None = None

    def log(self) -> CheckLog:
        key = (self.item or "", self.check or "")
        if key not in self.logs:
            self.logs[key] = CheckLog(key[0], key[1], self.given)
        return self.logs[key]

    def has(self, name: str) -> bool:
        self._has = name
        try:
            return super().has(name)
        finally:
            self._has = None

    def _run(self, body: str, inputs: dict, what: str) -> Any:
        has, self._has = self._has, None
        value = super()._run(body, inputs, what)
        if has is not None:
            self.log().steps.append({"op": "has", "name": has, "want": bool(value)})
        else:
            self.log().steps.append({"op": "run", "body": body, "inputs": dict(inputs), "what": what,
                                     "ref": self._ref() is not None, "seed": self.seed, "value": value})
        return value

    def source(self, item_id: str) -> str:
        text = super().source(item_id)
        self.log().sources[item_id] = text
        return text

    def figures(self, item_id: str) -> list[dict]:
        self.log().figures = True
        return super().figures(item_id)


_ANSWER_VALUES = """
import torch as _t
def _small(_v, _depth=0):
    if isinstance(_v, _t.Tensor):
        return _v.numel() <= 1_000_000
    if isinstance(_v, (int, float, str)):
        return True
    return isinstance(_v, (list, tuple)) and _depth < 2 and len(_v) <= 100 and all(_small(_x, _depth + 1) for _x in _v)
result = {_n: ref.plain(globals()[_n]) for _n in _names if _n in globals() and _small(globals()[_n])}
"""


def _perturbed(nb):
    """A copy of notebook `nb` with a cell before each code cell that seeds `random`, torch and NumPy afresh and
    switches torch between one and two threads (and defines no name): every random number a cell draws differs
    from the plain run's, the notebook's own seeding included, and training sums its floats in another order (as
    on a student's machine), while everything a check computes from its own inputs stays the same."""
    import secrets

    import nbformat
    out = nbformat.from_dict(nb)
    cells = []
    for cell in out.cells:
        if cell.get("cell_type") == "code":
            n = secrets.randbits(31)
            cells.append(nbformat.v4.new_code_cell(
                f"__import__('random').seed({n}); __import__('torch').manual_seed({n}); "
                f"__import__('numpy').random.seed({n}); "
                "__import__('torch').set_num_threads(2 if __import__('torch').get_num_threads() == 1 else 1)"))
        cells.append(cell)
    out.cells = cells
    return out


def _checks_on(spec: Assignment, nb, cfg, answers_too: bool):
    """Execute `nb` in the sandbox and run the public checks on it through a RecordingNamespace: (the logs by
    (item, check), the items' results, the answer values or {}, the grader's failures)."""
    from ..engine import Grader
    from ..execute.sandbox import choose
    from ..results import SubmissionResult
    result = SubmissionResult(submission=str(spec.source), assignment=spec.name)
    g = Grader(spec, nb, cfg, result, time.monotonic(), Path(spec.source), choose(cfg.isolation))
    try:
        stop = g.execute()
        if stop:
            raise RecordError(f"{spec.name}: the model answers did not run to the end ({stop})")
        ns = RecordingNamespace(g.session, sources=g.plan.answers, figures=g.figures)
        items = g.score(None, ns=ns)
        answers: dict[str, Any] = {}
        names = {k: sorted(v) for k, v in answer_names(spec.source).items()}
        for item in spec.auto_items if answers_too else ():
            if names.get(item.id):
                ns.bind(PUBLIC_SEED, item.id, "(answers)", (), spec.kernel_for(item.id))
                answers.update(KernelNamespace._run(ns, _ANSWER_VALUES, {"_names": names[item.id]}, ""))
    finally:
        g.close()
    return ns.logs, items, answers, list(g.grader_failures)


def record(spec: Assignment, fastai_home: str | None = None) -> Recording:
    """Run `spec`'s instructor notebook (its model answers) in the sandbox and its public checks on it, under
    PUBLIC_SEED; raises RecordError unless every cell runs and every public check passes. `fastai_home`: where
    the datasets its notebook loads are prepared (default: the grader's, `$FASTAI_HOME`).

    The notebook runs twice: as it is, and with every cell's random numbers changed (`_perturbed`). What a probe
    got back in the second run is kept beside the first (`value_b`): where they differ the value depends on the
    random numbers a notebook draws (a freshly initialised layer's weights), not only on the answer, and a
    student's check must not compare it (`seal`)."""
    from ..engine import GradeConfig
    from ..notebook import read_notebook

    if not spec.source or not Path(spec.source).exists():
        raise RecordError(f"{spec.name}: no instructor notebook to record the public checks on")
    from ..data import grader_data_problem
    problem = grader_data_problem(spec, fastai_home)
    if problem:
        raise RecordError(f"{spec.name}: {problem}")
    t0 = time.monotonic()
    cfg = GradeConfig(check_seed=PUBLIC_SEED, run_hidden=False, fastai_home=fastai_home)
    nb = read_notebook(spec.source)
    logs, items, answers, failures = _checks_on(spec, nb, cfg, answers_too=True)
    bad = [f"{i.id}: {c.name}: {c.message}" for i in items for c in i.checks if c.status != "passed"]
    if bad or failures:
        raise RecordError(f"{spec.name}: public checks fail on the model answers: " + "; ".join(bad + failures))
    logs_b, items_b, _, _ = _checks_on(spec, _perturbed(nb), cfg, answers_too=False)
    passed_b = {(i.id, c.name) for i in items_b for c in i.checks if c.status == "passed"}
    for key, log in logs.items():
        other = logs_b.get(key)
        same_shape = other is not None and key in passed_b and len(other.steps) == len(log.steps) and all(
            a["op"] == b["op"] and a.get("body") == b.get("body") for a, b in zip(log.steps, other.steps))
        log.stable = same_shape
        for a, b in zip(log.steps, other.steps if same_shape else ()):
            if a["op"] == "run":
                a["value_b"] = b["value"]
    names = {k: sorted(v) for k, v in answer_names(spec.source).items()}
    checks = [log for key, log in logs.items() if key[1] != "(answers)"]
    return Recording(spec.name, PUBLIC_SEED, checks, answers, names, round(time.monotonic() - t0, 1))
