"""The MNIST data layer on the real files: IDX parsing and its failures, locating and downloading with MD5
checks, the tensor cache, the book's MNIST_SAMPLE order, fastai's folder layouts (atomic, idempotent,
found by `untar_data` offline) and `ch4grade data`.

`mnist_png` (70,000 PNGs, about 30-60 s here) is written in full only by the `slow` test; the default run
checks its file list and writes a subset.
"""
from __future__ import annotations

import csv
import gzip
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reference.data import MnistDataError, load_mnist, read_idx, sample_indices, sample_stack
from reference.data import cache, layouts, locate
from reference.data.locate import FILES, MD5

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
SAMPLE_COUNTS = {"train/3": 6131, "train/7": 6265, "valid/3": 1010, "valid/7": 1028}


@pytest.fixture(scope="module", autouse=True)
def data_cache(tmp_path_factory):
    "A private CH4GRADE_CACHE for this module (the first load in it is cold)."
    with pytest.MonkeyPatch.context() as mp:
        path = tmp_path_factory.mktemp("ch4grade_cache")
        mp.setenv(locate.CACHE_ENV, str(path))
        yield path


@pytest.fixture(scope="module")
def idx(mnist_dir):
    "The four files parsed straight from IDX (the ground truth), by file name."
    return {f: read_idx(mnist_dir / f) for f in FILES}


@pytest.fixture
def mnist_copy(mnist_dir, tmp_path, monkeypatch):
    "A writable copy of the four files, set as CH4GRADE_MNIST_DIR."
    folder = tmp_path / "mnist"
    folder.mkdir()
    for f in FILES:
        shutil.copy2(mnist_dir / f, folder / f)
    monkeypatch.setenv(locate.MNIST_DIR_ENV, str(folder))
    return folder


# ---------------------------------------------------------------- IDX parsing

def test_idx_files_parse_with_the_documented_shapes_and_counts(idx):
    train_x, train_y, test_x, test_y = (idx[f] for f in FILES)
    assert train_x.shape == (60000, 28, 28) and test_x.shape == (10000, 28, 28)
    assert train_x.dtype == np.uint8 and train_y.dtype == np.uint8
    assert np.bincount(train_y).tolist() == TRAIN_COUNTS
    assert np.bincount(test_y).tolist() == TEST_COUNTS
    assert train_y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]  # MNIST's well-known first labels
    assert train_x.max() == 255 and train_x.min() == 0


def _gz(raw: bytes) -> bytes:
    return gzip.compress(raw, mtime=0)


@pytest.mark.parametrize("kind", ["truncated_gzip", "corrupt_gzip", "not_gzip", "not_idx",
                                  "truncated_data", "truncated_header", "empty"])
def test_broken_idx_files_are_rejected(mnist_dir, tmp_path, kind):
    good_gz = (mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes()
    raw = gzip.decompress(good_gz)
    broken = {
        "truncated_gzip": good_gz[: len(good_gz) // 2],
        "corrupt_gzip": good_gz[:100] + bytes(b ^ 0xFF for b in good_gz[100:200]) + good_gz[200:],
        "not_gzip": b"<html>404 Not Found</html>",
        "not_idx": _gz(b"PK\x03\x04" + raw[4:]),
        "truncated_data": _gz(raw[:-10]),
        "truncated_header": _gz(raw[:3]),
        "empty": b"",
    }[kind]
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(broken)
    with pytest.raises(MnistDataError, match=str(path.name)):
        read_idx(path)


def test_missing_idx_file_is_an_mnist_error(tmp_path):
    with pytest.raises(MnistDataError, match="no such file"):
        read_idx(tmp_path / "train-images-idx3-ubyte.gz")


# ---------------------------------------------------------------- locating, MD5, downloading

def test_env_folder_missing_or_incomplete(tmp_path, monkeypatch, mnist_dir):
    monkeypatch.setenv(locate.MNIST_DIR_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(MnistDataError, match="not a folder"):
        locate.mnist_dir()
    for f in FILES[:3]:
        shutil.copy2(mnist_dir / f, tmp_path / f)
    monkeypatch.setenv(locate.MNIST_DIR_ENV, str(tmp_path))
    with pytest.raises(MnistDataError, match="lacks t10k-labels-idx1-ubyte.gz"):
        locate.mnist_dir()


def test_md5_is_checked_and_rechecked_after_a_change(mnist_copy, data_cache):
    assert locate.mnist_dir() == mnist_copy
    stored = (data_cache / "md5.json").read_text()
    assert MD5["train-labels-idx1-ubyte.gz"] in stored  # remembered by (path, size, mtime)
    path = mnist_copy / "train-labels-idx1-ubyte.gz"
    data = bytearray(path.read_bytes())
    data[20] ^= 0x01  # same size, one bit different
    path.write_bytes(bytes(data))
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # a new mtime even on coarse clocks
    with pytest.raises(MnistDataError, match="MD5 .* but the original is d53e105e"):
        locate.mnist_dir()
    path.write_bytes(bytes(data[:-5]))
    with pytest.raises(MnistDataError, match="28876 bytes, but the original has 28881"):
        locate.mnist_dir()


def test_download_tries_mirrors_checks_md5_and_writes_atomically(http_mirror, mnist_dir, tmp_path, capsys):
    good, bad = http_mirror
    folder = locate.download_mnist(tmp_path / "dl", mirrors=(bad, good), progress=True)
    assert sorted(p.name for p in folder.iterdir()) == sorted(FILES)  # no .part files left
    for f in FILES:
        assert (folder / f).read_bytes() == (mnist_dir / f).read_bytes()
    assert "train-images-idx3-ubyte.gz" in capsys.readouterr().err  # the progress bar is on stderr
    with pytest.raises(MnistDataError, match="MD5 .* instead of"):  # only a corrupt mirror: refused, not kept
        locate.download_mnist(tmp_path / "dl2", mirrors=(bad,), progress=False)
    assert not any((tmp_path / "dl2").iterdir())


def test_offline_without_env_gives_a_clear_error(tmp_path, monkeypatch, mnist_dir):
    monkeypatch.delenv(locate.MNIST_DIR_ENV)
    monkeypatch.setenv(locate.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(locate, "MIRRORS", ("http://127.0.0.1:9/",))  # nothing listens on the discard port
    with pytest.raises(MnistDataError, match="could not download .*set CH4GRADE_MNIST_DIR to a folder"):
        locate.mnist_dir(progress=False)
    assert not any((tmp_path / "cache" / "mnist").iterdir())
    # Good copies already in the cache need no network; a corrupt one is fetched again (and fails offline).
    for f in FILES:
        shutil.copy2(mnist_dir / f, tmp_path / "cache" / "mnist" / f)
    assert locate.mnist_dir(progress=False) == tmp_path / "cache" / "mnist"
    corrupt = tmp_path / "cache" / "mnist" / "t10k-labels-idx1-ubyte.gz"
    corrupt.write_bytes(bytes(corrupt.stat().st_size))
    with pytest.raises(MnistDataError, match="could not download t10k-labels"):
        locate.mnist_dir(progress=False)


# ---------------------------------------------------------------- tensors and the cache

def test_tensor_cache_cold_then_warm(mnist_dir, idx, tmp_path, monkeypatch):
    monkeypatch.setenv(locate.CACHE_ENV, str(tmp_path))
    t0 = time.perf_counter()
    cold_x, cold_y = cache.load_split(mnist_dir, "test")
    t1 = time.perf_counter()
    warm_x, warm_y = cache.load_split(mnist_dir, "test")
    t2 = time.perf_counter()
    img_path, lab_path = cache.cache_paths(mnist_dir, "test")
    assert img_path.exists() and lab_path.exists() and img_path.parent == tmp_path / "tensors"
    assert isinstance(warm_x, np.memmap) and not warm_x.flags.writeable
    parsed = idx["t10k-images-idx3-ubyte.gz"]
    np.testing.assert_array_equal(warm_x, parsed)
    np.testing.assert_array_equal(warm_y, cold_y)
    assert (t2 - t1) < (t1 - t0) / 5, f"warm {t2 - t1:.4f}s, cold {t1 - t0:.4f}s"
    # A damaged cache file is rebuilt, never served. (A new file: truncating a mapped one in place would
    # crash its readers with SIGBUS, which is why the cache only ever replaces files by renaming.)
    del cold_x, warm_x
    damaged = img_path.read_bytes()[:1000]
    img_path.unlink()
    img_path.write_bytes(damaged)
    again, _ = cache.load_split(mnist_dir, "test")
    np.testing.assert_array_equal(again, parsed)
    assert img_path.stat().st_size > 7_840_000


def test_load_mnist_matches_idx_and_is_safe_to_modify(idx):
    x, y = load_mnist("train")
    assert x.shape == (60000, 28, 28) and str(x.dtype) == "torch.uint8" and str(y.dtype) == "torch.int64"
    np.testing.assert_array_equal(x.numpy(), idx[FILES[0]])
    assert y.bincount().tolist() == TRAIN_COUNTS
    x[0] = 0  # a private copy-on-write mapping: the cache and later loads are unchanged
    assert load_mnist("train")[0][0].sum().item() == int(idx[FILES[0]][0].sum()) > 0
    with pytest.raises(ValueError):
        load_mnist("valid")


def test_sample_order_and_stacks_follow_the_book(idx):
    assert sample_indices("train", 3)[:2] == [10, 10000]
    for key, n in SAMPLE_COUNTS.items():
        split, digit = key.split("/")
        idxs = sample_indices(split, int(digit))
        assert len(idxs) == n and idxs == sorted(idxs, key=lambda i: f"{i}.png")
    threes = sample_stack("train", 3)
    images = idx[FILES[0]]
    assert threes.shape == (6131, 28, 28) and str(threes.dtype) == "torch.float32"
    np.testing.assert_allclose(threes[1].numpy(), images[10000] / 255, rtol=0, atol=1e-7)


# ---------------------------------------------------------------- fastai layouts

def _write_then_interrupt(root, items):
    "Stands in for layouts._write_pngs: writes its chunk, then stops as a Ctrl-C would (in a worker too)."
    n = _real_write_pngs(root, items)
    raise KeyboardInterrupt(f"simulated Ctrl-C after {n} files")


_real_write_pngs = layouts._write_pngs


@pytest.fixture(scope="module")
def sample_home(tmp_path_factory, mnist_dir):
    """A FASTAI_HOME with mnist_sample built once, after a first attempt (2 processes) interrupted midway.

    Returns (home, what the data folder held after the interruption, the interruption's error)."""
    home = tmp_path_factory.mktemp("fastai_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(layouts, "_write_pngs", _write_then_interrupt)
        with pytest.raises(KeyboardInterrupt) as err:
            layouts.prepare_layout("mnist_sample", home, progress=False, jobs=2)
    after_interrupt = sorted(p.name for p in (home / "data").iterdir())
    layouts.prepare_fastai_data(("mnist_sample",), home, progress=False)
    return home, after_interrupt, err.value


def test_interrupted_build_leaves_nothing_untar_data_would_accept(sample_home):
    home, after_interrupt, err = sample_home
    assert "simulated" in str(err)
    assert "mnist_sample" not in after_interrupt
    assert not [n for n in after_interrupt if n.startswith(".mnist_sample.partial")]  # cleaned up
    assert (home / "data" / "mnist_sample" / "labels.csv").exists()  # and the next call succeeded


def test_mnist_sample_layout_counts_labels_and_pixels(sample_home, sample_labels_csv, idx):
    root = sample_home[0] / "data" / "mnist_sample"
    assert sorted(p.name for p in root.iterdir()) == ["labels.csv", "train", "valid"]
    for key, n in SAMPLE_COUNTS.items():
        assert len(list((root / key).iterdir())) == n
    ours = list(csv.reader((root / "labels.csv").open()))
    real = list(csv.reader(sample_labels_csv.open()))
    assert ours[0] == real[0] == ["name", "label"]
    assert len(ours) == len(real) == 14435 and sorted(ours[1:]) == sorted(real[1:])
    # fastai's rows are grouped by folder in this order; inside a folder theirs follow their disk's
    # directory order (no sort or seeded shuffle reproduces it), ours the book's sorted order.
    group = lambda rows: [r[0].rsplit("/", 1)[0] for r in rows[1:]]
    assert group(ours) == group(real)
    train, valid = idx[FILES[0]], idx[FILES[2]]
    for rel, images, i in [("train/3/10.png", train, 10), ("train/3/10000.png", train, 10000),
                           ("train/7/15.png", train, 15), ("valid/7/0.png", valid, 0),
                           ("valid/3/18.png", valid, 18)]:
        img = Image.open(root / rel)
        assert img.format == "PNG" and img.mode == "L" and img.size == (28, 28)
        np.testing.assert_array_equal(np.asarray(img), images[i])


def test_prepare_is_idempotent(sample_home):
    home = sample_home[0]
    csv_path = home / "data" / "mnist_sample" / "labels.csv"
    mtime = csv_path.stat().st_mtime_ns
    t = time.perf_counter()
    path, built = layouts.prepare_layout("mnist_sample", home, progress=False)
    assert time.perf_counter() - t < 1 and not built
    assert path == home / "data" / "mnist_sample" and csv_path.stat().st_mtime_ns == mtime


def test_untar_data_finds_the_layout_offline(sample_home):
    home = sample_home[0]
    assert not (home / "config.ini").exists()  # a fresh FASTAI_HOME: fastai writes its own config
    code = """
import socket
def no_network(*a, **k): raise OSError("network used")
socket.socket.connect = socket.create_connection = no_network
from fastai.data.external import URLs, untar_data, fastai_cfg
from fastdownload import FastDownload
import fastai.data
from fastcore.net import urldest
print(untar_data(URLs.MNIST_SAMPLE))
d = FastDownload(fastai_cfg(), module=fastai.data, base='~/.fastai')
print(d.data_path('data', urldest(URLs.MNIST, d.arch_path())))
"""
    env = {**os.environ, "FASTAI_HOME": str(home)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    sample_path, png_path = out.stdout.split()[-2:]
    assert Path(sample_path) == home / "data" / "mnist_sample"
    assert Path(png_path) == layouts.fastai_data_dir(home) / "mnist_png"
    assert (home / "config.ini").exists()


def test_fastai_data_dir_follows_config_ini(tmp_path, monkeypatch):
    monkeypatch.setenv("FASTAI_HOME", str(tmp_path))
    assert layouts.fastai_data_dir() == tmp_path / "data"
    (tmp_path / "config.ini").write_text("[DEFAULT]\ndata = elsewhere/d\narchive = archive\n")
    assert layouts.fastai_data_dir() == tmp_path / "elsewhere" / "d"
    assert layouts.fastai_data_dir(tmp_path / "other") == tmp_path / "other" / "data"


def test_mnist_png_file_list_and_a_written_subset(idx, tmp_path):
    files = layouts.layout_files("mnist_png")
    assert len(files) == 70000 and len({rel for _, _, rel in files}) == 70000
    per_dir = {}
    for _, _, rel in files:
        per_dir[rel.rsplit("/", 1)[0]] = per_dir.get(rel.rsplit("/", 1)[0], 0) + 1
    assert [per_dir[f"training/{d}"] for d in range(10)] == TRAIN_COUNTS
    assert [per_dir[f"testing/{d}"] for d in range(10)] == TEST_COUNTS
    subset = files[::700]
    for rel in {os.path.dirname(r) for _, _, r in subset}:
        (tmp_path / rel).mkdir(parents=True, exist_ok=True)
    assert layouts._write_pngs(str(tmp_path), subset) == 100
    arrays = {"train": idx[FILES[0]], "test": idx[FILES[2]]}
    for split, i, rel in subset:
        assert rel.endswith(f"/{i}.png")
        np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / rel)), arrays[split][i])


@pytest.mark.slow
def test_mnist_png_full_build_found_by_untar_data(tmp_path, mnist_dir):
    t = time.perf_counter()
    path = layouts.prepare_fastai_data(("mnist_png",), tmp_path, progress=False)["mnist_png"]
    print(f"mnist_png: 70,000 PNGs in {time.perf_counter() - t:.1f}s")
    assert sum(1 for _ in path.rglob("*.png")) == 70000
    code = "from fastai.vision.all import *; print(untar_data(URLs.MNIST))"
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "FASTAI_HOME": str(tmp_path)},
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and Path(out.stdout.split()[-1]) == path, out.stderr[-2000:]


# ---------------------------------------------------------------- the command

def test_ch4grade_data_command(sample_home, capsys, monkeypatch, tmp_path):
    from autograders.cli import main
    home = sample_home[0]
    assert main(["data", "--fastai-home", str(home), "--only", "mnist_sample"]) == 0
    out = capsys.readouterr().out
    assert "mnist_sample: already there" in out and str(home / "data" / "mnist_sample") in out
    monkeypatch.setenv(locate.MNIST_DIR_ENV, str(tmp_path / "missing"))
    assert main(["data", "--fastai-home", str(tmp_path), "--quiet"]) == 1
    captured = capsys.readouterr()
    assert "CH4GRADE_MNIST_DIR" in captured.err and captured.out == ""
