"""Time to 98% test accuracy on the full MNIST with the from-scratch Learner.

The MLP of `reference.full_mnist` (784-256-10, SGD momentum 0.9, one-cycle lr up to 0.1, bs 128, our
cross-entropy) is trained from scratch with a one-cycle schedule of 2, 3, 4, ... epochs until a whole
schedule ends at >= 98% on the 10,000 test images (a one-cycle run only gets its best accuracy at its end,
so each length is a separate run). Prints the device, threads, each run's epochs, accuracy and seconds,
and the time of the first run that reaches 98% (add `--cnn` for the CNN's time to 99%).

    uv run python benchmarks/time_to_98.py [--threads 1] [--device cpu] [--max-epochs 6] [--cnn]
"""
from __future__ import annotations

import argparse
import time

import torch


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1, help="torch threads on CPU (1 is fastest on a shared 2-core box)")
    ap.add_argument("--device", default=None, help="default: CUDA when present, else CPU")
    ap.add_argument("--min-epochs", type=int, default=2)
    ap.add_argument("--max-epochs", type=int, default=6)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--cnn", action="store_true", help="also time the CNN to 99%% (1 then 2 epochs)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    from reference import full_mnist as fm
    from reference.device import default_device, describe_device

    device = default_device(args.device)
    print(f"device: {describe_device(device)}  torch {torch.__version__}  threads {torch.get_num_threads()}  seed {args.seed}")
    jobs = [("mlp", 0.98, range(args.min_epochs, args.max_epochs + 1))]
    if args.cnn: jobs.append(("cnn", 0.99, range(1, 4)))
    print(f"{'model':<6}{'epochs':>7}{'test acc':>10}{'s/epoch':>9}{'seconds':>9}  reached")
    summary = []
    for kind, band, epochs in jobs:
        for n in epochs:
            start = time.perf_counter()
            learn = fm.train(kind, epochs=n, seed=args.seed, device=device)
            secs = time.perf_counter() - start
            acc = learn.recorder.metrics["accuracy"][-1]
            print(f"{kind:<6}{n:>7}{acc:>10.4f}{secs / n:>9.2f}{secs:>9.2f}  {'yes' if acc >= band else 'no'}", flush=True)
            if acc >= band:
                summary.append(f"{kind}: {band:.0%} test accuracy in {secs:.1f} s ({n} epochs of 60,000 images)")
                break
        else:
            summary.append(f"{kind}: {band:.0%} not reached within {max(epochs)} epochs")
    print("\n" + "\n".join(summary))


if __name__ == "__main__":
    main()
