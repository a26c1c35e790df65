"""Loss modules and functions against torch, including reductions, ignore_index and errors."""

import numpy as np
import pytest
import torch

import kernn
import kernn.nn as nn
from torch_compare import compare

REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("n,c", [(1, 2), (7, 10), (64, 3)])
def test_cross_entropy(reduction, n, c, float_dtype, rng):
    logits = rng.standard_normal((n, c)) * 3
    target = rng.integers(0, c, n)
    compare(lambda l, x, t: l.nn.CrossEntropyLoss(reduction=reduction)(x, t), [logits, target],
            dtype=float_dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_ignore_index(reduction, float_dtype, rng):
    logits = rng.standard_normal((6, 4))
    target = np.array([0, -100, 3, 2, -100, 1])
    compare(lambda l, x, t: l.nn.functional.cross_entropy(x, t, reduction=reduction), [logits, target],
            dtype=float_dtype)
    target = np.array([0, 5, 3, 2, 5, 1])
    compare(lambda l, x, t: l.nn.CrossEntropyLoss(ignore_index=5, reduction=reduction)(x, t),
            [logits, target], dtype=float_dtype)


def test_cross_entropy_spatial_and_unbatched(float_dtype, rng):
    logits = rng.standard_normal((2, 5, 3, 4))
    target = rng.integers(0, 5, (2, 3, 4))
    for reduction in REDUCTIONS:
        compare(lambda l, x, t: l.nn.functional.cross_entropy(x, t, reduction=reduction),
                [logits, target], dtype=float_dtype)
    compare(lambda l, x, t: l.nn.functional.cross_entropy(x, t), [rng.standard_normal(5),
                                                                  np.array(2)], dtype=float_dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss(reduction, float_dtype, rng):
    logits = rng.standard_normal((9, 5))
    target = rng.integers(0, 5, 9)
    target[2] = -100
    compare(lambda l, x, t: l.nn.NLLLoss(reduction=reduction)(l.nn.LogSoftmax(dim=1)(x), t),
            [logits, target], dtype=float_dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_and_bce_with_logits(reduction, float_dtype, rng):
    x = rng.standard_normal((5, 3)) * 4
    y = (rng.uniform(size=(5, 3)) > 0.5).astype(np.float64)
    compare(lambda l, a, t: l.nn.BCELoss(reduction=reduction)(l.sigmoid(a), t), [x, y],
            dtype=float_dtype, requires_grad=[True, False])
    compare(lambda l, a, t: l.nn.BCEWithLogitsLoss(reduction=reduction)(a, t), [x, y],
            dtype=float_dtype, requires_grad=[True, False])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_target_gradient_as_torch(reduction, weighted, float_dtype, rng):
    # torch differentiates the binary cross-entropies with respect to the target too: -logit(p),
    # unclamped (+-inf at p = 0 and 1), and -x or log_sigmoid(-x) - pos_weight log_sigmoid(x).
    p = np.concatenate([[0.0, 1.0, 0.5, 1e-30], rng.uniform(size=8)])
    x = np.concatenate([[0.0, 1e4, -1e4, 30.0], rng.standard_normal(8) * 4])
    y = rng.uniform(size=12)
    weight = [rng.uniform(0.0, 2.0, 12)] if weighted else []
    compare(lambda l, a, t, *w: l.nn.functional.binary_cross_entropy(
                a, t, weight=w[0] if w else None, reduction=reduction),
            [p, y, *weight], dtype=float_dtype, requires_grad=[False, True, False])
    for pos_weight in (None, rng.uniform(0.0, 5.0, 12)):
        compare(lambda l, a, t, *w: l.nn.functional.binary_cross_entropy_with_logits(
                    a, t, weight=w[0] if w else None, reduction=reduction,
                    pos_weight=None if pos_weight is None else l.tensor(pos_weight, dtype=a.dtype)),
                [x, y, *weight], dtype=float_dtype, requires_grad=[True, True, False])


def test_bce_target_that_requires_grad_must_have_the_input_dtype():
    p = kernn.tensor([0.25, 0.5])
    for loss in (nn.functional.binary_cross_entropy, nn.functional.binary_cross_entropy_with_logits):
        with pytest.raises(TypeError, match="target dtype kernn.float64 differs from input dtype "
                                            "kernn.float32"):
            loss(p, kernn.tensor([1.0, 0.0], dtype=kernn.float64, requires_grad=True))


def test_bce_clamps_log_like_torch(float_dtype):
    p = np.array([0.0, 1.0, 0.5, 1e-30])
    y = np.array([1.0, 0.0, 1.0, 1.0])
    compare(lambda l, a, t: l.nn.functional.binary_cross_entropy(a, t, reduction="none"), [p, y],
            dtype=float_dtype, requires_grad=[False, False], backward=False)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_loss_with_target_gradient(reduction, float_dtype, rng):
    x, y = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
    compare(lambda l, a, t: l.nn.MSELoss(reduction=reduction)(a, t), [x, y], dtype=float_dtype)


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_uint8_class_targets_as_torch(loss, rng):
    logits = rng.standard_normal((6, 4))
    target = rng.integers(0, 4, 6).astype(np.uint8)
    compare(lambda l, x, t: getattr(l.nn.functional, loss)(x.log_softmax(1), t), [logits, target])


def test_class_target_errors():
    logits = kernn.zeros(4, 3)
    with pytest.raises(TypeError, match="target.*int64"):
        nn.functional.cross_entropy(logits, kernn.zeros(4, dtype=kernn.int32))
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(5,\)"):
        nn.functional.cross_entropy(logits, kernn.zeros(5, dtype=kernn.int64))
    with pytest.raises(IndexError):
        nn.functional.cross_entropy(logits, kernn.tensor([0, 1, 2, 3]))
    with pytest.raises(ValueError, match="reduction"):
        nn.CrossEntropyLoss(reduction="avg")


def test_same_shape_target_errors():
    with pytest.raises(ValueError, match="mse_loss.*shape"):
        nn.functional.mse_loss(kernn.zeros(3), kernn.zeros(4))
    with pytest.raises(ValueError, match="binary_cross_entropy.*shape"):
        nn.BCELoss()(kernn.zeros(3), kernn.zeros(3, 1))


def test_loss_times_scalar_backward(rng):
    x = rng.standard_normal((3, 4))
    t = rng.integers(0, 4, 3)
    compare(lambda l, a, b: l.nn.functional.cross_entropy(a, b) * 0.5 + 1, [x, t])


# ---- weight, label_smoothing, probability targets, pos_weight ------------------------------
# compare's default tolerances (torch_compare.TOLERANCES): float32 allows for kernn summing in
# double and in another order than torch; float64 is tight.

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.15])
@pytest.mark.parametrize("n,c", [(1, 1), (1, 4), (9, 5), (33, 7)])
def test_cross_entropy_weight_and_label_smoothing(reduction, smoothing, n, c, float_dtype, rng):
    logits = rng.standard_normal((n, c)) * 3
    target = rng.integers(0, c, n)
    target[::4] = -100
    weight = rng.uniform(0.0, 2.0, c)
    compare(lambda l, x, t, w: l.nn.CrossEntropyLoss(weight=w, reduction=reduction,
                                                     label_smoothing=smoothing)(x, t),
            [logits, target, weight], dtype=float_dtype, requires_grad=[True, False, False])
    compare(lambda l, x, t: l.nn.functional.cross_entropy(x, t, reduction=reduction,
                                                          label_smoothing=smoothing),
            [logits, target], dtype=float_dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_weight_smoothing_ignore_index_and_extreme_logits(reduction, float_dtype,
                                                                         rng):
    logits = rng.standard_normal((6, 3)) * 1e4
    target = np.array([0, 2, 1, 2, 1, 0])
    weight = np.array([0.0, 2.5, 0.5])
    compare(lambda l, x, t, w: l.nn.functional.cross_entropy(
                x, t, weight=w, ignore_index=2, reduction=reduction, label_smoothing=0.3),
            [logits, target, weight], dtype=float_dtype, requires_grad=[True, False, False])


def test_cross_entropy_all_ignored_or_zero_weight_mean_is_nan(float_dtype, rng):
    logits = rng.standard_normal((4, 3))
    for target, weight in [(np.full(4, -100), np.ones(3)), (np.zeros(4, np.int64), np.eye(3)[1])]:
        k_out, _, _, _ = compare(
            lambda l, x, t, w: l.nn.functional.cross_entropy(x, t, weight=w, label_smoothing=0.1),
            [logits, target, weight], dtype=float_dtype, requires_grad=[True, False, False])
        assert np.isnan(k_out[0].item())


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_options_spatial_and_unbatched(reduction, float_dtype, rng):
    logits = rng.standard_normal((2, 5, 3, 4))
    target = rng.integers(0, 5, (2, 3, 4))
    target[0, 1] = -100
    weight = rng.uniform(0.1, 2.0, 5)
    compare(lambda l, x, t, w: l.nn.functional.cross_entropy(x, t, weight=w, reduction=reduction,
                                                             label_smoothing=0.2),
            [logits, target, weight], dtype=float_dtype, requires_grad=[True, False, False])
    compare(lambda l, x, t, w: l.nn.functional.cross_entropy(x, t, weight=w, reduction=reduction,
                                                             label_smoothing=0.2),
            [rng.standard_normal(5), np.array(3), weight], dtype=float_dtype,
            requires_grad=[True, False, False])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(1, 3), (8, 5), (5,), (2, 5, 3, 2)])
@pytest.mark.parametrize("weighted,smoothing", [(False, 0.0), (True, 0.0), (True, 0.25)])
def test_cross_entropy_probability_targets(reduction, shape, weighted, smoothing, float_dtype,
                                           rng):
    logits = rng.standard_normal(shape) * 2
    probs = rng.uniform(0.0, 1.0, shape)  # torch does not require them to sum to 1
    classes = shape[1] if len(shape) > 1 else shape[0]
    weight = rng.uniform(0.1, 2.0, classes) if weighted else None
    # The target requires grad too: torch differentiates the loss with respect to it.
    compare(lambda l, x, p, *w: l.nn.CrossEntropyLoss(weight=w[0] if w else None,
                                                      reduction=reduction,
                                                      label_smoothing=smoothing)(x, p),
            [logits, probs] + ([weight] if weighted else []), dtype=float_dtype,
            requires_grad=[True, True, False])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(4, 0), (2, 0, 3), (0, 3, 2)])
def test_cross_entropy_probability_targets_of_no_elements(reduction, shape, float_dtype):
    # No classes, or no samples: 'mean' is NaN as torch's; (N, 0, d) has rows to reshape too.
    compare(lambda l, x, p: l.nn.functional.cross_entropy(x, p, reduction=reduction),
            [np.zeros(shape), np.zeros(shape)], dtype=float_dtype)


def test_cross_entropy_probability_target_without_its_gradient(float_dtype, rng):
    compare(lambda l, x, p: l.nn.functional.cross_entropy(x, p, label_smoothing=0.1),
            [rng.standard_normal((4, 3)), rng.dirichlet(np.ones(3), 4)], dtype=float_dtype,
            requires_grad=[True, False])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_weight(reduction, float_dtype, rng):
    logits = rng.standard_normal((9, 5))
    target = rng.integers(0, 5, 9)
    target[2] = -100
    weight = rng.uniform(0.0, 2.0, 5)
    compare(lambda l, x, t, w: l.nn.NLLLoss(weight=w, reduction=reduction)(
                l.nn.LogSoftmax(dim=1)(x), t),
            [logits, target, weight], dtype=float_dtype, requires_grad=[True, False, False])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight_shape", [(3,), (5, 1), (5, 3), (1, 1)])
def test_bce_weight_broadcasts(reduction, weight_shape, float_dtype, rng):
    x = rng.standard_normal((5, 3)) * 4
    y = (rng.uniform(size=(5, 3)) > 0.5).astype(np.float64)
    weight = rng.uniform(0.0, 2.0, weight_shape)
    compare(lambda l, a, t, w: l.nn.BCELoss(weight=w, reduction=reduction)(l.sigmoid(a), t),
            [x, y, weight], dtype=float_dtype, requires_grad=[True, False, False])
    compare(lambda l, a, t, w: l.nn.BCEWithLogitsLoss(weight=w, reduction=reduction)(a, t),
            [x, y, weight], dtype=float_dtype, requires_grad=[True, False, False])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(7, 3), (1, 1), (2, 4, 5)])
def test_bce_with_logits_pos_weight_per_class(reduction, shape, float_dtype, rng):
    x = rng.standard_normal(shape) * 4
    x.flat[0], x.flat[-1] = 1e4, -1e4
    y = rng.uniform(size=shape)
    pos_weight = rng.uniform(0.0, 5.0, shape[-1])
    weight = rng.uniform(0.0, 2.0, shape[-1:])
    compare(lambda l, a, t, pw: l.nn.BCEWithLogitsLoss(pos_weight=pw, reduction=reduction)(a, t),
            [x, y, pos_weight], dtype=float_dtype, requires_grad=[True, False, False])
    compare(lambda l, a, t, w, pw: l.nn.functional.binary_cross_entropy_with_logits(
                a, t, weight=w, reduction=reduction, pos_weight=pw),
            [x, y, weight, pos_weight], dtype=float_dtype,
            requires_grad=[True, False, False, False])


def test_loss_weights_are_buffers_as_torch(rng):
    weight = kernn.tensor(rng.uniform(0.5, 2.0, 3).astype(np.float32))
    loss = nn.CrossEntropyLoss(weight=weight, label_smoothing=0.1)
    assert list(loss.state_dict()) == ["weight"]
    loss.double()
    assert loss.weight.dtype == kernn.float64
    logits = kernn.tensor(rng.standard_normal((4, 3)))
    loss(logits, kernn.tensor([0, 1, 2, 1]))  # the weight follows the model's dtype
    assert list(nn.BCEWithLogitsLoss(pos_weight=weight).state_dict()) == ["pos_weight"]
    assert list(nn.CrossEntropyLoss().state_dict()) == []


def test_loss_option_errors():
    logits = kernn.zeros(4, 3)
    target = kernn.tensor([0, 1, 2, 1])
    F = nn.functional
    with pytest.raises(ValueError, match=r"cross_entropy: argument 'weight' has shape \(4,\).*\(3,\)"):
        F.cross_entropy(logits, target, weight=kernn.ones(4))
    with pytest.raises(TypeError, match=r"nll_loss: argument 'weight' has dtype kernn.float64.*kernn.float32"):
        F.nll_loss(logits, target, weight=kernn.ones(3, dtype=kernn.float64))
    with pytest.raises(TypeError, match=r"cross_entropy: argument 'weight' must be a kernn.Tensor"):
        F.cross_entropy(logits, target, weight=[1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match=r"cross_entropy: argument 'weight' requires grad"):
        nn.CrossEntropyLoss(weight=kernn.ones(3, requires_grad=True))(logits, target)
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match=r"cross_entropy: argument 'label_smoothing' must be in \[0, 1\]"):
            nn.CrossEntropyLoss(label_smoothing=bad)(logits, target)
    with pytest.raises(ValueError, match=r"cross_entropy: ignore_index=1 is not supported for class-probability"):
        F.cross_entropy(logits, kernn.zeros(4, 3), ignore_index=1)
    with pytest.raises(ValueError, match=r"binary_cross_entropy: argument 'weight' of shape \(2,\) does not broadcast to the input's shape \(4, 3\)"):
        nn.BCELoss(weight=kernn.ones(2))(kernn.full((4, 3), 0.5), kernn.zeros(4, 3))
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: argument 'pos_weight' of shape \(4,\)"):
        F.binary_cross_entropy_with_logits(logits, kernn.zeros(4, 3), pos_weight=kernn.ones(4))
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: argument 'weight' of shape \(2, 4, 3\)"):
        F.binary_cross_entropy_with_logits(logits, kernn.zeros(4, 3), weight=kernn.ones(2, 4, 3))


# ---- L1, smooth L1, Huber -----------------------------------------------------------------

# name -> module factory (torch's signature); the F forms are checked in test_difference_loss_
# functional_forms.
DIFFERENCE_LOSSES = {
    "L1Loss": lambda lib, red: lib.nn.L1Loss(reduction=red),
    "SmoothL1Loss": lambda lib, red: lib.nn.SmoothL1Loss(reduction=red),
    "SmoothL1Loss0.3": lambda lib, red: lib.nn.SmoothL1Loss(reduction=red, beta=0.3),
    "SmoothL1Loss0": lambda lib, red: lib.nn.SmoothL1Loss(reduction=red, beta=0.0),
    "HuberLoss": lambda lib, red: lib.nn.HuberLoss(reduction=red),
    "HuberLoss2.5": lambda lib, red: lib.nn.HuberLoss(reduction=red, delta=2.5),
    "MSELoss": lambda lib, red: lib.nn.MSELoss(reduction=red),
}


@pytest.mark.parametrize("name", sorted(DIFFERENCE_LOSSES))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(1,), (1, 1), (7, 13), (2, 3, 5), (17,), (1, 31)])
def test_difference_loss_matches_torch_with_target_gradient(name, reduction, shape, float_dtype,
                                                             rng):
    x, y = rng.standard_normal(shape) * 3, rng.standard_normal(shape)
    make = DIFFERENCE_LOSSES[name]
    compare(lambda l, a, t: make(l, reduction)(a, t), [x, y], dtype=float_dtype)


@pytest.mark.parametrize("name", sorted(DIFFERENCE_LOSSES))
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_difference_loss_at_kinks_and_extremes(name, reduction, float_dtype):
    # d = x - t: 0 (l1's kink), +-0.3 / +-1 / +-2.5 (beta's and delta's), and +-2e4.
    x = np.array([[0.0, 1.0, -1.0, 0.3, -0.3, 2.5, -2.5, 1e4, -1e4, 0.0]])
    y = np.array([[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -1e4, 1e4, -0.0]])
    make = DIFFERENCE_LOSSES[name]
    compare(lambda l, a, t: make(l, reduction)(a, t), [x, y], dtype=float_dtype)


@pytest.mark.parametrize("name", sorted(DIFFERENCE_LOSSES))
def test_difference_loss_non_contiguous_inputs(name, float_dtype, rng):
    x, y = rng.standard_normal((6, 9)), rng.standard_normal((9, 6))
    make = DIFFERENCE_LOSSES[name]
    compare(lambda l, a, t: make(l, "none")(a.t()[::2], t[::2]), [x, y], dtype=float_dtype)


def test_difference_loss_functional_forms(float_dtype, rng):
    x, y = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    compare(lambda l, a, t: l.nn.functional.l1_loss(a, t)
            + l.nn.functional.smooth_l1_loss(a, t, reduction="sum", beta=0.5)
            + l.nn.functional.huber_loss(a, t, "mean", 0.8)
            + l.nn.functional.huber_loss(a, t, delta=1.5).sum(), [x, y], dtype=float_dtype)


@pytest.mark.parametrize("loss", ["l1_loss", "smooth_l1_loss", "huber_loss", "mse_loss"])
@pytest.mark.parametrize("shapes", [((3, 1), (3,)), ((4, 3), (1, 3)), ((2, 3), ())])
def test_broadcast_target_warns_and_broadcasts_as_torch(loss, shapes, rng):
    x, y = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    with pytest.warns(UserWarning, match=r"target size .* different to the input size"):
        compare(lambda l, a, t: getattr(l.nn.functional, loss)(a, t), [x, y])


@pytest.mark.parametrize("loss", ["l1_loss", "smooth_l1_loss", "mse_loss"])
def test_mixed_float_dtypes_promote_as_torch(loss, rng):
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    for in_dtype, t_dtype in [(np.float32, np.float64), (np.float64, np.float32)]:
        k_x = kernn.tensor(x.astype(in_dtype), requires_grad=True)
        k_t = kernn.tensor(y.astype(t_dtype), requires_grad=True)
        t_x = torch.tensor(x.astype(in_dtype), requires_grad=True)
        t_t = torch.tensor(y.astype(t_dtype), requires_grad=True)
        k = getattr(kernn.nn.functional, loss)(k_x, k_t)
        t = getattr(torch.nn.functional, loss)(t_x, t_t)
        assert k.dtype == kernn.float64 and t.dtype == torch.float64
        np.testing.assert_allclose(k.item(), t.item(), rtol=1e-6)
        k.backward()
        t.backward()
        assert k_x.grad.numpy().dtype == in_dtype and k_t.grad.numpy().dtype == t_dtype
        np.testing.assert_allclose(k_x.grad.numpy(), t_x.grad.numpy(), rtol=1e-6)
        np.testing.assert_allclose(k_t.grad.numpy(), t_t.grad.numpy(), rtol=1e-6)


def test_huber_casts_a_target_of_another_dtype_as_torch(rng):
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    # torch's forward gives float32; its backward fails ("Found dtype Double but expected
    # Float"), so kernn's gradient is checked against the target cast first.
    compare(lambda l, a, t: l.nn.functional.huber_loss(a, t.double()), [x, y],
            dtype=np.float32, requires_grad=[True, False], backward=False)
    k_x = kernn.tensor(x.astype(np.float32), requires_grad=True)
    loss = nn.functional.huber_loss(k_x, kernn.tensor(y))
    assert loss.dtype == kernn.float32
    loss.backward()
    t_x = torch.tensor(x.astype(np.float32), requires_grad=True)
    torch.nn.functional.huber_loss(t_x, torch.tensor(y.astype(np.float32))).backward()
    np.testing.assert_array_equal(k_x.grad.numpy(), t_x.grad.numpy())
    with pytest.raises(TypeError, match=r"huber_loss: target dtype kernn.float64 differs from "
                                        r"input dtype kernn.float32"):
        nn.HuberLoss()(kernn.zeros(3), kernn.zeros(3, dtype=kernn.float64, requires_grad=True))


def test_integer_target_is_cast_to_the_input_dtype_as_torch():
    for loss in ("l1_loss", "smooth_l1_loss", "huber_loss", "mse_loss"):
        x = np.array([0.5, -1.0, 3.0], np.float32)
        k = getattr(kernn.nn.functional, loss)(kernn.tensor(x), kernn.tensor([1, 0, 2]))
        t = getattr(torch.nn.functional, loss)(torch.tensor(x), torch.tensor([1, 0, 2]))
        assert k.dtype == kernn.float32 and t.dtype == torch.float32
        np.testing.assert_allclose(k.item(), t.item(), rtol=1e-6)


def test_difference_loss_repr_and_errors():
    for make in (lambda lib: lib.nn.L1Loss(), lambda lib: lib.nn.SmoothL1Loss(beta=0.5),
                 lambda lib: lib.nn.HuberLoss(delta=2.0), lambda lib: lib.nn.HuberLoss("sum")):
        assert repr(make(kernn)) == repr(make(torch))
    assert nn.SmoothL1Loss(beta=0.5).beta == 0.5 and nn.HuberLoss(delta=2.0).delta == 2.0
    with pytest.raises(ValueError, match=r"smooth_l1_loss: argument 'beta' must be >= 0, got -1"):
        nn.functional.smooth_l1_loss(kernn.zeros(3), kernn.zeros(3), beta=-1)
    with pytest.raises(ValueError, match=r"SmoothL1Loss: argument 'beta'"):
        nn.SmoothL1Loss(beta=-0.5)
    with pytest.raises(ValueError, match=r"huber_loss: argument 'delta' must be > 0, got 0"):
        nn.functional.huber_loss(kernn.zeros(3), kernn.zeros(3), delta=0)
    with pytest.raises(ValueError, match=r"HuberLoss: argument 'delta'"):
        nn.HuberLoss(delta=-1.0)
    for loss in ("l1_loss", "huber_loss", "mse_loss"):
        with pytest.raises(NotImplementedError, match=rf"{loss}: 'weight' is not supported"):
            getattr(nn.functional, loss)(kernn.zeros(3), kernn.zeros(3), weight=kernn.ones(3))
    with pytest.raises(ValueError, match=r"L1Loss: argument 'reduction'.*'avg'"):
        nn.L1Loss(reduction="avg")
    with pytest.raises(ValueError, match=r"l1_loss: argument 'reduction'"):
        nn.functional.l1_loss(kernn.zeros(3), kernn.zeros(3), reduction="total")
    with pytest.raises(ValueError, match=r"smooth_l1_loss: target of shape \(4,\) must have the "
                                         r"input's shape \(3,\) \(or broadcast with it\)"):
        nn.functional.smooth_l1_loss(kernn.zeros(3), kernn.zeros(4))
    with pytest.raises(TypeError, match=r"l1_loss: argument 'input' must be a float32 or "
                                        r"float64 tensor, got kernn.int64"):
        nn.L1Loss()(kernn.tensor([1, 2]), kernn.zeros(2))
    with pytest.raises(TypeError, match=r"huber_loss: argument 'target' must be a float or "
                                        r"integer tensor, got dtype bool"):
        nn.HuberLoss()(kernn.zeros(2), kernn.tensor([True, False]))


def test_difference_loss_of_nothing_is_nan_as_torch():
    for loss in ("l1_loss", "smooth_l1_loss", "huber_loss"):
        k = getattr(kernn.nn.functional, loss)(kernn.zeros(0), kernn.zeros(0))
        t = getattr(torch.nn.functional, loss)(torch.zeros(0), torch.zeros(0))
        assert np.isnan(k.item()) and torch.isnan(t)
