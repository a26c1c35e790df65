// The per-element loops of the optimizer updates (formulas in kernn/optim.h), built twice: for
// baseline x86-64 in optim.cpp and for AVX2 + FMA in isa/loops_avx2.cpp, chosen at run time
// (simd_loops_avx2). Both builds do the same IEEE operations in the same order (the AVX2 file is
// compiled with -ffp-contract=off, so no a * b + c becomes an FMA; sqrt and division are
// correctly rounded in every width), so they give the same bits, which keeps torch.optim's
// trajectories; the AVX2 build is about 15% faster on a 400k-element Adam update. Internal
// linkage (like vec_math.h), so that no function built with AVX2 can stand in for a baseline
// one at link time.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "vec_math.h"

namespace kernn {

// The unsigned integer of T's width, for tests on the bits.
template <typename T>
using BitsOf = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;

// Hyper-parameters converted to T once, where torch's kernels would convert them, plus the
// options that select a loop variant.
template <typename T>
struct SgdCoefficients {
  T weight_decay, momentum, one_minus_dampening, neg_lr;
  // Settled momentum buffers (sgd_loop): the largest subnormal, in units of T's smallest, that
  // momentum rounds back to itself and neg_lr to 0; 0 turns that off.
  BitsOf<T> settled_units;
  bool maximize, use_decay, use_momentum, first_step, nesterov;
};

template <typename T>
struct AdamCoefficients {
  T decay_factor, weight_decay, one_minus_beta1, beta2, one_minus_beta2, bc2_sqrt, eps,
      neg_step_size;
  // Settled exp_avg (adam_loop): the largest subnormal, in units of T's smallest, whose
  // products with one_minus_beta1 and neg_step_size both round to 0; 0 turns that off.
  BitsOf<T> settled_units;
  bool maximize, coupled_decay, decoupled_decay, amsgrad, small_weight;
};

template <typename T>
struct RmspropCoefficients {
  T weight_decay, alpha, one_minus_alpha, eps, momentum, neg_lr;
  // Settled states (rmsprop_loop): the largest subnormals, in units of T's smallest, that
  // square_avg's, grad_avg's and the momentum buffer's updates keep and whose zero gives the
  // same bits; 0 turns that off.
  BitsOf<T> square_avg_settled_units, grad_avg_settled_units, momentum_settled_units;
  bool maximize, use_decay, centered, use_momentum, small_weight;
};

template <typename T>
struct AdadeltaCoefficients {
  T weight_decay, rho, one_minus_rho, eps, neg_lr;
  // Settled square_avg and acc_delta (adadelta_loop): the largest subnormal, in units of T's
  // smallest, that rho rounds back to itself and eps absorbs; 0 turns that off.
  BitsOf<T> settled_units;
  bool maximize, use_decay;
};

template <typename T>
struct AdagradCoefficients {
  T weight_decay, eps, neg_clr;  // neg_clr: -lr / (1 + (step - 1) * lr_decay), the parameter's
  bool maximize, use_decay;
};

// One build's loops, each updating elements [begin, end) of its arrays.
template <typename T>
struct OptimLoops {
  void (*sgd)(std::int64_t begin, std::int64_t end, T* param, const T* grad, T* momentum_buffer,
              const SgdCoefficients<T>& k);
  void (*adam)(std::int64_t begin, std::int64_t end, T* param, const T* grad, T* exp_avg,
               T* exp_avg_sq, T* max_exp_avg_sq, const AdamCoefficients<T>& k);
  void (*rmsprop)(std::int64_t begin, std::int64_t end, T* param, const T* grad, T* square_avg,
                  T* momentum_buffer, T* grad_avg, const RmspropCoefficients<T>& k);
  void (*adadelta)(std::int64_t begin, std::int64_t end, T* param, const T* grad, T* square_avg,
                   T* acc_delta, const AdadeltaCoefficients<T>& k);
  void (*adagrad)(std::int64_t begin, std::int64_t end, T* param, const T* grad, T* state_sum,
                  const AdagradCoefficients<T>& k);
};

namespace simd_avx2 {
template <typename T>
OptimLoops<T> optim_loops();  // isa/loops_avx2.cpp
}  // namespace simd_avx2

namespace {

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

// Whether a lane is settled (adam_loop, sgd_loop, rmsprop_loop, adadelta_loop): `eligible`
// (its gradient is exactly 0, and whatever else the loop needs) and its state a subnormal of 1
// to settled_units units of T's smallest (kPositiveOnly: a positive one). stand_in is then the
// zero of the state's sign, else the state itself. Masks rather than branches (& rather than
// &&), so that the loops stay vectorised.
template <bool kPositiveOnly = false, typename T>
bool settled_lane(bool eligible, T state, BitsOf<T> settled_units, T& stand_in) {
  using Bits = BitsOf<T>;
  constexpr Bits kMagnitudeMask = ~Bits{0} >> 1;
  Bits bits;
  std::memcpy(&bits, &state, sizeof bits);
  // 1 <= |state| in units <= settled_units (a 0 wraps around to the largest unsigned; with
  // kPositiveOnly a negative state's sign bit puts it above any settled_units)
  const Bits units = kPositiveOnly ? bits : bits & kMagnitudeMask;
  const bool settled = eligible & (units - 1 < settled_units);
  bits &= ~kMagnitudeMask | (static_cast<Bits>(settled) - 1);
  std::memcpy(&stand_in, &bits, sizeof stand_in);
  return settled;
}

// SGD, element by element, as torch's _single_tensor_sgd. Settled lanes, as in adam_loop
// below: where the gradient (after weight decay) is exactly 0, the momentum buffer decays
// (buf * momentum) into a subnormal of a few units that momentum rounds back to itself; for
// |buf| at most settled_units units, buf' = buf and neg_lr * buf (nesterov: neg_lr * (0 +
// momentum * buf), the same) rounds to the zero of its sign, so the lane computes with that
// zero in place of buf and keeps buf.
template <typename T>
void sgd_loop(std::int64_t begin, std::int64_t end, T* param, const T* grad, T* momentum_buffer,
              const SgdCoefficients<T>& k) {
  with_flags(
      [&](auto maximize, auto use_decay, auto use_momentum, auto first_step, auto nesterov) {
        T* __restrict p_io = param;
        const T* __restrict g_in = grad;
        T* __restrict buf_io = momentum_buffer;
        for (std::int64_t i = begin; i < end; ++i) {
          T g = g_in[i];
          if constexpr (maximize) g = -g;
          if constexpr (use_decay) g = g + k.weight_decay * p_io[i];
          if constexpr (use_momentum) {
            T buf;
            bool settled = false;
            T buf_in = T(0);
            if constexpr (first_step) {
              buf = g;
              buf_io[i] = buf;
            } else {
              const T buf_old = buf_io[i];
              buf_in = buf_old;
              if constexpr (std::is_same_v<T, float>) {
                settled = settled_lane(g == T(0), buf_old, k.settled_units, buf_in);
              }
              buf = buf_in * k.momentum + k.one_minus_dampening * g;
              buf_io[i] = vmath::select(settled, buf_old, buf);
            }
            if constexpr (nesterov) {
              g = g + k.momentum * buf;
            } else {
              g = buf;
            }
            if constexpr (!first_step) g = vmath::select(settled, buf_in, g);
          }
          p_io[i] = p_io[i] + k.neg_lr * g;
        }
      },
      k.maximize, k.use_decay, k.use_momentum, k.first_step, k.nesterov);
}

// Adam, element by element, as torch's _single_tensor_adam.
//
// Settled lanes. Where a gradient is exactly 0 (a dead ReLU unit, an input pixel that stays 0),
// exp_avg decays towards 0 and, with the small-weight lerp m + w * (0 - m), ends as a subnormal
// of a few units of T's smallest (w * m rounds to 0 there) and stays: every later step computes
// on that subnormal, which costs this CPU a microcode assist (~50-75 ns) per instruction that
// meets it. For such a lane (g == 0, |m| at most settled_units units) both products with m
// round to a signed 0: w * (0 - m) to -sign(m) 0, so m' = m; neg_step_size * m to a zero of the
// sign of neg_step_size * m. So the lane computes with m replaced by the zero of its sign (no
// subnormal reaches an instruction; p' comes out bit for bit) and keeps m: the same bits as the
// full computation, which the tests check against numpy step by step. float only: double's
// subnormals are ~10^-308, thousands of steps of decay away, and its loop, bound by the divider,
// ran 1.4x slower with the test.
template <typename T>
void adam_loop(std::int64_t begin, std::int64_t end, T* param, const T* grad, T* exp_avg,
               T* exp_avg_sq, T* max_exp_avg_sq, const AdamCoefficients<T>& k) {
  with_flags(
      [&](auto maximize, auto coupled_decay, auto decoupled_decay, auto amsgrad,
          auto small_weight) {
        T* __restrict p_out = param;
        const T* __restrict g_in = grad;
        T* __restrict m_io = exp_avg;
        T* __restrict v_io = exp_avg_sq;
        T* __restrict vmax_io = max_exp_avg_sq;
        for (std::int64_t i = begin; i < end; ++i) {
          T g = g_in[i];
          if constexpr (maximize) g = -g;
          T p = p_out[i];
          if constexpr (decoupled_decay) p = p * k.decay_factor;
          if constexpr (coupled_decay) g = g + k.weight_decay * p;
          const T m_old = m_io[i];
          T m_in = m_old;
          bool settled = false;
          if constexpr (small_weight && std::is_same_v<T, float>) {
            settled = settled_lane(g == T(0), m_old, k.settled_units, m_in);
          }
          const T m = lerp<small_weight>(m_in, g, k.one_minus_beta1);
          m_io[i] = vmath::select(settled, m_old, m);
          const T m_for_step = vmath::select(settled, m_in, m);
          T v = v_io[i] * k.beta2;
          v = v + k.one_minus_beta2 * g * g;
          v_io[i] = v;
          if constexpr (amsgrad) {
            v = nan_maximum(vmax_io[i], v);
            vmax_io[i] = v;
          }
          const T denom = vmath::sqrt_of(v) / k.bc2_sqrt + k.eps;
          p_out[i] = p + k.neg_step_size * m_for_step / denom;
        }
      },
      k.maximize, k.coupled_decay, k.decoupled_decay, k.amsgrad, k.small_weight);
}

// RMSprop, element by element, as torch's _single_tensor_rmsprop.
//
// Settled lanes (float only, as in adam_loop). Where g is exactly 0, square_avg
// (sq <- sq * alpha), grad_avg (the small-weight lerp, as Adam's exp_avg) and the momentum
// buffer (buf <- buf * momentum + 0 / avg) decay into subnormals of a few units of T's smallest
// that their factor rounds back to themselves (alpha 0.99: 50 units; momentum 0.9: 4) and stay
// there. Each state is replaced by the zero of its sign, and kept, where that changes no bit:
// - grad_avg, at most grad_avg_settled_units (Adam's bound for the lerp's weight): w * (0 - ga)
//   rounds to a zero, so ga' = ga; and -1 * ga * ga is -0 for a subnormal ga as for its zero,
//   so the centered variance sq + -1 * ga * ga is sq in both.
// - square_avg, positive and at most square_avg_settled_units (k * |1 - alpha| < 1/2: sq * alpha
//   rounds back to sq, so sq' = sq + 0 = sq; and 0 unless eps > 0), centered only where the
//   new ga is a zero (settled, or 0), so that the variance is sq: avg is sqrt(sq) + eps with
//   sq and eps with its zero, both > 0, and avg's only use, g / avg, is then the zero of g's
//   sign either way. (sqrt(sq) is a normal float, ~1e-22, not 0; for eps 1e-8 it is below half
//   an ulp of eps and avg is eps in both, but the sign argument needs no bound on eps.) A
//   negative sq gives NaN where its zero gives eps: never settled.
// - momentum_buffer, at most momentum_settled_units (sgd_loop's bound: buf * momentum rounds
//   back to buf, neg_lr * buf to a zero): where g / avg is a zero, buf' = buf and the step
//   neg_lr * buf is the zero that neg_lr times buf's zero gives; where g / avg is NaN (avg 0 or
//   NaN), buf' is NaN either way and is stored.
template <typename T>
void rmsprop_loop(std::int64_t begin, std::int64_t end, T* param, const T* grad, T* square_avg,
                  T* momentum_buffer, T* grad_avg, const RmspropCoefficients<T>& k) {
  constexpr bool kSettles = std::is_same_v<T, float>;
  with_flags(
      [&](auto maximize, auto use_decay, auto centered, auto use_momentum, auto small_weight) {
        T* __restrict p_io = param;
        const T* __restrict g_in = grad;
        T* __restrict sq_io = square_avg;
        T* __restrict buf_io = momentum_buffer;
        T* __restrict ga_io = grad_avg;
        for (std::int64_t i = begin; i < end; ++i) {
          T g = g_in[i];
          if constexpr (maximize) g = -g;
          if constexpr (use_decay) g = g + k.weight_decay * p_io[i];
          const bool zero_gradient = g == T(0);
          // grad_avg first: whether square_avg may settle depends on it.
          T ga = T(0);  // the new grad_avg, a zero where it settled
          bool sq_eligible = zero_gradient;
          if constexpr (centered) {
            const T ga_old = ga_io[i];
            T ga_in = ga_old;
            bool ga_settled = false;
            if constexpr (kSettles && small_weight) {
              ga_settled = settled_lane(zero_gradient, ga_old, k.grad_avg_settled_units, ga_in);
            }
            ga = lerp<small_weight>(ga_in, g, k.one_minus_alpha);
            ga_io[i] = vmath::select(ga_settled, ga_old, ga);
            sq_eligible = sq_eligible & (ga == T(0));
          }
          const T sq_old = sq_io[i];
          T sq_in = sq_old;
          bool sq_settled = false;
          if constexpr (kSettles) {
            sq_settled =
                settled_lane<true>(sq_eligible, sq_old, k.square_avg_settled_units, sq_in);
          }
          T sq = sq_in * k.alpha;
          sq = sq + k.one_minus_alpha * g * g;
          sq_io[i] = vmath::select(sq_settled, sq_old, sq);
          T avg;
          if constexpr (centered) {
            avg = vmath::sqrt_of(sq + T(-1) * ga * ga);
          } else {
            avg = vmath::sqrt_of(sq);
          }
          avg = avg + k.eps;
          if constexpr (use_momentum) {
            const T buf_old = buf_io[i];
            T buf_in = buf_old;
            bool buf_settled = false;
            if constexpr (kSettles) {
              buf_settled =
                  settled_lane(zero_gradient, buf_old, k.momentum_settled_units, buf_in);
            }
            const T buf = buf_in * k.momentum + g / avg;
            buf_settled = buf_settled & (buf == buf);  // g / avg NaN: buf' is NaN
            buf_io[i] = vmath::select(buf_settled, buf_old, buf);
            p_io[i] = p_io[i] + k.neg_lr * vmath::select(buf_settled, buf_in, buf);
          } else {
            p_io[i] = p_io[i] + k.neg_lr * g / avg;
          }
        }
      },
      k.maximize, k.use_decay, k.centered, k.use_momentum, k.small_weight);
}

// Adadelta, element by element, as torch's _single_tensor_adadelta (its tensor ops in order:
// square_avg.mul_(rho).addcmul_(g, g, value=1 - rho); std = square_avg.add(eps).sqrt_();
// delta = acc_delta.add(eps).sqrt_().div_(std).mul_(g);
// acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho); param.add_(delta, alpha=-lr)).
//
// Settled lanes (float only, as in adam_loop). Where g is exactly 0, delta is a zero (or NaN)
// and both states decay by rho into subnormals of a few units that rho rounds back to
// themselves (rho 0.9: 4 units) and stay there. A state s of at most settled_units units
// (k * |1 - rho| < 1/2, and k units below half the spacing of floats just under |eps|) is
// replaced by the zero of its sign and kept: s * rho rounds back to s, so
// s' = s + (1 - rho) * 0 = s (for acc_delta where delta is a zero; where it is NaN, from a std
// of 0 or NaN, acc' is NaN either way and is stored); and s + eps rounds to eps, as its
// zero + eps is, so std and sqrt(acc_delta + eps), hence delta and the parameter, come out bit
// for bit.
template <typename T>
void adadelta_loop(std::int64_t begin, std::int64_t end, T* param, const T* grad, T* square_avg,
                   T* acc_delta, const AdadeltaCoefficients<T>& k) {
  constexpr bool kSettles = std::is_same_v<T, float>;
  with_flags(
      [&](auto maximize, auto use_decay) {
        T* __restrict p_io = param;
        const T* __restrict g_in = grad;
        T* __restrict sq_io = square_avg;
        T* __restrict acc_io = acc_delta;
        for (std::int64_t i = begin; i < end; ++i) {
          T g = g_in[i];
          if constexpr (maximize) g = -g;
          if constexpr (use_decay) g = g + k.weight_decay * p_io[i];
          const T sq_old = sq_io[i];
          const T acc_old = acc_io[i];
          T sq_in = sq_old;
          T acc_in = acc_old;
          bool sq_settled = false;
          bool acc_settled = false;
          if constexpr (kSettles) {
            const bool zero_gradient = g == T(0);
            sq_settled = settled_lane(zero_gradient, sq_old, k.settled_units, sq_in);
            acc_settled = settled_lane(zero_gradient, acc_old, k.settled_units, acc_in);
          }
          T sq = sq_in * k.rho;
          sq = sq + k.one_minus_rho * g * g;
          sq_io[i] = vmath::select(sq_settled, sq_old, sq);
          const T std_dev = vmath::sqrt_of(sq + k.eps);
          T delta = vmath::sqrt_of(acc_in + k.eps);
          delta = delta / std_dev;
          delta = delta * g;
          T acc = acc_in * k.rho;
          acc = acc + k.one_minus_rho * delta * delta;
          acc_settled = acc_settled & (acc == acc);  // delta NaN: acc' is NaN
          acc_io[i] = vmath::select(acc_settled, acc_old, acc);
          p_io[i] = p_io[i] + k.neg_lr * delta;
        }
      },
      k.maximize, k.use_decay);
}

// Adagrad, element by element, as torch's _single_tensor_adagrad (dense gradients; its tensor
// ops in order: state_sum.addcmul_(g, g, value=1); std = state_sum.sqrt().add_(eps);
// param.addcdiv_(g, std, value=-clr)). addcmul's value 1 multiplies exactly, so it is left out.
template <typename T>
void adagrad_loop(std::int64_t begin, std::int64_t end, T* param, const T* grad, T* state_sum,
                  const AdagradCoefficients<T>& k) {
  with_flags(
      [&](auto maximize, auto use_decay) {
        T* __restrict p_io = param;
        const T* __restrict g_in = grad;
        T* __restrict sum_io = state_sum;
        for (std::int64_t i = begin; i < end; ++i) {
          T g = g_in[i];
          if constexpr (maximize) g = -g;
          if constexpr (use_decay) g = g + k.weight_decay * p_io[i];
          const T sum = sum_io[i] + g * g;
          sum_io[i] = sum;
          const T std_dev = vmath::sqrt_of(sum) + k.eps;
          p_io[i] = p_io[i] + k.neg_clr * g / std_dev;
        }
      },
      k.maximize, k.use_decay);
}

// This translation unit's build of the loops.
template <typename T>
OptimLoops<T> this_build_optim_loops() {
  return {&sgd_loop<T>, &adam_loop<T>, &rmsprop_loop<T>, &adadelta_loop<T>, &adagrad_loop<T>};
}

}  // namespace
}  // namespace kernn
