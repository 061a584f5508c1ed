"""The bubblewrap backend: the kernel in new mount, pid, network, ipc and uts namespaces.

Inside, the kernel sees only its `KernelView` (read-only system, runtime and data; a size-bounded tmpfs
as `/tmp`, its home and working folder; its socket folder), runs in a session of its own, dies with
its parent, and has no capabilities. When the grader is root, bubblewrap sets up the namespaces as root
and `setpriv` then drops the kernel to its own unprivileged uid (in a user namespace a root-mapped
process could not change uid). Otherwise bubblewrap uses a user namespace, and the kernel keeps the
grader's uid but sees none of its files.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

from .view import SYSTEM_DIRS, SYSTEM_LINKS, KernelView

INSIDE_SCRATCH = "/tmp"
NAMESPACES = ("--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try")


def binary() -> str | None:
    return shutil.which("bwrap")


def _privileged() -> bool:
    return os.geteuid() == 0


def _drop_uid(uid: int | None, gid: int | None) -> list[str]:
    if uid is None:
        return []
    return ["/usr/bin/setpriv" if os.path.exists("/usr/bin/setpriv") else shutil.which("setpriv") or "setpriv",
            f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--no-new-privs",
            "--inh-caps=-all", "--bounding-set=-all", "--"]


def _parents(path: Path, made: set[str]) -> list[str]:
    "`--dir` for every folder above `path` that the sandbox does not have yet (mode 0755, not 0700)."
    out = []
    for parent in reversed(path.parents):
        p = str(parent)
        if p == "/" or p in made or p in SYSTEM_DIRS or p == INSIDE_SCRATCH:
            continue
        made.add(p)
        out += ["--perms", "0755", "--dir", p]
    return out


def command(view: KernelView, inner: list[str], env: dict[str, str], uid: int | None = None,
            gid: int | None = None, caps: tuple[str, ...] = (), pid_namespace: bool = True) -> list[str]:
    """The bubblewrap command line that runs `inner` inside `view`, with exactly the environment `env`.
    A kernel template (`zygote.py`, as root) keeps `caps` and the host's pid namespace: it makes each kernel's
    namespaces itself."""
    args = [binary() or "bwrap", *(n for n in NAMESPACES if pid_namespace or n != "--unshare-pid")]
    for cap in caps:
        args += ["--cap-add", cap]
    if not _privileged():
        args += ["--unshare-user", "--disable-userns"]
    args += ["--die-with-parent", "--new-session", "--hostname", "ch4grade", "--clearenv"]
    for k, v in sorted(env.items()):
        args += ["--setenv", k, v]
    for d in SYSTEM_DIRS:
        args += ["--ro-bind", d, d]
    for link in SYSTEM_LINKS:
        if os.path.islink(link):
            args += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link):
            args += ["--ro-bind", link, link]
    args += ["--proc", "/proc", "--dev", "/dev",
             "--size", str(view.scratch_mb * 2**20), "--perms", "1777", "--tmpfs", INSIDE_SCRATCH]
    made: set[str] = set()
    for path in view.read_only:
        args += _parents(path, made) + ["--ro-bind", str(path), str(path)]
        made.add(str(path))
    for path in view.hidden:
        args += ["--perms", "0000", "--tmpfs", str(path)]
    args += _parents(view.run_dir, made) + ["--bind", str(view.run_dir), str(view.run_dir)]
    if view.fastai_config is not None:         # fastai's home: writable (archive, locks), its config read-only
        args += ["--perms", "1777", "--dir", f"{INSIDE_SCRATCH}/.fastai",
                 "--ro-bind", str(view.fastai_config), f"{INSIDE_SCRATCH}/.fastai/config.ini"]
    for dev in view.devices:
        args += ["--dev-bind", dev, dev]
    if view.devices:                       # the CUDA driver reads the PCI topology
        args += ["--ro-bind-try", "/sys", "/sys"]
    args += ["--chdir", INSIDE_SCRATCH, "--", *_drop_uid(uid, gid), *inner]
    return args


@lru_cache(maxsize=None)
def problem() -> str | None:
    "None when bubblewrap works here (with the namespaces and uid change grading uses); else why not."
    if binary() is None:
        return "bubblewrap is not installed (Debian/Ubuntu: apt install bubblewrap)"
    if _privileged() and not (os.path.exists("/usr/bin/setpriv") or shutil.which("setpriv")):
        return "setpriv (util-linux) is not installed"
    uid = 65534 if _privileged() else None
    with tempfile.TemporaryDirectory(prefix="ch4g-probe-") as run_dir:
        cmd = command(KernelView([], [], Path(run_dir), None, 16), ["/bin/sh", "-c", "exit 0"],
                      {"PATH": "/usr/bin:/bin"}, uid, uid)
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired) as e:
            return f"bubblewrap did not run ({e})"
    if proc.returncode != 0:
        detail = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
        return (f"bubblewrap cannot create its namespaces here ({detail}); user namespaces may be disabled "
                "(sysctl kernel.unprivileged_userns_clone, AppArmor on Ubuntu 24.04) or blocked by a "
                "container's seccomp profile")
    return None
