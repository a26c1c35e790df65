"""kernn.utils.gradcheck on every differentiable op (float64 central differences).

Inputs are drawn away from kinks: ReLU-like ops at 0, clamp at its bounds, max/min ties, abs at
0 (finite differences straddling a kink are wrong, not the gradient).
"""

import numpy as np
import pytest

import kernn
import kernn.nn.functional as F
from kernn.utils import GradcheckError, gradcheck


def _t(a, requires_grad=True):
    return kernn.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def _away_from_zero(rng, shape, margin=0.1):
    a = rng.standard_normal(shape)
    return np.where(np.abs(a) < margin, np.sign(a + 1e-12) * margin + a, a)


def test_gradcheck_detects_a_wrong_gradient(rng):
    class WrongSquare(kernn.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x._data)
            return x._data ** 2

        @staticmethod
        def backward(ctx, dy):
            (a,) = ctx.saved_tensors
            return dy * a  # should be 2 * a

    x = _t(rng.standard_normal(4))
    with pytest.raises(GradcheckError, match="mismatch"):
        gradcheck(WrongSquare.apply, (x,))
    assert gradcheck(WrongSquare.apply, (x,), raise_exception=False) is False


def test_gradcheck_requires_float64():
    with pytest.raises(ValueError, match="float64"):
        gradcheck(lambda t: t * 2, (kernn.ones(2, requires_grad=True),))


ELEMENTWISE = {
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "mul": lambda x, y: x * y,
    "div": lambda x, y: x / (y * y + 1),
    "pow_tensor": lambda x, y: (x * x + 1) ** y,
    "maximum": kernn.maximum,
    "minimum": kernn.minimum,
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_binary_ops(name, rng):
    x, y = _t(rng.standard_normal((3, 4))), _t(rng.standard_normal((1, 4)))
    assert gradcheck(ELEMENTWISE[name], (x, y))


UNARY = {
    "neg": lambda x: -x,
    "exp": lambda x: x.exp(),
    "log": lambda x: (x * x + 0.5).log(),
    "sqrt": lambda x: (x * x + 0.5).sqrt(),
    "abs": lambda x: x.abs(),
    "norm_dim": lambda x: x.norm(dim=1),
    "norm_p3": lambda x: x.norm(3.0),
    "sin": lambda x: x.sin(),
    "cos": lambda x: x.cos(),
    "pow": lambda x: x ** 3 + x ** 2,
    "clamp": lambda x: x.clamp(-0.55, 0.45),
    "relu": F.relu,
    "leaky_relu": lambda x: F.leaky_relu(x, 0.1),
    "sigmoid": F.sigmoid,
    "tanh": F.tanh,
    "softsign": F.softsign,
    "elu": lambda x: F.elu(x, 0.7),
    "gelu": F.gelu,
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "silu": F.silu,
    "softplus": lambda x: F.softplus(x, 2.0, 3.0),
    "hardtanh": F.hardtanh,
    "relu6": lambda x: F.relu6(x * 4),
    "logsigmoid": F.logsigmoid,
    "softmax_last": lambda x: F.softmax(x, -1),
    "softmax_dim0": lambda x: F.softmax(x, 0),
    "log_softmax_last": lambda x: F.log_softmax(x, 1),
    "log_softmax_dim0": lambda x: F.log_softmax(x, 0),
    "sum_dim": lambda x: x.sum(1, keepdim=True),
    "mean": lambda x: x.mean((0, 1)),
    "max_dim": lambda x: x.max(1)[0],
    "min_all": lambda x: x.min(),
    "reshape_transpose": lambda x: x.reshape(4, 3).t() * 1,
    "permute_index": lambda x: x.permute(1, 0)[1:, [0, 2, 2]],
    "bool_mask_index": lambda x: x[x > 0],
    "cast": lambda x: x.float().double(),
    "cat_stack": lambda x: kernn.cat([x, kernn.stack([x[0], x[1]], 0)], 0),
    "where": lambda x: kernn.where(x > 0, x * 2, x * x),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops(name, rng):
    a = _away_from_zero(rng, (3, 4))
    if name == "clamp":
        a = np.where(np.abs(a - 0.45) < 0.05, a + 0.1, a)
        a = np.where(np.abs(a + 0.55) < 0.05, a + 0.1, a)
    if name == "hardtanh":
        a = np.where(np.abs(np.abs(a) - 1.0) < 0.05, a * 1.1, a)
    if name == "relu6":  # kinks of relu6(4 a) at a = 0 and 1.5
        a = np.where(np.abs(a - 1.5) < 0.05, a + 0.1, a)
    if name == "softplus":  # beta * x == threshold at 1.5: a jump in the second derivative
        a = np.where(np.abs(a - 1.5) < 0.05, a + 0.1, a)
    if name == "cast":
        # float32 round trip: only exact on float32-representable values, at a coarse step.
        a = a.astype(np.float32).astype(np.float64)
        assert gradcheck(UNARY[name], (_t(a),), eps=1e-3, atol=1e-3)
        return
    assert gradcheck(UNARY[name], (_t(a),))


def test_matmul_all_ranks(rng):
    for sa, sb in [((3, 4), (4, 5)), ((4,), (4, 2)), ((3, 4), (4,)), ((2, 3, 4), (4, 2))]:
        assert gradcheck(lambda a, b: a @ b, (_t(rng.standard_normal(sa)),
                                              _t(rng.standard_normal(sb))))


@pytest.mark.parametrize("fused", [False, True])
def test_linear(fused, rng):
    x = _t(_away_from_zero(rng, (5, 3)))
    w = _t(rng.standard_normal((4, 3)))
    b = _t(rng.standard_normal(4))
    fn = F.linear_relu if fused else F.linear
    # Keep pre-activations away from ReLU's kink.
    z = x._data @ w._data.T + b._data
    b._data[...] -= np.where(np.abs(z) < 0.05, 0.1, 0).max(0)
    assert gradcheck(fn, (x, w, b))
    assert gradcheck(lambda xx, ww: fn(xx, ww), (x, w))


@pytest.mark.parametrize("shape,normalized_shape", [((4, 5), (5,)), ((2, 3, 4), (3, 4)),
                                                    ((2, 1, 3, 2), (1, 3, 2))])
def test_layer_norm(shape, normalized_shape, rng):
    x = _t(rng.standard_normal(shape))
    w = _t(rng.uniform(0.5, 1.5, normalized_shape))
    b = _t(rng.standard_normal(normalized_shape))
    assert gradcheck(lambda x, w, b: F.layer_norm(x, normalized_shape, w, b), (x, w, b))
    assert gradcheck(lambda x: F.layer_norm(x, normalized_shape), (x,))


@pytest.mark.parametrize("indices", [[[2, 0, 5], [0, 0, 3]], [4, 4, 4], 1])
def test_embedding(indices, rng):
    # Without padding_idx: the padding row's zero gradient is by definition, not the
    # derivative (tests/nn/test_nn_embedding.py compares it with torch's).
    weight = _t(rng.standard_normal((6, 3)))
    index_tensor = kernn.tensor(np.array(indices))  # repeated indices add up
    assert gradcheck(lambda w: F.embedding(index_tensor, w), (weight,))


def test_dropout_with_fixed_mask(rng):
    x = _t(rng.standard_normal((4, 5)))

    def f(t):
        kernn.manual_seed(3)  # the same mask on every evaluation
        return F.dropout(t, 0.3, training=True)

    assert gradcheck(f, (x,))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses(reduction, rng):
    logits = _t(rng.standard_normal((5, 4)))
    target = kernn.tensor(np.array([0, 3, 1, -100, 2]))
    assert gradcheck(lambda z: F.cross_entropy(z, target, reduction=reduction), (logits,))
    assert gradcheck(lambda z: F.nll_loss(F.log_softmax(z, 1), target, reduction=reduction),
                     (logits,))
    p = _t(rng.uniform(0.1, 0.9, (3, 4)))
    y = kernn.tensor(rng.uniform(0, 1, (3, 4)))
    assert gradcheck(lambda q: F.binary_cross_entropy(q, y, reduction=reduction), (p,))
    assert gradcheck(lambda q: F.binary_cross_entropy_with_logits(q, y, reduction=reduction),
                     (_t(rng.standard_normal((3, 4))),))
    t = _t(rng.standard_normal((3, 4)))
    assert gradcheck(lambda q, r: F.mse_loss(q, r, reduction=reduction), (p, t))
    # L1, smooth L1 and Huber of d = x - t, with d away from L1's kink at 0 and from the
    # second-derivative jumps at |d| = beta / delta (gradient to the target too).
    x = _t(rng.standard_normal((3, 5)))
    d = _away_from_zero(rng, (3, 5), margin=0.05)
    d = np.where(np.abs(np.abs(d) - 0.5) < 0.05, d * 1.2, d)
    d = np.where(np.abs(np.abs(d) - 1.0) < 0.05, d * 1.2, d)
    t = _t(x._data - d)
    assert gradcheck(lambda q, r: F.l1_loss(q, r, reduction=reduction), (x, t))
    assert gradcheck(lambda q, r: F.smooth_l1_loss(q, r, reduction=reduction, beta=0.5), (x, t))
    assert gradcheck(lambda q, r: F.smooth_l1_loss(q, r, reduction=reduction, beta=0.0), (x, t))
    assert gradcheck(lambda q, r: F.huber_loss(q, r, reduction=reduction, delta=1.0), (x, t))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_class_losses_with_weight_and_label_smoothing(reduction, smoothing, rng):
    logits = _t(rng.standard_normal((6, 5)))
    target = kernn.tensor(np.array([0, 3, 1, -100, 2, 4]))
    weight = kernn.tensor(rng.uniform(0.1, 2.0, 5))
    assert gradcheck(lambda z: F.cross_entropy(z, target, weight=weight, reduction=reduction,
                                               label_smoothing=smoothing), (logits,))
    assert gradcheck(lambda z: F.cross_entropy(z, target, reduction=reduction,
                                               label_smoothing=smoothing), (logits,))
    assert gradcheck(lambda z: F.nll_loss(F.log_softmax(z, 1), target, weight=weight,
                                          reduction=reduction), (logits,))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_probability_targets(reduction, rng):
    # Both the logits and the target get a gradient, as torch's.
    logits = _t(rng.standard_normal((2, 4, 3)))
    probs = _t(rng.uniform(0.0, 1.0, (2, 4, 3)))
    weight = kernn.tensor(rng.uniform(0.1, 2.0, 4))
    assert gradcheck(lambda z, p: F.cross_entropy(z, p, weight=weight, reduction=reduction,
                                                  label_smoothing=0.3), (logits, probs))
    assert gradcheck(lambda z, p: F.cross_entropy(z, p, reduction=reduction), (logits, probs))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropies_with_weights(reduction, rng):
    p = _t(rng.uniform(0.1, 0.9, (3, 4)))
    y = kernn.tensor(rng.uniform(0, 1, (3, 4)))
    weight = kernn.tensor(rng.uniform(0.1, 2.0, (3, 1)))
    pos_weight = kernn.tensor(rng.uniform(0.1, 5.0, 4))
    assert gradcheck(lambda q: F.binary_cross_entropy(q, y, weight=weight, reduction=reduction),
                     (p,))
    x = _t(rng.standard_normal((3, 4)) * 3)
    assert gradcheck(lambda q: F.binary_cross_entropy_with_logits(
        q, y, weight=weight, reduction=reduction, pos_weight=pos_weight), (x,))
    assert gradcheck(lambda q: F.binary_cross_entropy_with_logits(
        q, y, reduction=reduction, pos_weight=pos_weight), (x,))


def test_cross_entropy_with_spatial_dims(rng):
    logits = _t(rng.standard_normal((2, 3, 2, 2)))
    target = kernn.tensor(rng.integers(0, 3, (2, 2, 2)))
    assert gradcheck(lambda z: F.cross_entropy(z, target), (logits,))


def test_sequential_mlp(rng):
    model = kernn.nn.Sequential(kernn.nn.Linear(3, 4), kernn.nn.Tanh(), kernn.nn.Linear(4, 2),
                                kernn.nn.Sigmoid()).double()
    x = _t(rng.standard_normal((2, 3)))
    params = list(model.parameters())

    def f(inp, *ps):
        return model(inp)

    assert gradcheck(f, (x, *params))
