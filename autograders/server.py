"""A grader kept warm between batches, for submissions that come one at a time (`ch4grade serve`).

    ch4grade serve [--socket PATH] [--jobs J] [--assignment NAME]...     # once; it stays up
    ch4grade grade NOTEBOOK... --server [PATH]                           # each batch, even of one notebook

A batch of one pays for a worker's imports (torch, jupyter_client, the checks) and its kernel's (torch,
matplotlib, pandas) before its first cell runs: most of a lone notebook's grading. The server pays them once:
it holds the warm worker pool (`warm.py`) and a kernel template (`execute/template.py`) from one batch to the
next, and grades each request with the `grade` command's own code (`commands/grade.run`: same options, same
result files, same exit code), its output sent back to the client as it is written. Every guarantee of a batch
holds: each submission is graded by a fresh fork of the worker template, its notebook run in a kernel forked
fresh from the kernel template, and neither template ever reads a submission, so nothing of one batch is left
to the next.

Who may ask: only the server's own user, and never code it runs. The socket lives in a folder only that user can
enter (0700, checked by both ends), beside a token file only that user can read (0600, sent with each
request); the server reads the client's uid and pid off the socket (SO_PEERCRED) before it reads a request
and refuses another user and any process below itself (a kernel, a worker); the client checks the server's uid
the same way. Student code never runs as the server's user with the token in reach: the server refuses to
start without a sandbox (bubblewrap gives kernels another uid and hides the folder; Landlock keeps them from
reading it) and refuses requests with `--isolation none`. A Landlock kernel that runs as the server's user can
still connect to its socket (Landlock does not govern connecting to a named socket): it has no token, it is
below the server, and once it has been killed its connections are refused at once (the asking process is gone);
no connection is waited on for more than REQUEST_TIMEOUT seconds in all. Requests are graded one at a time, in the order they come (a
second client waits). The server grades in its own environment (its CH4GRADE_MNIST_DIR, FASTAI_HOME,
GITHUB_STEP_SUMMARY); the client's paths are made absolute before they are sent. A client that goes away
(Ctrl-C) does not stop its batch: the results are written as they would have been.
"""
from __future__ import annotations

import argparse
import hmac
import json
import os
import secrets
import socket
import stat
import struct
import sys
import time
import traceback
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import asdict
from pathlib import Path

from .execute import processes

MAX_REQUEST = 1 << 20
REQUEST_TIMEOUT = 5.0        # seconds for a whole request to arrive (a client sends it at once)
PATH_KEYS = ("out", "fastai_home")        # the `grade` options that name a path (beside `notebooks`)


class ServerError(RuntimeError):
    "The server cannot start, or cannot be reached (said in one line)."


def default_socket() -> Path:
    "$XDG_RUNTIME_DIR/ch4grade/serve.sock, else /tmp/ch4grade-UID/serve.sock."
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = Path(runtime) / "ch4grade" if runtime else Path("/tmp") / f"ch4grade-{os.getuid()}"
    return base / "serve.sock"


def _private_folder(folder: Path, create: bool) -> None:
    "`folder` exists (created if asked), is a real folder owned by this user, and no one else may enter it."
    if create:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        st = os.lstat(folder)
    except OSError as e:
        raise ServerError(f"{folder}: {e.strerror}") from None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise ServerError(f"{folder} must be a folder of this user's that no one else can enter (mode 0700); "
                          "it is not, so it is not used")


def peer(conn: socket.socket) -> tuple[int, int]:
    "(pid, uid) of the process at the other end of a Unix socket (as it was when it connected)."
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, _ = struct.unpack("3i", creds)
    return pid, uid


def token_path(sock: Path) -> Path:
    return sock.with_name(sock.name + ".token")


def _below(pid: int, root: int) -> bool:
    "Whether process `pid` is `root` or runs below it."
    seen = 0
    while pid and pid > 1 and seen < 4096:
        if pid == root:
            return True
        pid, seen = processes.parent(pid) or 0, seen + 1
    return False


def _send(conn: socket.socket, msg: dict) -> None:
    conn.sendall(json.dumps(msg).encode() + b"\n")


def _lines(conn: socket.socket, limit: int = MAX_REQUEST, within: float | None = None):
    """The JSON messages arriving on `conn`, one per line, until it closes; with `within`, socket.timeout once
    that many seconds have passed in all (however slowly the bytes come)."""
    buf = b""
    deadline = time.monotonic() + within if within is not None else None
    while True:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("the request did not arrive in time")
            conn.settimeout(left)
        chunk = conn.recv(1 << 16)
        if not chunk:
            return
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            yield json.loads(line)
        if len(buf) > limit:
            raise ValueError(f"a message of more than {limit} bytes")


class Warm:
    """What the server keeps from one batch to the next: the warm worker pool and one kernel template (for the
    settings and assignments of the last batch that asked; another asks for a new one). Either is started
    again when it has ended."""

    GRADER_SIDE = ("check_seed", "kernel_template", "run_hidden", "executed_dir")   # no part of a kernel

    def __init__(self):
        self._pool = None
        self._template = None
        self._key: str | None = None
        self._names: set[str] = set()

    def pool(self):
        "The worker pool (`warm.WarmPool`), started anew if its template has ended; None where it cannot start."
        from .warm import WarmPool, WarmUnavailable
        if self._pool is not None and (self._pool.gone.is_set() or self._pool.proc.poll() is not None):
            self._pool.close()
            self._pool = None
        if self._pool is None:
            try:
                self._pool = WarmPool()
            except WarmUnavailable as e:
                print(f"ch4grade: warm workers unavailable, each submission imports the grader itself: {e}",
                      file=sys.stderr)
        return self._pool

    def template(self, config, names: list[str]):
        """The kernel template for `config` and the assignments `names`: the one held when it was started for the
        same kernel settings and imports at least those assignments' modules; else a new one (for those
        assignments and the held one's). None where there can be none, or where the one started for these
        settings never came up (it would not now either)."""
        from .batch import _kernel_template
        key = json.dumps({k: v for k, v in asdict(config).items() if k not in self.GRADER_SIDE},
                         sort_keys=True, default=str)
        held, same = self._template, key == self._key
        if held is not None and same and set(names) <= self._names:
            if held.alive() or not held.info.get("ready"):
                return held if held.alive() else None
        if not names:
            return None
        wanted = sorted(set(names) | (self._names if same else set()))
        self._drop_template()
        self._template, self._key, self._names = _kernel_template(config, wanted), key, set(wanted)
        return self._template

    def sweep(self) -> None:
        """Remove what kernels of the held template left in its folder when their worker was killed outright
        (each kernel's socket folder, which the kernel may fill): the folder lives as long as the server."""
        from .execute.remove import remove_tree
        if self._template is not None:
            for d in processes.left_behind(Path(self._template.base), "ch4g"):
                remove_tree(d)

    def _drop_template(self) -> None:
        "Forget the held kernel template, then close it (a close that fails leaves nothing held)."
        held, self._template, self._key, self._names = self._template, None, None, set()
        if held is not None:
            try:
                held.close()
            except Exception as e:
                print(f"ch4grade serve: the old kernel template did not close cleanly ({e!r})", file=sys.stderr)


    def close(self) -> None:
        self._drop_template()
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()


class _Stream:
    "A text file whose writes go to the client as {STREAM: text} messages (what `grade` prints)."

    encoding = "utf-8"

    def __init__(self, conn: socket.socket, name: str):
        self.conn, self.name, self.gone = conn, name, False

    def write(self, text: str) -> int:
        if text and not self.gone:
            try:
                _send(self.conn, {self.name: text})
            except OSError:            # the client went away: its batch goes on, its results are written
                self.gone = True
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def grade_parser() -> argparse.ArgumentParser:
    from .commands import grade
    parser = argparse.ArgumentParser(prog="ch4grade grade")
    grade.add_arguments(parser)
    return parser


def request_args(sent: dict) -> argparse.Namespace:
    """The `grade` options of a request: the command's defaults, with the ones the client sent (every path
    already absolute); ValueError for an option `grade` does not have, a relative path, or `--cluster`."""
    args = grade_parser().parse_args(["-"])
    if not isinstance(sent, dict):
        raise ValueError("no options")
    unknown = set(sent) - set(vars(args))
    if unknown:
        raise ValueError(f"unknown option(s) {', '.join(sorted(unknown))}")
    for key, value in sent.items():
        setattr(args, key, value)
    args.notebooks = [Path(p) for p in args.notebooks]
    if args.out is not None:
        args.out = Path(args.out)
    for path in [*args.notebooks, *(getattr(args, k) for k in PATH_KEYS)]:
        if path is not None and not Path(path).is_absolute():
            raise ValueError(f"{path} is not an absolute path")
    if args.cluster:
        raise ValueError("--cluster does not go with --server (the server grades on its own machine)")
    if args.isolation == "none":
        raise ValueError("--isolation none does not go with --server (student code would run as its user)")
    args.server = None
    return args


class Server:
    "Listens on `path`; grades its requests one at a time with `warm` (see the module's text)."

    def __init__(self, path: Path, warm: Warm):
        self.path, self.warm = Path(path), warm
        _private_folder(self.path.parent, create=True)
        if self.path.exists() or self.path.is_symlink():
            try:                                   # a server already answers there, or one that ended left it
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                    probe.connect(str(self.path))
                raise ServerError(f"a server is already running on {self.path}")
            except (ConnectionRefusedError, FileNotFoundError):
                self.path.unlink(missing_ok=True)
        self.token = secrets.token_hex(32)
        fd = os.open(token_path(self.path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.token)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(self.path))
        os.chmod(self.path, 0o600)
        self.sock.listen(16)
        self.served = 0

    def serve_forever(self, log=sys.stderr) -> None:
        while True:
            conn, _ = self.sock.accept()
            with conn:
                self.handle(conn, log)

    def _refuse(self, conn: socket.socket, why: str, log) -> None:
        print(f"ch4grade serve: refused a request: {why}", file=log, flush=True)
        try:
            _send(conn, {"err": f"ch4grade serve: {why}\n", "exit": 2})
        except OSError:
            pass

    def handle(self, conn: socket.socket, log=sys.stderr) -> None:
        pid, uid = peer(conn)
        if uid != os.getuid():
            return self._refuse(conn, f"only its own user may ask it to grade (not uid {uid})", log)
        if _below(pid, os.getpid()):
            return self._refuse(conn, "a process it started may not ask it to grade", log)
        if not processes.alive(pid):          # a client waits for its answer: a connection left by one that
            return self._refuse(conn, "the asking process is gone", log)     # ended (a killed kernel's) is not
        try:
            request = next(_lines(conn, within=REQUEST_TIMEOUT), None)
            if not isinstance(request, dict) or not hmac.compare_digest(str(request.get("token")), self.token):
                return self._refuse(conn, "a request without its token", log)
            args = request_args(request.get("args"))
        except (OSError, ValueError, KeyError, TypeError) as e:
            return self._refuse(conn, f"a request it cannot read ({e})", log)
        conn.settimeout(None)
        t = time.monotonic()
        out, err = _Stream(conn, "out"), _Stream(conn, "err")
        with redirect_stdout(out), redirect_stderr(err):
            try:
                from .commands import grade
                code = grade.run(args, held=self.warm)
            except Exception:                          # a bug of the grader's: said, and the server goes on
                print(f"ch4grade serve: the grader failed:\n{traceback.format_exc()}", file=sys.stderr)
                code = 2
        self.served += 1
        self.warm.sweep()
        print(f"ch4grade serve: graded {len(args.notebooks)} path(s) in {time.monotonic() - t:.1f} s "
              f"(exit {code})", file=log, flush=True)
        try:
            _send(conn, {"exit": code})
        except OSError:
            pass

    def close(self) -> None:
        self.sock.close()
        for path in (self.path, token_path(self.path)):
            try:
                path.unlink()
            except OSError:
                pass


def ask(args: argparse.Namespace) -> int:
    """`ch4grade grade ... --server [PATH]`: send this command's options to the server, print what it prints,
    return its exit code (2 when it cannot be reached, or ends before it answers)."""
    path = Path(args.server) if args.server else default_socket()
    sent = {k: v for k, v in vars(args).items() if k != "server" and not k.startswith("_")}
    sent["notebooks"] = [os.path.abspath(p) for p in args.notebooks]
    for key in PATH_KEYS:
        if sent.get(key) is not None:
            sent[key] = os.path.abspath(sent[key])
    try:
        _private_folder(path.parent, create=False)
        token = token_path(path).read_text().strip()
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(str(path))
    except (ServerError, OSError) as e:
        print(f"ch4grade grade: no server on {path} ({e}); start one with `ch4grade serve`", file=sys.stderr)
        return 2
    with conn:
        if peer(conn)[1] != os.getuid():
            print(f"ch4grade grade: the server on {path} is not this user's; not used", file=sys.stderr)
            return 2
        _send(conn, {"token": token, "args": json.loads(json.dumps(sent, default=str))})
        try:
            for msg in _lines(conn):
                for name, stream in (("out", sys.stdout), ("err", sys.stderr)):
                    if name in msg:
                        stream.write(msg[name])
                        stream.flush()
                if "exit" in msg:
                    return int(msg["exit"])
        except (OSError, ValueError) as e:
            print(f"ch4grade grade: the server's answer could not be read ({e})", file=sys.stderr)
            return 2
    print("ch4grade grade: the server ended before it answered", file=sys.stderr)
    return 2


def prewarm(warm: Warm, jobs: int, names: list[str]) -> str:
    """Start the worker pool and a kernel template for `grade`'s default settings with `--jobs jobs`; what
    came up, in words."""
    from .batch import kernel_threads
    from .commands import grade
    from .data import prepare_for
    parser = grade_parser()
    args = parser.parse_args(["-", "--jobs", str(jobs)])
    settings = grade.config_of(args)
    pool = warm.pool()
    said = [f"warm workers: {'pid ' + str(pool.pid) if pool else 'none'}"]
    if settings is not None and names:
        config, _ = settings
        config.limits.threads = kernel_threads(jobs)
        try:
            prepare_for(names, None, progress=False)
        except Exception as e:                          # each request's grading reports what is missing
            said.append(f"data not prepared ({e})")
        template = warm.template(config, names)
        if template is not None:
            try:
                template.wait_ready()
                said.append(f"kernel template for {', '.join(names)}")
            except Exception as e:
                said.append(f"no kernel template ({e})")
        else:
            said.append("no kernel template here (kernels are started for each notebook)")
    return "; ".join(said)


def serve(path: Path, jobs: int, names: list[str]) -> int:
    "Run a server on `path` until it is stopped (SIGTERM or Ctrl-C)."
    import signal
    from .execute.sandbox import IsolationUnavailable, choose
    try:
        choose("strict")
    except IsolationUnavailable as e:
        print(f"ch4grade serve: refuses to run without a sandbox, as student code would run as its user with its "
              f"socket in reach ({e})", file=sys.stderr)
        return 2
    warm = Warm()
    try:
        server = Server(path, warm)
    except (ServerError, OSError) as e:
        print(f"ch4grade serve: {e}", file=sys.stderr)
        return 2
    def stop(*_):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)
    try:
        what = prewarm(warm, jobs, names)
        print(f"ch4grade serve: ready on {server.path} ({what})", flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        print(f"ch4grade serve: stopped after {server.served} request(s)", file=sys.stderr)
    finally:
        server.close()
        warm.close()
    return 0

