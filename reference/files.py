"""The project's one atomic write: a reader sees the old file or the whole new one, never half of it.

At the bottom layer (`reference` imports nothing of `autograders`; this module imports nothing of
`reference.data`, whose package pulls in torch) so every writer in both packages uses it. Files end up
mode 0644 whatever the umask or `mkstemp`'s 0600: results and course files are read by the course staff.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

FILE_MODE = 0o644


def temp_beside(path: Path, suffix: str = ".tmp") -> tuple[int, Path]:
    "A new temporary file in `path`'s folder (created if needed): (fd, tmp path)."
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    return fd, Path(tmp)


def finish_atomic(tmp: str | Path, path: str | Path, mode: int = FILE_MODE) -> Path:
    "Flush `tmp` to disk, give it `mode` and rename it onto `path` (same folder, so atomic)."
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, mode)
    os.replace(tmp, path)
    return Path(path)


def write_atomic(path: str | Path, data: bytes | str, mode: int = FILE_MODE) -> Path:
    "Write `data` (str as UTF-8) to `path` atomically, mode `mode`; the temporary file never survives a failure."
    path = Path(path)
    fd, tmp = temp_beside(path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        return finish_atomic(tmp, path, mode)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
