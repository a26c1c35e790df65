// Softmax and log-softmax over the last dimension (see softmax.h).
#include "kernn/softmax.h"

#include <vector>

#include "kernn/parallel.h"
#include "activations_simd.h"

namespace kernn {

// The forward passes run a block of rows at a time (act::softmax_rows, act::log_softmax_rows);
// the row maxima and sums go to buffers taken before the parallel region (std::bad_alloc must
// not leave one).
template <typename T>
void softmax_forward(std::int64_t rows, std::int64_t cols, const T* x, T* y) {
  std::vector<T> m(static_cast<std::size_t>(rows));
  std::vector<double> sums(static_cast<std::size_t>(rows));
  parallel_row_blocks(rows, cols, act::kRowExpsOps, [&](std::int64_t begin, std::int64_t end) {
    act::softmax_rows(begin, end, cols, x, m.data(), sums.data(), y);
  });
}

template <typename T>
void softmax_backward(std::int64_t rows, std::int64_t cols, const T* y, const T* dy, T* dx) {
  // About 4 operations per element: the dot's multiply-add, the subtraction, the product.
  parallel_row_blocks(rows, cols, 4, [=](std::int64_t begin, std::int64_t end) {
    act::softmax_backward_rows(begin, end, cols, y, dy, dx);
  });
}

template <typename T>
void log_softmax_forward(std::int64_t rows, std::int64_t cols, const T* x, T* y) {
  std::vector<T> m(static_cast<std::size_t>(rows));
  std::vector<double> sums(static_cast<std::size_t>(rows));
  parallel_row_blocks(rows, cols, act::kRowExpsOps, [&](std::int64_t begin, std::int64_t end) {
    act::log_softmax_rows(begin, end, cols, x, m.data(), sums.data(), y);
  });
}

template <typename T>
void log_softmax_backward(std::int64_t rows, std::int64_t cols, const T* y, const T* dy, T* dx) {
  parallel_row_blocks(rows, cols, act::kRowExpsOps, [=](std::int64_t begin, std::int64_t end) {
    act::log_softmax_backward_rows(begin, end, cols, y, dy, dx);
  });
}

#define KERNN_INSTANTIATE(T)                                                                  \
  template void softmax_forward<T>(std::int64_t, std::int64_t, const T*, T*);                 \
  template void softmax_backward<T>(std::int64_t, std::int64_t, const T*, const T*, T*);      \
  template void log_softmax_forward<T>(std::int64_t, std::int64_t, const T*, T*);             \
  template void log_softmax_backward<T>(std::int64_t, std::int64_t, const T*, const T*, T*);

KERNN_INSTANTIATE(float)
KERNN_INSTANTIATE(double)
#undef KERNN_INSTANTIATE

}  // namespace kernn
