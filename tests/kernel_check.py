"""Helpers shared by the kernel tests: torch comparisons with per-dtype tolerances, and
running a kernel under a given number of threads."""

import contextlib

import numpy as np
import pytest
import torch

import kernn

DTYPES = [np.float32, np.float64]

# Default tolerances for an element-wise or row-wise kernel against torch. float32: a few ulp
# of a value near 1 (the kernels and torch use different exp/log implementations and sum in a
# different order); float64: torch's own float64 results are used as the reference, to ~1e-12.
TOLERANCES = {
    np.float32: dict(rtol=2e-6, atol=1e-6),
    np.float64: dict(rtol=1e-12, atol=1e-13),
}


def tol(dtype, **overrides):
    """Tolerances for `dtype`, with the given entries replaced."""
    t = dict(TOLERANCES[np.dtype(dtype).type])
    t.update(overrides)
    return t


def to_torch(a, requires_grad=False):
    t = torch.from_numpy(np.array(a, order="C", copy=True))  # keeps 0-d arrays 0-d
    if requires_grad:
        t.requires_grad_(True)
    return t


def assert_close_to_torch(actual, expected, dtype=None, **overrides):
    """Compares a numpy result with a torch tensor: same shape and dtype, values within the
    dtype's tolerances (NaN must match NaN, infinities must match exactly)."""
    expected = expected.detach().numpy() if isinstance(expected, torch.Tensor) else expected
    expected = np.asarray(expected)
    actual = np.asarray(actual)
    dtype = np.dtype(dtype or expected.dtype)
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    np.testing.assert_allclose(actual, expected, equal_nan=True, **tol(dtype, **overrides))


@contextlib.contextmanager
def num_threads(n):
    """Runs the body with kernn using `n` threads, restoring the previous count."""
    before = kernn.get_num_threads()
    kernn.set_num_threads(n)
    try:
        yield
    finally:
        kernn.set_num_threads(before)


def same_under_1_and_2_threads(fn):
    """Calls fn() with 1 and with 2 threads and asserts the results are bitwise equal; returns
    the 1-thread result. fn returns an array or a tuple of arrays."""
    with num_threads(1):
        one = fn()
    with num_threads(2):
        two = fn()
    ones = one if isinstance(one, tuple) else (one,)
    twos = two if isinstance(two, tuple) else (two,)
    for a, b in zip(ones, twos):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    return one


# The SIMD builds of the element-wise loops, best first: AVX-512 (the float activation and
# softmax-row loops only; the other families use AVX2 there too), AVX2 + FMA, and the portable
# build. set_simd_loops caps the level and returns the level in use, at most what the CPU has.
SIMD_LEVELS = ("avx512", "avx2", "portable")

# For the tests that compare the SIMD builds of the loops with the portable ones bit for bit:
# on a CPU without AVX2 + FMA every run would be the portable build, a comparison that cannot
# fail. (set_simd_loops("avx512") is the default setting.)
needs_simd_loops = pytest.mark.skipif(
    kernn._C.set_simd_loops("avx512") == "portable",
    reason="this CPU has no AVX2 + FMA: there is no SIMD build of the loops to compare")

# For the tests that compare the AVX-512 build of the activation loops with the AVX2 one.
needs_avx512_loops = pytest.mark.skipif(
    kernn._C.set_simd_loops("avx512") != "avx512",
    reason="this CPU has no AVX-512: there is no AVX-512 build of the loops to compare")


def same_under_avx512_and_avx2(fn):
    """Calls fn() with the AVX-512 and with the AVX2 builds of the activation loops and asserts
    the results are bitwise equal (the two builds do the same operations, 16 and 8 lanes at a
    time); fn returns an array or a tuple of arrays. Use with needs_avx512_loops."""
    results = []
    for isa in ("avx512", "avx2"):
        with simd_loops(isa):
            result = fn()
        results.append(result if isinstance(result, tuple) else (result,))
    for a, b in zip(*results):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@contextlib.contextmanager
def simd_loops(isa):
    """Runs the body with the element-wise loops' SIMD builds capped at `isa` ("avx512", "avx2"
    or "portable": the last checks the portable build on any CPU); restores the default (the
    best build) afterwards."""
    kernn._C.set_simd_loops(isa)
    try:
        yield
    finally:
        kernn._C.set_simd_loops("avx512")
