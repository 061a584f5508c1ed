"""Kernel-side helpers of `ch04_sgd`: run in the student's kernel (torch, the standard library and
`autograders.checks.kernel_common`, whose text is put in place of its import), bound as `ref` in
the blocks of checks declared with `given` (see `autograders/checks/spec.py`).

They stand in for an earlier item's answer (the chapter's `f`, `mse`, `mnist_loss`, `batch_accuracy`,
`calc_grad`, `train_epoch`, `validate_epoch`, `init_params`, `linear1` and `BasicOptim`), so that a mistake
there cannot cost a later item. Some record how they were called (`InitParams`, `TrainEpoch`), so a check can
tell what the student's cell asked of them. `run_cell` runs an answer cell again with such pieces in place.
A check of an item receives this module without the definitions that item's answer or a later one defines
(`Assignment.kernel_for`), so nothing here refers to another definition at import time.
"""
import torch

from autograders.checks.kernel_common import run_cell, unpack  # noqa: F401  (inlined in the kernel)


def f(t, params):
    "The roller coaster's quadratic `a*t**2 + b*t + c`."
    a, b, c = params
    return a * (t ** 2) + (b * t) + c


def mse(preds, targets):
    "Mean squared error."
    return ((preds - targets) ** 2).mean()


def mnist_loss(predictions, targets):
    "The chapter's loss: sigmoid, then the distance from 1 for a 3 (target 1) or from 0 for a 7; the mean."
    predictions = predictions.sigmoid()
    return torch.where(targets == 1, 1 - predictions, predictions).mean()


def batch_accuracy(xb, yb):
    "The fraction of a batch where `sigmoid(xb) > 0.5` agrees with the target."
    preds = xb.sigmoid()
    correct = (preds > 0.5) == yb
    return correct.float().mean()


def calc_grad(xb, yb, model):
    "Predictions, `mnist_loss`, `backward`."
    preds = model(xb)
    loss = mnist_loss(preds, yb)
    loss.backward()
    return loss


def images(packed):
    "Images sent by the grader as flattened float images in [0, 1], one row of 784 pixels each."
    x = unpack(packed)
    return x.float().view(len(x), -1) / 255


def batches(packed, y, bs=256):
    "Mini-batches of images (sent as compressed bytes) and their labels: [(xb, yb), ...]."
    x = images(packed)
    return [(x[i:i + bs], y[i:i + bs]) for i in range(0, len(x), bs)]


class InitParams:
    "The chapter's `init_params(size, std=1.0)`, recording the shape and std of each tensor it makes."

    def __init__(self):
        self.calls, self.made = [], []

    def __call__(self, size, std=1.0):
        t = (torch.randn(size) * std).requires_grad_()
        self.calls.append((tuple(t.shape), float(std)))
        self.made.append(t)
        return t


class Linear1:
    "The chapter's `linear1(xb)`, reading `weights` and `bias` from the namespace `scope` at each call."

    def __init__(self, scope):
        self.scope = scope

    def __call__(self, xb):
        return xb @ self.scope["weights"] + self.scope["bias"]


class TrainEpoch:
    "The chapter's `train_epoch(model, lr, params)` over `batches`, recording each call's lr and params."

    def __init__(self, batches):
        self.batches, self.calls, self.no_grad = batches, [], False

    def __call__(self, model, lr, params):
        params = list(params)
        self.calls.append((lr, params))
        for xb, yb in self.batches:
            calc_grad(xb, yb, model)
            if any(p.grad is None for p in params):   # not leaves: the check says so
                self.no_grad = True
                return
            for p in params:
                p.data -= p.grad * lr
                p.grad.zero_()


class ValidateEpoch:
    "The chapter's `validate_epoch(model)` over `batches`."

    def __init__(self, batches):
        self.batches = batches

    def __call__(self, model):
        with torch.no_grad():
            accs = [batch_accuracy(model(xb), yb) for xb, yb in self.batches]
        return round(torch.stack(accs).mean().item(), 4)


class BasicOptim:
    "The chapter's optimizer."

    def __init__(self, params, lr):
        self.params, self.lr = list(params), lr

    def step(self, *args, **kwargs):
        for p in self.params:
            p.data -= p.grad.data * self.lr

    def zero_grad(self, *args, **kwargs):
        for p in self.params:
            p.grad = None
