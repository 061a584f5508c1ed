"""Start a grading kernel inside its limits: `python -I /abs/path/launch.py [options] -- CMD...`.

Standard library only, run by absolute path in isolated mode (`-I`), so no module is ever resolved from
a folder a student can write. In order, before it execs CMD (the kernel, or bubblewrap wrapping it):
1. joins the kernel's cgroups (`--cgroup DIR`, memory and process count for everything it starts);
2. sets rlimits: address space (`--mem-mb`), file size, no core dumps, processes (`--nproc`, counted
   per uid, so it bites under the kernel's own uid);
3. cuts the network with a new, empty network namespace where it can (`--try-no-network`; bubblewrap
   makes its own);
4. becomes a child subreaper (`--subreaper`), so orphans stay below the kernel;
5. forbids new user namespaces and the kernel keyrings (`--no-userns`: a seccomp filter; bubblewrap as root
   needs no user namespace, and the kernel gains nothing from one but the Linux kernel's attack surface);
6. drops to the kernel's own uid and gid (`--uid/--gid`, no supplementary groups, no capabilities), or
   stays uid 0 without any capability (`--drop-caps`, securebits locked);
7. applies Landlock (`--landlock-ro/-rw/-dev PATH`): the only files it may touch afterwards.
Any step that was asked for and fails stops the launch (exit 111): a kernel never runs with less
isolation than the grader reports.
"""
from __future__ import annotations

import argparse
import ctypes
import os
import resource
import sys

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
PR_SET_CHILD_SUBREAPER = 36
PR_CAPBSET_DROP, PR_SET_SECUREBITS = 24, 28
SECURE_ALL_BITS_LOCKED = 0x3f          # noroot, no_setuid_fixup, keep_caps(off): each with its lock
LINUX_CAPABILITY_VERSION_3 = 0x20080522
FAILED = 111


def fail(message: str) -> None:
    print(f"ch4grade launch: {message}", file=sys.stderr, flush=True)
    os._exit(FAILED)


def _best_effort(step) -> None:
    try:
        step()
    except OSError:
        pass


def join_cgroups(dirs: list[str]) -> None:
    for d in dirs:
        with open(os.path.join(d, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))


def set_limits(mem_mb: int, max_file_mb: int, nproc: int) -> None:
    if mem_mb > 0:
        resource.setrlimit(resource.RLIMIT_AS, (mem_mb * 2**20,) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if max_file_mb > 0:
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_mb * 2**20,) * 2)
    if nproc > 0:
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))


def unshare_network() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) == 0:
        return
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), f"unshare: {os.strerror(ctypes.get_errno())}")
    with open("/proc/self/setgroups", "w") as f:       # keep our own uid inside the user namespace
        f.write("deny")
    with open("/proc/self/uid_map", "w") as f:
        f.write(f"{uid} {uid} 1")
    with open("/proc/self/gid_map", "w") as f:
        f.write(f"{gid} {gid} 1")


def drop_privileges(uid: int, gid: int) -> None:
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise OSError("the uid did not change")


# seccomp: (audit arch, unshare, clone, clone3, (add_key, request_key, keyctl)) per machine
SECCOMP_ARCH = {"x86_64": (0xC000003E, 272, 56, 435, (248, 249, 250)),
                "aarch64": (0xC00000B7, 97, 220, 435, (217, 218, 219))}
CLONE_NEWUSER_FLAG = 0x10000000
X32_BIT = 0x40000000          # x86_64's x32 ABI: the same calls under other numbers, none of them ours to allow
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
RET_ALLOW, RET_ERRNO = 0x7FFF0000, 0x00050000
EPERM, ENOSYS = 1, 38


def forbid_user_namespaces() -> None:
    """A seccomp filter for this process and all it starts: unshare() or clone() asking for a new user
    namespace fail with EPERM; clone3() with ENOSYS, so the C library falls back to clone(); so does every
    call by its x32 number (which would slip past the checks that follow). The kernel
    keyrings too (add_key, request_key, keyctl: EPERM): they belong to a uid, not to a sandbox, so a key
    left by one kernel would wait for the next one given that uid."""
    import platform
    import struct
    arch, unshare, clone, clone3, (add_key, request_key, keyctl) = SECCOMP_ARCH[platform.machine()]
    ld, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    program = [(ld, 0, 0, 4),                          # 0  the architecture
               (jeq, 1, 0, arch),                      # 1  ours -> 3, else -> 2
               (ret, 0, 0, RET_ALLOW),                 # 2
               (ld, 0, 0, 0),                          # 3  the syscall number
               (jge, 1, 0, X32_BIT),                   # 4  the x32 numbering of the same calls -> 6
               (jeq, 0, 1, clone3),                    # 5  clone3 -> 6
               (ret, 0, 0, RET_ERRNO | ENOSYS),        # 6
               (jeq, 7, 0, add_key),                   # 7  the keyrings -> 15
               (jeq, 6, 0, request_key),               # 8
               (jeq, 5, 0, keyctl),                    # 9
               (jeq, 1, 0, unshare),                   # 10 unshare -> 12
               (jeq, 0, 2, clone),                     # 11 clone -> 12, else -> 14
               (ld, 0, 0, 16),                         # 12 its first argument (the flags)
               (jset, 1, 0, CLONE_NEWUSER_FLAG),       # 13 a new user namespace -> 15
               (ret, 0, 0, RET_ALLOW),                 # 14
               (ret, 0, 0, RET_ERRNO | EPERM)]         # 15
    code = b"".join(struct.pack("HBBI", *ins) for ins in program)
    buf = ctypes.create_string_buffer(code)
    prog = struct.pack("HxxxxxxP", len(program), ctypes.addressof(buf))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.c_char_p(prog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"seccomp: {os.strerror(ctypes.get_errno())}")


def drop_capabilities() -> None:
    "Stay uid 0 but without any capability, now and after exec (securebits locked)."
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_SECUREBITS, SECURE_ALL_BITS_LOCKED & ~0x10, 0, 0, 0) != 0:  # all but keep_caps
        raise OSError(ctypes.get_errno(), f"securebits: {os.strerror(ctypes.get_errno())}")
    drop_bounding_set()
    clear_capabilities()


def drop_bounding_set() -> None:
    "No capability can ever be gained again (needs CAP_SETPCAP, so before any other is dropped)."
    libc = ctypes.CDLL(None, use_errno=True)
    cap = 0
    while libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0 or ctypes.get_errno() != 22:   # EINVAL: no such cap
        cap += 1
        if cap > 128:
            break


def clear_capabilities() -> None:
    "Effective, permitted and inheritable capabilities: all empty."
    libc = ctypes.CDLL(None, use_errno=True)
    header = (ctypes.c_uint32 * 2)(LINUX_CAPABILITY_VERSION_3, 0)
    if libc.capset(header, (ctypes.c_uint32 * 6)()) != 0:
        raise OSError(ctypes.get_errno(), f"capset: {os.strerror(ctypes.get_errno())}")


def apply_landlock(ro: list[str], rw: list[str], dev: list[str]) -> None:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import landlock  # beside this file
    landlock.restrict(ro, rw, dev)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if "--" not in argv:
        fail("usage: python -I launch.py [options] -- CMD...")
    cut = argv.index("--")
    p = argparse.ArgumentParser()
    p.add_argument("--cgroup", action="append", default=[])
    p.add_argument("--mem-mb", type=int, default=0)
    p.add_argument("--max-file-mb", type=int, default=1024)
    p.add_argument("--nproc", type=int, default=0)
    p.add_argument("--try-no-network", action="store_true", help="cut the network where possible")
    p.add_argument("--drop-caps", action="store_true")
    p.add_argument("--no-userns", action="store_true")
    p.add_argument("--subreaper", action="store_true")
    p.add_argument("--uid", type=int)
    p.add_argument("--gid", type=int)
    p.add_argument("--landlock", action="store_true")
    p.add_argument("--landlock-ro", action="append", default=[])
    p.add_argument("--landlock-rw", action="append", default=[])
    p.add_argument("--landlock-dev", action="append", default=[])
    opts = p.parse_args(argv[:cut])
    cmd = argv[cut + 1:]
    if not cmd:
        fail("no command to run")
    steps = [("joining the kernel's cgroups", lambda: join_cgroups(opts.cgroup)),
             ("setting rlimits", lambda: set_limits(opts.mem_mb, opts.max_file_mb, opts.nproc))]
    if opts.try_no_network:
        steps.append(("cutting the network where possible", lambda: _best_effort(unshare_network)))
    if opts.subreaper:
        steps.append(("becoming a subreaper", lambda: ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1)))
    if opts.no_userns:
        steps.append(("forbidding user namespaces", forbid_user_namespaces))
    if opts.uid is not None:
        steps.append(("dropping to the kernel's uid", lambda: drop_privileges(opts.uid, opts.gid)))
    if opts.drop_caps:
        steps.append(("dropping capabilities", drop_capabilities))
    if opts.landlock:
        steps.append(("applying Landlock", lambda: apply_landlock(opts.landlock_ro, opts.landlock_rw,
                                                                  opts.landlock_dev)))
    for what, step in steps:
        try:
            step()
        except (OSError, ValueError) as e:
            fail(f"{what} failed: {e}")
    try:
        os.execv(cmd[0], cmd)
    except OSError as e:
        fail(f"cannot run {cmd[0]}: {e}")


if __name__ == "__main__":
    main()
