"""Map-style datasets: anything with ``__len__`` and ``__getitem__(int)``."""

import numpy as np

__all__ = ["Dataset", "TensorDataset"]


class Dataset:
    """Base class of map-style datasets, as ``torch.utils.data.Dataset``.

    A subclass implements ``__getitem__(index)`` returning one sample and ``__len__()``.

    Example:
        >>> class Squares(Dataset):
        ...     def __len__(self):
        ...         return 4
        ...     def __getitem__(self, i):
        ...         return i, i * i
        >>> Squares()[3]
        (3, 9)
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")


def _as_array(value):
    """The numpy array behind a kernn Tensor, or the value itself as an array (no copy)."""
    if isinstance(value, np.ndarray):
        return value
    numpy = getattr(value, "numpy", None)
    if callable(numpy):
        return numpy()
    return np.asarray(value)


class TensorDataset(Dataset):
    """Samples are the i-th rows of equally long arrays or Tensors, as ``torch.utils.data.TensorDataset``.

    The arrays are kept as given (no copy); :class:`DataLoader` recognises a TensorDataset and
    gathers a whole batch with one fancy index per array instead of one Python call per sample.

    Args:
        *tensors: numpy arrays or kernn Tensors sharing their first dimension.

    Shape:
        each tensor (N, ...); a sample is the tuple ``(t[i] for t in tensors)``.

    Example:
        >>> ds = TensorDataset(np.zeros((5, 3), np.float32), np.arange(5))
        >>> len(ds), ds[2][1]
        (5, 2)
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: needs at least one array or Tensor")
        arrays = tuple(_as_array(t) for t in tensors)
        for position, array in enumerate(arrays):
            if array.ndim == 0:
                raise ValueError(
                    f"TensorDataset: argument {position} is 0-dimensional; every argument needs a "
                    "first (sample) dimension"
                )
        sizes = [a.shape[0] for a in arrays]
        if any(size != sizes[0] for size in sizes):
            shapes = ", ".join(str(a.shape) for a in arrays)
            raise ValueError(
                f"TensorDataset: the arguments must have the same first dimension, got shapes {shapes}"
            )
        self.tensors = tuple(tensors)
        self.arrays = arrays

    def __getitem__(self, index):
        # index what the caller gave, so a dataset of Tensors yields Tensors and one of arrays arrays
        return tuple(tensor[index] for tensor in self.tensors)

    def __len__(self):
        return self.arrays[0].shape[0]
