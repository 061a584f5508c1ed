"""Find the four MNIST IDX files: `$CH4GRADE_MNIST_DIR` when set, else a download into the user cache.

Every file is checked against the original MD5 (the hash is remembered by path, size and mtime in
`<cache>/md5.json`, so an unchanged file is hashed once). Downloads try each mirror in turn, write to a
temporary file and rename it into place only once its MD5 is right.
"""
from __future__ import annotations

import hashlib
import http.client
import json
import os
import sys
import urllib.request
from pathlib import Path

from tqdm import tqdm

from ..files import finish_atomic, temp_beside, write_atomic
from .idx import MnistDataError

MNIST_DIR_ENV = "CH4GRADE_MNIST_DIR"
CACHE_ENV = "CH4GRADE_CACHE"
FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
SPLIT_FILES = {"train": FILES[:2], "test": FILES[2:]}  # (images, labels) per split
# The original LeCun files: MD5 of the gz file and its size in bytes.
MD5 = {"train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
       "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
       "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
       "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"}
SIZES = {"train-images-idx3-ubyte.gz": 9912422, "train-labels-idx1-ubyte.gz": 28881,
         "t10k-images-idx3-ubyte.gz": 1648877, "t10k-labels-idx1-ubyte.gz": 4542}
MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
           "https://storage.googleapis.com/cvdf-datasets/mnist/")
TIMEOUT = 30

_md5_memo: dict[tuple[str, int, int], str] = {}


def cache_dir() -> Path:
    "The user cache: `$CH4GRADE_CACHE`, default `~/.cache/ch4grade`."
    return Path(os.environ.get(CACHE_ENV) or "~/.cache/ch4grade").expanduser()


def _md5_store() -> Path:
    return cache_dir() / "md5.json"


def file_md5(path: str | Path) -> str:
    "MD5 of `path`, remembered (in memory and in the cache) for as long as its size and mtime do not change."
    path = Path(path).resolve()
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key in _md5_memo:
        return _md5_memo[key]
    try:
        stored = json.loads(_md5_store().read_text())
    except (OSError, ValueError):
        stored = {}
    entry = stored.get(key[0])
    if isinstance(entry, list) and entry[:2] == [st.st_size, st.st_mtime_ns]:
        digest = entry[2]
    else:
        h = hashlib.md5()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        digest = h.hexdigest()
        stored = {p: v for p, v in stored.items() if os.path.exists(p)}  # forget files that are gone
        stored[key[0]] = [st.st_size, st.st_mtime_ns, digest]
        try:
            write_atomic(_md5_store(), json.dumps(stored, indent=0))
        except OSError:
            pass  # a read-only cache only costs a re-hash next time
    _md5_memo[key] = digest
    return digest


def check_file(path: Path) -> None:
    "Raise MnistDataError unless `path` is the original MNIST file of that name (size and MD5)."
    want = MD5[path.name]
    size = path.stat().st_size
    if size != SIZES[path.name]:
        raise MnistDataError(f"{path}: {size} bytes, but the original has {SIZES[path.name]}; "
                             f"the file is truncated or not the original MNIST file: replace it")
    got = file_md5(path)
    if got != want:
        raise MnistDataError(f"{path}: MD5 {got}, but the original is {want}; "
                             f"the file is corrupt or not the original MNIST file: replace it")


def _download_one(name: str, dest: Path, mirrors, progress: bool) -> None:
    errors = []
    for base in mirrors:
        url = base + name
        fd, tmp = temp_beside(dest, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=TIMEOUT) as resp:
                total = int(resp.headers.get("Content-Length") or 0) or None
                with tqdm(total=total, unit="B", unit_scale=True, desc=name, file=sys.stderr,
                          disable=not progress, leave=False) as bar:
                    h = hashlib.md5()
                    for block in iter(lambda: resp.read(1 << 16), b""):
                        out.write(block)
                        h.update(block)
                        bar.update(len(block))
            if h.hexdigest() != MD5[name]:
                raise MnistDataError(f"MD5 {h.hexdigest()} instead of {MD5[name]}")
            finish_atomic(tmp, dest)
            return
        except (OSError, ValueError, http.client.HTTPException, MnistDataError) as e:  # URLError, timeouts: OSError
            errors.append(f"{url}: {e}")
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    raise MnistDataError(f"could not download {name} ({'; '.join(errors)}); "
                         f"set {MNIST_DIR_ENV} to a folder with the four files {', '.join(FILES)}")


def download_mnist(folder: str | Path | None = None, mirrors=None, progress: bool = True) -> Path:
    "Download whichever of the four files `folder` (default `<cache>/mnist`) lacks or holds corrupt; return it."
    folder = Path(folder) if folder is not None else cache_dir() / "mnist"
    folder.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        path = folder / name
        if path.exists():
            try:
                check_file(path)
                continue
            except MnistDataError:
                pass  # a corrupt copy: fetch it again
        _download_one(name, path, MIRRORS if mirrors is None else mirrors, progress)
        check_file(path)
    return folder


def mnist_dir(progress: bool = True) -> Path:
    "The folder holding the four original `*-idx?-ubyte.gz` files (checked by MD5), downloading them if needed."
    env = os.environ.get(MNIST_DIR_ENV)
    if not env:
        return download_mnist(progress=progress)
    folder = Path(env).expanduser()
    if not folder.is_dir():
        raise MnistDataError(f"${MNIST_DIR_ENV}={env} is not a folder; set it to a folder with {', '.join(FILES)}")
    missing = [f for f in FILES if not (folder / f).exists()]
    if missing:
        raise MnistDataError(f"${MNIST_DIR_ENV}={env} lacks {', '.join(missing)}")
    for name in FILES:
        check_file(folder / name)
    return folder
