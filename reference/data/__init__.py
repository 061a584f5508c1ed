"""MNIST data: IDX parsing, locating or downloading the files, tensors, and fastai's folder layouts.

The names below load their module on first use (PEP 562): finding or checking the data needs no torch, so
a grader that only asks where the data is (`fastai_data_dir`, `mnist_dir`) starts without importing it."""
import importlib

_WHERE = {"MnistDataError": "idx", "read_idx": "idx", "mnist_dir": "locate",
          "load_mnist": "mnist", "sample_indices": "mnist", "sample_stack": "mnist",
          "fastai_data_dir": "layouts", "prepare_fastai_data": "layouts"}
__all__ = list(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
