"""Map-style datasets: anything with ``__len__`` and ``__getitem__(int)``."""

import bisect
import collections.abc
import itertools
import math
import numbers
import warnings

import numpy as np

from ..random import _generator_argument, _generator_or_default

__all__ = ["ChainDataset", "ConcatDataset", "Dataset", "IterableDataset", "Subset", "TensorDataset",
           "random_split"]


class Dataset:
    """Base class of map-style datasets, as ``torch.utils.data.Dataset``.

    A subclass implements ``__getitem__(index)`` returning one sample and, for the default
    samplers of :class:`DataLoader`, ``__len__()``. As in torch there is no default
    ``__len__``: ``len()`` of a dataset without one raises TypeError. ``a + b`` is
    ``ConcatDataset([a, b])``.

    Example:
        >>> class Squares(Dataset):
        ...     def __len__(self):
        ...         return 4
        ...     def __getitem__(self, i):
        ...         return i, i * i
        >>> Squares()[3]
        (3, 9)
        >>> len(Squares() + Squares())
        8
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset, collections.abc.Iterable):
    """Base class of datasets that are a stream of samples, as ``torch.utils.data.IterableDataset``.

    A subclass implements ``__iter__``, yielding the samples, and may implement ``__len__``.
    :class:`DataLoader` batches the samples in the order ``__iter__`` yields them, starting a
    new iterator every pass; it takes no ``shuffle``, ``sampler`` or ``batch_sampler``, as in
    torch. ``a + b`` is ``ChainDataset([a, b])``.

    kernn loads in the main process only, so there is no ``get_worker_info`` and no sharding
    of the stream across workers to think of: the loader sees every sample once per pass.

    Example:
        >>> class Countdown(IterableDataset):
        ...     def __iter__(self):
        ...         return iter(range(5, 0, -1))
        >>> [batch.numpy().tolist() for batch in DataLoader(Countdown(), batch_size=2)]
        [[5, 4], [3, 2], [1]]
    """

    def __add__(self, other):
        return ChainDataset([self, other])


class ConcatDataset(Dataset):
    """The samples of several map-style datasets one after another, as ``torch.utils.data.ConcatDataset``.

    ``concat[i]`` finds the dataset holding sample ``i`` by bisecting ``cumulative_sizes`` (the
    running totals of the datasets' lengths, read once here); negative indices count from the
    end. The errors are torch's: AssertionError for no datasets or an IterableDataset among
    them, ValueError for a negative index beyond the length, IndexError past the end.

    Args:
        datasets (iterable): map-style datasets, at least one.

    Example:
        >>> both = ConcatDataset([TensorDataset(np.arange(3)), TensorDataset(np.arange(10, 12))])
        >>> both.cumulative_sizes, int(both[3][0]), int(both[-1][0])
        ([3, 5], 10, 11)
    """

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("ConcatDataset: datasets should not be an empty iterable")
        for position, dataset in enumerate(self.datasets):
            if isinstance(dataset, IterableDataset):
                raise AssertionError(
                    f"ConcatDataset does not support IterableDataset (dataset {position} is a "
                    f"{type(dataset).__name__}); use ChainDataset"
                )
        self.cumulative_sizes = self.cumsum(self.datasets)

    @staticmethod
    def cumsum(sequence):
        """The running totals of the lengths of ``sequence``'s items, as torch's."""
        return list(itertools.accumulate(len(item) for item in sequence))

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        length = len(self)
        if index < 0:
            if -index > length:
                raise ValueError(
                    "ConcatDataset: absolute value of index should not exceed dataset length, got "
                    f"index {index} for length {length}"
                )
            index += length
        if index >= length:
            raise IndexError(f"ConcatDataset: index {index} is out of range for length {length}")
        position = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[position - 1] if position else 0
        return self.datasets[position][index - start]


class ChainDataset(IterableDataset):
    """Several IterableDatasets one after another, as ``torch.utils.data.ChainDataset``.

    Chained as they are iterated; ``len()`` is the sum of their lengths. As in torch, a dataset
    that is not an IterableDataset raises AssertionError when it is reached.

    Args:
        datasets (iterable): IterableDatasets.

    Example:
        >>> class Upto(IterableDataset):
        ...     def __init__(self, n):
        ...         self.n = n
        ...     def __iter__(self):
        ...         return iter(range(self.n))
        >>> list(ChainDataset([Upto(2), Upto(3)]))
        [0, 1, 0, 1, 2]
    """

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for position, dataset in enumerate(self.datasets):
            yield from _chained(dataset, position)

    def __len__(self):
        return sum(len(_chained(dataset, position)) for position, dataset in enumerate(self.datasets))


def _chained(dataset, position):
    """``dataset`` if ChainDataset can chain it, else torch's AssertionError."""
    if not isinstance(dataset, IterableDataset):
        raise AssertionError(
            f"ChainDataset only supports IterableDataset, got {type(dataset).__name__} at "
            f"position {position}"
        )
    return dataset


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
