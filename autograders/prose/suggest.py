"""A suggested score for each prose answer of a notebook, with its evidence and a confidence.

For every key point of the item: was it *stated* (in a sentence with a predicate, with the polarity the
key wants), written as a phrase ("one number per pixel"), or only as bare words, listed or asked about
(none counts)? Then the misconceptions the answer states cost their points, and notebook-wide checks
catch gaming: text pasted across items, word salad carrying other questions' key words, and one generic
answer that fully answers several other questions. Those score 0 (`GAMED`); milder cases are flagged.

A suggestion is never a grade: `needs_review` is always true, and it goes to graders only (the
gradebook's auto comment and the graders' cell in formgrader), never into the student's feedback.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from . import gaming
from .clauses import Analysis, analyse
from .key import Item, load_key
from .match import coverage, find_any
from .text import disguised, languages, stem

GAMED = ("pasted", "word salad", "generic")   # flags that zero the suggestion
PLACEHOLDERS = ("your answer here", "여기에 답을 쓰세요")
LOW_CONFIDENCE = 0.6
LIST_COVERAGE = 0.6        # a "statement" made mostly of key words, with 3+ separators, is a list
GENERIC_FITS = (4, 6)      # an answer that also fully answers 4 other questions is flagged; 6: it answers none
FUNCTION_WORDS = {stem(w) for w in """it is are was were be been am this that these those which there they we you i he she
    of per for to with by in on from between than into each every at as and or but so then also its their them
    can could will would do does did has have had may might must should""".split()}


@dataclass
class Suggestion:
    item_id: str
    score: float
    max_score: float
    matched: list[dict] = field(default_factory=list)          # {"id", "points", "words"}: stated key points
    missed: list[str] = field(default_factory=list)            # key point ids not stated
    misconceptions: list[dict] = field(default_factory=list)   # {"id", "cost", "words"}
    languages: list[str] = field(default_factory=list)         # ["ko"], ["en"], ["ko", "en"]
    confidence: float = 1.0
    flags: list[str] = field(default_factory=list)             # why the grader should look closer
    note: str = ""
    similarity: float | None = None                            # calibrated, from the optional semantic extra
    needs_review: bool = True                                  # always: a suggestion, never a grade

    @property
    def low_confidence(self) -> bool:
        return self.confidence < LOW_CONFIDENCE

    @property
    def matched_ids(self) -> list[str]:
        return [m["id"] for m in self.matched]

    @property
    def misconception_ids(self) -> list[str]:
        return [m["id"] for m in self.misconceptions]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {"id": d.pop("item_id"), **d, "low_confidence": self.low_confidence}


def band(share: float) -> str:
    "The verdict a share of the points stands for: right (>= 0.75), wrong (<= 0.25), or partial."
    return "right" if share >= 0.75 else "wrong" if share <= 0.25 else "partial"


def as_text(source) -> str:
    "A cell's source as one string (nbformat may give a list of lines; anything else is read as text)."
    if isinstance(source, str):
        return source
    if isinstance(source, (list, tuple)):
        return "".join(map(str, source))
    if isinstance(source, bytes):
        return source.decode("utf-8", "replace")
    return "" if source is None else str(source)


def _is_blank(text: str) -> bool:
    t = " ".join(text.split()).lower().strip(" .!")
    return not t or t in PLACEHOLDERS or not any(ch.isalnum() for ch in t)


def _mark_lists(item: Item, analysis: Analysis) -> None:
    """Sentences that only dress up key words count as lists or bare terms: a sentence of key words joined
    by commas, whatever verb holds it together; "It is average 3." (a copula and at most three words, nearly
    all key words); "Average 3 with distance to closer" (a phrase of key words)."""
    if item.lists_ok:
        return
    forms = {f for t in item.terms() for f in t.forms}
    for s in analysis.sentences:
        content = [t for t in s.tokens if t.form not in FUNCTION_WORDS]
        keyish = coverage(content, forms)
        if s.kind == "statement" and s.separators >= 3 and coverage(s.tokens, forms) >= LIST_COVERAGE \
                and s.mean_piece <= 2.5:
            s.kind = "list"
        elif s.kind == "statement" and s.predicate == "copula" and len(content) <= 3 and keyish >= 0.75:
            s.kind = "terms"
        elif s.kind == "phrase" and 3 <= len(content) <= 5 and keyish >= 0.75:
            s.kind = "terms"


def _evaluate(item: Item, raw: str, analysis: Analysis) -> Suggestion:
    kinds = [s.kind for s in analysis.sentences]
    try:
        return _evaluate_marked(item, raw, analysis)
    finally:                                  # the same analysis is read against other items' keys
        for s, k in zip(analysis.sentences, kinds):
            s.kind = k


def _evaluate_marked(item: Item, raw: str, analysis: Analysis) -> Suggestion:
    _mark_lists(item, analysis)
    stated = ["statement", "phrase"]
    if item.lists_ok:
        stated += ["terms", "list"]
    elif len(item.key_points) == 1:      # one key point: its bare name is the answer ("Matrix multiplication")
        stated += ["terms"]
    matched, missed, flags = [], [], []
    wrong_polarity = listed = False
    for p in item.key_points:
        found, wrong = find_any(p.claims, analysis, tuple(stated))
        wrong_polarity |= wrong
        if found:
            matched.append({"id": p.id, "points": p.points, "words": found[0].words})
            continue
        missed.append(p.id)
        listed |= bool(find_any(p.claims, analysis, ("terms", "list", "question"))[0])
    order = [p.id for p in item.key_points]
    matched.sort(key=lambda m: order.index(m["id"]))
    missed.sort(key=order.index)
    mis = []
    for m in item.misconceptions:
        words = _misconception(m, analysis)
        if words:
            mis.append({"id": m.id, "cost": m.cost, "words": words})
    score = sum(m["points"] for m in matched) - sum(m["cost"] for m in mis)
    score = round(min(max(score, 0.0), item.points), 2)
    if listed:
        flags.append("key words listed or asked about, not stated")
    if wrong_polarity:
        flags.append("a key idea appears denied or asked about: read the sentence")
    if mis:
        flags.append("states a misconception")
    return Suggestion(item.id, score, item.points, matched, missed, mis, languages(raw), flags=flags)


def _misconception(m, analysis: Analysis) -> list[str] | None:
    """The words stating misconception `m`, or None. `unless` patterns cancel it in the sentence that states
    it (or, for a `patterns` match, in the sentence the match starts in), not anywhere in the answer."""
    text = analysis.text
    if m.claims:
        found, _ = find_any(m.claims, analysis, ("statement", "phrase", "terms"))
        for f in found:
            span = text[f.sentence.start:f.sentence.end]
            if not any(u.search(span) for u in m.unless):
                return f.words
    for p in m.patterns:
        for hit in p.finditer(text):
            s = next((s for s in analysis.sentences if s.start <= hit.start() < max(s.end, s.start + 1)), None)
            span = text[s.start:s.end] if s else text
            if not any(u.search(span) for u in m.unless):
                return [hit.group()]
    return None


def _confidence(s: Suggestion, analysis: Analysis) -> float:
    c = 0.9
    share = s.score / s.max_score if s.max_score else 0.0
    c -= 0.25 if s.misconceptions else 0.0
    c -= 0.15 if any("denied" in f for f in s.flags) else 0.0
    c -= 0.1 if any("listed" in f for f in s.flags) else 0.0
    c -= 0.3 if any(f.startswith(("it also answers", "most of it is also")) for f in s.flags) else 0.0
    c -= 0.2 if 0 < share < 1 else 0.0     # partial credit: where graders and the key disagree most
    c -= 0.1 if len(analysis.tokens) > 120 else 0.0
    if s.similarity is not None:
        gap = abs(s.similarity - share)
        if gap >= 0.6:
            c -= 0.25
            s.flags.append(f"its meaning looks {'closer to' if s.similarity > share else 'further from'} "
                           f"the model answer than the score says")
        elif gap <= 0.25:
            c += 0.1
    if any(f.startswith(GAMED + ("disguised",)) for f in s.flags):
        c = min(c, 0.5)
    return round(min(max(c, 0.05), 1.0), 2)


def _note(s: Suggestion) -> str:
    n = len(s.matched) + len(s.missed)
    parts = [f"{len(s.matched)}/{n} key points stated"]
    if s.misconceptions:
        parts.append("misconception: " + ", ".join(f"{m['id']} (-{m['cost']:g})" for m in s.misconceptions))
    parts += s.flags
    parts.append(f"confidence {s.confidence:.2f}" + (" (LOW: read it closely)" if s.low_confidence else ""))
    return "; ".join(parts)


def suggest_notebook(answers: dict[str, str], key: dict[str, Item] | None = None,
                     semantic="auto") -> dict[str, Suggestion]:
    """Suggestions for every answer in `answers` ({item_id: text}) that the key has an item for; the answers
    are read together, so a text pasted across items is caught. `semantic`: "auto" (use the optional extra
    when installed), None (never), or a `semantic.Semantic`."""
    key = load_key() if key is None else key
    if semantic == "auto":
        from . import semantic as sem
        semantic = sem.for_key(key)
    unknown = [i for i in answers if i not in key]
    if unknown:
        raise KeyError(f"no answer key entry for {', '.join(map(repr, unknown))}")
    out, analyses = {}, {}
    own = gaming.own_terms(key)
    answers = {i: as_text(raw) for i, raw in answers.items()}
    for item_id, raw in answers.items():
        item = key[item_id]
        if _is_blank(raw):
            out[item_id] = Suggestion(item_id, 0.0, float(item.points), [], [p.id for p in item.key_points], [],
                                      [], 1.0, [], "empty answer: nothing to read")
            continue
        analysis = analyses[item_id] = analyse(raw)
        s = _evaluate(item, raw, analysis)
        salad = gaming.is_salad(analysis, item_id, own)
        if salad:
            s.flags.append(f"word salad: key words of {', '.join(salad)}")
        elif s.score > 0:
            fits = [o for o, other in key.items() if o != item_id and len(other.key_points) > 1
                    and _evaluate(other, raw, analysis).score >= 0.75 * other.points]
            if len(fits) >= GENERIC_FITS[1]:
                s.flags.append(f"generic: it also answers {', '.join(fits)}")
            elif len(fits) >= GENERIC_FITS[0]:
                s.flags.append(f"it also answers {', '.join(fits)}: read it against the question")
        if disguised(raw):
            s.flags.append("disguised letters (zero-width or look-alike characters)")
        out[item_id] = s
    for item_id, (other, both_ways) in gaming.pasted(analyses).items():
        out[item_id].flags.append(f"pasted: same text as {other}" if both_ways else
                                  f"most of it is also the answer to {other}: read it against the question")
    for item_id, s in out.items():
        if item_id not in analyses:
            continue
        if any(f.startswith(GAMED) for f in s.flags):
            s.score = 0.0
        if semantic is not None:
            s.similarity = semantic.similarity(item_id, answers[item_id])
        s.confidence = _confidence(s, analyses[item_id])
        s.note = _note(s)
    return out


def suggest(item_id: str, answer: str, key: dict[str, Item] | None = None, semantic="auto") -> Suggestion:
    "The suggestion for one answer on its own (no paste check: use `suggest_notebook` for a whole notebook)."
    return suggest_notebook({item_id: answer}, key, semantic)[item_id]
