import collections

import numpy as np
import pytest

import kernn
from kernn.data import DataLoader, Dataset, Subset, TensorDataset, default_collate, random_split


class Squares(Dataset):
    """A per-sample dataset: (features, label) with label an int."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.array([i, i * i], dtype=np.float32), i


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


def test_loader_argument_errors():
    ds = make_tensor_dataset()
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="batch_size must be a positive int"):
            DataLoader(ds, batch_size=bad)
    with pytest.raises(TypeError, match="generator must be None, an int seed or a numpy.random.Generator"):
        DataLoader(ds, shuffle=True, generator="seed")
    with pytest.raises(TypeError, match="must define __len__ and __getitem__"):
        DataLoader(42)


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


def test_arguments_after_shuffle_are_keyword_only():
    # torch's fourth positional argument is sampler, which kernn does not have
    with pytest.raises(TypeError, match="positional"):
        DataLoader(make_tensor_dataset(), 2, False, True)


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
