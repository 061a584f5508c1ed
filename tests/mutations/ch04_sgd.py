"""Variants of the SGD lab's answer cells (see tests/mutants.py).

Prompts, in short: `x2_grad` the gradient of (x**2).sum() by autograd on a copy of x (backward, .grad), x
unchanged; `f` a*t**2 + b*t + c; `mse` the mean of squared differences; `apply_step` predict, mse, backward,
params.data moved downhill by lr*grad, gradient cleared, loss printed when prn, predictions returned;
`datasets` train_x/valid_x (cat + view), labels a [n, 1] column (1 for 3s), zipped datasets, fastai
DataLoaders of 256 with every item once per pass; `init_params` randn*std requiring grad, weights (784, 1),
bias (1,); `linear1` xb@weights + bias; `mnist_loss` sigmoid then torch.where, mean; `batch_accuracy`
sigmoid > 0.5 against target 1, a float tensor; `calc_grad` model, mnist_loss, backward; `train_epoch` one pass
over the global dl, step on .data, gradients reset before the next batch; `validate_epoch` mean of
batch_accuracy over valid_dl's batches, rounded to 4 places, a Python float; `train_linear` fresh weights
(std 0.1), lr 1, 20 epochs; `basic_optim` params kept as a list, step on .data by lr*grad, zero_grad to None or
zeros, *args/**kwargs; `train_model` nn.Linear, a BasicOptim, train_epoch_opt (calc_grad, step, zero_grad),
train_model(model, epochs); `learner` DataLoaders(dl, valid_dl), Learner on a fresh nn.Linear with SGD,
mnist_loss, batch_accuracy, fit 10 at lr; `simple_net` linear, negatives to zero, linear, with w1..b2 made by
init_params; `sequential_net` nn.Sequential(784->30, ReLU, 30->1), Learner learn_net, fit 5 at 0.1.
"""
from mutants import bug, ok

X2_TAIL = "\nx2_grad(tensor(3.)), x2_grad(tensor([3.,4.,10.]))\n"
SIMPLE_NET_PARAMS = ("w1 = init_params((28*28,30))\nb1 = init_params(30)\nw2 = init_params((30,1))\nb2 = init_params(1)\n"
                     "simple_net(train_x[:4])\n")

VARIANTS = [
    # ---------------------------------------------------------------------------------------------- x2_grad
    ok("x2_grad", "detach().clone(), then backward on a named sum",
       source="def x2_grad(x):\n"
              "    x_copy = x.detach().clone().float()\n"
              "    x_copy.requires_grad_()\n"
              "    total = (x_copy**2).sum()\n"
              "    total.backward()\n"
              "    return x_copy.grad\n" + X2_TAIL),
    ok("x2_grad", "torch.tensor(..., requires_grad=True) copy and pow(2)",
       source="def x2_grad(x):\n"
              "    t = torch.tensor(x.tolist(), dtype=torch.float32, requires_grad=True)\n"
              "    t.pow(2).sum().backward()\n"
              "    return t.grad.clone()\n" + X2_TAIL),
    ok("x2_grad", "rebinds the name x to the copy, prints the gradient",
       replace=("    xt = x.clone().float().requires_grad_()\n    yt = (xt**2).sum()\n    yt.backward()\n    return xt.grad\n",
                "    x = x.clone().float().requires_grad_()\n    y = (x*x).sum()\n    y.backward()\n"
                "    print('gradient:', x.grad)\n    return x.grad\n")),
    bug("x2_grad", "calls requires_grad_() on the tensor it was given (gradients pile up: a second call gives 4x)",
        replace=("    xt = x.clone().float().requires_grad_()\n", "    xt = x.requires_grad_()\n")),
    bug("x2_grad", "the formula 2*x instead of autograd",
        replace=("    xt = x.clone().float().requires_grad_()\n    yt = (xt**2).sum()\n    yt.backward()\n    return xt.grad\n",
                 "    return 2*x\n")),
    bug("x2_grad", "no .sum(): backward on a vector fails",
        replace=("    yt = (xt**2).sum()\n", "    yt = xt**2\n")),
    bug("x2_grad", "mean instead of sum (the gradient divided by the length)",
        replace=("    yt = (xt**2).sum()\n", "    yt = (xt**2).mean()\n")),

    # ---------------------------------------------------------------------------------------------- f
    ok("f", "indexing params, t*t", replace=("    a,b,c = params\n    return a*(t**2) + (b*t) + c\n",
                                            "    return params[0]*t*t + params[1]*t + params[2]\n")),
    ok("f", "Horner's form", replace=("    return a*(t**2) + (b*t) + c\n", "    return (a*t + b)*t + c\n")),
    ok("f", "unpacked with names, pow()", replace=("    a,b,c = params\n    return a*(t**2) + (b*t) + c\n",
                                                  "    first, second, third = params\n"
                                                  "    return first*t.pow(2) + second*t + third\n")),
    bug("f", "the parameters unpacked in reverse order", replace=("    a,b,c = params\n", "    c,b,a = params\n")),
    bug("f", "no constant term c", replace=("    return a*(t**2) + (b*t) + c\n", "    return a*(t**2) + (b*t)\n")),
    bug("f", "t*2 instead of t**2", replace=("    return a*(t**2) + (b*t) + c\n", "    return a*(t*2) + (b*t) + c\n")),
    bug("f", "t^2 (bitwise xor) instead of t**2", replace=("    return a*(t**2) + (b*t) + c\n",
                                                            "    return a*t^2 + b*t + c\n")),

    # ---------------------------------------------------------------------------------------------- mse
    ok("mse", "F.mse_loss", replace=("    return ((preds-targets)**2).mean()\n", "    return F.mse_loss(preds, targets)\n")),
    ok("mse", "torch.mean of (targets - preds).pow(2)",
       replace=("    return ((preds-targets)**2).mean()\n", "    diff = targets - preds\n    return torch.mean(diff.pow(2))\n")),
    ok("mse", "sum of squares over the number of elements",
       replace=("    return ((preds-targets)**2).mean()\n", "    return ((preds-targets)**2).sum() / preds.numel()\n")),
    bug("mse", "root mean squared error (a sqrt at the end)",
        replace=("    return ((preds-targets)**2).mean()\n", "    return ((preds-targets)**2).mean().sqrt()\n")),
    bug("mse", "absolute instead of squared differences",
        replace=("    return ((preds-targets)**2).mean()\n", "    return (preds-targets).abs().mean()\n")),
    bug("mse", "the sum instead of the mean", replace=("    return ((preds-targets)**2).mean()\n",
                                                       "    return ((preds-targets)**2).sum()\n")),
    bug("mse", "the square of the mean difference", replace=("    return ((preds-targets)**2).mean()\n",
                                                              "    return ((preds-targets).mean())**2\n")),

    # ---------------------------------------------------------------------------------------------- apply_step
    ok("apply_step", "zeroes the gradient with zero_() and prints the loss tensor",
       replace=("    params.grad = None\n    if prn: print(loss.item())\n",
                "    params.grad.zero_()\n    if prn: print(loss)\n")),
    ok("apply_step", "params.data.sub_() and local names",
       replace=("    preds = f(time, params)\n    loss = mse(preds, speed)\n    loss.backward()\n"
                "    params.data -= lr * params.grad.data\n    params.grad = None\n    if prn: print(loss.item())\n"
                "    return preds\n",
                "    out = f(time, params)\n    l = mse(out, speed)\n    l.backward()\n"
                "    params.data.sub_(lr * params.grad)\n    params.grad = None\n    if prn:\n"
                "        print(f'loss {l.item():.4f}')\n    return out\n")),
    ok("apply_step", "params.data reassigned, gradient cleared before printing",
       replace=("    params.data -= lr * params.grad.data\n", "    params.data = params.data - lr * params.grad\n")),
    bug("apply_step", "sign error: moves uphill (params.data += lr * grad)",
        replace=("    params.data -= lr * params.grad.data\n", "    params.data += lr * params.grad.data\n")),
    bug("apply_step", "never clears the gradient (gradients add up over steps)",
        replace=("    params.grad = None\n", "")),
    bug("apply_step", "returns the loss instead of the predictions", replace=("    return preds\n", "    return loss\n")),
    bug("apply_step", "params -= ... on the leaf itself (autograd refuses the in-place change)",
        replace=("    params.data -= lr * params.grad.data\n", "    params -= lr * params.grad\n")),
    bug("apply_step", "params = params - lr*grad: a new local tensor, the caller's params never move",
        replace=("    params.data -= lr * params.grad.data\n    params.grad = None\n",
                 "    step = lr * params.grad\n    params.grad = None\n    params = params - step\n")),
    bug("apply_step", "forgets lr (a full gradient step)",
        replace=("    params.data -= lr * params.grad.data\n", "    params.data -= params.grad.data\n")),

    # ---------------------------------------------------------------------------------------------- datasets
    ok("datasets", "float labels made with torch.ones/zeros, reshape, [:, None]",
       source="train_x = torch.cat([stacked_threes, stacked_sevens]).reshape(-1, 784)\n"
              "train_y = torch.cat([torch.ones(len(stacked_threes)), torch.zeros(len(stacked_sevens))])[:, None]\n"
              "dset = list(zip(train_x, train_y))\n"
              "valid_x = torch.cat([valid_3_tens, valid_7_tens]).reshape(-1, 784)\n"
              "valid_y = torch.cat([torch.ones(len(valid_3_tens)), torch.zeros(len(valid_7_tens))])[:, None]\n"
              "valid_dset = list(zip(valid_x, valid_y))\n"
              "dl = DataLoader(dset, bs=256)\n"
              "valid_dl = DataLoader(valid_dset, bs=256)\n"
              "train_x.shape, train_y.shape, len(dset), len(valid_dset)\n"),
    ok("datasets", "a shuffled training DataLoader",
       replace=("dl = DataLoader(dset, batch_size=256)", "dl = DataLoader(dset, batch_size=256, shuffle=True)")),
    ok("datasets", "labels via view(-1, 1) and pairs built by a comprehension",
       source="train_x = torch.cat([stacked_threes, stacked_sevens]).view(-1, 28*28)\n"
              "train_y = tensor([1]*len(stacked_threes) + [0]*len(stacked_sevens)).view(-1, 1)\n"
              "dset = [(x, y) for x, y in zip(train_x, train_y)]\n"
              "valid_x = torch.cat([valid_3_tens, valid_7_tens]).view(-1, 28*28)\n"
              "valid_y = tensor([1]*len(valid_3_tens) + [0]*len(valid_7_tens)).view(-1, 1)\n"
              "valid_dset = [(x, y) for x, y in zip(valid_x, valid_y)]\n"
              "dl, valid_dl = DataLoader(dset, batch_size=256), DataLoader(valid_dset, batch_size=256)\n"
              "train_x.shape, train_y.shape, len(dset), len(valid_dset)\n"),
    bug("datasets", "a label list one item short (zip silently drops an image)",
        replace=("tensor([1]*len(threes) + [0]*len(sevens))", "tensor([1]*len(threes) + [0]*(len(sevens)-1))")),
    bug("datasets", "labels not a column (shape [n], no unsqueeze)",
        replace=("train_y = tensor([1]*len(threes) + [0]*len(sevens)).unsqueeze(1)",
                 "train_y = tensor([1]*len(threes) + [0]*len(sevens))")),
    bug("datasets", "labels the wrong way round (0 for 3s, 1 for 7s)",
        replace=("valid_y = tensor([1]*len(valid_3_tens) + [0]*len(valid_7_tens))",
                 "valid_y = tensor([0]*len(valid_3_tens) + [1]*len(valid_7_tens))")),
    bug("datasets", "copy-paste: valid_dl made over the training dataset",
        replace=("valid_dl = DataLoader(valid_dset, batch_size=256)", "valid_dl = DataLoader(dset, batch_size=256)")),
    bug("datasets", "images concatenated 7s first while the labels put 3s first",
        replace=("train_x = torch.cat([stacked_threes, stacked_sevens])", "train_x = torch.cat([stacked_sevens, stacked_threes])")),

    # ---------------------------------------------------------------------------------------------- init_params
    ok("init_params", "randn().mul(std) and shapes written as tuples",
       replace=("    return (torch.randn(size)*std).requires_grad_()\n", "    return torch.randn(size).mul(std).requires_grad_()\n")),
    ok("init_params", "requires_grad = True set on a named tensor",
       replace=("    return (torch.randn(size)*std).requires_grad_()\n",
                "    t = torch.randn(size) * std\n    t.requires_grad = True\n    return t\n")),
    ok("init_params", "nn.Parameter", replace=("    return (torch.randn(size)*std).requires_grad_()\n",
                                              "    return nn.Parameter(torch.randn(size) * std)\n")),
    bug("init_params", "ignores std", replace=("    return (torch.randn(size)*std).requires_grad_()\n",
                                              "    return torch.randn(size).requires_grad_()\n")),
    bug("init_params", "requires_grad_() before multiplying by std (not a leaf: .grad stays None)",
        replace=("    return (torch.randn(size)*std).requires_grad_()\n", "    return torch.randn(size).requires_grad_()*std\n")),
    bug("init_params", "uniform torch.rand instead of normal randn",
        replace=("    return (torch.randn(size)*std).requires_grad_()\n", "    return (torch.rand(size)*std).requires_grad_()\n")),
    bug("init_params", "weights made with shape (784,) instead of (784, 1)",
        replace=("weights = init_params((28*28,1))", "weights = init_params(28*28)")),

    # ---------------------------------------------------------------------------------------------- linear1
    ok("linear1", "torch.matmul", replace=("    return xb@weights + bias\n", "    return torch.matmul(xb, weights) + bias\n")),
    ok("linear1", "bias first, then xb.matmul", replace=("    return xb@weights + bias\n", "    return bias + xb.matmul(weights)\n")),
    bug("linear1", "forgets the bias", replace=("    return xb@weights + bias\n", "    return xb@weights\n")),
    bug("linear1", "weights@xb (the product the wrong way round)",
        replace=("    return xb@weights + bias\n", "    return weights@xb + bias\n")),
    bug("linear1", "element-wise product instead of the matrix product",
        replace=("    return xb@weights + bias\n", "    return xb*weights.T + bias\n")),
    bug("linear1", "applies the sigmoid inside the model", replace=("    return xb@weights + bias\n",
                                                                     "    return (xb@weights + bias).sigmoid()\n")),

    # ---------------------------------------------------------------------------------------------- mnist_loss
    ok("mnist_loss", "torch.sigmoid into a new name", replace=("    predictions = predictions.sigmoid()\n"
                                                               "    return torch.where(targets==1, 1-predictions, predictions).mean()\n",
                                                               "    probs = torch.sigmoid(predictions)\n"
                                                               "    return torch.where(targets == 1, 1 - probs, probs).mean()\n")),
    ok("mnist_loss", "arithmetic instead of torch.where",
       replace=("    return torch.where(targets==1, 1-predictions, predictions).mean()\n",
                "    return (targets*(1-predictions) + (1-targets)*predictions).mean()\n")),
    ok("mnist_loss", "the sigmoid written out with exp",
       replace=("    predictions = predictions.sigmoid()\n", "    predictions = 1/(1+torch.exp(-predictions))\n")),
    bug("mnist_loss", "no sigmoid", replace=("    predictions = predictions.sigmoid()\n", "")),
    bug("mnist_loss", "accuracy as the loss (rounded sigmoid: zero gradient)",
        replace=("    predictions = predictions.sigmoid()\n", "    predictions = predictions.sigmoid().round()\n")),
    bug("mnist_loss", "the two branches of torch.where swapped",
        replace=("torch.where(targets==1, 1-predictions, predictions)", "torch.where(targets==1, predictions, 1-predictions)")),
    bug("mnist_loss", "the sum instead of the mean", replace=("torch.where(targets==1, 1-predictions, predictions).mean()",
                                                              "torch.where(targets==1, 1-predictions, predictions).sum()")),
    bug("mnist_loss", "sigmoid applied after torch.where",
        replace=("    predictions = predictions.sigmoid()\n    return torch.where(targets==1, 1-predictions, predictions).mean()\n",
                 "    return torch.where(targets==1, 1-predictions, predictions).sigmoid().mean()\n")),

    # ---------------------------------------------------------------------------------------------- batch_accuracy
    ok("batch_accuracy", "xb > 0 (the same test as sigmoid > 0.5)",
       replace=("    preds = xb.sigmoid()\n    correct = (preds>0.5) == yb\n", "    correct = (xb > 0) == yb\n")),
    ok("batch_accuracy", "torch.sigmoid, long predictions compared with the targets, sum over the count",
       replace=("    preds = xb.sigmoid()\n    correct = (preds>0.5) == yb\n    return correct.float().mean()\n",
                "    predicted = (torch.sigmoid(xb) > 0.5).long()\n    return (predicted == yb).sum() / len(yb)\n")),
    ok("batch_accuracy", "targets compared as booleans",
       replace=("    correct = (preds>0.5) == yb\n", "    correct = (preds > 0.5) == (yb == 1)\n")),
    bug("batch_accuracy", "raw scores thresholded at 0.5, no sigmoid",
        replace=("    preds = xb.sigmoid()\n", "    preds = xb\n")),
    bug("batch_accuracy", "the number of correct items instead of the fraction",
        replace=("    return correct.float().mean()\n", "    return correct.float().sum()\n")),
    bug("batch_accuracy", "a Python float instead of a float tensor (.item())",
        replace=("    return correct.float().mean()\n", "    return correct.float().mean().item()\n")),
    bug("batch_accuracy", "predictions flattened: [n] against [n, 1] broadcasts to [n, n]",
        replace=("    correct = (preds>0.5) == yb\n", "    correct = (preds>0.5).view(-1) == yb\n")),

    # ---------------------------------------------------------------------------------------------- calc_grad
    ok("calc_grad", "one line", replace=("    preds = model(xb)\n    loss = mnist_loss(preds, yb)\n    loss.backward()\n",
                                         "    mnist_loss(model(xb), yb).backward()\n")),
    ok("calc_grad", "returns the loss, other names",
       replace=("    preds = model(xb)\n    loss = mnist_loss(preds, yb)\n    loss.backward()\n",
                "    out = model(xb)\n    l = mnist_loss(out, yb)\n    l.backward()\n    return l\n")),
    bug("calc_grad", "no backward() (the parameters get no gradient)", replace=("    loss.backward()\n", "    return loss\n")),
    bug("calc_grad", "the arguments of mnist_loss swapped", replace=("mnist_loss(preds, yb)", "mnist_loss(yb, preds)")),
    bug("calc_grad", "sigmoid before mnist_loss (applied twice)", replace=("    preds = model(xb)\n",
                                                                            "    preds = model(xb).sigmoid()\n")),
    bug("calc_grad", "mse instead of mnist_loss", replace=("mnist_loss(preds, yb)", "mse(preds, yb)")),

    # ---------------------------------------------------------------------------------------------- train_epoch
    ok("train_epoch", "gradients set to None, p.data.sub_()",
       replace=("            p.data -= p.grad*lr\n            p.grad.zero_()\n",
                "            p.data.sub_(lr * p.grad)\n            p.grad = None\n")),
    ok("train_epoch", "gradients cleared before each batch instead of after it",
       replace=("    for xb,yb in dl:\n        calc_grad(xb, yb, model)\n        for p in params:\n"
                "            p.data -= p.grad*lr\n            p.grad.zero_()\n",
                "    for xb, yb in dl:\n        for p in params:\n            p.grad = None\n"
                "        calc_grad(xb, yb, model)\n        for p in params:\n            p.data -= lr * p.grad\n")),
    ok("train_epoch", "enumerate, p.data reassigned, grad.data.zero_()",
       replace=("    for xb,yb in dl:\n        calc_grad(xb, yb, model)\n        for p in params:\n"
                "            p.data -= p.grad*lr\n            p.grad.zero_()\n",
                "    for i, (xb, yb) in enumerate(dl):\n        calc_grad(xb, yb, model)\n        for p in params:\n"
                "            p.data = p.data - lr * p.grad.data\n            p.grad.data.zero_()\n")),
    bug("train_epoch", "never zeroes the gradients", replace=("            p.grad.zero_()\n", "")),
    bug("train_epoch", "sign error: p.data += p.grad*lr", replace=("p.data -= p.grad*lr", "p.data += p.grad*lr")),
    bug("train_epoch", "forgets lr", replace=("p.data -= p.grad*lr", "p.data -= p.grad")),
    bug("train_epoch", "loops over valid_dl instead of dl", replace=("    for xb,yb in dl:\n", "    for xb,yb in valid_dl:\n")),
    bug("train_epoch", "the update indented out of the batch loop (one step per epoch)",
        replace=("        for p in params:\n            p.data -= p.grad*lr\n            p.grad.zero_()\n",
                 "    for p in params:\n        p.data -= p.grad*lr\n        p.grad.zero_()\n")),

    # ---------------------------------------------------------------------------------------------- validate_epoch
    ok("validate_epoch", "Python floats averaged by hand",
       replace=("    accs = [batch_accuracy(model(xb), yb) for xb,yb in valid_dl]\n"
                "    return round(torch.stack(accs).mean().item(), 4)\n",
                "    accs = []\n    for xb, yb in valid_dl:\n        accs.append(batch_accuracy(model(xb), yb).item())\n"
                "    return round(sum(accs) / len(accs), 4)\n")),
    ok("validate_epoch", "under torch.no_grad(), float() of the mean",
       replace=("    accs = [batch_accuracy(model(xb), yb) for xb,yb in valid_dl]\n"
                "    return round(torch.stack(accs).mean().item(), 4)\n",
                "    with torch.no_grad():\n        accs = torch.stack([batch_accuracy(model(xb), yb) for xb, yb in valid_dl])\n"
                "    return round(float(accs.mean()), 4)\n")),
    bug("validate_epoch", "not rounded", replace=("    return round(torch.stack(accs).mean().item(), 4)\n",
                                                  "    return torch.stack(accs).mean().item()\n")),
    bug("validate_epoch", "returns a tensor rounded with .round(decimals=4)",
        replace=("    return round(torch.stack(accs).mean().item(), 4)\n", "    return torch.stack(accs).mean().round(decimals=4)\n")),
    bug("validate_epoch", "the fraction of correct items over all batches, not the mean of batch accuracies",
        replace=("    accs = [batch_accuracy(model(xb), yb) for xb,yb in valid_dl]\n"
                 "    return round(torch.stack(accs).mean().item(), 4)\n",
                 "    correct, total = 0., 0\n    for xb, yb in valid_dl:\n"
                 "        correct += batch_accuracy(model(xb), yb).item() * len(xb)\n        total += len(xb)\n"
                 "    return round(correct / total, 4)\n")),
    bug("validate_epoch", "iterates over dl instead of valid_dl", replace=("for xb,yb in valid_dl]", "for xb,yb in dl]")),
    bug("validate_epoch", "sigmoid applied before batch_accuracy (twice)",
        replace=("batch_accuracy(model(xb), yb)", "batch_accuracy(model(xb).sigmoid(), yb)")),

    # ---------------------------------------------------------------------------------------------- train_linear
    ok("train_linear", "a tuple with parentheses, f-string prints, shapes as tuples",
       source="weights = init_params((784, 1), std=0.1)\n"
              "bias = init_params((1,), std=0.1)\n"
              "lr = 1.0\n"
              "params = (weights, bias)\n"
              "for epoch in range(20):\n"
              "    train_epoch(linear1, lr, params)\n"
              "    print(f'epoch {epoch}: {validate_epoch(linear1)}')\n"),
    ok("train_linear", "integer lr and accuracies collected as well as printed",
       source="weights = init_params((28*28,1), 0.1)\n"
              "bias = init_params(1, 0.1)\n"
              "lr = 1\n"
              "params = weights, bias\n"
              "accs = []\n"
              "for _ in range(20):\n"
              "    train_epoch(linear1, lr, params)\n"
              "    accs.append(validate_epoch(linear1))\n"
              "    print(accs[-1], end=' ')\n"),
    bug("train_linear", "lr left at the roller coaster's 1e-5", replace=("lr = 1.\n", "")),
    bug("train_linear", "std applied outside init_params (weights are not leaves: no gradient)",
        replace=("weights = init_params((28*28,1), std=0.1)\nbias = init_params(1, std=0.1)\n",
                 "weights = init_params((28*28,1))*0.1\nbias = init_params(1)*0.1\n")),
    bug("train_linear", "trains a fresh tuple of tensors, not weights and bias",
        replace=("params = weights,bias\n", "params = init_params((28*28,1), std=0.1), init_params(1, std=0.1)\n")),

    # ---------------------------------------------------------------------------------------------- basic_optim
    ok("basic_optim", "zero_grad zeroes gradients that exist, sub_() in step",
       source="class BasicOptim:\n"
              "    def __init__(self, params, lr):\n"
              "        self.params = [p for p in params]\n"
              "        self.lr = lr\n\n"
              "    def step(self, *args, **kwargs):\n"
              "        for p in self.params:\n"
              "            p.data.sub_(self.lr * p.grad.data)\n\n"
              "    def zero_grad(self, *args, **kwargs):\n"
              "        for p in self.params:\n"
              "            if p.grad is not None:\n"
              "                p.grad.zero_()\n"),
    ok("basic_optim", "torch.no_grad() updates on .data, gradients replaced by zeros",
       source="class BasicOptim:\n"
              "    def __init__(self, params, lr=0.1):\n"
              "        self.params, self.lr = list(params), lr\n"
              "    def step(self, *args, **kwargs):\n"
              "        with torch.no_grad():\n"
              "            for p in self.params:\n"
              "                p.data = p.data - self.lr * p.grad\n"
              "    def zero_grad(self, *args, **kwargs):\n"
              "        for p in self.params:\n"
              "            p.grad = torch.zeros_like(p)\n"),
    bug("basic_optim", "zero_grad calls p.grad.zero_() and crashes when a gradient is None",
        replace=("for p in self.params: p.grad = None", "for p in self.params: p.grad.zero_()")),
    bug("basic_optim", "sign error in step", replace=("p.data -= p.grad.data * self.lr", "p.data += p.grad.data * self.lr")),
    bug("basic_optim", "keeps the generator it was given (a second step moves nothing)",
        replace=("self.params,self.lr = list(params),lr", "self.params,self.lr = params,lr")),
    bug("basic_optim", "zero_grad does nothing", replace=("for p in self.params: p.grad = None", "pass")),
    bug("basic_optim", "step reads the global lr instead of self.lr",
        replace=("p.data -= p.grad.data * self.lr", "p.data -= p.grad.data * lr")),
    bug("basic_optim", "step and zero_grad take no extra arguments",
        replace=("    def step(self, *args, **kwargs):\n", "    def step(self):\n")),

    # ---------------------------------------------------------------------------------------------- train_model
    ok("train_model", "784 written out, a list of parameters, f-string prints",
       source="linear_model = nn.Linear(784, 1)\n"
              "opt = BasicOptim(list(linear_model.parameters()), lr)\n\n"
              "def train_epoch_opt(model):\n"
              "    for xb, yb in dl:\n"
              "        calc_grad(xb, yb, model)\n"
              "        opt.step()\n"
              "        opt.zero_grad()\n\n"
              "def train_model(model, epochs):\n"
              "    for epoch in range(epochs):\n"
              "        train_epoch_opt(model)\n"
              "        print(f'{validate_epoch(model):.4f}', end=' ')\n\n"
              "train_model(linear_model, 20)\n"),
    ok("train_model", "train_model also returns the accuracies",
       replace=("def train_model(model, epochs):\n    for i in range(epochs):\n        train_epoch_opt(model)\n"
                "        print(validate_epoch(model), end=' ')\n",
                "def train_model(model, epochs):\n    accs = []\n    for i in range(epochs):\n        train_epoch_opt(model)\n"
                "        accs.append(validate_epoch(model))\n        print(accs[-1], end=' ')\n    return accs\n")),
    bug("train_model", "train_epoch_opt never calls zero_grad",
        replace=("        opt.step()\n        opt.zero_grad()\n", "        opt.step()\n")),
    bug("train_model", "train_epoch_opt computes the gradients of linear1, not of the model",
        replace=("        calc_grad(xb, yb, model)\n", "        calc_grad(xb, yb, linear1)\n")),
    bug("train_model", "train_model ignores epochs (always 20)",
        replace=("    for i in range(epochs):\n", "    for i in range(20):\n")),
    bug("train_model", "the optimizer made over a different nn.Linear",
        replace=("opt = BasicOptim(linear_model.parameters(), lr)", "opt = BasicOptim(nn.Linear(28*28,1).parameters(), lr)")),

    # ---------------------------------------------------------------------------------------------- learner
    ok("learner", "positional lr, metrics as a list, the model in its own name",
       source="dls = DataLoaders(dl, valid_dl)\n"
              "model = nn.Linear(784, 1)\n"
              "learn = Learner(dls, model, loss_func=mnist_loss, opt_func=SGD, metrics=[batch_accuracy])\n"
              "learn.fit(10, lr)\n"),
    ok("learner", "lr written as 1.0", replace=("learn.fit(10, lr=lr)", "learn.fit(10, 1.0)")),
    ok("learner", "fit with keyword arguments", replace=("learn.fit(10, lr=lr)", "learn.fit(n_epoch=10, lr=lr)")),
    bug("learner", "no opt_func (fastai's default Adam instead of SGD)",
        replace=("opt_func=SGD,\n                loss_func", "loss_func")),
    bug("learner", "loss and metric swapped", replace=("loss_func=mnist_loss, metrics=batch_accuracy",
                                                       "loss_func=batch_accuracy, metrics=mnist_loss")),
    bug("learner", "fits 1 epoch instead of 10", replace=("learn.fit(10, lr=lr)", "learn.fit(1, lr=lr)")),
    bug("learner", "validates on the training DataLoader", replace=("dls = DataLoaders(dl, valid_dl)", "dls = DataLoaders(dl, dl)")),
    bug("learner", "reuses the already trained linear_model instead of a fresh nn.Linear",
        replace=("learn = Learner(dls, nn.Linear(28*28,1), opt_func=SGD,", "learn = Learner(dls, linear_model, opt_func=SGD,")),

    # ---------------------------------------------------------------------------------------------- simple_net
    ok("simple_net", "clamp(min=0) and shapes as tuples",
       source="def simple_net(xb):\n"
              "    hidden = xb@w1 + b1\n"
              "    hidden = hidden.clamp(min=0)\n"
              "    return hidden@w2 + b2\n\n"
              "w1 = init_params((784, 30))\nb1 = init_params((30,))\nw2 = init_params((30, 1))\nb2 = init_params((1,))\n"
              "simple_net(train_x[:4])\n"),
    ok("simple_net", "one line with F.relu", source="def simple_net(xb):\n    return F.relu(xb@w1 + b1)@w2 + b2\n\n"
                                                     + SIMPLE_NET_PARAMS),
    ok("simple_net", "torch.maximum with zeros", replace=("    res = res.max(tensor(0.0))\n",
                                                          "    res = torch.maximum(res, torch.zeros_like(res))\n")),
    bug("simple_net", "no nonlinearity between the layers", replace=("    res = res.max(tensor(0.0))\n", "")),
    bug("simple_net", "sigmoid instead of replacing negatives by zero",
        replace=("    res = res.max(tensor(0.0))\n", "    res = res.sigmoid()\n")),
    bug("simple_net", "res.max(0): a (values, indices) pair, not a ReLU",
        replace=("    res = res.max(tensor(0.0))\n", "    res = res.max(0)\n")),
    bug("simple_net", "the ReLU after the second layer instead of between the layers",
        replace=("    res = res.max(tensor(0.0))\n    res = res@w2 + b2\n", "    res = res@w2 + b2\n    res = res.max(tensor(0.0))\n")),
    bug("simple_net", "w1 made as (30, 784) and transposed in the net",
        source="def simple_net(xb):\n    res = xb@w1.T + b1\n    res = res.max(tensor(0.0))\n    return res@w2 + b2\n\n"
               "w1 = init_params((30,28*28))\nb1 = init_params(30)\nw2 = init_params((30,1))\nb2 = init_params(1)\n"
               "simple_net(train_x[:4])\n"),

    # ---------------------------------------------------------------------------------------------- sequential_net
    ok("sequential_net", "784 written out, metrics as a list, fit with lr=",
       source="seq_net = nn.Sequential(nn.Linear(784, 30), nn.ReLU(), nn.Linear(30, 1))\n"
              "learn_net = Learner(dls, seq_net, opt_func=SGD, loss_func=mnist_loss, metrics=[batch_accuracy])\n"
              "learn_net.fit(5, lr=0.1)\n"),
    ok("sequential_net", "ReLU(inplace=True)",
       replace=("    nn.ReLU(),\n", "    nn.ReLU(inplace=True),\n")),
    ok("sequential_net", "a new DataLoaders of the same dl and valid_dl",
       replace=("learn_net = Learner(dls, seq_net,", "learn_net = Learner(DataLoaders(dl, valid_dl), seq_net,")),
    bug("sequential_net", "no ReLU between the linear layers", replace=("    nn.ReLU(),\n", "")),
    bug("sequential_net", "F.relu (a function, not a module) inside nn.Sequential", replace=("    nn.ReLU(),\n", "    F.relu,\n")),
    bug("sequential_net", "fit at the linear model's lr (1.0) instead of 0.1",
        replace=("learn_net.fit(5, 0.1)", "learn_net.fit(5, lr)")),
    bug("sequential_net", "a sigmoid instead of the ReLU", replace=("    nn.ReLU(),\n", "    nn.Sigmoid(),\n")),
    bug("sequential_net", "learn_net trains with fastai's default optimizer (no opt_func)",
        replace=("learn_net = Learner(dls, seq_net, opt_func=SGD,\n", "learn_net = Learner(dls, seq_net,\n")),
]
