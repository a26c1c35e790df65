"""kernn.nn.init: gains and the distributions' bounds / moments by torch's formulas."""

import math

import numpy as np
import pytest
import torch

import kernn
from kernn.nn import init


@pytest.mark.parametrize("name,param", [("linear", None), ("sigmoid", None), ("tanh", None),
                                        ("relu", None), ("leaky_relu", None),
                                        ("leaky_relu", 0.2), ("conv2d", None), ("selu", None)])
def test_calculate_gain_matches_torch(name, param):
    assert init.calculate_gain(name, param) == pytest.approx(
        torch.nn.init.calculate_gain(name, param))


def test_calculate_gain_rejects_unknown():
    with pytest.raises(ValueError, match="unsupported"):
        init.calculate_gain("swish")


def _std_of(fn, shape=(300, 500), **kw):
    t = kernn.empty(*shape, dtype=kernn.float64)
    fn(t, **kw)
    return t.numpy()


@pytest.mark.parametrize("fn,kw,expected_std", [
    (init.xavier_uniform_, {}, math.sqrt(2 / 800)),
    (init.xavier_normal_, {"gain": 2.0}, 2 * math.sqrt(2 / 800)),
    (init.kaiming_uniform_, {"nonlinearity": "relu"}, math.sqrt(2 / 500)),
    (init.kaiming_normal_, {"nonlinearity": "relu"}, math.sqrt(2 / 500)),
    (init.kaiming_normal_, {"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(2 / 300)),
    (init.kaiming_uniform_, {"a": math.sqrt(5)}, 1 / math.sqrt(3 * 500)),
    (init.normal_, {"std": 0.3}, 0.3),
    (init.uniform_, {"a": -2, "b": 2}, 4 / math.sqrt(12)),
])
def test_distribution_std(fn, kw, expected_std):
    a = _std_of(fn, **kw)
    assert abs(a.std() - expected_std) < 0.02 * expected_std
    # 150,000 samples: the mean's standard error is ~0.003 std.
    assert abs(a.mean()) < 0.03 * expected_std


def test_uniform_bounds():
    a = _std_of(init.xavier_uniform_)
    bound = math.sqrt(6 / 800)
    assert np.abs(a).max() <= bound


def test_fills_and_in_place_identity():
    t = kernn.empty(3, 4)
    assert init.constant_(t, 0.5) is t and (t.numpy() == 0.5).all()
    assert (init.zeros_(t).numpy() == 0).all() and (init.ones_(t).numpy() == 1).all()
    np.testing.assert_array_equal(init.eye_(kernn.empty(3, 3)).numpy(), np.eye(3))


def test_init_on_parameter_keeps_dtype_and_grad_flag():
    lin = kernn.nn.Linear(4, 3).double()
    init.kaiming_normal_(lin.weight)
    assert lin.weight.dtype is kernn.float64 and lin.weight.requires_grad


def test_fan_needs_two_dims():
    with pytest.raises(ValueError, match="fewer than 2"):
        init.xavier_uniform_(kernn.empty(5))
