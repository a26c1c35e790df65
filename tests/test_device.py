"""kernn.device and kernn.cuda: a PyTorch script's choice of device runs on the CPU."""

import numpy as np
import pytest
import torch

import kernn


def test_the_usual_device_line_picks_the_cpu():
    device = kernn.device("cuda" if kernn.cuda.is_available() else "cpu")
    assert device == kernn.device("cpu") == "cpu" and str(device) == "cpu"
    assert kernn.cuda.device_count() == 0
    kernn.cuda.manual_seed(0)
    kernn.cuda.manual_seed_all(0)
    model = kernn.nn.Linear(4, 2).to(device)
    x = kernn.randn(3, 4).to(device)
    assert model(x).device == device and x.device == "cpu"


@pytest.mark.parametrize("name,index", [("cpu", None), ("cuda", None), ("cuda:1", None),
                                        ("cuda", 2), ("mps", None)])
def test_device_names_parse_and_print_as_torch(name, index):
    args = (name,) if index is None else (name, index)
    k, t = kernn.device(*args), torch.device(*args)
    assert (k.type, k.index) == (t.type, t.index)
    assert str(k) == str(t) and repr(k) == repr(t)
    assert kernn.device(k) == k and hash(kernn.device(str(k))) == hash(k)


@pytest.mark.parametrize("args,error", [(("tpu",), RuntimeError), (("cuda:x",), RuntimeError),
                                        (("cuda:0", 1), ValueError), (("cuda", -1), ValueError),
                                        ((3,), TypeError)])
def test_bad_device_names_raise(args, error):
    with pytest.raises(error, match="device"):
        kernn.device(*args)


@pytest.mark.parametrize("device", ["cuda", kernn.device("cuda", 0), "mps"])
def test_moving_to_another_device_raises_naming_it(device):
    with pytest.raises(RuntimeError, match="CPU only, got device"):
        kernn.ones(2).to(device)
    with pytest.raises(RuntimeError, match="CPU only, got device"):
        kernn.nn.Linear(2, 2).to(device)


def test_to_with_a_device_and_a_dtype():
    x = kernn.ones(2).to(kernn.device("cpu"), kernn.float64)
    assert x.dtype is kernn.float64
    model = kernn.nn.Linear(2, 2).to(kernn.device("cpu"), kernn.float64)
    assert model.weight.dtype is kernn.float64
    assert np.array_equal(kernn.ones(2).to(x).numpy(), np.ones(2))
