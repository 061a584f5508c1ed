"""Shared fixtures: the real MNIST files and a prepared FASTAI_HOME.

The MNIST folder comes from `$CH4GRADE_MNIST_DIR`, else `../shared/data/mnist` beside the checkout, else the
download cache (`$CH4GRADE_CACHE/mnist`, as `ch4grade demo` or `ch4grade data` left it).
Without it, data tests skip locally, but fail under CI (`CI` set): CI must never skip for missing data.
"""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"
SHARED_LABELS = ROOT.parent / "shared" / "data" / "mnist_sample_labels.csv"

# Tests run two at a time (pytest-xdist) on two cores: every process, grading kernels included, gets one
# OpenMP thread, else the threads oversubscribe the cores and small models train 10-20x slower.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

@pytest.fixture()
def tiny_env(tmp_path, monkeypatch):
    """A folder holding the tiny assignment's instructor notebook, with the tiny assignment registered for this
    process and for the workers and templates it starts (`tests/tiny_assignment.py`)."""
    import tiny_assignment as tiny
    source = tiny.write_source(tmp_path)
    tests = str(ROOT / "tests")
    monkeypatch.setenv("CH4GRADE_EXTRA_CHECKS", "tiny_assignment")
    monkeypatch.setenv("CH4GRADE_TINY_SOURCE", str(source))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (tests, os.environ.get("PYTHONPATH")) if p))
    tiny.A.source = str(source)
    return tmp_path


def pytest_collection_modifyitems(config, items):
    "Tests marked `gpu` need a CUDA device: without one they are skipped (said, in the -ra summary)."
    if not any(item.get_closest_marker("gpu") for item in items):
        return
    import torch
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device (run benchmarks/gpu_check.sh on a GPU runner)")
    for item in items:
        if item.get_closest_marker("gpu"):
            item.add_marker(skip)


def _download_cache() -> Path | None:
    "The MNIST files a newcomer's machine downloaded once (`$CH4GRADE_CACHE/mnist`), if all four are there."
    from reference.data.locate import FILES, cache_dir
    folder = cache_dir() / "mnist"
    return folder if all((folder / f).exists() for f in FILES) else None


if not os.environ.get("CH4GRADE_MNIST_DIR"):
    found = SHARED_MNIST if SHARED_MNIST.is_dir() else _download_cache()
    if found:
        os.environ["CH4GRADE_MNIST_DIR"] = str(found)


def _require(path: Path | None, what: str) -> Path:
    if path is None or not path.exists():
        msg = f"{what} not found ({path}); set CH4GRADE_MNIST_DIR"
        if os.environ.get("CI"):
            pytest.fail(msg + " (CI must not skip data tests)")
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    env = os.environ.get("CH4GRADE_MNIST_DIR")
    return _require(Path(env) if env else None, "MNIST IDX folder")


@pytest.fixture(scope="session")
def sample_labels_csv() -> Path:
    return _require(SHARED_LABELS, "fastai MNIST_SAMPLE labels.csv")


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """Train in-process on one thread. Small models on a shared 2-core machine (or beside a second pytest
    worker) ran 10-20x slower on two OpenMP threads than on one; the figures do not change."""
    import torch
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    "Where tests leave files for a person to look at (screenshots): `$CH4GRADE_TEST_ARTIFACTS`, else .cache/."
    folder = Path(os.environ.get("CH4GRADE_TEST_ARTIFACTS") or ROOT / ".cache" / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def http_mirror(tmp_path, mnist_dir):
    """An MNIST mirror on a local HTTP server (no machine here reaches the internet); returns (base URL of a
    good mirror, base URL of a mirror serving corrupt files)."""
    from reference.data.locate import FILES
    root = tmp_path / "www"
    (root / "good").mkdir(parents=True)
    (root / "bad").mkdir()
    for f in FILES:
        src = mnist_dir / f
        shutil.copy(src, root / "good" / f)
        (root / "bad" / f).write_bytes(b"\x1f\x8b" + bytes(src.stat().st_size - 2))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    yield base + "good/", base + "bad/"
    server.shutdown()
    server.server_close()
