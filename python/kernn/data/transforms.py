"""Per-sample transforms, as in ``torchvision.transforms``: ToTensor, Normalize, Compose, Lambda.

They prepare data, they are not part of a model: they work on the numpy array of a sample and
record no autograd history. For a whole in-memory data set, applying the same arithmetic once
to the full array (``images.astype(np.float32) / 255``) is much faster than a per-sample
transform; the examples do that.
"""

import numpy as np

__all__ = ["Compose", "Lambda", "Normalize", "ToTensor"]


def _kernn():
    import kernn

    return kernn


class Compose:
    """Apply transforms one after the other.

    Args:
        transforms: a list of callables.

    Example:
        >>> t = Compose([ToTensor(), Normalize((0.5,), (0.5,))])
        >>> t(np.full((2, 2), 255, np.uint8)).numpy()                     # doctest: +SKIP
        array([[[1., 1.], [1., 1.]]], dtype=float32)
    """

    def __init__(self, transforms):
        self.transforms = list(transforms)
        for position, transform in enumerate(self.transforms):
            if not callable(transform):
                raise TypeError(
                    f"Compose: transform {position} is a {type(transform).__name__}, not callable"
                )

    def __call__(self, x):
        for transform in self.transforms:
            x = transform(x)
        return x

    def __repr__(self):
        inner = ", ".join(repr(t) for t in self.transforms)
        return f"Compose([{inner}])"


class Lambda:
    """Wrap a function as a transform.

    Example:
        >>> Lambda(lambda x: x + 1)(1)
        2
    """

    def __init__(self, fn):
        if not callable(fn):
            raise TypeError(f"Lambda: expected a callable, got {type(fn).__name__}")
        self.fn = fn

    def __call__(self, x):
        return self.fn(x)

    def __repr__(self):
        return f"Lambda({getattr(self.fn, '__name__', repr(self.fn))})"


class ToTensor:
    """Image array -> float32 Tensor in channels-first layout.

    A uint8 image is scaled from 0..255 to [0, 1]; a float image keeps its values (as
    torchvision). Accepts a numpy array or anything ``np.asarray`` takes.

    Shape:
        input (H, W) or (H, W, C); output (1, H, W) or (C, H, W), float32 (float64 input stays
        float64).

    Example:
        >>> ToTensor()(np.zeros((28, 28), np.uint8)).shape               # doctest: +SKIP
        (1, 28, 28)
    """

    def __call__(self, image):
        array = np.asarray(image)
        if array.ndim == 2:
            array = array[None, :, :]
        elif array.ndim == 3:
            array = array.transpose(2, 0, 1)
        else:
            raise ValueError(
                f"ToTensor: expected an image of shape (H, W) or (H, W, C), got shape {array.shape}"
            )
        # One copy, straight into the contiguous channels-first result (a transposed
        # (H, W, C) image would otherwise be converted first and made contiguous after).
        if array.dtype == np.uint8:
            out = np.array(array, dtype=np.float32, order="C")
            out /= np.float32(255)
        elif array.dtype.kind == "f":
            out = np.array(array, dtype=np.float64 if array.dtype == np.float64 else np.float32,
                           order="C")
        else:
            raise TypeError(f"ToTensor: expected a uint8 or float image, got dtype {array.dtype}")
        return _kernn().from_numpy(out)

    def __repr__(self):
        return "ToTensor()"


class Normalize:
    """``(x - mean[c]) / std[c]`` per channel of a (C, H, W) image (Tensor or array).

    Args:
        mean: a number or one number per channel.
        std: a number or one number per channel, all non-zero.

    Shape:
        input (C, H, W) (or (..., C, H, W)); output the same shape and type.

    Example:
        >>> Normalize((0.5,), (0.5,))(np.ones((1, 2, 2), np.float32))
        array([[[1., 1.],
                [1., 1.]]], dtype=float32)
    """

    def __init__(self, mean, std):
        self.mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
        self.std = np.atleast_1d(np.asarray(std, dtype=np.float64))
        if self.mean.ndim != 1 or self.std.ndim != 1:
            raise ValueError(f"Normalize: mean and std must be numbers or 1-D sequences, got "
                             f"shapes {self.mean.shape} and {self.std.shape}")
        if np.any(self.std == 0):
            raise ValueError(f"Normalize: std must be non-zero, got {self.std.tolist()}")

    def __call__(self, image):
        kernn = _kernn()
        is_tensor = isinstance(image, kernn.Tensor)
        array = image.numpy() if is_tensor else np.asarray(image)
        if array.ndim < 3:
            raise ValueError(f"Normalize: expected a (C, H, W) image, got shape {array.shape}")
        channels = array.shape[-3]
        for name, values in (("mean", self.mean), ("std", self.std)):
            if values.size not in (1, channels):
                raise ValueError(
                    f"Normalize: {name} has {values.size} values for an image with {channels} "
                    f"channels (shape {array.shape})"
                )
        dtype = array.dtype if array.dtype.kind == "f" else np.float32
        mean = self.mean.astype(dtype).reshape(-1, 1, 1)
        std = self.std.astype(dtype).reshape(-1, 1, 1)
        out = (array.astype(dtype, copy=False) - mean) / std
        return kernn.from_numpy(out) if is_tensor else out

    def __repr__(self):
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"
