"""ModuleDict, ParameterList, ParameterDict and Unflatten against torch's: registration,
order, indexing, state_dict names (and round trips into the torch equivalent), repr."""

from collections import OrderedDict

import numpy as np
import pytest
import torch

import kernn
import kernn.nn as nn


def _torch_repr(text):
    """kernn's repr with torch's names, for comparing with torch's repr."""
    return text.replace("kernn.", "torch.")


def _round_trip(kmod, tmod):
    """kernn's state dict loads into the torch module (same names and shapes) and back."""
    tmod.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                          for k, v in kmod.state_dict().items()})
    for name, value in tmod.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), kmod.state_dict()[name].numpy())
    kmod.load_state_dict({k: v.numpy() * 2 for k, v in tmod.state_dict().items()})
    for name, value in tmod.state_dict().items():
        np.testing.assert_array_equal(value.numpy() * 2, kmod.state_dict()[name].numpy())


# ---- ModuleDict -----------------------------------------------------------------------------
def test_module_dict_as_torch():
    k = nn.ModuleDict({"fc": nn.Linear(3, 4), "act": nn.ReLU()})
    t = torch.nn.ModuleDict({"fc": torch.nn.Linear(3, 4), "act": torch.nn.ReLU()})
    k.update([("out", nn.Linear(4, 2))])
    t.update([("out", torch.nn.Linear(4, 2))])
    k["bn"] = nn.BatchNorm1d(2)
    t["bn"] = torch.nn.BatchNorm1d(2)
    assert list(k) == list(t) == ["fc", "act", "out", "bn"]
    assert len(k) == 4 and "fc" in k and "nope" not in k
    assert isinstance(k["out"], nn.Linear)
    assert list(k.state_dict()) == list(t.state_dict())
    assert [n for n, _ in k.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert repr(k) == repr(t)
    _round_trip(k, t)
    assert isinstance(k.pop("act"), nn.ReLU) and list(k.keys()) == ["fc", "out", "bn"]
    del k["fc"]
    assert list(k) == ["out", "bn"] and not hasattr(k, "fc")
    assert [n for n, _ in k.named_parameters()] == ["out.weight", "out.bias", "bn.weight",
                                                    "bn.bias"]
    k.clear()
    assert len(k) == 0 and list(k.parameters()) == [] and repr(k) == "ModuleDict()"


def test_module_dict_replaces_in_place_and_keeps_order():
    k = nn.ModuleDict(OrderedDict([("b", nn.ReLU()), ("a", nn.Tanh())]))
    k.update({"b": nn.Sigmoid(), "c": nn.ReLU()})
    assert list(k) == ["b", "a", "c"] and isinstance(k["b"], nn.Sigmoid)
    assert list(k.values())[0] is k["b"] and dict(k.items())["c"] is k["c"]


def test_module_dict_errors():
    with pytest.raises(TypeError, match="ModuleDict.update.*iterable.*int"):
        nn.ModuleDict(3)
    with pytest.raises(TypeError, match="element #0 should be Iterable"):
        nn.ModuleDict([3])
    with pytest.raises(ValueError, match="element #1 has length 3; 2 is required"):
        nn.ModuleDict([("a", nn.ReLU()), ("b", nn.ReLU(), 1)])
    with pytest.raises(TypeError, match="is not a Module subclass"):
        nn.ModuleDict({"a": 3})
    with pytest.raises(KeyError):
        nn.ModuleDict()["missing"]
    with pytest.raises(KeyError):
        del nn.ModuleDict()["missing"]
    with pytest.raises(NotImplementedError, match="forward"):
        nn.ModuleDict()(kernn.zeros(1))


# ---- ParameterList --------------------------------------------------------------------------
def test_parameter_list_as_torch():
    values = [np.arange(6.0, dtype=np.float32).reshape(2, 3), np.ones(4)]
    k = nn.ParameterList([kernn.tensor(values[0]), nn.Parameter(kernn.tensor(values[1]))])
    t = torch.nn.ParameterList([torch.tensor(values[0]),
                                torch.nn.Parameter(torch.tensor(values[1]))])
    k.append(kernn.zeros(5))
    t.append(torch.zeros(5))
    k.extend([nn.Parameter(kernn.ones(1))])
    t.extend([torch.nn.Parameter(torch.ones(1))])
    assert len(k) == len(t) == 4
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in k)
    assert [n for n, _ in k.named_parameters()] == [n for n, _ in t.named_parameters()] \
        == ["0", "1", "2", "3"]
    assert _torch_repr(repr(k)) == repr(t)
    _round_trip(k, t)
    assert k[-1] is k[3] and k[1].dtype == kernn.float64
    sliced = k[1:3]
    assert isinstance(sliced, nn.ParameterList) and len(sliced) == 2 and sliced[0] is k[1]
    replacement = nn.Parameter(kernn.zeros(2))
    k[0] = replacement
    assert k[0] is replacement and next(iter(k.parameters())) is replacement
    assert "0" not in dir(k)


def test_parameter_list_wraps_tensors_sharing_their_data():
    data = kernn.zeros(3)
    k = nn.ParameterList()
    k += [data]
    k[0]._data[0] = 7
    assert float(data[0]) == 7


def test_parameter_list_in_a_module_state_dict_names_as_torch():
    class K(nn.Module):
        def __init__(self):
            super().__init__()
            self.scales = nn.ParameterList([kernn.ones(2), kernn.ones(3)])
            self.fc = nn.Linear(2, 2)

    class T(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.scales = torch.nn.ParameterList([torch.ones(2), torch.ones(3)])
            self.fc = torch.nn.Linear(2, 2)

    k, t = K(), T()
    assert list(k.state_dict()) == list(t.state_dict()) == ["scales.0", "scales.1", "fc.weight",
                                                            "fc.bias"]
    assert _torch_repr(repr(k))[1:] == repr(t)[1:]  # but for the class names, K and T
    _round_trip(k, t)


def test_parameter_list_errors():
    k = nn.ParameterList([kernn.ones(2)])
    with pytest.raises(IndexError, match="index 1 is out of range"):
        k[1]
    with pytest.raises(IndexError, match="index -2 is out of range"):
        k[-2] = kernn.ones(1)
    with pytest.raises(TypeError, match="extend should be called with an iterable.*Tensor"):
        k.extend(kernn.ones(2))
    with pytest.raises(RuntimeError, match="ParameterList should not be called"):
        k(kernn.ones(1))


# ---- ParameterDict --------------------------------------------------------------------------
def test_parameter_dict_as_torch():
    k = nn.ParameterDict({"b": kernn.zeros(2, 3), "a": kernn.ones(4, dtype=kernn.float64)})
    t = torch.nn.ParameterDict({"b": torch.zeros(2, 3),
                                "a": torch.ones(4, dtype=torch.float64)})
    assert list(k) == list(t) == ["a", "b"]  # a plain dict's keys are sorted, as torch
    k.update(OrderedDict([("z", kernn.ones(1)), ("c", kernn.ones(1))]))
    t.update(OrderedDict([("z", torch.ones(1)), ("c", torch.ones(1))]))
    k["m"] = nn.Parameter(kernn.ones(2))
    t["m"] = torch.nn.Parameter(torch.ones(2))
    assert list(k) == list(t) == ["a", "b", "z", "c", "m"]
    assert all(isinstance(p, nn.Parameter) for p in k.values())
    assert list(k.state_dict()) == list(t.state_dict())
    assert [n for n, _ in k.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert _torch_repr(repr(k)) == repr(t)
    _round_trip(k, t)
    assert list(reversed(k)) == ["m", "c", "z", "b", "a"]
    assert k.get("nope") is None and k.get("a") is k["a"] and "a" in k
    assert k.popitem()[0] == "m" and k.pop("z").shape == (1,)
    assert list(k) == ["a", "b", "c"] and len(k) == 3
    copy = k.copy()
    assert list(copy) == list(k) and copy["a"] is k["a"]
    assert k.setdefault("a") is k["a"]
    merged = k | nn.ParameterDict(OrderedDict([("d", kernn.ones(1))]))
    assert list(merged) == ["a", "b", "c", "d"] and list(k) == ["a", "b", "c"]
    del k["b"]
    assert [n for n, _ in k.named_parameters()] == ["a", "c"] and not hasattr(k, "b")
    k.clear()
    assert len(k) == 0 and list(k.parameters()) == [] and repr(k) == "ParameterDict()"


def test_parameter_dict_replacing_an_entry_keeps_its_position():
    k = nn.ParameterDict(OrderedDict([("x", kernn.ones(1)), ("y", kernn.ones(1))]))
    k["x"] = kernn.zeros(3)
    assert [n for n, _ in k.named_parameters()] == ["x", "y"] and k["x"].shape == (3,)


def test_parameter_dict_errors():
    k = nn.ParameterDict()
    with pytest.raises(TypeError, match="not a string.*int"):
        k[1] = kernn.ones(1)
    with pytest.raises(KeyError):
        k["missing"]
    with pytest.raises(KeyError, match="popitem"):
        k.popitem()
    with pytest.raises(KeyError, match="invalid parameter name"):
        k["a.b"] = kernn.ones(1)
    with pytest.raises(ValueError, match="element #0 has length 1"):
        k.update([("a",)])
    with pytest.raises(RuntimeError, match="ParameterDict should not be called"):
        k(kernn.ones(1))


# ---- Unflatten ------------------------------------------------------------------------------
@pytest.mark.parametrize("dim,sizes,shape", [(1, (2, 5, 5), (2, 50)), (-1, [3, -1], (2, 4, 6)),
                                             (0, (1, 2), (2, 3)), (-2, (-1, 2), (3, 4, 1))])
def test_unflatten_as_torch(dim, sizes, shape):
    k, t = nn.Unflatten(dim, sizes), torch.nn.Unflatten(dim, sizes)
    assert repr(k) == repr(t)
    x = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    kx = kernn.tensor(x, requires_grad=True)
    y = k(kx)
    np.testing.assert_array_equal(y.detach().numpy(), t(torch.from_numpy(x)).numpy())
    y.sum().backward()
    np.testing.assert_array_equal(kx.grad.numpy(), np.ones(shape))


def test_unflatten_errors():
    with pytest.raises(TypeError, match="must be a tuple of ints, but found type int"):
        nn.Unflatten(1, 5)
    with pytest.raises(TypeError, match="found element of type float at pos 0"):
        nn.Unflatten(1, (2.0, 3))
    with pytest.raises(ValueError, match=r"Unflatten.*\(4, -1\).*dim 1 \(6\).*\(2, 6\)"):
        nn.Unflatten(1, (4, -1))(kernn.zeros(2, 6))
    with pytest.raises(ValueError, match="Unflatten"):
        nn.Unflatten(1, (-1, -1))(kernn.zeros(2, 6))
    with pytest.raises(IndexError, match="Unflatten: dim 2"):
        nn.Unflatten(2, (1, 1))(kernn.zeros(2, 6))
