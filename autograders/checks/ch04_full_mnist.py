"""Lab `ch04_full_mnist` (Further Research 2): ten digits by pixel similarity, a softmax linear model with a
hand-written cross-entropy, and an MLP.

Inputs are chosen here: images from MNIST's test set (never in the notebook's training subset), random
logits for the loss, and a seeded training subset for the student's `train_linear`, whose result is compared
with a reference loop (`reference.full_mnist.cross_entropy`, plain SGD) run on the same subset.

Interface fixed by the notebook:
    mean_digits(x [N,28,28], y [N]) -> [10,28,28];   means = mean_digits(train_imgs, train_lbls)
    predict_digit(x [N,28,28], means) -> int64 [N] (nearest mean by the chapter's L1 mnist_distance)
    softmax(x), cross_entropy(preds [N,10], targets [N]) written by hand, stable for large activations
    train_linear(x [N,784], y [N], epochs, lr, bs=256) -> (weights [784,10], bias [10], losses)
    mlp: a trained nn.Module, [N,784] -> [N,10]
"""
from __future__ import annotations

import re
from functools import lru_cache

import torch
import torch.nn.functional as F

from .expect import expect_close, expect_equal, expect_true
from .spec import Assignment, CheckFailed

ASSIGNMENT = Assignment("ch04_full_mnist", title="All ten digits (chapter 4, Further Research 2)",
                        data=("mnist_png",))    # untar_data(URLs.MNIST)
A = ASSIGNMENT
A.manual("compare", points=2)

N_TRAIN_PER_DIGIT, N_VALID_PER_DIGIT = 1000, 200   # what the notebook's locked cell loads


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@lru_cache(maxsize=None)
def _split(split: str):
    from reference.full_mnist import load_full
    return load_full(split)


def held_out(n: int, seed: int):
    "`n` images of MNIST's test set, past the notebook's validation files, chosen at random (seeded)."
    x, y = _split("test")
    used = set(_notebook_indices("test", N_VALID_PER_DIGIT))
    pool = torch.tensor([i for i in range(len(y)) if i not in used])
    idx = pool[torch.randperm(len(pool), generator=_gen(seed))[:n]]
    return x[idx], y[idx]


def _notebook_indices(split: str, n: int) -> list[int]:
    "The MNIST indices the notebook's `load_digits` reads: files `<index>.png` sorted by name, first `n` per digit."
    _, y = _split(split)
    out = []
    for d in range(10):
        idxs = torch.nonzero(y == d).flatten().tolist()
        out += sorted(idxs, key=lambda i: f"{i}.png")[:n]
    return out


def train_subset(n: int, seed: int):
    "`n` random training images (flattened) with their labels."
    x, y = _split("train")
    idx = torch.randperm(len(y), generator=_gen(seed))[:n]
    return x[idx].view(-1, 28 * 28), y[idx]


# ----------------------------------------------------------------------------------------------------------
# mean_digits

@A.check("mean_digits", "matches the reference on 3,000 training images in random order", points=2)
def _(ns):
    from reference.full_mnist import mean_digits
    x, y = train_subset(3000, 1)
    x = x.view(-1, 28, 28)
    got = ns.call("mean_digits", x, y)
    expect_close(got, mean_digits(x, y), "mean_digits(x, y)", atol=1e-5)


@A.check("mean_digits", "`means` is the mean of the notebook's training images", points=1, hidden=True)
def _(ns):
    from reference.full_mnist import mean_digits
    x, y = _split("train")
    idx = torch.tensor(_notebook_indices("train", N_TRAIN_PER_DIGIT))
    expect_close(ns.get("means"), mean_digits(x[idx], y[idx]), "means", atol=1e-5)


# ----------------------------------------------------------------------------------------------------------
# predict_digit

@A.check("predict_digit", "gives the nearest mean by mnist_distance (reference means, 500 test images)", points=2)
def _(ns):
    from reference.full_mnist import mean_digits, nearest_mean
    tx, ty = _split("train")
    means = mean_digits(tx, ty)
    x, _ = held_out(500, 2)
    got = ns.call("predict_digit", x, means)
    want = nearest_mean(x, means)
    expect_true(isinstance(got, torch.Tensor) and tuple(got.shape) == (500,),
                "predict_digit(x, means) should return a tensor of shape [N] (one digit per image)",
                expected="shape (500,)", got=getattr(got, "shape", type(got).__name__))
    wrong = (got.long() != want).sum().item()
    expect_true(wrong <= 2, f"predict_digit disagrees with the nearest mean on {wrong} of 500 images",
                expected=want[:8].tolist(), got=got[:8].tolist())


@A.check("predict_digit", "with your means: accuracy on 1,000 held-out test images in the expected band", points=1,
         hidden=True)
def _(ns):
    from reference.full_mnist import mean_digits, nearest_mean
    x, y = held_out(1000, 3)
    preds = ns.run("result = predict_digit(x, means)", x=x)     # the labels never leave the grader
    expect_true(isinstance(preds, torch.Tensor) and preds.shape == y.shape,
                "predict_digit(x, means) should return one digit per image", got=getattr(preds, "shape", None))
    acc = (preds.long() == y).float().mean().item()
    tx, ty = _split("train")
    idx = torch.tensor(_notebook_indices("train", N_TRAIN_PER_DIGIT))
    ref = (nearest_mean(x, mean_digits(tx[idx], ty[idx])) == y).float().mean().item()
    expect_true(isinstance(acc, float) and abs(acc - ref) <= 0.03,
                "the nearest-mean classifier's accuracy is off the reference's", expected=f"{ref:.3f} ± 0.03", got=acc)


# ----------------------------------------------------------------------------------------------------------
# softmax and cross_entropy

def _logits(seed: int, n: int = 64, scale: float = 3.0):
    g = _gen(seed)
    return torch.randn(n, 10, generator=g) * scale, torch.randint(0, 10, (n,), generator=g)


@A.check("cross_entropy", "softmax matches F.softmax on random activations", points=1)
def _(ns):
    x, _ = _logits(10)
    expect_close(ns.call("softmax", x), F.softmax(x, dim=-1), "softmax(x)", atol=1e-5)


@A.check("cross_entropy", "cross_entropy matches F.cross_entropy on random activations", points=2)
def _(ns):
    x, t = _logits(11)
    got = ns.call("cross_entropy", x, t)
    expect_close(got, F.cross_entropy(x, t), "cross_entropy(preds, targets)", atol=1e-5, check_shape=False)
    expect_true(isinstance(got, torch.Tensor) and got.numel() == 1, "cross_entropy should return a single number")


@A.check("cross_entropy", "stays finite and right for activations around 1000", points=1, hidden=True)
def _(ns):
    x, t = _logits(12, 32, 1.0)
    x = x * 400 + 1000
    expect_close(ns.call("softmax", x), F.softmax(x, dim=-1), "softmax(x) for large x", atol=1e-5)
    expect_close(ns.call("cross_entropy", x, t), F.cross_entropy(x, t), "cross_entropy for large activations",
                 atol=1e-3, rtol=1e-5, check_shape=False)


FORBIDDEN = re.compile(r"\bF\s*\.|torch\.nn\.functional|CrossEntropyLoss|NLLLoss|nll_loss|"
                       r"torch\s*\.\s*(log_)?softmax|\.\s*(log_)?softmax\s*\(|\bcross_entropy\s*=\s*\w")


@A.check("cross_entropy", "written by hand (no PyTorch softmax, log-softmax, NLL or cross-entropy)", points=0.5,
         hidden=True)
def _(ns):
    expect_true(ns.has("softmax") and ns.has("cross_entropy"), "`softmax` and `cross_entropy` are not defined")
    src = "\n".join(l.split("#")[0] for l in ns.source("cross_entropy").splitlines())
    m = FORBIDDEN.search(src)
    expect_true(m is None, f"the answer uses PyTorch's own functions ({m.group(0) if m else ''}); write them yourself")


@A.check("cross_entropy", "gradient matches F.cross_entropy's", points=0.5, hidden=True)
def _(ns):
    x, t = _logits(13)
    body = ("_ch4_x = x.clone().requires_grad_()\ncross_entropy(_ch4_x, t).backward()\n"
            "result = _ch4_x.grad\ndel _ch4_x\n")
    got = ns.run(body, x=x, t=t)
    xr = x.clone().requires_grad_()
    F.cross_entropy(xr, t).backward()
    expect_close(got, xr.grad, "the gradient of cross_entropy", atol=1e-5)


# ----------------------------------------------------------------------------------------------------------
# train_linear

def reference_train_linear(x, y, epochs: int, lr: float, bs: int = 256, seed: int = 0):
    "The notebook's loop with the reference cross-entropy: std-0.01 init, shuffled batches, plain SGD."
    from reference.full_mnist import cross_entropy
    g = _gen(seed)
    weights = (torch.randn(28 * 28, 10, generator=g) * 0.01).requires_grad_()
    bias = (torch.randn(10, generator=g) * 0.01).requires_grad_()
    losses = []
    for _ in range(epochs):
        perm = torch.randperm(len(y), generator=g)
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
import torch, random
torch.manual_seed(seed); random.seed(seed)
_ch4_out = train_linear(x, y, epochs, lr, bs=bs)
result = {"weights": _ch4_out[0].detach().clone(), "bias": _ch4_out[1].detach().clone(),
          "losses": [float(v) for v in _ch4_out[2]]}
del _ch4_out
'''


def _accuracy(weights, bias, x, y) -> float:
    return ((x @ weights + bias).argmax(1) == y).float().mean().item()


@A.check("train_linear", "on a grader subset (seeded): shapes, one loss per batch, losses go down, "
                         "held-out accuracy close to the reference loop's", points=3)
def _(ns):
    x, y = train_subset(2000, 20)
    epochs, lr, bs = 3, 0.1, 50
    got = ns.run(TRAIN_BODY, x=x, y=y, epochs=epochs, lr=lr, bs=bs, seed=20)
    expect_true(isinstance(got, dict), "could not read back train_linear's result")
    w, b, losses = got["weights"], got["bias"], got["losses"]
    expect_equal(tuple(w.shape), (784, 10), "the shape of the weights train_linear returns")
    expect_true(tuple(b.shape) in ((10,), (1, 10)), "the bias should have shape (10,)", got=tuple(b.shape))
    n_batches = epochs * -(-len(y) // bs)
    expect_equal(len(losses), n_batches, f"len(losses) for {epochs} epochs of {len(y)} items in batches of {bs}")
    per = len(y) // bs
    first, last = sum(losses[:per]) / per, sum(losses[-per:]) / per
    expect_true(last < 0.9 * first, "the mean loss of the last epoch should be well below the first epoch's",
                expected=f"< {0.9 * first:.3f}", got=round(last, 3))
    hx, hy = held_out(1000, 21)
    rw, rb, rlosses = reference_train_linear(x, y, epochs, lr, bs)
    ref, acc = _accuracy(rw, rb, hx.view(-1, 784), hy), _accuracy(w, b.view(-1), hx.view(-1, 784), hy)
    expect_true(acc >= ref - 0.04, "the model train_linear learns is less accurate than the reference loop's "
                                   "on held-out test images", expected=f">= {ref - 0.04:.3f}", got=round(acc, 3))


@A.check("train_linear", "the notebook's weights, bias: accuracy on 1,000 held-out test images", points=1,
         hidden=True)
def _(ns):
    x, y = held_out(1000, 22)
    w, b = ns.run("result = (weights.detach().cpu(), bias.detach().cpu())")
    try:
        acc = _accuracy(w.float(), b.float().view(-1), x.view(-1, 784), y)
    except (RuntimeError, AttributeError) as e:
        raise CheckFailed(f"`weights` and `bias` cannot classify 784-pixel images ({e})") from None
    expect_true(isinstance(acc, float) and acc >= 0.85, "the trained linear model should reach 85% on held-out images",
                expected=">= 0.85", got=acc)


# ----------------------------------------------------------------------------------------------------------
# mlp

@A.check("mlp", "mlp classifies 1,000 held-out test images (at least 90%)", points=2)
def _(ns):
    x, y = held_out(1000, 30)
    body = "import torch\nwith torch.no_grad():\n    result = mlp(x).cpu()\n"   # the labels never leave the grader
    out = ns.run(body, x=x.view(-1, 784))
    expect_true(isinstance(out, torch.Tensor) and tuple(out.shape) == (len(y), 10),
                "mlp(x) should give 10 activations per image", expected=(len(y), 10), got=getattr(out, "shape", None))
    acc = (out.argmax(dim=1) == y).float().mean().item()
    expect_true(isinstance(acc, float) and acc >= 0.90, "mlp should be trained to at least 90% on held-out images",
                expected=">= 0.90", got=acc)


@A.check("mlp", "mlp has a hidden layer and a non-linearity", points=1, hidden=True)
def _(ns):
    body = ("import torch\nfrom torch import nn\n_ch4_m = [m for m in mlp.modules()]\n"
            "result = {'linear': sum(isinstance(m, nn.Linear) for m in _ch4_m),\n"
            "          'act': sum(isinstance(m, (nn.ReLU, nn.LeakyReLU, nn.GELU, nn.Sigmoid, nn.Tanh, nn.SiLU))"
            " for m in _ch4_m)}\ndel _ch4_m\n")
    got = ns.run(body)
    expect_true(got["linear"] >= 2 and got["act"] >= 1,
                "mlp should have at least two nn.Linear layers with an activation between them", got=got)
