"""Pooling kernels of kernn._C against torch.nn.functional (float32 and float64)."""

import itertools
import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from kernn import _C
from kernel_check import same_under_1_and_2_threads, simd_loops

DTYPES = [np.float32, np.float64]


def _grid(seed, count, **axes):
    """A fixed random sample of `count` points of the product of `axes` (keeps the suite fast)."""
    points = list(itertools.product(*axes.values()))
    random.Random(seed).shuffle(points)
    return [dict(zip(axes.keys(), p)) for p in points[:count]]


def _valid_max_geometry(H, W, k, s, p, d, ceil_mode):
    if p > k // 2:
        return False
    try:
        torch.nn.functional.max_pool2d(torch.zeros(1, 1, H, W), k, s, p, d, ceil_mode)
    except RuntimeError:
        return False
    return True


MAX_CASES = [
    c
    for c in _grid(
        1, 400, k=[1, 2, 3, 4, 5], s=[1, 2, 3], p=[0, 1, 2], d=[1, 2], ceil_mode=[False, True],
        hw=[(7, 5), (8, 8), (13, 11), (1, 6)],
    )
    if _valid_max_geometry(*c["hw"], c["k"], c["s"], c["p"], c["d"], c["ceil_mode"])
][:60]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", MAX_CASES, ids=lambda c: "-".join(f"{k}{v}" for k, v in c.items()))
def test_max_pool2d_matches_torch(case, dtype):
    H, W = case["hw"]
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, H, W)).astype(dtype)
    args = (case["k"], case["s"], case["p"], case["d"], case["ceil_mode"])
    y, idx = _C.max_pool2d_forward(x, *args)
    ty, tidx = F.max_pool2d(torch.from_numpy(x), *args, return_indices=True)
    np.testing.assert_array_equal(y, ty.numpy())
    # A dilated window entirely in the padding: torch reports an index past the plane (its
    # backward would write out of bounds), kernn reports -1.
    tidx = tidx.numpy()
    empty_windows = tidx >= H * W
    tidx[empty_windows] = -1
    np.testing.assert_array_equal(idx, tidx)

    dy = rng.standard_normal(y.shape).astype(dtype)
    dx = _C.max_pool2d_backward(dy, idx, x.shape)
    if empty_windows.any():
        # torch's backward would write past the plane here (heap corruption): scatter by hand.
        expected = np.zeros((6, H * W), dtype)
        for plane in range(6):
            keep = idx.reshape(6, -1)[plane] >= 0
            np.add.at(expected[plane], idx.reshape(6, -1)[plane][keep], dy.reshape(6, -1)[plane][keep])
        expected = expected.reshape(x.shape)
    else:
        tx = torch.from_numpy(x).requires_grad_()
        F.max_pool2d(tx, *args).backward(torch.from_numpy(dy))
        expected = tx.grad.numpy()
    # Overlapping windows add in a different order than torch's: a few ulps.
    np.testing.assert_allclose(dx, expected, rtol=1e-6 if dtype == np.float32 else 1e-13,
                               atol=1e-6 if dtype == np.float32 else 1e-13)


def test_max_pool2d_ties_pick_first_in_scan_order_and_nan_propagates():
    x = np.array([[[[1, 1, 0, 2], [1, 1, 2, 2], [5, 3, np.nan, 1], [5, 5, 1, np.nan]]]],
                 dtype=np.float32)
    y, idx = _C.max_pool2d_forward(x, 2)
    ty, tidx = F.max_pool2d(torch.from_numpy(x), 2, return_indices=True)
    np.testing.assert_array_equal(y, ty.numpy())
    np.testing.assert_array_equal(idx, tidx.numpy())
    assert idx[0, 0, 0, 0] == 0 and idx[0, 0, 0, 1] == 3 and idx[0, 0, 1, 0] == 8
    assert np.isnan(y[0, 0, 1, 1])
    # Overlapping windows over a constant plane: every window picks its first tap.
    y, idx = _C.max_pool2d_forward(np.full((1, 5, 5), -np.inf), 3, 1, 1)
    _, tidx = F.max_pool2d(torch.full((1, 5, 5), -np.inf, dtype=torch.float64), 3, 1, 1,
                           return_indices=True)
    np.testing.assert_array_equal(idx, tidx.numpy())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 3, 8, 8), (1, 2, 10, 10), (3, 1, 7, 9), (1, 1, 2, 34)])
def test_max_pool2d_2x2_simd_build_gives_the_portable_results(shape, dtype):
    rng = np.random.default_rng(sum(shape))
    # Few distinct values (ties) and NaNs, where the scan order decides the index.
    x = rng.integers(-3, 3, shape).astype(dtype)
    x[rng.uniform(size=shape) < 0.05] = np.nan
    results = []
    for simd in ("avx2", "portable"):
        with simd_loops(simd):
            results.append(_C.max_pool2d_forward(x, 2))
    for got, want in zip(*results):
        np.testing.assert_array_equal(got, want)
    ty, tidx = F.max_pool2d(torch.from_numpy(x), 2, return_indices=True)
    np.testing.assert_array_equal(results[1][0], ty.numpy())
    np.testing.assert_array_equal(results[1][1], tidx.numpy())


def test_max_pool2d_ceil_mode_last_window_must_start_inside():
    # 5 wide, kernel 2, stride 2, padding 1: ceil would give 4 windows but the 4th starts at 5
    # (past input + left padding), so torch drops it and keeps 3.
    x = np.arange(25, dtype=np.float64).reshape(1, 1, 5, 5)
    y, _ = _C.max_pool2d_forward(x, 2, 2, 1, 1, True)
    assert y.shape == F.max_pool2d(torch.from_numpy(x), 2, 2, 1, 1, True).shape == (1, 1, 3, 3)
    y, _ = _C.max_pool2d_forward(x, 2, 2, 0, 1, True)
    assert y.shape == (1, 1, 3, 3)
    np.testing.assert_array_equal(y[0, 0], [[6, 8, 9], [16, 18, 19], [21, 23, 24]])


AVG_CASES = [
    c
    for c in _grid(
        2, 400, k=[1, 2, 3, 4, 5], s=[1, 2, 3], p=[0, 1, 2], ceil_mode=[False, True],
        count_include_pad=[False, True], divisor_override=[None, 3], hw=[(7, 5), (9, 12), (1, 4)],
    )
    if _valid_max_geometry(*c["hw"], c["k"], c["s"], c["p"], 1, c["ceil_mode"])
][:50]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", AVG_CASES, ids=lambda c: "-".join(f"{k}{v}" for k, v in c.items()))
def test_avg_pool2d_matches_torch(case, dtype):
    H, W = case["hw"]
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, H, W)).astype(dtype)
    args = (case["k"], case["s"], case["p"], case["ceil_mode"], case["count_include_pad"],
            case["divisor_override"])
    y = _C.avg_pool2d_forward(x, *args)
    tx = torch.from_numpy(x).requires_grad_()
    ty = F.avg_pool2d(tx, *args)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(y, ty.detach().numpy(), **tol)
    dy = rng.standard_normal(y.shape).astype(dtype)
    ty.backward(torch.from_numpy(dy))
    dx = _C.avg_pool2d_backward(dy, x.shape, *args)
    np.testing.assert_allclose(dx, tx.grad.numpy(), **tol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hw,out", [((7, 5), (3, 2)), ((8, 8), (1, 1)), ((5, 9), (5, 9)),
                                    ((4, 3), (6, 7)), ((13, 1), (4, 1))])
def test_adaptive_avg_pool2d_matches_torch(hw, out, dtype):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, *hw)).astype(dtype)
    y = _C.adaptive_avg_pool2d_forward(x, out)
    tx = torch.from_numpy(x).requires_grad_()
    ty = F.adaptive_avg_pool2d(tx, out)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(y, ty.detach().numpy(), **tol)
    dy = rng.standard_normal(y.shape).astype(dtype)
    ty.backward(torch.from_numpy(dy))
    np.testing.assert_allclose(_C.adaptive_avg_pool2d_backward(dy, x.shape), tx.grad.numpy(), **tol)


def test_pooling_accepts_three_dimensional_input():
    x = np.random.default_rng(6).standard_normal((4, 6, 6)).astype(np.float32)
    y, idx = _C.max_pool2d_forward(x, 2)
    assert y.shape == idx.shape == (4, 3, 3)
    np.testing.assert_array_equal(y, F.max_pool2d(torch.from_numpy(x), 2).numpy())


def test_pooling_one_and_two_threads_agree():
    x = np.random.default_rng(7).standard_normal((8, 16, 20, 20)).astype(np.float32)
    dy = np.random.default_rng(8).standard_normal((8, 16, 10, 10)).astype(np.float32)

    def pools():
        y, idx = _C.max_pool2d_forward(x, 3, 2, 1)
        return (y, idx, _C.max_pool2d_backward(dy, idx, x.shape), _C.avg_pool2d_forward(x, 3, 2, 1),
                _C.avg_pool2d_backward(dy, x.shape, 3, 2, 1))

    same_under_1_and_2_threads(pools)


def test_pooling_errors_name_op_argument_and_sizes():
    x = np.zeros((1, 2, 4, 4), np.float32)
    with pytest.raises(ValueError, match=r"max_pool2d: computed output size \(0, 0\) is too small"):
        _C.max_pool2d_forward(np.zeros((1, 1, 2, 2), np.float32), 3, 1, 0)
    with pytest.raises(ValueError, match="max_pool2d: argument 'stride'"):
        _C.max_pool2d_forward(x, 2, 0)
    with pytest.raises(ValueError, match="max_pool2d: argument 'kernel_size'"):
        _C.max_pool2d_forward(x, 0)
    with pytest.raises(ValueError, match="padding .* at most half"):
        _C.max_pool2d_forward(x, 2, 2, 2)
    with pytest.raises(ValueError, match=r"max_pool2d: argument 'input' has shape \(4, 4\)"):
        _C.max_pool2d_forward(np.zeros((4, 4), np.float32), 2)
    with pytest.raises(TypeError, match="max_pool2d: argument 'input' has dtype int32"):
        _C.max_pool2d_forward(np.zeros((1, 1, 4, 4), np.int32), 2)
    with pytest.raises(ValueError, match="avg_pool2d: argument 'divisor_override'"):
        _C.avg_pool2d_forward(x, 2, divisor_override=0)
    with pytest.raises(ValueError, match="adaptive_avg_pool2d: argument 'output_size'"):
        _C.adaptive_avg_pool2d_forward(x, (0, 2))


def test_max_pool2d_backward_rejects_bad_indices():
    x = np.random.default_rng(9).standard_normal((1, 2, 4, 4)).astype(np.float32)
    y, idx = _C.max_pool2d_forward(x, 2)
    with pytest.raises(TypeError, match="max_pool2d_backward: argument 'indices' has dtype int32"):
        _C.max_pool2d_backward(y, idx.astype(np.int32), x.shape)
    with pytest.raises(ValueError, match="'grad_output' .* and 'indices' .* must have the same"):
        _C.max_pool2d_backward(y, idx[:, :1], x.shape)
    with pytest.raises(ValueError, match="argument 'input_shape'"):
        _C.max_pool2d_backward(y, idx, (1, 3, 4, 4))
    for bad in (16, -2, 1 << 40):
        wrong = idx.copy()
        wrong[0, 1, 1, 0] = bad
        with pytest.raises(IndexError, match=r"outside \[0, 16\)"):
            _C.max_pool2d_backward(y, wrong, x.shape)
    with pytest.raises(ValueError, match="avg_pool2d_backward: argument 'grad_output'"):
        _C.avg_pool2d_backward(y[:, :, :1], x.shape, 2)
