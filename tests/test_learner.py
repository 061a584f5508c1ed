"""The from-scratch Learner (Further Research 1): parity with fastai's Learner on MNIST_SAMPLE, callback
order, cancellation, batch-size-weighted metrics, device placement and seed repeatability."""
from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from reference.device import set_seed
from reference.learner import (CancelBatchException, CancelEpochException, CancelFitException, DataLoaders,
                               DeviceCB, Learner, OneCycle, Recorder, SGD, TensorLoader)


# The book's loss and metric, local so these tests do not depend on reference/linear.py.
def mnist_loss(predictions, targets):
    predictions = predictions.sigmoid()
    return torch.where(targets == 1, 1 - predictions, predictions).mean()


def batch_accuracy(xb, yb):
    preds = xb.sigmoid()
    correct = (preds > 0.5) == yb
    return correct.float().mean()


def simple_net():
    return nn.Sequential(nn.Linear(28 * 28, 30), nn.ReLU(), nn.Linear(30, 1))


@pytest.fixture(scope="module")
def sample(mnist_dir):
    "1,000 threes and 1,000 sevens for training and 300 + 300 for validation, in one fixed shuffled order."
    from reference.data import sample_stack
    def xy(split, n, seed):
        threes, sevens = sample_stack(split, 3)[:n], sample_stack(split, 7)[:n]
        x = torch.cat([threes, sevens]).view(-1, 28 * 28)
        y = torch.tensor([1] * n + [0] * n).unsqueeze(1)
        perm = torch.randperm(2 * n, generator=torch.Generator().manual_seed(seed))
        return x[perm], y[perm]
    return xy("train", 1000, 0) + xy("valid", 300, 1)


def batches(x, y, bs):
    return [(x[i:i + bs], y[i:i + bs]) for i in range(0, len(x), bs)]


class LogEvents:
    "Logs every event it sees, in order."
    events = ["before_fit", "after_fit", "before_epoch", "after_epoch", "before_train", "after_train",
              "before_validate", "after_validate", "before_batch", "after_batch", "after_predict", "after_loss",
              "after_backward", "after_step", "after_cancel_fit", "after_cancel_epoch", "after_cancel_batch"]
    def __init__(self): self.log = []
    def __getattr__(self, name):
        if name in LogEvents.events: return lambda learn: self.log.append(name)
        raise AttributeError(name)


def test_sgd_is_basic_optim():
    "SGD.step moves by -lr*grad exactly like the book's BasicOptim; zero_grad clears the gradients."
    w = torch.randn(5, requires_grad=True)
    (w ** 2).sum().backward()
    expected = w.detach() - 0.1 * 2 * w.detach()
    opt = SGD([w], lr=0.1)
    opt.step()
    assert torch.allclose(w.detach(), expected)
    opt.zero_grad()
    assert w.grad is None


def test_sgd_matches_fastai_sgd_with_momentum_and_wd():
    from fastai.optimizer import SGD as FastaiSGD
    torch.manual_seed(0)
    a = torch.randn(10, requires_grad=True)
    b = a.detach().clone().requires_grad_()
    ours, theirs = SGD([a], lr=0.05, mom=0.9, wd=0.01), FastaiSGD([b], lr=0.05, mom=0.9, wd=0.01)
    for _ in range(5):
        for p, opt in ((a, ours), (b, theirs)):
            (p ** 3).sum().backward(); opt.step(); opt.zero_grad()
    assert torch.allclose(a, b, atol=1e-7), (a - b).abs().max()


def test_parity_with_fastai_learner(sample):
    """Same initial weights, same batches (no shuffle), same optimiser (fastai SGD defaults: mom=0, wd=0),
    same loss: the per-batch training losses, the validation figures and the final weights agree."""
    from fastai.data.core import DataLoaders as FastaiDLs
    from fastai.data.load import DataLoader as FastaiDL
    from fastai.learner import Learner as FastaiLearner
    from fastai.callback.core import Callback as FastaiCallback
    from fastai.optimizer import SGD as FastaiSGD
    import fastai.callback.progress  # noqa: F401  (fastai's default progress bar, and Learner.no_bar)

    tx, ty, vx, vy = sample
    set_seed(42)
    model = simple_net()
    ours_model, fastai_model = copy.deepcopy(model), copy.deepcopy(model)

    ours = Learner(DataLoaders(batches(tx, ty, 256), batches(vx, vy, 256)), ours_model, mnist_loss, lr=0.1,
                   metrics=batch_accuracy, device="cpu", progress=False)
    ours.fit(2)

    class RawLosses(FastaiCallback):
        def before_fit(self): self.losses = []
        def after_batch(self):
            if self.training: self.losses.append(self.learn.loss.item())

    fdls = FastaiDLs(FastaiDL(list(zip(tx, ty)), bs=256), FastaiDL(list(zip(vx, vy)), bs=256), device="cpu")
    assert [tuple(b) for b in fdls.train] and all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
                                                  for a, b in zip(fdls.train, batches(tx, ty, 256)))
    raw = RawLosses()
    theirs = FastaiLearner(fdls, fastai_model, loss_func=mnist_loss, opt_func=FastaiSGD, lr=0.1,
                           metrics=batch_accuracy, cbs=raw)
    with theirs.no_bar(), theirs.no_logging():
        theirs.fit(2)

    assert len(ours.recorder.losses) == len(raw.losses) == 2 * 8
    assert ours.recorder.losses[0] != ours.recorder.losses[-1]  # it did train
    torch.testing.assert_close(torch.tensor(ours.recorder.losses), torch.tensor(raw.losses), rtol=1e-6, atol=1e-7)
    for name, p in ours_model.state_dict().items():
        torch.testing.assert_close(p, fastai_model.state_dict()[name], rtol=1e-5, atol=1e-7)
    # fastai's recorder values per epoch: [smoothed train loss, valid_loss, batch_accuracy], weighted by batch size
    for epoch, (_, valid_loss, acc) in enumerate(theirs.recorder.values):
        assert ours.recorder.valid_loss[epoch] == pytest.approx(valid_loss, rel=1e-5)
        assert ours.recorder.metrics["batch_accuracy"][epoch] == pytest.approx(acc, rel=1e-6)


def test_accepts_fastai_dataloaders(sample):
    "Fed fastai's DataLoaders, our Learner sees the same batches and so gives the same losses."
    from fastai.data.core import DataLoaders as FastaiDLs
    from fastai.data.load import DataLoader as FastaiDL
    tx, ty, vx, vy = sample
    set_seed(1)
    model = simple_net()
    a = Learner(DataLoaders(batches(tx, ty, 256), batches(vx, vy, 256)), copy.deepcopy(model), mnist_loss,
                lr=0.1, device="cpu", progress=False).fit(1)
    fdls = FastaiDLs(FastaiDL(list(zip(tx, ty)), bs=256), FastaiDL(list(zip(vx, vy)), bs=256), device="cpu")
    b = Learner(fdls, copy.deepcopy(model), mnist_loss, lr=0.1, device="cpu", progress=False).fit(1)
    assert a.recorder.losses == b.recorder.losses
    assert a.recorder.valid_loss == b.recorder.valid_loss


def test_callback_order(sample):
    tx, ty, vx, vy = sample
    dls = DataLoaders(batches(tx[:20], ty[:20], 10), batches(vx[:10], vy[:10], 10))
    log = LogEvents()
    Learner(dls, simple_net(), mnist_loss, cbs=[log], device="cpu", progress=False).fit(2)
    train_batch = ["before_batch", "after_predict", "after_loss", "after_backward", "after_step", "after_batch"]
    valid_batch = ["before_batch", "after_predict", "after_loss", "after_batch"]
    epoch = ["before_epoch", "before_train", *train_batch * 2, "after_train",
             "before_validate", *valid_batch, "after_validate", "after_epoch"]
    assert log.log == ["before_fit", *epoch * 2, "after_fit"]


def test_callbacks_run_in_order_attribute(sample):
    tx, ty, vx, vy = sample
    seen = []
    class A:
        order = 5
        def before_fit(self, learn): seen.append("A")
    class B:
        order = -1
        def before_fit(self, learn): seen.append("B")
    Learner(DataLoaders([], []), simple_net(), mnist_loss, cbs=[A(), B()], device="cpu", progress=False).fit(1)
    assert seen == ["B", "A"]


def test_cancel_fit_and_epoch_and_batch(sample):
    tx, ty, vx, vy = sample
    dls = DataLoaders(batches(tx[:40], ty[:40], 10), batches(vx[:10], vy[:10], 10))

    class StopAfter:
        def __init__(self, n): self.n = n
        def after_batch(self, learn):
            if learn.training and learn.train_iter + 1 >= self.n: raise CancelFitException()
    log = LogEvents()
    learn = Learner(dls, simple_net(), mnist_loss, cbs=[log, StopAfter(3)], device="cpu", progress=False).fit(5)
    assert len(learn.recorder.losses) == 0  # the epoch never finished, so it never recorded
    assert log.log.count("after_step") == 3
    assert log.log[-1] == "after_cancel_fit" and "after_fit" not in log.log

    class SkipEpochAfterTrain:
        def after_train(self, learn): raise CancelEpochException()
    log = LogEvents()
    learn = Learner(dls, simple_net(), mnist_loss, cbs=[log, SkipEpochAfterTrain()], device="cpu", progress=False).fit(2)
    assert "before_validate" not in log.log and log.log.count("after_cancel_epoch") == 2 and log.log[-1] == "after_fit"
    assert len(learn.recorder.losses) == 2 * 4

    class SkipOddBatches:
        def before_batch(self, learn):
            if learn.training and learn.iter % 2: raise CancelBatchException()
    w0 = simple_net()
    learn = Learner(dls, copy.deepcopy(w0), mnist_loss, cbs=[SkipOddBatches()], device="cpu", progress=False).fit(1)
    assert len(learn.recorder.losses) == 2  # batches 0 and 2 of 4
    # the same as training on batches 0 and 2 only
    ref = Learner(DataLoaders([dls.train[0], dls.train[2]], dls.valid), copy.deepcopy(w0), mnist_loss,
                  device="cpu", progress=False).fit(1)
    assert learn.recorder.losses == ref.recorder.losses


def test_metrics_weighted_by_batch_size(sample):
    "With a last batch of 1 (of 101 items), the epoch metric is the metric over the whole set, not a mean of batch means."
    tx, ty, vx, vy = sample
    vx, vy = vx[:101], vy[:101]
    set_seed(3)
    learn = Learner(DataLoaders(batches(tx, ty, 100), batches(vx, vy, 50)), simple_net(), mnist_loss, lr=0.1,
                    metrics=batch_accuracy, device="cpu", progress=False).fit(1)
    with torch.no_grad():
        preds = learn.model(vx)
        whole_acc, whole_loss = batch_accuracy(preds, vy).item(), mnist_loss(preds, vy).item()
        mean_of_means = torch.stack([batch_accuracy(learn.model(x), y) for x, y in batches(vx, vy, 50)]).mean().item()
    assert learn.recorder.metrics["batch_accuracy"][-1] == pytest.approx(whole_acc, abs=1e-6)
    assert learn.recorder.valid_loss[-1] == pytest.approx(whole_loss, rel=1e-5)
    assert abs(mean_of_means - whole_acc) > 1e-3  # the test can tell the two apart
    assert learn.recorder.log[-1]["batch_accuracy"] == learn.recorder.metrics["batch_accuracy"][-1]
    # train loss too: weighted mean of the batch losses of the epoch
    sizes = torch.tensor([len(y) for _, y in batches(tx, ty, 100)], dtype=torch.float)
    weighted = (torch.tensor(learn.recorder.losses) * sizes).sum() / sizes.sum()
    assert learn.recorder.train_loss[-1] == pytest.approx(weighted.item(), rel=1e-5)


def test_device_cb_cpu(sample):
    "DeviceCB puts the model and every batch on the asked device; here CPU (CUDA is checked the same way on a GPU)."
    tx, ty, vx, vy = sample
    seen = []
    class Where:
        order = 1  # after DeviceCB (order -10) moved the batch
        def before_batch(self, learn): seen.append((learn.xb.device, learn.yb.device))
    learn = Learner(DataLoaders(batches(tx[:20], ty[:20], 10), batches(vx[:10], vy[:10], 10)), simple_net(),
                    mnist_loss, cbs=[Where()], device="cpu", progress=False).fit(1)
    assert all(p.device.type == "cpu" for p in learn.model.parameters())
    assert seen and all(a.type == "cpu" and b.type == "cpu" for a, b in seen)
    assert isinstance([cb for cb in learn.cbs if isinstance(cb, DeviceCB)][0].device, torch.device)


@pytest.mark.gpu
def test_device_cb_cuda(sample):
    tx, ty, vx, vy = sample
    learn = Learner(DataLoaders(batches(tx, ty, 256), batches(vx, vy, 256)), simple_net(), mnist_loss,
                    metrics=batch_accuracy, device="cuda", progress=False).fit(1)
    assert all(p.device.type == "cuda" for p in learn.model.parameters())
    preds, targs = learn.get_preds()
    assert preds.device.type == "cpu" and len(preds) == len(vx)


def test_seed_repeatability(sample):
    "One seed, shuffled batches and momentum: two runs give identical losses; another seed does not."
    tx, ty, vx, vy = sample
    def run(seed):
        set_seed(seed)
        dls = DataLoaders.from_tensors(tx, ty, vx, vy, bs=128, shuffle=True, seed=seed)
        opt = lambda p, lr: SGD(p, lr, mom=0.9)
        learn = Learner(dls, simple_net(), mnist_loss, opt_func=opt, cbs=[OneCycle(0.1)], metrics=batch_accuracy,
                        device="cpu", progress=False).fit(2)
        return learn.recorder
    a, b, c = run(7), run(7), run(8)
    assert a.losses == b.losses and a.metrics == b.metrics
    assert a.losses != c.losses


def test_one_cycle_schedule(sample):
    tx, ty, vx, vy = sample
    lrs = []
    class LR:
        order = 0
        def after_step(self, learn): lrs.append(learn.opt.lr)
    dls = DataLoaders(batches(tx, ty, 20), batches(vx[:10], vy[:10], 10))
    Learner(dls, simple_net(), mnist_loss, opt_func=lambda p, lr: SGD(p, lr, mom=0.9),
            cbs=[OneCycle(0.5, pct_start=0.25), LR()], device="cpu", progress=False).fit(2)
    assert len(lrs) == 200
    top = max(range(200), key=lrs.__getitem__)
    assert lrs[0] == pytest.approx(0.5 / 25) and lrs[top] == pytest.approx(0.5, rel=1e-3) and 40 <= top <= 60
    assert lrs[-1] == pytest.approx(0.5 / 1e4) and lrs[-1] < lrs[-2]


def test_recorder_can_be_replaced_and_progress_runs(sample, capsys):
    tx, ty, vx, vy = sample
    rec = Recorder(metrics=[batch_accuracy])
    learn = Learner(DataLoaders(batches(tx[:40], ty[:40], 20), batches(vx[:20], vy[:20], 20)), simple_net(),
                    mnist_loss, cbs=[rec], device="cpu", progress=True).fit(1)
    assert learn.recorder is rec and sum(isinstance(cb, Recorder) for cb in learn.cbs) == 1
    assert "batch_accuracy" in capsys.readouterr().out


def test_tensor_loader_last_batch():
    x, y = torch.arange(10).float(), torch.arange(10)
    dl = TensorLoader(x, y, bs=4)
    assert len(dl) == 3 and [len(b[0]) for b in dl] == [4, 4, 2]
    assert len(TensorLoader(x, y, bs=4, drop_last=True)) == 2
    g = torch.Generator().manual_seed(0)
    seen = torch.cat([b[1] for b in TensorLoader(x, y, bs=4, shuffle=True, generator=g)])
    assert sorted(seen.tolist()) == list(range(10)) and seen.tolist() != list(range(10))


def test_reproduce_rows_quick(mnist_dir):
    "The `ch4grade reproduce` row: the book's simple_net refit with our Learner (uses reference.linear's loss)."
    from reference.learner import reproduce_rows
    from reference.rows import KEYS
    (r,) = reproduce_rows("cpu", quick=True)
    assert set(r) == set(KEYS) and r["section"] == "learner"
    assert r["passed"] and 0.96 <= r["value"] <= 0.99
