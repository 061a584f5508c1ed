"""fastai's MNIST folder layouts, built offline from the IDX files, where `untar_data` looks for them.

`mnist_sample/` (URLs.MNIST_SAMPLE): `train/{3,7}` from MNIST's training set, `valid/{3,7}` from its test
set, and `labels.csv`; `mnist_png/` (URLs.MNIST): `training/0..9`, `testing/0..9`. Each image is an 8-bit
grayscale PNG named `<mnist index>.png` with the IDX pixels unchanged.

`untar_data(url)` returns `<data>/<archive stem>` at once, without network, when that folder exists, where
`<data>` is the `data` key of `$FASTAI_HOME/config.ini` (default `~/.fastai`; fastai writes `data = data`
when the file is missing). So a layout is built in a hidden sibling folder and renamed into place only when
complete: an interrupted run never leaves a folder that `untar_data` would accept.
"""
from __future__ import annotations

import configparser
import itertools
import multiprocessing
import os
import shutil
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from .cache import load_split
from .locate import mnist_dir

try:
    import fcntl
except ImportError:  # Windows: no lock, the rename still keeps a layout all-or-nothing
    fcntl = None

# name -> ((folder, MNIST split, digits), ...); the name is the stem of fastai's archive URL.
LAYOUTS = {
    "mnist_sample": (("train", "train", (3, 7)), ("valid", "test", (3, 7))),
    "mnist_png": (("training", "train", tuple(range(10))), ("testing", "test", tuple(range(10)))),
}
# At least this many files before PNGs are written by several processes (measured: see the tests' notes).
PARALLEL_MIN_FILES = 4000


def fastai_home_dir(fastai_home: str | Path | None = None) -> Path:
    "`fastai_home`, else `$FASTAI_HOME`, else `~/.fastai`, made absolute as fastai does."
    return Path(fastai_home or os.environ.get("FASTAI_HOME") or "~/.fastai").expanduser().absolute()


def fastai_data_dir(fastai_home: str | Path | None = None) -> Path:
    "Where `untar_data` extracts: the `data` key of `<home>/config.ini` if it exists, else `<home>/data`."
    home = fastai_home_dir(fastai_home)
    cfg = configparser.ConfigParser()
    cfg.read(home / "config.ini", encoding="utf8")
    return home / cfg["DEFAULT"].get("data", "data")


def layout_files(name: str) -> list[tuple[str, int, str]]:
    "Every PNG of layout `name` as (MNIST split, MNIST index, relative path), folders in order, files sorted."
    from .mnist import _load_arrays  # the MD5-checked arrays

    if name not in LAYOUTS:
        raise ValueError(f"layout must be one of {list(LAYOUTS)}, not {name!r}")
    out = []
    for folder, split, digits in LAYOUTS[name]:
        _, labels = _load_arrays(split)
        for d in digits:
            idxs = sorted(np.nonzero(labels == d)[0].tolist(), key=lambda i: f"{i}.png")
            out += [(split, i, f"{folder}/{d}/{i}.png") for i in idxs]
    return out


def labels_csv_text(files: list[tuple[str, int, str]]) -> str:
    """MNIST_SAMPLE's labels.csv: `name,label`, label 0 for a 3 and 1 for a 7.

    The same rows as fastai's, folders in the same order (train/3, train/7, valid/3, valid/7); inside a
    folder fastai's rows follow the directory order of the disk they were made on (no sort or seeded
    shuffle reproduces it), ours the book's sorted order."""
    rows = [f"{rel},{0 if rel.split('/')[1] == '3' else 1}" for _, _, rel in files]
    return "name,label\n" + "\n".join(rows) + "\n"


def _write_pngs(root: str, items: list[tuple[str, int, str]]) -> int:
    "Write `items` (split, index, relative path) as PNGs under `root`; return how many."
    folder = mnist_dir(progress=False)
    arrays = {}
    for split, i, rel in items:
        if split not in arrays:
            arrays[split] = load_split(folder, split)[0]
        Image.fromarray(np.ascontiguousarray(arrays[split][i])).save(os.path.join(root, rel), format="PNG")
    return len(items)


def _write_all(root: Path, files, jobs: int, progress: bool, desc: str) -> None:
    # chunks of one folder each, folders taken in turn, so parallel workers rarely create files in the same folder
    by_dir: dict[str, list] = {}
    for f in files:
        by_dir.setdefault(os.path.dirname(f[2]), []).append(f)
    per_dir = [[fs[k:k + 500] for k in range(0, len(fs), 500)] for fs in by_dir.values()]
    chunks = [c for row in itertools.zip_longest(*per_dir) for c in row if c]
    with tqdm(total=len(files), desc=desc, unit="png", file=sys.stderr, disable=not progress, leave=False) as bar:
        if jobs <= 1:
            for chunk in chunks:
                bar.update(_write_pngs(str(root), chunk))
            return
        # fork: the workers need no imports and inherit the memory-mapped arrays' page cache
        pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"))
        try:
            for n in pool.map(_write_pngs, [str(root)] * len(chunks), chunks):
                bar.update(n)
        finally:  # on an error or Ctrl-C, drop the chunks not started yet
            pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def _locked(path: Path):
    with open(path, "w") as f:
        if fcntl:
            fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl:
                fcntl.flock(f, fcntl.LOCK_UN)


def default_jobs(n_files: int) -> int:
    "How many processes write PNGs: up to 2 (the usual gain stops there) for big layouts, else 1."
    if n_files < PARALLEL_MIN_FILES or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(2, os.cpu_count() or 1))


def prepare_layout(name: str, fastai_home: str | Path | None = None, progress: bool = True,
                   jobs: int | None = None) -> tuple[Path, bool]:
    "Build layout `name` under fastai's data folder unless it exists; return (its path, whether it was built)."
    data = fastai_data_dir(fastai_home)
    dest = data / name
    if dest.exists():
        return dest, False
    data.mkdir(parents=True, exist_ok=True)
    with _locked(data / f".{name}.lock"):
        if dest.exists():  # another process built it while we waited
            return dest, False
        for stale in data.glob(f".{name}.partial-*"):  # left by a killed run (we hold the lock)
            shutil.rmtree(stale, ignore_errors=True)
        files = layout_files(name)
        tmp = Path(tempfile.mkdtemp(dir=data, prefix=f".{name}.partial-"))
        try:
            for rel in sorted({os.path.dirname(r) for _, _, r in files}):
                (tmp / rel).mkdir(parents=True)
            jobs = default_jobs(len(files)) if jobs is None else jobs
            _write_all(tmp, files, jobs, progress, name)
            if name == "mnist_sample":
                (tmp / "labels.csv").write_text(labels_csv_text(files))
            tmp.chmod(0o755)
            os.rename(tmp, dest)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return dest, True


def prepare_fastai_data(names=("mnist_sample", "mnist_png"), fastai_home: str | Path | None = None,
                        progress: bool = True, jobs: int | None = None) -> dict[str, Path]:
    "Materialise fastai's layouts `names` (idempotent: existing ones are returned at once); name -> folder."
    if isinstance(names, str):
        names = (names,)
    return {name: prepare_layout(name, fastai_home, progress, jobs)[0] for name in names}


# fastai's own defaults for `<home>/config.ini` (what fastai writes on first use)
FASTAI_CONFIG = "[DEFAULT]\ndata = data\narchive = archive\nstorage = tmp\nmodel = models\n\n"
