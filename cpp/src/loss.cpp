// Loss functions (see loss.h).
#include "kernn/loss.h"

#include <algorithm>
#include <cmath>
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

std::int64_t count_kept(std::int64_t n, const std::int64_t* target, std::int64_t ignore_index) {
  std::int64_t kept = 0;
  for (std::int64_t i = 0; i < n; ++i) kept += target[i] != ignore_index;
  return kept;
}

// The upstream gradient of sample i of a class-index loss: dloss[i], dloss[0] or
// dloss[0] / kept.
template <typename T>
struct ClassGrad {
  const T* dloss;
  Reduction reduction;
  T shared;
  ClassGrad(const T* d, Reduction r, std::int64_t n, const std::int64_t* target,
            std::int64_t ignore_index)
      : dloss(d), reduction(r), shared(r == Reduction::kNone ? T(0) : d[0]) {
    if (r == Reduction::kMean) shared = d[0] / static_cast<T>(count_kept(n, target, ignore_index));
  }
  T operator()(std::int64_t i) const { return reduction == Reduction::kNone ? dloss[i] : shared; }
};

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

template <typename T>
void cross_entropy_forward(std::int64_t n, std::int64_t classes, const T* logits,
                           const std::int64_t* target, std::int64_t ignore_index,
                           Reduction reduction, T* loss) {
  const double kept = static_cast<double>(count_kept(n, target, ignore_index));
  // Each row's loss, m - x_t + log(sum_j exp(x_j - m)) (the sum in double, in vmath::sum's
  // order), into `loss` for 'none', else into row_loss and then summed. The buffers are taken
  // before the parallel region (std::bad_alloc inside one would terminate the process).
  std::vector<T> m(static_cast<std::size_t>(n));
  // Scratch for the exps, uninitialised (new T[], not std::vector: zeroing it took 3 % of a
  // 64 x 1000 forward); row_exps writes every element before it is read.
  std::unique_ptr<T[]> exps(new T[static_cast<std::size_t>(n * classes)]);
  std::vector<double> sums(static_cast<std::size_t>(n));
  std::vector<T> row_loss(reduction == Reduction::kNone ? 0 : static_cast<std::size_t>(n));
  T* const values = reduction == Reduction::kNone ? loss : row_loss.data();
  parallel_row_blocks(n, classes, act::kRowExpsOps, [&](std::int64_t begin, std::int64_t end) {
    act::row_exps(begin, end, classes, logits, m.data(), exps.get(), sums.data());
    for (std::int64_t i = begin; i < end; ++i) {
      if (target[i] == ignore_index) {
        values[i] = T(0);
        continue;
      }
      values[i] = (m[static_cast<std::size_t>(i)] - logits[i * classes + target[i]]) +
                  static_cast<T>(std::log(sums[static_cast<std::size_t>(i)]));
    }
  });
  if (reduction != Reduction::kNone) {
    reduce_loss(n, classes, reduction, kept, loss, [&](std::int64_t i) { return values[i]; });
  }
}

template <typename T>
void cross_entropy_backward(std::int64_t n, std::int64_t classes, const T* logits,
                            const std::int64_t* target, std::int64_t ignore_index,
                            Reduction reduction, const T* dloss, T* dlogits) {
  const ClassGrad<T> grad(dloss, reduction, n, target, ignore_index);
  // dlogits = g * softmax(x) - g * onehot(t): the exps of a block of rows straight into dlogits.
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
      const T inv = static_cast<T>(1.0 / sums[static_cast<std::size_t>(i)]);
      for (std::int64_t j = 0; j < classes; ++j) out[j] = g * (out[j] * inv);
      out[target[i]] -= g;
    }
  });
}

template <typename T>
void nll_loss_forward(std::int64_t n, std::int64_t classes, const T* logp,
                      const std::int64_t* target, std::int64_t ignore_index, Reduction reduction,
                      T* loss) {
  const double kept = static_cast<double>(count_kept(n, target, ignore_index));
  reduce_loss(n, 1, reduction, kept, loss, [=](std::int64_t i) -> T {
    return target[i] == ignore_index ? T(0) : -logp[i * classes + target[i]];
  });
}

template <typename T>
void nll_loss_backward(std::int64_t n, std::int64_t classes, const T* /*logp*/,
                       const std::int64_t* target, std::int64_t ignore_index, Reduction reduction,
                       const T* dloss, T* dlogp) {
  const ClassGrad<T> grad(dloss, reduction, n, target, ignore_index);
  parallel_for_each(n, classes, [=](std::int64_t i) {
    T* out = dlogp + i * classes;
    std::fill(out, out + classes, T(0));
    if (target[i] != ignore_index) out[target[i]] = -grad(i);
  });
}

template <typename T>
void bce_forward(std::int64_t n, const T* p, const T* target, Reduction reduction, T* loss) {
  reduce_loss(n, 4, reduction, static_cast<double>(n), loss, [=](std::int64_t i) -> T {
    const T log_p = std::max(std::log(p[i]), T(-100));
    const T log_1mp = std::max(std::log1p(-p[i]), T(-100));
    return (target[i] - T(1)) * log_1mp - target[i] * log_p;
  });
}

template <typename T>
void bce_backward(std::int64_t n, const T* p, const T* target, Reduction reduction,
                  const T* dloss, T* dp) {
  // torch's EPSILON is the float 1e-12 (9.99999996e-13), in double too.
  const T eps = static_cast<T>(1e-12f);
  parallel_for_each(n, 4, [=](std::int64_t i) {
    const T g = reduction == Reduction::kNone ? dloss[i] : dloss[0];
    const T d = g * (p[i] - target[i]) / std::max((T(1) - p[i]) * p[i], eps);
    // torch divides by numel as a separate pass: d / n, not d * (1 / n).
    dp[i] = reduction == Reduction::kMean ? d / static_cast<T>(n) : d;
  });
}

template <typename T>
void bce_with_logits_forward(std::int64_t n, const T* x, const T* target, Reduction reduction,
                             T* loss) {
  reduce_loss(n, 4, reduction, static_cast<double>(n), loss, [=](std::int64_t i) -> T {
    const T v = x[i];
    const T log_sigmoid = std::min(v, T(0)) - std::log1p(vmath::exp(-std::abs(v)));
    return (T(1) - target[i]) * v - log_sigmoid;
  });
}

template <typename T>
void bce_with_logits_backward(std::int64_t n, const T* x, const T* target, Reduction reduction,
                              const T* dloss, T* dx) {
  parallel_for_each(n, 4, [=](std::int64_t i) {
    const T g = reduction == Reduction::kNone ? dloss[i] : dloss[0];
    const T d = (vmath::sigmoid(x[i]) - target[i]) * g;
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
                                         const std::int64_t*, std::int64_t, Reduction, T*);    \
  template void cross_entropy_backward<T>(std::int64_t, std::int64_t, const T*,                \
                                          const std::int64_t*, std::int64_t, Reduction,        \
                                          const T*, T*);                                       \
  template void nll_loss_forward<T>(std::int64_t, std::int64_t, const T*, const std::int64_t*, \
                                    std::int64_t, Reduction, T*);                              \
  template void nll_loss_backward<T>(std::int64_t, std::int64_t, const T*,                     \
                                     const std::int64_t*, std::int64_t, Reduction, const T*,   \
                                     T*);                                                      \
  template void bce_forward<T>(std::int64_t, const T*, const T*, Reduction, T*);               \
  template void bce_backward<T>(std::int64_t, const T*, const T*, Reduction, const T*, T*);    \
  template void bce_with_logits_forward<T>(std::int64_t, const T*, const T*, Reduction, T*);   \
  template void bce_with_logits_backward<T>(std::int64_t, const T*, const T*, Reduction,       \
                                            const T*, T*);                                     \
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
