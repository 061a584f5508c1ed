"""Answers written to collect key words rather than to answer: text pasted across items, and word salad.

- **Pasted**: most of an answer's word triples also make up another item's answer in the same notebook
  (one text pasted into every cell, or an answer copied to a second question).
- **Word salad**: the answer carries key words that belong to several *other* questions (words found in
  only one item's key); a real answer to one question rarely needs the vocabulary of eight others.
"""
from __future__ import annotations

from .clauses import Analysis
from .key import Item
from .match import has_run

PASTE_SHARE = 0.6        # of an answer's word triples found in another answer
MIN_TRIPLES = 4          # shorter answers ("No.", "행렬 곱") are never called pasted
SALAD_ITEMS = 8          # other items whose own key words appear in one answer


def _triples(analysis: Analysis) -> set[tuple[str, ...]]:
    forms = [t.form for t in analysis.tokens]
    return {tuple(forms[i:i + 3]) for i in range(len(forms) - 2)}


def pasted(analyses: dict[str, Analysis]) -> dict[str, tuple[str, bool]]:
    """{item: (the other item it shares its text with, whether the two are the same text both ways)} for
    every answer most of which is also another item's answer. Both ways (one text in two cells) scores 0;
    one way (an answer repeated inside a longer one) is only flagged: a student may quote themselves."""
    triples = {k: _triples(a) for k, a in analyses.items()}
    out = {}
    for a, ta in triples.items():
        if len(ta) < MIN_TRIPLES:
            continue
        for b, tb in triples.items():
            if a != b and len(ta & tb) >= PASTE_SHARE * len(ta):
                out[a] = (b, len(ta & tb) >= PASTE_SHARE * len(tb))
                if out[a][1]:
                    break
    return out


def own_terms(key: dict[str, Item]) -> dict[str, list[tuple[str, ...]]]:
    "{item: the key words (as token runs) that no other item's key uses}."
    owners: dict[tuple[str, ...], set[str]] = {}
    for item in key.values():
        for term in item.terms():
            if term.forms and len("".join(term.forms)) >= 3:
                owners.setdefault(term.forms, set()).add(item.id)
    out: dict[str, list[tuple[str, ...]]] = {}
    for forms, items in owners.items():
        if len(items) == 1:
            out.setdefault(next(iter(items)), []).append(forms)
    return out


def foreign_items(analysis: Analysis, item_id: str, own: dict[str, list[tuple[str, ...]]]) -> list[str]:
    "The other items whose own key words (`own_terms`) this answer carries."
    forms = [t.form for t in analysis.tokens]
    return sorted(other for other, terms in own.items()
                  if other != item_id and any(has_run(f, forms) for f in terms))


def is_salad(analysis: Analysis, item_id: str, own: dict[str, list[tuple[str, ...]]]) -> list[str]:
    "The foreign items when there are enough of them to call the answer word salad, else []."
    others = foreign_items(analysis, item_id, own)
    return others if len(others) >= SALAD_ITEMS else []
