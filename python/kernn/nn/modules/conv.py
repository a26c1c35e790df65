"""Conv1d, Conv2d."""

from __future__ import annotations


import numpy as np

from ... import _memory
from ...ops._args import _pair, _single
from ...tensor import _np_dtype, get_default_dtype
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module


class _ConvNd(Module):
    """The arguments, parameters and repr shared by Conv1d and Conv2d (torch's _ConvNd):
    a subclass names its sizes' form (``_sizes``: _single or _pair) and its functional form
    (``_conv``)."""

    _sizes = None
    _conv = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        op = type(self).__name__
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels),
                        ("groups", groups)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"{op}: argument '{name}' must be a positive int, got {v!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{op}: in_channels ({in_channels}) and out_channels "
                             f"({out_channels}) must be divisible by groups ({groups})")
        if padding_mode != "zeros":
            raise ValueError(f"{op}: padding_mode {padding_mode!r} is not supported (only "
                             "'zeros')")
        sizes = type(self)._sizes
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        self.kernel_size = sizes(kernel_size, op, "kernel_size")
        self.stride = sizes(stride, op, "stride")
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"{op}: argument 'padding' must be an int, a tuple, 'valid' or "
                                 f"'same', got {padding!r}")
            self.padding = padding
        else:
            self.padding = sizes(padding, op, "padding")
        self.dilation = sizes(dilation, op, "dilation")
        if min(self.kernel_size) < 1 or min(self.stride) < 1 or min(self.dilation) < 1 or (
                not isinstance(self.padding, str) and min(self.padding) < 0):
            raise ValueError(f"{op}: kernel_size {self.kernel_size}, stride {self.stride} and "
                             f"dilation {self.dilation} must be positive, padding "
                             f"{self.padding} non-negative")
        self.groups = int(groups)
        self.padding_mode = padding_mode
        nd = _np_dtype(dtype if dtype is not None else get_default_dtype())
        self.weight = Parameter(_memory.empty(
            (self.out_channels, self.in_channels // self.groups, *self.kernel_size), nd))
        if bias:
            self.bias = Parameter(_memory.empty((self.out_channels,), nd))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Re-draws weight and bias with torch's default initialisation."""
        init._reset_weight_and_bias(self.weight, self.bias)

    def forward(self, input):
        return type(self)._conv(input, self.weight, self.bias, self.stride, self.padding,
                                self.dilation, self.groups)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        dims = len(self.kernel_size)
        if isinstance(self.padding, str):
            s += f", padding={self.padding}"
        elif self.padding != (0,) * dims:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * dims:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L) inputs, as torch.nn.Conv1d: conv2d's kernels over a
    height of 1.

    Args:
        in_channels (int): C of the input.
        out_channels (int): K, channels of the output.
        kernel_size (int or (int,)): k.
        stride (int or (int,)): default 1.
        padding (int, (int,), 'valid' or 'same'): zero padding (default 0).
        dilation (int or (int,)): spacing of the kernel taps (default 1).
        groups (int): channel groups; in_channels and out_channels must divide by it.
        bias (bool): learn a bias (default True).
        padding_mode (str): only 'zeros' (torch's default) is supported.
        dtype (kernn.dtype, optional): parameter dtype (default float32).

    Shape:
        - Input: (N, C, L) or (C, L)
        - Output: (N, K, Lo), Lo = (L + 2*padding - dilation*(k-1) - 1) // stride + 1

    Attributes:
        weight: (K, C/groups, k), initialised as Conv2d's with fan_in = C/groups * k.
        bias: (K,).

    Example::

        >>> kernn.nn.Conv1d(3, 16, 5)(kernn.randn(8, 3, 100)).shape
        kernn.Size([8, 16, 96])
    """

    _sizes = staticmethod(_single)
    _conv = staticmethod(F.conv1d)


class Conv2d(_ConvNd):
    """2-D convolution over (N, C, H, W) inputs: im2col + GEMM, bias fused in the GEMM.

    Args:
        in_channels (int): C of the input.
        out_channels (int): K, channels of the output.
        kernel_size (int or (int, int)): (kh, kw).
        stride (int or (int, int)): default 1.
        padding (int, (int, int), 'valid' or 'same'): zero padding (default 0).
        dilation (int or (int, int)): spacing of the kernel taps (default 1).
        groups (int): channel groups; in_channels and out_channels must divide by it.
        bias (bool): learn a bias (default True).
        padding_mode (str): only 'zeros' (torch's default) is supported.
        dtype (kernn.dtype, optional): parameter dtype (default float32).

    Shape:
        - Input: (N, C, H, W) or (C, H, W)
        - Output: (N, K, Ho, Wo), Ho = (H + 2*padding - dilation*(kh-1) - 1) // stride + 1

    Attributes:
        weight: (K, C/groups, kh, kw), kaiming_uniform_(a=sqrt(5)) as torch, i.e.
            U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = C/groups * kh * kw.
        bias: (K,), U(-1/sqrt(fan_in), 1/sqrt(fan_in)).

    Example::

        >>> conv = kernn.nn.Conv2d(3, 64, 3, padding=1)
        >>> conv(kernn.randn(8, 3, 32, 32)).shape
        kernn.Size([8, 64, 32, 32])
    """

    _sizes = staticmethod(_pair)
    _conv = staticmethod(F.conv2d)
