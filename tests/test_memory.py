"""kernn._memory and kernn._C.aligned_empty: the arrays kernn allocates start on a 64-byte
boundary (every kernel output, parameters and buffers, optimizer state, the tensor factories)
and are ordinary numpy arrays otherwise."""

import copy
import gc
import pickle
import resource

import numpy as np
import pytest

import kernn
from kernn import _C, _memory


def _aligned(a):
    return a.ctypes.data % 64 == 0


@pytest.mark.parametrize("shape", [(), 0, 7, (3,), (5, 0), np.int64(4), (2, 3, 4), [17, 33]])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.uint8, bool])
def test_empty_zeros_full_are_aligned_c_contiguous_writeable(shape, dtype):
    expected_shape = np.empty(shape).shape
    for a, value in ((_memory.empty(shape, dtype), None), (_memory.zeros(shape, dtype), 0),
                     (_memory.full(shape, 1, dtype), 1)):
        assert a.shape == expected_shape and a.dtype == np.dtype(dtype)
        assert _aligned(a) and a.flags.c_contiguous and a.flags.writeable
        if value is not None:
            np.testing.assert_array_equal(a, np.full(expected_shape, value, dtype))


def test_copy_casts_and_makes_c_contiguous():
    x = np.arange(60, dtype=np.float64).reshape(6, 10)[::2, ::3] / 7
    for dtype in (None, np.float32, np.float64):
        c = _memory.copy(x, dtype)
        want = np.array(x, dtype=dtype, order="C", copy=True)
        assert _aligned(c) and c.flags.c_contiguous and c.dtype == want.dtype
        np.testing.assert_array_equal(c, want)
    c = _memory.copy(x)
    c[0, 0] = -1
    assert x[0, 0] == 0  # a copy, not a view


def test_zeros_are_positive_zeros():
    assert not np.signbit(_memory.zeros(10, np.float32)).any()


def test_views_keep_the_memory_alive():
    a = _memory.empty(1000, np.float32)
    a[:] = np.arange(1000)
    view = a[10:20]
    del a
    gc.collect()
    np.testing.assert_array_equal(view, np.arange(10, 20, dtype=np.float32))


def test_memory_is_freed_with_the_last_reference():
    # 300 arrays of 8 MiB, each written: kept alive (a leak) they would add 2.4 GiB.
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(300):
        _memory.empty(2 << 20, np.float32).fill(1.0)
        _C.relu_forward(np.zeros(2 << 20, np.float32)).fill(1.0)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 200 * 1024


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernel_outputs_are_aligned(dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 7)).astype(dtype)
    w = rng.standard_normal((3, 7)).astype(dtype)
    dy = rng.standard_normal((5, 3)).astype(dtype)
    target = np.array([0, 2, 1, 2, 0])
    images = rng.standard_normal((2, 3, 6, 6)).astype(dtype)
    kernels = rng.standard_normal((4, 3, 3, 3)).astype(dtype)
    outputs = [
        _C.gemm(x, w, trans_b=True),
        _C.linear(x, w, None, True),
        *_C.linear_backward(dy, x, w, None, True, True, True),
        _C.relu_forward(x),
        _C.softmax_forward(x),
        _C.cross_entropy_backward(dy, target, np.ones((), dtype), "mean", -100),
        _C.conv2d_forward(images, kernels, None, (1, 1), (1, 1), (1, 1), 1),
        *_C.max_pool2d_forward(images, 2),
    ]
    assert all(_aligned(out) for out in outputs)


@pytest.mark.parametrize("factory", [
    lambda: kernn.zeros(3, 5), lambda: kernn.ones(7, dtype=kernn.float64),
    lambda: kernn.empty(2, 9), lambda: kernn.zeros_like(kernn.ones(3, 3)),
    lambda: kernn.ones_like(kernn.zeros(4, dtype=kernn.int64)),
    lambda: kernn.empty_like(kernn.ones(6)),
])
def test_tensor_factories_are_aligned(factory):
    assert _aligned(factory().numpy())


def test_parameters_and_buffers_are_aligned_after_init_cast_and_load():
    net = kernn.nn.Sequential(kernn.nn.Conv2d(3, 5, 3), kernn.nn.BatchNorm2d(5),
                              kernn.nn.Flatten(), kernn.nn.Linear(5 * 4 * 4, 7))
    arrays = lambda: [t._data for t in net.state_dict(keep_vars=True).values()
                      if t._data.dtype.kind == "f"]
    assert len(arrays()) == 8 and all(_aligned(a) for a in arrays())
    net.double()
    assert all(a.dtype == np.float64 and _aligned(a) for a in arrays())
    net.load_state_dict({k: np.asarray(v.numpy()) + 1 for k, v in net.state_dict().items()})
    assert all(_aligned(a) for a in arrays())


def test_deep_copied_and_unpickled_parameters_are_aligned():
    layer = kernn.nn.Linear(13, 5)
    for clone in (copy.deepcopy(layer), pickle.loads(pickle.dumps(layer))):
        for mine, theirs in zip(layer.parameters(), clone.parameters()):
            assert _aligned(theirs._data) and theirs._data is not mine._data
            np.testing.assert_array_equal(theirs._data, mine._data)


def test_aligned_keeps_an_aligned_array_and_copies_others():
    a = _memory.empty((4, 16), np.float32)
    assert _memory.aligned(a) is a
    for other in (np.ones(100, np.float32)[1:], a[:, ::2]):
        b = _memory.aligned(other)
        assert _aligned(b) and b.flags.c_contiguous
        np.testing.assert_array_equal(b, other)


@pytest.mark.parametrize("make", [
    lambda ps: kernn.optim.SGD(ps, lr=0.1, momentum=0.9),
    lambda ps: kernn.optim.Adam(ps, lr=0.1, amsgrad=True),
    lambda ps: kernn.optim.AdamW(ps, lr=0.1),
    lambda ps: kernn.optim.RMSprop(ps, lr=0.1, momentum=0.9, centered=True),
    lambda ps: kernn.optim.Adadelta(ps, weight_decay=0.1),
])
def test_optimizer_state_is_aligned_after_a_step_and_a_load(make):
    layer = kernn.nn.Linear(13, 5)
    optimizer = make(layer.parameters())
    layer(kernn.randn(4, 13)).sum().backward()
    optimizer.step()

    def state_arrays():
        return [v._data for s in optimizer.state.values() for v in s.values()
                if isinstance(v, kernn.Tensor) and v._data.ndim > 0]

    assert state_arrays() and all(_aligned(a) for a in state_arrays())
    optimizer.load_state_dict(optimizer.state_dict())
    assert all(_aligned(a) for a in state_arrays())


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match=r"kernn.aligned_empty: negative extent .*\(3, -1\)"):
        _memory.empty((3, -1), np.float32)
    with pytest.raises(ValueError, match=r"kernn.aligned_empty: .*\(1099511627776, "
                                         r"1099511627776\) and dtype float32 is too big"):
        _memory.empty((1 << 40, 1 << 40), np.float32)
    with pytest.raises(MemoryError, match="kernn.aligned_empty: unable to allocate"):
        _memory.empty((1 << 40, 1 << 20), np.float32)
    with pytest.raises(TypeError):
        _C.aligned_empty(np.float32, [3])  # a dtype object, not the scalar type
    # uninitialised Python objects would crash the first access
    for dtype in (object, [("x", np.float32), ("o", object)]):
        with pytest.raises(TypeError, match="kernn.aligned_empty: .*Python objects"):
            _memory.empty(4, dtype)
    with pytest.raises(TypeError):
        _memory.empty((2, 3.5), np.float32)  # as np.empty: no float extents
