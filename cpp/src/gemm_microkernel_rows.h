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

// `main` (a tile of MR rows and Tiles::kNR columns) with its edge kernels of 1..kMaxFewRows
// rows (gemm.cpp uses those of fewer rows than MR) and, when Narrow is narrower than Tiles,
// its narrow tiles of MR and 1..kMaxFewRows rows.
template <class Tiles, class Narrow, int MR>
MicroKernel<typename Tiles::T> with_edge_kernels(MicroKernel<typename Tiles::T> main) {
  set_few_rows<Tiles>(main.edge);
  if constexpr (Narrow::kNR < Tiles::kNR) {
    main.narrow_nr = Narrow::kNR;
    main.narrow_fn = Narrow::template kernel<MR>();
    set_few_rows<Narrow>(main.narrow_edge);
  }
  return main;
}

// A micro-kernel of exactly `rows` (1..kMaxFewRows) rows and Tiles::kNR columns, with the
// blocking of `main` and, when Narrow is narrower, a narrow tile of as many rows.
template <class Tiles, class Narrow>
MicroKernel<typename Tiles::T> few_rows_microkernel(MicroKernel<typename Tiles::T> main,
                                                    int rows) {
  using T = typename Tiles::T;
  MicroKernelFn<T> wide[kMaxFewRows], narrow[kMaxFewRows];
  set_few_rows<Tiles>(wide);
  set_few_rows<Narrow>(narrow);
  main.mr = rows < kMaxFewRows ? rows : kMaxFewRows;
  main.nr = Tiles::kNR;
  main.fn = wide[main.mr - 1];
  for (auto& edge : main.edge) edge = nullptr;  // the tile has no rows to spare
  for (auto& edge : main.narrow_edge) edge = nullptr;
  main.narrow_nr = Narrow::kNR < Tiles::kNR ? Narrow::kNR : 0;
  main.narrow_fn = main.narrow_nr > 0 ? narrow[main.mr - 1] : nullptr;
  return main;
}

}  // namespace
}  // namespace kernn::gemm_detail
