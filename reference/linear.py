"""The book's linear classifier for 3s vs 7s, from `init_params` by hand up to fastai's `Learner`.

Names and code follow the chapter; what it read from globals (`weights`, `bias`, `dl`, `valid_dl`,
`opt`) is passed in. Labels are 1 for a 3 and 0 for a 7, shaped [N, 1], exactly as the book builds them.
"""
from __future__ import annotations

from functools import partial

import torch
import fastai.callback.progress  # noqa: F401  (adds Learner.no_bar)
from fastai.data.core import DataLoaders
from fastai.data.load import DataLoader
from fastai.learner import Learner
from fastai.optimizer import SGD
from torch import nn, tensor

from .data import sample_stack
from .device import default_device, set_seed
from .rows import at_least, timer

SECTION = "linear"


# --- data -------------------------------------------------------------------------------------------------
def stack_x(threes: torch.Tensor, sevens: torch.Tensor) -> torch.Tensor:
    "`torch.cat([stacked_threes, stacked_sevens]).view(-1, 28*28)`: one row of 784 pixels per image."
    return torch.cat([threes, sevens]).view(-1, 28 * 28)


def stack_y(threes: torch.Tensor, sevens: torch.Tensor) -> torch.Tensor:
    "`tensor([1]*len(threes) + [0]*len(sevens)).unsqueeze(1)`: 1 for a 3, 0 for a 7, shape [N, 1]."
    return tensor([1] * len(threes) + [0] * len(sevens)).unsqueeze(1)


def load_xy(device=None) -> dict[str, torch.Tensor]:
    "The book's `train_x`, `train_y` (12396 rows) and `valid_x`, `valid_y` (2038 rows) on `device`."
    device = default_device(device)
    threes, sevens = sample_stack("train", 3), sample_stack("train", 7)
    valid_3_tens, valid_7_tens = sample_stack("valid", 3), sample_stack("valid", 7)
    xy = {"train_x": stack_x(threes, sevens), "train_y": stack_y(threes, sevens),
          "valid_x": stack_x(valid_3_tens, valid_7_tens), "valid_y": stack_y(valid_3_tens, valid_7_tens)}
    return {k: v.to(device) for k, v in xy.items()}


def make_dls(xy: dict | None = None, bs: int = 256, device=None) -> tuple[DataLoader, DataLoader]:
    "The book's `dl = DataLoader(dset, batch_size=256)` and `valid_dl` (fastai's, unshuffled, as in the book)."
    device = default_device(device)
    xy = load_xy(device) if xy is None else xy
    dset = list(zip(xy["train_x"], xy["train_y"]))
    valid_dset = list(zip(xy["valid_x"], xy["valid_y"]))
    return (DataLoader(dset, batch_size=bs, device=device),
            DataLoader(valid_dset, batch_size=bs, device=device))


# --- the model, loss and metric ---------------------------------------------------------------------------
def init_params(size, std: float = 1.0, device=None) -> torch.Tensor:
    "Random parameters `torch.randn(size)*std` that require grad (drawn on the CPU, so a seed means the same)."
    return (torch.randn(size) * std).to(default_device(device)).requires_grad_()


def linear1(xb: torch.Tensor, weights: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    "`xb@weights + bias`."
    return xb @ weights + bias


def mnist_loss(predictions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    "Sigmoid, then how far each prediction is from 1 for a 3 (target 1) or from 0 for a 7; the mean."
    predictions = predictions.sigmoid()
    return torch.where(targets == 1, 1 - predictions, predictions).mean()


def batch_accuracy(xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
    "Fraction of a batch where `sigmoid(xb) > 0.5` agrees with the target (`xb` are the model's outputs)."
    preds = xb.sigmoid()
    correct = (preds > 0.5) == yb
    return correct.float().mean()


# --- training by hand -------------------------------------------------------------------------------------
def calc_grad(xb: torch.Tensor, yb: torch.Tensor, model) -> torch.Tensor:
    "Predict, compute `mnist_loss`, and `backward` (gradients accumulate); returns the loss."
    preds = model(xb)
    loss = mnist_loss(preds, yb)
    loss.backward()
    return loss


def train_epoch(model, lr: float, params, dl) -> None:
    "One pass over `dl`: `calc_grad`, then `p.data -= p.grad*lr` and `p.grad.zero_()` for each param."
    for xb, yb in dl:
        calc_grad(xb, yb, model)
        for p in params:
            p.data -= p.grad * lr
            p.grad.zero_()


def validate_epoch(model, valid_dl) -> float:
    "Mean of `batch_accuracy` over the batches of `valid_dl`, rounded to 4 digits as the book prints it."
    with torch.no_grad():
        accs = [batch_accuracy(model(xb), yb) for xb, yb in valid_dl]
    return round(torch.stack(accs).mean().item(), 4)


class BasicOptim:
    "The book's optimizer: `step` does `p.data -= p.grad.data * lr`; `zero_grad` sets `p.grad = None`."
    def __init__(self, params, lr): self.params, self.lr = list(params), lr

    def step(self, *args, **kwargs):
        for p in self.params: p.data -= p.grad.data * self.lr

    def zero_grad(self, *args, **kwargs):
        for p in self.params: p.grad = None


def train_epoch_opt(model, opt, dl) -> None:
    "The book's second `train_epoch(model)`: `calc_grad`, then `opt.step()` and `opt.zero_grad()`."
    for xb, yb in dl:
        calc_grad(xb, yb, model)
        opt.step()
        opt.zero_grad()


def train_model(model, epochs: int, opt, dl, valid_dl, prn: bool = False) -> list[float]:
    "`epochs` of `train_epoch_opt`; the validation accuracy after each (printed with `prn`, as the book does)."
    accs = []
    for i in range(epochs):
        train_epoch_opt(model, opt, dl)
        accs.append(validate_epoch(model, valid_dl))
        if prn: print(accs[-1], end=" ")
    return accs


# --- the book's runs --------------------------------------------------------------------------------------
def train_linear1(epochs: int = 20, lr: float = 1.0, seed: int = 42, device=None, dls=None) -> dict:
    "`weights = init_params((28*28,1))`, `bias = init_params(1)`, then `train_epoch(linear1, lr, params)` per epoch."
    device = default_device(device)
    dl, valid_dl = dls or make_dls(device=device)
    set_seed(seed)
    weights, bias = init_params((28 * 28, 1), device=device), init_params(1, device=device)
    model, params = partial(linear1, weights=weights, bias=bias), (weights, bias)
    accs = [validate_epoch(model, valid_dl)]
    for i in range(epochs):
        train_epoch(model, lr, params, dl)
        accs.append(validate_epoch(model, valid_dl))
    return {"weights": weights, "bias": bias, "accs": accs, "final": accs[-1]}


def train_nn_linear(epochs: int = 20, lr: float = 1.0, seed: int = 42, opt_func=BasicOptim, device=None,
                    dls=None) -> dict:
    "`linear_model = nn.Linear(28*28,1)`, `opt = opt_func(linear_model.parameters(), lr)`, `train_model`."
    device = default_device(device)
    dl, valid_dl = dls or make_dls(device=device)
    set_seed(seed)
    linear_model = nn.Linear(28 * 28, 1).to(device)
    opt = opt_func(linear_model.parameters(), lr)
    accs = train_model(linear_model, epochs, opt, dl, valid_dl)
    return {"model": linear_model, "accs": accs, "final": accs[-1]}


def fit_learner(model: nn.Module, epochs: int, lr: float, seed: int = 42, device=None, dls=None) -> dict:
    """`Learner(DataLoaders(dl, valid_dl), model, opt_func=SGD, loss_func=mnist_loss,
    metrics=batch_accuracy).fit(epochs, lr)`, quietly; `accs` per epoch from `learn.recorder.values`."""
    device = default_device(device)
    dls = DataLoaders(*(dls or make_dls(device=device)))
    learn = Learner(dls, model, opt_func=SGD, loss_func=mnist_loss, metrics=batch_accuracy)
    set_seed(seed)
    with learn.no_bar(), learn.no_logging():
        learn.fit(epochs, lr)
    accs = [float(v[2]) for v in learn.recorder.values]
    return {"learn": learn, "accs": accs, "final": accs[-1]}


def learner_linear(epochs: int = 10, lr: float = 1.0, seed: int = 42, device=None, dls=None) -> dict:
    "The book's `Learner(dls, nn.Linear(28*28,1), opt_func=SGD, ...)` then `learn.fit(10, lr=lr)`."
    set_seed(seed)
    return fit_learner(nn.Linear(28 * 28, 1), epochs, lr, seed, device, dls)


# The book's final validation accuracies (0.9696, 0.9785, 0.9785, 0.9676) and the bands we hold them to.
BANDS = {"linear1": 0.96, "nn.Linear + BasicOptim": 0.97, "nn.Linear + SGD": 0.97, "Learner": 0.96}


def reproduce_rows(device=None, quick: bool = False, seed: int = 42) -> list[dict]:
    "The four linear runs at the book's settings (they take seconds, so `quick` runs them in full too)."
    device = default_device(device)
    dls = make_dls(device=device)
    rows = []
    with timer() as t:
        r = train_linear1(20, 1.0, seed, device, dls)
    rows.append(at_least(SECTION, "linear1 by hand: valid acc, 20 epochs lr 1.", r["final"], BANDS["linear1"],
                         t.seconds, " (book 0.9696)"))
    for name, opt_func in (("nn.Linear + BasicOptim", BasicOptim), ("nn.Linear + SGD", SGD)):
        with timer() as t:
            r = train_nn_linear(20, 1.0, seed, opt_func, device, dls)
        rows.append(at_least(SECTION, f"{name}: valid acc, 20 epochs lr 1.", r["final"], BANDS[name],
                             t.seconds, " (book 0.9785)"))
    with timer() as t:
        r = learner_linear(10, 1.0, seed, device, dls)
    rows.append(at_least(SECTION, "Learner(nn.Linear, SGD, mnist_loss).fit(10, 1.)", r["final"], BANDS["Learner"],
                         t.seconds, " (book 0.9676)"))
    return rows
