// AVX-512 vector traits, float (16 lanes) and double (8 lanes): the intrinsics that the GEMM
// micro-kernels (gemm_microkernel_simd.h) and the direct convolution (conv_direct_simd.h) are
// instantiated with. Included only from files built with -mavx512f/dq/bw/vl; the structs live
// in an anonymous namespace so that no function built for AVX-512 is shared (merged by the
// linker) with code built for another ISA.
//
// Each provides: T, R (register), L (lanes), Mask, zero(), load(p), load(p, mask) (masked lanes
// 0, nothing read there), store(p, r), store(p, mask, r), set1(x), fmadd(a, b, c) = a*b + c,
// mul, add, max(a, b) (b when either is NaN), first_lanes(n) (the mask of lanes [0, n),
// n <= L), permute2(a, index, b) (index < L picks a[index], else b[index - L]),
// lane_index(int[L]), and sums_of_l (kSumsOfL: the lane sums of L registers at once, by one
// fixed shuffle tree).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace kernn::avx512 {
namespace {

struct Float {
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
  using Mask = __mmask16;
  static R load(const T* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
  static void store(T* p, Mask m, R r) { _mm512_mask_storeu_ps(p, m, r); }
  static Mask first_lanes(int n) { return static_cast<Mask>((std::uint32_t{1} << n) - 1); }
  static R permute2(R a, __m512i index, R b) { return _mm512_permutex2var_ps(a, index, b); }
  static __m512i lane_index(const int* values) { return _mm512_loadu_si512(values); }
  // Four levels of pairwise adds, 30 shuffles for 16 sums (16 separate hsums take 64). Sum of
  // r[e] = ((v0 + v2) + (v1 + v3)) with v_l = (e[l] + e[l + 8]) + (e[l + 4] + e[l + 12]).
  static constexpr bool kSumsOfL = true;
  static void sums_of_l(const R* r, T* out) {
    R h[8], q[4], t[2];
    for (int e = 0; e < 8; ++e) {  // lanes 0-7: r[2e][l] + r[2e][l + 8]; 8-15: r[2e + 1]'s
      h[e] = _mm512_add_ps(_mm512_shuffle_f32x4(r[2 * e], r[2 * e + 1], 0x44),
                           _mm512_shuffle_f32x4(r[2 * e], r[2 * e + 1], 0xEE));
    }
    for (int e = 0; e < 4; ++e) {  // 128-bit lane c: r[4e + c]'s four partial sums
      q[e] = _mm512_add_ps(_mm512_shuffle_f32x4(h[2 * e], h[2 * e + 1], 0x88),
                           _mm512_shuffle_f32x4(h[2 * e], h[2 * e + 1], 0xDD));
    }
    for (int e = 0; e < 2; ++e) {  // lane c: [x0 + x2, x1 + x3, y0 + y2, y1 + y3] in each lane
      t[e] = _mm512_add_ps(_mm512_shuffle_ps(q[2 * e], q[2 * e + 1], 0x44),
                           _mm512_shuffle_ps(q[2 * e], q[2 * e + 1], 0xEE));
    }
    alignas(64) T w[16];  // w[4c + g] = sum of r[c + 4g]
    _mm512_store_ps(w, _mm512_add_ps(_mm512_shuffle_ps(t[0], t[1], 0x88),
                                     _mm512_shuffle_ps(t[0], t[1], 0xDD)));
    for (int c = 0; c < 4; ++c) {
      for (int g = 0; g < 4; ++g) out[c + 4 * g] = w[4 * c + g];
    }
  }
};

struct Double {
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
  using Mask = __mmask8;
  static R load(const T* p, Mask m) { return _mm512_maskz_loadu_pd(m, p); }
  static void store(T* p, Mask m, R r) { _mm512_mask_storeu_pd(p, m, r); }
  static Mask first_lanes(int n) { return static_cast<Mask>((std::uint32_t{1} << n) - 1); }
  static R permute2(R a, __m512i index, R b) { return _mm512_permutex2var_pd(a, index, b); }
  static __m512i lane_index(const int* values) {
    return _mm512_cvtepi32_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(values)));
  }
  // Three levels of pairwise adds for 8 sums. Sum of r[e] = (v0 + v1) with
  // v_l = (e[l] + e[l + 4]) + (e[l + 2] + e[l + 6]).
  static constexpr bool kSumsOfL = true;
  static void sums_of_l(const R* r, T* out) {
    R h[4], q[2];
    for (int e = 0; e < 4; ++e) {  // lanes 0-3: r[2e][l] + r[2e][l + 4]; 4-7: r[2e + 1]'s
      h[e] = _mm512_add_pd(_mm512_shuffle_f64x2(r[2 * e], r[2 * e + 1], 0x44),
                           _mm512_shuffle_f64x2(r[2 * e], r[2 * e + 1], 0xEE));
    }
    for (int e = 0; e < 2; ++e) {  // 128-bit lane c: r[4e + c]'s two partial sums
      q[e] = _mm512_add_pd(_mm512_shuffle_f64x2(h[2 * e], h[2 * e + 1], 0x88),
                           _mm512_shuffle_f64x2(h[2 * e], h[2 * e + 1], 0xDD));
    }
    alignas(64) T w[8];  // w[2c + g] = sum of r[c + 4g]
    _mm512_store_pd(w, _mm512_add_pd(_mm512_shuffle_pd(q[0], q[1], 0x00),
                                     _mm512_shuffle_pd(q[0], q[1], 0xFF)));
    for (int c = 0; c < 4; ++c) {
      for (int g = 0; g < 2; ++g) out[c + 4 * g] = w[2 * c + g];
    }
  }
};

}  // namespace
}  // namespace kernn::avx512
