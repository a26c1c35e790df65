import warnings

import numpy as np
import pytest

import kernn
from kernn.data import (ChainDataset, ConcatDataset, DataLoader, Dataset, IterableDataset, Subset, TensorDataset,
                        random_split)

torch = pytest.importorskip("torch")


def make_pair(n=10):
    """The same (features, labels) data as a kernn and a torch TensorDataset."""
    x = np.arange(2 * n, dtype=np.float32).reshape(n, 2)
    y = np.arange(n)
    return TensorDataset(x, y), torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))


def test_subset_indexes_like_torch():
    ours, theirs = make_pair()
    indices = [7, 2, 2, 9, 0]
    subset, reference = Subset(ours, indices), torch.utils.data.Subset(theirs, indices)
    assert len(subset) == len(reference) == 5
    assert subset.dataset is ours and subset.indices is indices
    for i in [*range(5), -1, -5]:
        for got, expected in zip(subset[i], reference[i]):
            np.testing.assert_array_equal(got, expected.numpy())
    with pytest.raises(IndexError):
        subset[5]


def test_subset_with_a_list_index_indexes_the_dataset_once():
    ours, theirs = make_pair()
    for got, expected in zip(Subset(ours, [4, 8, 1])[[2, 0]], torch.utils.data.Subset(theirs, [4, 8, 1])[[2, 0]]):
        np.testing.assert_array_equal(got, expected.numpy())


def test_subset_of_a_subset():
    ours, _ = make_pair()
    inner = Subset(ours, [9, 8, 7, 6])
    outer = Subset(inner, [3, 0])
    assert [int(outer[i][1]) for i in range(len(outer))] == [6, 9]


LENGTHS = [
    (10, [3, 7]),
    (10, [10]),
    (10, [0, 10, 0]),
    (0, []),
    (10, [0.3, 0.3, 0.4]),
    (11, [0.5, 0.5]),
    (13, [0.1] * 10),                # sums to 0.9999999999999999: fractions; 3 left over
    (100, [0.7, 0.2, 0.1]),
    (7, [1 / 3, 1 / 3, 1 / 3]),      # 2 each, one left over goes to the first
    (1, [1]),                        # an int 1 is read as the fraction 1, as in torch
    (9, [np.float64(0.25), 0.75]),
]


@pytest.mark.parametrize("n, lengths", LENGTHS, ids=str)
def test_random_split_lengths_match_torch_and_cover_every_index_once(n, lengths):
    ours = random_split(TensorDataset(np.arange(n)), lengths, generator=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's warning about empty splits
        theirs = torch.utils.data.random_split(range(n), lengths)
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    assert all(isinstance(s, Subset) for s in ours)
    indices = [i for s in ours for i in s.indices]
    assert sorted(indices) == list(range(n))
    assert all(type(i) is int for i in indices)


def test_random_split_takes_consecutive_pieces_of_one_permutation():
    parts = random_split(TensorDataset(np.arange(20)), [5, 15], generator=4)
    permutation = np.random.default_rng(4).permutation(20).tolist()
    assert parts[0].indices == permutation[:5] and parts[1].indices == permutation[5:]
    assert [int(parts[1][i][0]) for i in range(3)] == permutation[5:8]


def test_random_split_follows_kernn_manual_seed():
    ds = TensorDataset(np.arange(50))

    def split_indices():
        return [s.indices for s in random_split(ds, [0.8, 0.2])]

    kernn.manual_seed(11)
    first = split_indices()
    kernn.manual_seed(11)
    assert split_indices() == first
    assert split_indices() != first  # the global generator moved on
    kernn.manual_seed(12)
    assert split_indices() != first


def test_random_split_generator_argument():
    ds = TensorDataset(np.arange(30))
    by_seed = [s.indices for s in random_split(ds, [10, 20], generator=8)]
    by_generator = [s.indices for s in random_split(ds, [10, 20], generator=np.random.default_rng(8))]
    assert by_seed == by_generator
    assert [s.indices for s in random_split(ds, [10, 20], generator=9)] != by_seed
    with pytest.raises(TypeError, match="random_split: generator must be None, an int seed or a numpy.random.Generator, got str"):
        random_split(ds, [10, 20], generator="8")


@pytest.mark.parametrize("lengths, listed", [
    ([3, 6], r"\[3, 6\] \(sum 9\)"),
    ([3, 8], r"\[3, 8\] \(sum 11\)"),
    ([0.5, 0.4], r"\[0.5, 0.4\] \(sum 0.9\)"),
    ([0.6, 0.6], r"\[0.6, 0.6\] \(sum 1.2\)"),
    ([], r"\[\] \(sum 0\)"),
], ids=str)
def test_random_split_refuses_lengths_torch_refuses(lengths, listed):
    with pytest.raises(ValueError):
        torch.utils.data.random_split(range(10), lengths)
    with pytest.raises(ValueError, match="random_split: lengths must be non-negative ints summing to the "
                                         "dataset's length 10 or fractions summing to 1, got " + listed):
        random_split(TensorDataset(np.arange(10)), lengths)


def test_random_split_refuses_a_fraction_outside_0_1_as_torch_does():
    with pytest.raises(ValueError, match="Fraction at index 0 is not between 0 and 1"):
        torch.utils.data.random_split(range(10), [1.5, -0.5])
    with pytest.raises(ValueError, match="random_split: fraction 0 is 1.5, not between 0 and 1"):
        random_split(TensorDataset(np.arange(10)), [1.5, -0.5])


@pytest.mark.parametrize("lengths", [[-1, 11], [2.5, 7.5], [True, 9]], ids=str)
def test_random_split_refuses_lengths_torch_would_misuse(lengths):
    # torch takes -1 + 11 == 10 and slices a wrong piece; kernn wants non-negative ints
    with pytest.raises(ValueError, match="random_split: lengths must be non-negative ints"):
        random_split(TensorDataset(np.arange(10)), lengths)


def test_random_split_warns_of_an_empty_split_as_torch_does():
    with pytest.warns(UserWarning, match="index 1 is 0"):
        torch.utils.data.random_split(range(1), [0.5, 0.5])
    with pytest.warns(UserWarning, match="random_split: split 1 is empty"):
        parts = random_split(TensorDataset(np.arange(1)), [0.5, 0.5])
    assert [len(p) for p in parts] == [1, 0]


def test_dataloader_over_random_split_parts():
    ds = TensorDataset(np.arange(40, dtype=np.float32).reshape(20, 2), np.arange(20))
    train, val = random_split(ds, [0.75, 0.25], generator=1)
    seen = [y.numpy().tolist() for _, y in DataLoader(val, batch_size=2)]
    assert seen == [val.indices[0:2], val.indices[2:4], val.indices[4:5]]
    labels = np.concatenate([y.numpy() for _, y in DataLoader(train, batch_size=4, shuffle=True, generator=2)])
    assert sorted(labels.tolist()) == sorted(train.indices)


class Stream(IterableDataset):
    """The integers below n, as a stream without __len__."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))


class SizedStream(Stream):
    def __len__(self):
        return self.n


class TorchStream(torch.utils.data.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))


class TorchSizedStream(TorchStream):
    def __len__(self):
        return self.n


def concat_pair():
    """The same three datasets (one empty) concatenated by kernn and by torch."""
    sizes = [4, 0, 3, 1]
    parts = [np.arange(10 * k, 10 * k + size) for k, size in enumerate(sizes)]
    ours = ConcatDataset([TensorDataset(p) for p in parts])
    theirs = torch.utils.data.ConcatDataset([torch.utils.data.TensorDataset(torch.from_numpy(p)) for p in parts])
    return ours, theirs


def test_concat_dataset_indexes_like_torch():
    ours, theirs = concat_pair()
    assert ours.cumulative_sizes == theirs.cumulative_sizes == [4, 4, 7, 8]
    assert len(ours) == len(theirs) == 8
    assert ConcatDataset.cumsum([range(2), range(5)]) == torch.utils.data.ConcatDataset.cumsum([range(2), range(5)])
    for i in range(-8, 8):
        assert int(ours[i][0]) == int(theirs[i][0]), i
    with pytest.raises(ValueError):
        theirs[-9]
    with pytest.raises(ValueError, match="ConcatDataset: absolute value of index should not exceed dataset "
                                         "length, got index -9 for length 8"):
        ours[-9]
    with pytest.raises(IndexError):
        theirs[8]
    with pytest.raises(IndexError, match="ConcatDataset: index 8 is out of range for length 8"):
        ours[8]


def test_concat_dataset_refuses_what_torch_refuses():
    for concat in (ConcatDataset, torch.utils.data.ConcatDataset):
        with pytest.raises(AssertionError, match="datasets should not be an empty iterable"):
            concat([])
        with pytest.raises(AssertionError, match="ConcatDataset does not support IterableDataset"):
            concat([TensorDataset(np.arange(2)), SizedStream(2)] if concat is ConcatDataset
                   else [torch.utils.data.TensorDataset(torch.arange(2)), TorchSizedStream(2)])


def test_adding_datasets_concatenates_and_adding_streams_chains_as_torch():
    a, b, c = (TensorDataset(np.arange(k, k + 2)) for k in (0, 10, 20))
    both = a + b
    assert type(both) is ConcatDataset and both.datasets == [a, b]
    nested = a + b + c  # torch nests: ConcatDataset([ConcatDataset([a, b]), c])
    theirs = (torch.utils.data.TensorDataset(torch.arange(2)) + torch.utils.data.TensorDataset(torch.arange(2))
              + torch.utils.data.TensorDataset(torch.arange(2)))
    assert [type(d).__name__ for d in nested.datasets] == [type(d).__name__ for d in theirs.datasets]
    assert [int(nested[i][0]) for i in range(len(nested))] == [0, 1, 10, 11, 20, 21]
    chained = SizedStream(2) + SizedStream(3)
    assert type(chained) is ChainDataset and list(chained) == list(TorchSizedStream(2) + TorchSizedStream(3))
    assert len(chained) == len(TorchSizedStream(2) + TorchSizedStream(3)) == 5


def test_chain_dataset_as_torch():
    chain = ChainDataset([SizedStream(2), Stream(3)])
    assert list(chain) == [0, 1, 0, 1, 2]
    with pytest.raises(TypeError):  # Stream has no __len__
        len(chain)
    for chain_class, datasets in ((ChainDataset, [SizedStream(1), TensorDataset(np.arange(2))]),
                                  (torch.utils.data.ChainDataset, [TorchSizedStream(1), torch.utils.data.TensorDataset(torch.arange(2))])):
        with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
            list(chain_class(datasets))
        with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
            len(chain_class(datasets))


def test_base_classes_have_no_len_as_torch():
    class Indexable(Dataset):
        def __getitem__(self, i):
            return i

    class TorchIndexable(torch.utils.data.Dataset):
        def __getitem__(self, i):
            return i

    for dataset in (Indexable(), TorchIndexable(), Stream(3), TorchStream(3)):
        with pytest.raises(TypeError):
            len(dataset)
    assert isinstance(Stream(1), Dataset)


def test_an_iterable_dataset_needs_iter_as_torch():
    for base in (IterableDataset, torch.utils.data.IterableDataset):
        with pytest.raises(TypeError):
            base()
