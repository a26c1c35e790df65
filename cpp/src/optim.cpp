// Fused optimizer updates (see optim.h). Every scalar that torch passes as a Python float to a
// tensor op is converted to T once, here, exactly where torch's kernel would convert it; the
// per-element loops are in optim_loops.h.
// Built with -fno-math-errno (CMakeLists.txt): otherwise the loops' sqrt keeps an errno branch
// and they stay scalar; the values are the same.
#include "kernn/optim.h"

#include <algorithm>
#include <cmath>
#include <limits>

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

// The element counts of params, for parallel_chunks_of_items.
template <typename Param>
std::vector<std::int64_t> sizes_of(const std::vector<Param>& params) {
  std::vector<std::int64_t> sizes;
  sizes.reserve(params.size());
  for (const Param& p : params) sizes.push_back(p.n);
  return sizes;
}

}  // namespace

template <typename T>
void sgd_step(const std::vector<SgdParam<T>>& params, const SgdOptions& o) {
  // One coefficient set per parameter: first_step is the parameter's own.
  std::vector<SgdCoefficients<T>> coefficients;
  coefficients.reserve(params.size());
  for (const SgdParam<T>& p : params) {
    coefficients.push_back({static_cast<T>(o.weight_decay), static_cast<T>(o.momentum),
                            static_cast<T>(1.0 - o.dampening), static_cast<T>(-o.lr), o.maximize,
                            o.weight_decay != 0.0, o.momentum != 0.0, p.first_step, o.nesterov});
  }
  const auto sgd = loops<T>().sgd;
  parallel_chunks_of_items(sizes_of(params), kOpsPerElement,
                           [&](std::int64_t i, std::int64_t b, std::int64_t e) {
                             const SgdParam<T>& p = params[static_cast<std::size_t>(i)];
                             sgd(b, e, p.param, p.grad, p.momentum_buffer,
                                 coefficients[static_cast<std::size_t>(i)]);
                           });
}

// adam_loop's settled lanes: the largest k below 2^(mantissa bits) (so that k units of T's
// smallest subnormal are a subnormal) for which one_minus_beta1 * k and |neg_step_size| * k
// are both at most 1/2, that is, round to 0 in units of the smallest subnormal (ties to even).
// 0 (no lane settled) where the lerp is not the small-weight form or a factor is NaN.
template <typename T>
BitsOf<T> adam_settled_units(T one_minus_beta1, T neg_step_size) {
  using Bits = BitsOf<T>;
  if (!(std::abs(one_minus_beta1) < T(0.5)) || std::isnan(neg_step_size)) return 0;
  const Bits cap = (Bits{1} << (std::numeric_limits<T>::digits - 1)) - 1;
  Bits units = cap;
  for (const double c : {std::abs(static_cast<double>(one_minus_beta1)),
                         std::abs(static_cast<double>(neg_step_size))}) {
    if (c == 0.0) continue;  // a factor of 0 rounds every product to 0
    const double estimate = std::floor(0.5 / c);
    Bits k = estimate >= static_cast<double>(cap) ? cap : static_cast<Bits>(estimate);
    // k * c <= 1/2 exactly (the fused product's sign is exact): step k to the boundary.
    while (k < cap && std::fma(static_cast<double>(k + 1), c, -0.5) <= 0.0) ++k;
    while (k > 0 && std::fma(static_cast<double>(k), c, -0.5) > 0.0) --k;
    units = std::min(units, k);
  }
  return units;
}

template <typename T>
void adam_step(const std::vector<AdamParam<T>>& params, const AdamOptions& o) {
  // One coefficient set per parameter, from its own step: the Python-side scalars of torch's
  // _single_tensor_adam, in double as there.
  std::vector<AdamCoefficients<T>> coefficients;
  coefficients.reserve(params.size());
  const bool use_decay = o.weight_decay != 0.0;
  const T one_minus_beta1 = static_cast<T>(1.0 - o.beta1);
  for (const AdamParam<T>& p : params) {
    const double step = static_cast<double>(p.step);
    const double bias_correction1 = 1.0 - std::pow(o.beta1, step);
    const double bias_correction2 = 1.0 - std::pow(o.beta2, step);
    const double step_size = o.lr / bias_correction1;
    const double bias_correction2_sqrt = std::pow(bias_correction2, 0.5);  // Python's ** 0.5
    const T bc2_sqrt = static_cast<T>(bias_correction2_sqrt);
    const T eps = static_cast<T>(o.eps);
    const T neg_step_size = static_cast<T>(-step_size);
    coefficients.push_back({static_cast<T>(1.0 - o.lr * o.weight_decay),
                            static_cast<T>(o.weight_decay),
                            one_minus_beta1,
                            static_cast<T>(o.beta2),
                            static_cast<T>(1.0 - o.beta2),
                            bc2_sqrt,
                            eps,
                            neg_step_size,
                            adam_settled_units(one_minus_beta1, neg_step_size),
                            o.maximize,
                            use_decay && !o.decoupled_weight_decay,
                            use_decay && o.decoupled_weight_decay,
                            o.amsgrad,
                            std::abs(one_minus_beta1) < T(0.5)});
  }
  const auto adam = loops<T>().adam;
  parallel_chunks_of_items(sizes_of(params), kOpsPerElement,
                           [&](std::int64_t i, std::int64_t b, std::int64_t e) {
                             const AdamParam<T>& p = params[static_cast<std::size_t>(i)];
                             adam(b, e, p.param, p.grad, p.exp_avg, p.exp_avg_sq,
                                  p.max_exp_avg_sq, coefficients[static_cast<std::size_t>(i)]);
                           });
}

template <typename T>
void rmsprop_step(const std::vector<RmspropParam<T>>& params, const RmspropOptions& o) {
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
  parallel_chunks_of_items(sizes_of(params), kOpsPerElement,
                           [&](std::int64_t i, std::int64_t b, std::int64_t e) {
                             const RmspropParam<T>& p = params[static_cast<std::size_t>(i)];
                             rmsprop(b, e, p.param, p.grad, p.square_avg, p.momentum_buffer,
                                     p.grad_avg, k);
                           });
}

#define KERNN_INSTANTIATE(T)                                                                  \
  template void sgd_step<T>(const std::vector<SgdParam<T>>&, const SgdOptions&);             \
  template void adam_step<T>(const std::vector<AdamParam<T>>&, const AdamOptions&);          \
  template void rmsprop_step<T>(const std::vector<RmspropParam<T>>&, const RmspropOptions&);

KERNN_INSTANTIATE(float)
KERNN_INSTANTIATE(double)
#undef KERNN_INSTANTIATE

}  // namespace kernn
