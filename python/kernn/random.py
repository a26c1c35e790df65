"""kernn's global random number generator.

Every source of randomness in kernn (randn, rand, randint, nn.init, dropout, random_split,
DataLoader shuffling) draws from one numpy Generator, so ``kernn.manual_seed(s)`` makes a whole
run reproducible, as ``torch.manual_seed`` does. The numbers differ from torch's: same seed,
different stream.

Code that needs randomness calls ``default_generator()`` each time (do not cache the returned
object: manual_seed replaces it).
"""

from __future__ import annotations

import numbers

import numpy as np

from ._device import is_cpu

__all__ = ["Generator", "manual_seed", "seed", "default_generator", "get_rng_state",
           "set_rng_state"]

_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Re-seeds kernn's global generator and returns it.

    Args:
        seed (int): any non-negative integer.

    Example::

        >>> kernn.manual_seed(0)
        >>> a = kernn.randn(3); kernn.manual_seed(0); b = kernn.randn(3)   # a equals b
    """
    global _generator
    _generator = np.random.default_rng(_checked_seed(seed, "manual_seed"))
    return _generator


def _checked_seed(seed, caller: str) -> int:
    """``seed`` as an int; ValueError naming ``caller`` unless it is a non-negative int."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"{caller}: argument 'seed' must be a non-negative int, got {seed!r}")
    return int(seed)


def _entropy_seed() -> int:
    """A seed from the OS's entropy."""
    return int(np.random.SeedSequence().generate_state(1)[0])


def seed() -> int:
    """Seeds the global generator from the OS's entropy and returns the seed used."""
    s = _entropy_seed()
    manual_seed(s)
    return s


def default_generator() -> np.random.Generator:
    """The numpy Generator every kernn random operation draws from."""
    return _generator


def get_rng_state() -> dict:
    """The global generator's state (a dict; pass it to set_rng_state)."""
    return _generator.bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restores a state returned by get_rng_state."""
    _generator.bit_generator.state = state


class Generator(np.random.Generator):
    """A generator of its own, as ``torch.Generator``: pass it as the ``generator`` argument of
    randn, rand, randint, randperm, DataLoader or random_split. It is a numpy Generator (PCG64)
    with torch's seeding methods; like torch's, a new one starts from a fixed seed.

    Args:
        device (str): "cpu" (kernn has no other).

    Example::

        >>> train, val = kernn.utils.data.random_split(ds, [0.8, 0.2],
        ...                                            generator=kernn.Generator().manual_seed(42))
    """

    _DEFAULT_SEED = 67280421310721  # torch's default_rng_seed_val

    def __init__(self, device="cpu"):
        if not is_cpu(device):
            raise RuntimeError(f"Generator: kernn runs on the CPU only, got device {device!r}")
        super().__init__(np.random.PCG64(self._DEFAULT_SEED))
        self._seed = self._DEFAULT_SEED

    def manual_seed(self, seed: int) -> "Generator":
        """Re-seeds this generator and returns it."""
        self._seed = _checked_seed(seed, "Generator.manual_seed")
        self.bit_generator.state = np.random.PCG64(self._seed).state
        return self

    def seed(self) -> int:
        """Re-seeds this generator from the OS's entropy and returns the seed."""
        return self.manual_seed(_entropy_seed())._seed

    def initial_seed(self) -> int:
        """The seed this generator was last seeded with."""
        return self._seed


def _generator_argument(generator, caller: str):
    """Validates the ``generator`` argument of a function that draws (DataLoader, random_split).

    Returns a numpy Generator made once from an int seed, a numpy Generator as given, or None,
    which tells the caller to draw from ``default_generator()`` at the moment it draws (looked
    up then, not now: manual_seed replaces the global generator).
    """
    if generator is None or isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, numbers.Integral) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    raise TypeError(
        f"{caller}: generator must be None, an int seed or a numpy.random.Generator, "
        f"got {type(generator).__name__}"
    )


def _generator_or_default(generator):
    """The Generator to draw from now: ``generator`` as ``_generator_argument`` returned it, or,
    for None, kernn's global generator of this moment."""
    return generator if generator is not None else default_generator()
