// Embedding lookup: a table weight (num_embeddings, dim) and n integer indices (int64 or
// int32), each in [0, num_embeddings) (the bindings check that before calling).
#pragma once

#include <cstdint>

namespace kernn {

// Gather: out[i, :] = weight[indices[i], :] for i < n; out is (n, dim).
template <typename T, typename I>
void embedding_forward(const T* weight, std::int64_t dim, const I* indices, std::int64_t n,
                       T* out);

// Scatter-add: dweight = 0, then dweight[indices[i], :] += dy[i, :] for i = 0, 1, ..., n-1 in
// that order; dy is (n, dim), dweight (num_embeddings, dim). Row padding_idx of dweight stays
// 0 (padding_idx < 0: no padding row). Each row of dweight sums its entries of dy in index
// order on one thread (the indices are bucketed by value first, a stable counting sort), so the
// bits do not depend on the thread count.
template <typename T, typename I>
void embedding_backward(const T* dy, const I* indices, std::int64_t n,
                        std::int64_t num_embeddings, std::int64_t dim, std::int64_t padding_idx,
                        T* dweight);

}  // namespace kernn
