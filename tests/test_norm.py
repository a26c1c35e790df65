"""Batch-norm kernels of kernn._C against torch (float32 and float64)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import kernn
from kernn import _C
from kernel_check import needs_simd_loops, same_under_1_and_2_threads, simd_loops

DTYPES = [np.float32, np.float64]
SHAPES = [(5, 3), (1, 4, 7), (4, 6, 5), (2, 3, 7, 5), (3, 1, 4, 4), (1, 2, 1, 3)]


def _tol(dtype):
    # Float32: the kernel accumulates in double, torch in float with another order: ~1e-6
    # relative on O(1) outputs; gradients sum over up to a few hundred values.
    return dict(rtol=2e-5, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-12)


def _params(C, dtype, rng):
    return (rng.uniform(0.5, 1.5, C).astype(dtype), rng.standard_normal(C).astype(dtype),
            rng.standard_normal(C).astype(dtype), rng.uniform(0.5, 2, C).astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training_forward_backward_and_running_stats(shape, dtype, affine):
    rng = np.random.default_rng(sum(shape))
    C = shape[1]
    x = (rng.standard_normal(shape) * 3 + 2).astype(dtype)
    w, b, rm, rv = _params(C, dtype, rng)
    if not affine:
        w = b = None
    t_rm, t_rv = torch.from_numpy(rm.copy()), torch.from_numpy(rv.copy())
    tx = torch.from_numpy(x).requires_grad_()
    tw = torch.from_numpy(w).requires_grad_() if affine else None
    tb = torch.from_numpy(b).requires_grad_() if affine else None
    ty = F.batch_norm(tx, t_rm, t_rv, tw, tb, training=True, momentum=0.3, eps=1e-4)

    y, save_mean, save_invstd = _C.batch_norm_forward(x, w, b, rm, rv, True, 0.3, 1e-4)
    tol = _tol(dtype)
    np.testing.assert_allclose(y, ty.detach().numpy(), **tol)
    np.testing.assert_allclose(rm, t_rm.numpy(), **tol)
    np.testing.assert_allclose(rv, t_rv.numpy(), **tol)  # the unbiased variance
    axes = tuple(i for i in range(x.ndim) if i != 1)
    np.testing.assert_allclose(save_mean, x.astype(np.float64).mean(axes), **tol)
    np.testing.assert_allclose(save_invstd, 1 / np.sqrt(x.astype(np.float64).var(axes) + 1e-4),
                               **tol)

    dy = rng.standard_normal(shape).astype(dtype)
    ty.backward(torch.from_numpy(dy))
    dx, dw, db = _C.batch_norm_backward(x, dy, w, save_mean, save_invstd, True)
    np.testing.assert_allclose(dx, tx.grad.numpy(), **tol)
    if affine:
        np.testing.assert_allclose(dw, tw.grad.numpy(), **tol)
        np.testing.assert_allclose(db, tb.grad.numpy(), **tol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(6, 3), (2, 4, 3, 5)])
def test_batch_norm_eval_uses_running_stats(shape, dtype):
    rng = np.random.default_rng(11)
    C = shape[1]
    x = rng.standard_normal(shape).astype(dtype)
    w, b, rm, rv = _params(C, dtype, rng)
    rm_before, rv_before = rm.copy(), rv.copy()
    tx = torch.from_numpy(x).requires_grad_()
    tw, tb = torch.from_numpy(w).requires_grad_(), torch.from_numpy(b).requires_grad_()
    ty = F.batch_norm(tx, torch.from_numpy(rm.copy()), torch.from_numpy(rv.copy()), tw, tb,
                      training=False, eps=1e-5)
    y, save_mean, save_invstd = _C.batch_norm_forward(x, w, b, rm, rv, False, 0.1, 1e-5)
    np.testing.assert_array_equal(rm, rm_before)
    np.testing.assert_array_equal(rv, rv_before)
    np.testing.assert_allclose(y, ty.detach().numpy(), **_tol(dtype))
    dy = rng.standard_normal(shape).astype(dtype)
    ty.backward(torch.from_numpy(dy))
    dx, dw, db = _C.batch_norm_backward(x, dy, w, save_mean, save_invstd, False)
    np.testing.assert_allclose(dx, tx.grad.numpy(), **_tol(dtype))
    np.testing.assert_allclose(dw, tw.grad.numpy(), **_tol(dtype))
    np.testing.assert_allclose(db, tb.grad.numpy(), **_tol(dtype))


def test_batch_norm_running_stats_over_steps_and_train_eval_switching():
    rng = np.random.default_rng(12)
    module = torch.nn.BatchNorm2d(4, momentum=0.2).double()
    w = module.weight.detach().numpy().copy()
    b = module.bias.detach().numpy().copy()
    rm, rv = np.zeros(4), np.ones(4)
    for step in range(5):
        x = rng.standard_normal((3, 4, 5, 6)) * (step + 1) + step
        module.train()
        expected = module(torch.from_numpy(x)).detach().numpy()
        y, _, _ = _C.batch_norm_forward(x, w, b, rm, rv, True, 0.2, 1e-5)
        np.testing.assert_allclose(y, expected, rtol=1e-11, atol=1e-12)
        np.testing.assert_allclose(rm, module.running_mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(rv, module.running_var.numpy(), rtol=1e-12)
        module.eval()
        expected = module(torch.from_numpy(x)).detach().numpy()
        y, _, _ = _C.batch_norm_forward(x, w, b, rm, rv, False, 0.2, 1e-5)
        np.testing.assert_allclose(y, expected, rtol=1e-11, atol=1e-12)


def test_batch_norm_large_mean_small_variance_float32():
    # A mean of 100 with std 0.01: the statistics are accumulated in double and x is centred
    # before scaling, so the result is as good as the float32 input allows (ulp(100)/std ~ 1e-3).
    rng = np.random.default_rng(13)
    x = (100 + 1e-2 * rng.standard_normal((64, 3, 8))).astype(np.float32)
    y, mean, invstd = _C.batch_norm_forward(x, None, None, None, None, True, 0.1, 1e-8)
    expected = F.batch_norm(torch.from_numpy(x).double(), None, None, training=True, eps=1e-8).numpy()
    np.testing.assert_allclose(y, expected, atol=2e-3)
    np.testing.assert_allclose(1 / invstd.astype(np.float64)**2 - 1e-8, x.astype(np.float64).var((0, 2)), rtol=1e-4)


def test_batch_norm_without_running_stats():
    x = np.random.default_rng(14).standard_normal((4, 3, 5))
    y, _, _ = _C.batch_norm_forward(x, None, None, None, None, True, 0.1, 1e-5)
    np.testing.assert_allclose(y, F.batch_norm(torch.from_numpy(x), None, None, training=True).numpy(),
                               rtol=1e-11, atol=1e-12)


def test_batch_norm_one_and_two_threads_agree():
    rng = np.random.default_rng(15)
    x = rng.standard_normal((16, 8, 12, 12)).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    w, b = np.ones(8, np.float32), np.zeros(8, np.float32)

    def forward_and_backward():
        rm, rv = np.zeros(8, np.float32), np.ones(8, np.float32)
        y, sm, si = _C.batch_norm_forward(x, w, b, rm, rv, True, 0.1, 1e-5)
        return (y, sm, si, rm, rv) + tuple(_C.batch_norm_backward(x, dy, w, sm, si, True))

    same_under_1_and_2_threads(forward_and_backward)


def test_batch_norm_errors():
    x = np.zeros((4, 3, 5), np.float32)
    c3 = np.zeros(3, np.float32)
    with pytest.raises(ValueError, match="batch_norm: argument 'input' has shape \\(4,\\)"):
        _C.batch_norm_forward(np.zeros(4, np.float32), None, None, None, None, True, 0.1, 1e-5)
    with pytest.raises(ValueError, match="more than 1 value per channel .* \\(1, 3\\)"):
        _C.batch_norm_forward(np.zeros((1, 3), np.float32), None, None, None, None, True, 0.1, 1e-5)
    with pytest.raises(ValueError, match="batch_norm: argument 'weight' has shape \\(4,\\); expected \\(3,\\)"):
        _C.batch_norm_forward(x, np.zeros(4, np.float32), None, None, None, True, 0.1, 1e-5)
    with pytest.raises(TypeError, match="batch_norm: argument 'running_mean' has dtype float64"):
        _C.batch_norm_forward(x, None, None, np.zeros(3), np.ones(3), True, 0.1, 1e-5)
    read_only = np.ones(3, np.float32)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="'running_var' .* read-only"):
        _C.batch_norm_forward(x, None, None, c3.copy(), read_only, True, 0.1, 1e-5)
    with pytest.raises(ValueError, match="required when not training"):
        _C.batch_norm_forward(x, None, None, None, None, False, 0.1, 1e-5)
    with pytest.raises(ValueError, match="batch_norm_backward: arguments 'input' .* 'grad_output'"):
        _C.batch_norm_backward(x, x[:2], None, c3, c3, True)


# ---- batch norm with the ReLU fused in (relu=True, relu_output=) ------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES + [(3, 5, 17, 13)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_relu_kernels_equal_the_unfused_pair_exactly(shape, dtype, training):
    rng = np.random.default_rng(7 + sum(shape))
    C = shape[1]
    x = rng.standard_normal(shape).astype(dtype)
    w, b, rm, rv = _params(C, dtype, rng)
    # Zero shift and mean: outputs of both signs in every case, so the mask matters.
    b[:] = 0
    rm[:] = 0
    dy = rng.standard_normal(shape).astype(dtype)
    rm2, rv2 = rm.copy(), rv.copy()
    z, sm, si = _C.batch_norm_forward(x, w, b, rm, rv, training, 0.1, 1e-5)
    y, sm2, si2 = _C.batch_norm_forward(x, w, b, rm2, rv2, training, 0.1, 1e-5, True)
    np.testing.assert_array_equal(y, _C.relu_forward(z))
    assert (y == 0).any() and (y > 0).any()
    for got, want in ((sm2, sm), (si2, si), (rm2, rm), (rv2, rv)):
        np.testing.assert_array_equal(got, want)
    dz = _C.relu_backward(z, dy)
    want = _C.batch_norm_backward(x, dz, w, sm, si, training)
    got = _C.batch_norm_backward(x, dy, w, sm, si, training, relu_output=y)
    for g, e in zip(got, want):
        np.testing.assert_array_equal(g, e)


def test_batch_norm_relu_agrees_across_thread_counts():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((8, 16, 9, 9)).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    results = []
    before = kernn.get_num_threads()
    try:
        for threads in (1, 2):
            kernn.set_num_threads(threads)
            y, sm, si = _C.batch_norm_forward(x, None, None, None, None, True, 0.1, 1e-5, True)
            results.append((y,) + tuple(_C.batch_norm_backward(x, dy, None, sm, si, True, y)))
    finally:
        kernn.set_num_threads(before)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_batch_norm_backward_rejects_a_bad_relu_output():
    x = np.zeros((2, 3, 4), np.float32)
    c3 = np.ones(3, np.float32)
    with pytest.raises(ValueError, match="batch_norm_backward: arguments 'input' .* 'relu_output'"):
        _C.batch_norm_backward(x, x, None, c3, c3, True, x[:1])
    with pytest.raises(TypeError, match="batch_norm_backward.*'relu_output'"):
        _C.batch_norm_backward(x, x, None, c3, c3, True, x.astype(np.float64))
    with pytest.raises(ValueError, match="batch_norm_backward.*'relu_output'"):
        _C.batch_norm_backward(x, x, None, c3, c3, True, np.zeros((2, 4, 3), np.float32).transpose(0, 2, 1))


# ---- the AVX2 build of the channel loops against the portable build ----------------------------
@needs_simd_loops
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES + [(3, 5, 17, 13), (2, 4, 33)])
@pytest.mark.parametrize("relu", [False, True])
def test_batch_norm_simd_build_gives_the_portable_bits(shape, dtype, relu):
    rng = np.random.default_rng(11 + sum(shape))
    C = shape[1]
    x = (rng.standard_normal(shape) * 3 + 2).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    w, b, rm, rv = _params(C, dtype, rng)
    results = []
    for simd in ("avx2", "portable"):
        with simd_loops(simd):
            rm_run, rv_run = rm.copy(), rv.copy()
            y, sm, si = _C.batch_norm_forward(x, w, b, rm_run, rv_run, True, 0.1, 1e-5, relu)
            y_eval, _, si_eval = _C.batch_norm_forward(x, w, b, rm, rv, False, 0.1, 1e-5, relu)
            grads = _C.batch_norm_backward(x, dy, w, sm, si, True, y if relu else None)
            results.append((y, sm, si, rm_run, rv_run, y_eval, si_eval, *grads))
    for got, want in zip(*results):
        np.testing.assert_array_equal(got, want)
