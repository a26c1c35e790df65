"""Module API: registration, traversal, modes, state dicts (interchangeable with torch),
dtype conversion, repr, containers."""

from collections import OrderedDict

import numpy as np
import pytest
import torch

import kernn
import kernn.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(3, 2)
        self.scale = nn.Parameter(kernn.ones(2))
        self.register_buffer("steps", kernn.zeros(1))
        self.register_buffer("scratch", kernn.zeros(2), persistent=False)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) * self.scale


def test_registration_and_traversal():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert len(list(net.parameters())) == 5
    assert [n for n, _ in net.named_buffers()] == ["steps", "scratch"]
    assert [n for n, _ in net.named_children()] == ["fc1", "act", "fc2"]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "act", "fc2"]
    assert list(net.state_dict()) == ["scale", "steps", "fc1.weight", "fc1.bias", "fc2.weight",
                                      "fc2.bias"]


def test_shared_parameters_are_listed_once():
    lin = nn.Linear(3, 3)
    model = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(model.parameters())) == 2


def test_assigning_a_tensor_to_a_parameter_name_is_rejected():
    net = Net()
    with pytest.raises(TypeError, match="parameter 'scale'"):
        net.scale = kernn.ones(2)
    net.scale = None
    assert "scale" not in dict(net.named_parameters())


def test_assign_before_init_is_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match="__init__"):
        Broken()


def test_train_eval_propagates():
    net = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    net.eval()
    assert not net.training and not net[1].training
    net.train()
    assert net[1].training


def test_zero_grad():
    lin = nn.Linear(3, 2)
    lin(kernn.ones(1, 3)).sum().backward()
    grad = lin.weight.grad
    lin.zero_grad(set_to_none=False)
    assert lin.weight.grad is grad  # zeroed in place, as torch does
    assert (grad.numpy() == 0).all()
    lin.zero_grad()
    assert lin.weight.grad is None


def test_state_dict_round_trip_and_shared_memory():
    a, b = Net(), Net()
    sd = a.state_dict()
    assert np.shares_memory(sd["fc1.weight"].numpy(), a.fc1.weight.detach().numpy())
    weight_before = b.fc1.weight
    result = b.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert b.fc1.weight is weight_before  # copied in place
    np.testing.assert_array_equal(b.fc1.weight.detach().numpy(), a.fc1.weight.detach().numpy())


def test_load_state_dict_errors():
    net = Net()
    sd = net.state_dict()
    del sd["fc1.bias"]
    sd["extra"] = kernn.zeros(1)
    sd["fc2.weight"] = kernn.zeros(5, 5)
    with pytest.raises(RuntimeError) as err:
        net.load_state_dict(sd)
    msg = str(err.value)
    assert 'Missing key(s) in state_dict: "fc1.bias"' in msg
    assert 'Unexpected key(s) in state_dict: "extra"' in msg
    assert "size mismatch for fc2.weight" in msg and "(5, 5)" in msg and "(2, 3)" in msg
    del sd["fc2.weight"]
    result = net.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["fc1.bias", "fc2.weight"]
    assert result.unexpected_keys == ["extra"]


def test_state_dict_interchanges_with_torch():
    kmodel = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 2))
    tmodel = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    assert list(kmodel.state_dict()) == list(tmodel.state_dict())
    kmodel.load_state_dict(tmodel.state_dict())
    x = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
    with torch.no_grad():
        expected = tmodel(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(kmodel(kernn.from_numpy(x)).detach().numpy(), expected,
                               rtol=1e-5, atol=1e-6)
    tmodel2 = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    tmodel2.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                             for k, v in kmodel.state_dict().items()})


def test_to_double_and_back_keeps_parameter_identity():
    net = Net()
    w = net.fc1.weight
    net.double()
    assert net.fc1.weight is w and w.dtype is kernn.float64 and net.steps.dtype is kernn.float64
    assert net(kernn.ones(2, 4, dtype=kernn.float64)).dtype is kernn.float64
    net.to(kernn.float32)
    assert w.dtype is kernn.float32
    with pytest.raises(TypeError, match="floating"):
        net.to(kernn.int64)


def test_apply_visits_every_module():
    seen = []
    Net().apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "ReLU", "Linear", "Net"]


def test_repr_nested():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    assert repr(model) == ("Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n"
                           "  (1): ReLU()\n)")


def test_sequential_indexing_and_containers():
    model = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 3)), ("act", nn.ReLU())]))
    assert isinstance(model[0], nn.Linear) and model[-1] is model.act and len(model) == 2
    assert isinstance(model[:1], nn.Sequential) and len(model[:1]) == 1
    model.append(nn.Linear(3, 1))
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear"]
    with pytest.raises(IndexError, match="out of range"):
        model[5]
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    layers.append(nn.Tanh())
    assert len(layers) == 4 and len(list(layers.parameters())) == 6
    del layers[0]
    assert len(layers) == 3 and [n for n, _ in layers.named_children()] == ["0", "1", "2"]


def test_forward_missing_is_reported():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(kernn.ones(1))


def test_parameter_defaults_and_repr():
    p = nn.Parameter(kernn.ones(2))
    assert p.requires_grad and isinstance(p, kernn.Tensor)
    assert repr(p).startswith("Parameter containing:\ntensor(")


def test_parameters_order_is_depth_first_as_named_parameters():
    class Outer(nn.Module):
        def __init__(self):
            super().__init__()
            self.first = nn.Linear(2, 2)
            self.block = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.Linear(3, 3)))
            self.last = nn.Linear(3, 1)

    model = Outer()
    assert [id(p) for p in model.parameters()] == [id(p) for _, p in model.named_parameters()]
    assert [n for n, _ in model.named_parameters()][:4] == [
        "first.weight", "first.bias", "block.0.weight", "block.0.bias"]


def test_pickled_and_deep_copied_models_run():
    # Unpickled arrays carry their own (equal) dtype descriptor objects; kernels must accept them.
    import copy
    import pickle

    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = kernn.randn(5, 3)
    expected = model(x).detach().numpy()
    for clone in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        assert clone[0].weight is not model[0].weight
        np.testing.assert_array_equal(clone(x).detach().numpy(), expected)
        clone(x).sum().backward()
        assert clone[0].weight.grad is not None


@pytest.mark.parametrize("name", ["training", "forward", "state_dict", "_modules", "_parameters"])
@pytest.mark.parametrize("register", [
    lambda m, name: m.add_module(name, nn.Linear(2, 2)),
    lambda m, name: m.register_parameter(name, nn.Parameter(kernn.zeros(2))),
    lambda m, name: m.register_buffer(name, kernn.zeros(2)),
    lambda m, name: nn.ModuleDict({name: nn.Linear(2, 2)}),
], ids=["add_module", "register_parameter", "register_buffer", "ModuleDict"])
def test_registering_over_an_existing_attribute_raises_key_error_as_torch(register, name):
    # add_module('training', m) made the training flag a Linear, add_module('forward', m)
    # shadowed forward, ModuleDict({'_modules': m}) replaced the children's dict.
    module = nn.Linear(2, 2)
    with pytest.raises(KeyError, match=f"attribute '{name}' already exists"):
        register(module, name)
    assert module.training is True
    assert module(kernn.zeros(1, 2)).shape == (1, 2)
    assert list(module.state_dict()) == ["weight", "bias"]


def test_registering_over_an_entry_of_another_kind_raises_key_error_as_torch():
    module = nn.Linear(2, 2)
    with pytest.raises(KeyError, match="attribute 'weight' already exists"):
        module.add_module("weight", nn.Linear(2, 2))
    with pytest.raises(KeyError, match="attribute 'weight' already exists"):
        module.register_buffer("weight", kernn.zeros(2, 2))
    # an entry of the same kind is replaced in place, as before
    module.register_parameter("weight", nn.Parameter(kernn.ones(2, 2)))
    assert list(module.state_dict()) == ["weight", "bias"]
