// Portable GEMM micro-kernel: plain C++ the compiler can vectorise for whatever the baseline
// target has (SSE2 on x86-64, NEON on arm64). Tile 4 x 8 (float) / 4 x 4 (double): the
// accumulators fit in 16 128-bit registers with room for the B row.
#include <cstdint>

#include "gemm_microkernel_rows.h"
#include "kernn/gemm_microkernel.h"

namespace kernn::gemm_detail {
namespace {

template <typename T, int MR, int NR>
void generic_microkernel(std::int64_t kc, const T* a, const T* b, std::int64_t ldb, T* c,
                         std::int64_t ldc, const TileEpilogue<T>& ep) {
  T acc[MR][NR] = {};
  for (std::int64_t p = 0; p < kc; ++p) {
    for (int i = 0; i < MR; ++i) {
      const T ai = a[i];
      for (int j = 0; j < NR; ++j) acc[i][j] += ai * b[j];
    }
    a += MR;
    b += ldb;
  }
  for (int i = 0; i < MR; ++i) {
    T* ci = c + i * ldc;
    for (int j = 0; j < NR; ++j) {
      T v = ep.alpha * acc[i][j];
      if (ep.beta != T(0)) v += ep.beta * ci[j];
      if (ep.col_bias) v += ep.col_bias[j];
      if (ep.row_bias) v += ep.row_bias[i];
      if (ep.relu && v < T(0)) v = T(0);
      ci[j] = v;
    }
  }
}

// The dot products one at a time, each in kLanes independent partial sums (lane l takes
// p = l mod kLanes; the compiler can vectorise that without reassociating) added in a fixed
// tree at the end.
template <typename T>
T dot_lanes(const T* x, const T* y, std::int64_t k) {
  constexpr int kLanes = 16;
  T acc[kLanes] = {};
  std::int64_t p = 0;
  for (; p + kLanes <= k; p += kLanes) {
    for (int l = 0; l < kLanes; ++l) acc[l] += x[p + l] * y[p + l];
  }
  for (int l = 0; p + l < k; ++l) acc[l] += x[p + l] * y[p + l];
  for (int width = kLanes / 2; width > 0; width /= 2) {
    for (int l = 0; l < width; ++l) acc[l] += acc[l + width];
  }
  return acc[0];
}

template <typename T>
void generic_dots(std::int64_t k, const T* x, std::int64_t ldx, std::int64_t rows, const T* y,
                  std::int64_t ldy, std::int64_t cols, T* out, std::int64_t ldo) {
  for (std::int64_t i = 0; i < rows; ++i) {
    for (std::int64_t j = 0; j < cols; ++j) {
      out[i * ldo + j] = dot_lanes(x + i * ldx, y + j * ldy, k);
    }
  }
}

// The kernels of NR columns, for gemm_microkernel_rows.h.
template <typename Element, int NR>
struct GenericTiles {
  using T = Element;
  static constexpr int kNR = NR;
  template <int MR>
  static MicroKernelFn<T> kernel() {
    return &generic_microkernel<T, MR, NR>;
  }
};

}  // namespace

template <typename T>
void transpose_pack_generic(const T* src, std::int64_t ld, int rows, std::int64_t kc, int width,
                            T* dst) {
  // Short strips of p keep the `width`-strided destination lines in L1 while each source row
  // is read along p.
  constexpr std::int64_t kStrip = 16;
  for (std::int64_t ps = 0; ps < kc; ps += kStrip) {
    const std::int64_t pe = kc < ps + kStrip ? kc : ps + kStrip;
    for (int r = 0; r < rows; ++r) {
      const T* s = src + r * ld;
      for (std::int64_t p = ps; p < pe; ++p) dst[p * width + r] = s[p];
    }
    for (std::int64_t p = ps; p < pe; ++p) {
      for (int r = rows; r < width; ++r) dst[p * width + r] = T(0);
    }
  }
}

template void transpose_pack_generic<float>(const float*, std::int64_t, int, std::int64_t, int,
                                            float*);
template void transpose_pack_generic<double>(const double*, std::int64_t, int, std::int64_t, int,
                                             double*);

template <>
MicroKernel<float> microkernel_generic<float>() {
  return with_edge_kernels<GenericTiles<float, 8>, GenericTiles<float, 8>>(
          {"generic", 4, 8, 256, 512, 3072,
          &generic_microkernel<float, 4, 8>, &transpose_pack_generic<float>,
          &generic_dots<float>});
}

template <>
MicroKernel<double> microkernel_generic<double>() {
  return with_edge_kernels<GenericTiles<double, 4>, GenericTiles<double, 4>>(
          {"generic", 4, 4, 256, 512, 3072,
          &generic_microkernel<double, 4, 4>, &transpose_pack_generic<double>,
          &generic_dots<double>});
}

// Few rows: the main tile's columns (narrow already), 1-4 rows.
template <>
MicroKernel<float> microkernel_generic_rows<float>(int rows) {
  return few_rows_microkernel<GenericTiles<float, 8>, GenericTiles<float, 8>>(
      microkernel_generic<float>(), rows);
}

template <>
MicroKernel<double> microkernel_generic_rows<double>(int rows) {
  return few_rows_microkernel<GenericTiles<double, 4>, GenericTiles<double, 4>>(
      microkernel_generic<double>(), rows);
}

}  // namespace kernn::gemm_detail
