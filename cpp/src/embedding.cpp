// Embedding kernels (see kernn/embedding.h for the formulas).
#include "kernn/embedding.h"

#include <algorithm>
#include <vector>

#include "kernn/parallel.h"

namespace kernn {

template <typename T, typename I>
void embedding_forward(const T* weight, std::int64_t dim, const I* indices, std::int64_t n,
                       T* out) {
  parallel_row_blocks(n, dim, 1, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      const T* row = weight + static_cast<std::int64_t>(indices[i]) * dim;
      std::copy(row, row + dim, out + i * dim);
    }
  });
}

template <typename T, typename I>
void embedding_backward(const T* dy, const I* indices, std::int64_t n,
                        std::int64_t num_embeddings, std::int64_t dim, std::int64_t padding_idx,
                        T* dweight) {
  // No element to write: without this, a (2**40, 0) gradient asked for 8 TiB of buckets.
  if (dim == 0 || num_embeddings == 0) return;
  // Bucket the positions i by index value, keeping them in increasing order within a bucket:
  // positions[first[v] .. first[v + 1]) are the i with indices[i] == v.
  std::vector<std::int64_t> first(num_embeddings + 1, 0);
  for (std::int64_t i = 0; i < n; ++i) ++first[static_cast<std::int64_t>(indices[i]) + 1];
  for (std::int64_t v = 0; v < num_embeddings; ++v) first[v + 1] += first[v];
  std::vector<std::int64_t> positions(n);
  {
    std::vector<std::int64_t> next(first.begin(), first.end() - 1);
    for (std::int64_t i = 0; i < n; ++i) {
      positions[next[static_cast<std::int64_t>(indices[i])]++] = i;
    }
  }
  // Rows touched by no index are only zeroed; weigh the work by the average bucket.
  const std::int64_t work_per_row = dim * (1 + n / std::max<std::int64_t>(1, num_embeddings));
  parallel_for_each(num_embeddings, work_per_row, [&](std::int64_t v) {
    T* row = dweight + v * dim;
    std::fill(row, row + dim, T(0));
    if (v == padding_idx) return;
    for (std::int64_t k = first[v]; k < first[v + 1]; ++k) {
      const T* g = dy + positions[k] * dim;
      for (std::int64_t j = 0; j < dim; ++j) row[j] += g[j];
    }
  });
}

#define KERNN_INSTANTIATE_EMBEDDING(T, I)                                                      \
  template void embedding_forward<T, I>(const T*, std::int64_t, const I*, std::int64_t, T*); \
  template void embedding_backward<T, I>(const T*, const I*, std::int64_t, std::int64_t,       \
                                         std::int64_t, std::int64_t, T*);

KERNN_INSTANTIATE_EMBEDDING(float, std::int64_t)
KERNN_INSTANTIATE_EMBEDDING(double, std::int64_t)
KERNN_INSTANTIATE_EMBEDDING(float, std::int32_t)
KERNN_INSTANTIATE_EMBEDDING(double, std::int32_t)

}  // namespace kernn
