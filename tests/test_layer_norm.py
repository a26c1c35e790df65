"""Layer norm: the kernels of kernn._C, F.layer_norm and nn.LayerNorm against torch."""

import numpy as np
import pytest
import torch

import kernn
import kernn.nn as nn
import kernn.nn.functional as F
from kernn import _C
from kernel_check import same_under_1_and_2_threads
from torch_compare import compare, compare_modules

DTYPES = [np.float32, np.float64]

# (input shape, normalized_shape): 1, 2 and 3 trailing dims, odd sizes, batch 1, more than 64
# columns (several column blocks of the weight gradient), a single row.
CASES = [
    ((5, 7), (7,)),
    ((1, 13), (13,)),
    ((3, 4, 5), (4, 5)),
    ((2, 3, 5, 7), (3, 5, 7)),
    ((1, 1, 3, 3), (3, 3)),
    ((6, 131), (131,)),
    ((9,), (9,)),
    ((2, 3, 1), (1,)),
]


def _affine(shape, dtype, rng):
    return rng.uniform(0.5, 1.5, shape).astype(dtype), rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,normalized_shape", CASES)
@pytest.mark.parametrize("affine", ["both", "weight_only", "none"])
def test_layer_norm_matches_torch(shape, normalized_shape, dtype, affine):
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal(shape) * 3 + 2
    w, b = _affine(normalized_shape, np.float64, rng)
    inputs = {"both": [x, w, b], "weight_only": [x, w, None], "none": [x, None, None]}[affine]
    compare(lambda lib, x, w, b: lib.nn.functional.layer_norm(x, normalized_shape, w, b,
                                                              eps=1e-4),
            inputs, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_layer_norm_bias_without_weight(dtype):
    rng = np.random.default_rng(3)
    compare(lambda lib, x, b: lib.nn.functional.layer_norm(x, [6], None, b),
            [rng.standard_normal((4, 6)), rng.standard_normal(6)], dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_layer_norm_non_contiguous_input(dtype):
    rng = np.random.default_rng(4)
    base = rng.standard_normal((6, 10))
    w, b = _affine(6, np.float64, rng)
    compare(lambda lib, x, w, b: lib.nn.functional.layer_norm(x.t()[::2], (6,), w, b),
            [base, w, b], dtype=dtype)
    x = kernn.tensor(base.astype(dtype)).t()
    assert not x._data.flags.c_contiguous
    np.testing.assert_array_equal(F.layer_norm(x, 6).numpy(),
                                  F.layer_norm(x.contiguous(), 6).numpy())


def test_layer_norm_large_mean_small_variance_float32():
    # |x| ~ 1e4 with std ~ 1: the statistics and the centring are done in double, so float32
    # is as accurate as the float64 reference allows (torch's float32 is off by ~1e-3 here).
    rng = np.random.default_rng(5)
    x64 = 1e4 + rng.standard_normal((8, 33))
    x32 = x64.astype(np.float32)
    reference = torch.nn.functional.layer_norm(torch.from_numpy(x32.astype(np.float64)), (33,))
    y = F.layer_norm(kernn.tensor(x32), (33,))
    np.testing.assert_allclose(y.numpy(), reference.numpy(), rtol=0, atol=2e-6)
    dy = rng.standard_normal(x32.shape)
    tx = torch.from_numpy(x32.astype(np.float64)).requires_grad_()
    torch.nn.functional.layer_norm(tx, (33,)).backward(torch.from_numpy(dy))
    kx = kernn.tensor(x32, requires_grad=True)
    (F.layer_norm(kx, (33,)) * kernn.tensor(dy.astype(np.float32))).sum().backward()
    np.testing.assert_allclose(kx.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_layer_norm_kernels_same_bits_with_1_and_2_threads():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((300, 200)).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    w, b = _affine(200, np.float32, rng)

    def forward_and_backward():
        y, mean, rstd = _C.layer_norm_forward(x, [200], w, b, 1e-5)
        return (y, mean, rstd) + tuple(_C.layer_norm_backward(x, dy, [200], w, mean, rstd))

    same_under_1_and_2_threads(forward_and_backward)


def test_layer_norm_backward_output_mask():
    rng = np.random.default_rng(7)
    x, dy = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    _, mean, rstd = _C.layer_norm_forward(x, [4], None, None, 1e-5)
    full = _C.layer_norm_backward(x, dy, [4], None, mean, rstd)
    dx, dw, db = _C.layer_norm_backward(x, dy, [4], None, mean, rstd, [True, False, True])
    assert dw is None
    np.testing.assert_array_equal(dx, full[0])
    np.testing.assert_array_equal(db, full[2])


def test_layer_norm_errors():
    x = kernn.randn(3, 4)
    with pytest.raises(ValueError, match=r"layer_norm.*'input' has shape \(3, 4\).*\(\*, 5\)"):
        F.layer_norm(x, [5])
    with pytest.raises(ValueError, match="layer_norm.*'normalized_shape' is empty"):
        F.layer_norm(x, [])
    with pytest.raises(ValueError, match=r"layer_norm.*'weight' has shape \(3,\)"):
        F.layer_norm(x, [4], kernn.ones(3))
    with pytest.raises(TypeError, match="layer_norm.*'bias'.*float64"):
        F.layer_norm(x, [4], None, kernn.zeros(4, dtype=kernn.float64))
    with pytest.raises(TypeError, match="layer_norm.*'input'.*int64"):
        F.layer_norm(kernn.tensor([[1, 2]]), [2])
    with pytest.raises(TypeError, match="layer_norm.*'normalized_shape'"):
        F.layer_norm(x, "4")
    with pytest.raises(ValueError, match="layer_norm.*'eps'"):
        F.layer_norm(x, [4], eps=-1.0)
    # A size past int64 was pybind11's "incompatible function arguments" from _C.
    with pytest.raises(ValueError, match="layer_norm: argument 'normalized_shape' holds a size beyond int64"):
        F.layer_norm(x, [2**70])
    with pytest.raises(ValueError, match="LayerNorm: argument 'normalized_shape' holds a size beyond int64"):
        kernn.nn.LayerNorm(2**64)


# ---- nn.LayerNorm ---------------------------------------------------------------------------
@pytest.mark.parametrize("kw", [{}, dict(elementwise_affine=False), dict(bias=False),
                                dict(eps=1e-3)])
def test_layer_norm_module_as_torch(kw):
    k, t = nn.LayerNorm([3, 5], **kw), torch.nn.LayerNorm([3, 5], **kw)
    assert repr(k) == repr(t)
    assert {n: tuple(v.shape) for n, v in k.state_dict().items()} == \
        {n: tuple(v.shape) for n, v in t.state_dict().items()}
    for name, p in t.named_parameters():
        np.testing.assert_array_equal(getattr(k, name).detach().numpy(), p.detach().numpy())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", [{}, dict(elementwise_affine=False), dict(bias=False)])
def test_layer_norm_module_forward_backward_as_torch(kw, dtype):
    k, t = nn.LayerNorm([3, 5], **kw), torch.nn.LayerNorm([3, 5], **kw)
    with torch.no_grad():
        for p in t.parameters():
            p.uniform_(0.5, 1.5)  # non-trivial parameters (copied into k) for the gradients
    x = np.random.default_rng(8).standard_normal((2, 4, 3, 5))
    compare_modules(k, t, [x], dtype=dtype)


def test_layer_norm_module_int_shape_dtype_and_reset():
    m = nn.LayerNorm(4, dtype=kernn.float64)
    assert m.normalized_shape == (4,) and m.weight.dtype == kernn.float64
    m.weight._data[...] = 3
    m.reset_parameters()
    np.testing.assert_array_equal(m.weight.detach().numpy(), np.ones(4))
    assert m(kernn.randn(2, 4, dtype=kernn.float64)).shape == (2, 4)
