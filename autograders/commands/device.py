"""`--device auto|cpu|cuda` for every command that grades: where the kernels' torch runs, and one clear line
on stderr (the command then exits 2) when `cuda` is asked for on a machine without a GPU: a grading that
silently ran on the CPU instead would be slower and could time out, charged to the students."""
from __future__ import annotations

import argparse
import os
import sys

from ..gpus import visible_devices

CHOICES = ("auto", "cpu", "cuda")
HELP = ("where student code's torch runs: auto (a GPU when the machine has one), cpu (GPUs hidden from the "
        "kernels), cuda (refuse to grade without a GPU)")


class NoGPU(Exception):
    pass


def add_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", choices=CHOICES, default="auto", help=HELP)
    parser.add_argument("--gpus", metavar="all|ID,ID...", default=None,
                        help="grade on these GPUs (CUDA device ids, or all): each kernel sees one of them, and "
                             "--kernels-per-gpu notebooks run on each at once (in place of --jobs)")
    parser.add_argument("--kernels-per-gpu", type=int, default=1, metavar="K",
                        help="notebooks run at once on each GPU of --gpus (default 1)")


def parse_gpus(spec: str | None, count: int) -> list[str] | None:
    "The GPU ids of a --gpus value on a machine with `count` GPUs (None for none); NoGPU when it cannot be."
    if spec is None:
        return None
    if count == 0:
        raise NoGPU("--gpus: no CUDA device is visible here (torch.cuda.device_count() is 0)")
    if spec.strip() == "all":
        return [str(i) for i in range(count)]
    ids = [p.strip() for p in spec.split(",") if p.strip()]
    if not ids or not all(i.isdigit() for i in ids) or len(set(ids)) != len(ids):
        raise NoGPU(f"--gpus {spec!r}: give `all` or distinct device ids such as 0,1")
    over = [i for i in ids if int(i) >= count]
    if over:
        raise NoGPU(f"--gpus: no device {', '.join(over)} here ({count} visible: 0..{count - 1})")
    return ids


def physical_gpus(ids: list[str], visible: str | None) -> list[str]:
    """The ids a kernel's CUDA_VISIBLE_DEVICES must hold for `ids`, which count the GPUs this process sees: through
    this process's own CUDA_VISIBLE_DEVICES (`visible`: ids or UUIDs) when it has one, so that `--gpus 0` under
    CUDA_VISIBLE_DEVICES=2,3 is physical GPU 2, not 0."""
    order = visible_devices(visible or "")
    if not order:
        return ids
    if any(int(i) >= len(order) for i in ids):
        raise NoGPU(f"--gpus {','.join(ids)}: CUDA_VISIBLE_DEVICES={visible} names only {len(order)}")
    return [order[int(i)] for i in ids]


def resolve_gpus(args: argparse.Namespace, prog: str = "ch4grade") -> tuple[bool, list[str] | None]:
    "(ok, the GPU ids of --gpus or None); not ok after one line on stderr."
    if args.gpus is None:
        return True, None
    why = None
    if args.device == "cpu":
        why = "--gpus with --device cpu: pick one"
    elif getattr(args, "cluster", None):
        why = ("--gpus is for this machine; on a Dask cluster run one worker per GPU (its own CUDA_VISIBLE_DEVICES, "
               "see the README) and pass --device cuda")
    elif args.kernels_per_gpu < 1:
        why = "--kernels-per-gpu must be at least 1"
    if why is None:
        import torch
        try:
            return True, physical_gpus(parse_gpus(args.gpus, torch.cuda.device_count()),
                                       os.environ.get("CUDA_VISIBLE_DEVICES"))
        except NoGPU as e:
            why = str(e)
    print(f"{prog}: {why}", file=sys.stderr)
    return False, None


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
