"""Kernel-side helpers of `ch04_questionnaire`: run in the student's kernel (torch, the standard library and
`autograders.checks.kernel_common`, whose text is put in place of its import), bound as `ref` in
the blocks of checks declared with `given` (see `autograders/checks/spec.py`).

The training-loop items (q25 `train_epoch`, q33 `train`) are fed the chapter's `mnist_loss` from here, so a
`mnist_loss` redefined by an earlier answer cell cannot cost them anything; these harnesses build the model
and the mini-batches the student's function trains, and hand back only the trained parameters (the grader
computes the losses and the reference SGD itself)."""
import torch

from autograders.checks.kernel_common import plain  # noqa: F401  (inlined in the kernel)


def mnist_loss(predictions, targets):
    "The setup cell's loss, as in the chapter: sigmoid, then the distance from the 0/1 target, averaged."
    predictions = predictions.sigmoid()
    return torch.where(targets == 1, 1 - predictions, predictions).mean()


def batches(x, y, bs):
    "The mini-batches `(xb, yb)` of one pass, in order (a list: every epoch sees the same order)."
    return [(x[i:i + bs], y[i:i + bs]) for i in range(0, len(x), bs)]


def run_train_epoch(train_epoch, x, y, params0, bs, epochs, lr):
    "q25: a linear model `xb @ w + b` on the parameters `params0`, trained by `epochs` calls of `train_epoch`."
    params = [p.clone().requires_grad_() for p in params0]

    def model(xb):
        return xb @ params[0] + params[1]

    dl = batches(x, y, bs)
    for _ in range(epochs):
        train_epoch(model, lr, params, dl)
    return plain(params)


def mlp(sizes, params0):
    "nn.Linear layers of `sizes` [(in, out), ...] with ReLUs between them, set to the weights `params0`."
    layers = []
    for n_in, n_out in sizes:
        if layers:
            layers.append(torch.nn.ReLU())
        layers.append(torch.nn.Linear(n_in, n_out))
    model = torch.nn.Sequential(*layers)
    with torch.no_grad():
        for p, v in zip(model.parameters(), params0):
            p.copy_(v)
    return model


def run_train(train, x, y, sizes, params0, bs, epochs, lr):
    "q33: an `nn.Module` built by `mlp`, trained by one call `train(model, dl, epochs, lr)`."
    model = mlp(sizes, params0)
    train(model, batches(x, y, bs), epochs, lr)
    return plain(list(model.parameters()))
