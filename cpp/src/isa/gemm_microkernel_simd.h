// The register-blocked GEMM micro-kernel, written once over a vector-traits class V and
// instantiated by each ISA file (gemm_microkernel_avx2.cpp, gemm_microkernel_avx512.cpp) with
// its own intrinsics. Included only from those files: every instantiation must live in a
// translation unit built with that ISA's flags, and V lives in an anonymous namespace there so
// no instantiation is shared (merged by the linker) with code built for another ISA.
//
// V provides: T (float/double), R (register), L (lanes), zero(), load(p), store(p, r),
// set1(x), fmadd(a, b, c) = a*b + c, mul, add, max(a, b) (returns b when either is NaN).
//
// Tile: MR rows x NV registers (NR = NV * L columns); see kernn/gemm_microkernel.h for the
// panel layout and the epilogue formula.
#pragma once

#include <cstdint>

#include "kernn/gemm_microkernel.h"

namespace kernn::gemm_detail {
namespace {

template <class V, int MR, int NV>
void simd_microkernel(std::int64_t kc, const typename V::T* a, const typename V::T* b,
                      std::int64_t ldb, typename V::T* c, std::int64_t ldc,
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
  for (std::int64_t p = 0; p < kc; ++p) {
    R bv[NV];
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) bv[j] = V::load(b + j * L);
    // A few rows ahead on the B panel, which streams from L2 (or from B itself).
    __builtin_prefetch(b + 8 * ldb);
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i) {
      const R ai = V::set1(a[i]);
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) acc[i][j] = V::fmadd(ai, bv[j], acc[i][j]);
    }
    a += MR;
    b += ldb;
  }

  // Fused epilogue: one pass over the tile of C, same order as gemm_reference.
  const R alpha = V::set1(ep.alpha);
  const R beta = V::set1(ep.beta);
  const bool read_c = ep.beta != T(0);
  R col_bias[NV];
#pragma GCC unroll 4
  for (int j = 0; j < NV; ++j) col_bias[j] = ep.col_bias ? V::load(ep.col_bias + j * L) : V::zero();
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i) {
    T* ci = c + i * ldc;
    const R row_bias = V::set1(ep.row_bias ? ep.row_bias[i] : T(0));
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) {
      R v = V::mul(acc[i][j], alpha);
      if (read_c) v = V::fmadd(beta, V::load(ci + j * L), v);
      if (ep.col_bias) v = V::add(v, col_bias[j]);
      if (ep.row_bias) v = V::add(v, row_bias);
      if (ep.relu) v = V::max(V::zero(), v);
      V::store(ci + j * L, v);
    }
  }
}

}  // namespace
}  // namespace kernn::gemm_detail
