"""Where grading kernels run: a sandbox backend, chosen at run time.

    sandbox = choose("auto")        # the strongest backend that works here
    argv = sandbox.argv(view, kernel_argv, env, limits, cgroup, uid)

Backends, strongest first:
- `bwrap`: bubblewrap namespaces (see `bwrap.py`);
- `landlock`: where namespaces are blocked (Docker's default seccomp profile, Ubuntu 24.04's AppArmor
  rules for user namespaces): the same file-access rules through Landlock (`landlock.py`), TCP refused,
  signals kept inside;
- `none`: rlimits and a best-effort network namespace only; reported loudly.

Modes: `auto` takes the strongest backend that works; `strict` refuses to grade (`IsolationUnavailable`)
unless `bwrap` or `landlock` works; `none` asks for no sandbox; `bwrap` or `landlock` names one backend.
Limits come on top of any backend: a cgroup per kernel where the machine has one, else RLIMIT_NPROC
under the kernel's own uid, plus the address-space, file-size and core rlimits.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from . import bwrap
from . import landlock
from .view import KernelView, allow_list

MODES = ("strict", "auto", "none", "bwrap", "landlock")
BACKENDS = ("bwrap", "landlock", "none")
LAUNCH = str(Path(__file__).resolve().with_name("launch.py"))
NONE_WARNING = ("no sandbox: the student's code runs as the grader's user and can read and write every "
                "file the grader can (answer keys, other students' results); use --isolation strict")


class IsolationUnavailable(RuntimeError):
    "The isolation asked for cannot be had on this machine (the message says what to install or enable)."


def _runtime_open_to_others(paths: list[Path]) -> str | None:
    "None when another uid can reach and read `paths`; else the first folder that stops it."
    for path in paths:
        for p in [*reversed(path.parents), path]:
            try:
                if not os.stat(p).st_mode & 0o001:
                    return str(p)
            except OSError:
                return str(p)
    return None


@lru_cache(maxsize=None)
def landlock_problem() -> str | None:
    "None when Landlock can confine a kernel here; else why not."
    try:
        version = landlock.abi()
    except OSError as e:
        return f"Landlock is not available ({e})"
    if version < 1:
        return "Landlock is not enabled in this kernel (Linux >= 5.13 with `landlock` in the lsm= boot list)"
    return None


def problem(backend: str) -> str | None:
    return {"bwrap": bwrap.problem, "landlock": landlock_problem}.get(backend, lambda: None)()


@dataclass(frozen=True)
class Sandbox:
    backend: str                                  # bwrap | landlock | none
    mode: str = "auto"                            # what was asked for
    skipped: tuple[str, ...] = field(default=())  # why stronger backends were not used

    @property
    def warning(self) -> str | None:
        return NONE_WARNING if self.backend == "none" else None

    def describe(self) -> dict:
        d = {"backend": self.backend, "mode": self.mode}
        if self.skipped:
            d["not_used"] = list(self.skipped)
        if self.warning:
            d["warning"] = self.warning
        return d

    def argv(self, view: KernelView, kernel: list[str], env: dict[str, str], *, mem_mb: int,
             max_file_mb: int, nproc: int, cgroup_dirs: list[str], uid: int | None) -> list[str]:
        """The whole command: the launcher (cgroups, rlimits, ...) and, through it, the kernel."""
        launch = [sys.executable, "-I", LAUNCH, "--mem-mb", str(mem_mb), "--max-file-mb", str(max_file_mb)]
        for d in cgroup_dirs:
            launch += ["--cgroup", d]
        if uid is not None and nproc:
            launch += ["--nproc", str(nproc)]
        if self.backend == "landlock" or self.backend == "bwrap" and os.geteuid() == 0:
            launch += ["--no-userns"]              # (unprivileged bubblewrap forbids them with --disable-userns)
        if self.backend == "bwrap":
            return launch + ["--", *bwrap.command(view, kernel, env, uid, uid)]
        launch += ["--try-no-network", "--subreaper"]
        if self.backend == "landlock":
            if uid is not None:
                launch += ["--uid", str(uid), "--gid", str(uid)]
            elif os.geteuid() == 0:
                launch += ["--drop-caps"]
            launch += ["--landlock"]
            ro = ["/usr", "/etc", "/proc", "/sys", *allow_list(view.read_only, view.hidden)]
            rw = [str(view.run_dir), str(view.scratch), "/dev/shm"]
            dev = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", *view.devices]
            for flag, paths in (("--landlock-ro", ro), ("--landlock-rw", rw), ("--landlock-dev", dev)):
                for p in paths:
                    launch += [flag, p]
        return launch + ["--", *kernel]

    def kernel_uid_possible(self, view: KernelView) -> bool:
        """Whether the kernel gets a uid of its own: the grader is root and sandboxes it, and (Landlock,
        which cannot bind folders in) other uids can reach the runtime and the data."""
        if os.geteuid() != 0 or self.backend == "none":
            return False
        if self.backend == "landlock":
            return _runtime_open_to_others(view.read_only) is None
        return True


def choose(mode: str = "auto") -> Sandbox:
    "The sandbox for `mode`; raises IsolationUnavailable when `strict` (or a named backend) cannot be had."
    mode = (mode or "auto").lower()
    if mode not in MODES:
        raise ValueError(f"unknown isolation {mode!r}; choose one of {', '.join(MODES)}")
    if mode == "none":
        return Sandbox("none", mode)
    if mode in ("bwrap", "landlock"):
        why = problem(mode)
        if why:
            raise IsolationUnavailable(f"--isolation {mode}: {why}")
        return Sandbox(mode, mode)
    skipped = []
    for backend in ("bwrap", "landlock"):
        why = problem(backend)
        if why is None:
            return Sandbox(backend, mode, tuple(skipped))
        skipped.append(f"{backend}: {why}")
    if mode == "strict":
        raise IsolationUnavailable(
            "--isolation strict: no sandbox works here. Install bubblewrap (apt install bubblewrap) and allow "
            "user namespaces, or run on Linux >= 5.13 with Landlock enabled. " + "; ".join(skipped))
    return Sandbox("none", mode, tuple(skipped))
