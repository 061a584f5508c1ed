"""Grading overhead: ch4grade's `grade_notebook` vs nbgrader's own `autograde`, on the same notebooks.

    uv run python benchmarks/grading_overhead.py [--assignments NAME ...] [--repeat N] [--fastai-home DIR]

For each assignment (default: ch04_pixel_similarity and ch04_questionnaire, those that exist), in one run:

- ch4grade: `autograders.engine.grade_notebook(path)` on the instructor's source notebook (solutions in
  place). Its own timings give total_s and execute_s (the student's cells); overhead = total - execute_s
  (kernel start, startup code, figure probes, checks, shutdown).
- nbgrader 0.9.6: a temporary course directory (nbgrader_config.py, SQLite gradebook in the temp dir,
  source/<name>/<name>.ipynb), `NbGraderAPI.generate_assignment` (not timed), the same source notebook
  copied to submitted/<student>/<name>/<name>.ipynb, then `NbGraderAPI.autograde` timed as one whole
  step (in this process, through nbgrader's Python API). Its score is read back from the gradebook.

Not timed: imports, building the course, generate_assignment. Both tools grade the very same bytes.
nbgrader's per-cell timeout is raised to ch4grade's (its default of 30 s would cut the chapter's cells
on a loaded machine). The data `untar_data(URLs.MNIST_SAMPLE)` needs must be prepared beforehand
(`ch4grade data --only mnist_sample --fastai-home DIR`).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT = ("ch04_pixel_similarity", "ch04_questionnaire")
COURSE_ID = "bench"
STUDENT = "bench_student"

CONFIG = '''\
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "{course_id}"
c.CourseDirectory.root = r"{root}"
c.CourseDirectory.db_url = "sqlite:///{db}"
c.Exchange.root = r"{exchange}"
c.Execute.timeout = {timeout}
'''


def load_avg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


class NbgraderCourse:
    """A throwaway nbgrader course holding one assignment and `students` identical submissions of it (the
    first is `self.submission`; `benchmarks/batch_vs_nbgrader.py` grades a class of them)."""

    def __init__(self, base: Path, name: str, notebook: Path, cell_timeout: int, students: int = 1):
        # nbgrader's gradebook runs `alembic` from PATH: this environment's, also when its bin/ is not on PATH
        bin_dir = str(Path(sys.executable).parent)
        if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
            os.environ["PATH"] = os.pathsep.join(p for p in (bin_dir, os.environ.get("PATH")) if p)
        from traitlets.config.loader import PyFileConfigLoader
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory

        self.name = name
        self.root = base / name
        (self.root / "exchange").mkdir(parents=True)
        self.db_url = f"sqlite:///{self.root / 'gradebook.db'}"
        (self.root / "nbgrader_config.py").write_text(CONFIG.format(
            course_id=COURSE_ID, root=self.root, db=self.root / "gradebook.db", exchange=self.root / "exchange",
            timeout=cell_timeout), encoding="utf-8")
        src = self.root / "source" / name
        src.mkdir(parents=True)
        for item in notebook.parent.iterdir():  # the notebook and any files beside it
            if item.name.startswith(".") or item.name in ("__pycache__", ".ipynb_checkpoints"):
                continue
            (shutil.copytree if item.is_dir() else shutil.copy2)(item, src / item.name)
        config = PyFileConfigLoader("nbgrader_config.py", path=str(self.root)).load_config()
        coursedir = CourseDirectory(config=config)
        coursedir.root = str(self.root)
        self.api = NbGraderAPI(coursedir=coursedir, config=config)
        out = self.api.generate_assignment(name, force=True, create=True)
        if not out.get("success"):
            raise RuntimeError(f"nbgrader generate_assignment failed for {name}:\n"
                               f"{(out.get('error') or out.get('log') or '')[-3000:]}")
        self.students = [STUDENT] + [f"{STUDENT}{i:03d}" for i in range(1, students)]
        for student in self.students:
            path = self.root / "submitted" / student / name / f"{name}.ipynb"
            path.parent.mkdir(parents=True)
            shutil.copy2(src / f"{name}.ipynb", path)
        self.submission = self.root / "submitted" / STUDENT / name / f"{name}.ipynb"

    def autograde(self, student: str = STUDENT) -> tuple[float, dict]:
        t = time.perf_counter()
        out = self.api.autograde(self.name, student, force=True, create=True)
        return time.perf_counter() - t, out

    def autograde_command(self) -> float:
        """`nbgrader autograde NAME --force --create` for every student at once, as a whole command (its Python
        start and imports counted, as ch4grade's are); its wall seconds."""
        nbgrader = Path(sys.executable).parent / "nbgrader"
        t = time.perf_counter()
        proc = subprocess.run([str(nbgrader), "autograde", self.name, "--force", "--create"], cwd=self.root,
                              capture_output=True, text=True)
        wall = time.perf_counter() - t
        if proc.returncode != 0:
            raise RuntimeError(f"nbgrader autograde failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        return wall

    def score(self, student: str = STUDENT) -> tuple[float, float]:
        from nbgrader.api import Gradebook

        gb = Gradebook(self.db_url, COURSE_ID)
        try:
            sub = gb.find_submission(self.name, student)
            return float(sub.score), float(sub.max_score)
        finally:
            gb.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignments", nargs="+", help=f"assignment names (default: {' '.join(DEFAULT)})")
    parser.add_argument("--repeat", type=int, default=1, help="gradings per tool and notebook (default 1)")
    parser.add_argument("--fastai-home", help="fastai's home with mnist_sample (default: $FASTAI_HOME)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary nbgrader courses")
    args = parser.parse_args()
    if args.fastai_home:
        os.environ["FASTAI_HOME"] = args.fastai_home
    warnings.simplefilter("ignore")

    from autograders.engine import GradeConfig, grade_notebook
    from autograders.checks import get_assignment
    from autograders.paths import source_notebook
    import nbgrader

    names = args.assignments or [n for n in DEFAULT if source_notebook(n).exists()]
    missing = [n for n in names if not source_notebook(n).exists()]
    if missing:
        parser.error(f"no source notebook for: {', '.join(missing)}")
    config = GradeConfig()
    cell_timeout = int(config.limits.cell_timeout)

    print(f"load average at start (1/5/15 min): {load_avg()}; cores: {os.cpu_count()}; "
          f"nbgrader {nbgrader.__version__}; FASTAI_HOME={os.environ.get('FASTAI_HOME', '(unset)')}")
    base = Path(tempfile.mkdtemp(prefix="ch4grade-overhead-"))
    rows = []   # (assignment, tool, total, student_cells, overhead, score text)
    ratios = []
    try:
        for name in names:
            get_assignment(name)  # import its checks module (not timed)
            course = NbgraderCourse(base, name, source_notebook(name), cell_timeout)
            for rep in range(args.repeat):
                # alternate which tool goes first, so a load spike does not always hit the same one
                order = ("ch4grade", "nbgrader") if rep % 2 == 0 else ("nbgrader", "ch4grade")
                got = {}
                for tool in order:
                    if tool == "ch4grade":
                        t = time.perf_counter()
                        r = grade_notebook(course.submission, config=config)
                        wall = time.perf_counter() - t
                        tm = r.timings
                        total, ex = tm.get("total_s", wall), tm.get("execute_s")
                        overhead = None if ex is None else total - ex
                        text = f"{r.score:g}/{r.max_score:g}"
                        if r.status != "graded":
                            text += f" ({r.status}: {r.error})"
                        got[tool] = (total, ex, overhead, text,
                                     f"startup {tm.get('startup_s', float('nan')):.2f} s, checks "
                                     f"{tm.get('checks_s', float('nan')):.2f} s, wall {wall:.2f} s, "
                                     f"auto max {r.auto_max_score:g}")
                    else:
                        total, out = course.autograde()
                        if out.get("success"):
                            score, max_score = course.score()
                            text = f"{score:g}/{max_score:g}"
                        else:
                            text = "autograde failed"
                            print(f"nbgrader autograde failed for {name}:\n"
                                  f"{(out.get('error') or out.get('log') or '')[-3000:]}", file=sys.stderr)
                        got[tool] = (total, None, None, text, "")
                    print(f"  [{name} #{rep + 1}] {tool}: {got[tool][0]:.2f} s, score {got[tool][3]}"
                          + (f" ({got[tool][4]})" if got[tool][4] else "") + f"; load {load_avg()}",
                          flush=True)
                for tool in ("ch4grade", "nbgrader"):
                    total, ex, overhead, text, _ = got[tool]
                    rows.append((name if args.repeat == 1 else f"{name} #{rep + 1}", tool, total, ex, overhead, text))
                ratios.append((name, rep, got["ch4grade"][0] / got["nbgrader"][0]))
    finally:
        if args.keep:
            print(f"nbgrader courses kept in {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)

    fmt = lambda v: "—" if v is None else f"{v:.2f}"  # noqa: E731
    width = max(len("assignment"), *(len(r[0]) for r in rows))
    print()
    print(f"{'assignment':<{width}}  {'tool':<9}{'total s':>9}{'student-cell s':>16}{'overhead s':>12}  score")
    for a, tool, total, ex, overhead, text in rows:
        print(f"{a:<{width}}  {tool:<9}{fmt(total):>9}{fmt(ex):>16}{fmt(overhead):>12}  {text}")
    print()
    for name, rep, ratio in ratios:
        label = name if args.repeat == 1 else f"{name} #{rep + 1}"
        print(f"ch4grade total / nbgrader total, {label}: {ratio:.2f}")
    print(f"load average at end (1/5/15 min): {load_avg()}")
    print()
    print("notes:")
    print("- ch4grade total = grade_notebook's own total_s; student-cell s = its execute_s (the notebook's cells in")
    print("  the isolated kernel); overhead = total - execute_s (kernel start, startup code, figure probes, checks,")
    print("  shutdown). ch4grade never runs the test cells: it scores in its own process, calling into the kernel.")
    print("- nbgrader total = the whole `NbGraderAPI.autograde` call (sanitize, copy, execute every cell, save grades")
    print("  to the SQLite gradebook). nbgrader runs the test cells in the student's kernel: there the self-check")
    print("  (`from autograders import check; check(id)` and the hidden `check(id, hidden=True)`) does the scoring,")
    print("  so its checks' time is inside its cell execution; it has no separate student-cell figure here.")
    print("- scores: ch4grade score/max (prose items count 0 until graded by hand); nbgrader score/max from its")
    print("  gradebook (manually graded cells also 0 until graded). nbgrader Execute.timeout set to "
          f"{cell_timeout} s per cell (ch4grade's cell limit).")


if __name__ == "__main__":
    main()
