"""`ch4grade ci merge SHARD...`: the course folders of runners that each graded part of a class, into one.

Each shard is a course folder (an artifact of one grading job: its gradebook, submitted/, autograded/,
results/, feedback/, collect_git.json) holding its own students. Into the target course (released, so
its gradebook knows the assignments) go every shard's per-student folders and, through nbgrader's
Gradebook API, every submission with its timestamp, each grade's auto and manual scores and
needs-manual-grade flag, and each comment. A student found in two shards is an error (the shards were
cut wrongly), never a silent overwrite.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..workflow.course import DB_NAME, Course, WorkflowError
from ..workflow.files import write_json

STUDENT_FOLDERS = ("submitted", "autograded", "results", "feedback")


def _students(shard: Path) -> set[str]:
    return {p.name for p in (shard / "submitted").iterdir() if p.is_dir()} if (shard / "submitted").is_dir() else set()


def merge_shards(course: Course, shards: list[Path]) -> dict[str, int]:
    "Every shard into `course`; returns {shard folder: submissions merged}."
    from nbgrader.api import Gradebook

    seen: dict[str, Path] = {}
    for shard in shards:
        if not (shard / DB_NAME).exists():
            raise WorkflowError(f"{shard} is not a graded course folder (no {DB_NAME})")
        for student in _students(shard):
            if student in seen:
                raise WorkflowError(f"student {student} is in two shards: {seen[student]} and {shard}")
            seen[student] = shard
    merged = {}
    record = {}
    with course.gradebook() as dst:
        known = {a.name for a in dst.assignments}
        for shard in shards:
            count = 0
            with Gradebook(f"sqlite:///{(shard / DB_NAME).resolve()}") as src:
                for assignment in src.assignments:
                    if assignment.name not in known:
                        raise WorkflowError(f"{assignment.name} (in {shard}) is not released in {course.root}")
                    for sub in src.assignment_submissions(assignment.name):
                        _copy_submission(src, dst, assignment.name, sub)
                        count += 1
            for folder in STUDENT_FOLDERS:
                for student in _students(shard):
                    if (shard / folder / student).is_dir():
                        shutil.copytree(shard / folder / student, course.root / folder / student, dirs_exist_ok=True)
            if (shard / "collect_git.json").exists():
                record.update(json.loads((shard / "collect_git.json").read_text()))
            merged[str(shard)] = count
    if record:
        write_json(course.root / "collect_git.json", record)
    return merged


def _copy_submission(src, dst, assignment: str, sub) -> None:
    student = sub.student
    dst.update_or_create_student(student.id, first_name=student.first_name, last_name=student.last_name,
                                 email=student.email, lms_user_id=student.lms_user_id)
    try:
        dst.remove_submission(assignment, student.id)
    except Exception:   # none yet (nbgrader raises MissingEntry)
        pass
    dst.add_submission(assignment, student.id, timestamp=sub.timestamp)
    for nb in sub.notebooks:
        for g in nb.grades:
            out = dst.find_grade(g.name, nb.name, assignment, student.id)
            out.auto_score, out.manual_score = g.auto_score, g.manual_score
            out.extra_credit, out.needs_manual_grade = g.extra_credit, g.needs_manual_grade
        for c in nb.comments:
            out = dst.find_comment(c.name, nb.name, assignment, student.id)
            out.auto_comment, out.manual_comment = c.auto_comment, c.manual_comment
    dst.db.commit()
