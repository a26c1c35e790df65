"""kernn against torch on the MNIST perceptrons of workloads.md, side by side in one process.

Cases (float32, synthetic MNIST-shaped data: 784 pixels in [0, 1], labels 0..9):
  W2 train      784-500-10, batch 100, cross-entropy, Adam(lr 1e-3): one full training step
                (zero_grad, forward, loss, backward, optimizer step)
  W1 train      784-128-64-10, batch 64, same step
  W2 infer b1   the W2 net, batch 1, under no_grad (latency)
  W2 infer b256 the W2 net, batch 256, under no_grad
Both libraries start from the same weights. The training cases cycle through a pool of
distinct batches, as an epoch does: repeating one batch drives the loss towards zero within a
few hundred steps, and then the optimizer's g*g underflows to subnormal floats, which makes
both libraries' Adam several times slower on this CPU and measures nothing a real run meets. For each case and thread count the two run in
alternating blocks of about 20 ms (benchmarks/timing.py: a pause between libraries lets the
other OpenMP runtime's workers sleep); the report is the median per-call time over the rounds
and the ratio kernn / torch (< 1: kernn is faster), beside the issue's target.

    PYTHONPATH=python python benchmarks/bench_mlp.py                 # 1 and 2 threads
    PYTHONPATH=python python benchmarks/bench_mlp.py --threads 1 --repeats 31
    PYTHONPATH=python python benchmarks/bench_mlp.py --no-optimizer  # forward + backward only

Without kernn.optim (before the optimizer lands) the training cases time forward + backward for
both libraries and say so.
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np
import torch

import kernn
from timing import calls_per_block, fmt_time, time_alternating

try:
    from kernn.optim import Adam as KernnAdam
except ImportError:  # kernn.optim not merged yet
    KernnAdam = None

# (name, layer sizes, batch, training?, target ratio kernn/torch)
CASES = [
    ("W2 train", (784, 500, 10), 100, True, 0.5),
    ("W1 train", (784, 128, 64, 10), 64, True, 0.7),
    ("W2 infer b1", (784, 500, 10), 1, False, 0.3),
    ("W2 infer b256", (784, 500, 10), 256, False, None),
]

TRAIN_BATCHES = 32  # distinct batches the training cases cycle through


def mlp(lib, sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(lib.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(lib.nn.ReLU())
    return lib.nn.Sequential(*layers)


def make_runners(sizes, batch, training, use_optimizer, rng):
    tmodel = mlp(torch, sizes)
    kmodel = mlp(kernn, sizes)
    kmodel.load_state_dict({k: v.detach().numpy() for k, v in tmodel.state_dict().items()})
    if not training:
        x = rng.random((batch, sizes[0]), dtype=np.float32)

        def make_infer(lib, model, x):
            def infer():
                with lib.no_grad():
                    return model(x)
            return infer

        return {"kernn": make_infer(kernn, kmodel, kernn.from_numpy(x)),
                "torch": make_infer(torch, tmodel, torch.from_numpy(x))}

    xs = rng.random((TRAIN_BATCHES, batch, sizes[0]), dtype=np.float32)
    ys = rng.integers(0, sizes[-1], (TRAIN_BATCHES, batch))

    def make_step(lib, model, optimizer_class):
        batches = itertools.cycle([(lib.from_numpy(x), lib.from_numpy(y)) for x, y in zip(xs, ys)])
        loss_fn = lib.nn.CrossEntropyLoss()
        opt = optimizer_class(model.parameters(), lr=1e-3) if use_optimizer else None
        zero_grad = model.zero_grad if opt is None else opt.zero_grad

        def step():
            x, y = next(batches)
            zero_grad()
            loss_fn(model(x), y).backward()
            if opt is not None:
                opt.step()

        return step

    return {"kernn": make_step(kernn, kmodel, KernnAdam),
            "torch": make_step(torch, tmodel, torch.optim.Adam)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=15, help="rounds per case")
    parser.add_argument("--cases", nargs="+", default=None,
                        help="subset of case names, e.g. 'W2 train'")
    parser.add_argument("--no-optimizer", action="store_true",
                        help="time forward + backward only")
    args = parser.parse_args(argv)

    use_optimizer = KernnAdam is not None and not args.no_optimizer
    rng = np.random.default_rng(0)
    kernn.manual_seed(0)
    torch.manual_seed(0)
    print(f"kernn {kernn.__version__} (gemm: {kernn._C.backend_info().get('isa', '?')}), "
          f"torch {torch.__version__}; training step "
          f"{'with Adam' if use_optimizer else 'WITHOUT optimizer (forward + backward only)'}")
    print(f"{'case':<15} {'thr':>3} {'kernn':>11} {'torch':>11} {'kernn/torch':>11} {'target':>7}")
    for threads in args.threads:
        kernn.set_num_threads(threads)
        torch.set_num_threads(threads)
        for name, sizes, batch, training, target in CASES:
            if args.cases and name not in args.cases:
                continue
            runners = make_runners(sizes, batch, training, use_optimizer, rng)
            for fn in runners.values():  # warm-up: allocations, caches, lazy imports
                fn()
            med = time_alternating(runners, args.repeats,
                                   inner=calls_per_block(runners["torch"]))
            ratio = med["kernn"] / med["torch"]
            tgt = f"<= {target}" if target is not None else ""
            print(f"{name:<15} {threads:>3} {fmt_time(med['kernn'])} {fmt_time(med['torch'])} "
                  f"{ratio:11.2f} {tgt:>7}", flush=True)


if __name__ == "__main__":
    main()
