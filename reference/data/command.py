"""`ch4grade data`: check the MNIST files, fill the tensor cache, and build fastai's folders offline."""
from __future__ import annotations

import argparse
import sys
import time

from .idx import MnistDataError
from .layouts import LAYOUTS, fastai_data_dir, prepare_layout


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--fastai-home", metavar="DIR",
                        help="fastai's home folder (default: $FASTAI_HOME, else ~/.fastai)")
    parser.add_argument("--only", choices=list(LAYOUTS), help="build only this layout")
    parser.add_argument("--quiet", action="store_true", help="no progress bars, only errors")


def run(args: argparse.Namespace) -> int:
    from .cache import cache_paths, load_split
    from .locate import mnist_dir

    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, flush=True))
    names = [args.only] if args.only else list(LAYOUTS)
    try:
        t0 = time.perf_counter()
        folder = mnist_dir(progress=not args.quiet)
        for split in ("train", "test"):
            images, _ = load_split(folder, split)
            say(f"MNIST {split}: {len(images)} images, cached at {cache_paths(folder, split)[0].parent}")
        say(f"MNIST files {folder} (MD5 checked) in {time.perf_counter() - t0:.1f}s")
        say(f"fastai data folder: {fastai_data_dir(args.fastai_home)}")
        for name in names:
            t = time.perf_counter()
            path, built = prepare_layout(name, args.fastai_home, progress=not args.quiet)
            say(f"{name}: {'built' if built else 'already there'} {path} in {time.perf_counter() - t:.1f}s")
    except MnistDataError as e:
        print(f"ch4grade data: {e}", file=sys.stderr)
        return 1
    return 0
