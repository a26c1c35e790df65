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
@pytest.mark.parametrize("classes", [1, 10, 17, 100, 128, 300])
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

    def run():
        out = []
        for name in ("cross_entropy", "nll_loss"):
            out.append(getattr(_C, f"{name}_forward")(logits, target, reduction, -100))
            out.append(getattr(_C, f"{name}_backward")(logits, target, dloss_rows, reduction, -100))
        for name in POINTWISE:
            fwd, bwd = pointwise_kernels(name)
            out.append(fwd(x, t, reduction))
            out.append(bwd(x, t, dloss_elems, reduction))
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
