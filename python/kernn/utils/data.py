"""``torch.utils.data`` under its torch name, so that a script ports by changing ``torch`` to
``kernn``. Only re-exports: the classes live in :mod:`kernn.data`, which also holds the IDX
reader and the transforms (torchvision's, not torch.utils.data's).
"""

from ..data import (BatchSampler, ChainDataset, ConcatDataset, DataLoader, Dataset, IterableDataset,
                    RandomSampler, Sampler, SequentialSampler, Subset, SubsetRandomSampler,
                    TensorDataset, WeightedRandomSampler, default_collate, default_convert,
                    random_split)

__all__ = [
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
