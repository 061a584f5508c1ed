"""Adding a nonlinearity: the book's `simple_net` by hand, then as `nn.Sequential` trained by fastai's `Learner`.

`simple_net(xb, w1, b1, w2, b2)` takes the parameters the book kept in globals; `init_simple_net()` makes
them as the book does (`init_params((28*28,30))`, ...). `sequential_net()` is the book's second `simple_net`.
"""
from __future__ import annotations

import torch
from torch import nn, tensor

from .device import set_seed
from .linear import fit_learner, init_params
from .rows import at_least, timer

SECTION = "simple_net"


def simple_net(xb: torch.Tensor, w1: torch.Tensor, b1: torch.Tensor, w2: torch.Tensor,
               b2: torch.Tensor) -> torch.Tensor:
    "Two linear layers with a ReLU (`res.max(tensor(0.0))`) between them."
    res = xb @ w1 + b1
    res = res.max(tensor(0.0, device=res.device))
    res = res @ w2 + b2
    return res


def init_simple_net(n_hidden: int = 30, device=None) -> tuple[torch.Tensor, ...]:
    "`w1, b1, w2, b2` as the book makes them: `init_params((28*28,30))`, `init_params(30)`, ..."
    w1 = init_params((28 * 28, n_hidden), device=device)
    b1 = init_params(n_hidden, device=device)
    w2 = init_params((n_hidden, 1), device=device)
    b2 = init_params(1, device=device)
    return w1, b1, w2, b2


def sequential_net(n_hidden: int = 30) -> nn.Sequential:
    "`nn.Sequential(nn.Linear(28*28,30), nn.ReLU(), nn.Linear(30,1))`."
    return nn.Sequential(nn.Linear(28 * 28, n_hidden), nn.ReLU(), nn.Linear(n_hidden, 1))


def learner_simple_net(epochs: int = 40, lr: float = 0.1, seed: int = 42, device=None, dls=None) -> dict:
    "The book's `Learner(dls, simple_net, opt_func=SGD, loss_func=mnist_loss, metrics=batch_accuracy).fit(40, 0.1)`."
    set_seed(seed)
    return fit_learner(sequential_net(), epochs, lr, seed, device, dls)


BOOK_FINAL = 0.982826  # learn.recorder.values[-1][2] after fit(40, 0.1)
BAND = 0.975


def reproduce_rows(device=None, quick: bool = False, seed: int = 42) -> list[dict]:
    "The book's `fit(40, 0.1)` (a few seconds on a CPU, so `quick` runs it in full too)."
    with timer() as t:
        r = learner_simple_net(40, 0.1, seed, device)
    return [at_least(SECTION, "Learner(nn.Sequential 784-30-1, SGD).fit(40, 0.1)", r["final"], BAND,
                     t.seconds, f" (book {BOOK_FINAL})")]
