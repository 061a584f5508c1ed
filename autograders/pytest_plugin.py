"""pytest integration: `pytest --notebook PATH [--assignment NAME]` grades a notebook with one pytest
test per check, so pytest's selection (`-k`), reporting (`-v`, `--junitxml`) and plugins apply.

The notebook runs once, in the same isolated kernel as `ch4grade grade`; each test then runs its
check from pytest's process. A test's points are in its `user_properties` (and so in JUnit XML).
"""
from __future__ import annotations

from pathlib import Path

import pytest


def pytest_addoption(parser):
    group = parser.getgroup("ch4grade")
    group.addoption("--notebook", action="append", default=[], help="grade this notebook: each check is a test")
    group.addoption("--assignment", default=None, help="the notebook's assignment (default: from its metadata)")
    group.addoption("--isolation", default="auto", help="strict | auto | none | bwrap | landlock (see ch4grade grade)")


def pytest_configure(config):
    notebooks = config.getoption("notebook", default=[])
    if notebooks:
        config.args[:] = [str(Path(n).resolve()) for n in notebooks]


def pytest_collect_file(file_path: Path, parent):
    wanted = {str(Path(n).resolve()) for n in parent.config.getoption("notebook", default=[])}
    if file_path.suffix == ".ipynb" and str(file_path.resolve()) in wanted:
        return NotebookFile.from_parent(parent, path=file_path)
    return None


class NotebookFile(pytest.File):
    grader = None

    def _spec(self):
        from autograders.checks import get_assignment
        from autograders.engine import infer_assignment
        from autograders.notebook import read_notebook
        self.nb = read_notebook(self.path)
        name = self.config.getoption("assignment") or infer_assignment(self.nb)
        if name is None:
            raise pytest.UsageError(f"{self.path.name}: unknown assignment; pass --assignment")
        return get_assignment(name)

    def collect(self):
        "Every check, in the order the engine runs them (`Grader.check_order`)."
        from autograders.engine import checks_in_order
        self.spec = self._spec()
        for check in checks_in_order(self.spec):
            yield CheckItem.from_parent(self, name=f"{check.item_id}::{check.name}", check=check)

    def ensure_graded(self):
        "Run the notebook once (the first test that needs it); later tests reuse the kernel."
        if self.grader is None:
            import time
            from autograders.data import prepare_for
            from autograders.engine import GradeConfig, Grader
            from autograders.execute.sandbox import IsolationUnavailable, choose
            from autograders.paths import source_notebook
            from autograders.results import SubmissionResult
            isolation = self.config.getoption("isolation")
            try:
                sandbox = choose(isolation)
            except IsolationUnavailable as e:
                raise pytest.UsageError(str(e)) from None
            prepare_for([self.spec.name])
            result = SubmissionResult(submission=str(self.path), assignment=self.spec.name)
            g = Grader(self.spec, self.nb, GradeConfig(isolation=isolation), result, time.monotonic(),
                       Path(self.spec.source or source_notebook(self.spec.name)), sandbox)
            self.config.add_cleanup(g.close)
            self.stop_reason = g.execute()
            self.grader = g
        return self.grader


class CheckItem(pytest.Item):
    def __init__(self, *, check, **kwargs):
        super().__init__(**kwargs)
        self.check = check
        self.user_properties.append(("points", check.points))
        self.user_properties.append(("hidden", check.hidden))

    def runtest(self):
        import time
        from autograders.namespace import KernelNamespace
        g = self.parent.ensure_graded()
        problem = g.plan.problems.get(self.check.item_id)
        if problem:
            raise CheckError(problem)
        if not g.session.alive():
            raise CheckError(f"not run: {self.parent.stop_reason or 'the kernel died'}")
        ns = KernelNamespace(g.session, sources=g.plan.answers, figures=g.figures,
                             deadline=time.monotonic() + self.check.timeout)
        res = g.run_check(self.check, ns)
        self.user_properties.append(("score", res.score))
        if res.status != "passed":
            detail = f"\nexpected: {res.expected}\ngot:      {res.got}" if res.expected or res.got else ""
            raise CheckError(f"{res.status} ({res.score:g}/{res.max_score:g}): {res.message}{detail}")

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, CheckError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"{self.name} [{self.check.points:g} pts]"


class CheckError(Exception):
    pass
