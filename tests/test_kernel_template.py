"""Kernel templates (issue 12): kernels forked from a sandboxed Python that imported torch once per batch. Each is
as isolated as a kernel bubblewrap starts (its own uid, cgroup, namespaces, scratch and socket folder), shares
nothing with a classmate's, and a template that is gone or does not fit costs nothing but the import time."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from autograders.engine import GradeConfig, kernel_env, start_kernel_template
from autograders.execute import processes
from autograders.execute.sandbox import Sandbox, choose
from autograders.execute.session import KernelSession, Limits, kernel_environment
from autograders.execute.template import KernelTemplate, TemplateHandle, preloadable, template_key, why_not

LIMITS = Limits(threads=1, mem_mb=1500, cell_timeout=60)
EXTRA = {"MPLBACKEND": "module://matplotlib_inline.backend_inline", "CH4GRADE_GRADING": "1"}


def _sandbox() -> Sandbox:
    box = choose("auto")
    why = why_not(box, cuda=False)
    if why:
        assert not os.environ.get("CI"), f"CI grades as root under bubblewrap, where templates work: {why}"
        pytest.skip(why)
    return box


@pytest.fixture(scope="module")
def template():
    box = _sandbox()
    env = kernel_environment("/tmp", "template", LIMITS, EXTRA, None)
    t = KernelTemplate(box, env, None, LIMITS.scratch_mb, ("torch", "no_such_module_anywhere"))
    try:
        yield t
    finally:
        t.close()


def _session(template: KernelTemplate, **kw) -> KernelSession:
    s = KernelSession(env=EXTRA, limits=LIMITS, sandbox=choose("auto"), template=template.handle, **kw)
    s.start()
    return s


def _run(session: KernelSession, code: str) -> str:
    r = session.execute(code, 60)
    assert r.status == "ok", r.error
    return "".join(o.get("text", "") for o in r.outputs if o.get("name") == "stdout")


def test_a_template_preloads_what_it_can_and_says_what_it_could_not(template):
    info = template.wait_ready()
    assert info["ready"] and "torch" in info["loaded"] and info["failed"] == ["no_such_module_anywhere"]


def test_each_kernel_is_as_isolated_as_one_bubblewrap_starts_and_shares_nothing(template):
    a, b = _session(template), _session(template)
    try:
        for s in (a, b):
            assert s.template is not None and "forked from" in s.isolation["enforced"]["process"]
            seen = s.isolation["verified"]
            assert seen["uid"] not in (0, os.geteuid()) and seen["capabilities"] == "none" and seen["no_new_privs"]
            assert set(seen["separate_namespaces"]) == {"mnt", "pid", "net", "ipc", "uts"}, seen
        assert a.isolation["verified"]["uid"] != b.isolation["verified"]["uid"]
        # torch was imported before the first cell; nothing of the template's own start is left to see
        assert _run(a, "import sys; print('torch' in sys.modules, sys.flags.isolated)") == "True 1\n"
        assert "zygote" not in _run(a, "import sys; print(sys.path, [m for m in sys.modules if 'launch' == m])")
        status = _run(a, "print(open('/proc/self/status').read())")
        for field in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            assert f"{field}:\t0000000000000000" in status, field
        # A writes everywhere it may; B sees none of it, nor A's sockets, nor the template's socket
        _run(a, "import os\nfor p in ('/tmp/a', os.environ['HOME'] + '/.a'): open(p, 'w').write('a')")
        assert _run(a, "import os; print(os.access('/dev/shm', os.W_OK))") == "False\n"   # as bubblewrap's
        listing = _run(b, "import os\nfor r, d, f in os.walk('/dev/shm'): print(r, sorted(f))\n"
                          "print(sorted(os.listdir('/tmp')))")
        assert "'a'" not in listing and "'.a'" not in listing, listing
        assert str(a._dir.name) not in listing and "control" not in listing, listing
        assert str(b._dir.name) in listing                                  # its own socket folder only
        ps = _run(b, "import os; print(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))")
        assert eval(ps)[:2] == [1, 2] and len(eval(ps)) <= 3, ps            # its init, itself (and the listing)
        assert _run(b, "import socket; print(socket.gethostname())") == "ch4grade\n"
        net = _run(b, "import socket\ns = socket.socket(); s.bind(('127.0.0.1', 0)); print('lo')")
        assert net == "lo\n"
        # its own cgroup namespace, its own readable /proc files, its own torch random state, no keyrings
        assert _run(b, "print(open('/proc/self/cgroup').read())").count("ch4grade") == 0
        assert _run(b, "import os; print(os.environ['CH4GRADE_KERNEL_TOKEN'])") == b.token + "\n"
        assert _run(b, "print(len(open('/proc/self/environ').read()) > 0)") == "True\n"   # dumpable, as after exec
        # its own memory limit; its init holds no capability either (nothing to inherit, nothing to gain)
        limit_file = next(d / n for d in b.cgroup.dirs.values() for n in ("memory.max", "memory.limit_in_bytes")
                          if (d / n).exists())
        assert int(limit_file.read_text()) == LIMITS.mem_mb * 2**20
        init = _run(b, "print(open('/proc/1/status').read())")
        for field in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            assert f"{field}:\t0000000000000000" in init, field
        assert "NoNewPrivs:\t1" in init
        for code in ("import torch; print(torch.initial_seed())", "import numpy; print(numpy.random.rand())",
                     "import multiprocessing as m; print(m.current_process().authkey)"):
            assert len({_run(s, code) for s in (a, b)}) == 2, code               # each its own
        keys = _run(b, "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                       "r = libc.syscall(248, b'user', b'k', b'secret', 6, -4)\nprint(r, ctypes.get_errno())")
        assert keys == "-1 1\n", keys                                  # add_key: EPERM
        # A past its memory cap is killed by its cgroup; B goes on
        r = a.execute("x = bytearray(3_000_000_000)", 60)
        assert r.status == "died" and "memory limit" in a.death_reason()
        assert _run(b, "print(6 * 7)") == "42\n"
    finally:
        a.shutdown()
        b.shutdown()
    for s in (a, b):
        assert not s._dir.exists() and s.pids() == []


DRIVER = """
import sys, time
from autograders.execute.session import KernelSession, Limits
from autograders.execute.template import TemplateHandle
from autograders.execute.sandbox import choose
s = KernelSession(env={extra!r}, limits=Limits(threads=1, mem_mb=1500), sandbox=choose("auto"),
                  template=TemplateHandle.from_json(sys.argv[1]))
s.start()
s.kc.execute("import subprocess, time; subprocess.Popen(['sleep', '600']); time.sleep(600)")
print(s.isolation["verified"]["uid"], flush=True)
time.sleep(600)
"""


def test_a_kernel_dies_with_a_grader_that_was_killed_outright(template, tmp_path):
    "A grader killed with SIGKILL (no shutdown): its template kernel, and what that started, go with it."
    import subprocess
    import sys
    script = tmp_path / "driver.py"
    script.write_text(DRIVER.replace("{extra!r}", repr(EXTRA)))
    grader = subprocess.Popen([sys.executable, str(script), template.handle.to_json()], stdout=subprocess.PIPE,
                              text=True, cwd=str(Path(__file__).resolve().parents[1]))
    uid = int(grader.stdout.readline())
    time.sleep(1.0)
    assert any(os.stat(f"/proc/{p}").st_uid == uid for p in os.listdir("/proc") if p.isdigit())
    grader.kill()
    grader.wait()

    def alive() -> list[int]:
        found = []
        for p in os.listdir("/proc"):
            try:
                if p.isdigit() and os.stat(f"/proc/{p}").st_uid == uid \
                        and Path(f"/proc/{p}/stat").read_text().split(") ")[1][0] != "Z":
                    found.append(int(p))
            except (OSError, IndexError):
                continue
        return found
    deadline = time.monotonic() + 15
    while alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert alive() == []


def test_a_kernel_asked_for_while_the_template_still_imports_waits_for_it():
    "The first kernels of a batch are asked for at once: they wait for the template, never start cold for it."
    box = _sandbox()
    env = kernel_environment("/tmp", "template", LIMITS, EXTRA, None)
    t = KernelTemplate(box, env, None, LIMITS.scratch_mb, ("torch", "matplotlib.pyplot"))
    s = KernelSession(env=EXTRA, limits=LIMITS, sandbox=box, template=t.handle)
    try:
        assert not t._answered.is_set()             # (still importing when the kernel is asked for)
        s.start()
        assert s.template is not None and "template_not_used" not in s.isolation, s.isolation
        assert "forked from" in s.isolation["enforced"]["process"]
        assert _run(s, "import sys\nprint('torch' in sys.modules)") == "True\n"
    finally:
        s.shutdown()
        t.close()


def test_a_kernel_whose_template_is_gone_starts_as_before(template):
    box = _sandbox()
    env = kernel_environment("/tmp", "template", LIMITS, EXTRA, None)
    gone = KernelTemplate(box, env, None, LIMITS.scratch_mb, ())
    gone.wait_ready()
    handle = gone.handle
    os.kill(gone.proc.pid, 9)                   # the template dies; its socket file stays behind for a while
    gone.proc.wait()
    s = KernelSession(env=EXTRA, limits=LIMITS, sandbox=box, template=handle)
    try:
        s.start()
        assert s.template is None and "process" not in s.isolation["enforced"]
        assert _run(s, "print('cold')") == "cold\n"
        keys = _run(s, "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                       "print(libc.syscall(248, b'user', b'k', b'secret', 6, -4), ctypes.get_errno())")
        assert keys == "-1 1\n", keys                 # no keyrings in a kernel bubblewrap starts either
        assert set(s.isolation["verified"]["separate_namespaces"]) >= {"mnt", "pid", "net"}
    finally:
        s.shutdown()
        gone.close()


def test_data_under_tmp_stays_visible_and_read_only_below_the_kernels_own_tmp(tmp_path):
    "A newcomer's data in /tmp: the kernel's fresh /tmp must not cover it (a fresh kernel's view shows it too)."
    box = _sandbox()
    data = tmp_path / "fastai" / "data"
    (data / "mnist_sample").mkdir(parents=True)
    (data / "mnist_sample" / "labels.csv").write_text("name,label\n")
    env = kernel_environment("/tmp", "template", LIMITS, EXTRA, str(data))
    t = KernelTemplate(box, env, str(data), LIMITS.scratch_mb, ())
    t.wait_ready()
    s = KernelSession(env=EXTRA, limits=LIMITS, sandbox=box, fastai_data=str(data), template=t.handle)
    try:
        s.start()
        assert s.template is not None
        code = (f"import os\nprint(open('{data}/mnist_sample/labels.csv').read().strip())\n"
                f"print(os.access('{data}', os.W_OK), sorted(os.listdir('/tmp')))")
        out = _run(s, code)
        assert out.startswith("name,label\nFalse"), out
        assert tmp_path.parts[2] in out                      # its own /tmp holds only the way to the data
    finally:
        s.shutdown()
        t.close()


def test_a_template_serves_only_the_kernel_a_session_would_start_itself(template, tmp_path):
    box = _sandbox()
    h = template.handle
    env = kernel_environment("/tmp", "some token", LIMITS, EXTRA, None)
    assert h.fits(env, None, box, cuda=False)                           # the token aside, the same kernel
    assert not h.fits({**env, "OMP_NUM_THREADS": "7"}, None, box, cuda=False)
    assert not h.fits(env, str(tmp_path), box, cuda=False)               # other data
    assert not h.fits(env, None, box, cuda=True)                         # a GPU kernel starts on its own
    assert not h.fits(env, None, Sandbox("landlock"), cuda=False)
    assert not TemplateHandle(str(tmp_path / "nothing"), str(tmp_path), h.key).fits(env, None, box, cuda=False)
    assert TemplateHandle.from_json(h.to_json()) == h and TemplateHandle.from_json("{bad") is None
    s = KernelSession(env={**EXTRA, "X": "1"}, limits=LIMITS, sandbox=box, template=h)
    try:
        assert s.template is None
    finally:
        s.shutdown()
    assert template_key(env, None) == h.key


def test_what_looks_for_a_shell_at_import_is_left_to_each_kernel():
    assert preloadable(("torch", "torch.nn", "matplotlib.pyplot", "fastai.data.load", "autograders")) == (
        "torch", "torch.nn", "matplotlib.pyplot", "torchvision", "numpy", "pandas", "PIL.Image")
    assert preloadable(("fastcore.all", "reference.sgd", "IPython.display")) == preloadable(("fastai.vision.all",))


def _from_batch_template(t: KernelTemplate, config: GradeConfig, *codes: str) -> list[str]:
    "What each of `codes` prints in a kernel a batch graded under `config` starts (it must be forked from `t`)."
    s = KernelSession(env=kernel_env(config), limits=config.limits, sandbox=choose("auto"),
                      fastai_data=t.fastai_data, template=t.handle)
    try:
        s.start()
        assert s.template is not None
        return [_run(s, code) for code in codes]
    finally:
        s.shutdown()


def test_a_batch_template_preloads_its_notebooks_modules(tmp_path):
    _sandbox()
    config = GradeConfig(limits=Limits(threads=1))
    t = start_kernel_template(config, ["ch04_questionnaire"])
    assert t is not None
    try:
        info = t.wait_ready()
        assert {"torch", "matplotlib.pyplot", "pandas"} <= set(info["loaded"])
        assert not any(m.split(".")[0] in ("autograders", "reference", "fastai", "fastcore") for m in info["loaded"])
        # fastai, imported by the kernel itself, knows it runs in a notebook (its progress bars are HTML)
        assert _from_batch_template(t, config, "import sys; print('fastcore' in sys.modules, 'torch' in sys.modules)",
                                    "from fastai.data.load import *\nimport fastcore.imports as f\nprint(f.IN_NOTEBOOK)"
                                    ) == ["False True\n", "True\n"]
        assert t.handle.key == template_key(kernel_environment("/tmp", "x", config.limits, kernel_env(config),
                                                               t.fastai_data), t.fastai_data)
    finally:
        t.close()
    assert not Path(t.base).exists()
    deadline = time.monotonic() + 10
    while processes.alive(t.proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not processes.alive(t.proc.pid)


def test_a_template_comes_up_for_kernels_of_several_threads():
    """numpy's OpenBLAS starts its threads as it loads, as many as OMP_NUM_THREADS: a template of kernels that
    may use two threads (`--jobs 1` on two cores) was refused ("a preloaded module started a thread")."""
    _sandbox()
    config = GradeConfig(limits=Limits(threads=2))
    t = start_kernel_template(config, ["ch04_questionnaire"])
    assert t is not None
    try:
        assert "numpy" in t.wait_ready()["loaded"]
        assert _from_batch_template(t, config, "import torch; print(torch.get_num_threads())") == ["2\n"]
    finally:
        t.close()
