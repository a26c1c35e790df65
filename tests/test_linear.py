"""The Linear layer's backward kernel (kernn._C.linear_backward): bit for bit the kernels it
fuses (relu_backward, gemm, bias_grad) called one by one, and against torch."""

import itertools

import numpy as np
import pytest
import torch

from kernn import _C
from kernel_check import DTYPES, assert_close_to_torch, same_under_1_and_2_threads, to_torch

# (batch, in, out): batch 1, sizes that are not multiples of the vector widths, and a batch
# over 256 (bias_grad's row blocks) and 0-sized dimensions.
SHAPES = [(1, 1, 1), (1, 784, 10), (7, 13, 5), (100, 50, 129), (300, 17, 33), (0, 4, 3),
          (5, 0, 3), (5, 4, 0)]


def arrays(shape, dtype, seed):
    batch, n_in, n_out = shape
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, n_in)).astype(dtype)
    w = rng.standard_normal((n_out, n_in)).astype(dtype)
    dy = rng.standard_normal((batch, n_out)).astype(dtype)
    y = np.maximum(rng.standard_normal((batch, n_out)), 0).astype(dtype)  # exact zeros too
    return x, w, dy, y


def one_by_one(dy, x, w, relu_output, need):
    dz = dy if relu_output is None else _C.relu_backward(relu_output, dy)
    return (_C.gemm(dz, w) if need[0] else None,
            _C.gemm(dz, x, trans_a=True) if need[1] else None,
            _C.bias_grad(dz) if need[2] else None)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("relu", [True, False])
def test_gives_the_bits_of_the_kernels_one_by_one(dtype, shape, relu):
    x, w, dy, y = arrays(shape, dtype, sum(shape))
    relu_output = y if relu else None
    for need in itertools.product([True, False], repeat=3):
        fused = _C.linear_backward(dy, x, w, relu_output, *need)
        for got, want in zip(fused, one_by_one(dy, x, w, relu_output, need)):
            assert (got is None) == (want is None)
            if want is not None:
                assert got.dtype == want.dtype and got.shape == want.shape
                np.testing.assert_array_equal(got, want)


def test_mask_of_a_nan_output_passes_the_gradient_as_relu_backward():
    x, w, dy, y = arrays((4, 3, 6), np.float32, 1)
    y[1, 2] = np.nan
    y[2, 0] = -0.0
    fused = _C.linear_backward(dy, x, w, y, True, True, True)
    for got, want in zip(fused, one_by_one(dy, x, w, y, (True, True, True))):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", DTYPES)
def test_same_bits_with_1_and_2_threads(dtype):
    x, w, dy, y = arrays((300, 200, 150), dtype, 3)  # above the parallel thresholds
    same_under_1_and_2_threads(lambda: _C.linear_backward(dy, x, w, y, True, True, True))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("relu", [True, False])
def test_matches_torch(dtype, relu):
    x, w, dy, _ = arrays((9, 11, 6), dtype, 4)
    b = np.random.default_rng(5).standard_normal(6).astype(dtype)
    y = _C.linear(x, w, b, relu)
    dx, dw, db = _C.linear_backward(dy, x, w, y if relu else None, True, True, True)
    xt, wt, bt = (to_torch(a, requires_grad=True) for a in (x, w, b))
    yt = torch.nn.functional.linear(xt, wt, bt)
    if relu:
        yt = torch.relu(yt)
    yt.backward(to_torch(dy))
    assert_close_to_torch(y, yt)
    for got, want in zip((dx, dw, db), (xt.grad, wt.grad, bt.grad)):
        assert_close_to_torch(got, want)
