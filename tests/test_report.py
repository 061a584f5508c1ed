"""The class report, in-process: legend, per-item graded counts, difficulty over graded submissions only,
and the per-student table (no kernels, no gradebook: `gather` is replaced by hand-made statistics)."""
from __future__ import annotations

from types import SimpleNamespace

from autograders.workflow import report
from autograders.workflow.report import AssignmentStats, ItemStats


def _stats() -> dict[str, AssignmentStats]:
    a = AssignmentStats("lab", totals=[3.0, 1.0, 0.0, 2.0], max_score=4.0)
    a.items["q01"] = ItemStats("lab", "q01", "manual", 2.0, fractions=[1.0], submissions=4)
    a.items["f"] = ItemStats("lab", "f", "auto", 2.0, fractions=[1.0, 0.5, 0.0, 0.0], submissions=4)
    a.students = {"ada": (3.0, 4.0, 0), "ben": (1.0, 4.0, 1), "cy": (0.0, 4.0, 1), "dee": (2.0, 4.0, 1)}
    return {"lab": a}


def test_item_counts_only_graded_submissions():
    item = _stats()["lab"].items["q01"]
    assert item.graded == "graded 1/4" and item.mean == 1.0


def test_band_colours_follow_the_legend():
    assert [report.band_colour(p) for p in (95, 80, 60, 10)] == [report.BANDS[0][1]] * 2 + [
        report.BANDS[1][1], report.BANDS[2][1]]


def test_report_html_has_legend_graded_counts_and_students(tmp_path, monkeypatch):
    db = tmp_path / "gradebook.db"
    db.write_text("")
    course = SimpleNamespace(root=tmp_path, db_path=db, reports_dir=tmp_path / "reports")
    monkeypatch.setattr(report, "gather", lambda course, name=None: _stats())
    rep = report.write_report(course)
    html = rep.html.read_text()
    assert "Legend" in html and all(label in html for _, _, label in report.BANDS)
    assert "graded 1/4" in html and "graded 4/4" in html and "graded only" in html
    students = html.split("<h2>Students</h2>")[1].split("</table>")[0]
    assert "lab (total / max)" in students and "prose answers pending" in students
    assert "<td>ben</td><td>1 / 4</td><td>1</td>" in students
    assert "<td>ada</td><td>3 / 4</td><td>0</td>" in students
    assert [f.name for f in rep.figures] == ["hist_lab.png", "difficulty_lab.png"]
