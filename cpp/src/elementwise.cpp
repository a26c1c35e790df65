// Element-wise activations and the bias gradient (see elementwise.h).
#include "kernn/elementwise.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernn/parallel.h"
#include "activations_simd.h"

namespace kernn {

template <typename T>
void relu_forward(std::int64_t n, const T* x, T* y) {
  // `x < 0 ? 0 : x` rather than std::max so that NaN passes through as in torch.
  parallel_chunks(n, 1, [=](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) {
      const T v = x[i];
      y[i] = v < T(0) ? T(0) : v;
    }
  });
}

template <typename T>
void relu_backward(std::int64_t n, const T* x, const T* dy, T* dx) {
  parallel_chunks(n, 1, [=](std::int64_t b, std::int64_t e) {
    relu_backward_loop(e - b, x + b, dy + b, dx + b);
  });
}

template <typename T>
void leaky_relu_forward(std::int64_t n, const T* x, T slope, T* y) {
  parallel_chunks(n, 1, [=](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) {
      const T v = x[i];
      y[i] = v > T(0) ? v : v * slope;
    }
  });
}

template <typename T>
void leaky_relu_backward(std::int64_t n, const T* x, const T* dy, T slope, T* dx) {
  parallel_chunks(n, 1, [=](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) {
      const T v = x[i], d = dy[i];
      dx[i] = v > T(0) ? d : d * slope;
    }
  });
}

template <typename T>
void sigmoid_forward(std::int64_t n, const T* x, T* y) {
  parallel_chunks(n, 1, [=](std::int64_t b, std::int64_t e) {
    act::sigmoid(e - b, x + b, y + b);
  });
}

template <typename T>
void sigmoid_backward(std::int64_t n, const T* y, const T* dy, T* dx) {
  parallel_chunks(n, 1, [=](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) dx[i] = dy[i] * (T(1) - y[i]) * y[i];
  });
}

template <typename T>
void tanh_forward(std::int64_t n, const T* x, T* y) {
  parallel_chunks(n, 1, [=](std::int64_t b, std::int64_t e) {
    act::tanh(e - b, x + b, y + b);
  });
}

template <typename T>
void tanh_backward(std::int64_t n, const T* y, const T* dy, T* dx) {
  parallel_chunks(n, 1, [=](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) dx[i] = dy[i] * (T(1) - y[i] * y[i]);
  });
}

template <typename T>
void softsign_forward(std::int64_t n, const T* x, T* y) {
  parallel_chunks(n, 1, [=](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) y[i] = x[i] / (T(1) + std::abs(x[i]));
  });
}

template <typename T>
void softsign_backward(std::int64_t n, const T* x, const T* dy, T* dx) {
  parallel_chunks(n, 1, [=](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) {
      const T d = T(1) + std::abs(x[i]);
      dx[i] = dy[i] / (d * d);
    }
  });
}

// ELU, GELU, SiLU, softplus and log-sigmoid run activations_simd.h's loops (float: vmath's
// exp / sigmoid / erf / tanh / log1p / expm1 in the SIMD build in use; double: the same
// formulas on libm). The ops-per-element counts given to parallel_chunks are rough costs.

template <typename T>
void elu_forward(std::int64_t n, const T* x, T alpha, T* y) {
  parallel_chunks(n, 8, [=](std::int64_t b, std::int64_t e) {
    act::elu(e - b, x + b, alpha, y + b);
  });
}

template <typename T>
void elu_backward(std::int64_t n, const T* x, const T* dy, T alpha, T* dx) {
  parallel_chunks(n, 8, [=](std::int64_t b, std::int64_t e) {
    act::elu_backward(e - b, x + b, dy + b, alpha, dx + b);
  });
}

template <typename T>
void gelu_forward(std::int64_t n, const T* x, bool approximate_tanh, T* y) {
  parallel_chunks(n, 16, [=](std::int64_t b, std::int64_t e) {
    if (approximate_tanh) {
      act::gelu_tanh(e - b, x + b, y + b);
    } else {
      act::gelu(e - b, x + b, y + b);
    }
  });
}

template <typename T>
void gelu_backward(std::int64_t n, const T* x, const T* dy, bool approximate_tanh, T* dx) {
  parallel_chunks(n, 24, [=](std::int64_t b, std::int64_t e) {
    if (approximate_tanh) {
      act::gelu_tanh_backward(e - b, x + b, dy + b, dx + b);
    } else {
      act::gelu_backward(e - b, x + b, dy + b, dx + b);
    }
  });
}

template <typename T>
void silu_forward(std::int64_t n, const T* x, T* y) {
  parallel_chunks(n, 8, [=](std::int64_t b, std::int64_t e) { act::silu(e - b, x + b, y + b); });
}

template <typename T>
void silu_backward(std::int64_t n, const T* x, const T* dy, T* dx) {
  parallel_chunks(n, 8, [=](std::int64_t b, std::int64_t e) {
    act::silu_backward(e - b, x + b, dy + b, dx + b);
  });
}

template <typename T>
void softplus_forward(std::int64_t n, const T* x, T beta, T threshold, T* y) {
  parallel_chunks(n, 16, [=](std::int64_t b, std::int64_t e) {
    act::softplus(e - b, x + b, beta, threshold, y + b);
  });
}

template <typename T>
void softplus_backward(std::int64_t n, const T* x, const T* dy, T beta, T threshold, T* dx) {
  parallel_chunks(n, 8, [=](std::int64_t b, std::int64_t e) {
    act::softplus_backward(e - b, x + b, dy + b, beta, threshold, dx + b);
  });
}

template <typename T>
void hardtanh_forward(std::int64_t n, const T* x, T min_val, T max_val, T* y) {
  // Comparisons written so that NaN fails both and passes through, as torch.clamp.
  parallel_chunks(n, 1, [=](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) {
      const T v = x[i];
      y[i] = v < min_val ? min_val : (v > max_val ? max_val : v);
    }
  });
}

template <typename T>
void hardtanh_backward(std::int64_t n, const T* x, const T* dy, T min_val, T max_val, T* dx) {
  parallel_chunks(n, 1, [=](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) {
      const T v = x[i];
      dx[i] = (v <= min_val || v >= max_val) ? T(0) : dy[i];
    }
  });
}

template <typename T>
void log_sigmoid_forward(std::int64_t n, const T* x, T* y) {
  parallel_chunks(n, 16, [=](std::int64_t b, std::int64_t e) {
    act::log_sigmoid(e - b, x + b, y + b);
  });
}

template <typename T>
void log_sigmoid_backward(std::int64_t n, const T* x, const T* dy, T* dx) {
  parallel_chunks(n, 8, [=](std::int64_t b, std::int64_t e) {
    act::log_sigmoid_backward(e - b, x + b, dy + b, dx + b);
  });
}

namespace {
// Rows per block of bias_grad: at least kBiasMinRowBlock, and large enough that there are at
// most kBiasMaxBlocks partial rows to keep. A function of the shape only, never of the thread
// count, so the summation order (and the bits of the result) are the same for any number of
// threads.
constexpr std::int64_t kBiasMinRowBlock = 256;
constexpr std::int64_t kBiasMaxBlocks = 64;

// Columns per item of bias_grad's parallel loop.
constexpr std::int64_t kBiasColumnChunk = 128;

// db = column sums of dy, or with kMask of dz = relu_backward(y, dy), which is written too.
// Float data are summed in double: cheap here, and it keeps the result within one rounding of
// the exact sum, so it agrees with torch's (float) pairwise sums to their error.
template <bool kMask, typename T>
void column_sums(std::int64_t rows, std::int64_t cols, const T* dy, const T* y, T* dz, T* db) {
  if (cols == 0) return;
  const std::int64_t row_block =
      std::max(kBiasMinRowBlock, (rows + kBiasMaxBlocks - 1) / kBiasMaxBlocks);
  const std::int64_t blocks = std::max<std::int64_t>(1, (rows + row_block - 1) / row_block);
  std::vector<double> partial(static_cast<std::size_t>(blocks * cols), 0.0);
  // Block b of rows, columns [c0, c0 + width), into its partial sums.
  const auto sum_block = [&](std::int64_t b, std::int64_t c0, std::int64_t width) {
    const std::int64_t begin = b * row_block, end = std::min(rows, (b + 1) * row_block);
    double* acc = partial.data() + b * cols + c0;
    if constexpr (kMask) {
      act::relu_add_rows(begin, end, cols, width, dy + c0, y + c0, dz + c0, acc);
    } else {
      act::add_rows(begin, end, cols, width, dy + c0, acc);
    }
  };
  // Threads take blocks of rows or, where there is one (a batch of at most kBiasMinRowBlock),
  // chunks of its columns: each column's sum is the same either way. (Chunks of columns over
  // several blocks would walk dy with a stride: 1000 x 784 was 1.2-1.5x slower.)
  if (blocks == 1) {
    const std::int64_t chunks = (cols + kBiasColumnChunk - 1) / kBiasColumnChunk;
    parallel_for_each(chunks, rows * kBiasColumnChunk, [&](std::int64_t c) {
      const std::int64_t c0 = c * kBiasColumnChunk;
      sum_block(0, c0, std::min(kBiasColumnChunk, cols - c0));
    });
  } else {
    parallel_for_each(blocks, row_block * cols, [&](std::int64_t b) { sum_block(b, 0, cols); });
  }
  for (std::int64_t j = 0; j < cols; ++j) {
    double s = partial[static_cast<std::size_t>(j)];
    for (std::int64_t b = 1; b < blocks; ++b) s += partial[static_cast<std::size_t>(b * cols + j)];
    db[j] = static_cast<T>(s);
  }
}
}  // namespace

template <typename T>
void bias_grad(std::int64_t rows, std::int64_t cols, const T* dy, T* db) {
  column_sums<false>(rows, cols, dy, static_cast<const T*>(nullptr), static_cast<T*>(nullptr),
                     db);
}

template <typename T>
void relu_backward_bias_grad(std::int64_t rows, std::int64_t cols, const T* y, const T* dy, T* dz,
                             T* db) {
  column_sums<true>(rows, cols, dy, y, dz, db);
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
  template void elu_forward<T>(std::int64_t, const T*, T, T*);                              \
  template void elu_backward<T>(std::int64_t, const T*, const T*, T, T*);                   \
  template void gelu_forward<T>(std::int64_t, const T*, bool, T*);                          \
  template void gelu_backward<T>(std::int64_t, const T*, const T*, bool, T*);               \
  template void silu_forward<T>(std::int64_t, const T*, T*);                                \
  template void silu_backward<T>(std::int64_t, const T*, const T*, T*);                     \
  template void softplus_forward<T>(std::int64_t, const T*, T, T, T*);                      \
  template void softplus_backward<T>(std::int64_t, const T*, const T*, T, T, T*);           \
  template void hardtanh_forward<T>(std::int64_t, const T*, T, T, T*);                      \
  template void hardtanh_backward<T>(std::int64_t, const T*, const T*, T, T, T*);           \
  template void log_sigmoid_forward<T>(std::int64_t, const T*, T*);                         \
  template void log_sigmoid_backward<T>(std::int64_t, const T*, const T*, T*);              \
  template void bias_grad<T>(std::int64_t, std::int64_t, const T*, T*);                       \
  template void relu_backward_bias_grad<T>(std::int64_t, std::int64_t, const T*, const T*, T*,  \
                                           T*);

KERNN_INSTANTIATE(float)
KERNN_INSTANTIATE(double)
#undef KERNN_INSTANTIATE

}  // namespace kernn
