"""pytest integration (filled in below): `pytest --notebook PATH` grades a notebook, one test per check."""
from __future__ import annotations


def pytest_addoption(parser):
    group = parser.getgroup("ch4grade")
    group.addoption("--notebook", action="append", default=[], help="grade this notebook: each check is a test")
    group.addoption("--assignment", default=None, help="the notebook's assignment (default: from its metadata)")
