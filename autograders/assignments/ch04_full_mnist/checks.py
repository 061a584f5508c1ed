"""Lab `ch04_full_mnist` (Further Research 2): ten digits by pixel similarity, a softmax linear model with a
hand-written cross-entropy, and an MLP.

Inputs are chosen here, from the check's own generator (`ns.rng`): images from MNIST's test set past the
notebook's validation files, random activations for the loss, and training subsets for `train_linear`, whose
result is compared with a reference loop run here on the same data. Each item is graded on its own: the
nearest-mean check gets the reference's mean images, and `train_linear` and `mlp` train with the reference
cross-entropy (`kernel.py`) in place of the student's, so a wrong `cross_entropy` costs only its own item.

Interface fixed by the notebook:
    mean_digits(x [N,28,28], y [N]) -> [10,28,28];   means = mean_digits(train_imgs, train_lbls)
    predict_digit(x [N,28,28], means) -> int64 [N] (nearest mean by the chapter's L1 mnist_distance),
        broadcasting rather than a Python loop over the images
    softmax(x), cross_entropy(preds [N,10], targets [N]) written by hand, stable for large activations
    train_linear(x [N,784], y [N], epochs, lr, bs=256) -> (weights [784,10], bias [10], losses)
        weights = init_params((784,10), std=0.01) then bias = init_params(10, std=0.01); shuffled batches
    mlp: Linear, ReLU, Linear (ten outputs), trained: [N,784] -> [N,10] activations
"""
from __future__ import annotations

import ast
from functools import lru_cache

import torch
import torch.nn.functional as F

from autograders.checks.expect import expect_close, expect_true, summarize
from autograders.checks.spec import Assignment, CheckFailed

ASSIGNMENT = Assignment("ch04_full_mnist", title="All ten digits (chapter 4, Further Research 2)",
                        data=("mnist_png",))    # untar_data(URLs.MNIST)
A = ASSIGNMENT
A.manual("compare", points=2)

N_TRAIN_PER_DIGIT, N_VALID_PER_DIGIT = 1000, 200   # what the notebook's locked cell loads


# ----------------------------------------------------------------------------------------------------------
# Data chosen here

@lru_cache(maxsize=None)
def _split(split: str):
    from reference.full_mnist import load_full
    return load_full(split)


@lru_cache(maxsize=None)
def _notebook_indices(split: str, n: int) -> tuple[int, ...]:
    "The MNIST indices the notebook's `load_digits` reads: files `<index>.png` sorted by name, first `n` per digit."
    _, y = _split(split)
    out = []
    for d in range(10):
        idxs = torch.nonzero(y == d).flatten().tolist()
        out += sorted(idxs, key=lambda i: f"{i}.png")[:n]
    return tuple(out)


@lru_cache(maxsize=None)
def _held_out_pool() -> torch.Tensor:
    _, y = _split("test")
    used = set(_notebook_indices("test", N_VALID_PER_DIGIT))
    return torch.tensor([i for i in range(len(y)) if i not in used])


def held_out(n: int, g: torch.Generator):
    "`n` images [n, 28, 28] of MNIST's test set, past the notebook's validation files, drawn with `g`."
    x, y = _split("test")
    pool = _held_out_pool()
    idx = pool[torch.randperm(len(pool), generator=g)[:n]]
    return x[idx], y[idx]


def train_subset(n: int, g: torch.Generator):
    "`n` random training images (flattened, [n, 784]) with their labels, drawn with `g`."
    x, y = _split("train")
    idx = torch.randperm(len(y), generator=g)[:n]
    return x[idx].view(-1, 28 * 28), y[idx]


# A cell trained again is trained on a fixed seed (the notebook's own): its training is the same in every check and
# every grading, so a grading session trains it once (`kernel_common.rerun` keeps the outcome).
RERUN_SEED = 42


def _seed(g: torch.Generator) -> int:
    return int(torch.randint(0, 2 ** 31 - 1, (1,), generator=g))


def _tensor(value, what: str, shape: tuple | None = None) -> torch.Tensor:
    "The student's value as a tensor of `shape` (a CheckFailed saying what came back otherwise)."
    if not isinstance(value, torch.Tensor):
        raise CheckFailed(f"{what} should be a tensor, not {type(value).__name__}", got=summarize(value))
    if shape is not None and tuple(value.shape) != tuple(shape):
        raise CheckFailed(f"{what} should have shape {tuple(shape)}", expected=f"shape {tuple(shape)}",
                          got=f"shape {tuple(value.shape)}")
    return value


def _code_of(src: str) -> ast.Module | None:
    "The answer cell as a syntax tree (IPython's `%` and `!` lines left out); None if it does not parse."
    lines = [l for l in src.splitlines() if not l.lstrip().startswith(("%", "!"))]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


# ----------------------------------------------------------------------------------------------------------
# mean_digits

@A.check("mean_digits", "matches the reference on 3,000 training images in random order", points=2)
def _(ns):
    from reference.full_mnist import mean_digits
    x, y = train_subset(3000, ns.rng)
    x = x.view(-1, 28, 28)
    got = _tensor(ns.call("mean_digits", x, y), "mean_digits(x, y)", (10, 28, 28))
    expect_close(got, mean_digits(x, y), "mean_digits(x, y) (row d: the mean of the images labelled d)", atol=1e-5)


@A.check("mean_digits", "`means` is the mean of the notebook's training images", points=1, hidden=True)
def _(ns):
    from reference.full_mnist import mean_digits
    x, y = _split("train")
    idx = torch.tensor(_notebook_indices("train", N_TRAIN_PER_DIGIT))
    got = _tensor(ns.get("means"), "`means`", (10, 28, 28))
    expect_close(got, mean_digits(x[idx], y[idx]), "means = mean_digits(train_imgs, train_lbls)", atol=1e-5)


# ----------------------------------------------------------------------------------------------------------
# predict_digit (given the reference's mean images, so a wrong mean_digits costs nothing here)

def _reference_means(g: torch.Generator) -> torch.Tensor:
    from reference.full_mnist import mean_digits
    x, y = train_subset(5000, g)
    return mean_digits(x.view(-1, 28, 28), y)


def _predict_case(ns, n: int) -> None:
    from reference.full_mnist import nearest_mean
    means = _reference_means(ns.rng)
    x, _ = held_out(n, ns.rng)
    got = ns.call("predict_digit", x, means)
    _tensor(got, f"predict_digit(x, means) for {n} images", (n,))
    want = nearest_mean(x, means)
    wrong = int((got.double() != want.double()).sum())
    # a near tie can go either way with another order of the sums: allow 1 in 250
    expect_true(wrong <= max(1, n // 250),
                f"predict_digit disagrees with the nearest mean (by mnist_distance, the mean absolute difference) on "
                f"{wrong} of {n} images", expected=want[:8].tolist(), got=got[:8].tolist())
    if got.dtype != torch.int64:
        raise CheckFailed(f"predict_digit should return an int64 tensor (argmin gives one), not "
                          f"{str(got.dtype).replace('torch.', '')}; the digits themselves are right",
                          expected="dtype int64", got=str(got.dtype).replace("torch.", ""), credit=0.5)


@A.check("predict_digit", "gives the nearest mean by mnist_distance (reference means, 500 test images)", points=2)
def _(ns):
    _predict_case(ns, 500)


def _names_in(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _loop_over_images(src: str, func: str = "predict_digit") -> str | None:
    """The first Python loop in `func` (defined in `src`) that runs over its first argument (the images): a `for`,
    a comprehension, `while` or `map` over anything computed from it. None if there is none; raises CheckFailed
    when `func` is not defined in the cell."""
    tree = _code_of(src)
    if tree is None:
        raise CheckFailed(f"the answer cell does not parse as Python, so `{func}` cannot be read")
    fn = None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == func:
            fn = node
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda) and any(
                isinstance(t, ast.Name) and t.id == func for t in node.targets):
            fn = node.value
    if fn is None:
        raise CheckFailed(f"`{func}` should be defined (with def) in its answer cell")
    params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
    if not params:
        raise CheckFailed(f"`{func}` should take the images as its first argument")
    tainted = {params[0]}
    body = fn.body if isinstance(fn.body, list) else [fn.body]
    nodes = [n for b in body for n in ast.walk(b)]
    for _ in range(10):   # names computed from the images (n = len(x), d = x[:, None] - means, ...)
        grew = False
        for n in nodes:
            targets, value = [], None
            if isinstance(n, ast.Assign):
                targets, value = n.targets, n.value
            elif isinstance(n, (ast.AugAssign, ast.AnnAssign)) and n.value is not None:
                targets, value = [n.target], n.value
            elif isinstance(n, ast.NamedExpr):
                targets, value = [n.target], n.value
            if value is not None and _names_in(value) & tainted:
                new = {t for tg in targets for t in _names_in(tg)} - tainted
                if new:
                    tainted |= new
                    grew = True
        if not grew:
            break
    for n in nodes:
        if isinstance(n, (ast.For, ast.AsyncFor, ast.comprehension)) and _names_in(n.iter) & tainted:
            return ast.unparse(n.iter)
        if isinstance(n, ast.While) and _names_in(n.test) & tainted:
            return ast.unparse(n.test)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in ("map", "filter") and any(
                _names_in(a) & tainted for a in n.args):
            return ast.unparse(n)
    return None


@A.check("predict_digit", "broadcasts over the images (no Python loop over them)", points=1, hidden=True)
def _(ns):
    loop = _loop_over_images(ns.source("predict_digit"))
    expect_true(loop is None, f"predict_digit loops over the images in Python (over `{loop}`); compute every "
                              "distance at once by broadcasting: x[:, None] has shape [N, 1, 28, 28]")
    _predict_case(ns, 100)


# ----------------------------------------------------------------------------------------------------------
# softmax and cross_entropy

def _logits(g: torch.Generator, n: int = 64, scale: float = 3.0):
    return torch.randn(n, 10, generator=g) * scale, torch.randint(0, 10, (n,), generator=g)


def _single_number(value, what: str) -> torch.Tensor:
    "A loss as a 1-element tensor (a Python float is a single number too)."
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return torch.tensor(float(value))
    got = _tensor(value, what)
    expect_true(got.numel() == 1, f"{what} should be a single number (the mean over the batch), not a tensor of "
                                  f"shape {tuple(got.shape)}", expected="a single number",
                got=f"shape {tuple(got.shape)}")
    return got.reshape(())


@A.check("cross_entropy", "softmax matches F.softmax on random activations", points=1)
def _(ns):
    x, _ = _logits(ns.rng)
    got = _tensor(ns.call("softmax", x), "softmax(x)", tuple(x.shape))
    expect_close(got, F.softmax(x, dim=-1), "softmax(x) (along the last axis)", atol=1e-5)


@A.check("cross_entropy", "cross_entropy matches F.cross_entropy on random activations", points=2)
def _(ns):
    x, t = _logits(ns.rng)
    got = _single_number(ns.call("cross_entropy", x, t), "cross_entropy(preds, targets)")
    expect_close(got, F.cross_entropy(x, t), "cross_entropy(preds, targets) (the mean over the batch)", atol=1e-5)


@A.check("cross_entropy", "stays finite and right for activations around 1000", points=1, hidden=True)
def _(ns):
    # what the prompt names: activations around 1000, where exp overflows (their spread stays moderate, so that
    # the prompt's recipe, probabilities then their log, is exact enough too)
    x, t = _logits(ns.rng, 32, 5.0)
    x = x + 1000
    got = _tensor(ns.call("softmax", x), "softmax(x) for activations around 1000", tuple(x.shape))
    expect_close(got, F.softmax(x, dim=-1), "softmax(x) for activations around 1000 (take each row's maximum "
                                            "out first)", atol=1e-5)
    loss = _single_number(ns.call("cross_entropy", x, t), "cross_entropy for activations around 1000")
    expect_close(loss, F.cross_entropy(x, t), "cross_entropy for activations around 1000", atol=1e-4, rtol=1e-4)


# PyTorch's own: any attribute of these names (F.softmax, torch.log_softmax, x.softmax(...), nn.CrossEntropyLoss,
# F.nll_loss, ...), an import of them, or fastai's flattened losses by name
FORBIDDEN_ATTRS = {"softmax", "log_softmax", "cross_entropy", "nll_loss", "CrossEntropyLoss", "NLLLoss", "Softmax",
                   "LogSoftmax", "CrossEntropyLossFlat"}
FORBIDDEN_NAMES = {"CrossEntropyLoss", "NLLLoss", "CrossEntropyLossFlat", "nll_loss", "LogSoftmax"}


def _library_softmax(src: str) -> str | None:
    "The first use of PyTorch's (or fastai's) softmax, log-softmax, NLL or cross-entropy in `src`, if any."
    tree = _code_of(src)
    if tree is None:
        raise CheckFailed("the answer cell does not parse as Python")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRS:
            return ast.unparse(node)
        if isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            return node.id
        if isinstance(node, ast.ImportFrom) and any(a.name in FORBIDDEN_ATTRS for a in node.names):
            return ast.unparse(node)
    return None


@A.check("cross_entropy", "written by hand (no PyTorch softmax, log-softmax, NLL or cross-entropy)", points=0.5,
         hidden=True)
def _(ns):
    used = _library_softmax(ns.source("cross_entropy"))
    expect_true(used is None, f"the answer uses PyTorch's own function (`{used}`); write softmax and cross_entropy "
                              "yourself")
    x, t = _logits(ns.rng, 16)       # and they work (no points for a stub)
    expect_close(_tensor(ns.call("softmax", x), "softmax(x)", tuple(x.shape)), F.softmax(x, dim=-1), "softmax(x)",
                 atol=1e-5)
    expect_close(_single_number(ns.call("cross_entropy", x, t), "cross_entropy(preds, targets)"), F.cross_entropy(x, t),
                 "cross_entropy(preds, targets)", atol=1e-5)


@A.check("cross_entropy", "gradient matches F.cross_entropy's", points=0.5, hidden=True)
def _(ns):
    x, t = _logits(ns.rng)
    body = ("_x = _x0.clone().requires_grad_()\n_loss = cross_entropy(_x, _t)\n"
            "result = 'no-backward' if not hasattr(_loss, 'backward') else None\n"
            "if result is None:\n    _loss.backward()\n    result = _x.grad\n")
    got = ns.run(body, _x0=x, _t=t)
    expect_true(isinstance(got, torch.Tensor), "cross_entropy should return a tensor that backward() works on "
                                              "(not a Python number)", got=summarize(got))
    xr = x.clone().requires_grad_()
    F.cross_entropy(xr, t).backward()
    expect_close(got, xr.grad, "the gradient of cross_entropy", atol=1e-5)


# ----------------------------------------------------------------------------------------------------------
# train_linear (trained with the reference cross_entropy, so a wrong cross_entropy costs nothing here)

def _init(seed: int):
    "What `init_params` draws right after torch.manual_seed(seed): the weights, then the bias."
    g = torch.Generator().manual_seed(seed)
    return torch.randn(28 * 28, 10, generator=g) * 0.01, torch.randn(10, generator=g) * 0.01


def reference_train_linear(x, y, epochs: int, lr: float, bs: int, weights, bias, g: torch.Generator | None):
    "The notebook's loop with the reference cross-entropy from (weights, bias): shuffled batches (`g`), plain SGD."
    from reference.full_mnist import cross_entropy
    weights, bias = weights.clone().requires_grad_(), bias.clone().requires_grad_()
    losses = []
    for _ in range(epochs):
        perm = torch.randperm(len(y), generator=g) if g is not None else torch.arange(len(y))
        for i in range(0, len(y), bs):
            b = perm[i:i + bs]
            loss = cross_entropy(x[b] @ weights + bias, y[b])
            loss.backward()
            with torch.no_grad():
                for p in (weights, bias):
                    p -= p.grad * lr
                    p.grad = None
            losses.append(loss.item())
    return weights.detach(), bias.detach(), losses


TRAIN_BODY = r'''
import torch as _torch, random as _random
set_global("cross_entropy", ref.cross_entropy)
_torch.manual_seed(_seed); _random.seed(_seed)
result = ref.plain(train_linear(_x, _y, _epochs, _lr, bs=_bs))
'''


def _student_train(ns, x, y, epochs: int, lr: float, bs: int, seed: int):
    "(weights [784, 10], bias [10], losses) of the student's train_linear, validated."
    got = ns.run(TRAIN_BODY, _x=x, _y=y, _epochs=epochs, _lr=lr, _bs=bs, _seed=seed)
    expect_true(isinstance(got, (list, tuple)) and len(got) == 3,
                "train_linear should return (weights, bias, losses)", got=summarize(got))
    w = _tensor(got[0], "the weights train_linear returns", (28 * 28, 10)).float()
    b = _tensor(got[1], "the bias train_linear returns").float()
    expect_true(b.numel() == 10, "the bias should have 10 values (one per digit)", expected="shape (10,)",
                got=f"shape {tuple(b.shape)}")
    losses = got[2]
    expect_true(isinstance(losses, list), "the losses train_linear returns should be a list",
                got=type(losses).__name__)
    kinds = set()
    values = []
    for v in losses:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            kinds.add("float")
            values.append(float(v))
        elif isinstance(v, torch.Tensor) and v.numel() == 1:
            kinds.add("tensor")
            values.append(float(v.reshape(())))
        else:
            raise CheckFailed("the losses should be numbers, one per batch", got=summarize(v))
    return w, b.reshape(10), values, kinds


def _accuracy(weights, bias, x, y) -> float:
    return ((x @ weights + bias).argmax(1) == y).float().mean().item()


@A.check("train_linear", "starts from init_params: weights then bias, std 0.01; one loss per batch of xb@weights+bias",
         points=1, given=("cross_entropy",))
def _(ns):
    from reference.full_mnist import cross_entropy
    seed = _seed(ns.rng)
    x, y = train_subset(600, ns.rng)
    w, b, losses, _ = _student_train(ns, x, y, epochs=1, lr=0.0, bs=150, seed=seed)
    w0, b0 = _init(seed)
    hint = ("train_linear should start with weights = init_params((28*28, 10), std=0.01) and then bias = "
            "init_params(10, std=0.01), drawn in that order right after the grader seeded torch")
    expect_close(w, w0, f"the weights after one epoch with lr=0 ({hint})", atol=1e-7, rtol=0)
    expect_close(b, b0, f"the bias after one epoch with lr=0 ({hint})", atol=1e-7, rtol=0)
    expect_true(len(losses) == 4, "one epoch of 600 items in batches of bs=150 should give 4 losses",
                expected=4, got=len(losses))
    want = cross_entropy(x @ w0 + b0, y).item()     # lr=0: the batches' mean loss is the loss on all 600 items
    expect_close(sum(losses) / 4, want, "the mean of the 4 batch losses with lr=0 (each batch's loss: cross_entropy of "
                                        "xb@weights + bias against yb)", atol=1e-5)


@A.check("train_linear", "plain SGD steps: two full-batch epochs match the reference loop", points=1,
         given=("cross_entropy",))
def _(ns):
    seed = _seed(ns.rng)
    x, y = train_subset(600, ns.rng)
    lr = 0.5
    w, b, losses, _ = _student_train(ns, x, y, epochs=2, lr=lr, bs=600, seed=seed)
    w0, b0 = _init(seed)
    rw, rb, rlosses = reference_train_linear(x, y, 2, lr, 600, w0, b0, None)  # one batch: the order does not matter
    expect_true(len(losses) == 2, "two epochs of one batch each (bs = all 600 items) should give 2 losses",
                expected=2, got=len(losses))
    expect_close(losses, rlosses, "the two losses (the second one is after one step: p -= p.grad*lr)", atol=1e-5)
    hint = " (a step is p -= p.grad*lr, then the gradients are reset, so each step uses only its own batch's)"
    expect_close(w, rw, "the weights after two steps" + hint, atol=1e-5, rtol=1e-4)
    expect_close(b, rb, "the bias after two steps" + hint, atol=1e-5, rtol=1e-4)


@A.check("train_linear", "mini-batches of bs, shuffled each epoch: learns as well as the reference loop", points=1,
         given=("cross_entropy",))
def _(ns):
    seed = _seed(ns.rng)
    x, y = train_subset(1990, ns.rng)
    order = torch.argsort(y, stable=True)      # sorted by digit: only shuffled batches learn from this
    x, y = x[order], y[order]
    epochs, lr, bs = 2, 0.1, 50
    w, b, losses, kinds = _student_train(ns, x, y, epochs=epochs, lr=lr, bs=bs, seed=seed)
    n_batches = epochs * -(-len(y) // bs)
    expect_true(len(losses) == n_batches, f"train_linear should record one loss per batch: {epochs} epochs of "
                f"{len(y)} items in batches of bs={bs} (the last one shorter)", expected=n_batches, got=len(losses))
    hx, hy = held_out(1000, ns.rng)
    w0, b0 = _init(seed)
    rw, rb, _ = reference_train_linear(x, y, epochs, lr, bs, w0, b0, torch.Generator().manual_seed(seed))
    ref, acc = _accuracy(rw, rb, hx.view(-1, 784), hy), _accuracy(w, b, hx.view(-1, 784), hy)
    expect_true(acc >= ref - 0.05, "trained on images sorted by digit, the model train_linear learns is much less "
                "accurate than the reference loop's on held-out test images: are the batches shuffled each epoch?",
                expected=f">= {ref - 0.05:.3f}", got=round(acc, 3))
    if "tensor" in kinds:
        raise CheckFailed("the losses should be Python floats (loss.item()), not tensors", credit=0.5)


RERUN_LINEAR = r'''
set_global("cross_entropy", ref.cross_entropy)
_g, _lines = ref.rerun(_src, globals(), _seed, cross_entropy=ref.cross_entropy)
result = ref.plain([_g.get("weights"), _g.get("bias")])
'''


@A.check("train_linear", "the notebook's training (5 epochs, lr=0.1, bs=64): 85% on 1,000 held-out test images",
         points=1, hidden=True, given=("cross_entropy",))
def _(ns):
    got = ns.run(RERUN_LINEAR, _src=ns.source("train_linear"), _seed=RERUN_SEED)
    w = _tensor(got[0], "`weights` after the answer cell", (28 * 28, 10)).float()
    b = _tensor(got[1], "`bias` after the answer cell").float()
    expect_true(b.numel() == 10, "`bias` should have 10 values", got=f"shape {tuple(b.shape)}")
    x, y = held_out(1000, ns.rng)
    acc = _accuracy(w, b.reshape(10), x.view(-1, 784), y)
    expect_true(acc >= 0.85, "the linear model the cell trains (train_linear on train_x for 5 epochs, lr=0.1, bs=64) "
                             "should reach 85% on held-out images", expected=">= 0.85", got=round(acc, 3))


# ----------------------------------------------------------------------------------------------------------
# mlp (trained again with the reference cross_entropy, so a wrong cross_entropy costs nothing here)

PREDICT_BODY = r'''
import torch as _torch
_m = mlp if _fresh is None else ref.fresh_copy(mlp, _fresh)
_p = next(iter(_m.parameters()), None) if hasattr(_m, "parameters") else None
with _torch.no_grad():
    result = [ref.plain(_m(_x.to(_p.device) if _p is not None else _x)) for _x in _xs]
'''

RERUN_MLP = r'''
import torch as _torch
set_global("cross_entropy", ref.cross_entropy)
_g, _lines = ref.rerun(_src, globals(), _seed, cross_entropy=ref.cross_entropy)
_m = _g.get("mlp")
_p = next(iter(_m.parameters()), None) if hasattr(_m, "parameters") else None
with _torch.no_grad():
    result = ref.plain(_m(_x.to(_p.device) if _p is not None else _x)) if callable(_m) else None
'''


@A.check("mlp", "mlp, trained by its cell, classifies 2,000 held-out test images (at least 87%)", points=1.5,
         given=("cross_entropy",))
def _(ns):
    x, y = held_out(2000, ns.rng)
    # the labels never leave the grader
    out = ns.run(RERUN_MLP, _src=ns.source("mlp"), _x=x.view(-1, 784), _seed=RERUN_SEED)
    _tensor(out, "mlp(x) for 2,000 images (after the cell ran)", (len(y), 10))
    acc = (out.argmax(dim=1) == y).float().mean().item()
    expect_true(acc >= 0.87, "mlp should be trained (about 93% on the validation images): on held-out test images "
                             "it should be right at least 87% of the time", expected=">= 0.87", got=round(acc, 3))


@A.check("mlp", "mlp gives ten raw activations per image (cross_entropy applies the softmax)", points=0.5, given=())
def _(ns):
    x, _ = held_out(200, ns.rng)
    got = ns.run(PREDICT_BODY, _xs=[x.view(-1, 784)], _fresh=None)
    expect_true(isinstance(got, list) and len(got) == 1, "mlp(x) could not be computed", got=summarize(got))
    out = _tensor(got[0], "mlp(x) for 200 images", (200, 10)).double()
    probs = bool((out >= 0).all() and torch.allclose(out.sum(1), torch.ones(200, dtype=torch.float64), atol=1e-3))
    expect_true(not probs, "mlp's outputs are already probabilities (a softmax at the end of the model): "
                           "cross_entropy applies the softmax itself, so it would be applied twice; end the model "
                           "with the last nn.Linear")


@A.check("mlp", "mlp has a hidden layer and a non-linearity", points=1, hidden=True, given=())
def _(ns):
    n_linear = ns.run("import torch as _t\nresult = sum(isinstance(m, _t.nn.Linear) for m in mlp.modules()) "
                      "if isinstance(mlp, _t.nn.Module) else -1")
    expect_true(isinstance(n_linear, int) and n_linear >= 2, "mlp should be an nn.Module with two nn.Linear layers "
                "(784 -> hidden, hidden -> 10)", expected=">= 2 nn.Linear", got=n_linear)
    x, _ = held_out(64, ns.rng)
    a, b = x[:32].view(-1, 784), x[32:].view(-1, 784)
    # on freshly drawn weights (the trained ones may have diverged to NaN): the architecture is what is judged
    got = ns.run(PREDICT_BODY, _xs=[a, b, a + b, torch.zeros_like(a)], _fresh=_seed(ns.rng))
    expect_true(isinstance(got, list) and len(got) == 4, "mlp(x) could not be computed", got=summarize(got))
    fa, fb, fab, f0 = (_tensor(v, "mlp(x)", (32, 10)).double() for v in got)
    gap = (fa + fb - f0 - fab).abs().max().item()
    expect_true(gap > 1e-3 * (1 + fab.abs().max().item()),
                "mlp is linear in its input (mlp(a) + mlp(b) - mlp(0) == mlp(a + b)): two linear layers in a row are "
                "just one linear layer; put a non-linearity (nn.ReLU) between them", got=f"largest gap {gap:.2e}")
