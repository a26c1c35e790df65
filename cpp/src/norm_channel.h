// The per-channel loops of batch norm (see kernn/norm.h for the formulas), built twice: for
// baseline x86-64 in norm.cpp and for AVX2 + FMA in isa/loops_avx2.cpp, chosen at run time
// (simd_loops_avx2). Both builds do the same operations in the same order (the sums in
// lane_sum's fixed lanes; the AVX2 file is compiled with -ffp-contract=off, as g++ would
// otherwise turn a * b + c into an FMA), so they give the same bits. The AVX2 build is 20-35%
// faster on W4's batch-norm layers: the statistics convert to double, which SSE2 does two
// values at a time. Internal linkage (like vec_math.h), so that no function built with AVX2 can
// stand in for a baseline one at link time.
#pragma once

#include <cstdint>

#include "lane_sum.h"

namespace kernn {

// One build's channel loops. Channel c of an (N, C, inner) tensor is N runs of `inner`
// contiguous values, C*inner apart.
template <typename T>
struct NormChannelLoops {
  // mean = sum x / (N*inner); sq = sum (x - mean)^2, both accumulated in double
  void (*moments)(const T* x, std::int64_t N, std::int64_t C, std::int64_t inner, std::int64_t c,
                  double* mean, double* sq);
  // y = (x - mean) * scale + shift, then y < 0 ? 0 : y when relu
  void (*normalize)(const T* x, std::int64_t N, std::int64_t C, std::int64_t inner,
                    std::int64_t c, T mean, T scale, T shift, bool relu, T* y);
  // dx, dweight[c], dbias[c] of the channel (batch_norm_backward in kernn/norm.h); relu_out
  // nullptr when no ReLU was fused; w, m, is: the channel's weight, mean and invstd
  void (*backward)(const T* x, const T* dy, const T* relu_out, std::int64_t N, std::int64_t C,
                   std::int64_t inner, std::int64_t c, double w, double m, double is,
                   double count, bool training, T* dx, T* dweight, T* dbias);
};

namespace simd_avx2 {
template <typename T>
NormChannelLoops<T> norm_channel_loops();  // isa/loops_avx2.cpp
}  // namespace simd_avx2

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

template <typename T>
void channel_moments(const T* x, std::int64_t N, std::int64_t C, std::int64_t inner,
                     std::int64_t c, double* mean_out, double* sq_out) {
  LaneSum sum;
  for_channel(x, N, C, inner, c, [&](const T* xr, std::int64_t) {
    lane_sum(sum, inner, [&](std::int64_t i) { return static_cast<double>(xr[i]); });
  });
  const double mean = sum.total() / static_cast<double>(N * inner);
  LaneSum sq_sum;
  for_channel(x, N, C, inner, c, [&](const T* xr, std::int64_t) {
    lane_sum(sq_sum, inner, [&](std::int64_t i) {
      const double d = xr[i] - mean;
      return d * d;
    });
  });
  *mean_out = mean;
  *sq_out = sq_sum.total();
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

template <typename T>
void backward_channel_any(const T* x, const T* dy, const T* relu_out, std::int64_t N,
                          std::int64_t C, std::int64_t inner, std::int64_t c, double w, double m,
                          double is, double count, bool training, T* dx, T* dweight, T* dbias) {
  if (relu_out) {
    backward_channel<true>(x, dy, relu_out, N, C, inner, c, w, m, is, count, training, dx,
                           dweight, dbias);
  } else {
    backward_channel<false>(x, dy, relu_out, N, C, inner, c, w, m, is, count, training, dx,
                            dweight, dbias);
  }
}

// This translation unit's build of the loops.
template <typename T>
NormChannelLoops<T> this_build_norm_channel_loops() {
  return {&channel_moments<T>, &normalize_channel<T>, &backward_channel_any<T>};
}

}  // namespace
}  // namespace kernn
