// The few-row kernels of a micro-kernel family (edge tiles and tiles of exactly 1-4 rows) and
// its narrow tiles, set up once for the portable kernels (gemm_microkernel_generic.cpp) and
// the SIMD ones (isa/gemm_microkernel_simd.h). Tiles provides T, kNR (the tile's columns) and
// kernel<MR>() (the family's kernel with a tile of MR rows and kNR columns); Narrow is the
// same family one vector register wide.
//
// Everything here has internal linkage (anonymous namespace): the ISA files build it with
// -mavx2 / -mavx512*, and an inline function with external linkage compiled there could be
// the copy the linker keeps for baseline callers too (in an unoptimised build), which would
// crash CPUs without the ISA.
#pragma once

#include "kernn/gemm_microkernel.h"

namespace kernn::gemm_detail {
namespace {

// The kernels of Tiles' family with 1..kMaxFewRows rows: kernels[r - 1] has r rows.
template <class Tiles>
void set_few_rows(MicroKernelFn<typename Tiles::T> (&kernels)[kMaxFewRows]) {
  static_assert(kMaxFewRows == 4, "one kernel per row count");
  kernels[0] = Tiles::template kernel<1>();
  kernels[1] = Tiles::template kernel<2>();
  kernels[2] = Tiles::template kernel<3>();
  kernels[3] = Tiles::template kernel<4>();
}

// The kernel of Tiles' family with `rows` rows, for the row counts of the tiles (1-4, and the
// main tiles' 6 and 12); null for any other. (For the narrow families: a wide family's 12-row
// kernel would need more registers than there are.)
template <class Tiles>
MicroKernelFn<typename Tiles::T> kernel_of_rows(int rows) {
  switch (rows) {
    case 1: return Tiles::template kernel<1>();
    case 2: return Tiles::template kernel<2>();
    case 3: return Tiles::template kernel<3>();
    case 4: return Tiles::template kernel<4>();
    case 6: return Tiles::template kernel<6>();
    case 12: return Tiles::template kernel<12>();
    default: return nullptr;
  }
}

// k's narrow tiles (kernn/gemm_microkernel.h) from Narrow, when it is narrower than Tiles: one
// of k.mr rows, and the edge ones when k has edge kernels.
template <class Tiles, class Narrow>
void set_narrow_kernels(MicroKernel<typename Tiles::T>& k) {
  if constexpr (Narrow::kNR < Tiles::kNR) {
    k.narrow_nr = Narrow::kNR;
    k.narrow_fn = kernel_of_rows<Narrow>(k.mr);
    if (k.edge[0] != nullptr) set_few_rows<Narrow>(k.narrow_edge);
  }
}

// `main` with its edge kernels of 1..kMaxFewRows rows (gemm.cpp uses those of fewer rows than
// main.mr) and, when Narrow is narrower than Tiles, its narrow tiles.
template <class Tiles, class Narrow>
MicroKernel<typename Tiles::T> with_edge_kernels(MicroKernel<typename Tiles::T> main) {
  set_few_rows<Tiles>(main.edge);
  set_narrow_kernels<Tiles, Narrow>(main);
  return main;
}

// A micro-kernel of exactly `rows` (1..kMaxFewRows) rows and Tiles::kNR columns, with the
// blocking of `main` and, when Narrow is narrower, a narrow tile of as many rows.
template <class Tiles, class Narrow>
MicroKernel<typename Tiles::T> few_rows_microkernel(MicroKernel<typename Tiles::T> main,
                                                    int rows) {
  MicroKernelFn<typename Tiles::T> kernels[kMaxFewRows];
  set_few_rows<Tiles>(kernels);
  main.mr = rows < 1 ? 1 : rows < kMaxFewRows ? rows : kMaxFewRows;
  main.nr = Tiles::kNR;
  main.fn = kernels[main.mr - 1];
  for (auto& edge : main.edge) edge = nullptr;  // the tile has no rows to spare
  main.narrow_nr = 0;
  main.narrow_fn = nullptr;
  for (auto& edge : main.narrow_edge) edge = nullptr;
  main.fn_copying_b = nullptr;  // main's tile, not this one
  set_narrow_kernels<Tiles, Narrow>(main);
  return main;
}

}  // namespace
}  // namespace kernn::gemm_detail
