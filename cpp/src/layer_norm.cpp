// Layer normalisation kernels (see kernn/layer_norm.h for the formulas).
//
// The forward and dx parallelise over rows, each row done by one thread in a fixed order; the
// weight and bias gradients, sums over rows, parallelise over blocks of columns, each column
// summed over the rows in order. So no result depends on the thread count. Everything per
// element is computed in double and rounded once: for float input with |mean| >> std (|x| ~ 1e4,
// std ~ 1), centring in float would lose about 1e-3 of each normalised value.
#include "kernn/layer_norm.h"

#include <algorithm>
#include <cmath>

#include "kernn/parallel.h"
#include "lane_sum.h"

namespace kernn {

namespace {

using detail::lane_sum;
using detail::LaneSum;

// Columns per task of the weight/bias gradient: a few cache lines of each row per step.
constexpr std::int64_t kColumnBlock = 64;

}  // namespace

template <typename T>
void layer_norm_forward(const T* x, std::int64_t rows, std::int64_t cols, const T* weight,
                        const T* bias, double eps, T* y, double* save_mean, double* save_rstd) {
  const double n = static_cast<double>(cols);
  parallel_row_blocks(rows, cols, 8, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t r = begin; r < end; ++r) {
      const T* xr = x + r * cols;
      T* yr = y + r * cols;
      LaneSum sum;
      lane_sum(sum, cols, [&](std::int64_t j) { return static_cast<double>(xr[j]); });
      const double mean = sum.total() / n;
      LaneSum sq;
      lane_sum(sq, cols, [&](std::int64_t j) {
        const double d = static_cast<double>(xr[j]) - mean;
        return d * d;
      });
      const double rstd = 1.0 / std::sqrt(sq.total() / n + eps);
      for (std::int64_t j = 0; j < cols; ++j) {
        const double w = weight ? static_cast<double>(weight[j]) : 1.0;
        const double b = bias ? static_cast<double>(bias[j]) : 0.0;
        yr[j] = static_cast<T>((static_cast<double>(xr[j]) - mean) * rstd * w + b);
      }
      save_mean[r] = mean;
      save_rstd[r] = rstd;
    }
  });
}

template <typename T>
void layer_norm_backward(const T* x, const T* dy, std::int64_t rows, std::int64_t cols,
                         const T* weight, const double* save_mean, const double* save_rstd,
                         T* dx, T* dweight, T* dbias) {
  const double n = static_cast<double>(cols);
  if (dx) {
    parallel_row_blocks(rows, cols, 12, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t r = begin; r < end; ++r) {
        const T* xr = x + r * cols;
        const T* dyr = dy + r * cols;
        const double mean = save_mean[r], rstd = save_rstd[r];
        auto g = [&](std::int64_t j) {
          const double w = weight ? static_cast<double>(weight[j]) : 1.0;
          return static_cast<double>(dyr[j]) * w;
        };
        auto xhat = [&](std::int64_t j) { return (static_cast<double>(xr[j]) - mean) * rstd; };
        LaneSum g_sum, g_xhat_sum;
        lane_sum(g_sum, cols, g);
        lane_sum(g_xhat_sum, cols, [&](std::int64_t j) { return g(j) * xhat(j); });
        const double g_mean = g_sum.total() / n, g_xhat_mean = g_xhat_sum.total() / n;
        T* dxr = dx + r * cols;
        for (std::int64_t j = 0; j < cols; ++j) {
          dxr[j] = static_cast<T>(rstd * (g(j) - g_mean - xhat(j) * g_xhat_mean));
        }
      }
    });
  }
  if (dweight || dbias) {
    const std::int64_t blocks = (cols + kColumnBlock - 1) / kColumnBlock;
    parallel_for_each(blocks, rows * kColumnBlock * 4, [&](std::int64_t block) {
      const std::int64_t begin = block * kColumnBlock;
      const std::int64_t width = std::min(kColumnBlock, cols - begin);
      double dw_sum[kColumnBlock] = {}, db_sum[kColumnBlock] = {};
      for (std::int64_t r = 0; r < rows; ++r) {
        const T* xr = x + r * cols + begin;
        const T* dyr = dy + r * cols + begin;
        const double mean = save_mean[r], rstd = save_rstd[r];
        for (std::int64_t j = 0; j < width; ++j) {
          const double d = static_cast<double>(dyr[j]);
          dw_sum[j] += d * ((static_cast<double>(xr[j]) - mean) * rstd);
          db_sum[j] += d;
        }
      }
      for (std::int64_t j = 0; j < width; ++j) {
        if (dweight) dweight[begin + j] = static_cast<T>(dw_sum[j]);
        if (dbias) dbias[begin + j] = static_cast<T>(db_sum[j]);
      }
    });
  }
}

#define KERNN_INSTANTIATE_LAYER_NORM(T)                                                        \
  template void layer_norm_forward<T>(const T*, std::int64_t, std::int64_t, const T*, const T*, \
                                      double, T*, double*, double*);                           \
  template void layer_norm_backward<T>(const T*, const T*, std::int64_t, std::int64_t,         \
                                       const T*, const double*, const double*, T*, T*, T*);

KERNN_INSTANTIATE_LAYER_NORM(float)
KERNN_INSTANTIATE_LAYER_NORM(double)

}  // namespace kernn
