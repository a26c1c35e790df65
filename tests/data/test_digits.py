import numpy as np
import pytest

from kernn.datasets import load_digits


def test_bundled_digits_shape_values_and_classes():
    x, y = load_digits()
    assert x.shape == (1797, 64) and x.dtype == np.uint8
    assert y.shape == (1797,) and y.dtype == np.int64
    assert x.min() == 0 and x.max() == 16
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    images, target = load_digits(flatten=False)
    assert images.shape == (1797, 8, 8)
    np.testing.assert_array_equal(images.reshape(1797, 64), x)
    np.testing.assert_array_equal(target, y)


def test_bundled_digits_match_scikit_learn():
    datasets = pytest.importorskip("sklearn.datasets")
    reference = datasets.load_digits()
    x, y = load_digits()
    np.testing.assert_array_equal(x, reference.data)
    np.testing.assert_array_equal(y, reference.target)
