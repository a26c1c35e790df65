// GEMM (see kernn/gemm.h for shapes and semantics): the Goto/BLIS structure.
//
//   C is cut into one rectangle per thread (a grid over rows and columns, chosen per shape);
//   each thread, with no synchronisation at all:
//   for each block of mc rows of its rectangle     (packed A block, L2/L3)
//     for each depth block of kc                   (k is never split)
//       pack A[rows, depth] into MR-row panels
//       for each block of nc of its columns:
//         pack B[depth, columns] into NR-column panels   (stays in L2; or, B copied, by the
//                                                          tiles of the first A panel)
//         for each MR-row panel of A:                    (in L1 while the B panels stream)
//           for each NR-column panel of B: micro-kernel -> MR x NR tile of C
//             (the last panel, when narrower, as narrow tiles of one register's width)
//
// The micro-kernel (kernn/gemm_microkernel.h, one per ISA, chosen at run time) keeps the tile
// in registers and applies the epilogue as it stores: the first depth block applies the
// caller's beta, later ones accumulate (beta = 1), the last one adds the biases and applies
// ReLU, so C is touched once per depth block. Packing zero-pads the last panels (of B, the last
// narrow tile's columns when B is read in place); tiles that stick out of C go through a small
// temporary tile, so the kernel only ever sees full tiles.
//
// Each C element's sum runs over p in order, within one kernel call per depth block, and the
// blocking does not depend on the thread count: 1 and 2 threads give the same bits.
//
// Two shapes skip most of that. C with at most 4 rows (or columns; batch-1 inference):
// packing B would cost as much as the product, so a kernel whose tile has exactly that many
// rows reads B in place. C with at most 24 rows or columns and both operands contiguous along
// k (x W^T with W stored (out, in), into a 10-class output or at a small batch): the ISA's dot
// tiles take the rows as they are, nothing packed.
#include "kernn/gemm.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "kernn/cpu_features.h"
#include "kernn/gemm_microkernel.h"
#include "kernn/parallel.h"

namespace kernn {

namespace {

using gemm_detail::MicroKernel;
using gemm_detail::TileEpilogue;

// ---- ISA dispatch ---------------------------------------------------------------------------

enum class Isa : int { Generic = 0, Avx2 = 1, Avx512 = 2 };

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return "avx512";
    case Isa::Avx2: return "avx2";
    default: return "generic";
  }
}

bool isa_supported(Isa isa) {
  switch (isa) {
#if defined(KERNN_X86)
    case Isa::Avx512: return cpu_features().avx512;
    case Isa::Avx2: return cpu_features().avx2_fma;
#endif
    case Isa::Generic: return true;
    default: return false;
  }
}

bool parse_isa(const std::string& name, Isa* isa) {
  for (Isa candidate : {Isa::Avx512, Isa::Avx2, Isa::Generic}) {
    if (name == isa_name(candidate)) {
      *isa = candidate;
      return true;
    }
  }
  return false;
}

Isa best_isa() {
  for (Isa isa : {Isa::Avx512, Isa::Avx2}) {
    if (isa_supported(isa)) return isa;
  }
  return Isa::Generic;
}

Isa initial_isa() {
  const Isa best = best_isa();
  const char* env = std::getenv("KERNN_ISA");
  if (env == nullptr || *env == '\0') return best;
  Isa requested;
  if (!parse_isa(env, &requested)) {
    std::fprintf(stderr, "kernn: KERNN_ISA=%s is not one of avx512, avx2, generic; using %s\n",
                 env, isa_name(best));
    return best;
  }
  if (!isa_supported(requested)) {
    std::fprintf(stderr, "kernn: KERNN_ISA=%s is not supported by this CPU; using %s\n", env,
                 isa_name(best));
    return best;
  }
  return requested;
}

std::atomic<int>& active_isa() {
  static std::atomic<int> isa{static_cast<int>(initial_isa())};
  return isa;
}

template <typename T>
MicroKernel<T> active_microkernel() {
  switch (static_cast<Isa>(active_isa().load(std::memory_order_relaxed))) {
#if defined(KERNN_X86)
    case Isa::Avx512: return gemm_detail::microkernel_avx512<T>();
    case Isa::Avx2: return gemm_detail::microkernel_avx2<T>();
#endif
    default: return gemm_detail::microkernel_generic<T>();
  }
}

// The active ISA's short-tile kernel (fewer rows than its main tile), if it has one.
template <typename T>
bool active_short_microkernel(MicroKernel<T>* uk) {
  switch (static_cast<Isa>(active_isa().load(std::memory_order_relaxed))) {
#if defined(KERNN_X86)
    case Isa::Avx512: *uk = gemm_detail::microkernel_avx512_short<T>(); return true;
#endif
    default: return false;  // avx2 (6 rows) and generic (4 rows) are short already
  }
}

// The active ISA's kernel whose tile has exactly `rows` (1..kMaxFewRows) rows
// (kernn/gemm_microkernel.h).
template <typename T>
MicroKernel<T> active_rows_microkernel(int rows) {
  switch (static_cast<Isa>(active_isa().load(std::memory_order_relaxed))) {
#if defined(KERNN_X86)
    case Isa::Avx512: return gemm_detail::microkernel_avx512_rows<T>(rows);
    case Isa::Avx2: return gemm_detail::microkernel_avx2_rows<T>(rows);
#endif
    default: return gemm_detail::microkernel_generic_rows<T>(rows);
  }
}

// ---- buffers --------------------------------------------------------------------------------

// The calling thread's 64-byte aligned scratch buffer; it only grows, so packing buffers are
// reused across calls instead of being allocated (and page-faulted) every time. Taken before
// the parallel region, for all threads: std::bad_alloc then leaves gemm as an exception
// (MemoryError in Python) instead of escaping an OpenMP region, which would terminate.
template <typename T>
T* thread_buffer(std::size_t count) {
  thread_local std::unique_ptr<T[]> storage;
  thread_local std::size_t capacity = 0;
  constexpr std::size_t kAlignElems = 64 / sizeof(T);
  if (capacity < count + kAlignElems) {
    capacity = count + kAlignElems;
    storage.reset(new T[capacity]);
  }
  const auto address = reinterpret_cast<std::uintptr_t>(storage.get());
  return reinterpret_cast<T*>((address + 63) & ~static_cast<std::uintptr_t>(63));
}

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// ---- packing --------------------------------------------------------------------------------

// kc runs of N elements, `ld` apart in src, one after another into dst.
template <int N, typename T>
void copy_rows(const T* src, std::int64_t ld, std::int64_t kc, T* dst) {
  for (std::int64_t p = 0; p < kc; ++p) {
    for (int r = 0; r < N; ++r) dst[p * N + r] = src[p * ld + r];
  }
}

// rows x kc of op(A), starting at (row0, p0), into a kc x mr panel; rows >= `rows` are zero.
template <typename T>
void pack_a_panel(const MicroKernel<T>& uk, int mr, bool trans_a, const T* a, std::int64_t lda,
                  std::int64_t row0, int rows, std::int64_t p0, std::int64_t kc, T* dst) {
  if (!trans_a) {
    // op(A)[i, p] = a[i * lda + p]: a transpose.
    uk.transpose_pack(a + row0 * lda + p0, lda, rows, kc, mr, dst);
  } else {
    // op(A)[i, p] = a[p * lda + i]: MR consecutive elements per p.
    const T* src = a + p0 * lda + row0;
    if (rows == mr) {
      switch (mr) {  // a fixed-length copy compiles to a few vector moves
        case 12: copy_rows<12>(src, lda, kc, dst); return;
        case 6: copy_rows<6>(src, lda, kc, dst); return;
        case 4: copy_rows<4>(src, lda, kc, dst); return;
        default: break;
      }
    }
    for (std::int64_t p = 0; p < kc; ++p) {
      T* d = dst + p * mr;
      for (int r = 0; r < rows; ++r) d[r] = src[p * lda + r];
      for (int r = rows; r < mr; ++r) d[r] = T(0);
    }
  }
}

// Rows of B (not transposed) per step of pack_full_panels.
constexpr std::int64_t kPanelStepRows = 8;

// `panels` full panels of NR columns of B (rows ldb apart) into dst (panel q at q * NR * kc):
// kPanelStepRows rows at a time, panel by panel, so that each panel's rows are written one
// after another. (Dealing each whole row out to all the panels wrote as many streams as there
// are panels: dx2's 500 x 784 B packed 1.36x slower from L2, 1.13x from L3.)
template <int NR, typename T>
void pack_full_panels(const T* src, std::int64_t ldb, std::int64_t kc, std::int64_t panels,
                      T* dst) {
  for (std::int64_t p = 0; p < kc; p += kPanelStepRows) {
    const std::int64_t rows = std::min(kPanelStepRows, kc - p);
    for (std::int64_t q = 0; q < panels; ++q) {
      copy_rows<NR>(src + p * ldb + q * NR, ldb, rows, dst + q * NR * kc + p * NR);
    }
  }
}

// kc x nc of op(B), starting at (p0, col0), into NR-column panels of kc x NR each (panel q at
// dst + q * NR * kc); the columns past nc in the last panel are zero.
template <typename T>
void pack_b_block(const MicroKernel<T>& uk, bool trans_b, const T* b, std::int64_t ldb,
                  std::int64_t p0, std::int64_t kc, std::int64_t col0, std::int64_t nc, T* dst) {
  const int nr = uk.nr;
  const std::int64_t panels = ceil_div(nc, nr);
  if (!trans_b) {
    // op(B)[p, j] = b[p * ldb + j]: rows of NR elements, already k-major.
    const std::int64_t full_panels = nc / nr;
    const int last_cols = static_cast<int>(nc - full_panels * nr);
    const T* src = b + p0 * ldb + col0;
    switch (nr) {  // a fixed-length copy compiles to a few vector moves, not a memcpy call
      case 64: pack_full_panels<64>(src, ldb, kc, full_panels, dst); break;
      case 32: pack_full_panels<32>(src, ldb, kc, full_panels, dst); break;
      case 16: pack_full_panels<16>(src, ldb, kc, full_panels, dst); break;
      case 8: pack_full_panels<8>(src, ldb, kc, full_panels, dst); break;
      case 4: pack_full_panels<4>(src, ldb, kc, full_panels, dst); break;
      default:
        for (std::int64_t q = 0; q < full_panels; ++q) {
          for (std::int64_t p = 0; p < kc; ++p) {
            std::copy(src + p * ldb + q * nr, src + p * ldb + (q + 1) * nr,
                      dst + (q * kc + p) * nr);
          }
        }
    }
    if (last_cols > 0) {  // the last panel, zero-padded
      T* last = dst + full_panels * nr * kc;
      for (std::int64_t p = 0; p < kc; ++p) {
        std::copy(src + p * ldb + full_panels * nr, src + p * ldb + nc, last + p * nr);
        std::fill(last + p * nr + last_cols, last + (p + 1) * nr, T(0));
      }
    }
  } else {
    // op(B)[p, j] = b[j * ldb + p]: a transpose, panel by panel.
    for (std::int64_t q = 0; q < panels; ++q) {
      const int cols = static_cast<int>(std::min<std::int64_t>(nr, nc - q * nr));
      uk.transpose_pack(b + (col0 + q * nr) * ldb + p0, ldb, cols, kc, nr, dst + q * nr * kc);
    }
  }
}

// ---- the edge of C --------------------------------------------------------------------------

// Largest MR * NR of any micro-kernel (avx512 float: 12 x 32).
constexpr int kMaxTile = 32 * 64;

// A tile that sticks out of C (rows < MR or cols < NR), or any tile of a C stored transposed:
// the kernel writes a full temporary tile, with C's values copied in when they are read and
// the biases padded, and the valid part is copied back. Element (i, j) of the tile lives at
// c[i * row_stride + j * col_stride]. The arithmetic is the kernel's own, so edge and
// interior tiles agree.
template <typename T>
void tile_via_buffer(gemm_detail::MicroKernelFn<T> fn, int mr, int nr, std::int64_t kc,
                     const T* ap, const T* bp, std::int64_t b_stride, T* c,
                     std::int64_t row_stride, std::int64_t col_stride, int rows, int cols,
                     const TileEpilogue<T>& ep) {
  alignas(64) T tile[kMaxTile];
  alignas(64) T col_bias[64];
  alignas(64) T row_bias[32];
  if (ep.beta != T(0)) {
    // The kernel reads the whole tile; the padding's values are never copied back.
    std::fill(tile, tile + mr * nr, T(0));
    for (int i = 0; i < rows; ++i) {
      for (int j = 0; j < cols; ++j) tile[i * nr + j] = c[i * row_stride + j * col_stride];
    }
  }
  TileEpilogue<T> padded = ep;
  if (ep.col_bias) {
    std::fill(col_bias, col_bias + nr, T(0));
    std::copy(ep.col_bias, ep.col_bias + cols, col_bias);
    padded.col_bias = col_bias;
  }
  if (ep.row_bias) {
    std::fill(row_bias, row_bias + mr, T(0));
    std::copy(ep.row_bias, ep.row_bias + rows, row_bias);
    padded.row_bias = row_bias;
  }
  fn(kc, ap, bp, b_stride, tile, nr, padded);
  for (int i = 0; i < rows; ++i) {
    for (int j = 0; j < cols; ++j) c[i * row_stride + j * col_stride] = tile[i * nr + j];
  }
}

// One row of C through the epilogue, in gemm_reference's order: c[j * col_stride] =
// act(product[j] + beta * c + col_bias[j] + row_bias[0]), product[j] = alpha * sums[j], or 0
// when sums is null (k == 0 or alpha == 0: no sum at all); c is read only when beta != 0, a
// null bias adds nothing. Each option is a pass of its own over the row, so that the passes
// vectorise where C's row is contiguous (the batch-1 layer's 500 outputs took ~1 us element by
// element, a thirtieth of the call).
template <typename T>
void epilogue_row(std::int64_t n, const T* sums, T alpha, T beta, T* c, std::int64_t col_stride,
                  const T* col_bias, const T* row_bias, bool relu) {
  const auto pass = [&](auto&& f) {
    if (col_stride == 1) {
      for (std::int64_t j = 0; j < n; ++j) f(c[j], j);
    } else {
      for (std::int64_t j = 0; j < n; ++j) f(c[j * col_stride], j);
    }
  };
  const auto product = [&](std::int64_t j) { return sums ? alpha * sums[j] : T(0); };
  if (beta != T(0)) {
    pass([&](T& cj, std::int64_t j) { cj = product(j) + beta * cj; });
  } else {
    pass([&](T& cj, std::int64_t j) { cj = product(j); });
  }
  if (col_bias) pass([&](T& cj, std::int64_t j) { cj += col_bias[j]; });
  if (row_bias) {
    const T bias = *row_bias;
    pass([&](T& cj, std::int64_t) { cj += bias; });
  }
  if (relu) pass([](T& cj, std::int64_t) { cj = cj < T(0) ? T(0) : cj; });
}

// k == 0 or alpha == 0: C = act(beta * C + biases); A and B are not read.
template <typename T>
void epilogue_only(std::int64_t m, std::int64_t n, T beta, T* c, std::int64_t ldc,
                   const GemmEpilogue<T>& epilogue) {
  parallel_for_each(m, n, [&](std::int64_t i) {
    epilogue_row<T>(n, nullptr, T(0), beta, c + i * ldc, 1, epilogue.col_bias,
                    epilogue.row_bias ? epilogue.row_bias + i : nullptr, epilogue.relu);
  });
}

// Below this many multiply-adds a GEMM runs on the calling thread: a parallel region costs a
// couple of microseconds, more than splitting such a product saves. (At 1 << 20, products of
// 256k-1M multiply-adds, the perceptron's 10-class layer and its gradients among them, ran on
// one thread: two are 1.2-1.3x faster.) The dot products (batch-1 inference reads a
// 784 x 500 layer's 1.5 MB from L2 in ~20 us: two threads each stream half of it through their
// own core) pay for the team from the same size.
constexpr std::int64_t kGemmParallelMacs = std::int64_t{1} << 18;
constexpr std::int64_t kDotsParallelMacs = kGemmParallelMacs;

// At most this many MR-row panels of A: B (not transposed) is read in place, not packed.
constexpr std::int64_t kInPlaceBMaxAPanels = 4;

// At most this many MR-row panels of A in a block: the first panel's tiles pack B as they go
// (MicroKernel::fn_copying_b). Measured, 1 thread, against a separate pack (ab_gemm.py):
// 100x500x784 1.016, 96x500x784 1.017, 256^3 (22 panels) 1.032, 512^3 (43) 1.007, 1024^3
// (86) 0.994.
constexpr std::int64_t kPackBInTilesMaxAPanels = 32;

// A rectangle of C, in whole panels: A panels [qa_begin, qa_end) (MR rows each) by B panels
// [qb_begin, qb_end) (NR columns each).
struct PanelRange {
  std::int64_t qa_begin, qa_end, qb_begin, qb_end;
};

// Splits C into tm x tn <= threads rectangles, one per thread, each packing its own rows of A
// and columns of B, so the threads never wait for each other. Chooses the grid with the least
// estimated time per thread: its multiply-adds at ~32 per cycle (the AVX-512 peak) plus the
// elements it packs at ~1 per cycle (a split of n makes every thread pack all of A), plus
// ~2 us to wake a team when there is one (its workers are usually still spinning from the
// last region; 15000 cycles kept 100 x 10 x 500 on one thread, 1.2x slower).
constexpr double kForkCycles = 6000.0;
struct ThreadGrid {
  std::int64_t tm = 1, tn = 1;
};

ThreadGrid choose_grid(int threads, std::int64_t m, std::int64_t n, std::int64_t k, int mr,
                       int nr) {
  const std::int64_t a_panels = ceil_div(m, mr), b_panels = ceil_div(n, nr);
  ThreadGrid best;
  double best_cost = -1.0;
  for (std::int64_t team = 1; team <= threads; ++team) {
    for (std::int64_t tm = 1; tm <= team; ++tm) {
      if (team % tm != 0) continue;
      const std::int64_t tn = team / tm;
      if (tm > a_panels || tn > b_panels) continue;
      const double rows = static_cast<double>(ceil_div(a_panels, tm) * mr);
      const double cols = static_cast<double>(ceil_div(b_panels, tn) * nr);
      const double cost = rows * cols * static_cast<double>(k) / 32.0 +
                          (rows + cols) * static_cast<double>(k) + (team > 1 ? kForkCycles : 0.0);
      if (best_cost < 0.0 || cost < best_cost) {
        best_cost = cost;
        best.tm = tm;
        best.tn = tn;
      }
    }
  }
  return best;
}

// The tile height for a panel of the last `rows` rows of C (rows <= MR): the kernel's edge
// tile of exactly that many rows when it has one (same arithmetic per element, none of it
// wasted: for m = 100 and MR = 12, 8 % of the multiply-adds), else the full MR.
template <typename T>
int panel_rows(const MicroKernel<T>& uk, int rows) {
  return rows < uk.mr && rows <= gemm_detail::kMaxFewRows && uk.edge[rows - 1] ? rows : uk.mr;
}

// Whether the last `cols` (< nr) columns of C compute fewer columns as narrow tiles than as one
// zero-padded tile.
template <typename T>
bool narrow_saves_columns(const MicroKernel<T>& uk, std::int64_t cols) {
  return cols < uk.nr && uk.narrow_nr > 0 && ceil_div(cols, uk.narrow_nr) * uk.narrow_nr < uk.nr;
}

// One GEMM through the packed path. C element (i, j) is c[i * c_row_stride + j * c_col_stride]:
// c_col_stride == 1 is the ordinary row-major C; the transposed form (row stride 1) lets a
// product with few columns run as C^T = op(B)^T op(A)^T, so its long side fills the
// micro-kernel's wide dimension.
template <typename T>
void gemm_blocked(const MicroKernel<T>& uk, bool trans_a, bool trans_b, std::int64_t m,
                  std::int64_t n, std::int64_t k, T alpha, const T* a, std::int64_t lda,
                  const T* b, std::int64_t ldb, T beta, T* c, std::int64_t c_row_stride,
                  std::int64_t c_col_stride, const T* col_bias, const T* row_bias, bool relu) {
  const int mr = uk.mr, nr = uk.nr;
  const int max_team = (in_parallel() || m * n * k < kGemmParallelMacs) ? 1 : max_threads();
  const ThreadGrid grid = choose_grid(max_team, m, n, k, mr, nr);
  const int threads = static_cast<int>(grid.tm * grid.tn);

  // Depth blocks of equal size, none deeper than the kernel's kc. The blocking below never
  // depends on the thread count, so neither does any element's arithmetic.
  const std::int64_t k_blocks = ceil_div(k, uk.kc);
  const std::int64_t kc_max = ceil_div(k, k_blocks);
  const std::int64_t a_panels = ceil_div(m, mr), b_panels = ceil_div(n, nr);
  const std::int64_t mc_panels = std::max<std::int64_t>(1, uk.mc / mr);
  const std::int64_t nc_panels = std::max<std::int64_t>(1, uk.nc / nr);
  const bool direct_store = c_col_stride == 1;
  // op(B) = B row-major is already k-major: when each B panel would serve at most a few A
  // panels, packing it costs about as much as using it (for an im2col convolution with 6
  // output channels, more), so the kernel reads the full tiles from B itself and only a
  // partial last tile is packed (zero-padded). Same values in the same order: same bits.
  const bool b_in_place = !trans_b && a_panels <= kInPlaceBMaxAPanels;
  // The last panel of B, when it has fewer than nr columns, runs as narrow tiles (uk.narrow_nr
  // columns each) where that computes fewer columns than one zero-padded tile, or where it
  // saves packing (B read in place: only the columns past the last full narrow tile are
  // packed; a batch-1 1x500 @ 500x784 at 1 thread was 36-40 us with the padded 64-wide panel
  // packed, 28-30 us with the 16 columns past it in a narrow tile). Same arithmetic per element.
  const std::int64_t last_cols = n - (b_panels - 1) * nr;
  const int narrow_nr = uk.narrow_nr;
  const bool narrow_last =
      last_cols < nr && narrow_nr > 0 && (b_in_place || narrow_saves_columns(uk, last_cols));
  // B read in place packs only the columns of the last partial tile (zero-padded): those past
  // the last full narrow tile, or the whole last panel.
  std::int64_t packed_from = n;
  if (last_cols < nr) packed_from = narrow_last ? n - last_cols % narrow_nr : n - last_cols;
  // Per thread: a packed A block and a packed B block, each a whole number of cache lines.
  const std::int64_t line = 64 / static_cast<std::int64_t>(sizeof(T));
  const std::int64_t a_pack_size = ceil_div(mc_panels * mr * kc_max, line) * line;
  const std::int64_t b_pack_size = ceil_div(nc_panels * nr * kc_max, line) * line;
  T* const scratch =
      thread_buffer<T>(static_cast<std::size_t>(threads * (a_pack_size + b_pack_size)));

  run_threads(threads, [&](std::int64_t t) {
    const std::int64_t tm = t / grid.tn, tn = t % grid.tn;
    const PanelRange range{a_panels * tm / grid.tm, a_panels * (tm + 1) / grid.tm,
                           b_panels * tn / grid.tn, b_panels * (tn + 1) / grid.tn};
    T* const a_pack = scratch + t * (a_pack_size + b_pack_size);
    T* const b_pack = a_pack + a_pack_size;
    // Rows in blocks of mc (packed A), then depth, then columns in blocks of nc (packed B).
    for (std::int64_t qa0 = range.qa_begin; qa0 < range.qa_end; qa0 += mc_panels) {
      const std::int64_t qa1 = std::min(range.qa_end, qa0 + mc_panels);
      const std::int64_t row0 = qa0 * mr;
      const std::int64_t mc = std::min(qa1 * mr, m) - row0;
      // B (k-major, packed by copying rows) is packed by the tiles of the block's first A
      // panel as they compute, when those are full tiles stored straight to C: the copy then
      // shares the kernel's loop instead of taking a pass of its own before it. Only a last
      // partial panel (zero-padded) is packed beforehand. The same values, in the same order.
      // Where many A panels share the packed B, its separate pass costs little and reading B
      // in place (strided) in the first panel's tiles cost more (1024^3: 0.99x).
      const bool pack_b_in_tiles = uk.fn_copying_b != nullptr && !trans_b && !b_in_place &&
                                   direct_store && mc >= mr &&
                                   qa1 - qa0 <= kPackBInTilesMaxAPanels;
      for (std::int64_t kb = 0; kb < k_blocks; ++kb) {
        const std::int64_t p0 = kb * kc_max;
        const std::int64_t kc = std::min(kc_max, k - p0);
        for (std::int64_t q = 0; q < qa1 - qa0; ++q) {
          const int rows = static_cast<int>(std::min<std::int64_t>(mr, mc - q * mr));
          pack_a_panel(uk, panel_rows(uk, rows), trans_a, a, lda, row0 + q * mr, rows, p0, kc,
                       a_pack + q * mr * kc);
        }
        const bool last = kb == k_blocks - 1;
        TileEpilogue<T> ep{alpha, kb == 0 ? beta : T(1), nullptr, nullptr, last && relu};
        for (std::int64_t qb0 = range.qb_begin; qb0 < range.qb_end; qb0 += nc_panels) {
          const std::int64_t qb1 = std::min(range.qb_end, qb0 + nc_panels);
          const std::int64_t col0 = qb0 * nr;
          const std::int64_t nc = std::min(qb1 * nr, n) - col0;
          if (pack_b_in_tiles) {
            const std::int64_t full_cols = nc / nr * nr;
            if (full_cols < nc) {
              pack_b_block(uk, trans_b, b, ldb, p0, kc, col0 + full_cols, nc - full_cols,
                           b_pack + full_cols * kc);
            }
          } else if (!b_in_place) {
            pack_b_block(uk, trans_b, b, ldb, p0, kc, col0, nc, b_pack);
          } else if (qb1 * nr > n && packed_from < n) {
            pack_b_block(uk, trans_b, b, ldb, p0, kc, packed_from, n - packed_from, b_pack);
          }
          for (std::int64_t qa = qa0; qa < qa1; ++qa) {
            const std::int64_t row = qa * mr;
            const int rows = static_cast<int>(std::min<std::int64_t>(mr, m - row));
            const int tile_rows = panel_rows(uk, rows);
            const bool full_rows = tile_rows == mr;
            const gemm_detail::MicroKernelFn<T> wide_fn =
                full_rows ? uk.fn : uk.edge[tile_rows - 1];
            const gemm_detail::MicroKernelFn<T> narrow_fn =
                full_rows ? uk.narrow_fn : uk.narrow_edge[tile_rows - 1];
            const T* ap = a_pack + (qa - qa0) * mr * kc;
            ep.row_bias = last && row_bias ? row_bias + row : nullptr;
            for (std::int64_t qb = qb0; qb < qb1; ++qb) {
              const std::int64_t panel_col = qb * nr;
              const int panel_cols = static_cast<int>(std::min<std::int64_t>(nr, n - panel_col));
              const bool narrow = narrow_last && panel_cols < nr;
              const int width = narrow ? narrow_nr : nr;
              const gemm_detail::MicroKernelFn<T> fn = narrow ? narrow_fn : wide_fn;
              // One tile, or the narrow tiles of the last panel.
              for (std::int64_t col = panel_col; col < panel_col + panel_cols; col += width) {
                const int cols = static_cast<int>(std::min<std::int64_t>(width, n - col));
                ep.col_bias = last && col_bias ? col_bias + col : nullptr;
                const bool from_b = b_in_place && col + width <= n;
                const T* bp = from_b       ? b + p0 * ldb + col
                              : b_in_place ? b_pack
                                           : b_pack + (qb - qb0) * nr * kc + (col - panel_col);
                const std::int64_t b_stride = from_b ? ldb : nr;
                T* ct = c + row * c_row_stride + col * c_col_stride;
                if (pack_b_in_tiles && qa == qa0 && panel_cols == nr) {
                  uk.fn_copying_b(kc, ap, b + p0 * ldb + col, ldb,
                                  b_pack + (qb - qb0) * nr * kc, ct, c_row_stride, ep);
                } else if (direct_store && rows == tile_rows && cols == width) {
                  fn(kc, ap, bp, b_stride, ct, c_row_stride, ep);
                } else {
                  tile_via_buffer(fn, tile_rows, width, kc, ap, bp, b_stride, ct, c_row_stride,
                                  c_col_stride, rows, cols, ep);
                }
              }
            }
          }
        }
      }
    }
  });
}

// C[i, j] = act(alpha * dot(x_i, y_j) + beta * C[i, j] + biases) for i < m, j < n, where x_i
// (row i of op(A)) and y_j (column j of op(B)) are both contiguous along k: x_i at x + i * ldx,
// y_j at y + j * ldy. Nothing is packed; the micro-kernel ISA's dot tiles compute blocks of
// sums into a buffer on the stack, and the epilogue stores them. C element (i, j) is at
// c[i * c_row_stride + j * c_col_stride]. Threads take whole blocks; every element's sum is
// computed the same way in any block, so the thread count does not change any bit.
template <typename T>
void gemm_dots(const MicroKernel<T>& uk, std::int64_t m, std::int64_t n, std::int64_t k,
               T alpha, const T* x, std::int64_t ldx, const T* y, std::int64_t ldy, T beta, T* c,
               std::int64_t c_row_stride, std::int64_t c_col_stride, const T* col_bias,
               const T* row_bias, bool relu) {
  // A block: the x rows stay in L1 while up to kDotCols y rows stream past them (a narrow C's
  // few y rows stay in L1 while the x rows stream).
  constexpr std::int64_t kDotRows = 16, kDotCols = 128;
  const std::int64_t row_blocks = ceil_div(m, kDotRows), col_blocks = ceil_div(n, kDotCols);
  const std::int64_t blocks = row_blocks * col_blocks;
  const int threads =
      in_parallel() || m * n * k < kDotsParallelMacs
          ? 1
          : static_cast<int>(std::min<std::int64_t>(max_threads(), blocks));
  run_threads(threads, [&](std::int64_t t) {
  for (std::int64_t block = blocks * t / threads; block < blocks * (t + 1) / threads; ++block) {
    const std::int64_t i0 = block / col_blocks * kDotRows, j0 = block % col_blocks * kDotCols;
    const std::int64_t rows = std::min(kDotRows, m - i0), cols = std::min(kDotCols, n - j0);
    alignas(64) T sums[kDotRows * kDotCols];
    uk.dots(k, x + i0 * ldx, ldx, rows, y + j0 * ldy, ldy, cols, sums, cols);
    for (std::int64_t i = 0; i < rows; ++i) {
      epilogue_row(cols, sums + i * cols, alpha, beta,
                   c + (i0 + i) * c_row_stride + j0 * c_col_stride, c_col_stride,
                   col_bias ? col_bias + j0 : nullptr, row_bias ? row_bias + i0 + i : nullptr,
                   relu);
    }
  }
  });
}

// At most this many rows (or columns) of C: no packing of B, whose every element would be used
// only m times.
constexpr std::int64_t kFewRows = gemm_detail::kMaxFewRows;

// The GEMM for m <= kFewRows rows of C, with C element (i, j) at c[i * c_row_stride +
// j * c_col_stride] (so a product with few columns runs here transposed, like gemm_blocked).
// B not transposed, with more than a few columns: the kernel whose tile has exactly m rows
// reads B in place (op(A) is packed: m * k elements), the columns past the last wide tile in
// narrow tiles. Otherwise dot products of the rows of op(A) with the columns of op(B),
// gathering whichever is not contiguous along k (a transposed A: m * k elements; B not
// transposed: its n <= kFewRows columns).
template <typename T>
void gemm_few_rows(const MicroKernel<T>& uk, bool trans_a, bool trans_b, std::int64_t m,
                   std::int64_t n, std::int64_t k, T alpha, const T* a, std::int64_t lda,
                   const T* b, std::int64_t ldb, T beta, T* c, std::int64_t c_row_stride,
                   std::int64_t c_col_stride, const T* col_bias, const T* row_bias, bool relu) {
  if (!trans_b && n > kFewRows) {
    gemm_blocked(active_rows_microkernel<T>(static_cast<int>(m)), trans_a, trans_b, m, n, k,
                 alpha, a, lda, b, ldb, beta, c, c_row_stride, c_col_stride, col_bias, row_bias,
                 relu);
    return;
  }
  T* gathered =
      thread_buffer<T>(static_cast<std::size_t>((trans_a ? m * k : 0) + (trans_b ? 0 : n * k)));
  const T* x = a;
  std::int64_t ldx = lda;
  if (trans_a) {
    for (std::int64_t p = 0; p < k; ++p) {
      for (std::int64_t i = 0; i < m; ++i) gathered[i * k + p] = a[p * lda + i];
    }
    x = gathered;
    ldx = k;
    gathered += m * k;
  }
  const T* y = b;
  std::int64_t ldy = ldb;
  if (!trans_b) {
    for (std::int64_t p = 0; p < k; ++p) {
      for (std::int64_t j = 0; j < n; ++j) gathered[j * k + p] = b[p * ldb + j];
    }
    y = gathered;
    ldy = k;
  }
  gemm_dots(uk, m, n, k, alpha, x, ldx, y, ldy, beta, c, c_row_stride, c_col_stride, col_bias,
            row_bias, relu);
}

// At most this many rows or columns of C (and B stored transposed, A not): dot products, which
// beat packing up to here (measured: m = 100, k = 500, n = 24 twice as fast as packed tiles;
// even at 32).
constexpr std::int64_t kDotsMaxSide = 24;

// How much better the short tile must fill C to be taken: it loads twice the B registers per
// multiply-add. Measured (1 thread): m = 10, k = 300, n = 2000 went 240 -> 130-180 us with the
// short tile (6 rows and a 4-row edge) at a fill 1.2x the 12-row tile's, m = 10 and 20 at
// k = 100, n = 500 the same or better; m = 30 either way within the noise.
constexpr double kShortTileGain = 1.15;

// Fraction of the micro-kernel's work that lands inside an m x n C. The last rows count
// whole when they go through an edge kernel (panel_rows), the last columns as the narrow
// tiles that take them (narrow_saves_columns).
template <typename T>
double tile_fill(const MicroKernel<T>& uk, std::int64_t m, std::int64_t n) {
  const int last = static_cast<int>(m % uk.mr);
  const bool exact = last == 0 || panel_rows(uk, last) == last;
  const std::int64_t rows = exact ? m : ceil_div(m, uk.mr) * uk.mr;
  const std::int64_t last_cols = n % uk.nr;
  const std::int64_t cols =
      last_cols == 0 ? n
      : narrow_saves_columns(uk, last_cols)
          ? n - last_cols + ceil_div(last_cols, uk.narrow_nr) * uk.narrow_nr
          : ceil_div(n, uk.nr) * uk.nr;
  return static_cast<double>(m) / static_cast<double>(rows) * static_cast<double>(n) /
         static_cast<double>(cols);
}

}  // namespace

template <typename T>
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, T alpha,
          const T* a, std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c,
          std::int64_t ldc, const GemmEpilogue<T>& epilogue) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == T(0)) {
    epilogue_only(m, n, beta, c, ldc, epilogue);
    return;
  }
  MicroKernel<T> uk = active_microkernel<T>();
  if (m <= kFewRows) {
    gemm_few_rows(uk, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc,
                  std::int64_t{1}, epilogue.col_bias, epilogue.row_bias, epilogue.relu);
    return;
  }
  if (n <= kFewRows) {  // C^T = op(B)^T op(A)^T has n rows
    gemm_few_rows(uk, !trans_b, !trans_a, n, m, k, alpha, b, ldb, a, lda, beta, c,
                  std::int64_t{1}, ldc, epilogue.row_bias, epilogue.col_bias, epilogue.relu);
    return;
  }
  // A narrow C with both operands contiguous along k (x W^T into a 10-class output layer):
  // dot products of the rows, with no packing at all.
  if (!trans_a && trans_b && std::min(m, n) <= kDotsMaxSide) {
    gemm_dots(uk, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, std::int64_t{1},
              epilogue.col_bias, epilogue.row_bias, epilogue.relu);
    return;
  }
  // Any other narrow C (n well below NR: the gradient of a 10-class output layer) wastes most
  // of each tile; computed as C^T = op(B)^T op(A)^T its long side runs along NR instead.
  bool transposed = tile_fill(uk, n, m) > 1.25 * tile_fill(uk, m, n);
  // A C with few rows (m = 6 or 16 output channels of a convolution) leaves much of the main
  // tile's rows empty; the short tile, when the ISA has one and it fills clearly better.
  MicroKernel<T> short_uk;
  if (active_short_microkernel(&short_uk)) {
    const double fill = transposed ? tile_fill(uk, n, m) : tile_fill(uk, m, n);
    const double short_fill = tile_fill(short_uk, m, n);
    const double short_fill_t = tile_fill(short_uk, n, m);
    if (std::max(short_fill, short_fill_t) > kShortTileGain * fill) {
      uk = short_uk;
      transposed = short_fill_t > 1.25 * short_fill;
    }
  }
  if (transposed) {
    gemm_blocked(uk, !trans_b, !trans_a, n, m, k, alpha, b, ldb, a, lda, beta, c,
                 std::int64_t{1}, ldc, epilogue.row_bias, epilogue.col_bias, epilogue.relu);
  } else {
    gemm_blocked(uk, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc,
                 std::int64_t{1}, epilogue.col_bias, epilogue.row_bias, epilogue.relu);
  }
}

const char* gemm_isa() { return isa_name(static_cast<Isa>(active_isa().load())); }

std::vector<std::string> gemm_supported_isas() {
  std::vector<std::string> names;
  for (Isa isa : {Isa::Avx512, Isa::Avx2, Isa::Generic}) {
    if (isa_supported(isa)) names.emplace_back(isa_name(isa));
  }
  return names;
}

bool set_gemm_isa(const std::string& name) {
  Isa isa;
  if (!parse_isa(name, &isa) || !isa_supported(isa)) return false;
  active_isa().store(static_cast<int>(isa));
  return true;
}

template void gemm<float>(bool, bool, std::int64_t, std::int64_t, std::int64_t, float,
                          const float*, std::int64_t, const float*, std::int64_t, float, float*,
                          std::int64_t, const GemmEpilogue<float>&);
template void gemm<double>(bool, bool, std::int64_t, std::int64_t, std::int64_t, double,
                           const double*, std::int64_t, const double*, std::int64_t, double,
                           double*, std::int64_t, const GemmEpilogue<double>&);

}  // namespace kernn
