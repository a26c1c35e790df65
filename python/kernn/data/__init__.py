"""Data loading: datasets, mini-batch loading, per-sample transforms and the IDX file format.

Mirrors ``torch.utils.data`` (Dataset, IterableDataset, TensorDataset, ConcatDataset, ChainDataset,
Subset, random_split, DataLoader,
default_collate, default_convert, the samplers; :mod:`kernn.utils.data` re-exports them under that name) and
``torchvision.transforms`` (ToTensor, Normalize, Compose, Lambda). The MNIST, Fashion-MNIST and
8x8-digits data sets live in :mod:`kernn.datasets`.
"""

from . import transforms
from .dataloader import DataLoader, default_collate, default_convert
from .dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset,
                      random_split)
from .idx import IdxFormatError, read_idx, write_idx
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
                      WeightedRandomSampler)

# torch.utils.data's names, which kernn.utils.data re-exports.
TORCH_UTILS_DATA = [
    "BatchSampler",
    "ChainDataset",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "default_collate",
    "default_convert",
    "random_split",
]

__all__ = TORCH_UTILS_DATA + ["IdxFormatError", "read_idx", "transforms", "write_idx"]
