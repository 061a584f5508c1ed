"""One isolated Jupyter kernel: start it inside limits, run code with a timeout, notice its death.

`KernelSession` owns the kernel process and every process it starts (found by a token in their
environment, so even children that escape into a new session are killed at the end). A watchdog
thread kills the lot when their memory (RSS) passes the cap. The kernel listens on Unix sockets, so
it keeps working inside an empty network namespace.
"""
from __future__ import annotations

import json
import os
import queue
import shutil
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager

from . import processes

TOKEN_ENV = "CH4GRADE_KERNEL_TOKEN"
VIRTUAL_HEADROOM_MB = 8192


@dataclass
class Limits:
    "Defaults fit the chapter's heavy cells (resnet18: ~30 s an epoch on 2 CPU cores)."
    cell_timeout: float = 300.0      # seconds for one cell
    budget: float = 1200.0           # seconds for all the notebook's cells together
    checks_budget: float = 600.0     # seconds for all checks together
    mem_mb: int = 6144               # RSS cap for the kernel and its children (0: none)
    address_space: bool = True       # also cap virtual memory with RLIMIT_AS (off for CUDA)
    no_network: bool = True
    max_output_bytes: int = 200_000  # output kept per cell; the rest is counted, not stored
    threads: int | None = None       # torch/OpenMP threads in the kernel (None: all cores / jobs)
    startup_timeout: float = 90.0


class KernelDied(Exception):
    "The kernel process ended (or was killed) before the code finished."


@dataclass
class Run:
    "What one `execute` produced."
    status: str                      # ok | error | timeout | died
    seconds: float = 0.0
    outputs: list = field(default_factory=list)   # nbformat-style output dicts
    error: dict | None = None        # ename, evalue, traceback
    payloads: list = field(default_factory=list)  # data of display messages with the probe mimetype
    dropped_bytes: int = 0


class KernelSession:
    def __init__(self, cwd: Path, env: dict[str, str] | None = None, limits: Limits | None = None,
                 payload_mime: str = "application/x-ch4grade+json"):
        self.cwd, self.limits, self.payload_mime = Path(cwd), limits or Limits(), payload_mime
        self.extra_env = dict(env or {})
        self.token = uuid.uuid4().hex
        self.km: KernelManager | None = None
        self.kc = None
        self.killed_reason: str | None = None
        self.isolation: dict = {}
        self.peak_rss_mb = 0.0
        self._stop = threading.Event()
        self._dir = Path(tempfile.mkdtemp(prefix="ch4g-"))  # short path: Unix socket names are limited

    # ---- life cycle -------------------------------------------------------------------------
    def start(self) -> None:
        lim = self.limits
        spec_dir = self._dir / "kernels" / "ch4grade"
        spec_dir.mkdir(parents=True)
        # torch and fastai alone map ~4 GB of address space: the hard cap leaves that much headroom
        # above the RSS cap, which the watchdog enforces.
        address_mb = lim.mem_mb + VIRTUAL_HEADROOM_MB if lim.mem_mb and lim.address_space else 0
        launch = [sys.executable, "-m", "autograders.execute.launch", "--mem-mb", str(address_mb)]
        if lim.no_network:
            launch.append("--no-network")
        argv = launch + ["--", sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        (spec_dir / "kernel.json").write_text(json.dumps(
            {"argv": argv, "display_name": "ch4grade grading kernel", "language": "python"}))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JPY_", "JUPYTER_"))}
        env.update(self.extra_env)
        threads = str(lim.threads) if lim.threads else env.get("OMP_NUM_THREADS", "")
        if threads:
            env.update(OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
        report = self._dir / "isolation.json"
        env.update({TOKEN_ENV: self.token, "CH4GRADE_ISOLATION_REPORT": str(report),
                    "PYTHONUNBUFFERED": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1"})
        # Make the launcher importable even from a non-installed checkout.
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        self.km = KernelManager(kernel_name="ch4grade", transport="ipc", ip=str(self._dir / "k"),
                                kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(spec_dir.parent)]))
        self.km.start_kernel(cwd=str(self.cwd), env=env)
        self.kc = self.km.client()
        self.kc.start_channels()
        try:
            self.kc.wait_for_ready(timeout=lim.startup_timeout)
        except RuntimeError as e:
            self.shutdown()
            raise KernelDied(f"the kernel did not start: {e}") from e
        try:
            self.isolation = json.loads(report.read_text())
        except (OSError, ValueError):
            self.isolation = {}
        threading.Thread(target=self._watchdog, daemon=True).start()

    def alive(self) -> bool:
        return self.km is not None and self.km.is_alive() and self.killed_reason is None

    def shutdown(self) -> None:
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
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()

    # ---- processes --------------------------------------------------------------------------
    def pids(self) -> list[int]:
        "Every live process carrying this session's token (the kernel and all it started)."
        return processes.matching(f"{TOKEN_ENV}={self.token}".encode())

    def kill_all(self) -> None:
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
        while not self._stop.wait(0.25):
            if not self.limits.mem_mb:
                continue
            rss = self.rss_mb()
            self.peak_rss_mb = max(self.peak_rss_mb, rss)
            if rss > self.limits.mem_mb:
                self.killed_reason = f"used {rss:.0f} MB of memory, over the {self.limits.mem_mb} MB limit"
                self.kill_all()
                return

    # ---- running code -----------------------------------------------------------------------
    def interrupt(self, wait: float = 10.0) -> bool:
        "Send SIGINT; True if the kernel came back to idle within `wait` seconds."
        try:
            self.km.interrupt_kernel()
        except Exception:
            return False
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                msg = self.kc.get_iopub_msg(timeout=0.2)
            except queue.Empty:
                if not self.km.is_alive():
                    return False
                continue
            if msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle":
                return True
        return False

    def execute(self, code: str, timeout: float, silent: bool = False) -> Run:
        "Run `code`; returns after the kernel is idle again, or on timeout (interrupted) or death."
        if not self.alive():
            raise KernelDied(self.killed_reason or "the kernel is not running")
        lim = self.limits
        start = time.monotonic()
        deadline = start + timeout
        run = Run(status="ok")
        kept = 0
        msg_id = self.kc.execute(code, silent=silent, store_history=not silent, allow_stdin=False,
                                 stop_on_error=False)
        while True:
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
            try:
                msg = self.kc.get_iopub_msg(timeout=min(left, 0.5))
            except queue.Empty:
                if not self.alive():
                    run.status, run.seconds = "died", time.monotonic() - start
                    run.error = {"ename": "KernelDied",
                                 "evalue": self.killed_reason or "the kernel process ended", "traceback": []}
                    return run
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
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
                out = {"output_type": "stream", "name": content.get("name", "stdout"), "text": content.get("text", "")}
            elif kind in ("execute_result", "display_data"):
                data = content.get("data", {})
                if self.payload_mime in data:
                    run.payloads.append(data[self.payload_mime])
                    continue
                out = {"output_type": kind, "data": data, "metadata": content.get("metadata", {})}
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
