"""`report`: the class at a glance, from the gradebook (manual scores included) and the engine's results.

Writes `reports/index.html` with, per assignment: how many submitted, mean / median / min / max, a
score histogram (`hist_<assignment>.png`), per-question difficulty (mean share of the points earned,
`difficulty_<assignment>.png`), and the items most often not fully earned, with their usual statuses.
Prose items not graded by hand yet are left out of the difficulty figures (they would look failed).
"""
from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .course import Course, WorkflowError, cell_order
from .files import atomic_write_text, read_json
from .gradebook import all_submissions
from .htmlkit import esc, num, page, table


@dataclass
class ItemStats:
    assignment: str
    item: str
    kind: str
    max_score: float
    fractions: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)

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
        rpath = course.results_path(g.student, g.assignment, g.notebook)
        result = read_json(rpath) if rpath.exists() else {}
        status_of = {i["id"]: i.get("status", "") for i in result.get("items", [])}
        for c in g.cells:
            it = a.items.setdefault(c.item, ItemStats(g.assignment, c.item, c.kind, c.max_score))
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
        fig, ax = plt.subplots(figsize=(6, 0.8 + 0.28 * len(items)))
        labels = [i.item for i in items]
        means = [100 * i.mean for i in items]
        colors = ["#b00020" if m < 50 else "#d08a00" if m < 80 else "#2e7d32" for m in means]
        ax.barh(range(len(items)), means, color=colors)
        ax.set_yticks(range(len(items)), labels, fontsize=8)
        ax.invert_yaxis()
        ax.set(xlim=(0, 100), title=f"{a.name}: mean % of points earned per item", xlabel="% of points")
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
    figures = []
    all_items = [i for a in stats.values() for i in a.items.values() if i.fractions]
    hardest = sorted((i for i in all_items if i.not_full), key=lambda i: (-i.not_full / len(i.fractions), i.mean))[:top]
    body.append("<h2>Items most often not fully earned</h2>")
    if hardest:
        body.append(table(["assignment", "item", "not full marks", "mean % earned", "statuses"], [
            [esc(i.assignment), esc(i.item), f"{i.not_full} / {len(i.fractions)}", f"{100 * i.mean:.0f}%",
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
