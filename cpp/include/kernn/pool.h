// Pooling over NCHW planes: max, average and adaptive average, forward and backward.
//
// Every kernel sees the input as `planes` = N*C independent (H, W) planes and the output as
// `planes` (Ho, Wo) planes. Output sizes are computed by the caller with pool_output_size
// (torch's formula), so kernel and binding agree on one definition.
#pragma once

#include <cstdint>

namespace kernn {

// Window geometry of one pooling call (height and width).
struct Pool2dParams {
  std::int64_t kernel_h = 1, kernel_w = 1;
  std::int64_t stride_h = 1, stride_w = 1;
  std::int64_t pad_h = 0, pad_w = 0;
  std::int64_t dilation_h = 1, dilation_w = 1;
};

// torch's pooling output size:
//   out = floor_or_ceil((in + 2*pad - dilation*(kernel-1) - 1) / stride) + 1
// and, with ceil_mode, out -= 1 when the last window would start at or past in + pad (the last
// window must start inside the input or the left padding). May return <= 0: the caller reports.
std::int64_t pool_output_size(std::int64_t in, std::int64_t kernel, std::int64_t stride,
                              std::int64_t pad, std::int64_t dilation, bool ceil_mode);

// Max pooling.
//   x (planes, H, W) -> y (planes, Ho, Wo), indices (planes, Ho, Wo) int64
//   y[p, oh, ow] = max over ih = oh*sh - ph + i*dh, iw = ow*sw - pw + j*dw inside the input;
//   indices hold ih*W + iw of that maximum within its plane (torch's convention). Ties keep
//   the first maximum in scan order; a NaN wins (and the last NaN is kept), as torch.
//   A dilated window whose taps all fall in the padding gives -inf and index -1.
template <typename T>
void max_pool2d_forward(const T* x, std::int64_t planes, std::int64_t H, std::int64_t W,
                        const Pool2dParams& p, std::int64_t Ho, std::int64_t Wo, T* y,
                        std::int64_t* indices);

// dx (planes, H, W) = 0, then dx[p, indices[p, o]] += dy[p, o].
// Index -1 (a window that covered no input) contributes nothing. Any other index outside
// [0, H*W) is skipped too; the return value is the number of such indices
// (the binding turns a non-zero count into an IndexError), so no input writes out of bounds.
template <typename T>
std::int64_t max_pool2d_backward(const T* dy, const std::int64_t* indices, std::int64_t planes,
                                 std::int64_t H, std::int64_t W, std::int64_t Ho, std::int64_t Wo,
                                 T* dx);

// Average pooling (no dilation), torch's divisor rule:
//   window [oh*sh - ph, oh*sh - ph + kh) clipped to [-ph, H + ph) gives pool_size, clipped to
//   [0, H) gives the summed cells; divisor = divisor_override if > 0, else pool_size when
//   count_include_pad, else the number of summed cells. An empty window gives 0.
template <typename T>
void avg_pool2d_forward(const T* x, std::int64_t planes, std::int64_t H, std::int64_t W,
                        const Pool2dParams& p, std::int64_t Ho, std::int64_t Wo,
                        bool count_include_pad, std::int64_t divisor_override, T* y);

// dx[p, ih, iw] = sum over windows containing (ih, iw) of dy[p, oh, ow] / divisor(oh, ow).
template <typename T>
void avg_pool2d_backward(const T* dy, std::int64_t planes, std::int64_t H, std::int64_t W,
                         const Pool2dParams& p, std::int64_t Ho, std::int64_t Wo,
                         bool count_include_pad, std::int64_t divisor_override, T* dx);

// Adaptive average pooling: output cell o of an axis of length `in` averages
//   [floor(o*in/out), ceil((o+1)*in/out)).
template <typename T>
void adaptive_avg_pool2d_forward(const T* x, std::int64_t planes, std::int64_t H, std::int64_t W,
                                 std::int64_t Ho, std::int64_t Wo, T* y);

template <typename T>
void adaptive_avg_pool2d_backward(const T* dy, std::int64_t planes, std::int64_t H,
                                  std::int64_t W, std::int64_t Ho, std::int64_t Wo, T* dx);

}  // namespace kernn
