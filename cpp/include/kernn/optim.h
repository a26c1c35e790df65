// Fused, in-place optimizer updates, float and double: one call updates every parameter of a
// parameter group, in one pass over each parameter's elements and one thread team for all.
//
// Each kernel follows torch.optim's single-tensor (for-loop) implementation of torch 2.13
// formula by formula and in the same order, so that float64 agrees to rounding and float32 to a
// few ulp per step. As in torch, Python-float hyper-parameters are used at the parameter's
// precision (a float32 tensor op with a Python scalar computes in float32), while the bias
// corrections of Adam are computed in double like torch's Python code and rounded once.
// Elements are independent: the kernels parallelise over the elements of all the parameters
// together above kParallelGrain, and results do not depend on the thread count or on which
// parameters share a call.
#pragma once

#include <cstdint>
#include <vector>

namespace kernn {

struct SgdOptions {
  double lr = 0.0;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
  bool maximize = false;
};

// One parameter of an SGD update: n elements in each array.
template <typename T>
struct SgdParam {
  std::int64_t n = 0;
  T* param = nullptr;
  const T* grad = nullptr;
  T* momentum_buffer = nullptr;  // null when momentum == 0
  bool first_step = false;  // the momentum buffer is set to the gradient, as torch's first step
};

// torch.optim.SGD, per element:
//   g = maximize ? -grad : grad
//   if weight_decay != 0:  g = g + weight_decay * p
//   if momentum != 0:
//     buf = first_step ? g : buf * momentum + (1 - dampening) * g
//     g = nesterov ? g + momentum * buf : buf
//   p = p - lr * g
template <typename T>
void sgd_step(const std::vector<SgdParam<T>>& params, const SgdOptions& o);

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  bool amsgrad = false;
  bool decoupled_weight_decay = false;  // AdamW
  bool maximize = false;
};

// One parameter of an Adam update: n elements in each array.
template <typename T>
struct AdamParam {
  std::int64_t n = 0;
  std::int64_t step = 1;  // this parameter's step, counted from 1 (already incremented)
  T* param = nullptr;
  const T* grad = nullptr;
  T* exp_avg = nullptr;
  T* exp_avg_sq = nullptr;
  T* max_exp_avg_sq = nullptr;  // null unless amsgrad
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
template <typename T>
void adam_step(const std::vector<AdamParam<T>>& params, const AdamOptions& o);

struct RmspropOptions {
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0.0;
  double momentum = 0.0;
  bool centered = false;
  bool maximize = false;
};

// One parameter of an RMSprop update: n elements in each array.
template <typename T>
struct RmspropParam {
  std::int64_t n = 0;
  T* param = nullptr;
  const T* grad = nullptr;
  T* square_avg = nullptr;
  T* momentum_buffer = nullptr;  // null unless momentum > 0
  T* grad_avg = nullptr;         // null unless centered
};

// torch.optim.RMSprop, per element:
//   g = maximize ? -grad : grad
//   if weight_decay != 0:  g = g + weight_decay * p
//   sq = sq * alpha + (1 - alpha) * g * g
//   if centered:  ga = lerp(ga, g, 1 - alpha);  avg = sqrt(sq - ga * ga)   else avg = sqrt(sq)
//   avg = avg + eps
//   if momentum > 0:  buf = buf * momentum + g / avg;  p = p - lr * buf
//   else:             p = p + (-lr) * g / avg
template <typename T>
void rmsprop_step(const std::vector<RmspropParam<T>>& params, const RmspropOptions& o);

struct AdadeltaOptions {
  double lr = 1.0;
  double rho = 0.9;
  double eps = 1e-6;
  double weight_decay = 0.0;
  bool maximize = false;
};

// One parameter of an Adadelta update: n elements in each array.
template <typename T>
struct AdadeltaParam {
  std::int64_t n = 0;
  T* param = nullptr;
  const T* grad = nullptr;
  T* square_avg = nullptr;
  T* acc_delta = nullptr;
};

// torch.optim.Adadelta, per element:
//   g = maximize ? -grad : grad
//   if weight_decay != 0:  g = g + weight_decay * p
//   sq = sq * rho + (1 - rho) * g * g
//   std = sqrt(sq + eps)
//   delta = sqrt(acc + eps) / std * g
//   acc = acc * rho + (1 - rho) * delta * delta
//   p = p + (-lr) * delta
template <typename T>
void adadelta_step(const std::vector<AdadeltaParam<T>>& params, const AdadeltaOptions& o);

struct AdagradOptions {
  double lr = 1e-2;
  double lr_decay = 0.0;
  double weight_decay = 0.0;
  double eps = 1e-10;
  bool maximize = false;
};

// One parameter of an Adagrad update: n elements in each array.
template <typename T>
struct AdagradParam {
  std::int64_t n = 0;
  std::int64_t step = 1;  // this parameter's step, counted from 1 (already incremented)
  T* param = nullptr;
  const T* grad = nullptr;
  T* state_sum = nullptr;
};

// torch.optim.Adagrad, per element:
//   g = maximize ? -grad : grad
//   if weight_decay != 0:  g = g + weight_decay * p
//   clr = lr / (1 + (step - 1) * lr_decay)   (double, as torch's Python scalar)
//   sum = sum + g * g
//   std = sqrt(sum) + eps
//   p = p + (-clr) * g / std
template <typename T>
void adagrad_step(const std::vector<AdagradParam<T>>& params, const AdagradOptions& o);

}  // namespace kernn
