// The naive GEMM every fast path is tested against (see kernn/gemm.h for shapes and semantics).
//
//   C[i, j] = act(alpha * sum_p op(A)[i, p] * op(B)[p, j] + beta * C[i, j]
//                 + col_bias[j] + row_bias[i])
//
// The sum runs over p = 0 .. k-1 in order, accumulated in T. beta == 0 means C is not read;
// alpha == 0 means A and B are not read (as in BLAS), so NaN there does not propagate.
#include "kernn/gemm.h"

namespace kernn {

template <typename T>
void gemm_reference(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                    T alpha, const T* a, std::int64_t lda, const T* b, std::int64_t ldb, T beta,
                    T* c, std::int64_t ldc, const GemmEpilogue<T>& epilogue) {
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t j = 0; j < n; ++j) {
      T acc = T(0);
      if (alpha != T(0)) {
        for (std::int64_t p = 0; p < k; ++p) {
          const T a_ip = trans_a ? a[p * lda + i] : a[i * lda + p];
          const T b_pj = trans_b ? b[j * ldb + p] : b[p * ldb + j];
          acc += a_ip * b_pj;
        }
      }
      T value = alpha * acc;
      if (beta != T(0)) value += beta * c[i * ldc + j];
      if (epilogue.col_bias) value += epilogue.col_bias[j];
      if (epilogue.row_bias) value += epilogue.row_bias[i];
      // `value < 0 ? 0 : value` keeps NaN (as torch.relu does) and is what the SIMD kernels do.
      if (epilogue.relu && value < T(0)) value = T(0);
      c[i * ldc + j] = value;
    }
  }
}

template void gemm_reference<float>(bool, bool, std::int64_t, std::int64_t, std::int64_t, float,
                                    const float*, std::int64_t, const float*, std::int64_t, float,
                                    float*, std::int64_t, const GemmEpilogue<float>&);
template void gemm_reference<double>(bool, bool, std::int64_t, std::int64_t, std::int64_t, double,
                                     const double*, std::int64_t, const double*, std::int64_t,
                                     double, double*, std::int64_t, const GemmEpilogue<double>&);

}  // namespace kernn
