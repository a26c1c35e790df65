"""TEMPORARY numpy stand-ins for kernn._C entry points that have not landed yet.

Same signatures and semantics as cpp/bindings/API.md; used only for names _C lacks, so the
Python layer works before the kernels merge. To be deleted once every kernel is on main.
"""

import numpy as np


def gemm(a, b, c=None, *, trans_a=False, trans_b=False, alpha=1.0, beta=0.0, bias=None,
         row_bias=None, relu=False):
    A = a.T if trans_a else a
    B = b.T if trans_b else b
    if A.shape[1] != B.shape[0]:
        raise ValueError(f"kernn.gemm: op(a) has shape {A.shape}, op(b) has shape {B.shape}")
    out = alpha * (A @ B)
    if c is not None and beta != 0:
        out = out + beta * c
    if bias is not None:
        out = out + bias
    if row_bias is not None:
        out = out + row_bias[:, None]
    if relu:
        out = np.maximum(out, 0)
    out = out.astype(a.dtype, copy=False)
    if c is not None:
        c[...] = out
        return c
    return np.ascontiguousarray(out)


def relu_forward(x):
    return np.maximum(x, 0)


def relu_backward(x, dy):
    return dy * (x > 0)


def leaky_relu_forward(x, negative_slope):
    return np.where(x > 0, x, x * x.dtype.type(negative_slope))


def leaky_relu_backward(x, dy, negative_slope):
    return np.where(x > 0, dy, dy * x.dtype.type(negative_slope))


def sigmoid_forward(x):
    return (1 / (1 + np.exp(-x))).astype(x.dtype)


def sigmoid_backward(y, dy):
    return dy * y * (1 - y)


def tanh_forward(x):
    return np.tanh(x)


def tanh_backward(y, dy):
    return dy * (1 - y * y)


def softsign_forward(x):
    return x / (1 + np.abs(x))


def softsign_backward(x, dy):
    d = 1 + np.abs(x)
    return dy / (d * d)


def softmax_forward(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_backward(y, dy):
    return y * (dy - (dy * y).sum(axis=-1, keepdims=True))


def log_softmax_forward(x):
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def log_softmax_backward(y, dy):
    return dy - np.exp(y) * dy.sum(axis=-1, keepdims=True)


def bias_grad(dy):
    return dy.sum(axis=0)


def _reduce(loss, reduction, count=None):
    if reduction == "none":
        return loss
    if reduction == "sum":
        return np.asarray(loss.sum(), dtype=loss.dtype)
    return np.asarray(loss.sum() / (loss.size if count is None else count), dtype=loss.dtype)


def _scale(dloss, reduction, shape, count, dtype):
    if reduction == "none":
        return dloss
    if reduction == "sum":
        return np.broadcast_to(dloss, shape)
    return np.broadcast_to(dloss / count, shape).astype(dtype)


def nll_loss_forward(logp, target, reduction, ignore_index):
    valid = target != ignore_index
    t = np.where(valid, target, 0)
    if np.any((t < 0) | (t >= logp.shape[1])):
        raise IndexError(f"kernn.nll_loss: target index out of range [0, {logp.shape[1]})")
    loss = np.where(valid, -logp[np.arange(len(t)), t], 0).astype(logp.dtype)
    return _reduce(loss, reduction, max(int(valid.sum()), 0) if reduction == "mean" else None)


def nll_loss_backward(logp, target, dloss, reduction, ignore_index):
    valid = target != ignore_index
    t = np.where(valid, target, 0)
    d = _scale(dloss, reduction, target.shape, valid.sum(), logp.dtype)
    dx = np.zeros_like(logp)
    dx[np.arange(len(t)), t] = -np.where(valid, d, 0)
    return dx


def cross_entropy_forward(logits, target, reduction, ignore_index):
    return nll_loss_forward(log_softmax_forward(logits), target, reduction, ignore_index)


def cross_entropy_backward(logits, target, dloss, reduction, ignore_index):
    lp = log_softmax_forward(logits)
    g = nll_loss_backward(lp, target, dloss, reduction, ignore_index)
    return log_softmax_backward(lp, g).astype(logits.dtype)


def bce_forward(p, target, reduction):
    loss = -(target * np.maximum(np.log(p), -100) + (1 - target) * np.maximum(np.log1p(-p), -100))
    return _reduce(loss.astype(p.dtype), reduction)


def bce_backward(p, target, dloss, reduction):
    eps = 1e-12
    d = _scale(dloss, reduction, p.shape, p.size, p.dtype)
    return (d * (p - target) / np.maximum((1 - p) * p, eps)).astype(p.dtype)


def bce_with_logits_forward(x, target, reduction):
    loss = np.maximum(x, 0) - x * target + np.log1p(np.exp(-np.abs(x)))
    return _reduce(loss.astype(x.dtype), reduction)


def bce_with_logits_backward(x, target, dloss, reduction):
    d = _scale(dloss, reduction, x.shape, x.size, x.dtype)
    return (d * (sigmoid_forward(x) - target)).astype(x.dtype)


def mse_forward(x, target, reduction):
    return _reduce(((x - target) ** 2).astype(x.dtype), reduction)


def mse_backward(x, target, dloss, reduction):
    d = _scale(dloss, reduction, x.shape, x.size, x.dtype)
    return (2 * d * (x - target)).astype(x.dtype)
