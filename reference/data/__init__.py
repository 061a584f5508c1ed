"MNIST data: IDX parsing, locating or downloading the files, tensors, and fastai's folder layouts."
from .idx import MnistDataError, read_idx
from .locate import mnist_dir
from .mnist import load_mnist, sample_indices, sample_stack
from .layouts import fastai_data_dir, prepare_fastai_data
