"""Finding and killing processes through /proc (Linux): by a marker in their environment or by ancestry."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path
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


def _stat(pid: int | str) -> list[str] | None:
    "The fields of /proc/<pid>/stat after the command name (state, ppid, ...), or None if it is gone."
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def parent(pid: int | str) -> int | None:
    "The parent pid of `pid`, or None if it is gone."
    fields = _stat(pid)
    try:
        return int(fields[1]) if fields else None
    except (ValueError, IndexError):
        return None


def descendants(root: int) -> list[int]:
    "Every process below `root` in the process tree."
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (ppid := parent(entry)) is not None:
            children.setdefault(ppid, []).append(int(entry))
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def cpu_seconds(pids: list[int]) -> float:
    "The CPU time (user and system) `pids` used, with that of the children they reaped; those gone count 0."
    total = 0
    for pid in pids:
        fields = _stat(pid)
        try:
            total += sum(int(f) for f in fields[11:15]) if fields else 0    # utime stime cutime cstime
        except ValueError:
            continue
    return total / os.sysconf("SC_CLK_TCK")


def zombie_exit_code(pid: int) -> int | None:
    "The exit code (as Popen.returncode gives it) of `pid` if it is a zombie not yet reaped, else None."
    fields = _stat(pid)
    try:
        return os.waitstatus_to_exitcode(int(fields[49])) if fields and fields[0] == "Z" else None
    except (ValueError, IndexError):
        return None


def alive(pid: int) -> bool:
    "Whether `pid` is a live process (not a zombie)."
    fields = _stat(pid)
    return bool(fields) and fields[0] != "Z"


def left_behind(base: Path, prefix: str, min_age_s: float = 0.0) -> list[Path]:
    """The entries `<prefix>-<pid>-...` of `base` whose creator (that pid) is gone and which are at least
    `min_age_s` old: what a process killed outright (SIGKILL) could not remove. Sweep each `base` once per
    process (`swept_once`)."""
    found = []
    try:
        entries = list(base.glob(f"{prefix}-*-*"))
    except OSError:
        return found
    for d in entries:
        try:
            pid = int(d.name[len(prefix) + 1:].split("-")[0])
            if not alive(pid) and time.time() - d.stat().st_mtime >= min_age_s:
                found.append(d)
        except (ValueError, OSError):
            continue
    return found


_SWEPT: set = set()


def swept_once(key) -> bool:
    "True the first time this process asks for `key` (a folder to sweep), False after."
    if key in _SWEPT:
        return False
    _SWEPT.add(key)
    return True


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
