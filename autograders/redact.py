"""Public feedback never carries answer-key or hidden-check text, and stays short.

A student's code decides what its exceptions say, and public check messages repeat them. So every
message that can reach a student is cut to `LIMIT` characters and withheld whole when it repeats any
`WINDOW`-character stretch (whitespace and case aside) of the assignment's secrets: the solution cells and
model answers of the instructor notebook, the answer key in `solutions/`, and the source of its hidden
checks. (Under a sandbox the kernel cannot read those files at all; this is the second line.)
"""
from __future__ import annotations

import inspect
import re
import zlib
from functools import lru_cache
from pathlib import Path

LIMIT = 400
WINDOW = 40
WITHHELD = "(message withheld: it repeats text from the answer key or a hidden check)"


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def _windows(text: str) -> set[int]:
    t = _norm(text)
    return {zlib.crc32(t[i:i + WINDOW].encode()) for i in range(max(len(t) - WINDOW + 1, 0))}


class Redactor:
    def __init__(self, secrets: list[str]):
        self.windows: set[int] = set()
        for s in secrets:
            self.windows |= _windows(s)

    def leaks(self, text: str) -> bool:
        return bool(self.windows) and not self.windows.isdisjoint(_windows(text))

    def clean(self, text: str | None, limit: int = LIMIT) -> str | None:
        "`text` as a student may see it: withheld if it repeats a secret, else cut to `limit` characters."
        if text is None:
            return None
        text = str(text)
        if self.leaks(text):
            return WITHHELD
        return text if len(text) <= limit else text[:limit - 1] + "…"


def secret_texts(spec, source: Path | None) -> list[str]:
    "What the assignment keeps from students: solution cells, model answers, answer key, hidden checks."
    out = []
    for item in spec.items.values():
        for check in item.checks:
            if check.hidden:
                try:
                    out.append(inspect.getsource(check.fn))
                except (OSError, TypeError):
                    pass
    if source is not None and source.exists():
        import nbformat
        try:
            nb = nbformat.read(str(source), as_version=4)
            for cell in nb.cells:
                meta = cell.get("metadata", {}).get("nbgrader", {})
                if meta.get("solution") or "BEGIN HIDDEN TESTS" in cell.source:
                    out.append(cell.source)
        except Exception:  # an unreadable source notebook: the grader reports that elsewhere
            pass
    from .paths import SOLUTIONS_DIR
    for key in sorted(SOLUTIONS_DIR.glob(f"{spec.name}*.yaml")):
        out.append(key.read_text(encoding="utf-8"))
    return out


@lru_cache(maxsize=16)
def _cached(name: str, source: str | None, _mtime: float) -> Redactor:
    from .checks import get_assignment
    return Redactor(secret_texts(get_assignment(name), Path(source) if source else None))


def redactor_for(spec, source: Path | None) -> Redactor:
    "The redactor of an assignment (cached per process while its source notebook is unchanged)."
    try:
        mtime = source.stat().st_mtime if source is not None else 0.0
    except OSError:
        mtime = 0.0
    try:
        return _cached(spec.name, str(source) if source else None, mtime)
    except KeyError:                       # an Assignment object that is not registered by name
        return Redactor(secret_texts(spec, source))
