"""Warm grading (issue 12): forks of a template that imported the grader once, kernels prestarted while the
previous notebook runs, `--gpus` slots, the kernel's determinism flags. Same results as cold workers."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

import tiny_assignment as tiny
from autograders import warm
from autograders.batch import INTERRUPTED, Slots, grade_many, run_worker
from autograders.commands.device import NoGPU, parse_gpus, physical_gpus
from autograders.engine import GradeConfig
from autograders.execute import processes
from autograders.execute.sandbox import choose
from autograders.execute.session import KernelSession, Limits
from autograders.execute.template import why_not as template_why_not
from autograders.execute.startup import FORBIDDEN, startup_code
from autograders.notebook import imported_modules
from autograders.paths import ROOT

LIMITS = dict(cell_timeout=60, budget=120, mem_mb=2000)


def _config(**kw) -> GradeConfig:
    return GradeConfig(limits=Limits(**LIMITS), check_seed=7, **kw)


def _class(folder: Path) -> list[Path]:
    subs = folder / "subs"
    return [tiny.notebook(subs, name="good.ipynb"),
            tiny.notebook(subs, {"dist": "def mnist_distance(a, b): return ((a - b)**2).mean((-1, -2))"},
                          name="wrong.ipynb"),
            tiny.notebook(subs, {"total": "import os\nos._exit(3)"}, name="dies.ipynb")]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:                     # gone meanwhile
        return b""


def _ours() -> list[int]:
    "Live workers, templates and kernels below this test process."
    return [pid for pid in processes.descendants(os.getpid())
            if any(k in _cmdline(pid) for k in (b"autograders", b"ipykernel", b"bwrap", b"zygote"))]


def _gone() -> bool:
    deadline = time.monotonic() + 15
    while _ours() and time.monotonic() < deadline:
        time.sleep(0.2)
    return not _ours()


def _template(timeout: float = 120) -> int | None:
    """This process's warm template (its forks share its command line), once a worker it forked has started a
    process of its own (its kernel): the template has answered that fork by then (a template stopped between a
    fork and its answer leaves that worker to start cold, which is right, but not what these tests set up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in _ours():
            if b"autograders.warm" in _cmdline(pid) and processes.parent(pid) == os.getpid() \
                    and any(processes.descendants(child) for child in processes.descendants(pid)
                            if processes.parent(child) == pid):
                time.sleep(0.5)
                return pid
        time.sleep(0.2)
    return None


def _class_of_four_with_its_template(folder: Path):
    "Four good notebooks graded one at a time in a thread: (notebooks, thread, [pairs] once done, template pid)."
    notebooks = [tiny.notebook(folder / "subs", name=f"s{i}.ipynb") for i in range(4)]
    out: list = []
    t = threading.Thread(target=lambda: out.append(grade_many(notebooks, folder / "out", "tiny", _config(),
                                                              jobs=1, progress=False)))
    t.start()
    template = _template()
    assert template
    return notebooks, t, out, template


def _digest(r):
    return r.status, r.score, [(i.id, i.status, i.score) for i in r.items]


def test_a_warm_class_grades_exactly_as_cold_workers_do(tiny_env, monkeypatch):
    """The same class and check seed: identical statuses, scores and items either way. Warm: every submission
    in a process of its own (distinct pids), each forked from the batch's template; kernels prestarted."""
    notebooks = _class(tiny_env)
    warm_pairs = grade_many(notebooks, tiny_env / "warm", "tiny", _config(), jobs=2, progress=False)
    monkeypatch.setenv("CH4GRADE_WARM", "0")
    cold_pairs = grade_many(notebooks, tiny_env / "cold", "tiny", _config(), jobs=2, progress=False)
    assert [_digest(r) for _, r in warm_pairs] == [_digest(r) for _, r in cold_pairs]
    good, wrong, dies = (r for _, r in warm_pairs)
    assert good.score == good.auto_max_score > wrong.score > 0
    assert dies.item("total").status != "passed"
    workers = [r.environment["worker"] for _, r in warm_pairs]
    templates = {w["warm_template"] for w in workers}
    assert len(templates) == 1 and None not in templates
    assert len({w["pid"] for w in workers}) == 3 and int(templates.pop()) not in {w["pid"] for w in workers}
    assert all(r.environment["worker"]["warm_template"] is None for _, r in cold_pairs)
    if template_why_not(choose("auto"), cuda=False) is None:   # kernels forked from the batch's kernel template
        assert all("forked from" in r.environment["isolation"]["enforced"]["process"] for _, r in warm_pairs)
    assert all("process" not in r.environment["isolation"]["enforced"] for _, r in cold_pairs)
    assert all("queued_s" in r.timings for _, r in warm_pairs)
    assert all("queued_s" not in r.timings for _, r in cold_pairs)
    for _, r in warm_pairs + cold_pairs:                    # the CPU it cost: the worker's, and its kernel's
        assert r.timings["cpu_s"]["grader"] > 0 and r.timings["cpu_s"]["kernel"] > 0.1, r.timings
    assert _gone()                                          # no worker, template or kernel left behind


class _CountingSlots(Slots):
    "Slots that say when a worker first asked for one (its kernel was ready)."

    def __init__(self, jobs):
        super().__init__(jobs)
        self.asked = threading.Event()

    def acquire(self, gpu, ticket, timeout):
        self.asked.set()
        return super().acquire(gpu, ticket, timeout)


def _run_in_thread(nb, cfg, gate, stop=None):
    out: list = []
    t = threading.Thread(target=lambda: out.append(run_worker(nb, "tiny", cfg, stop=stop, gate=gate)))
    t.start()
    return t, out


def test_a_prestarted_kernel_waits_for_its_slot_and_an_interrupt_kills_it(tiny_env):
    nb = tiny.notebook(tiny_env, name="one.ipynb")
    gate = _CountingSlots(jobs=0)                 # no slot free: the worker starts its kernel, then waits
    t, out = _run_in_thread(nb, _config(), gate)
    assert gate.asked.wait(120), "the worker never said its kernel was ready"
    time.sleep(2)
    assert not out and t.is_alive()              # it waits; nothing of the notebook has run
    gate.release(None)
    t.join(120)
    r, reason = out[0]
    assert reason == "" and r.status == "graded" and r.score == r.auto_max_score
    assert r.timings["queued_s"] >= 1.5 and r.timings["total_s"] < r.timings["queued_s"] + 120

    gate = _CountingSlots(jobs=0)                # its kernel dies while it waits: not the student's doing
    t, out = _run_in_thread(nb, _config(), gate)
    assert gate.asked.wait(120)
    kernels = [pid for pid in _ours() if b"ipykernel" in _cmdline(pid)]
    assert kernels
    for pid in kernels:
        os.kill(pid, signal.SIGKILL)
    time.sleep(1)
    gate.release(None)
    t.join(120)
    r, reason = out[0]
    assert reason == "" and r.score == r.auto_max_score and not r.grader_failure
    assert any("ended while it waited for its turn" in n for n in r.notes)

    gate, stop = _CountingSlots(jobs=0), threading.Event()
    t, out = _run_in_thread(nb, _config(), gate, stop)
    assert gate.asked.wait(120)
    stop.set()
    t.join(60)
    assert out == [(None, INTERRUPTED)]
    assert _gone()                               # the worker and its kernel are gone


def test_a_killed_template_costs_nothing_and_one_that_cannot_start_means_cold_workers(tiny_env, monkeypatch, capsys):
    nb = tiny.notebook(tiny_env, name="one.ipynb")
    with warm.WarmPool.open() as pool:
        assert pool is not None and pool.seconds > 0
        os.kill(pool.pid, signal.SIGKILL)         # e.g. by a submission that could reach it
        assert pool.gone.wait(30)
        r, reason = run_worker(nb, "tiny", _config(), start=pool.start)
    assert reason == "" and r.score == r.auto_max_score and r.environment["worker"]["warm_template"] is None

    monkeypatch.setattr(warm, "TEMPLATE", "import sys; sys.stderr.write('no luck\\n'); sys.exit(3)")
    pairs = grade_many([nb, tiny.notebook(tiny_env, name="two.ipynb")], tiny_env / "out", "tiny", _config(),
                       jobs=2, progress=False)
    assert [r.score for _, r in pairs] == [pairs[0][1].auto_max_score] * 2
    err = capsys.readouterr().err
    assert "warm workers unavailable" in err and "no luck" in err


def test_a_template_killed_mid_batch_loses_nothing_and_charges_nobody(tiny_env):
    notebooks, t, out, template = _class_of_four_with_its_template(tiny_env)
    time.sleep(3)
    os.kill(template, signal.SIGKILL)
    t.join(300)
    results = [r for _, r in out[0]]
    assert len(results) == 4
    for r in results:                       # graded in full, or the grader's failure: never the student's
        assert r.score == r.auto_max_score or (r.grader_failure and r.score == 0), (r.status, r.error)
    assert any(r.grader_failure for r in results) and any(not r.grader_failure for r in results)
    again = grade_many(notebooks, tiny_env / "out", "tiny", _config(), jobs=1, progress=False)
    assert all(r.score == r.auto_max_score and not r.grader_failure for _, r in again)
    assert _gone()


def test_gpu_ids_count_the_gpus_this_process_sees():
    assert physical_gpus(["0", "1"], None) == ["0", "1"] == physical_gpus(["0", "1"], "")
    assert physical_gpus(["0"], "2,3") == ["2"] and physical_gpus(["1", "0"], "GPU-a, GPU-b") == ["GPU-b", "GPU-a"]
    with pytest.raises(NoGPU):
        physical_gpus(["2"], "2,3")


def test_slots_spread_workers_over_gpus_bound_each_and_keep_the_notebooks_order():
    slots = Slots(jobs=99, gpus=["0", "1"], per_gpu=2)
    placed = [slots.place() for _ in range(6)]
    assert sorted(g for g, _ in placed) == ["0", "0", "0", "1", "1", "1"]
    zeros = [t for g, t in placed if g == "0"]
    assert not slots.acquire("0", zeros[1], 0.05)              # its elder is not served yet
    assert slots.acquire("0", zeros[0], 0) and slots.acquire("0", zeros[1], 0)
    assert not slots.acquire("0", zeros[2], 0.05)              # both of GPU 0's slots are taken
    slots.release("0")
    assert slots.acquire("0", zeros[2], 0)
    ones = [t for g, t in placed if g == "1"]
    assert not slots.acquire("1", ones[1], 0.05)
    slots.unplace("1", ones[0])                                # the elder ended before its turn
    assert slots.acquire("1", ones[1], 0)
    assert slots.place()[0] == "1"                             # GPU 1 now has the fewest workers


def test_slots_follow_the_notebooks_order_even_when_a_junior_worker_starts_first():
    slots = Slots(jobs=1)
    assert slots.place(1) == (None, 1)                         # the second notebook's thread got there first
    assert not slots.acquire(None, 1, 0.05)                    # its elder has not even placed itself
    assert slots.place(0) == (None, 0)
    assert not slots.acquire(None, 1, 0.05)
    assert slots.acquire(None, 0, 0)
    slots.release(None)
    slots.unplace(None, 0)
    assert slots.acquire(None, 1, 0)
    for again in (0, 1):
        with pytest.raises(ValueError):
            slots.place(again)


def test_gpu_ids_are_checked_before_anything_is_graded(tmp_path):
    assert parse_gpus(None, 0) is None
    assert parse_gpus("all", 2) == ["0", "1"] and parse_gpus("1, 0", 2) == ["1", "0"]
    for bad, count in (("0", 0), ("2", 2), ("0,0", 2), ("x", 2), ("", 2)):
        with pytest.raises(NoGPU):
            parse_gpus(bad, count)
    nb = tiny.notebook(tmp_path, name="a.ipynb")
    for extra in (["--gpus", "7"], ["--gpus", "0", "--device", "cpu"], ["--gpus", "0", "--kernels-per-gpu", "0"]):
        proc = subprocess.run([sys.executable, "-m", "autograders.cli", "grade", str(nb), "--out", str(tmp_path / "o"),
                               *extra], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
        assert not (tmp_path / "o").exists()


def test_the_kernel_imports_the_instructors_modules_and_sets_determinism_before_the_first_cell():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import json, fractions as fr\nfrom decimal import Decimal\n%matplotlib inline"),
        nbformat.v4.new_code_cell("from . import x\nimport autograders\nif True:\n    import wave"),
        nbformat.v4.new_code_cell("this is not python"), nbformat.v4.new_markdown_cell("import csv")])
    assert imported_modules(nb) == ("json", "fractions", "decimal", "autograders")
    code = startup_code(3, str(ROOT), imported_modules(nb))
    assert code.rstrip().splitlines()[-2].endswith(", ('json', 'fractions', 'decimal'))") and "autograders" in FORBIDDEN
    with KernelSession(limits=Limits(**LIMITS)) as k:
        assert k.execute(code, timeout=90, silent=True).status == "ok"
        run = k.execute("import sys, torch\nprint(sorted(m for m in ('json', 'fractions', 'decimal', 'wave') "
                        "if m in sys.modules), 'json' in dir(), torch.backends.cuda.matmul.allow_tf32, "
                        "torch.backends.cudnn.allow_tf32, torch.backends.cudnn.benchmark, "
                        "torch.backends.cudnn.deterministic, torch.initial_seed())", timeout=60)
    text = "".join(o.get("text", "") for o in run.outputs)
    assert text.split() == ["['decimal',", "'fractions',", "'json']", "False", "False", "False", "False", "True", "3"]


def test_results_record_the_determinism_flags(tiny_env):
    r, reason = run_worker(tiny.notebook(tiny_env, name="one.ipynb"), "tiny", _config())
    assert reason == ""
    flags = r.environment["determinism"]
    assert flags["torch.backends.cudnn.benchmark"] is False and flags["torch.backends.cuda.matmul.allow_tf32"] is False
    assert flags["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    assert json.loads(json.dumps(r.to_dict()))["environment"]["determinism"] == flags


def test_result_file_names_never_collide_whatever_the_notebooks_are_called(tmp_path):
    "A name chosen to look like a classmate's suffixed name, the resume index's, or a Gradescope file's."
    from autograders.batch import result_path
    a, b = tmp_path / "alice" / "lab.ipynb", tmp_path / "bob" / "lab.ipynb"
    taken: set[str] = set()
    first, second = result_path(tmp_path, a, taken), result_path(tmp_path, b, set(taken))
    mallory = tmp_path / "aaa" / f"{second.stem}.ipynb"
    names = [result_path(tmp_path, p, taken).name for p in
             (mallory, a, b, tmp_path / ".ch4grade-index.ipynb", tmp_path / "lab.gradescope.ipynb")]
    assert len(set(names)) == 5 and first.name == "lab.json"
    assert ".ch4grade-index.json" not in names and "lab.gradescope.json" not in names


def test_a_stopped_template_does_not_hang_the_batch(tiny_env, monkeypatch):
    "SIGSTOP (a student could, without a sandbox): its forks finish, the rest of the class starts cold."
    monkeypatch.setattr(warm, "FORK_TIMEOUT", 5.0)
    notebooks, t, out, template = _class_of_four_with_its_template(tiny_env)
    os.kill(template, signal.SIGSTOP)
    t.join(400)
    assert not t.is_alive()
    results = [r for _, r in out[0]]
    assert [r.score for r in results] == [results[0].auto_max_score] * 4, [(r.status, r.error, r.notes[-2:]) for r in results]
    assert results[0].environment["worker"]["warm_template"] and results[-1].environment["worker"]["warm_template"] is None
    assert _gone()


def test_a_kernel_the_machine_killed_is_the_graders_failure_not_the_students():
    "cgroup v2 counts OOM kills caused by the machine (or a parent cgroup) too; only `oom` is its own limit's."
    class Cgroup:
        def __init__(self, own):
            self.own = own

        def oom_kills(self):
            return 1

        def own_limit_ooms(self):
            return self.own

    k = KernelSession.__new__(KernelSession)
    k.killed_reason, k.limits = None, Limits(mem_mb=2600)
    k.cgroup = Cgroup(own=0)
    assert "the machine ran out of memory" in k.death_reason() and k.host_oom()
    k.killed_reason, k.cgroup = None, Cgroup(own=1)
    assert "more than its 2600 MB" in k.death_reason() and not k.host_oom()
    k.cgroup = None                                            # no cgroup: nothing says the machine did it
    assert not k.host_oom()


def test_the_grader_keeps_only_items_plots_and_at_most_its_bound(monkeypatch):
    import torch
    from autograders import engine
    from autograders.results import SubmissionResult
    g = engine.Grader.__new__(engine.Grader)
    g.figures, g.figure_bytes, g.result = {}, 0, SubmissionResult(submission="x", assignment="tiny")
    monkeypatch.setattr(engine, "MAX_FIGURE_BYTES", 10_000)
    line = {"x": torch.zeros(500), "y": torch.zeros(500), "label": ""}      # 4,000 bytes
    for _ in range(3):
        g._keep_figures("plot", [{"lines": [line], "title": "", "xlabel": "", "ylabel": ""}])
    assert len(g.figures["plot"]) == 2 and g.figure_bytes == 8000
    assert any("were not kept" in n for n in g.result.notes)


def test_prestarted_kernels_fit_in_the_machines_memory(monkeypatch):
    from autograders import batch
    monkeypatch.setattr(batch, "available_mb", lambda: 16_000)
    assert batch.prestarted(2, 6144) == 2              # 2 x 6144 + 2 x 768 fits
    assert batch.prestarted(2, 7500) == 1 and batch.prestarted(3, 6144) == 0 and batch.prestarted(4, 0) == 4
    monkeypatch.setattr(batch, "available_mb", lambda: None)
    assert batch.prestarted(3, 6144) == 3


def test_what_the_grader_writes_for_itself_is_never_under_dev_shm():
    "A Landlock kernel may write anywhere in /dev/shm: the kernel spec the grader launches is not there."
    with KernelSession(limits=Limits(**LIMITS), fastai_data=str(ROOT)) as k:
        spec = Path(k.km.kernel_spec_manager.kernel_dirs[0])
        config = k._private / ".fastai" / "config.ini"
        assert spec.is_dir() and config.is_file()
        assert not str(spec.resolve()).startswith("/dev/shm") and not str(config.resolve()).startswith("/dev/shm")


def test_empty_cgroups_of_graders_that_were_killed_outright_are_swept(tmp_path, monkeypatch):
    "A worker killed with SIGKILL leaves its kernel's cgroups; a later grader removes them once they are old."
    from autograders.execute import processes
    from autograders.execute.sandbox import cgroup
    dead = subprocess.Popen(["true"])
    dead.wait()                                            # a pid that is surely gone (and reaped)
    old = time.time() - cgroup.STALE_AFTER_S - 60
    made = {}
    for name, pid, age, busy in (("stale", dead.pid, old, False), ("young", dead.pid, None, False),
                                 ("live", os.getpid(), old, False), ("busy", dead.pid, old, True)):
        d = tmp_path / f"ch4grade-{pid}-{name}"
        d.mkdir()
        if busy:                                           # (rmdir refuses a cgroup with processes in it)
            (d / "cgroup.procs").write_text("1\n")
        if age:
            os.utime(d, (age, age))
        made[name] = d
    (tmp_path / "ch4grade-8d5fa25e005e47f1").mkdir()       # an older grader's name, without its pid: kept
    monkeypatch.setattr(processes, "_SWEPT", set())
    cgroup._sweep(tmp_path)
    assert sorted(p.name.split("-")[-1] for p in tmp_path.iterdir()) == ["8d5fa25e005e47f1", "busy", "live", "young"]
    made["stale"].mkdir()
    os.utime(made["stale"], (old, old))
    cgroup._sweep(tmp_path)                                # once per parent and process: not at every kernel
    assert made["stale"].exists()


def test_a_kernel_launched_before_the_checks_are_imported_is_the_one_that_grades_or_is_shut_down(tiny_env, monkeypatch):
    from autograders import engine
    launched = []

    def launch(*args):
        launched.append(real(*args))
        return launched[-1]
    real = engine.launch_kernel
    monkeypatch.setattr(engine, "launch_kernel", launch)
    nb = tiny.notebook(tiny_env, name="one.ipynb")
    r = engine.grade_notebook(nb, "no_such_assignment", _config())
    assert r.status == "error" and "unknown assignment" in r.error
    assert len(launched) == 1 and launched[0]._closed and not launched[0]._dir.exists()   # launched, then shut down
    r = engine.grade_notebook(nb, "tiny", _config())
    assert (r.status, r.score) == ("graded", 5), r.error
    assert len(launched) == 2 and launched[1]._closed              # the early kernel graded it: no second one
    assert _gone()


def test_the_grading_modules_start_without_torch():
    "torch loads when a check or a GPU needs it, never with the modules that hand out work and write results."
    code = ("import sys, autograders.cli, autograders.commands.grade, autograders.batch, autograders.worker\n"
            "from reference.data import fastai_data_dir, mnist_dir\n"
            "from autograders.engine import GradeConfig, environment\n"
            "env = environment(GradeConfig(device='cpu'))\n"
            "assert env['torch'] and 'torch' not in sys.modules, sorted(m for m in sys.modules if 'torch' in m)[:5]\n"
            "import reference.data as d\n"
            "assert set(d.__all__) >= {'sample_stack', 'load_mnist'} and callable(d.sample_stack)\n"
            "try:\n    d.no_such_name\nexcept AttributeError:\n    pass\nelse:\n    raise SystemExit('no AttributeError')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
