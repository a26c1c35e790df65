"""BatchNorm1d, BatchNorm2d."""

from __future__ import annotations

import numpy as np

from ... import _memory
from ...tensor import _np_dtype, get_default_dtype
from .. import functional as F
from ..parameter import Parameter
from .module import Module


class _BatchNorm(Module):
    _expected_dims = ()
    _shape_text = ""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        name = type(self).__name__
        if not isinstance(num_features, (int, np.integer)) or isinstance(num_features, bool) \
                or num_features <= 0:
            raise ValueError(f"{name}: argument 'num_features' must be a positive int, got "
                             f"{num_features!r}")
        self.num_features = int(num_features)
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        nd = _np_dtype(dtype if dtype is not None else get_default_dtype())
        if affine:
            self.weight = Parameter(_memory.full(self.num_features, 1, nd))
        else:
            self.register_parameter("weight", None)
        if affine and bias:
            self.bias = Parameter(_memory.zeros(self.num_features, nd))
        else:
            self.register_parameter("bias", None)
        from ...tensor import from_numpy

        if track_running_stats:
            self.register_buffer("running_mean", from_numpy(_memory.zeros(self.num_features, nd)))
            self.register_buffer("running_var", from_numpy(_memory.full(self.num_features, 1, nd)))
            self.register_buffer("num_batches_tracked", from_numpy(np.array(0, np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        """running_mean = 0, running_var = 1, num_batches_tracked = 0."""
        if self.track_running_stats:
            self.running_mean._data[...] = 0
            self.running_var._data[...] = 1
            self.num_batches_tracked._data[...] = 0

    def reset_parameters(self):
        """Resets the running statistics, weight = 1 and bias = 0."""
        self.reset_running_stats()
        if self.weight is not None:
            self.weight._data[...] = 1
        if self.bias is not None:
            self.bias._data[...] = 0

    def forward(self, input):
        return self._normalize(input, False)

    def _forward_relu(self, input):
        """relu(self(input)) in one fused pass each way (used by Sequential for BatchNorm ->
        ReLU); outputs, gradients and running-statistic updates are those of the pair."""
        return self._normalize(input, True)

    def _normalize(self, input, relu):
        name = type(self).__name__
        shape = getattr(getattr(input, "_data", None), "shape", None)
        if shape is None:
            raise TypeError(f"{name}: expected a kernn.Tensor, got {type(input).__name__}")
        if len(shape) not in self._expected_dims:
            raise ValueError(f"{name}: expected {self._shape_text} input, got shape "
                             f"{tuple(shape)}")
        if shape[1] != self.num_features:
            raise ValueError(f"{name}: input of shape {tuple(shape)} has {shape[1]} channels; "
                             f"expected num_features={self.num_features}")
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked._data[...] += 1
            if self.momentum is None:  # cumulative moving average, as torch
                momentum = 1.0 / float(self.num_batches_tracked._data)
        batch_stats = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        fn = F.batch_norm_relu if relu else F.batch_norm
        return fn(input, self.running_mean if track else None,
                  self.running_var if track else None, self.weight, self.bias, batch_stats,
                  momentum, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over (N, C) or (N, C, L): per channel over N (and L).

    y = (x - mean) / sqrt(var + eps) * weight + bias; in training mean/var are the batch's
    (biased variance) and running_mean/running_var are updated with momentum (the unbiased
    variance; momentum=None gives the cumulative average); in eval mode they are used.

    Args:
        num_features (int): C.
        eps (float): added to the variance (default 1e-5).
        momentum (float or None): running-average weight of the new statistic (default 0.1).
        affine (bool): learn weight (init 1) and bias (init 0).
        track_running_stats (bool): keep running_mean/running_var/num_batches_tracked buffers;
            without them batch statistics are used in eval mode too.
        dtype (kernn.dtype, optional): parameter dtype (default float32).
        bias (bool, keyword-only): with affine, learn the bias too (default True); False
            leaves ``bias`` None, as torch's.

    Shape:
        - Input: (N, C) or (N, C, L); Output: same shape.

    Example::

        >>> kernn.nn.BatchNorm1d(4)(kernn.randn(8, 4)).shape
        kernn.Size([8, 4])
    """

    _expected_dims = (2, 3)
    _shape_text = "2-D (N, C) or 3-D (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over (N, C, H, W): per channel over N, H and W.

    Same semantics and arguments as BatchNorm1d (running statistics with the unbiased
    variance, momentum=None for the cumulative average; state dicts interchange with torch).

    Shape:
        - Input: (N, C, H, W); Output: same shape.

    Example::

        >>> kernn.nn.BatchNorm2d(64)(kernn.randn(8, 64, 16, 16)).shape
        kernn.Size([8, 64, 16, 16])
    """

    _expected_dims = (4,)
    _shape_text = "4-D (N, C, H, W)"
