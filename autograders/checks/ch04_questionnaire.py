"""The chapter 4 questionnaire (37 questions): code answers checked here, prose answers graded by hand.

Every code check draws its inputs while grading (a fresh seed each time), so a value typed into the
notebook never passes where a working function does. Prose items (`A.manual`) have a key with English
and Korean key terms in `solutions/ch04_questionnaire.yaml` (see `autograders.rubric`).

Item ids are the answer cells' grade_ids: `qNN` for a question's (code or prose) answer and `qNN_prose`
for the prose part of a question that also has a code part.

Names fixed by the notebook (the prompts state them):
  q04 `double_odds(nums)`            q05 `stack_images(imgs)`          q06 `rank_and_shape(t)`
  q07 `rmse(a, b)`, `l1(a, b)`        q09 `nine`, `doubled`, `corner`, `double_corner(x)`
  q10 `center_columns(m)`            q14 `sgd_steps` (7 strings)       q21 a plot of the sigmoid
  q24 `make_loader(items, bs)`       q25 `train_epoch(model, lr, params, dl)`
  q26 `pair_up(xs, ys)`              q27 `flatten_images(x)`           q29 `matmul(a, b)`
  q30 `grad_of(f, x)`                q31 `two_backwards(x, zero_between)`
  q33 `train(model, dl, epochs, lr)` q34 a plot of ReLU on [-2, 2]     q36 `simple_net`, `simple_forward(x, lin1, lin2)`
`mnist_loss(predictions, targets)` comes from the locked setup cell.
"""
from __future__ import annotations

import ast
import math
import random
import secrets
import textwrap

import torch

from .expect import expect_close, expect_equal, expect_true
from .spec import Assignment, CheckFailed

ASSIGNMENT = Assignment("ch04_questionnaire", title="Chapter 4 questionnaire (37 questions)", data=())
A = ASSIGNMENT


def _gen() -> torch.Generator:
    "A generator seeded afresh at grading time: nobody knows the inputs in advance."
    return torch.Generator().manual_seed(secrets.randbits(62))


def _rng() -> random.Random:
    return random.Random(secrets.randbits(62))


def _tree(ns, item_id: str) -> ast.AST:
    "The answer cell's syntax tree (IPython magics and shell lines dropped)."
    src = ns.source(item_id) or ""
    lines = [ln for ln in src.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    try:
        return ast.parse(textwrap.dedent("\n".join(lines)))
    except SyntaxError as e:
        raise CheckFailed(f"the answer cell `{item_id}` is not valid Python ({e.msg}, line {e.lineno})") from None


def _nodes(ns, item_id: str, kind) -> list:
    return [n for n in ast.walk(_tree(ns, item_id)) if isinstance(n, kind)]


def _calls_attribute(ns, item_id: str, attr: str) -> bool:
    return any(isinstance(n.func, ast.Attribute) and n.func.attr == attr or
               isinstance(n.func, ast.Name) and n.func.id == attr for n in _nodes(ns, item_id, ast.Call))


def _number(value, what: str) -> float:
    if isinstance(value, torch.Tensor):
        expect_true(value.numel() == 1, f"{what}: expected a single number, got a tensor of shape "
                    f"{tuple(value.shape)}")
        return float(value.reshape(-1)[0])
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise CheckFailed(f"{what}: expected a number (or a one-element tensor), got {type(value).__name__}")


# ---- prose items (graded by hand; the key is in solutions/) -------------------------------------------
PROSE_POINTS = {
    "q01": 1, "q02": 1, "q03": 2, "q04_prose": 1, "q05_prose": 1, "q06_prose": 1, "q07_prose": 1,
    "q08": 1, "q10_prose": 1, "q11": 1, "q12": 1, "q13": 1, "q15": 1, "q16": 1, "q17": 1, "q18": 1,
    "q19": 1, "q20": 1, "q21_prose": 1, "q22": 1, "q23": 1, "q24_prose": 1, "q26_prose": 1,
    "q27_prose": 1, "q28": 1, "q29_prose": 1, "q30_prose": 1, "q31_prose": 1, "q32": 1,
    "q34_prose": 1, "q35": 1, "q36_prose": 1, "q37": 2,
}


def _manual(item_id: str) -> None:
    A.manual(item_id, points=PROSE_POINTS[item_id])


# Items are declared in notebook order (code part first, then its prose part).
for _id in ("q01", "q02", "q03"):
    _manual(_id)


# ---- Q4: list comprehension -----------------------------------------------------------------------------
def _odds_doubled(nums):
    return [2 * n for n in nums if n % 2 == 1]


@A.check("q04", "double_odds keeps the odd numbers and doubles them", points=1)
def _(ns):
    nums = [1, 2, 3, 4, 5, 6, 7, 10, 11]
    expect_equal(ns.call("double_odds", nums), _odds_doubled(nums), f"double_odds({nums})")


@A.check("q04", "the answer uses a list comprehension with an `if` filter", points=1)
def _(ns):
    comps = _nodes(ns, "q04", ast.ListComp)
    expect_true(comps, "write double_odds with a list comprehension: [... for ... in ... if ...]")
    expect_true(any(g.ifs for c in comps for g in c.generators),
                "the list comprehension should select the odd numbers with an `if` clause")


@A.check("q04", "works on fresh lists (negative numbers, zero, empty)", points=1, hidden=True)
def _(ns):
    r = _rng()
    cases = [[], [0], [r.randint(-50, 50) for _ in range(r.randint(5, 20))], [-3, -2, -1, 0, 1]]
    for nums in cases:
        expect_equal(ns.call("double_odds", nums), _odds_doubled(nums), f"double_odds({nums})")


_manual("q04_prose")


# ---- Q5: rank-3 tensor -----------------------------------------------------------------------------------
@A.check("q05", "stack_images stacks 2-D images into a rank-3 tensor", points=1)
def _(ns):
    g = _gen()
    imgs = [torch.rand(28, 28, generator=g) for _ in range(4)]
    got = ns.call("stack_images", imgs)
    expect_true(isinstance(got, torch.Tensor), f"stack_images should return a tensor, got {type(got).__name__}")
    expect_true(got.ndim == 3, f"the result should have rank 3, got rank {got.ndim}")
    expect_close(got, torch.stack(imgs), "stack_images(four 28x28 images)")


@A.check("q05", "other numbers and sizes of images", points=1, hidden=True)
def _(ns):
    g, r = _gen(), _rng()
    h, w = r.randint(2, 9), r.randint(2, 9)
    imgs = [torch.rand(h, w, generator=g) for _ in range(r.randint(1, 7))]
    expect_close(ns.call("stack_images", imgs), torch.stack(imgs), f"stack_images({len(imgs)} images {h}x{w})")


_manual("q05_prose")


# ---- Q6: rank and shape ---------------------------------------------------------------------------------
_RANK_SHAPE = "__r, __s = rank_and_shape(t)\nresult = (int(__r), [int(d) for d in __s])\n"


@A.check("q06", "rank_and_shape returns (rank, shape) of a tensor", points=1)
def _(ns):
    t = torch.zeros(3, 28, 28)
    expect_equal(ns.run(_RANK_SHAPE, t=t), (3, [3, 28, 28]), "rank_and_shape(a 3x28x28 tensor)")


@A.check("q06", "tensors of rank 0 to 4", points=1, hidden=True)
def _(ns):
    r = _rng()
    for rank in range(5):
        shape = [r.randint(1, 5) for _ in range(rank)]
        # built in the kernel: a 0-d tensor does not survive the value codec (it arrives with shape (1,))
        code = "import torch as __t\nt = __t.zeros(*shape) if shape else __t.tensor(1.5)\n" + _RANK_SHAPE
        expect_equal(ns.run(code, shape=shape), (rank, shape), f"rank_and_shape(a tensor of shape {tuple(shape)})")


_manual("q06_prose")


# ---- Q7: RMSE and L1 -------------------------------------------------------------------------------------
def _ref_rmse(a, b):
    if a.ndim == 2 and b.ndim == 2:  # an image pair: the reference's own distance
        try:
            from reference.pixel_similarity import rmse_distance
            return rmse_distance(a, b)
        except ImportError:
            pass
    return ((a - b) ** 2).mean().sqrt()


def _ref_l1(a, b):
    if a.ndim == 2 and b.ndim == 2:
        try:
            from reference.pixel_similarity import mnist_distance
            return mnist_distance(a, b)
        except ImportError:
            pass
    return (a - b).abs().mean()


@A.check("q07", "rmse(a, b) on random images: square, mean, then square root", points=1)
def _(ns):
    g = _gen()
    a, b = torch.rand(28, 28, generator=g), torch.rand(28, 28, generator=g)
    got = _number(ns.call("rmse", a, b), "rmse(a, b)")
    expect_close(got, _ref_rmse(a, b).item(), "rmse(a, b) for two random 28x28 images")


@A.check("q07", "l1(a, b) on random images: mean absolute difference", points=1)
def _(ns):
    g = _gen()
    a, b = torch.rand(28, 28, generator=g), torch.rand(28, 28, generator=g)
    got = _number(ns.call("l1", a, b), "l1(a, b)")
    expect_close(got, _ref_l1(a, b).item(), "l1(a, b) for two random 28x28 images")


@A.check("q07", "rmse on other shapes and scales", points=1, hidden=True)
def _(ns):
    g = _gen()
    for shape in [(7,), (3, 5, 4)]:
        a, b = torch.randn(*shape, generator=g) * 3, torch.randn(*shape, generator=g)
        expect_close(_number(ns.call("rmse", a, b), "rmse(a, b)"), _ref_rmse(a, b).item(), f"rmse on shape {shape}")


@A.check("q07", "l1 on other shapes and scales", points=1, hidden=True)
def _(ns):
    g = _gen()
    for shape in [(7,), (3, 5, 4)]:
        a, b = torch.randn(*shape, generator=g) * 3, torch.randn(*shape, generator=g)
        expect_close(_number(ns.call("l1", a, b), "l1(a, b)"), _ref_l1(a, b).item(), f"l1 on shape {shape}")


_manual("q07_prose")
_manual("q08")


# ---- Q9: 3x3 tensor, doubled, bottom-right 2x2 ---------------------------------------------------------------
@A.check("q09", "`nine` holds 1..9 as 3x3 and `doubled` is twice it", points=1)
def _(ns):
    want = torch.arange(1, 10).view(3, 3)
    expect_close(ns.get("nine"), want, "nine")
    expect_close(ns.get("doubled"), want * 2, "doubled")


@A.check("q09", "`corner` is the bottom-right 2x2 of `doubled`", points=1)
def _(ns):
    expect_close(ns.get("corner"), torch.tensor([[10, 12], [16, 18]]), "corner")


@A.check("q09", "double_corner works on any 3x3 tensor", points=1, hidden=True)
def _(ns):
    x = torch.randint(-20, 20, (3, 3), generator=_gen())
    expect_close(ns.call("double_corner", x), (x * 2)[1:, 1:], "double_corner(a random 3x3 tensor)")


# ---- Q10: broadcasting -------------------------------------------------------------------------------------
@A.check("q10", "center_columns subtracts each column's mean", points=1)
def _(ns):
    m = torch.randn(5, 3, generator=_gen())
    expect_close(ns.call("center_columns", m), m - m.mean(0), "center_columns(a random 5x3 matrix)")


@A.check("q10", "other shapes", points=1, hidden=True)
def _(ns):
    r = _rng()
    m = torch.randn(r.randint(2, 40), r.randint(1, 9), generator=_gen()) * 10
    expect_close(ns.call("center_columns", m), m - m.mean(0), f"center_columns(shape {tuple(m.shape)})")


@A.check("q10", "no Python loop: broadcasting does the work", points=1, hidden=True)
def _(ns):
    loops = _nodes(ns, "q10", (ast.For, ast.While, ast.ListComp, ast.GeneratorExp, ast.DictComp, ast.SetComp))
    expect_true(not loops, "center_columns should rely on broadcasting, without a Python loop")


_manual("q10_prose")
for _id in ("q11", "q12", "q13"):
    _manual(_id)


# ---- Q14: the seven steps ------------------------------------------------------------------------------------
SGD_STEPS = [  # (what the step is, key words in English and Korean; any one of them marks the step)
    ("initialise the weights", ["init", "random", "초기", "무작위", "랜덤", "임의"]),
    ("predict", ["predict", "forward", "output", "예측", "순전파", "출력"]),
    ("compute the loss", ["loss", "error", "cost", "손실", "오차", "비용"]),
    ("compute the gradients", ["gradient", "grad", "backward", "derivative", "기울기", "그래디언트",
                               "그레이디언트", "경사", "미분", "역전파"]),
    ("step the weights", ["step", "update", "adjust", "change", "스텝", "갱신", "업데이트", "조정", "변경", "바꾸",
                          "바꿈"]),
    ("repeat", ["repeat", "again", "loop", "iterat", "go back", "반복", "되풀이", "다시"]),
    ("stop", ["stop", "halt", "end", "finish", "until", "멈", "중단", "중지", "종료", "끝"]),
]


def _step_matches(text: str, words: list[str]) -> bool:
    import re
    import unicodedata
    t = unicodedata.normalize("NFKC", text).lower()
    for w in words:
        if w.isascii():
            if re.search(r"(?<![a-z])" + re.escape(w), t):
                return True
        elif w in t or w in t.replace(" ", ""):
            return True
    return False


@A.check("q14", "seven steps, in order (any wording, English or Korean)", points=2)
def _(ns):
    steps = ns.get("sgd_steps")
    expect_true(isinstance(steps, (list, tuple)) and all(isinstance(s, str) for s in steps),
                "sgd_steps should be a list of strings")
    expect_true(len(steps) == 7, f"sgd_steps should have 7 steps, it has {len(steps)}")
    missed = [f"{i + 1}: {name}" for i, (s, (name, words)) in enumerate(zip(steps, SGD_STEPS))
              if not _step_matches(s, words)]
    if len(missed) == 7:
        raise CheckFailed("none of the steps was recognised; expected, in order: "
                          + ", ".join(n for n, _ in SGD_STEPS))
    if missed:
        return (7 - len(missed)) / 7  # partial credit; the grader may review the wording
    return None


for _id in ("q15", "q16", "q17", "q18", "q19", "q20"):
    _manual(_id)


# ---- Q21 / Q34: plots ----------------------------------------------------------------------------------------
def _lines(ns, item_id: str) -> list[tuple[torch.Tensor, torch.Tensor]]:
    out = []
    for ax in ns.figures(item_id) or []:
        axes = ax if isinstance(ax, list) else [ax]
        for a in axes:
            for line in (a.get("lines", []) if isinstance(a, dict) else []):
                try:
                    x = torch.as_tensor(line["x"]).double().reshape(-1)
                    y = torch.as_tensor(line["y"]).double().reshape(-1)
                except (KeyError, TypeError, ValueError, RuntimeError):
                    continue
                if x.numel() == y.numel() and x.numel() > 0:
                    out.append((x, y))
    if not out:
        raise CheckFailed(f"no line was drawn by the answer cell `{item_id}` (use plt.plot in that cell)")
    return out


def _matching(lines, fn, min_points: int = 10):
    return [(x, y) for x, y in lines if x.numel() >= min_points and torch.isfinite(x).all()
            and torch.allclose(y, fn(x), atol=2e-3)]


@A.check("q21", "a line whose y is sigmoid(x)", points=1)
def _(ns):
    lines = _lines(ns, "q21")
    expect_true(_matching(lines, torch.sigmoid), "no drawn line follows y = sigmoid(x) (at least 10 points)")


@A.check("q21", "x spans at least -4..4, so both flat ends show", points=1)
def _(ns):
    ok = _matching(_lines(ns, "q21"), torch.sigmoid)
    expect_true(ok, "no drawn line follows y = sigmoid(x)")
    expect_true(any(x.min() <= -4 and x.max() >= 4 for x, _ in ok),
                "plot the sigmoid over a wider range (at least x from -4 to 4) so its S shape shows",
                got=f"x from {min(x.min().item() for x, _ in ok):.3g} to {max(x.max().item() for x, _ in ok):.3g}")


_manual("q21_prose")
for _id in ("q22", "q23"):
    _manual(_id)


# ---- Q24: DataLoader -----------------------------------------------------------------------------------------
_BATCHES = textwrap.dedent("""
    __dl = make_loader(items, bs)
    def __epoch(dl):
        out = []
        for b in dl:
            b = b.tolist() if hasattr(b, 'tolist') else list(b)
            out.append([int(v) for v in b])
        return out
    result = {'type': type(__dl).__name__, 'first': __epoch(__dl), 'second': __epoch(__dl)}
""")


@A.check("q24", "make_loader yields every item once, in batches of bs", points=1)
def _(ns):
    items, bs = list(range(100, 123)), 5
    got = ns.run(_BATCHES, items=items, bs=bs)
    batches = got["first"]
    expect_equal(sorted(v for b in batches for v in b), items, "all the items of one pass over make_loader(items, 5)")
    expect_equal([len(b) for b in batches], [5, 5, 5, 5, 3], "batch sizes for 23 items with bs=5")


@A.check("q24", "make_loader returns a DataLoader", points=1)
def _(ns):
    got = ns.run(_BATCHES, items=list(range(10)), bs=4)
    expect_true("DataLoader" in got["type"], f"make_loader should return a DataLoader, got {got['type']}")


@A.check("q24", "the items are shuffled, differently each epoch", points=1, hidden=True)
def _(ns):
    r = _rng()
    items, bs = list(range(r.randint(60, 90))), r.randint(4, 9)
    got = ns.run(_BATCHES, items=items, bs=bs)
    first = [v for b in got["first"] for v in b]
    second = [v for b in got["second"] for v in b]
    expect_equal(sorted(first), items, "all the items of one pass")
    expect_true(first != items and first != second, "the DataLoader should shuffle the items each epoch")


_manual("q24_prose")


# ---- Q25 / Q33: training loops ---------------------------------------------------------------------------------
def _toy(g: torch.Generator, n: int, nin: int):
    "A separable two-class problem: targets 0/1 of shape (n, 1)."
    x = torch.randn(n, nin, generator=g)
    w = torch.randn(nin, 1, generator=g)
    y = ((x @ w) > 0).float()
    return x, y


def _mnist_loss(p, y):
    p = p.sigmoid()
    return torch.where(y == 1, 1 - p, p).mean()


def _ref_sgd(params0, forward, x, y, bs, epochs, lr):
    "Plain SGD, one step per batch with that batch's gradient only."
    params = [p.clone().requires_grad_() for p in params0]
    for _ in range(epochs):
        for i in range(0, len(x), bs):
            loss = _mnist_loss(forward(params, x[i:i + bs]), y[i:i + bs])
            loss.backward()
            with torch.no_grad():
                for p in params:
                    p -= lr * p.grad
                    p.grad = None
    return [p.detach() for p in params]


_LOSS_FN = textwrap.dedent("""
    import torch as __t
    def __loss(p, y):
        p = p.sigmoid()
        return __t.where(y == 1, 1 - p, p).mean()
""")

_RUN_EPOCH = _LOSS_FN + textwrap.dedent("""
    __params = [p.clone().requires_grad_() for p in params0]
    def __model(xb):
        return xb @ __params[0] + __params[1]
    __dl = [(x[i:i + bs], y[i:i + bs]) for i in range(0, len(x), bs)]
    with __t.no_grad():
        __before = __loss(__model(x), y).item()
    for __e in range(epochs):
        train_epoch(__model, lr, __params, __dl)
    with __t.no_grad():
        __after = __loss(__model(x), y).item()
    result = {'before': __before, 'after': __after, 'params': [p.detach().clone() for p in __params]}
""")


def _linear_forward(params, xb):
    return xb @ params[0] + params[1]


def _epoch_case(ns, g, n, nin, bs, epochs, lr):
    x, y = _toy(g, n, nin)
    params0 = [torch.randn(nin, 1, generator=g) * 0.1, torch.zeros(1)]
    got = ns.run(_RUN_EPOCH, x=x, y=y, params0=params0, bs=bs, epochs=epochs, lr=lr)
    return got, _ref_sgd(params0, _linear_forward, x, y, bs, epochs, lr), params0


def _falls(got, params0, what: str):
    moved = any(not torch.allclose(p, q) for p, q in zip(got["params"], params0))
    expect_true(moved, f"{what} did not change the parameters: is there a step (p -= lr * p.grad)?")
    expect_true(got["after"] < got["before"] - 1e-3,
                f"{what} did not lower the loss", expected=f"below {got['before']:.4f}", got=f"{got['after']:.4f}")


def _same_as_sgd(got, want, what: str):
    for i, (p, q) in enumerate(zip(got["params"], want)):
        try:
            expect_close(p, q, f"parameter {i} after {what}", atol=1e-4, rtol=1e-3)
        except CheckFailed as e:
            raise CheckFailed(e.message + " -- each step must use only its own batch's gradient (zero the "
                              "gradients after each step) and move every parameter by -lr * gradient",
                              expected=e.expected, got=e.got) from None


@A.check("q25", "train_epoch lowers the loss and changes the parameters", points=1)
def _(ns):
    got, _, params0 = _epoch_case(ns, _gen(), n=64, nin=3, bs=16, epochs=3, lr=1.0)
    _falls(got, params0, "train_epoch")


@A.check("q25", "one plain SGD step per batch, with that batch's gradient only", points=1)
def _(ns):
    got, want, _ = _epoch_case(ns, _gen(), n=64, nin=3, bs=16, epochs=1, lr=1.0)
    _same_as_sgd(got, want, "one epoch of 4 batches")


@A.check("q25", "fresh data, batch size and learning rate", points=1, hidden=True)
def _(ns):
    r = _rng()
    got, want, _ = _epoch_case(ns, _gen(), n=r.randint(40, 70), nin=r.randint(2, 6), bs=r.randint(5, 12),
                               epochs=2, lr=r.choice([0.3, 0.5, 2.0]))
    _same_as_sgd(got, want, "two epochs on fresh data")


# ---- Q26: zip ----------------------------------------------------------------------------------------------
_PAIRS = "__r = pair_up(xs, ys)\nresult = {'type': type(__r).__name__, 'items': [p for p in __r]}\n"


def _pair_case(ns, xs, ys):
    got = ns.run(_PAIRS, xs=xs, ys=ys)
    expect_true(got["type"] == "list", f"pair_up should return a list (wrap zip(...) in list(...)), got {got['type']}")
    expect_equal(got["items"], list(zip(xs, ys)), f"pair_up({xs!r}, {ys!r})")
    expect_true(all(isinstance(p, tuple) for p in got["items"]), "each element should be a tuple")


@A.check("q26", "pair_up([1, 2, 3, 4], 'abcd') gives a list of tuples", points=1)
def _(ns):
    _pair_case(ns, [1, 2, 3, 4], "abcd")


@A.check("q26", "fresh numbers and letters", points=1, hidden=True)
def _(ns):
    r = _rng()
    n = r.randint(2, 9)
    _pair_case(ns, [r.randint(-99, 99) for _ in range(n)], "".join(r.choice("xyzuvwpq") for _ in range(n)))


_manual("q26_prose")


# ---- Q27: view ---------------------------------------------------------------------------------------------
@A.check("q27", "flatten_images turns (n, h, w) into (n, h*w) with view", points=1)
def _(ns):
    x = torch.rand(6, 28, 28, generator=_gen())
    expect_true(_calls_attribute(ns, "q27", "view"), "use the tensor's .view(...) method")
    expect_close(ns.call("flatten_images", x), x.reshape(6, 784), "flatten_images(a 6x28x28 tensor)")


@A.check("q27", "other numbers and sizes of images", points=1, hidden=True)
def _(ns):
    r = _rng()
    x = torch.rand(r.randint(1, 9), r.randint(2, 9), r.randint(2, 9), generator=_gen())
    expect_close(ns.call("flatten_images", x), x.reshape(len(x), -1), f"flatten_images(shape {tuple(x.shape)})")


_manual("q27_prose")
_manual("q28")


# ---- Q29: @ -------------------------------------------------------------------------------------------------
@A.check("q29", "matmul(a, b) multiplies matrices with @", points=1)
def _(ns):
    expect_true(any(isinstance(n.op, ast.MatMult) for n in _nodes(ns, "q29", ast.BinOp)),
                "use the @ operator in matmul")
    g = _gen()
    a, b = torch.randn(4, 3, generator=g), torch.randn(3, 2, generator=g)
    expect_close(ns.call("matmul", a, b), a @ b, "matmul(a 4x3, b 3x2)")


@A.check("q29", "other shapes, including a matrix times a vector", points=1, hidden=True)
def _(ns):
    g, r = _gen(), _rng()
    n, k, m = r.randint(1, 8), r.randint(1, 8), r.randint(1, 8)
    a, b, v = torch.randn(n, k, generator=g), torch.randn(k, m, generator=g), torch.randn(k, generator=g)
    expect_close(ns.call("matmul", a, b), a @ b, f"matmul({n}x{k}, {k}x{m})")
    expect_close(ns.call("matmul", a, v), a @ v, f"matmul({n}x{k}, vector of {k})")


_manual("q29_prose")


# ---- Q30: backward -----------------------------------------------------------------------------------------
@A.check("q30", "grad_of(f, x) returns the gradient found by backward", points=1)
def _(ns):
    expect_true(_calls_attribute(ns, "q30", "backward"), "compute the gradient with .backward()")
    x = torch.randn(5, generator=_gen())
    got = ns.run("result = grad_of(lambda t: (t ** 2).sum(), x)", x=x)
    expect_close(got, 2 * x, "grad_of(lambda t: (t**2).sum(), x)")


@A.check("q30", "another function and shape", points=1, hidden=True)
def _(ns):
    x = torch.randn(3, 4, generator=_gen())
    got = ns.run("result = grad_of(lambda t: (t ** 3).sum() + t.sin().sum(), x)", x=x)
    expect_close(got, 3 * x ** 2 + x.cos(), "grad_of(lambda t: (t**3).sum() + t.sin().sum(), x)")


_manual("q30_prose")


# ---- Q31: zeroing gradients ----------------------------------------------------------------------------------
@A.check("q31", "without zeroing, two backward passes add up", points=1)
def _(ns):
    x = torch.randn(4, generator=_gen())
    expect_close(ns.call("two_backwards", x, False), 4 * x, "two_backwards(x, zero_between=False)")


@A.check("q31", "with zeroing in between, only the last gradient is left", points=1)
def _(ns):
    x = torch.randn(4, generator=_gen())
    expect_close(ns.call("two_backwards", x, True), 2 * x, "two_backwards(x, zero_between=True)")


_manual("q31_prose")
_manual("q32")


# ---- Q33: a training loop --------------------------------------------------------------------------------------
_RUN_TRAIN = _LOSS_FN + textwrap.dedent("""
    __layers = []
    for __i, __o in sizes:
        if __layers:
            __layers.append(__t.nn.ReLU())
        __layers.append(__t.nn.Linear(__i, __o))
    __m = __t.nn.Sequential(*__layers)
    with __t.no_grad():
        for __p, __v in zip(__m.parameters(), params0):
            __p.copy_(__v)
    __dl = [(x[i:i + bs], y[i:i + bs]) for i in range(0, len(x), bs)]
    with __t.no_grad():
        __before = __loss(__m(x), y).item()
    train(__m, __dl, epochs, lr)
    with __t.no_grad():
        __after = __loss(__m(x), y).item()
    result = {'before': __before, 'after': __after, 'params': [p.detach().clone() for p in __m.parameters()]}
""")


def _mlp_forward(sizes):
    def forward(params, xb):
        out = xb
        for k in range(len(sizes)):
            if k:
                out = out.relu()
            out = out @ params[2 * k].t() + params[2 * k + 1]
        return out
    return forward


def _train_case(ns, g, n, sizes, bs, epochs, lr):
    x, y = _toy(g, n, sizes[0][0])
    params0 = []
    for i, o in sizes:
        params0 += [torch.randn(o, i, generator=g) * (1 / math.sqrt(i)), torch.randn(o, generator=g) * 0.1]
    got = ns.run(_RUN_TRAIN, x=x, y=y, params0=params0, sizes=sizes, bs=bs, epochs=epochs, lr=lr)
    return got, _ref_sgd(params0, _mlp_forward(sizes), x, y, bs, epochs, lr), params0


@A.check("q33", "train lowers the loss and changes the parameters", points=1)
def _(ns):
    got, _, params0 = _train_case(ns, _gen(), n=64, sizes=[(3, 1)], bs=16, epochs=3, lr=1.0)
    _falls(got, params0, "train")


@A.check("q33", "plain SGD: one step per batch, gradients zeroed between steps", points=1)
def _(ns):
    got, want, _ = _train_case(ns, _gen(), n=64, sizes=[(3, 1)], bs=16, epochs=2, lr=1.0)
    _same_as_sgd(got, want, "2 epochs of 4 batches")


@A.check("q33", "a two-layer net on fresh data", points=1, hidden=True)
def _(ns):
    r = _rng()
    nin = r.randint(2, 5)
    got, want, _ = _train_case(ns, _gen(), n=r.randint(40, 70), sizes=[(nin, 6), (6, 1)], bs=r.randint(5, 12),
                               epochs=2, lr=r.choice([0.3, 0.5, 1.0]))
    _same_as_sgd(got, want, "two epochs of a two-layer net")


# ---- Q34: ReLU plot ------------------------------------------------------------------------------------------
@A.check("q34", "a line whose y is relu(x)", points=1)
def _(ns):
    expect_true(_matching(_lines(ns, "q34"), torch.relu), "no drawn line follows y = relu(x) (at least 10 points)")


@A.check("q34", "x runs from -2 to 2", points=1)
def _(ns):
    ok = _matching(_lines(ns, "q34"), torch.relu)
    expect_true(ok, "no drawn line follows y = relu(x)")
    good = [x for x, _ in ok if -2.5 <= x.min() <= -1.99 and 1.99 <= x.max() <= 2.5
            and (x < 0).sum() >= 3 and (x > 0).sum() >= 3]
    expect_true(good, "plot ReLU for x from -2 to 2 (with points on both sides of 0)",
                got=f"x from {min(x.min().item() for x, _ in ok):.3g} to {max(x.max().item() for x, _ in ok):.3g}")


_manual("q34_prose")
_manual("q35")


# ---- Q36: F.relu vs nn.ReLU ------------------------------------------------------------------------------------
_NET = textwrap.dedent("""
    import torch as __t
    result = {'kinds': [type(m).__name__ for m in simple_net],
              'is_module': [isinstance(m, __t.nn.Module) for m in simple_net],
              'net': simple_net(x).detach(),
              'fn': simple_forward(x, simple_net[0], simple_net[2]).detach(),
              'ref': simple_net[2](__t.relu(simple_net[0](x))).detach()}
""")


@A.check("q36", "simple_net uses nn.ReLU as a layer between two Linear layers", points=1)
def _(ns):
    got = ns.run(_NET, x=torch.randn(5, 4, generator=_gen()))
    expect_equal(got["kinds"], ["Linear", "ReLU", "Linear"], "the layers of simple_net")
    expect_close(got["net"], got["ref"], "simple_net(x)")


@A.check("q36", "simple_forward computes the same with F.relu", points=1)
def _(ns):
    expect_true(_calls_attribute(ns, "q36", "relu"), "use F.relu in simple_forward")
    got = ns.run(_NET, x=torch.randn(7, 4, generator=_gen()))
    expect_close(got["fn"], got["ref"], "simple_forward(x, simple_net[0], simple_net[2])")


_manual("q36_prose")
_manual("q37")
