// Pooling kernels (see kernn/pool.h for shapes and formulas).
//
// All kernels parallelise over planes (N*C): every plane is read and written by one thread, so
// results do not depend on the thread count. The windows are computed per output cell with
// their bounds clipped once, so the inner loops carry no per-element bounds tests.
#include "kernn/pool.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>

#include "isa/pool_2x2.h"
#include "kernn/cpu_features.h"
#include "kernn/parallel.h"

namespace kernn {

std::int64_t pool_output_size(std::int64_t in, std::int64_t kernel, std::int64_t stride,
                              std::int64_t pad, std::int64_t dilation, bool ceil_mode) {
  // Floor division (torch's div_rtn): with ceil_mode a window may overhang the input, so the
  // numerator can be negative and still give one output.
  const std::int64_t num = in + 2 * pad - dilation * (kernel - 1) - 1 + (ceil_mode ? stride - 1 : 0);
  const std::int64_t q = num / stride;
  std::int64_t out = (q * stride > num ? q - 1 : q) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

namespace {

// The first row (or column) index >= lo reachable from `start` in steps of `step`, i.e. the
// first tap of a dilated window that is not in the leading padding.
inline std::int64_t first_inside(std::int64_t start, std::int64_t step) {
  if (start >= 0) return start;
  return start + ((-start + step - 1) / step) * step;
}

#ifdef KERNN_X86
// pool_avx2.cpp: the same row kernel compiled for AVX2.
}  // namespace
void max_pool2x2_rows_avx2_f32(const float* x, std::int64_t W, std::int64_t Ho, std::int64_t Wo,
                               float* y, std::int64_t* idx);
void max_pool2x2_rows_avx2_f64(const double* x, std::int64_t W, std::int64_t Ho,
                               std::int64_t Wo, double* y, std::int64_t* idx);
namespace {
inline void max_pool2x2_rows_avx2(const float* x, std::int64_t W, std::int64_t Ho,
                                  std::int64_t Wo, float* y, std::int64_t* idx) {
  max_pool2x2_rows_avx2_f32(x, W, Ho, Wo, y, idx);
}
inline void max_pool2x2_rows_avx2(const double* x, std::int64_t W, std::int64_t Ho,
                                  std::int64_t Wo, double* y, std::int64_t* idx) {
  max_pool2x2_rows_avx2_f64(x, W, Ho, Wo, y, idx);
}
#endif

// A plane of 2x2 stride-2 windows that all lie inside the input (no padding, no dilation).
template <typename T>
void max_pool2x2_plane(const T* x, std::int64_t W, std::int64_t Ho, std::int64_t Wo, T* y,
                       std::int64_t* idx) {
#ifdef KERNN_X86
  if (simd_loops_avx2()) {
    max_pool2x2_rows_avx2(x, W, Ho, Wo, y, idx);
    return;
  }
#endif
  for (std::int64_t oh = 0; oh < Ho; ++oh) {
    const T* r0 = x + 2 * oh * W;
    max_pool2x2_row(r0, r0 + W, W, Wo, 2 * oh * W, y + oh * Wo, idx + oh * Wo);
  }
}

}  // namespace

template <typename T>
void max_pool2d_forward(const T* x, std::int64_t planes, std::int64_t H, std::int64_t W,
                        const Pool2dParams& p, std::int64_t Ho, std::int64_t Wo, T* y,
                        std::int64_t* indices) {
  const std::int64_t work = Ho * Wo * p.kernel_h * p.kernel_w;  // per plane
  const bool fast_2x2 = p.kernel_h == 2 && p.kernel_w == 2 && p.stride_h == 2 && p.stride_w == 2 &&
                        p.pad_h == 0 && p.pad_w == 0 && p.dilation_h == 1 && p.dilation_w == 1;
  parallel_for_each(planes, work, [&](std::int64_t pl) {
    const T* xp = x + pl * H * W;
    T* yp = y + pl * Ho * Wo;
    std::int64_t* ip = indices + pl * Ho * Wo;
    if (fast_2x2 && 2 * Ho <= H && 2 * Wo <= W) {
      max_pool2x2_plane(xp, W, Ho, Wo, yp, ip);
      return;
    }
    for (std::int64_t oh = 0; oh < Ho; ++oh) {
      const std::int64_t h_start = oh * p.stride_h - p.pad_h;
      const std::int64_t h_end = std::min(h_start + (p.kernel_h - 1) * p.dilation_h + 1, H);
      const std::int64_t h0 = first_inside(h_start, p.dilation_h);
      for (std::int64_t ow = 0; ow < Wo; ++ow) {
        const std::int64_t w_start = ow * p.stride_w - p.pad_w;
        const std::int64_t w_end = std::min(w_start + (p.kernel_w - 1) * p.dilation_w + 1, W);
        const std::int64_t w0 = first_inside(w_start, p.dilation_w);
        T best = -std::numeric_limits<T>::infinity();
        std::int64_t at = h0 * W + w0;
        for (std::int64_t ih = h0; ih < h_end; ih += p.dilation_h) {
          const T* row = xp + ih * W;
          for (std::int64_t iw = w0; iw < w_end; iw += p.dilation_w) {
            const T v = row[iw];
            if (v > best || std::isnan(v)) {
              best = v;
              at = ih * W + iw;
            }
          }
        }
        yp[oh * Wo + ow] = best;
        // A dilated window can miss the input entirely (every tap in the padding); torch then
        // reports an index past the plane, which its backward would write out of bounds. kernn
        // reports -1: no input position, no gradient.
        ip[oh * Wo + ow] = (h0 < h_end && w0 < w_end) ? at : -1;
      }
    }
  });
}

template <typename T>
std::int64_t max_pool2d_backward(const T* dy, const std::int64_t* indices, std::int64_t planes,
                                 std::int64_t H, std::int64_t W, std::int64_t Ho, std::int64_t Wo,
                                 T* dx) {
  const std::int64_t plane_in = H * W;
  const std::int64_t plane_out = Ho * Wo;
  // Out-of-range indices seen (a corrupted indices array): counted per plane in a local, which
  // keeps the loop's scalars in registers, and added up from any thread.
  std::atomic<std::int64_t> bad{0};
  parallel_for_each(planes, plane_in + plane_out, [&](std::int64_t pl) {
    T* dxp = dx + pl * plane_in;
    const T* dyp = dy + pl * plane_out;
    const std::int64_t* ip = indices + pl * plane_out;
    const std::int64_t in = plane_in, out = plane_out;
    std::memset(dxp, 0, sizeof(T) * in);
    std::int64_t plane_bad = 0;
    for (std::int64_t o = 0; o < out; ++o) {
      const std::int64_t i = ip[o];
      if (i == -1) continue;  // a window that covered no input (see the forward)
      if (i < 0 || i >= in) {
        ++plane_bad;
        continue;
      }
      dxp[i] += dyp[o];
    }
    if (plane_bad) bad.fetch_add(plane_bad, std::memory_order_relaxed);
  });
  return bad.load();
}

namespace {

// One average-pooling window clipped to the input, with torch's divisor.
struct AvgWindow {
  std::int64_t h0, h1, w0, w1;
  std::int64_t divisor;
};

inline AvgWindow avg_window(std::int64_t oh, std::int64_t ow, std::int64_t H, std::int64_t W,
                            const Pool2dParams& p, bool count_include_pad,
                            std::int64_t divisor_override) {
  std::int64_t h0 = oh * p.stride_h - p.pad_h;
  std::int64_t w0 = ow * p.stride_w - p.pad_w;
  std::int64_t h1 = std::min(h0 + p.kernel_h, H + p.pad_h);
  std::int64_t w1 = std::min(w0 + p.kernel_w, W + p.pad_w);
  const std::int64_t pool_size = (h1 - h0) * (w1 - w0);
  h0 = std::max<std::int64_t>(h0, 0);
  w0 = std::max<std::int64_t>(w0, 0);
  h1 = std::min(h1, H);
  w1 = std::min(w1, W);
  std::int64_t divisor;
  if (divisor_override > 0) {
    divisor = divisor_override;
  } else if (count_include_pad) {
    divisor = pool_size;
  } else {
    divisor = (h1 - h0) * (w1 - w0);
  }
  return {h0, h1, w0, w1, divisor};
}

}  // namespace

template <typename T>
void avg_pool2d_forward(const T* x, std::int64_t planes, std::int64_t H, std::int64_t W,
                        const Pool2dParams& p, std::int64_t Ho, std::int64_t Wo,
                        bool count_include_pad, std::int64_t divisor_override, T* y) {
  const std::int64_t work = Ho * Wo * p.kernel_h * p.kernel_w;  // per plane
  parallel_for_each(planes, work, [&](std::int64_t pl) {
    const T* xp = x + pl * H * W;
    T* yp = y + pl * Ho * Wo;
    for (std::int64_t oh = 0; oh < Ho; ++oh) {
      for (std::int64_t ow = 0; ow < Wo; ++ow) {
        const AvgWindow win = avg_window(oh, ow, H, W, p, count_include_pad, divisor_override);
        if (win.h0 >= win.h1 || win.w0 >= win.w1) {
          yp[oh * Wo + ow] = T(0);
          continue;
        }
        T sum = 0;
        for (std::int64_t ih = win.h0; ih < win.h1; ++ih) {
          for (std::int64_t iw = win.w0; iw < win.w1; ++iw) sum += xp[ih * W + iw];
        }
        yp[oh * Wo + ow] = sum / static_cast<T>(win.divisor);
      }
    }
  });
}

template <typename T>
void avg_pool2d_backward(const T* dy, std::int64_t planes, std::int64_t H, std::int64_t W,
                         const Pool2dParams& p, std::int64_t Ho, std::int64_t Wo,
                         bool count_include_pad, std::int64_t divisor_override, T* dx) {
  const std::int64_t work = H * W + Ho * Wo * p.kernel_h * p.kernel_w;  // per plane
  parallel_for_each(planes, work, [&](std::int64_t pl) {
    const T* dyp = dy + pl * Ho * Wo;
    T* dxp = dx + pl * H * W;
    std::memset(dxp, 0, sizeof(T) * H * W);
    for (std::int64_t oh = 0; oh < Ho; ++oh) {
      for (std::int64_t ow = 0; ow < Wo; ++ow) {
        const AvgWindow win = avg_window(oh, ow, H, W, p, count_include_pad, divisor_override);
        if (win.h0 >= win.h1 || win.w0 >= win.w1) continue;
        const T g = dyp[oh * Wo + ow] / static_cast<T>(win.divisor);
        for (std::int64_t ih = win.h0; ih < win.h1; ++ih) {
          for (std::int64_t iw = win.w0; iw < win.w1; ++iw) dxp[ih * W + iw] += g;
        }
      }
    }
  });
}

namespace {

inline std::int64_t adaptive_start(std::int64_t o, std::int64_t in, std::int64_t out) {
  return (o * in) / out;
}
inline std::int64_t adaptive_end(std::int64_t o, std::int64_t in, std::int64_t out) {
  return ((o + 1) * in + out - 1) / out;
}

}  // namespace

template <typename T>
void adaptive_avg_pool2d_forward(const T* x, std::int64_t planes, std::int64_t H, std::int64_t W,
                                 std::int64_t Ho, std::int64_t Wo, T* y) {
  parallel_for_each(planes, H * W, [&](std::int64_t pl) {
    const T* xp = x + pl * H * W;
    T* yp = y + pl * Ho * Wo;
    for (std::int64_t oh = 0; oh < Ho; ++oh) {
      const std::int64_t h0 = adaptive_start(oh, H, Ho), h1 = adaptive_end(oh, H, Ho);
      for (std::int64_t ow = 0; ow < Wo; ++ow) {
        const std::int64_t w0 = adaptive_start(ow, W, Wo), w1 = adaptive_end(ow, W, Wo);
        T sum = 0;
        for (std::int64_t ih = h0; ih < h1; ++ih) {
          for (std::int64_t iw = w0; iw < w1; ++iw) sum += xp[ih * W + iw];
        }
        yp[oh * Wo + ow] = sum / static_cast<T>((h1 - h0) * (w1 - w0));
      }
    }
  });
}

template <typename T>
void adaptive_avg_pool2d_backward(const T* dy, std::int64_t planes, std::int64_t H,
                                  std::int64_t W, std::int64_t Ho, std::int64_t Wo, T* dx) {
  parallel_for_each(planes, H * W, [&](std::int64_t pl) {
    const T* dyp = dy + pl * Ho * Wo;
    T* dxp = dx + pl * H * W;
    std::memset(dxp, 0, sizeof(T) * H * W);
    for (std::int64_t oh = 0; oh < Ho; ++oh) {
      const std::int64_t h0 = adaptive_start(oh, H, Ho), h1 = adaptive_end(oh, H, Ho);
      for (std::int64_t ow = 0; ow < Wo; ++ow) {
        const std::int64_t w0 = adaptive_start(ow, W, Wo), w1 = adaptive_end(ow, W, Wo);
        const T g = dyp[oh * Wo + ow] / static_cast<T>((h1 - h0) * (w1 - w0));
        for (std::int64_t ih = h0; ih < h1; ++ih) {
          for (std::int64_t iw = w0; iw < w1; ++iw) dxp[ih * W + iw] += g;
        }
      }
    }
  });
}

#define KERNN_INSTANTIATE_POOL(T)                                                               \
  template void max_pool2d_forward<T>(const T*, std::int64_t, std::int64_t, std::int64_t,       \
                                      const Pool2dParams&, std::int64_t, std::int64_t, T*,      \
                                      std::int64_t*);                                           \
  template std::int64_t max_pool2d_backward<T>(const T*, const std::int64_t*, std::int64_t,     \
                                               std::int64_t, std::int64_t, std::int64_t,        \
                                               std::int64_t, T*);                               \
  template void avg_pool2d_forward<T>(const T*, std::int64_t, std::int64_t, std::int64_t,       \
                                      const Pool2dParams&, std::int64_t, std::int64_t, bool,    \
                                      std::int64_t, T*);                                        \
  template void avg_pool2d_backward<T>(const T*, std::int64_t, std::int64_t, std::int64_t,      \
                                       const Pool2dParams&, std::int64_t, std::int64_t, bool,   \
                                       std::int64_t, T*);                                       \
  template void adaptive_avg_pool2d_forward<T>(const T*, std::int64_t, std::int64_t,            \
                                               std::int64_t, std::int64_t, std::int64_t, T*);   \
  template void adaptive_avg_pool2d_backward<T>(const T*, std::int64_t, std::int64_t,           \
                                                std::int64_t, std::int64_t, std::int64_t, T*);

KERNN_INSTANTIATE_POOL(float)
KERNN_INSTANTIATE_POOL(double)

}  // namespace kernn
