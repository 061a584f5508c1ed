"""Going deeper: the book's resnet18, trained from scratch for one cycle on MNIST_SAMPLE (it got 0.997).

`mnist_sample_dls()` prefers the book's own route, `ImageDataLoaders.from_folder(untar_data(URLs.MNIST_SAMPLE))`,
on the folders that `reference.data.layouts.prepare_fastai_data()` writes offline; where that module is not
available it builds the same batches from tensors (3 channels, /255, vocab ['3', '7'], bs 64, train shuffled,
last partial batch dropped) and says so in `source`.
"""
from __future__ import annotations

import fastai.callback.progress  # noqa: F401  (adds Learner.no_bar)
import fastai.callback.schedule  # noqa: F401  (adds Learner.fit_one_cycle)
import torch
import torch.nn.functional as F
from fastai.data.core import DataLoaders
from fastai.data.load import DataLoader
from fastai.metrics import accuracy
from fastai.vision.learner import vision_learner
from torchvision.models import resnet18

from .data import sample_stack
from .device import default_device, set_seed
from .rows import at_least, timer

SECTION = "resnet"
BOOK_ACCURACY = 0.997056
BAND = 0.99


def folder_dls(bs: int = 64, device=None) -> DataLoaders:
    "The book's `ImageDataLoaders.from_folder(path)` on `untar_data(URLs.MNIST_SAMPLE)`, prepared offline."
    from fastai.data.external import URLs, untar_data
    from fastai.vision.data import ImageDataLoaders

    from .data.layouts import prepare_fastai_data
    prepare_fastai_data(("mnist_sample",), progress=False)
    path = untar_data(URLs.MNIST_SAMPLE)
    return ImageDataLoaders.from_folder(path, bs=bs, device=default_device(device))


def tensor_dls(bs: int = 64, device=None, n_train: int | None = None) -> DataLoaders:
    """The same data as `from_folder` gives, from tensors: 3-channel floats in [0, 1], label 0 for a 3, 1 for a 7.

    `n_train` keeps a random subset of the training images (for a cheaper test; the book uses all 12396)."""
    device = default_device(device)

    def dset(split):
        threes, sevens = sample_stack(split, 3), sample_stack(split, 7)
        x = torch.cat([threes, sevens]).unsqueeze(1).expand(-1, 3, -1, -1)  # PILImage.create makes grey RGB
        y = torch.tensor([0] * len(threes) + [1] * len(sevens))
        return list(zip(x, y))

    train = dset("train")
    if n_train is not None:
        train = [train[i] for i in torch.randperm(len(train))[:n_train].tolist()]
    dls = DataLoaders(DataLoader(train, bs=bs, shuffle=True, drop_last=True, device=device),
                      DataLoader(dset("valid"), bs=bs, device=device))
    dls.vocab, dls.c = ["3", "7"], 2
    return dls


def mnist_sample_dls(bs: int = 64, device=None, source: str = "auto",
                     n_train: int | None = None) -> tuple[DataLoaders, str]:
    """(`dls`, `source`): `source` is 'folders' (the book's route) or 'tensors' (fallback); 'auto' tries folders
    first. A training subset (`n_train`) always comes from tensors."""
    if source in ("auto", "folders") and n_train is None:
        try:
            return folder_dls(bs, device), "folders"
        except (ImportError, AttributeError):  # reference.data.layouts missing or not ready
            if source == "folders":
                raise
    return tensor_dls(bs, device, n_train), "tensors"


def train_resnet18(epochs: int = 1, lr: float = 0.1, seed: int = 42, device=None, source: str = "auto",
                   n_train: int | None = None) -> dict:
    """`vision_learner(dls, resnet18, pretrained=False, loss_func=F.cross_entropy, metrics=accuracy)`
    then `fit_one_cycle(epochs, lr)`; returns the final validation accuracy and the data route used."""
    set_seed(seed)
    dls, source = mnist_sample_dls(device=device, source=source, n_train=n_train)
    learn = vision_learner(dls, resnet18, pretrained=False, n_out=2, loss_func=F.cross_entropy, metrics=accuracy)
    with learn.no_bar(), learn.no_logging():
        learn.fit_one_cycle(epochs, lr)
    values = learn.recorder.values[-1]
    return {"learn": learn, "source": source, "train_loss": float(values[0]), "valid_loss": float(values[1]),
            "final": float(values[2])}


def reproduce_rows(device=None, quick: bool = False, seed: int = 42) -> list[dict]:
    "One row: resnet18 from scratch, `fit_one_cycle(1, 0.1)` (tens of seconds on a CPU; skip it to save them)."
    with timer() as t:
        r = train_resnet18(1, 0.1, seed, device)
    return [at_least(SECTION, f"vision_learner(resnet18, pretrained=False).fit_one_cycle(1, 0.1) [{r['source']}]",
                     r["final"], BAND, t.seconds, f" (book {BOOK_ACCURACY})")]
