// Element-wise activations and the bias gradient (see elementwise.h).
#include "kernn/elementwise.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernn/parallel.h"

namespace kernn {

namespace {

// Sums of float data are accumulated in double: cheap here, and it keeps the result within
// one rounding of the exact sum, so it agrees with torch's (float) pairwise sums to their error.
template <typename T>
using acc_t = double;

// Applies y[i] = f(i) for i in [0, n), in parallel when the loop is worth a team.
template <typename F>
void for_each_index(std::int64_t n, F&& f) {
#pragma omp parallel for schedule(static) if (n > kParallelGrain && !in_parallel())
  for (std::int64_t i = 0; i < n; ++i) f(i);
}

}  // namespace

template <typename T>
void relu_forward(std::int64_t n, const T* x, T* y) {
  // `x < 0 ? 0 : x` rather than std::max so that NaN passes through as in torch.
  for_each_index(n, [=](std::int64_t i) { y[i] = x[i] < T(0) ? T(0) : x[i]; });
}

template <typename T>
void relu_backward(std::int64_t n, const T* x, const T* dy, T* dx) {
  for_each_index(n, [=](std::int64_t i) { dx[i] = x[i] <= T(0) ? T(0) : dy[i]; });
}

template <typename T>
void leaky_relu_forward(std::int64_t n, const T* x, T slope, T* y) {
  for_each_index(n, [=](std::int64_t i) { y[i] = x[i] > T(0) ? x[i] : x[i] * slope; });
}

template <typename T>
void leaky_relu_backward(std::int64_t n, const T* x, const T* dy, T slope, T* dx) {
  for_each_index(n, [=](std::int64_t i) { dx[i] = x[i] > T(0) ? dy[i] : dy[i] * slope; });
}

template <typename T>
void sigmoid_forward(std::int64_t n, const T* x, T* y) {
  for_each_index(n, [=](std::int64_t i) { y[i] = stable_sigmoid(x[i]); });
}

template <typename T>
void sigmoid_backward(std::int64_t n, const T* y, const T* dy, T* dx) {
  for_each_index(n, [=](std::int64_t i) { dx[i] = dy[i] * (T(1) - y[i]) * y[i]; });
}

template <typename T>
void tanh_forward(std::int64_t n, const T* x, T* y) {
  for_each_index(n, [=](std::int64_t i) { y[i] = std::tanh(x[i]); });
}

template <typename T>
void tanh_backward(std::int64_t n, const T* y, const T* dy, T* dx) {
  for_each_index(n, [=](std::int64_t i) { dx[i] = dy[i] * (T(1) - y[i] * y[i]); });
}

template <typename T>
void softsign_forward(std::int64_t n, const T* x, T* y) {
  for_each_index(n, [=](std::int64_t i) { y[i] = x[i] / (T(1) + std::abs(x[i])); });
}

template <typename T>
void softsign_backward(std::int64_t n, const T* x, const T* dy, T* dx) {
  for_each_index(n, [=](std::int64_t i) {
    const T d = T(1) + std::abs(x[i]);
    dx[i] = dy[i] / (d * d);
  });
}

namespace {
// Rows per block of bias_grad: a fixed constant, never derived from the thread count, so the
// summation order (and the bits of the result) are the same for any number of threads.
constexpr std::int64_t kBiasRowBlock = 256;
}  // namespace

template <typename T>
void bias_grad(std::int64_t rows, std::int64_t cols, const T* dy, T* db) {
  if (cols == 0) return;
  const std::int64_t blocks = std::max<std::int64_t>(1, (rows + kBiasRowBlock - 1) / kBiasRowBlock);
  std::vector<acc_t<T>> partial(static_cast<std::size_t>(blocks * cols), 0.0);
#pragma omp parallel for schedule(static) if (blocks > 1 && rows * cols > kParallelGrain && \
                                                  !in_parallel())
  for (std::int64_t b = 0; b < blocks; ++b) {
    acc_t<T>* acc = partial.data() + b * cols;
    const std::int64_t r_end = std::min(rows, (b + 1) * kBiasRowBlock);
    for (std::int64_t r = b * kBiasRowBlock; r < r_end; ++r) {
      const T* row = dy + r * cols;
      for (std::int64_t j = 0; j < cols; ++j) acc[j] += row[j];
    }
  }
  for (std::int64_t j = 0; j < cols; ++j) {
    acc_t<T> s = partial[static_cast<std::size_t>(j)];
    for (std::int64_t b = 1; b < blocks; ++b) s += partial[static_cast<std::size_t>(b * cols + j)];
    db[j] = static_cast<T>(s);
  }
}

#define KERNN_INSTANTIATE(T)                                                                  \
  template void relu_forward<T>(std::int64_t, const T*, T*);                                  \
  template void relu_backward<T>(std::int64_t, const T*, const T*, T*);                       \
  template void leaky_relu_forward<T>(std::int64_t, const T*, T, T*);                         \
  template void leaky_relu_backward<T>(std::int64_t, const T*, const T*, T, T*);              \
  template void sigmoid_forward<T>(std::int64_t, const T*, T*);                               \
  template void sigmoid_backward<T>(std::int64_t, const T*, const T*, T*);                    \
  template void tanh_forward<T>(std::int64_t, const T*, T*);                                  \
  template void tanh_backward<T>(std::int64_t, const T*, const T*, T*);                       \
  template void softsign_forward<T>(std::int64_t, const T*, T*);                              \
  template void softsign_backward<T>(std::int64_t, const T*, const T*, T*);                   \
  template void bias_grad<T>(std::int64_t, std::int64_t, const T*, T*);

KERNN_INSTANTIATE(float)
KERNN_INSTANTIATE(double)
#undef KERNN_INSTANTIATE

}  // namespace kernn
