/* Two floors under the W2 net's 1-thread targets: what one core of this host can do at best.

1. Batch-1 inference reads each of Linear(784, 500)'s 392,000 float32 weights once (1.57 MB).
   Where that exceeds the core's L2 (1 MiB on a Zen 4) the weights come from L3 on every call,
   so no kernel can take less time than a plain read of the same bytes from L3. "read" times
   that: a buffer of the given size (default 1,568,000 bytes) read in full again and again with
   wide loads and nothing else.
2. Adam's update does, per parameter, two correctly rounded divisions and a square root (torch's
   formula, which kernn keeps bit for bit: denom = sqrt(v) / sqrt(bc2) + eps, p += -lr' * m /
   denom). "adam" times that arithmetic on arrays that stay in L1 (no memory traffic) and scales
   it to the W2 net's 397,510 parameters.

Compare with bench_mlp.py's "W2 infer b1" and "W2 train" (kernn's whole forward or step, and
torch's).

    gcc -O3 -march=native -fno-math-errno -o /tmp/floors benchmarks/floors.c && /tmp/floors

(-march=native is fine here: this measures the host and is not part of the package.)
*/
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { kPasses = 4000, kLanes = 16, kAdamElements = 4096, kW2Parameters = 397510 };

static double seconds_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int compare_doubles(const void* x, const void* y) {
  const double a = *(const double*)x, b = *(const double*)y;
  return (a > b) - (a < b);
}

/* Best and median of kPasses timed calls of pass(state). */
static void time_passes(void (*pass)(void*), void* state, double* best, double* median) {
  static double times[kPasses];
  for (int i = 0; i < kPasses; ++i) {
    const double start = seconds_now();
    pass(state);
    times[i] = seconds_now() - start;
  }
  qsort(times, kPasses, sizeof(double), compare_doubles);
  *best = times[0];
  *median = times[kPasses / 2];
}

struct ReadState {
  const uint64_t* words;
  size_t count;
  uint64_t sink;
};

/* XOR of all words in kLanes independent lanes: the compiler makes it wide loads and XORs with
   no dependency chain to wait on. */
static void read_pass(void* opaque) {
  struct ReadState* s = opaque;
  uint64_t lanes[kLanes] = {0};
  for (size_t i = 0; i + kLanes <= s->count; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) lanes[l] ^= s->words[i + l];
  }
  for (int l = 0; l < kLanes; ++l) s->sink += lanes[l];
}

struct AdamState {
  float p[kAdamElements], g[kAdamElements], m[kAdamElements], v[kAdamElements];
};

/* One Adam step (beta1 0.9, beta2 0.999, lr 1e-3, step 10) in torch's order of operations. */
static void adam_pass(void* opaque) {
  struct AdamState* s = opaque;
  const float one_minus_beta1 = 0.1f, beta2 = 0.999f, one_minus_beta2 = 0.001f;
  const float bc2_sqrt = 0.0998f, eps = 1e-8f, neg_step_size = -1.5e-3f;
  for (int i = 0; i < kAdamElements; ++i) {
    const float g = s->g[i];
    const float m = s->m[i] + one_minus_beta1 * (g - s->m[i]);
    const float v = s->v[i] * beta2 + one_minus_beta2 * g * g;
    s->m[i] = m;
    s->v[i] = v;
    s->p[i] = s->p[i] + neg_step_size * m / (sqrtf(v) / bc2_sqrt + eps);
  }
}

int main(int argc, char** argv) {
  const size_t bytes = argc > 1 ? (size_t)atol(argv[1]) : 1568000;
  struct ReadState read = {NULL, bytes / sizeof(uint64_t) / kLanes * kLanes, 0};
  uint64_t* words = aligned_alloc(64, (read.count * sizeof(uint64_t) + 63) / 64 * 64);
  struct AdamState* adam = aligned_alloc(64, sizeof(struct AdamState));
  if (words == NULL || adam == NULL || read.count == 0) {
    fprintf(stderr, "floors: cannot allocate %zu bytes\n", bytes);
    return 1;
  }
  for (size_t i = 0; i < read.count; ++i) words[i] = i * 0x9E3779B97F4A7C15ull;
  read.words = words;
  for (int i = 0; i < kAdamElements; ++i) {
    adam->p[i] = 0.01f * (float)(i % 97);
    adam->g[i] = 1e-3f * (float)(i % 89) - 0.04f;
    adam->m[i] = 0.0f;
    adam->v[i] = 0.0f;
  }
  double best, median;
  time_passes(read_pass, &read, &best, &median);
  const double read_bytes = (double)(read.count * sizeof(uint64_t));
  printf("read %zu bytes from L3: best %.2f us (%.1f GB/s), median %.2f us (%.1f GB/s)\n",
         read.count * sizeof(uint64_t), best * 1e6, read_bytes / best / 1e9, median * 1e6,
         read_bytes / median / 1e9);
  time_passes(adam_pass, adam, &best, &median);
  const double scale = (double)kW2Parameters / kAdamElements;
  printf("adam arithmetic, data in L1: best %.3f ns (median %.3f) per element; "
         "%d parameters: %.1f us (median %.1f)\n",
         best * 1e9 / kAdamElements, median * 1e9 / kAdamElements, kW2Parameters,
         best * scale * 1e6, median * scale * 1e6);
  /* Keeps both loops' results alive. */
  printf("(checksums %llx %g)\n", (unsigned long long)read.sink, (double)adam->p[kAdamElements / 2]);
  free(adam);
  free(words);
  return 0;
}
