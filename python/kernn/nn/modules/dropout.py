"""Dropout, Dropout1d, Dropout2d."""

from __future__ import annotations

from .. import functional as F
from .module import Module


class _DropoutNd(Module):
    """What the dropout modules share: p, inplace, their check and repr."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: probability has to be between 0 and 1, "
                             f"but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
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

    def forward(self, input):
        return F.dropout(input, self.p, self.training)


class Dropout1d(_DropoutNd):
    """During training, zeroes each channel (input[n, c], a 1-D feature map) as a whole with
    probability p and scales the others by 1/(1-p); in eval mode it is the identity. Draws
    from kernn's global generator, one draw per channel.

    Args:
        p (float): probability of a channel being zeroed (default 0.5).
        inplace (bool): accepted for torch's signature; the output is a new tensor.

    Shape:
        - Input: (N, C, L) or (C, L); Output: same shape.

    Example::

        >>> kernn.nn.Dropout1d(0.2)(kernn.randn(20, 16, 32)).shape
        kernn.Size([20, 16, 32])
    """

    def forward(self, input):
        return F.dropout1d(input, self.p, self.training)


class Dropout2d(_DropoutNd):
    """During training, zeroes each channel (input[n, c], a 2-D feature map) as a whole with
    probability p and scales the others by 1/(1-p); in eval mode it is the identity. Draws
    from kernn's global generator, one draw per channel. A 3-D input is taken as (N, C, L),
    with torch's warning.

    Args:
        p (float): probability of a channel being zeroed (default 0.5).
        inplace (bool): accepted for torch's signature; the output is a new tensor.

    Shape:
        - Input: (N, C, H, W) or (N, C, L); Output: same shape.

    Example::

        >>> kernn.nn.Dropout2d(0.2)(kernn.randn(20, 16, 32, 32)).shape
        kernn.Size([20, 16, 32, 32])
    """

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training)
