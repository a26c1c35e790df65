"""kernn.nn.utils: helpers around training, as torch.nn.utils (gradient clipping, parameters
to and from one vector)."""

from .clip_grad import clip_grad_norm_, clip_grad_value_
from .convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters"]
