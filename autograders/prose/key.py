"""The answer key of an assignment unit (`answer_key.yaml`, editable by instructors), compiled for matching.

Each prose item has `points`, a `model_answer` (and optionally `model_answer_ko`), `key_points` and
`misconceptions`. Both key points and
misconceptions are **claims**: a claim holds when one sentence of the answer *states* it:

    terms:   {en: [...], ko: [...]}   the anchor: any of these words or phrases (Korean matched on morphemes)
    with:    {en: [...], ko: [...]}   optional: one of these must also occur in the same sentence
                                      (a list of such groups: each must occur)
    negated: false                    the anchor's clause must not be negated (true: must be, as in
                                      "you do NOT have to compute them by hand"; "any": either)
    claims:  [{terms, with, negated}, ...]   more ways to state the same point (any one is enough)

A term written "re:..." is a regular expression on the normalised clause. A misconception may also keep
regex `patterns` (with `unless` patterns that cancel it). `lists_ok: true` on an item (e.g. "what must
you pass to a Learner?") lets a plain list of terms answer it.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from .text import HANGUL, normalize, tokens

DEFAULT_ASSIGNMENT = "ch04_questionnaire"


class AnswerKeyError(ValueError):
    "An answer key that does not parse or does not add up (the instructor's file, not the student's fault)."


@dataclass(frozen=True)
class Term:
    raw: str
    forms: tuple[str, ...]          # the term's tokens, matched as a contiguous run
    surface: str = ""               # Korean terms: the term without spaces, matched in the clause's Hangul
    regex: re.Pattern | None = None


@dataclass
class Claim:
    groups: list[list[Term]]        # groups[0] is the anchor
    negated: bool | None = False    # None: either


@dataclass
class Point:
    id: str
    text: str
    points: float
    claims: list[Claim]


@dataclass
class Misconception:
    id: str
    text: str
    cost: float
    claims: list[Claim]
    patterns: list[re.Pattern] = field(default_factory=list)
    unless: list[re.Pattern] = field(default_factory=list)


@dataclass
class Item:
    id: str
    points: float
    prompt: str
    model_answer: str
    key_points: list[Point]
    misconceptions: list[Misconception]
    lists_ok: bool = False
    model_answer_ko: str = ""      # optional: a Korean model answer (the semantic signal compares with both)

    @property
    def references(self) -> list[str]:
        return [t for t in (self.model_answer, self.model_answer_ko) if t.strip()]

    def terms(self) -> list[Term]:
        "Every term of the item's key points (what a list of bare terms would be made of)."
        return [t for p in self.key_points for c in p.claims for g in c.groups for t in g]


def _term(raw: str) -> Term:
    raw = str(raw)
    if raw.startswith("re:"):
        return Term(raw, (), "", re.compile(raw[3:]))
    text = normalize(raw)
    forms = tuple(t.form for t in tokens(text))
    surface = text.replace(" ", "") if HANGUL.search(text) and len(HANGUL.findall(text)) >= 2 else ""
    return Term(raw, forms, surface)


def _group(spec, where: str) -> list[Term]:
    "A group of terms: a list, or {en: [...], ko: [...]}; a bare string is an error (it is not a list of words)."
    langs = spec.values() if isinstance(spec, dict) else [spec]
    words = []
    for lang in langs:
        if lang is None:
            continue
        if not isinstance(lang, list) or not all(isinstance(w, (str, int, float)) for w in lang):
            raise AnswerKeyError(f"{where}: terms must be a list of words (or {{en: [...], ko: [...]}}), got {lang!r}")
        words += lang
    terms = [_term(w) for w in words]
    empty = [t.raw for t in terms if not t.forms and not t.surface and t.regex is None]
    if empty:
        raise AnswerKeyError(f"{where}: term(s) {empty} have no letters to match")
    return terms


def _claim(spec: dict, where: str) -> Claim:
    if not spec.get("terms"):
        raise AnswerKeyError(f"{where}: a claim needs `terms`")
    withs = spec.get("with") or []
    if isinstance(withs, dict) or (isinstance(withs, list) and withs and not isinstance(withs[0], (dict, list))):
        withs = [withs]
    negated = spec.get("negated", False)
    if negated not in (True, False, "any"):
        raise AnswerKeyError(f"{where}: negated must be true, false or any, got {negated!r}")
    return Claim([_group(spec["terms"], where)] + [_group(w, where) for w in withs],
                 None if negated == "any" else negated)


def _claims(spec: dict, where: str) -> list[Claim]:
    out = [_claim(spec, where)] if spec.get("terms") else []
    out += [_claim(c, f"{where}.claims[{i}]") for i, c in enumerate(spec.get("claims") or [])]
    return out


def compile_item(item_id: str, entry: dict) -> Item:
    where = f"answer key {item_id}"
    if not isinstance(entry, dict) or "points" not in entry:
        raise AnswerKeyError(f"{where}: an item needs `points`, `key_points` and `misconceptions`")
    ids = [p.get("id") for p in entry.get("key_points") or [] if isinstance(p, dict)]
    if len(ids) != len(set(ids)):
        raise AnswerKeyError(f"{where}: two key points share an id")
    points = [Point(p["id"], p.get("text", ""), float(p["points"]), _claims(p, f"{where}.{p['id']}"))
              for p in entry.get("key_points") or []]
    for p in points:
        if not p.claims:
            raise AnswerKeyError(f"{where}.{p.id}: a key point needs `terms` or `claims`")
    for m in entry.get("misconceptions") or []:
        if (m.get("terms") or m.get("claims") or m.get("patterns")) is None and "text" not in m:
            raise AnswerKeyError(f"{where}.{m.get('id')}: a misconception needs `text` (graders only) or a way to find it")
    total = sum(p.points for p in points)
    if points and abs(total - float(entry["points"])) > 1e-6:
        raise AnswerKeyError(f"{where}: key points add up to {total:g}, the item is worth {entry['points']}")
    mis = [Misconception(m["id"], m.get("text", ""), float(m.get("cost", 0)), _claims(m, f"{where}.{m['id']}"),
                         [re.compile(p) for p in m.get("patterns") or []],
                         [re.compile(p) for p in m.get("unless") or []])
           for m in entry.get("misconceptions") or []]
    return Item(item_id, float(entry["points"]), entry.get("prompt", ""), entry.get("model_answer", ""),
                points, mis, bool(entry.get("lists_ok", False)), entry.get("model_answer_ko", "") or "")


def _read(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        import json
        return json.loads(text)
    import yaml
    return yaml.safe_load(text)


@functools.lru_cache(maxsize=16)
def _load(path: str, mtime: float) -> dict[str, Item]:
    try:
        data = _read(Path(path))
        return {k: compile_item(k, v) for k, v in data["items"].items()}
    except AnswerKeyError:
        raise
    except Exception as e:     # YAML syntax, a missing field, a bad regex: the instructor's file is broken
        raise AnswerKeyError(f"{path}: {type(e).__name__}: {e}") from e


def load_key(assignment: str = DEFAULT_ASSIGNMENT, path: str | Path | None = None) -> dict[str, Item]:
    "The compiled answer key {item_id: Item}: the unit's `answer_key.yaml` (or .json), unless `path` is given."
    if path is None:
        from ..paths import answer_key
        path = answer_key(assignment)
        if path is None:
            raise FileNotFoundError(f"no answer key for {assignment!r} (answer_key.yaml in its folder)")
    p = Path(path).resolve()
    return _load(str(p), p.stat().st_mtime)
