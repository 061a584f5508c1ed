"""Further Research 1: a `Learner` written from scratch, in the style of fastai course22p2's miniai.

State lives on the learner (`learn.model`, `learn.opt`, `learn.batch`, `learn.preds`, `learn.loss`,
`learn.epoch`, `learn.training`); everything optional is a callback: a plain object with any of
`before_fit/after_fit`, `before_epoch/after_epoch`, `before_train/after_train`,
`before_validate/after_validate`, `before_batch/after_batch` (and the finer `after_predict`,
`after_loss`, `after_backward`, `after_step`), each called as `cb.before_fit(learn)`, in `cb.order`.
A callback stops work early by raising `CancelFitException`, `CancelEpochException`,
`CancelTrainException`, `CancelValidException` or `CancelBatchException`.

    learn = Learner(dls, nn.Linear(28*28, 1), mnist_loss, lr=1., metrics=batch_accuracy)
    learn.fit(10)
    learn.recorder.log[-1]      # {'epoch': 9, 'train_loss': ..., 'valid_loss': ..., 'batch_accuracy': ..., 'time': ...}

`dls` is anything with `.train` and `.valid` iterables of `(xb, yb)`: our `DataLoaders`, fastai's
`DataLoaders`, or two plain lists of batches. `SGD` is the book's `BasicOptim` (optionally with
momentum and weight decay as fastai defines them), written from scratch.
"""
from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence

import torch
from torch import nn

from .device import default_device
from .rows import at_least, timer


class CancelFitException(Exception): pass
class CancelEpochException(Exception): pass
class CancelTrainException(Exception): pass
class CancelValidException(Exception): pass
class CancelBatchException(Exception): pass


# ----------------------------------------------------------------------------------------------------------
# Optimiser

class SGD:
    """The book's `BasicOptim`, from scratch: `step()` moves each parameter by `-lr * grad`, `zero_grad()` clears.

    `mom` and `wd` follow fastai's `SGD` (its defaults are `mom=0., wd=0.`): `grad_avg = mom*grad_avg + grad`
    (no dampening) and true weight decay `p *= 1 - lr*wd`.
    """
    def __init__(self, params, lr: float, mom: float = 0., wd: float = 0.):
        self.params, self.lr, self.mom, self.wd = list(params), lr, mom, wd
        self.grad_avgs = [None] * len(self.params)

    @torch.no_grad()
    def step(self):
        for i, p in enumerate(self.params):
            if p.grad is None: continue
            if self.wd != 0: p.mul_(1 - self.lr * self.wd)
            grad = p.grad
            if self.mom != 0:
                if self.grad_avgs[i] is None: self.grad_avgs[i] = torch.zeros_like(grad)
                grad = self.grad_avgs[i].mul_(self.mom).add_(grad)
            p.add_(grad, alpha=-self.lr)

    def zero_grad(self):
        for p in self.params: p.grad = None


# ----------------------------------------------------------------------------------------------------------
# Data

def to_device(x, device):
    "Move a tensor, or the tensors in a (nested) list/tuple/dict, to `device`."
    if isinstance(x, torch.Tensor): return x.to(device, non_blocking=True)
    if isinstance(x, Mapping): return {k: to_device(v, device) for k, v in x.items()}
    if isinstance(x, (list, tuple)): return type(x)(to_device(o, device) for o in x)
    return x


def batch_size(yb) -> int:
    "Number of items in a batch's targets (or inputs)."
    if isinstance(yb, (list, tuple)): yb = yb[0]
    return yb.shape[0] if isinstance(yb, torch.Tensor) and yb.ndim else len(yb)


class TensorLoader:
    """Batches `(x[i:i+bs], y[i:i+bs])` straight from two tensors (no per-item collation, so fast on CPU).

    With `shuffle`, each pass draws a fresh permutation from `generator` (a seeded `torch.Generator`
    gives the same order every run)."""
    def __init__(self, x: torch.Tensor, y: torch.Tensor, bs: int = 256, shuffle: bool = False,
                 drop_last: bool = False, generator: torch.Generator | None = None):
        assert len(x) == len(y), f"{len(x)} inputs but {len(y)} targets"
        self.x, self.y, self.bs, self.shuffle, self.drop_last, self.generator = x, y, bs, shuffle, drop_last, generator

    def __len__(self):
        n = len(self.x)
        return n // self.bs if self.drop_last else math.ceil(n / self.bs)

    def __iter__(self):
        n = len(self.x)
        idxs = torch.randperm(n, generator=self.generator) if self.shuffle else None
        for i in range(len(self)):
            if idxs is None: yield self.x[i*self.bs:(i+1)*self.bs], self.y[i*self.bs:(i+1)*self.bs]
            else:
                b = idxs[i*self.bs:(i+1)*self.bs]
                yield self.x[b], self.y[b]


class DataLoaders:
    "Just a `train` and a `valid` iterable of `(xb, yb)` batches."
    def __init__(self, train: Iterable, valid: Iterable): self.train, self.valid = train, valid

    @classmethod
    def from_tensors(cls, train_x, train_y, valid_x, valid_y, bs=256, valid_bs=None, shuffle=True, seed=None):
        g = None if seed is None else torch.Generator().manual_seed(seed)
        return cls(TensorLoader(train_x, train_y, bs, shuffle=shuffle, generator=g),
                   TensorLoader(valid_x, valid_y, valid_bs or 2 * bs))


# ----------------------------------------------------------------------------------------------------------
# Callbacks

class Callback:
    "Base class (optional: any object with the event methods will do). Lower `order` runs first."
    order = 0


def run_cbs(cbs: Sequence, event: str, learn=None):
    for cb in sorted(cbs, key=lambda cb: getattr(cb, "order", 0)):
        method = getattr(cb, event, None)
        if method is not None: method(learn)


class DeviceCB(Callback):
    "Move the model to `device` before fitting and each batch to it before use (default: `default_device()`)."
    order = -10
    def __init__(self, device=None): self.device = default_device(device)
    def before_fit(self, learn):
        learn.model.to(self.device)
        if isinstance(learn.loss_func, nn.Module): learn.loss_func.to(self.device)
    def before_batch(self, learn): learn.batch = to_device(learn.batch, self.device)


def _name(f) -> str:
    return getattr(f, "__name__", None) or getattr(getattr(f, "func", None), "__name__", None) or type(f).__name__


class Recorder(Callback):
    """Records what happened: `losses` (every training batch), and per epoch `train_loss`, `valid_loss` and each
    metric in `metrics[name]`, plus `log` (one dict per epoch).

    Epoch figures are weighted by batch size (sum of `value * len(yb)` over the sum of `len(yb)`), so a metric
    that is a mean over its batch (accuracy, mean loss) gives exactly its value over the whole set, however
    the last batch is cut. Metrics are computed on the validation set, as `metric(preds, yb)`."""
    order = 0
    def __init__(self, metrics=None):
        metrics = [] if metrics is None else metrics if isinstance(metrics, (list, tuple)) else [metrics]
        self.metric_funcs = {_name(m): m for m in metrics}

    def before_fit(self, learn):
        self.losses, self.train_loss, self.valid_loss, self.log = [], [], [], []
        self.metrics = {k: [] for k in self.metric_funcs}

    def before_epoch(self, learn):
        self.start, self.row = time.time(), {"epoch": learn.epoch}

    def _reset(self, learn):
        self.total = {k: 0. for k in ["loss", *self.metric_funcs]}
        self.count, self.batch_losses = 0, []
    before_train = before_validate = _reset

    def after_batch(self, learn):
        n = batch_size(learn.yb)
        loss = learn.loss.detach()
        self.count += n
        self.total["loss"] += loss * n
        if learn.training: self.batch_losses.append(loss)
        else:
            for k, f in self.metric_funcs.items():
                self.total[k] += torch.as_tensor(f(learn.preds, learn.yb)).detach().float() * n

    def _mean(self, k): return (self.total[k] / self.count).item() if self.count else float("nan")

    def after_train(self, learn):
        if self.batch_losses: self.losses += torch.stack(self.batch_losses).float().tolist()
        self.train_loss.append(self._mean("loss"))
        self.row["train_loss"] = self.train_loss[-1]

    def after_validate(self, learn):
        self.valid_loss.append(self._mean("loss"))
        self.row["valid_loss"] = self.valid_loss[-1]
        for k in self.metric_funcs:
            self.metrics[k].append(self._mean(k))
            self.row[k] = self.metrics[k][-1]

    def after_epoch(self, learn):
        self.row["time"] = time.time() - self.start
        self.log.append(self.row)


class ProgressCB(Callback):
    "A tqdm bar over the batches of each phase, with the epoch's figures printed after each epoch."
    order = 10
    def __init__(self, print_epochs: bool = True): self.print_epochs = print_epochs
    def _start(self, learn):
        from tqdm.auto import tqdm
        self.bar = tqdm(total=len(learn.dl) if hasattr(learn.dl, "__len__") else None, leave=False,
                        desc=f"epoch {learn.epoch} {'train' if learn.training else 'valid'}")
    before_train = before_validate = _start
    def after_batch(self, learn):
        self.bar.update(1)
        if learn.training: self.bar.set_postfix(loss=f"{learn.loss.item():.4f}")
    def _stop(self, learn): self.bar.close()
    after_train = after_validate = _stop
    def after_epoch(self, learn):
        rec = getattr(learn, "recorder", None)
        if self.print_epochs and rec is not None and rec.log:
            print("  ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in rec.log[-1].items()))


class StopAfterBatches(Callback):
    "Stops the fit after `n` training batches (handy for quick checks)."
    def __init__(self, n: int): self.n = n
    def after_batch(self, learn):
        if learn.training and learn.train_iter >= self.n: raise CancelFitException()


class OneCycle(Callback):
    """One-cycle schedule written from scratch: lr rises (cosine) from `max_lr/div` to `max_lr` over the first
    `pct_start` of training steps, then falls (cosine) to `max_lr/div_final`; momentum, if the optimiser has
    it, moves the opposite way between `moms[0]` and `moms[1]`."""
    order = -5
    def __init__(self, max_lr: float, pct_start: float = 0.25, div: float = 25., div_final: float = 1e4,
                 moms: tuple[float, float] | None = (0.95, 0.85)):
        self.max_lr, self.pct_start, self.div, self.div_final, self.moms = max_lr, pct_start, div, div_final, moms

    @staticmethod
    def _cos(a, b, pct): return b + (a - b) * (1 + math.cos(math.pi * pct)) / 2

    def before_fit(self, learn): self.total = learn.n_epoch * len(learn.dls.train)

    def before_batch(self, learn):
        if not learn.training: return
        pct = min(learn.train_iter / max(self.total - 1, 1), 1.)
        if pct < self.pct_start: p, lo_hi = pct / self.pct_start, True
        else: p, lo_hi = (pct - self.pct_start) / (1 - self.pct_start), False
        if lo_hi: learn.opt.lr = self._cos(self.max_lr / self.div, self.max_lr, p)
        else: learn.opt.lr = self._cos(self.max_lr, self.max_lr / self.div_final, p)
        if self.moms is not None and hasattr(learn.opt, "mom"):
            hi, lo = self.moms
            learn.opt.mom = self._cos(hi, lo, p) if lo_hi else self._cos(lo, hi, p)


# ----------------------------------------------------------------------------------------------------------
# Learner

_CANCEL = {"fit": CancelFitException, "epoch": CancelEpochException, "train": CancelTrainException,
           "validate": CancelValidException, "batch": CancelBatchException}


class Learner:
    """Train `model` on `dls` with `loss_func(preds, yb)` and `opt_func(params, lr)`.

    `cbs` are added to the default ones: a `DeviceCB` (model and batches on `device`, default
    `default_device()`), a `Recorder` of losses and `metrics` (`learn.recorder`), and a `ProgressCB`
    when `progress` is true. Pass `device=False` to leave placement alone."""
    def __init__(self, dls, model: nn.Module, loss_func, opt_func=SGD, lr: float = 0.1, cbs=None,
                 metrics=None, device=None, progress: bool = True):
        self.dls, self.model, self.loss_func, self.opt_func, self.lr = dls, model, loss_func, opt_func, lr
        self.opt, self.cbs, self.training, self.epoch, self.train_iter = None, [], False, 0, 0
        self.recorder = Recorder(metrics)
        defaults = [self.recorder] + ([] if device is False else [DeviceCB(device)]) + ([ProgressCB()] if progress else [])
        for cb in defaults + list(cbs or []): self.add_cb(cb)

    def add_cb(self, cb):
        if isinstance(cb, type): cb = cb()
        if isinstance(cb, Recorder) and cb is not self.recorder:
            self.cbs.remove(self.recorder); self.recorder = cb
        self.cbs.append(cb)
        return self

    def remove_cb(self, cb):
        self.cbs.remove(cb)
        return self

    def callback(self, event: str): run_cbs(self.cbs, event, self)

    def _with_events(self, f, name: str):
        try:
            self.callback(f"before_{name}")
            f()
            self.callback(f"after_{name}")
        except _CANCEL[name]:
            self.callback(f"after_cancel_{name}")
        finally:
            self.callback(f"cleanup_{name}")

    @property
    def xb(self): return self.batch[0]
    @property
    def yb(self): return self.batch[1]

    # one batch: predict, loss, and in training backward, step, zero_grad
    def predict(self): self.preds = self.model(self.xb)
    def get_loss(self): self.loss = self.loss_func(self.preds, self.yb)
    def backward(self): self.loss.backward()
    def step(self): self.opt.step()
    def zero_grad(self): self.opt.zero_grad()

    def _one_batch(self):
        self.predict(); self.callback("after_predict")
        self.get_loss(); self.callback("after_loss")
        if self.training:
            self.backward(); self.callback("after_backward")
            self.step(); self.callback("after_step")
            self.zero_grad()

    def one_batch(self): self._with_events(self._one_batch, "batch")

    def _all_batches(self):
        self.n_iter = len(self.dl) if hasattr(self.dl, "__len__") else None
        for self.iter, self.batch in enumerate(self.dl):
            self.one_batch()
            if self.training: self.train_iter += 1

    def _do_train(self):
        self.training, self.dl = True, self.dls.train
        self.model.train()
        self._with_events(self._all_batches, "train")

    def _do_validate(self):
        self.training, self.dl = False, self.dls.valid
        self.model.eval()
        with torch.no_grad(): self._with_events(self._all_batches, "validate")

    def _do_epoch(self):
        if self.do_train: self._do_train()
        if self.do_valid: self._do_validate()

    def _do_fit(self):
        for self.epoch in range(self.n_epoch): self._with_events(self._do_epoch, "epoch")

    def fit(self, n_epoch: int = 1, lr: float | None = None, cbs=None, train: bool = True, valid: bool = True):
        "Train for `n_epoch` epochs (optionally at `lr`, with extra `cbs` for this fit only)."
        cbs = list(cbs or [])
        for cb in cbs: self.add_cb(cb)
        try:
            if lr is not None: self.lr = lr
            if self.opt is None: self.opt = self.opt_func(self.model.parameters(), self.lr)
            self.opt.lr = self.lr
            self.n_epoch, self.do_train, self.do_valid, self.train_iter = n_epoch, train, valid, 0
            self._with_events(self._do_fit, "fit")
        finally:
            for cb in cbs: self.remove_cb(cb)
            self.training = False
        return self

    def get_preds(self, dl=None):
        "Predictions and targets for every batch of `dl` (default: the validation set), concatenated, on the CPU."
        dl = self.dls.valid if dl is None else dl
        device = next(self.model.parameters()).device
        self.model.eval()
        preds, targs = [], []
        with torch.no_grad():
            for xb, yb in dl:
                preds.append(self.model(to_device(xb, device)).float().cpu()); targs.append(yb.cpu())
        return torch.cat(preds), torch.cat(targs)


# ----------------------------------------------------------------------------------------------------------
# `ch4grade reproduce` rows

SECTION = "learner"


def sample_dls(bs: int = 256, n: int | None = None):
    """MNIST_SAMPLE as the book prepares it (train: threes then sevens, flattened, targets 1 for a 3), as our
    `DataLoaders` without shuffling (the book's `DataLoader(dset, batch_size=256)` does not shuffle either).
    `n` keeps the first `n` of each digit in each split (for quick checks)."""
    from .data import sample_stack
    def xy(split):
        threes, sevens = sample_stack(split, 3), sample_stack(split, 7)
        if n is not None: threes, sevens = threes[:n], sevens[:n]
        x = torch.cat([threes, sevens]).view(-1, 28 * 28)
        y = torch.tensor([1] * len(threes) + [0] * len(sevens)).unsqueeze(1)
        return x, y
    (tx, ty), (vx, vy) = xy("train"), xy("valid")
    return DataLoaders(TensorLoader(tx, ty, bs), TensorLoader(vx, vy, bs))


def reproduce_rows(device=None, quick: bool = False, seed: int = 42) -> list[dict]:
    """The book's `Learner(dls, simple_net, opt_func=SGD, loss_func=mnist_loss, metrics=batch_accuracy)`
    refit with our Learner (book: 0.982 after 40 epochs at lr 0.1; quick: 10 epochs)."""
    from .device import set_seed
    from .linear import batch_accuracy, mnist_loss
    device = default_device(device)
    n_epoch = 10 if quick else 40
    set_seed(seed)
    model = nn.Sequential(nn.Linear(28 * 28, 30), nn.ReLU(), nn.Linear(30, 1))
    with timer() as t:
        learn = Learner(sample_dls(), model, mnist_loss, lr=0.1, metrics=batch_accuracy, device=device, progress=False)
        learn.fit(n_epoch)
    acc = learn.recorder.metrics["batch_accuracy"][-1]
    return [at_least(SECTION, f"simple_net with our Learner, {n_epoch} epochs at lr 0.1: batch_accuracy", acc,
                     0.96 if quick else 0.978, t.seconds, note=" (book: 0.982 after 40 epochs)")]
