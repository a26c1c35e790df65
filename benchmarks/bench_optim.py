"""kernn's optimizer steps against torch.optim's, side by side in one process.

Cases (float32): one `optimizer.step()` over the parameters of the W2 net (784-500-10: weight
and bias of two Linear layers, 397,510 values), each holding a fixed gradient ~ N(0, 0.01^2),
for SGD (momentum 0.9), Adam, RMSprop (momentum 0.9), Adadelta and Adagrad, all at torch's defaults
otherwise. The state evolves from step to step as in training; the gradients stay normal floats,
so neither library meets the subnormal slowdown of dead units (see benchmarks/README.md). For
each thread count the libraries run in alternating rounds (benchmarks/timing.py); the ratio
kernn / torch (< 1: kernn faster) is the median of the per-round ratios, with their
interquartile range.

    PYTHONPATH=python python benchmarks/bench_optim.py                # 1 and 2 threads
    PYTHONPATH=python python benchmarks/bench_optim.py --threads 1 --repeats 21
"""

import argparse

import numpy as np
import torch

import kernn
from timing import calls_per_block, fmt_ratio, fmt_time, kernn_vs_torch, positive_int

SHAPES = [(500, 784), (500,), (10, 500), (10,)]  # the W2 net's parameters
OPTIMIZERS = {
    "SGD momentum": ("SGD", {"lr": 1e-2, "momentum": 0.9}),
    "Adam": ("Adam", {"lr": 1e-3}),
    "RMSprop momentum": ("RMSprop", {"lr": 1e-3, "momentum": 0.9}),
    "Adadelta": ("Adadelta", {"lr": 1.0}),
    "Adagrad": ("Adagrad", {"lr": 1e-2}),
}


def make_runners(name, rng):
    """{'kernn': step, 'torch': step} on the same parameters and gradients."""
    values = [rng.standard_normal(s).astype(np.float32) * 0.05 for s in SHAPES]
    grads = [rng.standard_normal(s).astype(np.float32) * 0.01 for s in SHAPES]
    cls_name, options = OPTIMIZERS[name]

    def runner(lib):
        params = []
        for value, grad in zip(values, grads):
            p = lib.from_numpy(value.copy()).requires_grad_(True)
            p.grad = lib.from_numpy(grad.copy())
            params.append(p)
        return getattr(lib.optim, cls_name)(params, **options).step

    return {"kernn": runner(kernn), "torch": runner(torch)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=positive_int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=positive_int, default=11, help="rounds per case")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    print(f"kernn {kernn.__version__}, torch {torch.__version__}; step over the W2 net's "
          f"{sum(int(np.prod(s)) for s in SHAPES):,} parameters")
    print(f"{'case':<18} {'thr':>3} {'kernn':>11} {'torch':>11} {'kernn/torch (IQR)':>17}")
    for threads in args.threads:
        kernn.set_num_threads(threads)
        torch.set_num_threads(threads)
        for name in OPTIMIZERS:
            runners = make_runners(name, rng)
            for fn in runners.values():  # warm-up: the state is created
                fn()
            k, t, ratio = kernn_vs_torch(runners, args.repeats,
                                         inner=calls_per_block(runners["torch"]))
            print(f"{name:<18} {threads:>3} {fmt_time(k)} {fmt_time(t)} {fmt_ratio(ratio)}",
                  flush=True)


if __name__ == "__main__":
    main()
