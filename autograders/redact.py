"""Public feedback never carries answer-key or hidden-check text, and stays short.

A student's code decides what its exceptions say, and public check messages repeat them. So every
message that can reach a student is cut to `LIMIT` characters and withheld whole when it repeats any
`WINDOW`-character stretch (whitespace and case aside) of the assignment's secrets: the solution cells and
model answers of the instructor notebook, the unit's answer key and kernel-side helpers, and the source of its hidden
checks, less whatever its public checks say themselves. (Under a sandbox the kernel cannot read those
files at all; this is the second line.)

Withholding is itself a signal: a student could test guesses at the secrets by whether a message comes
back. So once one message of a grading is withheld, every later one of that grading is too, and a
submission learns at most where its first hit was.
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
    "The secrets of one assignment; `fresh()` gives the redactor of one grading."

    def __init__(self, secrets: list[str], public: list[str] = ()):
        self.windows: set[int] = set()
        for s in secrets:
            self.windows |= _windows(s)
        for s in public:
            self.windows -= _windows(s)
        self.tripped = False

    def fresh(self) -> "Redactor":
        r = Redactor([])
        r.windows = self.windows
        return r

    def leaks(self, text: str) -> bool:
        return bool(self.windows) and not self.windows.isdisjoint(_windows(text))

    def clean(self, text: str | None, limit: int = LIMIT) -> str | None:
        """`text` as a student may see it: withheld if it repeats a secret (and from then on, everything),
        else cut to `limit` characters."""
        if not text:
            return text
        text = str(text)
        if self.tripped or self.leaks(text):
            self.tripped = True
            return WITHHELD
        return text if len(text) <= limit else text[:limit - 1] + "…"


def public_texts(spec) -> list[str]:
    "What the assignment shows anyway: the source of its public checks (their messages quote it)."
    out = []
    for item in spec.items.values():
        for check in item.checks:
            if not check.hidden:
                try:
                    out.append(inspect.getsource(check.fn))
                except (OSError, TypeError):
                    pass
    return out


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
    key = getattr(spec, "answer_key", None)
    if key is not None:
        out.append(key.read_text(encoding="utf-8"))
    kernel = getattr(spec, "kernel_source", "")
    if kernel:                               # the reference pieces checks give the student's code
        out.append(kernel)
    return out


@lru_cache(maxsize=16)
def _cached(name: str, source: str | None, _mtime: float) -> Redactor:
    from .checks import get_assignment
    spec = get_assignment(name)
    return Redactor(secret_texts(spec, Path(source) if source else None), public_texts(spec))


def redactor_for(spec, source: Path | None) -> Redactor:
    "A fresh redactor for one grading of `spec` (its secrets are cached per process while the source is unchanged)."
    try:
        mtime = source.stat().st_mtime if source is not None else 0.0
    except OSError:
        mtime = 0.0
    try:
        return _cached(spec.name, str(source) if source else None, mtime).fresh()
    except KeyError:                       # an Assignment object that is not registered by name
        return Redactor(secret_texts(spec, source), public_texts(spec))
