// Batch normalisation over (N, C, inner): inner = 1 for (N, C), L for (N, C, L), H*W for
// (N, C, H, W). Statistics are per channel c over the n = N*inner values x[:, c, :].
#pragma once

#include <cstdint>

namespace kernn {

// Training forward.
//   mean_c = sum x / n;  var_c = sum (x - mean_c)^2 / n  (biased; two passes, accumulated in
//   double, so no cancellation);  invstd_c = 1 / sqrt(var_c + eps)
//   y = (x - mean_c) * invstd_c * weight_c + bias_c   (weight/bias nullptr: 1 and 0)
//   save_mean = mean, save_invstd = invstd  (C,)
//   running_mean = (1 - momentum) * running_mean + momentum * mean_c
//   running_var  = (1 - momentum) * running_var  + momentum * var_c * n / (n - 1)   (unbiased)
//   (running_mean/running_var nullptr: not tracked; needs n > 1 when tracked.)
//   relu: y = y < 0 ? 0 : y in the same pass (batch norm followed by ReLU, fused).
template <typename T>
void batch_norm_forward_train(const T* x, std::int64_t N, std::int64_t C, std::int64_t inner,
                              const T* weight, const T* bias, double eps, double momentum,
                              T* running_mean, T* running_var, bool relu, T* y, T* save_mean,
                              T* save_invstd);

// Evaluation forward with the running statistics:
//   invstd_c = 1 / sqrt(running_var_c + eps);  y = (x - running_mean_c) * invstd_c * w_c + b_c
//   save_invstd = invstd (C,), so the backward has the same inputs in both modes.
//   relu: as in the training forward.
template <typename T>
void batch_norm_forward_eval(const T* x, std::int64_t N, std::int64_t C, std::int64_t inner,
                             const T* weight, const T* bias, const T* running_mean,
                             const T* running_var, double eps, bool relu, T* y,
                             T* save_invstd);

// Backward, with xhat = (x - mean_c) * invstd_c, w_c = weight_c (1 when nullptr):
//   dbias_c   = sum dy
//   dweight_c = sum dy * xhat
//   training:  dx = w_c * invstd_c * (dy - dbias_c / n - xhat * dweight_c / n)
//   eval:      dx = w_c * invstd_c * dy           (the statistics are constants)
// mean/invstd are save_mean/save_invstd of the training forward, or running_mean and the
// eval forward's save_invstd.
// relu_out: the output of a relu=true forward, or nullptr. When given, dy is the gradient of
// that ReLU's output and is first masked as relu_backward does: dy = relu_out <= 0 ? 0 : dy.
template <typename T>
void batch_norm_backward(const T* x, const T* dy, const T* relu_out, std::int64_t N,
                         std::int64_t C, std::int64_t inner, const T* weight, const T* mean,
                         const T* invstd, bool training, T* dx, T* dweight, T* dbias);

}  // namespace kernn
