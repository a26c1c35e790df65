// AVX2 + FMA GEMM micro-kernels (built with -mavx2 -mfma; called only when CPUID says so).
// 16 ymm registers: float 6 x 16 and double 6 x 8 (12 accumulators, 2 B registers, 1 broadcast).
#include <immintrin.h>

#include "gemm_microkernel_simd.h"

namespace kernn::gemm_detail {
namespace {

struct Avx2Float {
  using T = float;
  using R = __m256;
  static constexpr int L = 8;
  static R zero() { return _mm256_setzero_ps(); }
  static R load(const T* p) { return _mm256_loadu_ps(p); }
  static void store(T* p, R r) { _mm256_storeu_ps(p, r); }
  static R set1(T x) { return _mm256_set1_ps(x); }
  static R fmadd(R a, R b, R c) { return _mm256_fmadd_ps(a, b, c); }
  static R mul(R a, R b) { return _mm256_mul_ps(a, b); }
  static R add(R a, R b) { return _mm256_add_ps(a, b); }
  static R max(R a, R b) { return _mm256_max_ps(a, b); }
};

struct Avx2Double {
  using T = double;
  using R = __m256d;
  static constexpr int L = 4;
  static R zero() { return _mm256_setzero_pd(); }
  static R load(const T* p) { return _mm256_loadu_pd(p); }
  static void store(T* p, R r) { _mm256_storeu_pd(p, r); }
  static R set1(T x) { return _mm256_set1_pd(x); }
  static R fmadd(R a, R b, R c) { return _mm256_fmadd_pd(a, b, c); }
  static R mul(R a, R b) { return _mm256_mul_pd(a, b); }
  static R add(R a, R b) { return _mm256_add_pd(a, b); }
  static R max(R a, R b) { return _mm256_max_pd(a, b); }
};

}  // namespace

template <>
MicroKernel<float> microkernel_avx2<float>() {
  return {"avx2", 6, 16, 256, 480, 3072, &simd_microkernel<Avx2Float, 6, 2>};
}

template <>
MicroKernel<double> microkernel_avx2<double>() {
  return {"avx2", 6, 8, 256, 480, 3072, &simd_microkernel<Avx2Double, 6, 2>};
}

}  // namespace kernn::gemm_detail
