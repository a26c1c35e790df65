"""Flatten."""

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
