"""The 1,797 8x8 handwritten digits, bundled so that they load offline without scikit-learn.

Provenance: ``digits.npz`` beside this file holds exactly the arrays of
``sklearn.datasets.load_digits()`` (scikit-learn 1.9.1), stored as uint8 and written once with::

    d = sklearn.datasets.load_digits()
    np.savez_compressed("digits.npz", images=d.images.astype(np.uint8),
                        target=d.target.astype(np.uint8))

Those are the test set of the UCI "Optical Recognition of Handwritten Digits" data set by
E. Alpaydin and C. Kaynak (1998), https://archive.ics.uci.edu/dataset/80 : 32x32 bitmaps from
NIST forms, divided into 4x4 blocks and the "on" pixels of each block counted, giving 8x8
images of integers 0..16. The UCI repository distributes it under CC BY 4.0; scikit-learn ships
this copy under its BSD-3-Clause licence. Cite: Alpaydin, E. and Kaynak, C. (1998), UCI Machine
Learning Repository, https://doi.org/10.24432/C50P49.
"""

import os

import numpy as np

__all__ = ["load_digits"]

_BUNDLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "digits.npz")


def load_digits(flatten=True):
    """Load the bundled 8x8 digits (1,797 samples, ten classes, pixel values 0..16).

    Args:
        flatten (bool): True (default) returns the images as rows of 64 features, as
            scikit-learn's ``load_digits().data``; False keeps them 8x8, as ``.images``.

    Returns:
        ``(x, target)``: x uint8 of shape (1797, 64) or (1797, 8, 8) with values 0..16, target
        int64 of shape (1797,) with values 0..9. (scikit-learn returns float64 pixels; the values
        are the same.)

    Example:
        >>> x, y = load_digits()
        >>> x.shape, y.shape, int(x.max())
        ((1797, 64), (1797,), 16)
    """
    with np.load(_BUNDLE) as bundle:
        images = bundle["images"]
        target = bundle["target"].astype(np.int64)
    if flatten:
        return images.reshape(len(images), -1), target
    return images, target
