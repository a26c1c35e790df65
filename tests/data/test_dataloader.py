import collections

import numpy as np
import pytest

import kernn
from kernn.data import DataLoader, Dataset, TensorDataset, default_collate


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
