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


def solution_lines(source_nb) -> set[str]:
    "The substantive lines of the notebook's solutions and hidden tests that its public text does not also show."
    from ..workflow.release import public_text, secret_snippets
    public = public_text(source_nb)
    return {s for s in secret_snippets(source_nb) if substantive(s) and s not in public}


def forbidden_lines(source_nb) -> set[str]:
    "Solution, hidden-test and reference lines a student must not receive (the notebook's public text excepted)."
    from ..workflow.release import public_text
    public = public_text(source_nb)
    return solution_lines(source_nb) | {s for s in reference_lines() if s not in public}


def found_in(text: str, lines: set[str]) -> list[str]:
    "The forbidden `lines` that occur in `text`."
    return sorted(s for s in lines if s in text)
