"""Shared by test_labs.py and test_lab_variants.py: grade the two lab notebooks (and variants of them) with the
real engine, each notebook once per test session.

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

import nbformat

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
    return grade_notebook(path, config=GradeConfig(fastai_home=fastai_home()))


def graded_source(name: str):
    return grade(str(source_notebook(name)))


@lru_cache(maxsize=None)
def released(name: str) -> str:
    "The student version of lab `name`, made by the course workflow's release (nbgrader generate_assignment)."
    from autograders.workflow.course import Course
    from autograders.workflow.release import release
    course = Course.open(_WORK / "course", source_notebook(name).parents[1])
    [r] = release(course, name, progress=False)
    assert r.ok, r.error
    return str(r.path)


def variant(name: str, grade_id: str, old: str, new: str) -> str:
    "A copy of lab `name`'s source notebook with `old` replaced by `new` in the answer cell `grade_id`."
    nb = nbformat.read(source_notebook(name), as_version=4)
    [cell] = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    assert cell.source.count(old) == 1, f"{old!r} is not exactly once in cell {grade_id}"
    cell.source = cell.source.replace(old, new)
    path = _WORK / "variants" / f"{name}-{grade_id}-{abs(hash((old, new))):x}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return str(path)


def scores(result) -> dict[str, float]:
    return {i.id: i.score for i in result.items}


def describe(result) -> str:
    "Everything that did not pass, for assertion messages."
    lines = [f"status={result.status} error={result.error} score={result.score}/{result.max_score}"]
    lines += [f"{i.id}: {i.score}/{i.max_score} {i.status}\n  {i.feedback}" for i in result.items
              if i.status not in ("passed", "manual")]
    lines += [f"cell {c['grade_id'] or c['index']}: {c['status']} {c['detail']}" for c in result.cells
              if c["status"] != "ok"]
    return "\n".join(lines)
