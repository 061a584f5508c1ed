"""What grading produced, per item and per submission, with a lossless JSON round trip.

Statuses of an item: `passed` (full points), `partial`, `failed`, `error` (the student's code raised),
`not_run` (the kernel died or time ran out before its checks ran: 0 points, with the reason), and
`manual` (a prose answer waiting for an instructor: 0 points until graded by hand).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from reference.files import write_atomic  # noqa: F401  (the one atomic write; callers import it from here)

SCHEMA = "ch4grade.results/1"
ITEM_STATUSES = ("passed", "partial", "failed", "error", "not_run", "manual")


@dataclass
class CheckResult:
    name: str
    score: float
    max_score: float
    status: str                 # passed | partial | failed | error | not_run
    message: str = ""
    expected: str | None = None
    got: str | None = None
    hidden: bool = False
    seconds: float = 0.0


@dataclass
class ItemResult:
    id: str
    score: float
    max_score: float
    status: str
    feedback: str = ""
    visibility: str = "public"  # public | hidden
    seconds: float = 0.0
    checks: list[CheckResult] = field(default_factory=list)
    answer: str | None = None   # a manual item's answer text, for the instructor

    @classmethod
    def from_dict(cls, d: dict) -> "ItemResult":
        d = dict(d)
        d["checks"] = [CheckResult(**c) for c in d.get("checks", [])]
        return cls(**d)


@dataclass
class SubmissionResult:
    submission: str
    assignment: str | None
    student: str | None = None
    status: str = "graded"      # graded | error
    error: str | None = None
    grader_failure: bool = False  # the error is the grader's fault (a bug or a crash), not the submission's
    items: list[ItemResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)      # what the grader noticed (edited locked cells, ...)
    cells: list[dict] = field(default_factory=list)     # per executed cell: index, grade_id, status, seconds
    environment: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    notebook_sha256: str | None = None
    schema: str = SCHEMA

    @property
    def score(self) -> float:
        return round(sum(i.score for i in self.items), 6)

    @property
    def max_score(self) -> float:
        return round(sum(i.max_score for i in self.items), 6)

    @property
    def auto_max_score(self) -> float:
        return round(sum(i.max_score for i in self.items if i.status != "manual"), 6)

    def item(self, item_id: str) -> ItemResult:
        for i in self.items:
            if i.id == item_id:
                return i
        raise KeyError(item_id)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(score=self.score, max_score=self.max_score, auto_max_score=self.auto_max_score)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "SubmissionResult":
        d = {k: v for k, v in d.items() if k not in ("score", "max_score", "auto_max_score")}
        d["items"] = [ItemResult.from_dict(i) for i in d.get("items", [])]
        return cls(**d)

    def save(self, path: str | Path) -> Path:
        return write_atomic(path, json.dumps(self.to_dict(), indent=1))

    @classmethod
    def load(cls, path: str | Path) -> "SubmissionResult":
        return cls.from_dict(json.loads(Path(path).read_text()))
