// AVX-512 GEMM micro-kernels (built with -mavx512f/dq/bw/vl; called only when CPUID says so).
// 32 zmm registers: float 12 x 32 (24 accumulators, 2 B registers, A broadcast from memory),
// double 12 x 16 (same, 8 lanes). For products with few rows (im2col convolutions with 6 or 16
// output channels) a short tile of 6 x 4 registers, float 6 x 64 and double 6 x 32: as many
// accumulators, and m = 6 fills it where it would leave half of a 12-row tile empty.
#include <immintrin.h>

#include "gemm_microkernel_simd.h"

namespace kernn::gemm_detail {
namespace {

struct Avx512Float {
  using T = float;
  using R = __m512;
  static constexpr int L = 16;
  static R zero() { return _mm512_setzero_ps(); }
  static R load(const T* p) { return _mm512_loadu_ps(p); }
  static void store(T* p, R r) { _mm512_storeu_ps(p, r); }
  static R set1(T x) { return _mm512_set1_ps(x); }
  static R fmadd(R a, R b, R c) { return _mm512_fmadd_ps(a, b, c); }
  static R mul(R a, R b) { return _mm512_mul_ps(a, b); }
  static R add(R a, R b) { return _mm512_add_ps(a, b); }
  static R max(R a, R b) { return _mm512_max_ps(a, b); }
};

struct Avx512Double {
  using T = double;
  using R = __m512d;
  static constexpr int L = 8;
  static R zero() { return _mm512_setzero_pd(); }
  static R load(const T* p) { return _mm512_loadu_pd(p); }
  static void store(T* p, R r) { _mm512_storeu_pd(p, r); }
  static R set1(T x) { return _mm512_set1_pd(x); }
  static R fmadd(R a, R b, R c) { return _mm512_fmadd_pd(a, b, c); }
  static R mul(R a, R b) { return _mm512_mul_pd(a, b); }
  static R add(R a, R b) { return _mm512_add_pd(a, b); }
  static R max(R a, R b) { return _mm512_max_pd(a, b); }
};

constexpr int kFloatMR = 12;
constexpr int kDoubleMR = 12;
constexpr int kShortMR = 6;

}  // namespace

template <>
MicroKernel<float> microkernel_avx512<float>() {
  return {"avx512", kFloatMR, 32, 256, 512, 3072,
          &simd_microkernel<Avx512Float, kFloatMR, 2>,
          &transpose_pack_avx2<float>, &dot_lanes<float>};
}

template <>
MicroKernel<double> microkernel_avx512<double>() {
  return {"avx512", kDoubleMR, 16, 256, 256, 3072,
          &simd_microkernel<Avx512Double, kDoubleMR, 2>,
          &transpose_pack_avx2<double>, &dot_lanes<double>};
}

template <>
MicroKernel<float> microkernel_avx512_short<float>() {
  return {"avx512", kShortMR, 64, 256, 512, 3072,
          &simd_microkernel<Avx512Float, kShortMR, 4>,
          &transpose_pack_avx2<float>, &dot_lanes<float>};
}

template <>
MicroKernel<double> microkernel_avx512_short<double>() {
  return {"avx512", kShortMR, 32, 256, 256, 3072,
          &simd_microkernel<Avx512Double, kShortMR, 4>,
          &transpose_pack_avx2<double>, &dot_lanes<double>};
}

}  // namespace kernn::gemm_detail
