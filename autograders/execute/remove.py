"""Removing a folder a kernel could write in, whatever it put there.

`shutil.rmtree` recurses once per folder level: a kernel that made a chain of folders deeper than Python's
recursion limit makes it raise RecursionError (which `ignore_errors` does not cover), and paths in such a
chain outgrow PATH_MAX. GNU `rm -rf` walks any depth with a bounded number of descriptors and never follows a
symbolic link; where it cannot run, `shutil.rmtree` does what it can. Never raises.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path


def remove_tree(path: str | os.PathLike) -> None:
    "Remove `path` and everything below it (staying on its file system); nothing if it is not there."
    path = Path(path)
    if not os.path.lexists(path):
        return
    try:
        subprocess.run(["rm", "-rf", "--one-file-system", "--", str(path)], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300, check=False)
    except (OSError, subprocess.SubprocessError):
        pass
    if os.path.lexists(path):
        try:
            shutil.rmtree(path, ignore_errors=True)
        except Exception:               # (RecursionError, among others)
            pass
