"""A kernel template: a clean, sandboxed Python that has imported torch and the notebook's modules once, and forks
every grading kernel from that image (`python -I zygote.py FD [--preload MODULE]...`, inside bubblewrap; FD: the
Unix socket the grader bound and listens on, passed down).

Standard library only, run by absolute path in isolated mode, like `launch.py` (whose steps it reuses). It never
imports the grader, never reads a submission and never runs a student's code: it imports the modules, says
`ready` on stdout, and then serves the grader on that socket (only root can reach it): for each connection it forks
a child (C), which reads the grader's `spawn` request (the template itself never holds one), then

1. tells the grader its pid and waits while the grader moves it into the kernel's cgroups (memory, processes,
   CPU: everything C starts is counted there; the template's pages it shares stay the template's until written);
2. makes new mount, network, IPC, UTS, cgroup and pid namespaces of its own, and in them: a fresh size-bounded
   tmpfs as `/tmp` (the kernel's home and working folder), an empty root-owned `/dev/shm` (as bubblewrap's), the
   template's folder (every other kernel's socket folder and the template's socket) covered up, its own socket
   folder bound back in (and, read-only, whatever of its view lies under /tmp: a newcomer's data), its own
   `/dev/pts`, its loopback up;
3. forks the new pid namespace's init (I: mounts a `/proc` that shows only the kernel's own processes, drops to
   the kernel's uid, reaps orphans, ends with the kernel and dies with C), which forks the kernel (K);
4. K takes the kernel's limits (rlimits, no new privileges, no new user namespaces, no keyrings, an empty
   capability bounding set), drops to the kernel's own uid, reseeds torch and NumPy (and its own multiprocessing
   key), takes exactly the kernel's
   environment, and starts ipykernel on the grader's connection file. C reports `started`, then the kernel's
   exit status. When the grader that asked for it dies, C kills I; when C dies (the grader's cgroup kill, or
   the template's end), I dies; with I goes the whole pid namespace.

So each kernel is a fresh process tree with its own scratch, sockets, namespaces, uid and cgroup, exactly as a
kernel bubblewrap starts, minus the seconds of importing torch. Any step that fails stops that kernel
(`error`): it never runs with less isolation than the grader reports.
"""
from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]
sys.path.append(HERE)                       # `launch` (beside this file), last: it shadows nothing
import launch  # noqa: E402

INSIDE_SCRATCH = "/tmp"
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP = 0x20000000, 0x40000000, 0x02000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
FRESH = (INSIDE_SCRATCH, "/dev/shm")        # the folders each kernel gets anew
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 1, 4, 38
SIOCSIFFLAGS, IFF_UP, IFF_LOOPBACK, IFF_RUNNING = 0x8914, 0x1, 0x8, 0x40
MAX_MSG = 1 << 20

libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = (lambda s: s.encode() if s is not None else None)
    _check(libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {target}")


def send(sock: socket.socket, msg: dict) -> None:
    sock.send(json.dumps(msg).encode())


def receive(sock: socket.socket) -> tuple[dict, list[int]]:
    data, fds, _, _ = socket.recv_fds(sock, MAX_MSG, 4)
    return (json.loads(data) if data else {}), fds


# ---- in the kernel's own namespaces -----------------------------------------------------------------------
def own_namespaces(req: dict) -> None:
    """New namespaces (its cgroup namespace rooted at the kernel's own cgroup, which it has joined); the kernel's
    scratch and socket folder; every other kernel's folder covered."""
    _check(libc.unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWCGROUP),
           "unshare")
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    run_dir, base = req["run_dir"], req["base"]
    own = os.open(run_dir, os.O_PATH | os.O_DIRECTORY)
    # what the kernel sees read-only inside the folders it gets anew (data or a runtime under /tmp): bound again
    keep = [(p, os.open(p, os.O_PATH | os.O_DIRECTORY)) for p in req.get("read_only", [])
            if any(p.startswith(f + "/") for f in FRESH) and os.path.isdir(p)]
    size = f"size={int(req['scratch_mb'])}m"
    mount("tmpfs", INSIDE_SCRATCH, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,{size}")
    mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")   # root's, as bubblewrap's
    if os.path.isdir(base) and len(os.listdir(base)):          # (not already covered by the new /dev/shm)
        mount("tmpfs", base, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
    os.makedirs(run_dir, mode=0o755, exist_ok=True)
    mount(f"/proc/self/fd/{own}", run_dir, None, MS_BIND)
    os.close(own)
    for path, fd in keep:                       # (recursive: what is hidden inside them stays hidden)
        os.makedirs(path, mode=0o755, exist_ok=True)
        mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
        os.close(fd)
    if req.get("fastai_config") is not None:     # fastai's home: writable, its config read-only (root's, 0644)
        home = f"{INSIDE_SCRATCH}/.fastai"
        os.mkdir(home)
        os.chmod(home, 0o1777)
        with open(f"{home}/config.ini", "w") as f:
            f.write(req["fastai_config"])
        os.chmod(f"{home}/config.ini", 0o644)
    mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620")
    _check(libc.sethostname(b"ch4grade", 8), "sethostname")
    loopback_up()


def loopback_up() -> None:
    "Its own loopback, up (as bubblewrap leaves it): nothing else in its network namespace."
    import fcntl
    import struct
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14s", b"lo", IFF_UP | IFF_LOOPBACK | IFF_RUNNING, b""))


def drop_to_kernel(req: dict) -> None:
    "The kernel's limits and uid: no capability left, none to gain, no user namespace to make."
    launch.set_limits(int(req["mem_mb"]), int(req["max_file_mb"]), int(req["nproc"]))
    launch.forbid_user_namespaces()
    launch.drop_bounding_set()
    launch.drop_privileges(int(req["uid"]), int(req["gid"]))      # all uids non-zero: every capability goes
    launch.clear_capabilities()                                     # and the inheritable ones too
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def die_with(parent_alive: int) -> None:
    """Die when the parent does. Set after the uid changes (a change of uid clears it), then checked against a
    pipe the parent holds open (its end closes when the parent dies), so a parent already gone is seen too."""
    import select
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    poller = select.poll()
    poller.register(parent_alive, select.POLLIN)
    if poller.poll(0):                         # EOF (or hang-up): the parent is gone
        os._exit(launch.FAILED)


def kernel(req: dict, stderr_fd: int) -> None:
    "K: the kernel itself (never returns); it dies with its pid namespace, when its init (I) ends."
    os.setsid()
    null = os.open("/dev/null", os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.dup2(stderr_fd, 2)
    os.closerange(3, 65536)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGPIPE, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)     # as Python itself starts
    drop_to_kernel(req)
    _check(libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), "dumpable")   # its own /proc files, as after an exec
    if "torch" in sys.modules:                 # its own random state, not the template's (startup cells reseed)
        sys.modules["torch"].seed()
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    import multiprocessing
    multiprocessing.current_process().authkey = os.urandom(32)
    sys.path[:] = [p for p in sys.path if p != HERE]
    sys.modules.pop("launch", None)
    os.environ.clear()
    os.environ.update(req["env"])
    os.chdir(INSIDE_SCRATCH)
    sys.argv = ["ipykernel_launcher", "-f", req["connection_file"]]
    from ipykernel import kernelapp
    kernelapp.launch_new_instance()
    os._exit(0)


def init(req: dict, stderr_fd: int, parent_alive: int) -> None:
    "I: pid 1 of the kernel's pid namespace: its /proc, the kernel's parent, the reaper of its orphans."
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    launch.drop_bounding_set()
    keep = sorted((stderr_fd, parent_alive))       # nothing else of C's (its socket to the grader) below it
    os.closerange(3, keep[0])
    os.closerange(keep[0] + 1, keep[1])
    os.closerange(keep[1] + 1, 65536)
    pid = os.fork()
    if pid == 0:
        try:
            kernel(req, stderr_fd)
        except BaseException as e:
            os.write(stderr_fd, f"ch4grade kernel template: the kernel could not start: {e}\n".encode())
        os._exit(launch.FAILED)
    os.close(stderr_fd)
    launch.drop_privileges(int(req["uid"]), int(req["gid"]))
    launch.clear_capabilities()
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    die_with(parent_alive)
    while True:
        try:
            done, status = os.wait()
        except ChildProcessError:
            os._exit(0)
        if done == pid:
            os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def follow(conn: socket.socket, pid: int) -> None:
    """Wait until I ends, or until the grader's end of `conn` closes (the grader that asked for this kernel was
    killed outright: `spawn.py` dies with it): then I is killed, and the whole kernel with it."""
    import select
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):             # (Linux < 5.3: the kernel ends with the template instead)
        return
    while True:
        ready, _, _ = select.select([pidfd, conn], [], [])
        if pidfd in ready:
            break
        if not conn.recv(64):
            os.kill(pid, signal.SIGKILL)
            break
    os.close(pidfd)


def child(conn: socket.socket) -> None:
    """C: one kernel's start, then its exit status to the grader (never returns). It reads the request itself:
    no request ever passes through the template's memory, which every later kernel is a copy of. It lives as
    long as the grader's side (`follow`), not the template's: a template that ends takes no kernel with it."""
    code = launch.FAILED
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        conn.settimeout(30)
        req, fds = receive(conn)
        if req.get("op") != "spawn" or len(fds) != 1:
            os._exit(code)
        stderr_fd = fds[0]
        send(conn, {"pid": os.getpid()})
        go, _ = receive(conn)                    # the grader has moved this process into the kernel's cgroups
        conn.settimeout(None)
        if not go.get("go"):
            os._exit(code)
        own_namespaces(req)
        alive_r, alive_w = os.pipe()               # open here while C lives: I dies with C (`die_with`)
        pid = os.fork()
        if pid == 0:
            try:
                os.close(alive_w)
                init(req, stderr_fd, alive_r)
            finally:
                os._exit(launch.FAILED)
        os.close(alive_r)
        os.close(stderr_fd)
        send(conn, {"started": pid})
        follow(conn, pid)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status) & 0xFF
        send(conn, {"exit": code})
    except BaseException as e:
        try:
            send(conn, {"error": str(e)[:2000]})
        except OSError:
            pass
    os._exit(code)


# ---- the template ------------------------------------------------------------------------------------
def preload(modules: list[str]) -> dict:
    "Import what every kernel will import; a module that fails is left for the student's own cell to import."
    loaded, failed = [], []
    t = time.monotonic()
    import importlib
    for name in ["ipykernel.kernelapp", *modules]:
        try:
            importlib.import_module(name)
            loaded.append(name)
        except BaseException:
            failed.append(name)
    return {"loaded": loaded, "failed": failed, "seconds": round(time.monotonic() - t, 3)}


def single_threaded() -> bool:
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def serve(fd: int, modules: list[str]) -> None:
    "Serve on the listening socket `fd` (the grader bound it before starting the template)."
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)           # children are reaped by the system, and so are
    libc.prctl(launch.PR_SET_CHILD_SUBREAPER, 1)            # their orphans (an init whose C was killed first)
    signal.signal(signal.SIGINT, signal.SIG_IGN)            # Ctrl-C is the grader's to handle
    listener = socket.socket(fileno=fd)
    info = preload(modules)
    import gc
    gc.collect()
    gc.freeze()                  # the kernels' collectors never walk (and so never copy) the template's objects
    if not single_threaded():    # a fork of a threaded process may hold another thread's lock forever
        print(json.dumps({"error": "a preloaded module started a thread"}), flush=True)
        return
    print(json.dumps({"ready": True, **info}), flush=True)
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:                          # (e.g. EMFILE, EINTR): the next one
            time.sleep(0.05)
            continue
        try:
            if os.fork() == 0:
                listener.close()
                child(conn)                      # never returns
        except OSError:                          # (EAGAIN, ENOMEM): that kernel is started without the template
            pass
        conn.close()


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    modules = [argv[i + 1] for i, a in enumerate(argv) if a == "--preload" and i + 1 < len(argv)]
    serve(int(argv[0]), modules)


if __name__ == "__main__":
    main()
