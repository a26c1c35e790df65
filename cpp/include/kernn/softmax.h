// Softmax and log-softmax over the last dimension of a (rows, cols) array, float and double.
//
// Max-subtracted (no overflow for any finite input); the row sums are accumulated in double in
// a fixed order (8 interleaved partial sums); float exp is a vectorised polynomial (2 ulp).
// Parallel over rows when rows * cols exceeds kParallelGrain and the caller is not already in a
// parallel region; each row is done by one thread in a fixed order, so results do not depend
// on the thread count.
#pragma once

#include <cstdint>

namespace kernn {

// Row-wise over x (rows, cols): y[r, j] = exp(x[r, j] - m_r) / sum_k exp(x[r, k] - m_r), with
// m_r = max_k x[r, k]. A row of all -inf gives NaN, as torch.
template <typename T>
void softmax_forward(std::int64_t rows, std::int64_t cols, const T* x, T* y);
// dx[r, j] = y[r, j] * (dy[r, j] - sum_k dy[r, k] * y[r, k])
template <typename T>
void softmax_backward(std::int64_t rows, std::int64_t cols, const T* y, const T* dy, T* dx);

// y[r, j] = x[r, j] - m_r - log(sum_k exp(x[r, k] - m_r))
template <typename T>
void log_softmax_forward(std::int64_t rows, std::int64_t cols, const T* x, T* y);
// dx[r, j] = dy[r, j] - exp(y[r, j]) * sum_k dy[r, k]   (y is the log-softmax)
template <typename T>
void log_softmax_backward(std::int64_t rows, std::int64_t cols, const T* y, const T* dy, T* dx);

}  // namespace kernn
