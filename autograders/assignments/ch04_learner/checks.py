"""Lab `ch04_learner` (Further Research 1): the student's own `Learner`, `validate_epoch` and `Recorder`.

Every check builds the student's objects in their kernel (with `kernel.py`, bound as `ref`) on small data drawn
here from the check's own generator, with an optimizer and a loss of the grader's (so it can count `step` calls and
see each training loss), and compares with `reference.learner` run here on the same starting weights and
batches. Each item is graded on its own, so one mistake costs one item:
  - `validate_epoch` on its own;
  - `learner` with the reference `validate_epoch` in place of the student's; its event order and its metric
    plumbing are checked whatever its training does;
  - `recorder` driven by a stand-in learner;
  - `train_sample`: the student's cell run again on the reference `validate_epoch`, `Learner` and `Recorder`.

Interface fixed by the notebook:
    validate_epoch(model, dl, metric) -> a Python float, weighted by batch size, without tracking gradients
    Learner(dls, model, loss_func, opt_func, lr, cbs=(), metrics=()); learn.fit(n_epoch)
        learn.opt = opt_func(model.parameters(), lr); learn.metric_values; learn.epoch
        events before_/after_ fit, epoch, batch (training batches only), cb.<event>(learn), in cbs order
    Recorder(): .losses (float per training batch), .epoch_metrics (a copy of metric_values per epoch)
    train_sample: `learn` trained on dls with mnist_loss, BasicOptim, a Recorder and batch_accuracy; losses plotted
"""
from __future__ import annotations

import math

import torch
from torch import nn

from autograders.checks.expect import expect_close, expect_true, summarize
from autograders.checks.spec import Assignment, CheckFailed

ASSIGNMENT = Assignment("ch04_learner", title="Your own Learner (chapter 4, Further Research 1)")
A = ASSIGNMENT
A.manual("why_weighted", points=2)

N_FEAT = 8
UPSTREAM = ("validate_epoch", "Learner", "Recorder")   # what train_sample's cell is run again with


# ----------------------------------------------------------------------------------------------------------
# Grader-made data and models (in this process), and the reference run on them

def _split(x, y, sizes):
    out, i = [], 0
    for n in sizes:
        out.append((x[i:i + n], y[i:i + n]))
        i += n
    return out


def make_data(g: torch.Generator, train_sizes=(16, 16, 8), valid_sizes=(10, 10, 5)) -> dict:
    "Tensors for a tiny two-class problem: x [N, 8], y int [N, 1]; batch sizes as given (last ones short)."
    n_t, n_v = sum(train_sizes), sum(valid_sizes)
    x = torch.randn(n_t + n_v, N_FEAT, generator=g)
    w = torch.randn(N_FEAT, 1, generator=g)
    y = ((x @ w + 0.5 * torch.randn(n_t + n_v, 1, generator=g)) > 0).long()
    return {"tx": x[:n_t].contiguous(), "ty": y[:n_t].contiguous(), "vx": x[n_t:].contiguous(),
            "vy": y[n_t:].contiguous(), "train_sizes": list(train_sizes), "valid_sizes": list(valid_sizes)}


def make_model(kind: str) -> nn.Module:
    if kind == "linear":
        return nn.Linear(N_FEAT, 1)
    return nn.Sequential(nn.Linear(N_FEAT, 6), nn.ReLU(), nn.Linear(6, 1))


def make_weights(kind: str, g: torch.Generator) -> dict:
    "Starting weights drawn like nn.Linear's own (uniform in ±1/sqrt(in_features)), from `g`."
    m = make_model(kind)
    with torch.no_grad():
        for layer in m.modules():
            if isinstance(layer, nn.Linear):
                k = 1 / math.sqrt(layer.in_features)
                layer.weight.copy_((torch.rand(layer.weight.shape, generator=g) * 2 - 1) * k)
                layer.bias.copy_((torch.rand(layer.bias.shape, generator=g) * 2 - 1) * k)
    return {k: v.detach().clone() for k, v in m.state_dict().items()}


def _model_with(kind: str, weights: dict) -> nn.Module:
    m = make_model(kind)
    m.load_state_dict(weights)
    return m


def reference_fit(data: dict, kind: str, weights: dict, lr: float, n_epoch: int):
    "Training losses (one per batch) and final weights of `reference.learner.Learner` on the same batches."
    from reference.learner import DataLoaders, Learner, SGD
    from reference.linear import mnist_loss
    model = _model_with(kind, weights)
    dls = DataLoaders(_split(data["tx"], data["ty"], data["train_sizes"]),
                      _split(data["vx"], data["vy"], data["valid_sizes"]))
    learn = Learner(dls, model, mnist_loss, SGD, lr=lr, device=False, progress=False)
    learn.fit(n_epoch)
    return learn.recorder.losses, {k: v.detach().clone() for k, v in model.state_dict().items()}


def reference_metric(model: nn.Module, batches, metric) -> float:
    "The reference's batch-size-weighted metric over `batches` (a validation-only fit of `reference.learner`)."
    from reference.learner import DataLoaders, Learner, SGD
    learn = Learner(DataLoaders([], batches), model, lambda p, y: torch.zeros(()), SGD, lr=0., metrics=metric,
                    device=False, progress=False)
    learn.fit(1, train=False)
    return learn.recorder.metrics[next(iter(learn.recorder.metrics))][-1]


def accuracy(xb, yb):
    return ((xb.sigmoid() > 0.5) == yb).float().mean()


def mae(xb, yb):
    return (xb.sigmoid() - yb).abs().mean()


METRICS = {"accuracy": accuracy, "mae": mae}


def _number(desc, what: str) -> tuple[str, float]:
    "(kind, value) of a number the kernel `describe`d; CheckFailed if it is no number."
    value = desc.get("value") if isinstance(desc, dict) else None
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        kind = desc.get("kind") if isinstance(desc, dict) else type(desc).__name__
        raise CheckFailed(f"{what} should be a number (a Python float), not {kind}", got=str(kind))
    return str(desc.get("kind")), float(desc["value"])


def _numbers(listed, what: str) -> tuple[set, list[float]]:
    "(kinds, values) of a flat list the kernel `listing`ed; CheckFailed if it is not a list of numbers."
    if not isinstance(listed, list):
        raise CheckFailed(f"{what} should be a list", got=summarize(listed))
    kinds, values = set(), []
    for i, d in enumerate(listed):
        if isinstance(d, list):
            raise CheckFailed(f"{what} should be a flat list of numbers, but item {i} is a list",
                              got=f"item {i}: a list")
        kind, value = _number(d, f"item {i} of {what}")
        kinds.add(kind)
        values.append(value)
    return kinds, values


# ----------------------------------------------------------------------------------------------------------
# validate_epoch

VALIDATE_BODY = "result = ref.validate_case(validate_epoch, _x, _y, _sizes, _kind, _weights, _metric)\n"


def _sizes(g: torch.Generator, n_full: tuple[int, int], full: tuple[int, int], last: tuple[int, int]) -> list[int]:
    "Batch sizes: some full batches of one size, then a short last one."
    def draw(lo, hi): return int(torch.randint(lo, hi + 1, (1,), generator=g))
    return [draw(*full)] * draw(*n_full) + [draw(*last)]


def _validate(ns, metric_name: str, kind: str, sizes: list[int]) -> tuple[str, dict]:
    """The student's validate_epoch on batches of `sizes`, whose short last batch scores apart from the others (so
    the plain mean of the batch figures is visibly off); its value checked against the reference. Returns (kind of
    the value, what the kernel saw of the metric's calls)."""
    g = ns.rng
    n = sum(sizes)
    weights = make_weights(kind, g)
    model = _model_with(kind, weights)
    x = torch.randn(n, N_FEAT, generator=g)
    with torch.no_grad():
        pred = (model(x) > 0).long()
    flip = (torch.rand(n, 1, generator=g) < 0.4).long()
    flip[-sizes[-1]:] = 1 if metric_name == "mae" else 0    # the last batch: all wrong (mae) or all right (accuracy)
    flip[0] = 1                                             # and at least one mistake before it
    y = (pred ^ flip).contiguous()
    metric = METRICS[metric_name]
    batches = _split(x, y, sizes)
    want = reference_metric(model, batches, metric)
    got = ns.run(VALIDATE_BODY, _x=x, _y=y, _sizes=sizes, _kind=kind, _weights=weights, _metric=metric_name)
    expect_true(isinstance(got, dict), "validate_epoch(model, dl, metric) could not be run", got=summarize(got))
    value_kind, value = _number(got.get("value"), "validate_epoch(model, dl, metric)")
    with torch.no_grad():
        per_batch = [float(metric(model(xb), yb)) for xb, yb in batches]
    plain_mean = sum(per_batch) / len(per_batch)
    if abs(value - want) > 1e-5 and abs(value - plain_mean) < 1e-4:
        raise CheckFailed(f"this is the plain mean of the per-batch figures (batches of {sizes}); weight each batch "
                          "by its number of items", expected=round(want, 6), got=round(value, 6))
    expect_close(value, want, f"validate_epoch(model, dl, metric) on batches of {sizes} (the metric over every item)",
                 atol=1e-5)
    return value_kind, got


@A.check("validate_epoch", "weights each batch by its size (a short last batch)", points=1.5, given=())
def _(ns):
    _validate(ns, "accuracy", "linear", _sizes(ns.rng, (2, 3), (8, 12), (2, 5)))


@A.check("validate_epoch", "returns a Python float, computed without tracking gradients", points=0.5, given=())
def _(ns):
    kind, seen = _validate(ns, "mae", "linear", _sizes(ns.rng, (2, 3), (6, 10), (1, 4)))
    expect_true(kind == "float", f"validate_epoch should return a plain Python float (float(...) or .item()), not "
                                 f"a {kind}", expected="float", got=kind)
    expect_true(seen.get("tracked") == 0, "the model's predictions were computed with gradients tracked: run the "
                                          "validation under `with torch.no_grad():`",
                expected="no gradient tracking", got=f"{seen.get('tracked')} of {seen.get('calls')} batches tracked")


@A.check("validate_epoch", "another metric, another model and another split of the batches", points=1, hidden=True,
         given=())
def _(ns):
    _validate(ns, "mae", "simple_net", _sizes(ns.rng, (3, 4), (5, 9), (1, 3)))


# ----------------------------------------------------------------------------------------------------------
# Learner (with the reference validate_epoch): events and metric plumbing, whatever the training does ...

FEED = 'set_global("validate_epoch", ref.validate_epoch)\n'


def _expected_events(n_epoch: int, n_batch: int, partial: bool) -> list[str]:
    out = []

    def fire(ev, extra=None):
        out.extend([f"a:{ev}", f"b:{ev}"])
        if partial and extra is not None:
            out.append(extra)
    fire("before_fit")
    for epoch in range(n_epoch):
        fire("before_epoch")
        for _ in range(n_batch):
            fire("before_batch", "some:before_batch")
            fire("after_batch")
        fire("after_epoch", f"some:after_epoch:{epoch}")
    fire("after_fit")
    return out


def _check_events(ns, partial: bool) -> None:
    g = ns.rng
    n_batch = int(torch.randint(2, 5, (1,), generator=g))
    data = make_data(g, tuple([8] * (n_batch - 1) + [5]), (6, 4))
    got = ns.run(FEED + "result = ref.fit_events(Learner, _data, _weights, _partial)\n",
                 _data=data, _weights=make_weights("linear", g), _partial=partial)
    want = _expected_events(2, n_batch, partial)
    if not isinstance(got, list) or got != want:
        got = got if isinstance(got, list) else []
        first = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
        third = ", and one with only after_epoch and before_batch" if partial else ""
        raise CheckFailed(f"the callbacks were not called in the expected order (fit(2) with {n_batch} training "
                          f"batches, callbacks a and b{third}); the first difference is at call #{first + 1}",
                          expected=want[first:first + 4], got=got[first:first + 4])


@A.check("learner", "fires before/after fit, epoch and batch, callbacks in order", points=2, given=("validate_epoch",))
def _(ns):
    _check_events(ns, partial=False)


@A.check("learner", "skips the events a callback does not have; sets learn.epoch", points=1, hidden=True,
         given=("validate_epoch",))
def _(ns):
    _check_events(ns, partial=True)


@A.check("learner", "after_epoch sees metric_values: validate_epoch of each metric", points=1, hidden=True,
         given=("validate_epoch",))
def _(ns):
    data = make_data(ns.rng, (16, 16, 8), (10, 10, 5))
    got = ns.run(FEED + "result = ref.fit_metrics(Learner, _data, _weights)\n",
                 _data=data, _weights=make_weights("linear", ns.rng))
    expect_true(isinstance(got, list) and len(got) == 2,
                "after_epoch should be called once per epoch of fit(2)", expected=2,
                got=len(got) if isinstance(got, list) else summarize(got))
    valid = _split(data["vx"], data["vy"], data["valid_sizes"])
    for epoch, seen in enumerate(got):
        expect_true(isinstance(seen, dict) and isinstance(seen.get("values"), list),
                    f"learn.metric_values should be a list when after_epoch is fired (epoch {epoch}): set it before "
                    "firing after_epoch", got=summarize(seen.get("values") if isinstance(seen, dict) else seen))
        _, values = _numbers(seen["values"], f"learn.metric_values in after_epoch of epoch {epoch}")
        try:
            model = _model_with("linear", seen.get("weights"))
        except (RuntimeError, TypeError, AttributeError, KeyError):
            raise CheckFailed("learn.model should be the model given to Learner (its weights could not be read in "
                              "after_epoch)") from None
        want = [reference_metric(model, valid, m) for m in (accuracy, mae)]
        expect_close(values, want, f"learn.metric_values in after_epoch of epoch {epoch} (validate_epoch of each "
                                   "metric, on the weights of that moment)", atol=1e-5)


# ... and training: the losses, the calls to step, the final weights

FIT_BODY = FEED + "result = ref.fit(Learner, _data, _kind, _weights, _lr, _n_epoch)\n"


def _student_fit(ns, data, kind, weights, lr, n_epoch) -> dict:
    got = ns.run(FIT_BODY, _data=data, _kind=kind, _weights=weights, _lr=lr, _n_epoch=n_epoch)
    expect_true(isinstance(got, dict), "could not read back the fit", got=summarize(got))
    return got


def _compare_fit(ns, kind: str, lr: float, n_epoch: int, sizes=None) -> None:
    data = make_data(ns.rng, *(sizes or ()))
    weights = make_weights(kind, ns.rng)
    want_losses, want_weights = reference_fit(data, kind, weights, lr, n_epoch)
    got = _student_fit(ns, data, kind, weights, lr, n_epoch)
    losses = got.get("losses")
    expect_true(isinstance(losses, list) and len(losses) == len(want_losses),
                f"expected one training loss per training batch ({len(want_losses)} for {n_epoch} epochs of "
                f"{len(data['train_sizes'])} batches), but loss_func was called on "
                f"{len(losses) if isinstance(losses, list) else '?'} training batches",
                expected=len(want_losses), got=len(losses) if isinstance(losses, list) else summarize(losses))
    for i, (a, b) in enumerate(zip(losses, want_losses)):
        if not isinstance(a, float) or abs(a - b) > 1e-5:
            epoch, batch = divmod(i, len(data["train_sizes"]))
            hint = (" (the first batch matches, so the weights are not updated as they should be after each batch: "
                    "is there a `step`, and are the gradients reset after it?)" if i > 0 else "")
            raise CheckFailed(f"training loss of epoch {epoch}, batch {batch} differs from the reference{hint}",
                              expected=round(b, 6), got=a if not isinstance(a, float) else round(a, 6))
    weights_after = got.get("weights")
    expect_true(isinstance(weights_after, dict), "could not read the model's weights after fit",
                got=summarize(weights_after))
    for k, w in want_weights.items():
        expect_close(weights_after.get(k), w, f"the model's `{k}` after fit({n_epoch})", atol=1e-5, rtol=1e-4)


@A.check("learner", "training losses match the reference batch by batch (linear model, 2 epochs)", points=2,
         given=("validate_epoch",))
def _(ns):
    _compare_fit(ns, "linear", lr=0.5, n_epoch=2)


@A.check("learner", "creates learn.opt in fit, calls opt.step once per training batch, never while validating; "
                    "keeps its arguments as attributes", points=1, given=("validate_epoch",))
def _(ns):
    data = make_data(ns.rng)
    got = _student_fit(ns, data, "linear", make_weights("linear", ns.rng), 0.5, 3)
    n = 3 * len(data["train_sizes"])
    expect_true(got.get("n_opts") == 1, "fit should make one optimizer, self.opt = self.opt_func(self.model"
                                        ".parameters(), self.lr)", expected=1, got=got.get("n_opts"))
    expect_true(got.get("steps") == n, f"calls to opt.step() in fit(3) with {len(data['train_sizes'])} training "
                                       "batches (one per training batch, none for the validation batches)",
                expected=n, got=got.get("steps"))
    missing = got.get("missing")
    expect_true(missing == [], "the Learner should keep these attributes: " + ", ".join(
        f"learn.{a}" for a in (missing if isinstance(missing, list) else [])), expected="all present", got=missing)
    expect_true(got.get("opt_is_made") is True, "learn.opt should be the optimizer opt_func made in fit")


@A.check("learner", "simple_net: losses and final weights match the reference (3 epochs)", points=1, hidden=True,
         given=("validate_epoch",))
def _(ns):
    _compare_fit(ns, "simple_net", lr=0.3, n_epoch=3, sizes=((12, 12, 12, 5), (9, 9, 4)))


TRAINING_CHECKS = {
    "learner": ("training losses match the reference batch by batch (linear model, 2 epochs)",
                "creates learn.opt in fit, calls opt.step once per training batch, never while validating; "
                "keeps its arguments as attributes",
                "simple_net: losses and final weights match the reference (3 epochs)"),
}

# ----------------------------------------------------------------------------------------------------------
# Recorder, driven by a stand-in learner (so it is judged on its own)

def _random_fit(ns) -> tuple[list, list]:
    r = ns.random
    n_epoch, n_batch, n_metric = r.randint(2, 3), r.randint(2, 4), r.randint(1, 2)
    losses = [[round(r.uniform(0.05, 1.0), 4) for _ in range(n_batch)] for _ in range(n_epoch)]
    metrics = [[round(r.uniform(0, 1), 4) for _ in range(n_metric)] for _ in range(n_epoch)]
    return losses, metrics


def _recorder_case(ns, fits) -> None:
    got = ns.run("result = ref.drive_recorder(Recorder, _fits)\n", _fits=fits)
    expect_true(isinstance(got, list) and len(got) == len(fits), "could not read the Recorder's lists",
                got=summarize(got))
    for i, (rec, (fit_losses, fit_metrics)) in enumerate(zip(got, fits)):
        which = "" if len(fits) == 1 else (" (second fit: before_fit should start a fresh history)" if i else
                                           " (first fit)")
        expect_true(isinstance(rec, dict), "could not read the Recorder's lists", got=summarize(rec))
        kinds, losses = _numbers(rec.get("losses"), f"Recorder.losses{which}")
        expect_close(losses, [l for ep in fit_losses for l in ep], f"Recorder.losses{which}: one loss per training "
                                                                   "batch", atol=1e-6)
        expect_true(kinds <= {"float"}, f"Recorder.losses should hold Python floats (learn.loss.item()), not "
                                        f"{', '.join(sorted(kinds - {'float'}))}", expected="float",
                    got=", ".join(sorted(kinds)))
        em = rec.get("epoch_metrics")
        expect_true(isinstance(em, list) and all(isinstance(e, list) for e in em),
                    f"Recorder.epoch_metrics{which} should be a list holding one list of metric values per epoch "
                    "(append a copy of learn.metric_values)", got=summarize(em))
        values = [_numbers(e, f"epoch {j} of Recorder.epoch_metrics{which}")[1] for j, e in enumerate(em)]
        expect_true(len(values) == len(fit_metrics), f"Recorder.epoch_metrics{which} should hold one entry per epoch",
                    expected=len(fit_metrics), got=len(values))
        for j, (v, w) in enumerate(zip(values, fit_metrics)):
            expect_close(v, w, f"epoch {j} of Recorder.epoch_metrics{which} (a copy of learn.metric_values: "
                               "learn.metric_values was changed in place after after_epoch)", atol=1e-6)


@A.check("recorder", "records one float per batch and a copy of each epoch's metric values", points=2, given=())
def _(ns):
    _recorder_case(ns, [_random_fit(ns)])


@A.check("recorder", "a second fit starts a fresh history", points=1, hidden=True, given=())
def _(ns):
    _recorder_case(ns, [_random_fit(ns), _random_fit(ns)])


# ----------------------------------------------------------------------------------------------------------
# The train_sample cell, run again on the reference validate_epoch, Learner and Recorder

def held_out_sevens_threes(n: int, g: torch.Generator):
    "n test images of 3s and 7s (MNIST's test set, where MNIST_SAMPLE's validation set comes from), drawn with g."
    from reference.data import load_mnist
    x, y = load_mnist("test")
    idx = torch.nonzero((y == 3) | (y == 7)).flatten()
    idx = idx[torch.randperm(len(idx), generator=g)[:n]]
    return (x[idx].float() / 255).view(-1, 28 * 28), (y[idx] == 3).long().unsqueeze(1)


# the cell is trained again on a fixed seed (the notebook's own), the same in every check and every grading, so a
# grading session trains it once (`kernel_common.rerun` keeps the outcome)
RERUN_SEED = 42
RERUN = (FEED + 'set_global("Learner", ref.Learner)\nset_global("Recorder", ref.Recorder)\n'
         "_g, _lines = ref.rerun_train_sample(_src, globals(), _seed)\n_learn = ref.trained(_g)\n")


def _rerun(ns, expr: str, pre: str = "", **inputs):
    "The value of `expr` after the cell ran again (`_learn`: the `learn` it made), or CheckFailed if it made none."
    got = ns.run(RERUN + pre + "result = None if _learn is None else " + expr + "\n", _src=ns.source("train_sample"),
                 _seed=RERUN_SEED, **inputs)
    expect_true(got is not None, "the cell should make `learn` = Learner(dls, ...) and fit it")
    return got


@A.check("train_sample", "learn.model classifies held-out 3s and 7s (at least 90%)", points=1.5, given=UPSTREAM)
def _(ns):
    x, y = held_out_sevens_threes(1000, ns.rng)
    out = _rerun(ns, "ref.predict(_learn, _x)", _x=x)           # the labels never leave the grader
    expect_true(isinstance(out, torch.Tensor) and out.numel() == len(y),
                "learn.model(x) should give one activation per image", expected=len(y),
                got=tuple(out.shape) if isinstance(out, torch.Tensor) else summarize(out))
    acc = ((out.reshape(-1, 1) > 0).long() == y).float().mean().item()
    expect_true(acc >= 0.90, "learn.model should be trained: on held-out 3s and 7s it should be right at least 90% "
                             "of the time (an output above 0 means a 3)", expected=">= 0.90", got=round(acc, 4))


def _recorded(ns) -> dict:
    got = _rerun(ns, "{'rec': ref.recorded(_learn), 'lines': _lines}")
    expect_true(isinstance(got, dict) and isinstance(got.get("rec"), dict),
                "learn.cbs should hold a Recorder (cbs=[Recorder()])")
    return got


@A.check("train_sample", "its Recorder shows the training loss going down", points=1, given=UPSTREAM)
def _(ns):
    rec = _recorded(ns)["rec"]
    losses, n = rec.get("losses"), rec.get("n_batches")
    expect_true(isinstance(losses, list) and isinstance(n, int), "could not read the Recorder's losses",
                got=summarize(rec))
    expect_true(n > 0 and len(losses) >= n and len(losses) % n == 0,
                f"the Recorder should hold one loss per training batch ({n} per epoch): was the learner fitted?",
                got=len(losses))
    first, last = sum(losses[:n]) / n, sum(losses[-n:]) / n
    expect_true(last < 0.9 * first, "the mean training loss of the last epoch should be well below the first's",
                expected=f"< {0.9 * first:.4f}", got=round(last, 4))


@A.check("train_sample", "plots the recorded training losses", points=0.5, given=UPSTREAM)
def _(ns):
    got = _recorded(ns)
    losses, lines = got["rec"].get("losses"), got.get("lines")
    expect_true(isinstance(losses, list) and isinstance(lines, list), "could not read the Recorder's losses or the "
                "lines the cell drew", got=summarize(got))
    lines = [l for l in lines if isinstance(l, list) and all(isinstance(v, float) for v in l)]
    expect_true(len(losses) > 0, "the Recorder holds no losses: was the learner fitted?")
    want = torch.tensor(losses, dtype=torch.float64)
    drawn = any(len(l) == len(losses) and torch.allclose(torch.tensor(l, dtype=torch.float64), want, atol=1e-6)
                for l in lines)
    expect_true(drawn, "the cell should plot the Recorder's losses, one point per training batch "
                       "(plt.plot(recorder.losses))", expected=f"a line of {len(losses)} points",
                got=f"{len(lines)} line(s) of {[len(l) for l in lines][:5]} points")


@A.check("train_sample", "trains with a loss that has a gradient", points=1, hidden=True, given=UPSTREAM)
def _(ns):
    got = _rerun(ns, "{'loss': ref.describe(_l), 'grad': bool(getattr(_l, 'requires_grad', False))}",
                 pre="_l = None if _learn is None else _learn.loss_func(_p.requires_grad_(), _t)\n",
                 _p=torch.randn(6, 1, generator=ns.rng), _t=torch.tensor([[1], [0], [1], [1], [0], [0]]))
    loss = got.get("loss") if isinstance(got, dict) else None
    expect_true(isinstance(loss, dict) and loss.get("kind") == "tensor" and loss.get("value") is not None
                and got.get("grad") is True,
                "learn.loss_func should give a single number with a gradient (a metric such as accuracy has none: "
                "it cannot be the loss)", got=summarize(got))


TRAINING_CHECKS["train_sample"] = ("learn.model classifies held-out 3s and 7s (at least 90%)",
                                   "its Recorder shows the training loss going down")
