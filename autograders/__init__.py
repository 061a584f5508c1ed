"""ch4grade's autograders: the grading engine, checks, exporters and the nbgrader workflow.

In the instructor's check cells (what nbgrader's own autograde runs): `from autograders import check`.
Students receive `ch4check.py` instead (see `autograders.student`).
"""


def check(item_id: str, hidden: bool = False, assignment: str | None = None, **kwargs):
    "Run the checks of one item on your notebook's current state (see `autograders.selfcheck`)."
    from .selfcheck import check as _check
    return _check(item_id, hidden=hidden, assignment=assignment, **kwargs)
