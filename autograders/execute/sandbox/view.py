"""What a grading kernel may see of the machine: the same rules for every backend.

Read-only: the operating system (`/usr`, `/etc` and the `/bin`, `/lib` links), the Python runtime and
the virtual environment, and the prepared data. Writable: the kernel's own scratch folder (a size-bounded
tmpfs under bubblewrap) and the folder of its connection sockets. Hidden even inside those: the
grader's own code and answer keys (this checkout, the `autograders` and `reference` packages wherever
they are installed). Nothing else exists for the kernel: not the checkout, the course folder, other
submissions, results or home folders.
"""
from __future__ import annotations

import glob
import importlib.util
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

SYSTEM_DIRS = ("/usr", "/etc")
SYSTEM_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
GRADER_PACKAGES = ("autograders", "reference")
CUDA_DEVICES = ("/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia-modeset",
                "/dev/nvidia[0-9]*", "/dev/nvidia-caps/*", "/dev/dri/*")


@dataclass
class KernelView:
    read_only: list[Path]                 # visible, read-only (besides the system folders)
    hidden: list[Path]                    # inside read_only, but kept out
    run_dir: Path                         # the connection file and sockets (writable, same path inside)
    scratch: Path | None = None           # a host folder for cwd/HOME/TMPDIR (landlock, none); bwrap: tmpfs
    scratch_mb: int = 1024
    devices: list[str] = field(default_factory=list)
    fastai_config: Path | None = None     # fastai's config.ini for the kernel (bubblewrap binds it into HOME)

    def describe(self) -> dict:
        return {"read_only": ["system (/usr, /etc)"] + [str(p) for p in self.read_only],
                "hidden": [str(p) for p in self.hidden],
                "writable": ["scratch", str(self.run_dir)], "devices": list(self.devices)}


def runtime_dirs() -> list[Path]:
    "The Python installation and the virtual environment the kernel's interpreter needs."
    dirs = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(),
            Path(os.path.realpath(sys.executable)).parent.parent}
    if sys.prefix != sys.base_prefix:          # the venv itself, unresolved, as its scripts name it
        dirs.add(Path(sys.prefix).absolute())
    return sorted(d for d in dirs if not _under(d, SYSTEM_DIRS))


def grader_packages() -> list[Path]:
    "Where the grader's own packages live (a checkout, or site-packages for an installed wheel)."
    found = set()
    from ...checks import GROUP
    from importlib.metadata import entry_points
    units = {ep.value.split(":")[0].split(".")[0] for ep in entry_points(group=GROUP)}  # other packages' units
    for name in sorted(set(GRADER_PACKAGES) | units):
        spec = importlib.util.find_spec(name)
        for loc in (spec.submodule_search_locations or []) if spec else []:
            found.add(Path(loc).resolve())
    return sorted(found)


def grader_dirs() -> list[Path]:
    "Everything of the grader's own that a kernel must never read: its packages, answer keys, the checkout."
    from ...paths import ROOT
    found = set(grader_packages())
    found |= {ROOT / "tests"} if (ROOT / "tests").exists() else set()
    if (ROOT / "pyproject.toml").exists():
        found.add(ROOT)
    return sorted(found)


def cuda_devices() -> list[str]:
    return sorted({d for pattern in CUDA_DEVICES for d in glob.glob(pattern)})


def _under(path: Path, roots) -> bool:
    return any(path == Path(r) or Path(r) in path.parents for r in roots)


def kernel_view(data_dirs: list[str | Path], run_dir: Path, scratch: Path | None, scratch_mb: int,
                cuda: bool, fastai_config: Path | None = None) -> KernelView:
    data = [Path(d).resolve() for d in data_dirs if d and Path(d).exists()]
    # a folder inside the checkout (its venv, its data cache) may be seen, never one inside a package
    read_only = [p for p in sorted(set(runtime_dirs()) | set(data)) if not _under(p, grader_packages())]
    hidden = [g for g in grader_dirs() if any(r in g.parents for r in read_only)]
    return KernelView(read_only, hidden, run_dir, scratch, scratch_mb, cuda_devices() if cuda else [],
                      fastai_config)


def allow_list(roots: list[Path], hidden: list[Path]) -> list[str]:
    """`roots` as paths to allow, split around `hidden` ones (Landlock can only allow, never carve out):
    a root holding a hidden path is replaced by its other children, recursively."""
    out = []
    for root in roots:
        inside = [h for h in hidden if root in h.parents]
        if any(h == root for h in hidden):
            continue
        if not inside:
            out.append(str(root))
            continue
        try:
            children = sorted(root.iterdir())
        except OSError:
            continue
        out += allow_list(children, inside)
    return out


def fastai_config_text(fastai_data: str) -> str:
    "fastai's `config.ini` for a kernel: its data is the grader's prepared (read-only) datasets."
    from reference.data.layouts import FASTAI_CONFIG
    return FASTAI_CONFIG.replace("data = data", f"data = {fastai_data}")
