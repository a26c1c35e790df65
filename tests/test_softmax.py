"""Softmax and log-softmax kernels of kernn._C (last dimension) against torch."""

import numpy as np
import pytest
import torch

from kernn import _C
from kernel_check import (DTYPES, assert_close_to_torch, needs_avx512_loops,
                          same_under_1_and_2_threads, same_under_avx512_and_avx2, simd_loops,
                          to_torch)

OPS = {"softmax": torch.softmax, "log_softmax": torch.log_softmax}
SHAPES = [(1,), (1, 1), (1, 10), (5, 7), (64, 10), (3, 4, 13), (2, 257), (0, 5), (4, 0)]
INF = np.inf


def run_kernel(op, x, dy):
    y = getattr(_C, f"{op}_forward")(x)
    return y, getattr(_C, f"{op}_backward")(y, dy)


def run_torch(op, x, dy):
    xt = to_torch(x, requires_grad=True)
    yt = OPS[op](xt, -1)
    yt.backward(to_torch(dy))
    return yt, xt.grad


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_matches_torch(op, dtype, shape):
    rng = np.random.default_rng([len(op), *shape])
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    y, dx = run_kernel(op, x, dy)
    yt, dxt = run_torch(op, x, dy)
    assert_close_to_torch(y, yt)
    assert_close_to_torch(dx, dxt)


# Rows shorter and longer than the row loops' switch to one call per row (256) and than the
# narrow rows' switch to the 32-lane maximum (32), with lengths around the 16-lane vectors, the
# 64-lane maximum and the 256-element exp blocks.
ROW_LENGTHS = [1, 7, 16, 17, 31, 32, 33, 100, 127, 128, 129, 255, 256, 257, 300, 513]


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("cols", ROW_LENGTHS)
@pytest.mark.parametrize("isa", ["avx2", "portable"])
def test_float32_lower_builds_match_torch(op, cols, isa):
    # The same as test_matches_torch with the AVX-512 (or also the AVX2) loops switched off.
    shape = (5, cols)
    rng = np.random.default_rng(shape)
    x = (rng.standard_normal(shape) * 4).astype(np.float32)
    dy = rng.standard_normal(shape).astype(np.float32)
    with simd_loops(isa):
        y, dx = run_kernel(op, x, dy)
    yt, dxt = run_torch(op, x, dy)
    assert_close_to_torch(y, yt)
    if op == "softmax":
        assert_close_to_torch(dx, dxt)
    else:
        # dx = dy - exp(y) * sum(dy) cancels where dx is near 0: the error is a few ulp of the
        # subtracted term, up to |sum(dy)| (~17 for 300 columns; measured 1.1e-6 against torch).
        term = 1 + np.abs(dy.sum(-1)).max()
        assert_close_to_torch(dx, dxt,
                              atol=max(1e-6, 4 * float(np.finfo(np.float32).eps) * term))


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("shape", [(5, 7), (3, 300)])
def test_float32_portable_build_matches_torch(op, shape):
    # The same as test_matches_torch with the SIMD loops switched off, at the default tolerances.
    rng = np.random.default_rng(shape)
    x = (rng.standard_normal(shape) * 4).astype(np.float32)
    dy = rng.standard_normal(shape).astype(np.float32)
    with simd_loops("portable"):
        y, dx = run_kernel(op, x, dy)
    yt, dxt = run_torch(op, x, dy)
    assert_close_to_torch(y, yt)
    assert_close_to_torch(dx, dxt)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_extreme_rows_match_torch(op, dtype):
    x = np.array([
        [1e4, -1e4, 0.0, 1e4],      # huge logits with a tie at the top: no overflow
        [-1e4, -1e4, -1e4, -1e4],   # all equal and hugely negative: uniform
        [0.0, 0.0, 0.0, 0.0],
        [3.0, -INF, 1.0, -INF],     # masked entries: probability 0, log-probability -inf
        [88.0, 89.0, 90.0, -90.0],  # exp(x) alone would overflow float32
    ], dtype=dtype)
    dy = np.random.default_rng(1).standard_normal(x.shape).astype(dtype)
    y, dx = run_kernel(op, x, dy)
    yt, dxt = run_torch(op, x, dy)
    assert_close_to_torch(y, yt)
    assert_close_to_torch(dx, dxt)
    assert not np.any(np.isnan(y))


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_row_of_all_minus_inf_gives_nan_as_torch(op, dtype):
    x = np.array([[-INF, -INF, -INF], [0.0, 1.0, 2.0]], dtype=dtype)
    y = getattr(_C, f"{op}_forward")(x)
    yt = OPS[op](torch.from_numpy(x), -1)
    assert np.all(np.isnan(y[0])) and torch.all(torch.isnan(yt[0]))
    assert_close_to_torch(y[1], yt[1])


@needs_avx512_loops
@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("cols", ROW_LENGTHS)
def test_avx512_build_gives_the_avx2_bits(op, cols):
    rng = np.random.default_rng(cols)
    x = (rng.standard_normal((6, cols)) * 30).astype(np.float32)
    x[1, :] = -INF  # a row of -inf: NaN
    x[2, cols // 2] = np.nan
    x[3, cols - 1] = -INF
    x[4, 0] = 200.0  # the others underflow to 0, some through subnormals
    dy = rng.standard_normal(x.shape).astype(np.float32)
    same_under_avx512_and_avx2(lambda: run_kernel(op, x, dy))


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_rows_sum_to_one(dtype):
    x = np.random.default_rng(2).standard_normal((13, 101)).astype(dtype) * 10
    sums = _C.softmax_forward(x).astype(np.float64).sum(-1)
    np.testing.assert_allclose(sums, 1.0, rtol=0, atol=1e-5 if dtype == np.float32 else 1e-14)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_same_bits_with_1_and_2_threads(op, dtype):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((517, 97)).astype(dtype)  # above kParallelGrain
    dy = rng.standard_normal(x.shape).astype(dtype)
    same_under_1_and_2_threads(lambda: run_kernel(op, x, dy))


def test_zero_dimensional_input_raises_value_error():
    with pytest.raises(ValueError, match=r"softmax_forward.*'x'.*\(\).*at least 1 dimension"):
        _C.softmax_forward(np.array(1.0))


def test_bad_backward_arguments_raise():
    with pytest.raises(ValueError, match=r"log_softmax_backward.*'y' \(2, 3\).*'dy' \(2, 4\)"):
        _C.log_softmax_backward(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(TypeError, match=r"softmax_backward.*'dy'"):
        _C.softmax_backward(np.zeros((2, 3), np.float32), np.zeros((2, 3)))
    with pytest.raises(TypeError, match=r"softmax_forward.*'x'.*int32"):
        _C.softmax_forward(np.zeros((2, 3), np.int32))
