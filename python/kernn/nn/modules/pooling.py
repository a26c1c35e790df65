"""MaxPool1d, MaxPool2d, AvgPool1d, AvgPool2d, AdaptiveAvgPool2d."""

from __future__ import annotations

from ...ops._args import _single
from .. import functional as F
from .module import Module


class _MaxPoolNd(Module):
    """The arguments and repr shared by MaxPool1d and MaxPool2d (their forwards differ)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """1-D max pooling over (N, C, L) or (C, L) inputs, as torch.nn.MaxPool1d (the 2-D kernel
    over a height of 1).

    Args:
        kernel_size (int): window size.
        stride (int, optional): default kernel_size.
        padding (int): implicit -inf padding, at most half the kernel (default 0).
        dilation (int): spacing of the window taps (default 1).
        return_indices (bool): also return the int64 positions of the maxima along L.
        ceil_mode (bool): ceil instead of floor in the output size.

    Example::

        >>> kernn.nn.MaxPool1d(2)(kernn.randn(4, 3, 100)).shape
        kernn.Size([4, 3, 50])
    """

    def forward(self, input):
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)


class AvgPool1d(Module):
    """1-D average pooling over (N, C, L) or (C, L) inputs, as torch.nn.AvgPool1d.

    Args:
        kernel_size (int or (int,)): window size.
        stride (int or (int,), optional): default kernel_size.
        padding (int or (int,)): zero padding, at most half the kernel (default 0).
        ceil_mode (bool): ceil instead of floor in the output size.
        count_include_pad (bool): count the zero padding in the divisor (default True).

    Example::

        >>> kernn.nn.AvgPool1d(4)(kernn.randn(4, 3, 100)).shape
        kernn.Size([4, 3, 25])
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        op = "AvgPool1d"
        self.kernel_size = _single(kernel_size, op, "kernel_size")
        self.stride = _single(stride if stride is not None else kernel_size, op, "stride")
        self.padding = _single(padding, op, "padding")
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_MaxPoolNd):
    """2-D max pooling (direct kernel; indices kept for the backward).

    Args:
        kernel_size (int or (int, int)): window size.
        stride (int or (int, int), optional): default kernel_size.
        padding (int or (int, int)): implicit -inf padding, at most half the kernel (default 0).
        dilation (int or (int, int)): spacing of the window taps (default 1).
        return_indices (bool): also return the int64 indices h*W + w of the maxima.
        ceil_mode (bool): ceil instead of floor in the output size.

    Shape:
        - Input: (N, C, H, W) or (C, H, W)
        - Output: (N, C, Ho, Wo), Ho = (H + 2*padding - dilation*(k-1) - 1) / stride + 1 rounded
          down (or up with ceil_mode)

    Example::

        >>> kernn.nn.MaxPool2d(2)(kernn.randn(4, 3, 32, 32)).shape
        kernn.Size([4, 3, 16, 16])
    """

    def forward(self, input):
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)


class AvgPool2d(Module):
    """2-D average pooling.

    Args:
        kernel_size (int or (int, int)): window size.
        stride (int or (int, int), optional): default kernel_size.
        padding (int or (int, int)): zero padding, at most half the kernel (default 0).
        ceil_mode (bool): ceil instead of floor in the output size.
        count_include_pad (bool): count the zero padding in the divisor (default True).
        divisor_override (int, optional): divide by this instead.

    Shape:
        - Input: (N, C, H, W) or (C, H, W)
        - Output: (N, C, Ho, Wo), Ho = (H + 2*padding - k) / stride + 1 (floor or ceil)

    Example::

        >>> kernn.nn.AvgPool2d(2)(kernn.ones(1, 1, 4, 4)).shape
        kernn.Size([1, 1, 2, 2])
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size.

    Args:
        output_size (int or (int or None, int or None)): (Ho, Wo); None keeps the input size.

    Shape:
        - Input: (N, C, H, W) or (C, H, W)
        - Output: (N, C, Ho, Wo)

    Example::

        >>> kernn.nn.AdaptiveAvgPool2d((1, 1))(kernn.randn(2, 8, 7, 7)).shape
        kernn.Size([2, 8, 1, 1])
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"
