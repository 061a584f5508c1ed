"""The chapter's baseline: classify a 3 or a 7 by its distance to the "ideal" (mean) 3 and 7.

As in the book: `stacked_threes.mean(0)` is `mean3`, `a_3 = stacked_threes[1]`, `mnist_distance` is the
L1 (mean absolute) distance and `is_3(x)` asks whether `x` is nearer `mean3` than `mean7`. What the book
read from globals (`mean3`, `mean7`) is passed in here.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .data import sample_stack
from .rows import exact, timer

SECTION = "pixel_similarity"


def mnist_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    "Mean absolute difference over the last two axes (the image), broadcasting over any leading ones."
    return (a - b).abs().mean((-1, -2))


def rmse_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    "Root mean squared difference over the last two axes (the book's `dist_3_sqr`), broadcasting."
    return ((a - b) ** 2).mean((-1, -2)).sqrt()


def is_3(x: torch.Tensor, mean3: torch.Tensor, mean7: torch.Tensor) -> torch.Tensor:
    "True where `x` is nearer the ideal 3 than the ideal 7 (one bool per image)."
    return mnist_distance(x, mean3) < mnist_distance(x, mean7)


def load_stacks(device=None) -> dict[str, torch.Tensor]:
    "The book's `stacked_threes`, `stacked_sevens`, `valid_3_tens`, `valid_7_tens` (float in [0, 1])."
    stacks = {"stacked_threes": sample_stack("train", 3), "stacked_sevens": sample_stack("train", 7),
              "valid_3_tens": sample_stack("valid", 3), "valid_7_tens": sample_stack("valid", 7)}
    return {k: v.to(device) if device is not None else v for k, v in stacks.items()}


def pixel_similarity_figures(device=None) -> dict:
    "Every number the book prints in this section, computed on the real MNIST_SAMPLE."
    s = load_stacks(device)
    stacked_threes, stacked_sevens = s["stacked_threes"], s["stacked_sevens"]
    valid_3_tens, valid_7_tens = s["valid_3_tens"], s["valid_7_tens"]
    mean3, mean7 = stacked_threes.mean(0), stacked_sevens.mean(0)
    a_3 = stacked_threes[1]
    correct_3s = is_3(valid_3_tens, mean3, mean7)
    correct_7s = ~is_3(valid_7_tens, mean3, mean7)
    accuracy_3s = correct_3s.float().mean()
    accuracy_7s = correct_7s.float().mean()
    return {
        "n_train_3": len(stacked_threes), "n_train_7": len(stacked_sevens),
        "n_valid_3": len(valid_3_tens), "n_valid_7": len(valid_7_tens),
        "dist_3_abs": (a_3 - mean3).abs().mean().item(),
        "dist_3_sqr": ((a_3 - mean3) ** 2).mean().sqrt().item(),
        "dist_7_abs": (a_3 - mean7).abs().mean().item(),
        "dist_7_sqr": ((a_3 - mean7) ** 2).mean().sqrt().item(),
        "l1_loss_7": F.l1_loss(a_3.float(), mean7).item(),
        "mse_loss_sqrt_7": F.mse_loss(a_3, mean7).sqrt().item(),
        "correct_3s": int(correct_3s.sum()), "correct_7s": int(correct_7s.sum()),
        "accuracy_3s": accuracy_3s.item(), "accuracy_7s": accuracy_7s.item(),
        "accuracy": ((accuracy_3s + accuracy_7s) / 2).item(),
    }


# name in pixel_similarity_figures -> (what the book printed, digits it printed)
BOOK = {"n_train_3": (6131, None), "n_train_7": (6265, None), "n_valid_3": (1010, None),
        "n_valid_7": (1028, None), "dist_3_abs": (0.1114, 4), "dist_3_sqr": (0.2021, 4),
        "dist_7_abs": (0.1586, 4), "dist_7_sqr": (0.3021, 4), "l1_loss_7": (0.1586, 4),
        "mse_loss_sqrt_7": (0.3021, 4), "correct_3s": (926, None), "correct_7s": (1013, None),
        "accuracy_3s": (0.9168, 4), "accuracy_7s": (0.9854, 4), "accuracy": (0.9511, 4)}


def reproduce_rows(device=None, quick: bool = False) -> list[dict]:
    "One row per figure the book prints (exact, to the digits it prints); `quick` changes nothing here."
    with timer() as t:
        figs = pixel_similarity_figures(device)
    return [exact(SECTION, name, figs[name], book, ndigits, t.seconds if i == 0 else 0.0)
            for i, (name, (book, ndigits)) in enumerate(BOOK.items())]
