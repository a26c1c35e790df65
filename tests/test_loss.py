"""Loss kernels of kernn._C against torch.nn.functional: forward values and gradients."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from kernn import _C
from kernel_check import (DTYPES, assert_close_to_torch, needs_avx512_loops,
                          same_under_1_and_2_threads, same_under_avx512_and_avx2, simd_loops,
                          to_torch)

REDUCTIONS = ["mean", "sum", "none"]

# torch sums float32 losses in float32 (pairwise); the kernels sum in double. The difference is
# torch's rounding error, a few ulp of the sum times log2(N): 1e-5 relative covers N up to ~1e4.
REDUCED_F32 = dict(rtol=1e-5, atol=1e-6)


def loss_tol(dtype, reduction):
    return REDUCED_F32 if dtype == np.float32 and reduction != "none" else {}


def upstream(reduction, per_sample_shape, dtype, rng):
    if reduction == "none":
        return rng.standard_normal(per_sample_shape).astype(dtype)
    return np.asarray(rng.uniform(0.5, 2.0), dtype=dtype)


def check_against_torch(torch_fn, kernel_fwd, kernel_bwd, inp, target, reduction, dtype, rng,
                        per_sample_shape, **torch_kwargs):
    """Runs torch_fn (with autograd) and the kernels; compares loss and input gradient."""
    loss = kernel_fwd(reduction)
    dloss = upstream(reduction, per_sample_shape, dtype, rng)
    grad = kernel_bwd(dloss, reduction)

    xt = to_torch(inp, requires_grad=True)
    lt = torch_fn(xt, target, reduction=reduction, **torch_kwargs)
    lt.backward(to_torch(dloss))
    assert_close_to_torch(loss, lt, **loss_tol(dtype, reduction))
    assert_close_to_torch(grad, xt.grad)
    return loss, grad


# ---- cross-entropy and NLL ----------------------------------------------------------------

CLASS_SHAPES = [(1, 1), (1, 10), (7, 3), (64, 10), (13, 257), (0, 5)]


def class_targets(rng, n, c, ignore_index=None, ignored_fraction=0.0):
    t = rng.integers(0, c, size=n).astype(np.int64) if c else np.zeros(n, np.int64)
    if ignore_index is not None:
        t[rng.uniform(size=n) < ignored_fraction] = ignore_index
    return t


def run_class_loss(name, inp, target, reduction, ignore_index, dtype, rng):
    torch_fn = F.cross_entropy if name == "cross_entropy" else F.nll_loss
    fwd = getattr(_C, f"{name}_forward")
    bwd = getattr(_C, f"{name}_backward")
    return check_against_torch(
        torch_fn,
        lambda red: fwd(inp, target, red, ignore_index),
        lambda dloss, red: bwd(inp, target, dloss, red, ignore_index),
        inp, torch.from_numpy(target), reduction, dtype, rng, (inp.shape[0],),
        ignore_index=ignore_index)


def class_input(name, rng, shape, dtype, scale=3.0):
    logits = rng.standard_normal(shape) * scale
    if name == "nll_loss":
        logits = torch.log_softmax(torch.from_numpy(logits), -1).numpy()
    return logits.astype(dtype)


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", CLASS_SHAPES)
def test_class_loss_matches_torch(name, dtype, reduction, shape):
    rng = np.random.default_rng([len(name), len(reduction), *shape])
    inp = class_input(name, rng, shape, dtype)
    target = class_targets(rng, *shape)
    run_class_loss(name, inp, target, reduction, -100, dtype, rng)


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("ignore_index", [-100, 2])
def test_class_loss_ignore_index_matches_torch(name, dtype, reduction, ignore_index):
    # ignore_index = 2 is also a valid class: rows targeting it are skipped, as torch.
    rng = np.random.default_rng(11)
    inp = class_input(name, rng, (37, 5), dtype)
    target = class_targets(rng, 37, 5, ignore_index, ignored_fraction=0.3)
    loss, grad = run_class_loss(name, inp, target, reduction, ignore_index, dtype, rng)
    assert np.all(grad[target == ignore_index] == 0)


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_class_loss_all_ignored_mean_is_nan_as_torch(name, dtype):
    rng = np.random.default_rng(12)
    inp = class_input(name, rng, (4, 3), dtype)
    target = np.full(4, -100, np.int64)
    loss, grad = run_class_loss(name, inp, target, "mean", -100, dtype, rng)
    assert np.isnan(loss) and np.all(grad == 0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_float32_cross_entropy_portable_build_matches_torch(reduction):
    # The AVX2 exp switched off: the portable build of the log-sum-exp.
    rng = np.random.default_rng(17)
    logits = class_input("cross_entropy", rng, (13, 37), np.float32)
    target = class_targets(rng, 13, 37)
    with simd_loops("portable"):
        run_class_loss("cross_entropy", logits, target, reduction, -100, np.float32, rng)


@needs_avx512_loops
@pytest.mark.parametrize("classes", [1, 10, 17, 32, 100, 128, 255, 256, 300])
def test_cross_entropy_avx512_build_gives_the_avx2_bits(classes):
    rng = np.random.default_rng(classes)
    logits = class_input("cross_entropy", rng, (9, classes), np.float32, scale=20.0)
    logits[1, 0] = np.nan
    target = class_targets(rng, 9, classes, ignore_index=-1, ignored_fraction=0.2)
    dloss = np.array(0.5, np.float32)
    same_under_avx512_and_avx2(lambda: tuple(
        f for reduction in REDUCTIONS for f in (
            _C.cross_entropy_forward(logits, target, reduction, -1),
            _C.cross_entropy_backward(logits, target,
                                      np.full(9, 0.5, np.float32) if reduction == "none"
                                      else dloss, reduction, -1))))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_extreme_logits_match_torch(dtype, reduction):
    logits = np.array([[1e4, -1e4, 0.0], [1e4, 1e4, -1e4], [-1e4, -1e4, -1e4], [0.0, 0.0, 0.0],
                       [88.0, 90.0, -90.0]], dtype=dtype)
    target = np.array([1, 0, 2, 1, 0], np.int64)
    rng = np.random.default_rng(13)
    loss, grad = run_class_loss("cross_entropy", logits, target, reduction, -100, dtype, rng)
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad))


# ---- class weights and label smoothing ----------------------------------------------------

# With weights or smoothing torch sums float32 in float32 in its own order (the smoothing term
# over C classes, then the weighted terms), the kernels in double: a few ulp times log2 of the
# terms summed, with sums of up to 257 classes and 37 rows. 1e-5 relative (plus 1e-6 for the
# terms that cancel to about 0, the gradients' w_t * (p_t - 1) - spread * w_t) covers it.
OPTIONS_F32 = dict(rtol=1e-5, atol=1e-6)


def options_tol(dtype):
    return OPTIONS_F32 if dtype == np.float32 else {}


def class_weights(rng, c, dtype, zeros=0):
    w = rng.uniform(0.1, 3.0, c)
    w[:zeros] = 0.0
    return w.astype(dtype)


def run_class_loss_with_options(name, inp, target, reduction, ignore_index, weight, smoothing,
                                dtype, rng):
    """The kernels against torch with weight (or None) and, for cross_entropy, smoothing."""
    options = dict(weight=weight)
    torch_options = dict(weight=None if weight is None else torch.from_numpy(weight))
    if name == "cross_entropy":
        options["label_smoothing"] = torch_options["label_smoothing"] = smoothing
    fwd = getattr(_C, f"{name}_forward")
    bwd = getattr(_C, f"{name}_backward")
    loss = fwd(inp, target, reduction, ignore_index, **options)
    dloss = upstream(reduction, (inp.shape[0],), dtype, rng)
    grad = bwd(inp, target, dloss, reduction, ignore_index, **options)
    xt = to_torch(inp, requires_grad=True)
    torch_fn = F.cross_entropy if name == "cross_entropy" else F.nll_loss
    lt = torch_fn(xt, torch.from_numpy(target), ignore_index=ignore_index, reduction=reduction,
                  **torch_options)
    lt.backward(to_torch(dloss))
    assert_close_to_torch(loss, lt, **options_tol(dtype))
    assert_close_to_torch(grad, xt.grad, **options_tol(dtype))
    return loss, grad


CLASS_OPTIONS = [  # (weighted, label_smoothing)
    (True, 0.0), (False, 0.1), (True, 0.1), (True, 1.0)]
# label_smoothing is cross_entropy's only.
NAMED_CLASS_OPTIONS = [("cross_entropy", *o) for o in CLASS_OPTIONS] + [("nll_loss", True, 0.0)]
NAMED_SMOOTHING = [("cross_entropy", 0.0), ("cross_entropy", 0.25), ("nll_loss", 0.0)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(1, 1), (1, 10), (7, 3), (37, 5), (13, 257), (0, 5)])
@pytest.mark.parametrize("name,weighted,smoothing", NAMED_CLASS_OPTIONS)
def test_class_loss_options_match_torch(name, dtype, reduction, shape, weighted, smoothing):
    rng = np.random.default_rng([len(name), len(reduction), *shape, int(smoothing * 10)])
    inp = class_input(name, rng, shape, dtype)
    target = class_targets(rng, *shape, ignore_index=-100, ignored_fraction=0.2)
    weight = class_weights(rng, shape[1], dtype) if weighted else None
    run_class_loss_with_options(name, inp, target, reduction, -100, weight, smoothing, dtype, rng)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,smoothing", NAMED_SMOOTHING)
def test_class_loss_zero_weights_and_ignore_index_match_torch(name, dtype, reduction, smoothing):
    # ignore_index = 1 is a class: its rows are skipped, and classes 0 and 1 weigh nothing, so
    # rows targeting class 0 count for nothing in 'mean' but still get the smoothing gradient.
    rng = np.random.default_rng(21)
    inp = class_input(name, rng, (41, 7), dtype)
    target = class_targets(rng, 41, 7, ignore_index=1, ignored_fraction=0.3)
    weight = class_weights(rng, 7, dtype, zeros=2)
    loss, grad = run_class_loss_with_options(name, inp, target, reduction, 1, weight, smoothing,
                                             dtype, rng)
    assert np.all(grad[target == 1] == 0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,smoothing", NAMED_SMOOTHING)
@pytest.mark.parametrize("case", ["all_ignored", "zero_weight_sum"])
def test_class_loss_weighted_mean_of_nothing_is_nan_as_torch(name, dtype, smoothing, case):
    # 'mean' divides by the summed weight of the counted rows: 0 / 0 = NaN either way; the
    # gradient is 0 on ignored rows and NaN on counted rows of weight 0 (torch's -g / 0 * 0).
    rng = np.random.default_rng(22)
    inp = class_input(name, rng, (5, 3), dtype)
    if case == "all_ignored":
        target = np.full(5, -100, np.int64)
        weight = class_weights(rng, 3, dtype)
    else:
        target = np.array([0, 0, -100, 0, 0], np.int64)
        weight = np.array([0.0, 1.0, 2.0], dtype)
    loss, grad = run_class_loss_with_options(name, inp, target, "mean", -100, weight, smoothing,
                                             dtype, rng)
    assert np.isnan(loss)
    assert np.all(grad[target == -100] == 0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_class_index_cross_entropy_without_classes_matches_torch(dtype, reduction, smoothing):
    # Without classes every target must be ignored. torch's smoothing term is then 0 * e / 0:
    # NaN for each row ('none') and their sum; 0 without smoothing.
    logits = np.zeros((3, 0), dtype)
    target = np.full(3, -100)
    loss = _C.cross_entropy_forward(logits, target, reduction, -100, None, smoothing)
    expected = F.cross_entropy(to_torch(logits), to_torch(target), reduction=reduction,
                               label_smoothing=smoothing)
    assert_close_to_torch(loss, expected)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_options_extreme_logits_match_torch(dtype, reduction, smoothing):
    logits = np.array([[1e4, -1e4, 0.0], [1e4, 1e4, -1e4], [-1e4, -1e4, -1e4], [0.0, 0.0, 0.0],
                       [88.0, 90.0, -90.0]], dtype=dtype)
    target = np.array([1, 0, 2, 1, 0], np.int64)
    weight = np.array([0.5, 2.0, 1.5], dtype)
    rng = np.random.default_rng(23)
    loss, grad = run_class_loss_with_options("cross_entropy", logits, target, reduction, -100,
                                             weight, smoothing, dtype, rng)
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad))


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_class_loss_unit_weights_give_the_unweighted_bits(name, dtype, reduction):
    # The options only multiply by w = 1 (exact): the no-option results, bit for bit.
    rng = np.random.default_rng(24)
    inp = class_input(name, rng, (29, 11), dtype)
    target = class_targets(rng, 29, 11, ignore_index=-100, ignored_fraction=0.2)
    dloss = upstream(reduction, (29,), dtype, rng)
    fwd = getattr(_C, f"{name}_forward")
    bwd = getattr(_C, f"{name}_backward")
    ones = np.ones(11, dtype)
    np.testing.assert_array_equal(fwd(inp, target, reduction, -100, ones),
                                  fwd(inp, target, reduction, -100))
    np.testing.assert_array_equal(bwd(inp, target, dloss, reduction, -100, ones),
                                  bwd(inp, target, dloss, reduction, -100))


# ---- cross-entropy against class probabilities --------------------------------------------

def run_soft_cross_entropy(logits, probs, reduction, weight, smoothing, dtype, rng):
    """The kernels against torch, gradients of the logits and of the target included."""
    loss = _C.cross_entropy_soft_forward(logits, probs, reduction, weight, smoothing)
    dloss = upstream(reduction, (logits.shape[0],), dtype, rng)
    dlogits, dprobs = _C.cross_entropy_soft_backward(logits, probs, dloss, reduction, weight,
                                                     smoothing, target_grad=True)
    xt = to_torch(logits, requires_grad=True)
    pt = to_torch(probs, requires_grad=True)
    lt = F.cross_entropy(xt, pt, weight=None if weight is None else torch.from_numpy(weight),
                         reduction=reduction, label_smoothing=smoothing)
    lt.backward(to_torch(dloss))
    assert_close_to_torch(loss, lt, **options_tol(dtype))
    assert_close_to_torch(dlogits, xt.grad, **options_tol(dtype))
    assert_close_to_torch(dprobs, pt.grad, **options_tol(dtype))
    return loss, dlogits, dprobs


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(1, 1), (1, 10), (7, 3), (13, 257), (0, 5)])
@pytest.mark.parametrize("weighted,smoothing", [(False, 0.0)] + CLASS_OPTIONS)
def test_soft_cross_entropy_matches_torch(dtype, reduction, shape, weighted, smoothing):
    rng = np.random.default_rng([len(reduction), *shape, int(smoothing * 10), weighted])
    logits = class_input("cross_entropy", rng, shape, dtype)
    probs = rng.dirichlet(np.ones(shape[1]), shape[0]).astype(dtype) if shape[1] else \
        np.zeros(shape, dtype)
    weight = class_weights(rng, shape[1], dtype, zeros=1) if weighted else None
    run_soft_cross_entropy(logits, probs, reduction, weight, smoothing, dtype, rng)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_soft_cross_entropy_extreme_logits_and_unnormalised_targets_match_torch(dtype,
                                                                               reduction):
    # torch does not require the probabilities to sum to 1, nor to be >= 0.
    logits = np.array([[1e4, -1e4, 0.0], [1e4, 1e4, -1e4], [-1e4, -1e4, -1e4], [0.0, 0.0, 0.0]],
                      dtype=dtype)
    probs = np.array([[0.0, 1.0, 0.0], [0.5, 0.5, 0.0], [2.0, -1.0, 0.5], [0.0, 0.0, 0.0]], dtype)
    weight = np.array([0.5, 2.0, 1.5], dtype)
    rng = np.random.default_rng(25)
    loss, dlogits, _ = run_soft_cross_entropy(logits, probs, reduction, weight, 0.1, dtype, rng)
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(dlogits))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_soft_cross_entropy_without_classes_matches_torch(dtype, reduction, smoothing):
    # Rows without classes: torch's 'mean' of an input with no elements is NaN, not 0 / N.
    logits = np.zeros((4, 0), dtype)
    run_soft_cross_entropy(logits, logits.copy(), reduction, None, smoothing, dtype,
                           np.random.default_rng(27))


def test_soft_cross_entropy_one_hot_target_is_the_class_index_loss():
    rng = np.random.default_rng(26)
    logits = rng.standard_normal((9, 4))
    target = class_targets(rng, 9, 4)
    weight = class_weights(rng, 4, np.float64)
    one_hot = np.eye(4)[target]
    # 'sum': the class-index 'mean' divides by the weights, the probability one by N.
    np.testing.assert_allclose(
        _C.cross_entropy_soft_forward(logits, one_hot, "none", weight, 0.2),
        _C.cross_entropy_forward(logits, target, "none", -100, weight, 0.2), rtol=1e-14)
    dloss = np.array(1.5)
    dlogits, dtarget = _C.cross_entropy_soft_backward(logits, one_hot, dloss, "sum", weight, 0.2)
    assert dtarget is None
    np.testing.assert_allclose(
        dlogits, _C.cross_entropy_backward(logits, target, dloss, "sum", -100, weight, 0.2),
        rtol=1e-13, atol=1e-15)


# ---- element-wise losses ------------------------------------------------------------------

# name -> (torch function, kernel stem, the kernel's options after the reduction)
POINTWISE = {
    "bce": (F.binary_cross_entropy, "bce", ()),
    "bce_with_logits": (F.binary_cross_entropy_with_logits, "bce_with_logits", ()),
    "mse": (F.mse_loss, "mse", ()),
    "l1": (F.l1_loss, "l1", ()),
    "smooth_l1": (F.smooth_l1_loss, "smooth_l1", (1.0,)),
    "smooth_l1_beta": (lambda *a, **k: F.smooth_l1_loss(*a, beta=0.3, **k), "smooth_l1", (0.3,)),
    "smooth_l1_beta0": (lambda *a, **k: F.smooth_l1_loss(*a, beta=0.0, **k), "smooth_l1",
                        (0.0,)),
    "huber": (F.huber_loss, "huber", ()),
    "huber_delta": (lambda *a, **k: F.huber_loss(*a, delta=2.5, **k), "huber", (2.5,)),
}
POINTWISE_SHAPES = [(1,), (13,), (64, 1), (3, 7, 5), (0,), (211, 173)]


def pointwise_kernels(name):
    """(forward(x, t, reduction), backward(x, t, dloss, reduction)) of a POINTWISE entry."""
    _, stem, options = POINTWISE[name]
    if stem in ("smooth_l1", "huber") and not options:
        options = (1.0,)  # torch's default beta / delta
    fwd, bwd = getattr(_C, f"{stem}_forward"), getattr(_C, f"{stem}_backward")
    return (lambda x, t, red: fwd(x, t, red, *options),
            lambda x, t, dloss, red: bwd(x, t, dloss, red, *options))


def pointwise_inputs(name, rng, shape, dtype):
    if name == "bce":
        x = rng.uniform(0.0, 1.0, shape)
        t = rng.uniform(0.0, 1.0, shape)
    else:
        x = rng.standard_normal(shape) * 4
        t = rng.uniform(0.0, 1.0, shape) if name == "bce_with_logits" else rng.standard_normal(shape)
    return x.astype(dtype), t.astype(dtype)


def run_pointwise(name, x, t, reduction, dtype, rng):
    fwd, bwd = pointwise_kernels(name)
    return check_against_torch(
        POINTWISE[name][0],
        lambda red: fwd(x, t, red),
        lambda dloss, red: bwd(x, t, dloss, red),
        x, torch.from_numpy(t), reduction, dtype, rng, x.shape)


@pytest.mark.parametrize("name", POINTWISE)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", POINTWISE_SHAPES)
def test_pointwise_loss_matches_torch(name, dtype, reduction, shape):
    rng = np.random.default_rng([len(name), len(reduction), *shape])
    x, t = pointwise_inputs(name, rng, shape, dtype)
    run_pointwise(name, x, t, reduction, dtype, rng)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_probabilities_exactly_0_and_1_match_torch(dtype, reduction):
    # log(0) is clamped at -100, so the loss is finite; the gradient's denominator is clamped at
    # 1e-12, so it is finite too (+-1e12 where p and target disagree), exactly as torch.
    p = np.array([0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1e-30, 0.5], dtype=dtype)
    t = np.array([0.0, 1.0, 0.0, 1.0, 0.3, 0.7, 1.0, 0.5], dtype=dtype)
    rng = np.random.default_rng(14)
    loss, grad = run_pointwise("bce", p, t, reduction, dtype, rng)
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_extreme_inputs_match_torch(dtype, reduction):
    x = np.array([-1e4, -1e4, 1e4, 1e4, -100.0, 100.0, 0.0, -20.0, 20.0], dtype=dtype)
    t = np.array([0.0, 1.0, 0.0, 1.0, 0.5, 0.5, 1.0, 0.0, 1.0], dtype=dtype)
    rng = np.random.default_rng(15)
    loss, grad = run_pointwise("bce_with_logits", x, t, reduction, dtype, rng)
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad))


@pytest.mark.parametrize("name", POINTWISE)
def test_empty_mean_is_nan_as_torch(name):
    x = np.zeros(0)
    assert np.isnan(pointwise_kernels(name)[0](x, x, "mean"))
    assert np.isnan(POINTWISE[name][0](torch.from_numpy(x), torch.from_numpy(x)).item())


@pytest.mark.parametrize("name", ["l1", "smooth_l1_beta", "smooth_l1_beta0", "huber_delta"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_difference_losses_at_their_kinks_and_extremes_match_torch(name, dtype, reduction):
    # d = x - t exactly 0, +-beta (0.3: not exact in binary, but x - t rounds to the same
    # value in both), +-delta (2.5), and |d| ~ 1e4.
    x = np.array([0.0, 1.0, 0.3, -0.3, 2.5, -2.5, 1e4, -1e4, 5.0, -0.0], dtype=dtype)
    t = np.array([0.0, 1.0, 0.0, 0.0, 0.0, 0.0, -1e4, 1e4, 5.0, 0.0], dtype=dtype)
    rng = np.random.default_rng(17)
    loss, grad = run_pointwise(name, x, t, reduction, dtype, rng)
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad))


# torch broadcasts weight and pos_weight to the input (the callers do, before the kernels).
# (kernel, weight given, pos_weight given); pos_weight is bce_with_logits' only.
BCE_WEIGHTS = [("bce", True, False), ("bce_with_logits", True, False),
               ("bce_with_logits", False, True), ("bce_with_logits", True, True)]


def run_weighted_bce(name, x, t, weight, pos_weight, reduction, dtype, rng):
    options = dict(weight=weight)
    torch_options = dict(weight=None if weight is None else torch.from_numpy(weight))
    if name == "bce_with_logits":
        options["pos_weight"] = pos_weight
        torch_options["pos_weight"] = None if pos_weight is None else torch.from_numpy(pos_weight)
    loss = getattr(_C, f"{name}_forward")(x, t, reduction, **options)
    dloss = upstream(reduction, x.shape, dtype, rng)
    grad = getattr(_C, f"{name}_backward")(x, t, dloss, reduction, **options)
    xt = to_torch(x, requires_grad=True)
    lt = POINTWISE[name][0](xt, torch.from_numpy(t), reduction=reduction, **torch_options)
    lt.backward(to_torch(dloss))
    assert_close_to_torch(loss, lt, **loss_tol(dtype, reduction))
    assert_close_to_torch(grad, xt.grad)
    return loss, grad


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(1,), (13,), (3, 7, 5), (0,)])
@pytest.mark.parametrize("name,has_weight,has_pos_weight", BCE_WEIGHTS)
def test_weighted_bce_matches_torch(name, dtype, reduction, shape, has_weight, has_pos_weight):
    rng = np.random.default_rng([len(name), len(reduction), *shape, has_weight, has_pos_weight])
    x, t = pointwise_inputs(name, rng, shape, dtype)
    weight = rng.uniform(0.0, 3.0, shape).astype(dtype) if has_weight else None
    pos_weight = rng.uniform(0.0, 5.0, shape).astype(dtype) if has_pos_weight else None
    run_weighted_bce(name, x, t, weight, pos_weight, reduction, dtype, rng)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weighted_bce_with_logits_extreme_inputs_match_torch(dtype, reduction):
    x = np.array([-1e4, -1e4, 1e4, 1e4, -100.0, 100.0, 0.0, -20.0, 20.0], dtype=dtype)
    t = np.array([0.0, 1.0, 0.0, 1.0, 0.5, 0.5, 1.0, 0.0, 1.0], dtype=dtype)
    weight = np.array([1.0, 0.0, 2.0, 0.5, 1.0, 3.0, 1.0, 0.25, 1.0], dtype=dtype)
    pos_weight = np.array([3.0, 3.0, 0.0, 10.0, 2.0, 0.5, 1.0, 4.0, 4.0], dtype=dtype)
    rng = np.random.default_rng(27)
    loss, grad = run_weighted_bce("bce_with_logits", x, t, weight, pos_weight, reduction, dtype,
                                  rng)
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weighted_bce_probabilities_exactly_0_and_1_match_torch(dtype, reduction):
    p = np.array([0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1e-30, 0.5], dtype=dtype)
    t = np.array([0.0, 1.0, 0.0, 1.0, 0.3, 0.7, 1.0, 0.5], dtype=dtype)
    weight = np.array([2.0, 0.0, 0.5, 1.0, 3.0, 1.0, 0.1, 4.0], dtype=dtype)
    rng = np.random.default_rng(28)
    run_weighted_bce("bce", p, t, weight, None, reduction, dtype, rng)


# ---- threads ------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_same_bits_with_1_and_2_threads(dtype, reduction):
    rng = np.random.default_rng(16)
    logits = rng.standard_normal((3001, 23)).astype(dtype)
    target = class_targets(rng, 3001, 23, -100, ignored_fraction=0.1)
    dloss_rows = upstream(reduction, (3001,), dtype, rng)
    x, t = pointwise_inputs("bce", rng, (70001,), dtype)
    dloss_elems = upstream(reduction, x.shape, dtype, rng)

    weight = class_weights(rng, 23, dtype, zeros=1)
    probs = rng.dirichlet(np.ones(23), 3001).astype(dtype)
    x_weight = rng.uniform(0.0, 2.0, x.shape).astype(dtype)

    def run():
        out = []
        for name in ("cross_entropy", "nll_loss"):
            for w in (None, weight):
                out.append(getattr(_C, f"{name}_forward")(logits, target, reduction, -100, w))
                out.append(getattr(_C, f"{name}_backward")(logits, target, dloss_rows, reduction,
                                                           -100, w))
        out.append(_C.cross_entropy_forward(logits, target, reduction, -100, weight, 0.1))
        out.append(_C.cross_entropy_backward(logits, target, dloss_rows, reduction, -100, weight,
                                             0.1))
        out.append(_C.cross_entropy_soft_forward(logits, probs, reduction, weight, 0.1))
        out.extend(_C.cross_entropy_soft_backward(logits, probs, dloss_rows, reduction, weight,
                                                  0.1, target_grad=True))
        for name in POINTWISE:
            fwd, bwd = pointwise_kernels(name)
            out.append(fwd(x, t, reduction))
            out.append(bwd(x, t, dloss_elems, reduction))
        out.append(_C.bce_forward(x, t, reduction, x_weight))
        out.append(_C.bce_backward(x, t, dloss_elems, reduction, x_weight))
        out.append(_C.bce_with_logits_forward(x, t, reduction, x_weight, x_weight))
        out.append(_C.bce_with_logits_backward(x, t, dloss_elems, reduction, x_weight, x_weight))
        return tuple(out)

    same_under_1_and_2_threads(run)


# ---- bad inputs ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("bad", [5, -1, 2**40])
def test_out_of_range_target_raises_index_error(name, bad):
    logits = np.zeros((3, 5))
    target = np.array([0, bad, 1], np.int64)
    with pytest.raises(IndexError, match=rf"{name}_forward.*'target'.*{bad}.*C = 5"):
        getattr(_C, f"{name}_forward")(logits, target, "mean", -100)
    with pytest.raises(IndexError, match=rf"{name}_backward.*'target'.*{bad}.*C = 5"):
        getattr(_C, f"{name}_backward")(logits, target, np.array(1.0), "mean", -100)


def test_class_loss_argument_errors():
    logits = np.zeros((3, 5))
    target = np.zeros(3, np.int64)
    with pytest.raises(TypeError, match=r"cross_entropy_forward.*'target'.*int32.*int64"):
        _C.cross_entropy_forward(logits, target.astype(np.int32), "mean", -100)
    with pytest.raises(ValueError, match=r"cross_entropy_forward.*'target'.*\(4,\).*\(3,\)"):
        _C.cross_entropy_forward(logits, np.zeros(4, np.int64), "mean", -100)
    with pytest.raises(ValueError, match=r"nll_loss_forward.*'logp'.*\(5,\).*2 dimensions"):
        _C.nll_loss_forward(np.zeros(5), target, "sum", -100)
    with pytest.raises(ValueError, match=r"cross_entropy_forward.*'reduction'.*'avg'"):
        _C.cross_entropy_forward(logits, target, "avg", -100)
    with pytest.raises(ValueError, match=r"cross_entropy_backward.*'dloss'.*\(3,\).*\(\)"):
        _C.cross_entropy_backward(logits, target, np.ones(3), "mean", -100)
    with pytest.raises(ValueError, match=r"cross_entropy_backward.*'dloss'.*\(\).*\(3,\)"):
        _C.cross_entropy_backward(logits, target, np.array(1.0), "none", -100)
    with pytest.raises(TypeError, match=r"cross_entropy_backward.*'dloss'.*float32"):
        _C.cross_entropy_backward(logits, target, np.array(1.0, np.float32), "sum", -100)


def test_pointwise_loss_argument_errors():
    x = np.full((2, 3), 0.5)
    with pytest.raises(ValueError, match=r"mse_forward.*'x' \(2, 3\).*'target' \(3, 2\)"):
        _C.mse_forward(x, np.zeros((3, 2)), "mean")
    with pytest.raises(TypeError, match=r"bce_with_logits_forward.*'target'.*float32"):
        _C.bce_with_logits_forward(x, x.astype(np.float32), "sum")
    with pytest.raises(ValueError, match=r"bce_backward.*'reduction'.*'total'"):
        _C.bce_backward(x, x, np.array(1.0), "total")
    with pytest.raises(ValueError, match=r"mse_backward.*'dloss'.*\(2,\).*\(2, 3\)"):
        _C.mse_backward(x, x, np.ones(2), "none")


@pytest.mark.parametrize("stem,arg,bad", [("smooth_l1", "beta", -0.5),
                                          ("smooth_l1", "beta", np.nan),
                                          ("huber", "delta", 0.0), ("huber", "delta", -1.0)])
def test_smooth_l1_beta_and_huber_delta_are_checked(stem, arg, bad):
    x = np.zeros(3)
    with pytest.raises(ValueError, match=rf"{stem}_forward.*'{arg}'"):
        getattr(_C, f"{stem}_forward")(x, x, "mean", bad)
    with pytest.raises(ValueError, match=rf"{stem}_backward.*'{arg}'"):
        getattr(_C, f"{stem}_backward")(x, x, np.array(1.0), "mean", bad)


@pytest.mark.parametrize("bad", [1.5, -0.1, np.nan])
def test_bce_rejects_values_outside_unit_interval(bad):
    # torch raises too ("all elements of input should be between 0 and 1").
    good = np.full(4, 0.5)
    bad_arr = good.copy()
    bad_arr[2] = bad
    with pytest.raises(ValueError, match=r"bce_forward.*'p'.*index 2.*\[0, 1\]"):
        _C.bce_forward(bad_arr, good, "mean")
    with pytest.raises(ValueError, match=r"bce_backward.*'target'.*index 2.*\[0, 1\]"):
        _C.bce_backward(good, bad_arr, np.array(1.0), "mean")


def test_loss_option_argument_errors():
    logits = np.zeros((3, 5))
    target = np.zeros(3, np.int64)
    with pytest.raises(ValueError, match=r"cross_entropy_forward.*'weight'.*\(4,\).*\(5,\)"):
        _C.cross_entropy_forward(logits, target, "mean", -100, np.ones(4))
    with pytest.raises(TypeError, match=r"nll_loss_backward.*'weight'.*float32.*float64"):
        _C.nll_loss_backward(logits, target, np.array(1.0), "mean", -100,
                             np.ones(5, np.float32))
    with pytest.raises(TypeError, match=r"cross_entropy_forward.*'weight'.*numpy array or None"):
        _C.cross_entropy_forward(logits, target, "mean", -100, [1.0] * 5)
    with pytest.raises(ValueError, match=r"cross_entropy_forward.*'weight'.*contiguous"):
        _C.cross_entropy_forward(logits, target, "mean", -100, np.ones(10)[::2])
    for bad in (-0.1, 1.5, np.nan):
        with pytest.raises(ValueError, match=r"cross_entropy_backward.*'label_smoothing'.*\[0, 1\]"):
            _C.cross_entropy_backward(logits, target, np.array(1.0), "mean", -100, None, bad)
        with pytest.raises(ValueError, match=r"cross_entropy_soft_forward.*'label_smoothing'"):
            _C.cross_entropy_soft_forward(logits, logits, "mean", None, bad)
    with pytest.raises(ValueError, match=r"cross_entropy_soft_forward.*'logits' \(3, 5\).*'target' \(3, 4\)"):
        _C.cross_entropy_soft_forward(logits, np.zeros((3, 4)), "mean")
    with pytest.raises(TypeError, match=r"cross_entropy_soft_backward.*'target'.*float32"):
        _C.cross_entropy_soft_backward(logits, logits.astype(np.float32), np.array(1.0), "mean")
    x = np.full((2, 3), 0.5)
    with pytest.raises(ValueError, match=r"bce_forward.*'weight'.*\(3,\).*\(2, 3\)"):
        _C.bce_forward(x, x, "mean", np.ones(3))
    with pytest.raises(ValueError, match=r"bce_with_logits_backward.*'pos_weight'.*\(2, 1\)"):
        _C.bce_with_logits_backward(x, x, np.array(1.0), "mean", None, np.ones((2, 1)))
