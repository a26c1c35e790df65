"""Sequential's fused BatchNorm -> ReLU: exactly the unfused pair's outputs, gradients and
running statistics; gradcheck of F.batch_norm_relu; fusion only of exactly adjacent pairs."""

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
