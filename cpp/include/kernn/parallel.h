// Thread control shared by every kernel family.
//
// Kernels open their thread teams through these helpers (parallel_for_each, parallel_chunks,
// run_threads, ...), whose serial branch is a plain loop that never enters the OpenMP runtime;
// in a serial build (KERNN_OPENMP=OFF) the pragmas are ignored and the helpers report a single
// thread.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace kernn {

// Below this many scalar operations a loop runs on one thread: forking a team costs a few
// microseconds, more than the work it would split.
constexpr std::int64_t kParallelGrain = 32768;

inline int max_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

// True inside an OpenMP parallel region: a kernel called from one (conv over a batch chunk,
// say) must not open a nested team of its own.
inline bool in_parallel() {
#ifdef _OPENMP
  return omp_in_parallel() != 0;
#else
  return false;
#endif
}

// Whether `work` scalar operations are worth a thread team: enough of them to pay for the fork,
// and not already inside a parallel region.
inline bool worth_parallel(std::int64_t work) { return work > kParallelGrain && !in_parallel(); }

// Runs f(i) for i in [0, n), the items spread over a thread team when n * work_per_item is
// worth one. The serial branch is a plain loop, without the OpenMP runtime call that an
// `if (false)` clause still makes.
template <typename F>
void parallel_for_each(std::int64_t n, std::int64_t work_per_item, F&& f) {
  if (n > 1 && worth_parallel(n * work_per_item)) {
#pragma omp parallel for schedule(static)
    for (std::int64_t i = 0; i < n; ++i) f(i);
  } else {
    for (std::int64_t i = 0; i < n; ++i) f(i);
  }
}

// Elements per chunk of parallel_chunks.
constexpr std::int64_t kParallelChunk = 4096;

// Runs body(begin, end) over [0, n) in chunks of kParallelChunk elements, spread over a thread
// team when n * ops_per_element is worth one, else as one call over everything. Each chunk is a
// plain loop the compiler vectorises; for an element-wise body the split changes no result.
template <typename F>
void parallel_chunks(std::int64_t n, std::int64_t ops_per_element, F&& body) {
  if (worth_parallel(n * ops_per_element)) {
    const std::int64_t chunks = (n + kParallelChunk - 1) / kParallelChunk;
#pragma omp parallel for schedule(static)
    for (std::int64_t c = 0; c < chunks; ++c) {
      body(c * kParallelChunk, std::min(n, (c + 1) * kParallelChunk));
    }
  } else {
    body(std::int64_t{0}, n);
  }
}

// Runs body(item, begin, end) over elements [0, sizes[item]) of every item (the parameters of
// an optimizer step, say): in chunks of kParallelChunk elements, none spanning two items, spread
// over one thread team when all the items' elements times ops_per_element are worth one, else
// as one call per (non-empty) item.
template <typename F>
void parallel_chunks_of_items(const std::vector<std::int64_t>& sizes,
                              std::int64_t ops_per_element, F&& body) {
  const std::int64_t items = static_cast<std::int64_t>(sizes.size());
  // first_chunk[i]: the index of item i's first chunk, over all the items' chunks in order.
  std::vector<std::int64_t> first_chunk(sizes.size() + 1, 0);
  std::int64_t elements = 0;
  for (std::int64_t i = 0; i < items; ++i) {
    first_chunk[i + 1] = first_chunk[i] + (sizes[i] + kParallelChunk - 1) / kParallelChunk;
    elements += sizes[i];
  }
  const std::int64_t chunks = first_chunk.back();
  if (chunks > 1 && worth_parallel(elements * ops_per_element)) {
#pragma omp parallel for schedule(static)
    for (std::int64_t c = 0; c < chunks; ++c) {
      // The last item starting at or before chunk c (items without elements start where the
      // next one does, so they are never it).
      const std::int64_t item =
          std::upper_bound(first_chunk.begin(), first_chunk.end(), c) - first_chunk.begin() - 1;
      const std::int64_t begin = (c - first_chunk[item]) * kParallelChunk;
      body(item, begin, std::min(sizes[item], begin + kParallelChunk));
    }
  } else {
    for (std::int64_t i = 0; i < items; ++i) {
      if (sizes[i] > 0) body(i, std::int64_t{0}, sizes[i]);
    }
  }
}

// Runs body(begin, end) over the rows [0, rows) of a rows x cols array in blocks of about
// kParallelChunk elements (at least one row each), spread over a thread team when
// rows * cols * ops_per_element is worth one.
template <typename F>
void parallel_row_blocks(std::int64_t rows, std::int64_t cols, std::int64_t ops_per_element,
                         F&& body) {
  const std::int64_t block =
      std::max<std::int64_t>(1, kParallelChunk / std::max<std::int64_t>(1, cols));
  const std::int64_t blocks = (rows + block - 1) / block;
  parallel_for_each(blocks, block * cols * ops_per_element, [&](std::int64_t b) {
    body(b * block, std::min(rows, (b + 1) * block));
  });
}

inline int thread_id() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

// Runs body(t) for every t < threads: on a team when threads > 1 (a team smaller than asked
// for takes several t per thread), else directly on the calling thread, because even
// `#pragma omp parallel if (false)` makes libgomp set up a one-thread team (an allocation and a
// futex wake, about 0.3 us: as long as a whole 64^3 GEMM's packing).
template <typename F>
void run_threads(int threads, const F& body) {
  if (threads > 1) {
#pragma omp parallel num_threads(threads)
    {
#ifdef _OPENMP
      const int team = omp_get_num_threads();
#else
      const int team = 1;
#endif
      for (int t = thread_id(); t < threads; t += team) body(static_cast<std::int64_t>(t));
    }
  } else {
    body(std::int64_t{0});
  }
}

inline void set_max_threads(int n) {
#ifdef _OPENMP
  omp_set_num_threads(n);
#else
  (void)n;
#endif
}

inline bool openmp_enabled() {
#ifdef _OPENMP
  return true;
#else
  return false;
#endif
}

}  // namespace kernn
