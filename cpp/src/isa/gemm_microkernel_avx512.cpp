// AVX-512 GEMM micro-kernels (built with -mavx512f/dq/bw/vl; called only when CPUID says so).
// 32 zmm registers: float 12 x 32 (24 accumulators, 2 B registers, A broadcast from memory),
// double 12 x 16 (same, 8 lanes). For products with few rows (im2col convolutions with 6 or 16
// output channels) a short tile of 6 x 4 registers, float 6 x 64 and double 6 x 32: as many
// accumulators, and m = 6 fills it where it would leave half of a 12-row tile empty. For C with
// at most 4 rows, tiles of exactly that many rows by 4 registers; and the dot tiles (up to
// 4 x 4 sums of 16 / 8 lanes) for products with few rows or columns and B stored transposed.
// The float kernels pack with 16 x 4 register transposes; the double ones use AVX2's pack.
#include <immintrin.h>

#include <algorithm>

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
  using Tail = __mmask16;
  static Tail tail(int count) { return static_cast<__mmask16>((1u << count) - 1u); }
  static R load_tail(const T* p, Tail mask) { return _mm512_maskz_loadu_ps(mask, p); }
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
  using Tail = __mmask8;
  static Tail tail(int count) { return static_cast<__mmask8>((1u << count) - 1u); }
  static R load_tail(const T* p, Tail mask) { return _mm512_maskz_loadu_pd(mask, p); }
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

// dst[q * width + i] = src[i * ld + q] for q < 4 and i < 4 * chunks (chunks <= 4): register j
// holds the 4 columns of rows j, j + 4, j + 8, j + 12 in its four 128-bit lanes (loaded, then
// inserted from memory: no shuffle), so one in-lane 4 x 4 transpose (8 shuffles) leaves each
// register with one column of all 16 rows. Lanes past `chunks` are undefined and not stored.
__attribute__((always_inline)) inline void transpose_4_columns(const float* src, std::int64_t ld,
                                                               int chunks, float* dst,
                                                               int width) {
  __m512 r[4];
  for (int j = 0; j < 4; ++j) {
    r[j] = _mm512_castps128_ps512(_mm_loadu_ps(src + j * ld));
    if (chunks > 1) r[j] = _mm512_insertf32x4(r[j], _mm_loadu_ps(src + (j + 4) * ld), 1);
    if (chunks > 2) r[j] = _mm512_insertf32x4(r[j], _mm_loadu_ps(src + (j + 8) * ld), 2);
    if (chunks > 3) r[j] = _mm512_insertf32x4(r[j], _mm_loadu_ps(src + (j + 12) * ld), 3);
  }
  const __m512d t0 = _mm512_castps_pd(_mm512_unpacklo_ps(r[0], r[1]));
  const __m512d t1 = _mm512_castps_pd(_mm512_unpackhi_ps(r[0], r[1]));
  const __m512d t2 = _mm512_castps_pd(_mm512_unpacklo_ps(r[2], r[3]));
  const __m512d t3 = _mm512_castps_pd(_mm512_unpackhi_ps(r[2], r[3]));
  const __mmask16 mask = static_cast<__mmask16>((1u << (4 * chunks)) - 1u);
  _mm512_mask_storeu_ps(dst, mask, _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2)));
  _mm512_mask_storeu_ps(dst + width, mask, _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2)));
  _mm512_mask_storeu_ps(dst + 2 * width, mask, _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3)));
  _mm512_mask_storeu_ps(dst + 3 * width, mask, _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3)));
}

constexpr int kFloatMR = 12;
constexpr int kDoubleMR = 12;
constexpr int kShortMR = 6;
// Dot tiles: 16 accumulators (4 x 4, 2 x 8, 1 x 16) with their loads fit in 32 registers.
constexpr int kDotAcc = 16;

}  // namespace

// The transposing pack (kernn/gemm_microkernel.h) in steps of 4 columns: all rows' groups of
// 16 (and one group of 4, 8 or 12), so each step writes 4 whole rows of the panel; the last
// rows % 4 rows and kc % 4 columns one by one.
void transpose_pack_avx512(const float* src, std::int64_t ld, int rows, std::int64_t kc,
                           int width, float* dst) {
  const int rows4 = rows / 4 * 4;
  std::int64_t p = 0;
  for (; p + 4 <= kc; p += 4) {
    const float* s = src + p;
    float* d = dst + p * width;
    for (int r = 0; r < rows4; r += 16) {
      transpose_4_columns(s + r * ld, ld, std::min(4, (rows4 - r) / 4), d + r, width);
    }
    for (int q = 0; q < 4; ++q) {
      for (int r = rows4; r < rows; ++r) d[q * width + r] = s[r * ld + q];
      for (int r = rows; r < width; ++r) d[q * width + r] = 0.0f;
    }
  }
  for (; p < kc; ++p) {
    float* d = dst + p * width;
    for (int r = 0; r < rows; ++r) d[r] = src[r * ld + p];
    for (int r = rows; r < width; ++r) d[r] = 0.0f;
  }
}

template <>
MicroKernel<float> microkernel_avx512<float>() {
  return with_edge_kernels<SimdTiles<Avx512Float, 2>>({"avx512", kFloatMR, 32, 256, 512, 3072,
          &simd_microkernel<Avx512Float, kFloatMR, 2>,
          &transpose_pack_avx512, &simd_dots<Avx512Float, kDotAcc>});
}

template <>
MicroKernel<double> microkernel_avx512<double>() {
  return with_edge_kernels<SimdTiles<Avx512Double, 2>>({"avx512", kDoubleMR, 16, 256, 256, 3072,
          &simd_microkernel<Avx512Double, kDoubleMR, 2>,
          &transpose_pack_avx2<double>, &simd_dots<Avx512Double, kDotAcc>});
}

template <>
MicroKernel<float> microkernel_avx512_short<float>() {
  return with_edge_kernels<SimdTiles<Avx512Float, 4>>({"avx512", kShortMR, 64, 256, 512, 3072,
          &simd_microkernel<Avx512Float, kShortMR, 4>,
          &transpose_pack_avx512, &simd_dots<Avx512Float, kDotAcc>});
}

template <>
MicroKernel<double> microkernel_avx512_short<double>() {
  return with_edge_kernels<SimdTiles<Avx512Double, 4>>({"avx512", kShortMR, 32, 256, 256, 3072,
          &simd_microkernel<Avx512Double, kShortMR, 4>,
          &transpose_pack_avx2<double>, &simd_dots<Avx512Double, kDotAcc>});
}

// Few rows: 4 registers of columns (float 64, double 32), at most 4 x 4 accumulators; narrow:
// 1 register (float 16, double 8).
template <>
MicroKernel<float> microkernel_avx512_rows<float>(int rows, bool narrow) {
  if (narrow) {
    return few_rows_microkernel<SimdTiles<Avx512Float, 1>>(microkernel_avx512<float>(), rows);
  }
  return few_rows_microkernel<SimdTiles<Avx512Float, 4>>(microkernel_avx512<float>(), rows);
}

template <>
MicroKernel<double> microkernel_avx512_rows<double>(int rows, bool narrow) {
  if (narrow) {
    return few_rows_microkernel<SimdTiles<Avx512Double, 1>>(microkernel_avx512<double>(), rows);
  }
  return few_rows_microkernel<SimdTiles<Avx512Double, 4>>(microkernel_avx512<double>(), rows);
}

}  // namespace kernn::gemm_detail
