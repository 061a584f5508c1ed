"resnet18 from scratch on MNIST_SAMPLE: both data routes hold the same images, and the book's band."
import pytest
import torch

from reference.data import sample_stack
from reference.resnet import BAND, folder_dls, tensor_dls, train_resnet18


def _class_sums(dl):
    sums, counts = torch.zeros(2), torch.zeros(2)
    for xb, yb in dl:
        assert xb.shape[1:] == (3, 28, 28)
        for c in (0, 1):
            sums[c] += xb[yb == c].double().sum().item()
            counts[c] += int((yb == c).sum())
    return sums, counts


def test_tensor_route_is_the_books_validation_data(mnist_dir):
    dls = tensor_dls(device="cpu")
    assert dls.vocab == ["3", "7"]
    sums, counts = _class_sums(dls.valid)
    assert counts.tolist() == [1010, 1028]
    assert sums[0].item() == pytest.approx(3 * sample_stack("valid", 3).double().sum().item(), rel=1e-6)
    assert sums[1].item() == pytest.approx(3 * sample_stack("valid", 7).double().sum().item(), rel=1e-6)


@pytest.mark.slow
def test_folder_route_matches_the_tensor_route(mnist_dir):
    "`ImageDataLoaders.from_folder` on the offline MNIST_SAMPLE layout sees the same validation pixels."
    dls = folder_dls(device="cpu")
    assert list(dls.vocab) == ["3", "7"]
    folder_sums, folder_counts = _class_sums(dls.valid)
    tensor_sums, tensor_counts = _class_sums(tensor_dls(device="cpu").valid)
    assert folder_counts.tolist() == tensor_counts.tolist()
    assert torch.allclose(folder_sums, tensor_sums, rtol=1e-6)


@pytest.mark.slow
def test_book_configuration_band(mnist_dir):
    "The book's `fit_one_cycle(1, 0.1)`: measured 0.997056 at seed 42 (folders), as the book; minutes on a CPU."
    r = train_resnet18(1, 0.1, seed=42, device=None)
    assert r["final"] >= BAND
