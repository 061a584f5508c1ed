"""`report`: the class at a glance, from the gradebook (manual scores included) and the engine's results.

Writes `reports/index.html` with, per assignment: how many submitted, mean / median / min / max, a
score histogram (`hist_<assignment>.png`), per-question difficulty (mean share of the points earned,
`difficulty_<assignment>.png`, coloured by BANDS, with a legend), the items most often not fully earned,
with their usual statuses, and one row per student (each assignment's total / max, pending prose answers).
Difficulty is computed over graded submissions only, and every item shows how many that is ("graded 1/4"):
prose items not graded by hand yet are left out (they would look failed).
"""
from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .course import Course, WorkflowError, cell_order
from .files import atomic_write_text
from .gradebook import all_submissions
from .htmlkit import esc, num, page, table

# (lower bound of the mean % earned, colour, legend label), best first
BANDS = ((80, "#2e7d32", "80% or more earned (easy)"), (50, "#d08a00", "50-80% earned"),
         (0, "#b00020", "under 50% earned (hard)"))


def band_colour(percent: float) -> str:
    return next(colour for low, colour, _ in BANDS if percent >= low)


@dataclass
class ItemStats:
    assignment: str
    item: str
    kind: str
    max_score: float
    fractions: list[float] = field(default_factory=list)   # one per graded submission
    statuses: Counter = field(default_factory=Counter)
    submissions: int = 0                                    # graded or not

    @property
    def graded(self) -> str:
        return f"graded {len(self.fractions)}/{self.submissions}"

    @property
    def mean(self) -> float:
        return statistics.fmean(self.fractions) if self.fractions else float("nan")

    @property
    def not_full(self) -> int:
        return sum(f < 1 - 1e-9 for f in self.fractions)


@dataclass
class AssignmentStats:
    name: str
    totals: list[float] = field(default_factory=list)
    max_score: float = 0.0
    items: dict[str, ItemStats] = field(default_factory=dict)
    pending: int = 0  # submissions still waiting for manual grades
    students: dict[str, tuple[float, float, int]] = field(default_factory=dict)  # total, max, prose pending

    def describe(self) -> dict:
        t = self.totals
        return {"n": len(t), "mean": statistics.fmean(t) if t else None, "median": statistics.median(t) if t else None,
                "min": min(t) if t else None, "max": max(t) if t else None, "max_score": self.max_score}


@dataclass
class ClassReport:
    html: Path
    figures: list[Path]
    stats: dict[str, AssignmentStats]


def gather(course: Course, name: str | None = None) -> dict[str, AssignmentStats]:
    orders = {a: cell_order(course.release_notebook(a)) for a in course.released()}
    with course.gradebook() as gb:
        subs = all_submissions(gb, name, orders)
    stats: dict[str, AssignmentStats] = {}
    for g in subs:
        a = stats.setdefault(g.assignment, AssignmentStats(g.assignment))
        a.totals.append(g.score)
        a.max_score = max(a.max_score, g.max_score)
        a.pending += g.needs_manual_grade
        prose_pending = sum(c.needs_manual_grade for c in g.cells if c.kind == "manual")
        a.students[g.student] = (g.score, g.max_score, prose_pending)
        result = course.result(g.student, g.assignment, g.notebook)
        status_of = {i.id: i.status for i in result.items} if result is not None else {}
        for c in g.cells:
            it = a.items.setdefault(c.item, ItemStats(g.assignment, c.item, c.kind, c.max_score))
            it.submissions += 1
            if c.kind == "manual":
                if c.manual_score is None:
                    continue  # not graded yet
                status = "graded by hand"
            else:
                status = status_of.get(c.item, "not graded")
            it.statuses[status] += 1
            it.fractions.append(c.score / c.max_score if c.max_score else 1.0)
    return stats


def _plots(a: AssignmentStats, out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    fig, ax = plt.subplots(figsize=(6, 3.2))
    bins = max(5, min(20, int(a.max_score) or 5))
    ax.hist(a.totals, bins=bins, range=(0, a.max_score or 1), color="#3f6fb5", edgecolor="white")
    ax.set(title=f"{a.name}: total scores", xlabel=f"score (out of {a.max_score:g})", ylabel="students")
    ax.yaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    p = out_dir / f"hist_{a.name}.png"
    fig.savefig(p, dpi=100)
    plt.close(fig)
    paths.append(p)

    items = [i for i in a.items.values() if i.fractions]
    if items:
        from matplotlib.patches import Patch

        fig, ax = plt.subplots(figsize=(7.5, 1.6 + 0.32 * len(items)))
        labels = [f"{i.item} ({i.graded})" for i in items]
        means = [100 * i.mean for i in items]
        ax.barh(range(len(items)), means, color=[band_colour(m) for m in means])
        ax.set_yticks(range(len(items)), labels, fontsize=8)
        ax.invert_yaxis()
        ax.set(xlim=(0, 100), title=f"{a.name}: difficulty (mean % of points earned, graded submissions only)",
               xlabel="mean % of the item's points earned", ylabel="item (graded submissions / all)")
        ax.title.set_fontsize(9)
        ax.legend(handles=[Patch(color=c, label=lab) for _, c, lab in BANDS], fontsize=7, loc="lower right",
                  bbox_to_anchor=(1, 1.06), ncol=3, frameon=False)
        fig.tight_layout()
        p = out_dir / f"difficulty_{a.name}.png"
        fig.savefig(p, dpi=100)
        plt.close(fig)
        paths.append(p)
    return paths


def write_report(course: Course, name: str | None = None, out_dir: Path | None = None,
                 top: int = 10) -> ClassReport:
    if not course.db_path.exists():
        raise WorkflowError(f"no gradebook in {course.root}; run release, collect and autograde first")
    stats = gather(course, name)
    if not stats:
        raise WorkflowError("no submissions in the gradebook; run `ch4grade autograde` first")
    out_dir = Path(out_dir) if out_dir else course.reports_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    body = ["<h1>Class report: chapter 4</h1>"]
    rows = []
    for a in stats.values():
        d = a.describe()
        rows.append([esc(a.name), str(d["n"]), f"{num(d['mean'])}", f"{num(d['median'])}", f"{num(d['min'])}",
                     f"{num(d['max'])}", num(d["max_score"]), str(a.pending)])
    body.append(table(["assignment", "submissions", "mean", "median", "min", "max", "out of",
                       "awaiting manual grading"], rows))
    body.append(students_table(stats))
    body.append(legend())
    figures = []
    all_items = [i for a in stats.values() for i in a.items.values() if i.fractions]
    hardest = sorted((i for i in all_items if i.not_full), key=lambda i: (-i.not_full / len(i.fractions), i.mean))[:top]
    body.append("<h2>Items most often not fully earned</h2>")
    if hardest:
        body.append(table(["assignment", "item", "graded", "not full marks (of graded)",
                           "mean % earned (graded only)", "statuses"], [
            [esc(i.assignment), esc(i.item), esc(i.graded), f"{i.not_full} / {len(i.fractions)}",
             f'<span style="color:{band_colour(100 * i.mean)}">{100 * i.mean:.0f}%</span>',
             esc(", ".join(f"{k}: {v}" for k, v in i.statuses.most_common()))] for i in hardest]))
    else:
        body.append("<p>Every graded item earned full marks.</p>")
    for a in stats.values():
        paths = _plots(a, out_dir)
        figures += paths
        body.append(f"<h2>{esc(a.name)}</h2>")
        body += [f'<p><img src="{esc(p.name)}" alt="{esc(p.stem)}"></p>' for p in paths]
    html = atomic_write_text(out_dir / "index.html", page("Class report", "\n".join(body)))
    return ClassReport(html, figures, stats)


def legend() -> str:
    "What the colours and the graded counts of the items mean."
    swatches = " ".join(f'<span style="color:{c}">&#9632;</span> {esc(label)}' for _, c, label in BANDS)
    return (f'<p class="legend"><b>Legend.</b> Item colours (mean % of points earned): {swatches}. '
            "Difficulty is computed over graded submissions only: \"graded 1/4\" means one of four submissions "
            "has a score for that item (prose answers wait for a grader).</p>")


def students_table(stats: dict[str, AssignmentStats]) -> str:
    "One row per student: each assignment's total / max (blank if not submitted), prose answers pending."
    names = sorted({s for a in stats.values() for s in a.students})
    rows = []
    for student in names:
        got = [a.students.get(student) for a in stats.values()]
        rows.append([esc(student)] + [f"{num(g[0])} / {num(g[1])}" if g else "" for g in got]
                    + [str(sum(g[2] for g in got if g))])
    return "<h2>Students</h2>\n" + table(["student"] + [f"{a} (total / max)" for a in stats]
                                          + ["prose answers pending"], rows)
