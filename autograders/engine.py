"""Grade one submission: read it, run it in a sandboxed kernel, check it from the grader's process.

    result = grade_notebook("alice.ipynb")           # -> SubmissionResult, never raises

Whatever the submission does, a result comes back: a notebook that cannot be read, a kernel that
dies or a budget that runs out give the affected items 0 with status `not_run` and the reason. What is
the grader's fault (no sandbox where one is required, its data missing, a check that breaks on its own
side) is never charged to the student: those items are `not_run`, the result says `grader_failure`
and why, openly, even for hidden checks.

Checks run in two passes: every public check first, then the hidden ones, so nothing a hidden check sends
into the kernel can come back in a public message; public messages are bounded and redacted
(`redact.py`).
"""
from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import os
import platform
import random
import secrets
import socket
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from . import notebook as nbk
from .checks import available_assignments, get_assignment, unit_notebook
from .checks.spec import Assignment, CheckFailed
from .gpus import cuda_available, visible_devices
from .execute.probe import figure_axes, figures_code, snapshot_code
from .execute.sandbox import IsolationUnavailable, Sandbox, choose
from .execute.session import KernelDied, KernelSession, Limits, kernel_environment
from .execute.sandbox.cgroup import KernelCgroup
from .execute.startup import DETERMINISM, startup_code
from .execute.template import KernelTemplate, TemplateHandle, TemplateUnavailable, preloadable
from .execute.template import why_not as template_why_not
from .namespace import KernelNamespace, MissingName, StudentError, check_rng_seed
from .paths import ROOT, source_notebook
from .redact import Redactor, redactor_for
from .results import CheckResult, ItemResult, SubmissionResult

HIDDEN_FAIL = "did not pass (a hidden check: details are not shown)"
MAX_FIGURE_BYTES = 64 * 2**20    # the plotted lines the grader keeps of one notebook, all items together
GRADER_FAILURE = "the grader could not run this check"


@dataclass
class GradeConfig:
    limits: Limits = field(default_factory=Limits)
    seed: int = 42
    fastai_home: str | None = None   # prepared data for `untar_data` (default: $FASTAI_HOME or ~/.fastai)
    device: str | None = None        # "cpu" hides GPUs from the kernel; None uses one when present
    max_restarts: int = 2            # kernel restarts after a crash (cells before it are replayed)
    run_hidden: bool = True
    executed_dir: str | None = None  # where to write the executed notebook (None: nowhere)
    check_seed: int | None = None    # seeds the inputs checks draw; None: a fresh random one per grading,
                                     # recorded in the result (pass it back to reproduce a grading exactly)
    isolation: str = "auto"          # strict | auto | none | bwrap | landlock (see execute/sandbox)
    gpu: str | None = None           # the one GPU the kernel sees (CUDA_VISIBLE_DEVICES; the batch's --gpus)
    kernel_template: str | None = None   # the batch's kernel template (`start_kernel_template`), as JSON


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def infer_assignment(nb) -> str | None:
    "The assignment named in the notebook's metadata, else the one whose item ids it shares most."
    name = nbk.notebook_assignment(nb)
    if name in available_assignments():
        return name
    ids = {nbk.grade_id(c) for c in nb.cells}
    best, best_overlap = None, 0
    for candidate in available_assignments():
        overlap = len(ids & set(get_assignment(candidate).items))
        if overlap > best_overlap:
            best, best_overlap = candidate, overlap
    return best


def seed_checks(seed: int, item_id: str, name: str) -> None:
    "Seed the grader's random generators for one check: the same seed, item and check draw the same inputs."
    import numpy as np
    import torch
    n = check_rng_seed(seed, item_id, name)
    random.seed(n)
    np.random.seed(n)
    torch.manual_seed(n)


def _version(package: str) -> str | None:
    "`package`'s version: the loaded module's, else the installed distribution's; None if it is not installed."
    module = sys.modules.get(package)
    if module is not None and getattr(module, "__version__", None):
        return module.__version__
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _visible_index(gpu: str | None) -> int:
    "Which of this process's CUDA devices is the kernel's `gpu` (a physical id or UUID, `GradeConfig.gpu`)."
    if gpu is None:
        return 0
    order = visible_devices()
    if order:
        return order.index(gpu) if gpu in order else 0
    return int(gpu) if gpu.isdigit() else 0


def environment(config: GradeConfig, session: KernelSession | None = None) -> dict:
    "Where the grading ran (versions, device, determinism flags, worker, sandbox); imports torch only for a GPU."
    env = {"python": platform.python_version(), "torch": _version("torch"), "platform": platform.platform(),
           "hostname": socket.gethostname(), "cpus": os.cpu_count()}
    fastai = _version("fastai")
    if fastai:
        env["fastai"] = fastai
    env["device"] = "cpu"
    if config.device != "cpu" and cuda_available():
        import torch
        env["device"] = f"cuda ({torch.cuda.get_device_name(_visible_index(config.gpu))})"
        env["cuda"] = {"visible_devices": config.gpu if config.gpu is not None else
                       os.environ.get("CUDA_VISIBLE_DEVICES"), "version": torch.version.cuda,
                       "cudnn": torch.backends.cudnn.version()}
    env["determinism"] = dict(DETERMINISM)   # what the kernel's startup cell set (student code may change it)
    env["check_seed"] = config.check_seed
    env["worker"] = {"pid": os.getpid(), "warm_template": os.environ.get("CH4GRADE_WARM_TEMPLATE")}
    if session is not None:
        env["isolation"] = session.isolation
        env["peak_memory_mb"] = round(session.peak_rss_mb)
    return env


def fastai_data(config: GradeConfig) -> str:
    "The prepared datasets the kernel's `untar_data` finds (read-only in the sandbox)."
    from reference.data.layouts import fastai_data_dir
    return str(fastai_data_dir(config.fastai_home).resolve())


def kernel_env(config: GradeConfig) -> dict:
    "What the grading kernel's environment adds to the sandbox's allow-list (`session.kernel_environment`)."
    env = {"MPLBACKEND": "module://matplotlib_inline.backend_inline", "CH4GRADE_GRADING": "1",
           "CUBLAS_WORKSPACE_CONFIG": DETERMINISM["CUBLAS_WORKSPACE_CONFIG"]}
    if config.device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    elif config.gpu is not None:
        env["CUDA_VISIBLE_DEVICES"] = config.gpu
    elif os.environ.get("CUDA_VISIBLE_DEVICES") is not None:
        env["CUDA_VISIBLE_DEVICES"] = os.environ["CUDA_VISIBLE_DEVICES"]
    return env


def launch_kernel(config: GradeConfig, sandbox: Sandbox) -> KernelSession:
    "A grading kernel for `config` in `sandbox`, its process started (`KernelSession.launch`), not yet ready."
    limits = config.limits
    cuda = config.device != "cpu" and cuda_available()
    if cuda:  # the CUDA driver maps huge virtual ranges: the memory cap alone (cgroup or watchdog)
        limits = Limits(**{**limits.__dict__, "address_space": False})
    session = KernelSession(env=kernel_env(config), limits=limits, sandbox=sandbox,
                            fastai_data=fastai_data(config), cuda=cuda,
                            template=TemplateHandle.from_json(config.kernel_template))
    try:
        session.launch()
    except BaseException:
        session.shutdown()
        raise
    return session


def start_kernel_template(config: GradeConfig, assignments: list[str]) -> KernelTemplate | None:
    """A kernel template for a batch graded under `config` (`execute/template.py`), with the modules the
    `assignments`' notebooks import (`preloadable`): started, not yet ready (kernels asked for meanwhile wait
    for it, up to their start-up timeout). None where its kernels would not be the ones the sessions start
    themselves (a GPU, no bubblewrap as root, no cgroups)."""
    try:
        sandbox = choose(config.isolation)
    except IsolationUnavailable:
        return None
    if template_why_not(sandbox, config.device != "cpu" and cuda_available()):
        return None
    probe, _ = KernelCgroup.create("template-probe", 64, 16)    # its kernels need one each
    if probe is None:
        return None
    probe.remove()
    imports: dict[str, None] = {}
    for name in assignments:
        try:
            path = unit_notebook(name) or source_notebook(name)
            imports.update(dict.fromkeys(nbk.imported_modules(nbk.read_notebook(path))))
        except Exception:               # (a unit that cannot be read is reported by its own gradings)
            continue
    data = fastai_data(config)
    env = kernel_environment("/tmp", "template", config.limits, kernel_env(config), data)
    try:
        return KernelTemplate(sandbox, env, data, config.limits.scratch_mb, preloadable(tuple(imports)))
    except (TemplateUnavailable, OSError) as e:
        print(f"ch4grade: no kernel template, each kernel imports its modules itself: {e}", file=sys.stderr)
        return None


def _launch_early(config: GradeConfig) -> KernelSession | None:
    """The kernel launched before the grader imports the assignment's checks (torch and the reference, a
    second or more in a cold worker), so that both go on at once; None where it cannot be (the Grader then
    starts one itself and reports what goes wrong)."""
    try:
        return launch_kernel(config, choose(config.isolation))
    except Exception:
        return None


def _not_run(assignment: Assignment, reason: str, answers: dict | None = None) -> list[ItemResult]:
    items = []
    for item in assignment.items.values():
        if item.manual:
            items.append(ItemResult(item.id, 0.0, item.points, "manual", "graded by hand",
                                    answer=(answers or {}).get(item.id)))
        else:
            items.append(ItemResult(item.id, 0.0, item.points, "not_run", reason, item.visibility))
    return items


def grade_notebook(path: str | Path, assignment: str | Assignment | None = None,
                   config: GradeConfig | None = None, student: str | None = None,
                   source: str | Path | None = None, ready=None) -> SubmissionResult:
    """Grade the notebook at `path`; always returns a result (status `error` if it could not be graded).

    `assignment` is a name (inferred from the notebook when None) or an `Assignment` object, whose
    instructor notebook `source` defaults to `assignments/<name>/<name>.ipynb`. `ready`, when given, is
    called once the kernel is started and prepared, before the first cell runs, and returns when grading
    may go on (a batch's slot: `batch.run_worker`); the time it takes is `timings.queued_s`, not counted in
    `total_s`."""
    config = config or GradeConfig()
    path = Path(path)
    t0 = time.monotonic()
    spec = assignment if isinstance(assignment, Assignment) else None
    result = SubmissionResult(submission=str(path), assignment=spec.name if spec else assignment,
                              student=student, notebook_sha256=_sha256(path))
    try:
        nb = nbk.read_notebook(path)
    except nbk.NotebookError as e:
        if spec is None and assignment:
            try:
                spec = get_assignment(assignment)
            except KeyError:
                pass
        return _fail(result, spec, str(e), config, t0)
    # a kernel launched now (before the checks are imported) only where the assignment is known cheaply
    early = _launch_early(config) if spec is None and (assignment or nbk.notebook_assignment(nb)) else None
    try:
        return _grade(path, nb, spec, assignment, config, result, t0, source, ready, early)
    finally:
        if early is not None:
            early.shutdown()      # (a no-op once the Grader has shut it down)


def _grade(path, nb, spec, assignment, config, result, t0, source, ready, early) -> SubmissionResult:
    if spec is None:
        name = assignment or infer_assignment(nb)
        result.assignment = name
        if name is None:
            return _fail(result, None, "cannot tell which assignment this notebook is (no ch4grade metadata and "
                                       "no known answer cells); pass --assignment", config, t0)
        try:
            spec = get_assignment(name)
        except KeyError as e:
            return _fail(result, None, str(e.args[0]), config, t0)
    try:
        sandbox = choose(config.isolation)
    except (IsolationUnavailable, ValueError) as e:
        return _fail(result, spec, str(e), config, t0, grader_failure=True)
    from .data import grader_data_problem
    problem = grader_data_problem(spec, config.fastai_home)
    if problem:
        return _fail(result, spec, f"grader failure: {problem}", config, t0, grader_failure=True)
    src = Path(source or spec.source or source_notebook(spec.name))
    try:
        return Grader(spec, nb, config, result, t0, src, sandbox, ready, early).grade()
    except Exception as e:  # a grader bug must not lose the submission
        clean = redactor_for(spec, src).clean       # the exception may quote what the kernel sent
        result.notes.append(clean("".join(traceback.format_exception(type(e), e, e.__traceback__)), 4000))
        return _fail(result, spec, clean(f"internal grader error: {type(e).__name__}: {e}"), config, t0,
                     grader_failure=True)


def _fail(result: SubmissionResult, spec: Assignment | None, reason: str, config: GradeConfig, t0: float,
          grader_failure: bool = False):
    result.grader_failure = result.grader_failure or grader_failure
    result.status, result.error = "error", reason
    if spec is not None:
        result.items = _not_run(spec, reason)
    result.environment = environment(config)
    result.timings = {"total_s": round(time.monotonic() - t0, 3)}
    return result


class Grader:
    "The state of grading one notebook: the plan, the kernel, figures, and the results so far."

    def __init__(self, spec: Assignment, nb, config: GradeConfig, result: SubmissionResult, t0: float,
                 src: Path, sandbox: Sandbox, ready=None, launched: KernelSession | None = None):
        self.spec, self.nb, self.config, self.result, self.t0 = spec, nb, config, result, t0
        self.sandbox, self.ready = sandbox, ready
        self.launched = launched              # a kernel already launched for the first start (`_launch_early`)
        self.source = nbk.read_notebook(src) if src.exists() else None
        self.imports = nbk.imported_modules(self.source) if self.source else ()   # each kernel's, at its start
        if self.source is None:   # said, not silent: locked cells cannot be restored nor blanks recognised
            result.notes.append(f"the instructor notebook of {spec.name} is missing ({src}): locked cells were run "
                                "as submitted and unanswered cells were not recognised")
        self.redactor: Redactor = redactor_for(spec, src if src.exists() else None)
        self.plan = nbk.plan(nb, self.source, [i.id for i in spec.auto_items] + [i.id for i in spec.manual_items])
        self.auto_ids = {i.id for i in spec.auto_items}
        for item_id, why in nbk.unanswered(self.plan.answers, self.source, self.auto_ids).items():
            self.plan.problems.setdefault(item_id, why)
        self.bound_item: str | None = None    # the answer cell whose names are bound at the next boundary
        self.figures: dict[str, list] = {}
        self.figure_bytes = 0
        self.session: KernelSession | None = None
        self.sessions: list[KernelSession] = []   # every kernel this grading started (restarts too)
        self.restarts = 0
        self.bad_cells: set[int] = set()      # positions in the plan that killed the kernel
        self.cell_runs: dict[int, object] = {}
        self.grader_failures: list[str] = []

    # ---- kernel ---------------------------------------------------------------------------
    def _start(self) -> None:
        launched, self.launched = self.launched, None
        self.session = launched if launched is not None else launch_kernel(self.config, self.sandbox)
        self.sessions.append(self.session)
        self.session.wait_ready()
        code = startup_code(self.config.seed, str(ROOT), self.imports)
        run = self.session.execute(code, timeout=self.session.limits.startup_timeout, silent=True)
        if run.status != "ok":
            raise KernelDied(f"the grading kernel could not be prepared: {run.error}")

    def _restart(self, upto: int) -> bool:
        "A fresh kernel with the plan's cells before `upto` replayed (skipping those that killed one)."
        if self.restarts >= self.config.max_restarts:
            return False
        self.restarts += 1
        self._note_host_oom()
        self.session.shutdown()
        self._start()
        self.bound_item = None
        for pos in range(upto):
            if pos in self.bad_cells or pos not in self.cell_runs:
                continue
            left = self._budget_left()
            if left <= 0:
                return False
            self._boundary(self.plan.cells[pos])
            run = self.session.execute(self.plan.cells[pos].source, timeout=min(self.config.limits.cell_timeout, left))
            if run.status == "died":
                return False
        self._take_figures()  # forget what the replayed cells drew
        return True

    def _note_host_oom(self) -> None:
        "A kernel the machine's out-of-memory killer stopped (within its own limit): the grader's failure."
        if self.session is not None and self.session.host_oom():
            self.grader_failures.append("the machine ran out of memory while grading (not the kernel's own limit); "
                                        "grade it again with fewer --jobs or more memory")

    def _boundary(self, cell=None) -> None:
        """Before an autograded answer cell runs (and after the last cell): bind the previous answer's item to
        the names of this moment (its cell and the locked cells after it), so its checks see them."""
        if cell is not None and cell.grade_id not in self.auto_ids:
            return
        if self.bound_item is not None and self.session.alive():
            self.session.execute(snapshot_code(self.bound_item), timeout=30, silent=True)
        self.bound_item = cell.grade_id if cell is not None else None

    def _budget_left(self) -> float:
        return self.config.limits.budget - (time.monotonic() - self.exec_start)

    # ---- the stages: plan (in __init__) -> execute -> score -> render ------------------------
    def execute(self) -> str | None:
        """Start the sandboxed kernel and run the planned cells; returns why execution stopped early (None if
        every cell ran). Raises KernelDied if the kernel could not be prepared. `close()` when done."""
        self._check_seed()
        self._start()
        return self._execute()

    def _wait_turn(self, timings: dict) -> None:
        """A prestarted kernel waits here for the batch's slot (`ready`); the wait is not the notebook's time. A
        kernel that died meanwhile ran nothing of the student's: a fresh one takes its place (KernelDied if
        that fails too: the grader's failure)."""
        t = time.monotonic()
        self.ready()
        timings["queued_s"] = round(time.monotonic() - t, 3)
        self.t0 += timings["queued_s"]
        if not self.session.alive():
            why = self.session.death_reason()
            self.result.notes.append(f"the grading kernel ended while it waited for its turn ({why}), before any "
                                     "of the notebook ran; a fresh kernel ran it")
            self.session.shutdown()
            t = time.monotonic()
            self._start()
            timings["startup_s"] = round(timings["startup_s"] + time.monotonic() - t, 3)

    def _check_seed(self) -> int:
        "The seed checks draw their inputs from: the configured one, else one drawn now for this grading."
        if self.config.check_seed is None:
            self.config = dataclasses.replace(self.config, check_seed=secrets.randbits(31))
        return self.config.check_seed

    def close(self) -> None:
        if self.session is not None:
            self.session.shutdown()

    def grade(self) -> SubmissionResult:
        r = self.result
        self._check_seed()
        r.notes.extend(self.plan.notes)
        timings = {}
        t = time.monotonic()
        try:
            self._start()
            timings["startup_s"] = round(time.monotonic() - t, 3)
            if self.ready is not None:
                self._wait_turn(timings)
        except KernelDied as e:  # before any student code ran: the grader's failure
            self.result.items = _not_run(self.spec, str(e), self.plan.answers)
            self.result.status, self.result.error = "error", f"grader failure: {e}"
            self.result.grader_failure = True
            if self.session is not None:
                self.session.shutdown()
            return self._finish(timings)
        except BaseException:       # the batch is gone while the kernel waited (or a grader bug)
            if self.session is not None:
                self.session.shutdown()
            raise
        try:
            t = time.monotonic()
            stop_reason = self._execute()
            timings["execute_s"] = round(time.monotonic() - t, 3)
            t = time.monotonic()
            r.items = self.score(stop_reason)
            timings["checks_s"] = round(time.monotonic() - t, 3)
        finally:
            r.environment = environment(self.config, self.session)
            self._note_host_oom()
            self.session.shutdown()
        if self.grader_failures:
            r.grader_failure = True
            r.error = "grader failure: " + "; ".join(dict.fromkeys(self.grader_failures))
        return self._finish(timings)

    def _finish(self, timings: dict) -> SubmissionResult:
        timings["total_s"] = round(time.monotonic() - self.t0, 3)
        cpu = [s.cpu_s for s in self.sessions if s.cpu_s is not None]
        if cpu:
            timings["cpu_s"] = {"kernel": round(sum(cpu), 3)}
        self.result.timings = timings
        if not self.result.environment:
            self.result.environment = environment(self.config, self.session)
        if self.config.executed_dir:
            self._write_executed()
        return self.result

    def _execute(self) -> str | None:
        "Run the planned cells; returns why execution stopped early (None if every cell ran)."
        self.exec_start = time.monotonic()
        limits = self.config.limits
        for pos, cell in enumerate(self.plan.cells):
            left = self._budget_left()
            if left <= 0:
                reason = f"the notebook's time budget ({limits.budget:.0f} s) ran out before this item was checked"
                self._record_cell(pos, cell, "not_run", 0.0, reason)
                self._boundary()
                return reason
            if not cell.source.strip():
                continue
            self._boundary(cell)
            run = self.session.execute(cell.source, timeout=min(limits.cell_timeout, left))
            self.cell_runs[pos] = run
            detail = run.error["evalue"] if run.error else ""
            if run.error and run.status == "error":
                detail = f"{run.error['ename']}: {run.error['evalue']}"
            self._record_cell(pos, cell, run.status, run.seconds, detail)
            if run.status == "died":
                self.bad_cells.add(pos)
                self.result.notes.append(f"cell {self._label(cell)} stopped the kernel ({detail}); "
                                         "the cells before it were run again in a fresh kernel")
                if not self._restart(pos):
                    return f"the kernel died in cell {self._label(cell)} ({detail})"
                continue
            axes = self._take_figures()
            if cell.grade_id in self.auto_ids and axes:      # (only items' plots are checked: nothing else is kept)
                self._keep_figures(cell.grade_id, axes)
            if not self.session.alive():   # the student's code killed it while the grader looked at its figures
                self.bad_cells.add(pos)
                self.result.notes.append(f"the kernel died after cell {self._label(cell)} "
                                         f"({self.session.death_reason()}); the cells before it were run again")
                if not self._restart(pos):
                    return f"the kernel died after cell {self._label(cell)}"
        self._boundary()
        return None

    def _keep_figures(self, item_id: str, axes: list) -> None:
        "Keep an item's plotted lines, up to MAX_FIGURE_BYTES for the whole notebook (the grader's memory)."
        size = sum(line[k].numel() * line[k].element_size() for ax in axes for line in ax["lines"] for k in "xy")
        if self.figure_bytes + size > MAX_FIGURE_BYTES:
            self.result.notes.append(f"the plots of `{item_id}` were not kept: the notebook's plots passed "
                                     f"{MAX_FIGURE_BYTES // 2**20} MB")
            return
        self.figure_bytes += size
        self.figures.setdefault(item_id, []).extend(axes)

    def _take_figures(self) -> list:
        "The axes drawn since the last call, as plain data (see `startup`); [] if none or unreadable."
        try:
            drawn = KernelNamespace(self.session, deadline=time.monotonic() + 30).run(figures_code())
        except (CheckFailed, KernelDied, TimeoutError):
            return []
        return figure_axes(drawn)

    @staticmethod
    def _label(cell) -> str:
        return f"`{cell.grade_id}`" if cell.grade_id else f"#{(cell.index or 0) + 1}"

    def _record_cell(self, pos, cell, status, seconds, detail) -> None:
        self.result.cells.append({"position": pos, "index": cell.index, "grade_id": cell.grade_id,
                                  "origin": cell.origin, "status": status, "seconds": round(seconds, 3),
                                  "detail": self.redactor.clean(str(detail), 500)})

    # ---- score ----------------------------------------------------------------------------
    def check_order(self) -> list:
        return checks_in_order(self.spec, self.config.run_hidden)

    def _alive(self) -> bool:
        return self.session is None or self.session.alive()

    def score(self, stop_reason: str | None = None, check_seed: int | None = None,
              only: set[str] | None = None, ns=None) -> list[ItemResult]:
        """Run the checks (of the items in `only`, default all) against the executed notebook and render the
        items' results. `check_seed` overrides the configured one (re-scoring one execution under many seeds);
        `ns` replaces the kernel (e.g. a `LocalNamespace` over a dict: scoring tested without a kernel)."""
        seed = self._check_seed() if check_seed is None else check_seed
        self.checks_start = time.monotonic()
        self.redactor = self.redactor.fresh()   # a scoring starts clean (each re-scoring too)
        if ns is None:
            ns = KernelNamespace(self.session, sources=self.plan.answers, figures=self.figures)
        self.dead_reason = stop_reason if stop_reason and not self._alive() else None
        self.budget_reason = stop_reason if stop_reason and self.dead_reason is None else None
        done: dict[tuple[str, str], CheckResult] = {}
        for check in self.check_order():
            if only is None or check.item_id in only:
                done[check.item_id, check.name] = self._check_once(check, ns, seed)
        items = []
        for item in self.spec.items.values():
            if only is not None and item.id not in only:
                continue
            if item.manual:
                items.append(ItemResult(item.id, 0.0, item.points, "manual", "graded by hand",
                                        answer=self.plan.answers.get(item.id)))
            else:
                items.append(render_item(item, [done[item.id, c.name] for c in item.checks
                                                if (item.id, c.name) in done]))
        return items

    def _check_once(self, check, ns, seed: int) -> CheckResult:
        "One check, unless the item's answer cell is broken, the kernel is gone or time has run out."
        problem = self.plan.problems.get(check.item_id)
        left = self.config.limits.checks_budget - (time.monotonic() - self.checks_start)
        if problem:
            return CheckResult(check.name, 0.0, check.points, "failed", problem, hidden=check.hidden)
        if self.dead_reason or self.budget_reason:
            return CheckResult(check.name, 0.0, check.points, "not_run", self.dead_reason or self.budget_reason,
                               hidden=check.hidden)
        if left <= 0:
            return CheckResult(check.name, 0.0, check.points, "not_run",
                               f"the checks' time budget ({self.config.limits.checks_budget:.0f} s) ran out",
                               hidden=check.hidden)
        ns.deadline = time.monotonic() + min(check.timeout, left)
        res = self.run_check(check, ns, seed)
        if not self._alive():
            reason = self.session.death_reason()
            if not self._restart(len(self.plan.cells)):
                self.dead_reason = f"the kernel died while checking `{check.item_id}` ({reason})"
        return res

    def run_check(self, check, ns, seed: int | None = None) -> CheckResult:
        """Run one check with its context (`ns.bind`: its item's bound names, its own randomness, `ref` when
        it is `given` reference pieces) and turn what happened into a CheckResult."""
        t = time.monotonic()
        hidden = check.hidden
        seed = self.config.check_seed if seed is None else seed

        def done(status, fraction, message="", expected=None, got=None):
            if check.given is not None:
                # a check the reference was given to: nothing the student's code wrote comes back (it may carry
                # what it dug out of `ref`, or of an earlier hidden check); the grader's own words and expectation do
                got = None
            if hidden and status != "passed":
                message = message if isinstance(message, str) and message.startswith("`") and \
                    "is not defined" in message else HIDDEN_FAIL
                expected = got = None
            clean = self.redactor.clean
            return CheckResult(check.name, round(check.points * fraction, 6), check.points, status, clean(message),
                               None if expected is None else clean(str(expected)),
                               None if got is None else clean(str(got)), hidden, round(time.monotonic() - t, 3))

        def grader_failure(e: BaseException) -> CheckResult:
            "The grader's side broke (its data, or the check itself): never the student's fault, said openly."
            what = f"{type(e).__name__}: {str(e)[:300]}"
            self.grader_failures.append(f"`{check.item_id}` / {check.name}: {what[:240]}")
            return CheckResult(check.name, 0.0, check.points, "not_run",
                               self.redactor.clean(f"{GRADER_FAILURE} ({what}); this is not your mistake, and "
                                                   "your instructor is told"), hidden=hidden,
                               seconds=round(time.monotonic() - t, 3))

        seed_checks(seed, check.item_id, check.name)
        ns.bind(seed, check.item_id, check.name, check.given,
                self.spec.kernel_for(check.item_id) if check.given is not None else "")
        try:
            value = check.fn(ns)
        except MissingName as e:
            return done("failed", 0.0, e.message)
        except StudentError as e:
            if check.given is not None:   # its name only, and only if it is Python's own
                import builtins
                return done("error", 0.0, f"your code raised {e.ename if e.ename in vars(builtins) else 'an exception'}")
            return done("error", 0.0, f"your code {e.message}")
        except CheckFailed as e:
            credit = min(max(float(e.credit), 0.0), 1.0)
            return done("partial" if credit > 0 else "failed", credit, e.message, e.expected, e.got)
        except KernelDied as e:
            return done("error", 0.0, f"the kernel died during this check ({e})")
        except TimeoutError as e:
            return done("error", 0.0, str(e) or "the check ran out of time")
        except Exception as e:  # noqa: BLE001  a check that broke on its own side (or its data did)
            return grader_failure(e)
        if value is None or value is True:
            return done("passed", 1.0)
        try:
            fraction = min(max(float(value), 0.0), 1.0)
        except (TypeError, ValueError) as e:
            return grader_failure(e)
        return done("passed" if fraction >= 1 else "partial" if fraction > 0 else "failed", fraction)

    def _write_executed(self) -> None:
        "The notebook with this grading's outputs, made inert (instructors open it in their browsers)."
        import nbformat
        out = nbformat.from_dict(self.nb)
        for pos, run in self.cell_runs.items():
            idx = self.plan.cells[pos].index
            if idx is not None and out.cells[idx].get("cell_type") == "code":
                out.cells[idx]["outputs"] = [nbformat.from_dict(o) for o in run.outputs]
        nbk.make_inert(out)
        target = Path(self.config.executed_dir) / Path(self.result.submission).name
        target.parent.mkdir(parents=True, exist_ok=True)
        from .results import write_atomic
        try:
            text = nbformat.writes(out)
        except Exception as e:  # outputs nbformat will not write: keep the submission's own cells
            self.result.notes.append(f"the executed notebook could not be written ({type(e).__name__})")
            return
        write_atomic(target, text)


def checks_in_order(spec: Assignment, run_hidden: bool = True) -> list:
    """The order checks run in: every public check, then every hidden one (nothing a hidden check sends into
    the kernel can surface in a public message); then the checks `given` reference pieces, in item order
    (public, then hidden, per item), so no reference reaches the kernel before every check of the item it
    answers has run."""
    items = spec.auto_items
    plain = [c for hidden in (False, True) for i in items for c in i.checks if c.given is None and c.hidden == hidden]
    given = [c for i in items for hidden in (False, True) for c in i.checks if c.given is not None and c.hidden == hidden]
    return [c for c in plain + given if run_hidden or not c.hidden]


def render_item(item, results: list[CheckResult]) -> ItemResult:
    "An item's result from its checks' results: score, status and the feedback lines (✓ / ~ / ✗ / -)."
    score = round(sum(c.score for c in results), 6)
    max_score = sum(c.max_score for c in results) if results else item.points
    statuses = {c.status for c in results}
    if results and statuses == {"passed"}:
        status = "passed"
    elif results and statuses == {"not_run"}:
        status = "not_run"
    elif score > 0:
        status = "partial"
    else:
        status = "error" if "error" in statuses else "failed"
    lines = []
    for c in results:
        mark = {"passed": "✓", "partial": "~", "not_run": "-"}.get(c.status, "✗")
        line = f"{mark} {c.name}{' (hidden)' if c.hidden else ''}"
        if c.status != "passed":
            line += f": {c.message}"
            if c.expected is not None or c.got is not None:
                line += f" (expected {c.expected}; got {c.got})"
        lines.append(line)
    return ItemResult(item.id, score, max_score, status, "\n".join(lines), item.visibility,
                      round(sum(c.seconds for c in results), 3), results)
