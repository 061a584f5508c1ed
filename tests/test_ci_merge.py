"""`ch4grade ci merge`: course folders graded by separate runners (each its own students) into one course:
gradebook rows (scores, flags, comments, timestamps) through nbgrader's API, and the students' folders."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from autograders.ci.merge import merge_shards
from autograders.workflow.course import Course, WorkflowError
from autograders.workflow.release import release

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "workflow"
NAME = "ch04_fixture"


def _course(root: Path) -> Course:
    c = Course.open(root, FIXTURES)
    [r] = release(c, NAME, progress=False, student_checks=False)
    assert r.ok, r.error
    return c


def _graded(root: Path, scores: dict[str, tuple[float, float | None]]) -> Course:
    "A shard: each student's submission with an auto score on `double` and perhaps a manual one on `q01`."
    c = _course(root)
    with c.gradebook() as gb:
        for student, (auto, manual) in scores.items():
            gb.update_or_create_student(student)
            gb.add_submission(NAME, student, timestamp="2026-11-30 10:00:00 UTC")
            g = gb.find_grade("double_check", NAME, NAME, student)
            g.auto_score, g.needs_manual_grade = auto, False
            prose = gb.find_grade("q01", NAME, NAME, student)
            prose.manual_score = manual
            prose.needs_manual_grade = manual is None
            gb.find_comment("q01", NAME, NAME, student).manual_comment = f"note for {student}"
            gb.db.commit()
            folder = c.root / "results" / student / NAME
            folder.mkdir(parents=True)
            (folder / f"{NAME}.results.json").write_text(json.dumps({"student": student}))
            (c.root / "submitted" / student / NAME).mkdir(parents=True)
    (c.root / "collect_git.json").write_text(json.dumps({s: {"commit": s * 4} for s in scores}))
    return c


def test_shards_merge_into_one_gradebook(tmp_path):
    one = _graded(tmp_path / "shard1", {"alice": (2.0, 0.5), "bob": (1.0, None)})
    two = _graded(tmp_path / "shard2", {"carol": (0.0, 1.0)})
    target = _course(tmp_path / "course")
    assert merge_shards(target, [one.root, two.root]) == {str(one.root): 2, str(two.root): 1}
    with target.gradebook() as gb:
        got = {s: (gb.find_grade("double_check", NAME, NAME, s).auto_score,
                   gb.find_grade("q01", NAME, NAME, s).manual_score,
                   gb.find_grade("q01", NAME, NAME, s).needs_manual_grade,
                   gb.find_comment("q01", NAME, NAME, s).manual_comment) for s in ("alice", "bob", "carol")}
        assert got == {"alice": (2.0, 0.5, False, "note for alice"), "bob": (1.0, None, True, "note for bob"),
                       "carol": (0.0, 1.0, False, "note for carol")}
        assert str(gb.find_submission(NAME, "carol").timestamp).startswith("2026-11-30 10:00:00")
    assert (target.root / "results" / "carol" / NAME / f"{NAME}.results.json").exists()
    assert set(json.loads((target.root / "collect_git.json").read_text())) == {"alice", "bob", "carol"}
    # merging again is idempotent; a student in two shards is refused
    merge_shards(target, [one.root, two.root])
    with target.gradebook() as gb:
        assert len(list(gb.assignment_submissions(NAME))) == 3
    clash = _graded(tmp_path / "shard3", {"alice": (1.0, None)})
    with pytest.raises(WorkflowError, match="alice is in two shards"):
        merge_shards(target, [one.root, clash.root])
