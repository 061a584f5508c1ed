"""Reading an untrusted zip of submissions without ever writing outside our own folders.

Nothing is extracted to disk: members are read into memory, one at a time, through a reader that counts
the bytes really produced (declared sizes in the zip header are not trusted). A member is refused, with a
reason, when its path is absolute or climbs out (`..`), when it is a symlink or a special file, when it is
encrypted, when it alone is too large or too compressed (a zip bomb), or when the whole archive has already
produced too much. One refused member never stops the others.
"""
from __future__ import annotations

import stat
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Iterator

MiB = 1024 * 1024


@dataclass
class ZipLimits:
    max_total: int = 1024 * MiB       # everything read from one archive
    max_member: int = 64 * MiB        # one notebook
    max_ratio: float = 200.0          # uncompressed / compressed, checked past `ratio_floor`
    ratio_floor: int = 1 * MiB        # small members may compress as much as they like
    max_members: int = 20000


@dataclass
class Member:
    name: str                 # the path inside the archive, as written there
    data: bytes | None        # None when refused
    problem: str = ""         # why it was refused
    date_time: tuple | None = None


def unsafe_path_reason(name: str) -> str:
    "Why this member path is unsafe, or '' when it is a plain relative path inside the archive."
    if "\x00" in name:
        return "NUL byte in member name"
    norm = name.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":"):
        return "absolute path"
    if any(part == ".." for part in PurePosixPath(norm).parts):
        return "path escapes the archive ('..')"
    return ""


def _kind_reason(info: zipfile.ZipInfo) -> str:
    kind = stat.S_IFMT(info.external_attr >> 16)  # 0 when the archiver recorded no Unix mode
    if kind == stat.S_IFLNK:
        return "symbolic link"
    if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
        return "not a regular file"
    if info.flag_bits & 0x1:
        return "encrypted member"
    return ""


def read_members(path, limits: ZipLimits | None = None) -> Iterator[Member]:
    """Every file member of the zip at `path`, safe ones with their bytes, unsafe ones with a reason.
    Raises zipfile.BadZipFile (or OSError) only when the archive itself cannot be opened."""
    limits = limits or ZipLimits()
    total = 0
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        for n, info in enumerate(infos):
            if info.is_dir():
                continue
            name = info.filename
            if n >= limits.max_members:
                yield Member(name, None, f"archive has more than {limits.max_members} members")
                continue
            reason = unsafe_path_reason(name) or _kind_reason(info)
            if not reason and info.file_size > limits.max_member:
                reason = f"too large ({info.file_size / MiB:.1f} MiB declared > {limits.max_member / MiB:.0f} MiB)"
            if not reason and total >= limits.max_total:
                reason = f"archive total exceeds {limits.max_total / MiB:.0f} MiB uncompressed"
            if reason:
                yield Member(name, None, reason, info.date_time)
                continue
            data, reason = _bounded_read(zf, info, limits, limits.max_total - total)
            if data is not None:
                total += len(data)
            yield Member(name, data, reason, info.date_time)


def _bounded_read(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ZipLimits, budget: int):
    cap = min(limits.max_member, budget)
    compressed = max(info.compress_size, 1)
    chunks, size = [], 0
    try:
        with zf.open(info) as fh:
            while True:
                chunk = fh.read(64 * 1024)
                if not chunk:
                    break
                size += len(chunk)
                if size > cap:
                    what = "member" if cap == limits.max_member else "archive total"
                    return None, f"{what} exceeds its size limit while decompressing (zip bomb?)"
                if size > limits.ratio_floor and size / compressed > limits.max_ratio:
                    return None, (f"compression ratio above {limits.max_ratio:.0f}:1 while decompressing "
                                  "(zip bomb?)")
                chunks.append(chunk)
    except (zipfile.BadZipFile, RuntimeError, OSError, EOFError, NotImplementedError) as e:
        return None, f"cannot read member: {e}"
    except Exception as e:  # zlib.error and friends from a corrupt stream
        return None, f"cannot read member: {type(e).__name__}: {e}"
    return b"".join(chunks), ""
