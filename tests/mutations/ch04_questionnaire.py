"""Variants of the chapter 4 questionnaire's code answers: correct answers written differently (`ok`, full marks)
and the mistakes students of the book make (`bug`, lose points on their own item only).

Each title says why the variant is right or wrong with respect to the item's prompt (the markdown cell before
its answer cell); a `source=` variant replaces the whole answer cell and keeps its demo lines.
"""
from mutants import bug, ok

# ---- q14: reusable step lists (index: 1 init, 2 predict, 3 loss, 4 gradient, 5 step, 6 repeat, 7 stop) ------
_STEPS = ["initialize the weights with random values", "predict: run the model on a mini-batch",
          "compute the loss of those predictions", "compute the gradient of the loss for every weight",
          "step: update each weight using its gradient and the learning rate", "repeat from the prediction step",
          "stop when the model is good enough or time is up"]


def _steps(*steps: str) -> str:
    return "sgd_steps = [\n" + "".join(f"    {s!r},\n" for s in steps) + "]\n"


def _with(index: int, text: str) -> str:
    "The model's seven steps with step `index` (1-based) written as `text`."
    steps = list(_STEPS)
    steps[index - 1] = text
    return _steps(*steps)


_Q25_DEMO = """
q25_w = (torch.randn(2, 1) * 0.1).requires_grad_()
q25_b = torch.zeros(1).requires_grad_()
def q25_model(xb):
    return xb @ q25_w + q25_b

print("loss before:", mnist_loss(q25_model(toy_x), toy_y).item())
for _ in range(5):
    train_epoch(q25_model, 1.0, [q25_w, q25_b], toy_dl)
print("loss after:", mnist_loss(q25_model(toy_x), toy_y).item())
"""

_Q33_DEMO = """
q33_model = nn.Linear(2, 1)
print("loss before:", mnist_loss(q33_model(toy_x), toy_y).item())
train(q33_model, toy_dl, epochs=5, lr=1.0)
print("loss after:", mnist_loss(q33_model(toy_x), toy_y).item())
"""

VARIANTS = [
    # ---- q04: double_odds with a single list comprehension ------------------------------------------------------
    ok("q04", "odd test by truthiness, n * 2, other local name",
       source="def double_odds(nums):\n    return [x * 2 for x in nums if x % 2]\n\ndouble_odds([1, 2, 3, 4, 5])\n"),
    ok("q04", "odd test with `!= 0` and x + x, result bound to a local first",
       source="def double_odds(nums):\n    result = [x + x for x in nums if x % 2 != 0]\n    return result\n\n"
              "print(double_odds([1, 2, 3]))\n"),
    ok("q04", "odd test with a bit mask (n & 1 is 1 for negative odd numbers too)",
       replace=("if n % 2 == 1]", "if n & 1]")),
    bug("q04", "no filter: every number is doubled", replace=("[2 * n for n in nums if n % 2 == 1]", "[2 * n for n in nums]")),
    bug("q04", "keeps the even numbers instead of the odd ones", replace=("n % 2 == 1", "n % 2 == 0")),
    bug("q04", "a for loop with append (the prompt asks for a single list comprehension)",
        source="def double_odds(nums):\n    out = []\n    for n in nums:\n        if n % 2 == 1:\n"
               "            out.append(2 * n)\n    return out\n"),
    bug("q04", "a conditional expression instead of a filter: even numbers are kept (undoubled)",
        replace=("[2 * n for n in nums if n % 2 == 1]", "[2 * n if n % 2 == 1 else n for n in nums]")),
    bug("q04", "writes the result into the caller's list (the prompt asks for a new list)",
        source="def double_odds(nums):\n    nums[:] = [2 * n for n in nums if n % 2 == 1]\n    return nums\n"),

    # ---- q05: stack_images -> rank-3 tensor --------------------------------------------------------------------
    ok("q05", "torch.stack with an explicit dim=0", replace=("torch.stack(imgs)", "torch.stack(imgs, dim=0)")),
    ok("q05", "torch.cat of images given a leading axis with unsqueeze",
       replace=("torch.stack(imgs)", "torch.cat([im.unsqueeze(0) for im in imgs])")),
    ok("q05", "a loop filling a preallocated tensor (same dtype as the images)",
       source="def stack_images(imgs):\n    out = torch.empty((len(imgs),) + tuple(imgs[0].shape), dtype=imgs[0].dtype)\n"
              "    for i, im in enumerate(imgs):\n        out[i] = im\n    return out\n\n"
              "stack_images([torch.zeros(28, 28), torch.ones(28, 28)]).shape\n"),
    bug("q05", "torch.cat: the images end up one below the other (rank 2)", replace=("torch.stack(imgs)", "torch.cat(imgs)")),
    bug("q05", "stacked along the wrong axis (dim=1)", replace=("torch.stack(imgs)", "torch.stack(imgs, dim=1)")),
    bug("q05", "also scales the pixels by 1/255 as the book does for its stacks (the values must be unchanged)",
        replace=("torch.stack(imgs)", "torch.stack(imgs).float() / 255")),
    bug("q05", "returns the Python list unchanged, not a tensor", replace=("return torch.stack(imgs)", "return list(imgs)")),
    bug("q05", "squeezes the stack: a single image (or a size-1 axis) loses its axis",
        replace=("torch.stack(imgs)", "torch.stack(imgs).squeeze()")),

    # ---- q06: rank_and_shape -> (rank, shape) -----------------------------------------------------------------
    ok("q06", "len(t.shape) and t.shape (a torch.Size) returned directly",
       source="def rank_and_shape(t):\n    return len(t.shape), t.shape\n\nrank_and_shape(torch.zeros(3, 28, 28))\n"),
    ok("q06", "the shape as a list from t.size(), rank from its length",
       source="def rank_and_shape(t):\n    dims = list(t.size())\n    rank = len(dims)\n    return (rank, dims)\n\n"
              "rank_and_shape(torch.zeros(3, 28, 28))\n"),
    bug("q06", "the pair in the wrong order: (shape, rank)", replace=("return len(shape), shape", "return shape, len(shape)")),
    bug("q06", "len(t) (the size of the first axis) taken as the rank",
        source="def rank_and_shape(t):\n    return len(t), tuple(t.shape)\n\nrank_and_shape(torch.zeros(3, 28, 28))\n"),
    bug("q06", "the number of elements given as the shape",
        replace=("return len(shape), shape", "return len(shape), t.numel()")),
    bug("q06", "the rank counts the elements (numel) instead of the axes",
        replace=("return len(shape), shape", "return t.numel(), shape")),

    # ---- q07: rmse and l1 over all elements ---------------------------------------------------------------------
    ok("q07", "the book's F.mse_loss(...).sqrt() and F.l1_loss",
       source="def rmse(a, b):\n    return F.mse_loss(a, b).sqrt()\n\ndef l1(a, b):\n    return F.l1_loss(a, b)\n\n"
              "a, b = torch.rand(28, 28), torch.rand(28, 28)\nrmse(a, b), l1(a, b)\n"),
    ok("q07", "torch.sqrt(torch.mean(...)), torch.abs, and Python floats returned with .item()",
       source="def rmse(a, b):\n    diff = a - b\n    return torch.sqrt(torch.mean(diff * diff)).item()\n\n"
              "def l1(a, b):\n    return torch.abs(a - b).mean().item()\n\n"
              "a, b = torch.rand(28, 28), torch.rand(28, 28)\nprint(rmse(a, b), l1(a, b))\n"),
    ok("q07", "pow(2) and ** 0.5", replace=("((a - b) ** 2).mean().sqrt()", "(a - b).pow(2).mean() ** 0.5")),
    bug("q07", "square root before the mean (mean of absolute differences)",
        replace=("((a - b) ** 2).mean().sqrt()", "((a - b) ** 2).sqrt().mean()")),
    bug("q07", "rmse without the square root (that is the MSE)", replace=("((a - b) ** 2).mean().sqrt()", "((a - b) ** 2).mean()")),
    bug("q07", "l1 squares the differences (an L2 distance)", replace=("(a - b).abs().mean()", "((a - b) ** 2).mean()")),
    bug("q07", "l1 sums the absolute differences instead of averaging", replace=("(a - b).abs().mean()", "(a - b).abs().sum()")),
    bug("q07", "both averaged over the last two axes only, like mnist_distance (not a single number for 3-D tensors)",
        source="def rmse(a, b):\n    return ((a - b) ** 2).mean((-1, -2)).sqrt()\n\n"
               "def l1(a, b):\n    return (a - b).abs().mean((-1, -2))\n\n"
               "a, b = torch.rand(28, 28), torch.rand(28, 28)\nrmse(a, b), l1(a, b)\n"),
    bug("q07", "l1 without the absolute value (differences cancel out)", replace=("(a - b).abs().mean()", "(a - b).mean()")),

    # ---- q09: nine, doubled, corner, double_corner -----------------------------------------------------------------
    ok("q09", "arange + reshape, doubled as nine + nine, corner with negative indices, select-then-double",
       source="nine = torch.arange(1, 10).reshape(3, 3)\ndoubled = nine + nine\ncorner = doubled[-2:, -2:]\n\n"
              "def double_corner(x):\n    return x[1:, 1:] * 2\n\ncorner\n"),
    ok("q09", "a float literal, 2 * nine, explicit slice bounds, a local in double_corner",
       source="nine = tensor([[1., 2., 3.], [4., 5., 6.], [7., 8., 9.]])\ndoubled = 2 * nine\ncorner = doubled[1:3, 1:3]\n\n"
              "def double_corner(x):\n    d = x * 2\n    return d[1:3, 1:3]\n\nprint(nine, doubled, corner)\n"),
    bug("q09", "nine holds 0..8 (arange(9)); doubled and corner follow from it",
        replace=("tensor(list(range(1, 10))).view(3, 3)", "torch.arange(9).view(3, 3)")),
    bug("q09", "nine filled column by column (transposed)",
        replace=("tensor(list(range(1, 10))).view(3, 3)", "tensor(list(range(1, 10))).view(3, 3).T")),
    bug("q09", "corner is the top-left 2x2 block", replace=("corner = doubled[1:, 1:]", "corner = doubled[:2, :2]")),
    bug("q09", "double_corner ignores x and returns the global doubled's corner",
        replace=("return (x * 2)[1:, 1:]", "return doubled[1:, 1:]")),
    bug("q09", "doubled aliases nine and doubles it in place, so nine changes too",
        replace=("doubled = nine * 2", "doubled = nine\ndoubled *= 2")),
    bug("q09", "double_corner forgets the doubling", replace=("return (x * 2)[1:, 1:]", "return x[1:, 1:]")),

    # ---- q10: center_columns by broadcasting ------------------------------------------------------------------------
    ok("q10", "keepdim=True", replace=("m - m.mean(dim=0)", "m - m.mean(dim=0, keepdim=True)")),
    ok("q10", "column means from sum / number of rows, indexed with None to broadcast",
       source="def center_columns(m):\n    col_means = m.sum(dim=0) / m.shape[0]\n    return m - col_means[None, :]\n\n"
              "center_columns(tensor([[1., 2.], [3., 6.]]))\n"),
    ok("q10", "in place on m, then returned (the prompt does not forbid changing m)",
       source="def center_columns(m):\n    m -= m.mean(0)\n    return m\n\ncenter_columns(tensor([[1., 2.], [3., 6.]]))\n"),
    bug("q10", "row means instead of column means (keepdim so it broadcasts)",
        replace=("m - m.mean(dim=0)", "m - m.mean(dim=1, keepdim=True)")),
    bug("q10", "subtracts the mean of the whole matrix", replace=("m - m.mean(dim=0)", "m - m.mean()")),
    bug("q10", "a Python loop over the columns (the prompt asks for broadcasting, no loop)",
        source="def center_columns(m):\n    out = m.clone()\n    for j in range(m.shape[1]):\n"
               "        out[:, j] = m[:, j] - m[:, j].mean()\n    return out\n\n"
               "center_columns(tensor([[1., 2.], [3., 6.]]))\n"),
    bug("q10", "a list comprehension over the columns, stacked back (a Python loop)",
        source="def center_columns(m):\n    return torch.stack([c - c.mean() for c in m.T]).T\n\n"
               "center_columns(tensor([[1., 2.], [3., 6.]]))\n"),
    bug("q10", "also divides by the column's standard deviation (standardises)",
        replace=("m - m.mean(dim=0)", "(m - m.mean(dim=0)) / m.std(dim=0)")),

    # ---- q14: the seven steps of SGD ---------------------------------------------------------------------------------
    ok("q14", "plain paraphrases: slope / nudge / go back / quit",
       source=_steps("start with random weights", "make predictions with the model",
                     "measure how bad the predictions are", "find the slope for each weight",
                     "nudge each weight a little against its slope", "go back and do it all again",
                     "quit once the model is good enough")),
    ok("q14", "in Korean",
       source=_steps("가중치를 무작위로 초기화", "예측하기", "손실 계산", "기울기 계산", "가중치 갱신", "반복", "멈추기")),
    ok("q14", "the one-word labels of the book's diagram",
       source=_steps("init", "predict", "loss", "gradient", "step", "repeat", "stop")),
    ok("q14", "other paraphrases: parameters, forward pass, how wrong, backpropagation, subtract lr * grad, loop, enough epochs",
       source=_steps("set the parameters to random numbers", "forward pass on a batch of inputs",
                     "calculate how wrong the predictions are", "backpropagation: d(loss)/d(weight) for each weight",
                     "subtract lr * grad from every weight", "loop back to step 2",
                     "after enough epochs we are done")),
    bug("q14", "step 5 updates the learning rate instead of the weights", source=_with(5, "update the learning rate")),
    bug("q14", "the gradient and step swapped (a step before any gradient is known)",
        source=_steps(*_STEPS[:3], _STEPS[4], _STEPS[3], *_STEPS[5:])),
    bug("q14", "step 3 measures the accuracy instead of the loss",
        source=_with(3, "compute the accuracy of those predictions")),
    bug("q14", "step 5 adds the gradient to the weights (gradient ascent)",
        source=_with(5, "add the gradient times the learning rate to each weight")),
    bug("q14", "only six steps: the stopping step is missing", source=_steps(*_STEPS[:6])),

    # ---- q21: sigmoid plot over at least -4..4 ----------------------------------------------------------------------
    ok("q21", "the formula 1 / (1 + exp(-x)) over -10..10",
       source="x = torch.linspace(-10, 10, 100)\nplt.plot(x, 1 / (1 + torch.exp(-x)))\nplt.title('sigmoid')\n"),
    ok("q21", "NumPy, integer steps from -5 to 5 (11 points), a legend and a grid",
       source="import numpy as np\nx = np.arange(-5, 6)\nplt.plot(x, 1 / (1 + np.exp(-x)), label='sigmoid')\n"
              "plt.legend(); plt.grid(True)\n"),
    ok("q21", "x.sigmoid() with a dashed line at y = 0.5 drawn too",
       source="xs = torch.arange(-4, 4.01, 0.05)\nplt.plot(xs, xs.sigmoid())\nplt.axhline(0.5, linestyle='--')\n"),
    bug("q21", "x only from -1 to 1 (the flat ends do not show)", replace=("torch.linspace(-6, 6, 200)", "torch.linspace(-1, 1, 200)")),
    bug("q21", "tanh plotted instead of the sigmoid", replace=("torch.sigmoid(xs)", "torch.tanh(xs)")),
    bug("q21", "a sign error in the formula: 1 / (1 + exp(x))", replace=("torch.sigmoid(xs)", "1 / (1 + torch.exp(xs))")),
    bug("q21", "plt.plot(y) without x: the x axis is the index 0..199", replace=("plt.plot(xs, torch.sigmoid(xs))", "plt.plot(torch.sigmoid(xs))")),
    bug("q21", "only the right half, x from 0 to 6", replace=("torch.linspace(-6, 6, 200)", "torch.linspace(0, 6, 200)")),

    # ---- q24: make_loader --------------------------------------------------------------------------------------
    ok("q24", "batch_size= instead of bs= (fastai's DataLoader takes both)",
       replace=("DataLoader(items, bs=bs, shuffle=True)", "DataLoader(items, batch_size=bs, shuffle=True)")),
    ok("q24", "bs passed positionally, the loader bound to a local first",
       source="def make_loader(items, bs):\n    dl = DataLoader(items, bs, shuffle=True)\n    return dl\n\n"
              "list(make_loader(range(15), 5))\n"),
    bug("q24", "not shuffled", replace=("DataLoader(items, bs=bs, shuffle=True)", "DataLoader(items, bs=bs)")),
    bug("q24", "drop_last=True: the last, smaller batch is lost",
        replace=("DataLoader(items, bs=bs, shuffle=True)", "DataLoader(items, bs=bs, shuffle=True, drop_last=True)")),
    bug("q24", "the batch size hard-coded to 64", replace=("DataLoader(items, bs=bs, shuffle=True)", "DataLoader(items, bs=64, shuffle=True)")),
    bug("q24", "shuffles a copy once by hand, then a loader in that fixed order every epoch",
        source="import random\n\ndef make_loader(items, bs):\n    items = list(items)\n    random.shuffle(items)\n"
               "    return DataLoader(items, bs=bs)\n\nlist(make_loader(range(15), 5))\n"),
    bug("q24", "returns the list of batches of one epoch instead of the DataLoader",
        replace=("return DataLoader(items, bs=bs, shuffle=True)", "return list(DataLoader(items, bs=bs, shuffle=True))")),

    # ---- q25: train_epoch(model, lr, params, dl) ----------------------------------------------------------------
    ok("q25", "torch.no_grad() with p -= lr * p.grad, gradients set to None",
       source="def train_epoch(model, lr, params, dl):\n    for xb, yb in dl:\n        loss = mnist_loss(model(xb), yb)\n"
              "        loss.backward()\n        with torch.no_grad():\n            for p in params:\n"
              "                p -= lr * p.grad\n                p.grad = None\n" + _Q25_DEMO),
    ok("q25", "the book's calc_grad helper, gradients zeroed before each backward",
       source="def calc_grad(xb, yb, model):\n    loss = mnist_loss(model(xb), yb)\n    loss.backward()\n\n"
              "def train_epoch(model, lr, params, dl):\n    for xb, yb in dl:\n        for p in params:\n"
              "            if p.grad is not None:\n                p.grad.zero_()\n        calc_grad(xb, yb, model)\n"
              "        for p in params:\n            p.data.sub_(p.grad * lr)\n" + _Q25_DEMO),
    bug("q25", "no zeroing: gradients pile up across batches", replace=("            p.grad.zero_()\n", "")),
    bug("q25", "sign error: p.data += lr * p.grad (climbs the loss)", replace=("p.data -= lr * p.grad", "p.data += lr * p.grad")),
    bug("q25", "trains on the global toy_dl instead of its dl argument", replace=("for xb, yb in dl:", "for xb, yb in toy_dl:")),
    bug("q25", "zeroes the gradient before using it: the step moves nothing",
        replace=("            p.data -= lr * p.grad\n            p.grad.zero_()\n",
                 "            p.grad.zero_()\n            p.data -= lr * p.grad\n")),
    bug("q25", "redefines mnist_loss in its cell as the book's first version, without the sigmoid "
               "(q33 must not pay for it)",
        source="def mnist_loss(predictions, targets):\n    return torch.where(targets == 1, 1 - predictions, predictions).mean()\n\n"
               "def train_epoch(model, lr, params, dl):\n    for xb, yb in dl:\n        loss = mnist_loss(model(xb), yb)\n"
               "        loss.backward()\n        for p in params:\n            p.data -= lr * p.grad\n"
               "            p.grad.zero_()\n" + _Q25_DEMO),
    bug("q25", "one step per epoch with the gradient summed over all batches",
        source="def train_epoch(model, lr, params, dl):\n    for xb, yb in dl:\n        mnist_loss(model(xb), yb).backward()\n"
               "    for p in params:\n        p.data -= lr * p.grad\n        p.grad.zero_()\n" + _Q25_DEMO),

    # ---- q26: pair_up -> list of tuples --------------------------------------------------------------------------
    ok("q26", "a list comprehension over zip", replace=("list(zip(xs, ys))", "[(x, y) for x, y in zip(xs, ys)]")),
    ok("q26", "indexing both sequences by position", replace=("list(zip(xs, ys))", "[(xs[i], ys[i]) for i in range(len(xs))]")),
    ok("q26", "map with a lambda, wrapped in list", replace=("list(zip(xs, ys))", "list(map(lambda a, b: (a, b), xs, ys))")),
    bug("q26", "returns the zip object, not a list", replace=("list(zip(xs, ys))", "zip(xs, ys)")),
    bug("q26", "a list of lists instead of tuples", replace=("list(zip(xs, ys))", "[[x, y] for x, y in zip(xs, ys)]")),
    bug("q26", "a dict instead of a list of pairs", replace=("list(zip(xs, ys))", "dict(zip(xs, ys))")),
    bug("q26", "every x with every y (a nested comprehension)", replace=("list(zip(xs, ys))", "[(x, y) for x in xs for y in ys]")),
    bug("q26", "the pairs the wrong way round", replace=("list(zip(xs, ys))", "list(zip(ys, xs))")),

    # ---- q27: flatten_images with view -------------------------------------------------------------------------------
    ok("q27", "unpacked shape, view(n, h * w)",
       source="def flatten_images(x):\n    n, h, w = x.shape\n    return x.view(n, h * w)\n\nflatten_images(torch.zeros(10, 28, 28)).shape\n"),
    ok("q27", "view(-1, h * w) from the last two sizes", replace=("x.view(x.shape[0], -1)", "x.view(-1, x.shape[1] * x.shape[2])")),
    ok("q27", "view(len(x), -1)", replace=("x.view(x.shape[0], -1)", "x.view(len(x), -1)")),
    bug("q27", "the book's view(-1, 28*28) hard-coded: wrong for other image sizes",
        replace=("x.view(x.shape[0], -1)", "x.view(-1, 28*28)")),
    bug("q27", "reshape instead of view (the prompt asks for view)", replace=("x.view(x.shape[0], -1)", "x.reshape(x.shape[0], -1)")),
    bug("q27", "flatten(1) instead of view", replace=("x.view(x.shape[0], -1)", "x.flatten(1)")),
    bug("q27", "the sizes swapped: one column per image", replace=("x.view(x.shape[0], -1)", "x.view(-1, x.shape[0])")),
    bug("q27", "flattened into one long vector", replace=("x.view(x.shape[0], -1)", "x.view(-1)")),

    # ---- q29: matmul with @ ------------------------------------------------------------------------------------------
    ok("q29", "other argument names, the product bound to a local",
       source="def matmul(x, w):\n    out = x @ w\n    return out\n\nmatmul(tensor([[1., 2.], [3., 4.]]), tensor([[1.], [1.]]))\n"),
    ok("q29", "a lambda", source="matmul = lambda a, b: a @ b\n\nprint(matmul(tensor([[1., 2.], [3., 4.]]), tensor([[1.], [1.]])))\n"),
    bug("q29", "element-wise product", replace=("return a @ b", "return a * b")),
    bug("q29", "torch.matmul instead of the @ operator (the prompt asks for @)", replace=("return a @ b", "return torch.matmul(a, b)")),
    bug("q29", "operands swapped: b @ a", replace=("return a @ b", "return b @ a")),
    bug("q29", "a @ b.T (a transposition too many)", source="def matmul(a, b):\n    return a @ b.T\n"),

    # ---- q30: grad_of(f, x) with backward -----------------------------------------------------------------------------
    ok("q30", "detach().clone() and requires_grad_(True), the value kept in a local",
       source="def grad_of(f, x):\n    xg = x.detach().clone().requires_grad_(True)\n    y = f(xg)\n    y.backward()\n"
              "    return xg.grad\n\ngrad_of(lambda t: (t ** 2).sum(), tensor([3., 4., 10.]))\n"),
    ok("q30", "a new tensor with requires_grad=True (torch.tensor warns; warnings cost nothing)",
       source="def grad_of(f, x):\n    t = torch.tensor(x, requires_grad=True)\n    f(t).backward()\n    return t.grad\n\n"
              "grad_of(lambda t: (t ** 2).sum(), tensor([3., 4., 10.]))\n"),
    bug("q30", "torch.autograd.grad instead of .backward() (the prompt asks for backward)",
        source="def grad_of(f, x):\n    x = x.clone().requires_grad_()\n    return torch.autograd.grad(f(x), x)[0]\n"),
    bug("q30", "returns the gradient of the original x (None), not of the copy that was traced",
        source="def grad_of(f, x):\n    xc = x.clone().requires_grad_()\n    f(xc).backward()\n    return x.grad\n"),
    bug("q30", "marks the caller's x itself: a second call adds to the first call's gradient",
        source="def grad_of(f, x):\n    x.requires_grad_()\n    f(x).backward()\n    return x.grad\n"),
    bug("q30", "a hard-coded derivative of t**2 (2 * x)", source="def grad_of(f, x):\n    return 2 * x\n"),
    bug("q30", "a finite-difference estimate instead of backward",
        source="def grad_of(f, x):\n    g = torch.zeros_like(x)\n    flat = x.reshape(-1)\n    h = 1e-3\n"
               "    for i in range(flat.numel()):\n        e = torch.zeros_like(flat)\n        e[i] = h\n"
               "        g.view(-1)[i] = (f((flat + e).view_as(x)) - f((flat - e).view_as(x))) / (2 * h)\n    return g\n"),

    # ---- q31: two_backwards(x, zero_between) ---------------------------------------------------------------------------
    ok("q31", "the gradient set to None between the calls",
       replace=("        x.grad.zero_()\n", "        x.grad = None\n")),
    ok("q31", "a loop over the two passes, detach().clone() and requires_grad = True",
       source="def two_backwards(x, zero_between):\n    xc = x.detach().clone()\n    xc.requires_grad = True\n"
              "    for i in range(2):\n        if i == 1 and zero_between:\n            xc.grad.data.zero_()\n"
              "        (xc ** 2).sum().backward()\n    return xc.grad\n\n"
              "x31 = tensor([1., 2., 3.])\ntwo_backwards(x31, False), two_backwards(x31, True)\n"),
    bug("q31", "always zeroes, whatever zero_between says", replace=("    if zero_between:\n        x.grad.zero_()\n", "    x.grad.zero_()\n")),
    bug("q31", "the condition inverted", replace=("if zero_between:", "if not zero_between:")),
    bug("q31", "never zeroes", replace=("    if zero_between:\n        x.grad.zero_()\n", "")),
    bug("q31", "no copy: the caller's x gets requires_grad and keeps the gradient across calls",
        replace=("x = x.clone().requires_grad_()", "x.requires_grad_()")),
    bug("q31", "zeroes after the second backward: returns zeros",
        source="def two_backwards(x, zero_between):\n    x = x.clone().requires_grad_()\n    (x ** 2).sum().backward()\n"
               "    (x ** 2).sum().backward()\n    if zero_between:\n        x.grad.zero_()\n    return x.grad\n"),

    # ---- q33: train(model, dl, epochs, lr) -------------------------------------------------------------------------------
    ok("q33", "plain SGD by hand under no_grad, model.zero_grad()",
       source="def train(model, dl, epochs, lr):\n    for _ in range(epochs):\n        for xb, yb in dl:\n"
              "            mnist_loss(model(xb), yb).backward()\n            with torch.no_grad():\n"
              "                for p in model.parameters():\n                    p -= lr * p.grad\n"
              "            model.zero_grad()\n" + _Q33_DEMO),
    ok("q33", "the book's 3-argument train_epoch(model, lr, params) and calc_grad reused as helpers (redefines q25's name)",
       source="def calc_grad(xb, yb, model):\n    loss = mnist_loss(model(xb), yb)\n    loss.backward()\n\n"
              "def train_epoch(model, lr, params):\n    for xb, yb in q33_dl:\n        calc_grad(xb, yb, model)\n"
              "        for p in params:\n            p.data -= p.grad * lr\n            p.grad.zero_()\n\n"
              "def train(model, dl, epochs, lr):\n    global q33_dl\n    q33_dl = dl\n    params = list(model.parameters())\n"
              "    for epoch in range(epochs):\n        train_epoch(model, lr, params)\n" + _Q33_DEMO),
    ok("q33", "the book's BasicOptim class; zero_grad before backward",
       source="class BasicOptim:\n    def __init__(self, params, lr):\n        self.params, self.lr = list(params), lr\n\n"
              "    def step(self, *args, **kwargs):\n        for p in self.params:\n            p.data -= p.grad.data * self.lr\n\n"
              "    def zero_grad(self, *args, **kwargs):\n        for p in self.params:\n            p.grad = None\n\n"
              "def train(model, dl, epochs, lr):\n    opt = BasicOptim(model.parameters(), lr)\n"
              "    for epoch in range(epochs):\n        for xb, yb in dl:\n            opt.zero_grad()\n"
              "            loss = mnist_loss(model(xb), yb)\n            loss.backward()\n            opt.step()\n" + _Q33_DEMO),
    ok("q33", "a fresh torch.optim.SGD each epoch (plain SGD keeps no state)",
       source="def train(model, dl, epochs, lr):\n    for epoch in range(epochs):\n"
              "        opt = torch.optim.SGD(model.parameters(), lr)\n        for xb, yb in dl:\n            opt.zero_grad()\n"
              "            mnist_loss(model(xb), yb).backward()\n            opt.step()\n" + _Q33_DEMO),
    bug("q33", "no zero_grad: gradients pile up", replace=("            opt.zero_grad()\n", "")),
    bug("q33", "momentum=0.9 (the prompt asks for plain SGD, no momentum)", replace=("lr=lr)", "lr=lr, momentum=0.9)")),
    bug("q33", "one epoch fewer: range(1, epochs)", replace=("range(epochs)", "range(1, epochs)")),
    bug("q33", "zero_grad between backward and step: the step sees no gradient",
        replace=("            opt.step()\n            opt.zero_grad()\n", "            opt.zero_grad()\n            opt.step()\n")),
    bug("q33", "Adam instead of SGD", replace=("torch.optim.SGD(model.parameters(), lr=lr)", "torch.optim.Adam(model.parameters(), lr=lr)")),
    bug("q33", "the learning rate hard-coded to 0.1", replace=("lr=lr)", "lr=0.1)")),

    # ---- q34: ReLU plot for x from -2 to 2 ----------------------------------------------------------------------------------
    ok("q34", "exactly the three corners: x = [-2, 0, 2], y = [0, 0, 2]",
       source="plt.plot([-2, 0, 2], [0, 0, 2])\nplt.title('ReLU')\n"),
    ok("q34", "clamp(min=0) over 50 points",
       source="x = torch.linspace(-2, 2, 50)\nplt.plot(x, torch.clamp(x, min=0))\n"),
    ok("q34", "NumPy maximum over 9 points, with a legend and an axis line",
       source="import numpy as np\nx = np.linspace(-2, 2, 9)\nplt.plot(x, np.maximum(x, 0), label='ReLU')\n"
              "plt.axhline(0, color='gray')\nplt.legend()\n"),
    ok("q34", "nn.ReLU() as a function on integer steps -2..2",
       source="x = torch.arange(-2., 3.)\nplt.plot(x, nn.ReLU()(x))\n"),
    bug("q34", "x from -6 to 6", replace=("torch.linspace(-2, 2, 101)", "torch.linspace(-6, 6, 101)")),
    bug("q34", "only x >= 0 (the flat part does not show)", replace=("torch.linspace(-2, 2, 101)", "torch.linspace(0, 2, 101)")),
    bug("q34", "the sigmoid plotted instead of ReLU", replace=("F.relu(xs)", "torch.sigmoid(xs)")),
    bug("q34", "plt.plot(y) without x: the x axis is the index", replace=("plt.plot(xs, F.relu(xs))", "plt.plot(F.relu(xs))")),
    bug("q34", "clamp(max=0): min(x, 0) instead of max(x, 0)", replace=("F.relu(xs)", "xs.clamp(max=0)")),
    bug("q34", "a straight line from (-2, 0) to (2, 2): the kink at 0 is missing", source="plt.plot([-2, 2], [0, 2])\n"),
    bug("q34", "leaky ReLU (slope 0.1 for x < 0)", replace=("F.relu(xs)", "F.leaky_relu(xs, 0.1)")),

    # ---- q36: simple_net and simple_forward ------------------------------------------------------------------------------
    ok("q36", "torch.nn.ReLU spelled out; simple_forward in three steps",
       source="simple_net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))\n\n"
              "def simple_forward(x, lin1, lin2):\n    h = lin1(x)\n    h = F.relu(h)\n    return lin2(h)\n\n"
              "x36 = torch.randn(3, 4)\nprint(simple_net(x36), simple_forward(x36, simple_net[0], simple_net[2]))\n"),
    ok("q36", "simple_forward from the layers' weight and bias by hand",
       replace=("return lin2(F.relu(lin1(x)))", "h = F.relu(x @ lin1.weight.t() + lin1.bias)\n    return h @ lin2.weight.t() + lin2.bias")),
    bug("q36", "nn.Sigmoid as the middle layer", replace=("nn.ReLU()", "nn.Sigmoid()")),
    bug("q36", "simple_forward without the nonlinearity", replace=("return lin2(F.relu(lin1(x)))", "return lin2(lin1(x))")),
    bug("q36", "simple_forward ignores lin1 and lin2 and calls the global simple_net",
        replace=("return lin2(F.relu(lin1(x)))", "return simple_net(x)")),
    bug("q36", "the book's 30 hidden units instead of 8",
        replace=("nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))", "nn.Sequential(nn.Linear(4, 30), nn.ReLU(), nn.Linear(30, 1))")),
    bug("q36", "ReLU applied to the input, before the first layer", replace=("return lin2(F.relu(lin1(x)))", "return lin2(lin1(F.relu(x)))")),
    bug("q36", "simple_forward uses an nn.ReLU module (the prompt asks for F.relu there)",
        replace=("return lin2(F.relu(lin1(x)))", "return lin2(nn.ReLU()(lin1(x)))")),
]
