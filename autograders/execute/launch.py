"""Start a kernel process inside limits: `python -m autograders.execute.launch [options] -- CMD...`.

Before it execs the kernel command it (1) caps the address space (`--mem-mb`, RLIMIT_AS; skipped when
0, e.g. for CUDA, whose driver maps huge virtual ranges), (2) cuts the network by moving into a new,
empty network namespace (`--no-network`; needs root or user namespaces; the kernel talks to the
grader over Unix sockets, which still work), (3) caps core dumps and the file size it may write.
It reports what it could and could not apply in `$CH4GRADE_ISOLATION_REPORT` (a file), then execs.
"""
from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import sys

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000


def _unshare_network() -> str:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) == 0:
        return "isolated (new network namespace)"
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0:
        try:  # keep our own uid inside the user namespace
            with open("/proc/self/setgroups", "w") as f:
                f.write("deny")
            with open("/proc/self/uid_map", "w") as f:
                f.write(f"{uid} {uid} 1")
            with open("/proc/self/gid_map", "w") as f:
                f.write(f"{gid} {gid} 1")
        except OSError:
            pass
        return "isolated (user + network namespace)"
    return f"not isolated (unshare failed: {os.strerror(ctypes.get_errno())})"


def apply_limits(mem_mb: int, no_network: bool, max_file_mb: int) -> dict:
    report = {}
    if mem_mb > 0:
        limit = mem_mb * 2**20
        try:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            report["memory"] = f"address space capped at {mem_mb} MB"
        except (ValueError, OSError) as e:
            report["memory"] = f"not capped ({e})"
    else:
        report["memory"] = "address space not capped (RSS watchdog only)"
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if max_file_mb > 0:
            resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_mb * 2**20,) * 2)
    except (ValueError, OSError):
        pass
    report["network"] = _unshare_network() if no_network else "allowed"
    return report


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if "--" not in argv:
        sys.exit("usage: python -m autograders.execute.launch [--mem-mb N] [--no-network] -- CMD...")
    cut = argv.index("--")
    parser = argparse.ArgumentParser()
    parser.add_argument("--mem-mb", type=int, default=0)
    parser.add_argument("--max-file-mb", type=int, default=1024)
    parser.add_argument("--no-network", action="store_true")
    opts = parser.parse_args(argv[:cut])
    cmd = argv[cut + 1:]
    report = apply_limits(opts.mem_mb, opts.no_network, opts.max_file_mb)
    path = os.environ.get("CH4GRADE_ISOLATION_REPORT")
    if path:
        with open(path, "w") as f:
            json.dump(report, f)
    os.execvp(cmd[0], cmd)


if __name__ == "__main__":
    main()
