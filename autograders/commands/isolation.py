"""`--isolation strict|auto|none` for every command that grades: the option, and one clear line on stderr
when the sandbox asked for cannot be had (the command then exits 2) or when grading runs without one."""
from __future__ import annotations

import argparse
import sys

from ..execute.sandbox import MODES, IsolationUnavailable, Sandbox, choose

HELP = ("how student code is sandboxed: strict (refuse to grade without bubblewrap or Landlock), auto (the "
        "strongest that works here), none (rlimits only); bwrap or landlock name one backend")


def add_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--isolation", choices=MODES, default="auto", help=HELP)


def resolve(mode: str, prog: str = "ch4grade") -> Sandbox | None:
    "The sandbox for `mode`, warning loudly when it is none; None (after one line on stderr) if unavailable."
    try:
        box = choose(mode)
    except IsolationUnavailable as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return None
    if box.warning:
        print(f"{prog}: WARNING: {box.warning}", file=sys.stderr)
    return box
