"""Activation modules: ReLU, LeakyReLU, Sigmoid, Tanh, Softsign, ELU, GELU, SiLU, Softplus,
Hardtanh, ReLU6, LogSigmoid, Softmax, LogSoftmax."""

from __future__ import annotations

from .. import functional as F
from .module import Module

# The Args entry of the modules that take ``inplace``.
_INPLACE_ARG = """inplace (bool): overwrite the input and return it (default False). Applies
            when autograd does not record the op (grad mode off, or an input that does not
            require grad), as torch; when it records, the result is a new tensor with the same
            values and the input is unchanged (kernn refuses in-place changes to tensors that
            require grad)."""


class ReLU(Module):
    """max(x, 0) element-wise. After a Linear inside a Sequential it is fused into the GEMM.

    Args:
        {inplace}

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
        return F.relu(input, self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x where x > 0, else negative_slope * x.

    Args:
        negative_slope (float): slope for negative inputs (default 0.01).
        {inplace}

    Shape:
        - Input: any; Output: same shape.

    Example::

        >>> kernn.nn.LeakyReLU(0.1)(kernn.tensor([-1., 2.]))
        tensor([-0.1000,  2.0000])
    """

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

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


class ELU(Module):
    """x where x > 0, else alpha * (exp(x) - 1).

    Args:
        alpha (float): the value approached as x -> -inf is -alpha (default 1.0).
        {inplace}

    Shape:
        - Input: any; Output: same shape.

    Example::

        >>> kernn.nn.ELU()(kernn.tensor([-1., 2.]))
        tensor([-0.6321,  2.0000])
    """

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """x * Phi(x), Phi the standard normal CDF.

    Args:
        approximate (str): 'none' (default): Phi from erf; 'tanh': torch's approximation
            Phi(x) ~ (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3))) / 2.

    Shape:
        - Input: any; Output: same shape.

    Example::

        >>> kernn.nn.GELU()(kernn.tensor([-1., 2.]))
        tensor([-0.1587,  1.9545])
    """

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: argument 'approximate' must be 'none' or 'tanh', got "
                             f"{approximate!r}")
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x * sigmoid(x) (swish).

    Args:
        {inplace}

    Shape:
        - Input: any; Output: same shape.

    Example::

        >>> kernn.nn.SiLU()(kernn.tensor([-1., 2.]))
        tensor([-0.2689,  1.7616])
    """

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.silu(input, self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Softplus(Module):
    """log(1 + exp(beta * x)) / beta, a smooth ReLU; x itself where beta * x > threshold.

    Args:
        beta (float): sharpness (default 1.0).
        threshold (float): beyond beta * x > threshold the result is x (default 20.0).

    Shape:
        - Input: any; Output: same shape.

    Example::

        >>> kernn.nn.Softplus()(kernn.tensor([-1., 2.]))
        tensor([0.3133, 2.1269])
    """

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    """x clamped to [min_val, max_val]; the gradient is 0 outside and at both bounds.

    Args:
        min_val (float): lower bound (default -1.0).
        max_val (float): upper bound (default 1.0), above min_val (as torch's module;
            F.hardtanh also takes them equal).
        {inplace}

    Shape:
        - Input: any; Output: same shape.

    Example::

        >>> kernn.nn.Hardtanh()(kernn.tensor([-2., 0.5]))
        tensor([-1.0000,  0.5000])
    """

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        if max_val <= min_val:
            raise ValueError(f"{type(self).__name__}: max_val ({max_val}) must be greater than "
                             f"min_val ({min_val})")
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return (f"min_val={self.min_val}, max_val={self.max_val}"
                + (", inplace=True" if self.inplace else ""))


class ReLU6(Hardtanh):
    """min(max(x, 0), 6): Hardtanh(0, 6); the gradient is 0 at 0 and at 6.

    Args:
        {inplace}

    Shape:
        - Input: any; Output: same shape.

    Example::

        >>> kernn.nn.ReLU6()(kernn.tensor([-1., 7.]))
        tensor([0., 6.])
    """

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def forward(self, input):
        return F.relu6(input, self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LogSigmoid(Module):
    """log(sigmoid(x)), computed as min(x, 0) - log1p(exp(-|x|)): finite for every finite x.

    Shape:
        - Input: any; Output: same shape.

    Example::

        >>> kernn.nn.LogSigmoid()(kernn.tensor([-1e4, 0.]))
        tensor([-1.0000e+04, -6.9315e-01])
    """

    def forward(self, input):
        return F.logsigmoid(input)


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


for _module in (ReLU, LeakyReLU, ELU, SiLU, Hardtanh, ReLU6):
    if _module.__doc__:  # None under python -OO
        _module.__doc__ = _module.__doc__.replace("{inplace}", _INPLACE_ARG)
del _module
