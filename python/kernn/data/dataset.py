"""Map-style datasets: anything with ``__len__`` and ``__getitem__(int)``."""

import itertools
import math
import numbers
import warnings

import numpy as np

from ..random import _generator_argument, _generator_or_default

__all__ = ["Dataset", "Subset", "TensorDataset", "random_split"]


class Dataset:
    """Base class of map-style datasets, as ``torch.utils.data.Dataset``.

    A subclass implements ``__getitem__(index)`` returning one sample and ``__len__()``.

    Example:
        >>> class Squares(Dataset):
        ...     def __len__(self):
        ...         return 4
        ...     def __getitem__(self, i):
        ...         return i, i * i
        >>> Squares()[3]
        (3, 9)
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")


def _as_array(value):
    """The numpy array behind a kernn Tensor, or the value itself as an array (no copy)."""
    if isinstance(value, np.ndarray):
        return value
    numpy = getattr(value, "numpy", None)
    if callable(numpy):
        return numpy()
    return np.asarray(value)


class TensorDataset(Dataset):
    """Samples are the i-th rows of equally long arrays or Tensors, as ``torch.utils.data.TensorDataset``.

    The arrays are kept as given (no copy); :class:`DataLoader` recognises a TensorDataset and
    gathers a whole batch with one fancy index per array instead of one Python call per sample.

    Args:
        *tensors: numpy arrays or kernn Tensors sharing their first dimension.

    Shape:
        each tensor (N, ...); a sample is the tuple ``(t[i] for t in tensors)``.

    Example:
        >>> ds = TensorDataset(np.zeros((5, 3), np.float32), np.arange(5))
        >>> len(ds), ds[2][1]
        (5, 2)
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: needs at least one array or Tensor")
        arrays = tuple(_as_array(t) for t in tensors)
        for position, array in enumerate(arrays):
            if array.ndim == 0:
                raise ValueError(
                    f"TensorDataset: argument {position} is 0-dimensional; every argument needs a "
                    "first (sample) dimension"
                )
        sizes = [a.shape[0] for a in arrays]
        if any(size != sizes[0] for size in sizes):
            shapes = ", ".join(str(a.shape) for a in arrays)
            raise ValueError(
                f"TensorDataset: the arguments must have the same first dimension, got shapes {shapes}"
            )
        self.tensors = tuple(tensors)
        self.arrays = arrays

    def __getitem__(self, index):
        # index what the caller gave, so a dataset of Tensors yields Tensors and one of arrays arrays
        return tuple(tensor[index] for tensor in self.tensors)

    def __len__(self):
        return self.arrays[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order, as ``torch.utils.data.Subset``.

    Nothing is copied: ``subset[i]`` is ``dataset[indices[i]]``. :class:`DataLoader` gathers
    the batches of a Subset of a :class:`TensorDataset` (what :func:`random_split` of one gives)
    with one fancy index per array, as for the TensorDataset itself.

    Args:
        dataset: the map-style dataset to take samples from.
        indices (sequence of int): positions in ``dataset``.

    Example:
        >>> ds = TensorDataset(np.arange(6).reshape(3, 2), np.array([10, 11, 12]))
        >>> subset = Subset(ds, [2, 0])
        >>> len(subset), subset[0][1].item()
        (2, 12)
    """

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)


def _split_lengths(lengths, n):
    """Integer lengths summing to n from ``lengths``, with torch's rules for fractions."""
    lengths = list(lengths)
    total = sum(lengths)
    # torch's test: a sum that is (close to) 1 and not above it means fractions
    if math.isclose(total, 1) and total <= 1:
        for position, fraction in enumerate(lengths):
            if not 0 <= fraction <= 1:
                raise ValueError(
                    f"random_split: fraction {position} is {fraction!r}, not between 0 and 1"
                )
        lengths = [math.floor(n * fraction) for fraction in lengths]
        # the floors leave a few samples over: one more to each split in turn, from the first
        for i in range(n - sum(lengths)):
            lengths[i % len(lengths)] += 1
        for position, length in enumerate(lengths):
            if length == 0:
                warnings.warn(f"random_split: split {position} is empty", stacklevel=3)
        return lengths
    ints = all(isinstance(length, numbers.Integral) and not isinstance(length, bool) and length >= 0
               for length in lengths)
    if not ints or total != n:
        raise ValueError(
            f"random_split: lengths must be non-negative ints summing to the dataset's length {n} "
            f"or fractions summing to 1, got {lengths} (sum {total})"
        )
    return [int(length) for length in lengths]


def random_split(dataset, lengths, generator=None):
    """Split a dataset at random into non-overlapping Subsets, as ``torch.utils.data.random_split``.

    The samples are permuted once and the permutation is cut into pieces of the given lengths.
    Fractions summing to 1 become ``floor(fraction * len(dataset))`` samples each, and the
    samples left over go one to each split in turn from the first, as in torch, so the lengths
    equal torch's. The permutation itself is drawn from a numpy Generator and differs from
    torch's for the same seed.

    Args:
        dataset: a map-style dataset (``__len__`` and ``__getitem__``).
        lengths (sequence): non-negative ints summing to ``len(dataset)``, or fractions in
            [0, 1] summing to 1 (a fraction giving an empty split warns, as in torch).
        generator: a ``numpy.random.Generator``, an int seed, or None: the permutation is drawn
            from kernn's global generator, so ``kernn.manual_seed(s)`` makes the split
            reproducible.

    Returns:
        a list of :class:`Subset`, one per length.

    Example:
        >>> train, val = random_split(TensorDataset(np.zeros((10, 2))), [0.8, 0.2], generator=0)
        >>> len(train), len(val)
        (8, 2)
    """
    rng = _generator_or_default(_generator_argument(generator, "random_split"))
    lengths = _split_lengths(lengths, len(dataset))
    indices = rng.permutation(sum(lengths)).tolist()
    return [
        Subset(dataset, indices[end - length:end])
        for end, length in zip(itertools.accumulate(lengths), lengths)
    ]
