// Batch normalisation kernels (see kernn/norm.h for the formulas).
//
// Each kernel parallelises over channels and does all of one channel's work (statistics,
// normalisation, running update) on one thread in a fixed order, so results do not depend on
// the thread count. Sums are accumulated in double for float too.
#include "kernn/norm.h"

#include <cmath>

#include "kernn/cpu_features.h"
#include "kernn/parallel.h"
#include "norm_channel.h"

namespace kernn {

namespace {

// The AVX2 build of the channel loops when it is in use, else this file's.
template <typename T>
NormChannelLoops<T> channel_loops() {
#ifdef KERNN_X86
  if (simd_loops_avx2()) return simd_avx2::norm_channel_loops<T>();
#endif
  return this_build_norm_channel_loops<T>();
}

}  // namespace

template <typename T>
void batch_norm_forward_train(const T* x, std::int64_t N, std::int64_t C, std::int64_t inner,
                              const T* weight, const T* bias, double eps, double momentum,
                              T* running_mean, T* running_var, bool relu, T* y, T* save_mean,
                              T* save_invstd) {
  const std::int64_t count = N * inner;
  const NormChannelLoops<T> loops = channel_loops<T>();
  parallel_for_each(C, N * inner, [&](std::int64_t c) {
    double mean = 0, sq = 0;
    loops.moments(x, N, C, inner, c, &mean, &sq);
    const double var = sq / static_cast<double>(count);
    const double invstd = 1.0 / std::sqrt(var + eps);
    // y = (x - mean) * scale + shift: centring first keeps float precision when |mean| >> std
    // (folding the mean into the shift would cancel).
    const double w = weight ? static_cast<double>(weight[c]) : 1.0;
    const T scale = static_cast<T>(w * invstd);
    const T shift = bias ? bias[c] : T(0);
    loops.normalize(x, N, C, inner, c, static_cast<T>(mean), scale, shift, relu, y);
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
  });
}

template <typename T>
void batch_norm_forward_eval(const T* x, std::int64_t N, std::int64_t C, std::int64_t inner,
                             const T* weight, const T* bias, const T* running_mean,
                             const T* running_var, double eps, bool relu, T* y,
                             T* save_invstd) {
  const NormChannelLoops<T> loops = channel_loops<T>();
  parallel_for_each(C, N * inner, [&](std::int64_t c) {
    const double invstd = 1.0 / std::sqrt(static_cast<double>(running_var[c]) + eps);
    const double w = weight ? static_cast<double>(weight[c]) : 1.0;
    const T scale = static_cast<T>(w * invstd);
    const T shift = bias ? bias[c] : T(0);
    loops.normalize(x, N, C, inner, c, running_mean[c], scale, shift, relu, y);
    save_invstd[c] = static_cast<T>(invstd);
  });
}

template <typename T>
void batch_norm_backward(const T* x, const T* dy, const T* relu_out, std::int64_t N,
                         std::int64_t C, std::int64_t inner, const T* weight, const T* mean,
                         const T* invstd, bool training, T* dx, T* dweight, T* dbias) {
  const double count = static_cast<double>(N * inner);
  const NormChannelLoops<T> loops = channel_loops<T>();
  parallel_for_each(C, N * inner, [&](std::int64_t c) {
    const double w = weight ? static_cast<double>(weight[c]) : 1.0;
    loops.backward(x, dy, relu_out, N, C, inner, c, w, mean[c], invstd[c], count, training, dx,
                   dweight, dbias);
  });
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
