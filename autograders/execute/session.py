"""One sandboxed Jupyter kernel: start it inside its limits, run code with a timeout, notice its death.

`KernelSession` starts the kernel through the sandbox chosen for the grading (`sandbox.choose`): the
launcher puts it in a cgroup of its own (memory and process count) where the machine has one, drops it
to a uid of its own when the grader is root, and bubblewrap or Landlock limit what it may see. Its
environment is an allow-list. The grader reads the kernel's uid, capabilities and namespaces from /proc
(`environment.isolation.verified` in every result), never from the kernel. Every process the kernel
starts is found through its cgroup, its process tree, or its token, and killed at the end; a watchdog
kills the lot when their memory passes the cap. The kernel listens on Unix sockets in a folder of its own.
"""
from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import zmq
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager

from ..notebook import inert_bundle
from . import processes
from .remove import remove_tree
from .sandbox import Sandbox, choose, uids, verify
from .sandbox.cgroup import KernelCgroup
from .sandbox.view import fastai_config_text, kernel_view
from .template import TemplateHandle

TOKEN_ENV = "CH4GRADE_KERNEL_TOKEN"
VIRTUAL_HEADROOM_MB = 8192
STDERR_TAIL = 16_000
# What the grader holds of the kernel's messages at most: ZeroMQ refuses (and drops the connection of) a
# bigger message, and queues at most RECEIVE_QUEUE of them; past that the kernel's own outputs are dropped,
# and the end of a run is known from the execute reply on the shell channel, which never drops.
MAX_MESSAGE_BYTES = 24 * 2**20
RECEIVE_QUEUE = 16
IDLE_GRACE_S = 3.0


@dataclass
class Limits:
    "Defaults fit the chapter's heavy cells (resnet18: ~30 s an epoch on 2 CPU cores)."
    cell_timeout: float = 300.0      # seconds for one cell
    budget: float = 1200.0           # seconds for all the notebook's cells together
    checks_budget: float = 600.0     # seconds for all checks together
    mem_mb: int = 6144               # memory cap for the kernel and its children (0: none)
    address_space: bool = True       # also cap virtual memory with RLIMIT_AS (off for CUDA)
    max_output_bytes: int = 200_000  # output kept per cell; the rest is counted, not stored
    max_answer_bytes: int = 16 * 2**20  # the largest value a probe may send back
    threads: int | None = None       # torch/OpenMP threads in the kernel (None: all cores / jobs)
    startup_timeout: float = 90.0
    scratch_mb: int = 1024           # the kernel's writable scratch (a tmpfs under bubblewrap)
    max_procs: int = 512             # tasks (processes and threads) of the kernel and its children
    max_file_mb: int = 1024          # the largest file it may write


class KernelDied(Exception):
    "The kernel process ended (or was killed) before the code finished."


@dataclass
class Run:
    "What one `execute` produced."
    status: str                      # ok | error | timeout | died
    seconds: float = 0.0
    outputs: list = field(default_factory=list)   # nbformat-style output dicts
    error: dict | None = None        # ename, evalue, traceback
    answer: object = None            # the payload that carried the awaited nonce (probes), else None
    dropped_bytes: int = 0


def _payload_size(payload) -> int:
    "Roughly how many bytes a payload holds (its strings), without serialising it again."
    if isinstance(payload, str):
        return len(payload)
    if isinstance(payload, dict):
        return sum(_payload_size(v) for v in payload.values()) + 16 * len(payload)
    if isinstance(payload, list):
        return sum(_payload_size(v) for v in payload) + 8 * len(payload)
    return 16


def _drain(fd: int, keep: bytearray) -> None:
    "Read a pipe to its end, keeping only its last STDERR_TAIL bytes."
    with os.fdopen(fd, "rb", buffering=0) as f:
        while chunk := f.read(65536):
            keep.extend(chunk)
            del keep[:-STDERR_TAIL]


def _sweep(base: Path) -> None:
    """Remove kernel folders that graders killed outright left behind (their creator, named in them, is gone);
    once per folder and process."""
    if not processes.swept_once(("kernel folders", base)):
        return
    for d in processes.left_behind(base, "ch4g"):
        try:
            if d.stat().st_uid == os.geteuid():
                remove_tree(d)
        except OSError:
            continue


def kernel_environment(home: str, token: str, limits: Limits, extra: dict[str, str],
                       fastai_data: str | None) -> dict[str, str]:
    "A kernel's whole environment: an allow-list, never the grader's own."
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin", "HOME": home,
           "TMPDIR": home, "LANG": "C.UTF-8", "MPLCONFIGDIR": f"{home}/.config/matplotlib",
           "XDG_CACHE_HOME": f"{home}/.cache", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
           "PYTHONUNBUFFERED": "1", TOKEN_ENV: token}
    threads = str(limits.threads) if limits.threads else os.environ.get("OMP_NUM_THREADS", "")
    if threads:
        env.update(OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
    # numpy's OpenBLAS starts its threads as it loads (torch's start at first use): one, so that a kernel
    # template that imported numpy stays single-threaded and can fork (the chapter's arithmetic is torch's)
    env["OPENBLAS_NUM_THREADS"] = "1"
    env.update(extra)
    if fastai_data:
        env["FASTAI_HOME"] = f"{home}/.fastai"
    return env


class KernelSession:
    def __init__(self, env: dict[str, str] | None = None, limits: Limits | None = None,
                 sandbox: Sandbox | None = None, fastai_data: str | None = None, cuda: bool = False,
                 payload_mime: str = "application/x-ch4grade+json", template: TemplateHandle | None = None):
        self.limits, self.payload_mime = limits or Limits(), payload_mime
        self.sandbox = sandbox or choose("auto")
        self.extra_env = dict(env or {})
        self.fastai_data, self.cuda = fastai_data, cuda
        self._reset()
        # a kernel forked from the batch's template (`template.py`) when it would be this very kernel (only under
        # bubblewrap: the environment of any other backend names a folder not made yet)
        self.template = template if template is not None and self.sandbox.backend == "bwrap" and template.fits(
            self._env(), fastai_data, self.sandbox, cuda) else None
        self._make_dirs()

    def _reset(self) -> None:
        "The state of one kernel's start (`__init__`, and again for a start without the template)."
        self.token = uuid.uuid4().hex
        self.km: KernelManager | None = None
        self.kc = None
        self.killed_reason: str | None = None
        self.isolation: dict = self.sandbox.describe()
        self.peak_rss_mb = 0.0
        self.cpu_s: float | None = None          # the CPU time the kernel and all it started used (at shutdown)
        self.cgroup: KernelCgroup | None = None
        self.uid_lease: uids.UidLease | None = None
        self._root_pid: int | None = None        # the launcher's pid (bubblewrap's, once it execs)
        self._context = None
        self._stderr = bytearray()
        self._stop = threading.Event()
        self._closed = False

    def _make_dirs(self) -> None:
        # short path: Unix socket names are limited. Under bubblewrap on a tmpfs (/dev/shm): the socket folder
        # is the one place the kernel may write outside its own tmpfs, and there it is memory the kernel's
        # cgroup pays for, not the host's disk.
        # What the grader writes for itself (the kernel spec it launches, fastai's config) never goes there: a
        # Landlock kernel may write anywhere in /dev/shm, so those live in a private folder of the system's.
        shm = "/dev/shm" if self.sandbox.backend == "bwrap" and os.access("/dev/shm", os.W_OK) else None
        _sweep(Path(tempfile.gettempdir()))
        if shm:
            _sweep(Path(shm))
        inside = self.template.base if self.template is not None else shm    # (a template's kernels: in its folder)
        self._dir = Path(tempfile.mkdtemp(prefix=f"ch4g-{os.getpid()}-", dir=inside))
        self._private = Path(tempfile.mkdtemp(prefix=f"ch4g-{os.getpid()}-")) if shm else self._dir

    # ---- life cycle -------------------------------------------------------------------------
    def _home(self) -> str:
        "The kernel's home and working folder: its own tmpfs under bubblewrap, else its scratch folder."
        return "/tmp" if self.sandbox.backend == "bwrap" else str(self._dir / "work")

    def _env(self) -> dict[str, str]:
        return kernel_environment(self._home(), self.token, self.limits, self.extra_env, self.fastai_data)

    def _fastai_config(self, scratch: Path | None) -> Path | None:
        """fastai's `config.ini` for the kernel: its data is the grader's prepared (read-only) datasets, and its
        archive and lock files go to the kernel's own writable `$FASTAI_HOME`. Written here, then bound
        (bubblewrap) or placed (Landlock, none) at `$HOME/.fastai/config.ini`."""
        if not self.fastai_data:
            return None
        text = fastai_config_text(self.fastai_data)
        home = (scratch if scratch is not None else self._private) / ".fastai"
        home.mkdir(mode=0o755)
        (home / "config.ini").write_text(text)
        return home / "config.ini"

    def start(self) -> None:
        "Start the kernel and wait until it answers."
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start the kernel's process, without waiting for it (`wait_ready`): the grader may do its own work
        meanwhile (a cold worker imports the checks while the kernel imports torch)."""
        lim, box = self.limits, self.sandbox
        self._dir.chmod(0o711)                  # the kernel's uid may pass through to its own folders
        run_dir = self._dir / "run"
        run_dir.mkdir(mode=0o700)
        scratch = None if box.backend == "bwrap" else self._dir / "work"
        if scratch is not None:
            scratch.mkdir(mode=0o700)
        view = kernel_view([self.fastai_data] if self.fastai_data else [], run_dir, scratch, lim.scratch_mb,
                           self.cuda, self._fastai_config(scratch))
        uid = None
        if box.kernel_uid_possible(view):
            self.uid_lease = uids.lease()
            uid = self.uid_lease.uid
            for d in filter(None, (run_dir, scratch, scratch and scratch / ".fastai")):
                if d.exists():
                    os.chown(d, uid, uid)
        self.cgroup, why_not = KernelCgroup.create(self.token[:16], lim.mem_mb, lim.max_procs,
                                                   lim.threads or os.cpu_count() or 1)
        env = self._env()
        # torch and fastai alone map ~4 GB of address space: the hard cap leaves that much headroom
        # above the memory cap, which the cgroup (or the watchdog) enforces.
        address_mb = lim.mem_mb + VIRTUAL_HEADROOM_MB if lim.mem_mb and lim.address_space else 0
        if self.template is not None and self.cgroup is not None and uid is not None:
            request = self._private / "request.json"
            request.write_text(json.dumps({
                "base": self.template.base, "run_dir": str(run_dir), "scratch_mb": lim.scratch_mb, "env": env,
                "read_only": [str(p) for p in view.read_only],
                "mem_mb": address_mb, "max_file_mb": lim.max_file_mb, "nproc": lim.max_procs, "uid": uid, "gid": uid,
                "fastai_config": fastai_config_text(self.fastai_data) if self.fastai_data else None}))
            argv = self.template.spawn_argv(request, self.cgroup.join_dirs())
        else:
            self.template = None
            kernel = [sys.executable, "-I", "-m", "ipykernel_launcher", "-f", "{connection_file}"]
            argv = box.argv(view, kernel, env, mem_mb=address_mb, max_file_mb=lim.max_file_mb, nproc=lim.max_procs,
                            cgroup_dirs=self.cgroup.join_dirs() if self.cgroup else [], uid=uid)
        spec_dir = self._private / "spec" / "ch4grade"
        spec_dir.mkdir(parents=True)
        (spec_dir / "kernel.json").write_text(json.dumps(
            {"argv": argv, "display_name": "ch4grade grading kernel", "language": "python",
             "interrupt_mode": "message"}))    # a signal would stop bubblewrap, not interrupt the kernel
        self._context = zmq.Context()
        self._context.setsockopt(zmq.MAXMSGSIZE, max(MAX_MESSAGE_BYTES, lim.max_answer_bytes + 2**20))
        self._context.setsockopt(zmq.RCVHWM, RECEIVE_QUEUE)
        self.km = KernelManager(kernel_name="ch4grade", transport="ipc", ip=str(run_dir / "k"),
                                connection_file=str(run_dir / "connection.json"), context=self._context,
                                kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(spec_dir.parent)]))
        self.km.write_connection_file()
        if uid is not None:
            os.chown(self.km.connection_file, uid, uid)
        self._describe(view, uid, why_not)
        err_r, err_w = os.pipe()
        threading.Thread(target=_drain, args=(err_r, self._stderr), daemon=True).start()
        try:
            self.km.start_kernel(cwd=str(self._dir), env=env, stdout=subprocess.DEVNULL, stderr=err_w)
        finally:
            os.close(err_w)
        self._root_pid = self.km.provisioner.process.pid
        self._open_channels()

    def wait_ready(self) -> None:
        "Wait for the launched kernel to answer (KernelDied if it does not), then verify its sandbox."
        try:
            self.kc.wait_for_ready(timeout=self.limits.startup_timeout)
        except RuntimeError as e:
            if self.template is not None:      # the template's failure, not the kernel's: start it as before
                why = " / ".join(self.stderr_tail().strip().splitlines()[-2:]) or str(e)
                self.shutdown()
                self._reset()
                self.template = None
                self._make_dirs()
                self.launch()
                self.isolation["template_not_used"] = why[:500]
                return self.wait_ready()
            detail = self.stderr_tail().strip().splitlines()[-3:]
            self.shutdown()
            raise KernelDied(f"the kernel did not start: {e}" + (f" ({' / '.join(detail)})" if detail else ""))
        self.isolation["verified"] = self._verify()
        threading.Thread(target=self._watchdog, daemon=True).start()

    def _open_channels(self) -> None:
        "A client on the kernel whose sockets carry the size and queue bounds of `self._context`."
        self.kc = self.km.client(context=self._context)
        self.kc.start_channels()

    def _describe(self, view, uid: int | None, cgroup_why_not: str) -> None:
        lim = self.limits
        enforced = {"filesystem": view.describe() if self.sandbox.backend != "none" else "everything the grader "
                    "can reach", "uid": uid if uid is not None else os.geteuid()}
        if self.cgroup:
            enforced.update(self.cgroup.describe())
        else:
            enforced["memory"] = f"RSS watchdog at {lim.mem_mb} MB (no cgroup: {cgroup_why_not})"
            enforced["processes"] = (f"RLIMIT_NPROC {lim.max_procs} under the kernel's own uid" if uid is not None
                                     else f"not limited (no cgroup: {cgroup_why_not})")
        enforced["network"] = {"bwrap": "a new, empty network namespace (its own loopback only)",
                               "landlock": "TCP refused by Landlock; a new network namespace where possible",
                               "none": "a new network namespace where possible"}[self.sandbox.backend]
        enforced["scratch"] = (f"tmpfs of {lim.scratch_mb} MB" if self.sandbox.backend == "bwrap"
                               else f"a folder of its own; files up to {lim.max_file_mb} MB each")
        if self.template is not None:
            enforced["process"] = ("forked from the batch's kernel template (a clean Python with the notebook's "
                                   "modules imported, in the same sandbox) into namespaces, scratch, uid and "
                                   "cgroup of its own; the template's pages it shares count against its memory "
                                   "limit only once written")
        self.isolation["enforced"] = enforced

    def _kernel_pid(self) -> int | None:
        "The host pid of the kernel's Python process (below the launcher and bubblewrap, or the template)."
        if self._root_pid is None:
            return None
        if self.template is not None:          # pid 2 of its own pid namespace (1 is its init), in its cgroup
            for pid in self.cgroup.procs():
                try:
                    nspid = [line for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                             if line.startswith("NSpid:")][0].split()[1:]
                except (OSError, IndexError):
                    continue
                if len(nspid) > 1 and nspid[-1] == "2":
                    return pid
            return None
        for pid in [self._root_pid, *processes.descendants(self._root_pid)]:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if f.read().split(b"\0")[1:4] == [b"-I", b"-m", b"ipykernel_launcher"]:
                        return pid
            except OSError:
                continue
        return None

    def _verify(self) -> dict:
        pid = self._kernel_pid()
        return verify.inspect(pid) if pid else {"error": "the kernel process was not found"}

    def stderr_tail(self) -> str:
        return bytes(self._stderr).decode("utf-8", "replace")

    def alive(self) -> bool:
        return self.km is not None and self.km.is_alive() and self.killed_reason is None

    def shutdown(self) -> None:
        "Stop the kernel and free what it held (a call after one that finished does nothing)."
        if self._closed:
            return
        if self.cpu_s is None and self._root_pid is not None:
            self.cpu_s = round(processes.cpu_seconds(self.pids()), 3)   # before it goes: the kernel's CPU time
        self._stop.set()
        if self.kc is not None:
            try:
                self.kc.stop_channels()
            except Exception:
                pass
        if self.km is not None:
            try:
                self.km.shutdown_kernel(now=True)
            except Exception:
                pass
        self.kill_all()
        if self._context is not None:
            self._context.destroy(linger=0)
        if self.cgroup:
            self.cgroup.remove()
        if self.uid_lease:
            self.uid_lease.release()
        remove_tree(self._dir)          # (what the kernel wrote there may be deeper than rmtree can go)
        remove_tree(self._private)
        self._closed = True

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()

    # ---- processes --------------------------------------------------------------------------
    def pids(self) -> list[int]:
        "Every live process of this kernel: its cgroup, its process tree, and whatever carries its token."
        found = set(self.cgroup.procs()) if self.cgroup else set()
        root = self._root_pid
        if root is not None:
            found.update(processes.descendants(root))
            if processes.alive(root):
                found.add(root)
        found.update(processes.matching(f"{TOKEN_ENV}={self.token}".encode()))
        found.discard(os.getpid())
        return sorted(found)

    def kill_all(self) -> None:
        if self.cgroup:
            self.cgroup.kill()
        processes.kill_until_gone(self.pids)

    def rss_mb(self) -> float:
        total = 0
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/statm") as f:
                    total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            except (OSError, ValueError, IndexError):
                continue
        return total / 2**20

    def _watchdog(self) -> None:
        "Track peak memory; without a cgroup (which enforces the cap itself), kill the lot past the cap."
        while not self._stop.wait(0.25):
            if self.cgroup:                  # RSS sums count shared pages twice: the cgroup's own figure
                self.peak_rss_mb = max(self.peak_rss_mb, self.cgroup.memory_mb())
                continue
            if not self.limits.mem_mb:
                continue
            rss = self.rss_mb()
            self.peak_rss_mb = max(self.peak_rss_mb, rss)
            if rss > self.limits.mem_mb:
                self.killed_reason = f"used {rss:.0f} MB of memory, over the {self.limits.mem_mb} MB limit"
                self.kill_all()
                return

    def host_oom(self) -> bool:
        """Whether the machine's out-of-memory killer stopped a process of the kernel's within the kernel's own
        limit (cgroup v2 counts both in `oom_kill`, its own limit alone in `oom`): the grader's failure, never
        the student's. Read it before `shutdown`, which removes the cgroup."""
        return bool(self.cgroup) and self.cgroup.oom_kills() > 0 and self.cgroup.own_limit_ooms() == 0

    def death_reason(self) -> str:
        "Why the kernel is gone, as far as the grader can tell."
        if self.killed_reason:
            return self.killed_reason
        if self.cgroup and self.cgroup.oom_kills():
            if self.host_oom():
                self.killed_reason = (f"the machine ran out of memory and its out-of-memory killer stopped the "
                                      f"kernel (which was within its own {self.limits.mem_mb} MB limit)")
                return self.killed_reason
            self.killed_reason = f"used more than its {self.limits.mem_mb} MB memory limit (stopped by the cgroup)"
            return self.killed_reason
        return "the kernel process ended"

    # ---- running code -----------------------------------------------------------------------
    def interrupt(self, wait: float = 10.0) -> bool:
        "Interrupt the running code (a control message); True if the kernel came back to idle within `wait` s."
        try:
            self.km.interrupt_kernel()
        except Exception:
            return False
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            msg = self._next_msg(0.2)
            if msg is None:
                if not self.km.is_alive():
                    return False
                continue
            if msg.get("msg_type") == "status" and msg["content"].get("execution_state") == "idle":
                return True
        return False

    def _replied(self, msg_id: str) -> bool:
        "Whether the shell channel holds the reply to request `msg_id` (other replies are discarded)."
        while True:
            try:
                msg = self.kc.get_shell_msg(timeout=0)
            except queue.Empty:
                return False
            except Exception:                  # malformed: not ours to trust
                continue
            if isinstance(msg, dict) and isinstance(msg.get("parent_header"), dict) \
                    and msg["parent_header"].get("msg_id") == msg_id:
                return True

    def _next_msg(self, timeout: float) -> dict | None:
        """The next IOPub message as a dict whose `content` and `parent_header` are dicts; None when none came
        in time. The kernel writes these messages: one it malformed on purpose is skipped, never trusted."""
        try:
            msg = self.kc.get_iopub_msg(timeout=timeout)
        except queue.Empty:
            return None
        except Exception:                      # could not even be deserialised
            return {"msg_type": "", "content": {}, "parent_header": {}}
        if not (isinstance(msg, dict) and isinstance(msg.get("content"), dict)
                and isinstance(msg.get("parent_header"), dict) and isinstance(msg.get("msg_type"), str)):
            return {"msg_type": "", "content": {}, "parent_header": {}}
        return msg

    def execute(self, code: str, timeout: float, silent: bool = False, nonce: str | None = None) -> Run:
        """Run `code`; returns after the kernel is idle again, or on timeout (interrupted) or death.

        Payloads of the probe mimetype are kept only when they carry `nonce` (the first one, if it is
        within `max_answer_bytes`); every other one is counted against the output cap and dropped."""
        if not self.alive():           # (killed between two runs, e.g. by the student's own code)
            return Run(status="died", error={"ename": "KernelDied", "evalue": self.death_reason(), "traceback": []})
        lim = self.limits
        start = time.monotonic()
        deadline = start + timeout
        run = Run(status="ok")
        kept = 0
        msg_id = self.kc.execute(code, silent=silent, store_history=not silent, allow_stdin=False,
                                 stop_on_error=False)
        replied = None
        while True:
            if replied is None and self._replied(msg_id):
                replied = time.monotonic()
            if replied is not None and time.monotonic() - replied > IDLE_GRACE_S:
                # its idle status never came: lost in a flood, or the connection was cut for a message over
                # the bound (ZeroMQ does not reconnect by itself): the reply says it is done; reconnect
                run.outputs.append({"output_type": "stream", "name": "stderr", "text": "\n[ch4grade: some output "
                                    "of this cell was refused (too large or too fast) and is not kept]\n"})
                self.kc.stop_channels()
                self._open_channels()
                break
            left = deadline - time.monotonic()
            if left <= 0:
                run.status, run.seconds = "timeout", time.monotonic() - start
                run.error = {"ename": "TimeoutError", "evalue": f"still running after {timeout:.0f} s",
                             "traceback": []}
                if not self.interrupt():
                    self.killed_reason = self.killed_reason or (
                        f"code ran past its {timeout:.0f} s limit and did not stop when interrupted")
                    self.kill_all()
                    run.status = "died"
                return run
            msg = self._next_msg(min(left, 0.5))
            if msg is None:
                if not self.alive():
                    run.status, run.seconds = "died", time.monotonic() - start
                    run.error = {"ename": "KernelDied", "evalue": self.death_reason(), "traceback": []}
                    return run
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "status" and content.get("execution_state") == "idle":
                break
            if kind == "error":
                run.status = "error"
                run.error = {"ename": str(content.get("ename", ""))[:200],
                             "evalue": str(content.get("evalue", ""))[:2000],
                             "traceback": [str(t)[:4000] for t in content.get("traceback", [])[:50]]}
                out = {"output_type": "error", **run.error}
            elif kind == "stream":
                out = {"output_type": "stream", "name": "stderr" if content.get("name") == "stderr" else "stdout",
                       "text": str(content.get("text", ""))}
            elif kind in ("execute_result", "display_data"):
                data = content.get("data")
                if not isinstance(data, dict):
                    continue
                if self.payload_mime in data:
                    payload = data[self.payload_mime]
                    size = _payload_size(payload)
                    if nonce is not None and run.answer is None and isinstance(payload, dict) \
                            and payload.get("nonce") == nonce and size <= lim.max_answer_bytes:
                        run.answer = payload
                    else:
                        run.dropped_bytes += size
                    continue
                meta = content.get("metadata")
                data = inert_bundle(data)       # never HTML, scripts or SVG: instructors' browsers show these
                if not data:
                    continue
                out = {"output_type": kind, "data": data, "metadata": meta if isinstance(meta, dict) else {}}
                if kind == "execute_result":
                    out["execution_count"] = content.get("execution_count")
            else:
                continue
            size = len(json.dumps(out)) if kind != "stream" else len(out["text"])
            if kept + size > lim.max_output_bytes:
                run.dropped_bytes += size
                continue
            kept += size
            if kind == "stream" and run.outputs and run.outputs[-1].get("output_type") == "stream" \
                    and run.outputs[-1]["name"] == out["name"]:
                run.outputs[-1]["text"] += out["text"]
            else:
                run.outputs.append(out)
        run.seconds = time.monotonic() - start
        if run.dropped_bytes:
            run.outputs.append({"output_type": "stream", "name": "stderr",
                                "text": f"\n[ch4grade: {run.dropped_bytes} more bytes of output were not kept]\n"})
        return run
