"""Flatten and Unflatten."""

from __future__ import annotations

from .module import Module


class Flatten(Module):
    """Flattens dimensions start_dim..end_dim into one (by default all but the batch).

    Args:
        start_dim (int): first dimension to flatten (default 1).
        end_dim (int): last dimension to flatten (default -1).

    Shape:
        - Input: (N, *dims); Output: (N, prod(dims)) with the defaults.

    Example::

        >>> kernn.nn.Flatten()(kernn.zeros(64, 1, 28, 28)).shape
        kernn.Size([64, 784])
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Splits dimension ``dim`` into ``unflattened_size`` (the inverse of Flatten).

    Args:
        dim (int): the dimension to split (negative counts from the end).
        unflattened_size (tuple or list of ints): the new dimensions; their product must be
            the size of ``dim`` (one entry may be -1, inferred).

    Shape:
        - Input: (*, S, *) with S at ``dim``; Output: (*, *unflattened_size, *).

    Example::

        >>> kernn.nn.Unflatten(1, (2, 5, 5))(kernn.randn(2, 50)).shape
        kernn.Size([2, 2, 5, 5])
    """

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError("unflattened_size must be a tuple of ints, but found type "
                            f"{type(unflattened_size).__name__}")
        for i, size in enumerate(unflattened_size):
            if not isinstance(size, int) or isinstance(size, bool):
                raise TypeError("unflattened_size must be tuple of ints, but found element of "
                                f"type {type(size).__name__} at pos {i}")
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input):
        shape = tuple(input.shape)
        ndim = len(shape)
        if not -ndim <= self.dim < ndim:
            raise IndexError(f"Unflatten: dim {self.dim} is out of range for an input of shape "
                             f"{shape}")
        dim = self.dim % ndim
        sizes = list(self.unflattened_size)
        known = 1
        for size in sizes:
            if size != -1:
                known *= size
        inferred = sizes.count(-1)
        fits = (inferred == 0 and known == shape[dim]) or (
            inferred == 1 and known > 0 and shape[dim] % known == 0)
        if inferred > 1 or any(size < -1 for size in sizes) or not fits:
            raise ValueError(f"Unflatten: unflattened_size {self.unflattened_size} does not "
                             f"multiply up to the size of dim {self.dim} ({shape[dim]}) in the "
                             f"input of shape {shape}")
        if inferred:
            sizes[sizes.index(-1)] = shape[dim] // known
        return input.reshape(*shape[:dim], *sizes, *shape[dim + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
