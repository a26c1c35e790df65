// Softmax and log-softmax over the last dimension (see softmax.h).
#include "kernn/softmax.h"

#include <cmath>
#include <vector>

#include "kernn/parallel.h"
#include "activations_simd.h"
#include "vec_math.h"

namespace kernn {

// The forward passes take y = exp(x - max) and the row sums a block of rows at a time
// (act::row_exps); the row maxima and sums go to buffers taken before the parallel region
// (std::bad_alloc must not leave one).
template <typename T>
void softmax_forward(std::int64_t rows, std::int64_t cols, const T* x, T* y) {
  std::vector<T> m(static_cast<std::size_t>(rows));
  std::vector<double> sums(static_cast<std::size_t>(rows));
  parallel_row_blocks(rows, cols, act::kRowExpsOps, [&](std::int64_t begin, std::int64_t end) {
    act::row_exps(begin, end, cols, x, m.data(), y, sums.data());
    for (std::int64_t r = begin; r < end; ++r) {
      T* yr = y + r * cols;
      const T inv = static_cast<T>(1.0 / sums[r]);
      for (std::int64_t j = 0; j < cols; ++j) yr[j] *= inv;
    }
  });
}

template <typename T>
void softmax_backward(std::int64_t rows, std::int64_t cols, const T* y, const T* dy, T* dx) {
  parallel_for_each(rows, cols, [=](std::int64_t r) {
    const T* yr = y + r * cols;
    const T* dyr = dy + r * cols;
    T* dxr = dx + r * cols;
    const T d = static_cast<T>(vmath::dot(cols, dyr, yr));
    for (std::int64_t j = 0; j < cols; ++j) dxr[j] = yr[j] * (dyr[j] - d);
  });
}

template <typename T>
void log_softmax_forward(std::int64_t rows, std::int64_t cols, const T* x, T* y) {
  std::vector<T> m(static_cast<std::size_t>(rows));
  std::vector<double> sums(static_cast<std::size_t>(rows));
  parallel_row_blocks(rows, cols, act::kRowExpsOps, [&](std::int64_t begin, std::int64_t end) {
    // y holds exp(x - m) until the log of its sum is known.
    act::row_exps(begin, end, cols, x, m.data(), y, sums.data());
    for (std::int64_t r = begin; r < end; ++r) {
      const T* xr = x + r * cols;
      T* yr = y + r * cols;
      const T log_sum = static_cast<T>(std::log(sums[r]));
      // (x - m) first: m + log_sum would round away log_sum's digits when |m| is large.
      // m == -inf (a row of all -inf) gives -inf - -inf = NaN everywhere, as torch.
      for (std::int64_t j = 0; j < cols; ++j) yr[j] = (xr[j] - m[r]) - log_sum;
    }
  });
}

template <typename T>
void log_softmax_backward(std::int64_t rows, std::int64_t cols, const T* y, const T* dy, T* dx) {
  parallel_for_each(rows, cols, [=](std::int64_t r) {
    const T* yr = y + r * cols;
    const T* dyr = dy + r * cols;
    T* dxr = dx + r * cols;
    const T s = static_cast<T>(vmath::sum(cols, dyr));
    for (std::int64_t j = 0; j < cols; ++j) dxr[j] = dyr[j] - vmath::exp(yr[j]) * s;
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
