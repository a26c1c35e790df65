"""Samplers: the order in which a DataLoader visits a map-style dataset, as ``torch.utils.data``'s.

A sampler is an iterable of dataset indices (a batch sampler: of lists of indices). The random
ones draw from a numpy Generator: the ``generator`` argument (a ``numpy.random.Generator``,
``kernn.Generator`` or an int seed), or, when it is None, kernn's global generator at the
moment a pass starts, so ``kernn.manual_seed`` makes them reproducible. Same seed, other
sequences than torch's.
"""

import itertools
import numbers
from typing import Generic, TypeVar

import numpy as np

from ..random import _generator_argument, _generator_or_default
from ..tensor import from_numpy
from .dataset import _as_array

__all__ = [
    "BatchSampler",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
]

_T_co = TypeVar("_T_co", covariant=True)


def _positive_int(value, owner, name):
    """``value`` as an int, else ValueError with torch's wording, naming ``owner`` and ``name``.

    numpy integers are accepted (torch wants a Python int); bools are not, as in torch.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(
            f"{owner}: {name} should be a positive integer value, but got {name}={value!r}"
        )
    return int(value)


def _bool(value, owner, name, error):
    """``value`` if it is a bool, else ``error`` (torch raises TypeError or ValueError, by sampler)."""
    if not isinstance(value, bool):
        raise error(f"{owner}: {name} should be a boolean value, but got {name}={value!r}")
    return value


class Sampler(Generic[_T_co]):
    """Base class of samplers, as ``torch.utils.data.Sampler``.

    A subclass implements ``__iter__``, yielding dataset indices (or, for a batch sampler, lists
    of them), and may implement ``__len__``; ``len(loader)`` of a :class:`DataLoader` needs it.
    As in torch there is no default ``__len__``, so ``len()`` of a sampler without one raises
    TypeError. ``Sampler[int]`` can be written in a class statement, as in torch.

    Example:
        >>> class Reversed(Sampler[int]):
        ...     def __init__(self, data_source):
        ...         self.data_source = data_source
        ...     def __iter__(self):
        ...         return iter(range(len(self.data_source) - 1, -1, -1))
        ...     def __len__(self):
        ...         return len(self.data_source)
        >>> list(Reversed(range(3)))
        [2, 1, 0]
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


# Indices a random sampler draws at a time: a pass of num_samples=10**12 was one 8 TB array
# (MemoryError; at 2 * 10**9, 16 GB taken from a 23 GB machine). Even, so that numpy's bounded
# integers, which draw two 32-bit values per 64-bit word and drop the spare at the end of a call,
# give the same stream in chunks as in one call; so do Generator.choice's uniforms.
_DRAW_CHUNK = 1 << 16


class _WholePassSampler(Sampler[int]):
    """A random sampler that draws a pass as int arrays: a subclass defines ``_pass_chunks()``,
    yielding the pass's indices in order as int arrays (a large pass in pieces of
    ``_DRAW_CHUNK``), and iterating yields them. ``_pass()`` is the whole pass as one array.

    :meth:`BatchSampler._batches` slices those arrays instead of iterating (so does it with
    :class:`SequentialSampler`'s), so that a DataLoader gathering batches of in-memory arrays
    spends no Python per index.
    """

    def __iter__(self):
        # a generator: the pass is drawn at the first index, as torch's samplers draw
        for chunk in self._pass_chunks():
            yield from chunk.tolist()

    def _pass(self):
        chunks = list(self._pass_chunks())
        return np.concatenate(chunks) if chunks else np.arange(0)


class SequentialSampler(Sampler[int]):
    """The indices ``0, 1, ..., len(data_source) - 1``, in order, as ``torch.utils.data.SequentialSampler``.

    Args:
        data_source: a sized object (the dataset); its length is read at every pass.

    Example:
        >>> list(SequentialSampler(range(4)))
        [0, 1, 2, 3]
    """

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))  # lazy, as torch: no array of a huge dataset's indices

    def _pass(self):
        return np.arange(len(self.data_source))

    def _pass_chunks(self):
        n = len(self.data_source)
        for start in range(0, n, _DRAW_CHUNK):
            yield np.arange(start, min(n, start + _DRAW_CHUNK))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(_WholePassSampler):
    """Random indices of ``data_source``, as ``torch.utils.data.RandomSampler``.

    Without replacement a pass is a permutation of ``range(len(data_source))``; when
    ``num_samples`` exceeds the length it is several permutations, the last one cut short, as in
    torch. With replacement every index is drawn uniformly and independently. A new draw every
    pass.

    Unlike torch, an empty ``data_source`` with ``num_samples=None`` gives an empty sampler
    (torch refuses it: its ``num_samples`` would be 0), so that ``DataLoader(empty,
    shuffle=True)`` yields no batches rather than raising.

    Args:
        data_source: a sized object (the dataset); its length is read at every pass.
        replacement (bool): draw with replacement. Default False.
        num_samples (int, optional): indices per pass, a positive int; default
            ``len(data_source)``.
        generator: a ``numpy.random.Generator``, an int seed (a Generator made once, so passes
            differ but two samplers with one seed agree), or None: every pass draws from
            kernn's global generator.

    Example:
        >>> sorted(RandomSampler(range(5), generator=0))
        [0, 1, 2, 3, 4]
        >>> len(RandomSampler(range(5), replacement=True, num_samples=12))
        12
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = _bool(replacement, "RandomSampler", "replacement", TypeError)
        if num_samples is not None:
            num_samples = _positive_int(num_samples, "RandomSampler", "num_samples")
        self._num_samples = num_samples
        self.generator = _generator_argument(generator, "RandomSampler")

    @property
    def num_samples(self):
        # read at every pass, as torch: the dataset's size may change
        if self._num_samples is None:
            return len(self.data_source)
        return self._num_samples

    def _pass_chunks(self):
        n = len(self.data_source)
        num_samples = self.num_samples
        if num_samples == 0:  # an empty data_source and num_samples=None
            return
        if n == 0:
            raise ValueError(
                f"RandomSampler: cannot draw num_samples={num_samples} from an empty data_source"
            )
        rng = _generator_or_default(self.generator)
        if self.replacement:
            for start in range(0, num_samples, _DRAW_CHUNK):
                yield rng.integers(0, n, size=min(_DRAW_CHUNK, num_samples - start))
            return
        # one permutation at a time: a list of num_samples // n of them hung (num_samples=10**12
        # over 3 items) before the first index
        for _ in range(num_samples // n):
            yield rng.permutation(n)
        if num_samples % n:
            yield rng.permutation(n)[:num_samples % n]

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given indices in a random order, a new one every pass, as ``torch.utils.data.SubsetRandomSampler``.

    Args:
        indices (sequence): the indices to yield (each once per pass).
        generator: as for :class:`RandomSampler`.

    Example:
        >>> sorted(SubsetRandomSampler([7, 2, 9], generator=0))
        [2, 7, 9]
    """

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = _generator_argument(generator, "SubsetRandomSampler")

    def __iter__(self):
        for i in _generator_or_default(self.generator).permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(_WholePassSampler):
    """Indices of ``weights`` drawn with probability proportional to their weight, as ``torch.utils.data.WeightedRandomSampler``.

    With replacement the draws are independent; without, each draw takes one of the indices not
    drawn yet, with probability proportional to its weight among them (torch.multinomial's
    rule). An index of weight 0 is never drawn.

    torch checks the weights only when a pass starts (RuntimeError from torch.multinomial);
    kernn checks them here, with ValueError: they must be finite, non-negative and not all
    zero, and without replacement at least ``num_samples`` of them must be positive.

    Args:
        weights (sequence or Tensor): one non-negative weight per index, 1-D; need not sum to 1.
        num_samples (int): indices per pass, a positive int.
        replacement (bool): draw with replacement. Default True.
        generator: as for :class:`RandomSampler`.

    Shape:
        weights: (N,); the indices drawn lie in ``range(N)``.

    Example:
        >>> sampler = WeightedRandomSampler([0.0, 1.0, 3.0], num_samples=6, generator=0)
        >>> len(sampler), 0 in list(sampler)
        (6, False)
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        owner = "WeightedRandomSampler"
        num_samples = _positive_int(num_samples, owner, "num_samples")
        replacement = _bool(replacement, owner, "replacement", ValueError)
        array = np.asarray(_as_array(weights), dtype=np.float64)
        if array.ndim != 1:
            raise ValueError(
                f"{owner}: weights should be a 1d sequence but given weights have shape {array.shape}"
            )
        if not np.isfinite(array).all() or (array < 0).any() or not array.any():
            raise ValueError(
                f"{owner}: weights must be finite and non-negative with a positive sum, got {array}"
            )
        positive = int(np.count_nonzero(array))
        if not replacement and num_samples > positive:
            raise ValueError(
                f"{owner}: cannot draw num_samples={num_samples} without replacement from "
                f"{positive} positive weights"
            )
        self.weights = from_numpy(array)
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = _generator_argument(generator, owner)

    def _pass_chunks(self):
        weights = self.weights.numpy()
        with np.errstate(over="ignore"):
            total = weights.sum()
        if not np.isfinite(total):
            # finite weights whose sum overflows (two of 1e308): numpy's choice saw NaN
            # probabilities ("Probabilities do not sum to 1")
            weights = weights / weights.max()
            total = weights.sum()
        p = weights / total
        rng = _generator_or_default(self.generator)
        if not self.replacement:  # num_samples <= len(weights): one draw
            yield rng.choice(len(weights), size=self.num_samples, replace=False, p=p)
            return
        for start in range(0, self.num_samples, _DRAW_CHUNK):
            yield rng.choice(len(weights), size=min(_DRAW_CHUNK, self.num_samples - start),
                             replace=True, p=p)

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler[list]):
    """Lists of ``batch_size`` consecutive indices of another sampler, as ``torch.utils.data.BatchSampler``.

    Args:
        sampler: a sampler or any iterable of indices.
        batch_size (int): indices per batch, a positive int.
        drop_last (bool): drop the last batch when it is shorter than ``batch_size``.

    ``len()`` needs ``len(sampler)``; without it, TypeError as in torch.

    Example:
        >>> list(BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=False))
        [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
        >>> list(BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=True))
        [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    """

    def __init__(self, sampler, batch_size, drop_last):
        self.sampler = sampler
        self.batch_size = _positive_int(batch_size, "BatchSampler", "batch_size")
        self.drop_last = _bool(drop_last, "BatchSampler", "drop_last", ValueError)

    def __iter__(self):
        indices = iter(self.sampler)
        # islice, not zip(*[indices] * batch_size): that built a tuple of batch_size references
        # first (MemoryError for batch_size=2**62 over 5 indices)
        batch = list(itertools.islice(indices, self.batch_size))
        while batch:
            if self.drop_last and len(batch) < self.batch_size:
                return
            yield batch
            batch = list(itertools.islice(indices, self.batch_size))

    def _batches(self):
        """The batches of a pass, for the DataLoader's gather: slices of one int array when the
        sampler draws its pass as a whole (kernn's Sequential-, Random- and
        WeightedRandomSampler), else the lists ``__iter__`` gives."""
        # a subclass overriding __iter__ is iterated: its _pass may not say what it yields
        if type(self.sampler).__iter__ not in (_WholePassSampler.__iter__, SequentialSampler.__iter__):
            yield from self
            return
        chunks = self.sampler._pass_chunks()
        # Batches are slices of the chunks; one that spans chunks is joined from its pieces.
        pieces, pending = [], 0
        for chunk in chunks:
            start = 0
            if pending:
                take = min(self.batch_size - pending, len(chunk))
                pieces.append(chunk[:take])
                pending += take
                start = take
                if pending < self.batch_size:
                    continue
                yield np.concatenate(pieces)
                pieces, pending = [], 0
            full_stop = start + (len(chunk) - start) // self.batch_size * self.batch_size
            for begin in range(start, full_stop, self.batch_size):
                yield chunk[begin:begin + self.batch_size]
            if full_stop < len(chunk):
                pieces, pending = [chunk[full_stop:]], len(chunk) - full_stop
        if pending and not self.drop_last:
            yield np.concatenate(pieces)

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return -(-len(self.sampler) // self.batch_size)
