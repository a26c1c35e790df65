import collections
import inspect
import multiprocessing

import numpy as np
import pytest

import kernn
from kernn.data import (BatchSampler, DataLoader, Dataset, IterableDataset, RandomSampler, Sampler, SequentialSampler,
                        Subset, TensorDataset, WeightedRandomSampler, default_collate, default_convert, random_split)


class Squares(Dataset):
    """A per-sample dataset: (features, label) with label an int."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.array([i, i * i], dtype=np.float32), i


class Unsized:
    """Indexable, without __len__: a DataLoader needs a sampler for it."""

    def __getitem__(self, i):
        return np.array([i], dtype=np.float32), i


class Countdown(Sampler[int]):
    """A sampler without __len__."""

    def __init__(self, start):
        self.start = start

    def __iter__(self):
        return iter(range(self.start - 1, -1, -1))


def labels_of(loader):
    return [y.numpy().tolist() for _, y in loader]


def make_tensor_dataset(n=10):
    return TensorDataset(np.arange(2 * n, dtype=np.float32).reshape(n, 2), np.arange(n))


@pytest.mark.parametrize("dataset", [make_tensor_dataset(), Squares(10)], ids=["tensor", "per-sample"])
def test_batches_in_order_and_the_last_one_short(dataset):
    loader = DataLoader(dataset, batch_size=4)
    assert len(loader) == 3
    assert labels_of(loader) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    x, y = next(iter(loader))
    assert isinstance(x, kernn.Tensor) and x.shape == (4, 2) and x.dtype == kernn.float32
    assert y.dtype == kernn.int64
    np.testing.assert_array_equal(x.numpy()[:, 0], [0, 1, 2, 3] if isinstance(dataset, Squares) else [0, 2, 4, 6])


@pytest.mark.parametrize("dataset", [make_tensor_dataset(), Squares(10)], ids=["tensor", "per-sample"])
def test_drop_last(dataset):
    loader = DataLoader(dataset, batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert labels_of(loader) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(DataLoader(dataset, batch_size=5, drop_last=True)) == 2
    assert len(DataLoader(dataset, batch_size=11, drop_last=True)) == 0
    assert labels_of(DataLoader(dataset, batch_size=11, drop_last=True)) == []


@pytest.mark.parametrize("dataset", [make_tensor_dataset(37), Squares(37)], ids=["tensor", "per-sample"])
def test_shuffle_draws_every_sample_once_per_epoch(dataset):
    loader = DataLoader(dataset, batch_size=8, shuffle=True, generator=3)
    first = np.concatenate(labels_of(loader))
    second = np.concatenate(labels_of(loader))
    assert sorted(first) == list(range(37)) and sorted(second) == list(range(37))
    assert not np.array_equal(first, second)  # a new order each epoch
    assert not np.array_equal(first, np.arange(37))


def test_shuffle_with_a_seed_is_reproducible():
    ds = make_tensor_dataset(50)
    a = DataLoader(ds, batch_size=7, shuffle=True, generator=123)
    b = DataLoader(ds, batch_size=7, shuffle=True, generator=123)
    for _ in range(2):
        assert labels_of(a) == labels_of(b)
    c = DataLoader(ds, batch_size=7, shuffle=True, generator=124)
    assert labels_of(c) != labels_of(DataLoader(ds, batch_size=7, shuffle=True, generator=123))


def test_shuffle_accepts_a_numpy_generator():
    ds = make_tensor_dataset(20)
    expected = np.random.default_rng(9).permutation(20)[:5].tolist()
    loader = DataLoader(ds, batch_size=5, shuffle=True, generator=np.random.default_rng(9))
    assert labels_of(loader)[0] == expected


def test_default_shuffle_follows_kernn_manual_seed():
    ds = make_tensor_dataset(30)
    kernn.manual_seed(5)
    first = labels_of(DataLoader(ds, batch_size=6, shuffle=True))
    kernn.manual_seed(5)
    again = labels_of(DataLoader(ds, batch_size=6, shuffle=True))
    assert first == again
    kernn.manual_seed(6)
    assert labels_of(DataLoader(ds, batch_size=6, shuffle=True)) != first


def test_tensor_fast_path_matches_per_sample_collation():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((23, 3, 4)).astype(np.float32)
    y = rng.integers(0, 10, 23)
    ds = TensorDataset(x, y)
    fast = DataLoader(ds, batch_size=5, shuffle=True, generator=1)
    slow = DataLoader(ds, batch_size=5, shuffle=True, generator=1, collate_fn=default_collate)
    for (xf, yf), (xs, ys) in zip(fast, slow):
        np.testing.assert_array_equal(xf.numpy(), xs.numpy())
        np.testing.assert_array_equal(yf.numpy(), ys.numpy())
        assert xf.dtype == xs.dtype and yf.dtype == ys.dtype


def test_fast_path_copies_the_batch():
    x = np.zeros((4, 2), np.float32)
    batch, = next(iter(DataLoader(TensorDataset(x), batch_size=4)))
    batch.numpy()[:] = 1
    assert x.sum() == 0


def test_tensor_dataset_of_kernn_tensors():
    x = kernn.randn(6, 3)
    y = kernn.tensor([0, 1, 0, 1, 1, 0])
    ds = TensorDataset(x, y)
    assert len(ds) == 6
    row, label = ds[2]
    assert isinstance(row, kernn.Tensor) and row.shape == (3,)
    xb, yb = next(iter(DataLoader(ds, batch_size=4)))
    np.testing.assert_array_equal(xb.numpy(), x.numpy()[:4])
    assert yb.numpy().tolist() == [0, 1, 0, 1]


def test_tensor_dataset_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match=r"same first dimension.*\(5, 2\), \(4,\)"):
        TensorDataset(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    with pytest.raises(ValueError, match="0-dimensional"):
        TensorDataset(np.float32(1))


def test_collate_numbers_and_labels():
    ints = default_collate([1, 2, 3])
    assert ints.dtype == kernn.int64 and ints.numpy().tolist() == [1, 2, 3]
    assert default_collate([np.uint8(1), np.uint8(7)]).dtype == kernn.int64
    floats = default_collate([0.5, 1.5])
    assert floats.dtype == kernn.float32
    assert default_collate([np.float64(0.5), np.float64(2)]).dtype == kernn.float64
    assert default_collate([True, False]).dtype == kernn.bool
    assert default_collate(["a", "b"]) == ["a", "b"]


def test_collate_stacks_arrays_and_tensors():
    stacked = default_collate([np.ones((2, 3), np.float64), np.zeros((2, 3), np.float64)])
    assert stacked.shape == (2, 2, 3) and stacked.dtype == kernn.float64
    from_tensors = default_collate([kernn.ones(4), kernn.zeros(4)])
    np.testing.assert_array_equal(from_tensors.numpy(), [[1] * 4, [0] * 4])


def test_collate_recurses_into_tuples_lists_dicts_and_namedtuples():
    Pair = collections.namedtuple("Pair", "image label")
    batch = default_collate([
        {"x": (np.zeros(2, np.float32), [1, "a"]), "p": Pair(np.ones(1, np.float32), 3)},
        {"x": (np.ones(2, np.float32), [2, "b"]), "p": Pair(np.ones(1, np.float32), 4)},
    ])
    x_pair = batch["x"]
    assert isinstance(x_pair, tuple) and x_pair[0].shape == (2, 2)
    assert isinstance(x_pair[1], list)
    assert x_pair[1][0].numpy().tolist() == [1, 2] and x_pair[1][1] == ["a", "b"]
    assert isinstance(batch["p"], Pair) and batch["p"].label.numpy().tolist() == [3, 4]


def test_collate_errors():
    with pytest.raises(ValueError, match=r"different shapes \[\(2,\), \(3,\)\]"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(ValueError, match="different numbers of fields"):
        default_collate([(1, 2), (1,)])
    with pytest.raises(TypeError, match="don't know how to batch samples of type object"):
        default_collate([object(), object()])
    with pytest.raises(ValueError, match="empty batch"):
        default_collate([])


def test_collate_error_names_a_foreign_tensor_type_with_its_module():
    torch = pytest.importorskip("torch")  # e.g. samples from a transform still written for torch
    with pytest.raises(TypeError, match="samples of type torch.Tensor; expected kernn Tensors"):
        default_collate([torch.zeros(2), torch.zeros(2)])


def test_loader_argument_errors():
    ds = make_tensor_dataset()
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="batch_size must be a positive int"):
            DataLoader(ds, batch_size=bad)
    with pytest.raises(TypeError, match="generator must be None, an int seed or a numpy.random.Generator"):
        DataLoader(ds, shuffle=True, generator="seed")
    with pytest.raises(TypeError, match="DataLoader: dataset must define __getitem__ or be an IterableDataset, got int"):
        DataLoader(42)
    with pytest.raises(TypeError, match="DataLoader: dataset must define __len__ unless a sampler or "
                                        "batch_sampler gives the indices, got Unsized"):
        DataLoader(Unsized())


def test_custom_collate_fn_gets_the_samples():
    loader = DataLoader(Squares(5), batch_size=2, collate_fn=lambda samples: [label for _, label in samples])
    assert list(loader) == [[0, 1], [2, 3], [4]]


def test_torch_worker_arguments_are_accepted_and_change_nothing():
    ds = make_tensor_dataset(30)
    plain = DataLoader(ds, batch_size=4, shuffle=True, generator=7)
    ported = DataLoader(ds, batch_size=4, shuffle=True, num_workers=2, pin_memory=True,
                        timeout=5.0, worker_init_fn=lambda worker_id: None, generator=7,
                        prefetch_factor=4, persistent_workers=True)
    assert labels_of(ported) == labels_of(plain)
    assert (ported.num_workers, ported.pin_memory, ported.timeout) == (2, True, 5.0)
    assert (ported.prefetch_factor, ported.persistent_workers) == (4, True)
    defaults = DataLoader(ds)
    assert (defaults.num_workers, defaults.pin_memory, defaults.timeout, defaults.worker_init_fn,
            defaults.prefetch_factor, defaults.persistent_workers) == (0, False, 0, None, None, False)


def test_worker_init_fn_is_never_called():
    calls = []
    loader = DataLoader(Squares(6), batch_size=2, num_workers=2, worker_init_fn=calls.append)
    assert labels_of(loader) == [[0, 1], [2, 3], [4, 5]]
    assert calls == []


@pytest.mark.parametrize("kwargs", [
    {"num_workers": -1},
    {"timeout": -0.5},
    {"prefetch_factor": 2},
    {"num_workers": 1, "prefetch_factor": -1},
    {"persistent_workers": True},
    {"num_workers": 0, "prefetch_factor": None, "persistent_workers": False, "timeout": 0},
    {"num_workers": 2, "prefetch_factor": 0, "persistent_workers": True, "timeout": 1},
    {"multiprocessing_context": "spawn"},
    {"num_workers": 1, "multiprocessing_context": "no-such-method"},
    {"num_workers": 1, "multiprocessing_context": "spawn"},
], ids=repr)
def test_worker_arguments_are_refused_where_torch_refuses_them(kwargs):
    torch = pytest.importorskip("torch")
    x = np.zeros((4, 2), np.float32)
    try:
        torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(x)), **kwargs)
    except ValueError:
        with pytest.raises(ValueError, match="DataLoader: "):
            DataLoader(TensorDataset(x), **kwargs)
    else:
        DataLoader(TensorDataset(x), **kwargs)


def test_worker_argument_errors_name_the_argument():
    ds = make_tensor_dataset()
    with pytest.raises(ValueError, match="num_workers must be a non-negative int, got -1"):
        DataLoader(ds, num_workers=-1)
    for bad in (1.5, True, "2"):
        with pytest.raises(ValueError, match="num_workers must be a non-negative int"):
            DataLoader(ds, num_workers=bad)
    with pytest.raises(TypeError, match="pin_memory must be a bool, got str 'cuda'"):
        DataLoader(ds, pin_memory="cuda")
    with pytest.raises(TypeError, match="persistent_workers must be a bool, got int"):
        DataLoader(ds, num_workers=1, persistent_workers=1)
    with pytest.raises(TypeError, match="timeout must be a number, got NoneType"):
        DataLoader(ds, timeout=None)
    with pytest.raises(TypeError, match="worker_init_fn must be None or callable, got int"):
        DataLoader(ds, worker_init_fn=0)
    with pytest.raises(ValueError, match="prefetch_factor=2 needs num_workers > 0"):
        DataLoader(ds, prefetch_factor=2)


def test_signature_is_torchs():
    torch = pytest.importorskip("torch")
    ours = inspect.signature(DataLoader).parameters
    theirs = inspect.signature(torch.utils.data.DataLoader).parameters
    assert list(ours) == list(theirs)
    for name, parameter in ours.items():
        assert (parameter.kind, parameter.default) == (theirs[name].kind, theirs[name].default), name


def test_positional_arguments_bind_as_in_torch():
    # dataset, batch_size, shuffle, sampler, batch_sampler, num_workers, collate_fn, pin_memory, drop_last
    loader = DataLoader(Squares(7), 3, False, [6, 5, 4, 3, 2, 1, 0], None, 0, None, False, True)
    assert labels_of(loader) == [[6, 5, 4], [3, 2, 1]]
    assert (loader.batch_size, loader.drop_last, loader.num_workers) == (3, True, 0)


def test_new_torch_arguments_are_accepted_and_change_nothing():
    ds = make_tensor_dataset(6)
    loader = DataLoader(ds, batch_size=4, num_workers=1, multiprocessing_context="spawn",
                        pin_memory_device="cuda", in_order=False)
    assert labels_of(loader) == [[0, 1, 2, 3], [4, 5]]
    assert loader.multiprocessing_context is multiprocessing.get_context("spawn")
    assert (loader.pin_memory_device, loader.in_order) == ("cuda", False)
    context = multiprocessing.get_context("fork")
    assert DataLoader(ds, num_workers=1, multiprocessing_context=context).multiprocessing_context is context
    with pytest.raises(TypeError, match="DataLoader: pin_memory_device must be a str, got NoneType"):
        DataLoader(ds, pin_memory_device=None)
    with pytest.raises(TypeError, match="DataLoader: in_order must be a bool, got int"):
        DataLoader(ds, in_order=1)


def test_multiprocessing_context_of_the_wrong_type_is_refused_as_in_torch():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError):
        torch.utils.data.DataLoader(range(4), num_workers=1, multiprocessing_context=3)
    with pytest.raises(TypeError, match="DataLoader: multiprocessing_context should be a valid context "
                                        "object or a string specifying the start method, but got int"):
        DataLoader(make_tensor_dataset(), num_workers=1, multiprocessing_context=3)


def subset_cases():
    rng = np.random.default_rng(0)
    base = TensorDataset(rng.standard_normal((23, 3)).astype(np.float32), rng.integers(0, 10, 23))
    return {
        "subset": Subset(base, [5, 0, 22, 7, 7, 13, -1, 2]),
        "subset-of-subset": Subset(Subset(base, list(range(22, 2, -1))), [0, 4, 19, 3, 8, 8, 1]),
        "numpy-indices": Subset(base, np.array([3, 1, 4, 1, 5, 9, 2, 6])),
        "random-split": random_split(base, [0.6, 0.4], generator=5)[0],
        "empty": Subset(base, []),
    }


@pytest.mark.parametrize("name", list(subset_cases()))
def test_subset_of_a_tensor_dataset_gathers_what_per_sample_collation_gives(name):
    subset = subset_cases()[name]
    fast = list(DataLoader(subset, batch_size=3, shuffle=True, generator=1))
    slow = list(DataLoader(subset, batch_size=3, shuffle=True, generator=1, collate_fn=default_collate))
    assert len(fast) == len(slow) == len(DataLoader(subset, batch_size=3))
    for (xf, yf), (xs, ys) in zip(fast, slow):
        np.testing.assert_array_equal(xf.numpy(), xs.numpy())
        np.testing.assert_array_equal(yf.numpy(), ys.numpy())
        assert xf.dtype == xs.dtype and yf.dtype == ys.dtype


class Doubled(TensorDataset):
    """A subclass whose __getitem__ changes the samples: the loader must call it."""

    def __getitem__(self, index):
        x, y = super().__getitem__(index)
        return x * 2, y


class Negated(Subset):
    def __getitem__(self, index):
        x, y = super().__getitem__(index)
        return -x, y


def test_an_overridden_getitem_runs_for_every_sample():
    x = np.ones((4, 2), np.float32)
    doubled, = [xb.numpy() for xb, _ in DataLoader(Doubled(x, np.arange(4)), batch_size=4)]
    np.testing.assert_array_equal(doubled, 2 * x)
    negated, = [xb.numpy() for xb, _ in DataLoader(Negated(TensorDataset(x, np.arange(4)), [1, 2]), batch_size=4)]
    np.testing.assert_array_equal(negated, -x[:2])


def test_subset_of_a_tensor_dataset_takes_no_per_sample_calls(monkeypatch):
    subset = subset_cases()["subset-of-subset"]
    expected = [y.numpy().tolist() for _, y in DataLoader(subset, batch_size=3, collate_fn=default_collate)]
    for cls in (Subset, TensorDataset):
        def per_sample(self, index, name=cls.__name__):  # one function per class: the loader tells them apart
            raise AssertionError(f"{name}.__getitem__ called per sample")
        monkeypatch.setattr(cls, "__getitem__", per_sample)
    assert labels_of(DataLoader(subset, batch_size=3)) == expected


def torch_pair(n=10):
    """The data of make_tensor_dataset as a torch TensorDataset."""
    torch = pytest.importorskip("torch")
    x = np.arange(2 * n, dtype=np.float32).reshape(n, 2)
    return torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(np.arange(n)))


def torch_labels_of(loader):
    return [y.tolist() for _, y in loader]


# the arguments that order the batches, built from kernn.data's or torch.utils.data's samplers
ORDERS = {
    "sampler-list": lambda library: {"sampler": [3, 1, 4, 1, 5, 9, 2, 6], "batch_size": 3},
    "sampler-drop-last": lambda library: {"sampler": [3, 1, 4, 1, 5, 9, 2, 6], "batch_size": 3,
                                          "drop_last": True},
    "sampler-negative": lambda library: {"sampler": [-1, 0, -10], "batch_size": 2},
    "batch-sampler-list": lambda library: {"batch_sampler": [[4, 0], [1, 2, 3], [9]]},
    "batch-sampler-of-sequential": lambda library: {
        "batch_sampler": library.BatchSampler(library.SequentialSampler(range(10)), 4, True)},
}


class PerSample(TensorDataset):
    """A TensorDataset the loader must index per sample (its __getitem__ is overridden)."""

    def __getitem__(self, index):
        return super().__getitem__(index)


@pytest.mark.parametrize("name", list(ORDERS))
@pytest.mark.parametrize("dataset", [make_tensor_dataset(), PerSample(*make_tensor_dataset().arrays)],
                         ids=["tensor", "per-sample"])
def test_sampler_and_batch_sampler_give_torchs_batches(name, dataset):
    torch = pytest.importorskip("torch")
    ours = DataLoader(dataset, **ORDERS[name](kernn.data))
    theirs = torch.utils.data.DataLoader(torch_pair(), **ORDERS[name](torch.utils.data))
    assert labels_of(ours) == torch_labels_of(theirs)
    assert len(ours) == len(theirs)


# loaders over a dataset, each with another order; the fast path slices the samplers' index arrays
FAST_PATH_ORDERS = {
    "sampler": lambda dataset, **kwargs: DataLoader(
        dataset, batch_size=3, sampler=RandomSampler(dataset, replacement=True, num_samples=17, generator=4),
        **kwargs),
    "weighted-drop-last": lambda dataset, **kwargs: DataLoader(
        dataset, batch_size=4, drop_last=True,
        sampler=WeightedRandomSampler(np.arange(len(dataset)) % 3, 2 * len(dataset), generator=4), **kwargs),
    "batch_sampler": lambda dataset, **kwargs: DataLoader(
        dataset, batch_sampler=BatchSampler(RandomSampler(dataset, generator=4), 4, drop_last=False), **kwargs),
    "batch_sampler-drop-last": lambda dataset, **kwargs: DataLoader(
        dataset, batch_sampler=BatchSampler(SequentialSampler(dataset), 3, drop_last=True), **kwargs),
}


@pytest.mark.parametrize("name", [name for name in subset_cases() if name != "empty"] + ["tensor"])
@pytest.mark.parametrize("order", list(FAST_PATH_ORDERS))
def test_fast_path_gives_the_per_sample_batches_for_a_sampler_and_a_batch_sampler(name, order):
    dataset = make_tensor_dataset(23) if name == "tensor" else subset_cases()[name]
    loader = FAST_PATH_ORDERS[order]
    fast, slow = list(loader(dataset)), list(loader(dataset, collate_fn=default_collate))
    assert len(fast) == len(slow) == len(loader(dataset)) > 0
    for (xf, yf), (xs, ys) in zip(fast, slow):
        np.testing.assert_array_equal(xf.numpy(), xs.numpy())
        np.testing.assert_array_equal(yf.numpy(), ys.numpy())
        assert xf.dtype == xs.dtype and yf.dtype == ys.dtype


def test_fast_path_follows_an_overridden_sampler_iter():
    class Backwards(SequentialSampler):
        def __iter__(self):
            return reversed(range(len(self.data_source)))

    class Pairs(BatchSampler):
        def __iter__(self):
            return iter([[0, 1], [2, 3]])

    ds = make_tensor_dataset(5)
    assert labels_of(DataLoader(ds, batch_size=2, sampler=Backwards(ds))) == [[4, 3], [2, 1], [0]]
    assert labels_of(DataLoader(ds, batch_sampler=Pairs(SequentialSampler(ds), 3, False))) == [[0, 1], [2, 3]]


def test_fast_path_with_a_batch_sampler_takes_no_per_sample_calls(monkeypatch):
    subset = subset_cases()["subset-of-subset"]
    batches = [[6, 0], [3, 3, 1], [5]]
    expected = [y.numpy().tolist() for _, y in DataLoader(subset, batch_sampler=batches,
                                                          collate_fn=default_collate)]
    for cls in (Subset, TensorDataset):
        def per_sample(self, index, name=cls.__name__):
            raise AssertionError(f"{name}.__getitem__ called per sample")
        monkeypatch.setattr(cls, "__getitem__", per_sample)
    assert labels_of(DataLoader(subset, batch_sampler=batches)) == expected


def test_an_empty_batch_is_not_gathered_but_refused_by_the_collation():
    ds = make_tensor_dataset(4)
    with pytest.raises(ValueError, match="default_collate: empty batch"):
        list(DataLoader(ds, batch_sampler=[[]]))


def test_default_samplers_are_torchs_classes():
    ds = make_tensor_dataset()
    loader = DataLoader(ds, batch_size=4)
    assert type(loader.sampler) is SequentialSampler and type(loader.batch_sampler) is BatchSampler
    assert (loader.batch_sampler.batch_size, loader.batch_sampler.drop_last) == (4, False)
    shuffled = DataLoader(ds, batch_size=4, shuffle=True, generator=2, drop_last=True)
    assert type(shuffled.sampler) is RandomSampler and shuffled.sampler.generator is shuffled.generator
    assert shuffled.batch_sampler.drop_last is True
    given = [[1, 2]]
    custom = DataLoader(ds, batch_sampler=given)
    assert custom.batch_sampler is given and (custom.batch_size, custom.drop_last) == (None, False)
    assert type(custom.sampler) is SequentialSampler  # unused, as in torch
    unbatched = DataLoader(ds, batch_size=None)
    assert unbatched.batch_sampler is None and unbatched.batch_size is None


def test_shuffle_is_a_random_sampler_draw():
    ds = make_tensor_dataset(20)
    loader = DataLoader(ds, batch_size=20, shuffle=True, generator=11)
    assert labels_of(loader)[0] == list(RandomSampler(ds, generator=11))


@pytest.mark.parametrize("kwargs", [
    {"sampler": [0, 1], "shuffle": True},
    {"sampler": [0, 1], "shuffle": False},
    {"batch_sampler": [[0, 1]], "batch_size": 2},
    {"batch_sampler": [[0, 1]], "batch_size": 1},
    {"batch_sampler": [[0, 1]], "batch_size": None},
    {"batch_sampler": [[0, 1]], "shuffle": True},
    {"batch_sampler": [[0, 1]], "sampler": [0, 1]},
    {"batch_sampler": [[0, 1]], "drop_last": True},
    {"batch_size": None, "drop_last": True},
    {"batch_size": None, "shuffle": True},
    {"drop_last": 1},
    {"drop_last": None},
], ids=repr)
def test_sampling_arguments_are_refused_where_torch_refuses_them(kwargs):
    torch = pytest.importorskip("torch")
    try:
        torch.utils.data.DataLoader(torch_pair(), **kwargs)
    except ValueError:
        with pytest.raises(ValueError, match="(DataLoader|BatchSampler): "):
            DataLoader(make_tensor_dataset(), **kwargs)
    else:
        DataLoader(make_tensor_dataset(), **kwargs)


def test_sampling_argument_errors_say_what_clashes():
    ds = make_tensor_dataset()
    with pytest.raises(ValueError, match="DataLoader: sampler option is mutually exclusive with shuffle"):
        DataLoader(ds, sampler=[0], shuffle=True)
    with pytest.raises(ValueError, match="DataLoader: batch_sampler option is mutually exclusive with "
                                         "batch_size, shuffle, sampler, and drop_last; got batch_size=2"):
        DataLoader(ds, batch_sampler=[[0]], batch_size=2)
    with pytest.raises(ValueError, match="DataLoader: batch_size=None option disables auto-batching"):
        DataLoader(ds, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="BatchSampler: drop_last should be a boolean value, but got drop_last=1"):
        DataLoader(ds, drop_last=1)


@pytest.mark.parametrize("kwargs, expected", [
    ({"sampler": [1, 2, 3, 4, 5], "batch_size": 2}, 3),
    ({"sampler": [1, 2, 3, 4, 5], "batch_size": 2, "drop_last": True}, 2),
    ({"batch_sampler": [[0], [1, 2]]}, 2),
    ({"batch_size": None}, 10),
    ({"batch_size": None, "sampler": [3, 3, 3]}, 3),
], ids=repr)
def test_len_is_torchs(kwargs, expected):
    torch = pytest.importorskip("torch")
    assert len(DataLoader(make_tensor_dataset(), **kwargs)) == expected
    assert len(torch.utils.data.DataLoader(torch_pair(), **kwargs)) == expected


@pytest.mark.parametrize("kwargs", [
    lambda library: {"sampler": Countdown(4)},
    lambda library: {"batch_sampler": library.BatchSampler(Countdown(4), 2, False)},
    lambda library: {"batch_size": None, "sampler": Countdown(4)},
], ids=["sampler", "batch-sampler", "unbatched"])
def test_len_of_a_sampler_without_len_is_a_type_error_as_in_torch(kwargs):
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError):
        len(torch.utils.data.DataLoader(torch_pair(), **kwargs(torch.utils.data)))
    loader = DataLoader(make_tensor_dataset(), **kwargs(kernn.data))
    with pytest.raises(TypeError):
        len(loader)
    assert len(list(loader)) in (2, 4)  # iterating needs no len


def test_a_dataset_without_len_loads_with_a_sampler_as_in_torch():
    torch = pytest.importorskip("torch")
    theirs = torch.utils.data.DataLoader(Unsized(), batch_size=2, sampler=[5, 7, 9])
    assert [y.tolist() for _, y in theirs] == [[5, 7], [9]]
    assert labels_of(DataLoader(Unsized(), batch_size=2, sampler=[5, 7, 9])) == [[5, 7], [9]]
    assert labels_of(DataLoader(Unsized(), batch_sampler=[[3], [1, 2]])) == [[3], [1, 2]]


@pytest.mark.parametrize("dataset", [make_tensor_dataset(5), Squares(5)], ids=["tensor", "per-sample"])
def test_batch_size_none_converts_each_sample_as_torch(dataset):
    torch = pytest.importorskip("torch")
    ours = list(DataLoader(dataset, batch_size=None))
    theirs = list(torch.utils.data.DataLoader(torch_pair(5) if isinstance(dataset, TensorDataset)
                                              else Squares(5), batch_size=None))
    assert len(ours) == len(theirs) == 5
    for got, expected in zip(ours, theirs):
        assert type(got) is type(expected) is list  # torch's default_convert makes tuples lists
        for g, e in zip(got, expected):
            if isinstance(e, torch.Tensor):
                assert isinstance(g, kernn.Tensor) and g.shape == tuple(e.shape)
                np.testing.assert_array_equal(g.numpy(), e.numpy())
            else:
                assert type(g) is type(e) and g == e


def test_batch_size_none_follows_the_sampler_and_collate_fn():
    loader = DataLoader(Squares(6), batch_size=None, sampler=[5, 0], collate_fn=lambda sample: sample[1])
    assert list(loader) == [5, 0] and len(loader) == 2
    shuffled = DataLoader(Squares(6), batch_size=None, shuffle=True, collate_fn=lambda sample: sample[1],
                          generator=3)
    assert list(shuffled) == list(RandomSampler(range(6), generator=3))


def test_default_convert_matches_torch():
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_convert as torch_convert

    Pair = collections.namedtuple("Pair", "image label")
    samples = [
        (np.zeros(2, np.float32), 3),
        np.float64(2.5),
        np.arange(3, dtype=np.uint8),
        np.array(["a", "b"]),
        {"x": np.ones((2, 2)), "name": "n"},
        Pair(np.int64(1), "x"),
        [np.ones(1, np.float32), 2.5, (np.int32(4),)],
        range(3),
        "abc",
        7,
    ]

    def same(got, expected):
        if isinstance(expected, torch.Tensor):
            assert isinstance(got, kernn.Tensor) and got.shape == tuple(expected.shape)
            assert got.numpy().dtype == expected.numpy().dtype
            np.testing.assert_array_equal(got.numpy(), expected.numpy())
        elif isinstance(expected, dict):
            assert type(got) is type(expected) and list(got) == list(expected)
            for key in expected:
                same(got[key], expected[key])
        elif isinstance(expected, (list, tuple)):
            assert type(got) is type(expected) and len(got) == len(expected)
            for g, e in zip(got, expected):
                same(g, e)
        elif isinstance(expected, np.ndarray):
            assert got is not None and np.array_equal(got, expected) and got.dtype == expected.dtype
        else:
            assert type(got) is type(expected) and got == expected

    for sample in samples:
        same(default_convert(sample), torch_convert(sample))
    array = np.zeros(3, np.float32)
    default_convert(array).numpy()[0] = 1  # shares memory, as torch.as_tensor
    assert array[0] == 1


class Stream(IterableDataset):
    """(features, label) samples as a stream, without __len__; counts its passes."""

    def __init__(self, n):
        self.n = n
        self.passes = 0

    def __iter__(self):
        self.passes += 1
        return ((np.array([i, -i], dtype=np.float32), i) for i in range(self.n))


class SizedStream(Stream):
    def __len__(self):
        return self.n


def torch_stream(n, sized):
    """Stream / SizedStream for torch."""
    torch = pytest.importorskip("torch")

    class TorchStream(torch.utils.data.IterableDataset):
        def __iter__(self):
            return ((np.array([i, -i], dtype=np.float32), i) for i in range(n))

    class TorchSizedStream(TorchStream):
        def __len__(self):
            return n

    return TorchSizedStream() if sized else TorchStream()


@pytest.mark.parametrize("kwargs", [
    {}, {"batch_size": 3}, {"batch_size": 3, "drop_last": True}, {"batch_size": 4, "drop_last": True},
    {"batch_size": 20}, {"batch_size": 20, "drop_last": True}, {"shuffle": False, "batch_size": 2},
], ids=repr)
def test_iterable_dataset_batches_in_order_as_torch(kwargs):
    torch = pytest.importorskip("torch")
    stream = Stream(8)
    ours = DataLoader(stream, **kwargs)
    theirs = torch.utils.data.DataLoader(torch_stream(8, sized=False), **kwargs)
    assert labels_of(ours) == torch_labels_of(theirs)
    for (x, _), (tx, _) in zip(ours, theirs):
        np.testing.assert_array_equal(x.numpy(), tx.numpy())
    assert labels_of(ours) == torch_labels_of(theirs)  # every pass starts a new iterator
    assert stream.passes == 3


def test_iterable_dataset_without_batching_and_with_a_collate_fn():
    torch = pytest.importorskip("torch")
    ours = list(DataLoader(Stream(3), batch_size=None))
    theirs = list(torch.utils.data.DataLoader(torch_stream(3, sized=False), batch_size=None))
    assert [type(sample) for sample in ours] == [type(sample) for sample in theirs] == [list] * 3
    assert [int(label) for _, label in ours] == [label for _, label in theirs] == [0, 1, 2]
    assert isinstance(ours[1][0], kernn.Tensor)
    labels = DataLoader(Stream(5), batch_size=2, collate_fn=lambda batch: [label for _, label in batch])
    assert list(labels) == [[0, 1], [2, 3], [4]]


@pytest.mark.parametrize("kwargs", [
    {"batch_size": 3}, {"batch_size": 3, "drop_last": True}, {"batch_size": 4, "drop_last": True},
    {"batch_size": None}, {"batch_size": 1},
], ids=repr)
def test_len_over_an_iterable_dataset_as_torch(kwargs):
    torch = pytest.importorskip("torch")
    assert len(DataLoader(SizedStream(8), **kwargs)) == len(torch.utils.data.DataLoader(torch_stream(8, True), **kwargs))
    with pytest.raises(TypeError):
        len(torch.utils.data.DataLoader(torch_stream(8, False), **kwargs))
    with pytest.raises(TypeError):
        len(DataLoader(Stream(8), **kwargs))


@pytest.mark.parametrize("kwargs, match", [
    ({"shuffle": True}, "expected unspecified shuffle option, but got shuffle=True"),
    ({"sampler": [0, 1]}, r"expected unspecified sampler option, but got sampler=\[0, 1\]"),
    ({"batch_sampler": [[0, 1]]}, r"expected unspecified batch_sampler option, but got batch_sampler=\[\[0, 1\]\]"),
    ({"batch_size": None, "drop_last": True}, "batch_size=None option disables auto-batching"),
    ({"drop_last": "yes"}, "drop_last should be a boolean value"),
], ids=repr)
def test_iterable_dataset_refuses_what_torch_refuses(kwargs, match):
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError):
        torch.utils.data.DataLoader(torch_stream(4, True), **kwargs)
    with pytest.raises(ValueError, match=match):
        DataLoader(SizedStream(4), **kwargs)


def test_concat_dataset_loads_as_torch():
    torch = pytest.importorskip("torch")
    ours = make_tensor_dataset(3) + make_tensor_dataset(4)
    theirs = torch_pair(3) + torch_pair(4)
    kwargs = {"batch_size": 3, "sampler": [6, 0, 3, 2, 5]}
    assert labels_of(DataLoader(ours, **kwargs)) == torch_labels_of(torch.utils.data.DataLoader(theirs, **kwargs))
