"""Grade many notebooks: in parallel, each in its own worker process, resumable, never losing a result.

Results only the grader writes: each worker hands its result back over a pipe (never a file a kernel could
reach), and this process alone writes the result files, atomically, as soon as each is done. A worker
that crashes, is killed or overruns its hard time limit yields an `error` result (a grader failure,
every item `not_run`, with the reason), whatever is on disk. A result that cannot be written is that
submission's error, never the batch's. A re-run skips a submission only when the resume index
(`.ch4grade-index.json`, written by this process) vouches for its result file: the same notebook bytes,
the same result bytes and the same grading settings.
"""
from __future__ import annotations

import hashlib
import json
import os
import select
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from functools import partial
from dataclasses import asdict, replace
from pathlib import Path

from tqdm import tqdm

from . import notebook as nbk
from .checks import get_assignment
from .engine import GradeConfig, _not_run, _sha256, environment, start_kernel_template
from .execute.template import TemplateUnavailable
from .results import SubmissionResult, write_atomic
from .warm import ForkUnanswered

INDEX = ".ch4grade-index.json"
INTERRUPTED = "interrupted"   # run_worker's reason when the batch was interrupted: nothing is recorded
MAX_RESULT_BYTES = 256 * 2**20
# `python -c` keeps the current folder out of sys.path (`-P` needs Python 3.11)
WORKER = "import sys; sys.path[:] = [p for p in sys.path if p not in ('', '.')]; " \
         "from autograders.worker import main; sys.exit(main())"


def result_path(out_dir: Path, notebook: Path, taken: set[str]) -> Path:
    """A result file name per notebook, unique within the batch: never hidden (the resume index is
    `.ch4grade-index.json`) nor a Gradescope file's name; a stem already taken (a namesake, or a name chosen to
    look like a suffixed one) gets a hash suffix, longer until it is free."""
    base = notebook.stem
    if base.startswith("."):
        base = "_" + base.lstrip(".")
    if base.endswith(".gradescope"):
        base += "_"
    stem, digest, n = base, hashlib.sha256(str(notebook.resolve()).encode()).hexdigest(), 8
    while stem in taken:
        stem, n = f"{base}-{digest[:n]}", n + 4
        if n > len(digest):
            digest, n = hashlib.sha256(digest.encode()).hexdigest(), 8
    taken.add(stem)
    return out_dir / f"{stem}.json"


def fingerprint(config: GradeConfig, assignment: str | None) -> str:
    "What must match for a saved result to stand for a new grading of the same bytes."
    d = {"assignment": assignment, "run_hidden": config.run_hidden, "seed": config.seed,
         "device": config.device, "isolation": config.isolation, "check_seed": config.check_seed}
    return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


class ResumeIndex:
    "Which result files this batch wrote, for which notebook bytes and settings (one writer: this process)."

    def __init__(self, out_dir: Path):
        self.path = out_dir / INDEX
        self.lock = threading.Lock()
        try:
            data = json.loads(self.path.read_text())
            self.entries = data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            self.entries = {}

    def vouches(self, result_file: Path, notebook: Path, print_: str) -> SubmissionResult | None:
        "The saved result for `notebook` when the index vouches for it (same bytes, same settings)."
        e = self.entries.get(result_file.name)
        if not isinstance(e, dict) or e.get("fingerprint") != print_:
            return None
        try:
            data = result_file.read_bytes()
        except OSError:
            return None
        if hashlib.sha256(data).hexdigest() != e.get("result_sha256") or e.get("notebook_sha256") != _sha256(notebook):
            return None
        try:
            r = SubmissionResult.from_dict(json.loads(data))
        except (ValueError, TypeError, KeyError):
            return None
        return None if r.grader_failure else r

    def record(self, result_file: Path, text: str, r: SubmissionResult, print_: str) -> None:
        with self.lock:
            self.entries[result_file.name] = {"notebook_sha256": r.notebook_sha256, "fingerprint": print_,
                                              "result_sha256": hashlib.sha256(text.encode()).hexdigest()}
            write_atomic(self.path, json.dumps(self.entries, indent=1, sort_keys=True))


def _crash_result(notebook: Path, assignment: str | None, reason: str, config: GradeConfig,
                  student: str | None, sha: str | None) -> SubmissionResult:
    r = SubmissionResult(submission=str(notebook), assignment=assignment, student=student, status="error",
                         error=reason, grader_failure=True, notebook_sha256=sha)
    if assignment:
        try:
            r.items = _not_run(get_assignment(assignment), reason)
        except KeyError:
            pass
    r.environment = environment(config)
    return r


def hard_limit(config: GradeConfig) -> float:
    "Seconds after which a worker is killed: every budget plus start-up and restarts."
    lim = config.limits
    return lim.budget + lim.checks_budget + lim.startup_timeout * (config.max_restarts + 1) + 60


def _read_all(fd: int, out: list, limit: int) -> None:
    "Read the pipe `fd` to its end into out[0] (None when it held more than `limit` bytes)."
    chunks, size = [], 0
    with os.fdopen(fd, "rb") as f:
        while block := f.read(1 << 20):
            size += len(block)
            if size <= limit:
                chunks.append(block)
    out.append(b"".join(chunks) if size <= limit else None)


class BatchInterrupted(KeyboardInterrupt):
    "Ctrl-C during a batch: `done` holds (result file, result) of what was graded, `left` the notebooks not graded."

    def __init__(self, done: list[tuple[Path, SubmissionResult]], left: list[Path]):
        super().__init__(f"interrupted: {len(done)} graded, {len(left)} left to grade (run again to grade them)")
        self.done, self.left = done, left


def _stop_worker(proc) -> None:
    "SIGTERM (the worker shuts its kernel down), then SIGKILL after 15 s; never waits more than 45 s in all."
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:     # (a warm worker whose template is stopped, for one)
            pass


def _wait_worker(proc: subprocess.Popen, limit: float, stop: threading.Event | None) -> str:
    "Wait for the worker: '' when it exited, else why it was stopped (hard limit, or INTERRUPTED)."
    deadline = time.monotonic() + limit
    while True:
        try:
            proc.wait(timeout=0.2)
            return ""
        except subprocess.TimeoutExpired:
            pass
        if stop is not None and stop.is_set():
            _stop_worker(proc)
            return INTERRUPTED
        if time.monotonic() > deadline:
            _stop_worker(proc)
            return f"the grading worker ran past its hard limit of {limit:.0f} s and was killed"


def worker_args(notebook: Path, assignment: str | None, config: GradeConfig, student: str | None) -> list[str]:
    "`worker.main`'s arguments for one submission (the result fd is added by whoever starts it)."
    args = [str(notebook), "--config", json.dumps(asdict(config))]
    if assignment:
        args += ["--assignment", assignment]
    if student:
        args += ["--student", student]
    return args


def cold_start(args: list[str], result_fd: int, err_fd: int, gate_fds: tuple[int, int] | None = None):
    "A worker process of its own, which imports the grader itself (`warm.WarmPool.start` forks a warm one)."
    extra = ["--gate-fds", ",".join(map(str, gate_fds))] if gate_fds else []
    return subprocess.Popen([sys.executable, "-c", WORKER, *args, "--result-fd", str(result_fd), *extra],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err_fd,
                            pass_fds=(result_fd, *(gate_fds or ())))


class Slots:
    """The batch's --jobs, as slots a started worker waits for before it runs its notebook, handed out in the
    notebooks' order (each worker's ticket: its notebook's place in the batch, 0, 1, ...; or, given none, the
    order the workers started): a worker whose kernel was ready early waits for its elders, even for one whose
    thread has not placed itself yet. With GPUs (`--gpus`), `per_gpu` slots on each: a worker is placed, when
    it starts, on the GPU with the fewest workers (its kernel sees only that one) and runs when that GPU has a
    slot free and none of its elders there is still waiting."""

    def __init__(self, jobs: int, gpus: list[str] | None = None, per_gpu: int = 1):
        self.free = dict.fromkeys(gpus, per_gpu) if gpus else {None: jobs}
        self.placed = dict.fromkeys(self.free, 0)
        self.pending: dict = {g: set() for g in self.free}     # tickets placed and not yet served
        self.cond = threading.Condition()
        self.seen: set[int] = set()      # tickets placed, above `low`
        self.low = 0                     # every ticket below it has been placed

    def place(self, ticket: int | None = None) -> tuple[str | None, int]:
        "(the GPU for a worker that starts now, its ticket: `ticket`, or the next one)."
        with self.cond:
            if ticket is None:
                ticket = max(self.seen, default=self.low - 1) + 1
            if ticket < self.low or ticket in self.seen:
                raise ValueError(f"ticket {ticket} was placed already")
            gpu = min(self.placed, key=lambda g: self.placed[g])
            self.placed[gpu] += 1
            self.pending[gpu].add(ticket)
            self.seen.add(ticket)
            while self.low in self.seen:
                self.seen.discard(self.low)
                self.low += 1
            self.cond.notify_all()
            return gpu, ticket

    def unplace(self, gpu: str | None, ticket: int) -> None:
        "The worker is done (or gave up before its turn: its juniors need not wait for it)."
        with self.cond:
            self.placed[gpu] -= 1
            self.pending[gpu].discard(ticket)
            self.cond.notify_all()

    def acquire(self, gpu: str | None, ticket: int, timeout: float) -> bool:
        with self.cond:
            if not self.cond.wait_for(lambda: self.free[gpu] > 0 and self.low > ticket
                                      and min(self.pending[gpu]) == ticket, timeout):
                return False
            self.pending[gpu].discard(ticket)
            self.free[gpu] -= 1
            self.cond.notify_all()
            return True

    def release(self, gpu: str | None) -> None:
        with self.cond:
            self.free[gpu] += 1
            self.cond.notify_all()


def _await_slot(proc, ready_fd: int, go_fd: int, gate: Slots, gpu: str | None, ticket: int, limit: float,
                stop: threading.Event | None) -> tuple[bool, str]:
    """Wait for the worker's kernel to be ready, then for a slot of `gate`, then let it go on.
    (slot taken, '') or (False, why it was stopped); (False, '') when the worker ended before its kernel was ready."""
    deadline = time.monotonic() + limit
    poll = select.poll()          # (not select(): with many workers in flight fds pass 1024)
    poll.register(ready_fd, select.POLLIN | select.POLLHUP)
    while True:
        if stop is not None and stop.is_set():
            _stop_worker(proc)
            return False, INTERRUPTED
        if time.monotonic() > deadline:
            _stop_worker(proc)
            return False, f"the grading worker's kernel was not ready within {limit:.0f} s; it was killed"
        if poll.poll(200):
            break
    if not os.read(ready_fd, 1):          # it ended (or will) without starting a kernel: nothing to wait for
        return False, ""
    while not gate.acquire(gpu, ticket, timeout=0.2):
        if stop is not None and stop.is_set():
            _stop_worker(proc)
            return False, INTERRUPTED
    try:
        os.write(go_fd, b"g")
    except OSError:                       # it died while it waited: its exit code tells
        pass
    return True, ""


def run_worker(notebook: Path, assignment: str | None, config: GradeConfig,
               student: str | None = None, stop: threading.Event | None = None,
               start=cold_start, gate: Slots | None = None, order: int | None = None
               ) -> tuple[SubmissionResult | None, str]:
    """Grade `notebook` in a worker process (`start`: a cold one, or a warm pool's fork); (its result, '') or
    (None, why there is none). When `stop` is set the worker is killed and the reason is INTERRUPTED.
    With `gate`, the worker starts its kernel at once and runs the notebook only when it holds one of the
    gate's slots (the batch's --jobs): the next kernel starts while the current notebook runs. `order`: the
    notebook's place in the batch (0, 1, ...), the order in which the gate's slots are handed out."""
    gpu, ticket = gate.place(order) if gate is not None else (None, 0)
    try:
        return _run_worker(notebook, assignment, replace(config, gpu=gpu) if gpu is not None else config,
                           student, stop, start, gate, gpu, ticket)
    finally:
        if gate is not None:
            gate.unplace(gpu, ticket)


def _run_worker(notebook, assignment, config, student, stop, start, gate, gpu, ticket):
    for begin in (start, cold_start):
        read_fd, write_fd = os.pipe()
        err_fd, err_w = os.pipe()
        go_r, go_w = os.pipe() if gate is not None else (None, None)
        ready_r, ready_w = os.pipe() if gate is not None else (None, None)
        mine, theirs = [read_fd, err_fd, go_w, ready_r], [write_fd, err_w, go_r, ready_w]
        try:
            proc = begin(worker_args(notebook, assignment, config, student), write_fd, err_w,
                         (go_r, ready_w) if gate is not None else None)
            break
        except OSError as e:
            for fd in mine:
                if fd is not None:
                    os.close(fd)
            if not isinstance(e, ForkUnanswered):      # (which leaves these pipes held: fresh ones, cold)
                return None, f"the grading worker could not start ({e})"
        finally:
            for fd in theirs:
                if fd is not None:
                    os.close(fd)
    got: list = []
    reader = threading.Thread(target=_read_all, args=(read_fd, got, MAX_RESULT_BYTES), daemon=True)
    reader.start()
    err: list = []
    err_reader = threading.Thread(target=_read_all, args=(err_fd, err, 1 << 20), daemon=True)
    err_reader.start()
    slot, reason = False, ""
    try:
        if gate is not None:
            slot, reason = _await_slot(proc, ready_r, go_w, gate, gpu, ticket, hard_limit(config), stop)
        if not reason:
            reason = _wait_worker(proc, hard_limit(config), stop)
    except BaseException:               # a bug here must not leave the worker running
        _stop_worker(proc)
        raise
    finally:
        if slot:
            gate.release(gpu)
        for fd in (go_w, ready_r):
            if fd is not None:
                os.close(fd)
    reason = reason or f"the grading worker exited with code {proc.returncode}"
    if reason == INTERRUPTED:
        reader.join(timeout=30)
        return None, INTERRUPTED
    reader.join(timeout=30)
    err_reader.join(timeout=5)
    tail = (err[0] or b"")[-800:].decode("utf-8", "replace").strip() if err else ""
    if proc.returncode != 0 or not got or got[0] is None:
        return None, reason + (f": {tail}" if tail else "")
    try:
        return SubmissionResult.from_dict(json.loads(got[0])), ""
    except (ValueError, TypeError, KeyError) as e:
        return None, f"the grading worker's answer could not be read ({type(e).__name__})"


def grade_one(notebook: Path, out: Path, assignment: str | None, config: GradeConfig,
              student: str | None = None, index: ResumeIndex | None = None,
              stop: threading.Event | None = None, run=run_worker, order: int | None = None
              ) -> SubmissionResult | None:
    """Grade one notebook through a worker (`run`: `run_worker` here, or a cluster's) and record its result
    at `out` (never raises). None, and nothing recorded, when `stop` is set before or while it runs (the
    batch was interrupted). `order`: its place among the batch's submissions to grade (0, 1, ...): the first
    ones run first where not all can at once."""
    if stop is not None and stop.is_set():
        return None
    t = time.monotonic()
    sha = _sha256(notebook)
    r, reason = run(notebook, assignment, config, student, stop, order=order)
    if reason == INTERRUPTED:
        return None
    if r is None:
        r = _crash_result(notebook, assignment, reason, config, student, sha)
        r.timings = {"total_s": round(time.monotonic() - t, 3)}
    r.submission, r.notebook_sha256 = str(notebook), sha      # what this process saw, not what came back
    if student:
        r.student = student
    text = json.dumps(r.to_dict(), indent=1)
    try:   # the index first: a batch killed in between leaves a file the index does not vouch for
        if index is not None:
            index.record(out, text, r, fingerprint(config, assignment))
        write_atomic(out, text)
    except OSError as e:
        r.grader_failure = True
        r.error = f"the result could not be written to {out} ({e.strerror or e})" + (f"; {r.error}" if r.error else "")
    return r


IDLE_KERNEL_MB = 768     # a prestarted kernel waiting for its turn: ipykernel, torch and fastai imported


def meminfo_mb() -> dict[str, float]:
    "The machine's /proc/meminfo in MB (MemTotal, MemAvailable, ...); {} where it cannot be read."
    info = {}
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                key, value = line.split(":", 1)
                info[key] = int(value.split()[0]) / 1024
    except (OSError, ValueError, IndexError):
        return {}
    return info


def available_mb() -> float | None:
    "The machine's available memory (MemAvailable), or None where it cannot be read."
    return meminfo_mb().get("MemAvailable")


def prestarted(jobs: int, mem_mb: int) -> int:
    """How many kernels may wait, prestarted, beside the `jobs` that run: up to `jobs`, as long as the running
    kernels at their memory cap and the waiting ones fit in the machine's available memory (a machine that
    runs out kills kernels that are within their own limits)."""
    avail = available_mb()
    if avail is None:
        return jobs
    return max(0, min(jobs, int((avail - jobs * mem_mb) // IDLE_KERNEL_MB)))


def warm_enabled() -> bool:
    """Warm workers and prestarted kernels unless CH4GRADE_WARM=0 (each submission then imports the grader in a
    worker of its own and starts its kernel when its turn comes)."""
    return os.environ.get("CH4GRADE_WARM", "1").strip().lower() not in ("0", "no", "false", "off")


@contextmanager
def _runner(cluster: str | None, jobs: int, todo: int, gpus: list[str] | None = None, per_gpu: int = 1,
            mem_mb: int = 0, held=None):
    """(run, jobs, in flight): a Dask cluster's tasks, as many as it has slots; or worker processes on this
    machine. With more than one submission to grade (unless CH4GRADE_WARM=0) those are warm: forks of a
    template that imported the grader once (`warm.py`), and up to twice `jobs` of them in flight (as memory
    allows: `prestarted`), the extra ones starting their kernel while `jobs` run notebooks (`run_worker`'s gate). With `gpus`, `per_gpu`
    notebooks run on each GPU at once (`Slots`). `held`: a server's warm grader (`server.Warm`), whose pool
    serves even a single submission and outlives the batch."""
    if cluster:
        from . import cluster as dask_cluster
        with dask_cluster.connect(cluster) as client:
            n = max(jobs, dask_cluster.slots(client))
            yield dask_cluster.runner(client), n, n
        return
    if gpus:
        jobs = len(gpus) * per_gpu
    warm = (todo > 1 or held is not None and todo > 0) and warm_enabled()
    gate = Slots(jobs, gpus, per_gpu) if gpus or warm else None
    if not warm:
        yield partial(run_worker, gate=gate), jobs, jobs
        return
    in_flight = min(todo, jobs + prestarted(jobs, mem_mb))
    if held is not None:
        pool = held.pool()
        yield partial(run_worker, start=pool.start if pool else cold_start, gate=gate), jobs, in_flight
        return
    from .warm import WarmPool
    with WarmPool.open() as pool:
        yield partial(run_worker, start=pool.start if pool else cold_start, gate=gate), jobs, in_flight


def assignments_of(notebooks: list[Path], assignment: str | None) -> list[str]:
    "The known assignments `notebooks` are graded as (`assignment`, or each one's metadata), without importing any."
    from .checks import available_assignments
    names = {assignment} if assignment else set()
    if not names:
        for nb in notebooks:
            try:
                names.add(nbk.notebook_assignment(nbk.read_notebook(nb)))
            except Exception:                      # (that notebook's own grading says what is wrong with it)
                continue
    return sorted(names & set(available_assignments()))


def watch_template(template) -> None:
    "Say once, on stderr, if `template` does not come up (every kernel is then started as before)."
    def watch():
        try:
            template.wait_ready()
        except TemplateUnavailable as e:
            print(f"ch4grade: {e}; each kernel imports its modules itself", file=sys.stderr)
    threading.Thread(target=watch, daemon=True).start()


def _kernel_template(config: GradeConfig, names: list[str]):
    """The batch's kernel template (`execute/template.py`: kernels forked with the notebooks' modules already
    imported), for the assignments `names`; None where it cannot be had. If it does not come up, that
    is said once and every kernel is started as before."""
    template = start_kernel_template(config, names) if names else None
    if template is not None:
        watch_template(template)
    return template


def kernel_threads(jobs: int) -> int:
    "The threads each kernel may use when `jobs` run at once (torch's and BLAS's): this machine's cores over them."
    return max(1, (os.cpu_count() or 1) // max(1, jobs))


def grade_many(notebooks: list[Path], out_dir: Path, assignment: str | None = None,
               config: GradeConfig | None = None, jobs: int = 1, resume: bool = True,
               progress: bool = True, students: dict[Path, str] | None = None,
               cluster: str | None = None, gpus: list[str] | None = None,
               kernels_per_gpu: int = 1, held=None) -> list[tuple[Path, SubmissionResult]]:
    """Grade `notebooks` into `out_dir`; returns (result file, result) in the notebooks' order.
    `cluster` (`local[:N]` or a Dask scheduler's address): each submission a task there (`cluster.py`),
    as many at once as the cluster has worker threads (or `jobs`, if more); not contacted when every
    result is resumed. `gpus` (CUDA device ids): `kernels_per_gpu` notebooks on each at once, in place of `jobs`.
    Ctrl-C: no submission starts after it, the running ones are killed and not recorded (graded on the next
    run), the finished ones are kept; raises BatchInterrupted with them. `held`: a server's warm grader
    (`server.Warm`): its worker pool and kernel template serve this batch, even of one, and outlive it."""
    config = config or GradeConfig()
    out_dir.mkdir(parents=True, exist_ok=True)
    index = ResumeIndex(out_dir)
    print_ = fingerprint(config, assignment)
    taken: set[str] = set()
    paths = [result_path(out_dir, Path(nb), taken) for nb in notebooks]
    results: dict[int, SubmissionResult] = {}
    todo = []
    for i, (nb, out) in enumerate(zip(notebooks, paths)):
        done = index.vouches(out, Path(nb), print_) if resume else None
        if done is not None:
            results[i] = done
        else:
            todo.append(i)
    with _runner(cluster if todo else None, max(1, jobs), len(todo), gpus, max(1, kernels_per_gpu),
                 config.limits.mem_mb, held if not cluster else None) as (run, jobs, in_flight):
        if config.limits.threads is None:     # (on a cluster: this machine's cores over its slots, at least 1)
            config.limits.threads = kernel_threads(jobs)
        bar = tqdm(total=len(notebooks), initial=len(results), desc="grading", unit="nb", disable=not progress,
                   file=sys.stderr)
        stop = threading.Event()
        pool = ThreadPoolExecutor(max_workers=in_flight)
        futures: dict = {}
        template = None
        try:
            if not cluster and not gpus and warm_enabled() and (len(todo) > 1 or held is not None and todo):
                names = assignments_of([Path(notebooks[i]) for i in todo], assignment)
                template = held.template(config, names) if held is not None else _kernel_template(config, names)
                if template is not None:
                    config = replace(config, kernel_template=template.handle.to_json())
            futures = {pool.submit(grade_one, Path(notebooks[i]), paths[i], assignment, config,
                                   (students or {}).get(Path(notebooks[i])), index, stop, run, k): i
                       for k, i in enumerate(todo)}
            for fut in as_completed(futures):
                i = futures[fut]
                r = fut.result()
                if r is None:
                    continue
                results[i] = r
                bar.set_postfix_str(f"{Path(notebooks[i]).name}: {r.score:g}/{r.auto_max_score:g}")
                bar.update()
        except BaseException as e:
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)      # running workers see `stop` and are killed
            if not isinstance(e, KeyboardInterrupt):
                raise
            for fut, i in futures.items():
                if fut.done() and not fut.cancelled() and fut.exception() is None and fut.result() is not None:
                    results[i] = fut.result()
            bar.close()
            done = [(paths[i], results[i]) for i in sorted(results)]
            left = [Path(notebooks[i]) for i in range(len(notebooks)) if i not in results]
            err = BatchInterrupted(done, left)
            print(str(err), file=sys.stderr)
            raise err from None
        finally:
            pool.shutdown(wait=True)
            if template is not None and held is None:
                try:
                    template.close()
                except Exception as e:       # (the results are written: a close that fails loses none of them)
                    print(f"ch4grade: the kernel template did not close cleanly ({e!r})", file=sys.stderr)
        bar.close()
    return [(paths[i], results[i]) for i in range(len(notebooks))]


def write_reports(pairs: list[tuple[Path, SubmissionResult]], out_dir: Path, formats: tuple[str, ...]) -> list[Path]:
    "Gradescope files per submission, JUnit XML and a Markdown summary for the batch."
    from .exporters import to_gradescope, to_junit, to_markdown
    written = []
    if "gradescope" in formats:
        for path, r in pairs:
            try:
                written.append(write_atomic(path.with_suffix(".gradescope.json"),
                                            json.dumps(to_gradescope(r), indent=1)))
            except OSError as e:              # that submission's problem, reported, not the batch's
                r.grader_failure = True
                r.error = (r.error + "; " if r.error else "") + f"its Gradescope file could not be written ({e})"
    if "junit" in formats:
        written.append(write_atomic(out_dir / "junit.xml", to_junit([r for _, r in pairs])))
    summary = to_markdown([r for _, r in pairs])
    written.append(write_atomic(out_dir / "summary.md", summary))
    step = os.environ.get("GITHUB_STEP_SUMMARY")
    if step:
        with open(step, "a", encoding="utf-8") as f:
            f.write("## ch4grade\n\n" + summary)
    return written
