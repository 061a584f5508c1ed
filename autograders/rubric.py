"""Rubric-assisted grading of prose answers: a suggested score from the unit's answer key (`answer_key.yaml`).

    from autograders.rubric import suggest
    s = suggest("q30_prose", "backward()는 기울기를 계산해서 각 텐서의 .grad에 저장한다")
    s.score, s.max_score, s.matched, s.missed, s.misconceptions, s.needs_review

The key (`answer_key.yaml` in the assignment's folder, editable by instructors) lists for each prose item its key
points (English and Korean key terms) and common misconceptions (regex patterns, with `unless`
patterns that cancel a flag, and the points they cost). Matching is deliberately simple: lower-cased,
Unicode-normalised text; English terms must start a word (so "loss" does not match "gloss");
Korean terms also match with spaces removed (Korean spacing varies: "학습률" / "학습 률") and may
carry particles ("기울기를", "기울기는"). A suggestion is never a final grade: `needs_review` is always
True, and a person confirms or changes it.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_ASSIGNMENT = "ch04_questionnaire"
_PLACEHOLDERS = ("your answer here", "여기에 답을 쓰세요")


@dataclass
class Suggestion:
    item_id: str
    score: float
    max_score: float
    matched: list[str] = field(default_factory=list)         # key point ids found in the answer
    missed: list[str] = field(default_factory=list)          # key point ids not found
    misconceptions: list[str] = field(default_factory=list)  # misconception ids flagged
    note: str = ""
    needs_review: bool = True                                # always: a suggestion, never a grade

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _read_key(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        import json
        return json.loads(text)
    import yaml
    return yaml.safe_load(text)


@functools.lru_cache(maxsize=8)
def _load_cached(path: str) -> dict:
    return _read_key(Path(path))


def load_key(assignment: str = DEFAULT_ASSIGNMENT, path: str | Path | None = None) -> dict:
    "The answer key: {item_id: entry} (the unit's `answer_key.yaml`, or .json, unless `path` is given)."
    if path is None:
        from .paths import answer_key
        path = answer_key(assignment)
        if path is None:
            raise FileNotFoundError(f"no answer key for {assignment!r} (answer_key.yaml in its folder)")
    data = _load_cached(str(Path(path).resolve()))
    return data["items"]


def normalize(text: str) -> str:
    "Lower case, NFKC (full-width forms, compatibility jamo), unified quotes and dashes, single spaces."
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = text.translate(str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "−": "-", "–": "-",
                                         "—": "-", "`": ""}))
    return re.sub(r"\s+", " ", text).strip()


def _has_hangul(s: str) -> bool:
    return any("\uac00" <= ch <= "\ud7a3" or "\u3131" <= ch <= "\u318e" for ch in s)


def term_found(term: str, text: str) -> bool:
    "Whether one key term occurs in an already normalised answer."
    if term.startswith("re:"):
        return re.search(term[3:], text) is not None
    t = normalize(term)
    if not t:
        return False
    if _has_hangul(t):
        return t in text or t.replace(" ", "") in text.replace(" ", "")
    if t[0].isalnum():  # an English word or number: must start a word
        return re.search(r"(?<![a-z0-9])" + re.escape(t), text) is not None
    return t in text


def _any_pattern(patterns: list[str], text: str) -> bool:
    return any(re.search(p, text) for p in patterns or [])


def _terms(point: dict) -> list[str]:
    terms = point.get("terms") or []
    if isinstance(terms, dict):
        return [t for lang in terms.values() for t in (lang or [])]
    return list(terms)


def suggest(item_id: str, answer_text: str, key: dict | None = None) -> Suggestion:
    "A suggested score for one prose answer; `key` defaults to `load_key()`. Always needs review."
    key = load_key() if key is None else key
    if item_id not in key:
        raise KeyError(f"no answer key entry for {item_id!r}")
    entry = key[item_id]
    max_score = float(entry["points"])
    points = entry.get("key_points") or []
    text = normalize(answer_text)
    if not text or text in _PLACEHOLDERS or any(text == normalize(p) for p in _PLACEHOLDERS):
        return Suggestion(item_id, 0.0, max_score, [], [p["id"] for p in points], [],
                          "empty answer: nothing to match")
    matched, missed, score = [], [], 0.0
    for p in points:
        if any(term_found(t, text) for t in _terms(p)):
            matched.append(p["id"])
            score += float(p["points"])
        else:
            missed.append(p["id"])
    flagged, cost = [], 0.0
    for m in entry.get("misconceptions") or []:
        if _any_pattern(m.get("patterns"), text) and not _any_pattern(m.get("unless"), text):
            flagged.append(m["id"])
            cost += float(m.get("cost", 0))
    score = round(min(max(score - cost, 0.0), max_score), 2)
    parts = [f"{len(matched)}/{len(points)} key points found by keyword"]
    if flagged:
        parts.append("possible misconception(s): " + ", ".join(flagged) + f" (-{cost:g})")
    parts.append("keyword suggestion only: a grader must review it")
    return Suggestion(item_id, score, max_score, matched, missed, flagged, "; ".join(parts))
