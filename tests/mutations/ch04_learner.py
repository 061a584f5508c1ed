"""Mutation variants of lab `ch04_learner` (Further Research 1: the student's own Learner, callbacks, Recorder)."""
from mutants import bug, ok

# ----------------------------------------------------------------------------------------------------------
# validate_epoch: the metric over every item (each batch weighted by its size), a float, no gradients

VALIDATE_EPOCH = "validate_epoch"
VE_LOOP = "            total += float(metric(model(xb), yb)) * len(yb)\n            count += len(yb)\n"

VARIANTS = [
    ok(VALIDATE_EPOCH, "a list of (sum, size) pairs, shape[0] for the batch size, .item() at the end", source=(
        "def validate_epoch(model, dl, metric):\n"
        "    with torch.no_grad():\n"
        "        parts = [(metric(model(xb), yb) * xb.shape[0], xb.shape[0]) for xb, yb in dl]\n"
        "    total = sum(s for s, _ in parts)\n"
        "    n_items = sum(n for _, n in parts)\n"
        "    return (total / n_items).item()\n")),
    ok(VALIDATE_EPOCH, "a @torch.no_grad() decorator and a dot product of the batch figures with the sizes", source=(
        "@torch.no_grad()\n"
        "def validate_epoch(model, dl, metric):\n"
        "    values, sizes = [], []\n"
        "    for xb, yb in dl:\n"
        "        values.append(metric(model(xb), yb).item())\n"
        "        sizes.append(len(xb))\n"
        "    values, sizes = torch.tensor(values), torch.tensor(sizes, dtype=torch.float)\n"
        "    return float(values @ sizes / sizes.sum())\n")),
    ok(VALIDATE_EPOCH, "model.eval() first and a running weighted sum under `with torch.inference_mode()`", source=(
        "def validate_epoch(model, dl, metric):\n"
        "    model.eval()\n"
        "    weighted, n = 0.0, 0\n"
        "    with torch.inference_mode():\n"
        "        for batch in dl:\n"
        "            xb, yb = batch\n"
        "            size = yb.shape[0]\n"
        "            weighted = weighted + metric(model(xb), yb).item() * size\n"
        "            n = n + size\n"
        "    model.train()\n"
        "    return weighted / n\n")),
    bug(VALIDATE_EPOCH, "the chapter's plain mean of the per-batch figures", source=(
        "def validate_epoch(model, dl, metric):\n"
        "    accs = [metric(model(xb), yb) for xb,yb in dl]\n"
        "    return round(torch.stack(accs).mean().item(), 4)\n")),
    bug(VALIDATE_EPOCH, "returns a tensor, not a Python float", replace=(
        VE_LOOP, "            total += metric(model(xb), yb) * len(yb)\n            count += len(yb)\n")),
    bug(VALIDATE_EPOCH, "tracks gradients (no torch.no_grad())", source=(
        "def validate_epoch(model, dl, metric):\n"
        "    total, count = 0., 0\n"
        "    for xb, yb in dl:\n"
        "        total += float(metric(model(xb), yb)) * len(yb)\n"
        "        count += len(yb)\n"
        "    return total / count\n")),
    bug(VALIDATE_EPOCH, "counts batches instead of items in the denominator", replace=(
        "            count += len(yb)\n", "            count += 1\n")),
]

# ----------------------------------------------------------------------------------------------------------
# learner: the interface, the six events in order (training batches only), metric_values before after_epoch

LEARNER = "learner"
METRICS_LINE = "        self.metric_values = [validate_epoch(self.model, self.dls.valid, m) for m in self.metrics]\n"

VARIANTS += [
    ok(LEARNER, "one attribute per line, a `fire` method with hasattr, an explicit epoch loop in fit", source=(
        "class Learner:\n"
        "    def __init__(self, dls, model, loss_func, opt_func, lr, cbs=(), metrics=()):\n"
        "        self.dls = dls\n"
        "        self.model = model\n"
        "        self.loss_func = loss_func\n"
        "        self.opt_func = opt_func\n"
        "        self.lr = lr\n"
        "        self.cbs = cbs\n"
        "        self.metrics = metrics\n"
        "\n"
        "    def fire(self, event):\n"
        "        for cb in self.cbs:\n"
        "            if hasattr(cb, event):\n"
        "                getattr(cb, event)(self)\n"
        "\n"
        "    def one_batch(self, xb, yb):\n"
        "        self.xb, self.yb = xb, yb\n"
        "        self.fire('before_batch')\n"
        "        self.preds = self.model(self.xb)\n"
        "        self.loss = self.loss_func(self.preds, self.yb)\n"
        "        self.loss.backward()\n"
        "        self.opt.step()\n"
        "        self.opt.zero_grad()\n"
        "        self.fire('after_batch')\n"
        "\n"
        "    def fit(self, n_epoch):\n"
        "        self.opt = self.opt_func(self.model.parameters(), self.lr)\n"
        "        self.fire('before_fit')\n"
        "        for epoch in range(n_epoch):\n"
        "            self.epoch = epoch\n"
        "            self.fire('before_epoch')\n"
        "            for xb, yb in self.dls.train:\n"
        "                self.one_batch(xb, yb)\n"
        "            self.metric_values = []\n"
        "            for m in self.metrics:\n"
        "                self.metric_values.append(validate_epoch(self.model, self.dls.valid, m))\n"
        "            self.fire('after_epoch')\n"
        "        self.fire('after_fit')\n")),
    ok(LEARNER, "callbacks looked up with try/except AttributeError", replace=(
        "            method = getattr(cb, name, None)\n            if method is not None: method(self)\n",
        "            try:\n                method = getattr(cb, name)\n"
        "            except AttributeError:\n                continue\n            method(self)\n")),
    ok(LEARNER, "metric_values with list(map(...)) and a progress print after each epoch", replace=(
        METRICS_LINE,
        "        self.metric_values = list(map(lambda m: validate_epoch(self.model, self.dls.valid, m),\n"
        "                                      self.metrics))\n"
        "        print(f'epoch {self.epoch}:', [round(v, 4) for v in self.metric_values])\n")),
    bug(LEARNER, "never calls opt.step()", replace=("        self.opt.step()\n", "")),
    bug(LEARNER, "never resets the gradients (no opt.zero_grad())", replace=("        self.opt.zero_grad()\n", "")),
    bug(LEARNER, "fires after_epoch before metric_values is set", replace=(
        METRICS_LINE + "        self('after_epoch')\n", "        self('after_epoch')\n" + METRICS_LINE)),
    bug(LEARNER, "getattr without a default: breaks on a callback that lacks the event", replace=(
        "            method = getattr(cb, name, None)\n", "            method = getattr(cb, name)\n")),
    bug(LEARNER, "runs the validation batches through one_batch too (steps on the validation set)", replace=(
        "        for xb, yb in self.dls.train: self.one_batch(xb, yb)\n",
        "        for xb, yb in self.dls.train: self.one_batch(xb, yb)\n"
        "        for xb, yb in self.dls.valid: self.one_batch(xb, yb)   # the validation loss\n")),
]

# ----------------------------------------------------------------------------------------------------------
# recorder: fresh lists in before_fit, a float per training batch, a copy of metric_values per epoch

RECORDER = "recorder"

VARIANTS += [
    ok(RECORDER, "float(learn.loss), a list copy with [*...], lists also made in __init__", source=(
        "class Recorder:\n"
        "    def __init__(self):\n"
        "        self.losses, self.epoch_metrics = [], []\n"
        "\n"
        "    def before_fit(self, learn):\n"
        "        self.losses = []\n"
        "        self.epoch_metrics = []\n"
        "\n"
        "    def after_batch(self, learn):\n"
        "        self.losses.append(float(learn.loss))\n"
        "\n"
        "    def after_epoch(self, learn):\n"
        "        self.epoch_metrics.append([*learn.metric_values])\n")),
    ok(RECORDER, "loss.detach().item() and copy.copy of the metric values", source=(
        "import copy\n"
        "\n"
        "class Recorder:\n"
        "    def before_fit(self, learn):\n"
        "        self.losses = list()\n"
        "        self.epoch_metrics = list()\n"
        "    def after_batch(self, learn):\n"
        "        loss = learn.loss.detach().item()\n"
        "        self.losses.append(loss)\n"
        "    def after_epoch(self, learn):\n"
        "        self.epoch_metrics.append(copy.copy(learn.metric_values))\n")),
    bug(RECORDER, "keeps the loss tensor (no .item())", replace=(
        "self.losses.append(learn.loss.item())", "self.losses.append(learn.loss)")),
    bug(RECORDER, "appends learn.metric_values itself, not a copy", replace=(
        "self.epoch_metrics.append(list(learn.metric_values))", "self.epoch_metrics.append(learn.metric_values)")),
    bug(RECORDER, "makes the lists once in __init__: a second fit does not start afresh", replace=(
        "    def before_fit(self, learn): self.losses, self.epoch_metrics = [], []\n",
        "    def __init__(self): self.losses, self.epoch_metrics = [], []\n")),
    bug(RECORDER, "extends epoch_metrics with the values (one flat list) instead of appending a list", replace=(
        "self.epoch_metrics.append(list(learn.metric_values))", "self.epoch_metrics.extend(learn.metric_values)")),
]

# ----------------------------------------------------------------------------------------------------------
# train_sample: a Learner on dls with the chapter's model, mnist_loss, BasicOptim, a Recorder, batch_accuracy;
# fitted; the recorded losses plotted

TRAIN = "train_sample"

VARIANTS += [
    ok(TRAIN, "keyword arguments, 4 epochs, the Recorder kept in a variable, plotted against batch numbers", source=(
        "set_seed(0)\n"
        "recorder = Recorder()\n"
        "learn = Learner(dls=dls, model=nn.Linear(28*28, 1), loss_func=mnist_loss, opt_func=BasicOptim, lr=1.0,\n"
        "                cbs=[recorder], metrics=[batch_accuracy])\n"
        "learn.fit(4)\n"
        "print('validation accuracy:', recorder.epoch_metrics[-1][0])\n"
        "plt.plot(range(len(recorder.losses)), recorder.losses)\n"
        "plt.title('training loss per batch');\n")),
    ok(TRAIN, "simple_net (784-30-1 with a ReLU) at lr 1.0", source=(
        "simple_net = nn.Sequential(\n"
        "    nn.Linear(28*28, 30),\n"
        "    nn.ReLU(),\n"
        "    nn.Linear(30, 1)\n"
        ")\n"
        "learn = Learner(dls, simple_net, mnist_loss, BasicOptim, 1.0, cbs=[Recorder()], metrics=[batch_accuracy])\n"
        "learn.fit(5)\n"
        "rec = [cb for cb in learn.cbs if isinstance(cb, Recorder)][0]\n"
        "for epoch, values in enumerate(rec.epoch_metrics): print(epoch, values)\n"
        "fig, ax = plt.subplots()\n"
        "ax.plot(rec.losses)\n"
        "ax.set_xlabel('batch'); ax.set_ylabel('loss');\n")),
    bug(TRAIN, "batch_accuracy as the loss (it has no gradient)", replace=(
        "mnist_loss, BasicOptim", "batch_accuracy, BasicOptim")),
    bug(TRAIN, "no Recorder in the callbacks (and so nothing to plot)", source=(
        "set_seed(42)\n"
        "learn = Learner(dls, nn.Linear(28*28, 1), mnist_loss, BasicOptim, lr=1., metrics=[batch_accuracy])\n"
        "learn.fit(5)\n"
        "print(learn.metric_values)\n")),
    bug(TRAIN, "a learning rate far too small to train in 5 epochs (1e-4)", replace=("lr=1.,", "lr=1e-4,")),
    bug(TRAIN, "does not plot the recorded losses", replace=(
        "plt.plot(rec.losses)\nplt.xlabel('batch'); plt.ylabel('training loss');", "print(rec.losses[-5:])")),
]
