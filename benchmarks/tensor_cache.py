"""stacked_threes / stacked_sevens the book's way (PIL-decode every PNG of mnist_sample) vs the tensor cache.

    uv run python benchmarks/tensor_cache.py [--fastai-home DIR]

Builds mnist_sample under fastai's data folder first if it is missing (not timed), then times, in this one
process: the book's cells (`untar_data`, `.ls().sorted()`, `tensor(Image.open(o))`, `torch.stack`, `/255`),
the IDX parse (gunzip + parse, what the cache saves), and `sample_stack` from the cache; checks the
stacks are identical. Imports are not timed.
"""
from __future__ import annotations

import argparse
import os
import time
import warnings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fastai-home", help="fastai's home (default: $FASTAI_HOME, else ~/.fastai)")
    args = parser.parse_args()
    if args.fastai_home:
        os.environ["FASTAI_HOME"] = args.fastai_home
    warnings.simplefilter("ignore")

    import torch
    from fastai.vision.all import Image, URLs, tensor, untar_data

    from reference.data import layouts, sample_stack
    from reference.data.cache import load_split, read_split
    from reference.data.locate import mnist_dir

    folder = mnist_dir()
    load_split(folder, "train")  # the cache exists on disk (a no-op after the first run)
    layouts.prepare_fastai_data(("mnist_sample",), progress=True)

    t = time.perf_counter()
    path = untar_data(URLs.MNIST_SAMPLE)
    threes = (path / "train" / "3").ls().sorted()
    sevens = (path / "train" / "7").ls().sorted()
    book3 = torch.stack([tensor(Image.open(o)) for o in threes]).float() / 255
    book7 = torch.stack([tensor(Image.open(o)) for o in sevens]).float() / 255
    book_s = time.perf_counter() - t

    t = time.perf_counter()
    read_split(folder, "train")
    idx_s = time.perf_counter() - t

    t = time.perf_counter()
    cache3, cache7 = sample_stack("train", 3), sample_stack("train", 7)
    cache_s = time.perf_counter() - t

    same = torch.equal(book3, cache3) and torch.equal(book7, cache7)
    n = len(book3) + len(book7)
    print(f"stacked_threes {tuple(book3.shape)} + stacked_sevens {tuple(book7.shape)}: {n} images, "
          f"identical: {same}")
    print(f"{'method':<48}{'seconds':>10}{'x cache':>10}")
    for name, s in [("book: untar_data + PIL decode of each PNG + stack", book_s),
                    ("IDX: gunzip + parse (the cold load)", idx_s),
                    ("tensor cache: sample_stack (memory-mapped .npy)", cache_s)]:
        print(f"{name:<48}{s:>10.4f}{s / cache_s:>10.1f}")
    if not same:
        raise SystemExit("the two stacks differ")


if __name__ == "__main__":
    main()
