"""The chapter 4 questionnaire: notebook structure, its checks (in-process), and grading it for real.

Fast tests run the source notebook's answer cells in this process and apply the checks through a
`LocalNamespace`, including on broken variants (sqrt before mean in RMSE, a training loop that never
zeroes its gradients, ...) that must lose exactly the checks meant to catch them, and correct answers
written differently that must keep full marks. Slow tests grade the notebook (and a broken copy) with the
isolated-kernel engine. (The mutation suite, tests/mutations/ch04_questionnaire.py, grades many more
variants with the engine.)
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from autograders.checks import get_assignment
from autograders.checks.spec import CheckFailed
from autograders.namespace import LocalNamespace, StudentError
from nbtools import assert_follows_conventions

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "autograders" / "assignments" / "ch04_questionnaire" / "ch04_questionnaire.ipynb"
KEY = ROOT / "autograders" / "assignments" / "ch04_questionnaire" / "answer_key.yaml"
A = get_assignment("ch04_questionnaire")


def _nb() -> dict:
    return json.loads(NOTEBOOK.read_text(encoding="utf-8"))


def _src(cell) -> str:
    s = cell["source"]
    return "".join(s) if isinstance(s, list) else s


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


# ---- structure ----------------------------------------------------------------------------------------------
def test_notebook_follows_the_conventions():
    import nbformat
    nb = nbformat.reads(NOTEBOOK.read_text(encoding="utf-8"), as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["ch4grade"] == {"assignment": "ch04_questionnaire"}
    assert_follows_conventions(nb, A)


def test_37_prompts_numbered_in_order_and_locked():
    prompts = [c for c in _nb()["cells"] if re.fullmatch(r"q\d\d_prompt", _meta(c).get("grade_id", ""))]
    numbers = [int(re.match(r"### Question (\d+)\n", _src(c)).group(1)) for c in prompts]
    assert numbers == list(range(1, 38))
    assert all(_meta(c)["locked"] and not _meta(c)["solution"] and not _meta(c)["grade"] for c in prompts)
    assert [_meta(c)["grade_id"] for c in prompts] == [f"q{n:02d}_prompt" for n in range(1, 38)]


def test_every_answer_follows_its_prompt():
    cells = _nb()["cells"]
    answers = 0
    for i, cell in enumerate(cells):
        m = _meta(cell)
        if not m.get("solution"):
            continue
        answers += 1
        gid = m["grade_id"]
        n = gid[:3]
        prev = [c for c in cells[:i] if c["cell_type"] == "markdown" and _meta(c).get("locked")][-1]
        want = f"{n}_prose_prompt" if gid.endswith("_prose") else f"{n}_prompt"
        assert _meta(prev)["grade_id"] == want, (gid, _meta(prev)["grade_id"])
        if cell["cell_type"] == "markdown":  # code answers: see test_notebook_follows_the_conventions
            assert m["grade"] and not m["locked"] and _src(cell).strip()
    assert answers == len(A.items)


def test_answer_cells_match_the_checks_module_in_order():
    answers = [_meta(c)["grade_id"] for c in _nb()["cells"] if _meta(c).get("solution")]
    assert answers == list(A.items)  # same ids, same order (points: test_notebook_follows_the_conventions)
    assert 60 <= A.points <= 80


def test_setup_cell_is_locked_and_light():
    setup = next(c for c in _nb()["cells"] if c["cell_type"] == "code")
    m = _meta(setup)
    assert m["grade_id"] == "setup" and m["locked"] and not m["solution"] and not m["grade"]
    assert "fastai.vision.all" not in _src(setup)


def test_every_prose_item_has_a_key_entry():
    import yaml
    key = yaml.safe_load(KEY.read_text(encoding="utf-8"))["items"]
    manual = {i.id: i.points for i in A.manual_items}
    assert set(key) == set(manual)
    for item_id, entry in key.items():
        assert entry["points"] == manual[item_id], item_id
        assert entry["model_answer"].strip() and entry["prompt"].strip()
        assert sum(p["points"] for p in entry["key_points"]) == pytest.approx(entry["points"]), item_id
        for p in entry["key_points"]:
            assert p["terms"]["en"] and p["terms"]["ko"], (item_id, p["id"])
            assert any(re.search("[\uac00-\ud7a3]", t) for t in p["terms"]["ko"]), (item_id, p["id"])
        assert entry.get("misconceptions"), item_id
        assert int(item_id[1:3]) == entry["question"]


def test_notebook_model_answers_are_the_keys():
    import yaml
    key = yaml.safe_load(KEY.read_text(encoding="utf-8"))["items"]
    for c in _nb()["cells"]:
        if c["cell_type"] == "markdown" and _meta(c).get("solution"):
            assert _src(c).strip() == key[_meta(c)["grade_id"]]["model_answer"].strip()


# ---- the checks, in process -----------------------------------------------------------------------------------
def _answers() -> dict[str, str]:
    return {_meta(c)["grade_id"]: _src(c) for c in _nb()["cells"]
            if c["cell_type"] == "code" and _meta(c).get("solution")}


def _setup_source() -> str:
    return next(_src(c) for c in _nb()["cells"] if _meta(c).get("grade_id") == "setup")


def _strip_markers(src: str) -> str:
    return "\n".join(ln for ln in src.splitlines() if not ln.strip().startswith("### "))


def _figure_lines() -> list[dict]:
    import matplotlib.pyplot as plt
    axes = []
    for num in plt.get_fignums():
        for ax in plt.figure(num).axes:
            axes.append({"lines": [{"x": line.get_xdata(), "y": line.get_ydata(), "label": line.get_label()}
                                   for line in ax.get_lines()], "title": ax.get_title()})
    plt.close("all")
    return axes


def _namespace(replace: dict[str, str] | None = None, only: list[str] | None = None) -> LocalNamespace:
    """Run setup + the code answers (`only` these, with `replace`d sources) in a fresh dict: the checks'
    namespace. The answers do not depend on each other, only on the setup cell."""
    import matplotlib
    matplotlib.use("Agg")
    answers = {k: _strip_markers(v) for k, v in _answers().items() if only is None or k in only}
    answers.update(replace or {})
    g: dict = {"__name__": "__main__"}
    exec(compile(_setup_source(), "<setup>", "exec"), g)
    figures = {}
    for item_id, src in answers.items():
        try:
            exec(compile(src, f"<{item_id}>", "exec"), g)
        except NotImplementedError:      # a released placeholder cell
            pass
        figures[item_id] = _figure_lines()
    return LocalNamespace(g, sources=answers, figures=figures)


def _outcomes(ns, item_ids, seed: int = 1, messages: dict | None = None) -> dict[tuple[str, str], float]:
    """(item, check name) -> fraction passed (a CheckFailed's credit; 0 on the student's error), each check run
    in its context as the engine does (`ns.bind`: its seed, its `given` reference pieces). A check must never
    raise anything else; `messages` collects the failures' messages."""
    out = {}
    for item_id in item_ids:
        for check in A.items[item_id].checks:
            ns.bind(seed, item_id, check.name, check.given, A.kernel_source)
            try:
                v = check.fn(ns)
                assert v is None, f"{item_id} / {check.name}: partial credit must come as CheckFailed(credit=)"
                out[(item_id, check.name)] = 1.0
            except (CheckFailed, StudentError) as e:
                out[(item_id, check.name)] = float(e.credit)
                if messages is not None:
                    messages[(item_id, check.name)] = e.message
                assert e.message, f"{item_id} / {check.name}: a failure without a message"
    return out


def _failed(outcomes) -> set[tuple[str, str]]:
    return {k for k, v in outcomes.items() if v < 1}


@pytest.fixture(scope="module")
def solution_ns():
    return _namespace()


def test_model_solutions_pass_every_check(solution_ns):
    outcomes = _outcomes(solution_ns, [i.id for i in A.auto_items])
    assert len(outcomes) == sum(len(i.checks) for i in A.auto_items)
    assert _failed(outcomes) == set()


# Broken answers, each with the exact checks it must fail (all other checks of its item must pass).
BROKEN = {
    "rmse_sqrt_before_mean": ("q07", "def rmse(a, b):\n    return ((a - b) ** 2).sqrt().mean()\n"
                              "def l1(a, b):\n    return (a - b).abs().mean()\n",
                              {"rmse(a, b) on random images: square, mean, then square root",
                               "rmse on other shapes and scales (one number, averaged over all elements)"}),
    "distances_over_the_last_two_axes": ("q07", "def rmse(a, b):\n    return ((a - b) ** 2).mean((-1, -2)).sqrt()\n"
                                         "def l1(a, b):\n    return (a - b).abs().mean((-1, -2))\n",
                                         {"rmse on other shapes and scales (one number, averaged over all elements)",
                                          "l1 on other shapes and scales (one number, averaged over all elements)"}),
    "rmse_hard_coded": ("q07", "def rmse(a, b):\n    return 0.4082\ndef l1(a, b):\n    return 0.3333\n",
                        None),  # None: every check of the item fails
    "odds_with_a_loop": ("q04", "def double_odds(nums):\n    out = []\n    for n in nums:\n"
                         "        if n % 2:\n            out.append(2 * n)\n    return out\n",
                         {"written as a single list comprehension"}),
    "odds_without_filter": ("q04", "def double_odds(nums):\n    return [2 * n for n in nums]\n", None),
    "odds_into_the_callers_list": ("q04", "def double_odds(nums):\n    nums[:] = [2 * n for n in nums if n % 2]\n"
                                   "    return nums\n",
                                   {"fresh lists (negative numbers, zero, empty); a new list, the argument unchanged"}),
    "stack_squeezed": ("q05", "def stack_images(imgs):\n    return torch.stack(imgs).squeeze()\n",
                       {"other numbers and sizes of images (one image; integer pixels)"}),
    "rank_from_len": ("q06", "def rank_and_shape(t):\n    return len(t), tuple(t.shape)\n", {"tensors of rank 0 to 4"}),
    # q09: each part has its own credit; a wrong `nine` does not cost `doubled` or `corner` derived from it
    "nine_from_zero": ("q09", "nine = torch.arange(9).view(3, 3)\ndoubled = nine * 2\ncorner = doubled[1:, 1:]\n"
                       "def double_corner(x):\n    return (x * 2)[1:, 1:]\n",
                       {"`nine` is a 3x3 tensor of 1 to 9, row by row"}),
    "corner_top_left": ("q09", "nine = torch.arange(1, 10).view(3, 3)\ndoubled = nine * 2\ncorner = doubled[:2, :2]\n"
                        "def double_corner(x):\n    return (x * 2)[1:, 1:]\n",
                        {"`corner` is the bottom-right 2x2 block of `doubled`"}),
    "center_with_a_loop": ("q10", "def center_columns(m):\n    m = m.clone()\n    for j in range(m.shape[1]):\n"
                           "        m[:, j] -= m[:, j].mean()\n    return m\n",
                           {"no Python loop: broadcasting does the work"}),
    "loader_not_shuffled": ("q24", "def make_loader(items, bs):\n    return DataLoader(items, bs=bs)\n",
                            {"the items are shuffled, differently each epoch"}),
    "zip_not_a_list": ("q26", "def pair_up(xs, ys):\n    return zip(xs, ys)\n", None),
    "view_not_used": ("q27", "def flatten_images(x):\n    return x.reshape(len(x), -1)\n",
                      {"flatten_images turns (n, h, w) into (n, h*w) with view"}),
    "matmul_elementwise": ("q29", "def matmul(a, b):\n    return a * b\n", None),
    "backward_always_zeroed": ("q31", "def two_backwards(x, zero_between):\n    x = x.clone().requires_grad_()\n"
                               "    (x ** 2).sum().backward()\n    x.grad.zero_()\n    (x ** 2).sum().backward()\n"
                               "    return x.grad\n", {"without zeroing, two backward passes add up"}),
    "epoch_without_zero_grad": ("q25", "def train_epoch(model, lr, params, dl):\n    for xb, yb in dl:\n"
                                "        mnist_loss(model(xb), yb).backward()\n        for p in params:\n"
                                "            p.data -= lr * p.grad\n",
                                {"one plain SGD step per batch, with that batch's gradient only",
                                 "fresh data, batch size and learning rate"}),
    "epoch_without_step": ("q25", "def train_epoch(model, lr, params, dl):\n    for xb, yb in dl:\n"
                           "        mnist_loss(model(xb), yb).backward()\n        for p in params:\n"
                           "            p.grad.zero_()\n", None),
    "train_without_zero_grad": ("q33", "def train(model, dl, epochs, lr):\n"
                                "    opt = torch.optim.SGD(model.parameters(), lr=lr)\n"
                                "    for _ in range(epochs):\n        for xb, yb in dl:\n"
                                "            mnist_loss(model(xb), yb).backward()\n            opt.step()\n",
                                {"plain SGD: one step per batch, gradients zeroed between steps",
                                 "a two-layer net on fresh data"}),
    "train_without_step": ("q33", "def train(model, dl, epochs, lr):\n"
                           "    opt = torch.optim.SGD(model.parameters(), lr=lr)\n"
                           "    for _ in range(epochs):\n        for xb, yb in dl:\n"
                           "            mnist_loss(model(xb), yb).backward()\n            opt.zero_grad()\n", None),
    "sigmoid_too_narrow": ("q21", "xs = torch.linspace(-1, 1, 50)\nplt.plot(xs, torch.sigmoid(xs))\n",
                           {"x spans at least -4..4, so both flat ends show"}),
    "relu_drawn_for_sigmoid": ("q21", "xs = torch.linspace(-5, 5, 50)\nplt.plot(xs, F.relu(xs))\n", None),
    "relu_wrong_range": ("q34", "xs = torch.linspace(-6, 6, 50)\nplt.plot(xs, F.relu(xs))\n", {"x runs from -2 to 2"}),
    "relu_without_its_kink": ("q34", "plt.plot([-2, 2], [0, 2])\n", None),
    "net_with_sigmoid_layer": ("q36", "simple_net = nn.Sequential(nn.Linear(4, 8), nn.Sigmoid(), nn.Linear(8, 1))\n"
                               "def simple_forward(x, lin1, lin2):\n    return lin2(F.relu(lin1(x)))\n",
                               {"simple_net: Linear(4, 8), nn.ReLU as a layer, Linear(8, 1)"}),
    "net_with_30_hidden_units": ("q36", "simple_net = nn.Sequential(nn.Linear(4, 30), nn.ReLU(), nn.Linear(30, 1))\n"
                                 "def simple_forward(x, lin1, lin2):\n    return lin2(F.relu(lin1(x)))\n",
                                 {"simple_net: Linear(4, 8), nn.ReLU as a layer, Linear(8, 1)"}),
    "forward_without_relu": ("q36", "simple_net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))\n"
                             "def simple_forward(x, lin1, lin2):\n    return lin2(lin1(x))\n",
                             {"simple_forward computes lin2(relu(lin1(x))) with F.relu"}),
    "forward_ignores_its_layers": ("q36", "simple_net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))\n"
                                   "def simple_forward(x, lin1, lin2):\n    return simple_net(x)\n",
                                   {"simple_forward computes lin2(relu(lin1(x))) with F.relu"}),
    "grad_of_marks_the_callers_x": ("q30", "def grad_of(f, x):\n    x.requires_grad_()\n    f(x).backward()\n"
                                    "    return x.grad\n", {"another function and shape; called twice on the same x"}),
    "two_backwards_without_a_copy": ("q31", "def two_backwards(x, zero_between):\n    x.requires_grad_()\n"
                                     "    (x ** 2).sum().backward()\n    if zero_between:\n        x.grad.zero_()\n"
                                     "    (x ** 2).sum().backward()\n    return x.grad\n", None),
}

# Correct answers written differently from the model answer: full marks.
CORRECT = {
    "relu_three_corners": ("q34", "plt.plot([-2, 0, 2], [0, 0, 2])\n"),
    "relu_integer_steps": ("q34", "x = torch.arange(-2., 3.)\nplt.plot(x, nn.ReLU()(x))\n"),
    "sigmoid_eleven_points": ("q21", "import numpy as np\nx = np.arange(-5, 6)\nplt.plot(x, 1 / (1 + np.exp(-x)))\n"),
    "center_columns_in_place": ("q10", "def center_columns(m):\n    m -= m.mean(0)\n    return m\n"),
    "odds_by_truthiness": ("q04", "def double_odds(nums):\n    return [x * 2 for x in nums if x % 2]\n"),
    "nine_as_floats": ("q09", "nine = tensor([[1., 2., 3.], [4., 5., 6.], [7., 8., 9.]])\ndoubled = 2 * nine\n"
                              "corner = doubled[-2:, -2:]\ndef double_corner(x):\n    return x[1:, 1:] * 2\n"),
    "loader_with_batch_size": ("q24", "def make_loader(items, bs):\n    return DataLoader(items, batch_size=bs, shuffle=True)\n"),
    "train_with_basic_optim": ("q33", "class BasicOptim:\n    def __init__(self, params, lr):\n"
                                      "        self.params, self.lr = list(params), lr\n"
                                      "    def step(self):\n        for p in self.params:\n            p.data -= p.grad.data * self.lr\n"
                                      "    def zero_grad(self):\n        for p in self.params:\n            p.grad = None\n"
                                      "def train(model, dl, epochs, lr):\n    opt = BasicOptim(model.parameters(), lr)\n"
                                      "    for _ in range(epochs):\n        for xb, yb in dl:\n"
                                      "            mnist_loss(model(xb), yb).backward()\n            opt.step()\n"
                                      "            opt.zero_grad()\n"),
    "matmul_as_a_lambda": ("q29", "matmul = lambda a, b: a @ b\n"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_answer_loses_exactly_its_checks(case):
    item_id, src, must_fail = BROKEN[case]
    ns = _namespace({item_id: src}, only=[item_id])
    for seed in (1, 2, 3):
        outcomes = _outcomes(ns, [item_id], seed=seed)
        expected = {n for (_, n) in outcomes} if must_fail is None else must_fail
        assert {n for (_, n) in _failed(outcomes)} == expected, seed


@pytest.mark.parametrize("case", sorted(CORRECT))
def test_correct_answer_written_differently_gets_full_marks(case):
    item_id, src = CORRECT[case]
    ns = _namespace({item_id: src}, only=[item_id])
    for seed in (1, 2, 3):
        assert _failed(_outcomes(ns, [item_id], seed=seed)) == set(), seed


def test_blank_notebook_scores_zero_on_every_item():
    "The released placeholders earn nothing (no free point for a loop-free or comprehension-free placeholder)."
    placeholder = "# YOUR CODE HERE\nraise NotImplementedError()\n"
    ns = _namespace({k: placeholder for k in _answers()})
    outcomes = _outcomes(ns, [i.id for i in A.auto_items])
    assert {k: v for k, v in outcomes.items() if v > 0} == {}


def test_the_same_seed_reproduces_the_checks_and_nothing_else_is_random():
    import autograders.assignments.ch04_questionnaire.checks as module
    src = Path(module.__file__).read_text(encoding="utf-8")
    assert "secrets" not in src and "SystemRandom" not in src
    ns = _namespace({"q07": BROKEN["rmse_sqrt_before_mean"][1]}, only=["q07", "q24"])
    first, again = {}, {}
    _outcomes(ns, ["q07", "q24"], seed=5, messages=first)
    _outcomes(ns, ["q07", "q24"], seed=5, messages=again)
    assert first and first == again


def test_a_mnist_loss_redefined_in_q25_costs_q33_nothing():
    "q25's cell redefines mnist_loss as the book's first version (no sigmoid): q25 loses, q33 is graded as before."
    q25 = ("def mnist_loss(predictions, targets):\n    return torch.where(targets == 1, 1 - predictions, predictions).mean()\n"
           + _strip_markers(_answers()["q25"]))
    ns = _namespace({"q25": q25}, only=["q25", "q33"])
    outcomes = _outcomes(ns, ["q25", "q33"])
    assert {k for k in _failed(outcomes) if k[0] == "q25"}
    assert {k for k in _failed(outcomes) if k[0] == "q33"} == set()


def test_sgd_steps_accepts_paraphrases_and_korean_and_gives_partial_credit_with_a_reason():
    name = "seven steps, in order (any wording, English or Korean)"
    right = {
        "korean": ["가중치를 무작위로 초기화", "예측하기", "손실 계산", "기울기 계산", "가중치 갱신", "반복", "멈추기"],
        "plain words": ["start with random weights", "make predictions with the model", "measure how bad the predictions are",
                        "find the slope for each weight", "nudge each weight a little against its slope",
                        "go back and do it all again", "quit once the model is good enough"],
        "the book's labels": ["init", "predict", "loss", "gradient", "step", "repeat", "stop"],
    }
    for case, steps in right.items():
        ns = _namespace(only=["q14"], replace={"q14": f"sgd_steps = {steps!r}\n"})
        assert _outcomes(ns, ["q14"]) == {("q14", name): 1.0}, case
    wrong = {  # (steps, credit, a word the message must contain)
        "order": (["init", "predict", "loss", "gradient", "step", "stop", "repeat"], 5 / 7, "step 6"),
        "learning rate": (["init", "predict", "loss", "gradient", "update the learning rate", "repeat", "stop"], 6 / 7,
                          "not the learning rate"),
        "ascent": (["init", "predict", "loss", "gradient", "add the gradient to the weights", "repeat", "stop"], 6 / 7,
                   "against the gradient"),
        "accuracy": (["init", "predict", "compute the accuracy", "gradient", "step", "repeat", "stop"], 6 / 7, "metric"),
        "six steps": (["init", "predict", "loss", "gradient", "step", "repeat"], 0, "7 steps"),
    }
    for case, (steps, credit, word) in wrong.items():
        ns = _namespace(only=["q14"], replace={"q14": f"sgd_steps = {steps!r}\n"})
        messages = {}
        assert list(_outcomes(ns, ["q14"], messages=messages).values()) == [pytest.approx(credit)], case
        assert word in messages[("q14", name)], (case, messages)


# ---- the real engine ---------------------------------------------------------------------------------------------
def _mutate(tmp_path: Path, replace: dict[str, str]) -> Path:
    nb = _nb()
    done = set()
    for cell in nb["cells"]:
        gid = _meta(cell).get("grade_id")
        if gid in replace and _meta(cell).get("solution"):
            cell["source"] = replace[gid]
            done.add(gid)
    assert done == set(replace)
    path = tmp_path / "student.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def _scores(result) -> dict[str, tuple[float, float]]:
    return {i.id: (i.score, i.max_score) for i in result.items if i.status != "manual"}


@pytest.mark.slow
def test_engine_gives_the_source_notebook_full_marks():
    from autograders.engine import grade_notebook
    r = grade_notebook(NOTEBOOK, "ch04_questionnaire")
    assert r.status == "graded", r.error
    scores = _scores(r)
    assert set(scores) == {i.id for i in A.auto_items}
    assert {k: v for k, v in scores.items() if v[0] != v[1]} == {}
    assert r.timings["execute_s"] < 60


@pytest.mark.slow
def test_engine_takes_points_only_from_the_broken_items(tmp_path):
    from autograders.engine import grade_notebook
    replace = {k: BROKEN[case][1] for case, k in
               [("rmse_sqrt_before_mean", "q07"), ("epoch_without_zero_grad", "q25"),
                ("train_without_zero_grad", "q33")]}
    r = grade_notebook(_mutate(tmp_path, replace), "ch04_questionnaire")
    assert r.status == "graded", r.error
    lost = {k for k, (s, m) in _scores(r).items() if s < m}
    assert lost == {"q07", "q25", "q33"}
    s = _scores(r)
    assert s["q07"] == (2.0, 4.0)   # l1 still right; both rmse checks fail
    assert s["q25"] == (1.0, 3.0)   # the loss still falls, but the steps are not plain SGD
    assert s["q33"] == (1.0, 3.0)
