"""Warm grading: a template process imports the grader once; every submission is graded in a fresh fork of it.

    with WarmPool.open() as pool:            # ~5 s once per batch, instead of once per submission
        proc = pool.start(args, result_fd, err_fd)     # a subprocess.Popen look-alike

A cold worker (`python -c ...worker`) spends ~3-5 s importing torch, jupyter_client and the assignment units
before it reads its notebook. The template (`serve`) pays that once per batch, then forks one child per
submission. The template never reads a submission, never starts a kernel and never touches CUDA (a fork
after CUDA is initialised cannot use the GPU), so each child starts from the same clean image: a fresh
process per submission that shares nothing with any other student's, exactly as a cold worker. The child
runs `worker.main` with the same arguments, answers over its own result pipe, and writes its stderr to its
own pipe; its sandboxed kernel is started by the child as before.

The template is started per batch with the batch's environment (a later batch with other settings gets a
template of its own). It dies with the batch (PR_SET_PDEATHSIG), and its children die with it. The batch talks
to it over a Unix SEQPACKET socket: `fork` (the worker's arguments, the two pipes passed as SCM_RIGHTS) is
answered with the child's pid; the template reaps its children and reports each exit status; `kill` goes
through the template, which signals a child only while it has not reaped it (no pid reuse race).
If the template cannot start, the batch grades with cold workers (said once on stderr): nothing is lost.
"""
from __future__ import annotations

import ctypes
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

from .execute import processes

READY_TIMEOUT = 180.0
FORK_TIMEOUT = 60.0
PR_SET_PDEATHSIG = 1
PR_SET_NAME = 15
# `python -c` keeps the current folder out of sys.path, as for cold workers
TEMPLATE = "import sys; sys.path[:] = [p for p in sys.path if p not in ('', '.')]; " \
           "from autograders.warm import serve; serve(int(sys.argv[1]))"
MAX_MSG = 1 << 20
TEMPLATE_ENV = "CH4GRADE_WARM_TEMPLATE"


class ForkUnanswered(OSError):
    """The template did not answer a fork request in time. The pipes sent with it stay referenced by the request
    it never read: the caller starts a cold worker on fresh pipes."""


class WarmUnavailable(Exception):
    "The template process could not be started (the batch then uses cold workers)."


def _send(sock: socket.socket, msg: dict, fds: tuple[int, ...] = ()) -> None:
    data = json.dumps(msg).encode()
    if fds:
        socket.send_fds(sock, [data], list(fds))
    else:
        sock.send(data)


# ---- the template (its own process) ---------------------------------------------------------------
def preload() -> float:
    "Import what grading a submission imports: the worker, the engine and every assignment unit's checks."
    t = time.monotonic()
    from . import worker  # noqa: F401
    from .checks import available_assignments, get_assignment
    for name in available_assignments():
        try:
            get_assignment(name)
        except Exception:        # the child reports a broken unit as that submission's grader failure
            pass
    return time.monotonic() - t


def serve(fd: int) -> None:
    """The template's loop: fork a worker per `fork` request, report exits, end when the batch closes the
    socket (or dies)."""
    try:
        libc = ctypes.CDLL(None)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        libc.prctl(PR_SET_NAME, b"ch4grade-warm")      # what ps and top show
    except (OSError, AttributeError):
        pass
    signal.signal(signal.SIGINT, lambda *_: None)    # Ctrl-C is the batch's to handle
    # torch.cuda.is_available() without NVML initialises the driver, and a fork after that has no GPU
    os.environ.setdefault("PYTORCH_NVML_BASED_CUDA_CHECK", "1")
    os.environ[TEMPLATE_ENV] = str(os.getpid())     # its forks record it (`engine.environment`)
    sock = socket.socket(fileno=fd)
    seconds = preload()
    import torch
    if torch.cuda.is_initialized():      # a unit initialised CUDA at import: its forks could not use the GPU
        _send(sock, {"error": "CUDA was initialised while importing the grader"})
        return
    import gc
    gc.collect()
    gc.freeze()     # the children's collector never walks (and so never copies) the template's objects
    _send(sock, {"ready": True, "pid": os.getpid(), "seconds": round(seconds, 3)})
    children: set[int] = set()
    me = os.getpid()
    try:
        while True:
            _reap(sock, children)
            ready, _, _ = select.select([sock], [], [], 0.2)
            if not ready:
                continue
            data, fds, _, _ = socket.recv_fds(sock, MAX_MSG, 4)
            if not data:
                return                                    # the batch is done (or gone)
            msg = json.loads(data)
            if msg.get("op") == "fork":
                try:
                    pid = os.fork()
                except OSError as e:                      # (e.g. EAGAIN): that submission starts cold instead
                    pid, why = None, f"fork failed ({e})"
                if pid == 0:
                    _child(sock, msg["argv"], fds, me)   # never returns
                for f in fds:
                    os.close(f)
                if pid is None:
                    _send(sock, {"id": msg["id"], "error": why})
                    continue
                children.add(pid)
                _send(sock, {"id": msg["id"], "pid": pid})
            elif msg.get("op") == "kill" and msg.get("pid") in children:
                try:
                    os.kill(msg["pid"], int(msg.get("signal", signal.SIGTERM)))
                except ProcessLookupError:
                    pass
            else:
                for f in fds:
                    os.close(f)
    finally:
        for pid in children:          # (they would get SIGTERM from their own PR_SET_PDEATHSIG anyway)
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass


def _reap(sock: socket.socket, children: set[int]) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.discard(pid)
        _send(sock, {"exited": pid, "code": os.waitstatus_to_exitcode(status)})


def _child(sock: socket.socket, argv: list[str], fds: list[int], template: int) -> None:
    "In the fork: become a worker for one submission, then exit (never returns)."
    code = 1
    try:
        # first of all: die with the template (a worker must never outlive the batch that waits for it)
        libc = ctypes.CDLL(None)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != template:
            os._exit(1)
        libc.prctl(PR_SET_NAME, b"ch4grade-worker")
        sock.close()
        result_fd, err_fd, *gate_fds = fds
        os.dup2(err_fd, 2)
        os.close(err_fd)
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.close(null)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        from .worker import main
        gate = ["--gate-fds", ",".join(map(str, gate_fds))] if gate_fds else []
        code = main([*argv, "--result-fd", str(result_fd), *gate])
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException:
        import traceback
        traceback.print_exc()
    finally:
        try:
            sys.stderr.flush()
        finally:
            os._exit(code)


# ---- the batch's side ------------------------------------------------------------------------------
class WarmChild:
    "One forked worker, as the batch sees it: the part of `subprocess.Popen` that `batch.run_worker` uses."

    def __init__(self, pool: WarmPool, pid: int):
        self.pool, self.pid = pool, pid
        self.returncode: int | None = None
        self.exited = threading.Event()
        self._gone_since: float | None = None

    def wait(self, timeout: float | None = None) -> int:
        """Its exit code, as the template reports it; or read from /proc when the report does not come (a template
        that is stopped cannot reap it: a zombie's status is final), or -SIGKILL once it is gone from /proc
        without a report (its template ended)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.exited.wait(0.2 if deadline is None else max(0.0, min(0.2, deadline - time.monotonic()))):
            code = processes.zombie_exit_code(self.pid)
            if code is not None:
                self.returncode = code
                self.exited.set()
                break
            if not processes.alive(self.pid):          # reaped: the template's report is on its way (or lost)
                self._gone_since = self._gone_since or time.monotonic()
                if self.pool.gone.is_set() or time.monotonic() - self._gone_since > 5:
                    self.returncode = -signal.SIGKILL
                    self.exited.set()
                    break
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"warm worker {self.pid}", timeout)
        return self.returncode

    def poll(self) -> int | None:
        return self.returncode

    def _signal(self, sig: int) -> None:
        """Signal it directly while it is the template's unreaped child (its pid cannot have been reused) or an
        orphan of a template that is gone; else through the template."""
        if self.exited.is_set():
            return
        if self.pool.gone.is_set() or processes.parent(self.pid) == self.pool.pid:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass
        else:
            self.pool.signal(self.pid, sig)

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)


class WarmPool:
    "The batch's end of a template process (see the module's text)."

    def __init__(self):
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._lock = threading.Lock()
        self._next = 0
        self._forked: dict[int, list] = {}       # request id -> [event, pid or error]
        self._children: dict[int, WarmChild] = {}
        self._early: dict[int, int] = {}         # exits reported before their child was registered
        self._abandoned: set[int] = set()         # requests given up on (no answer in time): killed when answered
        self._abandoned_pids: set[int] = set()    # ... and their workers, whose exits nobody waits for
        self.gone = threading.Event()             # the template ended: later submissions start cold
        self.seconds = 0.0
        err_r, err_w = os.pipe()
        self._err = bytearray()
        try:
            self.proc = subprocess.Popen([sys.executable, "-c", TEMPLATE, str(theirs.fileno())],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err_w,
                                         pass_fds=(theirs.fileno(),))
        except OSError as e:
            self.sock.close()
            raise WarmUnavailable(f"the template process could not start ({e})") from None
        finally:
            theirs.close()
            os.close(err_w)
        from .execute.session import _drain
        self._drainer = threading.Thread(target=_drain, args=(err_r, self._err), daemon=True)
        self._drainer.start()
        try:
            hello = self._hello()
        except WarmUnavailable:
            raise
        except BaseException:          # Ctrl-C (or a garbled hello) while it started: it must not linger
            self.close()
            raise
        self.pid, self.seconds = hello["pid"], hello["seconds"]
        threading.Thread(target=self._listen, daemon=True).start()

    @classmethod
    @contextmanager
    def open(cls):
        "A pool for the length of a `with` block; None (cold workers) when the template could not start."
        try:
            pool = cls()
        except WarmUnavailable as e:
            print(f"ch4grade: warm workers unavailable, each submission imports the grader itself: {e}",
                  file=sys.stderr)
            pool = None
        try:
            yield pool
        finally:
            if pool is not None:
                pool.close()

    def _hello(self) -> dict:
        ready, _, _ = select.select([self.sock], [], [], READY_TIMEOUT)
        msg = {}
        if ready:
            data = self.sock.recv(MAX_MSG)
            try:
                msg = json.loads(data) if data else {}
            except ValueError:
                msg = {"error": "its first message could not be read"}
        if not msg.get("ready"):
            self.close()
            self._drainer.join(timeout=5)       # what it said on its way out
            tail = bytes(self._err).decode("utf-8", "replace").strip().splitlines()[-3:]
            why = msg.get("error") or ("no answer in time" if not ready else "it ended")
            raise WarmUnavailable(why + (f" ({' / '.join(tail)})" if tail else ""))
        return msg

    def _listen(self) -> None:
        "Dispatch the template's messages: fork answers and exits. When it ends, every child counts as gone."
        while True:
            try:
                data = self.sock.recv(MAX_MSG)
            except OSError:
                data = b""
            if not data:
                break
            msg = json.loads(data)
            with self._lock:
                if "exited" in msg:
                    child = self._children.pop(msg["exited"], None)
                    if child is not None:
                        child.returncode = msg["code"]
                        child.exited.set()
                    elif msg["exited"] in self._abandoned_pids:
                        self._abandoned_pids.discard(msg["exited"])
                    else:
                        self._early[msg["exited"]] = msg["code"]
                elif msg.get("id") in self._abandoned:     # forked after its submission gave up on it
                    self._abandoned.discard(msg["id"])
                    if msg.get("pid"):
                        self._abandoned_pids.add(msg["pid"])
                        self.signal(msg["pid"], signal.SIGKILL)
                elif msg.get("id") in self._forked:
                    slot = self._forked[msg["id"]]
                    slot[1] = msg.get("pid")
                    slot[0].set()
        self.gone.set()
        with self._lock:          # the template is gone: its children get SIGTERM (PR_SET_PDEATHSIG) and
            for slot in self._forked.values():      # are waited for by pid (`WarmChild.wait`)
                slot[0].set()

    def start(self, argv: list[str], result_fd: int, err_fd: int,
              gate_fds: tuple[int, int] | None = None) -> WarmChild:
        """Fork a worker running `worker.main(argv + ['--result-fd', ...])` with these pipes (as
        `batch.cold_start` starts a cold one); a cold one when the template is gone (killed: nothing is lost).
        ForkUnanswered when it did not answer in time; OSError if no worker could start."""
        if self.gone.is_set():
            from .batch import cold_start
            return cold_start(argv, result_fd, err_fd, gate_fds)
        done = threading.Event()
        with self._lock:
            self._next += 1
            rid = self._next
            self._forked[rid] = [done, None]
        try:
            _send(self.sock, {"op": "fork", "id": rid, "argv": argv},
                  (result_fd, err_fd, *(gate_fds or ())))
        except OSError:                          # the template is gone
            with self._lock:
                self._forked.pop(rid, None)
            from .batch import cold_start
            return cold_start(argv, result_fd, err_fd, gate_fds)
        answered = done.wait(FORK_TIMEOUT)
        with self._lock:
            pid = self._forked.pop(rid)[1]
            if not answered:
                self._abandoned.add(rid)
        if not answered:           # stopped or stuck: the rest of the batch starts cold too; a late fork is killed
            self.gone.set()
            raise ForkUnanswered(f"the template process did not fork a worker within {FORK_TIMEOUT:.0f} s")
        if pid is None:            # it ended meanwhile, or could not fork
            from .batch import cold_start
            return cold_start(argv, result_fd, err_fd, gate_fds)
        with self._lock:
            child = WarmChild(self, pid)
            if pid in self._early:
                child.returncode = self._early.pop(pid)
                child.exited.set()
            else:
                self._children[pid] = child
        return child

    def busy(self) -> bool:
        "Whether a worker it forked has not ended yet."
        with self._lock:
            return bool(self._children or self._forked)

    def signal(self, pid: int, sig: int) -> None:
        try:
            _send(self.sock, {"op": "kill", "pid": pid, "signal": int(sig)})
        except OSError:
            pass

    def close(self) -> None:
        "End the template (it signals the children it still has) and wait for it."
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
