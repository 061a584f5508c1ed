"""`ch4grade serve` and `ch4grade grade --server` (issue 12): a grader kept warm between batches grades each
request as the command would (same results, exit codes and lines), from a fresh fork per submission, and
answers no one but its own user."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import tiny_assignment as tiny
from autograders import server
from autograders.batch import grade_many
from autograders.engine import GradeConfig
from autograders.execute import processes
from autograders.execute.sandbox import choose
from autograders.execute.session import Limits
from autograders.execute.template import why_not as template_why_not
from autograders.paths import ROOT

LIMITS = ["--cell-timeout", "60", "--budget", "120", "--mem-mb", "2000"]


def _env(folder: Path) -> dict:
    "The tiny assignment registered for the server and the workers it starts (as `tiny_env` does)."
    source = tiny.write_source(folder)
    return {**os.environ, "CH4GRADE_EXTRA_CHECKS": "tiny_assignment", "CH4GRADE_TINY_SOURCE": str(source),
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT / "tests"), os.environ.get("PYTHONPATH")) if p)}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    "A running `ch4grade serve` for the tiny assignment: (its socket, its process, its environment, a folder)."
    folder = tmp_path_factory.mktemp("served")
    env = _env(folder)
    sock = folder / "run" / "serve.sock"
    proc = subprocess.Popen([sys.executable, "-m", "autograders.cli", "serve", "--socket", str(sock),
                             "--assignment", "tiny", "--jobs", "1"], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if "ready" not in line:
        proc.kill()
        pytest.fail(f"the server did not come up: {line}{proc.stderr.read()[-2000:]}")
    yield sock, proc, env, folder
    proc.terminate()
    assert proc.wait(timeout=60) == 0
    assert not sock.exists()                       # it cleans up after itself
    assert "stopped after" in proc.stderr.read()


def _grade(sock: Path, notebooks: list[Path], out: Path, *extra: str, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "autograders.cli", "grade", *map(str, notebooks),
                           "--assignment", "tiny", "--out", str(out), "-q", "--check-seed", "7", *LIMITS,
                           "--server", str(sock), *extra], capture_output=True, text=True, timeout=300,
                          env=env or os.environ, cwd=cwd or ROOT)


def _result(out: Path, name: str) -> dict:
    return json.loads((out / f"{name}.json").read_text())


def test_each_request_is_graded_warm_and_as_the_command_grades_it(served, tiny_env):
    sock, _, env, folder = served
    subs = folder / "subs"
    good = tiny.notebook(subs, name="good.ipynb")
    wrong = tiny.notebook(subs, {"dist": "def mnist_distance(a, b): return ((a - b)**2).mean((-1, -2))"},
                          name="wrong.ipynb")
    # relative paths are the client's: made absolute before they are sent
    p = _grade(sock, [Path("subs/good.ipynb")], Path("out1"), cwd=folder)
    assert p.returncode == 0, p.stderr
    q = _grade(sock, [wrong], folder / "out2")
    assert q.returncode == 0, q.stderr
    r1, r2 = _result(folder / "out1", "good"), _result(folder / "out2", "wrong")
    assert r1["score"] == sum(tiny.FULL.values()) and r2["score"] < r1["score"]
    # one warm worker template served both; each submission had a fresh fork of it
    w1, w2 = r1["environment"]["worker"], r2["environment"]["worker"]
    assert w1["warm_template"] and w1["warm_template"] == w2["warm_template"] and w1["pid"] != w2["pid"]
    if template_why_not(choose("auto"), cuda=False) is None:     # (bubblewrap as root: kernels forked too)
        for r in (r1, r2):
            assert "kernel template" in r["environment"]["isolation"]["enforced"]["process"]
    # the same as grading them here, without a server
    config = GradeConfig(limits=Limits(cell_timeout=60, budget=120, mem_mb=2000), check_seed=7)
    local = grade_many([good, wrong], tiny_env / "local", "tiny", config, progress=False)
    for (_, mine), theirs in zip(local, (r1, r2)):
        assert theirs["score"] == mine.score
        assert [(i["id"], i["score"], i["status"]) for i in theirs["items"]] == \
            [(i.id, i.score, i.status) for i in mine.items]


def test_its_exit_codes_and_lines_are_the_commands_and_a_bad_request_leaves_it_serving(served):
    sock, _, _, folder = served
    wrong = tiny.notebook(folder / "subs3", {"total": "def total(n): return 0"}, name="low.ipynb")
    p = _grade(sock, [wrong], folder / "out3", "--fail-under", "100")
    assert p.returncode == 1
    assert "is below --fail-under 100%" in p.stderr
    p = _grade(sock, [folder / "nowhere.ipynb"], folder / "out4")
    assert p.returncode == 2 and "no such file" in p.stderr
    p = _grade(sock, [wrong], folder / "out5", "--cluster", "local:1")
    assert p.returncode == 2 and "--cluster does not go with --server" in p.stderr
    p = _grade(sock, [wrong], folder / "out6", "--no-resume")
    assert p.returncode == 0, p.stderr
    assert _result(folder / "out6", "low")["score"] == _result(folder / "out3", "low")["score"]


def test_a_worker_template_that_died_is_started_again(served):
    sock, _, _, folder = served
    nb = tiny.notebook(folder / "subs7", name="again.ipynb")
    p = _grade(sock, [nb], folder / "out7")
    assert p.returncode == 0, p.stderr
    first = int(_result(folder / "out7", "again")["environment"]["worker"]["warm_template"])
    os.kill(first, 9)
    p = _grade(sock, [nb], folder / "out8")
    assert p.returncode == 0, p.stderr
    r = _result(folder / "out8", "again")
    assert r["score"] == sum(tiny.FULL.values())
    assert r["environment"]["worker"]["warm_template"] not in (None, str(first))


def test_a_kernel_that_fills_its_folder_beyond_rmtree_leaves_the_server_serving(served):
    """A kernel may write in its own socket folder: a chain of folders deeper than Python's recursion limit
    broke `shutil.rmtree` (RecursionError), the worker, and then the server each time it replaced its kernel
    template (found by a red team). The chain is removed; the server grades on, with any settings."""
    sock, _, _, folder = served
    deep = ("import os\nd = os.path.dirname(__import__('ipykernel').get_connection_file())\n"
            "fd = os.open(d, os.O_RDONLY)\n"
            "for _ in range(1500):\n"
            "    os.mkdir('d', dir_fd=fd); n = os.open('d', os.O_RDONLY, dir_fd=fd); os.close(fd); fd = n\n"
            "def total(n): return sum(range(n + 1))")
    nb = tiny.notebook(folder / "subs10", {"total": deep}, name="deep.ipynb")
    good = tiny.notebook(folder / "subs10", name="good.ipynb")
    p = _grade(sock, [nb], folder / "out10")
    assert p.returncode == 0, p.stderr
    r = _result(folder / "out10", "deep")
    assert r["status"] == "graded" and r["score"] == sum(tiny.FULL.values()), r.get("error")
    for out, extra in (("out11", ("--mem-mb", "1500")), ("out12", ())):   # a new kernel template, then back
        p = _grade(sock, [good], folder / out, *extra)
        assert p.returncode == 0, p.stderr
        assert _result(folder / out, "good")["score"] == sum(tiny.FULL.values())
    p = _grade(sock, [good], folder / "out12")             # all of it graded already: resumed, not graded again
    assert p.returncode == 0, p.stderr


def test_what_killed_workers_left_in_the_held_templates_folder_is_swept(tmp_path):
    class Template:
        base = str(tmp_path)
    warm = server.Warm()
    warm._template = Template()
    gone, mine = tmp_path / "ch4g-999999999-ab", tmp_path / f"ch4g-{os.getpid()}-cd"
    for d in (gone, mine):
        (d / "run").mkdir(parents=True)
    warm.sweep()
    assert not gone.exists() and mine.exists()


def test_connections_left_by_a_killed_process_or_sending_nothing_do_not_hold_the_server(served):
    """A second red team stalled the server from a Landlock kernel of its own uid: connections queued while it was
    busy, kept open after the kernel was killed, each waited on for 30 s. A connection whose process is gone is
    refused at once, and no request is waited on for more than REQUEST_TIMEOUT in all."""
    sock, proc, _, folder = served
    slow = tiny.notebook(folder / "subs13", {"total": "import time; time.sleep(10)\ndef total(n): return n * (n + 1) // 2"},
                         name="busy.ipynb")
    idle = set(processes.descendants(proc.pid))     # its templates
    busy = subprocess.Popen([sys.executable, "-m", "autograders.cli", "grade", str(slow), "--assignment", "tiny",
                             "--out", str(folder / "out13"), "-q", "--server", str(sock), *LIMITS],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120      # until the server grades it (a worker of its own): what connects next,
    while not set(processes.descendants(proc.pid)) - idle:          # for 10 s at least, waits in its backlog
        assert time.monotonic() < deadline and busy.poll() is None, "the server never started grading"
        time.sleep(0.1)
    mine, theirs = socket.socketpair()
    code = ("import socket, sys\n"
            f"c = socket.socket(socket.AF_UNIX); c.connect({str(sock)!r})\n"
            "socket.send_fds(socket.socket(fileno=int(sys.argv[1])), [b'x'], [c.fileno()])")
    subprocess.run([sys.executable, "-c", code, str(theirs.fileno())], pass_fds=[theirs.fileno()], check=True,
                   timeout=30)
    _, fds, _, _ = socket.recv_fds(mine, 10, 1)
    orphan = socket.socket(fileno=fds[0])           # open, its process gone
    silent = socket.socket(socket.AF_UNIX)
    silent.connect(str(sock))                       # alive, and says nothing
    assert busy.wait(timeout=300) == 0, busy.stderr.read()
    t = time.monotonic()
    with orphan:
        assert "the asking process is gone" in json.loads(orphan.makefile().readline())["err"]
    with silent:
        assert "timed out" in json.loads(silent.makefile().readline())["err"]
    assert time.monotonic() - t < server.REQUEST_TIMEOUT + 10
    mine.close(), theirs.close()


def test_a_second_server_on_the_same_socket_is_refused(served):
    sock, _, env, _ = served
    p = subprocess.run([sys.executable, "-m", "autograders.cli", "serve", "--socket", str(sock),
                        "--assignment", "tiny"], capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert p.returncode == 2 and "already running" in p.stderr
    assert sock.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to ask as another user")
def test_another_user_is_not_served(served):
    sock, _, _, folder = served
    os.chmod(sock.parent, 0o711)              # let the other user reach the socket: the server itself must refuse
    os.chmod(sock, 0o666)
    try:
        # (the folder is opened first: pytest's own folders above it are closed to other users)
        code = (f"import os, socket, json; d = os.open({str(sock.parent)!r}, os.O_RDONLY)\n"
                "os.setgid(65534); os.setuid(65534)\n"
                f"s = socket.socket(socket.AF_UNIX); s.connect(f'/proc/self/fd/{{d}}/{sock.name}')\n"
                "try: s.sendall(json.dumps({'args': {'notebooks': ['/x.ipynb']}}).encode() + b'\\n')\n"
                "except BrokenPipeError: pass   # (refused before it was read)\n"
                "print(s.makefile().readline(), end='')")
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    finally:
        os.chmod(sock.parent, 0o700)
        os.chmod(sock, 0o600)
    assert p.returncode == 0, p.stderr
    answer = json.loads(p.stdout)
    assert answer["exit"] == 2 and "only its own user" in answer["err"]


def test_a_request_without_the_token_or_from_below_the_server_is_refused(served):
    sock = served[0]
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(sock))
        s.sendall(json.dumps({"args": {"notebooks": ["/x.ipynb"]}}).encode() + b"\n")
        answer = json.loads(s.makefile().readline())
    assert answer["exit"] == 2 and "without its token" in answer["err"]
    assert server._below(os.getpid(), os.getppid()) and not server._below(os.getppid(), os.getpid())


def test_student_code_cannot_reach_the_server_it_is_graded_by(served):
    """A notebook whose cell tries to read the server's token and ask it to grade the model answers: it can do
    neither (its `total` is right only when it could not)."""
    sock, _, _, folder = served
    out = folder / "stolen"
    attack = (
        "import json, socket\nreached = []\n"
        f"for path in ({str(server.token_path(sock))!r}, {str(sock)!r}):\n"
        "    try:\n"
        "        if path.endswith('.token'):\n"
        "            tok = open(path).read()\n"
        "        else:\n"
        "            s = socket.socket(socket.AF_UNIX); s.connect(path)\n"
        f"            s.sendall(json.dumps({{'args': {{'notebooks': [{str(folder / 'source.ipynb')!r}], "
        f"'out': {str(out)!r}}}}}).encode() + b'\\n')\n"
        "        reached.append(path)\n"
        "    except Exception:\n"
        "        pass\n"
        "def total(n): return sum(range(n + 1)) + len(reached)")
    nb = tiny.notebook(folder / "subs9", {"total": attack}, name="attack.ipynb")
    p = _grade(sock, [nb], folder / "out9")
    assert p.returncode == 0, p.stderr
    items = {i["id"]: i for i in _result(folder / "out9", "attack")["items"]}
    assert items["total"]["score"] == items["total"]["max_score"], items["total"]
    assert not out.exists()


def test_no_server_or_a_folder_others_may_enter_is_not_used(tmp_path):
    args = server.grade_parser().parse_args(["x.ipynb", "--server", str(tmp_path / "none" / "s.sock")])
    assert server.ask(args) == 2
    open_folder = tmp_path / "open"
    open_folder.mkdir(mode=0o755)
    open_folder.chmod(0o755)
    args.server = str(open_folder / "s.sock")
    assert server.ask(args) == 2
    with pytest.raises(server.ServerError, match="0700"):
        server.Server(open_folder / "s.sock", server.Warm())


def test_a_request_names_only_grade_options_and_absolute_paths():
    assert server.request_args({"notebooks": ["/a.ipynb"], "out": "/o", "jobs": 2}).jobs == 2
    for bad in ({"notebooks": ["a.ipynb"]}, {"notebooks": ["/a.ipynb"], "out": "o"},
                {"notebooks": ["/a.ipynb"], "exec": "rm -rf /"}, {"notebooks": ["/a.ipynb"], "isolation": "none"},
                ["/a.ipynb"]):
        with pytest.raises(ValueError):
            server.request_args(bad)


def test_the_server_stops_cleanly_on_sigterm_with_no_process_left(tmp_path):
    env = _env(tmp_path)
    sock = tmp_path / "run" / "s.sock"
    proc = subprocess.Popen([sys.executable, "-m", "autograders.cli", "serve", "--socket", str(sock),
                             "--assignment", "tiny"], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert "ready" in proc.stdout.readline()
    below = processes.descendants(proc.pid)
    assert below                                    # its templates
    proc.terminate()
    assert proc.wait(timeout=60) == 0
    deadline = time.monotonic() + 15
    while any(processes.alive(p) for p in below) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(processes.alive(p) for p in below)
    assert not sock.exists()
    with pytest.raises(OSError):
        socket.socket(socket.AF_UNIX).connect(str(sock))
