"""kernn's softmax, log-softmax and cross-entropy against torch, side by side in one process.

Cases (float32, logits ~ N(0, 3^2), class-index targets), through each library's public API:
  <op> fwd        the forward under no_grad: softmax / log_softmax over the last dimension,
                  cross_entropy with reduction 'mean'
  <op> fwd+bwd    forward and backward (the gradient of the sum of the output, or of the loss)
over rows of 10 (the MNIST classifiers), 100, 1,000 and 10,000 classes. For each thread count
the libraries run in alternating rounds (benchmarks/timing.py); each reports its median, and
the ratio kernn / torch (< 1: kernn faster) is the median of the per-round ratios, with their
interquartile range.

    PYTHONPATH=python python benchmarks/bench_softmax.py                # 1 and 2 threads
    PYTHONPATH=python python benchmarks/bench_softmax.py --threads 1 --repeats 21
"""

import argparse

import numpy as np
import torch

import kernn
from timing import calls_per_block, fmt_ratio, fmt_time, kernn_vs_torch, positive_int

SHAPES = [(100, 10), (256, 100), (64, 1000), (32, 10000)]
OPS = ["softmax", "log_softmax", "cross_entropy"]


def make_runners(op, shape, backward, rng):
    """{'kernn': fn, 'torch': fn} running the case on the same data."""
    x = (rng.standard_normal(shape) * 3).astype(np.float32)
    target = rng.integers(0, shape[1], shape[0])

    def runner(lib):
        xs = lib.from_numpy(x.copy())
        ts = lib.from_numpy(target)
        if backward:
            xs.requires_grad_(True)
        functional = lib.nn.functional

        def forward():
            if op == "cross_entropy":
                return functional.cross_entropy(xs, ts)
            return getattr(functional, op)(xs, dim=-1)

        if backward:
            return lambda: forward().sum().backward()

        def infer():
            with lib.no_grad():
                return forward()
        return infer

    return {"kernn": runner(kernn), "torch": runner(torch)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=positive_int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=positive_int, default=11, help="rounds per case")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    print(f"kernn {kernn.__version__}, torch {torch.__version__}")
    print(f"{'case':<22} {'shape':>11} {'thr':>3} {'kernn':>11} {'torch':>11} "
          f"{'kernn/torch (IQR)':>17}")
    for threads in args.threads:
        kernn.set_num_threads(threads)
        torch.set_num_threads(threads)
        for op in OPS:
            for backward in (False, True):
                for shape in SHAPES:
                    runners = make_runners(op, shape, backward, rng)
                    for fn in runners.values():  # warm-up
                        fn()
                    k, t, ratio = kernn_vs_torch(runners, args.repeats,
                                                 inner=calls_per_block(runners["torch"]))
                    name = f"{op} {'fwd+bwd' if backward else 'fwd'}"
                    print(f"{name:<22} {shape[0]:>5}x{shape[1]:<5} {threads:>3} "
                          f"{fmt_time(k)} {fmt_time(t)} {fmt_ratio(ratio)}", flush=True)


if __name__ == "__main__":
    main()
