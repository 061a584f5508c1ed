"""Kernel templates: sandboxed kernels forked from a clean Python that has imported torch once per batch.

    with KernelTemplate.open(sandbox, env, fastai_data, scratch_mb, imports) as template:   # starts, ~3 s to ready
        config.kernel_template = template.handle.to_json()     # what the workers' sessions use
        ...                               # KernelSession(..., template=TemplateHandle.from_json(text))

A kernel spends ~3 CPU seconds importing torch, matplotlib and fastai before the student's first cell. The
template (`sandbox/zygote.py`) pays that once: it runs in bubblewrap with the kernels' own view of the machine
(read-only system, runtime and data; the grader's packages hidden), never reads a submission, never runs student
code and never touches CUDA, and forks each kernel into namespaces, scratch, socket folder, cgroup and uid of its
own (`spawn.py` asks for one; see `zygote.py` for the steps). A session uses the template only when the kernel
it would start itself is the same one: bubblewrap as root, a cgroup, no GPU, and the same environment and data
(`TemplateHandle.fits`); otherwise, and whenever the template cannot start a kernel, it starts it as before
(and its result says why, `isolation.template_not_used`). Nothing the template holds is a student's, and
nothing of one kernel reaches another.

The template imports only what does not look for an IPython shell when imported (`preloadable`): fastai,
fastcore and fastprogress, for one, decide at import whether they run in a notebook (progress bars, displays),
so they are imported in each kernel, by its start-up cell, as before; what they stand on (torch, torchvision,
pandas, PIL, matplotlib) is the template's.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import signal
import subprocess
import sys
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import processes
from .remove import remove_tree
from .sandbox import LAUNCH, Sandbox, bwrap
from .sandbox.view import fastai_config_text, kernel_view

HERE = Path(__file__).resolve().parent / "sandbox"
ZYGOTE, SPAWN = HERE / "zygote.py", HERE / "spawn.py"
# what the template's children need to set up a kernel (namespaces and mounts, uid and gid, the bounding set,
# reading the kernel's own socket folder, its loopback up): dropped by each kernel before it starts
CAPS = ("CAP_SYS_ADMIN", "CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH",
        "CAP_NET_ADMIN")
READY_TIMEOUT = 180.0
# packages that look for an IPython shell when imported: never imported by the template (its kernels' start-up
# cells import them with the kernel's shell running, as a fresh kernel does) ...
SHELL_AWARE = ("fastai", "fastcore", "fastprogress", "fastdownload", "matplotlib_inline", "ipywidgets", "tqdm",
               "IPython", "ipykernel", "plotly", "bokeh", "altair")
# ... but what they stand on, which does not, is
UNDERNEATH = ("torch", "torchvision", "numpy", "pandas", "PIL.Image", "matplotlib.pyplot")


class TemplateUnavailable(RuntimeError):
    "The kernel template could not be started (kernels are then started as before)."


def template_key(env: dict[str, str], fastai_data: str | None) -> str:
    "What a kernel and the template must share: the environment (but its token) and the data it sees."
    env = {k: v for k, v in env.items() if k != "CH4GRADE_KERNEL_TOKEN"}
    return hashlib.sha256(json.dumps([env, fastai_data], sort_keys=True).encode()).hexdigest()[:32]


def preloadable(imports: tuple[str, ...]) -> tuple[str, ...]:
    """What a template imports for kernels whose notebooks import `imports`: each one that does not look for a
    shell (nor is the grader's own), and in place of those that do, the installed modules they stand on."""
    import importlib.util
    from .startup import FORBIDDEN
    out: dict[str, None] = {}
    for name in imports:
        top = name.split(".")[0]
        if top in FORBIDDEN:
            continue
        if top not in SHELL_AWARE:
            out[name] = None
            continue
        for under in UNDERNEATH:
            try:
                if importlib.util.find_spec(under.split(".")[0]) is not None:
                    out[under] = None
            except (ImportError, ValueError):
                continue
    return tuple(out)


def why_not(sandbox: Sandbox, cuda: bool) -> str | None:
    "None when kernels can be forked from a template here; else why not."
    if sandbox.backend != "bwrap" or os.geteuid() != 0:
        return "kernel templates need bubblewrap run as root"
    if cuda:
        return "a GPU kernel is started on its own (CUDA cannot be used in a fork of an initialised process)"
    return None


@dataclass(frozen=True)
class TemplateHandle:
    "What a session needs to use a running template (passed to workers as JSON: `GradeConfig.kernel_template`)."
    socket: str
    base: str              # the template's folder: every kernel's socket folder is made inside it
    key: str

    def fits(self, env: dict[str, str], fastai_data: str | None, sandbox: Sandbox, cuda: bool) -> bool:
        return why_not(sandbox, cuda) is None and template_key(env, fastai_data) == self.key \
            and os.path.exists(self.socket)

    def spawn_argv(self, request: Path, cgroup_dirs: list[str]) -> list[str]:
        argv = [sys.executable, "-I", str(SPAWN), self.socket, str(request)]
        for d in cgroup_dirs:
            argv += ["--cgroup", d]
        return argv + ["--", "{connection_file}"]

    def to_json(self) -> str:
        return json.dumps(self.__dict__)

    @classmethod
    def from_json(cls, text: str | None) -> "TemplateHandle | None":
        try:
            return cls(**json.loads(text)) if text else None
        except (ValueError, TypeError):
            return None


class KernelTemplate:
    "The template process of one batch (started by `open`, killed with its folder on `close`)."

    def __init__(self, sandbox: Sandbox, env: dict[str, str], fastai_data: str | None, scratch_mb: int,
                 imports: tuple[str, ...] = ()):
        why = why_not(sandbox, cuda=False)
        if why:
            raise TemplateUnavailable(why)
        shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
        self.base = Path(tempfile.mkdtemp(prefix=f"ch4g-{os.getpid()}-", dir=shm))
        self.base.chmod(0o711)
        self.env, self.fastai_data, self.imports = dict(env), fastai_data, tuple(imports)
        self.handle = TemplateHandle(str(self.base / "control" / "s"), str(self.base), template_key(env, fastai_data))
        self.proc: subprocess.Popen | None = None
        self.info: dict = {}
        self._answered = threading.Event()
        self._stderr = bytearray()
        try:
            self._start(sandbox, scratch_mb)
        except BaseException:
            self.close()
            raise

    def _start(self, sandbox: Sandbox, scratch_mb: int) -> None:
        bin_dir = self.base / "bin"                  # the grader's packages are hidden in the sandbox: copies
        bin_dir.mkdir(mode=0o755)
        for src in (ZYGOTE, Path(LAUNCH)):
            shutil.copyfile(src, bin_dir / src.name)
        (self.base / "control").mkdir(mode=0o700)
        config = None
        if self.fastai_data:
            config = self.base / "fastai-config.ini"
            config.write_text(fastai_config_text(self.fastai_data))
        view = kernel_view([self.fastai_data] if self.fastai_data else [], self.base, None, scratch_mb, False, config)
        # the socket listens from now on, before the template has even started: a kernel asked for meanwhile
        # connects and waits in its backlog (never a cold start only because the template was slower)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            listener.bind(self.handle.socket)
            listener.listen(64)
            inner = [sys.executable, "-I", str(bin_dir / "zygote.py"), str(listener.fileno())]
            for name in self.imports:
                inner += ["--preload", name]
            argv = [sys.executable, "-I", LAUNCH, "--no-userns", "--",
                    *bwrap.command(view, inner, self.env, caps=CAPS, pid_namespace=False)]
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, start_new_session=True,
                                         pass_fds=(listener.fileno(),))
        finally:
            listener.close()             # the template's copy is the only one: when it ends, connecting fails
        threading.Thread(target=self._drain, daemon=True).start()
        threading.Thread(target=self._read_ready, daemon=True).start()

    def _read_ready(self) -> None:
        try:
            self.info = json.loads(self.proc.stdout.readline() or b"{}")
        except ValueError:
            self.info = {"error": "it said something else than ready"}
        self._answered.set()

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> dict:
        """What the template preloaded, once it serves; TemplateUnavailable (and no more kernels from it) if it
        does not. Kernels asked for meanwhile wait for it."""
        if not self._answered.wait(timeout) or not self.info.get("ready"):
            detail = self.info.get("error") or bytes(self._stderr).decode("utf-8", "replace").strip()[-500:] \
                or ("no answer" if not self._answered.is_set() else "it ended")
            self.stop()
            raise TemplateUnavailable(f"the kernel template did not start: {detail}")
        return self.info

    def stop(self) -> None:
        "No kernel starts from it any more (its socket goes); its process ends; the kernels it started go on."
        try:
            os.unlink(self.handle.socket)
        except OSError:
            pass
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            self.proc.wait()

    def _drain(self) -> None:
        for chunk in iter(lambda: self.proc.stderr.read(4096), b""):
            self._stderr.extend(chunk)
            del self._stderr[:-8000]

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def close(self) -> None:
        "The template, and any kernel of its still running, gone with their folders."
        if self.proc is not None and self.proc.poll() is None:      # (once reaped, its pid may be another's)
            pids = lambda: [p for p in [self.proc.pid, *processes.descendants(self.proc.pid)] if processes.alive(p)]
            processes.kill_until_gone(pids)
            self.proc.wait()
        remove_tree(self.base)          # (its kernels' socket folders: whatever they wrote there)

    @classmethod
    @contextmanager
    def open(cls, *args, **kwargs):
        template = cls(*args, **kwargs)
        try:
            yield template
        finally:
            template.close()
