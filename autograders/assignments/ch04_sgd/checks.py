"""Lab `ch04_sgd`: SGD from scratch, from `x**2` to fastai's `Learner` and a two-layer net.

Checks call the student's functions in their kernel on inputs drawn while grading (`ns.rng`: random tensors,
the grader's own tiny models and batches, random training and validation images) and compare, in the grader,
with `reference.sgd`, `reference.linear` and `reference.simple_net`. Globals the chapter's functions read
(`time`, `speed`, `lr`, `weights`, `bias`, `dl`, `valid_dl`, `opt`, `w1`..`b2`) are set to grader values for
the duration of a probe (`set_global`, restored afterwards).

One mistake costs one item: each item is judged on its own answer, with the reference's version of what
earlier items answered (`given`, the helpers of this unit's `kernel.py`):
- functions (`apply_step`, `calc_grad`, `train_epoch`, `validate_epoch`) are called with the reference's
  `f`/`mse`, `mnist_loss`, `calc_grad`, `batch_accuracy` in place of the student's;
- the cells that train something (`train_linear`, `train_model`, `learner`, `sequential_net`) and the cell
  that makes `simple_net`'s parameters are run again, in a scope of their own, with the reference's pieces
  and the grader's data (a random subset of the training images), and judged on what they asked of those
  pieces (fresh parameters, learning rate, epochs, optimizer, loss, metric) and on what they trained.
So a loss that cannot train costs `mnist_loss`, a `calc_grad` without `backward` costs `calc_grad`, and an
optimizer whose `zero_grad` breaks costs `basic_optim`, not the items that use them.

Names fixed by the notebook: x2_grad, f, mse, apply_step(params, prn=True), train_x, train_y, dset, valid_x,
valid_y, valid_dset, dl, valid_dl, init_params, weights, bias, linear1, mnist_loss, batch_accuracy,
calc_grad, train_epoch(model, lr, params), validate_epoch(model), BasicOptim, linear_model, opt,
train_epoch_opt(model), train_model(model, epochs), dls, learn, simple_net, w1, b1, w2, b2, seq_net, learn_net.
"""
from __future__ import annotations

import math
import re
from functools import lru_cache

import torch

from autograders.checks.expect import expect_close, expect_equal, expect_true, kind_of, pack_images
from autograders.checks.spec import Assignment, CheckFailed

ASSIGNMENT = Assignment("ch04_sgd", title="Stochastic gradient descent from scratch (chapter 4)")
A = ASSIGNMENT

N_TRAIN, N_THREES = 12396, 6131
N_VALID, N_VALID_THREES = 2038, 1010
N_SUBSET = 2560           # training images the re-run training cells learn from (10 batches of 256)
N_VALID_SUBSET = 512      # validation images their validate_epoch prints accuracies on
LINEAR_MIN_ACC = 0.93     # the linear models after their epochs on the subset: 0.972-0.977 (6 seeds)
NET_MIN_ACC = 0.90        # seq_net after 5 epochs at lr 0.1 on the subset: 0.963-0.967 (6 seeds)


def _lin():
    from reference import linear
    return linear


def _sgd():
    from reference import sgd
    return sgd


@lru_cache(maxsize=1)
def _xy():
    "The reference's train_x, train_y, valid_x, valid_y (CPU), and the images as bytes."
    xy = _lin().load_xy("cpu")
    for name in ("train_x", "valid_x"):
        xy[name + "_u8"] = (xy[name] * 255).round().to(torch.uint8)
    return xy


def _subset(g: torch.Generator, n: int, split: str = "train") -> tuple[dict, torch.Tensor]:
    "`n` images of `split` picked at random (packed bytes) and their labels, in a random order."
    xy = _xy()
    idx = torch.randperm(len(xy[f"{split}_x"]), generator=g)[:n]
    return pack_images(xy[f"{split}_x_u8"][idx]), xy[f"{split}_y"][idx].clone()


def _seed(g: torch.Generator) -> int:
    "A seed for the kernel's own torch generator (parameters a student's cell makes), drawn from the check's."
    return int(torch.randint(0, 2**31 - 1, (1,), generator=g))


def _tensor(value, what: str) -> torch.Tensor:
    "`value` as a tensor, or CheckFailed saying what kind of value came back instead."
    if not isinstance(value, torch.Tensor):
        raise CheckFailed(f"{what}: expected a tensor, got {kind_of(value)}", expected="a tensor", got=kind_of(value))
    return value


def _scalar_close(got, want, what: str, atol=1e-5, rtol=1e-4) -> None:
    "`got` is a single number close to `want` (a 0-d tensor may arrive as shape (1,) from the kernel)."
    n = got.numel() if isinstance(got, torch.Tensor) else 1
    expect_true(n == 1, f"{what}: expected a single number, got {n} numbers", expected="one number",
                got=f"{n} numbers")
    expect_close(got, want, what, atol=atol, rtol=rtol, check_shape=False)


def _grad_cleared(g) -> bool:
    return g is None or (isinstance(g, torch.Tensor) and bool((g == 0).all()))


def _batches(g: torch.Generator, sizes, n_feat: int):
    "Grader-made mini-batches for a two-class problem: [(xb [bs, n_feat], yb int [bs, 1]), ...]."
    w = torch.randn(n_feat, 1, generator=g)
    out = []
    for bs in sizes:
        x = torch.randn(bs, n_feat, generator=g)
        out.append((x, ((x @ w) > 0).long()))
    return out


def _valid_accuracy(w, b) -> float:
    "Accuracy of `x@w + b > 0` on all of MNIST_SAMPLE's validation images (3 = 1)."
    xy = _xy()
    w, b = w.double().reshape(784, 1), b.double().reshape(-1)
    preds = xy["valid_x"].double() @ w + b
    return ((preds > 0).long() == xy["valid_y"]).float().mean().item()


def _linear_params(weight, bias, what: str) -> tuple[torch.Tensor, torch.Tensor]:
    "The weights and bias of a linear model from 784 pixels to one output, or CheckFailed."
    weight, bias = _tensor(weight, f"{what}: weights"), _tensor(bias, f"{what}: bias")
    expect_true(weight.numel() == 784 and bias.numel() == 1,
                f"{what}: expected 784 weights and 1 bias, got {weight.numel()} and {bias.numel()}",
                expected="784 weights and 1 bias", got=(tuple(weight.shape), tuple(bias.shape)))
    return weight, bias


def _accuracy_of_preds(preds) -> float:
    xy = _xy()
    preds = _tensor(preds, "predictions for the validation images")
    expect_true(preds.numel() == N_VALID, f"expected one prediction per validation image ({N_VALID}), got "
                f"{preds.numel()} numbers", expected=N_VALID, got=tuple(preds.shape))
    preds = preds.double().reshape(-1, 1)
    return ((preds > 0).long() == xy["valid_y"]).float().mean().item()


# ----------------------------------------------------------------------------------------------------------
# 1. x2_grad
_X2 = """
import torch
_count = [0]
_backward, _grad = torch.autograd.backward, torch.autograd.grad
def _counting(fn):
    def counted(*args, **kwargs):
        _count[0] += 1
        return fn(*args, **kwargs)
    return counted
torch.autograd.backward, torch.autograd.grad = _counting(_backward), _counting(_grad)
try:
    _x = _x0.clone()
    _g1 = x2_grad(_x)
    _g1 = _g1.detach().clone() if isinstance(_g1, torch.Tensor) else _g1
    _g2 = x2_grad(_x)
    _g2 = _g2.detach().clone() if isinstance(_g2, torch.Tensor) else _g2
finally:
    torch.autograd.backward, torch.autograd.grad = _backward, _grad
result = {"g1": _g1, "g2": _g2, "x": _x.detach().clone(), "touched": bool(_x.requires_grad or _x.grad is not None),
          "autograd": int(_count[0])}
"""


def _x2_grad(ns, x: torch.Tensor, what: str) -> None:
    got = ns.run(_X2, _x0=x)
    want = _sgd().gradient_of_f(x.tolist())
    expect_close(_tensor(got["g1"], what), want, what, check_shape=False)
    expect_true(isinstance(got["autograd"], int) and got["autograd"] > 0, "x2_grad should let PyTorch compute the gradient (`backward()` on the "
                "sum, then `.grad`), not use the formula", expected="a call to backward()", got="no backward()")
    expect_true(got["touched"] is False and isinstance(got["x"], torch.Tensor) and torch.equal(got["x"], x),
                "x2_grad changed the tensor it was given (it now requires a gradient or holds one); work on a "
                "copy: `x.clone().requires_grad_()`", expected="the input unchanged", got="the input changed")
    expect_close(_tensor(got["g2"], f"{what}, called a second time"), want, f"{what}, called a second time "
                 "on the same tensor", check_shape=False)


@A.check("x2_grad", "gradient of x**2 at a random number, by autograd, twice in a row")
def _(ns):
    x = torch.randn((), generator=ns.rng) * 5
    _x2_grad(ns, x, f"x2_grad(tensor({x.item():.4f}))")


@A.check("x2_grad", "gradient of (x**2).sum() for a random vector; the vector is left unchanged", hidden=True)
def _(ns):
    n = int(torch.randint(3, 9, (1,), generator=ns.rng))
    _x2_grad(ns, torch.randn(n, generator=ns.rng) * 5, f"x2_grad(vector of {n})")


# ----------------------------------------------------------------------------------------------------------
# 2. the roller coaster: f, mse, apply_step
@A.check("f", "the quadratic at random times (also negative ones) and parameters")
def _(ns):
    for t, params in ((torch.rand(20, generator=ns.rng) * 20, torch.randn(3, generator=ns.rng)),
                      (torch.rand(50, generator=ns.rng) * 40 - 10, torch.randn(3, generator=ns.rng) * 2)):
        expect_close(ns.call("f", t, params), _sgd().f(t, params), "f(t, params)", atol=1e-3)


@A.check("mse", "mean squared error on random predictions and targets")
def _(ns):
    for p, t in ((torch.randn(20, generator=ns.rng) * 10, torch.randn(20, generator=ns.rng) * 10),
                 (torch.randn(30, generator=ns.rng) * 3 + 50, torch.randn(30, generator=ns.rng) * 3)):
        _scalar_close(ns.call("mse", p, t), _sgd().mse(p, t), "mse(preds, targets)", atol=1e-2)


_STEP = """
import io, contextlib, torch
set_global('f', ref.f); set_global('mse', ref.mse)
set_global('time', _time); set_global('speed', _speed); set_global('lr', _lr)
_p = _p0.clone().requires_grad_()
_preds, _printed = [], io.StringIO()
for _i in range(_n):
    with contextlib.redirect_stdout(_printed):
        _r = apply_step(_p, prn=_prn)
    _preds.append(_r.detach().clone() if isinstance(_r, torch.Tensor) else _r)
result = {"params": _p.detach().clone(), "grad": None if _p.grad is None else _p.grad.detach().clone(),
          "preds": _preds, "printed": _printed.getvalue()[-4000:]}
"""
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _speed_problem(g):
    time = torch.arange(0, 20).float()
    speed = torch.randn(20, generator=g) * 3 + 0.75 * (time - 9.5) ** 2 + 1
    return time, speed


def _ref_steps(p0, time, speed, lr, n):
    "The reference's params after `n` steps, and each step's predictions and loss."
    p = p0.clone().requires_grad_()
    preds, losses = [], []
    for _ in range(n):
        preds.append(_sgd().f(time, p.detach()))
        losses.append(_sgd().apply_step(p, speed, time, lr))
    return p.detach(), preds, losses


def _apply_step(ns, n: int, prn: bool):
    time, speed = _speed_problem(ns.rng)
    p0, lr = torch.randn(3, generator=ns.rng), 1e-5
    got = ns.run(_STEP, _time=time, _speed=speed, _lr=lr, _p0=p0, _n=n, _prn=prn)
    return got, _ref_steps(p0, time, speed, lr, n)


@A.check("apply_step", "one step from grader parameters: params, gradient, predictions, printed loss",
         given=("f", "mse"))
def _(ns):
    got, (want, preds, losses) = _apply_step(ns, 1, True)
    expect_close(got["params"], want, "params after one apply_step (moved by lr * gradient, downhill)", atol=1e-5)
    expect_true(_grad_cleared(got["grad"]), "apply_step should clear the gradient after the step "
                "(`params.grad = None` or zero it)", expected="None or zeros", got="a gradient left")
    expect_close(_tensor(got["preds"][0], "what apply_step returns"), preds[0],
                 "what apply_step returns (the predictions)", atol=1e-3)
    numbers = []
    for text in _NUMBER.findall(str(got["printed"])):
        try:
            numbers.append(float(text))
        except ValueError:
            pass
    expect_true(any(math.isclose(v, losses[0], rel_tol=1e-2, abs_tol=1e-2) for v in numbers),
                f"apply_step(params, prn=True) should print the loss ({losses[0]:.4f})",
                expected=round(losses[0], 4), got="no such number printed")


@A.check("apply_step", "several steps in a row", hidden=True, given=("f", "mse"))
def _(ns):
    got, (want, _, _) = _apply_step(ns, 3, False)
    expect_close(got["params"], want, "params after three apply_steps", atol=1e-5)


# ----------------------------------------------------------------------------------------------------------
# 3. datasets
@A.check("datasets", "train_x, train_y, valid_x and valid_y")
def _(ns):
    xy = _xy()
    it = torch.randint(0, N_TRAIN, (8,), generator=ns.rng)
    iv = torch.randint(0, N_VALID, (8,), generator=ns.rng)
    got = ns.run("result = {n: (tuple(t.shape), t[_i] if n.endswith('x') and t.dim() == 2 else t)\n"
                 "          for n, t, _i in (('train_x', train_x, _it), ('train_y', train_y, None),\n"
                 "                           ('valid_x', valid_x, _iv), ('valid_y', valid_y, None))}",
                 _it=it, _iv=iv)
    for name, n in (("train", N_TRAIN), ("valid", N_VALID)):
        shape_x, rows = got[f"{name}_x"]
        expect_equal(shape_x, (n, 28 * 28), f"`{name}_x.shape`")
        idx = it if name == "train" else iv
        expect_close(rows, xy[f"{name}_x"][idx], f"{name}_x[{idx.tolist()}] (3s first, then 7s, files sorted)",
                     atol=1e-5)
        shape_y, y = got[f"{name}_y"]
        expect_equal(shape_y, (n, 1), f"`{name}_y.shape`")
        expect_equal(y, xy[f"{name}_y"], f"`{name}_y` (1 for each 3, then 0 for each 7)")


@A.check("datasets", "dset/valid_dset pair every image with its label; dl/valid_dl give each item once")
def _(ns):
    xy = _xy()
    got = ns.run("""
result = {}
for _name, _ds, _dl in (('train', dset, dl), ('valid', valid_dset, valid_dl)):
    _n, _ys, _xs, _sizes, _pair = 0, 0, 0., [], 0.
    for _xb, _yb in _dl:
        _n += len(_xb); _ys += int(_yb.sum()); _xs += float(_xb.float().sum()); _sizes.append(len(_xb))
        _pair += float((_xb.float().reshape(len(_xb), -1).sum(-1) * _yb.float().reshape(-1)).sum())
    result[_name] = {"len": len(_ds), "n": _n, "ys": _ys, "xs": _xs, "sizes": _sizes, "pair": _pair}
""")
    for name, n in (("train", N_TRAIN), ("valid", N_VALID)):
        x, y = xy[f"{name}_x"], xy[f"{name}_y"]
        r = got[name]
        ds, loader = ("dset", "dl") if name == "train" else ("valid_dset", "valid_dl")
        expect_equal(r["len"], n, f"len({ds})")
        expect_equal(r["n"], n, f"items in one pass over {loader}")
        expect_equal(r["ys"], int(y.sum()), f"number of 3s in one pass over {loader}")
        expect_equal(r["sizes"][:1], [256], f"the first batch size of {loader}")
        expect_close(r["xs"], x.double().sum().item(), f"sum of every pixel in one pass over {loader}", rtol=1e-5)
        # the pixels of the 3s only: images still paired with their own labels
        expect_close(r["pair"], (x.double().sum(-1) * y.view(-1)).sum().item(),
                     f"sum of the pixels of the items labelled 3 in {loader}", rtol=1e-5)


# ----------------------------------------------------------------------------------------------------------
# 4. the linear model by hand
@A.check("init_params", "random parameters that require a gradient; weights and bias")
def _(ns):
    got = ns.run("""import torch
torch.manual_seed(_seed)
_t = init_params((400, 7)); _u = init_params(5000, std=0.1)
result = {"t": (tuple(_t.shape), _t.requires_grad, _t.is_leaf, float(_t.mean()), float(_t.std())),
          "u": (tuple(_u.shape), _u.requires_grad, float(_u.mean()), float(_u.std())),
          "w": (tuple(weights.shape), weights.requires_grad), "b": (tuple(bias.shape), bias.requires_grad)}
""", _seed=_seed(ns.rng))
    shape, grad, leaf, mean, std = got["t"]
    expect_equal(shape, (400, 7), "init_params((400, 7)).shape")
    expect_true(grad and leaf, "init_params should return a tensor that requires a gradient (and is a leaf, "
                "so `.grad` gets filled in): call `requires_grad_()` on it last", expected="a leaf requiring grad",
                got=f"requires_grad={grad}, is_leaf={leaf}")
    expect_true(abs(mean) < 0.1 and 0.9 < std < 1.1, f"init_params((400, 7)) should be standard normal numbers; "
                f"mean {mean:.3f}, std {std:.3f}", expected="mean 0, std 1", got=(round(mean, 3), round(std, 3)))
    shape, grad, mean, std = got["u"]
    expect_equal(shape, (5000,), "init_params(5000, std=0.1).shape")
    expect_true(abs(mean) < 0.01 and 0.09 < std < 0.11, f"init_params(5000, std=0.1) should have mean 0 and "
                f"std 0.1; got mean {mean:.4f}, std {std:.4f}", expected="mean 0, std 0.1",
                got=(round(mean, 4), round(std, 4)))
    expect_equal(got["w"], ((28 * 28, 1), True), "(weights.shape, weights.requires_grad)")
    expect_equal(got["b"], ((1,), True), "(bias.shape, bias.requires_grad)")


@A.check("linear1", "predictions for a batch with grader weights and bias")
def _(ns):
    g = ns.rng
    x, w, b = torch.rand(7, 784, generator=g), torch.randn(784, 1, generator=g), torch.randn(1, generator=g)
    got = ns.run("set_global('weights', _w); set_global('bias', _b)\nresult = linear1(_x)", _x=x, _w=w, _b=b)
    expect_close(got, _lin().linear1(x, w, b), "linear1(xb)", atol=1e-4)


@A.check("mnist_loss", "the chapter's loss on random predictions and targets")
def _(ns):
    p, t = torch.randn(32, 1, generator=ns.rng) * 3, torch.randint(0, 2, (32, 1), generator=ns.rng)
    _scalar_close(ns.call("mnist_loss", p, t), _lin().mnist_loss(p, t), "mnist_loss(predictions, targets)")


@A.check("mnist_loss", "its gradient with respect to the predictions", hidden=True)
def _(ns):
    p, t = torch.randn(40, 1, generator=ns.rng) * 2, torch.randint(0, 2, (40, 1), generator=ns.rng)
    got = ns.run("_p = _p0.clone().requires_grad_()\n_l = mnist_loss(_p, _t)\n"
                 "_l.backward() if hasattr(_l, 'backward') and _l.requires_grad else None\nresult = _p.grad",
                 _p0=p, _t=t)
    q = p.clone().requires_grad_()
    _lin().mnist_loss(q, t).backward()
    expect_true(got is not None, "mnist_loss gave no gradient (is it computed from the predictions with torch "
                "operations?)", expected="a gradient", got=None)
    expect_close(got, q.grad, "gradient of mnist_loss with respect to the predictions", atol=1e-6)


def _accuracy_inputs(g: torch.Generator, n: int):
    """Predictions and targets on which the plausible mistakes give another accuracy: among them an odd number
    between 0 and 0.5 (sigmoid calls them 3s, a threshold of 0.5 on the raw scores does not)."""
    ba = _lin().batch_accuracy
    for _ in range(100):
        p = torch.randn(n, 1, generator=g) * 3
        m = 2 * int(torch.randint(4, 9, (1,), generator=g)) + 1
        p[torch.randperm(n, generator=g)[:m], 0] = torch.rand(m, generator=g) * 0.46 + 0.02
        t = torch.randint(0, 2, (n, 1), generator=g)
        want = ba(p, t).item()
        wrong = [((p > 0.5) == t).float().mean().item(), ((p.sigmoid() > 0.5).view(-1) == t).float().mean().item(),
                 ((p.sigmoid().sigmoid() > 0.5) == t).float().mean().item()]
        if min(abs(want - w) for w in wrong) > 0.5 / n:
            return p, t, want
    raise RuntimeError("no usable predictions for batch_accuracy")


def _batch_accuracy(ns, n: int, float_targets: bool) -> None:
    p, t, want = _accuracy_inputs(ns.rng, n)
    got = ns.call("batch_accuracy", p, t.float() if float_targets else t)
    expect_true(isinstance(got, torch.Tensor) and got.is_floating_point(),
                f"batch_accuracy should return a float tensor (`.float().mean()`), not {kind_of(got)}",
                expected="a float tensor", got=kind_of(got))
    _scalar_close(got, want, f"batch_accuracy(predictions, targets) for {n} items", atol=1e-6)


@A.check("batch_accuracy", "accuracy on random predictions (sigmoid > 0.5) and targets, as a float tensor")
def _(ns):
    _batch_accuracy(ns, 64, False)
    _batch_accuracy(ns, 96, True)


# ----------------------------------------------------------------------------------------------------------
# 5. the training loop
def _ref_epochs(w0, b0, batches, lr, epochs=1):
    w, b = w0.clone().requires_grad_(), b0.clone().requires_grad_()
    for _ in range(epochs):
        _lin().train_epoch(lambda xb: xb @ w + b, lr, (w, b), batches)
    return w.detach(), b.detach()


_CALC_GRAD = """import torch
set_global('mnist_loss', ref.mnist_loss)
if _linear:
    _m = torch.nn.Linear(_w0.shape[0], 1)
    with torch.no_grad():
        _m.weight.copy_(_w0.t()); _m.bias.copy_(_b0)
    _w, _b, _model = _m.weight, _m.bias, _m
else:
    _w, _b = _w0.clone().requires_grad_(), _b0.clone().requires_grad_()
    _model = lambda xb: xb @ _w + _b
calc_grad(_xb, _yb, _model)
result = {"w": None if _w.grad is None else _w.grad.reshape(-1, 1), "b": _b.grad}
"""


def _calc_grad(ns, linear: bool) -> None:
    n_feat = int(torch.randint(4, 9, (1,), generator=ns.rng))
    (xb, yb), = _batches(ns.rng, (12,), n_feat)
    w0, b0 = torch.randn(n_feat, 1, generator=ns.rng), torch.randn(1, generator=ns.rng)
    got = ns.run(_CALC_GRAD, _xb=xb, _yb=yb, _w0=w0, _b0=b0, _linear=linear)
    expect_true(got["w"] is not None and got["b"] is not None,
                "after calc_grad the parameters have no `.grad`: did it call `backward()` on the loss?",
                expected="gradients", got=None)
    w, b = w0.clone().requires_grad_(), b0.clone().requires_grad_()
    _lin().calc_grad(xb, yb, lambda x: x @ w + b)
    expect_close(torch.cat([got["w"].flatten(), got["b"].flatten()]), torch.cat([w.grad.flatten(), b.grad.flatten()]),
                 "gradients from calc_grad (of mnist_loss(model(xb), yb))", atol=1e-6)


@A.check("calc_grad", "gradients for a grader batch, with a function and with an nn.Linear as the model",
         given=("mnist_loss",))
def _(ns):
    _calc_grad(ns, False)
    _calc_grad(ns, True)


_TRAIN_EPOCH = """import torch
set_global('calc_grad', ref.calc_grad)
set_global('dl', _dl); set_global('valid_dl', _other)
_w, _b = _w0.clone().requires_grad_(), _b0.clone().requires_grad_()
for _e in range(_epochs):
    train_epoch(lambda xb: xb @ _w + _b, _lr, (_w, _b))
result = torch.cat([_w.detach().flatten(), _b.detach().flatten()])
"""


def _train_epoch(ns, sizes, epochs):
    batches = _batches(ns.rng, sizes, 5)
    other = _batches(ns.rng, (7, 7), 5)   # valid_dl: not the batches train_epoch should loop over
    w0, b0, lr = torch.randn(5, 1, generator=ns.rng), torch.randn(1, generator=ns.rng), 0.7
    got = ns.run(_TRAIN_EPOCH, _dl=batches, _other=other, _w0=w0, _b0=b0, _lr=lr, _epochs=epochs)
    w, b = _ref_epochs(w0, b0, batches, lr, epochs)
    expect_close(got, torch.cat([w.flatten(), b.flatten()]),
                 f"weights and bias after {epochs} epoch(s) over {len(sizes)} grader batches in `dl` (lr {lr})",
                 atol=1e-5)


@A.check("train_epoch", "one epoch over grader batches is one SGD step per batch", given=("calc_grad", "dl"))
def _(ns):
    _train_epoch(ns, (8, 8, 5), 1)


@A.check("train_epoch", "two epochs: gradients reset between steps", hidden=True, given=("calc_grad", "dl"))
def _(ns):
    _train_epoch(ns, (6, 6, 6, 3), 2)


def _validate_inputs(g: torch.Generator):
    """Batches of unequal sizes and a model on which the plausible mistakes give another number: the mean is
    not already a 4-place number nor near a rounding boundary, and the mean over the items differs."""
    ba = _lin().batch_accuracy
    for _ in range(200):
        sizes = [int(s) for s in torch.randint(5, 16, (4,), generator=g)]
        batches = _batches(g, sizes, 4)
        w, b = torch.randn(4, 1, generator=g), torch.randn(1, generator=g)
        accs = [ba(x @ w + b, y).item() for x, y in batches]
        mean = sum(accs) / len(accs)
        by_item = sum(a * s for a, s in zip(accs, sizes)) / sum(sizes)
        doubled = sum(ba((x @ w + b).sigmoid(), y).item() for x, y in batches) / len(batches)
        other = _batches(g, (9, 9), 4)   # dl: not the batches validate_epoch should loop over
        on_other = sum(ba(x @ w + b, y).item() for x, y in other) / len(other)
        frac = mean * 1e4 - math.floor(mean * 1e4)
        if (abs(mean - round(mean, 4)) > 1e-5 and abs(frac - 0.5) > 0.01
                and min(abs(round(v, 4) - round(mean, 4)) for v in (by_item, doubled, on_other)) > 2e-4):
            return batches, other, w, b, round(mean, 4)
    raise RuntimeError("no usable batches for validate_epoch")


_VALIDATE = """
set_global('batch_accuracy', ref.batch_accuracy)
set_global('valid_dl', _vdl); set_global('dl', _other)
result = validate_epoch(lambda xb: xb @ _w + _b)
"""


def _validate_epoch(ns) -> None:
    batches, other, w, b, want = _validate_inputs(ns.rng)
    got = ns.run(_VALIDATE, _vdl=batches, _other=other, _w=w, _b=b)
    expect_true(isinstance(got, float), f"validate_epoch should return a Python float (`.item()`, then "
                f"`round(..., 4)`), not {kind_of(got)}", expected="a float", got=kind_of(got))
    expect_close(got, want, f"validate_epoch(model): the mean of batch_accuracy over the {len(batches)} batches "
                 "of valid_dl, rounded to 4 places", atol=1e-6, rtol=0)


@A.check("validate_epoch", "mean batch accuracy over grader batches, rounded to 4 places",
         given=("batch_accuracy", "valid_dl"))
def _(ns):
    _validate_epoch(ns)


# ----------------------------------------------------------------------------------------------------------
# train_linear: the cell again, with the reference's pieces and a subset of the training images
_TRAIN_LINEAR = """import torch
torch.manual_seed(_seed)
_init, _train = ref.InitParams(), ref.TrainEpoch(ref.batches(_x, _y))
set_global('init_params', _init)
set_global('linear1', ref.Linear1(globals()))
set_global('train_epoch', _train)
set_global('validate_epoch', ref.ValidateEpoch(ref.batches(_vx, _vy)))
set_global('dl', _train.batches); set_global('valid_dl', ref.batches(_vx, _vy))
set_global('lr', 1e-5)
ref.run_cell(_src, globals())
_w, _b = globals().get('weights'), globals().get('bias')
_made = [any(_t is _m for _m in _init.made) for _t in (_w, _b)]
result = {"init": _init.calls, "made": _made, "no_grad": _train.no_grad,
          "calls": [(float(_lr), len(_ps), {id(_p) for _p in _ps} == {id(_w), id(_b)}) for _lr, _ps in _train.calls],
          "weights": _w.detach() if isinstance(_w, torch.Tensor) else None,
          "bias": _b.detach() if isinstance(_b, torch.Tensor) else None}
"""


def _train_linear(ns) -> dict:
    x, y = _subset(ns.rng, N_SUBSET)
    vx, vy = _subset(ns.rng, N_VALID_SUBSET, "valid")
    return ns.run(_TRAIN_LINEAR, _x=x, _y=y, _vx=vx, _vy=vy, _seed=_seed(ns.rng), _src=ns.source("train_linear"))


_GIVEN_LINEAR = ("init_params", "linear1", "train_epoch", "validate_epoch", "dl", "valid_dl")


@A.check("train_linear", "fresh weights and bias (std 0.1), lr 1, and 20 epochs of train_epoch on them",
         given=_GIVEN_LINEAR)
def _(ns):
    got = _train_linear(ns)
    made = {shape: std for shape, std in got["init"]}
    expect_true(got["made"] == [True, True] and made.get((784, 1)) == 0.1 and made.get((1,)) == 0.1,
                "weights and bias should be made again with init_params((28*28,1), std=0.1) and "
                "init_params(1, std=0.1)", expected="init_params((784, 1), std=0.1) and init_params(1, std=0.1)",
                got=f"init_params calls (shape, std): {got['init']}")
    expect_true(not got["no_grad"], "the parameters your cell gives train_epoch get no gradient: make them with "
                "init_params (leaf tensors that require a gradient), not from an expression of them",
                expected="leaf tensors", got="tensors without gradients")
    calls = got["calls"]
    expect_equal(len(calls), 20, "the number of train_epoch calls (epochs)")
    expect_true(all(lr == 1.0 for lr, _, _ in calls), "train_epoch should be called with lr = 1",
                expected=1.0, got=sorted({lr for lr, _, _ in calls}))
    expect_true(all(n == 2 and same for _, n, same in calls),
                "train_epoch should be given `params`, a tuple of `weights` and `bias`",
                expected="(weights, bias)", got="other tensors")


@A.check("train_linear", "the weights it trains classify the validation images", hidden=True, given=_GIVEN_LINEAR)
def _(ns):
    got = _train_linear(ns)
    expect_true(not got["no_grad"], "the parameters your cell trains get no gradient", expected="leaf tensors",
                got="tensors without gradients")
    w, b = _linear_params(got["weights"], got["bias"], "weights and bias after the cell")
    acc = _valid_accuracy(w, b)
    expect_true(acc >= LINEAR_MIN_ACC, f"linear1 with the weights your cell trains is right on {acc:.1%} of the "
                f"validation images; expected more than {LINEAR_MIN_ACC:.0%}", expected=f">= {LINEAR_MIN_ACC}",
                got=round(acc, 4))


# ----------------------------------------------------------------------------------------------------------
# 6. BasicOptim and train_model
_OPT = """import torch
set_global('lr', 7.0)   # a global lr that is not the optimizer's
_ps = [_p.clone().requires_grad_() for _p in _p0s]
for _p, _g in zip(_ps, _gs):
    _p.grad = _g.clone()
_frozen = _f0.clone().requires_grad_()          # a parameter with no gradient yet
_o = BasicOptim((_p for _p in _ps), _lr)
_o.step(_extra=1)
_after_one = [_p.detach().clone() for _p in _ps]
_o.step()
result = {"one": _after_one, "two": [_p.detach().clone() for _p in _ps]}
def _raised(e):
    return f"zero_grad() raised {type(e).__name__}: {e}"[:300]
try:
    _o.zero_grad(set_to_none=True)
    result["grads"] = [_p.grad for _p in _ps]
except Exception as e:
    result["grads"] = _raised(e)
try:
    _o2 = BasicOptim([_frozen] + _ps, _lr)
    _o2.zero_grad()
    result["frozen"] = _frozen.grad
except Exception as e:
    result["frozen"] = _raised(e)
"""


def _optim(ns) -> tuple[dict, list, list, float]:
    g = ns.rng
    p0s = [torch.randn(4, 3, generator=g), torch.randn(3, generator=g)]
    gs = [torch.randn(4, 3, generator=g), torch.randn(3, generator=g)]
    lr = float(torch.rand(1, generator=g)) * 0.5 + 0.1
    got = ns.run(_OPT, _p0s=p0s, _gs=gs, _f0=torch.randn(2, generator=g), _lr=lr)
    return got, p0s, gs, lr


@A.check("basic_optim", "step moves each parameter by lr times its gradient (params given as a generator)")
def _(ns):
    got, p0s, gs, lr = _optim(ns)
    for i, (p, g, q1, q2) in enumerate(zip(p0s, gs, got["one"], got["two"])):
        expect_close(q1, p - lr * g, f"parameter {i} after step() (with lr {lr:.3f})", atol=1e-6)
        expect_close(q2, p - 2 * lr * g, f"parameter {i} after a second step() (the params kept as a list)",
                     atol=1e-6)


@A.check("basic_optim", "zero_grad clears every gradient, also of a parameter that has none yet")
def _(ns):
    got, _, _, _ = _optim(ns)
    for key in ("grads", "frozen"):
        if isinstance(got[key], str):
            raise CheckFailed(got[key] + ("" if key == "grads" else " on a parameter whose gradient is None"),
                              expected="gradients cleared", got=got[key])
    for i, gr in enumerate(got["grads"]):
        expect_true(_grad_cleared(gr), f"after zero_grad(), parameter {i} still has a gradient",
                    expected="None or zeros", got=kind_of(gr))
    expect_true(_grad_cleared(got["frozen"]), "zero_grad() on a parameter whose gradient is None should leave it "
                "cleared", expected="None or zeros", got=kind_of(got["frozen"]))


@A.check("basic_optim", "step and zero_grad over several batches are plain SGD", hidden=True)
def _(ns):
    batches = _batches(ns.rng, (8, 8, 8, 4), 5)
    w0, b0, lr = torch.randn(5, 1, generator=ns.rng), torch.randn(1, generator=ns.rng), 0.5
    got = ns.run("""import torch
_w, _b = _w0.clone().requires_grad_(), _b0.clone().requires_grad_()
_o = BasicOptim([_w, _b], _lr)
for _xb, _yb in _dl:
    _pr = (_xb @ _w + _b).sigmoid()
    torch.where(_yb == 1, 1 - _pr, _pr).mean().backward()
    _o.step()
    _o.zero_grad()
result = torch.cat([_w.detach().flatten(), _b.detach().flatten()])
""", _dl=batches, _w0=w0, _b0=b0, _lr=lr)
    w, b = _ref_epochs(w0, b0, batches, lr, 1)
    expect_close(got, torch.cat([w.flatten(), b.flatten()]), "parameters after 4 batches with BasicOptim", atol=1e-5)


_TRAIN_MODEL = """import torch
torch.manual_seed(_seed)
set_global('BasicOptim', ref.BasicOptim); set_global('calc_grad', ref.calc_grad)
set_global('validate_epoch', ref.ValidateEpoch(ref.batches(_vx, _vy)))
set_global('dl', ref.batches(_x, _y)); set_global('valid_dl', ref.batches(_vx, _vy)); set_global('lr', 1.0)
ref.run_cell(_src, globals())
_m, _o = globals().get('linear_model'), globals().get('opt')
_linear = isinstance(_m, torch.nn.Linear)
result = {"model": (_linear, _m.in_features if _linear else None, _m.out_features if _linear else None),
          "opt": isinstance(_o, ref.BasicOptim),
          "opt_params": _linear and isinstance(_o, ref.BasicOptim)
                        and {id(_p) for _p in _o.params} == {id(_p) for _p in _m.parameters()},
          "opt_lr": float(_o.lr) if isinstance(_o, ref.BasicOptim) else None,
          "weight": _m.weight.detach().cpu() if _linear else None, "bias": _m.bias.detach().cpu() if _linear else None}
"""


@A.check("train_model", "linear_model: an nn.Linear(784, 1) that opt, a BasicOptim over its parameters, trains",
         given=("BasicOptim", "calc_grad", "validate_epoch", "dl", "valid_dl", "lr"))
def _(ns):
    x, y = _subset(ns.rng, N_SUBSET)
    vx, vy = _subset(ns.rng, N_VALID_SUBSET, "valid")
    got = ns.run(_TRAIN_MODEL, _x=x, _y=y, _vx=vx, _vy=vy, _seed=_seed(ns.rng), _src=ns.source("train_model"))
    expect_equal(got["model"], (True, 784, 1), "linear_model (an nn.Linear?, in_features, out_features)")
    expect_true(got["opt"] and got["opt_params"], "opt should be a BasicOptim over linear_model.parameters()",
                expected="BasicOptim(linear_model.parameters(), lr)", got="another optimizer or other parameters")
    expect_true(got["opt_lr"] == 1.0, "opt should use the learning rate `lr`", expected=1.0, got=got["opt_lr"])
    w, b = _linear_params(got["weight"], got["bias"], "linear_model")
    acc = _valid_accuracy(w.reshape(1, 784).t(), b)
    expect_true(acc >= LINEAR_MIN_ACC, f"train_model(linear_model, 20) in your cell left linear_model right on "
                f"{acc:.1%} of the validation images; expected more than {LINEAR_MIN_ACC:.0%}",
                expected=f">= {LINEAR_MIN_ACC}", got=round(acc, 4))


_TRAIN_MODEL_LOOP = """import torch
class _SGD:  # the grader's optimizer, so that only the loop is judged
    def __init__(self, params, lr): self.params, self.lr = list(params), lr
    def step(self, *a, **k):
        for p in self.params: p.data -= p.grad.data * self.lr
    def zero_grad(self, *a, **k):
        for p in self.params: p.grad = None
_m = torch.nn.Linear(_w0.shape[0], 1)
with torch.no_grad():
    _m.weight.copy_(_w0.t()); _m.bias.copy_(_b0)
set_global('calc_grad', ref.calc_grad); set_global('validate_epoch', ref.ValidateEpoch(_vdl))
set_global('dl', _dl); set_global('valid_dl', _vdl); set_global('opt', _SGD(_m.parameters(), _lr))
train_model(_m, _epochs)
result = torch.cat([_m.weight.detach().flatten(), _m.bias.detach().flatten()])
"""


@A.check("train_model", "train_model(model, epochs): epochs passes of calc_grad, opt.step, opt.zero_grad over dl",
         hidden=True, given=("calc_grad", "validate_epoch", "dl", "valid_dl"))
def _(ns):
    n_feat = 784
    batches, vbatches = _batches(ns.rng, (8, 8, 4), n_feat), _batches(ns.rng, (6,), n_feat)
    w0, b0 = torch.randn(n_feat, 1, generator=ns.rng) * 0.1, torch.randn(1, generator=ns.rng)
    epochs, lr = int(torch.randint(2, 4, (1,), generator=ns.rng)), 0.5
    got = ns.run(_TRAIN_MODEL_LOOP, _dl=batches, _vdl=vbatches, _w0=w0, _b0=b0, _lr=lr, _epochs=epochs)
    w, b = _ref_epochs(w0, b0, batches, lr, epochs)
    expect_close(got, torch.cat([w.flatten(), b.flatten()]),
                 f"the model after train_model(model, {epochs}) with the grader's optimizer and batches", atol=1e-5)


# ----------------------------------------------------------------------------------------------------------
# 7. fastai's Learner: the cell again, on grader DataLoaders, with the reference's loss and metric
_FASTAI_DLS = """import torch
from fastai.data.load import DataLoader as _DataLoader
from fastai.data.core import DataLoaders as _DataLoaders
from fastai.optimizer import SGD as _fastai_SGD
def _loader(_xs, _ys):
    return _DataLoader(list(zip(ref.images(_xs), _ys)), batch_size=256)
_tdl, _vdl = _loader(_x, _y), _loader(_vx, _vy)
"""

_LEARNER = _FASTAI_DLS + """
set_global('dl', _tdl); set_global('valid_dl', _vdl)
set_global('mnist_loss', ref.mnist_loss); set_global('batch_accuracy', ref.batch_accuracy); set_global('lr', 1.0)
_before = globals().get('linear_model')
torch.manual_seed(_seed)
ref.run_cell(_src, globals())
_l = globals().get('learn')
_params = list(_l.model.parameters())
result = {"opt": _l.opt_func is _fastai_SGD, "loss": _l.loss_func is ref.mnist_loss,
          "metrics": [getattr(_m, 'func', _m) is ref.batch_accuracy for _m in _l.metrics],
          "shapes": sorted(tuple(_p.shape) for _p in _params),
          "dls": (_l.dls.train is _tdl, _l.dls.valid is _vdl),
          "fresh": _before is None or _l.model is not _before,
          "epochs": getattr(_l, 'n_epoch', None), "done": len(_l.recorder.values),
          "lr": float(_l.opt.hypers[-1]['lr']) if _l.opt is not None else None,
          "weight": next((_p.detach().cpu() for _p in _params if _p.dim() == 2), None),
          "bias": next((_p.detach().cpu() for _p in _params if _p.dim() == 1), None)}
"""
_GIVEN_LEARNER = ("mnist_loss", "batch_accuracy", "dl", "valid_dl", "lr")


def _learner(ns) -> dict:
    x, y = _subset(ns.rng, N_SUBSET)
    vx, vy = _subset(ns.rng, N_VALID_SUBSET, "valid")
    return ns.run(_LEARNER, _x=x, _y=y, _vx=vx, _vy=vy, _seed=_seed(ns.rng), _src=ns.source("learner"))


@A.check("learner", "learn: a fresh nn.Linear(784, 1), SGD, mnist_loss, batch_accuracy, DataLoaders(dl, valid_dl), "
         "fit 10 epochs at lr", given=_GIVEN_LEARNER)
def _(ns):
    got = _learner(ns)
    expect_true(got["opt"], "learn should use fastai's `SGD` as its optimizer (opt_func=SGD)",
                expected="opt_func=SGD", got="another optimizer")
    expect_true(got["loss"], "learn should use your `mnist_loss` as its loss (loss_func=mnist_loss)",
                expected="loss_func=mnist_loss", got="another loss")
    expect_true(got["metrics"] == [True], "learn's only metric should be `batch_accuracy`",
                expected=[True], got=got["metrics"])
    expect_equal(got["shapes"], [(1,), (1, 784)], "shapes of learn.model's parameters (a linear layer from 28*28 to 1)")
    expect_true(got["fresh"], "learn should train a fresh nn.Linear(28*28, 1), not linear_model",
                expected="a new nn.Linear", got="linear_model")
    expect_equal(got["dls"], (True, True), "(learn.dls.train is dl, learn.dls.valid is valid_dl)")
    expect_equal((got["epochs"], got["done"]), (10, 10), "epochs fitted (learn.fit(10, ...))")
    expect_true(got["lr"] is not None and math.isclose(got["lr"], 1.0), "learn should be fitted at `lr`",
                expected=1.0, got=got["lr"])


@A.check("learner", "the fitted learner classifies the validation images", given=_GIVEN_LEARNER)
def _(ns):
    got = _learner(ns)
    w, b = _linear_params(got["weight"], got["bias"], "learn.model")
    acc = _valid_accuracy(w.reshape(1, 784).t(), b)
    expect_true(acc >= LINEAR_MIN_ACC, f"learn.model, fitted by your cell, is right on {acc:.1%} of the validation "
                f"images; expected more than {LINEAR_MIN_ACC:.0%}", expected=f">= {LINEAR_MIN_ACC}", got=round(acc, 4))


# ----------------------------------------------------------------------------------------------------------
# 8. simple_net and the same net with nn.Sequential
@A.check("simple_net", "the two-layer net on grader weights")
def _(ns):
    from reference.simple_net import simple_net
    g = ns.rng
    h = int(torch.randint(5, 12, (1,), generator=g))
    x = torch.rand(6, 784, generator=g)
    w1, b1 = torch.randn(784, h, generator=g) * 0.1, torch.randn(h, generator=g)
    w2, b2 = torch.randn(h, 1, generator=g), torch.randn(1, generator=g)
    got = ns.run("for _n, _v in zip(('w1', 'b1', 'w2', 'b2'), (_w1, _b1, _w2, _b2)): set_global(_n, _v)\n"
                 "result = simple_net(_x)", _x=x, _w1=w1, _b1=b1, _w2=w2, _b2=b2)
    expect_close(got, simple_net(x, w1, b1, w2, b2), "simple_net(xb)", atol=1e-4)


@A.check("simple_net", "w1, b1, w2, b2 made with init_params, with the chapter's shapes", hidden=True,
         given=("init_params", "train_x"))
def _(ns):
    got = ns.run("""import torch
torch.manual_seed(_seed)
_init = ref.InitParams()
set_global('init_params', _init); set_global('train_x', _x)
ref.run_cell(_src, globals())
result = [(tuple(_t.shape), bool(_t.requires_grad and _t.is_leaf)) if isinstance(_t, torch.Tensor) else None
          for _t in (w1, b1, w2, b2)]
""", _x=torch.rand(8, 784, generator=ns.rng), _seed=_seed(ns.rng), _src=ns.source("simple_net"))
    expect_equal(got, [((784, 30), True), ((30,), True), ((30, 1), True), ((1,), True)],
                 "(shape, made by init_params) of w1, b1, w2, b2")


_SEQUENTIAL = _FASTAI_DLS + """
set_global('dl', _tdl); set_global('valid_dl', _vdl); set_global('dls', _DataLoaders(_tdl, _vdl))
set_global('mnist_loss', ref.mnist_loss); set_global('batch_accuracy', ref.batch_accuracy)
torch.manual_seed(_seed)
ref.run_cell(_src, globals())
_net, _l = globals().get('seq_net'), globals().get('learn_net')
def _layer(_m):
    _name = type(_m).__name__ if type(_m).__module__.startswith('torch.nn') else 'a module of your own'
    return (_name, getattr(_m, 'in_features', None) if isinstance(_m, torch.nn.Linear) else None,
            getattr(_m, 'out_features', None) if isinstance(_m, torch.nn.Linear) else None)
result = {"layers": [_layer(_m) for _m in _net] if isinstance(_net, torch.nn.Sequential) else None,
          "learner": (_l.model is _net, _l.opt_func is _fastai_SGD, _l.loss_func is ref.mnist_loss,
                      [getattr(_m, 'func', _m) is ref.batch_accuracy for _m in _l.metrics],
                      _l.dls.train is _tdl and _l.dls.valid is _vdl),
          "epochs": (getattr(_l, 'n_epoch', None), len(_l.recorder.values)),
          "lr": float(_l.opt.hypers[-1]['lr']) if _l.opt is not None else None}
if _preds:
    with torch.no_grad():
        result["preds"] = _net(ref.images(_valid))
"""
_GIVEN_SEQUENTIAL = ("dl", "valid_dl", "dls", "mnist_loss", "batch_accuracy")


def _sequential(ns, preds: bool) -> dict:
    x, y = _subset(ns.rng, N_SUBSET)
    vx, vy = _subset(ns.rng, N_VALID_SUBSET, "valid")
    return ns.run(_SEQUENTIAL, _x=x, _y=y, _vx=vx, _vy=vy, _seed=_seed(ns.rng), _src=ns.source("sequential_net"),
                  _preds=preds, _valid=pack_images(_xy()["valid_x_u8"]) if preds else None)


@A.check("sequential_net", "seq_net is Linear(784, 30), ReLU, Linear(30, 1)", given=_GIVEN_SEQUENTIAL)
def _(ns):
    got = _sequential(ns, False)
    expect_true(got["layers"] is not None, "seq_net should be an `nn.Sequential`", expected="nn.Sequential",
                got="something else")
    expect_equal(got["layers"], [("Linear", 784, 30), ("ReLU", None, None), ("Linear", 30, 1)], "the layers of seq_net")


@A.check("sequential_net", "learn_net trains seq_net on dls with SGD, mnist_loss and batch_accuracy, 5 epochs at 0.1",
         given=_GIVEN_SEQUENTIAL)
def _(ns):
    got = _sequential(ns, False)
    expect_equal(got["learner"], (True, True, True, [True], True),
                 "(model is seq_net, opt_func is SGD, loss_func is mnist_loss, metrics are [batch_accuracy], "
                 "the DataLoaders are dls)")
    expect_equal(got["epochs"], (5, 5), "epochs fitted (learn_net.fit(5, ...))")
    expect_true(got["lr"] is not None and math.isclose(got["lr"], 0.1), "learn_net should be fitted at lr 0.1",
                expected=0.1, got=got["lr"])


@A.check("sequential_net", "the trained net classifies the validation images", hidden=True, given=_GIVEN_SEQUENTIAL)
def _(ns):
    got = _sequential(ns, True)
    acc = _accuracy_of_preds(got.get("preds"))
    expect_true(acc >= NET_MIN_ACC, f"seq_net, trained by your cell, is right on {acc:.1%} of the validation "
                f"images; 5 epochs should give more than {NET_MIN_ACC:.0%}", expected=f">= {NET_MIN_ACC}",
                got=round(acc, 4))


# ----------------------------------------------------------------------------------------------------------
A.manual("why_not_accuracy", points=1)
A.manual("why_relu", points=1)
