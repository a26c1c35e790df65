"""LayerNorm."""

from __future__ import annotations

from ... import _memory
from ...ops.norm import _normalized_shape
from ...tensor import _np_dtype, get_default_dtype
from .. import functional as F
from ..parameter import Parameter
from .module import Module


class LayerNorm(Module):
    """Layer normalisation over the trailing ``normalized_shape`` dimensions of each sample.

    y = (x - mean) / sqrt(var + eps) * weight + bias, mean and the biased variance taken over
    the last len(normalized_shape) dimensions of each sample (in training and eval alike; there
    are no running statistics).

    Args:
        normalized_shape (int or sequence of ints): the trailing dimensions to normalise over.
        eps (float): added to the variance (default 1e-5).
        elementwise_affine (bool): learn weight (init 1) and bias (init 0) of shape
            normalized_shape (default True).
        bias (bool): with elementwise_affine, learn the bias too (default True); False leaves
            ``bias`` None, as torch's.
        dtype (kernn.dtype, optional): parameter dtype (default float32).

    Shape:
        - Input: (*, *normalized_shape); Output: same shape.

    Example::

        >>> m = kernn.nn.LayerNorm([10, 32])
        >>> m(kernn.randn(4, 10, 32)).shape
        kernn.Size([4, 10, 32])
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _normalized_shape(normalized_shape, "LayerNorm")
        if any(d < 0 for d in self.normalized_shape):
            raise ValueError(f"LayerNorm: argument 'normalized_shape' must hold non-negative "
                             f"sizes, got {self.normalized_shape}")
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        nd = _np_dtype(dtype if dtype is not None else get_default_dtype())
        if elementwise_affine:
            self.weight = Parameter(_memory.empty(self.normalized_shape, nd))
        else:
            self.register_parameter("weight", None)
        if elementwise_affine and bias:
            self.bias = Parameter(_memory.empty(self.normalized_shape, nd))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """weight = 1 and bias = 0."""
        if self.weight is not None:
            self.weight._data[...] = 1
        if self.bias is not None:
            self.bias._data[...] = 0

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")
