"""Write the folder a student receives for one assignment, and prove it gives nothing away.

    <out>/<name>.ipynb            the released notebook; its check cells `from ch4check import check`
    <out>/ch4check.py             runtime.py with the codec, block runner and name finder it imports inlined
    <out>/ch4check_data.json.gz   the sealed plan (seal.py)

`leaks(...)` lists whatever in such a folder a student must not receive: a line of a solution or hidden-test
region of the instructor notebook, a line of a function body of `reference/`, an answer value in plaintext.
`write_bundle` refuses to leave a leaking folder behind.
"""
from __future__ import annotations

import gzip
import hashlib
import inspect
import json
import re
import shutil
from pathlib import Path

import nbformat

from ..checks.spec import Assignment
from ..execute import codec
from . import runtime
from .forbidden import forbidden_lines, found_in, solution_lines
from .record import PUBLIC_SEED, Recording, record
from .seal import Answers, seal

MODULE, DATA = "ch4check.py", runtime.DATA_NAME
CHECK_IMPORT = re.compile(r"^from autograders import check\s*$", re.M)
INLINED = ("autograders.execute.codec", "autograders.execute.scope", "autograders.checks.kernel_filter",
           "autograders.checks.kernel_common")


def module_text() -> str:
    "ch4check.py: runtime.py with the modules it imports from this package inlined (it must import none of it)."
    import importlib

    from ..checks.kernel_filter import inline_modules
    texts = {m: inspect.getsource(importlib.import_module(m)) for m in INLINED}
    return inline_modules(inspect.getsource(runtime), texts)


def student_notebook(released: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, dict[str, str]]:
    """The released notebook with its check cells importing `ch4check` (their nbgrader checksums updated), and
    each autograded answer cell's placeholder by grade_id."""
    from nbgrader.utils import compute_checksum
    nb = nbformat.from_dict(json.loads(json.dumps(released)))
    placeholders = {}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code":
            continue
        if meta.get("solution") and meta.get("grade_id"):
            placeholders[meta["grade_id"]] = cell.source
        if meta.get("grade") and CHECK_IMPORT.search(cell.source):
            cell.source = CHECK_IMPORT.sub("from ch4check import check   # ch4check.py: keep it beside this notebook",
                                           cell.source)
            if "checksum" in meta:
                meta["checksum"] = compute_checksum(cell)
    return nb, placeholders


# ---- the leak test ------------------------------------------------------------------------------------------
def _walk_plan(node, found: list):
    if isinstance(node, dict):
        if len(node) == 1 and next(iter(node)) in ("__tensor__", "__ndarray__"):
            found.append(codec._decode(node, 0))
            return
        if len(node) == 1 and next(iter(node)) == "__u8__":
            found.append(runtime.u8_images(node["__u8__"]))
            return
        for v in node.values():
            _walk_plan(v, found)
    elif isinstance(node, list):
        for v in node:
            _walk_plan(v, found)
    elif isinstance(node, (float, str)):
        found.append(node)


def leaks(folder: Path, source_nb, recording: Recording) -> list[str]:
    """What in the student folder `folder` must not be there: lines of the instructor notebook's solutions and
    hidden tests, lines of reference function bodies, answer values (any tensor, number or string in the plan
    that equals a value the model notebook holds in an answer name)."""
    import torch

    from ..workflow.release import MARKERS
    texts = {p.name: (gzip.decompress(p.read_bytes()).decode() if p.suffix == ".gz" else p.read_text(errors="replace"))
             for p in sorted(folder.iterdir()) if p.is_file()}
    solutions, forbidden = solution_lines(source_nb), forbidden_lines(source_nb)
    out = []
    for name, text in texts.items():
        out += [f"{name}: {'solution or hidden-test' if s in solutions else 'reference'} line {s!r}"
                for s in found_in(text, forbidden)]
        out += [f"{name}: marker {m}" for m in MARKERS if m in text]
    answers = Answers(recording.answers)
    if DATA in texts:
        values: list = []
        _walk_plan(json.loads(texts[DATA]), values)
        for v in values:
            v = torch.from_numpy(v) if not isinstance(v, (torch.Tensor, float, str)) else v
            if isinstance(v, str) and len(v) > 2000:
                continue   # code of a probe
            name = answers.which(v)
            if name:
                out.append(f"{DATA}: the value of `{name}` in plaintext")
    return out


# ---- writing the folder ------------------------------------------------------------------------------------
def recording_key(spec: Assignment) -> str:
    """What a recording depends on: the unit's notebook, checks and kernel helpers, and the recorder (how it is sealed
    and replayed is not part of it: a recording is sealed afresh at each release)."""
    h = hashlib.sha256(str(PUBLIC_SEED).encode())
    for path in (spec.source, *(spec.folder / f for f in ("checks.py", "kernel.py"))) if spec.folder else (spec.source,):
        if path and Path(path).exists():
            h.update(Path(path).read_bytes())
    h.update((Path(__file__).parent / "record.py").read_bytes())
    return h.hexdigest()[:16]


def recordings_cache() -> Path:
    "Where recordings are kept between releases (the grader's cache folder: `$CH4GRADE_CACHE/recordings`)."
    from reference.data.locate import cache_dir
    return cache_dir() / "recordings"


class BundleError(RuntimeError):
    "The student folder could not be written (the model answers failed, or it would leak)."


def write_bundle(spec: Assignment, released: Path, out: Path, recording: Recording | None = None,
                 cache: Path | None = None, fastai_home: str | None = None) -> dict:
    """Write the student folder of `spec` into `out` from the released notebook `released`; returns the plan.
    `cache`: a folder where recordings are kept by `recording_key` (recording runs the model notebook, with the
    datasets prepared in `fastai_home`)."""
    from ..notebook import read_notebook
    if recording is None:
        cached = cache / f"{spec.name}-{recording_key(spec)}.json" if cache else None
        if cached is not None and cached.exists():
            recording = Recording.loads(cached.read_text())
        else:
            try:
                recording = record(spec, fastai_home)
            except Exception as e:
                raise BundleError(str(e)) from e
            if cached is not None:
                from ..results import write_atomic
                cached.parent.mkdir(parents=True, exist_ok=True)
                write_atomic(cached, recording.dumps())
    nb, placeholders = student_notebook(nbformat.read(str(released), as_version=4))
    source_nb = read_notebook(spec.source)
    plan = seal(spec, recording, placeholders, forbidden_lines(source_nb))
    out = Path(out)
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    nbformat.write(nb, str(tmp / Path(released).name))
    (tmp / MODULE).write_text(module_text())
    (tmp / DATA).write_bytes(gzip.compress(json.dumps(plan).encode(), mtime=0))
    found = leaks(tmp, source_nb, recording)
    if found:
        shutil.rmtree(tmp)
        raise BundleError(f"{spec.name}: the student folder would leak; nothing written: " + "; ".join(found[:5]))
    if not out.exists():
        tmp.rename(out)
        return plan
    for f in tmp.iterdir():   # beside what else the release folder holds (files the instructor hands out)
        f.replace(out / f.name)
    tmp.rmdir()
    return plan
