"""A uid of its own for every sandboxed kernel, when the grader runs as root.

Kernels then cannot signal, ptrace or read each other or the grader, and `RLIMIT_NPROC` counts one
kernel's processes alone. The uids come from `$CH4GRADE_SANDBOX_UIDS` (default 50000-50999), skipping
any that belongs to an account; a uid is held by an flock in a root-only folder for as long as its
kernel lives, and freed when the holder closes it or dies.
"""
from __future__ import annotations

import fcntl
import os
import pwd
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

RANGE_ENV = "CH4GRADE_SANDBOX_UIDS"
DEFAULT_RANGE = (50000, 50999)


def uid_range() -> tuple[int, int]:
    text = os.environ.get(RANGE_ENV, "")
    try:
        lo, hi = (int(x) for x in text.split("-", 1))
        if 1000 <= lo <= hi < 2**31:
            return lo, hi
    except ValueError:
        pass
    return DEFAULT_RANGE


def _lock_dir() -> Path:
    "A folder only root can write, checked to be ours (not a link someone planted)."
    base = Path("/run/lock") if os.access("/run/lock", os.W_OK) else Path(tempfile.gettempdir())
    d = base / "ch4grade-uids"
    try:
        d.mkdir(mode=0o700)
    except FileExistsError:
        pass
    st = os.lstat(d)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != 0 or st.st_mode & 0o022:
        raise PermissionError(f"{d} is not a root-only folder")
    return d


def _is_account(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
        return True
    except KeyError:
        return False


@dataclass
class UidLease:
    uid: int
    fd: int

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def lease() -> UidLease:
    "Hold a free sandbox uid (root only); raises PermissionError or RuntimeError when none can be had."
    if os.geteuid() != 0:
        raise PermissionError("only root can run kernels under their own uid")
    d = _lock_dir()
    lo, hi = uid_range()
    start = lo + int.from_bytes(os.urandom(2), "little") % (hi - lo + 1)
    for i in range(hi - lo + 1):
        uid = lo + (start - lo + i) % (hi - lo + 1)
        if _is_account(uid):
            continue
        fd = os.open(d / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return UidLease(uid, fd)
    raise RuntimeError(f"all sandbox uids {lo}-{hi} are in use")
