"""Activation and dropout modules against torch."""

import numpy as np
import pytest
import torch

import kernn
import kernn.nn as nn
from torch_compare import compare, compare_modules

SHAPES = [(1,), (7, 13), (2, 3, 5), (4, 1, 17)]

MODULES = {
    "ReLU": lambda lib: lib.nn.ReLU(),
    "LeakyReLU": lambda lib: lib.nn.LeakyReLU(0.2),
    "Sigmoid": lambda lib: lib.nn.Sigmoid(),
    "Tanh": lambda lib: lib.nn.Tanh(),
    "Softsign": lambda lib: lib.nn.Softsign(),
    "Softmax": lambda lib: lib.nn.Softmax(dim=-1),
    "Softmax0": lambda lib: lib.nn.Softmax(dim=0),
    "LogSoftmax": lambda lib: lib.nn.LogSoftmax(dim=1),
    "Flatten": lambda lib: lib.nn.Flatten(),
    "Identity": lambda lib: lib.nn.Identity(),
}


@pytest.mark.parametrize("name", sorted(MODULES))
@pytest.mark.parametrize("shape", SHAPES)
def test_module_matches_torch(name, shape, float_dtype, rng):
    if name in ("LogSoftmax", "Flatten") and len(shape) < 2:
        shape = (3, 4)
    x = rng.standard_normal(shape) * 3
    compare_modules(MODULES[name](kernn), MODULES[name](torch), [x], dtype=float_dtype)


def test_extreme_values(float_dtype):
    x = np.array([[-1e4, -50.0, 0.0, 50.0, 1e4]])
    for name in ("Sigmoid", "Tanh", "Softsign", "Softmax", "LogSoftmax"):
        compare_modules(MODULES[name](kernn), MODULES[name](torch), [x], dtype=float_dtype)


def test_functional_forms(float_dtype, rng):
    x = rng.standard_normal((4, 6))
    compare(lambda l, t: l.nn.functional.leaky_relu(t, 0.3) + l.relu(t) + l.sigmoid(t)
            + l.tanh(t) + l.nn.functional.softsign(t) + l.softmax(t, 1) + t.log_softmax(0),
            [x], dtype=float_dtype)


def test_repr():
    assert repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"
    assert repr(nn.Dropout(0.3)) == "Dropout(p=0.3, inplace=False)"


def test_dropout_train_and_eval():
    kernn.manual_seed(0)
    d = nn.Dropout(0.25)
    x = kernn.ones(200, 100, requires_grad=True)
    y = d(x)
    kept = y.detach().numpy() != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(y.detach().numpy()[kept], 1 / 0.75, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy() != 0, kept)
    d.eval()
    assert d(x) is x


def test_dropout_in_training_needs_a_float_tensor():
    x = kernn.ones(4, dtype=kernn.int32)
    with pytest.raises(TypeError, match="dropout: argument 'input' must be a float32 or float64"):
        nn.functional.dropout(x, 0.5)
    assert nn.functional.dropout(x, 0.5, training=False) is x


def test_dropout_rejects_bad_probability():
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.functional.dropout(kernn.ones(2), -0.1)


def test_flatten_dim_out_of_range():
    with pytest.raises(IndexError, match="flatten"):
        nn.Flatten()(kernn.ones(3))


def test_softmax_dim_out_of_range():
    with pytest.raises(IndexError, match="out of range"):
        kernn.nn.functional.softmax(kernn.ones(2, 3), 2)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("requires_grad", [False, True])
def test_softmax_without_dim_runs_over_the_last_dimension(name, requires_grad):
    # dim=None is the last dimension (kernn's documented default; torch picks by ndim and warns).
    x = np.random.default_rng(3).standard_normal((2, 3, 5))
    kx = kernn.tensor(x, requires_grad=requires_grad)
    got = getattr(kernn.nn.functional, name)(kx)
    want = getattr(torch.nn.functional, name)(torch.from_numpy(x), dim=-1)
    np.testing.assert_allclose(got.detach().numpy(), want.numpy(), rtol=1e-12, atol=1e-14)
    module = {"softmax": kernn.nn.Softmax, "log_softmax": kernn.nn.LogSoftmax}[name]()
    np.testing.assert_array_equal(module(kx).detach().numpy(), got.detach().numpy())
    if requires_grad:
        (got * kernn.tensor(x)).sum().backward()
        tx = torch.from_numpy(x).requires_grad_()
        (getattr(torch.nn.functional, name)(tx, dim=-1) * torch.from_numpy(x)).sum().backward()
        np.testing.assert_allclose(kx.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-14)
