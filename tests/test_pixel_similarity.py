"Pixel similarity: the book's exact figures on the real MNIST_SAMPLE, and the distance functions."
import pytest
import torch
import torch.nn.functional as F

from reference.data import sample_indices
from reference.pixel_similarity import (BOOK, is_3, load_stacks, mnist_distance, pixel_similarity_figures,
                                        reproduce_rows, rmse_distance)


@pytest.fixture(scope="module")
def figures(mnist_dir):
    return pixel_similarity_figures()


@pytest.mark.parametrize("name", list(BOOK))
def test_book_figure(figures, name):
    book, ndigits = BOOK[name]
    got = figures[name] if ndigits is None else round(figures[name], ndigits)
    assert got == book


def test_a_3_is_the_books_second_file(mnist_dir):
    # the book's a_3 = stacked_threes[1] is train/3/10000.png (files sorted as strings)
    assert sample_indices("train", 3)[1] == 10000


def test_accuracy_is_the_mean_of_both_digits(figures):
    assert figures["accuracy_3s"] == pytest.approx(926 / 1010)
    assert figures["accuracy_7s"] == pytest.approx(1013 / 1028)
    assert figures["accuracy"] == pytest.approx((926 / 1010 + 1013 / 1028) / 2, abs=1e-6)


def test_mnist_distance_broadcasts_like_a_loop():
    g = torch.Generator().manual_seed(0)
    a, b = torch.rand(28, 28, generator=g), torch.rand(5, 28, 28, generator=g)
    got = mnist_distance(b, a)
    assert got.shape == (5,)
    assert torch.allclose(got, torch.stack([(bi - a).abs().mean() for bi in b]))
    assert torch.allclose(mnist_distance(a, b), got)  # symmetric
    assert mnist_distance(a, a).item() == 0


def test_distances_match_torch_losses():
    g = torch.Generator().manual_seed(1)
    a, b = torch.rand(28, 28, generator=g), torch.rand(28, 28, generator=g)
    assert torch.allclose(mnist_distance(a, b), F.l1_loss(a, b))
    assert torch.allclose(rmse_distance(a, b), F.mse_loss(a, b).sqrt())
    batch = torch.rand(3, 28, 28, generator=g)
    assert torch.allclose(rmse_distance(batch, a), torch.stack([F.mse_loss(x, a).sqrt() for x in batch]))


def test_is_3_picks_the_nearer_mean():
    mean3, mean7 = torch.zeros(28, 28), torch.ones(28, 28)
    x = torch.stack([torch.full((28, 28), 0.2), torch.full((28, 28), 0.8)])
    assert is_3(x, mean3, mean7).tolist() == [True, False]


def test_is_3_on_the_real_validation_set(mnist_dir):
    s = load_stacks()
    mean3, mean7 = s["stacked_threes"].mean(0), s["stacked_sevens"].mean(0)
    assert int(is_3(s["valid_3_tens"], mean3, mean7).sum()) == 926
    assert int((~is_3(s["valid_7_tens"], mean3, mean7)).sum()) == 1013


def test_reproduce_rows_all_pass(mnist_dir):
    rows = reproduce_rows()
    assert len(rows) == len(BOOK) and all(r["passed"] for r in rows)
