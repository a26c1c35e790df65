"""kernn against torch on the MNIST perceptrons of workloads.md, side by side in one process.

Cases (float32; the step and inference cases on synthetic MNIST-shaped data: 784 pixels in
[0, 1], labels 0..9):
  W2 train      784-500-10, batch 100, cross-entropy, Adam(lr 1e-3): one full training step
                (zero_grad, forward, loss, backward, optimizer step)
  W1 train      784-128-64-10, batch 64, same step
  W2 infer b1   the W2 net, batch 1, under no_grad (latency)
  W2 infer b256 the W2 net, batch 256, under no_grad
  W2 epoch      one epoch of W2 as workloads.md writes it: the 60,000 training images through
                each library's own DataLoader(TensorDataset(x, y), batch_size=100,
                shuffle=True), a training step per batch (600)
  W1 epoch      the same for W1: pixels normalised to [-1, 1], batch 64 (938 steps)
The epochs train on MNIST when its files are found (--data-dir, else $KERNN_DATA or
~/.cache/kernn, as kernn.datasets.MNIST searches), else on synthetic data of the same shape
whose labels a fixed linear map of the pixels decides (learnable, as MNIST is); the output says
which. Each timed call is the next epoch of the same models; there are --epochs of them. From
the second epoch on, torch's Adam updates slow down: the state of dead ReLU units (and of
pixels that stay 0) decays into subnormal floats, which cost this CPU a microcode assist per
instruction; kernn's Adam skips those settled lanes with the same bits (benchmarks/README.md).
Both libraries start from the same weights. The training cases cycle through a pool of
distinct batches, as an epoch does: repeating one batch drives the loss towards zero within a
few hundred steps, and then the optimizer's g*g underflows to subnormal floats, which makes
both libraries' Adam several times slower on this CPU and measures nothing a real run meets.
For each case and thread count the two run in alternating blocks of about 20 ms
(benchmarks/timing.py: a pause between libraries lets the other OpenMP runtime's workers
sleep); the report is each library's median per-call time over the rounds and the median of
the per-round ratios kernn / torch (< 1: kernn is faster) with their interquartile range,
beside the issue's target.

    PYTHONPATH=python python benchmarks/bench_mlp.py                 # 1 and 2 threads
    PYTHONPATH=python python benchmarks/bench_mlp.py --threads 1 --repeats 31
    PYTHONPATH=python python benchmarks/bench_mlp.py --no-optimizer  # forward + backward only
    PYTHONPATH=python python benchmarks/bench_mlp.py --cases "W2 epoch" --epochs 5

Without kernn.optim (before the optimizer lands) the training cases time forward + backward for
both libraries and say so.
"""

from __future__ import annotations

import argparse
import collections
import itertools

import numpy as np
import torch

import kernn
from kernn.datasets import MNIST
from timing import calls_per_block, fmt_ratio, fmt_time, kernn_vs_torch, positive_int

try:
    from kernn.optim import Adam as KernnAdam
except ImportError:  # kernn.optim not merged yet
    KernnAdam = None

Case = collections.namedtuple("Case", "name sizes batch kind target normalize", defaults=(None,))

# kind: "step" (one training step), "infer" (a forward under no_grad) or "epoch" (a pass over
# the training set); target: the bound on kernn / torch; normalize: (mean, std) of the
# epoch's pixels
CASES = [
    Case("W2 train", (784, 500, 10), 100, "step", 0.5),
    Case("W1 train", (784, 128, 64, 10), 64, "step", 0.7),
    Case("W2 infer b1", (784, 500, 10), 1, "infer", 0.3),
    Case("W2 infer b256", (784, 500, 10), 256, "infer", None),
    Case("W2 epoch", (784, 500, 10), 100, "epoch", None),
    Case("W1 epoch", (784, 128, 64, 10), 64, "epoch", None, normalize=(0.5, 0.5)),
]

TRAIN_BATCHES = 32  # distinct batches the training cases cycle through


def mlp(lib, sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(lib.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(lib.nn.ReLU())
    return lib.nn.Sequential(*layers)


def load_training_set(data_dir, rng):
    """The 60,000 MNIST training images (flattened, float32 in [0, 1]) and their labels, or
    synthetic data of that shape when the files are not found.

    The synthetic labels are argmax((x - 0.5) @ R) for a fixed random R: learnable, as MNIST's
    are. (On random labels both libraries' W2 steps slow down within an epoch: Adam kills most
    ReLU units, and their first moments then decay through the subnormal floats.)

    Returns:
        (x, y, source): (60000, 784) float32, (60000,) int64, "MNIST" or "synthetic".
    """
    try:
        train = MNIST(data_dir, train=True)
    except FileNotFoundError:
        x = rng.random((60000, 784), dtype=np.float32)
        y = ((x - np.float32(0.5)) @ rng.standard_normal((784, 10), dtype=np.float32)).argmax(1)
        return x, y.astype(np.int64), "synthetic"
    images = train.data.numpy()
    x = images.reshape(len(images), -1).astype(np.float32) / np.float32(255)
    return x, train.targets.numpy(), "MNIST"


def make_step(lib, model, use_optimizer):
    """A training step on one batch: zero_grad, forward, cross-entropy, backward, Adam(lr 1e-3)
    (or forward + backward only, without the optimizer)."""
    loss_fn = lib.nn.CrossEntropyLoss()
    adam = KernnAdam if lib is kernn else torch.optim.Adam
    opt = adam(model.parameters(), lr=1e-3) if use_optimizer else None
    zero_grad = model.zero_grad if opt is None else opt.zero_grad

    def step(x, y):
        zero_grad()
        loss_fn(model(x), y).backward()
        if opt is not None:
            opt.step()

    return step


def make_runners(case, use_optimizer, rng, training_set):
    """Zero-argument callables {"kernn": ..., "torch": ...} doing the case's work once, on two
    models that start from the same weights."""
    tmodel = mlp(torch, case.sizes)
    kmodel = mlp(kernn, case.sizes)
    kmodel.load_state_dict({k: v.detach().numpy() for k, v in tmodel.state_dict().items()})
    models = {"kernn": kmodel, "torch": tmodel}
    libs = {"kernn": kernn, "torch": torch}
    if case.kind == "infer":
        x = rng.random((case.batch, case.sizes[0]), dtype=np.float32)

        def make_infer(lib, model):
            inputs = lib.from_numpy(x)

            def infer():
                with lib.no_grad():
                    return model(inputs)
            return infer

        return {name: make_infer(libs[name], models[name]) for name in libs}

    if case.kind == "step":
        xs = rng.random((TRAIN_BATCHES, case.batch, case.sizes[0]), dtype=np.float32)
        ys = rng.integers(0, case.sizes[-1], (TRAIN_BATCHES, case.batch))

        def make_cycling_step(lib, model):
            batches = itertools.cycle([(lib.from_numpy(x), lib.from_numpy(y))
                                       for x, y in zip(xs, ys)])
            step = make_step(lib, model, use_optimizer)
            return lambda: step(*next(batches))

        return {name: make_cycling_step(libs[name], models[name]) for name in libs}

    x, y, _ = training_set
    if case.normalize is not None:
        mean, std = case.normalize
        x = (x - np.float32(mean)) / np.float32(std)
    loaders = {
        "kernn": kernn.data.DataLoader(kernn.data.TensorDataset(x, y), batch_size=case.batch,
                                       shuffle=True, generator=0),
        "torch": torch.utils.data.DataLoader(
            torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
            batch_size=case.batch, shuffle=True, generator=torch.Generator().manual_seed(0)),
    }

    def make_epoch(lib, model, loader):
        step = make_step(lib, model, use_optimizer)

        def epoch():
            for inputs, labels in loader:
                step(inputs, labels)
        return epoch

    return {name: make_epoch(libs[name], models[name], loaders[name]) for name in libs}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=positive_int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=positive_int, default=15, help="rounds per case")
    parser.add_argument("--epochs", type=positive_int, default=3,
                        help="timed epochs per library in the epoch cases")
    parser.add_argument("--cases", nargs="+", default=None,
                        help="subset of case names, e.g. 'W2 train'")
    parser.add_argument("--data-dir", default=None,
                        help="directory holding MNIST (default: $KERNN_DATA or ~/.cache/kernn)")
    parser.add_argument("--no-optimizer", action="store_true",
                        help="time forward + backward only")
    args = parser.parse_args(argv)
    unknown = set(args.cases or ()) - {case.name for case in CASES}
    if unknown:
        parser.error(f"unknown case(s) {sorted(unknown)}; the cases are "
                     f"{[case.name for case in CASES]}")
    cases = [case for case in CASES if not args.cases or case.name in args.cases]

    use_optimizer = KernnAdam is not None and not args.no_optimizer
    rng = np.random.default_rng(0)
    kernn.manual_seed(0)
    torch.manual_seed(0)
    training_set = None
    if any(case.kind == "epoch" for case in cases):
        training_set = load_training_set(args.data_dir, rng)
    print(f"kernn {kernn.__version__} (gemm: {kernn._C.backend_info().get('isa', '?')}), "
          f"torch {torch.__version__}; training step "
          f"{'with Adam' if use_optimizer else 'WITHOUT optimizer (forward + backward only)'}"
          + (f"; epochs on {training_set[2]} data" if training_set is not None else ""))
    print(f"{'case':<15} {'thr':>3} {'kernn':>11} {'torch':>11} {'kernn/torch (IQR)':>17} "
          f"{'target':>7}")
    for threads in args.threads:
        kernn.set_num_threads(threads)
        torch.set_num_threads(threads)
        for case in cases:
            runners = make_runners(case, use_optimizer, rng, training_set)
            if case.kind == "epoch":
                # An epoch is long: its first steps wake the workers and warm the caches.
                k, t, ratio = kernn_vs_torch(runners, args.epochs, warm_call=False)
            else:
                for fn in runners.values():  # warm-up: allocations, caches, lazy imports
                    fn()
                k, t, ratio = kernn_vs_torch(runners, args.repeats,
                                             inner=calls_per_block(runners["torch"]))
            tgt = f"<= {case.target}" if case.target is not None else ""
            print(f"{case.name:<15} {threads:>3} {fmt_time(k)} {fmt_time(t)} {fmt_ratio(ratio)} "
                  f"{tgt:>7}", flush=True)


if __name__ == "__main__":
    main()
