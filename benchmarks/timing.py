"""Side-by-side timing shared by the benchmark scripts.

kernn and torch each bring an OpenMP runtime, and each runtime's idle workers spin-wait for a
while after every parallel region (libgomp: GOMP_SPINCOUNT iterations, milliseconds). Timed back
to back, one library's spinning workers hold the cores the other library's threads need: at 2
threads on 2 cores both looked 5-50x slower than either is alone. So every round times one
library at a time: it pauses first (long enough for the other runtime's workers to go to sleep),
makes one untimed call (waking its own workers), then times a block of calls. The pause keeps
the calling thread busy: after an idle pause (time.sleep) both libraries ran slower for tens of
milliseconds, torch more than kernn (W2 step at 1 thread on a Zen 4: kernn 2.11 -> 2.43 ms,
torch 3.33 -> 4.34 ms; batch-1 inference torch 51 -> 65 us), so sleeping made the ratios look
better for kernn than a training loop, which never idles between steps, finds them. The order of the
libraries alternates from round to round so that neither always goes first; the result is the
median over rounds of the time per call, and for a comparison the median over rounds of the two
libraries' ratio in the same round (the blocks of a round are a tenth of a second apart, so the
ratio cancels the host's slower swings, which move both) with its interquartile range.
"""

import argparse
import statistics
import time

# Longer than libgomp's default spin (about 300,000 pause iterations) on any current CPU.
SETTLE_SECONDS = 0.03


def busy_pause(seconds, clock=time.perf_counter):
    """Keep the calling thread running for `seconds`, doing nothing (see the top: not a sleep)."""
    end = clock() + seconds
    while clock() < end:
        pass


def alternating_rounds(runners, repeats, *, inner=1, clock=time.perf_counter,
                       settle=SETTLE_SECONDS, warm_call=True):
    """Seconds per call of each runner in each round, timed in alternating blocks.

    Args:
        runners: dict name -> zero-argument callable (the work to time).
        repeats: number of rounds; each round times every runner once.
        inner: calls per timed block (the block's time is divided by it).
        clock: time source, e.g. time.perf_counter or time.thread_time.
        settle: pause in seconds before each runner's block (busy_pause).
        warm_call: make one untimed call before each block (off for long calls, such as a
            training epoch, whose own first steps wake the workers).

    Returns:
        dict name -> list of seconds per call, one per round (rounds in order).
    """
    order = list(runners)
    times = {name: [] for name in order}
    for r in range(repeats):
        for name in (order if r % 2 == 0 else order[::-1]):
            fn = runners[name]
            busy_pause(settle)
            if warm_call:
                fn()
            start = clock()
            for _ in range(inner):
                fn()
            times[name].append((clock() - start) / inner)
    return times


def time_alternating(runners, repeats, **options):
    """Median seconds per call of each runner over alternating_rounds(runners, repeats,
    **options): dict name -> seconds."""
    rounds = alternating_rounds(runners, repeats, **options)
    return {name: statistics.median(ts) for name, ts in rounds.items()}


def round_ratio(rounds, numerator, denominator):
    """numerator's time over denominator's, round by round (rounds from alternating_rounds):
    (median, first quartile, third quartile) of the per-round ratios."""
    ratios = [a / b for a, b in zip(rounds[numerator], rounds[denominator])]
    if len(ratios) == 1:
        return ratios[0], ratios[0], ratios[0]
    q1, median, q3 = statistics.quantiles(ratios, n=4, method="inclusive")
    return median, q1, q3


def kernn_vs_torch(runners, repeats, **options):
    """alternating_rounds(runners, repeats, **options) of {"kernn": ..., "torch": ...}:
    (kernn's median seconds per call, torch's, round_ratio of kernn over torch)."""
    rounds = alternating_rounds(runners, repeats, **options)
    return (statistics.median(rounds["kernn"]), statistics.median(rounds["torch"]),
            round_ratio(rounds, "kernn", "torch"))


def fmt_ratio(ratio):
    """A round_ratio for the result tables, 16 characters: '0.55 (0.52-0.58)'."""
    median, q1, q3 = ratio
    return f"{median:5.2f} ({q1:.2f}-{q3:.2f})"


def calls_per_block(fn, target_seconds=0.02, clock=time.perf_counter):
    """How many calls of fn fill about target_seconds (at least 1): keeps short calls above the
    clock's resolution without making long ones slow to benchmark."""
    start = clock()
    fn()
    elapsed = clock() - start
    return max(1, int(target_seconds / max(elapsed, 1e-7)))


def fmt_time(seconds):
    """A per-call time for the result tables, 11 characters: seconds from 1 s, milliseconds
    from 1 ms, else microseconds."""
    if seconds >= 1.0:
        return f"{seconds:9.3f} s"
    return f"{seconds * 1e3:8.3f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:8.1f} us"


def positive_int(text):
    """An argparse type for counts (rounds, epochs, threads): an int of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive int, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive int, got {value}")
    return value
