// AVX-512 GEMM micro-kernels (built with -mavx512f/dq/bw/vl; called only when CPUID says so).
// 32 zmm registers: float 12 x 32 (24 accumulators, 2 B registers, A broadcast from memory),
// double 12 x 16 (same, 8 lanes). For products with few rows (im2col convolutions with 6 or 16
// output channels) a short tile of 6 x 4 registers, float 6 x 64 and double 6 x 32: as many
// accumulators, and m = 6 fills it where it would leave half of a 12-row tile empty. For C with
// at most 4 rows, tiles of exactly that many rows by 4 registers. Each tile also comes one
// register wide, for the columns past the last full tile. And the dot tiles (up to 4 x 4 sums
// of 16 / 8 lanes) for products with few rows or columns and B stored transposed.
// The float kernels pack with 16 x 4 register transposes; the double ones use AVX2's pack.
#include <immintrin.h>

#include "gemm_microkernel_simd.h"
#include "vec_avx512.h"

namespace kernn::gemm_detail {
namespace {

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

// The transposing pack's steps: 4 columns at a time, all rows' groups of 16 (and one group of
// 4, 8 or 12), so each step writes 4 whole rows of the panel; the last rows % 4 rows and
// kc % 4 columns one by one. Inlined into each caller, so that a full panel of a known width
// gets its groups of rows at compile time (no branch on the group size, no scalar part per
// step: a panel of 32 rows of W^T 0.235 -> 0.168 ns per element).
__attribute__((always_inline)) inline void transpose_pack_steps(const float* src,
                                                                std::int64_t ld, int rows,
                                                                std::int64_t kc, int width,
                                                                float* dst) {
  const int rows4 = rows / 4 * 4;
  std::int64_t p = 0;
  for (; p + 4 <= kc; p += 4) {
    const float* s = src + p;
    float* d = dst + p * width;
#pragma GCC unroll 4
    for (int r = 0; r < rows4; r += 16) {
      transpose_4_columns(s + r * ld, ld, rows4 - r >= 16 ? 4 : (rows4 - r) / 4, d + r, width);
    }
    transpose_pack_scalar(src, ld, rows4, rows, p, p + 4, width, dst);
  }
  transpose_pack_scalar(src, ld, 0, rows, p, kc, width, dst);
}

constexpr int kFloatMR = 12;
constexpr int kDoubleMR = 12;
constexpr int kShortMR = 6;
// Dot tiles: 16 accumulators (4 x 4, 2 x 8, 1 x 16) with their loads fit in 32 registers.
constexpr int kDotAcc = 16;

}  // namespace

// The transposing pack (kernn/gemm_microkernel.h): full panels of the float tiles' widths
// (A: 12, B: 32 or 64) through their own inlined steps, any other through the general ones.
void transpose_pack_avx512(const float* src, std::int64_t ld, int rows, std::int64_t kc,
                           int width, float* dst) {
  if (rows == width) {
    switch (width) {
      case kFloatMR: return transpose_pack_steps(src, ld, kFloatMR, kc, kFloatMR, dst);
      case 32: return transpose_pack_steps(src, ld, 32, kc, 32, dst);
      case 64: return transpose_pack_steps(src, ld, 64, kc, 64, dst);
      default: break;
    }
  }
  transpose_pack_steps(src, ld, rows, kc, width, dst);
}

template <>
MicroKernel<float> microkernel_avx512<float>() {
  MicroKernel<float> k =
      with_edge_kernels<SimdTiles<avx512::Float, 2>, SimdTiles<avx512::Float, 1>>(
          {"avx512", kFloatMR, 32, 256, 512, 3072,
          &simd_microkernel<avx512::Float, kFloatMR, 2>,
          &transpose_pack_avx512, &simd_dots<avx512::Float, kDotAcc>});
  // Packing B in the tiles is measured (and used) for the float kernels only.
  k.fn_copying_b = &simd_microkernel_copying_b<avx512::Float, kFloatMR, 2>;
  return k;
}

template <>
MicroKernel<double> microkernel_avx512<double>() {
  return with_edge_kernels<SimdTiles<avx512::Double, 2>, SimdTiles<avx512::Double, 1>>(
          {"avx512", kDoubleMR, 16, 256, 256, 3072,
          &simd_microkernel<avx512::Double, kDoubleMR, 2>,
          &transpose_pack_avx2<double>, &simd_dots<avx512::Double, kDotAcc>});
}

template <>
MicroKernel<float> microkernel_avx512_short<float>() {
  MicroKernel<float> k =
      with_edge_kernels<SimdTiles<avx512::Float, 4>, SimdTiles<avx512::Float, 1>>(
          {"avx512", kShortMR, 64, 256, 512, 3072,
          &simd_microkernel<avx512::Float, kShortMR, 4>,
          &transpose_pack_avx512, &simd_dots<avx512::Float, kDotAcc>});
  k.fn_copying_b = &simd_microkernel_copying_b<avx512::Float, kShortMR, 4>;
  return k;
}

template <>
MicroKernel<double> microkernel_avx512_short<double>() {
  return with_edge_kernels<SimdTiles<avx512::Double, 4>, SimdTiles<avx512::Double, 1>>(
          {"avx512", kShortMR, 32, 256, 256, 3072,
          &simd_microkernel<avx512::Double, kShortMR, 4>,
          &transpose_pack_avx2<double>, &simd_dots<avx512::Double, kDotAcc>});
}

// Few rows: 4 registers of columns (float 64, double 32), at most 4 x 4 accumulators, and a
// narrow tile of 1 register.
template <>
MicroKernel<float> microkernel_avx512_rows<float>(int rows) {
  return few_rows_microkernel<SimdTiles<avx512::Float, 4>, SimdTiles<avx512::Float, 1>>(
      microkernel_avx512<float>(), rows);
}

template <>
MicroKernel<double> microkernel_avx512_rows<double>(int rows) {
  return few_rows_microkernel<SimdTiles<avx512::Double, 4>, SimdTiles<avx512::Double, 1>>(
      microkernel_avx512<double>(), rows);
}

}  // namespace kernn::gemm_detail
