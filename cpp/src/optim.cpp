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

// Settled lanes (optim_loops.h): the largest k below 2^(mantissa bits), so that k units of T's
// smallest subnormal are a subnormal, with k * c <= 1/2 (with `strict`: < 1/2). In units of the
// smallest subnormal a product of k units and a factor f rounds (to nearest, ties to even) to 0
// where k * |f| <= 1/2, and back to k where k * |1 - f| < 1/2. c: such a |f| or |1 - f|, exact
// in double; NaN gives 0 (no lane settles).
template <typename T>
BitsOf<T> units_within_half(double c, bool strict) {
  using Bits = BitsOf<T>;
  const Bits cap = (Bits{1} << (std::numeric_limits<T>::digits - 1)) - 1;
  if (std::isnan(c)) return 0;
  if (c == 0.0) return cap;
  const double estimate = std::floor(0.5 / c);
  Bits k = estimate >= static_cast<double>(cap) ? cap : static_cast<Bits>(estimate);
  // Step k to the boundary: the fused product's sign is exact.
  const auto within = [&](Bits units) {
    const double excess = std::fma(static_cast<double>(units), c, -0.5);
    return strict ? excess < 0.0 : excess <= 0.0;
  };
  while (k < cap && within(k + 1)) ++k;
  while (k > 0 && !within(k)) --k;
  return k;
}

// A state decaying by `factor` (state * factor, g == 0) settles at the subnormals it rounds
// back to: k units with k * |1 - factor| < 1/2.
template <typename T>
BitsOf<T> units_kept_by_factor(T factor) {
  return units_within_half<T>(std::abs(1.0 - static_cast<double>(factor)), true);
}

// A momentum buffer (sgd_loop, rmsprop_loop) settles where momentum rounds it back to itself
// and neg_lr * buf rounds to 0.
template <typename T>
BitsOf<T> momentum_settled_units(T momentum, T neg_lr) {
  return std::min(units_kept_by_factor(momentum),
                  units_within_half<T>(std::abs(static_cast<double>(neg_lr)), false));
}

// A state updated by the small-weight lerp towards g == 0 (adam_loop's exp_avg, rmsprop_loop's
// grad_avg) settles where weight * state rounds to 0; the large-weight lerp keeps no subnormal
// (k * |weight| < 1/2 for no k), so 0 there.
template <typename T>
BitsOf<T> lerp_settled_units(T weight, bool small_weight) {
  return small_weight ? units_within_half<T>(std::abs(static_cast<double>(weight)), false)
                      : BitsOf<T>{0};
}

// The largest k such that x plus or minus k units of T's smallest subnormal rounds back to x:
// k units below half the spacing of T's values just under |x| (the narrower side where |x| is
// a power of 2). 0 for x = 0 (k units + 0 is k units) and NaN; every subnormal for infinite x.
template <typename T>
BitsOf<T> units_absorbed_by(T x) {
  const T magnitude = std::abs(x);
  const double spacing = static_cast<double>(magnitude) -
                         static_cast<double>(std::nextafter(magnitude, T(0)));
  return units_within_half<T>(
      static_cast<double>(std::numeric_limits<T>::denorm_min()) / spacing, true);
}

}  // namespace

template <typename T>
void sgd_step(const std::vector<SgdParam<T>>& params, const SgdOptions& o) {
  // One coefficient set per parameter: first_step is the parameter's own.
  std::vector<SgdCoefficients<T>> coefficients;
  coefficients.reserve(params.size());
  const T momentum = static_cast<T>(o.momentum);
  const T neg_lr = static_cast<T>(-o.lr);
  const BitsOf<T> settled_units = momentum_settled_units(momentum, neg_lr);
  for (const SgdParam<T>& p : params) {
    coefficients.push_back({static_cast<T>(o.weight_decay), momentum,
                            static_cast<T>(1.0 - o.dampening), neg_lr, settled_units, o.maximize,
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

template <typename T>
void adam_step(const std::vector<AdamParam<T>>& params, const AdamOptions& o) {
  // One coefficient set per parameter, from its own step: the Python-side scalars of torch's
  // _single_tensor_adam, in double as there.
  std::vector<AdamCoefficients<T>> coefficients;
  coefficients.reserve(params.size());
  const bool use_decay = o.weight_decay != 0.0;
  const T one_minus_beta1 = static_cast<T>(1.0 - o.beta1);
  const bool small_weight = std::abs(one_minus_beta1) < T(0.5);
  // Settled lanes: (1 - beta1) * m rounds to 0, so m' = m; the parameter's step size bounds it
  // further below.
  const BitsOf<T> beta1_settled_units = lerp_settled_units(one_minus_beta1, small_weight);
  for (const AdamParam<T>& p : params) {
    const double step = static_cast<double>(p.step);
    const double bias_correction1 = 1.0 - std::pow(o.beta1, step);
    const double bias_correction2 = 1.0 - std::pow(o.beta2, step);
    const double step_size = o.lr / bias_correction1;
    const double bias_correction2_sqrt = std::pow(bias_correction2, 0.5);  // Python's ** 0.5
    const T neg_step_size = static_cast<T>(-step_size);
    coefficients.push_back({static_cast<T>(1.0 - o.lr * o.weight_decay),
                            static_cast<T>(o.weight_decay),
                            one_minus_beta1,
                            static_cast<T>(o.beta2),
                            static_cast<T>(1.0 - o.beta2),
                            static_cast<T>(bias_correction2_sqrt),
                            static_cast<T>(o.eps),
                            neg_step_size,
                            // and neg_step_size * m rounds to 0
                            std::min(beta1_settled_units,
                                     units_within_half<T>(std::abs(neg_step_size), false)),
                            o.maximize,
                            use_decay && !o.decoupled_weight_decay,
                            use_decay && o.decoupled_weight_decay,
                            o.amsgrad,
                            small_weight});
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
  const T alpha = static_cast<T>(o.alpha);
  const T one_minus_alpha = static_cast<T>(1.0 - o.alpha);
  const T eps = static_cast<T>(o.eps);
  const T momentum = static_cast<T>(o.momentum);
  const T neg_lr = static_cast<T>(-o.lr);
  const bool small_weight = std::abs(one_minus_alpha) < T(0.5);
  // Settled lanes (rmsprop_loop): square_avg needs avg > 0 from its zero too, so eps > 0.
  const RmspropCoefficients<T> k{static_cast<T>(o.weight_decay),
                                 alpha,
                                 one_minus_alpha,
                                 eps,
                                 momentum,
                                 neg_lr,
                                 eps > T(0) ? units_kept_by_factor(alpha) : BitsOf<T>{0},
                                 lerp_settled_units(one_minus_alpha, small_weight),
                                 momentum_settled_units(momentum, neg_lr),
                                 o.maximize,
                                 o.weight_decay != 0.0,
                                 o.centered,
                                 o.momentum > 0.0,
                                 small_weight};
  const auto rmsprop = loops<T>().rmsprop;
  parallel_chunks_of_items(sizes_of(params), kOpsPerElement,
                           [&](std::int64_t i, std::int64_t b, std::int64_t e) {
                             const RmspropParam<T>& p = params[static_cast<std::size_t>(i)];
                             rmsprop(b, e, p.param, p.grad, p.square_avg, p.momentum_buffer,
                                     p.grad_avg, k);
                           });
}

template <typename T>
void adadelta_step(const std::vector<AdadeltaParam<T>>& params, const AdadeltaOptions& o) {
  const T rho = static_cast<T>(o.rho);
  const T eps = static_cast<T>(o.eps);
  // Settled lanes (adadelta_loop): rho rounds the state back to itself and eps absorbs it.
  const AdadeltaCoefficients<T> k{static_cast<T>(o.weight_decay),
                                  rho,
                                  static_cast<T>(1.0 - o.rho),
                                  eps,
                                  static_cast<T>(-o.lr),
                                  std::min(units_kept_by_factor(rho), units_absorbed_by(eps)),
                                  o.maximize,
                                  o.weight_decay != 0.0};
  const auto adadelta = loops<T>().adadelta;
  parallel_chunks_of_items(sizes_of(params), kOpsPerElement,
                           [&](std::int64_t i, std::int64_t b, std::int64_t e) {
                             const AdadeltaParam<T>& p = params[static_cast<std::size_t>(i)];
                             adadelta(b, e, p.param, p.grad, p.square_avg, p.acc_delta, k);
                           });
}

template <typename T>
void adagrad_step(const std::vector<AdagradParam<T>>& params, const AdagradOptions& o) {
  // One coefficient set per parameter, from its own step: torch's clr, a Python float (double)
  // converted to T where addcdiv_ takes it.
  std::vector<AdagradCoefficients<T>> coefficients;
  coefficients.reserve(params.size());
  for (const AdagradParam<T>& p : params) {
    const double clr = o.lr / (1.0 + (static_cast<double>(p.step) - 1.0) * o.lr_decay);
    coefficients.push_back({static_cast<T>(o.weight_decay), static_cast<T>(o.eps),
                            static_cast<T>(-clr), o.maximize, o.weight_decay != 0.0});
  }
  const auto adagrad = loops<T>().adagrad;
  parallel_chunks_of_items(sizes_of(params), kOpsPerElement,
                           [&](std::int64_t i, std::int64_t b, std::int64_t e) {
                             const AdagradParam<T>& p = params[static_cast<std::size_t>(i)];
                             adagrad(b, e, p.param, p.grad, p.state_sum,
                                     coefficients[static_cast<std::size_t>(i)]);
                           });
}

#define KERNN_INSTANTIATE(T)                                                                    \
  template void sgd_step<T>(const std::vector<SgdParam<T>>&, const SgdOptions&);                \
  template void adam_step<T>(const std::vector<AdamParam<T>>&, const AdamOptions&);             \
  template void rmsprop_step<T>(const std::vector<RmspropParam<T>>&, const RmspropOptions&);    \
  template void adadelta_step<T>(const std::vector<AdadeltaParam<T>>&, const AdadeltaOptions&); \
  template void adagrad_step<T>(const std::vector<AdagradParam<T>>&, const AdagradOptions&);

KERNN_INSTANTIATE(float)
KERNN_INSTANTIATE(double)
#undef KERNN_INSTANTIATE

}  // namespace kernn
