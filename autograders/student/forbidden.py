"""What a student must never receive, line by line: the instructor notebook's solution and hidden-test lines, and
the lines of every function body in `reference/` (the chapter solved). Used to refuse a leaking folder
(`bundle.leaks`) and to keep out of the student's `ref` any kernel helper that carries such a line (`seal`).
"""
from __future__ import annotations

import ast
import re
from functools import lru_cache
from pathlib import Path

_BOILERPLATE = ("#", '"', "'", "except", "import ", "from ", "raise ", "try", "finally", "else", "with open")
_HEADER = re.compile(r"^(if|elif|else|for|while|with|try|except|finally|def|class|async)\b.*:$")


def substantive(line: str, min_len: int = 8) -> bool:
    """Whether a line of code says something of its own: long enough, not a comment, import or bare control-flow
    header (`with torch.no_grad():`, `if isinstance(value, float):` are in any torch code, answers or not)."""
    return len(line) >= min_len and not line.startswith(_BOILERPLATE) and not _HEADER.match(line)


@lru_cache(maxsize=1)
def reference_lines() -> frozenset[str]:
    "Every substantive line (24 characters or more) of a function body in `reference/`."
    import reference
    out = set()
    for path in Path(reference.__file__).parent.rglob("*.py"):
        text = path.read_text()
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        lines = text.splitlines()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                body = node.body[1:] if ast.get_docstring(node) else node.body
                for stmt in body:
                    out.update(l.strip() for l in lines[stmt.lineno - 1:stmt.end_lineno] if substantive(l.strip(), 24))
    return frozenset(out)


def _public(source_nb):
    "A test: the line is in the notebook's public text (as written, or with other spacing, target or `return`)."
    from ..workflow.release import public_text
    public = public_text(source_nb)
    flat = re.sub(r"\s+", "", public)
    return lambda line: line in public or normal(line) in flat


def solution_lines(source_nb) -> set[str]:
    "The substantive lines of the notebook's solutions and hidden tests that its public text does not also show."
    from ..workflow.release import secret_snippets
    public = _public(source_nb)
    return {s for s in secret_snippets(source_nb) if substantive(s) and not public(s)}


def forbidden_lines(source_nb) -> set[str]:
    "Solution, hidden-test and reference lines a student must not receive (the notebook's public text excepted)."
    public = _public(source_nb)
    return solution_lines(source_nb) | {s for s in reference_lines() if not public(s)}


_TARGET = re.compile(r"^(return|[\w.\[\]'\"]+(,[\w.\[\]'\"]+)*=(?!=))")
MIN_NORMAL = 16


def normal(code: str) -> str:
    """Code without its whitespace, and a line without a leading `return` or assignment target: the same
    expression written `(torch.randn(size)*std)` in one place and `t = (torch.randn(size) * std)` in another."""
    return _TARGET.sub("", re.sub(r"\s+", "", code), count=1) if "\n" not in code else re.sub(r"\s+", "", code)


def found_in(text: str, lines: set[str], loose: bool = False) -> list[str]:
    """The forbidden `lines` that occur in `text`; `loose`: also with other spacing, assignment target or `return`
    (a line's expression of at least MIN_NORMAL characters: how a helper that copies a model answer under another
    name is caught, e.g. `t = (torch.randn(size) * std).requires_grad_()` for `init_params`)."""
    flat = re.sub(r"\s+", "", text) if loose else ""
    return sorted(s for s in lines if s in text or loose and len(normal(s)) >= MIN_NORMAL and normal(s) in flat)
