"""Mutation variants of lab `ch04_full_mnist` (Further Research 2: all ten digits)."""
from mutants import bug, ok

# ----------------------------------------------------------------------------------------------------------
# mean_digits: [10, 28, 28], row d the mean of the images labelled d; `means` from the training images

MEAN = "mean_digits"
MEAN_DEF = "def mean_digits(x, y):\n    return torch.stack([x[y==d].mean(0) for d in range(10)])"

VARIANTS = [
    ok(MEAN, "a loop filling a preallocated tensor", replace=(MEAN_DEF, (
        "def mean_digits(x, y):\n"
        "    means = torch.zeros(10, 28, 28)\n"
        "    for digit in range(10):\n"
        "        means[digit] = x[y == digit].float().mean(dim=0)\n"
        "    return means"))),
    ok(MEAN, "a one-hot matrix product divided by the counts", replace=(MEAN_DEF, (
        "def mean_digits(x, y):\n"
        "    onehot = torch.zeros(len(y), 10)\n"
        "    onehot[torch.arange(len(y)), y] = 1.\n"
        "    sums = onehot.T @ x.view(len(x), -1)\n"
        "    return (sums / onehot.sum(0)[:, None]).view(10, 28, 28)"))),
    ok(MEAN, "index_add_ and bincount", replace=(MEAN_DEF, (
        "def mean_digits(x, y):\n"
        "    sums = x.new_zeros(10, 28, 28).index_add_(0, y, x)\n"
        "    counts = torch.bincount(y, minlength=10)\n"
        "    return sums / counts[:, None, None]"))),
    bug(MEAN, "sums instead of averaging", replace=("x[y==d].mean(0)", "x[y==d].sum(0)")),
    bug(MEAN, "range(9): the 9s are left out", replace=("for d in range(10)", "for d in range(9)")),
    bug(MEAN, "`means` computed from the validation images", replace=(
        "means = mean_digits(train_imgs, train_lbls)", "means = mean_digits(valid_imgs, valid_lbls)")),
    bug(MEAN, "a mean over every axis (one number per digit)", replace=("x[y==d].mean(0)", "x[y==d].mean()")),
    bug(MEAN, "divides by 255 again (the images are already in [0, 1])", replace=(
        "x[y==d].mean(0)", "(x[y==d]/255).mean(0)")),
]

# ----------------------------------------------------------------------------------------------------------
# predict_digit: nearest mean by the L1 mnist_distance, int64 [N], broadcasting (no Python loop over images)

PREDICT = "predict_digit"
PREDICT_DEF = "def predict_digit(x, means):\n    return mnist_distance(x[:, None], means).argmin(dim=1)"

VARIANTS += [
    ok(PREDICT, "unsqueeze written out, min(...).indices", replace=(PREDICT_DEF, (
        "def predict_digit(x, means):\n"
        "    dists = (x.unsqueeze(1) - means.unsqueeze(0)).abs().mean(dim=(2, 3))\n"
        "    return dists.min(dim=1).indices"))),
    ok(PREDICT, "a loop over the ten digits (each broadcast over all the images)", replace=(PREDICT_DEF, (
        "def predict_digit(x, means):\n"
        "    dists = torch.stack([mnist_distance(x, means[d]) for d in range(10)], dim=1)\n"
        "    return torch.argmin(dists, dim=-1)"))),
    ok(PREDICT, "means broadcast as [10, 1, 28, 28], argmin over axis 0", replace=(PREDICT_DEF, (
        "def predict_digit(x, means):\n"
        "    return mnist_distance(x, means[:, None]).argmin(0)"))),
    ok(PREDICT, "torch.cdist with p=1 over the flattened images (the L1 distance times 784)", replace=(PREDICT_DEF, (
        "def predict_digit(x, means):\n"
        "    return torch.cdist(x.flatten(1), means.flatten(1), p=1).argmin(dim=1)"))),
    bug(PREDICT, "a Python loop over the images", replace=(PREDICT_DEF, (
        "def predict_digit(x, means):\n"
        "    return torch.stack([mnist_distance(img, means).argmin() for img in x])"))),
    bug(PREDICT, "argmax: the farthest mean", replace=(".argmin(dim=1)", ".argmax(dim=1)")),
    bug(PREDICT, "RMSE (L2) instead of the chapter's L1 distance", replace=(
        "(a-b).abs().mean((-1,-2))", "((a-b)**2).mean((-1,-2)).sqrt()")),
    bug(PREDICT, "returns a Python list", replace=(".argmin(dim=1)", ".argmin(dim=1).tolist()")),
    bug(PREDICT, "argmin without an axis (one number for the whole batch)", replace=(".argmin(dim=1)", ".argmin()")),
]

# ----------------------------------------------------------------------------------------------------------
# cross_entropy: softmax and cross-entropy by hand, stable for activations around 1000

CE = "cross_entropy"

VARIANTS += [
    ok(CE, "torch.logsumexp", source=(
        "def softmax(x):\n"
        "    return torch.exp(x - torch.logsumexp(x, dim=-1, keepdim=True))\n"
        "\n"
        "def cross_entropy(preds, targets):\n"
        "    idx = torch.arange(len(preds))\n"
        "    return (torch.logsumexp(preds, dim=-1) - preds[idx, targets]).mean()\n")),
    ok(CE, "the prompt's recipe: probabilities with the max taken out, then minus the log of the target's", source=(
        "def softmax(x):\n"
        "    e = (x - x.max(dim=-1, keepdim=True).values).exp()\n"
        "    return e / e.sum(dim=-1, keepdim=True)\n"
        "\n"
        "def cross_entropy(preds, targets):\n"
        "    probs = softmax(preds)\n"
        "    return -probs[range(len(targets)), targets].log().mean()\n")),
    ok(CE, "log-probabilities times a one-hot mask (F.one_hot)", source=(
        "def softmax(x):\n"
        "    z = x - x.amax(dim=-1, keepdim=True)\n"
        "    return torch.exp(z) / torch.exp(z).sum(dim=-1, keepdim=True)\n"
        "\n"
        "def cross_entropy(preds, targets):\n"
        "    z = preds - preds.amax(dim=-1, keepdim=True)\n"
        "    log_probs = z - torch.log(torch.exp(z).sum(dim=-1, keepdim=True))\n"
        "    return -(log_probs * F.one_hot(targets, num_classes=10)).sum(dim=-1).mean()\n")),
    ok(CE, "log-probabilities with the max taken out, the targets picked with gather", source=(
        "def log_softmax(x):\n"
        "    x = x - x.max(dim=1, keepdim=True).values\n"
        "    return x - x.exp().sum(dim=1, keepdim=True).log()\n"
        "\n"
        "def softmax(x):\n"
        "    return torch.exp(log_softmax(x))\n"
        "\n"
        "def cross_entropy(preds, targets):\n"
        "    return -log_softmax(preds).gather(1, targets.unsqueeze(1)).mean()\n")),
    bug(CE, "no max subtracted: exp overflows for large activations", source=(
        "def softmax(x): return x.exp() / x.exp().sum(-1, keepdim=True)\n"
        "\n"
        "def cross_entropy(preds, targets):\n"
        "    return -softmax(preds)[range(len(targets)), targets].log().mean()\n")),
    bug(CE, "sums over the batch instead of averaging", replace=("targets].mean()", "targets].sum()")),
    bug(CE, "forgets the minus sign", replace=("return -log_softmax(preds)", "return log_softmax(preds)")),
    bug(CE, "calls F.cross_entropy instead of writing it", replace=(
        "    return -log_softmax(preds)[range(len(targets)), targets].mean()",
        "    return F.cross_entropy(preds, targets)")),
    bug(CE, "preds[:, targets]: an N x N block instead of one entry per row", replace=(
        "[range(len(targets)), targets]", "[:, targets]")),
]

# ----------------------------------------------------------------------------------------------------------
# train_linear: init_params weights then bias (std 0.01), shuffled batches of bs, xb@weights + bias, the
# student's cross_entropy, plain SGD with the gradients reset; (weights, bias, losses as floats)

TRAIN = "train_linear"
TRAIN_DEF = (
    "def train_linear(x, y, epochs, lr, bs=256):\n"
    "    weights = init_params((28*28, 10), std=0.01)\n"
    "    bias = init_params(10, std=0.01)\n"
    "    losses = []\n"
    "    for epoch in range(epochs):\n"
    "        idxs = torch.randperm(len(y))\n"
    "        for i in range(0, len(y), bs):\n"
    "            xb, yb = x[idxs[i:i+bs]], y[idxs[i:i+bs]]\n"
    "            loss = cross_entropy(xb@weights + bias, yb)\n"
    "            loss.backward()\n"
    "            for p in (weights, bias):\n"
    "                p.data -= p.grad*lr\n"
    "                p.grad = None\n"
    "            losses.append(loss.item())\n"
    "    return weights, bias, losses")

VARIANTS += [
    ok(TRAIN, "torch's DataLoader over a TensorDataset (shuffled)", replace=(TRAIN_DEF, (
        "def train_linear(x, y, epochs, lr, bs=256):\n"
        "    weights = init_params((28*28, 10), std=0.01)\n"
        "    bias = init_params(10, std=0.01)\n"
        "    dl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=bs, shuffle=True)\n"
        "    losses = []\n"
        "    for epoch in range(epochs):\n"
        "        for xb, yb in dl:\n"
        "            loss = cross_entropy(xb@weights + bias, yb)\n"
        "            loss.backward()\n"
        "            weights.data -= weights.grad*lr\n"
        "            bias.data -= bias.grad*lr\n"
        "            weights.grad.zero_()\n"
        "            bias.grad.zero_()\n"
        "            losses.append(loss.item())\n"
        "    return weights, bias, losses"))),
    ok(TRAIN, "a print of the mean loss after each epoch", replace=(
        "            losses.append(loss.item())\n",
        "            losses.append(loss.item())\n"
        "        print(f'epoch {epoch}: mean loss {sum(losses[-(len(y)//bs):]) / max(1, len(y)//bs):.4f}')\n")),
    ok(TRAIN, "randperm(...).split(bs), updates under torch.no_grad()", replace=(TRAIN_DEF, (
        "def train_linear(x, y, epochs, lr, bs=256):\n"
        "    w = init_params((28*28, 10), std=0.01)\n"
        "    b = init_params(10, std=0.01)\n"
        "    losses = []\n"
        "    for _ in range(epochs):\n"
        "        for batch in torch.randperm(len(x)).split(bs):\n"
        "            loss = cross_entropy(x[batch] @ w + b, y[batch])\n"
        "            loss.backward()\n"
        "            with torch.no_grad():\n"
        "                w -= lr * w.grad\n"
        "                b -= lr * b.grad\n"
        "            w.grad = None\n"
        "            b.grad = None\n"
        "            losses.append(float(loss))\n"
        "    return w, b, losses"))),
    bug(TRAIN, "accuracy (argmax) as the loss", replace=(
        "loss = cross_entropy(xb@weights + bias, yb)",
        "loss = ((xb@weights + bias).argmax(dim=1) == yb).float().mean()")),
    bug(TRAIN, "no shuffling: the same batches in the same order every epoch", replace=(
        "idxs = torch.randperm(len(y))", "idxs = torch.arange(len(y))")),
    bug(TRAIN, "never resets the gradients", replace=("                p.grad = None\n", "")),
    bug(TRAIN, "steps up the gradient (+= instead of -=)", replace=("p.data -= p.grad*lr", "p.data += p.grad*lr")),
    bug(TRAIN, "weights drawn with std 1 (init_params' default), not 0.01", replace=(
        "init_params((28*28, 10), std=0.01)", "init_params((28*28, 10))")),
]

# ----------------------------------------------------------------------------------------------------------
# mlp: Linear, ReLU, Linear with ten outputs, trained with cross_entropy (the student's or F.cross_entropy)

MLP = "mlp"

VARIANTS += [
    ok(MLP, "an nn.Module class with F.relu, torch.optim.SGD and F.cross_entropy, 100 hidden units", source=(
        "class MLP(nn.Module):\n"
        "    def __init__(self, n_hidden=100):\n"
        "        super().__init__()\n"
        "        self.hidden = nn.Linear(28*28, n_hidden)\n"
        "        self.out = nn.Linear(n_hidden, 10)\n"
        "    def forward(self, x):\n"
        "        return self.out(F.relu(self.hidden(x)))\n"
        "\n"
        "torch.manual_seed(0)\n"
        "mlp = MLP()\n"
        "opt = torch.optim.SGD(mlp.parameters(), lr=0.2)\n"
        "for epoch in range(5):\n"
        "    perm = torch.randperm(len(train_x))\n"
        "    for idx in perm.split(64):\n"
        "        loss = F.cross_entropy(mlp(train_x[idx]), train_lbls[idx])\n"
        "        opt.zero_grad()\n"
        "        loss.backward()\n"
        "        opt.step()\n")),
    ok(MLP, "128 hidden units, gradients reset before backward, accuracy printed once at the end", source=(
        "set_seed(1)\n"
        "mlp = nn.Sequential(nn.Linear(28*28, 128), nn.ReLU(), nn.Linear(128, 10))\n"
        "opt = SGD(mlp.parameters(), 0.2)\n"
        "n = len(train_lbls)\n"
        "for epoch in range(5):\n"
        "    order = torch.randperm(n)\n"
        "    for start in range(0, n, 64):\n"
        "        batch = order[start:start+64]\n"
        "        opt.zero_grad()\n"
        "        cross_entropy(mlp(train_x[batch]), train_lbls[batch]).backward()\n"
        "        opt.step()\n"
        "with torch.no_grad():\n"
        "    print((mlp(valid_x).argmax(1) == valid_lbls).float().mean())\n")),
    bug(MLP, "no non-linearity: two linear layers in a row", replace=(
        "nn.Linear(28*28, 64), nn.ReLU(), nn.Linear(64, 10)", "nn.Linear(28*28, 64), nn.Linear(64, 10)")),
    bug(MLP, "softmax applied twice: a Softmax layer in the model, then cross_entropy's own", replace=(
        "nn.Linear(64, 10))", "nn.Linear(64, 10), nn.Softmax(dim=1))")),
    bug(MLP, "never resets the gradients", replace=("        opt.zero_grad()\n", "")),
    bug(MLP, "makes the model but never trains it", source=(
        "set_seed(42)\n"
        "mlp = nn.Sequential(nn.Linear(28*28, 64), nn.ReLU(), nn.Linear(64, 10))\n"
        "opt = SGD(mlp.parameters(), 0.2)\n")),
]
