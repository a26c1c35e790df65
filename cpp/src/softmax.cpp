// Softmax and log-softmax over the last dimension (see softmax.h).
#include "kernn/softmax.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernn/parallel.h"

namespace kernn {

namespace {

// Row sums of float data are accumulated in double: one rounding from the exact sum.
template <typename T>
using acc_t = double;

// Runs f(r) for each row; `cols` scales the work estimate.
template <typename F>
void for_each_row(std::int64_t rows, [[maybe_unused]] std::int64_t cols, F&& f) {
#pragma omp parallel for schedule(static) if (rows * cols > kParallelGrain && rows > 1 && \
                                                  !in_parallel())
  for (std::int64_t r = 0; r < rows; ++r) f(r);
}

template <typename T>
T row_max(std::int64_t cols, const T* x) {
  T m = -std::numeric_limits<T>::infinity();
  for (std::int64_t j = 0; j < cols; ++j) m = std::max(m, x[j]);
  return m;
}

}  // namespace

template <typename T>
void softmax_forward(std::int64_t rows, std::int64_t cols, const T* x, T* y) {
  for_each_row(rows, cols, [=](std::int64_t r) {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    const T m = row_max(cols, xr);
    acc_t<T> sum = 0;
    for (std::int64_t j = 0; j < cols; ++j) {
      yr[j] = std::exp(xr[j] - m);
      sum += yr[j];
    }
    const T inv = static_cast<T>(1.0 / sum);
    for (std::int64_t j = 0; j < cols; ++j) yr[j] *= inv;
  });
}

template <typename T>
void softmax_backward(std::int64_t rows, std::int64_t cols, const T* y, const T* dy, T* dx) {
  for_each_row(rows, cols, [=](std::int64_t r) {
    const T* yr = y + r * cols;
    const T* dyr = dy + r * cols;
    T* dxr = dx + r * cols;
    acc_t<T> dot = 0;
    for (std::int64_t j = 0; j < cols; ++j) dot += static_cast<acc_t<T>>(dyr[j]) * yr[j];
    const T d = static_cast<T>(dot);
    for (std::int64_t j = 0; j < cols; ++j) dxr[j] = yr[j] * (dyr[j] - d);
  });
}

template <typename T>
void log_softmax_forward(std::int64_t rows, std::int64_t cols, const T* x, T* y) {
  for_each_row(rows, cols, [=](std::int64_t r) {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    const T m = row_max(cols, xr);
    acc_t<T> sum = 0;
    for (std::int64_t j = 0; j < cols; ++j) sum += std::exp(xr[j] - m);
    const T log_sum = static_cast<T>(std::log(sum));
    // (x - m) first: m + log_sum would round away log_sum's digits when |m| is large.
    // m == -inf (a row of all -inf) gives -inf - -inf = NaN everywhere, as torch.
    for (std::int64_t j = 0; j < cols; ++j) yr[j] = (xr[j] - m) - log_sum;
  });
}

template <typename T>
void log_softmax_backward(std::int64_t rows, std::int64_t cols, const T* y, const T* dy, T* dx) {
  for_each_row(rows, cols, [=](std::int64_t r) {
    const T* yr = y + r * cols;
    const T* dyr = dy + r * cols;
    T* dxr = dx + r * cols;
    acc_t<T> sum = 0;
    for (std::int64_t j = 0; j < cols; ++j) sum += dyr[j];
    const T s = static_cast<T>(sum);
    for (std::int64_t j = 0; j < cols; ++j) dxr[j] = dyr[j] - std::exp(yr[j]) * s;
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
