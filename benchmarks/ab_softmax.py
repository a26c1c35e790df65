"""Two builds of kernn's softmax, log-softmax and cross-entropy forwards (and torch's) in one
process, call by call: is a change faster?

The same method as ab_gemm.py (read its docstring): both extension modules are loaded side by
side, every round calls base, new and torch once each on the same float32 logits ~ N(0, 9), and
the median of the per-round ratios is what the change is worth. The `_C` kernels are called
directly (`softmax_forward`, `log_softmax_forward`, `cross_entropy_forward` with reduction
'mean'); torch through torch.softmax / torch.log_softmax / F.cross_entropy under no_grad.

    cp python/kernn/_C*.so /tmp/base_C.so
    cmake --build build/dev
    PYTHONPATH=python python benchmarks/ab_softmax.py --base /tmp/base_C.so
    PYTHONPATH=python python benchmarks/ab_softmax.py --base /tmp/base_C.so --shapes 256x100 \\
        --ops log_softmax --seconds 3
"""

import argparse
import os
import statistics

# numpy's OpenBLAS is not timed here; one thread keeps its idle workers off the cores.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from ab_gemm import add_build_arguments, load_builds, time_rounds  # noqa: E402

DEFAULT_SHAPES = ["256x96", "256x100", "256x128", "64x1000", "32x10000", "100x10", "2560x10"]
OPS = ["log_softmax", "softmax", "cross_entropy"]


def parse_shape(text):
    """'RxC' -> (rows, cols); an argparse type."""
    parts = text.split("x")
    if len(parts) != 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(f"shape {text!r}: expected RxC, e.g. 256x100")
    return int(parts[0]), int(parts[1])


def calls_of(op, base, new, x, target):
    """The three callables of one case, on the same arrays."""
    tx, tt = torch.from_numpy(x), torch.from_numpy(target)
    if op == "cross_entropy":
        return {"base": lambda: base.cross_entropy_forward(x, target, "mean", -100),
                "new": lambda: new.cross_entropy_forward(x, target, "mean", -100),
                "torch": lambda: F.cross_entropy(tx, tt)}
    torch_op = torch.softmax if op == "softmax" else torch.log_softmax
    kernel = f"{op}_forward"
    return {"base": lambda: getattr(base, kernel)(x), "new": lambda: getattr(new, kernel)(x),
            "torch": lambda: torch_op(tx, 1)}


def compare(calls, seconds):
    """Median times (s) per callable and the median per-round ratios base/new and torch/new."""
    times = time_rounds(calls, seconds)
    vs_base = statistics.median(b / n for b, n in zip(times["base"], times["new"]))
    vs_torch = statistics.median(t / n for t, n in zip(times["torch"], times["new"]))
    medians = {name: statistics.median(ts) for name, ts in times.items()}
    return medians, vs_base, vs_torch


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_build_arguments(parser, seconds=2.0)
    parser.add_argument("--shapes", nargs="+", type=parse_shape,
                        default=[parse_shape(s) for s in DEFAULT_SHAPES],
                        help=f"RxC (default: {' '.join(DEFAULT_SHAPES)})")
    parser.add_argument("--ops", nargs="+", choices=OPS, default=OPS)
    args = parser.parse_args()
    base, new = load_builds(parser, args)
    rng = np.random.default_rng(0)
    print(f"threads {args.threads}; median times, and the median per-round speed ratios "
          f"(> 1: new faster)")
    print(f"{'op':>14} {'shape':>9} {'base us':>8} {'new us':>8} {'torch us':>8} "
          f"{'new/base':>8} {'new/torch':>9}")
    for rows, cols in args.shapes:
        x = (rng.standard_normal((rows, cols)) * 3).astype(np.float32)
        target = rng.integers(0, cols, rows).astype(np.int64)
        for op in args.ops:
            with torch.no_grad():
                medians, vs_base, vs_torch = compare(calls_of(op, base, new, x, target),
                                                     args.seconds)
            us = {name: t * 1e6 for name, t in medians.items()}
            print(f"{op:>14} {f'{rows}x{cols}':>9} {us['base']:8.1f} {us['new']:8.1f} "
                  f"{us['torch']:8.1f} {vs_base:8.3f} {vs_torch:9.3f}", flush=True)


if __name__ == "__main__":
    main()
