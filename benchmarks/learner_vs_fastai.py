"""Our from-scratch Learner vs fastai's Learner, side by side, on the same model, data and optimiser.

The MLP of `reference.full_mnist` (784-256-10) on the full MNIST (60,000 train / 10,000 test images), the same
initial weights (`copy.deepcopy`), the same batches in the same fixed order (one `TensorLoader` of bs 128,
no shuffle, given to both: fastai gets it inside its own `DataLoaders`), SGD with momentum 0.9 at a constant
lr of 0.05 (ours vs fastai's `SGD(mom=0.9)`), cross-entropy. Prints seconds per epoch, their ratio, the final
test accuracy of each and the largest difference between their per-batch training losses.

    uv run python benchmarks/learner_vs_fastai.py [--epochs 2] [--threads 1] [--device cpu]
"""
from __future__ import annotations

import argparse
import copy
import time

import torch


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1, help="torch threads on CPU (1 is fastest on a shared 2-core box)")
    ap.add_argument("--device", default=None, help="default: CUDA when present, else CPU")
    ap.add_argument("--lr", type=float, default=0.05)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    import fastai.callback.progress  # noqa: F401  fastai's default callbacks, and Learner.no_bar
    from fastai.callback.core import Callback as FastaiCallback
    from fastai.data.core import DataLoaders as FastaiDLs
    from fastai.learner import Learner as FastaiLearner
    from fastai.optimizer import SGD as FastaiSGD

    from reference import full_mnist as fm
    from reference.device import default_device, describe_device, set_seed
    from reference.learner import DataLoaders, Learner, SGD, TensorLoader

    device = default_device(args.device)
    (tx, ty), (vx, vy) = fm.load_full("train"), fm.load_full("test")
    tx, vx = fm.normalize(tx).view(-1, 784).to(device), fm.normalize(vx).view(-1, 784).to(device)
    ty, vy = ty.to(device), vy.to(device)
    train_dl, valid_dl = TensorLoader(tx, ty, 128), TensorLoader(vx, vy, 1000)
    set_seed(42)
    model = fm.mlp()
    results = {}

    # ours
    m = copy.deepcopy(model)
    ours = Learner(DataLoaders(train_dl, valid_dl), m, fm.cross_entropy, lr=args.lr, metrics=fm.accuracy,
                   opt_func=lambda p, lr: SGD(p, lr, mom=0.9), device=device, progress=False)
    start = time.perf_counter()
    ours.fit(args.epochs)
    results["ours (reference.learner)"] = dict(
        total=time.perf_counter() - start, epochs=[r["time"] for r in ours.recorder.log],
        acc=ours.recorder.metrics["accuracy"][-1], losses=ours.recorder.losses)

    # fastai
    class RawLosses(FastaiCallback):
        def before_fit(self): self.losses = []
        def after_batch(self):
            if self.training: self.losses.append(self.learn.loss.item())
    class EpochTimes(FastaiCallback):
        def before_fit(self): self.times = []
        def before_epoch(self): self.start = time.perf_counter()
        def after_epoch(self): self.times.append(time.perf_counter() - self.start)
    raw, times = RawLosses(), EpochTimes()
    m = copy.deepcopy(model).to(device)
    theirs = FastaiLearner(FastaiDLs(train_dl, valid_dl), m, loss_func=fm.cross_entropy,
                           opt_func=lambda p, lr: FastaiSGD(p, lr, mom=0.9), lr=args.lr,
                           metrics=fm.accuracy, cbs=[raw, times])
    start = time.perf_counter()
    with theirs.no_bar(), theirs.no_logging():
        theirs.fit(args.epochs)
    results[f"fastai {fastai.__version__} Learner"] = dict(
        total=time.perf_counter() - start, epochs=times.times, acc=float(theirs.recorder.values[-1][-1]), losses=raw.losses)

    print(f"device: {describe_device(device)}  torch {torch.__version__}  threads {torch.get_num_threads()}")
    print(f"MLP 784-256-10 on full MNIST, bs 128, SGD mom 0.9 lr {args.lr}, {args.epochs} epochs, same weights and batches\n")
    print(f"{'learner':<28}{'s/epoch (each)':>24}{'s/epoch (mean)':>16}{'total s':>10}{'test acc':>10}")
    for name, r in results.items():
        each = " ".join(f"{t:.2f}" for t in r["epochs"])
        print(f"{name:<28}{each:>24}{sum(r['epochs']) / len(r['epochs']):>16.2f}{r['total']:>10.2f}{r['acc']:>10.4f}")
    (a, b) = results.values()
    ratio = (sum(a["epochs"]) / len(a["epochs"])) / (sum(b["epochs"]) / len(b["epochs"]))
    diff = max(abs(x - y) for x, y in zip(a["losses"], b["losses"]))
    print(f"\nratio ours/fastai (s per epoch): {ratio:.2f}")
    print(f"largest |difference| of the {len(a['losses'])} per-batch training losses: {diff:.2e}")


if __name__ == "__main__":
    main()
