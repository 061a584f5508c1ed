"""One row of `ch4grade reproduce`: a figure we measured next to the book's.

Every section module exposes `reproduce_rows(device, quick: bool) -> list[dict]`; each dict has the keys
`section, name, value, expected, passed, seconds` (plus `device`, added by the reproduce command).
`row()` builds one; `timer()` measures the seconds that go into it.
"""
from __future__ import annotations

import time
from contextlib import contextmanager

KEYS = ("section", "name", "value", "expected", "passed", "seconds")


def row(section: str, name: str, value, expected: str, passed: bool, seconds: float = 0.0) -> dict:
    "A reproduce row: `value` is what we measured, `expected` the book's figure or band, as text."
    if hasattr(value, "item"):  # a 0-d tensor or NumPy scalar
        value = value.item()
    return {"section": section, "name": name, "value": value, "expected": str(expected),
            "passed": bool(passed), "seconds": round(float(seconds), 3)}


def exact(section: str, name: str, value, book, ndigits: int | None = 4, seconds: float = 0.0) -> dict:
    "A row that passes when `value` (rounded to `ndigits`, as the book prints it) equals the book's figure."
    if hasattr(value, "item"):
        value = value.item()
    shown = round(value, ndigits) if ndigits is not None and isinstance(value, float) else value
    return row(section, name, shown, f"= {book}", shown == book, seconds)


def at_least(section: str, name: str, value, band: float, seconds: float = 0.0, note: str = "") -> dict:
    "A row that passes when `value >= band` (a training result, which varies with the seed)."
    if hasattr(value, "item"):
        value = value.item()
    return row(section, name, round(float(value), 4), f">= {band}{note}", value >= band, seconds)


@contextmanager
def timer():
    "`with timer() as t: ...` then `t.seconds`."
    class _T:
        seconds = 0.0
    t, start = _T(), time.perf_counter()
    try:
        yield t
    finally:
        t.seconds = time.perf_counter() - start


def check_row(r: dict) -> dict:
    "Raise ValueError unless `r` has every reproduce key (other modules' rows are checked too)."
    missing = [k for k in KEYS if k not in r]
    if missing:
        raise ValueError(f"reproduce row {r!r} lacks {missing}")
    return r
