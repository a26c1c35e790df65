"""kernn.nn.utils.parameters_to_vector / vector_to_parameters against torch's."""

import numpy as np
import pytest
import torch

import kernn
from kernn.nn.utils import parameters_to_vector, vector_to_parameters


def _same_models():
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2)).double()
    ours = kernn.nn.Sequential(kernn.nn.Linear(3, 4), kernn.nn.Linear(4, 2)).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def test_parameters_to_vector_and_its_gradient_as_torch():
    ours, theirs = _same_models()
    v, tv = parameters_to_vector(ours.parameters()), torch.nn.utils.parameters_to_vector(
        theirs.parameters())
    np.testing.assert_array_equal(v.detach().numpy(), tv.detach().numpy())
    weights = np.arange(v.numel(), dtype=np.float64)
    (v * kernn.tensor(weights)).sum().backward()
    (tv * torch.tensor(weights)).sum().backward()
    for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_array_equal(p.grad.numpy(), tp.grad.numpy(), err_msg=name)


def test_vector_to_parameters_as_torch():
    ours, theirs = _same_models()
    vec = np.linspace(-1, 1, parameters_to_vector(ours.parameters()).numel())
    vector_to_parameters(kernn.tensor(vec), ours.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(vec), theirs.parameters())
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[key].numpy(), value.numpy(), err_msg=key)


def test_errors_name_the_function_and_sizes():
    params = list(kernn.nn.Linear(3, 2).parameters())
    with pytest.raises(ValueError, match=r"vector_to_parameters: 'vec' has 7 elements; the "
                                         r"parameters hold 8"):
        vector_to_parameters(kernn.zeros(7), params)
    with pytest.raises(TypeError, match=r"vector_to_parameters: argument 'vec' must be a 1-D "
                                        r"kernn.Tensor, got shape \(2, 4\)"):
        vector_to_parameters(kernn.zeros(2, 4), params)
    with pytest.raises(TypeError, match=r"parameters_to_vector: parameter 1 must be a "
                                        r"kernn.Tensor, got list"):
        parameters_to_vector([params[0], [1.0]])
    with pytest.raises(TypeError, match="several dtypes"):
        parameters_to_vector([kernn.zeros(2), kernn.zeros(2, dtype=kernn.float64)])
    with pytest.raises(ValueError, match="no parameters"):
        parameters_to_vector([])
