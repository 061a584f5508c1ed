"""Made-up students for the demo: notebooks built from an assignment's source and released versions.

- `perfect`: every answer cell holds the instructor's solution (markers removed), every prose cell the
  model answer: what a student who got everything right would hand in.
- `partial`: like perfect, but some code answers carry a plausible mistake (`mean` for `sum`, a missing
  `abs`, `argmin` for `argmax`, a flipped sign...) and some prose answers are thin.
- `broken`: one answer cell raises at its top, and another answer cell is deleted outright.
The mistakes are chosen deterministically (by item position), so demo runs are reproducible.
"""
from __future__ import annotations

import copy
import re

from .release import HIDDEN_RE, SOLUTION_RE

MUTATIONS = [  # (pattern, replacement): plausible slips, tried in order until one changes the code
    (r"\.abs\(\)", ""),
    (r"\.mean\(\((-1,\s*-2|-2,\s*-1)\)\)", ".mean(-1)"),
    (r"\.mean\(", ".sum("),
    (r"\bargmax\b", "argmin"),
    (r"\.sqrt\(\)", ""),
    (r"\*\*\s*2", "** 3"),
    (r" - ", " + "),
    (r"\.sigmoid\(\)", ""),
    (r"\btorch\.where\((.+?),\s*(.+?),\s*(.+?)\)", r"torch.where(\1, \3, \2)"),
    (r" > ", " < "),
    (r" < ", " > "),
    (r"\.float\(\)", ".long()"),
    (r"\b(\d+\.\d+)\b", "1.0"),
]


def nbmeta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def solution_text(source_cell) -> str:
    "What a student who knew the solution would have in the cell: the solution region without markers."
    src = HIDDEN_RE.sub("", source_cell.source)
    if SOLUTION_RE.search(src):
        src = SOLUTION_RE.sub(lambda m: m.group(1), src)
        src = re.sub(r"[ \t]*#+\s*(BEGIN|END) SOLUTION[ \t]*\n?", "", src)
    return src.rstrip() + "\n"


def mutate(code: str) -> str | None:
    "The code with one plausible mistake that still compiles, or None when no rule applies."
    for pattern, repl in MUTATIONS:
        new = re.sub(pattern, repl, code, count=1)
        if new != code:
            try:
                compile(new, "<answer>", "exec")
            except SyntaxError:
                continue
            return new
    return None


def _answer_cells(nb):
    "(index, grade_id, kind) of every answer cell: kind `code` (autograded) or `prose` (manual)."
    out = []
    for i, c in enumerate(nb.cells):
        md = nbmeta(c)
        if md.get("solution"):
            out.append((i, md.get("grade_id"), "prose" if c.cell_type == "markdown" else "code"))
    return out


def perfect(source, released):
    nb = copy.deepcopy(released)
    src = {nbmeta(c).get("grade_id"): c for c in source.cells if nbmeta(c).get("solution")}
    for i, gid, _ in _answer_cells(nb):
        if gid in src:
            nb.cells[i].source = solution_text(src[gid])
    return nb


def partial(source, released, offset: int = 0, every: int = 2):
    "Perfect, except every `every`-th code answer (from `offset`) mutated and those prose answers thinned."
    nb = perfect(source, released)
    code = [(i, g) for i, g, k in _answer_cells(nb) if k == "code"]
    prose = [(i, g) for i, g, k in _answer_cells(nb) if k == "prose"]
    for n, (i, _) in enumerate(code):
        if n % every == offset % every:
            wrong = mutate(nb.cells[i].source)
            # no rule applies: the student did not finish this one (the release's stub)
            nb.cells[i].source = wrong if wrong is not None else released.cells[i].source
    for n, (i, _) in enumerate(prose):
        if n % every == offset % every:
            words = nb.cells[i].source.split()
            nb.cells[i].source = " ".join(words[: max(3, len(words) // 4)])
    return nb


def broken(source, released):
    "Perfect, except the first code answer raises and the second code answer cell is deleted."
    nb = perfect(source, released)
    code = [i for i, _, k in _answer_cells(nb) if k == "code"]
    if code:
        nb.cells[code[0]].source = 'raise RuntimeError("I will finish this later")\n' + nb.cells[code[0]].source
    if len(code) > 1:
        del nb.cells[code[1]]
    else:
        prose = [i for i, _, k in _answer_cells(nb) if k == "prose"]
        if prose:
            del nb.cells[prose[-1]]
    return nb


def with_student(nb, student: str):
    "Record the student's id in the notebook metadata too (collect prefers it)."
    nb = copy.deepcopy(nb)
    nb.metadata.setdefault("ch4grade", {})["student"] = student
    return nb
