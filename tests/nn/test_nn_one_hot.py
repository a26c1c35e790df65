"""F.one_hot against torch: shapes, inferred and given num_classes, and its errors."""

import re

import numpy as np
import pytest
import torch

import kernn
import kernn.nn.functional as F
from torch_compare import assert_close, compare


@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 2), ()])
@pytest.mark.parametrize("num_classes", [-1, 6, 9])
def test_one_hot_matches_torch(shape, num_classes, rng):
    indices = rng.integers(0, 6, shape)
    (out,), _, _, _ = compare(lambda lib, t: lib.nn.functional.one_hot(t, num_classes),
                              [indices], backward=False)
    assert out.dtype == kernn.int64


def test_one_hot_of_a_strided_view_matches_torch(rng):
    indices = rng.integers(0, 5, (4, 6))[::2, ::-1].T
    view = kernn.from_numpy(indices)
    assert not view.is_contiguous()
    assert_close(F.one_hot(view), torch.nn.functional.one_hot(torch.tensor(indices.copy())),
                 np.int64)


def test_one_hot_of_an_empty_tensor_with_num_classes():
    compare(lambda lib, t: lib.nn.functional.one_hot(t, 3), [np.zeros((2, 0), np.int64)],
            backward=False)


def _raises_as_torch(indices, num_classes, kernn_match):
    """kernn raises RuntimeError matching ``kernn_match`` where torch raises RuntimeError."""
    with pytest.raises(RuntimeError):
        torch.nn.functional.one_hot(torch.tensor(indices), num_classes)
    with pytest.raises(RuntimeError, match=kernn_match):
        F.one_hot(kernn.tensor(indices), num_classes)


@pytest.mark.parametrize("num_classes", [-1, 5])
def test_one_hot_negative_class_names_value_and_index(num_classes):
    _raises_as_torch(np.array([[0, 2], [1, -3]]), num_classes,
                     re.escape("one_hot: argument 'tensor' holds -3 at index (1, 1); class "
                               "values must be non-negative"))


def test_one_hot_class_not_below_num_classes_names_value_and_index():
    _raises_as_torch(np.array([1, 4, 3, 7]), 4,
                     re.escape("one_hot: argument 'tensor' holds 4 at index (1,); class values "
                               "must be smaller than num_classes=4"))


def test_one_hot_cannot_infer_num_classes_of_an_empty_tensor():
    _raises_as_torch(np.zeros((2, 0), np.int64), -1, r"cannot infer num_classes.*\(2, 0\)")


@pytest.mark.parametrize("num_classes", [0, -2])
def test_one_hot_num_classes_must_be_minus_one_or_positive(num_classes):
    _raises_as_torch(np.array([0, 1]), num_classes,
                     f"argument 'num_classes' must be -1 .* or positive, got {num_classes}")


def test_one_hot_type_errors():
    with pytest.raises(TypeError, match=r"one_hot: argument 'tensor' must hold int64 class "
                                        r"indices \(kernn.int64\), got kernn.float32"):
        F.one_hot(kernn.zeros(3), 2)
    with pytest.raises(TypeError, match="argument 'tensor' .* got ndarray"):
        F.one_hot(np.zeros(3, np.int64), 2)
    with pytest.raises(TypeError, match="argument 'num_classes' must be an int, got float"):
        F.one_hot(kernn.tensor([0, 1]), 2.0)
