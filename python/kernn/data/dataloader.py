"""DataLoader: mini-batches of a map-style dataset, drawn without replacement."""

import collections.abc
import numbers

import numpy as np

from ..random import _generator_argument, default_generator
from .dataset import Subset, TensorDataset

__all__ = ["DataLoader", "default_collate"]


def _kernn():
    # imported at call time: kernn/__init__ imports this package while it is still initialising
    import kernn

    return kernn


def _stack(arrays):
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise ValueError(
            f"default_collate: cannot stack samples of different shapes {sorted(shapes)}; "
            "pass a collate_fn that pads or keeps them apart"
        )
    return _kernn().from_numpy(np.stack(arrays))


def default_collate(batch):
    """Merge a list of samples into a batch, as ``torch.utils.data.default_collate``.

    - kernn Tensors and numpy arrays are stacked along a new first dimension into a Tensor
      (dtype kept);
    - Python ints and numpy integer scalars become an int64 Tensor (class labels), bools a bool
      Tensor, numpy float scalars a Tensor of their dtype;
    - Python floats become a float32 Tensor (kernn's default dtype; torch would give float64);
    - strings and bytes stay a list;
    - tuples, lists, namedtuples and dicts are collated element by element, recursively,
      keeping their type.

    Args:
        batch: a non-empty list of samples of one structure.

    Example:
        >>> x, y = default_collate([(np.zeros(3, np.float32), 1), (np.ones(3, np.float32), 0)])
        >>> x.shape, y.numpy().dtype                                     # doctest: +SKIP
        ((2, 3), dtype('int64'))
    """
    if len(batch) == 0:
        raise ValueError("default_collate: empty batch")
    kernn = _kernn()
    elem = batch[0]
    if isinstance(elem, kernn.Tensor):
        return _stack([t.numpy() for t in batch])
    if isinstance(elem, np.ndarray):
        return _stack(batch)
    if isinstance(elem, (bool, np.bool_)):
        return kernn.from_numpy(np.asarray(batch, dtype=np.bool_))
    if isinstance(elem, (numbers.Integral, np.integer)):
        return kernn.from_numpy(np.asarray(batch, dtype=np.int64))
    if isinstance(elem, np.floating):
        return kernn.from_numpy(np.asarray(batch, dtype=elem.dtype))
    if isinstance(elem, numbers.Real):
        return kernn.from_numpy(np.asarray(batch, dtype=np.float32))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(elem, (tuple, list)):
        lengths = {len(sample) for sample in batch}
        if len(lengths) > 1:
            raise ValueError(
                f"default_collate: samples have different numbers of fields {sorted(lengths)}"
            )
        return type(elem)(default_collate(list(field)) for field in zip(*batch))
    raise TypeError(
        f"default_collate: don't know how to batch samples of type {type(elem).__name__}; "
        "expected Tensors, numpy arrays, numbers, strings, or tuples/lists/dicts of them"
    )


def _int_argument(value, name, minimum):
    """``value`` as an int of at least ``minimum`` (0 or 1), else ValueError naming the argument."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        wanted = "a positive int" if minimum == 1 else "a non-negative int"
        raise ValueError(f"DataLoader: {name} must be {wanted}, got {value!r}")
    return int(value)


def _bool_argument(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"DataLoader: {name} must be a bool, got {type(value).__name__} {value!r}")
    return bool(value)


def _rows_to_gather(dataset, positions):
    """The arrays of the TensorDataset under ``dataset`` and the rows of them at ``positions``.

    Looks through Subsets (mapping the positions by their indices); None where some dataset on
    the way is not a plain TensorDataset or Subset (a subclass overriding ``__getitem__`` must
    be called per sample) or a Subset's indices are not integers.
    """
    while type(dataset).__getitem__ is Subset.__getitem__:
        indices = np.asarray(dataset.indices)
        if indices.dtype.kind not in "iu":
            return None
        positions = indices[positions]
        dataset = dataset.dataset
    if type(dataset).__getitem__ is TensorDataset.__getitem__:
        return dataset.arrays, positions
    return None


class DataLoader:
    """Iterate over a dataset in mini-batches, as ``torch.utils.data.DataLoader`` (in-process).

    Each pass (epoch) visits every sample once: batches are drawn without replacement, in order
    or, with ``shuffle=True``, from a fresh permutation per epoch.

    For a :class:`TensorDataset`, or a :class:`Subset` of one (as :func:`random_split` gives),
    with the default collation, a batch is gathered with one fancy index per array
    (``array[indices]``) rather than one ``__getitem__`` per sample, so iterating over in-memory
    arrays costs one copy of the batch and no per-sample Python. A subclass of either that
    overrides ``__getitem__`` is indexed per sample, so that its ``__getitem__`` runs.

    kernn loads every batch in the main process, whatever ``num_workers`` says: the arguments
    torch uses for worker processes and CUDA pinning are accepted (and checked as torch checks
    them) so that a torch script runs unchanged, and have no effect. For in-memory data the
    main process is the fastest place anyway: a batch is one fancy index, no inter-process copy.

    Args:
        dataset: a map-style dataset (``__len__`` and ``__getitem__``).
        batch_size (int): samples per batch. Default 1.
        shuffle (bool): draw a new random order every epoch. Default False.
        num_workers (int): accepted, no effect (no worker processes). Must be >= 0. Default 0.
        collate_fn: merges a list of samples into a batch; default :func:`default_collate`.
        pin_memory (bool): accepted, no effect (CPU only). Default False.
        drop_last (bool): drop the last batch when it is smaller than ``batch_size``.
        timeout (float): accepted, no effect (no workers to wait for). Must be >= 0. Default 0.
        worker_init_fn: None or a callable; never called (no worker processes).
        generator: the randomness of ``shuffle``: a ``numpy.random.Generator``, an int seed (a
            Generator made once, so successive epochs differ but two loaders with one seed agree),
            or None: every epoch draws its permutation from kernn's global generator, so
            ``kernn.manual_seed(s)`` makes the order reproducible.
        prefetch_factor (int, optional): accepted, no effect. As in torch, only with
            ``num_workers > 0``, and >= 0. Default None.
        persistent_workers (bool): accepted, no effect. As in torch, True needs
            ``num_workers > 0``. Default False.

    The arguments after ``shuffle`` are keyword-only: torch's fourth and fifth positional
    arguments (``sampler``, ``batch_sampler``) do not exist in kernn, so a positional call
    beyond ``shuffle`` would bind the wrong values.

    Example:
        >>> ds = TensorDataset(np.arange(10, dtype=np.float32).reshape(5, 2), np.arange(5))
        >>> loader = DataLoader(ds, batch_size=2, shuffle=True, generator=0)
        >>> len(loader)
        3
        >>> [y.shape for x, y in loader]                                 # doctest: +SKIP
        [(2,), (2,), (1,)]
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, *, num_workers=0, collate_fn=None,
                 pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None, generator=None,
                 prefetch_factor=None, persistent_workers=False):
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(
                f"DataLoader: dataset must define __len__ and __getitem__, got {type(dataset).__name__}"
            )
        self.dataset = dataset
        self.batch_size = _int_argument(batch_size, "batch_size", 1)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.generator = _generator_argument(generator, "DataLoader")

        # kept as torch keeps them, for code that reads them back; nothing else uses them
        self.num_workers = _int_argument(num_workers, "num_workers", 0)
        self.pin_memory = _bool_argument(pin_memory, "pin_memory")
        self.persistent_workers = _bool_argument(persistent_workers, "persistent_workers")
        if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real):
            raise TypeError(f"DataLoader: timeout must be a number, got {type(timeout).__name__}")
        if timeout < 0:
            raise ValueError(f"DataLoader: timeout must be non-negative, got {timeout!r}")
        self.timeout = timeout
        if worker_init_fn is not None and not callable(worker_init_fn):
            raise TypeError(
                f"DataLoader: worker_init_fn must be None or callable, got {type(worker_init_fn).__name__}"
            )
        self.worker_init_fn = worker_init_fn
        if prefetch_factor is not None:
            prefetch_factor = _int_argument(prefetch_factor, "prefetch_factor", 0)
            if self.num_workers == 0:
                raise ValueError(
                    f"DataLoader: prefetch_factor={prefetch_factor} needs num_workers > 0 (as in "
                    "torch); leave it None"
                )
        self.prefetch_factor = prefetch_factor
        if self.persistent_workers and self.num_workers == 0:
            raise ValueError("DataLoader: persistent_workers=True needs num_workers > 0 (as in torch)")

    def __len__(self):
        n = len(self.dataset)
        if self.drop_last:
            return n // self.batch_size
        return -(-n // self.batch_size)

    def _order(self):
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        rng = self.generator if self.generator is not None else default_generator()
        return rng.permutation(n)

    def __iter__(self):
        order = self._order()
        stop = len(self) * self.batch_size if self.drop_last else len(order)
        starts = range(0, stop, self.batch_size)
        gather = _rows_to_gather(self.dataset, order) if self.collate_fn is None else None
        if gather is not None:
            from_numpy = _kernn().from_numpy
            arrays, rows = gather
            for start in starts:
                indices = rows[start:start + self.batch_size]
                yield tuple(from_numpy(array[indices]) for array in arrays)
            return
        collate = self.collate_fn or default_collate
        for start in starts:
            yield collate([self.dataset[int(i)] for i in order[start:start + self.batch_size]])
