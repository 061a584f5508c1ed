"""Stochastic gradient descent by hand: `backward` on `f(x) = x**2`, then the book's quadratic "speed" fit.

The book defines `f` three times; here one `f` covers the calls it makes: `f(xt)` is `x**2` and
`f(time, params)` is the quadratic `a*t**2 + b*t + c`. Its vector example `(x**2).sum()` is `f(xt).sum()`.
What `apply_step` read from globals (`time`, `speed`, `lr`) is passed in, with the book's `lr=1e-5`.
"""
from __future__ import annotations

import torch
from torch import tensor

from .device import set_seed
from .rows import exact, row, timer

SECTION = "sgd"


def f(x: torch.Tensor, params: torch.Tensor | None = None) -> torch.Tensor:
    "`x**2`; with `params = (a, b, c)`, the quadratic `a*x**2 + b*x + c` (the book's `f(t, params)`)."
    if params is None:
        return x**2
    a, b, c = params
    return a * (x**2) + (b * x) + c


def gradient_of_f(x) -> torch.Tensor:
    "The book's `xt = tensor(x).requires_grad_(); f(xt).backward(); xt.grad` (summed when `x` is a vector)."
    xt = tensor(x, dtype=torch.float32).requires_grad_()
    yt = f(xt).sum()  # the book's second `f(x)`: `(x**2).sum()`
    yt.backward()
    return xt.grad


def make_speed(seed: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    "The book's roller coaster: `time = arange(0, 20)` and a noisy quadratic `speed`."
    if seed is not None:
        set_seed(seed)
    time = torch.arange(0, 20).float()
    speed = torch.randn(20) * 3 + 0.75 * (time - 9.5) ** 2 + 1
    return time, speed


def mse(preds: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    "Mean squared error."
    return ((preds - targets) ** 2).mean()


def apply_step(params: torch.Tensor, speed: torch.Tensor, time: torch.Tensor, lr: float = 1e-5) -> float:
    "Predict, compute the loss, `backward`, step the params by `lr * grad`, reset the gradient; return the loss."
    preds = f(time, params)
    loss = mse(preds, speed)
    loss.backward()
    params.data -= lr * params.grad.data
    params.grad = None
    return loss.item()


BOOK_SEED = 42  # `torch.manual_seed(42)` before `make_speed` and `torch.randn(3)` gives the book's numbers
BOOK_PARAMS = [-0.7658, -0.7506, 1.3525]               # `params` as the book prints it
BOOK_GRAD = [-53195.8594, -3419.7146, -253.8908]       # `params.grad` after the first `loss.backward()`
BOOK_LOSSES = [25823.8086, 5435.5366, 1577.4496, 847.3781, 709.2227, 683.0757,  # the first `loss`, then
               678.1245, 677.1840, 677.0025, 676.9644, 676.9537]               # what `apply_step` prints


def fit_quadratic(steps: int = 11, seed: int = BOOK_SEED, lr: float = 1e-5) -> dict:
    """From `params = torch.randn(3)`, `steps` calls to `apply_step`; `losses[i]` is the loss before step i.

    The book's 11 steps: one by hand, then `for i in range(10): apply_step(params)`.
    """
    time, speed = make_speed(seed)
    params = torch.randn(3).requires_grad_()
    orig_params = params.detach().clone()
    mse(f(time, params), speed).backward()
    first_grad = params.grad.detach().clone()
    params.grad = None
    losses = [apply_step(params, speed, time, lr) for _ in range(steps)]
    final_loss = mse(f(time, params.detach()), speed).item()
    return {"time": time, "speed": speed, "orig_params": orig_params, "first_grad": first_grad,
            "params": params.detach().clone(), "losses": losses, "final_loss": final_loss}


def _close(got, book, rtol: float) -> bool:
    return torch.allclose(torch.as_tensor(got, dtype=torch.float64), torch.as_tensor(book, dtype=torch.float64),
                          rtol=rtol, atol=0.0)


def reproduce_rows(device=None, quick: bool = False) -> list[dict]:
    "The `backward` examples and the quadratic fit at the book's seed (CPU: the tensors are tiny)."
    rows = [exact(SECTION, "grad of x**2 at 3.", gradient_of_f(3.0), 6.0),
            exact(SECTION, "grad of (x**2).sum() at [3,4,10]", gradient_of_f([3.0, 4.0, 10.0]).tolist(),
                  [6.0, 8.0, 20.0], ndigits=None)]
    with timer() as t:
        fit = fit_quadratic()
    shown = [round(v, 4) for v in fit["orig_params"].tolist()]
    rows.append(row(SECTION, "quadratic: initial params (seed 42)", shown, f"= {BOOK_PARAMS}",
                    shown == BOOK_PARAMS, 0.0))
    grad = [round(v, 4) for v in fit["first_grad"].tolist()]
    rows.append(row(SECTION, "quadratic: first params.grad", grad, f"{BOOK_GRAD} (rtol 1e-5)",
                    _close(grad, BOOK_GRAD, 1e-5), 0.0))
    losses = [round(v, 4) for v in fit["losses"]]
    falling = all(b < a for a, b in zip(losses, losses[1:]))
    rows.append(row(SECTION, "quadratic: loss at each of 11 steps, lr 1e-5", f"{losses[0]} -> {losses[-1]}",
                    f"{BOOK_LOSSES[0]} -> {BOOK_LOSSES[-1]}, all 11 (rtol 1e-5), falling",
                    falling and _close(losses, BOOK_LOSSES, 1e-5), t.seconds))
    return rows
