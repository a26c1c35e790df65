"""DataLoader: mini-batches of a dataset in the order of a sampler; default_collate and default_convert."""

import collections.abc
import copy
import itertools
import multiprocessing
import numbers

import numpy as np

from ..random import _generator_argument
from .dataset import IterableDataset, Subset, TensorDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler

__all__ = ["DataLoader", "default_collate", "default_convert"]


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
    # the module too: a torch.Tensor from a torch-side transform is otherwise just "Tensor"
    kind = type(elem)
    name = kind.__qualname__ if kind.__module__ == "builtins" else \
        f"{kind.__module__}.{kind.__qualname__}"
    raise TypeError(
        f"default_collate: don't know how to batch samples of type {name}; expected kernn "
        "Tensors, numpy arrays, numbers, strings, or tuples/lists/dicts of them"
    )


def default_convert(data):
    """Turn the numpy arrays in one sample into Tensors, as ``torch.utils.data.default_convert``.

    What :class:`DataLoader` does to each sample when ``batch_size=None`` (no batching):

    - numpy arrays (of numbers or bools) and numpy scalars become Tensors, sharing the memory of
      an array; arrays of strings, bytes or objects stay as they are;
    - kernn Tensors, Python numbers, strings and anything else stay as they are;
    - mappings, namedtuples and sequences are converted element by element, keeping their type
      where it can be rebuilt, except tuples, which become lists (torch's rule, kept for
      backward compatibility there).

    Args:
        data: one sample.

    Example:
        >>> default_convert((np.zeros(2, np.float32), 3))
        [tensor([0., 0.]), 3]
    """
    kernn = _kernn()
    if isinstance(data, kernn.Tensor):
        return data
    if isinstance(data, np.ndarray):
        return data if data.dtype.kind in "SUO" else kernn.from_numpy(data)
    if isinstance(data, np.generic):
        return data if isinstance(data, (np.str_, np.bytes_)) else kernn.as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        converted = {key: default_convert(data[key]) for key in data}
        try:
            if isinstance(data, collections.abc.MutableMapping):
                # a copy keeps what the mapping type carries besides its items
                clone = copy.copy(data)
                clone.update(converted)
                return clone
            return type(data)(converted)
        except TypeError:  # a mapping type that cannot be copied, updated or built from a dict
            return converted
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return type(data)(*(default_convert(field) for field in data))
    if isinstance(data, tuple):
        return [default_convert(field) for field in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        converted = [default_convert(item) for item in data]
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                clone[:] = converted
                return clone
            return type(data)(converted)
        except TypeError:  # e.g. range, which cannot be built from a list
            return converted
    return data


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


def _gather_plan(dataset):
    """How to gather a batch of ``dataset`` with one fancy index per array, or None.

    Returns the arrays of the TensorDataset under ``dataset`` and the index arrays of the
    Subsets on the way to it, outermost first: the rows of a batch at ``positions`` are
    ``indices[positions]`` through each of them in turn. None where some dataset on the way is
    not a plain TensorDataset or Subset (a subclass overriding ``__getitem__`` must be called
    per sample) or a Subset's indices are not integers.
    """
    chain = []
    while type(dataset).__getitem__ is Subset.__getitem__:
        indices = np.asarray(dataset.indices)
        if indices.dtype.kind not in "iu":
            return None
        chain.append(indices)
        dataset = dataset.dataset
    if type(dataset).__getitem__ is TensorDataset.__getitem__:
        return dataset.arrays, chain
    return None


def _gather(plan, indices):
    """The batch of a :func:`_gather_plan` at ``indices``, one fancy index per array.

    None when ``indices`` is not a 1-D sequence of integers (the caller then indexes per
    sample, where such indices get the dataset's own answer).
    """
    positions = np.asarray(indices)
    if positions.ndim != 1 or positions.dtype.kind not in "iu":
        return None
    arrays, chain = plan
    for subset_indices in chain:
        positions = subset_indices[positions]
    from_numpy = _kernn().from_numpy
    return tuple(from_numpy(array[positions]) for array in arrays)


def _multiprocessing_context_argument(context, num_workers):
    """torch's checks of ``multiprocessing_context`` (only with workers; a start method's name
    or a context), returning the context."""
    if context is None:
        return None
    if num_workers == 0:
        raise ValueError(
            "DataLoader: multiprocessing_context can only be used with multi-process loading "
            f"(num_workers > 0), but got num_workers={num_workers}"
        )
    if isinstance(context, str):
        methods = multiprocessing.get_all_start_methods()
        if context not in methods:
            raise ValueError(
                f"DataLoader: multiprocessing_context should specify a valid start method in "
                f"{methods!r}, but got multiprocessing_context={context!r}"
            )
        context = multiprocessing.get_context(context)
    if not isinstance(context, multiprocessing.context.BaseContext):
        raise TypeError(
            "DataLoader: multiprocessing_context should be a valid context object or a string "
            f"specifying the start method, but got {type(context).__name__}"
        )
    return context


class DataLoader:
    """Iterate over a dataset in mini-batches, as ``torch.utils.data.DataLoader`` (in-process).

    A sampler says in which order the samples are visited: by default each sample once per pass
    (epoch), in order (:class:`SequentialSampler`) or, with ``shuffle=True``, in a fresh random
    order every pass (:class:`RandomSampler`); ``sampler`` gives any other order. A
    :class:`BatchSampler` cuts that order into batches of ``batch_size`` indices, or
    ``batch_sampler`` gives the indices of each batch itself. With ``batch_size=None`` nothing
    is batched: every sample goes through ``collate_fn`` on its own, by default
    :func:`default_convert` (numpy arrays become Tensors), as in torch.

    For a :class:`TensorDataset`, or a :class:`Subset` of one (as :func:`random_split` gives),
    with the default collation, a batch is gathered with one fancy index per array
    (``array[indices]``, the indices the batch sampler gives) rather than one ``__getitem__``
    per sample, whatever the sampler, so iterating over in-memory arrays costs one copy of the
    batch and no per-sample Python. A subclass of either that overrides ``__getitem__`` is
    indexed per sample, so that its ``__getitem__`` runs.

    ``len(loader)`` is the number of batches, the batch sampler's length (with
    ``batch_size=None``, the sampler's): TypeError for a sampler without ``__len__``, as in
    torch. Over an :class:`IterableDataset` it is computed from ``len(dataset)``, TypeError
    when the dataset has no ``__len__``.

    kernn loads every batch in the main process, whatever ``num_workers`` says: the arguments
    torch uses for worker processes and CUDA pinning are accepted (and checked as torch checks
    them) so that a torch script runs unchanged, and have no effect. For in-memory data the
    main process is the fastest place anyway: a batch is one fancy index, no inter-process copy.

    Args:
        dataset: a map-style dataset (``__getitem__``, and ``__len__`` unless ``sampler`` or
            ``batch_sampler`` is given) or an :class:`IterableDataset`, whose samples are
            batched in the order it yields them (no ``shuffle``, ``sampler`` or
            ``batch_sampler`` then, as in torch).
        batch_size (int, optional): samples per batch, or None for no batching. Default 1.
        shuffle (bool, optional): draw a new random order every epoch. Default None (False).
        sampler: the order of the samples: a :class:`Sampler` or any iterable of indices.
            Not with ``shuffle``.
        batch_sampler: the indices of every batch: a :class:`Sampler` or any iterable of lists
            of indices. Not with ``shuffle``, ``sampler``, ``drop_last`` or a ``batch_size``
            other than 1.
        num_workers (int): accepted, no effect (no worker processes). Must be >= 0. Default 0.
        collate_fn: merges a list of samples into a batch; default :func:`default_collate`.
            With ``batch_size=None`` it gets one sample at a time; default
            :func:`default_convert`.
        pin_memory (bool): accepted, no effect (CPU only). Default False.
        drop_last (bool): drop the last batch when it is smaller than ``batch_size``.
            Not with ``batch_size=None``. Default False.
        timeout (float): accepted, no effect (no workers to wait for). Must be >= 0. Default 0.
        worker_init_fn: None or a callable; never called (no worker processes).
        multiprocessing_context: accepted, no effect. As in torch, only with
            ``num_workers > 0``: a start method's name or a ``multiprocessing`` context.
        generator: the randomness of ``shuffle`` (given to its :class:`RandomSampler`): a
            ``numpy.random.Generator``, an int seed (a Generator made once, so successive
            epochs differ but two loaders with one seed agree), or None: every epoch draws its
            permutation from kernn's global generator, so ``kernn.manual_seed(s)`` makes the
            order reproducible.
        prefetch_factor (int, optional): accepted, no effect. As in torch, only with
            ``num_workers > 0``, and >= 0. Default None.
        persistent_workers (bool): accepted, no effect. As in torch, True needs
            ``num_workers > 0``. Default False.
        pin_memory_device (str): accepted, no effect (torch deprecates it). Default "".
        in_order (bool): accepted, no effect (batches always come in the sampler's order).
            Default True.

    Example:
        >>> ds = TensorDataset(np.arange(10, dtype=np.float32).reshape(5, 2), np.arange(5))
        >>> loader = DataLoader(ds, batch_size=2, shuffle=True, generator=0)
        >>> len(loader)
        3
        >>> [y.shape for x, y in loader]                                 # doctest: +SKIP
        [(2,), (2,), (1,)]
        >>> by_hand = DataLoader(ds, batch_sampler=[[4, 0], [1, 2, 3]])
        >>> [y.numpy().tolist() for x, y in by_hand]
        [[4, 0], [1, 2, 3]]
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        if isinstance(dataset, IterableDataset):
            # torch's rules: a stream has no indices to order
            if shuffle not in (None, False):
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified shuffle option, but "
                    f"got shuffle={shuffle!r}"
                )
            for name, value in (("sampler", sampler), ("batch_sampler", batch_sampler)):
                if value is not None:
                    raise ValueError(
                        f"DataLoader with IterableDataset: expected unspecified {name} option, "
                        f"but got {name}={value!r}"
                    )
        elif not hasattr(dataset, "__getitem__"):
            raise TypeError(
                "DataLoader: dataset must define __getitem__ or be an IterableDataset, got "
                f"{type(dataset).__name__}"
            )
        self.dataset = dataset
        self.shuffle = bool(shuffle)
        self.generator = _generator_argument(generator, "DataLoader")

        # torch's rules for combining the sampling arguments
        if sampler is not None and self.shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or self.shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "DataLoader: batch_sampler option is mutually exclusive with batch_size, "
                    f"shuffle, sampler, and drop_last; got batch_size={batch_size!r}, "
                    f"shuffle={shuffle!r}, sampler={sampler!r}, drop_last={drop_last!r}"
                )
            batch_size, drop_last = None, False
        elif batch_size is None:
            if drop_last:
                raise ValueError(
                    "DataLoader: batch_size=None option disables auto-batching and is mutually "
                    "exclusive with drop_last"
                )
        else:
            batch_size = _int_argument(batch_size, "batch_size", 1)
        if isinstance(dataset, IterableDataset):
            # torch's infinite sampler of None: the batch sampler's batches only say how many
            # samples to take from the stream
            sampler = itertools.repeat(None)
        elif sampler is None:
            # a batch_sampler gives the indices itself; the sampler made here goes unused, as in torch
            if batch_sampler is None and not hasattr(dataset, "__len__"):
                raise TypeError(
                    "DataLoader: dataset must define __len__ unless a sampler or batch_sampler "
                    f"gives the indices, got {type(dataset).__name__}"
                )
            sampler = (RandomSampler(dataset, generator=self.generator) if self.shuffle
                       else SequentialSampler(dataset))
        if batch_size is not None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.collate_fn = collate_fn

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
        self.multiprocessing_context = _multiprocessing_context_argument(
            multiprocessing_context, self.num_workers)
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
        if not isinstance(pin_memory_device, str):
            raise TypeError(
                f"DataLoader: pin_memory_device must be a str, got {type(pin_memory_device).__name__}"
            )
        self.pin_memory_device = pin_memory_device
        self.in_order = _bool_argument(in_order, "in_order")

    def __len__(self):
        if isinstance(self.dataset, IterableDataset):
            length = len(self.dataset)  # TypeError without __len__, as in torch
            if self.batch_size is None:
                return length
            return length // self.batch_size if self.drop_last else -(-length // self.batch_size)
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)

    def __iter__(self):
        if isinstance(self.dataset, IterableDataset):
            yield from self._stream_batches()
            return
        if self.batch_sampler is None:
            convert = self.collate_fn or default_convert
            for index in self.sampler:
                yield convert(self.dataset[index])
            return
        plan = _gather_plan(self.dataset) if self.collate_fn is None else None
        collate = self.collate_fn or default_collate
        batches = self.batch_sampler
        if plan is not None and type(batches).__iter__ is BatchSampler.__iter__:
            batches = batches._batches()  # index arrays, no Python per index
        for indices in batches:
            batch = _gather(plan, indices) if plan is not None else None
            yield batch if batch is not None else collate([self.dataset[i] for i in indices])

    def _stream_batches(self):
        """The batches of an IterableDataset: its samples in order, as torch's fetcher takes them."""
        samples = iter(self.dataset)
        if self.batch_sampler is None:
            convert = self.collate_fn or default_convert
            for sample in samples:
                yield convert(sample)
            return
        collate = self.collate_fn or default_collate
        for indices in self.batch_sampler:
            batch = list(itertools.islice(samples, len(indices)))
            if not batch or (self.drop_last and len(batch) < len(indices)):
                return
            yield collate(batch)
