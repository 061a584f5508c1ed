"""Kernel-side helpers of `ch04_learner`: run in the student's kernel (torch, the standard library and
`autograders.checks.kernel_common`, whose text is put in place of its import), bound as `ref` in
the blocks of checks declared with `given` (see `autograders/checks/spec.py`).

The harness builds the student's objects on data the grader sends (tiny two-class problems, [N, 8] inputs), with
an optimizer and a loss of its own (so it can count `step` calls and see every training loss), and describes what
happened in plain values (numbers, lists, plain tensors). The reference pieces, written like the notebook's model
answers, stand in for the student's upstream answers: `validate_epoch` while `Learner` is checked, and all three
when the `train_sample` cell is run again. Nothing here is trusted as the truth: the grader compares what comes back
with its own reference computations (`reference.learner`).
"""
import types

import torch
from torch import nn

from autograders.checks.kernel_common import plain, rerun  # noqa: F401  (inlined in the kernel)

N_FEAT = 8
EVENTS = ("before_fit", "after_fit", "before_epoch", "after_epoch", "before_batch", "after_batch")


# ---- values sent back ---------------------------------------------------------------------------------------

def describe(value):
    "A number the student's code produced, with its kind: {'kind': 'float' | 'int' | 'tensor' | <type>, 'value'}."
    if isinstance(value, bool):
        return {"kind": "bool", "value": None}
    if isinstance(value, float):
        return {"kind": "float", "value": float(value)}
    if isinstance(value, int):
        return {"kind": "int", "value": float(value)}
    if isinstance(value, torch.Tensor):
        return {"kind": "tensor", "value": float(value.detach().reshape(())) if value.numel() == 1 else None}
    return {"kind": type(value).__name__, "value": None}


def listing(value):
    "A list (or tuple) of the student's as a list of `describe`d items; None if it is no list."
    if not isinstance(value, (list, tuple)):
        return None
    return [listing(v) if isinstance(v, (list, tuple)) else describe(v) for v in value]


# ---- data, models, an optimizer and a loss of the grader's --------------------------------------------------

def split(x, y, sizes):
    "Consecutive batches of the given sizes."
    out, i = [], 0
    for n in sizes:
        out.append((x[i:i + n], y[i:i + n]))
        i += n
    return out


def make_model(kind, weights):
    "nn.Linear(8, 1) or a small simple_net (8-6-1) with the grader's weights."
    m = nn.Linear(N_FEAT, 1) if kind == "linear" else nn.Sequential(nn.Linear(N_FEAT, 6), nn.ReLU(), nn.Linear(6, 1))
    m.load_state_dict(weights)
    return m


def state(model):
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


class CountingOpt:
    "Plain SGD that counts its calls, so that a Learner is judged on its own calls."

    def __init__(self, params, lr):
        self.params, self.lr, self.steps, self.zero_grads = list(params), lr, 0, 0

    def step(self, *args, **kwargs):
        self.steps += 1
        with torch.no_grad():
            for p in self.params:
                if p.grad is not None:
                    p -= p.grad * self.lr

    def zero_grad(self, *args, **kwargs):
        self.zero_grads += 1
        for p in self.params:
            p.grad = None


def setup(data, kind, weights):
    """(dls, model, loss_func, opt_func, log): `dls.train` / `dls.valid` plain lists of batches, the model with the
    given weights, the chapter's mnist_loss logging every training batch's loss, and an opt_func logging its
    optimizers."""
    train = split(data["tx"], data["ty"], data["train_sizes"])
    valid = split(data["vx"], data["vy"], data["valid_sizes"])
    train_ptrs = {yb.data_ptr() for _, yb in train}
    log = {"losses": [], "opts": []}

    def loss_func(predictions, targets):
        p = predictions.sigmoid()
        loss = torch.where(targets == 1, 1 - p, p).mean()
        if isinstance(targets, torch.Tensor) and targets.data_ptr() in train_ptrs:
            log["losses"].append(loss.item())
        return loss

    def opt_func(params, lr):
        opt = CountingOpt(params, lr)
        log["opts"].append(opt)
        return opt

    dls = types.SimpleNamespace(train=train, valid=valid)
    return dls, make_model(kind, weights), loss_func, opt_func, log


def accuracy(xb, yb):
    return ((xb.sigmoid() > 0.5) == yb).float().mean()


def mae(xb, yb):
    return (xb.sigmoid() - yb).abs().mean()


METRICS = {"accuracy": accuracy, "mae": mae}


# ---- validate_epoch ------------------------------------------------------------------------------------------

class TrackedMetric:
    "A metric that notes whether the predictions it is given carry a gradient (were computed with tracking on)."

    def __init__(self, metric):
        self.metric, self.calls, self.tracked = metric, 0, 0

    def __call__(self, preds, targets):
        self.calls += 1
        self.tracked += bool(getattr(preds, "requires_grad", False))
        return self.metric(preds, targets)


def validate_case(validate_epoch, x, y, sizes, kind, weights, metric_name):
    "The student's validate_epoch on these batches: its value described, and how the metric was called."
    metric = TrackedMetric(METRICS[metric_name])
    value = validate_epoch(make_model(kind, weights), split(x, y, sizes), metric)
    return {"value": describe(value), "calls": metric.calls, "tracked": metric.tracked}


# ---- Learner -------------------------------------------------------------------------------------------------

def _logger(events, tag, ev):
    return lambda self, learn: events.append(f"{tag}:{ev}")


def fit_events(Learner, data, weights, partial):
    """The events a fit(2) fires, in order: callbacks `a` and `b` have all six events, and (`partial`) a third has
    only after_epoch (reading learn.epoch) and before_batch."""
    events = []
    a, b = (type(f"AllEvents_{tag}", (), {ev: _logger(events, tag, ev) for ev in EVENTS})() for tag in "ab")

    class SomeEvents:
        def after_epoch(self, learn): events.append(f"some:after_epoch:{learn.epoch}")
        def before_batch(self, learn): events.append("some:before_batch")

    dls, model, loss_func, opt_func, _ = setup(data, "linear", weights)
    learn = Learner(dls, model, loss_func, opt_func, 0.1, cbs=[a, b] + ([SomeEvents()] if partial else []))
    learn.fit(2)
    return events


def fit_metrics(Learner, data, weights):
    "learn.metric_values and the model's weights at each after_epoch of a fit(2) with two metrics."
    seen = []
    dls, model, loss_func, opt_func, _ = setup(data, "linear", weights)

    class Watch:
        def after_epoch(self, learn):
            seen.append({"values": listing(getattr(learn, "metric_values", None)), "weights": state(learn.model)})

    learn = Learner(dls, model, loss_func, opt_func, 0.5, cbs=[Watch()], metrics=[accuracy, mae])
    learn.fit(2)
    return seen


ATTRS = ("dls", "model", "loss_func", "opt_func", "lr", "cbs", "metrics", "opt", "metric_values", "epoch")


def fit(Learner, data, kind, weights, lr, n_epoch):
    "A fit with the grader's loss and optimizer: training losses, final weights, optimizers made, calls to step."
    dls, model, loss_func, opt_func, log = setup(data, kind, weights)
    learn = Learner(dls, model, loss_func, opt_func, lr)
    learn.fit(n_epoch)
    opts = log["opts"]
    return {"losses": log["losses"], "weights": state(model), "n_opts": len(opts),
            "steps": sum(o.steps for o in opts), "zero_grads": sum(o.zero_grads for o in opts),
            "missing": [a for a in ATTRS if not hasattr(learn, a)],
            "opt_is_made": bool(opts) and getattr(learn, "opt", None) is opts[-1]}


# ---- Recorder ------------------------------------------------------------------------------------------------

def drive_recorder(Recorder, fits):
    """A stand-in learner firing the Recorder's events for each fit of `fits` ([per epoch: [losses]], [per epoch:
    metric values]); learn.metric_values is changed in place after each after_epoch (a copy must not change)."""
    rec = Recorder()
    learn = types.SimpleNamespace(epoch=0, metric_values=[])
    out = []
    for fit_losses, fit_metrics in fits:
        learn.metric_values = []
        getattr(rec, "before_fit", lambda l: None)(learn)
        for epoch, (ep_losses, values) in enumerate(zip(fit_losses, fit_metrics)):
            learn.epoch = epoch
            getattr(rec, "before_epoch", lambda l: None)(learn)
            for loss in ep_losses:
                learn.preds = torch.zeros(4, 1, requires_grad=True)
                learn.loss = learn.preds.sum() + loss
                getattr(rec, "before_batch", lambda l: None)(learn)
                getattr(rec, "after_batch", lambda l: None)(learn)
            learn.metric_values[:] = list(values)
            getattr(rec, "after_epoch", lambda l: None)(learn)
            learn.metric_values[:] = [-1.0] * len(values)
        getattr(rec, "after_fit", lambda l: None)(learn)
        out.append({"losses": listing(getattr(rec, "losses", None)),
                    "epoch_metrics": listing(getattr(rec, "epoch_metrics", None))})
    return out


# ---- the train_sample cell, run again on the reference pieces ------------------------------------------------

def rerun_train_sample(source, env, seed):
    "The train_sample cell run again with the reference validate_epoch, Learner and Recorder; (globals, lines)."
    return rerun(source, env, seed, validate_epoch=validate_epoch, Learner=Learner, Recorder=Recorder)


def _made_by(obj, cls):
    """`obj` is an instance of this reference class, or of the same class of an earlier probe of this grading session
    (a kept rerun was made with the `ref` of the check that first ran it)."""
    t = type(obj)
    return isinstance(obj, cls) or (t.__qualname__ == cls.__qualname__ and t.__module__ == cls.__module__
                                    and t.__module__ != "__main__")


def trained(g):
    "The `learn` a re-run made, if it is the reference Learner's."
    learn = g.get("learn")
    return learn if _made_by(learn, Learner) else None


def predict(learn, x):
    "learn.model's activations for x, on the model's device, as a plain CPU tensor."
    p = next(iter(learn.model.parameters()), None)
    with torch.no_grad():
        return plain(learn.model(x.to(p.device) if p is not None else x))


def recorded(learn):
    "The losses of the first Recorder in learn.cbs, and the number of training batches per epoch."
    recs = [cb for cb in learn.cbs if _made_by(cb, Recorder)]
    return None if not recs else {"losses": [float(v) for v in recs[0].losses], "n_batches": len(learn.dls.train)}


# ---- reference pieces, written like the notebook's model answers ---------------------------------------------

def validate_epoch(model, dl, metric):
    total, count = 0., 0
    with torch.no_grad():
        for xb, yb in dl:
            total += float(metric(model(xb), yb)) * len(yb)
            count += len(yb)
    return total / count


class Learner:
    def __init__(self, dls, model, loss_func, opt_func, lr, cbs=(), metrics=()):
        self.dls, self.model, self.loss_func, self.opt_func, self.lr = dls, model, loss_func, opt_func, lr
        self.cbs, self.metrics = list(cbs), list(metrics)

    def __call__(self, name):
        for cb in self.cbs:
            method = getattr(cb, name, None)
            if method is not None:
                method(self)

    def one_batch(self, xb, yb):
        self.xb, self.yb = xb, yb
        self('before_batch')
        self.preds = self.model(xb)
        self.loss = self.loss_func(self.preds, yb)
        self.loss.backward()
        self.opt.step()
        self.opt.zero_grad()
        self('after_batch')

    def one_epoch(self):
        self('before_epoch')
        for xb, yb in self.dls.train:
            self.one_batch(xb, yb)
        self.metric_values = [validate_epoch(self.model, self.dls.valid, m) for m in self.metrics]
        self('after_epoch')

    def fit(self, n_epoch):
        self.opt = self.opt_func(self.model.parameters(), self.lr)
        self('before_fit')
        for self.epoch in range(n_epoch):
            self.one_epoch()
        self('after_fit')


class Recorder:
    def before_fit(self, learn): self.losses, self.epoch_metrics = [], []
    def after_batch(self, learn): self.losses.append(learn.loss.item())
    def after_epoch(self, learn): self.epoch_metrics.append(list(learn.metric_values))
