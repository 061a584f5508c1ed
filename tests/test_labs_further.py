"""The Further Research labs `ch04_learner` and `ch04_full_mnist`: notebook structure, and grading for real.

Slow tests grade each notebook once per session (module fixtures) in the isolated kernel: the source
notebooks score full marks, released copies (made by the course workflow's release, i.e. nbgrader's
`generate_assignment`) score 0 without a grader error, and wrong-but-plausible
variants (one answer cell edited) lose exactly the items, or checks, they should.
"""
from __future__ import annotations

import copy
import shutil
from pathlib import Path

import nbformat
import pytest

import labtools
from autograders.checks import get_assignment
from autograders.paths import source_notebook
from nbtools import assert_follows_conventions

LABS = ("ch04_learner", "ch04_full_mnist")


def _nbg(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


# ----------------------------------------------------------------------------------------------------------
# Structure (fast)

@pytest.mark.parametrize("name", LABS)
def test_structure_matches_the_checks_module(name):
    "The shared conventions, plus: everything else the instructor wrote is locked, with a grade_id."
    nb = nbformat.read(str(source_notebook(name)), as_version=4)
    assert_follows_conventions(nb, get_assignment(name))
    for c in nb.cells:
        m = _nbg(c)
        if not m.get("solution") and not m.get("grade"):
            assert m.get("locked") and m.get("grade_id"), c.source[:60]


@pytest.mark.parametrize("name", LABS)
def test_every_item_has_public_and_hidden_checks(name):
    for item in get_assignment(name).auto_items:
        assert any(not c.hidden for c in item.checks), item.id
        assert any(c.hidden for c in item.checks), item.id


# ----------------------------------------------------------------------------------------------------------
# Grading for real (slow): each notebook graded once per session

@pytest.fixture(scope="session")
def fastai_home(mnist_dir):
    "A FASTAI_HOME where `untar_data(URLs.MNIST_SAMPLE)` and `untar_data(URLs.MNIST)` work offline."
    return labtools.fastai_home(("mnist_sample", "mnist_png"))


def _grade(path: Path, name: str, fastai_home: str):
    from autograders.engine import GradeConfig, grade_notebook
    from autograders.execute.session import Limits
    # one thread: on a small shared machine torch's thread pool only fights the other jobs
    config = GradeConfig(fastai_home=fastai_home, device="cpu", limits=Limits(threads=1))
    return grade_notebook(path, name, config=config)


def release_copy(name: str, dest: Path) -> Path:
    "The student's version, made by the course workflow's release (nbgrader generate_assignment), copied to `dest`."
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(labtools.released(name), dest)
    return dest


def variant(name: str, dest: Path, **answers: str) -> Path:
    "A copy of the source notebook with answer cells replaced (grade_id -> new source)."
    nb = nbformat.read(str(source_notebook(name)), as_version=4)
    nb = copy.deepcopy(nb)
    done = set()
    for c in nb.cells:
        gid = _nbg(c).get("grade_id")
        if gid in answers:
            assert c.source != answers[gid], f"variant of {gid} is unchanged"
            c.source = answers[gid]
            done.add(gid)
    assert done == set(answers)
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(dest))
    return dest


def answer_source(name: str, gid: str) -> str:
    nb = nbformat.read(str(source_notebook(name)), as_version=4)
    return next(c.source for c in nb.cells if _nbg(c).get("grade_id") == gid)


def item_scores(result) -> dict[str, float]:
    return {i.id: i.score for i in result.items}


def check_scores(result) -> dict[tuple[str, str], float]:
    return {(i.id, c.name): c.score for i in result.items for c in (i.checks or [])}


def assert_no_grader_error(result):
    assert result.status == "graded", result.error
    for i in result.items:
        for c in i.checks or []:
            assert not str(c.message).startswith(("could not check the answer", "internal")), (i.id, c.name, c.message)


def assert_loses_exactly(full, got, items: set[str], checks: set[tuple[str, str]] | None = None):
    """`got` scores below `full` on exactly `items` (and, if given, on exactly `checks`); the rest unchanged."""
    fs, gs = item_scores(full), item_scores(got)
    lost = {k for k in fs if gs[k] < fs[k] - 1e-9}
    assert lost == items, f"lost {sorted(lost)}, expected {sorted(items)}\n" + \
        "\n".join(f"{i.id}: {i.feedback}" for i in got.items if i.id in lost ^ items)
    assert all(gs[k] == fs[k] for k in fs if k not in items)
    if checks is not None:
        fc, gc = check_scores(full), check_scores(got)
        lost_checks = {k for k in fc if gc.get(k, 0) < fc[k] - 1e-9}
        assert lost_checks == checks, f"lost checks {sorted(lost_checks)}, expected {sorted(checks)}"


@pytest.fixture(scope="module")
def graded_learner(tmp_path_factory, fastai_home):
    "Every ch04_learner submission this module grades, each graded once."
    from autograders.checks import ch04_learner as mod
    d = tmp_path_factory.mktemp("learner")
    name = "ch04_learner"
    learner_src = answer_source(name, "learner")
    subs = {
        "source": source_notebook(name),
        "released": release_copy(name, d / "released.ipynb"),
        "no_step": variant(name, d / "no_step.ipynb", learner=learner_src.replace("        self.opt.step()\n", "")),
        "no_zero_grad": variant(name, d / "no_zero_grad.ipynb",
                                learner=learner_src.replace("        self.opt.zero_grad()\n", "")),
        # the chapter's own validate_epoch: a plain mean of the batch figures
        "unweighted": variant(name, d / "unweighted.ipynb", validate_epoch=(
            "def validate_epoch(model, dl, metric):\n"
            "    accs = [metric(model(xb), yb) for xb,yb in dl]\n"
            "    return round(torch.stack(accs).mean().item(), 4)\n")),
        "accuracy_loss": variant(name, d / "accuracy_loss.ipynb", train_sample=answer_source(name, "train_sample")
                                 .replace("mnist_loss, BasicOptim", "batch_accuracy, BasicOptim")),
    }
    return mod, {k: _grade(p, name, fastai_home) for k, p in subs.items()}


@pytest.mark.slow
def test_learner_source_scores_full_marks(graded_learner):
    _, r = graded_learner
    res = r["source"]
    assert_no_grader_error(res)
    for i in res.items:
        if i.status != "manual":
            assert i.status == "passed" and i.score == i.max_score, f"{i.id}: {i.feedback}"
    auto = sum(i.points for i in get_assignment("ch04_learner").auto_items)
    assert res.score == auto
    assert res.timings["execute_s"] < 150, res.timings


@pytest.mark.slow
def test_learner_released_scores_zero(graded_learner):
    _, r = graded_learner
    assert_no_grader_error(r["released"])
    assert r["released"].score == 0


@pytest.mark.slow
def test_learner_without_step_loses_only_the_training_checks(graded_learner):
    mod, r = graded_learner
    training = {(item, check) for item, names in mod.TRAINING_CHECKS.items() for check in names}
    assert_loses_exactly(r["source"], r["no_step"], {"learner", "train_sample"}, training)
    # the event order and the metric plumbing still earn their points
    assert item_scores(r["no_step"])["learner"] > 0


@pytest.mark.slow
def test_learner_without_zero_grad_loses_the_loss_comparisons(graded_learner):
    _, r = graded_learner
    # gradients pile up: from the third batch on the losses leave the reference's; steps are still taken, and
    # on MNIST_SAMPLE the accumulated gradients still train the linear model (measured), so train_sample passes
    assert_loses_exactly(r["source"], r["no_zero_grad"], {"learner"}, {
        ("learner", "training losses match the reference batch by batch (linear model, 2 epochs)"),
        ("learner", "simple_net: losses and final weights match the reference (3 epochs)")})


@pytest.mark.slow
def test_learner_unweighted_metric_loses_only_validate_epoch(graded_learner):
    _, r = graded_learner
    assert_loses_exactly(r["source"], r["unweighted"], {"validate_epoch"})
    assert item_scores(r["unweighted"])["validate_epoch"] == 0


@pytest.mark.slow
def test_learner_accuracy_as_loss_loses_only_train_sample(graded_learner):
    _, r = graded_learner
    assert_loses_exactly(r["source"], r["accuracy_loss"], {"train_sample"})
    assert item_scores(r["accuracy_loss"])["train_sample"] == 0


@pytest.fixture(scope="module")
def graded_full(tmp_path_factory, fastai_home):
    d = tmp_path_factory.mktemp("full")
    name = "ch04_full_mnist"
    src = answer_source(name, "train_linear")
    subs = {
        "source": source_notebook(name),
        "released": release_copy(name, d / "released.ipynb"),
        "accuracy_loss": variant(name, d / "accuracy_loss.ipynb", train_linear=src.replace(
            "loss = cross_entropy(xb@weights + bias, yb)",
            "loss = ((xb@weights + bias).argmax(dim=1) == yb).float().mean()")),
        "naive_softmax": variant(name, d / "naive_softmax.ipynb", cross_entropy=(
            "def softmax(x): return x.exp() / x.exp().sum(-1, keepdim=True)\n\n"
            "def cross_entropy(preds, targets):\n"
            "    return -softmax(preds)[range(len(targets)), targets].log().mean()\n")),
    }
    return {k: _grade(p, name, fastai_home) for k, p in subs.items()}


@pytest.mark.slow
def test_full_mnist_source_scores_full_marks_quickly(graded_full):
    res = graded_full["source"]
    assert_no_grader_error(res)
    for i in res.items:
        if i.status != "manual":
            assert i.status == "passed" and i.score == i.max_score, f"{i.id}: {i.feedback}"
    # the notebook is meant to run in about 90 s on 2 cores (cells only, kernel start-up excluded)
    assert res.timings["execute_s"] < 150, res.timings


@pytest.mark.slow
def test_full_mnist_released_scores_zero(graded_full):
    assert_no_grader_error(graded_full["released"])
    assert graded_full["released"].score == 0


@pytest.mark.slow
def test_full_mnist_accuracy_as_loss_loses_only_train_linear(graded_full):
    assert_loses_exactly(graded_full["source"], graded_full["accuracy_loss"], {"train_linear"})
    assert item_scores(graded_full["accuracy_loss"])["train_linear"] == 0


@pytest.mark.slow
def test_full_mnist_naive_softmax_loses_only_the_large_activation_check(graded_full):
    # exp overflows for activations near 1000: only the hidden stability check fails, the rest is right
    assert_loses_exactly(graded_full["source"], graded_full["naive_softmax"], {"cross_entropy"},
                         {("cross_entropy", "stays finite and right for activations around 1000")})
