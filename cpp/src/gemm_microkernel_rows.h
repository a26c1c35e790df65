// The few-row kernels of a micro-kernel family (edge tiles and tiles of exactly 1-4 rows),
// set up once for the portable kernels (gemm_microkernel_generic.cpp) and the SIMD ones
// (isa/gemm_microkernel_simd.h). Tiles provides T, kNR (the tile's columns) and kernel<MR>()
// (the family's kernel with a tile of MR rows and kNR columns).
//
// Everything here has internal linkage (anonymous namespace): the ISA files build it with
// -mavx2 / -mavx512*, and an inline function with external linkage compiled there could be
// the copy the linker keeps for baseline callers too (in an unoptimised build), which would
// crash CPUs without the ISA.
#pragma once

#include "kernn/gemm_microkernel.h"

namespace kernn::gemm_detail {
namespace {

// `main` with its edge kernels of 1..kMaxFewRows rows (gemm.cpp uses those of fewer rows
// than main.mr).
template <class Tiles>
MicroKernel<typename Tiles::T> with_edge_kernels(MicroKernel<typename Tiles::T> main) {
  static_assert(kMaxFewRows == 4, "one edge kernel per row count");
  main.edge[0] = Tiles::template kernel<1>();
  main.edge[1] = Tiles::template kernel<2>();
  main.edge[2] = Tiles::template kernel<3>();
  main.edge[3] = Tiles::template kernel<4>();
  return main;
}

// A micro-kernel of exactly `rows` (1..kMaxFewRows) rows and Tiles::kNR columns, with the
// blocking of `main`.
template <class Tiles>
MicroKernel<typename Tiles::T> few_rows_microkernel(MicroKernel<typename Tiles::T> main,
                                                    int rows) {
  main.nr = Tiles::kNR;
  main.mr = rows;
  for (auto& edge : main.edge) edge = nullptr;  // the tile has no rows to spare
  switch (rows) {
    case 1: main.fn = Tiles::template kernel<1>(); break;
    case 2: main.fn = Tiles::template kernel<2>(); break;
    case 3: main.fn = Tiles::template kernel<3>(); break;
    default: main.fn = Tiles::template kernel<4>(); main.mr = 4; break;
  }
  return main;
}

}  // namespace
}  // namespace kernn::gemm_detail
