"""Autograd Functions, one module per family (see kernn.autograd for the protocol).

tensor_ops: arithmetic, reductions, shape and indexing of Tensors; linear: Linear and the fused
Linear+ReLU; activation: ReLU ... LogSoftmax, dropout; loss: the loss functions; conv, pool,
norm: the CNN layers; _args: the argument checks those and nn.functional share.
"""

import numpy as np


def c_contiguous(a):
    """``a`` itself when C-contiguous, else a contiguous copy (kernn._C requires contiguity).

    Unlike np.ascontiguousarray it keeps 0-d arrays 0-d.
    """
    if a.flags.c_contiguous:
        return a
    return np.ascontiguousarray(a)
