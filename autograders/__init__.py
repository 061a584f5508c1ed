"""ch4grade's autograders: the grading engine, checks, exporters and the nbgrader workflow.

In the instructor's check cells (what nbgrader's own autograde runs): `from autograders import check`.
Students receive `ch4check.py` instead (see `autograders.student`).
"""
import sys

# jsonschema (under nbformat) imports its optional IRI format checker, rfc3987_syntax, which builds a Lark
# grammar at import time: 0.9 s of CPU in every process that reads a notebook (each grading worker, each
# command; `import nbformat` 1.24 s -> 0.31 s without it). nbformat never checks formats, so ch4grade's
# processes go without it: importing it fails, and jsonschema skips that one checker. (No effect where it
# was imported already.)
sys.modules.setdefault("rfc3987_syntax", None)


def check(item_id: str, hidden: bool = False, assignment: str | None = None, **kwargs):
    "Run the checks of one item on your notebook's current state (see `autograders.selfcheck`)."
    from .selfcheck import check as _check
    return _check(item_id, hidden=hidden, assignment=assignment, **kwargs)
