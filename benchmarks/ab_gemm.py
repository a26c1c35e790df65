"""Two builds of kernn's GEMM (and torch.mm) in one process, call by call: is a change faster?

On a shared machine a library's speed drifts by 10-20 % within seconds, more than most kernel
changes move it, so timing two builds one after the other (or in 20 ms blocks) cannot tell a
3 % gain from the drift. Here both extension modules are loaded side by side (the same
PyInit__C under two module names) and every round calls base, new and torch once each on the
same arrays; each round gives the ratio new/base from two calls a few milliseconds apart, and
the median of those ratios is what the change is worth. Loading the same build twice gives
1.00 +- 0.015 (an A/A test of this script). The best (fastest) call of new and of torch is
printed too: on a shared host it is the closest to what each does undisturbed.

    # keep the current build as the baseline, rebuild with the change, compare:
    cp python/kernn/_C*.so /tmp/base_C.so
    cmake --build build/dev
    PYTHONPATH=python python benchmarks/ab_gemm.py --base /tmp/base_C.so
    PYTHONPATH=python python benchmarks/ab_gemm.py --base /tmp/base_C.so --threads 2 \\
        --shapes 1x784x500T 100x784x500T 1024x1024x1024

With more than one thread, the new/torch column is not a fair figure: torch's OpenMP runtime and
kernn's alternate call by call, each one's idle workers spinning on the cores the other needs
(benchmarks/timing.py); new/base is fine, both builds sharing one runtime and its workers.

Shapes are MxKxN with an optional suffix: T for B stored transposed (x W^T), TA for A stored
transposed (dW = dy^T x). The default set is the squares and the perceptron's products.
"""

import argparse
import importlib.machinery
import importlib.util
import os
import statistics
import time

# numpy's OpenBLAS is not timed here; one thread keeps its idle workers off the cores.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import kernn  # noqa: E402
from kernn._memory import aligned  # noqa: E402

DEFAULT_SHAPES = ["1x784x500T", "100x784x500T", "100x500x10T", "500x100x784TA", "100x500x784",
                  "256x256x256", "512x512x512", "1024x1024x1024"]


def load_extension(name, path):
    """The kernn._C built at `path`, imported as module `name` (its PyInit__C is found by the
    last component of the name, so any `<package>._C` works)."""
    loader = importlib.machinery.ExtensionFileLoader(name, path)
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def add_build_arguments(parser, seconds):
    """The options every A/B script takes: --base, --new, --threads and --seconds (per case,
    default `seconds`)."""
    parser.add_argument("--base", required=True, help="path of the baseline build's _C*.so")
    parser.add_argument("--new", default=None,
                        help="path of the build to test (default: the kernn on the path)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=seconds, help="per case")


def load_builds(parser, args):
    """(base, new): the two kernn._C builds of add_build_arguments' options, each (and torch)
    set to --threads threads; a bad option or a build that does not load is parser.error."""
    if args.seconds <= 0 or args.threads < 1:
        parser.error("--seconds must be positive and --threads at least 1")
    try:
        base = load_extension("ab_base._C", args.base)
        new = load_extension("ab_new._C", args.new) if args.new else kernn._C
    except ImportError as exc:
        parser.error(f"cannot load a kernn._C build: {exc}")
    for module in (base, new):
        module.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    return base, new


def time_rounds(calls, seconds, clock=time.perf_counter):
    """Seconds of each call of calls {"base": f, "new": g, "torch": h}, one call of each per
    round for `seconds`, after one warm-up call each (packing buffers, thread teams): dict
    name -> list, one entry per round. base and new swap places every round, so that neither
    always runs right after torch (whose OpenMP workers, at more than one thread, are still
    spinning then)."""
    for fn in calls.values():
        fn()
    times = {name: [] for name in calls}
    orders = (("base", "new", "torch"), ("new", "base", "torch"))
    start = clock()
    rounds = 0
    while clock() - start < seconds:
        for name in orders[rounds % 2]:
            t = clock()
            calls[name]()
            times[name].append(clock() - t)
        rounds += 1
    return times


def parse_shape(text):
    """'MxKxN', 'MxKxNT' or 'MxKxNTA' -> (m, k, n, trans_a, trans_b); an argparse type."""
    body, trans_a, trans_b = text, False, False
    if body.endswith("TA"):
        body, trans_a = body[:-2], True
    elif body.endswith("T"):
        body, trans_b = body[:-1], True
    parts = body.split("x")
    if len(parts) != 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(
            f"shape {text!r}: expected MxKxN of positive integers, optionally followed by T "
            f"(B transposed) or TA (A transposed), e.g. 100x784x500T")
    m, k, n = (int(p) for p in parts)
    return m, k, n, trans_a, trans_b


def compare(base, new, shape, seconds, rng):
    m, k, n, trans_a, trans_b = shape
    # 64-byte aligned, as a Linear's weight and torch's tensors are (bench_gemm.py)
    a = aligned(rng.standard_normal((k, m) if trans_a else (m, k)).astype(np.float32))
    b = aligned(rng.standard_normal((n, k) if trans_b else (k, n)).astype(np.float32))
    c = kernn.empty(m, n).numpy()  # 64-byte aligned, as torch's tc (bench_gemm.py)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    ta, tb = (ta.t() if trans_a else ta), (tb.t() if trans_b else tb)
    tc = torch.empty((m, n))
    calls = {
        "base": lambda: base.gemm(a, b, c, trans_a=trans_a, trans_b=trans_b),
        "new": lambda: new.gemm(a, b, c, trans_a=trans_a, trans_b=trans_b),
        "torch": lambda: torch.mm(ta, tb, out=tc),
    }
    times = time_rounds(calls, seconds)
    new_over_base = statistics.median(
        base_t / new_t for base_t, new_t in zip(times["base"], times["new"]))
    new_over_torch = statistics.median(
        torch_t / new_t for torch_t, new_t in zip(times["torch"], times["new"]))
    flops = 2.0 * m * n * k
    gflops = {name: flops / statistics.median(ts) / 1e9 for name, ts in times.items()}
    best = {name: flops / min(ts) / 1e9 for name, ts in times.items()}
    return gflops, best, new_over_base, new_over_torch, len(times["new"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_build_arguments(parser, seconds=3.0)
    parser.add_argument("--shapes", nargs="+", type=parse_shape,
                        default=[parse_shape(s) for s in DEFAULT_SHAPES],
                        help=f"MxKxN[T|TA], e.g. 100x784x500T (default: {' '.join(DEFAULT_SHAPES)})")
    args = parser.parse_args()
    base, new = load_builds(parser, args)
    rng = np.random.default_rng(0)
    print(f"threads {args.threads}; GFLOP/s (medians), the median per-round speed ratios "
          f"(> 1: new faster), and GFLOP/s of the best call")
    print(f"{'shape':>16} {'base':>7} {'new':>7} {'torch':>7} {'new/base':>9} "
          f"{'new/torch':>9} {'rounds':>7} {'best new':>9} {'torch':>7}")
    for shape in args.shapes:
        gflops, best, vs_base, vs_torch, rounds = compare(base, new, shape, args.seconds, rng)
        m, k, n, trans_a, trans_b = shape
        text = f"{m}x{k}x{n}" + ("TA" if trans_a else "T" if trans_b else "")
        print(f"{text:>16} {gflops['base']:7.1f} {gflops['new']:7.1f} {gflops['torch']:7.1f} "
              f"{vs_base:9.3f} {vs_torch:9.3f} {rounds:7d} {best['new']:9.1f} "
              f"{best['torch']:7.1f}", flush=True)


if __name__ == "__main__":
    main()
