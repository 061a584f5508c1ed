"""The prose answers of a notebook: {item id: the cell's text} for the items an answer key covers."""
from __future__ import annotations

from ..notebook import grade_id

MAX_CHARS = 20_000   # what the suggestion reads of one answer: a prose answer, not a parser for 64 MB of text


def prose_answers(nb, key) -> dict[str, str]:
    "The text of each answer cell whose grade_id is an item of `key` (first cell wins; capped at MAX_CHARS)."
    out: dict[str, str] = {}
    for cell in nb.cells:
        item_id = grade_id(cell)
        if item_id in key and item_id not in out:
            out[item_id] = str(cell.source)[:MAX_CHARS]
    return out
