"""Data sets: MNIST and Fashion-MNIST (IDX files, found locally or downloaded) and the 8x8 digits
bundled with kernn (see :mod:`kernn.datasets.digits` for their provenance and licence)."""

from .digits import load_digits
from .mnist import MNIST, DatasetNotFoundError, FashionMNIST, default_root

__all__ = ["DatasetNotFoundError", "FashionMNIST", "MNIST", "default_root", "load_digits"]
