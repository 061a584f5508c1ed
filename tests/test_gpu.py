"""GPU runners (issue 12): run on a machine with a CUDA device (`pytest -m gpu`, or benchmarks/gpu_check.sh);
skipped, and said so, elsewhere. The sandboxed kernel sees the GPU it was given, with TF32 and cuDNN
autotuning off; warm workers (forks of a template that never touched CUDA) can use it; results say where
they ran and with which flags; a notebook graded on CUDA scores as on the CPU."""
from __future__ import annotations


import pytest

import tiny_assignment as tiny
from autograders.batch import grade_many
from autograders.engine import GradeConfig
from autograders.execute.session import KernelSession, Limits
from autograders.execute.startup import startup_code
from autograders.paths import ROOT

pytestmark = pytest.mark.gpu
CUDA_CELL = ("import torch\nx = torch.randn(256, 256, device='cuda')\n"
             "print('on', torch.cuda.device_count(), (x @ x).device.type, torch.backends.cuda.matmul.allow_tf32)")


def test_the_sandboxed_kernel_sees_the_gpu_with_tf32_and_autotuning_off():
    with KernelSession(limits=Limits(address_space=False), cuda=True) as k:
        assert k.execute(startup_code(1, str(ROOT)), timeout=120, silent=True).status == "ok"
        run = k.execute("import torch\nprint(torch.cuda.is_available(), torch.backends.cuda.matmul.allow_tf32, "
                        "torch.backends.cudnn.allow_tf32, torch.backends.cudnn.benchmark)", timeout=120)
    assert "".join(o.get("text", "") for o in run.outputs).split() == ["True", "False", "False", "False"]


def test_a_warm_class_on_cuda_scores_as_on_the_cpu_and_records_where_it_ran(tiny_env):
    from nbtools import code
    subs = [tiny.notebook(tiny_env / "subs", extra=[code(CUDA_CELL)], name=f"s{i}.ipynb") for i in range(3)]
    gpu = grade_many(subs, tiny_env / "gpu", "tiny", GradeConfig(check_seed=5, device="cuda"), progress=False,
                     gpus=["0"], kernels_per_gpu=2)
    cpu_subs = [tiny.notebook(tiny_env / "cpu-subs", name=f"s{i}.ipynb") for i in range(3)]
    cpu = grade_many(cpu_subs, tiny_env / "cpu", "tiny", GradeConfig(check_seed=5, device="cpu"), progress=False)
    assert [r.score for _, r in gpu] == [r.score for _, r in cpu] == [r.auto_max_score for _, r in cpu]
    for _, r in gpu:
        env = r.environment
        assert env["device"].startswith("cuda (") and env["cuda"]["visible_devices"] == "0"
        assert env["determinism"]["torch.backends.cudnn.benchmark"] is False
        assert env["worker"]["warm_template"] is not None
        cell = [c for c in r.cells if c["grade_id"] is None and c["status"] == "ok"]
        assert cell, r.cells
