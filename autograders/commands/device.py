"""`--device auto|cpu|cuda` for every command that grades: where the kernels' torch runs, and one clear line
on stderr (the command then exits 2) when `cuda` is asked for on a machine without a GPU: a grading that
silently ran on the CPU instead would be slower and could time out, charged to the students."""
from __future__ import annotations

import argparse
import sys

CHOICES = ("auto", "cpu", "cuda")
HELP = ("where student code's torch runs: auto (a GPU when the machine has one), cpu (GPUs hidden from the "
        "kernels), cuda (refuse to grade without a GPU)")


class NoGPU(Exception):
    pass


def add_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", choices=CHOICES, default="auto", help=HELP)


def config_device(choice: str) -> str | None:
    "`GradeConfig.device` for a --device choice (None: auto); NoGPU when `cuda` finds none."
    if choice == "auto":
        return None
    if choice == "cuda":
        import torch
        if not torch.cuda.is_available():
            raise NoGPU("--device cuda: no CUDA device is visible here (torch.cuda.is_available() is False); "
                        "grade on a GPU runner, or pass --device auto or cpu")
    return choice


def resolve(choice: str, prog: str = "ch4grade", cluster: str | None = None) -> tuple[bool, str | None]:
    """(ok, GradeConfig.device); not ok after one line on stderr. On a Dask cluster the GPU is the workers'
    business: each task checks its own (`cluster.grade_remotely`), not this machine."""
    if cluster and choice == "cuda":
        return True, "cuda"
    try:
        return True, config_device(choice)
    except NoGPU as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return False, None
