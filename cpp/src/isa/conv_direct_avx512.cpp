// AVX-512 direct convolution tiles (see conv_direct.h); built with -mavx512f/dq/bw/vl and
// called only when CPUID says so.
//
// A tile is MR output channels x NV slots (vectors of output columns) in MR * NV registers.
// Per tap: NV unaligned loads of the padded input (the same tap offset from each slot's
// start), MR broadcasts of packed weights, MR * NV FMAs: the load-to-FMA ratio of a GEMM
// micro-kernel, with the im2col matrix never written (its rows are the shifted input itself).
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "conv_direct.h"

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
};

// One MR x NV tile: channels [k0, k0 + valid_rows) of slots whose input starts at in[v] and
// whose output starts at out[v] (channel stride `plane`), stored under mask[v].
template <class V, int MR, int NV>
void tile(const typename V::T* const* in, const std::int64_t* tap_offset, std::int64_t taps,
          const typename V::T* w, const typename V::T* bias, int valid_rows,
          typename V::T* const* out, const typename V::Mask* mask, std::int64_t plane) {
  using R = typename V::R;
  R acc[MR][NV];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[r][v] = V::zero();
  }
  const typename V::T* base[NV];
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) base[v] = in[v];
  for (std::int64_t t = 0; t < taps; ++t) {
    const std::int64_t off = tap_offset[t];
    R x[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) x[v] = V::load(base[v] + off);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const R a = V::set1(w[r]);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[r][v] = V::fmadd(a, x[v], acc[r][v]);
    }
    w += MR;
  }
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
    if (r >= valid_rows) break;
    const R b = bias ? V::set1(bias[r]) : V::zero();
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      R value = acc[r][v];
      if (bias) value = V::add(value, b);
      V::store(out[v] + r * plane, mask[v], value);
    }
  }
}

template <class V, int MR, int NV>
void run_tiles(const Job<typename V::T>& job, std::int64_t slot_begin, std::int64_t slot_end) {
  using T = typename V::T;
  constexpr int L = V::L;
  const std::int64_t chunks = (job.cols + L - 1) / L;
  const std::int64_t plane = job.rows * job.cols;
  const std::int64_t kblocks = (job.outputs + MR - 1) / MR;
  for (std::int64_t s0 = slot_begin; s0 < slot_end; s0 += NV) {
    const T* in[NV];
    T* out[NV];
    typename V::Mask mask[NV];
    for (int v = 0; v < NV; ++v) {
      const std::int64_t s = s0 + v < slot_end ? s0 + v : s0;  // a spare slot stores nothing
      const std::int64_t oh = s / chunks, ow = (s % chunks) * L;
      in[v] = job.xp + oh * job.row_step + ow;
      out[v] = job.y + oh * job.cols + ow;
      const std::int64_t lanes = s0 + v < slot_end ? std::min<std::int64_t>(L, job.cols - ow) : 0;
      mask[v] = static_cast<typename V::Mask>((std::uint32_t{1} << lanes) - 1);
    }
    for (std::int64_t kb = 0; kb < kblocks; ++kb) {
      const std::int64_t k0 = kb * MR;
      const int valid = static_cast<int>(std::min<std::int64_t>(MR, job.outputs - k0));
      T* out_k[NV];
      for (int v = 0; v < NV; ++v) out_k[v] = out[v] + k0 * plane;
      tile<V, MR, NV>(in, job.tap_offset, job.taps, job.packed_w + kb * job.taps * MR,
                      job.bias ? job.bias + k0 : nullptr, valid, out_k, mask, plane);
    }
  }
}

template <class V>
void run(const Job<typename V::T>& job, std::int64_t slot_begin, std::int64_t slot_end) {
  switch (job.mr * 16 + job.nv) {
    case 12 * 16 + 2: run_tiles<V, 12, 2>(job, slot_begin, slot_end); break;
    case 8 * 16 + 3: run_tiles<V, 8, 3>(job, slot_begin, slot_end); break;
    case 6 * 16 + 4: run_tiles<V, 6, 4>(job, slot_begin, slot_end); break;
    case 4 * 16 + 6: run_tiles<V, 4, 6>(job, slot_begin, slot_end); break;
    default: break;  // conv.cpp only plans supported tiles (tile_supported)
  }
}

}  // namespace

bool tile_supported(int mr, int nv) {
  return (mr == 12 && nv == 2) || (mr == 8 && nv == 3) || (mr == 6 && nv == 4) ||
         (mr == 4 && nv == 6);
}

template <>
void run_avx512<float>(const Job<float>& job, std::int64_t slot_begin, std::int64_t slot_end) {
  run<Float16>(job, slot_begin, slot_end);
}

template <>
void run_avx512<double>(const Job<double>& job, std::int64_t slot_begin, std::int64_t slot_end) {
  run<Double8>(job, slot_begin, slot_end);
}

}  // namespace kernn::conv_direct
