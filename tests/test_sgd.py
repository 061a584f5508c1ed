"SGD by hand: gradients via backward, and the quadratic fit reproducing the book's printed losses."
import pytest
import torch
import torch.nn.functional as F

from reference.sgd import (BOOK_GRAD, BOOK_LOSSES, BOOK_PARAMS, apply_step, f, fit_quadratic, gradient_of_f,
                           make_speed, mse, reproduce_rows)


def test_gradient_of_x_squared_at_3():
    assert gradient_of_f(3.0).item() == 6.0


def test_gradient_of_sum_of_squares():
    assert gradient_of_f([3.0, 4.0, 10.0]).tolist() == [6.0, 8.0, 20.0]


def test_gradient_is_2x_on_random_inputs():
    x = torch.randn(50, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(gradient_of_f(x.tolist()), 2 * x)


def test_quadratic_f():
    t, params = torch.arange(0, 20).float(), torch.tensor([2.0, -3.0, 0.5])
    assert torch.equal(f(t, params), 2 * t**2 - 3 * t + 0.5)
    assert torch.equal(f(t), t**2)


def test_mse_matches_torch():
    g = torch.Generator().manual_seed(2)
    a, b = torch.randn(20, generator=g), torch.randn(20, generator=g)
    assert torch.allclose(mse(a, b), F.mse_loss(a, b))


def test_apply_step_moves_params_by_lr_times_the_hand_derived_gradient():
    time, speed = make_speed(seed=3)
    params = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    before = params.detach().clone()
    a, b, c = before
    preds = a * time**2 + b * time + c
    # d mse / d(a,b,c) = mean(2 (preds - speed) * (t^2, t, 1))
    grad = torch.stack([(2 * (preds - speed) * time**2).mean(), (2 * (preds - speed) * time).mean(),
                        (2 * (preds - speed)).mean()])
    loss = apply_step(params, speed, time, lr=1e-5)
    assert loss == pytest.approx(((preds - speed) ** 2).mean().item(), rel=1e-6)
    assert torch.allclose(params.detach(), before - 1e-5 * grad, rtol=1e-6, atol=1e-9)
    assert params.grad is None


def test_fit_quadratic_reproduces_the_book():
    fit = fit_quadratic()  # seed 42: the book's speed and params
    assert [round(v, 4) for v in fit["orig_params"].tolist()] == BOOK_PARAMS
    assert torch.allclose(fit["first_grad"].double(), torch.tensor(BOOK_GRAD, dtype=torch.float64), rtol=1e-5)
    assert torch.allclose(torch.tensor(fit["losses"], dtype=torch.float64),
                          torch.tensor(BOOK_LOSSES, dtype=torch.float64), rtol=1e-5, atol=0)
    assert all(b < a for a, b in zip(fit["losses"], fit["losses"][1:]))


def test_same_seed_same_numbers_other_seed_other_numbers():
    assert fit_quadratic(5, seed=7)["losses"] == fit_quadratic(5, seed=7)["losses"]
    assert fit_quadratic(5, seed=7)["losses"] != fit_quadratic(5, seed=8)["losses"]


def test_reproduce_rows_all_pass():
    rows = reproduce_rows()
    assert len(rows) == 5 and all(r["passed"] for r in rows), rows
