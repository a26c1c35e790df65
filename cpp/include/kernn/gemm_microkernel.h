// The GEMM micro-kernel interface: what every ISA's register-blocked kernel implements and
// what the portable framework in gemm.cpp (packing, blocking, threads, edge tiles) calls.
//
// A micro-kernel computes one MR x NR tile of C from packed panels:
//   a_panel: kc x MR, element (p, i) at a_panel[p * MR + i]   (MR rows of op(A), k-major)
//   b_panel: kc x NR, element (p, j) at b_panel[p * ldb + j]  (NR columns of op(B), k-major;
//            ldb = NR for a packed panel, B's own row stride when B is read in place, and a
//            wider packed panel's width when a narrow tile reads part of it)
//   acc[i][j] = sum_{p < kc} a_panel[p * MR + i] * b_panel[p * ldb + j]   (p in order)
// and stores, for every i < MR, j < NR (c row-major with row stride ldc):
//   c[i, j] = act(alpha * acc[i][j] + beta * c[i, j] + col_bias[j] + row_bias[i])
// where beta == 0 means c is not read, a null bias pointer adds nothing, and act is
// max(., 0) (NaN kept) when relu is set. The tile is always full: the framework routes
// edge tiles through a small MR x NR temporary. Panels need no particular alignment.
#pragma once

#include <cstdint>

namespace kernn::gemm_detail {

template <typename T>
struct TileEpilogue {
  T alpha;
  T beta;                      // 0: C is not read
  const T* col_bias;           // NR entries for this tile's columns, or nullptr
  const T* row_bias;           // MR entries for this tile's rows, or nullptr
  bool relu;
};

// Transposing pack, the inner step of packing A (not transposed) and B (transposed):
//   dst[p * width + r] = src[r * ld + p]   for r < rows, p < kc
//   dst[p * width + r] = 0                 for rows <= r < width
// (rows <= width <= 64).
template <typename T>
using TransposePackFn = void (*)(const T* src, std::int64_t ld, int rows, std::int64_t kc,
                                 int width, T* dst);

// Dot products for GEMMs with few rows or few columns, where packing would cost as much as the
// product (batch-1 inference, a 10-class output layer):
//   out[i * ldo + j] = sum_{p < k} x[i * ldx + p] * y[j * ldy + p]   for i < rows, j < cols
// Every sum is computed the same way whatever rows, cols and the element's place in the block
// (fixed lanes over p, then a fixed reduction of the lanes), so results do not depend on how
// the caller splits the product into blocks or threads.
template <typename T>
using DotsFn = void (*)(std::int64_t k, const T* x, std::int64_t ldx, std::int64_t rows,
                        const T* y, std::int64_t ldy, std::int64_t cols, T* out,
                        std::int64_t ldo);

// Most rows of C the few-rows kernels (microkernel_<isa>_rows, MicroKernel::edge) take.
constexpr int kMaxFewRows = 4;

template <typename T>
using MicroKernelFn = void (*)(std::int64_t kc, const T* a_panel, const T* b_panel,
                               std::int64_t ldb, T* c, std::int64_t ldc,
                               const TileEpilogue<T>& epilogue);

// A micro-kernel that also packs B: the tile of MicroKernelFn, reading B in place (rows ldb
// apart) and storing every row of NR elements it reads to b_copy (the kc x NR packed panel:
// b_copy[p * NR + j] = b[p * ldb + j]). Each tile of a block's first A panel packs its own B
// panel, for the tiles of the later A panels in the same columns, while it computes, instead of
// a separate pass over B before them.
template <typename T>
using CopyingMicroKernelFn = void (*)(std::int64_t kc, const T* a_panel, const T* b,
                                      std::int64_t ldb, T* b_copy, T* c, std::int64_t ldc,
                                      const TileEpilogue<T>& epilogue);

// A micro-kernel with its tile and the cache blocking tuned for it:
//   kc: depth of one packed block (a kc x NR panel of B and kc x MR panel of A in L1/L2),
//   nc: columns of the packed B block each thread keeps (kc x nc in L2),
//   mc: rows of the packed A block shared by the threads (mc x kc in L3).
template <typename T>
struct MicroKernel {
  const char* name;
  int mr;
  int nr;
  int kc;
  int nc;
  int mc;
  MicroKernelFn<T> fn;
  TransposePackFn<T> transpose_pack;
  DotsFn<T> dots;
  // edge[r - 1]: the same kernel with a tile of r rows (same nr), for the last r < mr rows of
  // C when r <= kMaxFewRows; null where there is none (entries with r >= mr are not used).
  MicroKernelFn<T> edge[kMaxFewRows] = {};
  // The same tiles one vector register wide (narrow_nr columns), for the columns of C past the
  // last full tile: narrow_fn with mr rows, narrow_edge[r - 1] with r rows (as edge). They read
  // narrow_nr columns at any offset of a wide packed panel, or of B in place (any ldb).
  // narrow_nr = 0 where the tile is that narrow already.
  int narrow_nr = 0;
  MicroKernelFn<T> narrow_fn = nullptr;
  MicroKernelFn<T> narrow_edge[kMaxFewRows] = {};
  // fn packing B as it goes (CopyingMicroKernelFn); null where the ISA has none.
  CopyingMicroKernelFn<T> fn_copying_b = nullptr;
};

// The portable transposing pack (gemm_microkernel_generic.cpp), the AVX2 one, and AVX-512's
// for float (the AVX-512 double kernels use AVX2's).
template <typename T>
void transpose_pack_generic(const T* src, std::int64_t ld, int rows, std::int64_t kc, int width,
                            T* dst);
#if defined(KERNN_X86)
template <typename T>
void transpose_pack_avx2(const T* src, std::int64_t ld, int rows, std::int64_t kc, int width,
                         T* dst);
void transpose_pack_avx512(const float* src, std::int64_t ld, int rows, std::int64_t kc,
                           int width, float* dst);
#endif

// One per ISA; avx2/avx512 exist only on x86 builds and may only be called on a CPU that
// has the ISA (kernn/cpu_features.h).
// microkernel_<isa>_rows(rows), 1 <= rows <= kMaxFewRows: a kernel whose tile has exactly
// `rows` rows and a wide NR (with its narrow tile), for C with that few rows and B read in
// place.
template <typename T>
MicroKernel<T> microkernel_generic();
template <typename T>
MicroKernel<T> microkernel_generic_rows(int rows);
#if defined(KERNN_X86)
template <typename T>
MicroKernel<T> microkernel_avx2();
template <typename T>
MicroKernel<T> microkernel_avx2_rows(int rows);
template <typename T>
MicroKernel<T> microkernel_avx512();
// The same ISA with a tile of half the rows and twice the columns, for products with few rows.
template <typename T>
MicroKernel<T> microkernel_avx512_short();
template <typename T>
MicroKernel<T> microkernel_avx512_rows(int rows);
#endif

}  // namespace kernn::gemm_detail
