"""parameters_to_vector / vector_to_parameters, as torch.nn.utils' (flattening a model's
parameters into one vector, e.g. for second-order methods or weight averaging)."""

from __future__ import annotations

from ...ops.tensor_ops import Cat
from ...tensor import Tensor


def _parameters_list(parameters, op):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    parameters = list(parameters)
    for i, p in enumerate(parameters):
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}: parameter {i} must be a kernn.Tensor, got {type(p).__name__}")
    return parameters


def parameters_to_vector(parameters):
    """The parameters flattened and concatenated, in order, into one 1-D tensor (a copy;
    differentiable with respect to each parameter, as torch's).

    Example:
        >>> parameters_to_vector(kernn.nn.Linear(3, 2).parameters()).shape
        kernn.Size([8])
    """
    parameters = _parameters_list(parameters, "parameters_to_vector")
    if not parameters:
        raise ValueError("parameters_to_vector: no parameters to flatten")
    dtypes = {p.dtype for p in parameters}
    if len(dtypes) > 1:
        raise TypeError(f"parameters_to_vector: the parameters have several dtypes "
                        f"({', '.join(sorted('kernn.' + d.name for d in dtypes))}); torch "
                        "refuses that too")
    return Cat.apply(0, *(p.reshape(-1) for p in parameters))


def vector_to_parameters(vec, parameters):
    """Copies consecutive slices of the 1-D ``vec`` into the parameters, in order (in place,
    not recorded by autograd, as torch's ``param.data = ...``).

    Raises:
        TypeError: ``vec`` is not a 1-D kernn Tensor.
        ValueError: its length is not the parameters' total number of elements.
    """
    op = "vector_to_parameters"
    if not isinstance(vec, Tensor) or vec.dim() != 1:
        got = f"shape {tuple(vec.shape)}" if isinstance(vec, Tensor) else type(vec).__name__
        raise TypeError(f"{op}: argument 'vec' must be a 1-D kernn.Tensor, got {got}")
    parameters = _parameters_list(parameters, op)
    total = sum(p.numel() for p in parameters)
    if vec.numel() != total:
        raise ValueError(f"{op}: 'vec' has {vec.numel()} elements; the parameters hold {total}")
    source = vec.detach().numpy()
    start = 0
    for p in parameters:
        n = p.numel()
        p._data[...] = source[start:start + n].reshape(p._data.shape)
        start += n
