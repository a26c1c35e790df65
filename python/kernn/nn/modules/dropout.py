"""Dropout."""

from __future__ import annotations

from .. import functional as F
from .module import Module


class Dropout(Module):
    """During training, zeroes each element with probability p and scales the others by
    1/(1-p); in eval mode it is the identity. Draws from kernn's global generator.

    Args:
        p (float): probability of an element being zeroed (default 0.5).

    Shape:
        - Input: any; Output: same shape.

    Example::

        >>> m = kernn.nn.Dropout(0.2); m.eval(); m(x) is x
        True
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
