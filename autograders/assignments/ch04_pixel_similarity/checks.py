"""Lab `ch04_pixel_similarity`: the chapter's baseline (ideal 3 and 7, L1 distance, `is_3`, accuracy, RMSE).

Every check computes on inputs drawn while grading (`ns.rng`: random tensors, and MNIST_SAMPLE validation
images picked at random) and compares with `reference.pixel_similarity`, so a number typed into the notebook
never passes.

One mistake costs one item. Each item is judged on its own answer, fed with the reference's version of what
earlier items answered (`given`, with the helpers of this unit's `kernel.py`):
- `means` runs the student's means cell again on the reference stacks (a stack without /255 costs `stacks`
  only);
- `is_3` is called with the chapter's L1 distance and the reference's ideal digits (a wrong distance or a
  wrong mean costs its own item); a Python loop over the images is seen by counting the distances it
  measures for a whole stack (two when it broadcasts), or, when it measures none through `mnist_distance`,
  in its source;
- `accuracy` runs the student's accuracy cell again with an `is_3` of the grader's (a random scoring of the
  pixels): the accuracies must be that `is_3`'s fractions, so they are computed from `is_3`, never typed in,
  and a wrong `is_3` costs `is_3` only.

Names fixed by the notebook: `threes`, `sevens`, `stacked_threes`, `stacked_sevens`, `mean3`, `mean7`,
`mnist_distance(a, b)`, `is_3(x)`, `valid_3_tens`, `valid_7_tens`, `accuracy_3s`, `accuracy_7s`,
`rmse_distance(a, b)`.
"""
from __future__ import annotations

import ast
from functools import lru_cache

import torch

from autograders.checks.expect import expect_close, expect_equal, expect_true, kind_of, pack_images
from autograders.checks.spec import Assignment, CheckFailed

ASSIGNMENT = Assignment("ch04_pixel_similarity", title="Pixel similarity: the ideal 3 and the ideal 7 (chapter 4)")
A = ASSIGNMENT

N_TRAIN = {3: 6131, 7: 6265}
N_VALID = {3: 1010, 7: 1028}
MAX_DISTANCE_CALLS = 4     # a broadcasting is_3 measures two distances for a whole stack


@lru_cache(maxsize=1)
def _ref():
    "The reference's stacks and ideal digits (float in [0, 1], book order), and the stacks as bytes."
    from reference import pixel_similarity as ps
    s = ps.load_stacks()
    s["mean3"], s["mean7"] = s["stacked_threes"].mean(0), s["stacked_sevens"].mean(0)
    for name in ("stacked_threes", "stacked_sevens", "valid_3_tens", "valid_7_tens"):
        s[name + "_u8"] = (s[name] * 255).round().to(torch.uint8)
    return s


def _ps():
    from reference import pixel_similarity
    return pixel_similarity


def _held_out(n: int, g: torch.Generator) -> torch.Tensor:
    "`n` validation images (3s and 7s mixed) picked at random."
    r = _ref()
    pool = torch.cat([r["valid_3_tens"], r["valid_7_tens"]])
    return pool[torch.randperm(len(pool), generator=g)[:n]].clone()


def _scalar_close(got, want, what: str) -> None:
    "`got` is a single number close to `want` (a 0-d tensor may arrive as shape (1,) from the kernel)."
    n = got.numel() if isinstance(got, torch.Tensor) else 1
    expect_true(n == 1, f"{what}: expected a single number for two images, got {n} numbers",
                expected="one number", got=f"{n} numbers")
    expect_close(got, want, what, atol=1e-5, check_shape=False)


def _number(value, what: str) -> float:
    "A single number (Python number or one-element tensor) as a float, else CheckFailed."
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.dtype != torch.bool:
        return float(value.double().item())
    raise CheckFailed(f"{what} should be a single number, got {kind_of(value)}", expected="a number",
                      got=kind_of(value))


def _tensor(value, what: str) -> torch.Tensor:
    "`value` if it is a tensor, else CheckFailed saying what kind of value came back."
    if not isinstance(value, torch.Tensor):
        raise CheckFailed(f"{what}: expected a tensor, got {kind_of(value)}", expected="a tensor", got=kind_of(value))
    return value


def _as_bool(t, what: str, n: int) -> torch.Tensor:
    "One boolean per image: a tensor of shape (n,) of True/False (or 0/1)."
    if not isinstance(t, torch.Tensor):
        raise CheckFailed(f"{what}: expected a tensor of {n} booleans, got {kind_of(t)}",
                          expected=f"tensor of shape ({n},), dtype bool", got=kind_of(t))
    if tuple(t.shape) != (n,):
        raise CheckFailed(f"{what}: expected one boolean per image, shape ({n},), got shape {tuple(t.shape)}",
                          expected=f"shape ({n},)", got=f"shape {tuple(t.shape)}")
    if t.dtype != torch.bool and not bool(((t == 0) | (t == 1)).all()):
        raise CheckFailed(f"{what}: expected booleans (True/False), got values other than 0 and 1",
                          expected="booleans", got=kind_of(t))
    return t.bool()


_LOOPS = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _loops_in(source: str, name: str) -> bool | None:
    """Whether the function `name` of an answer cell (or a function of that cell it calls) loops in Python
    (`for`, `while`, a comprehension, `map`); None when the cell cannot be read or does not define it."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
        source = TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001  (plain Python then)
        pass
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    funcs = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            funcs[node.name] = node
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda):
            funcs.update({t.id: node.value for t in node.targets if isinstance(t, ast.Name)})
    if name not in funcs:
        return None
    seen, todo = set(), [name]
    while todo:
        fn = todo.pop()
        if fn in seen or fn not in funcs:
            continue
        seen.add(fn)
        for node in ast.walk(funcs[fn]):
            if isinstance(node, _LOOPS):
                return True
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id == "map":
                    return True
                todo.append(node.func.id)
    return False


# ----------------------------------------------------------------------------------------------------------
# stacks
@A.check("stacks", "stacked_threes and stacked_sevens: one float image in [0, 1] per training file")
def _(ns):
    proj = torch.rand(28, 28, generator=ns.rng, dtype=torch.float64)   # a fresh random weighting of the pixels
    info = ns.run("result = [(len(_f), tuple(_t.shape), str(_t.dtype), float(_t.min()), float(_t.max()),\n"
                  "           float((_t.double() * _p).sum()) if tuple(_t.shape)[-2:] == (28, 28) else None)\n"
                  "          for _f, _t in ((threes, stacked_threes), (sevens, stacked_sevens))]", _p=proj)
    r = _ref()
    for (n_files, shape, dtype, lo, hi, weighted), digit, name in zip(info, (3, 7),
                                                                     ("stacked_threes", "stacked_sevens")):
        expect_equal(n_files, N_TRAIN[digit], f"number of files in `{'threes' if digit == 3 else 'sevens'}`")
        expect_equal(shape, (N_TRAIN[digit], 28, 28), f"`{name}.shape`")
        expect_true(dtype.startswith("torch.float"), f"`{name}` should hold floats, not {dtype}",
                    expected="a float tensor", got=dtype)
        expect_true(0 <= lo and hi <= 1 and hi > 0.5, f"`{name}`: pixels should lie between 0 and 1 "
                    f"(divide by 255); they range from {lo:.4g} to {hi:.4g}", expected="0 to 1", got=(lo, hi))
        # the images themselves, not just a tensor of the right shape and range: a weighted sum of every pixel
        # (weights drawn now, so no printed number can stand in for the images)
        want = (r[name].double() * proj).sum().item()
        expect_true(weighted is not None and abs(weighted - want) <= 1e-6 * abs(want) + 1e-3,
                    f"`{name}` does not hold the training images (a weighted sum of its pixels is "
                    f"{weighted}, expected {want:.4f})", expected=round(want, 4), got=weighted)


@A.check("stacks", "threes and sevens sorted, the images in that order")
def _(ns):
    r = _ref()
    ordered = ns.run("result = [[str(_o) for _o in _f] == sorted(str(_o) for _o in _f) for _f in (threes, sevens)]")
    expect_equal(ordered, [True, True], "(threes sorted, sevens sorted)")
    i3 = torch.randint(0, N_TRAIN[3], (6,), generator=ns.rng)
    i7 = torch.randint(0, N_TRAIN[7], (6,), generator=ns.rng)
    got3, got7 = ns.run("result = (stacked_threes[_i3], stacked_sevens[_i7])", _i3=i3, _i7=i7)
    expect_close(got3, r["stacked_threes"][i3], f"stacked_threes[{i3.tolist()}]", atol=1e-5)
    expect_close(got7, r["stacked_sevens"][i7], f"stacked_sevens[{i7.tolist()}]", atol=1e-5)


# ----------------------------------------------------------------------------------------------------------
# means: the student's cell again, on stacks of training images of the grader's
_RERUN_MEANS = """
set_global('stacked_threes', ref.images(_s3))
set_global('stacked_sevens', ref.images(_s7))
ref.run_cell(_src, globals())
result = (mean3, mean7)
"""


def _means(ns) -> tuple:
    """The student's means cell run on random stacks of training 3s and 7s (of different sizes, so a mean
    divided by the other digit's count shows), and the means it should give."""
    r = _ref()
    n3, n7 = (int(n) for n in torch.randperm(400, generator=ns.rng)[:2] + 800)
    s3 = r["stacked_threes_u8"][torch.randperm(N_TRAIN[3], generator=ns.rng)[:n3]]
    s7 = r["stacked_sevens_u8"][torch.randperm(N_TRAIN[7], generator=ns.rng)[:n7]]
    got = ns.run(_RERUN_MEANS, _s3=pack_images(s3), _s7=pack_images(s7), _src=ns.source("means"))
    return got, (s3.float() / 255).mean(0), (s7.float() / 255).mean(0), n3, n7


@A.check("means", "mean3 is the pixel-wise mean of the 3s", given=("stacked_threes", "stacked_sevens"))
def _(ns):
    (mean3, _), want, _, n3, _ = _means(ns)
    expect_close(_tensor(mean3, "mean3"), want, f"mean3 (your cell, run on a stack of {n3} training 3s)", atol=1e-5)


@A.check("means", "mean7 is the pixel-wise mean of the 7s", hidden=True, given=("stacked_threes", "stacked_sevens"))
def _(ns):
    (_, mean7), _, want, _, n7 = _means(ns)
    expect_close(_tensor(mean7, "mean7"), want, f"mean7 (your cell, run on a stack of {n7} training 7s)", atol=1e-5)


# ----------------------------------------------------------------------------------------------------------
# mnist_distance
@A.check("mnist_distance", "the L1 distance between two random images")
def _(ns):
    a, b = torch.rand(28, 28, generator=ns.rng), torch.rand(28, 28, generator=ns.rng)
    _scalar_close(ns.call("mnist_distance", a, b), _ps().mnist_distance(a, b), "mnist_distance(a, b)")


@A.check("mnist_distance", "one distance per image for a stack against one image (broadcasting)")
def _(ns):
    n = int(torch.randint(3, 10, (1,), generator=ns.rng))
    a, b = torch.rand(n, 28, 28, generator=ns.rng), torch.rand(28, 28, generator=ns.rng)
    expect_close(ns.call("mnist_distance", a, b), _ps().mnist_distance(a, b),
                 f"mnist_distance(stack of {n}, image)", atol=1e-5)


@A.check("mnist_distance", "held-out images against the ideal digits", hidden=True)
def _(ns):
    r = _ref()
    x = _held_out(24, ns.rng)
    for ideal in ("mean3", "mean7"):
        expect_close(ns.call("mnist_distance", x, r[ideal]), _ps().mnist_distance(x, r[ideal]),
                     f"mnist_distance(held-out images, {ideal})", atol=1e-5)


# ----------------------------------------------------------------------------------------------------------
# is_3: with the chapter's distance and the reference's ideal digits
_IS_3 = """
_dist = ref.Counting(ref.mnist_distance)
set_global('mnist_distance', _dist)
set_global('mean3', _m3)
set_global('mean7', _m7)
result = (is_3(ref.images(_x)), int(_dist.calls))
"""
_GIVEN_IS_3 = ("mnist_distance", "mean3", "mean7")


def _is_3(ns, x_u8: torch.Tensor) -> tuple:
    r = _ref()
    got, calls = ns.run(_IS_3, _x=pack_images(x_u8), _m3=r["mean3"], _m7=r["mean7"])
    want = _ps().is_3(x_u8.float() / 255, r["mean3"], r["mean7"])
    return _as_bool(got, f"is_3(stack of {len(x_u8)} images)", len(x_u8)), want, calls


def _held_out_u8(n: int, g: torch.Generator) -> torch.Tensor:
    r = _ref()
    pool = torch.cat([r["valid_3_tens_u8"], r["valid_7_tens_u8"]])
    return pool[torch.randperm(len(pool), generator=g)[:n]].clone()


def _agree(got: torch.Tensor, want: torch.Tensor, what: str) -> None:
    if not torch.equal(got, want):
        bad = int((got != want).sum())
        raise CheckFailed(f"{what}: is_3 disagrees with the chapter's classifier (is the image nearer the ideal 3 "
                          f"than the ideal 7, by mnist_distance?) on {bad} of {len(want)} images",
                          expected=want.int().tolist()[:16],
                          got=got.int().tolist()[:16])


@A.check("is_3", "one boolean per image, True exactly when the image is nearer mean3 than mean7",
         given=_GIVEN_IS_3)
def _(ns):
    got, want, _ = _is_3(ns, _held_out_u8(64, ns.rng))
    _agree(got, want, "64 held-out images")


@A.check("is_3", "a whole stack at once, with no Python loop over the images", given=_GIVEN_IS_3)
def _(ns):
    n = int(torch.randint(20, 40, (1,), generator=ns.rng))
    got, want, calls = _is_3(ns, _held_out_u8(n, ns.rng))
    _agree(got, want, f"a stack of {n} images")
    calls = calls if isinstance(calls, int) else 0
    if calls > MAX_DISTANCE_CALLS:
        raise CheckFailed(f"is_3 called mnist_distance {calls} times for a stack of {n} images: it loops over "
                          "the images in Python; compare the two distances of the whole stack at once "
                          "(broadcasting)", expected=f"at most {MAX_DISTANCE_CALLS} calls", got=f"{calls} calls")
    if calls == 0 and _loops_in(ns.source("is_3"), "is_3"):
        raise CheckFailed("is_3 loops over the images in Python (a `for`, `while`, comprehension or `map`); "
                          "compare the distances of the whole stack at once (broadcasting)",
                          expected="no Python loop", got="a loop")


@A.check("is_3", "classifies every validation image like the chapter's is_3", hidden=True, given=_GIVEN_IS_3)
def _(ns):
    r = _ref()
    got, want, _ = _is_3(ns, torch.cat([r["valid_3_tens_u8"], r["valid_7_tens_u8"]]))
    _agree(got, want, "the validation images")


# ----------------------------------------------------------------------------------------------------------
# accuracy
@A.check("accuracy", "valid_3_tens and valid_7_tens hold the validation images")
def _(ns):
    r = _ref()
    for digit, name in ((3, "valid_3_tens"), (7, "valid_7_tens")):
        shape, dtype, sums = ns.run(f"result = (tuple({name}.shape), str({name}.dtype), "
                                    f"{name}.float().sum((-1,-2)).sort().values if {name}.dim() == 3 else None)")
        expect_equal(shape, (N_VALID[digit], 28, 28), f"`{name}.shape`")
        expect_true(dtype.startswith("torch.float"), f"`{name}` should hold floats, not {dtype}",
                    expected="a float tensor", got=dtype)
        # the folder's order is up to `ls()`: compare the images' total brightness, sorted
        want = r[name].sum((-1, -2)).sort().values
        expect_close(sums, want, f"`{name}`: brightness of each image (sorted; pixels between 0 and 1)",
                     atol=1e-2, rtol=1e-5)


_RERUN_ACCURACY = """
set_global('is_3', ref.scoring_is_3(_w, _t))
ref.run_cell(_src, globals())
result = (accuracy_3s, accuracy_7s)
"""


def _scoring(g: torch.Generator) -> tuple[torch.Tensor, float, float, float]:
    """An `is_3` of the grader's: True where `(x * w).sum() > t`, `w` random and `t` between two validation
    scores; with the fractions of validation 3s it calls a 3 and of 7s it does not, each far from 0.5 and
    from the chapter's accuracies (so a formula the wrong way round or a typed-in number cannot match)."""
    r = _ref()
    base3 = _ps().is_3(r["valid_3_tens"], r["mean3"], r["mean7"]).float().mean().item()
    base7 = 1 - _ps().is_3(r["valid_7_tens"], r["mean3"], r["mean7"]).float().mean().item()
    for _ in range(100):
        w = torch.randn(28, 28, generator=g)
        s3, s7 = (r["valid_3_tens"] * w).sum((-1, -2)), (r["valid_7_tens"] * w).sum((-1, -2))
        s = torch.cat([s3, s7]).sort().values
        k = int(torch.randint(len(s) // 4, 3 * len(s) // 4, (1,), generator=g))
        if s[k] - s[k - 1] < 1e-3:
            continue
        t = ((s[k] + s[k - 1]) / 2).item()
        acc3, acc7 = (s3 > t).double().mean().item(), (s7 <= t).double().mean().item()
        if min(abs(acc3 - 0.5), abs(acc7 - 0.5), abs(acc3 - base3), abs(acc7 - base7), abs(acc3 - acc7)) > 0.01:
            return w, t, acc3, acc7
    raise RuntimeError("no usable scoring of the validation images")


@A.check("accuracy", "accuracy_3s and accuracy_7s are the fractions is_3 gets right (computed from is_3)",
         given=("is_3",))
def _(ns):
    w, t, want3, want7 = _scoring(ns.rng)
    got3, got7 = ns.run(_RERUN_ACCURACY, _w=w, _t=t, _src=ns.source("accuracy"))
    got3, got7 = _number(got3, "accuracy_3s"), _number(got7, "accuracy_7s")
    # run with an is_3 of the grader's (not the chapter's), so the right fractions are that is_3's
    expect_close(got3, want3, "accuracy_3s (your cell, run with another is_3): the fraction of valid_3_tens "
                 "that is_3 calls a 3", atol=1e-5, check_shape=False)
    expect_close(got7, want7, "accuracy_7s (your cell, run with another is_3): the fraction of valid_7_tens "
                 "that is_3 does not call a 3", atol=1e-5, check_shape=False)


# ----------------------------------------------------------------------------------------------------------
# rmse
@A.check("rmse", "the root mean squared distance between two random images")
def _(ns):
    a, b = torch.rand(28, 28, generator=ns.rng), torch.rand(28, 28, generator=ns.rng)
    _scalar_close(ns.call("rmse_distance", a, b), _ps().rmse_distance(a, b), "rmse_distance(a, b)")


@A.check("rmse", "one distance per image for a stack against one image (broadcasting)", hidden=True)
def _(ns):
    r = _ref()
    x = _held_out(16, ns.rng)
    expect_close(ns.call("rmse_distance", x, r["mean7"]), _ps().rmse_distance(x, r["mean7"]),
                 "rmse_distance(held-out images, mean7)", atol=1e-5)


# ----------------------------------------------------------------------------------------------------------
A.manual("l1_vs_l2", points=1)
A.manual("not_learning", points=1)
