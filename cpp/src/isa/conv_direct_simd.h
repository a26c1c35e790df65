// The direct convolution's loops and register tiles, written once over a vector-traits class V
// and instantiated by each ISA file (conv_direct_avx512.cpp, with vec_avx512.h's traits), as
// gemm_microkernel_simd.h is for the GEMM. Included only from those files: every instantiation
// must live in a translation unit built with that ISA's flags, and everything here is in an
// anonymous namespace so no instantiation is shared (merged by the linker) with code built for
// another ISA. For the same reason no std:: inline function (std::min, std::fill, ...) is
// called here.
//
// V provides: T (float/double), R (register), Mask, L (lanes), zero(), load(p), load(p, mask)
// (masked lanes 0, nothing read there), store(p, mask, r), set1(x), fmadd(a, b, c) = a*b + c,
// add, first_lanes(n) (the mask of lanes [0, n), n <= L), and for the transpose permute2(a,
// index, b) (index < L picks a[index], else b[index - L]) and lane_index(int[L]).
//
// A convolution tile is MR output channels x NV slots (vectors of output columns) in MR * NV
// registers. Per tap: NV unaligned loads of the padded input (the same tap offset from each
// slot's start), MR broadcasts of packed weights, MR * NV FMAs: the load-to-FMA ratio of a GEMM
// micro-kernel, with the im2col matrix never written (its rows are the shifted input itself).
//
// What the ISA file exports is kKernels<V> (conv_direct.h's DirectKernels).
#pragma once

#include <cstdint>

#include "conv_direct.h"

namespace kernn::conv_direct {
namespace {

// Not std::min (nor any other std:: inline function): its copy instantiated here, compiled
// with AVX-512, has external linkage, and the linker may keep it for baseline callers
// elsewhere (SIGILL on CPUs without AVX-512). This helper's linkage is internal.
inline std::int64_t min_i64(std::int64_t a, std::int64_t b) { return a < b ? a : b; }

// One MR x NV tile over taps [t_begin, t_end): channels [k0, k0 + valid_rows) of slots whose
// input starts at in[v] and whose output starts at out[v] (channel stride `plane`), under
// mask[v]. The first tap block starts from zero, later ones from the partial sums parked in
// the output (a float stored and reloaded is exact, so the sum over the taps runs in order as
// if unblocked); the last adds the bias.
template <class V, int MR, int NV>
void tile(const typename V::T* const* in, const std::int64_t* tap_offset, std::int64_t t_begin,
          std::int64_t t_end, bool first, bool last, const typename V::T* w,
          const typename V::T* bias, int valid_rows, typename V::T* const* out,
          const typename V::Mask* mask, std::int64_t plane) {
  using R = typename V::R;
  R acc[MR][NV];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      acc[r][v] = first || r >= valid_rows ? V::zero() : V::load(out[v] + r * plane, mask[v]);
    }
  }
  const typename V::T* base[NV];
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) base[v] = in[v];
  w += t_begin * MR;
  for (std::int64_t t = t_begin; t < t_end; ++t) {
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
    const bool add_bias = last && bias;
    const R b = add_bias ? V::set1(bias[r]) : V::zero();
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      R value = acc[r][v];
      if (add_bias) value = V::add(value, b);
      V::store(out[v] + r * plane, mask[v], value);
    }
  }
}

// Taps per block: one block's weights for a channel tile (MR x 256 values) and the input rows
// the slot tile reads stay in L1 while the tile's channel blocks reuse them.
constexpr std::int64_t kTapBlock = 256;

// ConvTile::conv_slots for the MR x NV tile.
template <class V, int MR, int NV>
void conv_slots(const DirectConvJob<typename V::T>& job, std::int64_t slot_begin,
                std::int64_t slot_end) {
  using T = typename V::T;
  constexpr int L = V::L;
  const std::int64_t chunks = (job.cols + L - 1) / L;
  const std::int64_t plane = job.rows * job.cols;
  const std::int64_t kblocks = (job.outputs + MR - 1) / MR;
  // Equal tap blocks of at most kTapBlock (LeNet's 150 taps in one block: 2-4% faster at one
  // thread than two of 75, its input gradient's 400 in two as fast as three).
  const std::int64_t tap_blocks = (job.taps + kTapBlock - 1) / kTapBlock;
  const std::int64_t block = (job.taps + tap_blocks - 1) / tap_blocks;
  for (std::int64_t t0 = 0; t0 < job.taps; t0 += block) {
    const std::int64_t t1 = min_i64(job.taps, t0 + block);
    for (std::int64_t s0 = slot_begin; s0 < slot_end; s0 += NV) {
      const T* in[NV];
      T* out[NV];
      typename V::Mask mask[NV];
      for (int v = 0; v < NV; ++v) {
        const std::int64_t s = s0 + v < slot_end ? s0 + v : s0;  // a spare slot stores nothing
        const std::int64_t oh = s / chunks, ow = (s % chunks) * L;
        in[v] = job.xp + oh * job.row_step + ow;
        out[v] = job.y + oh * job.cols + ow;
        const std::int64_t lanes =
            s0 + v < slot_end ? min_i64(L, job.cols - ow) : 0;
        mask[v] = V::first_lanes(static_cast<int>(lanes));
      }
      for (std::int64_t kb = 0; kb < kblocks; ++kb) {
        const std::int64_t k0 = kb * MR;
        const int valid = static_cast<int>(min_i64(MR, job.outputs - k0));
        T* out_k[NV];
        for (int v = 0; v < NV; ++v) out_k[v] = out[v] + k0 * plane;
        tile<V, MR, NV>(in, job.tap_offset, t0, t1, t0 == 0, t1 == job.taps,
                        job.packed_w + kb * job.taps * MR, job.bias ? job.bias + k0 : nullptr,
                        valid, out_k, mask, plane);
      }
    }
  }
}

// Weight gradient: MT taps x NV channel vectors in registers; per position NV loads of dyt and
// MT broadcasts of the padded input, one per tap (the taps' pointers advance together).
template <class V, int MT, int NV>
void weight_grad_tile(const WeightGradJob<typename V::T>& job, std::int64_t t0, int valid_taps,
                      std::int64_t vec0) {
  using T = typename V::T;
  using R = typename V::R;
  constexpr int L = V::L;
  R acc[MT][NV];
#pragma GCC unroll 16
  for (int r = 0; r < MT; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = V::zero();
  }
  std::int64_t offset[MT];
#pragma GCC unroll 16
  for (int r = 0; r < MT; ++r) offset[r] = job.tap_offset[t0 + (r < valid_taps ? r : 0)];
  const std::int64_t cs = job.col_step;
  for (std::int64_t n = 0; n < job.images; ++n) {
    const T* image = job.xp + n * job.xp_image;
    const T* dy = job.dyt + n * job.rows * job.cols * job.kpad + vec0 * L;
    for (std::int64_t oh = 0; oh < job.rows; ++oh, dy += job.cols * job.kpad) {
      const T* row = image + oh * job.row_step;
      const T* q[MT];
#pragma GCC unroll 16
      for (int r = 0; r < MT; ++r) q[r] = row + offset[r];
      for (std::int64_t ow = 0; ow < job.cols; ++ow) {
        R d[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) d[v] = V::load(dy + ow * job.kpad + v * L);
#pragma GCC unroll 16
        for (int r = 0; r < MT; ++r) {
          const R a = V::set1(q[r][ow * cs]);
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v) acc[r][v] = V::fmadd(a, d[v], acc[r][v]);
        }
      }
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < MT; ++r) {
    if (r >= valid_taps) break;
    T* out = job.dwt + (t0 + r) * job.kpad + vec0 * L;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      R value = acc[r][v];
      if (job.accumulate) value = V::add(V::load(out + v * L), value);
      V::store(out + v * L, V::first_lanes(L), value);
    }
  }
}

// L x L transpose in registers: log2(L) butterfly stages, stage H swapping the off-diagonal
// H x H blocks of every 2H x 2H block (two two-source permutes per pair of rows). Templates
// and full unrolling keep the rows in registers and the permute indices constant.
template <int L, int H>
struct ButterflyIndex {
  // permute2(a, idx, b): idx < L picks a[idx], else b[idx - L]
  static constexpr int lo(int j) { return (j & H) ? L + j - H : j; }
  static constexpr int hi(int j) { return (j & H) ? L + j : j + H; }
};

template <class V, int H>
inline void butterfly_stage(typename V::R* r) {
  constexpr int L = V::L;
  using I = ButterflyIndex<L, H>;
  alignas(64) static constexpr int lo_index[16] = {
      I::lo(0), I::lo(1), I::lo(2),  I::lo(3),  I::lo(4),  I::lo(5),  I::lo(6),  I::lo(7),
      I::lo(8), I::lo(9), I::lo(10), I::lo(11), I::lo(12), I::lo(13), I::lo(14), I::lo(15)};
  alignas(64) static constexpr int hi_index[16] = {
      I::hi(0), I::hi(1), I::hi(2),  I::hi(3),  I::hi(4),  I::hi(5),  I::hi(6),  I::hi(7),
      I::hi(8), I::hi(9), I::hi(10), I::hi(11), I::hi(12), I::hi(13), I::hi(14), I::hi(15)};
  const auto lo = V::lane_index(lo_index), hi = V::lane_index(hi_index);
#pragma GCC unroll 16
  for (int i = 0; i < L; ++i) {
    if (i & H) continue;
    const typename V::R a = r[i], b = r[i + H];
    r[i] = V::permute2(a, lo, b);
    r[i + H] = V::permute2(a, hi, b);
  }
  if constexpr (H > 1) butterfly_stage<V, H / 2>(r);
}

template <class V>
inline void transpose_block(typename V::R* r) {
  butterfly_stage<V, V::L / 2>(r);
}

template <class V>
void transpose_to_positions(const typename V::T* src, std::int64_t channels,
                            std::int64_t positions, std::int64_t kpad, typename V::T* dst) {
  using R = typename V::R;
  constexpr int L = V::L;
  for (std::int64_t q0 = 0; q0 < positions; q0 += L) {
    const int n = static_cast<int>(min_i64(L, positions - q0));
    const typename V::Mask mask = V::first_lanes(n);
    for (std::int64_t k0 = 0; k0 < kpad; k0 += L) {
      R r[L];
#pragma GCC unroll 16
      for (int i = 0; i < L; ++i) {
        r[i] = k0 + i < channels ? V::load(src + (k0 + i) * positions + q0, mask) : V::zero();
      }
      transpose_block<V>(r);
#pragma GCC unroll 16
      for (int j = 0; j < L; ++j) {
        if (j >= n) break;
        V::store(dst + (q0 + j) * kpad + k0, V::first_lanes(L), r[j]);
      }
    }
  }
}

constexpr int kWeightGradTailTaps = 4;

// Taps per tile for NV channel vectors: about 24 accumulators, and few enough tap pointers to
// stay in general registers.
constexpr int weight_grad_tile_taps(int nv) { return nv <= 2 ? 12 : nv == 3 ? 8 : 6; }

template <class V, int NV>
void weight_grad_block(const WeightGradJob<typename V::T>& job, std::int64_t tap_begin,
                       std::int64_t tap_end, std::int64_t vec0) {
  constexpr int MT = weight_grad_tile_taps(NV);
  std::int64_t t = tap_begin;
  for (; t + MT <= tap_end; t += MT) weight_grad_tile<V, MT, NV>(job, t, MT, vec0);
  for (; t < tap_end; t += kWeightGradTailTaps) {
    const int valid = static_cast<int>(min_i64(kWeightGradTailTaps, tap_end - t));
    weight_grad_tile<V, kWeightGradTailTaps, NV>(job, t, valid, vec0);
  }
}

template <class V>
void weight_grad(const WeightGradJob<typename V::T>& job, std::int64_t tap_begin,
                 std::int64_t tap_end, std::int64_t vec_begin, std::int64_t vec_end) {
  for (std::int64_t v = vec_begin; v < vec_end; v += 4) {
    switch (min_i64(4, vec_end - v)) {
      case 1: weight_grad_block<V, 1>(job, tap_begin, tap_end, v); break;
      case 2: weight_grad_block<V, 2>(job, tap_begin, tap_end, v); break;
      case 3: weight_grad_block<V, 3>(job, tap_begin, tap_end, v); break;
      default: weight_grad_block<V, 4>(job, tap_begin, tap_end, v); break;
    }
  }
}

// The one list of tiles (mr, nv) with their loops; conv.cpp picks the best fit for a shape.
template <class V>
constexpr ConvTile<typename V::T> kConvTiles[] = {{8, 3, &conv_slots<V, 8, 3>},
                                                 {12, 2, &conv_slots<V, 12, 2>},
                                                 {6, 4, &conv_slots<V, 6, 4>},
                                                 {4, 6, &conv_slots<V, 4, 6>}};

template <class V>
constexpr DirectKernels<typename V::T> kKernels = {
    V::L, kConvTiles<V>, static_cast<int>(sizeof(kConvTiles<V>) / sizeof(kConvTiles<V>[0])),
    &transpose_to_positions<V>, &weight_grad<V>};

}  // namespace
}  // namespace kernn::conv_direct
