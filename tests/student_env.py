"""A student's machine for tests: a virtual environment with what a student of the book has (torch, torchvision,
fastai, NumPy, matplotlib, ipykernel) and not ch4grade, nbgrader or `reference`, and a way to run a notebook
there (nbclient from this environment drives a kernel of that one, started in the student's folder)."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("torch", "torchvision", "fastai", "numpy", "matplotlib", "ipykernel")
SOLUTION = re.compile(r"^[ \t]*#+\s*(BEGIN|END) SOLUTION[ \t]*\n?", re.M)


def _uv() -> str:
    uv = shutil.which("uv")
    if uv is None:
        raise RuntimeError("uv is needed to build the student's environment")
    return uv


def student_python() -> Path:
    "The python of the student's environment (built once per lock file, from uv's cache: a few seconds)."
    lock = (ROOT / "uv.lock").read_bytes()
    where = ROOT / ".cache" / f"student-venv-{hashlib.sha256(lock).hexdigest()[:12]}"
    python = where / "bin" / "python"
    if python.exists():
        return python
    constraints = where.with_suffix(".txt")
    constraints.parent.mkdir(parents=True, exist_ok=True)
    text = subprocess.run([_uv(), "export", "--frozen", "--no-emit-project", "--no-hashes", "--quiet"],
                          cwd=ROOT, check=True, capture_output=True, text=True).stdout
    constraints.write_text(text)
    tmp = where.with_name(where.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    subprocess.run([_uv(), "venv", "--quiet", "--python", sys.executable, str(tmp)], check=True)
    subprocess.run([_uv(), "pip", "install", "--quiet", "--python", str(tmp / "bin" / "python"), "-c", str(constraints),
                    *PACKAGES], check=True)
    tmp.rename(where)   # (the venv's scripts name `tmp`, but its python runs from anywhere)
    return python


def fill_answers(released, source) -> object:
    "The released notebook with each answer cell replaced by the instructor's model answer (markers dropped)."
    import nbformat
    nb = nbformat.from_dict(json.loads(json.dumps(released)))
    model = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in source.cells
             if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and gid in model:
            cell.source = SOLUTION.sub("", model[gid])
    return nb


def run_as_student(nb, folder: Path, timeout: int = 600, env: dict | None = None):
    """Execute `nb` in a kernel of the student's environment whose working folder is `folder`; every cell runs
    (errors are kept in the outputs). Returns the executed notebook."""
    from jupyter_client.kernelspec import KernelSpecManager  # noqa: F401  (nbclient's kernel specs)
    from nbclient import NotebookClient
    python = student_python()
    specs = folder.parent / f".{folder.name}-kernels"
    spec_dir = specs / "kernels" / "ch4student"
    spec_dir.mkdir(parents=True, exist_ok=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "student", "language": "python",
        "env": {"PYTHONPATH": "", "MPLBACKEND": "agg", **(env or {})}}))
    old = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = str(specs) + (os.pathsep + old if old else "")
    try:
        client = NotebookClient(nb, kernel_name="ch4student", timeout=timeout, allow_errors=True,
                                resources={"metadata": {"path": str(folder)}})
        client.execute()
    finally:
        if old is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = old
    return nb


def cell_text(cell) -> str:
    "What a cell showed: its printed text and, for an error, the error's lines (as Jupyter would render them)."
    out = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream":
            out.append(o.get("text", ""))
        elif o.get("output_type") == "error":
            out.append("\n".join(o.get("traceback", [])) or f"{o.get('ename')}: {o.get('evalue')}")
        elif "text/plain" in o.get("data", {}):
            out.append(o["data"]["text/plain"])
    return re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(out))
