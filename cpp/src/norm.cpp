// Batch normalisation kernels (see kernn/norm.h for the formulas).
//
// Each kernel parallelises over channels and does all of one channel's work (statistics,
// normalisation, running update) on one thread in a fixed order, so results do not depend on
// the thread count. Sums are accumulated in double for float too.
#include "kernn/norm.h"

#include <cmath>

#include "kernn/parallel.h"
#include "lane_sum.h"

namespace kernn {

namespace {

using detail::lane_sum;
using detail::LaneSum;

// The values of channel c are N runs of `inner` contiguous elements, `C*inner` apart.
template <typename T, typename F>
inline void for_channel(const T* base, std::int64_t N, std::int64_t C, std::int64_t inner,
                        std::int64_t c, F&& f) {
  for (std::int64_t n = 0; n < N; ++n) {
    const std::int64_t offset = (n * C + c) * inner;
    f(base + offset, offset);
  }
}

// y = (x - mean) * scale + shift over one run, then, with Relu, y < 0 ? 0 : y (the relu_forward
// expression, so NaN passes through and the fused pair equals the unfused one bit for bit).
// The ReLU is a second sweep over the run just written (still in L1): folded into the first
// loop, the select kept GCC from vectorising it and doubled the time.
template <bool Relu, typename T>
inline void normalize_run(const T* x, std::int64_t n, T mean, T scale, T shift, T* y) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = (x[i] - mean) * scale + shift;
  if (Relu) {
    for (std::int64_t i = 0; i < n; ++i) {
      const T v = y[i];
      y[i] = v < T(0) ? T(0) : v;
    }
  }
}

template <typename T>
inline void normalize_channel(const T* x, std::int64_t N, std::int64_t C, std::int64_t inner,
                              std::int64_t c, T mean, T scale, T shift, bool relu, T* y) {
  for_channel(x, N, C, inner, c, [&](const T* xr, std::int64_t offset) {
    if (relu) {
      normalize_run<true>(xr, inner, mean, scale, shift, y + offset);
    } else {
      normalize_run<false>(xr, inner, mean, scale, shift, y + offset);
    }
  });
}

// The batch-norm backward of one channel. With Relu, the incoming gradient is first masked as
// relu_backward does (relu_out <= 0 ? 0 : dy; relu_out > 0 exactly where the relu's input is),
// so the fused pair's gradients equal the unfused pair's bit for bit. The masked gradient is
// parked in dx by the statistics pass (both operands loaded unconditionally so the select
// vectorises) and read back from there by the second pass.
template <bool Relu, typename T>
inline void backward_channel(const T* x, const T* dy, const T* relu_out, std::int64_t N,
                             std::int64_t C, std::int64_t inner, std::int64_t c, double w,
                             double m, double is, double count, bool training, T* dx,
                             T* dweight, T* dbias) {
  LaneSum dy_lanes, dy_xc_lanes;  // sum dy, sum dy * (x - mean)
  for_channel(x, N, C, inner, c, [&](const T* xr, std::int64_t offset) {
    const T* dyr = dy + offset;
    if (Relu) {
      const T* rr = relu_out + offset;
      T* gr = dx + offset;
      for (std::int64_t i = 0; i < inner; ++i) {
        const T r = rr[i], d = dyr[i];
        gr[i] = r <= T(0) ? T(0) : d;
      }
      dyr = gr;
    }
    lane_sum(dy_lanes, inner, [&](std::int64_t i) { return static_cast<double>(dyr[i]); });
    lane_sum(dy_xc_lanes, inner, [&](std::int64_t i) {
      return static_cast<double>(dyr[i]) * (xr[i] - m);
    });
  });
  const double sum_dy = dy_lanes.total(), sum_dy_xc = dy_xc_lanes.total();
  if (dbias) dbias[c] = static_cast<T>(sum_dy);
  if (dweight) dweight[c] = static_cast<T>(sum_dy_xc * is);
  // dx = a * dy + b * (x - m) + d with the per-channel constants folded:
  //   training: w*is*(dy - sum_dy/n - (x-m)*is^2*sum_dy_xc/n)
  const double a = w * is;
  double b = 0, d = 0;
  if (training) {
    b = -a * is * is * sum_dy_xc / count;
    d = -a * sum_dy / count;
  }
  const T ta = static_cast<T>(a), tb = static_cast<T>(b), td = static_cast<T>(d);
  const T tm = static_cast<T>(m);
  for_channel(x, N, C, inner, c, [&](const T* xr, std::int64_t offset) {
    const T* gr = (Relu ? dx : dy) + offset;
    T* dxr = dx + offset;
    for (std::int64_t i = 0; i < inner; ++i) dxr[i] = ta * gr[i] + tb * (xr[i] - tm) + td;
  });
}

}  // namespace

template <typename T>
void batch_norm_forward_train(const T* x, std::int64_t N, std::int64_t C, std::int64_t inner,
                              const T* weight, const T* bias, double eps, double momentum,
                              T* running_mean, T* running_var, bool relu, T* y, T* save_mean,
                              T* save_invstd) {
  const std::int64_t count = N * inner;
#pragma omp parallel for schedule(static) if (worth_parallel(N * C * inner))
  for (std::int64_t c = 0; c < C; ++c) {
    LaneSum sum;
    for_channel(x, N, C, inner, c, [&](const T* xr, std::int64_t) {
      lane_sum(sum, inner, [&](std::int64_t i) { return static_cast<double>(xr[i]); });
    });
    const double mean = sum.total() / static_cast<double>(count);
    LaneSum sq_sum;
    for_channel(x, N, C, inner, c, [&](const T* xr, std::int64_t) {
      lane_sum(sq_sum, inner, [&](std::int64_t i) {
        const double d = xr[i] - mean;
        return d * d;
      });
    });
    const double sq = sq_sum.total();
    const double var = sq / static_cast<double>(count);
    const double invstd = 1.0 / std::sqrt(var + eps);
    // y = (x - mean) * scale + shift: centring first keeps float precision when |mean| >> std
    // (folding the mean into the shift would cancel).
    const double w = weight ? static_cast<double>(weight[c]) : 1.0;
    const T scale = static_cast<T>(w * invstd);
    const T shift = bias ? bias[c] : T(0);
    normalize_channel(x, N, C, inner, c, static_cast<T>(mean), scale, shift, relu, y);
    save_mean[c] = static_cast<T>(mean);
    save_invstd[c] = static_cast<T>(invstd);
    if (running_mean) {
      running_mean[c] = static_cast<T>((1.0 - momentum) * running_mean[c] + momentum * mean);
    }
    if (running_var) {
      // Normalise with the biased variance, track the unbiased one (as torch).
      const double unbiased = count > 1 ? sq / static_cast<double>(count - 1) : var;
      running_var[c] = static_cast<T>((1.0 - momentum) * running_var[c] + momentum * unbiased);
    }
  }
}

template <typename T>
void batch_norm_forward_eval(const T* x, std::int64_t N, std::int64_t C, std::int64_t inner,
                             const T* weight, const T* bias, const T* running_mean,
                             const T* running_var, double eps, bool relu, T* y,
                             T* save_invstd) {
#pragma omp parallel for schedule(static) if (worth_parallel(N * C * inner))
  for (std::int64_t c = 0; c < C; ++c) {
    const double invstd = 1.0 / std::sqrt(static_cast<double>(running_var[c]) + eps);
    const double w = weight ? static_cast<double>(weight[c]) : 1.0;
    const T scale = static_cast<T>(w * invstd);
    const T shift = bias ? bias[c] : T(0);
    normalize_channel(x, N, C, inner, c, running_mean[c], scale, shift, relu, y);
    save_invstd[c] = static_cast<T>(invstd);
  }
}

template <typename T>
void batch_norm_backward(const T* x, const T* dy, const T* relu_out, std::int64_t N,
                         std::int64_t C, std::int64_t inner, const T* weight, const T* mean,
                         const T* invstd, bool training, T* dx, T* dweight, T* dbias) {
  const double count = static_cast<double>(N * inner);
#pragma omp parallel for schedule(static) if (worth_parallel(N * C * inner))
  for (std::int64_t c = 0; c < C; ++c) {
    const double w = weight ? static_cast<double>(weight[c]) : 1.0;
    if (relu_out) {
      backward_channel<true>(x, dy, relu_out, N, C, inner, c, w, mean[c], invstd[c], count,
                             training, dx, dweight, dbias);
    } else {
      backward_channel<false>(x, dy, relu_out, N, C, inner, c, w, mean[c], invstd[c], count,
                              training, dx, dweight, dbias);
    }
  }
}

#define KERNN_INSTANTIATE_NORM(T)                                                             \
  template void batch_norm_forward_train<T>(const T*, std::int64_t, std::int64_t,              \
                                            std::int64_t, const T*, const T*, double, double,  \
                                            T*, T*, bool, T*, T*, T*);                         \
  template void batch_norm_forward_eval<T>(const T*, std::int64_t, std::int64_t, std::int64_t, \
                                           const T*, const T*, const T*, const T*, double,     \
                                           bool, T*, T*);                                      \
  template void batch_norm_backward<T>(const T*, const T*, const T*, std::int64_t,            \
                                       std::int64_t, std::int64_t, const T*, const T*,         \
                                       const T*, bool, T*, T*, T*);

KERNN_INSTANTIATE_NORM(float)
KERNN_INSTANTIATE_NORM(double)

}  // namespace kernn
