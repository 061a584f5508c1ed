"""A cgroup per kernel: its memory, its number of processes and its CPU share, for the kernel and all it starts.

Created below the grader's own cgroup, on cgroup v2 (one unified hierarchy, `memory.max`, `pids.max`)
or v1 (the `memory` and `pids` hierarchies), where this process may create one (root, or a delegated
subtree). The launcher joins it before it execs the kernel; the kernel, under another uid, cannot
leave it, and clearing its environment or starting a new session changes nothing. Where the `cpu`
controller is there too, the kernel gets at most `cpus` cores, so a student's busy loops cannot slow a
classmate's grading down into its time limits.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from .. import processes
from ..processes import kill_until_gone

STALE_AFTER_S = 600        # an empty cgroup of a grader that is gone, this old, is swept (`_sweep`)


def _mounts() -> list[tuple[str, str, set[str]]]:
    "(mount point, fstype, super options) of every cgroup filesystem."
    found = []
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        left, _, right = line.partition(" - ")
        parts, rest = left.split(), right.split()
        if len(parts) < 5 or len(rest) < 3 or rest[0] not in ("cgroup", "cgroup2"):
            continue
        found.append((parts[4].replace("\\040", " "), rest[0], set(rest[2].split(","))))
    return found


def _sweep(parent: Path) -> None:
    """Remove the empty cgroups that graders killed outright (SIGKILL: no `remove`) left in `parent`: those
    whose creator (the pid in their name) is gone and that are older than STALE_AFTER_S. Never one with a
    process in it (rmdir refuses), nor a young one (a grader in another pid namespace may have just made it).
    Once per parent and process."""
    if not processes.swept_once(("cgroup", parent)):
        return
    for d in processes.left_behind(parent, "ch4grade", STALE_AFTER_S):
        try:
            d.rmdir()
        except OSError:
            continue


def _own_paths() -> dict[str, str]:
    "Our cgroup path per v1 controller, and under '' the v2 path (from /proc/self/cgroup)."
    paths = {}
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for c in (controllers.split(",") if controllers else [""]):
                paths[c] = path
    except (OSError, ValueError):
        pass
    return paths


@dataclass
class KernelCgroup:
    version: int
    dirs: dict[str, Path]                 # controller ("memory", "pids", "cpu"; v2: "unified") -> cgroup dir
    mem_mb: int
    max_procs: int
    cpus: int = 0                         # cores at most (0: not limited)

    @classmethod
    def create(cls, name: str, mem_mb: int, max_procs: int, cpus: int = 0) -> tuple["KernelCgroup | None", str]:
        """A new cgroup with the limits, or None and why not. Its folder is `ch4grade-<this pid>-<name>`, so
        that a later grader can tell one left behind (`_sweep`)."""
        mounts, own = _mounts(), _own_paths()
        name = f"{os.getpid()}-{name}"
        why = "no cgroup filesystem is mounted"
        for point, fstype, opts in mounts:
            if fstype != "cgroup2" or "" not in own:
                continue
            parent = Path(point + own[""])
            try:
                enabled = (parent / "cgroup.subtree_control").read_text().split()
            except OSError:
                continue
            if not {"memory", "pids"} <= set(enabled):
                why = "cgroup v2 without the memory and pids controllers delegated to this process"
                continue
            _sweep(parent)
            cg = cls._make(2, {"unified": parent / f"ch4grade-{name}"}, mem_mb, max_procs,
                           cpus if "cpu" in enabled else 0)
            if isinstance(cg, cls):
                return cg, ""
            why = cg
        v1 = {}
        for controller in ("memory", "pids", "cpu"):
            for point, fstype, opts in mounts:
                if fstype == "cgroup" and controller in opts and controller in own:
                    _sweep(Path(point + own[controller]))
                    v1[controller] = Path(point + own[controller]) / f"ch4grade-{name}"
                    break
        if {"memory", "pids"} <= set(v1):
            cg = cls._make(1, v1, mem_mb, max_procs, cpus if "cpu" in v1 else 0)
            if isinstance(cg, cls):
                return cg, ""
            why = cg
        elif mounts:
            why = f"cgroup v1 without {' and '.join(sorted({'memory', 'pids'} - set(v1)))}"
        return None, why

    @classmethod
    def _make(cls, version: int, dirs: dict[str, Path], mem_mb: int, max_procs: int, cpus: int):
        if not cpus:
            dirs = {k: v for k, v in dirs.items() if k != "cpu"}
        cg = cls(version, dirs, mem_mb, max_procs, cpus)
        try:
            for d in dirs.values():
                d.mkdir()
            limit = str(mem_mb * 2**20) if mem_mb else "max"
            if version == 2:
                d = dirs["unified"]
                (d / "memory.max").write_text(limit)
                if (d / "memory.swap.max").exists():
                    (d / "memory.swap.max").write_text("0")
                (d / "pids.max").write_text(str(max_procs) if max_procs else "max")
                if cpus:
                    (d / "cpu.max").write_text(f"{cpus * 100000} 100000")
            else:
                mem, pids = dirs["memory"], dirs["pids"]
                (mem / "memory.limit_in_bytes").write_text(limit if mem_mb else "-1")
                if mem_mb and (mem / "memory.memsw.limit_in_bytes").exists():
                    try:                      # no swapping past the cap either (where swap is accounted)
                        (mem / "memory.memsw.limit_in_bytes").write_text(limit)
                    except OSError:
                        pass
                (pids / "pids.max").write_text(str(max_procs) if max_procs else "max")
                if cpus:
                    (dirs["cpu"] / "cpu.cfs_period_us").write_text("100000")
                    (dirs["cpu"] / "cpu.cfs_quota_us").write_text(str(cpus * 100000))
        except OSError as e:
            cg.remove()
            return f"cannot create a cgroup ({e.strerror or e}: {e.filename})"
        return cg

    def describe(self) -> dict:
        return {"memory": f"cgroup v{self.version}: {self.mem_mb} MB for the kernel and its children"
                          if self.mem_mb else f"cgroup v{self.version}: no memory limit",
                "processes": f"cgroup v{self.version}: at most {self.max_procs} tasks",
                "cpu": f"cgroup v{self.version}: at most {self.cpus} core(s)" if self.cpus else "not limited"}

    def join_dirs(self) -> list[str]:
        "The folders whose cgroup.procs the launcher writes its pid to."
        return [str(d) for d in self.dirs.values()]

    def procs(self) -> list[int]:
        d = self.dirs.get("unified") or self.dirs["pids"]
        try:
            return [int(p) for p in (d / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            return []

    def memory_mb(self) -> float:
        d = self.dirs.get("unified") or self.dirs["memory"]
        name = "memory.current" if self.version == 2 else "memory.usage_in_bytes"
        try:
            return int((d / name).read_text()) / 2**20
        except (OSError, ValueError):
            return 0.0

    def _memory_events(self) -> dict[str, int]:
        d = self.dirs.get("unified") or self.dirs["memory"]
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        events = {}
        try:
            for line in (d / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                events[key] = int(value)
        except (OSError, ValueError):
            pass
        return events

    def oom_kills(self) -> int:
        "How many processes an out-of-memory killer stopped in this cgroup (its own limit's, or the machine's)."
        return self._memory_events().get("oom_kill", 0)

    def own_limit_ooms(self) -> int | None:
        """How many times the kernel's own memory limit ran out (cgroup v2's `oom`: not counted when the whole
        machine, or a cgroup above, ran out); None where the cgroup cannot tell (v1)."""
        return self._memory_events().get("oom", 0) if self.version == 2 else None

    def kill(self, rounds: int = 50) -> None:
        "SIGKILL every process in the cgroup until none is left (pids.max bounds any fork race)."
        if self.version == 2 and (self.dirs["unified"] / "cgroup.kill").exists():
            try:
                (self.dirs["unified"] / "cgroup.kill").write_text("1")
            except OSError:
                pass
        kill_until_gone(self.procs, rounds)

    def remove(self) -> None:
        for d in self.dirs.values():
            for _ in range(20):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:              # still busy: its last processes are being reaped
                    time.sleep(0.05)
