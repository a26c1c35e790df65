// Layer normalisation over (rows, cols): each row (one sample's trailing normalized_shape,
// flattened to cols = prod(normalized_shape) values) is normalised by its own statistics;
// weight and bias are (cols,), shared by every row.
#pragma once

#include <cstdint>

namespace kernn {

// Forward, per row r (accumulated in double; two passes, so no cancellation when
// |mean| >> std):
//   mean_r = sum_j x[r, j] / cols;  var_r = sum_j (x[r, j] - mean_r)^2 / cols  (biased)
//   rstd_r = 1 / sqrt(var_r + eps)
//   y[r, j] = (x[r, j] - mean_r) * rstd_r * weight[j] + bias[j]   (weight/bias nullptr: 1, 0)
//   save_mean[r] = mean_r, save_rstd[r] = rstd_r  (rows,), kept in double for the backward.
template <typename T>
void layer_norm_forward(const T* x, std::int64_t rows, std::int64_t cols, const T* weight,
                        const T* bias, double eps, T* y, double* save_mean, double* save_rstd);

// Backward, with xhat[r, j] = (x[r, j] - mean_r) * rstd_r and g[r, j] = dy[r, j] * weight[j]:
//   dx[r, j]   = rstd_r * (g[r, j] - mean_k g[r, k] - xhat[r, j] * mean_k (g[r, k] xhat[r, k]))
//                (mean_k: the mean over the row's cols values)
//   dweight[j] = sum_r dy[r, j] * xhat[r, j]
//   dbias[j]   = sum_r dy[r, j]
// Any of dx, dweight, dbias may be nullptr (not computed). Sums in double, each in a fixed
// order (dx row by row, dweight/dbias column by column over the rows in order), so the bits do
// not depend on the thread count.
template <typename T>
void layer_norm_backward(const T* x, const T* dy, std::int64_t rows, std::int64_t cols,
                         const T* weight, const double* save_mean, const double* save_rstd,
                         T* dx, T* dweight, T* dbias);

}  // namespace kernn
