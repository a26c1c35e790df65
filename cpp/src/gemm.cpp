// First, simple GEMM (see kernn/gemm.h): OpenMP over rows of C, i-p-j loop order so the inner
// loop runs along a row of B and C. The packed, cache-blocked version replaces it.
#include "kernn/gemm.h"

#include <vector>

#include "kernn/parallel.h"

namespace kernn {

template <typename T>
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, T alpha,
          const T* a, std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c,
          std::int64_t ldc, const GemmEpilogue<T>& epilogue) {
  const bool parallel = !in_parallel() && m * n * k > kParallelGrain;
#pragma omp parallel for schedule(static) if (parallel)
  for (std::int64_t i = 0; i < m; ++i) {
    std::vector<T> acc(static_cast<std::size_t>(n), T(0));
    if (alpha != T(0)) {
      for (std::int64_t p = 0; p < k; ++p) {
        const T a_ip = trans_a ? a[p * lda + i] : a[i * lda + p];
        for (std::int64_t j = 0; j < n; ++j) {
          acc[j] += a_ip * (trans_b ? b[j * ldb + p] : b[p * ldb + j]);
        }
      }
    }
    T* c_row = c + i * ldc;
    for (std::int64_t j = 0; j < n; ++j) {
      T value = alpha * acc[j];
      if (beta != T(0)) value += beta * c_row[j];
      if (epilogue.col_bias) value += epilogue.col_bias[j];
      if (epilogue.row_bias) value += epilogue.row_bias[i];
      if (epilogue.relu && value < T(0)) value = T(0);
      c_row[j] = value;
    }
  }
}

template void gemm<float>(bool, bool, std::int64_t, std::int64_t, std::int64_t, float,
                          const float*, std::int64_t, const float*, std::int64_t, float, float*,
                          std::int64_t, const GemmEpilogue<float>&);
template void gemm<double>(bool, bool, std::int64_t, std::int64_t, std::int64_t, double,
                           const double*, std::int64_t, const double*, std::int64_t, double,
                           double*, std::int64_t, const GemmEpilogue<double>&);

}  // namespace kernn
