// Fused optimizer updates (see optim.h). Every scalar that torch passes as a Python float to a
// tensor op is converted to T once, here, exactly where torch's kernel would convert it.
#include "kernn/optim.h"

#include <cmath>

#include "kernn/parallel.h"

namespace kernn {

namespace {

// Rough scalar operations per element, for the parallel threshold.
constexpr std::int64_t kOpsPerElement = 8;

template <typename F>
void for_each_element(std::int64_t n, F&& f) {
#pragma omp parallel for schedule(static) if (n * kOpsPerElement > kParallelGrain && \
                                                  !in_parallel())
  for (std::int64_t i = 0; i < n; ++i) f(i);
}

// torch's lerp (ATen/native/Lerp.h): the form depends on the weight so that both ends are exact.
template <typename T>
T lerp(T self, T end, T weight) {
  return std::abs(weight) < T(0.5) ? self + weight * (end - self)
                                   : end - (end - self) * (T(1) - weight);
}

// torch.maximum: NaN in either operand gives NaN.
template <typename T>
T nan_maximum(T a, T b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) ? a : b;
  return a > b ? a : b;
}

}  // namespace

template <typename T>
void sgd_step(std::int64_t n, T* param, const T* grad, T* momentum_buffer, const SgdOptions& o) {
  const T weight_decay = static_cast<T>(o.weight_decay);
  const T momentum = static_cast<T>(o.momentum);
  const T one_minus_dampening = static_cast<T>(1.0 - o.dampening);
  const T neg_lr = static_cast<T>(-o.lr);
  const bool use_decay = o.weight_decay != 0.0;
  const bool use_momentum = o.momentum != 0.0;
  for_each_element(n, [&](std::int64_t i) {
    T g = o.maximize ? -grad[i] : grad[i];
    if (use_decay) g = g + weight_decay * param[i];
    if (use_momentum) {
      T& buf = momentum_buffer[i];
      buf = o.first_step ? g : buf * momentum + one_minus_dampening * g;
      g = o.nesterov ? g + momentum * buf : buf;
    }
    param[i] = param[i] + neg_lr * g;
  });
}

template <typename T>
void adam_step(std::int64_t n, T* param, const T* grad, T* exp_avg, T* exp_avg_sq,
               T* max_exp_avg_sq, const AdamOptions& o) {
  // Python-side scalars of torch's _single_tensor_adam, in double as there.
  const double step = static_cast<double>(o.step);
  const double bias_correction1 = 1.0 - std::pow(o.beta1, step);
  const double bias_correction2 = 1.0 - std::pow(o.beta2, step);
  const double step_size = o.lr / bias_correction1;
  const double bias_correction2_sqrt = std::pow(bias_correction2, 0.5);  // Python's ** 0.5

  const bool use_decay = o.weight_decay != 0.0;
  const T decay_factor = static_cast<T>(1.0 - o.lr * o.weight_decay);
  const T weight_decay = static_cast<T>(o.weight_decay);
  const T one_minus_beta1 = static_cast<T>(1.0 - o.beta1);
  const T beta2 = static_cast<T>(o.beta2);
  const T one_minus_beta2 = static_cast<T>(1.0 - o.beta2);
  const T bc2_sqrt = static_cast<T>(bias_correction2_sqrt);
  const T eps = static_cast<T>(o.eps);
  const T neg_step_size = static_cast<T>(-step_size);
  for_each_element(n, [&](std::int64_t i) {
    T g = o.maximize ? -grad[i] : grad[i];
    T p = param[i];
    if (use_decay) {
      if (o.decoupled_weight_decay) {
        p = p * decay_factor;
      } else {
        g = g + weight_decay * p;
      }
    }
    const T m = lerp(exp_avg[i], g, one_minus_beta1);
    exp_avg[i] = m;
    T v = exp_avg_sq[i] * beta2;
    v = v + one_minus_beta2 * g * g;
    exp_avg_sq[i] = v;
    if (o.amsgrad) {
      v = nan_maximum(max_exp_avg_sq[i], v);
      max_exp_avg_sq[i] = v;
    }
    const T denom = std::sqrt(v) / bc2_sqrt + eps;
    param[i] = p + neg_step_size * m / denom;
  });
}

template <typename T>
void rmsprop_step(std::int64_t n, T* param, const T* grad, T* square_avg, T* momentum_buffer,
                  T* grad_avg, const RmspropOptions& o) {
  const bool use_decay = o.weight_decay != 0.0;
  const bool use_momentum = o.momentum > 0.0;
  const T weight_decay = static_cast<T>(o.weight_decay);
  const T alpha = static_cast<T>(o.alpha);
  const T one_minus_alpha = static_cast<T>(1.0 - o.alpha);
  const T eps = static_cast<T>(o.eps);
  const T momentum = static_cast<T>(o.momentum);
  const T neg_lr = static_cast<T>(-o.lr);
  for_each_element(n, [&](std::int64_t i) {
    T g = o.maximize ? -grad[i] : grad[i];
    if (use_decay) g = g + weight_decay * param[i];
    T sq = square_avg[i] * alpha;
    sq = sq + one_minus_alpha * g * g;
    square_avg[i] = sq;
    T avg;
    if (o.centered) {
      const T ga = lerp(grad_avg[i], g, one_minus_alpha);
      grad_avg[i] = ga;
      avg = std::sqrt(sq + T(-1) * ga * ga);
    } else {
      avg = std::sqrt(sq);
    }
    avg = avg + eps;
    if (use_momentum) {
      const T buf = momentum_buffer[i] * momentum + g / avg;
      momentum_buffer[i] = buf;
      param[i] = param[i] + neg_lr * buf;
    } else {
      param[i] = param[i] + neg_lr * g / avg;
    }
  });
}

#define KERNN_INSTANTIATE(T)                                                                  \
  template void sgd_step<T>(std::int64_t, T*, const T*, T*, const SgdOptions&);               \
  template void adam_step<T>(std::int64_t, T*, const T*, T*, T*, T*, const AdamOptions&);     \
  template void rmsprop_step<T>(std::int64_t, T*, const T*, T*, T*, T*, const RmspropOptions&);

KERNN_INSTANTIATE(float)
KERNN_INSTANTIATE(double)
#undef KERNN_INSTANTIATE

}  // namespace kernn
