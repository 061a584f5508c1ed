"The linear classifier: data shapes, loss, metric, gradients and optimizers, and the book's training bands."
from functools import partial

import pytest
import torch
from fastai.optimizer import SGD
from torch import nn

from reference.linear import (BasicOptim, batch_accuracy, calc_grad, init_params, learner_linear, linear1,
                              load_xy, make_dls, mnist_loss, stack_x, stack_y, train_epoch, train_epoch_opt,
                              train_linear1, train_model, train_nn_linear, validate_epoch)
from reference.device import set_seed


@pytest.fixture(scope="module")
def xy(mnist_dir):
    return load_xy("cpu")


@pytest.fixture(scope="module")
def dls(xy):
    return make_dls(xy, device="cpu")


def test_shapes_and_labels_as_the_book(xy):
    assert xy["train_x"].shape == (12396, 784) and xy["train_y"].shape == (12396, 1)
    assert xy["valid_x"].shape == (2038, 784) and xy["valid_y"].shape == (2038, 1)
    # 1 for the 6131 threes first, then 0 for the 6265 sevens
    assert xy["train_y"][:6131].eq(1).all() and xy["train_y"][6131:].eq(0).all()
    assert int(xy["valid_y"].sum()) == 1010
    assert 0 <= xy["train_x"].min() and xy["train_x"].max() <= 1


def test_stack_helpers_on_small_tensors():
    threes, sevens = torch.rand(2, 28, 28), torch.rand(3, 28, 28)
    assert torch.equal(stack_x(threes, sevens)[1], threes[1].flatten())
    assert stack_y(threes, sevens).tolist() == [[1], [1], [0], [0], [0]]


def test_dataloaders_batches(dls):
    dl, valid_dl = dls
    xb, yb = next(iter(dl))
    assert xb.shape == (256, 784) and yb.shape == (256, 1)
    assert len(dl) == 49 and len(valid_dl) == 8  # ceil(12396/256), ceil(2038/256)


def test_init_params():
    set_seed(0)
    w = init_params((28 * 28, 1))
    set_seed(0)
    w2 = init_params((28 * 28, 1), std=2.0)
    assert w.shape == (784, 1) and w.requires_grad and w.is_leaf
    assert torch.allclose(w2, 2 * w)


def test_linear1_matches_nn_linear():
    xb = torch.rand(4, 784)
    lin = nn.Linear(784, 1)
    assert torch.allclose(linear1(xb, lin.weight.T, lin.bias), lin(xb))


def test_mnist_loss_matches_the_formula_on_random_tensors():
    g = torch.Generator().manual_seed(0)
    preds = torch.randn(64, 1, generator=g) * 3
    targets = torch.randint(0, 2, (64, 1), generator=g)
    s = torch.sigmoid(preds)
    expected = (targets * (1 - s) + (1 - targets) * s).mean()
    assert torch.allclose(mnist_loss(preds, targets), expected)


def test_mnist_loss_known_values():
    # sigmoid(0) = 0.5 whatever the target; a confident right answer costs almost nothing
    assert mnist_loss(torch.zeros(3, 1), torch.tensor([[1], [0], [1]])).item() == pytest.approx(0.5)
    assert mnist_loss(torch.tensor([[20.0], [-20.0]]), torch.tensor([[1], [0]])).item() < 1e-8


def test_batch_accuracy_known_tensors():
    xb = torch.tensor([[2.0], [-1.0], [0.5], [-3.0]])  # sigmoid > 0.5 exactly when xb > 0
    yb = torch.tensor([[1], [1], [0], [0]])
    assert batch_accuracy(xb, yb).item() == 0.5
    assert batch_accuracy(xb, (xb > 0).long()).item() == 1.0


def test_calc_grad_matches_the_hand_derived_gradient():
    g = torch.Generator().manual_seed(3)
    xb, yb = torch.rand(8, 784, generator=g), torch.randint(0, 2, (8, 1), generator=g)
    weights = (torch.randn(784, 1, generator=g) * 0.05).requires_grad_()
    bias = torch.zeros(1).requires_grad_()
    calc_grad(xb, yb, partial(linear1, weights=weights, bias=bias))
    s = torch.sigmoid(xb @ weights.detach() + bias.detach())
    # d/dz of where(y==1, 1-s, s) is -s(1-s) for a 3 and s(1-s) for a 7; the loss is a mean over 8
    dz = torch.where(yb == 1, -s * (1 - s), s * (1 - s)) / len(xb)
    assert torch.allclose(weights.grad, xb.T @ dz, atol=1e-7)
    assert torch.allclose(bias.grad, dz.sum(0), atol=1e-7)
    calc_grad(xb, yb, partial(linear1, weights=weights, bias=bias))  # a second call adds (the book's point)
    assert torch.allclose(bias.grad, 2 * dz.sum(0), atol=1e-7)


@pytest.mark.parametrize("opt_cls", [BasicOptim, SGD])
def test_optimizer_step_is_p_minus_lr_grad(opt_cls):
    lin = nn.Linear(784, 1)
    opt = opt_cls(lin.parameters(), 0.5)
    mnist_loss(lin(torch.rand(16, 784)), torch.randint(0, 2, (16, 1))).backward()
    expected = [(p - 0.5 * p.grad).detach().clone() for p in lin.parameters()]
    opt.step()
    assert all(torch.allclose(p, e) for p, e in zip(lin.parameters(), expected))
    opt.zero_grad()
    assert all(p.grad is None or not p.grad.any() for p in lin.parameters())


def test_both_book_training_loops_agree(dls):
    "`train_epoch(model, lr, params, dl)` and the optimizer version take the same steps."
    dl, valid_dl = dls
    set_seed(5)
    w, b = init_params((784, 1)), init_params(1)
    w2, b2 = w.detach().clone().requires_grad_(), b.detach().clone().requires_grad_()
    train_epoch(partial(linear1, weights=w, bias=b), 1.0, (w, b), dl)
    train_epoch_opt(partial(linear1, weights=w2, bias=b2), BasicOptim((w2, b2), 1.0), dl)
    assert torch.allclose(w, w2) and torch.allclose(b, b2)
    model = partial(linear1, weights=w, bias=b)
    by_hand = torch.stack([batch_accuracy(model(xb), yb) for xb, yb in valid_dl]).mean().item()
    assert validate_epoch(model, valid_dl) == round(by_hand, 4)


def test_linear1_band(dls):
    r = train_linear1(20, 1.0, seed=42, device="cpu", dls=dls)
    assert len(r["accs"]) == 21
    assert r["final"] >= 0.96  # book 0.9696; measured 0.9677 at seed 42


def test_nn_linear_with_basic_optim_and_sgd(dls):
    basic = train_nn_linear(20, 1.0, seed=42, opt_func=BasicOptim, device="cpu", dls=dls)
    sgd = train_nn_linear(20, 1.0, seed=42, opt_func=SGD, device="cpu", dls=dls)
    assert basic["final"] >= 0.97  # book 0.9785; measured 0.9785
    assert basic["accs"] == sgd["accs"]  # the book: SGD "does the same thing as our BasicOptim"


def test_train_model_returns_one_accuracy_per_epoch(dls):
    dl, valid_dl = dls
    set_seed(1)
    lin = nn.Linear(784, 1)
    accs = train_model(lin, 2, BasicOptim(lin.parameters(), 1.0), dl, valid_dl)
    assert len(accs) == 2 and accs[1] > 0.6


def test_fastai_learner_band_and_determinism(dls):
    a = learner_linear(10, 1.0, seed=42, device="cpu", dls=dls)
    assert a["final"] >= 0.96  # book 0.967615; measured 0.9671
    b = learner_linear(10, 1.0, seed=42, device="cpu", dls=dls)
    assert a["accs"] == b["accs"]
