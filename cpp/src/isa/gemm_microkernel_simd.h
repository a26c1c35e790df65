// The register-blocked GEMM micro-kernel, written once over a vector-traits class V and
// instantiated by each ISA file (gemm_microkernel_avx2.cpp, gemm_microkernel_avx512.cpp) with
// its own intrinsics. Included only from those files: every instantiation must live in a
// translation unit built with that ISA's flags, and V lives in an anonymous namespace there so
// no instantiation is shared (merged by the linker) with code built for another ISA.
//
// V provides: T (float/double), R (register), L (lanes), zero(), load(p), store(p, r),
// set1(x), fmadd(a, b, c) = a*b + c, mul, add, max(a, b) (returns b when either is NaN),
// and for the dot tiles: Mask (a mask type), first_lanes(count) (the first count < L lanes),
// load(p, mask) (those lanes of p, the others 0, nothing read past them) and kSumsOfL,
// which says how the lanes of a register r are added, always by the same tree: when true,
// sums_of_l(r[L], out[L]) sets out[e] to the sum of r[e]'s lanes for all e at once; when
// false, hsum(r) returns the sum of one register's lanes.
//
// Tile: MR rows x NV registers (NR = NV * L columns); see kernn/gemm_microkernel.h for the
// panel layout and the epilogue formula.
#pragma once

#include <cstdint>

#include "../gemm_microkernel_rows.h"
#include "kernn/gemm_microkernel.h"

namespace kernn::gemm_detail {
namespace {

// The tile; with kCopyB, every row of B it loads is also stored to b_copy (kc x NR, k-major).
template <class V, int MR, int NV, bool kCopyB>
__attribute__((always_inline)) inline void simd_tile(std::int64_t kc, const typename V::T* a,
                                                     const typename V::T* b, std::int64_t ldb,
                                                     typename V::T* b_copy, typename V::T* c,
                                                     std::int64_t ldc,
                                                     const TileEpilogue<typename V::T>& ep) {
  using T = typename V::T;
  using R = typename V::R;
  constexpr int L = V::L;
  constexpr int NR = NV * L;
  // C's tile is read or written at the end; start fetching its lines now.
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i) {
    __builtin_prefetch(c + i * ldc, 1);
    __builtin_prefetch(c + i * ldc + NR - 1, 1);
  }
  R acc[MR][NV];
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) acc[i][j] = V::zero();
  }
  // Each step prefetches every line of one row of B 8 rows ahead (a packed panel streams from
  // L2; prefetching only its first line per row, leaving the other to the hardware, was 1-4 %
  // slower). B read in place (rows ldb apart, not packed; the hardware prefetchers miss that
  // stride) with a short depth (an im2col convolution's k = 25) prefetches instead the same
  // row's lines of the next panel, which the next call reads a whole kernel call later (long
  // enough for B to come from L3).
  const bool in_place = ldb != NR;
  const std::int64_t prefetch_offset = in_place && kc < 64 ? NR : 8 * ldb;
  for (std::int64_t p = 0; p < kc; ++p) {
    R bv[NV];
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) bv[j] = V::load(b + j * L);
    if constexpr (kCopyB) {
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) V::store(b_copy + p * NR + j * L, bv[j]);
    }
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) __builtin_prefetch(b + prefetch_offset + j * L);
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i) {
      const R ai = V::set1(a[i]);
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) acc[i][j] = V::fmadd(ai, bv[j], acc[i][j]);
    }
    a += MR;
    b += ldb;
  }

  // Fused epilogue, same order as gemm_reference: each step over the whole tile (in registers)
  // under one test of its option. (Testing the options per register, as a single pass over
  // the tile would, also reloads them after every store to C, which may alias them: a
  // dozen instructions per register.)
  const R alpha = V::set1(ep.alpha);
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) acc[i][j] = V::mul(acc[i][j], alpha);
  }
  if (ep.beta != T(0)) {
    const R beta = V::set1(ep.beta);
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) {
        acc[i][j] = V::fmadd(beta, V::load(c + i * ldc + j * L), acc[i][j]);
      }
    }
  }
  if (ep.col_bias) {
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) {
      const R col_bias = V::load(ep.col_bias + j * L);
#pragma GCC unroll 32
      for (int i = 0; i < MR; ++i) acc[i][j] = V::add(acc[i][j], col_bias);
    }
  }
  if (ep.row_bias) {
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i) {
      const R row_bias = V::set1(ep.row_bias[i]);
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) acc[i][j] = V::add(acc[i][j], row_bias);
    }
  }
  if (ep.relu) {
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) acc[i][j] = V::max(V::zero(), acc[i][j]);
    }
  }
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) V::store(c + i * ldc + j * L, acc[i][j]);
  }
}

// kernn/gemm_microkernel.h's MicroKernelFn.
template <class V, int MR, int NV>
void simd_microkernel(std::int64_t kc, const typename V::T* a, const typename V::T* b,
                      std::int64_t ldb, typename V::T* c, std::int64_t ldc,
                      const TileEpilogue<typename V::T>& ep) {
  simd_tile<V, MR, NV, false>(kc, a, b, ldb, nullptr, c, ldc, ep);
}

// kernn/gemm_microkernel.h's CopyingMicroKernelFn: the same tile, packing B as it goes.
template <class V, int MR, int NV>
void simd_microkernel_copying_b(std::int64_t kc, const typename V::T* a,
                                const typename V::T* b, std::int64_t ldb,
                                typename V::T* b_copy, typename V::T* c, std::int64_t ldc,
                                const TileEpilogue<typename V::T>& ep) {
  simd_tile<V, MR, NV, true>(kc, a, b, ldb, b_copy, c, ldc, ep);
}

// The scalar part of a transposing pack (kernn/gemm_microkernel.h's TransposePackFn): rows
// [r0, rows) of columns [p0, p1) transposed, and rows [rows, width) of those columns zeroed.
template <typename T>
void transpose_pack_scalar(const T* src, std::int64_t ld, int r0, int rows, std::int64_t p0,
                           std::int64_t p1, int width, T* dst) {
  for (std::int64_t p = p0; p < p1; ++p) {
    T* d = dst + p * width;
    for (int r = r0; r < rows; ++r) d[r] = src[r * ld + p];
    for (int r = rows; r < width; ++r) d[r] = T(0);
  }
}

// The dot products of RX rows of x with RY rows of y (kernn/gemm_microkernel.h, DotsFn):
// RX * RY accumulators, each step loading RX + RY registers. Only the first `cols` <= RY rows
// of y are stored; the others repeat the last valid row (no reads out of bounds) and are
// dropped. Each sum: lane l takes the terms p = l (mod L) in order, the last partial step is
// masked, and the lanes are added by V's fixed tree (V::sums_of_l or V::hsum, as V::kSumsOfL
// says): the same arithmetic for every element of every tile.
template <class V, int RX, int RY>
void simd_dot_tile(std::int64_t k, const typename V::T* x, std::int64_t ldx,
                   const typename V::T* y, std::int64_t ldy, int cols, typename V::T* out,
                   std::int64_t ldo) {
  using R = typename V::R;
  constexpr int L = V::L;
  const typename V::T* ys[RY];
#pragma GCC unroll 16
  for (int j = 0; j < RY; ++j) ys[j] = y + (j < cols ? j : cols - 1) * ldy;
  R acc[RX][RY];
#pragma GCC unroll 16
  for (int i = 0; i < RX; ++i) {
#pragma GCC unroll 16
    for (int j = 0; j < RY; ++j) acc[i][j] = V::zero();
  }
  // The y rows stream from L2 (a batch-1 layer reads each weight once), RY of them at once,
  // more than the hardware prefetchers follow: each step prefetches every row 128 bytes ahead
  // (batch-1 784 x 500 layer: 11-13 % faster; 256 bytes ahead was 3 % slower than 128, 512
  // bytes slower still).
  constexpr std::int64_t kPrefetchAhead = 128 / sizeof(typename V::T);
  std::int64_t p = 0;
  for (; p + L <= k; p += L) {
    R xv[RX];
#pragma GCC unroll 16
    for (int i = 0; i < RX; ++i) xv[i] = V::load(x + i * ldx + p);
#pragma GCC unroll 16
    for (int j = 0; j < RY; ++j) {
      __builtin_prefetch(ys[j] + p + kPrefetchAhead);
      const R yv = V::load(ys[j] + p);
#pragma GCC unroll 16
      for (int i = 0; i < RX; ++i) acc[i][j] = V::fmadd(xv[i], yv, acc[i][j]);
    }
  }
  if (p < k) {
    const auto tail = V::first_lanes(static_cast<int>(k - p));
    R xv[RX];
#pragma GCC unroll 16
    for (int i = 0; i < RX; ++i) xv[i] = V::load(x + i * ldx + p, tail);
#pragma GCC unroll 16
    for (int j = 0; j < RY; ++j) {
      const R yv = V::load(ys[j] + p, tail);
#pragma GCC unroll 16
      for (int i = 0; i < RX; ++i) acc[i][j] = V::fmadd(xv[i], yv, acc[i][j]);
    }
  }
  if constexpr (V::kSumsOfL) {
    // L accumulators at a time through V::sums_of_l (one shuffle tree for all of them; the
    // slots past RX * RY are zero and dropped): each sum is the same tree over its own lanes.
    constexpr int N = RX * RY;
#pragma GCC unroll 4
    for (int base = 0; base < N; base += L) {
      R batch[L];
      alignas(64) typename V::T sums[L];
#pragma GCC unroll 16
      for (int e = 0; e < L; ++e) {
        batch[e] = base + e < N ? acc[(base + e) / RY][(base + e) % RY] : V::zero();
      }
      V::sums_of_l(batch, sums);
#pragma GCC unroll 16
      for (int e = 0; e < L; ++e) {
        const int i = (base + e) / RY, j = (base + e) % RY;
        if (base + e < N && j < cols) out[i * ldo + j] = sums[e];
      }
    }
  } else {
#pragma GCC unroll 16
    for (int i = 0; i < RX; ++i) {
#pragma GCC unroll 16
      for (int j = 0; j < RY; ++j) {
        if (j < cols) out[i * ldo + j] = V::hsum(acc[i][j]);
      }
    }
  }
}

// All rows x cols dot products, in tiles of RX rows (4 while there are 4) by as many rows of y
// as the accumulator budget `Acc` allows (registers hold RX * RY + RX + RY vectors).
template <class V, int Acc, int RX>
void simd_dot_rows(std::int64_t k, const typename V::T* x, std::int64_t ldx, const typename V::T* y,
                   std::int64_t ldy, std::int64_t cols, typename V::T* out, std::int64_t ldo) {
  constexpr int RY = Acc / RX;
  for (std::int64_t j = 0; j < cols; j += RY) {
    const int c = static_cast<int>(cols - j < RY ? cols - j : RY);
    simd_dot_tile<V, RX, RY>(k, x, ldx, y + j * ldy, ldy, c, out + j, ldo);
  }
}

template <class V, int Acc>
void simd_dots(std::int64_t k, const typename V::T* x, std::int64_t ldx, std::int64_t rows,
               const typename V::T* y, std::int64_t ldy, std::int64_t cols, typename V::T* out,
               std::int64_t ldo) {
  std::int64_t i = 0;
  for (; i + 4 <= rows; i += 4) {
    simd_dot_rows<V, Acc, 4>(k, x + i * ldx, ldx, y, ldy, cols, out + i * ldo, ldo);
  }
  switch (rows - i) {
    case 3: simd_dot_rows<V, Acc, 3>(k, x + i * ldx, ldx, y, ldy, cols, out + i * ldo, ldo); break;
    case 2: simd_dot_rows<V, Acc, 2>(k, x + i * ldx, ldx, y, ldy, cols, out + i * ldo, ldo); break;
    case 1: simd_dot_rows<V, Acc, 1>(k, x + i * ldx, ldx, y, ldy, cols, out + i * ldo, ldo); break;
    default: break;
  }
}

// The kernels of NV registers of columns, for gemm_microkernel_rows.h.
template <class V, int NV>
struct SimdTiles {
  using T = typename V::T;
  static constexpr int kNR = NV * V::L;
  template <int MR>
  static MicroKernelFn<T> kernel() {
    return &simd_microkernel<V, MR, NV>;
  }
};

}  // namespace
}  // namespace kernn::gemm_detail
