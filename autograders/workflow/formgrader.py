"""nbgrader's formgrader for a course folder: a Jupyter Server with nbgrader's server extensions.

nbgrader 0.9 has no `nbgrader formgrader` command: formgrader is the server extension
`nbgrader.server_extensions.formgrader`, served at `/formgrader` by any Jupyter Server that enables it.
It finds the course through `CourseDirectory.root` in the `nbgrader_config.py` of the server's working
folder, so the server runs in the course folder, with that folder as its root. It listens on 127.0.0.1
only, behind a random token (passed in the environment, never on a command line others can read).
"""
from __future__ import annotations

import ctypes
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .course import Course, WorkflowError

HOST = "127.0.0.1"
EXTENSIONS = ("formgrader", "assignment_list", "course_list", "validate_assignment")   # nbgrader's own
START_TIMEOUT = 60.0
PR_SET_PDEATHSIG = 1


@dataclass
class Formgrader:
    "A running formgrader: open `url` (it carries the token); `stop()` ends the server."
    url: str
    token: str
    process: subprocess.Popen
    port: int

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def stop(self, timeout: float = 10.0) -> int:
        "SIGTERM (Jupyter's clean shutdown), then SIGKILL; returns the server's exit status."
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()


def free_port() -> int:
    "A TCP port nothing listens on now (the server binds it moments later)."
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def require_gradebook(course: Course) -> None:
    if not course.db_path.exists():
        raise WorkflowError(f"{course.root} has no gradebook ({course.db_path.name}): "
                            "run `ch4grade release` and `ch4grade autograde` first")


def server_command(course: Course, port: int) -> list[str]:
    "The Jupyter Server command line: root = the course folder, nbgrader's extensions on, no browser."
    extensions = ",".join(f"'nbgrader.server_extensions.{e}': True" for e in EXTENSIONS)
    return [sys.executable, "-m", "jupyter_server",
            f"--ServerApp.ip={HOST}", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={course.root}", "--ServerApp.open_browser=False",
            f"--ServerApp.jpserver_extensions={{{extensions}}}",
            *(["--ServerApp.allow_root=True"] if os.geteuid() == 0 else [])]   # CI and containers run as root


def start(course: Course, port: int | None = None, token: str | None = None, log: Path | None = None,
          timeout: float = START_TIMEOUT) -> Formgrader:
    """Start formgrader for `course` on `port` (a free one when None) and wait until it answers.
    `log`: a file for the server's output (None: this process's own stdout)."""
    require_gradebook(course)
    port = port or free_port()
    token = token or secrets.token_urlsafe(32)
    env = {**os.environ, "JUPYTER_TOKEN": token}
    with open(log, "ab") if log else open(os.devnull, "rb") as out:
        process = subprocess.Popen(server_command(course, port), cwd=course.root, env=env,
                                   stdin=subprocess.DEVNULL, stdout=out if log else None,
                                   stderr=subprocess.STDOUT if log else None,
                                   start_new_session=True,   # Ctrl-C reaches us only; we stop it cleanly
                                   preexec_fn=die_with_parent)
    fg = Formgrader(f"http://{HOST}:{port}/formgrader?token={token}", token, process, port)
    try:
        wait_until_ready(fg, timeout)
    except WorkflowError as e:
        fg.stop()
        tail = log.read_text(errors="replace").splitlines()[-5:] if log and log.exists() else []
        raise WorkflowError("\n".join([str(e), *tail])) from None
    except BaseException:
        fg.stop()
        raise
    return fg


def die_with_parent() -> None:
    "In the child, before exec: SIGTERM when the process that started it dies (Linux), so none is orphaned."
    try:
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def wait_until_ready(fg: Formgrader, timeout: float) -> None:
    "Poll formgrader's status API until it answers 200; a clear error if the server exits or never does."
    request = urllib.request.Request(f"{fg.base}/formgrader/api/status",
                                     headers={"Authorization": f"token {fg.token}"})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fg.process.poll() is not None:
            raise WorkflowError(f"formgrader's server exited with status {fg.process.returncode}")
        try:
            with urllib.request.urlopen(request, timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise WorkflowError(f"formgrader did not answer on port {fg.port} within {timeout:.0f} s")
