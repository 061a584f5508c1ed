"""Finding and killing processes through /proc (Linux): by a marker in their environment or by ancestry."""
from __future__ import annotations

import os
import signal
import time
from typing import Callable


def matching(needle: bytes, where: str = "environ") -> list[int]:
    "Live processes (other than this one) whose /proc/<pid>/<where> contains `needle`."
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/{where}", "rb") as f:
                if needle in f.read():
                    found.append(int(entry))
        except OSError:
            continue
    return found


def descendants(root: int) -> list[int]:
    "Every process below `root` in the process tree."
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def parent(pid: int) -> int | None:
    "The parent pid of `pid`, or None if it is gone."
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def zombie_exit_code(pid: int) -> int | None:
    "The exit code (as Popen.returncode gives it) of `pid` if it is a zombie not yet reaped, else None."
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return os.waitstatus_to_exitcode(int(fields[49])) if fields[0] == "Z" else None
    except (OSError, ValueError, IndexError):
        return None


def alive(pid: int) -> bool:
    "Whether `pid` is a live process (not a zombie)."
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def kill_until_gone(find: Callable[[], list[int]], rounds: int = 5) -> None:
    "SIGKILL whatever `find()` returns, again until it returns nothing (reaping our own dead children)."
    for _ in range(rounds):
        pids = find()
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.05)
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass
