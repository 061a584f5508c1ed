"""The prose answers of a notebook: {item id: the cell's text} for the items an answer key covers."""
from __future__ import annotations

from ..notebook import grade_id

MAX_CHARS = 20_000   # what the suggestion reads of one answer: a prose answer, not a parser for 64 MB of text


def prose_answers(nb, item_ids) -> dict[str, str]:
    """The text of each answer cell whose grade_id is in `item_ids` (an answer key, or any collection of ids;
    the first cell wins; capped at MAX_CHARS). An item with no cell is left out."""
    out: dict[str, str] = {}
    for cell in nb.cells:
        item_id = grade_id(cell)
        if item_id in item_ids and item_id not in out:
            out[item_id] = str(cell.source)[:MAX_CHARS]
    return out
