"""kernn GEMM against torch.mm and numpy, side by side in one process.

For each shape and thread count the three libraries run in alternating blocks of about 20 ms
(benchmarks/timing.py: a pause between libraries lets the other OpenMP runtimes' workers
sleep), and each reports the median over the rounds as GFLOP/s (2*m*n*k / time) and the ratio
kernn / torch (> 1: kernn faster).

    PYTHONPATH=python python benchmarks/bench_gemm.py                  # all shapes, 1 and 2 threads
    PYTHONPATH=python python benchmarks/bench_gemm.py --threads 1 --sizes 1024 --repeats 21
    PYTHONPATH=python python benchmarks/bench_gemm.py --dtype float64 --no-perceptron

numpy's BLAS threads follow threadpoolctl when it is installed (else they are whatever the
BLAS picked at start-up, shown as "numpy(threads?)").

On a machine shared with other jobs, `--clock thread` times 1-thread runs by the calling
thread's CPU time (time.thread_time) instead of wall time, so time slices lost to other
processes do not count; it is refused for more than one thread.
"""

import argparse
import os
import time

# numpy's OpenBLAS worker threads busy-wait (sched_yield) for about 2^28 cycles (~0.1 s) after
# each call before they sleep, far longer than timing.py's pause between libraries: at 2
# threads they took a core from whichever library ran next (kernn and torch alike ran 512^3 7x
# slower right after np.matmul). 2^4 cycles lets them sleep at once. Read when OpenBLAS loads,
# so it is set before numpy is imported.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import kernn  # noqa: E402
from kernn import _C  # noqa: E402
from kernn._memory import aligned  # noqa: E402
from timing import positive_int, time_alternating  # noqa: E402

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # numpy's BLAS threads cannot be set in-process then
    threadpool_limits = None

# (label, m, k, n, trans_b): the MNIST perceptron's products, Linear(784,500) and (500,10) at
# batch 100. Forward is x @ W^T (trans_b), backward dW = dy^T @ x and dx = dy @ W.
PERCEPTRON = [
    ("fwd1 (100x784)@(784x500)", 100, 784, 500, True),
    ("fwd2 (100x500)@(500x10)", 100, 500, 10, True),
    ("bwd dW1 (784x100)@(100x500)", 784, 100, 500, False),
    ("bwd dx2 (100x500)@(500x784)", 100, 500, 784, False),
]


def bench_shape(m, k, n, trans_b, dtype, repeats, inner, clock):
    rng = np.random.default_rng(0)
    # The operands are shared, and 64-byte aligned as both libraries' own tensors are (a Linear's
    # weight, torch.randn): numpy's 16-byte-aligned arrays made every 64-byte load of W in the
    # batch-1 product straddle two cache lines (1x784x500T: 22.1 -> 20.1 us aligned). Each
    # library writes into an output of its own allocator's alignment (64 bytes, both; a numpy C
    # made every store of kernn's C tiles straddle two cache lines: 2.5-5 %).
    a = aligned(rng.standard_normal((m, k)).astype(dtype))
    b = aligned(rng.standard_normal((n, k) if trans_b else (k, n)).astype(dtype))
    c = _C.aligned_empty(np.dtype(dtype), [m, n])
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    tbt = tb.t() if trans_b else tb
    tc = torch.empty((m, n), dtype=ta.dtype)
    bn = b.T if trans_b else b
    cn = np.empty((m, n), dtype)

    runners = {
        "kernn": lambda: _C.gemm(a, b, c, trans_b=trans_b),
        "torch": lambda: torch.mm(ta, tbt, out=tc),
        "numpy": lambda: np.matmul(a, bn, out=cn),
    }
    for fn in runners.values():  # warm-up: packing buffers, thread pools
        fn()
    seconds = time_alternating(runners, repeats, inner=inner, clock=clock)
    flops = 2.0 * m * n * k
    return {name: flops / t / 1e9 for name, t in seconds.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=positive_int, nargs="+", default=[1, 2])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256, 512, 1024, 2048])
    parser.add_argument("--repeats", type=positive_int, default=11, help="rounds per shape (median)")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--no-perceptron", action="store_true")
    parser.add_argument("--clock", choices=["wall", "thread"], default="wall",
                        help="wall: perf_counter; thread: CPU time of the calling thread (1 thread only)")
    args = parser.parse_args()
    if args.clock == "thread" and any(t != 1 for t in args.threads):
        parser.error("--clock thread measures one thread; use it with --threads 1")
    clock = time.thread_time if args.clock == "thread" else time.perf_counter
    dtype = np.dtype(args.dtype)

    shapes = [(f"{s}^3", s, s, s, False) for s in args.sizes]
    if not args.no_perceptron:
        shapes += PERCEPTRON
    info = _C.backend_info()
    print(f"kernn isa={info['isa']} openmp={info['openmp']}  torch {torch.__version__}  "
          f"numpy {np.__version__}  dtype {dtype.name}  repeats {args.repeats}  clock {args.clock}")
    for threads in args.threads:
        kernn.set_num_threads(threads)
        torch.set_num_threads(threads)
        limit = threadpool_limits(threads) if threadpool_limits else None
        numpy_label = "numpy" if limit else "numpy(threads?)"
        print(f"\nthreads={threads}")
        print(f"{'shape':32s} {'kernn':>8s} {'torch':>8s} {numpy_label:>15s} {'kernn/torch':>11s}")
        for label, m, k, n, trans_b in shapes:
            flops = 2.0 * m * n * k
            # Keep each timed round around 20 ms so small shapes are not all timer noise.
            inner = max(1, int(2e-2 * 50e9 / flops))
            g = bench_shape(m, k, n, trans_b, dtype, args.repeats, inner, clock)
            print(f"{label:32s} {g['kernn']:8.1f} {g['torch']:8.1f} {g['numpy']:15.1f} "
                  f"{g['kernn'] / g['torch']:11.2f}")
        if limit:
            limit.restore_original_limits()


if __name__ == "__main__":
    main()
