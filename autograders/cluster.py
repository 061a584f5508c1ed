"""Grading on a Dask cluster: `--cluster local[:N]` (a LocalCluster of N one-thread worker processes on
this machine) or `--cluster tcp://HOST:PORT` (a running scheduler). The optional extra `ch4grade[dask]`.

One Dask task per submission runs the same path as local grading (`batch.run_worker`: a fresh worker
process and a fresh sandboxed kernel per submission, the kernel under its own limits) on a Dask worker.
The notebook's bytes travel with the task, and the result and executed notebook come back to the grading
process, which alone writes result files, executed notebooks and the resume index (`batch.grade_one`): a
Dask worker never writes a result, so nothing on its disk or on shared storage can decide a score. Each
result records the Dask worker that graded it (`environment.dask_worker`).

- Failures: a task that fails (a lost worker past Dask's `allowed-failures`, a worker without the GPU that
  `--device cuda` asks for, a grader exception) is that submission's grader failure (exit 2), with the
  reason, never a silent 0; the batch goes on. No worker joins within `WORKERS_TIMEOUT` s: exit 2.
- Memory: Dask's memory limit does not count the worker's child processes, so it is not ours to rely on;
  each kernel keeps its own cgroup or rlimit cap (`--mem-mb`). A GPU cluster runs one Dask worker per GPU
  (`CUDA_VISIBLE_DEVICES` per worker, as dask-cuda does) with `--device cuda`.
- Every Dask worker needs ch4grade installed (the same version), the prepared data at the same
  `$FASTAI_HOME` / `$CH4GRADE_MNIST_DIR`, and bubblewrap: the worker is where the sandbox is built.
- Warm: each Dask worker process starts a warm template (`warm.py`) with a batch's first task and forks the
  worker process of every task of that batch from it, as local batches do (`environment.worker.warm_template`;
  `WorkerTemplates`); a template that cannot start means cold workers (CH4GRADE_WARM=0 too). Where kernel
  templates can be had (bubblewrap as root, CPU kernels: `execute/template.py`) it starts one for the batch
  too, for the first task's settings and assignment, and that batch's kernels are forked from it.
- Ctrl-C: no task starts after it; running tasks are told to stop (a Dask `Event` the task watches: its
  worker process and kernel are killed) and their results are dropped (graded on the next run).
"""
from __future__ import annotations

import logging
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

WORKERS_TIMEOUT = 60
INSTALL = "grading on a Dask cluster needs the optional extra: pip install 'ch4grade[dask]' (or uv sync --extra dask)"


class ClusterError(Exception):
    "The cluster cannot be used (not installed, a bad address, no scheduler or no worker): exit 2."


def parse(spec: str) -> tuple[str, int | str]:
    "('local', N) or ('remote', address) for a --cluster value; ClusterError when it is neither."
    if spec == "local" or spec.startswith("local:"):
        n = spec.partition(":")[2] or "2"
        if not n.isdigit() or int(n) < 1:
            raise ClusterError(f"--cluster {spec}: want local or local:N with N ≥ 1 workers")
        return "local", int(n)
    if spec.startswith(("tcp://", "tls://", "ucx://")):
        return "remote", spec
    raise ClusterError(f"--cluster {spec}: want local[:N] or a scheduler address such as tcp://HOST:8786")


def require_dask():
    "distributed's Client and LocalCluster; ClusterError when the extra is not installed."
    try:
        from distributed import Client, LocalCluster
    except ImportError as e:
        raise ClusterError(INSTALL) from e
    return Client, LocalCluster


def _quiet(record: logging.LogRecord) -> bool:
    """Drop the scheduler's log of a stop watcher's Event wait cancelled as a LocalCluster closes (`_watch`
    may be waiting when it does): an ERROR with a traceback that says nothing went wrong."""
    import asyncio
    return not (record.exc_info and isinstance(record.exc_info[1], asyncio.CancelledError))


@contextmanager
def connect(spec: str):
    "A Dask client for `spec` (a LocalCluster it starts and stops, or a scheduler's address) with a worker."
    kind, arg = parse(spec)
    Client, LocalCluster = require_dask()
    try:
        if kind == "local":
            logging.getLogger("distributed.event").addFilter(_quiet)
            cluster = LocalCluster(n_workers=arg, threads_per_worker=1, processes=True, dashboard_address=None)
            client = Client(cluster)
        else:
            cluster, client = None, Client(arg, timeout="10s")
        client.wait_for_workers(1, timeout=WORKERS_TIMEOUT)
    except Exception as e:  # no scheduler there, a bad port, a version mismatch, no worker joined
        raise ClusterError(f"--cluster {spec}: the Dask cluster cannot be used ({type(e).__name__}: {e})") from e
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
        logging.getLogger("distributed.event").removeFilter(_quiet)


def slots(client) -> int:
    "How many submissions the cluster grades at once: one per worker thread."
    return max(1, sum(client.nthreads().values()))


def _watch(stop_event: str, stop: threading.Event, client) -> None:
    "In a task: set `stop` when the grading process sets the Dask Event `stop_event` (Ctrl-C)."
    from distributed import Event
    ev = Event(stop_event, client=client)
    while not stop.is_set():
        try:
            if ev.wait(timeout=1):
                stop.set()
        except Exception:      # the scheduler is gone: the task's result has nowhere to go either
            stop.set()


TEMPLATE_RETRY_S = 300.0      # a Dask worker whose template could not start tries again after this long
MAX_LOST = 5                  # templates one Dask worker process may lose (killed, stuck) before it goes cold


def _open_pool(config=None, names: tuple[str, ...] = ()) -> tuple:
    """(a WarmPool or None where it could not start, the batch's kernel template or None, an Event that retires
    both). They are started from a thread of their own that outlives Dask's task threads (each dies with the
    thread that started it: PR_SET_PDEATHSIG, bubblewrap's --die-with-parent); once retired or gone and their
    workers have ended (and with them the kernels), that thread closes them. The kernel template (for `config`
    and the assignments `names`, when given) is not waited for: kernels asked for meanwhile wait for it."""
    from .warm import WarmPool
    got: list = [None, None]
    ready, retired = threading.Event(), threading.Event()

    def keep():
        try:
            got[0] = WarmPool()
            if config is not None and names:
                from .batch import _kernel_template
                got[1] = _kernel_template(config, list(names))
        except Exception as e:          # WarmUnavailable, or no fds left: cold workers
            print(f"ch4grade: warm workers unavailable on this Dask worker: {e}", file=sys.stderr)
        finally:
            ready.set()
        pool, kernels = got
        if pool is None:
            return
        while not (retired.wait(1.0) or pool.gone.is_set()):
            pass
        while pool.busy() and not pool.gone.is_set():   # its workers finish their submissions first
            time.sleep(1.0)
        if kernels is not None:
            kernels.close()
        pool.close()

    threading.Thread(target=keep, name="ch4grade-warm-template", daemon=True).start()
    ready.wait()
    return got[0], got[1], retired


class WorkerTemplates:
    """A Dask worker process's warm template (`warm.py`) and kernel template (`execute/template.py`), as a local
    batch has them: started by the first task of a batch, they serve that batch's tasks. A task of another
    batch retires them (a long-lived worker must not grade with the checks a batch of last week imported) and
    starts fresh ones; ones that are gone are started again (until MAX_LOST were lost), and ones that could
    not start are tried again after TEMPLATE_RETRY_S. Cold workers and kernels meanwhile, and with
    CH4GRADE_WARM=0."""

    def __init__(self):
        self.lock = threading.Lock()
        self.pool = self.kernels = self.retired = self.batch = self.failed_at = None
        self.lost = 0

    def start_for(self, batch: str, config=None, names: tuple[str, ...] = ()) -> tuple:
        """(how to start the worker process of a task of `batch`: a fork of the template, else
        `batch.cold_start`; the batch's kernel template, or None)."""
        from .batch import cold_start, warm_enabled
        if not warm_enabled():
            return cold_start, None
        with self.lock:
            if self.pool is not None and (self.batch != batch or self.pool.gone.is_set()):
                self.lost += self.pool.gone.is_set()
                self.retired.set()
                self.pool = self.kernels = None
            if self.pool is None and self.lost < MAX_LOST and \
                    (self.failed_at is None or time.monotonic() - self.failed_at > TEMPLATE_RETRY_S):
                self.pool, self.kernels, self.retired = _open_pool(config, names)
                self.batch, self.failed_at = batch, (None if self.pool is not None else time.monotonic())
            if self.pool is None:
                return cold_start, None
            kernels = self.kernels if self.kernels is not None and self.kernels.alive() else None
            return self.pool.start, kernels


TEMPLATES = WorkerTemplates()


def grade_remotely(name: str, data: bytes, assignment, config, student,
                   stop_event: str) -> tuple[dict | None, str, str | None, str]:
    """On a Dask worker: grade the notebook `data` (named `name`) as `batch.run_worker` does, in a scratch
    folder of its own. Returns (result dict or None, reason, executed notebook text or None, worker)."""
    from dataclasses import replace

    from distributed import get_client, get_worker

    from .batch import assignments_of, run_worker
    from .commands.device import NoGPU, config_device

    where = get_worker().address
    if config.device == "cuda":
        try:
            config_device("cuda")
        except NoGPU as e:
            return None, f"the Dask worker {where}: {e}", None, where
    stop = threading.Event()
    threading.Thread(target=_watch, args=(stop_event, stop, get_client()), daemon=True).start()
    try:
        with tempfile.TemporaryDirectory(prefix="ch4grade-dask-") as tmp:
            nb = Path(tmp) / name
            nb.write_bytes(data)
            executed = Path(tmp) / "executed"
            executed.mkdir()
            keep = config.executed_dir is not None
            config = replace(config, executed_dir=str(executed) if keep else None)
            names = tuple(assignments_of([nb], assignment)) if config.device != "cuda" else ()
            start, kernels = TEMPLATES.start_for(stop_event, config, names)
            if kernels is not None:
                config = replace(config, kernel_template=kernels.handle.to_json())
            r, reason = run_worker(nb, assignment, config, student, stop, start=start)
            text = (executed / name).read_text(encoding="utf-8") if (executed / name).is_file() else None
    finally:
        stop.set()
    return (r.to_dict() if r is not None else None), reason, text, where


def runner(client):
    """A `batch.run_worker` stand-in that runs each submission as a Dask task (see the module's text):
    same arguments, same answers (never raises); the executed notebook is written here, by the grading
    process. A run that sees `stop` sets the batch's Dask Event, which tells every running task to stop."""
    from distributed import Event

    from .batch import INTERRUPTED
    from .results import SubmissionResult, write_atomic

    stop_event = f"ch4grade-stop-{uuid.uuid4().hex}"
    aborted = Event(stop_event, client=client)

    def run(notebook: Path, assignment, config, student=None, stop: threading.Event | None = None,
            order: int | None = None):
        try:
            fut = client.submit(grade_remotely, notebook.name, notebook.read_bytes(), assignment, config, student,
                                stop_event, pure=False, priority=-(order or 0))    # the notebooks' order
            while not fut.done():
                if stop is not None and stop.is_set():
                    aborted.set()
                    fut.cancel()
                    return None, INTERRUPTED
                time.sleep(0.2)
            d, reason, text, where = fut.result()
            if text is not None and config.executed_dir:
                write_atomic(Path(config.executed_dir) / notebook.name, text)
            if d is None:
                return None, reason
            r = SubmissionResult.from_dict(d)
            r.environment["dask_worker"] = where
            return r, ""
        except Exception as e:  # a lost worker, a lost scheduler, another ch4grade version on the workers
            return None, f"the Dask task failed ({type(e).__name__}: {str(e)[:300]})"

    return run
