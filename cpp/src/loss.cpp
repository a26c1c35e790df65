// Loss functions (see loss.h).
#include "kernn/loss.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "kernn/parallel.h"
#include "activations_simd.h"
#include "vec_math.h"

namespace kernn {

namespace {

// Items (elements, or rows weighted by their length) per block of a loss sum. A constant of the
// shapes, never of the thread count, so the summation order is fixed.
constexpr std::int64_t kSumBlockWork = 4096;

// sum_i item(i) in double: items in blocks, each block summed in order by one thread, the
// block partials added in block order.
template <typename F>
double blocked_sum(std::int64_t n, std::int64_t work_per_item, F&& item) {
  const std::int64_t block = std::max<std::int64_t>(1, kSumBlockWork / std::max<std::int64_t>(1, work_per_item));
  const std::int64_t blocks = (n + block - 1) / block;
  std::vector<double> partial(static_cast<std::size_t>(blocks), 0.0);
  parallel_for_each(blocks, block * work_per_item, [&](std::int64_t b) {
    double s = 0.0;
    const std::int64_t end = std::min(n, (b + 1) * block);
    for (std::int64_t i = b * block; i < end; ++i) s += static_cast<double>(item(i));
    partial[static_cast<std::size_t>(b)] = s;
  });
  double total = 0.0;
  for (double p : partial) total += p;
  return total;
}

// loss = per-item values (kNone) or their sum / mean; `count` is the divisor of kMean.
template <typename T, typename F>
void reduce_loss(std::int64_t n, std::int64_t work_per_item, Reduction reduction, double count,
                 T* loss, F&& item) {
  if (reduction == Reduction::kNone) {
    parallel_for_each(n, work_per_item, [&](std::int64_t i) { loss[i] = item(i); });
    return;
  }
  const double sum = blocked_sum(n, work_per_item, item);
  // 0 / 0 is NaN for an empty (or fully ignored) mean, as torch.
  loss[0] = static_cast<T>(reduction == Reduction::kMean ? sum / count : sum);
}

// The divisor of a class-index kMean: the summed weight w[t_i] of the rows not ignored, their
// number without weights.
template <typename T>
double kept_weight(std::int64_t n, const std::int64_t* target, std::int64_t ignore_index,
                   const T* weight) {
  double kept = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    if (target[i] != ignore_index) kept += weight ? static_cast<double>(weight[target[i]]) : 1.0;
  }
  return kept;
}

// The upstream gradient of sample i: dloss[i], dloss[0] or dloss[0] / divisor (kMean's).
template <typename T>
struct SampleGrad {
  const T* dloss;
  Reduction reduction;
  T shared;
  SampleGrad(const T* d, Reduction r, double divisor)
      : dloss(d), reduction(r), shared(r == Reduction::kNone ? T(0) : d[0]) {
    if (r == Reduction::kMean) shared = d[0] / static_cast<T>(divisor);
  }
  T operator()(std::int64_t i) const { return reduction == Reduction::kNone ? dloss[i] : shared; }
};

// Class weights and label smoothing e as the cross-entropy kernels use them: w(j) is 1 without
// weights; keep = 1 - e and spread = e / classes, rounded to T once as torch's scalars are.
template <typename T>
struct ClassOptions {
  const T* weight;
  bool smoothing;
  T keep;
  T spread;
  T weight_sum;  // sum_j w_j
  ClassOptions(std::int64_t classes, const T* w, double label_smoothing)
      : weight(w),
        smoothing(label_smoothing > 0.0),
        keep(static_cast<T>(1.0 - label_smoothing)),
        spread(static_cast<T>(label_smoothing / static_cast<double>(classes))),
        weight_sum(static_cast<T>(classes)) {
    if (w) weight_sum = static_cast<T>(blocked_sum(classes, 1, [=](std::int64_t j) { return w[j]; }));
  }
  T w(std::int64_t j) const { return weight ? weight[j] : T(1); }
};

// The divisor of cross-entropy's kMean. torch divides the nll and the smoothing terms by the
// summed weight separately: where that is 0, the nll term's 0 / 0 makes the mean NaN even
// though the smoothing term alone would be inf.
template <typename T>
double cross_entropy_divisor(std::int64_t n, const std::int64_t* target,
                             std::int64_t ignore_index, const ClassOptions<T>& opts) {
  const double kept = kept_weight(n, target, ignore_index, opts.weight);
  return opts.smoothing && kept == 0.0 ? std::numeric_limits<double>::quiet_NaN() : kept;
}

// The divisor of the class-probability cross-entropy's kMean: the number of rows, as torch,
// which gives NaN for an input with no elements, rows without classes included (0 / 0 there,
// where dividing the rows' zero losses by n would give 0).
double soft_cross_entropy_divisor(std::int64_t n, std::int64_t classes) {
  return classes == 0 ? std::numeric_limits<double>::quiet_NaN() : static_cast<double>(n);
}

}  // namespace

std::int64_t first_invalid_target(std::int64_t n, std::int64_t classes, const std::int64_t* target,
                                  std::int64_t ignore_index) {
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t t = target[i];
    if (t != ignore_index && (t < 0 || t >= classes)) return i;
  }
  return -1;
}

template <typename T>
std::int64_t first_outside_unit_interval(std::int64_t n, const T* x) {
  for (std::int64_t i = 0; i < n; ++i) {
    if (!(x[i] >= T(0) && x[i] <= T(1))) return i;  // NaN fails both comparisons
  }
  return -1;
}

// A cross-entropy forward's buffers, taken before its parallel region (std::bad_alloc inside
// one would terminate the process): the rows' maxima, exps and sums (act::row_exps) and their
// losses, `values`: the caller's `loss` for 'none', else a buffer to be summed. The exps are
// uninitialised (new T[], not std::vector: zeroing them took 3 % of a 64 x 1000 forward);
// row_exps writes every element before it is read.
template <typename T>
struct RowLossScratch {
  std::vector<T> m;
  std::unique_ptr<T[]> exps;
  std::vector<double> sums;
  std::vector<T> row_loss;
  T* values;

  RowLossScratch(std::int64_t n, std::int64_t classes, Reduction reduction, T* loss)
      : m(static_cast<std::size_t>(n)),
        exps(new T[static_cast<std::size_t>(n * classes)]),
        sums(static_cast<std::size_t>(n)),
        row_loss(reduction == Reduction::kNone ? 0 : static_cast<std::size_t>(n)),
        values(reduction == Reduction::kNone ? loss : row_loss.data()) {}

  // Maxima, exps and sums of the rows [begin, end) of logits.
  void row_exps(std::int64_t begin, std::int64_t end, std::int64_t classes, const T* logits) {
    act::row_exps(begin, end, classes, logits, m.data(), exps.get(), sums.data());
  }

  // log(sum_k exp(x_k - m)) of row i, rounded to T.
  T log_sum(std::int64_t i) const {
    return static_cast<T>(std::log(sums[static_cast<std::size_t>(i)]));
  }
};

template <typename T>
void cross_entropy_forward(std::int64_t n, std::int64_t classes, const T* logits,
                           const std::int64_t* target, std::int64_t ignore_index,
                           const T* weight, double label_smoothing, Reduction reduction, T* loss) {
  const ClassOptions<T> opts(classes, weight, label_smoothing);
  const double kept = cross_entropy_divisor(n, target, ignore_index, opts);
  // Each row's loss, from nll(j) = m - x_j + log(sum_k exp(x_k - m)) (the sum in double, in
  // vmath::sum's order), into `loss` for 'none', else into the scratch and then summed.
  RowLossScratch<T> scratch(n, classes, reduction, loss);
  T* const values = scratch.values;
  parallel_row_blocks(n, classes, act::kRowExpsOps, [&](std::int64_t begin, std::int64_t end) {
    scratch.row_exps(begin, end, classes, logits);
    for (std::int64_t i = begin; i < end; ++i) {
      if (target[i] == ignore_index) {
        // torch's ignored row is 0, plus 0 * spread with smoothing: NaN when there are no
        // classes (spread = e / 0 = inf), as torch's 'none' and 'sum'.
        values[i] = opts.smoothing ? T(0) * opts.spread : T(0);
        continue;
      }
      const T mi = scratch.m[static_cast<std::size_t>(i)];
      const T log_sum = scratch.log_sum(i);
      // w(t) * nll(t): nll(t) itself without weights (a product by 1 is exact).
      const T nll = opts.w(target[i]) * ((mi - logits[i * classes + target[i]]) + log_sum);
      if (!opts.smoothing) {
        values[i] = nll;
        continue;
      }
      double smooth = 0.0;  // sum_j w_j * nll(j)
      for (std::int64_t j = 0; j < classes; ++j) {
        smooth += static_cast<double>(opts.w(j) * ((mi - logits[i * classes + j]) + log_sum));
      }
      values[i] = opts.keep * nll + opts.spread * static_cast<T>(smooth);
    }
  });
  if (reduction != Reduction::kNone) {
    reduce_loss(n, classes, reduction, kept, loss, [&](std::int64_t i) { return values[i]; });
  }
}

template <typename T>
void cross_entropy_backward(std::int64_t n, std::int64_t classes, const T* logits,
                            const std::int64_t* target, std::int64_t ignore_index,
                            const T* weight, double label_smoothing, Reduction reduction,
                            const T* dloss, T* dlogits) {
  const ClassOptions<T> opts(classes, weight, label_smoothing);
  const SampleGrad<T> grad(dloss, reduction, cross_entropy_divisor(n, target, ignore_index, opts));
  // dlogits = g * a * softmax(x) - g * keep * w_t * onehot(t) - g * spread * w: the exps of a
  // block of rows straight into dlogits. Without options a = keep * w_t = 1 and the products
  // by it are exact: the bits of g * softmax(x) - g * onehot(t).
  std::vector<T> m(static_cast<std::size_t>(n));
  std::vector<double> sums(static_cast<std::size_t>(n));
  parallel_row_blocks(n, classes, act::kRowExpsOps, [&](std::int64_t begin, std::int64_t end) {
    act::row_exps(begin, end, classes, logits, m.data(), dlogits, sums.data());
    for (std::int64_t i = begin; i < end; ++i) {
      T* out = dlogits + i * classes;
      if (target[i] == ignore_index) {
        std::fill(out, out + classes, T(0));
        continue;
      }
      const T g = grad(i);
      const T target_weight = opts.w(target[i]);
      const T a = opts.smoothing ? opts.keep * target_weight + opts.spread * opts.weight_sum
                                 : target_weight;
      const T scale = g * a;
      const T inv = static_cast<T>(1.0 / sums[static_cast<std::size_t>(i)]);
      for (std::int64_t j = 0; j < classes; ++j) out[j] = scale * (out[j] * inv);
      if (opts.smoothing) {
        const T g_spread = g * opts.spread;
        for (std::int64_t j = 0; j < classes; ++j) out[j] -= g_spread * opts.w(j);
      }
      out[target[i]] -= g * (opts.smoothing ? opts.keep * target_weight : target_weight);
    }
  });
}

template <typename T>
void cross_entropy_soft_forward(std::int64_t n, std::int64_t classes, const T* logits,
                                const T* target, const T* weight, double label_smoothing,
                                Reduction reduction, T* loss) {
  const ClassOptions<T> opts(classes, weight, label_smoothing);
  RowLossScratch<T> scratch(n, classes, reduction, loss);
  T* const values = scratch.values;
  parallel_row_blocks(n, classes, act::kRowExpsOps, [&](std::int64_t begin, std::int64_t end) {
    scratch.row_exps(begin, end, classes, logits);
    for (std::int64_t i = begin; i < end; ++i) {
      const T mi = scratch.m[static_cast<std::size_t>(i)];
      const T log_sum = scratch.log_sum(i);
      double row = 0.0;  // sum_j w_j * q_j * nll(j), nll(j) = -log_softmax_j
      for (std::int64_t j = 0; j < classes; ++j) {
        const std::int64_t ij = i * classes + j;
        const T q = opts.smoothing ? target[ij] * opts.keep + opts.spread : target[ij];
        row += static_cast<double>(opts.w(j) * q * ((mi - logits[ij]) + log_sum));
      }
      values[i] = static_cast<T>(row);
    }
  });
  if (reduction != Reduction::kNone) {
    reduce_loss(n, classes, reduction, soft_cross_entropy_divisor(n, classes), loss,
                [&](std::int64_t i) { return values[i]; });
  }
}

template <typename T>
void cross_entropy_soft_backward(std::int64_t n, std::int64_t classes, const T* logits,
                                 const T* target, const T* weight, double label_smoothing,
                                 Reduction reduction, const T* dloss, T* dlogits, T* dtarget) {
  const SampleGrad<T> grad(dloss, reduction, soft_cross_entropy_divisor(n, classes));
  const ClassOptions<T> opts(classes, weight, label_smoothing);
  std::vector<T> m(static_cast<std::size_t>(n));
  std::vector<double> sums(static_cast<std::size_t>(n));
  parallel_row_blocks(n, classes, act::kRowExpsOps, [&](std::int64_t begin, std::int64_t end) {
    act::row_exps(begin, end, classes, logits, m.data(), dlogits, sums.data());
    for (std::int64_t i = begin; i < end; ++i) {
      const T* t = target + i * classes;
      T* out = dlogits + i * classes;
      double weighted_mass = 0.0;  // sum_k w_k * q_k
      for (std::int64_t k = 0; k < classes; ++k) {
        const T q = opts.smoothing ? t[k] * opts.keep + opts.spread : t[k];
        weighted_mass += static_cast<double>(opts.w(k) * q);
      }
      const T g = grad(i);
      const T scale = g * static_cast<T>(weighted_mass);
      const T inv = static_cast<T>(1.0 / sums[static_cast<std::size_t>(i)]);
      for (std::int64_t j = 0; j < classes; ++j) {
        const T q = opts.smoothing ? t[j] * opts.keep + opts.spread : t[j];
        out[j] = scale * (out[j] * inv) - g * (opts.w(j) * q);
      }
      if (dtarget == nullptr) continue;
      // d loss / d target_j = -(1 - e) * w_j * log_softmax_j, log_softmax_j = (x_j - m) - log_sum
      const T mi = m[static_cast<std::size_t>(i)];
      const T log_sum = static_cast<T>(std::log(sums[static_cast<std::size_t>(i)]));
      const T g_keep = g * opts.keep;
      for (std::int64_t j = 0; j < classes; ++j) {
        dtarget[i * classes + j] =
            g_keep * (opts.w(j) * ((mi - logits[i * classes + j]) + log_sum));
      }
    }
  });
}

template <typename T>
void nll_loss_forward(std::int64_t n, std::int64_t classes, const T* logp,
                      const std::int64_t* target, std::int64_t ignore_index, const T* weight,
                      Reduction reduction, T* loss) {
  const double kept = kept_weight(n, target, ignore_index, weight);
  reduce_loss(n, 1, reduction, kept, loss, [=](std::int64_t i) -> T {
    if (target[i] == ignore_index) return T(0);
    const T logp_t = logp[i * classes + target[i]];
    return weight ? -(weight[target[i]] * logp_t) : -logp_t;
  });
}

template <typename T>
void nll_loss_backward(std::int64_t n, std::int64_t classes, const T* /*logp*/,
                       const std::int64_t* target, std::int64_t ignore_index, const T* weight,
                       Reduction reduction, const T* dloss, T* dlogp) {
  const SampleGrad<T> grad(dloss, reduction, kept_weight(n, target, ignore_index, weight));
  parallel_for_each(n, classes, [=](std::int64_t i) {
    T* out = dlogp + i * classes;
    std::fill(out, out + classes, T(0));
    if (target[i] == ignore_index) return;
    // torch's order: -(dloss / divisor), then times the weight.
    out[target[i]] = weight ? -grad(i) * weight[target[i]] : -grad(i);
  });
}

template <typename T>
void bce_forward(std::int64_t n, const T* p, const T* target, const T* weight,
                 Reduction reduction, T* loss) {
  reduce_loss(n, 4, reduction, static_cast<double>(n), loss, [=](std::int64_t i) -> T {
    const T log_p = std::max(std::log(p[i]), T(-100));
    const T log_1mp = std::max(std::log1p(-p[i]), T(-100));
    const T l = (target[i] - T(1)) * log_1mp - target[i] * log_p;
    return weight ? l * weight[i] : l;
  });
}

template <typename T>
void bce_backward(std::int64_t n, const T* p, const T* target, const T* weight,
                  Reduction reduction, const T* dloss, T* dp) {
  // torch's EPSILON is the float 1e-12 (9.99999996e-13), in double too.
  const T eps = static_cast<T>(1e-12f);
  parallel_for_each(n, 4, [=](std::int64_t i) {
    const T g = reduction == Reduction::kNone ? dloss[i] : dloss[0];
    T d = g * (p[i] - target[i]) / std::max((T(1) - p[i]) * p[i], eps);
    if (weight) d *= weight[i];
    // torch divides by numel as a separate pass: d / n, not d * (1 / n).
    dp[i] = reduction == Reduction::kMean ? d / static_cast<T>(n) : d;
  });
}

template <typename T>
void bce_with_logits_forward(std::int64_t n, const T* x, const T* target, const T* weight,
                             const T* pos_weight, Reduction reduction, T* loss) {
  reduce_loss(n, 4, reduction, static_cast<double>(n), loss, [=](std::int64_t i) -> T {
    const T v = x[i];
    T log_sigmoid = std::min(v, T(0)) - std::log1p(vmath::exp(-std::abs(v)));
    if (pos_weight) log_sigmoid *= (pos_weight[i] - T(1)) * target[i] + T(1);
    const T l = (T(1) - target[i]) * v - log_sigmoid;
    return weight ? l * weight[i] : l;
  });
}

template <typename T>
void bce_with_logits_backward(std::int64_t n, const T* x, const T* target, const T* weight,
                              const T* pos_weight, Reduction reduction, const T* dloss, T* dx) {
  parallel_for_each(n, 4, [=](std::int64_t i) {
    const T g = reduction == Reduction::kNone ? dloss[i] : dloss[0];
    T d;
    if (pos_weight) {
      const T pt = pos_weight[i] * target[i];
      d = ((pt + T(1) - target[i]) * vmath::sigmoid(x[i]) - pt) * g;
    } else {
      d = (vmath::sigmoid(x[i]) - target[i]) * g;
    }
    if (weight) d *= weight[i];
    dx[i] = reduction == Reduction::kMean ? d / static_cast<T>(n) : d;
  });
}

template <typename T>
void mse_forward(std::int64_t n, const T* x, const T* target, Reduction reduction, T* loss) {
  reduce_loss(n, 1, reduction, static_cast<double>(n), loss, [=](std::int64_t i) -> T {
    const T d = x[i] - target[i];
    return d * d;
  });
}

template <typename T>
void mse_backward(std::int64_t n, const T* x, const T* target, Reduction reduction,
                  const T* dloss, T* dx) {
  // As torch: norm is computed in double, then used at the tensor's precision.
  const T norm = static_cast<T>(reduction == Reduction::kMean ? 2.0 / static_cast<double>(n) : 2.0);
  parallel_for_each(n, 1, [=](std::int64_t i) {
    const T g = reduction == Reduction::kNone ? dloss[i] : dloss[0];
    dx[i] = norm * (x[i] - target[i]) * g;
  });
}

namespace {
// dx_i = slope(x_i - t_i) * g_i for the element-wise losses of d = x - t, g_i the upstream
// gradient of element i: dloss[i] (kNone), dloss[0] (kSum) or dloss[0] * (1 / n) (kMean).
template <typename T, typename Slope>
void difference_loss_backward(std::int64_t n, const T* x, const T* target, Reduction reduction,
                              const T* dloss, T* dx, Slope slope) {
  const T norm = static_cast<T>(reduction == Reduction::kMean ? 1.0 / static_cast<double>(n) : 1.0);
  parallel_for_each(n, 1, [=](std::int64_t i) {
    const T g = reduction == Reduction::kNone ? dloss[i] : dloss[0] * norm;
    dx[i] = slope(x[i] - target[i]) * g;
  });
}

template <typename T>
T sign_of(T d) {
  return d > T(0) ? T(1) : (d < T(0) ? T(-1) : T(0));
}
}  // namespace

template <typename T>
void l1_forward(std::int64_t n, const T* x, const T* target, Reduction reduction, T* loss) {
  reduce_loss(n, 1, reduction, static_cast<double>(n), loss,
              [=](std::int64_t i) -> T { return std::abs(x[i] - target[i]); });
}

template <typename T>
void l1_backward(std::int64_t n, const T* x, const T* target, Reduction reduction,
                 const T* dloss, T* dx) {
  difference_loss_backward(n, x, target, reduction, dloss, dx, [](T d) { return sign_of(d); });
}

template <typename T>
void smooth_l1_forward(std::int64_t n, const T* x, const T* target, T beta, Reduction reduction,
                       T* loss) {
  reduce_loss(n, 2, reduction, static_cast<double>(n), loss, [=](std::int64_t i) -> T {
    const T z = std::abs(x[i] - target[i]);
    return z < beta ? T(0.5) * z * z / beta : z - T(0.5) * beta;
  });
}

template <typename T>
void smooth_l1_backward(std::int64_t n, const T* x, const T* target, T beta, Reduction reduction,
                        const T* dloss, T* dx) {
  if (beta == T(0)) {
    l1_backward(n, x, target, reduction, dloss, dx);
    return;
  }
  difference_loss_backward(n, x, target, reduction, dloss, dx, [=](T d) {
    return d <= -beta ? T(-1) : (d >= beta ? T(1) : d / beta);
  });
}

template <typename T>
void huber_forward(std::int64_t n, const T* x, const T* target, T delta, Reduction reduction,
                   T* loss) {
  reduce_loss(n, 2, reduction, static_cast<double>(n), loss, [=](std::int64_t i) -> T {
    const T z = std::abs(x[i] - target[i]);
    return z < delta ? T(0.5) * z * z : delta * (z - T(0.5) * delta);
  });
}

template <typename T>
void huber_backward(std::int64_t n, const T* x, const T* target, T delta, Reduction reduction,
                    const T* dloss, T* dx) {
  difference_loss_backward(n, x, target, reduction, dloss, dx, [=](T d) {
    return d <= -delta ? -delta : (d >= delta ? delta : d);
  });
}

#define KERNN_INSTANTIATE(T)                                                                   \
  template std::int64_t first_outside_unit_interval<T>(std::int64_t, const T*);                \
  template void cross_entropy_forward<T>(std::int64_t, std::int64_t, const T*,                 \
                                         const std::int64_t*, std::int64_t, const T*, double,  \
                                         Reduction, T*);                                       \
  template void cross_entropy_backward<T>(std::int64_t, std::int64_t, const T*,                \
                                          const std::int64_t*, std::int64_t, const T*, double, \
                                          Reduction, const T*, T*);                            \
  template void cross_entropy_soft_forward<T>(std::int64_t, std::int64_t, const T*, const T*,  \
                                              const T*, double, Reduction, T*);                \
  template void cross_entropy_soft_backward<T>(std::int64_t, std::int64_t, const T*, const T*, \
                                               const T*, double, Reduction, const T*, T*, T*); \
  template void nll_loss_forward<T>(std::int64_t, std::int64_t, const T*, const std::int64_t*, \
                                    std::int64_t, const T*, Reduction, T*);                    \
  template void nll_loss_backward<T>(std::int64_t, std::int64_t, const T*,                     \
                                     const std::int64_t*, std::int64_t, const T*, Reduction,   \
                                     const T*, T*);                                            \
  template void bce_forward<T>(std::int64_t, const T*, const T*, const T*, Reduction, T*);     \
  template void bce_backward<T>(std::int64_t, const T*, const T*, const T*, Reduction,         \
                                const T*, T*);                                                 \
  template void bce_with_logits_forward<T>(std::int64_t, const T*, const T*, const T*,         \
                                           const T*, Reduction, T*);                           \
  template void bce_with_logits_backward<T>(std::int64_t, const T*, const T*, const T*,        \
                                            const T*, Reduction, const T*, T*);                \
  template void mse_forward<T>(std::int64_t, const T*, const T*, Reduction, T*);               \
  template void mse_backward<T>(std::int64_t, const T*, const T*, Reduction, const T*, T*);   \
  template void l1_forward<T>(std::int64_t, const T*, const T*, Reduction, T*);                \
  template void l1_backward<T>(std::int64_t, const T*, const T*, Reduction, const T*, T*);    \
  template void smooth_l1_forward<T>(std::int64_t, const T*, const T*, T, Reduction, T*);      \
  template void smooth_l1_backward<T>(std::int64_t, const T*, const T*, T, Reduction,          \
                                      const T*, T*);                                           \
  template void huber_forward<T>(std::int64_t, const T*, const T*, T, Reduction, T*);          \
  template void huber_backward<T>(std::int64_t, const T*, const T*, T, Reduction, const T*,    \
                                  T*);

KERNN_INSTANTIATE(float)
KERNN_INSTANTIATE(double)
#undef KERNN_INSTANTIATE

}  // namespace kernn
