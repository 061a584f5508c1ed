"""The chapter 4 questionnaire (37 questions): code answers checked here, prose answers graded by hand.

Every code check draws its inputs while grading from `ns.rng` / `ns.random` (seeded from the grading's
check seed, the item and the check only: the same seed reproduces a grading exactly), so a value typed
into the notebook never passes where a working function does. Prose items (`A.manual`) have a key with
English and Korean key terms in `answer_key.yaml` beside this file (see `autograders.prose`).

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
`mnist_loss(predictions, targets)` comes from the locked setup cell; q25 and q33 are graded with the
chapter's own `mnist_loss` (kernel.py) unless their own cell defines one, so a loss redefined by another
answer cannot cost them anything.

Items are independent: each check calls the student's function on the grader's inputs and validates what
comes back (a wrong type is a failed check with a message, never a crash). Prompt constraints are checked
where the prompt states them: a single list comprehension (q04), no Python loop (q10), `view` (q27), `@`
(q29), `.backward()` (q30), `F.relu` (q36), a new list (q04), a copy of `x` (q31). A structural check gives
its points only with a working answer, so an empty or placeholder cell scores 0.
"""
from __future__ import annotations

import ast
import math
import re
import textwrap
import unicodedata

import numpy as np
import torch

from autograders.checks.expect import expect_close, expect_equal, expect_true, summarize
from autograders.checks.spec import Assignment, CheckFailed

ASSIGNMENT = Assignment("ch04_questionnaire", title="Chapter 4 questionnaire (37 questions)", data=())
A = ASSIGNMENT


# ---- helpers: the answer cell's code ---------------------------------------------------------------------
def _tree(ns, item_id: str) -> ast.AST:
    "The answer cell's syntax tree (IPython magics and shell lines dropped)."
    src = ns.source(item_id) or ""
    lines = [ln for ln in src.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    try:
        return ast.parse(textwrap.dedent("\n".join(lines)))
    except SyntaxError as e:
        raise CheckFailed(f"the answer cell `{item_id}` is not valid Python ({e.msg}, line {e.lineno})") from None


def _definitions(tree: ast.AST) -> dict[str, ast.AST]:
    "The functions a cell defines (`def name` or `name = lambda ...`), by name."
    out: dict[str, ast.AST] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out[node.name] = node
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out[target.id] = node.value
    return out


def _function_code(ns, item_id: str, name: str) -> list[ast.AST]:
    """The syntax of function `name` as the answer cell defines it, with the cell's other functions it calls
    (helpers count as part of it). Fails when the cell does not define `name`."""
    defs = _definitions(_tree(ns, item_id))
    if name not in defs:
        raise CheckFailed(f"the answer cell does not define `{name}` (keep the name the question gives)",
                          expected=f"def {name}(...)", got="no such definition")
    seen: list[str] = []
    todo = [name]
    while todo:
        n = todo.pop()
        if n in seen or n not in defs:
            continue
        seen.append(n)
        todo += [c.id for c in ast.walk(defs[n]) if isinstance(c, ast.Name) and c.id in defs]
    return [defs[n] for n in seen]


def _walk(nodes: list[ast.AST]):
    for node in nodes:
        yield from ast.walk(node)


def _calls(nodes: list[ast.AST], attr: str) -> bool:
    "Whether the code calls something named `attr` (`x.attr(...)`, `F.attr(...)` or `attr(...)`)."
    return any(isinstance(n, ast.Call) and (isinstance(n.func, ast.Attribute) and n.func.attr == attr or
                                            isinstance(n.func, ast.Name) and n.func.id == attr)
               for n in _walk(nodes))


def _defines(ns, item_id: str, name: str) -> bool:
    "Whether the answer cell defines or assigns `name` itself (False when it cannot be parsed)."
    try:
        tree = _tree(ns, item_id)
    except CheckFailed:
        return False
    if name in _definitions(tree):
        return True
    return any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store) for n in ast.walk(tree))


# ---- helpers: values that came back ------------------------------------------------------------------------
def _tensor(value, what: str, shape: tuple | None = None) -> torch.Tensor:
    "`value` as a tensor (a student's function must return one), optionally of exactly `shape`."
    if not isinstance(value, torch.Tensor):
        raise CheckFailed(f"{what} should be a tensor, got {summarize(value)}", expected="a tensor",
                          got=summarize(value))
    if shape is not None and tuple(value.shape) != tuple(shape):
        raise CheckFailed(f"{what}: expected shape {tuple(shape)}, got shape {tuple(value.shape)}",
                          expected=f"shape {tuple(shape)}", got=f"shape {tuple(value.shape)}")
    return value


def _number(value, what: str) -> float:
    "A single number: an int or float, or a tensor of one element (a 0-d tensor may arrive with shape (1,))."
    if isinstance(value, torch.Tensor):
        expect_true(value.numel() == 1, f"{what}: expected a single number, got a tensor of shape "
                    f"{tuple(value.shape)}", expected="one number", got=summarize(value))
        return float(value.reshape(-1)[0])
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise CheckFailed(f"{what}: expected a number (or a one-element tensor), got {summarize(value)}",
                      expected="one number", got=summarize(value))


def _close_number(got, want: float, what: str) -> None:
    g = _number(got, what)
    if not math.isclose(g, want, rel_tol=1e-4, abs_tol=1e-5):
        raise CheckFailed(f"{what}: not the expected value", expected=f"{want:.6g}", got=f"{g:.6g}")


_SEED_KERNEL = textwrap.dedent("""
    import random as __random, torch as __torch
    __random.seed({seed}); __torch.manual_seed({seed})
    try:
        import numpy as __np
        __np.random.seed({seed})
    except ImportError:
        pass
""")


def _run(ns, body: str, **inputs):
    """`ns.run(body, **inputs)` with the kernel's own random generators seeded from this check's seed first: a
    student's code that draws random numbers (a shuffling DataLoader) does the same in every scoring."""
    return ns.run(_SEED_KERNEL.format(seed=ns.random.randrange(2 ** 31)) + body, **inputs)


def _dict(value, what: str) -> dict:
    if not isinstance(value, dict):
        raise CheckFailed(f"{what}: the answer could not be read back (got {summarize(value)})")
    return value


# ---- prose items (graded by hand; the key is answer_key.yaml) ---------------------------------------------
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


# run in the kernel: the result, whether it is a new list, and the argument afterwards
_ODDS = textwrap.dedent("""
    __arg = list(nums)
    __r = double_odds(__arg)
    result = {'type': type(__r).__name__, 'value': list(__r) if isinstance(__r, (list, tuple)) else None,
              'same_object': __r is __arg, 'arg_after': __arg}
""")


def _odds_case(ns, nums: list[int], fresh: bool = False) -> None:
    got = _dict(_run(ns, _ODDS, nums=nums), "double_odds")
    what = f"double_odds({nums})"
    expect_true(got.get("type") == "list", f"{what} should return a list, got a {got.get('type')}",
                expected="a list", got=got.get("type"))
    expect_equal(got.get("value"), _odds_doubled(nums), what)
    if fresh:
        expect_true(not got.get("same_object") and got.get("arg_after") == nums,
                    f"{what} changed the list it was given: return a new list and leave `nums` as it was",
                    expected=f"nums still {nums}", got=summarize(got.get("arg_after")))


@A.check("q04", "double_odds keeps the odd numbers and doubles them", points=1)
def _(ns):
    r = ns.random
    nums = [r.randint(-20, 20) for _ in range(9)] + [1, 2, 3]
    r.shuffle(nums)
    _odds_case(ns, nums)


@A.check("q04", "written as a single list comprehension", points=1)
def _(ns):
    code = _function_code(ns, "q04", "double_odds")
    comps = [n for n in _walk(code) if isinstance(n, ast.ListComp)]
    loops = [n for n in _walk(code) if isinstance(n, (ast.For, ast.While, ast.AsyncFor, ast.GeneratorExp,
                                                      ast.SetComp, ast.DictComp))]
    expect_true(len(comps) == 1 and not loops,
                "write double_odds with one list comprehension, [2 * n for n in nums if ...], without a for "
                "or while loop", expected="one list comprehension, no loop",
                got=f"{len(comps)} list comprehension(s), {len(loops)} other loop(s)")
    _odds_case(ns, [1, 2, 3, 4, 5])   # and it works (no point for a comprehension that does not)


@A.check("q04", "fresh lists (negative numbers, zero, empty); a new list, the argument unchanged", points=1,
         hidden=True)
def _(ns):
    r = ns.random
    cases = [[], [0, 2, 4], [r.randint(-50, 50) for _ in range(r.randint(8, 20))] + [-3, 7],
             [-5, -4, -3, -2, -1, 0, 1]]
    for nums in cases:
        _odds_case(ns, nums, fresh=True)


_manual("q04_prose")


# ---- Q5: rank-3 tensor -----------------------------------------------------------------------------------
def _stack_case(ns, imgs: list[torch.Tensor], what: str) -> None:
    got = _tensor(ns.call("stack_images", imgs), f"stack_images({what})")
    want = torch.stack(imgs)
    expect_true(got.ndim == 3, f"stack_images({what}) should have rank 3, got rank {got.ndim}",
                expected=f"shape {tuple(want.shape)}", got=f"shape {tuple(got.shape)}")
    expect_close(got, want, f"stack_images({what})", atol=1e-6, rtol=1e-6)


@A.check("q05", "stack_images stacks 2-D images into a rank-3 tensor", points=1)
def _(ns):
    imgs = [torch.rand(28, 28, generator=ns.rng) for _ in range(4)]
    _stack_case(ns, imgs, "four 28x28 images")


@A.check("q05", "other numbers and sizes of images (one image; integer pixels)", points=1, hidden=True)
def _(ns):
    r = ns.random
    h, w = r.randint(2, 9), r.randint(10, 16)
    _stack_case(ns, [torch.rand(h, w, generator=ns.rng)], f"one {h}x{w} image")
    n = r.randint(2, 7)
    imgs = [torch.randint(0, 256, (h, w), generator=ns.rng, dtype=torch.uint8) for _ in range(n)]
    _stack_case(ns, imgs, f"{n} {h}x{w} images of uint8 pixels")


_manual("q05_prose")


# ---- Q6: rank and shape ---------------------------------------------------------------------------------
# built in the kernel (a 0-d tensor is made there); the answer is described defensively, judged here
_RANK_SHAPE = textwrap.dedent("""
    import torch as __t
    t = __t.zeros(*shape) if shape else __t.tensor(1.5)
    __v = rank_and_shape(t)
    result = {'type': type(__v).__name__, 'pair': isinstance(__v, (tuple, list)) and len(__v) == 2}
    if result['pair']:
        __r, __s = __v
        result['rank'] = __r if isinstance(__r, int) and not isinstance(__r, bool) else repr(__r)[:80]
        try:
            result['shape'] = [int(d) for d in __s]
        except Exception:
            result['shape'] = repr(__s)[:80]
""")


def _rank_shape_case(ns, shape: list[int]) -> None:
    got = _dict(_run(ns, _RANK_SHAPE, shape=shape), "rank_and_shape")
    what = f"rank_and_shape(a tensor of shape {tuple(shape)})"
    want = f"({len(shape)}, {tuple(shape)})"
    expect_true(got.get("pair"), f"{what} should return a pair (rank, shape), got a {got.get('type')}",
                expected=want, got=got.get("type"))
    if got.get("rank") != len(shape) or got.get("shape") != list(shape):
        raise CheckFailed(f"{what}: expected the rank (the number of axes, len of the shape) and then the shape",
                          expected=want, got=f"({got.get('rank')}, {got.get('shape')})")


@A.check("q06", "rank_and_shape returns (rank, shape) of a tensor", points=1)
def _(ns):
    _rank_shape_case(ns, [3, 28, 28])


@A.check("q06", "tensors of rank 0 to 4", points=1, hidden=True)
def _(ns):
    r = ns.random
    for rank in range(5):
        # sizes of 2 or more, the first not equal to the rank: len(t) or numel() is never the rank
        shape = [r.choice([s for s in range(2, 7) if s != rank]) for _ in range(rank)]
        _rank_shape_case(ns, shape)


_manual("q06_prose")


# ---- Q7: RMSE and L1 -------------------------------------------------------------------------------------
def _ref_rmse(a, b) -> float:
    return ((a.double() - b.double()) ** 2).mean().sqrt().item()


def _ref_l1(a, b) -> float:
    return (a.double() - b.double()).abs().mean().item()


def _distance_cases(ns, name: str, ref, shapes) -> None:
    for shape in shapes:
        a = torch.randn(*shape, generator=ns.rng) * 3
        b = torch.randn(*shape, generator=ns.rng)
        _close_number(ns.call(name, a, b), ref(a, b), f"{name}(a, b) for two tensors of shape {shape}")


@A.check("q07", "rmse(a, b) on random images: square, mean, then square root", points=1)
def _(ns):
    a, b = torch.rand(28, 28, generator=ns.rng), torch.rand(28, 28, generator=ns.rng)
    _close_number(ns.call("rmse", a, b), _ref_rmse(a, b), "rmse(a, b) for two random 28x28 images")


@A.check("q07", "l1(a, b) on random images: mean absolute difference", points=1)
def _(ns):
    a, b = torch.rand(28, 28, generator=ns.rng), torch.rand(28, 28, generator=ns.rng)
    _close_number(ns.call("l1", a, b), _ref_l1(a, b), "l1(a, b) for two random 28x28 images")


@A.check("q07", "rmse on other shapes and scales (one number, averaged over all elements)", points=1, hidden=True)
def _(ns):
    _distance_cases(ns, "rmse", _ref_rmse, [(7,), (3, 5, 4)])


@A.check("q07", "l1 on other shapes and scales (one number, averaged over all elements)", points=1, hidden=True)
def _(ns):
    _distance_cases(ns, "l1", _ref_l1, [(7,), (3, 5, 4)])


_manual("q07_prose")
_manual("q08")


# ---- Q9: 3x3 tensor, doubled, bottom-right 2x2 ---------------------------------------------------------------
# Each part has its own credit and is judged against the student's own previous part (or the right one), so
# one mistake in `nine` does not also cost `doubled` and `corner`.
_NINE = torch.arange(1, 10).view(3, 3)


def _matches(value, want: torch.Tensor) -> bool:
    return (isinstance(value, torch.Tensor) and tuple(value.shape) == tuple(want.shape)
            and bool(torch.allclose(value.double(), want.double())))


def _student_3x3(ns, name: str):
    "The student's `name` if it is a 3x3 tensor, else None (that part has its own check)."
    try:
        value = ns.get(name)
    except CheckFailed:
        return None
    return value if isinstance(value, torch.Tensor) and tuple(value.shape) == (3, 3) else None


@A.check("q09", "`nine` is a 3x3 tensor of 1 to 9, row by row", points=0.75)
def _(ns):
    nine = _tensor(ns.get("nine"), "`nine`", (3, 3))
    expect_close(nine, _NINE, "`nine`", atol=0, rtol=0)


@A.check("q09", "`doubled` is `nine` times two", points=0.75)
def _(ns):
    doubled = _tensor(ns.get("doubled"), "`doubled`", (3, 3))
    nine = _student_3x3(ns, "nine")
    if _matches(doubled, _NINE * 2) or (nine is not None and _matches(doubled, nine.double() * 2)):
        return None
    raise CheckFailed("`doubled` should be every element of `nine` times two",
                      expected=summarize(_NINE * 2 if nine is None else nine * 2), got=summarize(doubled))


@A.check("q09", "`corner` is the bottom-right 2x2 block of `doubled`", points=0.75)
def _(ns):
    corner = _tensor(ns.get("corner"), "`corner`", (2, 2))
    doubled = _student_3x3(ns, "doubled")
    if _matches(corner, (_NINE * 2)[1:, 1:]) or (doubled is not None and _matches(corner, doubled[1:, 1:])):
        return None
    raise CheckFailed("`corner` should be the last two rows and columns of `doubled` (doubled[1:, 1:])",
                      expected=summarize((_NINE * 2 if doubled is None else doubled)[1:, 1:]), got=summarize(corner))


@A.check("q09", "double_corner works on any 3x3 tensor", points=0.75, hidden=True)
def _(ns):
    for x in (torch.randint(-20, 20, (3, 3), generator=ns.rng), torch.randn(3, 3, generator=ns.rng)):
        got = _tensor(ns.call("double_corner", x), "double_corner(x)", (2, 2))
        expect_close(got, (x * 2)[1:, 1:], "double_corner(a random 3x3 tensor)")


# ---- Q10: broadcasting -------------------------------------------------------------------------------------
def _center_case(ns, m: torch.Tensor) -> None:
    what = f"center_columns(a random {m.shape[0]}x{m.shape[1]} matrix)"
    got = _tensor(ns.call("center_columns", m), what, tuple(m.shape))
    expect_close(got, m - m.mean(0), what, atol=1e-4, rtol=1e-4)


def _column_offsets(ns, rows: int, cols: int) -> torch.Tensor:
    "A matrix whose columns have clearly different means (so row, whole-matrix and column means all differ)."
    return torch.randn(rows, cols, generator=ns.rng) + torch.randn(cols, generator=ns.rng) * 5


@A.check("q10", "center_columns subtracts each column's mean", points=1)
def _(ns):
    _center_case(ns, _column_offsets(ns, 5, 3))


@A.check("q10", "other shapes", points=1, hidden=True)
def _(ns):
    r = ns.random
    _center_case(ns, _column_offsets(ns, r.randint(6, 40), r.randint(2, 5)) * 10)
    _center_case(ns, _column_offsets(ns, 4, 4))


@A.check("q10", "no Python loop: broadcasting does the work", points=1, hidden=True)
def _(ns):
    code = _function_code(ns, "q10", "center_columns")
    loops = [n for n in _walk(code) if isinstance(n, (ast.For, ast.While, ast.AsyncFor, ast.ListComp,
                                                      ast.GeneratorExp, ast.SetComp, ast.DictComp))
             or isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "map"]
    expect_true(not loops, "center_columns should rely on broadcasting (m - m.mean(0)), without a Python loop",
                expected="no loop", got=f"{len(loops)} loop(s) or comprehension(s)")
    _center_case(ns, _column_offsets(ns, 5, 3))   # and it works (no point for a loop-free wrong answer)


_manual("q10_prose")
for _id in ("q11", "q12", "q13"):
    _manual(_id)


# ---- Q14: the seven steps ------------------------------------------------------------------------------------
# Each step is recognised by what it is about (English words, any of them; Korean stems, any of them) at its
# own position; some wordings are known misconceptions and earn nothing, with the reason. This is a helper
# for a free-text answer: the feedback names what was not recognised, so a grader can review it.
def _words(*alternatives: str) -> re.Pattern:
    return re.compile(r"(?<![a-z])(?:" + "|".join(alternatives) + ")")


SGD_STEPS = [  # (what the step is, English pattern, Korean stems)
    ("initialise the weights (randomly)",
     _words(r"init", r"random", r"start(?:ing)? (?:with|from|off)", r"set (?:up )?(?:the |all )?(?:weights|parameters|params)",
            r"begin", r"pretrained", r"create (?:the )?(?:weights|parameters)"),
     ["초기", "무작위", "랜덤", "임의"]),
    ("predict (run the model)",
     _words(r"predict", r"forward", r"output", r"run (?:the )?(?:model|network|net)", r"apply (?:the )?(?:model|network)",
            r"feed", r"infer", r"guess", r"model\("),
     ["예측", "순전파", "출력", "추론", "모델에 입력", "모델을 실행", "모델 실행"]),
    ("compute the loss",
     _words(r"loss", r"error", r"cost", r"how (?:bad|wrong|good|far|close)", r"wrong", r"mistake", r"penalt",
            r"objective", r"criterion", r"mse", r"cross.?entropy"),
     ["손실", "오차", "비용", "오류", "틀린", "틀렸", "얼마나"]),
    ("compute the gradients",
     re.compile(r"(?<![a-z])(?:gradient|grads?(?![a-z])|backward|back.?prop|derivative|slope|differentiat|autograd|"
                r"chain rule)|d\s*\(?\s*loss|∂|\.grad"),
     ["기울기", "그래디언트", "그레이디언트", "경사", "미분", "역전파", "도함수"]),
    ("step: change the weights against the gradient",
     re.compile(r"(?<![a-z])(?:step|update|adjust|change|nudge|tweak|move|shift|subtract|decrease|modify|improve|"
                r"descen|correct|reduce)|-="),
     ["스텝", "갱신", "업데이트", "조정", "변경", "바꾸", "바꿈", "이동", "빼", "수정", "개선"]),
    ("repeat the process",
     _words(r"repeat", r"again", r"loop", r"iterat", r"go(?:ing)? back", r"back to", r"redo", r"rinse", r"cycle",
            r"next (?:batch|epoch|mini)", r"for (?:each|every) (?:batch|epoch|mini)", r"continue", r"keep (?:going|training|doing)",
            r"over and over", r"epochs"),
     ["반복", "되풀이", "다시", "계속", "돌아가"]),
    ("stop (when good enough, or out of time)",
     _words(r"stop", r"halt", r"end", r"finish", r"until", r"quit", r"done", r"enough", r"terminat", r"break",
            r"converge", r"satisf", r"no longer", r"time is up", r"out of time"),
     ["멈", "중단", "중지", "종료", "끝", "그만", "충분", "수렴"]),
]

# (step index, pattern, unless this pattern also matches, why it is wrong)
_MISCONCEPTIONS = [
    (4, re.compile(r"(?<![a-z])(?:update|change|adjust|increase|decrease|tune|modify|lower|raise|set|reduce)s?\s+"
                   r"(?:the\s+|a\s+|our\s+)?(?:learning\s*rate|lr)(?![a-z])|학습\s*률\s*(?:을|를)?\s*(?:갱신|조정|변경|"
                   r"업데이트|바꾸|바꿈|수정|줄이|늘리)|러닝\s*레이트\s*(?:을|를)?\s*(?:갱신|조정|변경|업데이트)"), None,
     "the step changes the weights (by learning rate x gradient), not the learning rate"),
    (4, re.compile(r"(?<![a-z])add(?:s|ing)?(?![a-z])[^.;]*grad|(?:in|along|toward|towards) the (?:same )?direction of "
                   r"the gradient|increase the loss|기울기\s*(?:를|을)?\s*더하|기울기\s*방향으로"),
     re.compile(r"negative|minus|opposite|against|반대|음의|마이너스"),
     "the step moves each weight against the gradient (subtract learning rate x gradient); adding it climbs "
     "the loss"),
    (2, re.compile(r"accura|정확도"), re.compile(r"(?<![a-z])(?:loss|error|cost)|손실|오차|비용"),
     "accuracy is a metric: SGD needs the loss, a smooth function of the weights"),
    (3, re.compile(r"gradient of (?:the )?accura|accuracy'?s gradient|정확도\S*\s*(?:의)?\s*(?:기울기|미분)"), None,
     "the gradient is the loss's (accuracy has a zero gradient almost everywhere)"),
]


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _is_step(text: str, index: int) -> bool:
    _, pattern, stems = SGD_STEPS[index]
    t = _normal(text)
    return bool(pattern.search(t)) or any(s in t or s in t.replace(" ", "") for s in stems)


def _misconception(text: str, index: int) -> str | None:
    t = _normal(text)
    for i, pattern, unless, why in _MISCONCEPTIONS:
        if i == index and pattern.search(t) and not (unless is not None and unless.search(t)):
            return why
    return None


@A.check("q14", "seven steps, in order (any wording, English or Korean)", points=2)
def _(ns):
    steps = ns.get("sgd_steps")
    expect_true(isinstance(steps, (list, tuple)) and all(isinstance(s, str) for s in steps),
                "sgd_steps should be a list of strings", expected="a list of 7 strings", got=summarize(steps))
    order = ", ".join(f"{i + 1}. {name}" for i, (name, _, _) in enumerate(SGD_STEPS))
    expect_true(len(steps) == 7, f"sgd_steps should have the 7 steps, it has {len(steps)}", expected=order,
                got=f"{len(steps)} steps")
    problems, seen = [], set()
    for i, text in enumerate(steps):
        name = SGD_STEPS[i][0]
        short = text.strip()[:30] + ("..." if len(text.strip()) > 30 else "")   # (quotes stay short: see redact)
        why = _misconception(text, i)
        several = sum(_is_step(text, j) for j in range(7))
        if _normal(text).strip() in seen:
            problems.append(f"step {i + 1} ('{short}') repeats an earlier step; expected: {name}")
        elif why:
            problems.append(f"step {i + 1} ('{short}'): {why}")
        elif not _is_step(text, i) or len(text) > 300:
            problems.append(f"step {i + 1} ('{short}') was not recognised as: {name}")
        elif several >= 5:
            problems.append(f"step {i + 1} ('{short}') names several steps at once; expected: {name}")
        seen.add(_normal(text).strip())
    if problems:
        right = 7 - len(problems)
        raise CheckFailed(f"{right} of the 7 steps recognised in order. " + "; ".join(problems)
                          + " (a person may review the wording)", expected=order,
                          got=f"{right} of 7 steps recognised", credit=right / 7)


for _id in ("q15", "q16", "q17", "q18", "q19", "q20"):
    _manual(_id)


# ---- Q21 / Q34: plots ----------------------------------------------------------------------------------------
# A drawn line is a plot of f when its points lie on y = f(x) (x in order) and the line between them follows
# the curve: no minimum number of points (three corners draw ReLU exactly), but a straight segment across a
# bend does not follow it.
SHAPE_TOLERANCE = 0.075   # the drawn polyline may stray from the curve by this fraction of the curve's height


def _sigmoid(x):
    return 0.5 * (1 + np.tanh(x / 2))


def _relu(x):
    return np.maximum(x, 0)


def _lines(ns, item_id: str) -> list[tuple[np.ndarray, np.ndarray]]:
    "Every drawn line of the answer cell with numeric, finite x and y of the same length (x increasing)."
    out = []
    figures = ns.figures(item_id)
    for ax in figures if isinstance(figures, list) else []:
        for a in ax if isinstance(ax, list) else [ax]:
            lines = a.get("lines") if isinstance(a, dict) else None
            for line in lines if isinstance(lines, list) else []:
                if not isinstance(line, dict):
                    continue
                try:
                    x = np.asarray(line.get("x"), dtype="float64").reshape(-1)
                    y = np.asarray(line.get("y"), dtype="float64").reshape(-1)
                except (TypeError, ValueError, RuntimeError):
                    continue
                if x.size != y.size or x.size < 2 or not (np.isfinite(x).all() and np.isfinite(y).all()):
                    continue
                if x[0] > x[-1]:
                    x, y = x[::-1], y[::-1]
                out.append((x, y))
    if not out:
        raise CheckFailed(f"no line was drawn by the answer cell `{item_id}` (use plt.plot(x, y) in that cell)",
                          expected="a line drawn with plt.plot", got="no line")
    return out


def _follows(x: np.ndarray, y: np.ndarray, fn) -> bool:
    if x[-1] <= x[0] or (np.diff(x) < 0).any():
        return False
    fx = fn(x)
    if (np.abs(y - fx) > 2e-3 + 1e-3 * np.abs(fx)).any():
        return False
    grid = np.linspace(x[0], x[-1], 4001)
    curve = fn(grid)
    height = max(float(curve.max() - curve.min()), 1e-6)
    return float(np.abs(np.interp(grid, x, y) - curve).max()) <= SHAPE_TOLERANCE * height


def _plots(ns, item_id: str, fn, name: str) -> list[tuple[np.ndarray, np.ndarray]]:
    lines = _lines(ns, item_id)
    ok = [(x, y) for x, y in lines if _follows(x, y, fn)]
    if not ok:
        x, y = lines[0]
        raise CheckFailed(f"no drawn line follows y = {name}(x): plot x against {name}(x), e.g. plt.plot(xs, {name}(xs))",
                          expected=f"points on y = {name}(x), in order of x",
                          got=f"{len(lines)} line(s); the first from ({x[0]:.3g}, {y[0]:.3g}) to ({x[-1]:.3g}, {y[-1]:.3g}) "
                              f"with {x.size} points")
    return ok


def _span(lines) -> str:
    return ", ".join(f"x from {x[0]:.3g} to {x[-1]:.3g}" for x, _ in lines[:3])


@A.check("q21", "a line whose y is sigmoid(x)", points=1)
def _(ns):
    _plots(ns, "q21", _sigmoid, "sigmoid")


@A.check("q21", "x spans at least -4..4, so both flat ends show", points=1)
def _(ns):
    ok = _plots(ns, "q21", _sigmoid, "sigmoid")
    expect_true(any(x[0] <= -3.99 and x[-1] >= 3.99 for x, _ in ok),
                "plot the sigmoid over a wider range (at least x from -4 to 4) so its S shape shows",
                expected="x from -4 (or less) to 4 (or more)", got=_span(ok))


_manual("q21_prose")
for _id in ("q22", "q23"):
    _manual(_id)


# ---- Q24: DataLoader -----------------------------------------------------------------------------------------
_BATCHES = textwrap.dedent("""
    __dl = make_loader(items, bs)
    def __epoch(dl):
        out = []
        for b in dl:
            try:
                b = b.tolist() if hasattr(b, 'tolist') else list(b)
                out.append([int(v) for v in b])
            except Exception:
                out.append(None)
            if len(out) > 10000:
                break
        return out
    import torch.utils.data as __tud
    try:
        from fastai.data.load import DataLoader as __fdl
        __kinds = (__tud.DataLoader, __fdl)
    except Exception:
        __kinds = (__tud.DataLoader,)
    result = {'type': type(__dl).__name__, 'loader': isinstance(__dl, __kinds), 'first': __epoch(__dl),
              'second': __epoch(__dl)}
""")


def _loader(ns, items: list[int], bs: int) -> dict:
    got = _dict(_run(ns, _BATCHES, items=items, bs=bs), "make_loader")
    for key in ("first", "second"):
        if not isinstance(got.get(key), list) or any(not isinstance(b, list) for b in got[key]):
            raise CheckFailed(f"iterating over make_loader(items, {bs}) should give batches of the items",
                              expected="batches of numbers", got=summarize(got.get(key)))
    return got


def _one_pass(got: dict, items: list[int], bs: int, what: str) -> None:
    batches = got["first"]
    flat = [v for b in batches for v in b]
    expect_equal(sorted(flat), sorted(items), f"the items of one pass over {what}")
    sizes = [bs] * (len(items) // bs) + ([len(items) % bs] if len(items) % bs else [])
    expect_equal([len(b) for b in batches], sizes, f"the batch sizes of {what} ({len(items)} items, bs={bs})")


def _items_and_bs(ns, low: int, high: int) -> tuple[list[int], int]:
    r = ns.random
    bs = r.randint(3, 9)
    n = r.choice([k for k in range(low, high) if k % bs])   # a last, smaller batch
    return list(range(100, 100 + n)), bs


@A.check("q24", "make_loader yields every item once, in batches of bs", points=1)
def _(ns):
    items, bs = _items_and_bs(ns, 20, 40)
    _one_pass(_loader(ns, items, bs), items, bs, f"make_loader(items, {bs})")


@A.check("q24", "make_loader returns a DataLoader", points=1)
def _(ns):
    items, bs = _items_and_bs(ns, 10, 20)
    got = _loader(ns, items, bs)
    expect_true(got.get("loader"), f"make_loader should return a DataLoader, got a {got.get('type')}",
                expected="DataLoader", got=got.get("type"))
    _one_pass(got, items, bs, f"make_loader(items, {bs})")


@A.check("q24", "the items are shuffled, differently each epoch", points=1, hidden=True)
def _(ns):
    items, bs = _items_and_bs(ns, 60, 90)
    got = _loader(ns, items, bs)
    first = [v for b in got["first"] for v in b]
    second = [v for b in got["second"] for v in b]
    expect_equal(sorted(first), items, "all the items of one pass")
    expect_true(first != items and first != second, "the DataLoader should shuffle the items, in a new order each "
                "epoch (shuffle=True)", expected="a new random order each pass", got="the same order")


_manual("q24_prose")


# ---- Q25 / Q33: training loops ---------------------------------------------------------------------------------
# The student's function trains in the kernel (kernel.py builds the model and the batches, with the chapter's
# `mnist_loss` unless the item's own cell defines one); the grader computes the losses and plain SGD itself.
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


def _loss_of(forward, params, x, y) -> float:
    with torch.no_grad():
        return _mnist_loss(forward([p.float() for p in params], x), y).item()


def _setup_loss(ns, item_id: str) -> str:
    "The block's first line: the chapter's mnist_loss for the student's function, unless their cell defines one."
    return "" if _defines(ns, item_id, "mnist_loss") else "set_global('mnist_loss', ref.mnist_loss)\n"


def _trained(got, params0, what: str) -> list[torch.Tensor]:
    "The parameters the kernel handed back, as tensors of the shapes they started with."
    if not isinstance(got, list) or len(got) != len(params0) or not all(
            isinstance(p, torch.Tensor) and tuple(p.shape) == tuple(q.shape) for p, q in zip(got, params0)):
        raise CheckFailed(f"after {what} the parameters are no longer tensors of their shapes (update them in place: "
                          "p.data -= lr * p.grad)", expected=[tuple(q.shape) for q in params0], got=summarize(got))
    return got


def _linear_forward(params, xb):
    return xb @ params[0] + params[1]


def _epoch_case(ns, n, nin, bs, epochs, lr):
    x, y = _toy(ns.rng, n, nin)
    params0 = [torch.randn(nin, 1, generator=ns.rng) * 0.1, torch.zeros(1)]
    got = _run(ns, _setup_loss(ns, "q25") + "result = ref.run_train_epoch(train_epoch, _x, _y, _p0, _bs, _epochs, _lr)",
                 _x=x, _y=y, _p0=params0, _bs=bs, _epochs=epochs, _lr=lr)
    params = _trained(got, params0, "train_epoch")
    return params, _ref_sgd(params0, _linear_forward, x, y, bs, epochs, lr), params0, (_linear_forward, x, y)


def _falls(params, params0, data, what: str):
    forward, x, y = data
    moved = any(not torch.allclose(p.double(), q.double()) for p, q in zip(params, params0))
    expect_true(moved, f"{what} did not change the parameters: is there a step (p.data -= lr * p.grad)?",
                expected="parameters that changed", got="the starting parameters")
    before, after = _loss_of(forward, params0, x, y), _loss_of(forward, params, x, y)
    expect_true(after < before - 1e-3, f"{what} did not lower the loss (is the step's sign right?)",
                expected=f"a loss below {before:.4f}", got=f"{after:.4f}")


def _same_as_sgd(params, want, what: str):
    for i, (p, q) in enumerate(zip(params, want)):
        try:
            expect_close(p, q, f"parameter {i} after {what}", atol=1e-4, rtol=1e-3)
        except CheckFailed as e:
            raise CheckFailed(e.message + " -- each step must use only its own batch's gradient (zero the "
                              "gradients after each step) and move every parameter by -lr * gradient",
                              expected=e.expected, got=e.got) from None


@A.check("q25", "train_epoch lowers the loss and changes the parameters", points=1, given=("mnist_loss",))
def _(ns):
    params, _, params0, data = _epoch_case(ns, n=64, nin=3, bs=16, epochs=3, lr=1.0)
    _falls(params, params0, data, "train_epoch")


@A.check("q25", "one plain SGD step per batch, with that batch's gradient only", points=1, given=("mnist_loss",))
def _(ns):
    params, want, _, _ = _epoch_case(ns, n=64, nin=3, bs=16, epochs=1, lr=1.0)
    _same_as_sgd(params, want, "one epoch of 4 batches")


@A.check("q25", "fresh data, batch size and learning rate", points=1, hidden=True, given=("mnist_loss",))
def _(ns):
    r = ns.random
    params, want, _, _ = _epoch_case(ns, n=r.randint(40, 70), nin=r.randint(2, 6), bs=r.randint(5, 12), epochs=2,
                                     lr=r.choice([0.3, 0.5, 2.0]))
    _same_as_sgd(params, want, "two epochs on fresh data")


# ---- Q26: zip ----------------------------------------------------------------------------------------------
_PAIRS = textwrap.dedent("""
    __r = pair_up(xs, ys)
    __seq = isinstance(__r, (list, tuple))
    result = {'type': type(__r).__name__, 'items': [p for p in __r] if __seq else None,
              'tuples': __seq and all(type(p) is tuple for p in __r)}
""")


def _pair_case(ns, xs, ys):
    got = _dict(_run(ns, _PAIRS, xs=xs, ys=ys), "pair_up")
    what = f"pair_up({xs!r}, {ys!r})"
    want = list(zip(xs, ys))
    expect_true(got.get("type") == "list", f"{what} should return a list (wrap zip(...) in list(...)), got a "
                f"{got.get('type')}", expected="a list of tuples", got=got.get("type"))
    expect_equal(got.get("items"), want, what)
    expect_true(got.get("tuples"), f"{what}: each element should be a tuple (x, y)", expected=summarize(want),
                got=summarize(got.get("items")))


@A.check("q26", "pair_up([1, 2, 3, 4], 'abcd') gives a list of tuples", points=1)
def _(ns):
    _pair_case(ns, [1, 2, 3, 4], "abcd")


@A.check("q26", "fresh numbers and letters", points=1, hidden=True)
def _(ns):
    r = ns.random
    n = r.randint(3, 9)
    _pair_case(ns, r.sample(range(-99, 99), n), "".join(r.choice("xyzuvwpq") for _ in range(n)))


_manual("q26_prose")


# ---- Q27: view ---------------------------------------------------------------------------------------------
def _flatten_case(ns, x: torch.Tensor) -> None:
    n, h, w = x.shape
    what = f"flatten_images(a tensor of shape {tuple(x.shape)})"
    got = _tensor(ns.call("flatten_images", x), what, (n, h * w))
    expect_close(got, x.reshape(n, h * w), what, atol=0, rtol=0)


@A.check("q27", "flatten_images turns (n, h, w) into (n, h*w) with view", points=1)
def _(ns):
    expect_true(_calls(_function_code(ns, "q27", "flatten_images"), "view"),
                "use the tensor's .view(...) method in flatten_images", expected="x.view(...)", got="no call to view")
    _flatten_case(ns, torch.rand(6, 28, 28, generator=ns.rng))


@A.check("q27", "other numbers and sizes of images", points=1, hidden=True)
def _(ns):
    r = ns.random
    h, w = r.sample(range(2, 10), 2)
    n = r.choice([k for k in range(2, 10) if k not in (h, w, h * w)])   # view(-1, n) is never (n, h*w)
    _flatten_case(ns, torch.rand(n, h, w, generator=ns.rng))


_manual("q27_prose")
_manual("q28")


# ---- Q29: @ -------------------------------------------------------------------------------------------------
def _matmul_case(ns, a, b) -> None:
    want = a @ b
    what = f"matmul(a {'x'.join(map(str, a.shape))}, b {'x'.join(map(str, b.shape))})"
    expect_close(_tensor(ns.call("matmul", a, b), what, tuple(want.shape)), want, what)


@A.check("q29", "matmul(a, b) multiplies matrices with @", points=1)
def _(ns):
    code = _function_code(ns, "q29", "matmul")
    expect_true(any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.MatMult) for n in _walk(code)),
                "use the @ operator in matmul", expected="a @ b", got="no @ in matmul")
    _matmul_case(ns, torch.randn(4, 3, generator=ns.rng), torch.randn(3, 2, generator=ns.rng))


@A.check("q29", "other shapes, including a matrix times a vector", points=1, hidden=True)
def _(ns):
    n, k, m = ns.random.sample(range(2, 9), 3)
    a = torch.randn(n, k, generator=ns.rng)
    _matmul_case(ns, a, torch.randn(k, m, generator=ns.rng))
    _matmul_case(ns, a, torch.randn(k, generator=ns.rng))
    _matmul_case(ns, torch.randn(k, k, generator=ns.rng), torch.randn(k, k, generator=ns.rng))


_manual("q29_prose")


# ---- Q30: backward -----------------------------------------------------------------------------------------
_GRAD_TWICE = textwrap.dedent("""
    import torch as __t
    __x = x.clone()
    __f = {f}
    def __plain(g):
        return g.detach().clone() if isinstance(g, __t.Tensor) else g
    __g1 = __plain(grad_of(__f, __x))
    __g2 = __plain(grad_of(__f, __x))
    result = {{'first': __g1, 'second': __g2}}
""")


def _grad_case(ns, f_src: str, x: torch.Tensor, want: torch.Tensor) -> None:
    what = f"grad_of({f_src}, x) for x of shape {tuple(x.shape)}"
    got = _dict(_run(ns, _GRAD_TWICE.format(f=f_src), x=x), "grad_of")
    first = _tensor(got.get("first"), what, tuple(x.shape))
    expect_close(first, want, what)
    second = got.get("second")
    expect_true(isinstance(second, torch.Tensor) and tuple(second.shape) == tuple(x.shape)
                and torch.allclose(second.double(), want.double(), atol=1e-4, rtol=1e-4),
                f"a second {what} on the same x gave another answer: work on a copy of x that requires gradients "
                "(x.clone().requires_grad_()), so x itself and its .grad are left alone",
                expected=summarize(want), got=summarize(second))


@A.check("q30", "grad_of(f, x) returns the gradient found by backward", points=1)
def _(ns):
    expect_true(_calls(_function_code(ns, "q30", "grad_of"), "backward"), "compute the gradient with .backward()",
                expected="f(x).backward()", got="no call to backward")
    x = torch.randn(5, generator=ns.rng)
    got = _tensor(_run(ns, "result = grad_of(lambda t: (t ** 2).sum(), x)", x=x), "grad_of(f, x)", (5,))
    expect_close(got, 2 * x, "grad_of(lambda t: (t**2).sum(), x)")


@A.check("q30", "another function and shape; called twice on the same x", points=1, hidden=True)
def _(ns):
    x = torch.randn(3, 4, generator=ns.rng)
    _grad_case(ns, "lambda t: (t ** 3).sum() + t.sin().sum()", x, 3 * x ** 2 + x.cos())


_manual("q30_prose")


# ---- Q31: zeroing gradients ----------------------------------------------------------------------------------
_TWO_TWICE = textwrap.dedent("""
    import torch as __t
    __x = x.clone()
    def __plain(g):
        return g.detach().clone() if isinstance(g, __t.Tensor) else g
    __a = __plain(two_backwards(__x, flag))
    __b = __plain(two_backwards(__x, flag))
    result = {'first': __a, 'second': __b, 'x_marked': bool(__x.requires_grad) or __x.grad is not None}
""")


def _two_case(ns, flag: bool) -> None:
    x = torch.randn(4, generator=ns.rng)
    want = (2 * x) if flag else (4 * x)
    what = f"two_backwards(x, zero_between={flag})"
    got = _dict(_run(ns, _TWO_TWICE, x=x, flag=flag), "two_backwards")
    first = _tensor(got.get("first"), what, (4,))
    expect_close(first, want, what + (" (the second gradient only)" if flag else " (both gradients added up)"))
    second = got.get("second")
    expect_true(isinstance(second, torch.Tensor) and tuple(second.shape) == (4,)
                and torch.allclose(second.double(), want.double(), atol=1e-4, rtol=1e-4) and not got.get("x_marked"),
                f"a second {what} on the same x gave another answer: make a copy of x that requires gradients "
                "(x.clone().requires_grad_()) and leave x itself alone", expected=summarize(want), got=summarize(second))


@A.check("q31", "without zeroing, two backward passes add up", points=1)
def _(ns):
    _two_case(ns, False)


@A.check("q31", "with zeroing in between, only the last gradient is left", points=1)
def _(ns):
    _two_case(ns, True)


_manual("q31_prose")
_manual("q32")


# ---- Q33: a training loop --------------------------------------------------------------------------------------
def _mlp_forward(sizes):
    def forward(params, xb):
        out = xb
        for k in range(len(sizes)):
            if k:
                out = out.relu()
            out = out @ params[2 * k].t() + params[2 * k + 1]
        return out
    return forward


def _train_case(ns, n, sizes, bs, epochs, lr):
    x, y = _toy(ns.rng, n, sizes[0][0])
    params0 = []
    for i, o in sizes:
        params0 += [torch.randn(o, i, generator=ns.rng) * (1 / math.sqrt(i)), torch.randn(o, generator=ns.rng) * 0.1]
    got = _run(ns, _setup_loss(ns, "q33") + "result = ref.run_train(train, _x, _y, _sizes, _p0, _bs, _epochs, _lr)",
                 _x=x, _y=y, _sizes=sizes, _p0=params0, _bs=bs, _epochs=epochs, _lr=lr)
    params = _trained(got, params0, "train")
    forward = _mlp_forward(sizes)
    return params, _ref_sgd(params0, forward, x, y, bs, epochs, lr), params0, (forward, x, y)


@A.check("q33", "train lowers the loss and changes the parameters", points=1, given=("mnist_loss",))
def _(ns):
    params, _, params0, data = _train_case(ns, n=64, sizes=[(3, 1)], bs=16, epochs=3, lr=1.0)
    _falls(params, params0, data, "train")


@A.check("q33", "plain SGD: one step per batch, gradients zeroed between steps", points=1, given=("mnist_loss",))
def _(ns):
    params, want, _, _ = _train_case(ns, n=64, sizes=[(3, 1)], bs=16, epochs=2, lr=1.0)
    _same_as_sgd(params, want, "2 epochs of 4 batches")


@A.check("q33", "a two-layer net on fresh data", points=1, hidden=True, given=("mnist_loss",))
def _(ns):
    r = ns.random
    nin = r.randint(2, 5)
    params, want, _, _ = _train_case(ns, n=r.randint(40, 70), sizes=[(nin, 6), (6, 1)], bs=r.randint(5, 12),
                                     epochs=2, lr=r.choice([0.3, 0.5, 1.0]))
    _same_as_sgd(params, want, "two epochs of a two-layer net")


# ---- Q34: ReLU plot ------------------------------------------------------------------------------------------
@A.check("q34", "a line whose y is relu(x)", points=1)
def _(ns):
    _plots(ns, "q34", _relu, "relu")


@A.check("q34", "x runs from -2 to 2", points=1)
def _(ns):
    ok = _plots(ns, "q34", _relu, "relu")
    expect_true(any(-2.5 <= x[0] <= -1.99 and 1.99 <= x[-1] <= 2.5 for x, _ in ok),
                "plot ReLU for x from -2 to 2", expected="x from -2 to 2", got=_span(ok))


_manual("q34_prose")
_manual("q35")


# ---- Q36: F.relu vs nn.ReLU ------------------------------------------------------------------------------------
_NET = textwrap.dedent("""
    import torch as __t
    __n = simple_net
    result = {'type': type(__n).__name__, 'module': isinstance(__n, __t.nn.Module)}
    if result['module']:
        __layers = list(__n.children())
        result['kinds'] = [type(m).__name__ for m in __layers]
        result['linear'] = [[m.weight.detach().clone(), None if m.bias is None else m.bias.detach().clone()]
                            if isinstance(m, __t.nn.Linear) else None for m in __layers]
        with __t.no_grad():
            __out = __n(x)
        result['out'] = __out.detach().clone() if isinstance(__out, __t.Tensor) else None
""")

_FORWARD = textwrap.dedent("""
    import torch as __t
    __l1, __l2 = __t.nn.Linear(4, 8), __t.nn.Linear(8, 1)
    with __t.no_grad():
        __l1.weight.copy_(w1); __l1.bias.copy_(b1); __l2.weight.copy_(w2); __l2.bias.copy_(b2)
    __out = simple_forward(x, __l1, __l2)
    result = __out.detach().clone() if isinstance(__out, __t.Tensor) else __out
""")


def _two_layers(x, w1, b1, w2, b2):
    return torch.relu(x @ w1.t() + (0 if b1 is None else b1)) @ w2.t() + (0 if b2 is None else b2)


@A.check("q36", "simple_net: Linear(4, 8), nn.ReLU as a layer, Linear(8, 1)", points=1)
def _(ns):
    x = torch.randn(6, 4, generator=ns.rng)
    got = _dict(_run(ns, _NET, x=x), "simple_net")
    expect_true(got.get("module"), f"simple_net should be an nn.Sequential, got a {got.get('type')}",
                expected="nn.Sequential(...)", got=got.get("type"))
    expect_equal(got.get("kinds"), ["Linear", "ReLU", "Linear"], "the layers of simple_net")
    linear = got.get("linear")
    if not (isinstance(linear, list) and len(linear) == 3 and all(
            isinstance(linear[i], list) and len(linear[i]) == 2 and isinstance(linear[i][0], torch.Tensor)
            and linear[i][0].ndim == 2 for i in (0, 2))):
        raise CheckFailed("simple_net's first and last layers should be nn.Linear layers",
                          expected="nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1)", got=summarize(got.get("kinds")))
    (w1, b1), _, (w2, b2) = linear
    sizes = [tuple(w1.shape[::-1]), tuple(w2.shape[::-1])]
    expect_equal(sizes, [(4, 8), (8, 1)], "the (in, out) sizes of simple_net's two Linear layers")
    expect_close(_tensor(got.get("out"), "simple_net(x)", (6, 1)), _two_layers(x, w1, b1, w2, b2), "simple_net(x)")


@A.check("q36", "simple_forward computes lin2(relu(lin1(x))) with F.relu", points=1)
def _(ns):
    expect_true(_calls(_function_code(ns, "q36", "simple_forward"), "relu"),
                "use the function F.relu in simple_forward (nn.ReLU is the layer version)", expected="F.relu(...)",
                got="no call to F.relu")
    g = ns.rng
    x = torch.randn(7, 4, generator=g)
    w1, b1 = torch.randn(8, 4, generator=g) * 0.5, torch.randn(8, generator=g) * 0.5
    w2, b2 = torch.randn(1, 8, generator=g) * 0.5, torch.randn(1, generator=g) * 0.5
    got = _run(ns, _FORWARD, x=x, w1=w1, b1=b1, w2=w2, b2=b2)
    what = "simple_forward(x, lin1, lin2) with layers other than simple_net's"
    expect_close(_tensor(got, what, (7, 1)), _two_layers(x, w1, b1, w2, b2), what)


_manual("q36_prose")
_manual("q37")
