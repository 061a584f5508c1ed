"""Small file helpers: atomic writes (a crash never leaves half a result behind) and JSON."""
from __future__ import annotations

import json
from pathlib import Path

from reference.files import write_atomic

# the names the workflow's modules use; both are the project's one atomic write (mode 0644)
atomic_write_bytes = atomic_write_text = write_atomic


def write_json(path: Path, obj) -> Path:
    return write_atomic(path, json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")
