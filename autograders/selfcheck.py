"""The instructor's check cells, run where ch4grade is installed:

    from autograders import check
    check("q09")                 # the public checks of item q09, with what was expected and what came back
    check("q09", hidden=True)    # also the hidden ones (as nbgrader's own autograde runs them)

Students do not use this module: their check cells import `ch4check` (autograders/student), which needs
neither this package nor the reference. This one is what nbgrader's own `autograde` runs, since it restores
the instructor's check cells (hidden tests included) into each submission.

It runs in the student's process on their live globals (no isolation is needed: it only informs), and
raises AssertionError when a check fails, so the cell shows red and nbgrader's autograde scores it 0.
The answer is taken to be the last cell run before the check (test cells follow their answer cell);
a plot check draws that cell again off-screen, in a copy of the globals, to look at its lines.
"""
from __future__ import annotations

import inspect

from .checks import available_assignments, get_assignment
from .checks.spec import CheckFailed
from .execute.figures import axes_data
from .execute.scope import run_block
from .namespace import LocalNamespace


def previous_cell(user_ns: dict) -> str:
    "The source of the last cell run before the current one that is not itself a check."
    history = user_ns.get("In")
    if not isinstance(history, list):
        return ""
    for source in reversed(history[:-1]):
        if source.strip() and "check(" not in source:
            return source
    return ""


def redraw(source: str, user_ns: dict) -> list[dict]:
    "The axes `source` draws when run again in a copy of `user_ns`, without showing anything."
    import matplotlib.pyplot as plt
    before = set(plt.get_fignums())
    show = plt.show
    plt.show = lambda *a, **k: None
    try:
        run_block(dict(user_ns), source, {})
    except Exception:
        pass
    finally:
        plt.show = show
    new = [plt.figure(n) for n in plt.get_fignums() if n not in before]
    try:
        return axes_data(new)
    finally:
        for fig in new:
            plt.close(fig)


class _Redrawn(dict):
    "Figures of an answer cell, drawn again only when a check asks for them."

    def __init__(self, item_id: str, source: str, user_ns: dict):
        super().__init__()
        self.item_id, self.source, self.user_ns = item_id, source, user_ns

    def get(self, key, default=None):
        if key != self.item_id or not self.source:
            return default
        if key not in self:
            import torch
            self[key] = [{**ax, "lines": [{**l, "x": torch.from_numpy(l["x"]), "y": torch.from_numpy(l["y"])}
                                          for l in ax["lines"]]} for ax in redraw(self.source, self.user_ns)]
        return self[key]


def _caller_globals() -> dict:
    from .student.runtime import ipython_ns
    ns = ipython_ns()
    if ns is not None:
        return ns
    frame = inspect.currentframe()
    while frame is not None and str(frame.f_globals.get("__name__", "")).startswith("autograders"):
        frame = frame.f_back
    return frame.f_globals if frame is not None else {}


def find_item(item_id: str, assignment: str | None = None):
    names = [assignment] if assignment else available_assignments()
    for name in names:
        spec = get_assignment(name)
        if item_id in spec.items:
            return spec, spec.items[item_id]
    raise KeyError(f"no item {item_id!r} in {', '.join(names)}")


def check(item_id: str, hidden: bool = False, assignment: str | None = None, user_ns: dict | None = None,
          quiet: bool = False) -> float:
    "Run item `item_id`'s checks on the caller's globals; prints a report, returns the score."
    spec, item = find_item(item_id, assignment)
    globals_ = user_ns if user_ns is not None else _caller_globals()
    answer = previous_cell(globals_)
    ns = LocalNamespace(globals_, sources={item_id: answer}, figures=_Redrawn(item_id, answer, globals_))
    score, failed, lines = 0.0, [], []
    import random
    seed = random.SystemRandom().randrange(2 ** 31)
    for c in item.checks:
        if c.hidden and not hidden:
            continue
        ns.bind(seed, item_id, c.name, c.given, spec.kernel_for(item_id) if c.given is not None else "")
        msg = ""
        try:
            value = c.fn(ns)
            frac = 1.0 if value is None or value is True else min(max(float(value), 0.0), 1.0)
        except CheckFailed as e:
            frac, msg = min(max(float(e.credit), 0.0), 1.0), e.message
            if not c.hidden and (e.expected is not None or e.got is not None):
                msg += f"\n      expected: {e.expected}\n      got:      {e.got}"
        except Exception as e:
            frac, msg = 0.0, f"{type(e).__name__}: {e}"
        score += c.points * frac
        if frac >= 1:
            lines.append(f"  ✓ {c.name}")
        else:
            failed.append(c.name)
            lines.append(f"  ✗ {c.name}: {msg if not c.hidden else 'did not pass (hidden check)'}"
                         if frac == 0 else f"  ~ {c.name}: partly right ({frac:.0%}) {msg}".rstrip())
    if not quiet:
        print(f"{item_id} ({spec.name}):\n" + "\n".join(lines))
    if failed:
        raise AssertionError(f"{item_id}: {len(failed)} check(s) did not pass: {', '.join(failed)}")
    return score
