// AVX2 + FMA GEMM micro-kernels (built with -mavx2 -mfma; called only when CPUID says so).
// 16 ymm registers: float 6 x 16 and double 6 x 8 (12 accumulators, 2 B registers, 1 broadcast).
// Also the transposing pack (8 x 8 / 4 x 4 register transposes; AVX-512 reuses it for double),
// tiles of exactly 1-4 rows for C with that few rows, every tile also one register wide (for the
// columns past the last full tile), and dot tiles (up to 4 x 2 sums of 8 / 4 lanes).
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
  using Mask = __m256i;
  static Mask first_lanes(int count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static R load(const T* p, Mask mask) { return _mm256_maskload_ps(p, mask); }
  // ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7))
  static T hsum(R r) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(r), _mm256_extractf128_ps(r, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static constexpr bool kSumsOfL = false;
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
  using Mask = __m256i;
  static Mask first_lanes(int count) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(count), _mm256_setr_epi64x(0, 1, 2, 3));
  }
  static R load(const T* p, Mask mask) { return _mm256_maskload_pd(p, mask); }
  // (l0 + l2) + (l1 + l3)
  static T hsum(R r) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(r), _mm256_extractf128_pd(r, 1));
    s = _mm_add_sd(s, _mm_unpackhi_pd(s, s));
    return _mm_cvtsd_f64(s);
  }
  static constexpr bool kSumsOfL = false;
};

// dst[p * width + r] = src[r * ld + p] for an 8 x 8 block (rows r, columns p). Each register is
// loaded as two 128-bit halves, rows i and i + 4 (an insert from memory runs on the load and
// ALU ports), so only the in-lane 4 x 4 transposes need the shuffle port: 16 shuffles instead
// of 32 for the three-stage register transpose.
__attribute__((always_inline)) inline void transpose_8x8(const float* src, std::int64_t ld,
                                                         float* dst, int width) {
  for (int half = 0; half < 2; ++half) {  // columns p = 4 * half .. 4 * half + 3
    const float* s = src + 4 * half;
    __m256 r[4];
    for (int i = 0; i < 4; ++i) {
      r[i] = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(s + i * ld)),
                                  _mm_loadu_ps(s + (i + 4) * ld), 1);
    }
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    float* d = dst + 4 * half * width;
    _mm256_storeu_ps(d, _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0)));
    _mm256_storeu_ps(d + width, _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2)));
    _mm256_storeu_ps(d + 2 * width, _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0)));
    _mm256_storeu_ps(d + 3 * width, _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2)));
  }
}

// The same for a 4 x 4 block of floats (the 4 rows left over from MR = 12).
__attribute__((always_inline)) inline void transpose_4x4(const float* src, std::int64_t ld,
                                                         float* dst, int width) {
  __m128 r0 = _mm_loadu_ps(src), r1 = _mm_loadu_ps(src + ld);
  __m128 r2 = _mm_loadu_ps(src + 2 * ld), r3 = _mm_loadu_ps(src + 3 * ld);
  _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
  _mm_storeu_ps(dst, r0);
  _mm_storeu_ps(dst + width, r1);
  _mm_storeu_ps(dst + 2 * width, r2);
  _mm_storeu_ps(dst + 3 * width, r3);
}

// The same for a 4 x 4 block of doubles, rows i and i + 2 in the two halves of a register.
__attribute__((always_inline)) inline void transpose_4x4(const double* src, std::int64_t ld,
                                                         double* dst, int width) {
  for (int half = 0; half < 2; ++half) {  // columns p = 2 * half, 2 * half + 1
    const double* s = src + 2 * half;
    const __m256d r0 = _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(s)),
                                            _mm_loadu_pd(s + 2 * ld), 1);
    const __m256d r1 = _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(s + ld)),
                                            _mm_loadu_pd(s + 3 * ld), 1);
    double* d = dst + 2 * half * width;
    _mm256_storeu_pd(d, _mm256_unpacklo_pd(r0, r1));
    _mm256_storeu_pd(d + width, _mm256_unpackhi_pd(r0, r1));
  }
}

// Dot tiles: 8 accumulators (4 x 2, 2 x 4, 1 x 8) with their loads fit in 16 registers.
constexpr int kDotAcc = 8;

}  // namespace

// Column blocks outer, row groups inner: each step writes P whole rows of the panel (width
// elements each) before moving on, instead of sweeping all kc columns once per row group and
// coming back to every panel row width / 8 times (W^T of a 784-wide Linear: 1.4x faster).
template <typename T>
void transpose_pack_avx2(const T* src, std::int64_t ld, int rows, std::int64_t kc, int width,
                         T* dst) {
  constexpr int P = sizeof(T) == 4 ? 8 : 4;  // columns per step: one 8 x 8 / 4 x 4 transpose
  const int rows8 = sizeof(T) == 4 ? rows / 8 * 8 : 0;
  const int rows4 = rows8 + (rows - rows8) / 4 * 4;
  std::int64_t p = 0;
  for (; p + P <= kc; p += P) {
    const T* s = src + p;
    T* d = dst + p * width;
    if constexpr (sizeof(T) == 4) {
      for (int r = 0; r < rows8; r += 8) transpose_8x8(s + r * ld, ld, d + r, width);
    }
    for (int r = rows8; r < rows4; r += 4) {
      for (int q = 0; q < P; q += 4) transpose_4x4(s + r * ld + q, ld, d + q * width + r, width);
    }
    transpose_pack_scalar(src, ld, rows4, rows, p, p + P, width, dst);
  }
  transpose_pack_scalar(src, ld, 0, rows, p, kc, width, dst);
}

template void transpose_pack_avx2<float>(const float*, std::int64_t, int, std::int64_t, int,
                                         float*);
template void transpose_pack_avx2<double>(const double*, std::int64_t, int, std::int64_t, int,
                                          double*);

template <>
MicroKernel<float> microkernel_avx2<float>() {
  return with_edge_kernels<SimdTiles<Avx2Float, 2>, SimdTiles<Avx2Float, 1>>(
          {"avx2", 6, 16, 256, 480, 3072,
          &simd_microkernel<Avx2Float, 6, 2>, &transpose_pack_avx2<float>,
          &simd_dots<Avx2Float, kDotAcc>});
}

template <>
MicroKernel<double> microkernel_avx2<double>() {
  return with_edge_kernels<SimdTiles<Avx2Double, 2>, SimdTiles<Avx2Double, 1>>(
          {"avx2", 6, 8, 256, 480, 3072,
          &simd_microkernel<Avx2Double, 6, 2>, &transpose_pack_avx2<double>,
          &simd_dots<Avx2Double, kDotAcc>});
}

// Few rows: 2 registers of columns (float 16, double 8), at most 4 x 2 accumulators, and a
// narrow tile of 1 register.
template <>
MicroKernel<float> microkernel_avx2_rows<float>(int rows) {
  return few_rows_microkernel<SimdTiles<Avx2Float, 2>, SimdTiles<Avx2Float, 1>>(
      microkernel_avx2<float>(), rows);
}

template <>
MicroKernel<double> microkernel_avx2_rows<double>(int rows) {
  return few_rows_microkernel<SimdTiles<Avx2Double, 2>, SimdTiles<Avx2Double, 1>>(
      microkernel_avx2<double>(), rows);
}

}  // namespace kernn::gemm_detail
