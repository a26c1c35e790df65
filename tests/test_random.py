"""kernn.random: the global generator's seeding and kernn.Generator, as torch's."""

import numpy as np
import pytest
import torch

import kernn
from kernn.utils.data import TensorDataset, random_split


def test_generator_is_seeded_like_torchs_and_drives_every_random_function():
    g = kernn.Generator().manual_seed(42)
    assert isinstance(g, np.random.Generator) and g.initial_seed() == 42
    first = [kernn.randn(3, generator=g), kernn.rand(2, generator=g),
             kernn.randperm(5, generator=g)]
    g.manual_seed(42)
    again = [kernn.randn(3, generator=g), kernn.rand(2, generator=g),
             kernn.randperm(5, generator=g)]
    for a, b in zip(first, again):
        assert np.array_equal(a.numpy(), b.numpy())
    # A new generator starts from torch's fixed default seed, so two agree without seeding.
    assert kernn.Generator().initial_seed() == torch.Generator().initial_seed()
    assert np.array_equal(kernn.randn(4, generator=kernn.Generator()).numpy(),
                          kernn.randn(4, generator=kernn.Generator()).numpy())
    assert g.seed() == g.initial_seed() and g.initial_seed() >= 0


def test_generator_makes_random_split_and_shuffling_reproducible():
    ds = TensorDataset(np.arange(20, dtype=np.float32), np.arange(20))
    splits = [random_split(ds, [0.8, 0.2], generator=kernn.Generator().manual_seed(7))
              for _ in range(2)]
    assert splits[0][0].indices == splits[1][0].indices
    orders = [[int(y) for _, ys in kernn.data.DataLoader(
        ds, batch_size=5, shuffle=True, generator=kernn.Generator().manual_seed(3)) for y in ys]
        for _ in range(2)]
    assert orders[0] == orders[1] and sorted(orders[0]) == list(range(20))


@pytest.mark.parametrize("seed", [-1, 1.5, True])
def test_generator_bad_seed_raises(seed):
    with pytest.raises(ValueError, match="Generator.manual_seed: argument 'seed'"):
        kernn.Generator().manual_seed(seed)


def test_generator_on_another_device_raises():
    with pytest.raises(RuntimeError, match="CPU only"):
        kernn.Generator("cuda")
