"""Find the four MNIST IDX files: `$CH4GRADE_MNIST_DIR` when set, else a download into the user cache."""
from __future__ import annotations

import os
from pathlib import Path

from .idx import MnistDataError

MNIST_DIR_ENV = "CH4GRADE_MNIST_DIR"
FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def mnist_dir() -> Path:
    "The folder holding the four `*-idx?-ubyte.gz` files."
    env = os.environ.get(MNIST_DIR_ENV)
    if env:
        folder = Path(env).expanduser()
        missing = [f for f in FILES if not (folder / f).exists()]
        if missing:
            raise MnistDataError(f"${MNIST_DIR_ENV}={env} lacks {', '.join(missing)}")
        return folder
    raise MnistDataError(f"set ${MNIST_DIR_ENV} to a folder with {', '.join(FILES)}")
