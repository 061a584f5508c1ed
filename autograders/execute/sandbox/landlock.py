"""Landlock (Linux >= 5.13): restrict what this process and everything it starts may touch.

Standard library only: the launcher imports it by path before it execs the kernel. `restrict()`
allows reading (and executing) below `read_only`, everything below `read_write`, and nothing else on
the filesystem; from ABI 4 it also refuses every TCP bind and connect, and from ABI 6 it keeps signals
and abstract Unix sockets inside the sandbox. The rules cannot be lifted by the restricted process.
"""
from __future__ import annotations

import ctypes
import os

SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446   # the same on x86-64 and arm64
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38

FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
FS_ALL_ABI1 = (1 << 13) - 1          # execute .. make_sym
FS_REFER, FS_TRUNCATE, FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1

READ = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR


class RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class LandlockError(OSError):
    pass


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def abi() -> int:
    "The Landlock ABI version this kernel offers (0: none, or disabled at boot)."
    libc = _libc()
    libc.syscall.restype = ctypes.c_long
    version = libc.syscall(SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(CREATE_RULESET_VERSION))
    return max(int(version), 0)


def handled_fs(version: int) -> int:
    "Every filesystem right this ABI knows: all of them are refused unless a rule allows them."
    rights = FS_ALL_ABI1
    if version >= 2:
        rights |= FS_REFER
    if version >= 3:
        rights |= FS_TRUNCATE
    if version >= 5:
        rights |= FS_IOCTL_DEV
    return rights


def restrict(read_only: list[str], read_write: list[str], devices: list[str] = ()) -> dict:
    """Apply the rules to this process (and, through exec and fork, to all it starts).

    `devices`: character devices opened for reading and writing (/dev/null, GPUs). Paths that do not
    exist are skipped. Returns what is enforced; raises LandlockError when Landlock is unavailable."""
    version = abi()
    if version < 1:
        raise LandlockError("Landlock is not available in this kernel")
    libc = _libc()
    libc.syscall.restype = ctypes.c_long
    fs = handled_fs(version)
    attr = RulesetAttr(fs, NET_BIND_TCP | NET_CONNECT_TCP if version >= 4 else 0,
                       SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if version >= 6 else 0)
    size = 24 if version >= 6 else 16 if version >= 4 else 8
    ruleset = libc.syscall(SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        raise LandlockError(f"landlock_create_ruleset: {os.strerror(ctypes.get_errno())}")
    file_rights = (FS_EXECUTE | FS_READ_FILE | FS_WRITE_FILE) | (fs & (FS_TRUNCATE | FS_IOCTL_DEV))
    try:
        for paths, rights in ((read_only, READ), (read_write, fs),
                              (devices, FS_READ_FILE | FS_WRITE_FILE | (fs & FS_IOCTL_DEV))):
            for path in paths:
                _add_rule(libc, ruleset, path, rights, file_rights)
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise LandlockError(f"prctl(NO_NEW_PRIVS): {os.strerror(ctypes.get_errno())}")
        if libc.syscall(SYS_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)) != 0:
            raise LandlockError(f"landlock_restrict_self: {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(ruleset)
    return {"abi": version, "tcp": "refused" if version >= 4 else "not restricted (ABI < 4)",
            "signals": "only inside the sandbox" if version >= 6 else "not scoped (ABI < 6)"}


def _add_rule(libc, ruleset: int, path: str, rights: int, file_rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return                                   # absent: nothing to allow
    try:
        if not os.path.isdir(path):
            rights &= file_rights                # directory rights cannot be granted on a file
        attr = PathBeneathAttr(rights, fd)
        if libc.syscall(SYS_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(RULE_PATH_BENEATH),
                        ctypes.byref(attr), ctypes.c_uint32(0)) != 0:
            raise LandlockError(f"landlock_add_rule({path}): {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(fd)
