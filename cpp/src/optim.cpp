// Fused optimizer updates (see optim.h). Every scalar that torch passes as a Python float to a
// tensor op is converted to T once, here, exactly where torch's kernel would convert it.
// Built with -fno-math-errno (CMakeLists.txt): otherwise std::sqrt keeps an errno branch and
// the loops stay scalar; the values are the same.
#include "kernn/optim.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "kernn/parallel.h"
#include "vec_math.h"

namespace kernn {

namespace {

// Elements per chunk: chunks go to threads, and each chunk is a plain loop the compiler
// vectorises. Rough scalar operations per element set the parallel threshold.
constexpr std::int64_t kChunk = 4096;
constexpr std::int64_t kOpsPerElement = 8;

template <typename F>
void for_each_chunk(std::int64_t n, F&& body) {
  if (worth_parallel(n * kOpsPerElement)) {
    const std::int64_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static)
    for (std::int64_t c = 0; c < chunks; ++c) body(c * kChunk, std::min(n, (c + 1) * kChunk));
  } else {
    body(std::int64_t{0}, n);
  }
}

// Calls f with std::true_type / std::false_type for each runtime flag, so that the per-element
// loops are compiled without any branch on a hyper-parameter (branches keep them scalar).
template <typename F>
void with_flags(F&& f) {
  f();
}
template <typename F, typename... Rest>
void with_flags(F&& f, bool first, Rest... rest) {
  if (first) {
    with_flags([&](auto... flags) { f(std::true_type{}, flags...); }, rest...);
  } else {
    with_flags([&](auto... flags) { f(std::false_type{}, flags...); }, rest...);
  }
}

// torch's lerp (ATen/native/Lerp.h): self + w * (end - self) for |w| < 0.5, else
// end - (end - self) * (1 - w), so that both ends are exact. The branch depends only on the
// (loop-invariant) weight: kSmallWeight.
template <bool kSmallWeight, typename T>
T lerp(T self, T end, T weight) {
  if constexpr (kSmallWeight) {
    return self + weight * (end - self);
  } else {
    return end - (end - self) * (T(1) - weight);
  }
}

// torch.maximum: NaN in either operand gives NaN.
template <typename T>
T nan_maximum(T a, T b) {
  T m = vmath::select(a > b, a, b);
  m = vmath::select(b != b, b, m);
  return vmath::select(a != a, a, m);
}

}  // namespace

template <typename T>
void sgd_step(std::int64_t n, T* param, const T* grad, T* momentum_buffer, const SgdOptions& o) {
  const T weight_decay = static_cast<T>(o.weight_decay);
  const T momentum = static_cast<T>(o.momentum);
  const T one_minus_dampening = static_cast<T>(1.0 - o.dampening);
  const T neg_lr = static_cast<T>(-o.lr);
  with_flags(
      [&](auto maximize, auto use_decay, auto use_momentum, auto first_step, auto nesterov) {
        for_each_chunk(n, [=](std::int64_t b, std::int64_t e) {
          T* __restrict p_io = param;
          const T* __restrict g_in = grad;
          T* __restrict buf_io = momentum_buffer;
          for (std::int64_t i = b; i < e; ++i) {
            T g = g_in[i];
            if constexpr (maximize) g = -g;
            if constexpr (use_decay) g = g + weight_decay * p_io[i];
            if constexpr (use_momentum) {
              T buf;
              if constexpr (first_step) {
                buf = g;
              } else {
                buf = buf_io[i] * momentum + one_minus_dampening * g;
              }
              buf_io[i] = buf;
              if constexpr (nesterov) {
                g = g + momentum * buf;
              } else {
                g = buf;
              }
            }
            p_io[i] = p_io[i] + neg_lr * g;
          }
        });
      },
      o.maximize, o.weight_decay != 0.0, o.momentum != 0.0, o.first_step, o.nesterov);
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

  const T decay_factor = static_cast<T>(1.0 - o.lr * o.weight_decay);
  const T weight_decay = static_cast<T>(o.weight_decay);
  const T one_minus_beta1 = static_cast<T>(1.0 - o.beta1);
  const T beta2 = static_cast<T>(o.beta2);
  const T one_minus_beta2 = static_cast<T>(1.0 - o.beta2);
  const T bc2_sqrt = static_cast<T>(bias_correction2_sqrt);
  const T eps = static_cast<T>(o.eps);
  const T neg_step_size = static_cast<T>(-step_size);
  const bool use_decay = o.weight_decay != 0.0;
  with_flags(
      [&](auto maximize, auto coupled_decay, auto decoupled_decay, auto amsgrad,
          auto small_weight) {
        for_each_chunk(n, [=](std::int64_t b, std::int64_t e) {
          T* __restrict p_out = param;
          const T* __restrict g_in = grad;
          T* __restrict m_io = exp_avg;
          T* __restrict v_io = exp_avg_sq;
          T* __restrict vmax_io = max_exp_avg_sq;
          for (std::int64_t i = b; i < e; ++i) {
            T g = g_in[i];
            if constexpr (maximize) g = -g;
            T p = p_out[i];
            if constexpr (decoupled_decay) p = p * decay_factor;
            if constexpr (coupled_decay) g = g + weight_decay * p;
            const T m = lerp<small_weight>(m_io[i], g, one_minus_beta1);
            m_io[i] = m;
            T v = v_io[i] * beta2;
            v = v + one_minus_beta2 * g * g;
            v_io[i] = v;
            if constexpr (amsgrad) {
              v = nan_maximum(vmax_io[i], v);
              vmax_io[i] = v;
            }
            const T denom = std::sqrt(v) / bc2_sqrt + eps;
            p_out[i] = p + neg_step_size * m / denom;
          }
        });
      },
      o.maximize, use_decay && !o.decoupled_weight_decay, use_decay && o.decoupled_weight_decay,
      o.amsgrad, std::abs(one_minus_beta1) < T(0.5));
}

template <typename T>
void rmsprop_step(std::int64_t n, T* param, const T* grad, T* square_avg, T* momentum_buffer,
                  T* grad_avg, const RmspropOptions& o) {
  const T weight_decay = static_cast<T>(o.weight_decay);
  const T alpha = static_cast<T>(o.alpha);
  const T one_minus_alpha = static_cast<T>(1.0 - o.alpha);
  const T eps = static_cast<T>(o.eps);
  const T momentum = static_cast<T>(o.momentum);
  const T neg_lr = static_cast<T>(-o.lr);
  with_flags(
      [&](auto maximize, auto use_decay, auto centered, auto use_momentum, auto small_weight) {
        for_each_chunk(n, [=](std::int64_t b, std::int64_t e) {
          T* __restrict p_io = param;
          const T* __restrict g_in = grad;
          T* __restrict sq_io = square_avg;
          T* __restrict buf_io = momentum_buffer;
          T* __restrict ga_io = grad_avg;
          for (std::int64_t i = b; i < e; ++i) {
            T g = g_in[i];
            if constexpr (maximize) g = -g;
            if constexpr (use_decay) g = g + weight_decay * p_io[i];
            T sq = sq_io[i] * alpha;
            sq = sq + one_minus_alpha * g * g;
            sq_io[i] = sq;
            T avg;
            if constexpr (centered) {
              const T ga = lerp<small_weight>(ga_io[i], g, one_minus_alpha);
              ga_io[i] = ga;
              avg = std::sqrt(sq + T(-1) * ga * ga);
            } else {
              avg = std::sqrt(sq);
            }
            avg = avg + eps;
            if constexpr (use_momentum) {
              const T buf = buf_io[i] * momentum + g / avg;
              buf_io[i] = buf;
              p_io[i] = p_io[i] + neg_lr * buf;
            } else {
              p_io[i] = p_io[i] + neg_lr * g / avg;
            }
          }
        });
      },
      o.maximize, o.weight_decay != 0.0, o.centered, o.momentum > 0.0,
      std::abs(one_minus_alpha) < T(0.5));
}

#define KERNN_INSTANTIATE(T)                                                                  \
  template void sgd_step<T>(std::int64_t, T*, const T*, T*, const SgdOptions&);               \
  template void adam_step<T>(std::int64_t, T*, const T*, T*, T*, T*, const AdamOptions&);     \
  template void rmsprop_step<T>(std::int64_t, T*, const T*, T*, T*, T*, const RmspropOptions&);

KERNN_INSTANTIATE(float)
KERNN_INSTANTIATE(double)
#undef KERNN_INSTANTIATE

}  // namespace kernn
