"""Sequential's fused BatchNorm -> ReLU: exactly the unfused pair's outputs, gradients and
running statistics; gradcheck of F.batch_norm_relu; fusion only of exactly adjacent pairs.
ReLU -> MaxPool2d run in the other order: the given order's output values and, bit for bit,
its gradients."""

import numpy as np
import pytest

import kernn
import kernn.nn as nn
import kernn.nn.functional as F
from kernn.utils import gradcheck


class _UnfusedReLU(nn.ReLU):
    """A ReLU Sequential does not fuse (fusion matches the exact class)."""


def _pair(bn_cls, C, dtype, fused):
    bn = bn_cls(C, dtype=dtype)
    relu = nn.ReLU() if fused else _UnfusedReLU()
    return nn.Sequential(bn, relu)


CASES = [(nn.BatchNorm2d, (4, 5, 7, 3)), (nn.BatchNorm2d, (1, 3, 5, 5)),
         (nn.BatchNorm1d, (6, 7)), (nn.BatchNorm1d, (3, 4, 11))]


@pytest.mark.parametrize("dtype", [kernn.float32, kernn.float64])
@pytest.mark.parametrize("bn_cls,shape", CASES)
@pytest.mark.parametrize("training", [True, False])
def test_fused_batchnorm_relu_equals_the_unfused_pair_exactly(bn_cls, shape, dtype, training):
    rng = np.random.default_rng(sum(shape))
    C = shape[1]
    np_dtype = np.float32 if dtype == kernn.float32 else np.float64
    models = [_pair(bn_cls, C, dtype, fused) for fused in (False, True)]
    weight = rng.uniform(0.5, 1.5, C).astype(np_dtype)
    bias = rng.standard_normal(C).astype(np_dtype) * 0.5
    running_mean = rng.standard_normal(C).astype(np_dtype)
    running_var = rng.uniform(0.5, 2, C).astype(np_dtype)
    x = rng.standard_normal(shape).astype(np_dtype)
    dy = rng.standard_normal(shape).astype(np_dtype)
    results = []
    for model in models:
        bn = model[0]
        bn.weight._data[...] = weight
        bn.bias._data[...] = bias
        bn.running_mean._data[...] = running_mean
        bn.running_var._data[...] = running_var
        model.train(training)
        xt = kernn.tensor(x, requires_grad=True)
        out = model(xt)
        (out * kernn.from_numpy(dy)).sum().backward()
        results.append([out.detach().numpy(), xt.grad.numpy(), bn.weight.grad.numpy(),
                        bn.bias.grad.numpy(), bn.running_mean.numpy(), bn.running_var.numpy()])
    unfused, fused = results
    assert (fused[0] == 0).any() and (fused[0] > 0).any()
    for got, want in zip(fused, unfused):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", [kernn.float32, kernn.float64])
def test_fused_batchnorm_relu_without_grad_equals_the_unfused_pair(dtype):
    rng = np.random.default_rng(5)
    x = kernn.tensor(rng.standard_normal((3, 4, 5, 6)), dtype=dtype)
    fused, unfused = (_pair(nn.BatchNorm2d, 4, dtype, f) for f in (True, False))
    with kernn.no_grad():
        np.testing.assert_array_equal(fused(x).numpy(), unfused(x).numpy())


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (2, 3, 4, 5)])
def test_batch_norm_relu_gradcheck(shape):
    rng = np.random.default_rng(4)
    x = kernn.tensor(rng.standard_normal(shape), requires_grad=True)
    w = kernn.tensor(rng.uniform(0.5, 1.5, 3), requires_grad=True)
    # A shift keeps outputs away from the ReLU's kink relative to the finite-difference step.
    b = kernn.tensor(rng.standard_normal(3) * 0.3, requires_grad=True)
    assert gradcheck(lambda x, w, b: F.batch_norm_relu(x, None, None, w, b, training=True),
                     (x, w, b))
    rm, rv = kernn.tensor(rng.standard_normal(3)), kernn.tensor(rng.uniform(0.5, 2, 3))
    assert gradcheck(lambda x, w, b: F.batch_norm_relu(x, rm, rv, w, b, training=False),
                     (x, w, b))


def test_sequential_fuses_only_an_adjacent_batchnorm_relu_pair():
    bn, relu, tanh = nn.BatchNorm2d(3), nn.ReLU(), nn.Tanh()
    plan = nn.Sequential(bn, relu)._build_plan()
    assert len(plan) == 1 and plan[0].__self__ is bn
    assert nn.Sequential(bn, tanh, relu)._build_plan() == [bn, tanh, relu]
    assert nn.Sequential(bn, _UnfusedReLU())._build_plan()[0] is bn


def test_replacing_a_child_keeps_its_position_and_rebuilds_the_plan():
    model = nn.Sequential(nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten())
    x = kernn.randn(2, 3, 4, 4)
    model(x)
    model[1] = nn.Tanh()
    assert [type(m) for m in model] == [nn.BatchNorm2d, nn.Tanh, nn.Flatten]
    assert (model(x).detach().numpy() < 0).any()


# ---- ReLU -> MaxPool2d, run as MaxPool2d -> ReLU ------------------------------------------------
class _UnfusedMaxPool2d(nn.MaxPool2d):
    """A MaxPool2d Sequential does not reorder (the reordering matches the exact class)."""


POOL_CASES = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
              dict(kernel_size=2, ceil_mode=True), dict(kernel_size=(2, 3), dilation=(2, 1))]


@pytest.mark.parametrize("dtype", [kernn.float32, kernn.float64])
@pytest.mark.parametrize("pool_args", POOL_CASES, ids=str)
def test_relu_then_max_pool_equals_the_given_order_exactly(pool_args, dtype):
    rng = np.random.default_rng(len(str(pool_args)))
    np_dtype = np.float32 if dtype == kernn.float32 else np.float64
    # Small integers: ties, all-negative windows and exact zeros; one NaN.
    x = rng.integers(-4, 3, (2, 3, 9, 11)).astype(np_dtype)
    x[1, 2, 4, 5] = np.nan
    results, dy = [], None
    for pool_cls in (_UnfusedMaxPool2d, nn.MaxPool2d):
        model = nn.Sequential(nn.ReLU(), pool_cls(**pool_args))
        xt = kernn.tensor(x, requires_grad=True)
        out = model(xt)
        if dy is None:
            dy = rng.standard_normal(out.shape).astype(np_dtype)
        (out * kernn.from_numpy(dy)).sum().backward()
        results.append((out.detach().numpy(), xt.grad.numpy()))
    (want_out, want_grad), (got_out, got_grad) = results
    assert (want_out == 0).any() and (want_out > 0).any() and np.isnan(want_out).any()
    np.testing.assert_array_equal(got_out, want_out)  # values: -0.0 == +0.0
    uint = np.uint32 if np_dtype == np.float32 else np.uint64
    np.testing.assert_array_equal(got_grad.view(uint), want_grad.view(uint))


def test_relu_then_max_pool_returning_indices_keeps_the_given_order():
    x = kernn.tensor([[[[-3.0, -1.0], [-2.0, -4.0]]]])
    model = nn.Sequential(nn.ReLU(), nn.MaxPool2d(2, return_indices=True))
    out, indices = model(x)
    assert out.tolist() == [[[[0.0]]]] and indices.tolist() == [[[[0]]]]
    model[1].return_indices = False  # switched after the plan was built
    assert model(x).tolist() == [[[[0.0]]]]
