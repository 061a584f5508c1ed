"""Lab `ch04_sgd`: SGD from scratch, from `x**2` to fastai's `Learner` and a two-layer net.

Checks call the student's functions in their kernel on inputs drawn while grading (random tensors, the
grader's own tiny models and batches, random validation images) and compare with `reference.sgd`,
`reference.linear` and `reference.simple_net`. Globals the chapter's functions read (`time`, `speed`, `lr`,
`weights`, `bias`, `dl`, `valid_dl`, `opt`, `w1`..`b2`) are rebound to grader values for the duration of
a probe (the probe restores them afterwards).

One mistake should cost one item. So a function is judged on its own job: `apply_step`, `calc_grad` and
`train_epoch` pass when they match the reference *or* the same computation done with the student's own
`f`/`mse`/`mnist_loss` (a wrong loss costs `mnist_loss`, not the loop); `train_model` is driven with a
grader optimizer. Training outcomes (`train_linear`, `train_model`, `learner`, `sequential_net`) are
checked on the models the notebook trained, so a loss that cannot train (accuracy as the loss) also costs
those, and a loop that never zeroes gradients costs the model it trained.

Names fixed by the notebook: x2_grad, f, mse, apply_step(params, prn=True), train_x, train_y, dset, valid_x,
valid_y, valid_dset, dl, valid_dl, init_params, weights, bias, linear1, mnist_loss, batch_accuracy,
calc_grad, train_epoch(model, lr, params), validate_epoch(model), BasicOptim, linear_model, opt,
train_epoch_opt(model), train_model(model, epochs), dls, learn, simple_net, w1, b1, w2, b2, seq_net, learn_net.
"""
from __future__ import annotations

import secrets
from functools import lru_cache

import torch

from .expect import expect_close, expect_equal, expect_true
from .spec import Assignment

ASSIGNMENT = Assignment("ch04_sgd", title="Stochastic gradient descent from scratch (chapter 4)")
A = ASSIGNMENT

N_TRAIN, N_THREES = 12396, 6131
N_VALID, N_VALID_THREES = 2038, 1010
LINEAR_MIN_ACC = 0.93   # 20 epochs of the linear model: ~0.968 (book), BasicOptim ~0.978, Learner 10 epochs ~0.968
NET_MIN_ACC = 0.90      # seq_net after 5 epochs at lr 0.1: ~0.957


def _gen() -> torch.Generator:
    "A generator seeded afresh at grading time: nobody knows the inputs in advance."
    return torch.Generator().manual_seed(secrets.randbits(62))


def _lin():
    from reference import linear
    return linear


def _sgd():
    from reference import sgd
    return sgd


@lru_cache(maxsize=1)
def _xy():
    return _lin().load_xy("cpu")


def _close(a, b, atol=1e-5, rtol=1e-4) -> bool:
    try:
        a, b = torch.as_tensor(a).double(), torch.as_tensor(b).double()
        return a.numel() == b.numel() and torch.allclose(a.reshape(b.shape), b, atol=atol, rtol=rtol)
    except (TypeError, RuntimeError, ValueError):
        return False


def _scalar_close(got, want, what: str, atol=1e-5) -> None:
    "`got` is a single number close to `want` (a 0-d tensor may arrive as shape (1,) from the kernel)."
    n = got.numel() if isinstance(got, torch.Tensor) else 1
    expect_true(n == 1, f"{what}: expected a single number, got {n} numbers", expected="one number",
                got=f"{n} numbers")
    expect_close(got, want, what, atol=atol, check_shape=False)


def _match_either(got, ref, own, what: str, atol=1e-5) -> None:
    "`got` matches the reference's value, or the same computation done with the student's own pieces."
    if _close(got, ref, atol) or (own is not None and _close(got, own, atol)):
        return
    expect_close(got, ref, what, atol=atol, check_shape=False)  # raises with the details


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


def _valid_accuracy(w: torch.Tensor, b: torch.Tensor) -> float:
    "Accuracy of `x@w + b > 0` on all of MNIST_SAMPLE's validation images (3 = 1)."
    xy = _xy()
    w, b = torch.as_tensor(w).float().reshape(784, 1), torch.as_tensor(b).float().reshape(-1)
    preds = xy["valid_x"] @ w + b
    return ((preds > 0).long() == xy["valid_y"]).float().mean().item()


def _accuracy_of_preds(preds) -> float:
    xy = _xy()
    preds = torch.as_tensor(preds).float().reshape(-1, 1)
    expect_equal(tuple(preds.shape), (N_VALID, 1), "predictions for the validation images")
    return ((preds > 0).long() == xy["valid_y"]).float().mean().item()


# ----------------------------------------------------------------------------------------------------------
# 1. x2_grad
@A.check("x2_grad", "gradient of x**2 at a random number")
def _(ns):
    x = torch.randn((), generator=_gen()) * 5
    _scalar_close(ns.call("x2_grad", x), 2 * x, f"x2_grad(tensor({x.item():.4f}))")


@A.check("x2_grad", "gradient of (x**2).sum() for a random vector, by autograd", hidden=True)
def _(ns):
    g = _gen()
    x = torch.randn(int(torch.randint(3, 9, (1,), generator=g)), generator=g) * 5
    got, after = ns.run("result = (x2_grad(_x), _x.detach())", _x=x)
    expect_close(got, _sgd().gradient_of_f(x.tolist()), "x2_grad(vector)")
    expect_close(after, x, "the tensor passed to x2_grad (it should not change)")
    src = ns.source("x2_grad")
    expect_true("backward" in src or "autograd" in src,
                "x2_grad should let PyTorch compute the gradient (call `backward()`), not use the formula")


# ----------------------------------------------------------------------------------------------------------
# 2. the roller coaster: f, mse, apply_step
@A.check("f", "the quadratic at random times and parameters")
def _(ns):
    g = _gen()
    t, params = torch.rand(20, generator=g) * 20, torch.randn(3, generator=g)
    expect_close(ns.call("f", t, params), _sgd().f(t, params), "f(t, params)", atol=1e-4)


@A.check("mse", "mean squared error on random predictions and targets")
def _(ns):
    g = _gen()
    p, t = torch.randn(20, generator=g) * 10, torch.randn(20, generator=g) * 10
    _scalar_close(ns.call("mse", p, t), _sgd().mse(p, t), "mse(preds, targets)", atol=1e-3)


_STEP = """
set_global("time", _time); set_global("speed", _speed); set_global("lr", _lr)
_p = _p0.clone().requires_grad_()
_out = []
for _i in range(_n):
    _preds = apply_step(_p, prn=False)
    _out.append(_preds.detach().clone() if isinstance(_preds, torch.Tensor) else _preds)
result = {"params": _p.detach().clone(), "grad": None if _p.grad is None else _p.grad.clone(), "preds": _out}
try:  # the same steps with the student's own f and mse
    _q = _p0.clone()
    for _i in range(_n):
        _q.requires_grad_()
        _g, = torch.autograd.grad(mse(f(time, _q), speed), _q)
        _q = (_q - lr * _g).detach()
    result["own"] = _q
except Exception:
    result["own"] = None
"""


def _speed_problem(g):
    time = torch.arange(0, 20).float()
    speed = torch.randn(20, generator=g) * 3 + 0.75 * (time - 9.5) ** 2 + 1
    return time, speed


def _ref_steps(p0, time, speed, lr, n):
    p = p0.clone().requires_grad_()
    preds = []
    for _ in range(n):
        preds.append(_sgd().f(time, p.detach()))
        _sgd().apply_step(p, speed, time, lr)
    return p.detach(), preds


@A.check("apply_step", "one step from grader parameters")
def _(ns):
    g = _gen()
    time, speed = _speed_problem(g)
    p0, lr = torch.randn(3, generator=g), 1e-5
    got = ns.run("import torch\n" + _STEP, _time=time, _speed=speed, _lr=lr, _p0=p0, _n=1)
    want, preds = _ref_steps(p0, time, speed, lr, 1)
    _match_either(got["params"], want, got["own"], "params after one apply_step")
    expect_true(_grad_cleared(got["grad"]), "apply_step should clear the gradient after the step "
                "(`params.grad = None` or zero it)", expected="None or zeros", got=got["grad"])
    expect_close(got["preds"][0], preds[0], "what apply_step returns (the predictions)", atol=1e-3)


@A.check("apply_step", "several steps in a row", hidden=True)
def _(ns):
    g = _gen()
    time, speed = _speed_problem(g)
    p0, lr = torch.randn(3, generator=g), 1e-5
    got = ns.run("import torch\n" + _STEP, _time=time, _speed=speed, _lr=lr, _p0=p0, _n=3)
    want, _ = _ref_steps(p0, time, speed, lr, 3)
    _match_either(got["params"], want, got["own"], "params after three apply_steps")


# ----------------------------------------------------------------------------------------------------------
# 3. datasets
@A.check("datasets", "train_x, train_y, valid_x and valid_y")
def _(ns):
    g, xy = _gen(), _xy()
    it = torch.randint(0, N_TRAIN, (8,), generator=g)
    iv = torch.randint(0, N_VALID, (8,), generator=g)
    got = ns.run("result = {n: (tuple(t.shape), t[_i] if n.endswith('x') else t, str(t.dtype))\n"
                 "          for n, t, _i in (('train_x', train_x, _it), ('train_y', train_y, None),\n"
                 "                           ('valid_x', valid_x, _iv), ('valid_y', valid_y, None))}",
                 _it=it, _iv=iv)
    for name, n, n3 in (("train", N_TRAIN, N_THREES), ("valid", N_VALID, N_VALID_THREES)):
        shape_x, rows, _ = got[f"{name}_x"]
        expect_equal(shape_x, (n, 28 * 28), f"`{name}_x.shape`")
        idx = it if name == "train" else iv
        expect_close(rows, xy[f"{name}_x"][idx], f"{name}_x[{idx.tolist()}] (3s first, then 7s, files sorted)",
                     atol=1e-5)
        shape_y, y, _ = got[f"{name}_y"]
        expect_equal(shape_y, (n, 1), f"`{name}_y.shape`")
        expect_equal(torch.as_tensor(y).long(), xy[f"{name}_y"].long(), f"`{name}_y` (1 for each 3, then 0 for each 7)")


@A.check("datasets", "dset/valid_dset pair every image with its label; dl/valid_dl give each item once")
def _(ns):
    xy = _xy()
    got = ns.run("""
result = {}
for _name, _ds, _dl in (('train', dset, dl), ('valid', valid_dset, valid_dl)):
    _n, _ys, _xs, _sizes, _pair = 0, 0, 0., [], 0.
    for _xb, _yb in _dl:
        _n += len(_xb); _ys += int(_yb.sum()); _xs += float(_xb.float().sum()); _sizes.append(len(_xb))
        _pair += float((_xb.float().sum(-1) * _yb.float().view(-1)).sum())
    result[_name] = {"len": len(_ds), "n": _n, "ys": _ys, "xs": _xs, "sizes": _sizes, "pair": _pair}
""")
    for name, n in (("train", N_TRAIN), ("valid", N_VALID)):
        x, y = xy[f"{name}_x"], xy[f"{name}_y"]
        r = got[name]
        ds, loader = ("dset", "dl") if name == "train" else ("valid_dset", "valid_dl")
        expect_equal(r["len"], n, f"len({ds})")
        expect_equal(r["n"], n, f"items in one pass over {loader}")
        expect_equal(r["ys"], int(y.sum()), f"number of 3s in one pass over {loader}")
        expect_equal(r["sizes"][0], 256, f"the first batch size of {loader}")
        expect_close(r["xs"], x.double().sum().item(), f"sum of every pixel in one pass over {loader}", rtol=1e-5)
        # the pixels of the 3s only: images still paired with their own labels
        expect_close(r["pair"], (x.double().sum(-1) * y.view(-1)).sum().item(),
                     f"sum of the pixels of the items labelled 3 in {loader}", rtol=1e-5)


# ----------------------------------------------------------------------------------------------------------
# 4. the linear model by hand
@A.check("init_params", "random parameters that require a gradient; weights and bias")
def _(ns):
    got = ns.run("""
_t = init_params((400, 7)); _u = init_params(5000, std=0.1)
result = {"t": (tuple(_t.shape), _t.requires_grad, _t.is_leaf, float(_t.mean()), float(_t.std())),
          "u": (tuple(_u.shape), _u.requires_grad, float(_u.mean()), float(_u.std())),
          "w": (tuple(weights.shape), weights.requires_grad), "b": (tuple(bias.shape), bias.requires_grad)}
""")
    shape, grad, leaf, mean, std = got["t"]
    expect_equal(shape, (400, 7), "init_params((400, 7)).shape")
    expect_true(grad and leaf, "init_params should return a tensor that requires a gradient (and is a leaf, "
                "so `.grad` gets filled in): call `requires_grad_()` on it")
    expect_true(abs(mean) < 0.1 and 0.9 < std < 1.1, f"init_params((400, 7)) should be standard normal numbers; "
                f"mean {mean:.3f}, std {std:.3f}", expected="mean 0, std 1", got=(round(mean, 3), round(std, 3)))
    shape, grad, mean, std = got["u"]
    expect_equal(shape, (5000,), "init_params(5000, std=0.1).shape")
    expect_true(abs(mean) < 0.01 and 0.09 < std < 0.11, f"init_params(5000, std=0.1) should have std 0.1; got "
                f"mean {mean:.4f}, std {std:.4f}", expected="std 0.1", got=round(std, 4))
    expect_equal(got["w"], ((28 * 28, 1), True), "(weights.shape, weights.requires_grad)")
    expect_equal(got["b"], ((1,), True), "(bias.shape, bias.requires_grad)")


@A.check("linear1", "predictions for a batch with grader weights and bias")
def _(ns):
    g = _gen()
    x, w, b = torch.rand(7, 784, generator=g), torch.randn(784, 1, generator=g), torch.randn(1, generator=g)
    got = ns.run("set_global('weights', _w); set_global('bias', _b)\nresult = linear1(_x)", _x=x, _w=w, _b=b)
    expect_close(got, _lin().linear1(x, w, b), "linear1(xb)", atol=1e-4)


@A.check("mnist_loss", "the chapter's loss on random predictions and targets")
def _(ns):
    g = _gen()
    p, t = torch.randn(32, 1, generator=g) * 3, torch.randint(0, 2, (32, 1), generator=g)
    _scalar_close(ns.call("mnist_loss", p, t), _lin().mnist_loss(p, t), "mnist_loss(predictions, targets)")


@A.check("mnist_loss", "its gradient with respect to the predictions", hidden=True)
def _(ns):
    g = _gen()
    p, t = torch.randn(40, 1, generator=g) * 2, torch.randint(0, 2, (40, 1), generator=g)
    got = ns.run("_p = _p0.clone().requires_grad_()\nmnist_loss(_p, _t).backward()\nresult = _p.grad", _p0=p, _t=t)
    q = p.clone().requires_grad_()
    _lin().mnist_loss(q, t).backward()
    expect_true(got is not None, "mnist_loss gave no gradient", expected="a gradient", got=None)
    expect_close(got, q.grad, "gradient of mnist_loss with respect to the predictions", atol=1e-6)


@A.check("batch_accuracy", "accuracy on random predictions and targets")
def _(ns):
    g = _gen()
    p, t = torch.randn(50, 1, generator=g) * 3, torch.randint(0, 2, (50, 1), generator=g)
    _scalar_close(ns.call("batch_accuracy", p, t), _lin().batch_accuracy(p, t), "batch_accuracy(preds, targets)")


# ----------------------------------------------------------------------------------------------------------
# 5. the training loop
_OWN_SGD = """
def _own_epoch(_w, _b, _batches, _lr):
    _w, _b = _w.clone().requires_grad_(), _b.clone().requires_grad_()
    for _xb, _yb in _batches:
        _gw, _gb = torch.autograd.grad(mnist_loss(_xb @ _w + _b, _yb), (_w, _b))
        with torch.no_grad():
            _w -= _lr * _gw; _b -= _lr * _gb
    return _w.detach(), _b.detach()
"""


def _ref_epochs(w0, b0, batches, lr, epochs=1):
    w, b = w0.clone().requires_grad_(), b0.clone().requires_grad_()
    for _ in range(epochs):
        _lin().train_epoch(lambda xb: xb @ w + b, lr, (w, b), batches)
    return w.detach(), b.detach()


@A.check("calc_grad", "gradients for a grader batch and model")
def _(ns):
    g = _gen()
    (xb, yb), = _batches(g, (12,), 6)
    w0, b0 = torch.randn(6, 1, generator=g), torch.randn(1, generator=g)
    got = ns.run("""import torch
_w, _b = _w0.clone().requires_grad_(), _b0.clone().requires_grad_()
calc_grad(_xb, _yb, lambda xb: xb @ _w + _b)
result = {"w": _w.grad, "b": _b.grad}
try:
    _v, _c = _w0.clone().requires_grad_(), _b0.clone().requires_grad_()
    result["own"] = torch.autograd.grad(mnist_loss(_xb @ _v + _c, _yb), (_v, _c))
except Exception:
    result["own"] = None
""", _xb=xb, _yb=yb, _w0=w0, _b0=b0)
    expect_true(got["w"] is not None and got["b"] is not None,
                "after calc_grad the parameters have no `.grad`: did it call `backward()`?")
    w, b = w0.clone().requires_grad_(), b0.clone().requires_grad_()
    _lin().calc_grad(xb, yb, lambda x: x @ w + b)
    own = got["own"]
    _match_either(torch.cat([got["w"].flatten(), got["b"].flatten()]), torch.cat([w.grad.flatten(), b.grad.flatten()]),
                  None if own is None else torch.cat([own[0].flatten(), own[1].flatten()]), "gradients from calc_grad",
                  atol=1e-6)


def _train_epoch_check(ns, sizes, epochs):
    g = _gen()
    batches = _batches(g, sizes, 5)
    w0, b0, lr = torch.randn(5, 1, generator=g), torch.randn(1, generator=g), 0.7
    got = ns.run("import torch\n" + _OWN_SGD + """
set_global("dl", _dl)
_w, _b = _w0.clone().requires_grad_(), _b0.clone().requires_grad_()
for _e in range(_epochs):
    train_epoch(lambda xb: xb @ _w + _b, _lr, (_w, _b))
result = {"w": _w.detach(), "b": _b.detach(), "gw": _w.grad, "gb": _b.grad}
try:
    _v, _c = _w0, _b0
    for _e in range(_epochs):
        _v, _c = _own_epoch(_v, _c, _dl, _lr)
    result["own"] = torch.cat([_v.flatten(), _c.flatten()])
except Exception:
    result["own"] = None
""", _dl=batches, _w0=w0, _b0=b0, _lr=lr, _epochs=epochs)
    w, b = _ref_epochs(w0, b0, batches, lr, epochs)
    what = f"weights and bias after {epochs} epoch(s) over {len(sizes)} grader batches (lr {lr})"
    _match_either(torch.cat([got["w"].flatten(), got["b"].flatten()]), torch.cat([w.flatten(), b.flatten()]),
                  got["own"], what, atol=1e-5)
    return got


@A.check("train_epoch", "one epoch over grader batches is one SGD step per batch")
def _(ns):
    _train_epoch_check(ns, (8, 8, 5), 1)


@A.check("train_epoch", "two epochs; gradients are zeroed after each step", hidden=True)
def _(ns):
    got = _train_epoch_check(ns, (6, 6, 6, 3), 2)
    expect_true(_grad_cleared(got["gw"]) and _grad_cleared(got["gb"]),
                "after train_epoch the gradients should be zero (reset after each step)")


@A.check("validate_epoch", "mean batch accuracy over grader batches, rounded to 4 places")
def _(ns):
    g = _gen()
    batches = _batches(g, (10, 10, 7), 4)
    w, b = torch.randn(4, 1, generator=g), torch.randn(1, generator=g)
    got = ns.run("set_global('valid_dl', _vdl)\nresult = validate_epoch(lambda xb: xb @ _w + _b)", _vdl=batches, _w=w, _b=b)
    want = _lin().validate_epoch(lambda x: x @ w + b, batches)
    expect_true(isinstance(got, float), f"validate_epoch should return a Python float (use `.item()` and "
                f"`round`), not {type(got).__name__}", expected="float", got=type(got).__name__)
    expect_close(got, want, "validate_epoch(model)", atol=1e-6)


@A.check("train_linear", "the trained weights and bias classify the validation images")
def _(ns):
    w, b = ns.run("result = (weights.detach(), bias.detach())")
    acc = _valid_accuracy(w, b)
    expect_true(acc >= LINEAR_MIN_ACC, f"linear1 with your trained weights is right on {acc:.1%} of the validation "
                f"images; 20 epochs should give more than {LINEAR_MIN_ACC:.0%}",
                expected=f">= {LINEAR_MIN_ACC}", got=round(acc, 4))


@A.check("train_linear", "training from a fresh start on a subset lowers the loss", hidden=True)
def _(ns):
    g, xy = _gen(), _xy()
    idx = torch.randperm(N_TRAIN, generator=g)[:1024]
    x, y = xy["train_x"][idx], xy["train_y"][idx]
    batches = [(x[i:i + 128], y[i:i + 128]) for i in range(0, 1024, 128)]
    w0, b0 = torch.randn(784, 1, generator=g) * 0.1, torch.randn(1, generator=g) * 0.1
    w, b = ns.run("""set_global("dl", _dl)
_w, _b = _w0.clone().requires_grad_(), _b0.clone().requires_grad_()
for _e in range(5):
    train_epoch(lambda xb: xb @ _w + _b, 1., (_w, _b))
result = (_w.detach(), _b.detach())
""", _dl=batches, _w0=w0, _b0=b0)
    loss = _lin().mnist_loss
    before, after = loss(x @ w0 + b0, y).item(), loss(x @ w.reshape(784, 1) + b.reshape(-1), y).item()
    acc = _valid_accuracy(w, b)
    expect_true(after < 0.5 * before and acc >= 0.9,
                f"5 epochs of train_epoch on 1024 training images took the loss from {before:.3f} to {after:.3f} "
                f"and the validation accuracy to {acc:.1%}; expected the loss to fall by more than half and over 90%",
                expected="loss halved, accuracy >= 0.9", got=(round(after, 4), round(acc, 4)))


# ----------------------------------------------------------------------------------------------------------
# 6. BasicOptim and train_model
_OPT = """
_ps = [_p.clone().requires_grad_() for _p in _p0s]
for _p, _g in zip(_ps, _gs):
    _p.grad = _g.clone()
_o = BasicOptim((_p for _p in _ps), _lr)
_o.step()
result = {"after_step": [_p.detach().clone() for _p in _ps]}
_o.zero_grad()
result["grads"] = [_p.grad for _p in _ps]
"""


def _opt_inputs(g):
    p0s = [torch.randn(4, 3, generator=g), torch.randn(3, generator=g)]
    gs = [torch.randn(4, 3, generator=g), torch.randn(3, generator=g)]
    return p0s, gs, 0.3


@A.check("basic_optim", "step moves each parameter by lr times its gradient")
def _(ns):
    p0s, gs, lr = _opt_inputs(_gen())
    got = ns.run(_OPT, _p0s=p0s, _gs=gs, _lr=lr)
    for i, (p, g, q) in enumerate(zip(p0s, gs, got["after_step"])):
        expect_close(q, p - lr * g, f"parameter {i} after step()", atol=1e-6)


@A.check("basic_optim", "zero_grad clears every gradient")
def _(ns):
    p0s, gs, lr = _opt_inputs(_gen())
    got = ns.run(_OPT, _p0s=p0s, _gs=gs, _lr=lr)
    for i, gr in enumerate(got["grads"]):
        expect_true(_grad_cleared(gr), f"after zero_grad(), parameter {i} still has a gradient",
                    expected="None or zeros", got=gr)


@A.check("basic_optim", "step and zero_grad over several batches are plain SGD", hidden=True)
def _(ns):
    g = _gen()
    batches = _batches(g, (8, 8, 8, 4), 5)
    w0, b0, lr = torch.randn(5, 1, generator=g), torch.randn(1, generator=g), 0.5
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


@A.check("train_model", "linear_model, trained with BasicOptim, classifies the validation images")
def _(ns):
    w, b = ns.run("result = (linear_model.weight.detach().cpu(), linear_model.bias.detach().cpu())")
    acc = _valid_accuracy(torch.as_tensor(w).reshape(1, 784).t(), b)
    expect_true(acc >= LINEAR_MIN_ACC, f"linear_model is right on {acc:.1%} of the validation images; 20 epochs "
                f"should give more than {LINEAR_MIN_ACC:.0%}", expected=f">= {LINEAR_MIN_ACC}", got=round(acc, 4))


@A.check("train_model", "train_model runs train_epoch_opt (calc_grad, opt.step, opt.zero_grad) per epoch",
         hidden=True)
def _(ns):
    g = _gen()
    batches = _batches(g, (8, 8, 4), 784)
    vbatches = _batches(g, (6,), 784)
    got = ns.run("""import torch
class _SGD:  # the grader's optimizer, so that only the loop is judged
    def __init__(self, params, lr): self.params, self.lr = list(params), lr
    def step(self, *a, **k):
        for p in self.params: p.data -= p.grad.data * self.lr
    def zero_grad(self, *a, **k):
        for p in self.params: p.grad = None
def _fresh():
    torch.manual_seed(_seed)
    return torch.nn.Linear(28*28, 1)
set_global("dl", _dl); set_global("valid_dl", _vdl)
_m = _fresh(); set_global("opt", _SGD(_m.parameters(), 0.5))
train_model(_m, 2)
_got = torch.cat([_m.weight.detach().flatten(), _m.bias.detach().flatten()])
_m2 = _fresh(); _o2 = _SGD(_m2.parameters(), 0.5)
for _e in range(2):
    for _xb, _yb in _dl:
        calc_grad(_xb, _yb, _m2); _o2.step(); _o2.zero_grad()
result = (_got, torch.cat([_m2.weight.detach().flatten(), _m2.bias.detach().flatten()]))
""", _dl=batches, _vdl=vbatches, _seed=int(torch.randint(0, 2**31, (1,), generator=g)))
    expect_close(got[0], got[1], "linear model after train_model(model, 2) with the grader's optimizer and batches",
                 atol=1e-5)


# ----------------------------------------------------------------------------------------------------------
# 7. fastai's Learner
@A.check("learner", "learn: a linear model, SGD, mnist_loss and batch_accuracy")
def _(ns):
    got = ns.run("""result = {"opt": learn.opt_func is SGD, "loss": learn.loss_func is mnist_loss,
          "metric": [getattr(_m, 'func', _m) is batch_accuracy for _m in learn.metrics],
          "shapes": [tuple(_p.shape) for _p in learn.model.parameters()],
          "dls": (learn.dls.train is dl, learn.dls.valid is valid_dl)}""")
    expect_true(got["opt"], "learn should use fastai's `SGD` as its optimizer (opt_func=SGD)")
    expect_true(got["loss"], "learn should use your `mnist_loss` as its loss (loss_func=mnist_loss)")
    expect_true(got["metric"] == [True], "learn's only metric should be `batch_accuracy`",
                expected=[True], got=got["metric"])
    expect_equal(sorted(got["shapes"]), sorted([(1, 784), (1,)]), "shapes of learn.model's parameters "
                 "(a linear layer from 28*28 to 1)")
    expect_equal(got["dls"], (True, True), "(learn.dls.train is dl, learn.dls.valid is valid_dl)")


@A.check("learner", "the fitted learner classifies the validation images")
def _(ns):
    preds = ns.run("import torch\n_p = next(learn.model.parameters())\n"
                   "with torch.no_grad(): result = learn.model(_x.to(_p.device)).cpu()", _x=_xy()["valid_x"])
    acc = _accuracy_of_preds(preds)
    expect_true(acc >= LINEAR_MIN_ACC, f"learn.model is right on {acc:.1%} of the validation images; 10 epochs "
                f"should give more than {LINEAR_MIN_ACC:.0%}", expected=f">= {LINEAR_MIN_ACC}", got=round(acc, 4))


# ----------------------------------------------------------------------------------------------------------
# 8. simple_net
@A.check("simple_net", "the two-layer net on grader weights")
def _(ns):
    from reference.simple_net import simple_net
    g = _gen()
    h = int(torch.randint(5, 12, (1,), generator=g))
    x = torch.rand(6, 784, generator=g)
    w1, b1 = torch.randn(784, h, generator=g) * 0.1, torch.randn(h, generator=g)
    w2, b2 = torch.randn(h, 1, generator=g), torch.randn(1, generator=g)
    got = ns.run("for _n, _v in zip(('w1', 'b1', 'w2', 'b2'), (_w1, _b1, _w2, _b2)): set_global(_n, _v)\n"
                 "result = simple_net(_x)", _x=x, _w1=w1, _b1=b1, _w2=w2,
                 _b2=b2)
    expect_close(got, simple_net(x, w1, b1, w2, b2), "simple_net(xb)", atol=1e-4)


@A.check("simple_net", "w1, b1, w2, b2 have the chapter's shapes and require gradients", hidden=True)
def _(ns):
    got = ns.run("result = [(tuple(_t.shape), _t.requires_grad) for _t in (w1, b1, w2, b2)]")
    expect_equal(got, [((784, 30), True), ((30,), True), ((30, 1), True), ((1,), True)],
                 "(shape, requires_grad) of w1, b1, w2, b2")


@A.check("sequential_net", "seq_net is Linear(784, 30), ReLU, Linear(30, 1)")
def _(ns):
    got = ns.run("result = [(type(_m).__name__, getattr(_m, 'in_features', None), getattr(_m, 'out_features', None))\n"
                 "          for _m in seq_net] if isinstance(seq_net, torch.nn.Sequential) else None")
    expect_true(got is not None, "seq_net should be an `nn.Sequential`")
    expect_equal(got, [("Linear", 784, 30), ("ReLU", None, None), ("Linear", 30, 1)], "the layers of seq_net")


@A.check("sequential_net", "learn_net trains seq_net with SGD, mnist_loss and batch_accuracy")
def _(ns):
    got = ns.run("result = (learn_net.model is seq_net, learn_net.opt_func is SGD, learn_net.loss_func is mnist_loss,"
                 " [getattr(_m, 'func', _m) is batch_accuracy for _m in learn_net.metrics])")
    expect_equal(got, (True, True, True, [True]),
                 "(model is seq_net, opt_func is SGD, loss_func is mnist_loss, metrics are [batch_accuracy])")


@A.check("sequential_net", "the trained net classifies the validation images", hidden=True)
def _(ns):
    preds = ns.run("import torch\n_p = next(seq_net.parameters())\n"
                   "with torch.no_grad(): result = seq_net(_x.to(_p.device)).cpu()", _x=_xy()["valid_x"])
    acc = _accuracy_of_preds(preds)
    expect_true(acc >= NET_MIN_ACC, f"seq_net is right on {acc:.1%} of the validation images; 5 epochs should "
                f"give more than {NET_MIN_ACC:.0%}", expected=f">= {NET_MIN_ACC}", got=round(acc, 4))


# ----------------------------------------------------------------------------------------------------------
A.manual("why_not_accuracy", points=1)
A.manual("why_relu", points=1)
