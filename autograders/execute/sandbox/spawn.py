"""Start one grading kernel from a kernel template: `python -I spawn.py SOCKET REQUEST [--cgroup DIR]... -- CONNECTION`.

Standard library only, run by absolute path in isolated mode, by the grader (it is the kernel's command in the
kernel spec jupyter_client launches, in place of `launch.py`). It sends the template the request (a JSON file the
grader wrote: the kernel's uid, limits, environment and folders) with its own stderr, moves the template's child
into the kernel's cgroups before the child makes the kernel's namespaces, then lives as long as the kernel and
exits with its status. It dies with the grader, and the template's child then kills the kernel. Exit 111 when
the kernel could not be started as asked (`zygote.py` says why on stderr).
"""
from __future__ import annotations

import ctypes
import json
import os
import socket
import sys

sys.path.append(os.path.dirname(os.path.abspath(__file__)))      # (isolated mode leaves this folder out)
sys.dont_write_bytecode = True                                    # (nor writes into the grader's package)
from zygote import receive, send  # noqa: E402  (beside this file)

FAILED = 111
PR_SET_PDEATHSIG = 1
WAIT_S = 180.0           # a template still importing (at most its own start-up time)


def fail(message: str) -> None:
    print(f"ch4grade spawn: {message}", file=sys.stderr, flush=True)
    os._exit(FAILED)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, 9)     # it dies with the grader that started it, and the kernel
    if os.getppid() == 1:                            # with it (`zygote.follow`); a grader already gone: no kernel
        fail("the grader is gone")
    if "--" not in argv or argv.index("--") < 2:
        fail("usage: python -I spawn.py SOCKET REQUEST [--cgroup DIR]... -- CONNECTION_FILE")
    cut = argv.index("--")
    path, request = argv[0], argv[1]
    cgroups = [argv[i + 1] for i in range(2, cut - 1) if argv[i] == "--cgroup"]
    with open(request) as f:
        req = json.load(f)
    req.update(op="spawn", connection_file=argv[cut + 1])
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        sock.settimeout(WAIT_S)
        sock.connect(path)
        socket.send_fds(sock, [json.dumps(req).encode()], [2])
        msg, _ = receive(sock)
        if not isinstance(msg.get("pid"), int):
            fail("the kernel template did not answer")
        for d in cgroups:
            with open(os.path.join(d, "cgroup.procs"), "w") as f:
                f.write(str(msg["pid"]))
        send(sock, {"go": True})
        msg, _ = receive(sock)
        if "started" not in msg:
            fail(f"the kernel template could not start the kernel: {msg.get('error', 'no answer')}")
        sock.settimeout(None)
        msg, _ = receive(sock)                    # the kernel's exit (or nothing: the template's child was killed)
    except (OSError, ValueError) as e:
        fail(f"the kernel template is unavailable ({e})")
    code = msg.get("exit", 1)
    os._exit(code if isinstance(code, int) else 1)


if __name__ == "__main__":
    main()
