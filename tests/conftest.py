"""Shared pytest fixtures. This directory is on sys.path (pytest's default rootdir-relative
import mode), so tests in subfolders can `import torch_compare`."""

import os

# The tests call torch and kernn alternately, and each brings its own OpenMP runtime. With the
# default (active) wait policy every runtime's idle workers spin for milliseconds after each
# parallel region, taking the cores the other library's threads need: on 2 cores the suite ran
# 3x slower. Passive waiting changes no result, only who holds the CPU. Set before either
# runtime is loaded (both read it at load time); an explicit setting by the user wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import kernn  # noqa: E402
import kernel_check  # noqa: E402


@pytest.fixture(autouse=True)
def _seed_everything():
    """Every test starts from the same seeds (numpy's legacy global, kernn's generator, torch)."""
    np.random.seed(0)
    kernn.manual_seed(0)
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a test dependency
        torch = None
    if torch is not None:
        torch.manual_seed(0)
    yield


@pytest.fixture(params=[1, 2], ids=["1thread", "2threads"])
def num_threads(request):
    """Runs the test once with kernn at 1 thread and once at 2, restoring the count after."""
    with kernel_check.num_threads(request.param):
        yield request.param


@pytest.fixture
def rng():
    """A numpy Generator seeded per test, for input data."""
    return np.random.default_rng(1234)


@pytest.fixture(params=[np.float32, np.float64], ids=["float32", "float64"])
def float_dtype(request):
    """The two float dtypes kernn supports everywhere."""
    return request.param
