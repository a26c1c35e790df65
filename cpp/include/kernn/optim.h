// Fused, in-place optimizer updates, float and double, one pass over a parameter's elements.
//
// Each kernel follows torch.optim's single-tensor (for-loop) implementation of torch 2.13
// formula by formula and in the same order, so that float64 agrees to rounding and float32 to a
// few ulp per step. As in torch, Python-float hyper-parameters are used at the parameter's
// precision (a float32 tensor op with a Python scalar computes in float32), while the bias
// corrections of Adam are computed in double like torch's Python code and rounded once.
// Elements are independent: the kernels parallelise over them above kParallelGrain, and results
// do not depend on the thread count.
#pragma once

#include <cstdint>

namespace kernn {

struct SgdOptions {
  double lr = 0.0;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
  bool maximize = false;
  bool first_step = false;  // the momentum buffer is set to the gradient, as torch's first step
};

// torch.optim.SGD, per element:
//   g = maximize ? -grad : grad
//   if weight_decay != 0:  g = g + weight_decay * p
//   if momentum != 0:
//     buf = first_step ? g : buf * momentum + (1 - dampening) * g
//     g = nesterov ? g + momentum * buf : buf
//   p = p - lr * g
// `momentum_buffer` may be null when momentum == 0.
template <typename T>
void sgd_step(std::int64_t n, T* param, const T* grad, T* momentum_buffer, const SgdOptions& o);

struct AdamOptions {
  std::int64_t step = 1;  // counts from 1, already incremented
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  bool amsgrad = false;
  bool decoupled_weight_decay = false;  // AdamW
  bool maximize = false;
};

// torch.optim.Adam / AdamW, per element:
//   g = maximize ? -grad : grad
//   if weight_decay != 0:  decoupled ? p = p * (1 - lr * weight_decay)  : g = g + weight_decay * p
//   m = lerp(m, g, 1 - beta1)          (torch's lerp: m + w * (g - m) for w < 0.5)
//   v = v * beta2 + (1 - beta2) * g * g
//   bc1 = 1 - beta1^step, bc2 = 1 - beta2^step, step_size = lr / bc1   (double)
//   if amsgrad:  vmax = maximum(vmax, v)  and v below is vmax
//   denom = sqrt(v) / sqrt(bc2) + eps
//   p = p + (-step_size) * m / denom
// `max_exp_avg_sq` may be null unless amsgrad.
template <typename T>
void adam_step(std::int64_t n, T* param, const T* grad, T* exp_avg, T* exp_avg_sq,
               T* max_exp_avg_sq, const AdamOptions& o);

struct RmspropOptions {
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0.0;
  double momentum = 0.0;
  bool centered = false;
  bool maximize = false;
};

// torch.optim.RMSprop, per element:
//   g = maximize ? -grad : grad
//   if weight_decay != 0:  g = g + weight_decay * p
//   sq = sq * alpha + (1 - alpha) * g * g
//   if centered:  ga = lerp(ga, g, 1 - alpha);  avg = sqrt(sq - ga * ga)   else avg = sqrt(sq)
//   avg = avg + eps
//   if momentum > 0:  buf = buf * momentum + g / avg;  p = p - lr * buf
//   else:             p = p + (-lr) * g / avg
// `momentum_buffer` may be null unless momentum > 0, `grad_avg` unless centered.
template <typename T>
void rmsprop_step(std::int64_t n, T* param, const T* grad, T* square_avg, T* momentum_buffer,
                  T* grad_avg, const RmspropOptions& o);

}  // namespace kernn
