"""Autograd engine: reuse, diamonds, broadcasting, deep chains, grad modes, graph freeing,
custom Functions."""

import gc
import weakref

import numpy as np
import pytest

import kernn
from kernn.autograd import Function
from torch_compare import compare


def test_reused_tensor_accumulates(rng):
    a = rng.standard_normal((3, 4))
    compare(lambda l, x: x * x + x * 3 + x, [a])


def test_diamond_graph(rng):
    # x -> h -> (h * (h + 1), tanh(h)) -> sum: h's gradient from both branches is summed
    # before h's own backward runs, once.
    def f(l, x):
        h = x.exp()
        return h * (h + 1) + h.tanh()

    compare(f, [rng.standard_normal(5)])


def test_shared_interior_node_with_many_consumers(rng):
    def f(l, x):
        h = x * 2
        return h + h * h + h.sum() + h.mean(0)

    compare(f, [rng.standard_normal((4, 3))])


def test_broadcast_gradients_sum_to_operand_shape(rng):
    compare(lambda l, x, b, c: x * b + c, [rng.standard_normal((4, 5, 6)),
                                           rng.standard_normal((5, 1)),
                                           rng.standard_normal((1, 1, 6))])


def test_deep_chain_of_10000_ops_runs_without_recursion():
    x = kernn.tensor([1.0], dtype=kernn.float64, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001 ** 10_000], rtol=1e-9)


def test_leaf_grad_accumulates_across_backward_calls():
    x = kernn.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]


def test_second_backward_through_freed_graph_raises():
    x = kernn.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = kernn.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0, 8.0]


def test_no_grad_records_nothing():
    x = kernn.ones(3, requires_grad=True)
    with kernn.no_grad():
        y = x * 2 + 1
        assert not kernn.is_grad_enabled()
        with kernn.enable_grad():
            z = x * 2
    assert kernn.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad


def test_no_grad_as_decorator_with_and_without_parentheses():
    @kernn.no_grad()
    def f(t):
        return t * 2

    @kernn.no_grad
    def g(t):
        return t * 2

    x = kernn.ones(2, requires_grad=True)
    assert not f(x).requires_grad and not g(x).requires_grad
    assert kernn.is_grad_enabled()


def test_set_grad_enabled():
    with kernn.set_grad_enabled(False):
        assert not (kernn.ones(1, requires_grad=True) * 2).requires_grad
    assert kernn.is_grad_enabled()


def test_backward_needs_scalar_or_gradient():
    x = kernn.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="scalar"):
        (x * 2).backward()
    (x * 2).backward(kernn.tensor([1.0, 2.0, 3.0]))
    assert x.grad.tolist() == [2.0, 4.0, 6.0]
    with pytest.raises(RuntimeError, match="shape"):
        (x * 2).backward(kernn.ones(4))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        kernn.ones(2).sum().backward()


def test_detach_cuts_the_graph():
    x = kernn.ones(2, requires_grad=True)
    y = (x * 2).detach()
    assert not y.requires_grad
    z = (x * y).sum()
    z.backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_grads_are_contiguous_writeable_arrays_of_the_leaf_dtype():
    x = kernn.ones(3, 4, requires_grad=True)
    (x.sum(0) * kernn.ones(4, dtype=kernn.float64)).sum().backward()
    g = x.grad.numpy()
    assert g.dtype == np.float32 and g.flags.c_contiguous and g.flags.writeable


def test_leaves_reached_through_pass_through_ops_get_gradient_arrays_of_their_own():
    # add hands one array to both operands, a view hands its gradient on unchanged: each leaf
    # must still own its .grad, so changing one in place leaves the others as they were.
    a = kernn.ones(2, 3, requires_grad=True)
    b = kernn.ones(2, 3, requires_grad=True)
    c = kernn.ones(6, requires_grad=True)
    ((a + b + c.view(2, 3)) * 2).sum().backward()  # the product's gradient is writeable
    grads = [a.grad.numpy(), b.grad.numpy(), c.grad.numpy()]
    for i, g in enumerate(grads):
        for other in grads[i + 1:]:
            assert not np.shares_memory(g, other)
    a.grad.numpy().fill(0)
    assert b.grad.tolist() == [[2.0] * 3] * 2 and c.grad.tolist() == [2.0] * 6


def test_backward_leaves_the_callers_gradient_array_alone():
    x = kernn.zeros(2, 3, requires_grad=True)
    seed = np.arange(6, dtype=np.float32).reshape(2, 3)
    (x + 0).backward(kernn.from_numpy(seed))  # add passes the gradient through to x
    leaf = kernn.zeros(2, 3, requires_grad=True)
    leaf.backward(seed)  # a leaf as the root takes the gradient directly
    for t in (x, leaf):
        assert not np.shares_memory(t.grad.numpy(), seed)
        t.grad.numpy().fill(-1)
    np.testing.assert_array_equal(seed, np.arange(6, dtype=np.float32).reshape(2, 3))


def test_cat_inputs_keep_views_of_one_gradient_that_do_not_overlap():
    # cat's backward splits one array among its inputs: the parts do not overlap, so each is
    # its own (no copy), and changing one in place leaves the other as it was.
    a = kernn.ones(3, requires_grad=True)
    b = kernn.ones(2, requires_grad=True)
    (kernn.cat([a, b]) * kernn.arange(5, dtype=kernn.float32)).sum().backward()
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())
    assert a.grad.numpy().base is not None and b.grad.numpy().base is not None  # no copies
    a.grad.numpy().fill(0)
    assert b.grad.tolist() == [3.0, 4.0]


def test_backward_with_a_gradient_of_another_dtype_leaves_it_alone():
    x = kernn.zeros(2, 3, requires_grad=True)
    seed = np.arange(6, dtype=np.float64).reshape(2, 3)
    (x + 0).backward(seed)  # float64 seed for a float32 graph: backward's own converted copy
    assert x.grad.dtype == kernn.float32 and x.grad.tolist() == seed.tolist()
    x.grad.numpy().fill(-1)
    np.testing.assert_array_equal(seed, np.arange(6, dtype=np.float64).reshape(2, 3))


def test_zero_grad_replaces_a_read_only_gradient_with_zeros():
    model = kernn.nn.Linear(3, 2)
    frozen = np.ones((2, 3), dtype=np.float32)
    frozen.flags.writeable = False
    for zero_grad in (model.zero_grad, kernn.optim.SGD(model.parameters(), lr=0.1).zero_grad):
        model.weight.grad = kernn.from_numpy(frozen)
        zero_grad(set_to_none=False)
        assert model.weight.grad.tolist() == [[0.0] * 3] * 2
    np.testing.assert_array_equal(frozen, np.ones((2, 3), dtype=np.float32))


def test_graph_is_freed_after_backward():
    x = kernn.ones(100, requires_grad=True)
    y = x.exp()
    node = weakref.ref(y.grad_fn)
    loss = y.sum()
    loss.backward()
    del y, loss
    gc.collect()
    assert node() is None


def test_custom_function_protocol():
    class Cube(Function):
        @staticmethod
        def forward(ctx, x, scale):
            a = x._data
            ctx.save_for_backward(a)
            ctx.scale = scale
            return a ** 3 * scale

        @staticmethod
        def backward(ctx, dy):
            (a,) = ctx.saved_tensors
            return dy * 3 * a ** 2 * ctx.scale, None

    x = kernn.tensor([1.0, 2.0], dtype=kernn.float64, requires_grad=True)
    y = Cube.apply(x, 2.0)
    assert y.grad_fn is not None and y.grad_fn.needs_input_grad == (True, False)
    y.sum().backward()
    assert x.grad.tolist() == [6.0, 24.0]
    assert kernn.utils.gradcheck(lambda t: Cube.apply(t, 0.5), (kernn.randn(4, dtype=kernn.float64,
                                                                          requires_grad=True),))


def test_function_with_two_outputs_gets_zero_grad_for_unused_output():
    class Split(Function):
        @staticmethod
        def forward(ctx, x):
            a = x._data
            return a * 2, a * 3

        @staticmethod
        def backward(ctx, d1, d2):
            return d1 * 2 + d2 * 3

    x = kernn.ones(2, requires_grad=True)
    first, _ = Split.apply(x)
    first.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_integer_output_gets_none_instead_of_a_zero_array():
    received = []

    class MaxWithIndex(Function):
        @staticmethod
        def forward(ctx, x):
            a = x._data
            ctx.save_for_backward(a.argmax())
            return a.max(keepdims=True), a.argmax(keepdims=True)

        @staticmethod
        def backward(ctx, d_value, d_index):
            received.append(d_index)
            (i,) = ctx.saved_tensors
            dx = np.zeros(3, d_value.dtype)
            dx[i] = d_value[0]
            return dx

    x = kernn.tensor([1.0, 5.0, 2.0], requires_grad=True)
    value, index = MaxWithIndex.apply(x)
    assert not index.requires_grad
    value.sum().backward()
    assert received == [None]
    assert x.grad.tolist() == [0.0, 1.0, 0.0]


def test_wrong_number_of_gradients_is_reported():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x._data + y._data

        @staticmethod
        def backward(ctx, dy):
            return dy

    x, y = kernn.ones(2, requires_grad=True), kernn.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="Bad.backward returned 1"):
        Bad.apply(x, y).sum().backward()


def test_requires_grad_propagates_only_from_float_inputs():
    x = kernn.ones(3, requires_grad=True)
    idx = x.argmax()
    assert not idx.requires_grad
    values, indices = x.reshape(1, 3).max(1)
    assert values.requires_grad and not indices.requires_grad


def test_inference_mode_is_no_grad_and_a_decorator():
    w = kernn.ones(2, requires_grad=True)
    with kernn.inference_mode():
        assert not (w * 2).requires_grad
    with kernn.inference_mode(False):
        assert (w * 2).requires_grad

    @kernn.inference_mode
    def bare():
        return (w * 2).requires_grad

    @kernn.inference_mode()
    def called():
        return (w * 2).requires_grad

    assert not bare() and not called() and kernn.is_grad_enabled()
