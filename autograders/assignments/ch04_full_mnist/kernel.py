"""Kernel-side helpers of `ch04_full_mnist`: run in the student's kernel (torch, the standard library and
`autograders.checks.kernel_common`, whose text is put in place of its import), bound as `ref` in
the blocks of checks declared with `given` (see `autograders/checks/spec.py`).

- the reference cross-entropy, written the way the notebook asks for it (the row maximum taken out first), given
  to `train_linear` and `mlp` in place of the student's, so that a wrong `cross_entropy` costs only its own item;
- `rerun` (from `kernel_common`): an answer cell run again in a copy of the student's globals with upstream names
  replaced (the `mlp` and `train_linear` cells train with `cross_entropy`); `plain`: a value made safe to send back.

Nothing here is trusted as the truth: the grader compares what comes back with its own reference computations.
"""
import copy

import torch

from autograders.checks.kernel_common import plain, rerun  # noqa: F401  (inlined in the kernel)


# ---- reference pieces (of the `cross_entropy` item, whose checks never see this module) ------------------

def log_softmax(x):
    m = x.max(-1, keepdim=True)[0]
    return x - m - (x - m).exp().sum(-1, keepdim=True).log()


def softmax(x):
    return log_softmax(x).exp()


def cross_entropy(preds, targets):
    return -log_softmax(preds)[torch.arange(len(targets)), targets].mean()


# ---- harness ----------------------------------------------------------------------------------------------

def fresh_copy(model, seed):
    """A copy of `model` with its parameters drawn afresh (each module's own `reset_parameters`), so that its
    architecture can be judged whatever its training did (a diverged model's weights are NaN)."""
    try:
        m = copy.deepcopy(model)
    except Exception:
        return model
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for module in m.modules():
            reset = getattr(module, "reset_parameters", None)
            if callable(reset):
                reset()
    return m
