"""Activation modules: ReLU, LeakyReLU, Sigmoid, Tanh, Softsign, Softmax, LogSoftmax."""

from __future__ import annotations

from .. import functional as F
from .module import Module


class ReLU(Module):
    """max(x, 0) element-wise. After a Linear inside a Sequential it is fused into the GEMM.

    Args:
        inplace (bool): accepted for torch compatibility; kernn always returns a new tensor.

    Shape:
        - Input: any; Output: same shape.

    Example::

        >>> kernn.nn.ReLU()(kernn.tensor([-1., 2.]))
        tensor([0., 2.])
    """

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x where x > 0, else negative_slope * x.

    Args:
        negative_slope (float): slope for negative inputs (default 0.01).

    Shape:
        - Input: any; Output: same shape.
    """

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Sigmoid(Module):
    """1 / (1 + exp(-x)) element-wise.

    Shape:
        - Input: any; Output: same shape.
    """

    def forward(self, input):
        return F.sigmoid(input)


class Tanh(Module):
    """tanh(x) element-wise.

    Shape:
        - Input: any; Output: same shape.
    """

    def forward(self, input):
        return F.tanh(input)


class Softsign(Module):
    """x / (1 + |x|) element-wise.

    Shape:
        - Input: any; Output: same shape.
    """

    def forward(self, input):
        return F.softsign(input)


class Softmax(Module):
    """Softmax along ``dim``: values in (0, 1) that sum to 1.

    Args:
        dim (int): the dimension to normalise (torch warns when it is None; use -1 or 1).

    Shape:
        - Input: any; Output: same shape.

    Example::

        >>> kernn.nn.Softmax(dim=1)(kernn.randn(2, 3)).sum(1)
    """

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log(softmax(x)) along ``dim``, computed stably.

    Args:
        dim (int): the dimension to normalise.

    Shape:
        - Input: any; Output: same shape.
    """

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.log_softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"
