"""kernn.save / kernn.load: round trips, the file format, atomic writes, damaged files, and
state-dict interchange with torch."""

import collections
import io
import json
import math
import os
import zipfile

import numpy as np
import pytest
import torch

import kernn
from kernn import serialization


def tensor(array, requires_grad=False):
    return kernn.Tensor(np.asarray(array), requires_grad=requires_grad)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.uint8, np.bool_, np.float16])
def test_state_dict_round_trip_preserves_dtype_shape_and_values(dtype, tmp_path):
    rng = np.random.default_rng(0)
    shapes = [(3, 5), (7,), (1,), (), (0, 4), (2, 3, 1, 2)]
    state = collections.OrderedDict(
        (f"layer{i}.weight", tensor((rng.standard_normal(shape) * 100).astype(dtype))) for i, shape in enumerate(shapes))
    path = tmp_path / "state.kn"
    kernn.save(state, path)
    loaded = kernn.load(path)
    assert isinstance(loaded, collections.OrderedDict) and list(loaded) == list(state)
    for key, original in state.items():
        assert isinstance(loaded[key], kernn.Tensor)
        assert loaded[key].numpy().dtype == np.dtype(dtype)
        assert loaded[key].numpy().shape == original.numpy().shape
        np.testing.assert_array_equal(loaded[key].numpy(), original.numpy())


def test_extreme_float_values_round_trip_bit_exactly(tmp_path):
    values = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, np.finfo(np.float64).max, 1 / 3])
    path = tmp_path / "x.kn"
    kernn.save({"array": values, "floats": [math.inf, -math.inf, math.nan, -0.0, 0.1]}, path)
    loaded = kernn.load(path)
    assert loaded["array"].tobytes() == values.tobytes()
    inf, minus_inf, nan, minus_zero, tenth = loaded["floats"]
    assert inf == math.inf and minus_inf == -math.inf and math.isnan(nan)
    assert math.copysign(1.0, minus_zero) == -1.0 and tenth == 0.1


def test_nested_structures_and_python_values_round_trip(tmp_path):
    weight = tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    obj = {
        "model": collections.OrderedDict(w=weight),
        "optimizer": {"state": {0: {"step": 7, "exp_avg": tensor(np.ones(3))}},
                      "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "amsgrad": False, "params": [0]}]},
        "epoch": 12, "name": "run-α", "none": None, "flags": [True, False],
        "raw": np.arange(4, dtype=np.int16), "scalar": np.float32(2.5), (1, "a"): "tuple key", 3.5: "float key",
        "empty": {"list": [], "tuple": (), "dict": {}},
        "parameter": kernn.nn.Parameter(np.full(2, 0.5)),
    }
    path = tmp_path / "ckpt.kn"
    kernn.save(obj, path)
    loaded = kernn.load(path)
    assert set(loaded) == set(obj)
    assert loaded["optimizer"]["state"][0]["step"] == 7  # int keys stay ints
    assert loaded["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert loaded["epoch"] == 12 and loaded["name"] == "run-α" and loaded["none"] is None
    assert loaded["flags"] == [True, False] and loaded[(1, "a")] == "tuple key" and loaded[3.5] == "float key"
    assert loaded["empty"] == {"list": [], "tuple": (), "dict": {}}
    assert isinstance(loaded["raw"], np.ndarray) and loaded["raw"].dtype == np.int16
    assert isinstance(loaded["scalar"], np.float32) and loaded["scalar"] == 2.5
    parameter = loaded["parameter"]
    assert isinstance(parameter, kernn.nn.Parameter) and parameter.requires_grad
    np.testing.assert_array_equal(parameter.detach().numpy(), [0.5, 0.5])
    w = loaded["model"]["w"]
    assert isinstance(w, kernn.Tensor) and w.requires_grad
    np.testing.assert_array_equal(w.detach().numpy(), weight.detach().numpy())


def test_a_tensor_saved_twice_is_stored_once_and_loads_as_one_object(tmp_path):
    shared = tensor(np.ones((4, 4)))
    path = tmp_path / "tied.kn"
    kernn.save({"encoder.weight": shared, "decoder.weight": shared}, path)
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["0.npy", "kernn.json"]
    loaded = kernn.load(path)
    assert loaded["encoder.weight"] is loaded["decoder.weight"]


def test_file_format_is_a_documented_npz_readable_by_numpy_without_pickle(tmp_path):
    path = tmp_path / "fmt.kn"
    kernn.save({"w": tensor(np.arange(3.0)), "step": 3}, path)
    with np.load(path, allow_pickle=False) as archive:
        header = json.loads(archive["kernn.json"].decode("utf-8"))
        np.testing.assert_array_equal(archive["0"], np.arange(3.0))
    assert header["format"] == "kernn.save" and header["version"] == 1
    assert header["root"] == {"type": "dict", "ordered": False, "items": [
        ["w", {"type": "tensor", "entry": "0.npy", "dtype": "<f8", "shape": [3], "requires_grad": False,
               "parameter": False}],
        ["step", 3]]}


def test_path_like_str_and_file_objects_are_accepted(tmp_path):
    value = {"a": tensor(np.arange(5, dtype=np.int64))}
    kernn.save(value, str(tmp_path / "as_str.kn"))
    np.testing.assert_array_equal(kernn.load(str(tmp_path / "as_str.kn"))["a"].numpy(), np.arange(5))
    buffer = io.BytesIO()
    kernn.save(value, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(kernn.load(buffer)["a"].numpy(), np.arange(5))


def test_load_takes_torch_load_arguments_for_the_cpu(tmp_path):
    path = tmp_path / "m.kn"
    model = kernn.nn.Linear(3, 2)
    kernn.save(model.state_dict(), path)
    for map_location in (None, "cpu", kernn.device("cpu"), torch.device("cpu"),
                         {"cuda:0": "cpu"}):
        loaded = kernn.load(path, map_location=map_location, weights_only=True)
        assert np.array_equal(loaded["weight"].detach().numpy(), model.weight.detach().numpy())
    assert list(kernn.load(path, "cpu", weights_only=False)) == ["weight", "bias"]
    for map_location in ("cuda", "cuda:1", {"cpu": "cuda:0"}):
        with pytest.raises(ValueError, match="kernn.load: map_location .* other than the CPU"):
            kernn.load(path, map_location=map_location)


def test_unsupported_objects_raise_type_error_naming_where(tmp_path):
    path = tmp_path / "bad.kn"
    with pytest.raises(TypeError, match=r"obj\['layers'\]\[1\] of type object"):
        kernn.save({"layers": [1, object()]}, path)
    with pytest.raises(TypeError, match="dtype object"):
        kernn.save({"x": np.array([1, "a"], dtype=object)}, path)
    with pytest.raises(TypeError, match="key of type frozenset"):
        kernn.save({frozenset(): 1}, path)
    cyclic = []
    cyclic.append(cyclic)
    with pytest.raises(ValueError, match="contains itself"):
        kernn.save(cyclic, path)
    assert not path.exists() and os.listdir(tmp_path) == []


def test_failed_write_leaves_the_old_file_intact_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "model.kn"
    kernn.save({"w": tensor(np.zeros(3))}, path)
    old_bytes = path.read_bytes()
    real_write_array = np.lib.format.write_array
    calls = []

    def failing_write_array(fp, array, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # the second array: the file is half written
            raise OSError(28, "No space left on device")
        return real_write_array(fp, array, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", failing_write_array)
    with pytest.raises(OSError, match="No space left on device"):
        kernn.save({"a": tensor(np.ones(1000)), "b": tensor(np.ones(1000)), "c": tensor(np.ones(3))}, path)
    assert len(calls) == 2
    assert path.read_bytes() == old_bytes
    assert os.listdir(tmp_path) == ["model.kn"]
    np.testing.assert_array_equal(kernn.load(path)["w"].numpy(), np.zeros(3))


def test_failed_rename_removes_the_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "model.kn"

    def failing_replace(src, dst):
        raise PermissionError(13, "Permission denied", dst)

    monkeypatch.setattr(serialization.os, "replace", failing_replace)
    with pytest.raises(PermissionError):
        kernn.save({"w": tensor(np.zeros(3))}, path)
    assert os.listdir(tmp_path) == []


def test_save_replaces_an_existing_file_keeping_its_permissions(tmp_path):
    path = tmp_path / "model.kn"
    kernn.save([1], path)
    os.chmod(path, 0o640)
    kernn.save([2], path)
    assert kernn.load(path) == [2]
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == ["model.kn"]


def test_save_into_a_missing_directory_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        kernn.save([1], tmp_path / "no" / "such" / "dir.kn")


def test_missing_file_raises_file_not_found_naming_the_path(tmp_path):
    path = tmp_path / "absent.kn"
    with pytest.raises(FileNotFoundError, match="absent.kn"):
        kernn.load(path)


def write_checkpoint(tmp_path, name="good.kn"):
    path = tmp_path / name
    kernn.save({"w": tensor(np.arange(2000, dtype=np.float32)), "b": tensor(np.ones(3))}, path)
    return path


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.99])
def test_truncated_file_raises_value_error_naming_the_path(tmp_path, keep):
    data = write_checkpoint(tmp_path).read_bytes()
    path = tmp_path / "truncated.kn"
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ValueError, match="truncated.kn.*not a zip/npz archive"):
        kernn.load(path)


def test_random_bytes_raise_value_error(tmp_path):
    path = tmp_path / "noise.bin"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(ValueError, match="noise.bin.*not a zip/npz archive"):
        kernn.load(path)


def test_empty_file_raises_value_error(tmp_path):
    path = tmp_path / "empty.kn"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="empty.kn"):
        kernn.load(path)


def test_plain_npz_without_the_json_entry_raises_value_error(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, w=np.ones(3))
    with pytest.raises(ValueError, match="plain.npz.*no 'kernn.json' entry"):
        kernn.load(path)


def test_torch_save_file_is_recognised_and_not_unpickled(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(3)}, path)
    with pytest.raises(ValueError, match="model.pt.*looks like a torch.save file"):
        kernn.load(path)


def test_pickled_npy_entry_is_refused(tmp_path):
    path = tmp_path / "pickled.kn"
    header = {"format": "kernn.save", "version": 1,
              "root": {"type": "ndarray", "entry": "0.npy", "dtype": "|O", "shape": [1]}}
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("kernn.json", json.dumps(header))
        with archive.open("0.npy", "w") as member:
            np.lib.format.write_array(member, np.array([object()], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="pickled.kn.*cannot be read"):
        kernn.load(path)


def rewrite_header(path, edit):
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    header = json.loads(members["kernn.json"])
    edit(header, members)
    members["kernn.json"] = json.dumps(header).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


@pytest.mark.parametrize("edit, message", [
    (lambda h, m: h.update(version=2), "format version 2; this kernn reads version 1"),
    (lambda h, m: h.update(format="other"), "does not describe a kernn.save file"),
    (lambda h, m: m.pop("1.npy"), "entry '1.npy' is referenced but missing"),
    (lambda h, m: h["root"]["items"][0][1].update(shape=[7]), "has shape \\[2000\\], the header says \\[7\\]"),
    (lambda h, m: h["root"]["items"][0][1].update(dtype="<f8"), "has dtype <f4, the header says <f8"),
    (lambda h, m: h["root"]["items"][0].__setitem__(1, {"type": "pickle"}), "unknown node type 'pickle'"),
])
def test_inconsistent_checkpoint_raises_value_error(tmp_path, edit, message):
    path = write_checkpoint(tmp_path)
    rewrite_header(path, edit)
    with pytest.raises(ValueError, match="good.kn.*" + message):
        kernn.load(path)


def test_header_that_is_not_json_raises_value_error(tmp_path):
    path = tmp_path / "garbled.kn"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("kernn.json", b"\xff{not json")
    with pytest.raises(ValueError, match="garbled.kn.*not valid JSON"):
        kernn.load(path)


def make_mlp(nn, dtype):
    """The same small MLP from kernn.nn or torch.nn."""
    model = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 3))
    return model.double() if dtype == np.float64 else model


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_model_state_dict_interchange_with_torch(dtype, tmp_path):
    x = np.random.default_rng(1).standard_normal((4, 5)).astype(dtype)
    ours = make_mlp(kernn.nn, dtype)
    path = tmp_path / "mlp.kn"
    kernn.save(ours.state_dict(), path)
    loaded = kernn.load(path)
    assert list(loaded) == ["0.weight", "0.bias", "2.weight", "2.bias"]

    theirs = make_mlp(torch.nn, dtype)
    theirs.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in loaded.items()})
    expected = ours(kernn.Tensor(x)).detach().numpy()
    with torch.no_grad():
        np.testing.assert_allclose(theirs(torch.from_numpy(x)).numpy(), expected,
                                   rtol=1e-5 if dtype == np.float32 else 1e-13, atol=1e-6 if dtype == np.float32 else 1e-14)

    # And back: torch's trained-looking weights into a fresh kernn model through a file.
    with torch.no_grad():
        for p in theirs.parameters():
            p.mul_(-1.5).add_(0.25)
    kernn.save({k: v.numpy() for k, v in theirs.state_dict().items()}, path)
    fresh = make_mlp(kernn.nn, dtype)
    fresh.load_state_dict(kernn.load(path))
    with torch.no_grad():
        np.testing.assert_allclose(fresh(kernn.Tensor(x)).detach().numpy(), theirs(torch.from_numpy(x)).numpy(),
                                   rtol=1e-5 if dtype == np.float32 else 1e-13, atol=1e-6 if dtype == np.float32 else 1e-14)


def test_optimizer_checkpoint_through_a_file_with_a_model(tmp_path):
    model = make_mlp(kernn.nn, np.float64)
    opt = kernn.optim.Adam(model.parameters(), lr=0.01)
    for p in model.parameters():
        p.grad = kernn.Tensor(np.ones_like(p.detach().numpy()))
    opt.step()
    path = tmp_path / "ckpt.kn"
    kernn.save({"model": model.state_dict(), "optim": opt.state_dict()}, path)
    checkpoint = kernn.load(path)
    fresh = make_mlp(kernn.nn, np.float64)
    fresh.load_state_dict(checkpoint["model"])
    fresh_opt = kernn.optim.Adam(fresh.parameters(), lr=0.5)
    fresh_opt.load_state_dict(checkpoint["optim"])
    assert fresh_opt.param_groups[0]["lr"] == 0.01
    for p, q in zip(model.parameters(), fresh.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
        assert fresh_opt.state[q]["step"] == 1
        np.testing.assert_array_equal(fresh_opt.state[q]["exp_avg"].numpy(), opt.state[p]["exp_avg"].numpy())


def test_flipped_bit_in_an_array_is_detected_by_the_checksum(tmp_path):
    path = write_checkpoint(tmp_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x10  # inside the 8000-byte float32 array
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="good.kn.*(CRC|cannot be read)"):
        kernn.load(path)


def test_long_file_names_and_symlinks(tmp_path):
    long_path = tmp_path / ("m" * 240 + ".kn")
    kernn.save({"step": 1}, long_path)
    assert kernn.load(long_path) == {"step": 1} and os.listdir(tmp_path) == [long_path.name]
    link = tmp_path / "latest.kn"
    link.symlink_to(long_path.name)
    kernn.save({"step": 2}, link)  # written through the link, as open(link, "wb") would
    assert link.is_symlink() and kernn.load(long_path) == {"step": 2}


# ---- non-regular files and damaged archives (safety sweep) ----------------------------------


def test_save_onto_a_fifo_writes_into_it_and_keeps_the_fifo(tmp_path):
    # Renaming the temporary file over the target replaced a FIFO (or /dev/null, as root) with
    # a regular file.
    import stat
    import threading

    path = tmp_path / "pipe"
    os.mkfifo(path)
    received = []
    reader = threading.Thread(target=lambda: received.append(path.read_bytes()))
    reader.start()
    kernn.save({"w": kernn.ones(3)}, path)
    reader.join(30)
    assert stat.S_ISFIFO(os.stat(path).st_mode)
    copy = tmp_path / "copy"
    copy.write_bytes(received[0])
    np.testing.assert_array_equal(kernn.load(copy)["w"].numpy(), np.ones(3))


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="mknod needs root")
def test_save_onto_a_character_device_keeps_the_device(tmp_path):
    import stat

    null = tmp_path / "null"
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a second /dev/null
    kernn.save({"w": kernn.ones(3)}, null)
    assert stat.S_ISCHR(os.stat(null).st_mode)


def test_load_refuses_a_fifo_and_a_device(tmp_path):
    # A FIFO blocked until a writer came; /dev/zero was read forever.
    path = tmp_path / "pipe"
    os.mkfifo(path)
    with pytest.raises(ValueError, match="kernn.load: .* is not a regular file"):
        kernn.load(path)
    if os.path.exists("/dev/zero"):
        with pytest.raises(ValueError, match="kernn.load: '/dev/zero' is not a regular file"):
            kernn.load("/dev/zero")


def _archive(path, header, members):
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("kernn.json", header)
        for name, data in members.items():
            archive.writestr(name, data)


def test_load_refuses_an_entry_declaring_more_data_than_it_holds(tmp_path):
    # The .npy header's shape was allocated before the data was read: MemoryError for 8 TiB.
    import json

    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776,), }"
    header = header.ljust(117) + "\n"
    npy = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + bytes(16)
    root = {"type": "tensor", "entry": "0.npy", "dtype": "<f8", "shape": [2**40]}
    path = tmp_path / "ckpt"
    _archive(path, json.dumps({"format": "kernn.save", "version": 1, "root": root}), {"0.npy": npy})
    with pytest.raises(ValueError, match=r"declares shape \(1099511627776,\) of float64 .* holds 16 bytes"):
        kernn.load(path)


def test_load_of_a_deeply_nested_header_is_a_value_error(tmp_path):
    path = tmp_path / "ckpt"
    depth = 100_000
    _archive(path, '{"format":"kernn.save","version":1,"root":' + "[" * depth + "]" * depth + "}", {})
    with pytest.raises(ValueError, match="kernn.load: .* RecursionError"):
        kernn.load(path)


def test_fuzzed_checkpoints_raise_value_error_only(tmp_path):
    # Corrupt version or compression fields gave zipfile's NotImplementedError, a seek before
    # the start an OSError (Invalid argument).
    import random

    good = tmp_path / "good"
    kernn.save({"a": kernn.ones(10), "b": [1, 2.5, "x", None], "c": (np.int64(3),)}, good)
    raw = good.read_bytes()
    path = tmp_path / "fuzzed"
    rng = random.Random(0)
    for _ in range(400):
        data = bytearray(raw)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        path.write_bytes(bytes(data))
        try:
            kernn.load(path)
        except ValueError:
            pass
