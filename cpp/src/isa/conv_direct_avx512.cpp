// The direct convolution for AVX-512 (see conv_direct.h): the vector traits conv_direct_simd.h's
// loops are instantiated with. Built with -mavx512f/dq/bw/vl; conv.cpp calls it only when CPUID
// says so.
#include <immintrin.h>

#include <cstdint>

#include "conv_direct_simd.h"

namespace kernn::conv_direct {
namespace {

struct Float16 {
  using T = float;
  using R = __m512;
  using Mask = __mmask16;
  static constexpr int L = 16;
  static R zero() { return _mm512_setzero_ps(); }
  static R load(const T* p) { return _mm512_loadu_ps(p); }
  static R set1(T x) { return _mm512_set1_ps(x); }
  static R fmadd(R a, R b, R c) { return _mm512_fmadd_ps(a, b, c); }
  static R add(R a, R b) { return _mm512_add_ps(a, b); }
  static void store(T* p, Mask m, R r) { _mm512_mask_storeu_ps(p, m, r); }
  static R load(const T* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
  static Mask first_lanes(int n) { return static_cast<Mask>((std::uint32_t{1} << n) - 1); }
  static R permute2(R a, __m512i index, R b) { return _mm512_permutex2var_ps(a, index, b); }
  static __m512i lane_index(const int* values) { return _mm512_loadu_si512(values); }
};

struct Double8 {
  using T = double;
  using R = __m512d;
  using Mask = __mmask8;
  static constexpr int L = 8;
  static R zero() { return _mm512_setzero_pd(); }
  static R load(const T* p) { return _mm512_loadu_pd(p); }
  static R set1(T x) { return _mm512_set1_pd(x); }
  static R fmadd(R a, R b, R c) { return _mm512_fmadd_pd(a, b, c); }
  static R add(R a, R b) { return _mm512_add_pd(a, b); }
  static void store(T* p, Mask m, R r) { _mm512_mask_storeu_pd(p, m, r); }
  static R load(const T* p, Mask m) { return _mm512_maskz_loadu_pd(m, p); }
  static Mask first_lanes(int n) { return static_cast<Mask>((std::uint32_t{1} << n) - 1); }
  static R permute2(R a, __m512i index, R b) { return _mm512_permutex2var_pd(a, index, b); }
  static __m512i lane_index(const int* values) {
    return _mm512_cvtepi32_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(values)));
  }
};

}  // namespace

template <>
const DirectKernels<float>& direct_kernels_avx512<float>() {
  return kKernels<Float16>;
}

template <>
const DirectKernels<double>& direct_kernels_avx512<double>() {
  return kKernels<Double8>;
}

}  // namespace kernn::conv_direct
