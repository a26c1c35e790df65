/* The floor under batch-1 inference: how long one core takes just to read a layer's weights.

A batch-1 forward of Linear(784, 500) reads each of its 392,000 float32 weights once (1.57 MB).
Where that exceeds the core's L2 (1 MiB on a Zen 4) the weights come from L3 on every call, so
no kernel can take less time than a plain read of the same bytes from L3. This program times
that read: a buffer of the given size (default 1,568,000 bytes), read in full again and again
with wide loads and nothing else, and prints the best and median time per pass and the
bandwidth. Compare with bench_mlp.py's "W2 infer b1" (kernn's whole forward) and torch's time.

    gcc -O3 -march=native -o /tmp/read_floor benchmarks/read_floor.c && /tmp/read_floor

(-march=native is fine here: this is a measurement of the host, not part of the package.)
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { kPasses = 4000, kLanes = 16 };

static double seconds_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int compare_doubles(const void* x, const void* y) {
  const double a = *(const double*)x, b = *(const double*)y;
  return (a > b) - (a < b);
}

/* XOR of all words, in kLanes independent lanes: the compiler turns it into wide loads and
   XORs, one per cache line or half line, with no dependency chain to wait on. */
static uint64_t read_all(const uint64_t* words, size_t count) {
  uint64_t lanes[kLanes] = {0};
  for (size_t i = 0; i + kLanes <= count; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) lanes[l] ^= words[i + l];
  }
  uint64_t folded = 0;
  for (int l = 0; l < kLanes; ++l) folded ^= lanes[l];
  return folded;
}

int main(int argc, char** argv) {
  const size_t bytes = argc > 1 ? (size_t)atol(argv[1]) : 1568000;
  const size_t count = bytes / sizeof(uint64_t) / kLanes * kLanes;
  uint64_t* words = aligned_alloc(64, (count * sizeof(uint64_t) + 63) / 64 * 64);
  double* times = malloc(kPasses * sizeof(double));
  if (words == NULL || times == NULL || count == 0) {
    fprintf(stderr, "read_floor: cannot allocate %zu bytes\n", bytes);
    return 1;
  }
  for (size_t i = 0; i < count; ++i) words[i] = i * 0x9E3779B97F4A7C15ull;
  uint64_t sink = 0;
  for (int pass = 0; pass < kPasses; ++pass) {
    const double start = seconds_now();
    sink += read_all(words, count);
    times[pass] = seconds_now() - start;
  }
  qsort(times, kPasses, sizeof(double), compare_doubles);
  const double best = times[0], median = times[kPasses / 2];
  const double read = (double)(count * sizeof(uint64_t));
  printf("%zu bytes: best %.2f us (%.1f GB/s), median %.2f us (%.1f GB/s)  [sink %llx]\n",
         count * sizeof(uint64_t), best * 1e6, read / best / 1e9, median * 1e6,
         read / median / 1e9, (unsigned long long)sink);
  free(times);
  free(words);
  return 0;
}
