"""Linear and Identity."""

from __future__ import annotations

import numpy as np

from ... import _memory
from ...tensor import _np_dtype, get_default_dtype
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module


class Identity(Module):
    """Returns its input unchanged (any constructor arguments are ignored)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """Fully connected layer: y = x W^T + b, computed by one GEMM.

    Args:
        in_features (int): size of each input sample.
        out_features (int): size of each output sample.
        bias (bool): learn an additive bias (default True).
        dtype (kernn.dtype, optional): parameter dtype (default float32).

    Shape:
        - Input: (*, in_features)
        - Output: (*, out_features)

    Attributes:
        weight: (out_features, in_features), initialised like torch:
            kaiming_uniform_(a=sqrt(5)), i.e. U(-1/sqrt(in_features), 1/sqrt(in_features)).
        bias: (out_features,), U(-1/sqrt(in_features), 1/sqrt(in_features)).

    Example::

        >>> m = kernn.nn.Linear(20, 30)
        >>> m(kernn.randn(128, 20)).shape
        kernn.Size([128, 30])
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        for name, v in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 0:
                raise ValueError(f"Linear: argument '{name}' must be a non-negative int, "
                                 f"got {v!r}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        nd = _np_dtype(dtype if dtype is not None else get_default_dtype())
        self.weight = Parameter(_memory.empty((self.out_features, self.in_features), nd))
        if bias:
            self.bias = Parameter(_memory.empty((self.out_features,), nd))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Re-draws weight and bias with torch's default initialisation."""
        init._reset_weight_and_bias(self.weight, self.bias)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def _forward_relu(self, input):
        """relu(self(input)) in one fused GEMM (used by Sequential for Linear -> ReLU)."""
        return F.linear_relu(input, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")

