"""Lab `ch04_pixel_similarity`: the chapter's baseline (ideal 3 and 7, L1 distance, `is_3`, accuracy, RMSE).

Every check computes on inputs drawn while grading (random tensors, and MNIST_SAMPLE validation images picked
at random) and compares with `reference.pixel_similarity`, so a number typed into the notebook never passes.
Items are kept apart so that one mistake costs one item: `is_3` is judged against the student's own
`mnist_distance` (or the L1 one) and the accuracy item against the student's own `is_3`, so a wrong distance
costs `mnist_distance` only.

Names fixed by the notebook: `threes`, `sevens`, `stacked_threes`, `stacked_sevens`, `mean3`, `mean7`,
`mnist_distance(a, b)`, `is_3(x)`, `valid_3_tens`, `valid_7_tens`, `accuracy_3s`, `accuracy_7s`,
`rmse_distance(a, b)`.
"""
from __future__ import annotations

import secrets
from functools import lru_cache

import torch

from .expect import expect_close, expect_equal, expect_true
from .spec import Assignment, CheckFailed

ASSIGNMENT = Assignment("ch04_pixel_similarity", title="Pixel similarity: the ideal 3 and the ideal 7 (chapter 4)")
A = ASSIGNMENT

N_TRAIN = {3: 6131, 7: 6265}
N_VALID = {3: 1010, 7: 1028}
ACCURACY_TOLERANCE = 0.05   # accuracies may differ from the L1 baseline's by this much (RMSE: 0.958 / 0.974)
MIN_ACCURACY = 0.85         # a nearest-ideal-digit classifier gets more than this on each digit


def _gen() -> torch.Generator:
    "A generator seeded afresh at grading time: nobody knows the inputs in advance."
    return torch.Generator().manual_seed(secrets.randbits(62))


@lru_cache(maxsize=1)
def _ref():
    "The reference's stacks and ideal digits (float in [0, 1], book order)."
    from reference import pixel_similarity as ps
    s = ps.load_stacks()
    s["mean3"], s["mean7"] = s["stacked_threes"].mean(0), s["stacked_sevens"].mean(0)
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


def _as_bool(t, what: str) -> torch.Tensor:
    if not isinstance(t, torch.Tensor):
        raise CheckFailed(f"{what}: expected a tensor of booleans, got {type(t).__name__}")
    if t.dtype != torch.bool and not bool(((t == 0) | (t == 1)).all()):
        raise CheckFailed(f"{what}: expected booleans (True/False), got values other than 0 and 1")
    return t.bool()


# ----------------------------------------------------------------------------------------------------------
# stacks
@A.check("stacks", "stacked_threes and stacked_sevens: one float image in [0, 1] per training file")
def _(ns):
    proj = torch.rand(28, 28, generator=_gen(), dtype=torch.float64)   # a fresh random weighting of the pixels
    info = ns.run("result = [(len(_f), tuple(_t.shape), str(_t.dtype), float(_t.min()), float(_t.max()),\n"
                  "           float((_t.double() * _p).sum()))\n"
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
        expect_true(abs(weighted - want) <= 1e-6 * abs(want) + 1e-3,
                    f"`{name}` does not hold the training images (a weighted sum of its pixels is off)")


@A.check("stacks", "images in sorted-file order, matching the files")
def _(ns):
    g, r = _gen(), _ref()
    i3 = torch.randint(0, N_TRAIN[3], (6,), generator=g)
    i7 = torch.randint(0, N_TRAIN[7], (6,), generator=g)
    got3, got7 = ns.run("result = (stacked_threes[_i3], stacked_sevens[_i7])", _i3=i3, _i7=i7)
    expect_close(got3, r["stacked_threes"][i3], f"stacked_threes[{i3.tolist()}]", atol=1e-5)
    expect_close(got7, r["stacked_sevens"][i7], f"stacked_sevens[{i7.tolist()}]", atol=1e-5)


# ----------------------------------------------------------------------------------------------------------
# means
@A.check("means", "mean3 is the pixel-wise mean of the training 3s")
def _(ns):
    expect_close(ns.get("mean3"), _ref()["mean3"], "mean3", atol=1e-5)


@A.check("means", "mean7 is the pixel-wise mean of the training 7s", hidden=True)
def _(ns):
    expect_close(ns.get("mean7"), _ref()["mean7"], "mean7", atol=1e-5)


# ----------------------------------------------------------------------------------------------------------
# mnist_distance
@A.check("mnist_distance", "the L1 distance between two random images")
def _(ns):
    g = _gen()
    a, b = torch.rand(28, 28, generator=g), torch.rand(28, 28, generator=g)
    _scalar_close(ns.call("mnist_distance", a, b), _ps().mnist_distance(a, b), "mnist_distance(a, b)")


@A.check("mnist_distance", "one distance per image for a stack against one image (broadcasting)")
def _(ns):
    g = _gen()
    n = int(torch.randint(3, 10, (1,), generator=g))
    a, b = torch.rand(n, 28, 28, generator=g), torch.rand(28, 28, generator=g)
    expect_close(ns.call("mnist_distance", a, b), _ps().mnist_distance(a, b),
                 f"mnist_distance(stack of {n}, image)", atol=1e-5)


@A.check("mnist_distance", "held-out images against the ideal digits", hidden=True)
def _(ns):
    g, r = _gen(), _ref()
    x = _held_out(24, g)
    for ideal in ("mean3", "mean7"):
        expect_close(ns.call("mnist_distance", x, r[ideal]), _ps().mnist_distance(x, r[ideal]),
                     f"mnist_distance(held-out images, {ideal})", atol=1e-5)


# ----------------------------------------------------------------------------------------------------------
# is_3
@A.check("is_3", "one boolean per image for a stack")
def _(ns):
    g = _gen()
    n = int(torch.randint(3, 10, (1,), generator=g))
    got = ns.call("is_3", torch.rand(n, 28, 28, generator=g))
    got = _as_bool(got, f"is_3(stack of {n})")
    expect_equal(tuple(got.shape), (n,), f"is_3(stack of {n}).shape")


@A.check("is_3", "True exactly when the image is nearer mean3 than mean7")
def _(ns):
    g = _gen()
    x = _held_out(64, g)
    got, own, m3, m7 = ns.run("result = (is_3(_x), mnist_distance(_x, mean3) < mnist_distance(_x, mean7),\n"
                              "          mean3, mean7)", _x=x)
    got = _as_bool(got, "is_3(held-out images)")
    # judged against the student's own distance, or the L1 one: a wrong distance costs mnist_distance only.
    # Neither counts when it cannot tell the digits apart at all (a constant distance, or mean3 == mean7):
    # then only the chapter's L1 with the real ideal digits does, so a constant answer never passes.
    r = _ref()
    l1 = _ps().is_3(x, m3, m7) if isinstance(m3, torch.Tensor) and isinstance(m7, torch.Tensor) \
        and m3.shape == m7.shape == (28, 28) and not torch.equal(m3, m7) else _ps().is_3(x, r["mean3"], r["mean7"])
    own = own.bool() if isinstance(own, torch.Tensor) and own.shape == got.shape else None
    telling = [ref for ref in (own, l1) if ref is not None and bool(ref.any()) and not bool(ref.all())]
    if not telling:
        telling = [_ps().is_3(x, r["mean3"], r["mean7"])]
        l1 = telling[0]
    if not any(torch.equal(got, ref) for ref in telling):
        bad = int((got != l1).sum())
        raise CheckFailed(f"is_3 disagrees with `mnist_distance(x, mean3) < mnist_distance(x, mean7)` on {bad} "
                          f"of {len(x)} held-out images", expected=l1.int().tolist()[:12], got=got.int().tolist()[:12])


@A.check("is_3", "classifies the held-out 3s and 7s well", hidden=True)
def _(ns):
    r = _ref()
    got3, got7 = ns.run("result = (is_3(_v3), is_3(_v7))", _v3=r["valid_3_tens"], _v7=r["valid_7_tens"])
    acc3 = _as_bool(got3, "is_3(validation 3s)").float().mean().item()
    acc7 = 1 - _as_bool(got7, "is_3(validation 7s)").float().mean().item()
    expect_true(acc3 >= MIN_ACCURACY and acc7 >= MIN_ACCURACY,
                f"is_3 is right on {acc3:.1%} of the validation 3s and {acc7:.1%} of the 7s; "
                f"the ideal-digit classifier gets more than {MIN_ACCURACY:.0%} on each",
                expected=f">= {MIN_ACCURACY}", got=(round(acc3, 4), round(acc7, 4)))


# ----------------------------------------------------------------------------------------------------------
# accuracy
@A.check("accuracy", "valid_3_tens and valid_7_tens hold the validation images")
def _(ns):
    r = _ref()
    for digit, name in ((3, "valid_3_tens"), (7, "valid_7_tens")):
        shape, dtype, sums = ns.run(f"result = (tuple({name}.shape), str({name}.dtype), "
                                    f"{name}.float().sum((-1,-2)).sort().values)")
        expect_equal(shape, (N_VALID[digit], 28, 28), f"`{name}.shape`")
        expect_true(dtype.startswith("torch.float"), f"`{name}` should hold floats, not {dtype}")
        # the folder's order is up to `ls()`: compare the images' total brightness, sorted
        want = r[name].sum((-1, -2)).sort().values
        expect_close(sums, want, f"`{name}`: brightness of each image (sorted)", atol=1e-2, rtol=1e-5)


@A.check("accuracy", "accuracy_3s and accuracy_7s are computed with is_3, near the baseline's")
def _(ns):
    acc3, acc7, own3, own7 = ns.run(
        "result = (float(accuracy_3s), float(accuracy_7s), float(is_3(valid_3_tens).float().mean()),\n"
        "          float((1 - is_3(valid_7_tens).float()).mean()))")
    expect_close(acc3, own3, "accuracy_3s against the fraction of valid_3_tens that is_3 calls a 3", atol=1e-6)
    expect_close(acc7, own7, "accuracy_7s against the fraction of valid_7_tens that is_3 does not call a 3",
                 atol=1e-6)
    r = _ref()
    base3 = _ps().is_3(r["valid_3_tens"], r["mean3"], r["mean7"]).float().mean().item()
    base7 = 1 - _ps().is_3(r["valid_7_tens"], r["mean3"], r["mean7"]).float().mean().item()
    expect_true(abs(acc3 - base3) <= ACCURACY_TOLERANCE and abs(acc7 - base7) <= ACCURACY_TOLERANCE,
                f"accuracies {acc3:.4f} and {acc7:.4f} are far from the baseline's {base3:.4f} and {base7:.4f}",
                expected=(round(base3, 4), round(base7, 4)), got=(round(acc3, 4), round(acc7, 4)))


# ----------------------------------------------------------------------------------------------------------
# rmse
@A.check("rmse", "the root mean squared distance between two random images")
def _(ns):
    g = _gen()
    a, b = torch.rand(28, 28, generator=g), torch.rand(28, 28, generator=g)
    _scalar_close(ns.call("rmse_distance", a, b), _ps().rmse_distance(a, b), "rmse_distance(a, b)")


@A.check("rmse", "one distance per image for a stack against one image (broadcasting)", hidden=True)
def _(ns):
    g, r = _gen(), _ref()
    x = _held_out(16, g)
    expect_close(ns.call("rmse_distance", x, r["mean7"]), _ps().rmse_distance(x, r["mean7"]),
                 "rmse_distance(held-out images, mean7)", atol=1e-5)


# ----------------------------------------------------------------------------------------------------------
A.manual("l1_vs_l2", points=1)
A.manual("not_learning", points=1)
