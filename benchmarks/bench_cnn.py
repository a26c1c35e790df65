"""kernn's convolution, pooling and batch norm against torch, side by side in one process.

Cases (float32, random data, both libraries on the same arrays and the same weights):
  conv fwd / conv bwd   Conv2d N=64, C=64, 32x32, K=128, 3x3, padding 1 (bwd: all three grads)
  maxpool fwd / bwd     2x2 stride 2 on 64x64x32x32 (forward with indices)
  batchnorm fwd+bwd     training batch norm on 64x64x32x32
  W4 step               workloads.md W4 at batch 64 on 3x32x32: forward, cross-entropy,
                        backward, SGD(lr 0.01) step
  LeNet-5 step          LeNet-5 at batch 64 on 1x28x28 with Adam(lr 1e-3)
For each thread count the libraries run in alternating rounds (benchmarks/timing.py: a pause
between libraries lets the other OpenMP runtime's workers sleep); each reports its median, and
the ratio kernn / torch (< 1: kernn faster) is the median of the per-round ratios, with their
interquartile range.

    PYTHONPATH=python python benchmarks/bench_cnn.py                 # 1 and 2 threads
    PYTHONPATH=python python benchmarks/bench_cnn.py --threads 1 --repeats 11 --cases conv,w4
"""

import argparse
import itertools

import numpy as np
import torch
import torch.nn.functional as TF

import kernn
from kernn import _C
from timing import fmt_ratio, kernn_vs_torch, positive_int

TRAIN_BATCHES = 8  # distinct batches the training cases cycle through

TARGETS = {"conv fwd": 1.0, "conv bwd": 1.0, "maxpool fwd": 0.2, "W4 step": 0.8,
           "LeNet-5 step": 0.7}


def _kernel_cases(rng):
    x = rng.standard_normal((64, 64, 32, 32)).astype(np.float32)
    w = (rng.standard_normal((128, 64, 3, 3)) * 0.05).astype(np.float32)
    b = rng.standard_normal(128).astype(np.float32)
    dy = rng.standard_normal((64, 128, 32, 32)).astype(np.float32)
    tx, tw, tb, tdy = map(torch.from_numpy, (x, w, b, dy))
    pool_dy = rng.standard_normal((64, 64, 16, 16)).astype(np.float32)
    _, indices = _C.max_pool2d_forward(x, 2, 2)
    _, tindices = TF.max_pool2d(tx, 2, 2, return_indices=True)
    tpool_dy = torch.from_numpy(pool_dy)
    gamma, beta = np.ones(64, np.float32), np.zeros(64, np.float32)
    rm, rv = np.zeros(64, np.float32), np.ones(64, np.float32)
    tgamma, tbeta = torch.from_numpy(gamma), torch.from_numpy(beta)
    trm, trv = torch.zeros(64), torch.ones(64)
    bn_dy = rng.standard_normal(x.shape).astype(np.float32)
    tbn_dy = torch.from_numpy(bn_dy)

    def kernn_bn():
        _, mean, invstd = _C.batch_norm_forward(x, gamma, beta, rm, rv, True, 0.1, 1e-5)
        _C.batch_norm_backward(x, bn_dy, gamma, mean, invstd, True)

    def torch_bn():
        _, mean, invstd = torch.native_batch_norm(tx, tgamma, tbeta, trm, trv, True, 0.1, 1e-5)
        torch.ops.aten.native_batch_norm_backward(tbn_dy, tx, tgamma, trm, trv, mean, invstd,
                                                  True, 1e-5, [True, True, True])

    return {
        "conv fwd": (lambda: _C.conv2d_forward(x, w, b, padding=1),
                     lambda: torch.conv2d(tx, tw, tb, padding=1)),
        "conv bwd": (lambda: _C.conv2d_backward(x, w, dy, padding=1),
                     lambda: torch.ops.aten.convolution_backward(
                         tdy, tx, tw, [128], [1, 1], [1, 1], [1, 1], False, [0, 0], 1,
                         [True, True, True])),
        "maxpool fwd": (lambda: _C.max_pool2d_forward(x, 2, 2),
                        lambda: TF.max_pool2d(tx, 2, 2, return_indices=True)),
        "maxpool bwd": (lambda: _C.max_pool2d_backward(pool_dy, indices, x.shape),
                        lambda: torch.ops.aten.max_pool2d_with_indices_backward(
                            tpool_dy, tx, [2, 2], [2, 2], [0, 0], [1, 1], False, tindices)),
        "batchnorm fwd+bwd": (kernn_bn, torch_bn),
    }


def _training_case(build_model, image_shape, optimizer, lr, rng):
    """One training step of the same model (same weights) in kernn and torch.

    Each library cycles through TRAIN_BATCHES distinct batches, as an epoch does: repeating one
    batch drives the loss towards zero within a few hundred steps, and then Adam's g*g
    underflows to subnormal floats, which slows both libraries' updates several times over and
    measures nothing a real run meets."""
    kernn_model = build_model(kernn.nn)
    torch_model = build_model(torch.nn)
    kernn_model.load_state_dict(torch_model.state_dict())
    xs = rng.standard_normal((TRAIN_BATCHES, 64, *image_shape)).astype(np.float32)
    ys = rng.integers(0, 10, (TRAIN_BATCHES, 64)).astype(np.int64)
    kernn_batches = itertools.cycle([(kernn.from_numpy(x), kernn.from_numpy(y))
                                     for x, y in zip(xs, ys)])
    torch_batches = itertools.cycle([(torch.from_numpy(x), torch.from_numpy(y))
                                     for x, y in zip(xs, ys)])
    kopt = getattr(kernn.optim, optimizer)(kernn_model.parameters(), lr=lr)
    topt = getattr(torch.optim, optimizer)(torch_model.parameters(), lr=lr)
    kloss, tloss = kernn.nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()

    def kernn_step():
        kx, ky = next(kernn_batches)
        kopt.zero_grad()
        kloss(kernn_model(kx), ky).backward()
        kopt.step()

    def torch_step():
        tx, ty = next(torch_batches)
        topt.zero_grad()
        tloss(torch_model(tx), ty).backward()
        topt.step()

    return kernn_step, torch_step


def _model_cases(rng):
    from kernn.examples.cnn_batchnorm import build_model as build_w4
    from kernn.examples.lenet import build_model as build_lenet

    return {
        "W4 step": _training_case(build_w4, (3, 32, 32), "SGD", 0.01, rng),
        "LeNet-5 step": _training_case(build_lenet, (1, 28, 28), "Adam", 1e-3, rng),
    }


def _fmt(seconds):
    return f"{seconds * 1e3:.2f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.0f} us"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=positive_int, nargs="*", default=[1, 2])
    parser.add_argument("--repeats", type=positive_int, default=7, help="timed rounds per case")
    parser.add_argument("--cases", default="all",
                        help="comma-separated substrings of case names (default all)")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    cases = {**_kernel_cases(rng), **_model_cases(rng)}
    if args.cases != "all":
        wanted = [w.strip().lower() for w in args.cases.split(",")]
        cases = {k: v for k, v in cases.items() if any(w in k.lower() for w in wanted)}

    print(f"{'case':<18} {'threads':>7} {'kernn':>10} {'torch':>10} {'kernn/torch (IQR)':>17} "
          f"{'target':>6}")
    for threads in args.threads:
        kernn.set_num_threads(threads)
        torch.set_num_threads(threads)
        for name, (kernn_fn, torch_fn) in cases.items():
            kernn_fn(), torch_fn()  # warm-up: allocations, first-touch, lazy initialisation
            k, t, ratio = kernn_vs_torch({"kernn": kernn_fn, "torch": torch_fn}, args.repeats)
            target = TARGETS.get(name)
            print(f"{name:<18} {threads:>7} {_fmt(k):>10} {_fmt(t):>10} {fmt_ratio(ratio)} "
                  f"{'<= ' + str(target) if target else '':>6}", flush=True)


if __name__ == "__main__":
    main()
