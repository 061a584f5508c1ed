"""Shared by the lab tests and the mutation suite: grade notebooks (sources, releases, variants) with the real
engine, each notebook once per test session.

`fastai_home()` prepares MNIST_SAMPLE for `untar_data(URLs.MNIST_SAMPLE)` (in `$FASTAI_HOME` when set, else
in the project's cache, `$CH4GRADE_CACHE/fastai_home`, default `~/.cache/ch4grade/fastai_home`);
`released(name)` strips a source notebook with the course workflow's release (nbgrader's
generate_assignment); `grade(path)` runs `grade_notebook` on it. Results are cached per path, so a module
that asks again for the same notebook gets the session's result.
"""
from __future__ import annotations

import os
import tempfile
from functools import lru_cache
from pathlib import Path

from autograders.engine import GradeConfig, grade_notebook
from autograders.paths import source_notebook

LABS = ("ch04_pixel_similarity", "ch04_sgd")
_WORK = Path(tempfile.mkdtemp(prefix="ch4grade-labs-"))


@lru_cache(maxsize=None)
def fastai_home(names: tuple[str, ...] = ("mnist_sample",)) -> str:
    "A FASTAI_HOME where `untar_data` finds the fastai datasets `names` offline (prepared once)."
    from reference.data.layouts import prepare_fastai_data
    home = os.environ.get("FASTAI_HOME") or str(
        Path(os.environ.get("CH4GRADE_CACHE", "~/.cache/ch4grade")).expanduser() / "fastai_home")
    prepare_fastai_data(names, fastai_home=home, progress=False)
    return home


@lru_cache(maxsize=None)
def grade(path: str):
    "The engine's SubmissionResult for the notebook at `path` (graded once per session)."
    from autograders.checks import get_assignment
    from autograders.engine import infer_assignment
    from autograders.notebook import read_notebook
    name = infer_assignment(read_notebook(path))
    data = tuple(get_assignment(name).data) if name else ()
    return grade_notebook(path, config=GradeConfig(fastai_home=fastai_home(data or ("mnist_sample",))))


def graded_source(name: str):
    return grade(str(source_notebook(name)))


@lru_cache(maxsize=None)
def released(name: str) -> str:
    "The student version of lab `name`, made by the course workflow's release (nbgrader generate_assignment)."
    from autograders.workflow.course import Course
    from autograders.workflow.release import release
    course = Course.open(_WORK / "course", source_notebook(name).parents[1])
    [r] = release(course, name, progress=False, student_checks=False)   # (the student folder: test_student_bundle)
    assert r.ok, r.error
    return str(r.path)


def describe(result) -> str:
    "Everything that did not pass, for assertion messages."
    lines = [f"status={result.status} error={result.error} score={result.score}/{result.max_score}"]
    lines += [f"{i.id}: {i.score}/{i.max_score} {i.status}\n  {i.feedback}" for i in result.items
              if i.status not in ("passed", "manual")]
    lines += [f"cell {c['grade_id'] or c['index']}: {c['status']} {c['detail']}" for c in result.cells
              if c["status"] != "ok"]
    return "\n".join(lines)
