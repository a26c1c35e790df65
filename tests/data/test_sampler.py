"""kernn.data's samplers against torch.utils.data's: the deterministic ones give torch's indices,
the random ones torch's structure (permutations, counts, lengths) from kernn's generator."""

import re

import numpy as np
import pytest

import kernn
from kernn.data import (BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
                        WeightedRandomSampler)

torch = pytest.importorskip("torch")
tdata = torch.utils.data


class Unsized:
    """An iterable of indices without __len__."""

    def __iter__(self):
        return iter(range(5))


def assert_same_error(make_ours, make_theirs, error, owner, match):
    """torch raises ``error`` and kernn the same type, naming ``owner``, with a message matching ``match``."""
    with pytest.raises(error):
        make_theirs()
    with pytest.raises(error, match=f"{owner}: .*{match}"):
        make_ours()


def test_sampler_base_class_as_torch():
    for base in (Sampler, tdata.Sampler):
        with pytest.raises(NotImplementedError):
            iter(base())
        with pytest.raises(TypeError):  # no default __len__
            len(base())

    class Reversed(Sampler[int]):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n - 1, -1, -1))

        def __len__(self):
            return self.n

    assert list(Reversed(4)) == [3, 2, 1, 0] and len(Reversed(4)) == 4


@pytest.mark.parametrize("n", [0, 1, 7])
def test_sequential_sampler_matches_torch(n):
    ours, theirs = SequentialSampler(range(n)), tdata.SequentialSampler(range(n))
    assert list(ours) == list(theirs) and len(ours) == len(theirs) == n
    assert all(type(i) is int for i in ours)


def test_sequential_sampler_reads_the_length_at_every_pass():
    data = [0, 1]
    sampler = SequentialSampler(data)
    data.append(2)
    assert list(sampler) == [0, 1, 2] and len(sampler) == 3


@pytest.mark.parametrize("n, batch_size, drop_last", [
    (10, 3, False), (10, 3, True), (9, 3, False), (9, 3, True), (2, 5, False), (2, 5, True),
    (0, 4, False), (1, 1, True),
])
def test_batch_sampler_matches_torch(n, batch_size, drop_last):
    ours = BatchSampler(SequentialSampler(range(n)), batch_size, drop_last)
    theirs = tdata.BatchSampler(tdata.SequentialSampler(range(n)), batch_size, drop_last)
    assert list(ours) == list(theirs)
    assert len(ours) == len(theirs) == len(list(ours))


def test_batch_sampler_takes_any_iterable_and_keeps_its_indices():
    indices = [7, "a", 3, 3, 0]
    assert list(BatchSampler(indices, 2, False)) == list(tdata.BatchSampler(indices, 2, False))
    assert list(BatchSampler(Unsized(), 2, True)) == [[0, 1], [2, 3]]


def test_batch_sampler_len_needs_the_sampler_len_as_torch():
    for batch_sampler in (BatchSampler, tdata.BatchSampler):
        with pytest.raises(TypeError):
            len(batch_sampler(Unsized(), 2, False))


@pytest.mark.parametrize("batch_size, drop_last, match", [
    (0, False, "batch_size should be a positive integer value, but got batch_size=0"),
    (-2, False, "batch_size=-2"),
    (2.0, False, "batch_size=2.0"),
    (True, False, "batch_size=True"),
    ("2", False, "batch_size='2'"),
    (2, 1, "drop_last should be a boolean value, but got drop_last=1"),
    (2, None, "drop_last=None"),
], ids=repr)
def test_batch_sampler_argument_errors_as_torch(batch_size, drop_last, match):
    assert_same_error(lambda: BatchSampler(range(4), batch_size, drop_last),
                      lambda: tdata.BatchSampler(range(4), batch_size, drop_last),
                      ValueError, "BatchSampler", match)


def test_random_sampler_draws_a_new_permutation_every_pass():
    sampler = RandomSampler(range(50), generator=0)
    first, second = list(sampler), list(sampler)
    assert sorted(first) == sorted(second) == list(range(50))
    assert first != second and first != list(range(50))
    assert len(sampler) == 50 and all(type(i) is int for i in first)


def test_random_sampler_more_samples_than_data_without_replacement():
    # torch: whole permutations, then a cut one; every index 2 or 3 times in 13 of 5
    sampler = RandomSampler(range(5), num_samples=13, generator=1)
    drawn = list(sampler)
    assert len(drawn) == len(sampler) == len(tdata.RandomSampler(range(5), num_samples=13)) == 13
    assert sorted(drawn[:5]) == sorted(drawn[5:10]) == list(range(5))
    assert len(set(drawn[10:])) == 3
    assert len(list(RandomSampler(range(5), num_samples=3, generator=1))) == 3


def test_random_sampler_with_replacement_is_uniform():
    sampler = RandomSampler(range(4), replacement=True, num_samples=40_000, generator=2)
    counts = np.bincount(list(sampler), minlength=4)
    assert counts.sum() == 40_000 and len(sampler) == 40_000
    np.testing.assert_allclose(counts / 40_000, 0.25, atol=0.01)
    small = list(RandomSampler(range(3), replacement=True, num_samples=30, generator=2))
    assert len(small) == 30 and len(set(small)) < 30 and set(small) <= {0, 1, 2}


def test_random_sampler_num_samples_follows_the_data_source():
    data = list(range(3))
    sampler = RandomSampler(data, generator=0)
    data.extend([3, 4])
    assert len(sampler) == sampler.num_samples == 5 and sorted(sampler) == data


def test_random_sampler_of_an_empty_data_source_is_empty():
    # torch refuses it (its num_samples would be 0); kernn yields nothing, so that a shuffled
    # DataLoader over an empty dataset has no batches
    with pytest.raises(ValueError):
        tdata.RandomSampler([])
    assert list(RandomSampler([])) == [] and len(RandomSampler([])) == 0
    with pytest.raises(ValueError, match="RandomSampler: cannot draw num_samples=3 from an empty data_source"):
        list(RandomSampler([], num_samples=3))


@pytest.mark.parametrize("kwargs, error, match", [
    ({"replacement": 1}, TypeError, "replacement should be a boolean value, but got replacement=1"),
    ({"replacement": None}, TypeError, "replacement=None"),
    ({"num_samples": 0}, ValueError, "num_samples should be a positive integer value, but got num_samples=0"),
    ({"num_samples": -3}, ValueError, "num_samples=-3"),
    ({"num_samples": 2.0}, ValueError, "num_samples=2.0"),
    ({"num_samples": "4"}, ValueError, "num_samples='4'"),
], ids=repr)
def test_random_sampler_argument_errors_as_torch(kwargs, error, match):
    assert_same_error(lambda: RandomSampler(range(4), **kwargs),
                      lambda: tdata.RandomSampler(range(4), **kwargs), error, "RandomSampler", match)


def test_random_sampler_num_samples_is_an_int_not_a_bool():
    # torch takes True for 1 (bool is an int); kernn refuses it and takes numpy integers
    with pytest.raises(ValueError, match="num_samples=True"):
        RandomSampler(range(4), num_samples=True)
    assert len(RandomSampler(range(4), num_samples=np.int64(6))) == 6


@pytest.mark.parametrize("make", [
    lambda generator: RandomSampler(range(30), generator=generator),
    lambda generator: RandomSampler(range(30), replacement=True, generator=generator),
    lambda generator: SubsetRandomSampler(list(range(100, 130)), generator=generator),
    lambda generator: WeightedRandomSampler(np.arange(30.0), 30, generator=generator),
], ids=["random", "random-replacement", "subset", "weighted"])
def test_random_samplers_follow_kernn_generator_convention(make):
    # an int seed: a Generator made once (passes differ, two samplers with one seed agree)
    a, b = make(5), make(5)
    assert list(a) == list(b) and list(a) == list(b)
    assert list(make(5)) != list(make(6))
    first = list(make(5))
    assert list(make(np.random.default_rng(5))) == first
    assert list(make(kernn.Generator().manual_seed(5))) == first
    # None: kernn's global generator, so manual_seed reproduces
    sampler = make(None)
    kernn.manual_seed(3)
    drawn = list(sampler)
    assert list(sampler) != drawn
    kernn.manual_seed(3)
    assert list(sampler) == drawn
    with pytest.raises(TypeError, match=f"{type(sampler).__name__}: generator must be None, an int seed"):
        make("5")


def test_subset_random_sampler_permutes_the_given_indices():
    indices = [17, 3, 99, 42, 8, 3]
    sampler = SubsetRandomSampler(indices, generator=0)
    first, second = list(sampler), list(sampler)
    assert sorted(first) == sorted(second) == sorted(indices) and first != second
    assert len(sampler) == len(tdata.SubsetRandomSampler(indices)) == 6
    assert list(SubsetRandomSampler([])) == []


def test_weighted_sampler_with_replacement_draws_in_proportion_and_never_a_zero_weight():
    weights = [0.0, 1.0, 3.0, 0.0, 4.0, 0.0]
    sampler = WeightedRandomSampler(weights, 40_000, generator=7)
    drawn = list(sampler)
    assert len(drawn) == len(sampler) == 40_000 and all(type(i) is int for i in drawn)
    counts = np.bincount(drawn, minlength=6)
    assert counts[[0, 3, 5]].tolist() == [0, 0, 0]
    np.testing.assert_allclose(counts / 40_000, np.array(weights) / 8, atol=0.01)


def test_weighted_sampler_without_replacement_draws_each_index_at_most_once():
    weights = [0.0, 5.0, 1.0, 0.0, 2.0]
    sampler = WeightedRandomSampler(weights, 3, replacement=False, generator=7)
    for _ in range(20):
        assert sorted(sampler) == [1, 2, 4]
    # the first draw follows the weights
    sampler = WeightedRandomSampler(weights, 1, replacement=False, generator=8)
    counts = np.bincount([next(iter(sampler)) for _ in range(8000)], minlength=5)
    np.testing.assert_allclose(counts / 8000, np.array(weights) / 8, atol=0.02)


def test_weighted_sampler_without_replacement_refuses_to_run_out_of_positive_weights():
    # torch goes on with the weight-0 indices once the others are drawn; kernn never draws them
    assert sorted(tdata.WeightedRandomSampler([1.0, 0.0, 2.0], 3, replacement=False)) == [0, 1, 2]
    with pytest.raises(ValueError, match="WeightedRandomSampler: cannot draw num_samples=3 without "
                                         "replacement from 2 positive weights"):
        WeightedRandomSampler([1.0, 0.0, 2.0], 3, replacement=False)


def test_weighted_sampler_keeps_its_weights_as_a_float64_tensor():
    sampler = WeightedRandomSampler(kernn.tensor([1, 2, 3]), 2)
    reference = tdata.WeightedRandomSampler(torch.tensor([1, 2, 3]), 2)
    assert isinstance(sampler.weights, kernn.Tensor) and sampler.weights.dtype == kernn.float64
    np.testing.assert_array_equal(sampler.weights.numpy(), reference.weights.numpy())
    assert (sampler.num_samples, sampler.replacement) == (reference.num_samples, reference.replacement)


@pytest.mark.parametrize("weights, num_samples, replacement, match", [
    ([[1.0, 2.0]], 2, True, r"weights should be a 1d sequence but given weights have shape \(1, 2\)"),
    (1.0, 2, True, r"weights should be a 1d sequence but given weights have shape \(\)"),
    ([1.0, 2.0], 0, True, "num_samples should be a positive integer value, but got num_samples=0"),
    ([1.0, 2.0], True, True, "num_samples=True"),
    ([1.0, 2.0], 1.5, True, "num_samples=1.5"),
    ([1.0, 2.0], 2, 1, "replacement should be a boolean value, but got replacement=1"),
], ids=repr)
def test_weighted_sampler_argument_errors_as_torch(weights, num_samples, replacement, match):
    assert_same_error(lambda: WeightedRandomSampler(weights, num_samples, replacement),
                      lambda: tdata.WeightedRandomSampler(weights, num_samples, replacement),
                      ValueError, "WeightedRandomSampler", match)


@pytest.mark.parametrize("weights, num_samples, replacement", [
    ([1.0, -1.0], 2, True),
    ([0.0, 0.0], 2, True),
    ([1.0, float("nan")], 2, True),
    ([1.0, float("inf")], 2, True),
    ([], 1, True),
], ids=repr)
def test_weighted_sampler_refuses_weights_torch_fails_on_when_drawing(weights, num_samples, replacement):
    # torch.multinomial raises RuntimeError at the first pass; kernn refuses them at once
    with pytest.raises(RuntimeError):
        list(tdata.WeightedRandomSampler(weights, num_samples, replacement))
    listed = re.escape(str(np.asarray(weights, dtype=np.float64)))
    with pytest.raises(ValueError, match="WeightedRandomSampler: weights must be finite and non-negative "
                                         "with a positive sum, got " + listed):
        WeightedRandomSampler(weights, num_samples, replacement)


def test_weighted_sampler_without_replacement_refuses_more_samples_than_weights():
    with pytest.raises(RuntimeError, match="cannot sample n_sample > prob_dist.size"):
        list(tdata.WeightedRandomSampler([1.0, 2.0], 3, replacement=False))
    with pytest.raises(ValueError, match="WeightedRandomSampler: cannot draw num_samples=3 without "
                                         "replacement from 2 positive weights"):
        WeightedRandomSampler([1.0, 2.0], 3, replacement=False)


# A pass is drawn in chunks of _DRAW_CHUNK indices (the second safety sweep: a pass of
# num_samples=10**12 was one 8 TB array, and without replacement a list of 3.3e11 permutations
# that hung before the first index).
from kernn.data.sampler import _DRAW_CHUNK  # noqa: E402


@pytest.mark.parametrize("make", [
    lambda: RandomSampler(range(3), num_samples=10**12),
    lambda: RandomSampler(range(3), replacement=True, num_samples=10**12),
    lambda: WeightedRandomSampler([1.0, 2.0], num_samples=10**12),
], ids=["permutations", "replacement", "weighted"])
def test_a_huge_pass_is_drawn_lazily(make):
    sampler = make()
    assert len(sampler) == 10**12
    first = list(zip(range(5), sampler))
    assert len(first) == 5 and all(0 <= i < 3 for _, i in first)
    batches = BatchSampler(sampler, batch_size=4, drop_last=True)._batches()
    assert len(next(batches)) == 4


@pytest.mark.parametrize("make,one_call", [
    (lambda n: RandomSampler(range(7), replacement=True, num_samples=n),
     lambda rng, n: rng.integers(0, 7, size=n)),
    (lambda n: WeightedRandomSampler([1.0, 0.0, 3.0, 2.0], num_samples=n),
     lambda rng, n: rng.choice(4, size=n, replace=True, p=np.array([1.0, 0.0, 3.0, 2.0]) / 6.0)),
], ids=["replacement", "weighted"])
def test_chunked_draws_are_the_one_call_stream(make, one_call):
    # Even chunks keep numpy's stream: the same indices as the single draw before the change.
    n = 2 * _DRAW_CHUNK + 3
    kernn.manual_seed(7)
    drawn = list(make(n))
    kernn.manual_seed(7)
    from kernn.random import _generator_or_default
    expected = one_call(_generator_or_default(None), n)
    assert drawn == expected.tolist()


@pytest.mark.parametrize("batch_size", [1, 1000, _DRAW_CHUNK, _DRAW_CHUNK + 1, 3 * _DRAW_CHUNK])
@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("make", [
    lambda: RandomSampler(range(10), replacement=True, num_samples=2 * _DRAW_CHUNK + 5),
    lambda: RandomSampler(range(_DRAW_CHUNK - 3), num_samples=3 * _DRAW_CHUNK),
    lambda: SequentialSampler(range(2 * _DRAW_CHUNK + 5)),
], ids=["replacement", "permutations", "sequential"])
def test_batches_across_chunks_are_the_iterated_batches(make, drop_last, batch_size):
    kernn.manual_seed(3)
    iterated = list(BatchSampler(make(), batch_size, drop_last))
    kernn.manual_seed(3)
    sliced = [b.tolist() for b in BatchSampler(make(), batch_size, drop_last)._batches()]
    assert sliced == iterated
    assert len(sliced) == len(BatchSampler(make(), batch_size, drop_last))


def test_batch_sampler_batch_size_beyond_memory():
    # zip(*[indices] * batch_size) built a 2**62-entry tuple first: MemoryError.
    assert list(BatchSampler(range(5), 2**62, drop_last=True)) == []
    assert list(BatchSampler(range(5), 2**62, drop_last=False)) == [[0, 1, 2, 3, 4]]


def test_weighted_sampler_weights_whose_sum_overflows():
    # Two weights of 1e308 sum to inf: numpy's choice saw NaN probabilities and raised
    # "Probabilities do not sum to 1".
    drawn = list(WeightedRandomSampler([1e308, 0.0, 1e308], 200, generator=0))
    assert set(drawn) == {0, 2}
