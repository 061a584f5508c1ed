"""The kernel-side modules (`autograders/checks/kernel_common.py`, each unit's `kernel.py`) are real modules, tested
here in-process like micrograd against PyTorch: their reference pieces agree with `reference/`, their harness helpers
do what the checks rely on, and what the kernel receives is self-contained (no import of this package)."""
from __future__ import annotations

import ast
import importlib
import random

import pytest
import torch
import torch.nn.functional as F

from autograders.checks import get_assignment
from autograders.checks import kernel_common as kc
from autograders.checks.expect import pack_images
from autograders.checks.kernel_filter import common_names, defined_names

UNITS = ("ch04_pixel_similarity", "ch04_sgd", "ch04_questionnaire", "ch04_learner", "ch04_full_mnist")


def kernel(name):
    return importlib.import_module(f"autograders.assignments.{name}.kernel")


def g(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("name", UNITS)
def test_what_the_kernel_receives_imports_nothing_of_this_package_and_runs_alone(name):
    src = get_assignment(name).kernel_source
    tree = ast.parse(src)
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not {m for m in imported if m.split(".")[0] in ("autograders", "reference")}, imported
    assert {m.split(".")[0] for m in imported} <= {"torch", "contextlib", "io", "sys", "types", "copy", "random",
                                                   "base64", "zlib", "IPython", "__future__"}, imported
    env = {"__name__": "ref"}
    exec(compile(src, f"<{name} kernel>", "exec"), env)
    uses_common = "kernel_common" in (get_assignment(name).folder / "kernel.py").read_text()
    assert uses_common and callable(env.get("plain")) and callable(env.get("run_cell"))


@pytest.mark.parametrize("name", UNITS)
def test_no_answer_cell_defines_a_name_of_kernel_common(name):
    "ref's shared helpers are never withheld, so no answer may be one of them (it would shadow nothing, but say so)."
    from autograders.checks.spec import answer_names
    a = get_assignment(name)
    answered = set().union(*answer_names(a.source).values())
    helpers = {n for n in common_names() if not n.startswith("_")} - {"torch", "contextlib", "io", "sys"}
    assert not answered & helpers, answered & helpers
    # and the item-by-item filtering still leaves them in every check's ref
    for item in a.auto_items:
        assert {"plain", "run_cell", "rerun"} <= defined_names(a.kernel_for(item.id))


# ---- kernel_common --------------------------------------------------------------------------------------------

def test_plain_detaches_moves_to_cpu_and_keeps_containers():
    class Sub(torch.Tensor):
        pass
    t = torch.ones(2, requires_grad=True) * 2
    out = kc.plain({"a": [t, (t.as_subclass(Sub), 3)], "b": "x"})
    assert type(out["a"][0]) is torch.Tensor and not out["a"][0].requires_grad
    assert type(out["a"][1]) is tuple and type(out["a"][1][0]) is torch.Tensor and out["a"][1][1] == 3
    assert out["b"] == "x" and torch.equal(out["a"][0], torch.tensor([2., 2.]))


def test_images_packed_by_the_grader_unpack_to_the_same_bytes():
    x = torch.randint(0, 256, (5, 28, 28), generator=g(), dtype=torch.uint8)
    assert torch.equal(kc.unpack(pack_images(x)), x)


def test_run_cell_swallows_printing_reads_and_closes_the_figures(capsys):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    scope = {}
    lines = kc.run_cell("import matplotlib.pyplot as plt\nprint('hello')\nplt.plot([0, 1, 0])\nx = 5", scope)
    assert scope["x"] == 5 and lines == [[0.0, 1.0, 0.0]]
    assert capsys.readouterr().out == "" and plt.get_fignums() == []


def test_rerun_replaces_names_in_a_copy_draws_the_same_numbers_and_restores_the_generators():
    env = {"f": lambda: "student", "torch": torch}
    random.seed(7)
    torch.manual_seed(7)
    state, torch_state = random.getstate(), torch.get_rng_state()
    g1, _ = kc.rerun("out = f()\nr = torch.rand(3)\nq = __import__('random').random()", env, 123, f=lambda: "ref")
    g2, _ = kc.rerun("out = f()\nr = torch.rand(3)\nq = __import__('random').random()", env, 123, f=lambda: "ref")
    assert g1["out"] == "ref" and env["f"]() == "student" and "out" not in env
    assert torch.equal(g1["r"], g2["r"]) and g1["q"] == g2["q"]
    assert random.getstate() == state and torch.equal(torch.get_rng_state(), torch_state)


def test_rerun_pins_a_fastai_dataloaders_own_generator():
    class Loader:       # fastai's DataLoader keeps `self.rng`
        def __init__(self):
            self.rng = random.Random(1)
    dl = Loader()
    before = dl.rng
    g1, _ = kc.rerun("v = dl.rng.random()", {"dl": dl}, 5)
    g2, _ = kc.rerun("v = dl.rng.random()", {"dl": dl}, 5)
    assert g1["v"] == g2["v"] and dl.rng is before


# ---- each unit's reference pieces agree with reference/ ----------------------------------------------------------

def test_pixel_similarity_distance_is_the_chapters():
    from reference.pixel_similarity import mnist_distance
    k = kernel("ch04_pixel_similarity")
    a, b = torch.rand(5, 28, 28, generator=g()), torch.rand(28, 28, generator=g(1))
    assert torch.allclose(k.mnist_distance(a, b), mnist_distance(a, b))
    counted = k.Counting(k.mnist_distance)
    counted(a, b), counted(a, b)
    assert counted.calls == 2
    assert torch.allclose(k.images(pack_images((a * 255).to(torch.uint8))), (a * 255).to(torch.uint8).float() / 255)


def test_sgd_pieces_match_reference_linear():
    from reference import linear as R
    k = kernel("ch04_sgd")
    x, y = torch.randn(20, 784, generator=g()), (torch.rand(20, 1, generator=g(1)) > 0.5).float()
    p = torch.randn(20, 1, generator=g(2))
    assert torch.allclose(k.mnist_loss(p, y), R.mnist_loss(p, y))
    assert torch.allclose(k.batch_accuracy(p, y), R.batch_accuracy(p, y))
    assert torch.allclose(k.mse(p, y), F.mse_loss(p, y))
    t = torch.arange(5.)
    assert torch.allclose(k.f(t, (2., 3., 1.)), 2 * t ** 2 + 3 * t + 1)

    def grads(calc):
        w = (torch.randn(784, 1, generator=g(3)) * 0.01).requires_grad_()
        calc(x, y, lambda xb: xb @ w)
        return w.grad
    assert torch.allclose(grads(k.calc_grad), grads(R.calc_grad))

    def stepped(opt_cls):
        m = torch.nn.Linear(784, 1)
        m.load_state_dict({"weight": torch.ones(1, 784) * 0.01, "bias": torch.zeros(1)})
        opt = opt_cls(m.parameters(), 0.5)
        R.mnist_loss(m(x), y).backward()
        opt.step()
        opt.zero_grad()
        return [t.detach().clone() for t in m.parameters()], [t.grad for t in m.parameters()]
    (mine, my_grads), (ref, ref_grads) = stepped(k.BasicOptim), stepped(R.BasicOptim)
    assert all(torch.allclose(a, b) for a, b in zip(mine, ref))
    assert all(gr is None or not gr.any() for gr in my_grads)


def test_sgd_train_epoch_stand_in_trains_like_the_chapter():
    from reference import linear as R
    k = kernel("ch04_sgd")
    x, y = torch.randn(40, 784, generator=g()), (torch.rand(40, 1, generator=g(1)) > 0.5).float()
    batches = [(x[i:i + 16], y[i:i + 16]) for i in range(0, 40, 16)]

    def trained(train):
        w = (torch.randn(784, 1, generator=g(3)) * 0.01).requires_grad_()
        b = torch.zeros(1).requires_grad_()
        train(lambda xb: xb @ w + b, 0.5, (w, b))
        return w.detach(), b.detach()
    mine = trained(k.TrainEpoch(batches))
    ref = trained(lambda model, lr, params: R.train_epoch(model, lr, params, batches))
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(mine, ref))


def test_questionnaire_loss_is_the_chapters():
    from reference.linear import mnist_loss
    k = kernel("ch04_questionnaire")
    p, y = torch.randn(9, 1, generator=g()), (torch.rand(9, 1, generator=g(1)) > 0.5).float()
    assert torch.allclose(k.mnist_loss(p, y), mnist_loss(p, y))


def test_full_mnist_cross_entropy_matches_pytorch_and_stays_finite():
    from reference.full_mnist import cross_entropy
    k = kernel("ch04_full_mnist")
    for scale in (1., 1000.):
        p, t = torch.randn(16, 10, generator=g()) * scale, torch.randint(0, 10, (16,), generator=g(1))
        assert torch.allclose(k.cross_entropy(p, t), F.cross_entropy(p, t), rtol=1e-4)
        assert torch.allclose(k.cross_entropy(p, t), cross_entropy(p, t), rtol=1e-4)
        assert torch.allclose(k.softmax(p), F.softmax(p, -1), atol=1e-6)


def test_learner_stand_ins_fit_like_reference_learner():
    from autograders.assignments.ch04_learner import checks as C
    k = kernel("ch04_learner")
    for kind in ("linear", "simple_net"):
        data = C.make_data(g(4))
        weights = C.make_weights(kind, g(5))
        want_losses, want_weights = C.reference_fit(data, kind, weights, 0.3, 2)
        got = k.fit(k.Learner, data, kind, weights, 0.3, 2)
        assert got["losses"] == pytest.approx(want_losses, abs=1e-6)
        assert all(torch.allclose(got["weights"][n], w, atol=1e-6) for n, w in want_weights.items())
        assert got["steps"] == len(want_losses) and got["missing"] == [] and got["opt_is_made"]


def test_learner_validate_epoch_weights_by_batch_size_like_the_reference():
    from autograders.assignments.ch04_learner import checks as C
    k = kernel("ch04_learner")
    weights = C.make_weights("linear", g(6))
    model = C._model_with("linear", weights)
    x, y = torch.randn(23, 8, generator=g(7)), (torch.rand(23, 1, generator=g(8)) > 0.5).long()
    batches = C._split(x, y, [10, 10, 3])
    want = C.reference_metric(model, batches, C.accuracy)
    assert k.validate_epoch(model, batches, k.accuracy) == pytest.approx(want, abs=1e-6)
    case = k.validate_case(k.validate_epoch, x, y, [10, 10, 3], "linear", weights, "accuracy")
    assert case["value"] == {"kind": "float", "value": pytest.approx(want, abs=1e-6)} and case["tracked"] == 0


def test_learner_recorder_stand_in_records_losses_and_copies_of_the_metrics():
    k = kernel("ch04_learner")
    out = k.drive_recorder(k.Recorder, [([[0.5, 0.4], [0.3]], [[0.9], [0.95]])])
    assert [d["value"] for d in out[0]["losses"]] == pytest.approx([0.5, 0.4, 0.3])
    assert [[d["value"] for d in row] for row in out[0]["epoch_metrics"]] == [[0.9], [0.95]]


def test_rerun_runs_a_cell_once_per_grading_session_and_every_time_in_a_self_check(monkeypatch):
    import sys
    calls = []
    env = {"note": calls.append}
    kc.rerun("note(1)", env, 42)
    kc.rerun("note(1)", env, 42)
    assert calls == [1, 1]                     # a self-check: no session, every call runs the cell
    monkeypatch.setitem(sys.modules, "__ch4grade_bound__", {})
    g1, _ = kc.rerun("note(2)\nx = 5", env, 42)
    g2, _ = kc.rerun("note(2)\nx = 5", env, 42)
    kc.rerun("note(2)\nx = 5", env, 7)        # another seed is another run
    assert calls == [1, 1, 2, 2] and g1 is g2 and g1["x"] == 5
    for _ in range(2):
        with pytest.raises(ZeroDivisionError):
            kc.rerun("note(3)\n1 / 0", env, 42)
    assert calls == [1, 1, 2, 2, 3]           # a failing cell fails again without running again
