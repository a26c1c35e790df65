"""Parameter: a Tensor that a Module registers as learnable."""

from __future__ import annotations

import numpy as np

from .. import _memory
from ..tensor import Tensor, _as_array


class Parameter(Tensor):
    """A Tensor that is a module's learnable weight: assigning one to a Module attribute
    registers it in ``parameters()`` and ``state_dict()``. requires_grad defaults to True.

    Args:
        data (Tensor or array): the initial value; a Tensor's array is shared, not copied.
        requires_grad (bool): default True.

    Example::

        >>> self.scale = kernn.nn.Parameter(kernn.ones(10))
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            arr = np.zeros((0,), dtype=np.float32)
        elif isinstance(data, Tensor):
            arr = data._data
        elif isinstance(data, np.ndarray):
            arr = data
        else:
            arr = _as_array(data)
        self._data = arr
        self._rg = False
        self.grad = None
        self.grad_fn = None
        if requires_grad:
            self.requires_grad = True

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self._data, self._rg))


def _rebuild_parameter(data, requires_grad):
    # data is a new array already (unpickled, or deep-copied by numpy, which aligns to 16
    # bytes): realigned like the parameters kernn makes.
    return Parameter(_memory.aligned(data), requires_grad)
