"""`--cluster local[:N] | tcp://HOST:PORT` for the commands that grade a class (`grade`, `autograde`): the
option, and one clear line on stderr (exit 2) when the value is malformed, Dask is not installed, or no
scheduler answers. See `autograders/cluster.py`."""
from __future__ import annotations

import argparse
import sys

from ..cluster import ClusterError, parse, require_dask

HELP = ("grade on Dask (the ch4grade[dask] extra): local[:N] starts N worker processes here, tcp://HOST:PORT "
        "uses a running scheduler (one task per submission; results written by this process)")


def add_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cluster", default=None, metavar="local[:N]|tcp://HOST:PORT", help=HELP)


def resolve(spec: str | None, prog: str = "ch4grade") -> bool:
    "False (after one line on stderr) when `spec` is not a usable --cluster value."
    if spec is None:
        return True
    try:
        parse(spec)
        require_dask()
    except ClusterError as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return False
    return True
