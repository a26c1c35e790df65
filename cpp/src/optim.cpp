// Fused optimizer updates (see optim.h). Every scalar that torch passes as a Python float to a
// tensor op is converted to T once, here, exactly where torch's kernel would convert it; the
// per-element loops are in optim_loops.h.
// Built with -fno-math-errno (CMakeLists.txt): otherwise the loops' sqrt keeps an errno branch
// and they stay scalar; the values are the same.
#include "kernn/optim.h"

#include <cmath>

#include "kernn/cpu_features.h"
#include "kernn/parallel.h"
#include "optim_loops.h"

namespace kernn {

namespace {

// Rough scalar operations per element, for parallel_chunks's threshold.
constexpr std::int64_t kOpsPerElement = 8;

// The AVX2 build of the loops when it is in use, else this file's.
template <typename T>
OptimLoops<T> loops() {
#ifdef KERNN_X86
  if (simd_loops_avx2()) return simd_avx2::optim_loops<T>();
#endif
  return this_build_optim_loops<T>();
}

}  // namespace

template <typename T>
void sgd_step(std::int64_t n, T* param, const T* grad, T* momentum_buffer, const SgdOptions& o) {
  const SgdCoefficients<T> k{static_cast<T>(o.weight_decay),
                             static_cast<T>(o.momentum),
                             static_cast<T>(1.0 - o.dampening),
                             static_cast<T>(-o.lr),
                             o.maximize,
                             o.weight_decay != 0.0,
                             o.momentum != 0.0,
                             o.first_step,
                             o.nesterov};
  const auto sgd = loops<T>().sgd;
  parallel_chunks(n, kOpsPerElement, [&](std::int64_t b, std::int64_t e) {
    sgd(b, e, param, grad, momentum_buffer, k);
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
  const T one_minus_beta1 = static_cast<T>(1.0 - o.beta1);
  const AdamCoefficients<T> k{static_cast<T>(1.0 - o.lr * o.weight_decay),
                              static_cast<T>(o.weight_decay),
                              one_minus_beta1,
                              static_cast<T>(o.beta2),
                              static_cast<T>(1.0 - o.beta2),
                              static_cast<T>(bias_correction2_sqrt),
                              static_cast<T>(o.eps),
                              static_cast<T>(-step_size),
                              o.maximize,
                              use_decay && !o.decoupled_weight_decay,
                              use_decay && o.decoupled_weight_decay,
                              o.amsgrad,
                              std::abs(one_minus_beta1) < T(0.5)};
  const auto adam = loops<T>().adam;
  parallel_chunks(n, kOpsPerElement, [&](std::int64_t b, std::int64_t e) {
    adam(b, e, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, k);
  });
}

template <typename T>
void rmsprop_step(std::int64_t n, T* param, const T* grad, T* square_avg, T* momentum_buffer,
                  T* grad_avg, const RmspropOptions& o) {
  const T one_minus_alpha = static_cast<T>(1.0 - o.alpha);
  const RmspropCoefficients<T> k{static_cast<T>(o.weight_decay),
                                 static_cast<T>(o.alpha),
                                 one_minus_alpha,
                                 static_cast<T>(o.eps),
                                 static_cast<T>(o.momentum),
                                 static_cast<T>(-o.lr),
                                 o.maximize,
                                 o.weight_decay != 0.0,
                                 o.centered,
                                 o.momentum > 0.0,
                                 std::abs(one_minus_alpha) < T(0.5)};
  const auto rmsprop = loops<T>().rmsprop;
  parallel_chunks(n, kOpsPerElement, [&](std::int64_t b, std::int64_t e) {
    rmsprop(b, e, param, grad, square_avg, momentum_buffer, grad_avg, k);
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
