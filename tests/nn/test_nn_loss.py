"""Loss modules and functions against torch, including reductions, ignore_index and errors."""

import numpy as np
import pytest

import kernn
import kernn.nn as nn
from torch_compare import compare

REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("n,c", [(1, 2), (7, 10), (64, 3)])
def test_cross_entropy(reduction, n, c, float_dtype, rng):
    logits = rng.standard_normal((n, c)) * 3
    target = rng.integers(0, c, n)
    compare(lambda l, x, t: l.nn.CrossEntropyLoss(reduction=reduction)(x, t), [logits, target],
            dtype=float_dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_ignore_index(reduction, float_dtype, rng):
    logits = rng.standard_normal((6, 4))
    target = np.array([0, -100, 3, 2, -100, 1])
    compare(lambda l, x, t: l.nn.functional.cross_entropy(x, t, reduction=reduction), [logits, target],
            dtype=float_dtype)
    target = np.array([0, 5, 3, 2, 5, 1])
    compare(lambda l, x, t: l.nn.CrossEntropyLoss(ignore_index=5, reduction=reduction)(x, t),
            [logits, target], dtype=float_dtype)


def test_cross_entropy_spatial_and_unbatched(float_dtype, rng):
    logits = rng.standard_normal((2, 5, 3, 4))
    target = rng.integers(0, 5, (2, 3, 4))
    for reduction in REDUCTIONS:
        compare(lambda l, x, t: l.nn.functional.cross_entropy(x, t, reduction=reduction),
                [logits, target], dtype=float_dtype)
    compare(lambda l, x, t: l.nn.functional.cross_entropy(x, t), [rng.standard_normal(5),
                                                                  np.array(2)], dtype=float_dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss(reduction, float_dtype, rng):
    logits = rng.standard_normal((9, 5))
    target = rng.integers(0, 5, 9)
    target[2] = -100
    compare(lambda l, x, t: l.nn.NLLLoss(reduction=reduction)(l.nn.LogSoftmax(dim=1)(x), t),
            [logits, target], dtype=float_dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_and_bce_with_logits(reduction, float_dtype, rng):
    x = rng.standard_normal((5, 3)) * 4
    y = (rng.uniform(size=(5, 3)) > 0.5).astype(np.float64)
    compare(lambda l, a, t: l.nn.BCELoss(reduction=reduction)(l.sigmoid(a), t), [x, y],
            dtype=float_dtype, requires_grad=[True, False])
    compare(lambda l, a, t: l.nn.BCEWithLogitsLoss(reduction=reduction)(a, t), [x, y],
            dtype=float_dtype, requires_grad=[True, False])


def test_bce_clamps_log_like_torch(float_dtype):
    p = np.array([0.0, 1.0, 0.5, 1e-30])
    y = np.array([1.0, 0.0, 1.0, 1.0])
    compare(lambda l, a, t: l.nn.functional.binary_cross_entropy(a, t, reduction="none"), [p, y],
            dtype=float_dtype, requires_grad=[False, False], backward=False)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_loss_with_target_gradient(reduction, float_dtype, rng):
    x, y = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
    compare(lambda l, a, t: l.nn.MSELoss(reduction=reduction)(a, t), [x, y], dtype=float_dtype)


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_uint8_class_targets_as_torch(loss, rng):
    logits = rng.standard_normal((6, 4))
    target = rng.integers(0, 4, 6).astype(np.uint8)
    compare(lambda l, x, t: getattr(l.nn.functional, loss)(x.log_softmax(1), t), [logits, target])


def test_class_target_errors():
    logits = kernn.zeros(4, 3)
    with pytest.raises(TypeError, match="target.*int64"):
        nn.functional.cross_entropy(logits, kernn.zeros(4, dtype=kernn.int32))
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(5,\)"):
        nn.functional.cross_entropy(logits, kernn.zeros(5, dtype=kernn.int64))
    with pytest.raises(IndexError):
        nn.functional.cross_entropy(logits, kernn.tensor([0, 1, 2, 3]))
    with pytest.raises(ValueError, match="reduction"):
        nn.CrossEntropyLoss(reduction="avg")
    with pytest.raises(NotImplementedError, match="weight"):
        nn.CrossEntropyLoss(weight=kernn.ones(3))


def test_same_shape_target_errors():
    with pytest.raises(ValueError, match="mse_loss.*shape"):
        nn.functional.mse_loss(kernn.zeros(3), kernn.zeros(4))
    with pytest.raises(ValueError, match="binary_cross_entropy.*shape"):
        nn.BCELoss()(kernn.zeros(3), kernn.zeros(3, 1))


def test_loss_times_scalar_backward(rng):
    x = rng.standard_normal((3, 4))
    t = rng.integers(0, 4, 3)
    compare(lambda l, a, b: l.nn.functional.cross_entropy(a, b) * 0.5 + 1, [x, t])
