"""Dropout1d / Dropout2d and F.dropout1d / F.dropout2d: whole channels, statistics with a
seed, eval mode, torch's rank rules, warnings and errors."""

import warnings

import numpy as np
import pytest
import torch

import kernn
import kernn.nn as nn
import kernn.nn.functional as F


def _channel_values(y, channel_axes):
    """y with the channel (sample, channel) axes first, flattened per channel."""
    a = y.detach().numpy() if isinstance(y, kernn.Tensor) else np.asarray(y)
    return a.reshape(int(np.prod(a.shape[:channel_axes])), -1)


@pytest.mark.parametrize("fn,shape,channel_axes", [
    (F.dropout1d, (64, 32, 7), 2), (F.dropout1d, (96, 9), 1), (F.dropout2d, (32, 48, 3, 4), 2),
    (F.dropout2d, (40, 30, 5), 2)])
@pytest.mark.parametrize("p", [0.2, 0.5])
def test_whole_channels_zeroed_and_kept_ones_scaled(fn, shape, channel_axes, p):
    kernn.manual_seed(11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dropout2d of a 3-D input warns, as torch
        y = fn(kernn.ones(*shape, dtype=kernn.float64), p)
    rows = _channel_values(y, channel_axes)
    zeroed = np.all(rows == 0, axis=1)
    kept = np.all(rows == 1 / (1 - p), axis=1)
    assert np.all(zeroed | kept)  # every channel entirely zeroed or entirely kept and scaled
    # The fraction zeroed is Binomial(channels, p) / channels: within 4 standard deviations.
    n = rows.shape[0]
    assert abs(zeroed.mean() - p) < 4 * np.sqrt(p * (1 - p) / n)


def test_seeded_draws_repeat_and_differ_between_calls():
    x = kernn.ones(8, 16, 5)
    kernn.manual_seed(3)
    a, b = F.dropout1d(x, 0.5), F.dropout1d(x, 0.5)
    kernn.manual_seed(3)
    np.testing.assert_array_equal(F.dropout1d(x, 0.5).numpy(), a.numpy())
    assert not np.array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("module,shape", [(nn.Dropout1d, (4, 6, 5)), (nn.Dropout2d, (4, 6, 3, 3))])
def test_gradient_is_the_same_channel_mask(module, shape):
    x = kernn.tensor(np.random.default_rng(0).standard_normal(shape), requires_grad=True)
    m = module(0.4)
    y = m(x)
    y.sum().backward()
    mask = y.detach().numpy() / x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), mask, rtol=1e-12)
    assert set(np.unique(np.round(mask, 12))) <= {0.0, round(1 / 0.6, 12)}


@pytest.mark.parametrize("module", [nn.Dropout1d, nn.Dropout2d])
def test_modules_repr_eval_and_p_as_torch(module):
    torch_module = getattr(torch.nn, module.__name__)
    assert repr(module(0.3)) == repr(torch_module(0.3))
    assert repr(module()) == repr(torch_module())
    m = module(0.9)
    m.eval()
    x = kernn.randn(2, 3, 4, 4) if module is nn.Dropout2d else kernn.randn(2, 3, 4)
    assert m(x) is x
    fn = F.dropout2d if module is nn.Dropout2d else F.dropout1d
    assert fn(x, 0.0) is x and fn(x, 0.5, training=False) is x
    np.testing.assert_array_equal(F.dropout2d(kernn.ones(2, 3, 4, 4), 1.0).numpy(),
                                  np.zeros((2, 3, 4, 4), np.float32))
    with pytest.raises(ValueError, match=f"{module.__name__}: probability has to be between 0 "
                                         "and 1, but got 1.5"):
        module(1.5)


def test_rank_rules_and_warnings_as_torch():
    with pytest.raises(ValueError, match=r"dropout1d: expected 2-D .* got shape \(2, 3, 4, 5\)"):
        F.dropout1d(kernn.ones(2, 3, 4, 5), 0.5, training=False)  # checked in eval too, as torch
    with pytest.raises(ValueError, match="dropout1d: probability"):
        F.dropout1d(kernn.ones(2, 3), -0.5)
    with pytest.warns(UserWarning, match="dropout2d: Received a 3D input") as record:
        F.dropout2d(kernn.ones(2, 3, 4), 0.5)
    assert len(record) == 1
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d"):
        y = F.dropout2d(kernn.ones(6, 40, dtype=kernn.float64), 0.5)
    # a 2-D input gets element-wise dropout, as torch's (N, C) feature mask
    assert 0 < np.count_nonzero(y.numpy()) < y.numpy().size
    with pytest.warns(UserWarning, match="Received a 1-D input"):
        with pytest.raises(ValueError, match="dropout2d: .*at least 2 dimensions.*\\(5,\\)"):
            F.dropout2d(kernn.ones(5), 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.dropout2d(kernn.ones(2, 3, 4, 4), 0.5)  # 4-D: no warning
        F.dropout1d(kernn.ones(3, 4), 0.5)
    with pytest.raises(TypeError, match="dropout1d.*'input'.*int64"):
        F.dropout1d(kernn.tensor([[1, 2]]), 0.5)
