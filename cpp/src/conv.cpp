// Convolution kernels (see kernn/conv.h for shapes and formulas).
//
// Threads: a batch with at least as many (image, group) items as threads runs them in parallel,
// each thread with its own column buffer and the GEMM serial on that thread (kernn::gemm runs
// on the calling thread inside a parallel region); a smaller batch runs the items in order and
// lets the GEMM parallelise. Either way every output element is one GEMM dot product over the
// same k, so forward and input gradient do not depend on the thread count; the weight gradient
// uses fixed slots (conv2d_backward_weight).
#include "kernn/conv.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernn/gemm.h"
#include "kernn/parallel.h"

namespace kernn {

std::int64_t conv_output_size(std::int64_t in, std::int64_t kernel, std::int64_t stride,
                              std::int64_t pad, std::int64_t dilation) {
  const std::int64_t span = in + 2 * pad - dilation * (kernel - 1) - 1;
  if (span < 0) return 0;
  return span / stride + 1;
}

namespace {

bool is_pointwise(const Conv2dParams& p) {
  return p.kh == 1 && p.kw == 1 && p.sh == 1 && p.sw == 1 && p.ph == 0 && p.pw == 0;
}

// The output columns ow whose tap iw = ow*sw - pw + j*dw lies in [0, W): [lo, hi).
inline void valid_columns(const Conv2dParams& p, std::int64_t j, std::int64_t* lo,
                          std::int64_t* hi) {
  const std::int64_t offset = j * p.dw - p.pw;  // iw = ow*sw + offset
  // lo = ceil(-offset / sw) clamped at 0; hi = floor((W - 1 - offset) / sw) + 1 clamped to Wo.
  std::int64_t l = offset >= 0 ? 0 : (-offset + p.sw - 1) / p.sw;
  std::int64_t h = (p.W - 1 - offset) < 0 ? 0 : (p.W - 1 - offset) / p.sw + 1;
  *lo = std::min(l, p.Wo);
  *hi = std::max(std::min(h, p.Wo), *lo);
}

// Output rows per im2col band so that one band's buffer stays under kColumnBufferBytes.
template <typename T>
std::int64_t band_rows(const Conv2dParams& p, std::int64_t Cg) {
  const std::int64_t row_bytes = Cg * p.kh * p.kw * p.Wo * static_cast<std::int64_t>(sizeof(T));
  return std::max<std::int64_t>(1, std::min(p.Ho, kColumnBufferBytes / std::max<std::int64_t>(row_bytes, 1)));
}

// Runs body(item, buffer) for item in [0, items), in parallel over items when there are at
// least as many items as threads (and we are not already in a parallel region), each thread
// with its own buffer of `buffer_elems`; else in order on this thread.
template <typename T, typename F>
void for_items(std::int64_t items, std::int64_t buffer_elems, std::int64_t work_per_item, F&& body) {
  const int threads = max_threads();
  const bool parallel = threads > 1 && items >= threads && !in_parallel() &&
                        items * work_per_item > kParallelGrain;
  if (!parallel) {
    std::vector<T> buffer(static_cast<std::size_t>(buffer_elems));
    for (std::int64_t it = 0; it < items; ++it) body(it, buffer.data());
    return;
  }
#pragma omp parallel
  {
    std::vector<T> buffer(static_cast<std::size_t>(buffer_elems));
#pragma omp for schedule(static)
    for (std::int64_t it = 0; it < items; ++it) body(it, buffer.data());
  }
}

}  // namespace

template <typename T>
void im2col(const T* x_g, std::int64_t Cg, const Conv2dParams& p, std::int64_t oh0,
            std::int64_t oh1, T* cols) {
  const std::int64_t P = (oh1 - oh0) * p.Wo;
  for (std::int64_t c = 0; c < Cg; ++c) {
    const T* xc = x_g + c * p.H * p.W;
    for (std::int64_t i = 0; i < p.kh; ++i) {
      for (std::int64_t j = 0; j < p.kw; ++j) {
        T* dst = cols + ((c * p.kh + i) * p.kw + j) * P;
        std::int64_t lo, hi;
        valid_columns(p, j, &lo, &hi);
        const std::int64_t col_offset = j * p.dw - p.pw;
        for (std::int64_t oh = oh0; oh < oh1; ++oh, dst += p.Wo) {
          const std::int64_t ih = oh * p.sh - p.ph + i * p.dh;
          if (ih < 0 || ih >= p.H) {
            std::fill(dst, dst + p.Wo, T(0));
            continue;
          }
          const T* row = xc + ih * p.W;  // output column ow reads row[ow*sw + col_offset]
          std::fill(dst, dst + lo, T(0));
          if (p.sw == 1) {
            if (hi > lo) std::memcpy(dst + lo, row + lo + col_offset, sizeof(T) * (hi - lo));
          } else {
            for (std::int64_t ow = lo; ow < hi; ++ow) dst[ow] = row[ow * p.sw + col_offset];
          }
          std::fill(dst + hi, dst + p.Wo, T(0));
        }
      }
    }
  }
}

template <typename T>
void col2im(const T* cols, std::int64_t Cg, const Conv2dParams& p, std::int64_t oh0,
            std::int64_t oh1, T* dx_g) {
  const std::int64_t P = (oh1 - oh0) * p.Wo;
  for (std::int64_t c = 0; c < Cg; ++c) {
    T* dxc = dx_g + c * p.H * p.W;
    for (std::int64_t i = 0; i < p.kh; ++i) {
      for (std::int64_t j = 0; j < p.kw; ++j) {
        const T* src = cols + ((c * p.kh + i) * p.kw + j) * P;
        std::int64_t lo, hi;
        valid_columns(p, j, &lo, &hi);
        const std::int64_t col_offset = j * p.dw - p.pw;
        for (std::int64_t oh = oh0; oh < oh1; ++oh, src += p.Wo) {
          const std::int64_t ih = oh * p.sh - p.ph + i * p.dh;
          if (ih < 0 || ih >= p.H) continue;
          T* row = dxc + ih * p.W;
          for (std::int64_t ow = lo; ow < hi; ++ow) row[ow * p.sw + col_offset] += src[ow];
        }
      }
    }
  }
}

template <typename T>
void conv2d_forward(const T* x, const T* weight, const T* bias, const Conv2dParams& p, T* y) {
  const std::int64_t Cg = p.C / p.groups, Kg = p.K / p.groups;
  const std::int64_t CKK = Cg * p.kh * p.kw;
  const std::int64_t P = p.Ho * p.Wo;
  const bool pointwise = is_pointwise(p);
  const std::int64_t rows = band_rows<T>(p, Cg);
  const std::int64_t buffer = pointwise ? 0 : CKK * rows * p.Wo;
  for_items<T>(p.N * p.groups, buffer, Kg * CKK * P, [&](std::int64_t item, T* cols) {
    const std::int64_t n = item / p.groups, g = item % p.groups;
    const T* x_g = x + (n * p.C + g * Cg) * p.H * p.W;
    const T* w_g = weight + g * Kg * CKK;
    T* y_g = y + (n * p.K + g * Kg) * P;
    GemmEpilogue<T> epilogue;
    epilogue.row_bias = bias ? bias + g * Kg : nullptr;
    if (pointwise) {
      gemm<T>(false, false, Kg, P, CKK, T(1), w_g, CKK, x_g, P, T(0), y_g, P, epilogue);
      return;
    }
    for (std::int64_t oh0 = 0; oh0 < p.Ho; oh0 += rows) {
      const std::int64_t oh1 = std::min(p.Ho, oh0 + rows);
      const std::int64_t band = (oh1 - oh0) * p.Wo;
      im2col(x_g, Cg, p, oh0, oh1, cols);
      gemm<T>(false, false, Kg, band, CKK, T(1), w_g, CKK, cols, band, T(0), y_g + oh0 * p.Wo, P,
              epilogue);
    }
  });
}

template <typename T>
void conv2d_forward_reference(const T* x, const T* weight, const T* bias, const Conv2dParams& p,
                              T* y) {
  const std::int64_t Cg = p.C / p.groups, Kg = p.K / p.groups;
  for (std::int64_t n = 0; n < p.N; ++n) {
    for (std::int64_t k = 0; k < p.K; ++k) {
      const std::int64_t c0 = (k / Kg) * Cg;
      for (std::int64_t oh = 0; oh < p.Ho; ++oh) {
        for (std::int64_t ow = 0; ow < p.Wo; ++ow) {
          T acc = bias ? bias[k] : T(0);
          for (std::int64_t c = 0; c < Cg; ++c) {
            for (std::int64_t i = 0; i < p.kh; ++i) {
              const std::int64_t ih = oh * p.sh - p.ph + i * p.dh;
              if (ih < 0 || ih >= p.H) continue;
              for (std::int64_t j = 0; j < p.kw; ++j) {
                const std::int64_t iw = ow * p.sw - p.pw + j * p.dw;
                if (iw < 0 || iw >= p.W) continue;
                acc += weight[((k * Cg + c) * p.kh + i) * p.kw + j] *
                       x[((n * p.C + c0 + c) * p.H + ih) * p.W + iw];
              }
            }
          }
          y[((n * p.K + k) * p.Ho + oh) * p.Wo + ow] = acc;
        }
      }
    }
  }
}

template <typename T>
void conv2d_backward_input(const T* dy, const T* weight, const Conv2dParams& p, T* dx) {
  const std::int64_t Cg = p.C / p.groups, Kg = p.K / p.groups;
  const std::int64_t CKK = Cg * p.kh * p.kw;
  const std::int64_t P = p.Ho * p.Wo;
  const bool pointwise = is_pointwise(p);
  const std::int64_t rows = band_rows<T>(p, Cg);
  const std::int64_t buffer = pointwise ? 0 : CKK * rows * p.Wo;
  for_items<T>(p.N * p.groups, buffer, Kg * CKK * P, [&](std::int64_t item, T* dcols) {
    const std::int64_t n = item / p.groups, g = item % p.groups;
    T* dx_g = dx + (n * p.C + g * Cg) * p.H * p.W;
    const T* w_g = weight + g * Kg * CKK;
    const T* dy_g = dy + (n * p.K + g * Kg) * P;
    if (pointwise) {  // dx_g (Cg, P) = w_g^T (Cg, Kg) @ dy_g (Kg, P)
      gemm<T>(true, false, Cg, P, Kg, T(1), w_g, CKK, dy_g, P, T(0), dx_g, P);
      return;
    }
    std::fill(dx_g, dx_g + Cg * p.H * p.W, T(0));
    for (std::int64_t oh0 = 0; oh0 < p.Ho; oh0 += rows) {
      const std::int64_t oh1 = std::min(p.Ho, oh0 + rows);
      const std::int64_t band = (oh1 - oh0) * p.Wo;
      gemm<T>(true, false, CKK, band, Kg, T(1), w_g, CKK, dy_g + oh0 * p.Wo, P, T(0), dcols, band);
      col2im(dcols, Cg, p, oh0, oh1, dx_g);
    }
  });
}

template <typename T>
void conv2d_backward_weight(const T* x, const T* dy, const Conv2dParams& p, T* dweight) {
  const std::int64_t Cg = p.C / p.groups, Kg = p.K / p.groups;
  const std::int64_t CKK = Cg * p.kh * p.kw;
  const std::int64_t P = p.Ho * p.Wo;
  const std::int64_t weight_elems = p.K * CKK;
  const bool pointwise = is_pointwise(p);
  const std::int64_t rows = band_rows<T>(p, Cg);
  const std::int64_t buffer = pointwise ? 0 : CKK * rows * p.Wo;
  if (p.N == 0) {
    std::fill(dweight, dweight + weight_elems, T(0));
    return;
  }
  // Slots: at most 8, fewer when the partials would pass 64 MB; a function of shapes only.
  const std::int64_t partial_cap =
      std::max<std::int64_t>(1, (std::int64_t(64) << 20) / (weight_elems * std::int64_t(sizeof(T))));
  const std::int64_t slots = std::max<std::int64_t>(1, std::min({p.N, std::int64_t(8), partial_cap}));
  std::vector<T> partials(static_cast<std::size_t>((slots - 1) * weight_elems));
  for_items<T>(slots, buffer, (p.N / slots) * p.K * CKK * P, [&](std::int64_t slot, T* cols) {
    T* acc = slot == 0 ? dweight : partials.data() + (slot - 1) * weight_elems;
    std::fill(acc, acc + weight_elems, T(0));
    const std::int64_t n0 = slot * p.N / slots, n1 = (slot + 1) * p.N / slots;
    for (std::int64_t n = n0; n < n1; ++n) {
      for (std::int64_t g = 0; g < p.groups; ++g) {
        const T* x_g = x + (n * p.C + g * Cg) * p.H * p.W;
        const T* dy_g = dy + (n * p.K + g * Kg) * P;
        T* dw_g = acc + g * Kg * CKK;
        if (pointwise) {  // dw_g (Kg, Cg) += dy_g (Kg, P) @ x_g^T (P, Cg)
          gemm<T>(false, true, Kg, CKK, P, T(1), dy_g, P, x_g, P, T(1), dw_g, CKK);
          continue;
        }
        for (std::int64_t oh0 = 0; oh0 < p.Ho; oh0 += rows) {
          const std::int64_t oh1 = std::min(p.Ho, oh0 + rows);
          const std::int64_t band = (oh1 - oh0) * p.Wo;
          im2col(x_g, Cg, p, oh0, oh1, cols);
          gemm<T>(false, true, Kg, CKK, band, T(1), dy_g + oh0 * p.Wo, P, cols, band, T(1), dw_g,
                  CKK);
        }
      }
    }
  });
  if (slots > 1) {
#pragma omp parallel for schedule(static) if (weight_elems * slots > kParallelGrain && !in_parallel())
    for (std::int64_t e = 0; e < weight_elems; ++e) {
      T sum = dweight[e];
      for (std::int64_t s = 1; s < slots; ++s) sum += partials[(s - 1) * weight_elems + e];
      dweight[e] = sum;
    }
  }
}

template <typename T>
void conv2d_backward_bias(const T* dy, const Conv2dParams& p, T* dbias) {
  const std::int64_t P = p.Ho * p.Wo;
#pragma omp parallel for schedule(static) if (p.N * p.K * P > kParallelGrain && !in_parallel())
  for (std::int64_t k = 0; k < p.K; ++k) {
    double sum = 0;
    for (std::int64_t n = 0; n < p.N; ++n) {
      const T* row = dy + (n * p.K + k) * P;
      for (std::int64_t i = 0; i < P; ++i) sum += row[i];
    }
    dbias[k] = static_cast<T>(sum);
  }
}

#define KERNN_INSTANTIATE_CONV(T)                                                               \
  template void im2col<T>(const T*, std::int64_t, const Conv2dParams&, std::int64_t,            \
                          std::int64_t, T*);                                                    \
  template void col2im<T>(const T*, std::int64_t, const Conv2dParams&, std::int64_t,            \
                          std::int64_t, T*);                                                    \
  template void conv2d_forward<T>(const T*, const T*, const T*, const Conv2dParams&, T*);       \
  template void conv2d_forward_reference<T>(const T*, const T*, const T*, const Conv2dParams&,  \
                                            T*);                                                \
  template void conv2d_backward_input<T>(const T*, const T*, const Conv2dParams&, T*);          \
  template void conv2d_backward_weight<T>(const T*, const T*, const Conv2dParams&, T*);         \
  template void conv2d_backward_bias<T>(const T*, const Conv2dParams&, T*);

KERNN_INSTANTIATE_CONV(float)
KERNN_INSTANTIATE_CONV(double)

}  // namespace kernn
