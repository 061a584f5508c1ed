"""Lab `ch04_learner` (Further Research 1): the student's own `Learner`, `validate_epoch` and `Recorder`.

Every check builds the student's objects in their kernel on small data made here (seeded), with an
optimizer and a loss of the grader's (so it can count `step` calls and see each training loss), and
compares with `reference.learner` run on the same starting weights and batches. The items are kept apart
so that one mistake costs one thing: the event order and the metric plumbing of `learner` are checked
whatever the training does, `recorder` is driven by a stand-in learner, and `validate_epoch` on its own.

Interface fixed by the notebook:
    validate_epoch(model, dl, metric) -> float, weighted by batch size
    Learner(dls, model, loss_func, opt_func, lr, cbs=(), metrics=()); learn.fit(n_epoch)
        learn.opt = opt_func(model.parameters(), lr); learn.metric_values; learn.epoch
        events before_/after_ fit, epoch, batch (training batches only), cb.<event>(learn), in cbs order
    Recorder(): .losses (float per training batch), .epoch_metrics (list of metric values per epoch)
"""
from __future__ import annotations

import torch
from torch import nn

from .expect import expect_close, expect_equal, expect_true
from .spec import Assignment, CheckFailed

ASSIGNMENT = Assignment("ch04_learner", title="Your own Learner (chapter 4, Further Research 1)")
A = ASSIGNMENT
A.manual("why_weighted", points=2)

EVENTS = ("before_fit", "after_fit", "before_epoch", "after_epoch", "before_batch", "after_batch")
N_FEAT = 8

# ----------------------------------------------------------------------------------------------------------
# Grader-made data and models (in this process), and the reference run on them

def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _split(x, y, sizes):
    out, i = [], 0
    for n in sizes:
        out.append((x[i:i + n], y[i:i + n]))
        i += n
    return out


def make_data(seed: int, train_sizes=(16, 16, 8), valid_sizes=(10, 10, 5)):
    "Tensors for a tiny two-class problem: x [N, 8], y int [N, 1]; batch sizes as given (last ones short)."
    g = _gen(seed)
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


def make_weights(kind: str, seed: int) -> dict:
    torch.manual_seed(seed)  # nn.Linear's own init, made repeatable
    return {k: v.detach().clone() for k, v in make_model(kind).state_dict().items()}


def reference_fit(data: dict, kind: str, weights: dict, lr: float, n_epoch: int):
    "Training losses (one per batch) and final weights of `reference.learner.Learner` on the same batches."
    from reference.learner import DataLoaders, Learner, SGD
    from reference.linear import mnist_loss
    model = make_model(kind)
    model.load_state_dict(weights)
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


# ----------------------------------------------------------------------------------------------------------
# Code run in the student's kernel (it cannot import this package: everything it needs is in the text)

KERNEL_SETUP = r'''
import torch, types
from torch import nn

def _ch4_split(x, y, sizes):
    out, i = [], 0
    for n in sizes:
        out.append((x[i:i+n], y[i:i+n])); i += n
    return out

def _ch4_model(kind, weights):
    m = nn.Linear(8, 1) if kind == "linear" else nn.Sequential(nn.Linear(8, 6), nn.ReLU(), nn.Linear(6, 1))
    m.load_state_dict(weights)
    return m

class _Ch4Opt:
    "SGD that counts its calls (the grader's, so that a Learner is judged on its own calls)."
    def __init__(self, params, lr):
        self.params, self.lr, self.steps, self.zero_grads = list(params), lr, 0, 0
    def step(self, *args, **kwargs):
        self.steps += 1
        with torch.no_grad():
            for p in self.params:
                if p.grad is not None: p -= p.grad * self.lr
    def zero_grad(self, *args, **kwargs):
        self.zero_grads += 1
        for p in self.params: p.grad = None

def _ch4_setup(data, kind, weights):
    "A `dls` of plain lists of batches, a model with the given weights, and a loss that logs training losses."
    train = _ch4_split(data["tx"], data["ty"], data["train_sizes"])
    valid = _ch4_split(data["vx"], data["vy"], data["valid_sizes"])
    train_ptrs = {yb.data_ptr() for _, yb in train}
    log = {"losses": [], "opts": []}
    def loss_func(predictions, targets):
        predictions_s = predictions.sigmoid()
        loss = torch.where(targets == 1, 1 - predictions_s, predictions_s).mean()
        if isinstance(targets, torch.Tensor) and targets.data_ptr() in train_ptrs:
            log["losses"].append(loss.item())
        return loss
    def opt_func(params, lr):
        opt = _Ch4Opt(params, lr); log["opts"].append(opt); return opt
    dls = types.SimpleNamespace(train=train, valid=valid)
    return dls, _ch4_model(kind, weights), loss_func, opt_func, log

def _ch4_state(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}

def _ch4_acc(xb, yb):
    return ((xb.sigmoid() > 0.5) == yb).float().mean()

def _ch4_mae(xb, yb):
    return (xb.sigmoid() - yb).abs().mean()
'''


def _run(ns, body: str, **inputs):
    return ns.run(KERNEL_SETUP + body, **inputs)


FIT_BODY = r'''
dls, model, loss_func, opt_func, log = _ch4_setup(data, kind, weights)
learn = Learner(dls, model, loss_func, opt_func, lr)
learn.fit(n_epoch)
opts = log["opts"]
result = {"losses": log["losses"], "weights": _ch4_state(model), "n_opts": len(opts),
          "steps": sum(o.steps for o in opts), "zero_grads": sum(o.zero_grads for o in opts)}
'''


def _student_fit(ns, data, kind, weights, lr, n_epoch) -> dict:
    got = _run(ns, FIT_BODY, data=data, kind=kind, weights=weights, lr=lr, n_epoch=n_epoch)
    if not isinstance(got, dict):
        raise CheckFailed(f"could not read back the fit (got {type(got).__name__})")
    return got


def _compare_fit(ns, seed: int, kind: str, lr: float, n_epoch: int, sizes=None) -> None:
    data = make_data(seed, *(sizes or ()))
    weights = make_weights(kind, seed + 1)
    want_losses, want_weights = reference_fit(data, kind, weights, lr, n_epoch)
    got = _student_fit(ns, data, kind, weights, lr, n_epoch)
    losses = got["losses"]
    expect_true(len(losses) == len(want_losses),
                f"expected one training loss per training batch ({len(want_losses)} for {n_epoch} epochs of "
                f"{len(data['train_sizes'])} batches), but loss_func was called on {len(losses)} training batches",
                expected=len(want_losses), got=len(losses))
    for i, (g, w) in enumerate(zip(losses, want_losses)):
        if abs(g - w) > 1e-5:
            epoch, batch = divmod(i, len(data["train_sizes"]))
            hint = (" (the first batch matches, so the weights are not updated as they should be after each batch: "
                    "is there a `step`, and are the gradients reset after it?)" if i > 0 else "")
            raise CheckFailed(f"training loss of epoch {epoch}, batch {batch} differs from the reference{hint}",
                              expected=round(w, 6), got=round(g, 6))
    for k, w in want_weights.items():
        expect_close(got["weights"][k], w, f"the model's `{k}` after fit({n_epoch})", atol=1e-5, rtol=1e-4)


# ----------------------------------------------------------------------------------------------------------
# validate_epoch

VALIDATE_BODY = r'''
batches = _ch4_split(x, y, sizes)
model = _ch4_model(kind, weights)
metric = _ch4_acc if metric_name == "accuracy" else _ch4_mae
result = validate_epoch(model, batches, metric)
'''


def _validate_case(ns, seed: int, sizes, metric_name: str, kind: str):
    from reference.linear import batch_accuracy
    data = make_data(seed, (1,), sizes)
    weights = make_weights(kind, seed + 1)
    model = make_model(kind)
    model.load_state_dict(weights)
    x, y = data["vx"], data["vy"]
    if metric_name == "accuracy":
        # make the short last batch all correct, so a plain mean of batch figures is visibly wrong
        n_last = sizes[-1]
        with torch.no_grad():
            y[-n_last:] = (model(x[-n_last:]) > 0).long()
        metric = batch_accuracy
    else:
        def metric(xb, yb): return (xb.sigmoid() - yb).abs().mean()
    want = reference_metric(model, _split(x, y, sizes), metric)
    got = _run(ns, VALIDATE_BODY, x=x, y=y, sizes=list(sizes), kind=kind, weights=weights, metric_name=metric_name)
    if isinstance(got, torch.Tensor) and got.numel() == 1:
        got = got.item()
    expect_true(isinstance(got, (float, int)) and not isinstance(got, bool),
                f"validate_epoch should return a number (a Python float), not {type(got).__name__}", got=repr(got)[:80])
    per_batch = []
    with torch.no_grad():
        for xb, yb in _split(x, y, sizes):
            per_batch.append(float(metric(model(xb), yb)))
    plain = sum(per_batch) / len(per_batch)
    if abs(got - want) > 1e-5 and abs(got - plain) < 1e-4:
        raise CheckFailed("this is the plain mean of the per-batch figures; weight each batch by its number of items",
                          expected=round(want, 6), got=round(got, 6))
    expect_close(got, want, f"validate_epoch(model, dl, metric) on batches of {list(sizes)}", atol=1e-5)


@A.check("validate_epoch", "weights each batch by its size (batches of 10, 10 and 3)", points=2)
def _(ns):
    _validate_case(ns, 101, (10, 10, 3), "accuracy", "linear")


@A.check("validate_epoch", "another metric and another split of the batches", points=1, hidden=True)
def _(ns):
    _validate_case(ns, 202, (7, 7, 7, 2), "mae", "simple_net")


# ----------------------------------------------------------------------------------------------------------
# Learner: events and metric plumbing (whatever the training does) ...

EVENTS_BODY = r'''
events = []
class _Ch4AllEvents:
    def __init__(self, tag): self.tag = tag
for _ch4_ev in ("before_fit", "after_fit", "before_epoch", "after_epoch", "before_batch", "after_batch"):
    setattr(_Ch4AllEvents, _ch4_ev, (lambda ev: lambda self, learn: events.append(f"{self.tag}:{ev}"))(_ch4_ev))
class _Ch4SomeEvents:
    def after_epoch(self, learn): events.append(f"some:after_epoch:{learn.epoch}")
    def before_batch(self, learn): events.append("some:before_batch")
dls, model, loss_func, opt_func, log = _ch4_setup(data, "linear", weights)
cbs = [_Ch4AllEvents("a"), _Ch4AllEvents("b")] + ([_Ch4SomeEvents()] if partial else [])
learn = Learner(dls, model, loss_func, opt_func, 0.1, cbs=cbs)
learn.fit(2)
result = events
'''


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


def _check_events(ns, seed: int, partial: bool) -> None:
    data = make_data(seed)
    got = _run(ns, EVENTS_BODY, data=data, weights=make_weights("linear", seed), partial=partial)
    want = _expected_events(2, len(data["train_sizes"]), partial)
    if not isinstance(got, list) or got != want:
        got = got if isinstance(got, list) else []
        first = next((i for i, (g, w) in enumerate(zip(got, want)) if g != w), min(len(got), len(want)))
        raise CheckFailed(f"the callbacks were not called in the expected order (fit(2) with 3 training batches and "
                          f"callbacks a, b{', and one with only some events' if partial else ''}); the first "
                          f"difference is at call #{first + 1}",
                          expected=want[first:first + 4], got=got[first:first + 4])


@A.check("learner", "fires before/after fit, epoch and batch, callbacks in order", points=2)
def _(ns):
    _check_events(ns, 11, partial=False)


@A.check("learner", "skips the events a callback does not have; sets learn.epoch", points=1, hidden=True)
def _(ns):
    _check_events(ns, 12, partial=True)


METRICS_BODY = r'''
dls, model, loss_func, opt_func, log = _ch4_setup(data, "linear", weights)
seen = []
class _Ch4Metrics:
    def after_epoch(self, learn):
        seen.append([list(map(float, learn.metric_values)),
                     [float(validate_epoch(learn.model, dls.valid, m)) for m in (_ch4_acc, _ch4_mae)]])
learn = Learner(dls, model, loss_func, opt_func, 0.5, cbs=[_Ch4Metrics()], metrics=[_ch4_acc, _ch4_mae])
learn.fit(2)
result = seen
'''


@A.check("learner", "after_epoch sees metric_values: validate_epoch of each metric", points=1, hidden=True)
def _(ns):
    data = make_data(13, (16, 16, 8), (10, 10, 5))
    got = _run(ns, METRICS_BODY, data=data, weights=make_weights("linear", 14))
    expect_true(isinstance(got, list) and len(got) == 2,
                "after_epoch should be called once per epoch with learn.metric_values set", got=repr(got)[:200])
    for epoch, (values, want) in enumerate(got):
        expect_close(values, want, f"learn.metric_values in after_epoch of epoch {epoch}", atol=1e-6)


# ... and training: the losses, the calls to step, the final weights

@A.check("learner", "training losses match the reference batch by batch (linear model, 2 epochs)", points=2)
def _(ns):
    _compare_fit(ns, 21, "linear", lr=0.5, n_epoch=2)


@A.check("learner", "calls opt.step once per training batch, never while validating", points=1)
def _(ns):
    data = make_data(22)
    got = _student_fit(ns, data, "linear", make_weights("linear", 23), 0.5, 3)
    n = 3 * len(data["train_sizes"])
    expect_equal(got["n_opts"], 1, "optimizers made with opt_func in one fit")
    expect_equal(got["steps"], n, f"calls to opt.step() in fit(3) with {len(data['train_sizes'])} training batches")


@A.check("learner", "simple_net: losses and final weights match the reference (3 epochs)", points=1, hidden=True)
def _(ns):
    _compare_fit(ns, 24, "simple_net", lr=0.3, n_epoch=3, sizes=((12, 12, 12, 5), (9, 9, 4)))


TRAINING_CHECKS = {
    "learner": ("training losses match the reference batch by batch (linear model, 2 epochs)",
                "calls opt.step once per training batch, never while validating",
                "simple_net: losses and final weights match the reference (3 epochs)"),
}

# ----------------------------------------------------------------------------------------------------------
# Recorder, driven by a stand-in learner (so it is judged on its own), then on the student's Learner

RECORDER_BODY = r'''
rec = Recorder()
learn = types.SimpleNamespace(epoch=0, metric_values=[])
out = []
for fit_losses, fit_metrics in fits:
    rec.before_fit(learn)
    for epoch, (ep_losses, values) in enumerate(zip(fit_losses, fit_metrics)):
        learn.epoch = epoch
        getattr(rec, "before_epoch", lambda l: None)(learn)
        for l in ep_losses:
            learn.preds = torch.zeros(4, 1, requires_grad=True)
            learn.loss = (learn.preds.sum() + l)
            getattr(rec, "before_batch", lambda l: None)(learn)
            rec.after_batch(learn)
        learn.metric_values = list(values)
        rec.after_epoch(learn)
        learn.metric_values = [-1.0] * len(values)   # a copy must not change afterwards
    getattr(rec, "after_fit", lambda l: None)(learn)
    out.append({"losses": [float(v) for v in rec.losses],
                "loss_types": sorted({type(v).__name__ for v in rec.losses}),
                "epoch_metrics": [[float(v) for v in e] for e in rec.epoch_metrics]})
result = out
'''


def _recorder_case(ns, fits) -> None:
    got = _run(ns, RECORDER_BODY, fits=fits)
    expect_true(isinstance(got, list) and len(got) == len(fits), "could not read the Recorder's lists", got=repr(got)[:200])
    for i, (rec, (fit_losses, fit_metrics)) in enumerate(zip(got, fits)):
        which = "" if len(fits) == 1 else (" (second fit: before_fit should start a fresh history)" if i else " (first fit)")
        expect_close(rec["losses"], [l for ep in fit_losses for l in ep], f"Recorder.losses{which}", atol=1e-6)
        expect_true(rec["loss_types"] in ([], ["float"]),
                    f"Recorder.losses should hold Python floats (use .item()), not {', '.join(rec['loss_types'])}")
        expect_close(rec["epoch_metrics"], fit_metrics, f"Recorder.epoch_metrics{which}", atol=1e-6)


@A.check("recorder", "records one float per batch and each epoch's metric values", points=2)
def _(ns):
    _recorder_case(ns, [([[0.5, 0.4, 0.3], [0.25, 0.2, 0.125]], [[0.75, 0.125], [0.875, 0.0625]])])


@A.check("recorder", "a second fit starts a fresh history", points=1, hidden=True)
def _(ns):
    _recorder_case(ns, [([[0.9, 0.7]], [[0.5]]), ([[0.3], [0.2], [0.1]], [[0.6], [0.7], [0.8]])])


# ----------------------------------------------------------------------------------------------------------
# The trained 3s-and-7s classifier in the notebook

def held_out_sevens_threes(n: int = 400, seed: int = 7):
    "n test images of 3s and 7s (MNIST's test set, where MNIST_SAMPLE's validation set comes from), chosen here."
    from reference.data import load_mnist
    x, y = load_mnist("test")
    idx = torch.nonzero((y == 3) | (y == 7)).flatten()
    idx = idx[torch.randperm(len(idx), generator=_gen(seed))[:n]]
    return (x[idx].float() / 255).view(-1, 28 * 28), (y[idx] == 3).long().unsqueeze(1)


ACC_BODY = r'''
with torch.no_grad():
    result = learn.model(x).cpu()
'''


@A.check("train_sample", "learn.model classifies held-out 3s and 7s (at least 90%)", points=2)
def _(ns):
    x, y = held_out_sevens_threes()
    out = ns.run(ACC_BODY, x=x)                 # the labels never leave the grader
    expect_true(isinstance(out, torch.Tensor) and out.numel() == len(y),
                "learn.model(x) should give one activation per image", expected=len(y), got=getattr(out, "shape", None))
    acc = ((out.reshape(-1, 1) > 0).long() == y).float().mean().item()
    expect_true(isinstance(acc, float) and acc >= 0.90,
                "learn.model should be trained: on held-out 3s and 7s it should be right at least 90% of the time "
                "(an output above 0 means a 3)", expected=">= 0.90", got=acc)


TRAINING_CHECKS["train_sample"] = ("learn.model classifies held-out 3s and 7s (at least 90%)",
                                   "its Recorder shows the training loss going down")

REC_BODY = r'''
_ch4_recs = [cb for cb in getattr(learn, "cbs", []) if type(cb).__name__ == "Recorder"]
result = None if not _ch4_recs else {"losses": [float(v) for v in getattr(_ch4_recs[0], "losses", [])],
                                  "n_batches": len(learn.dls.train)}
'''


@A.check("train_sample", "its Recorder shows the training loss going down", points=1)
def _(ns):
    got = ns.run(REC_BODY)
    expect_true(got is not None, "learn.cbs should hold a Recorder")
    losses, n = got["losses"], got["n_batches"]
    expect_true(len(losses) >= n and len(losses) % n == 0,
                f"the Recorder should hold one loss per training batch ({n} per epoch)", got=len(losses))
    first, last = sum(losses[:n]) / n, sum(losses[-n:]) / n
    expect_true(last < 0.9 * first, "the mean training loss of the last epoch should be well below the first's",
                expected=f"< {0.9 * first:.4f}", got=round(last, 4))


GRAD_BODY = r'''
_ch4_p = torch.randn(6, 1, requires_grad=True)
_ch4_y = torch.tensor([[1], [0], [1], [1], [0], [0]])
_ch4_l = learn.loss_func(_ch4_p, _ch4_y)
result = bool(isinstance(_ch4_l, torch.Tensor) and _ch4_l.requires_grad and _ch4_l.numel() == 1)
'''


@A.check("train_sample", "trains with a loss that has a gradient", points=1, hidden=True)
def _(ns):
    ok = ns.run(GRAD_BODY)
    expect_true(ok is True, "learn.loss_func should give a single number with a gradient (a metric such as "
                            "accuracy has none: it cannot be the loss)")
