"""Grading on a Dask cluster: `--cluster local[:N]` (a LocalCluster of N one-thread worker processes on
this machine) or `--cluster tcp://HOST:PORT` (a running scheduler). The optional extra `ch4grade[dask]`.

One Dask task per submission runs the same path as local grading (`batch.run_worker`: a fresh worker
process and a fresh sandboxed kernel per submission, the kernel under its own limits) on a Dask worker.
The notebook's bytes travel with the task, and the result and executed notebook come back to the grading
process, which alone writes result files and the resume index (`batch.grade_one`): a Dask worker never
writes a result, so nothing on its disk or on shared storage can decide a score.

- Lost workers: a task whose worker died is retried (`RETRIES`); one that still fails is that
  submission's grader failure (exit 2), with the reason, never a silent 0.
- Memory: Dask's memory limit does not count the worker's child processes, so it is not ours to rely on;
  each kernel keeps its own cgroup or rlimit cap (`--mem-mb`). A GPU cluster runs one Dask worker per GPU
  (`CUDA_VISIBLE_DEVICES` per worker, as dask-cuda does) with `--device cuda`.
- Every Dask worker needs ch4grade installed, the prepared data at the same `$FASTAI_HOME` /
  `$CH4GRADE_MNIST_DIR`, and bubblewrap: the worker is where the sandbox is built.
- Ctrl-C: no task starts after it; tasks already running on the cluster are cancelled and their results,
  if any come, are dropped (those submissions are graded on the next run).
"""
from __future__ import annotations

import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

RETRIES = 2
INSTALL = "grading on a Dask cluster needs the optional extra: pip install 'ch4grade[dask]' (or uv sync --extra dask)"


class ClusterError(Exception):
    "The cluster cannot be used (not installed, a bad address, no scheduler there): the grader's, exit 2."


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


def _client_class():
    try:
        from distributed import Client, LocalCluster
    except ImportError as e:
        raise ClusterError(INSTALL) from e
    return Client, LocalCluster


@contextmanager
def connect(spec: str):
    "A Dask client for `spec` (a LocalCluster it starts and stops, or a scheduler's address)."
    kind, arg = parse(spec)
    Client, LocalCluster = _client_class()
    if kind == "local":
        with LocalCluster(n_workers=arg, threads_per_worker=1, processes=True, dashboard_address=None) as lc, \
                Client(lc) as client:
            yield client
        return
    try:
        client = Client(arg, timeout="10s")
    except (OSError, TimeoutError) as e:
        raise ClusterError(f"--cluster {arg}: no Dask scheduler answered ({e})") from e
    with client:
        yield client


def slots(client) -> int:
    "How many submissions the cluster grades at once: one per worker thread."
    return max(1, sum(client.nthreads().values()))


def grade_remotely(name: str, data: bytes, assignment, config, student) -> tuple[dict | None, str, str | None]:
    """On a Dask worker: grade the notebook `data` (named `name`) as `batch.run_worker` does, in a scratch
    folder of its own. Returns (result dict or None, reason, executed notebook text or None)."""
    from dataclasses import replace

    from .batch import run_worker

    with tempfile.TemporaryDirectory(prefix="ch4grade-dask-") as tmp:
        nb = Path(tmp) / name
        nb.write_bytes(data)
        executed = Path(tmp) / "executed"
        executed.mkdir()
        r, reason = run_worker(nb, assignment, replace(config, executed_dir=str(executed)), student)
        text = (executed / name).read_text(encoding="utf-8") if (executed / name).is_file() else None
    return (r.to_dict() if r is not None else None), reason, text


def runner(client):
    """A `batch.run_worker` stand-in that runs each submission as a Dask task (see the module's text):
    same arguments, same answers; the executed notebook is written here, by the grading process."""
    from .batch import INTERRUPTED
    from .results import SubmissionResult

    def run(notebook: Path, assignment, config, student=None, stop: threading.Event | None = None):
        fut = client.submit(grade_remotely, notebook.name, notebook.read_bytes(), assignment, config, student,
                            retries=RETRIES, pure=False)
        while not fut.done():
            if stop is not None and stop.is_set():
                fut.cancel()
                return None, INTERRUPTED
            time.sleep(0.2)
        try:
            d, reason, text = fut.result()
        except Exception as e:       # the task failed after its retries: a lost worker, an unpicklable answer
            return None, f"the Dask task failed ({type(e).__name__}: {str(e)[:300]})"
        if text is not None and config.executed_dir:
            from .results import write_atomic
            write_atomic(Path(config.executed_dir) / notebook.name, text)
        if d is None:
            return None, reason
        return SubmissionResult.from_dict(d), ""

    return run
