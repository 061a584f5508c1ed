"""`ch4grade ci init DIR`: an assignment template repository (what each student's repository is made from).

```
DIR/
  <assignment>/<assignment>.ipynb, ch4check.py, ch4check_data.json.gz   the student folder (`release`)
  .ch4check/run.py              runs a notebook's public checks and reports (autograders/ci/student_run.py)
  .ch4check/requirements.txt    what the runner installs: torch, fastai, nbclient..., at this ch4grade's versions
  .github/workflows/ch4check.yml   (--provider github)   or   .gitlab-ci.yml   (--provider gitlab)
  README.md                     for students: what runs on each push and how to read it
```
Only what `release` hands out goes in: the released notebook (solutions and hidden tests stripped) and
its student folder, which `release` refuses to write when it finds a solution line, a hidden check or
reference code. No course folder, gradebook or unit file ever does.
"""
from __future__ import annotations

import inspect
import shutil
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from ..workflow.course import Course, WorkflowError

PROVIDERS = ("github", "gitlab")
WORKFLOW_PATHS = {"github": Path(".github/workflows/ch4check.yml"), "gitlab": Path(".gitlab-ci.yml")}
GRADING_PATHS = {"github": Path(".github/workflows/ch4grade.yml"), "gitlab": Path(".gitlab-ci.yml")}
# what the student's runner needs: the book's stack and a notebook runner (pinned to this environment)
REQUIREMENTS = ("torch", "torchvision", "fastai", "numpy", "matplotlib", "ipykernel", "nbclient", "nbformat")
TEMPLATES = Path(__file__).parent / "templates"

STUDENT_README = """\
# {title}

Work in the notebook{s} below, commit and push. On every push, CI runs your notebook and its **public checks**
(`ch4check`, the same ones as the check cells in the notebook) and reports a ✓ or ✗ per item in the job
summary{where}. A ✓ is necessary, not sufficient: your instructor grades with more checks (some hidden)
and reads your written answers.

{notebooks}

Keep each notebook next to its `ch4check.py` and `ch4check_data.json.gz`; don't edit `.ch4check/` or the
CI file.
"""


@dataclass
class InitResult:
    dest: Path
    files: list[Path] = field(default_factory=list)


def requirements() -> str:
    lines = []
    for name in REQUIREMENTS:
        try:
            lines.append(f"{name}=={metadata.version(name).split('+')[0]}")
        except metadata.PackageNotFoundError:
            lines.append(name)
    return "\n".join(lines) + "\n"


def _template(provider: str, kind: str) -> str:
    if provider not in PROVIDERS:
        raise WorkflowError(f"unknown provider {provider!r}; choose from {', '.join(PROVIDERS)}")
    return (TEMPLATES / f"{provider}-{kind}.yml").read_text(encoding="utf-8")


def workflow(provider: str, notebooks: list[str]) -> str:
    "The students' workflow: the public checks of `notebooks` on every push."
    return _template(provider, "student").replace("@NOTEBOOKS@", " ".join(notebooks))


def grading_workflow(provider: str, cron: str = "0 3 * * *", shards: int = 1) -> str:
    """The instructor's grading workflow: collect at the deadline, autograde over `shards` runners, merge,
    export. `cron` (UTC) is when a schedule runs it (GitHub; GitLab schedules are set in its UI)."""
    if len(cron.split()) != 5:
        raise WorkflowError(f"--cron {cron!r}: expected five fields (minute hour day month weekday, UTC)")
    if not 1 <= shards <= 200:
        raise WorkflowError("--shards: between 1 and 200")
    return _template(provider, "grading").replace("@CRON@", cron).replace("@SHARDS@", str(shards))


def grading_init(dest: str | Path, provider: str = "github", cron: str = "0 3 * * *", shards: int = 1,
                 force: bool = False) -> InitResult:
    "The grading workflow written into `dest` (your private copy of ch4grade), with a repos.txt to fill in."
    dest = Path(dest)
    text = grading_workflow(provider, cron, shards)
    path = dest / GRADING_PATHS[provider]
    if path.exists() and not force:
        raise WorkflowError(f"{path} exists; pass --force to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    result = InitResult(dest, [path])
    repos = dest / "repos.txt"
    if not repos.exists():
        repos.write_text("# one student repository per line: STUDENT URL (or URL alone: the student is the "
                         "repository's name)\n# alice https://github.com/your-course/ch04-alice\n", encoding="utf-8")
        result.files.append(repos)
    return result


def runner_text() -> str:
    from . import student_run
    return inspect.getsource(student_run)


def ci_init(dest: str | Path, course: Course, names: list[str], provider: str = "github",
            force: bool = False) -> InitResult:
    """Release each assignment (with its student folder) in `course` and lay the template repository out
    in `dest`. Refuses a non-empty `dest` unless `force` (its ch4check files are then replaced)."""
    from ..workflow.release import release_one

    dest = Path(dest)
    if provider not in PROVIDERS:
        raise WorkflowError(f"unknown provider {provider!r}; choose from {', '.join(PROVIDERS)}")
    if dest.exists() and any(p.name != ".git" for p in dest.iterdir()) and not force:
        raise WorkflowError(f"{dest} is not empty; pass --force to write the ch4check files into it")
    names = [n for name in (names or [None]) for n in course.resolve(name)]
    result = InitResult(dest)
    notebooks = []
    for name in names:
        released = release_one(course, name, student_checks=True)
        if not released.ok:
            raise WorkflowError(f"could not release {name}: {released.error}")
        if released.note:
            raise WorkflowError(f"{name} has no student checks ({released.note}); students' CI needs them")
        folder = dest / name
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(released.path.parent, folder)
        result.files += sorted(p for p in folder.rglob("*") if p.is_file())
        notebooks.append(f"{name}/{released.path.name}")
    for rel, text in ((Path(".ch4check/run.py"), runner_text()),
                      (Path(".ch4check/requirements.txt"), requirements()),
                      (WORKFLOW_PATHS[provider], workflow(provider, notebooks)),
                      (Path("README.md"), _readme(names, notebooks, provider))):
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        result.files.append(path)
    return result


def _readme(names: list[str], notebooks: list[str], provider: str) -> str:
    where = " (Actions tab → the run → Summary) and as annotations on the failing items" if provider == "github" \
        else " (the pipeline's Tests tab and the job log)"
    return STUDENT_README.format(title=", ".join(names), s="s" if len(notebooks) > 1 else "", where=where,
                                 notebooks="\n".join(f"- `{nb}`" for nb in notebooks))
