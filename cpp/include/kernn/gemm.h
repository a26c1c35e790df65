// GEMM: C = act(alpha * op(A) @ op(B) + beta * C + bias), row-major, float and double.
//
// Shapes (row-major, leading dimension = distance between consecutive rows):
//   op(A) is (m, k): A is stored (m, lda >= k) when !trans_a, (k, lda >= m) when trans_a
//   op(B) is (k, n): B is stored (k, ldb >= n) when !trans_b, (n, ldb >= k) when trans_b
//   C     is (m, n): stored (m, ldc >= n)
// As in BLAS, beta == 0 means C is not read (NaN or garbage in C does not propagate), and
// k == 0 gives C = beta * C (+ bias, activation).
//
// The fast `gemm` parallelises with OpenMP over blocks of C unless it is called from inside a
// parallel region (then it runs on the calling thread). `gemm_reference` is the naive triple
// loop every fast path is tested against.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kernn {

// Optional fused epilogue, applied once per element of C after alpha/beta.
template <typename T>
struct GemmEpilogue {
  const T* col_bias = nullptr;  // (n,): C[i, j] += col_bias[j]   (Linear: y = x W^T + b)
  const T* row_bias = nullptr;  // (m,): C[i, j] += row_bias[i]   (conv: out = W @ cols + b)
  bool relu = false;            // C[i, j] = max(C[i, j], 0) after the bias
};

template <typename T>
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, T alpha,
          const T* a, std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c,
          std::int64_t ldc, const GemmEpilogue<T>& epilogue = {});

template <typename T>
void gemm_reference(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                    T alpha, const T* a, std::int64_t lda, const T* b, std::int64_t ldb, T beta,
                    T* c, std::int64_t ldc, const GemmEpilogue<T>& epilogue = {});

// Micro-kernel ISA selection. `gemm` uses the best ISA this CPU supports ("avx512", "avx2",
// "generic"; CPUID + XGETBV), unless the environment variable KERNN_ISA names a lower one at the
// first call. A KERNN_ISA above what the CPU supports, or an unknown name, prints a warning to
// stderr and is ignored. The switch is process-wide; change it only while no gemm is running.
const char* gemm_isa();                         // the ISA in use
std::vector<std::string> gemm_supported_isas();  // what this CPU runs, best first
bool set_gemm_isa(const std::string& name);      // false (and no change) if not supported

}  // namespace kernn
