// 2-D convolution (cross-correlation, as torch) over NCHW by im2col + GEMM, forward and
// backward, float and double.
//
// Shapes: x (N, C, H, W), weight (K, C/groups, kh, kw), bias (K,), y (N, K, Ho, Wo) with
//   Ho = floor((H + 2*ph - dh*(kh-1) - 1) / sh) + 1   (Wo alike)
//   y[n, k, oh, ow] = bias[k] + sum_{c in group(k), i, j}
//                     weight[k, c - c0(k), i, j] * x[n, c, oh*sh - ph + i*dh, ow*sw - pw + j*dw]
// (taps outside the input read 0). With Cg = C/groups, Kg = K/groups and P = Ho*Wo, one image
// and group is the GEMM  y_g (Kg, P) = weight_g (Kg, Cg*kh*kw) @ cols (Cg*kh*kw, P) + bias_g,
// where cols = im2col(x_g). A 1x1, stride-1, unpadded convolution uses x_g itself as cols.
//
// Work units: small images are batched, B images side by side in one column matrix
// (Cg*kh*kw, B*P), so each GEMM is wide enough to run near peak (B*P >= kTargetColumns where the
// buffer cap allows); large images are cut into bands of output rows so that the column buffer
// stays under kColumnBufferBytes per thread whatever the image size (one output row at least).
// The units depend on the shapes only, never on the thread count.
#pragma once

#include <cstdint>

namespace kernn {

struct Conv2dParams {
  std::int64_t N = 0, C = 0, H = 0, W = 0;  // input
  std::int64_t K = 0, kh = 1, kw = 1;       // output channels, kernel
  std::int64_t sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
  std::int64_t groups = 1;
  std::int64_t Ho = 0, Wo = 0;  // output, from conv_output_size
};

// Per-thread cap on the im2col buffer.
constexpr std::int64_t kColumnBufferBytes = 8 << 20;
// GEMM width (output positions) worth batching images up to.
constexpr std::int64_t kTargetColumns = 1024;

// floor((in + 2*pad - dilation*(kernel-1) - 1) / stride) + 1; <= 0 when the dilated kernel is
// larger than the padded input (the caller reports it).
std::int64_t conv_output_size(std::int64_t in, std::int64_t kernel, std::int64_t stride,
                              std::int64_t pad, std::int64_t dilation);

// cols (Cg*kh*kw rows, `ld` apart; (oh1-oh0)*Wo columns) = the patches of x_g (Cg, H, W) for
// output rows [oh0, oh1):
//   cols[(c*kh + i)*kw + j, (oh-oh0)*Wo + ow] = x_g[c, oh*sh - ph + i*dh, ow*sw - pw + j*dw] or 0
// ld > (oh1-oh0)*Wo lets several images share one column matrix side by side.
template <typename T>
void im2col(const T* x_g, std::int64_t Cg, const Conv2dParams& p, std::int64_t oh0,
            std::int64_t oh1, T* cols, std::int64_t ld);

// The adjoint of im2col: dx_g (Cg, H, W) += the scatter of cols back to its taps.
template <typename T>
void col2im(const T* cols, std::int64_t ld, std::int64_t Cg, const Conv2dParams& p,
            std::int64_t oh0, std::int64_t oh1, T* dx_g);

// Direct path (CPUs with AVX-512): a convolution with unit width stride, other than 1x1, whose
// output rows fill at least 5/8 of their SIMD vectors (Wo = 10..16 floats or 5..8 doubles for
// one vector; 20..32 floats for two, ...) runs without im2col: the input image is zero-padded
// once and each register tile of output channels x output-row vectors accumulates tap after
// tap straight from the shifted padded rows (kernel: cpp/src/isa/conv_direct_avx512.cpp). The
// input gradient of a stride-1 convolution whose input rows fill their vectors as well is the
// same kernel on the padded output gradient with the kernel flipped. Every output is one sum
// over the taps in (c, i, j) order plus the bias, whatever the thread count. The weight
// gradient (any stride, output rows of at least 10, at least 3/8 of a vector of output channels
// per group in use) is vectorised over output channels instead: the output gradient is
// transposed to position-major and each tile of taps x channel vectors sums over the positions
// in order, in batch slots fixed by the shapes (as conv2d_backward_weight below).
struct ConvAlgorithms {
  const char* forward;          // "direct", "im2col" or "pointwise" (1x1: the GEMM alone)
  const char* backward_input;
  const char* backward_weight;
};
template <typename T>
ConvAlgorithms conv_algorithms(const Conv2dParams& p);

// Testing hook: false sends every convolution through im2col + GEMM (process-wide; change it
// only while no convolution runs). Returns the previous setting.
bool set_conv_direct_enabled(bool enabled);

// y = conv(x, weight) + bias (bias may be nullptr).
template <typename T>
void conv2d_forward(const T* x, const T* weight, const T* bias, const Conv2dParams& p, T* y);

// The direct seven-loop definition above, the reference the fast path is tested against.
template <typename T>
void conv2d_forward_reference(const T* x, const T* weight, const T* bias, const Conv2dParams& p,
                              T* y);

// dx (N, C, H, W) = col2im(weight_g^T @ dy_g) per image and group.
template <typename T>
void conv2d_backward_input(const T* dy, const T* weight, const Conv2dParams& p, T* dx);

// dweight_g (Kg, Cg*kh*kw) = sum_n dy_g[n] (Kg, P) @ im2col(x_g[n])^T.
// The batch is split into a number of slots that depends on the shapes only; each slot sums
// its images in order into its own partial, and the partials are added in slot order, so the
// result does not depend on the thread count.
template <typename T>
void conv2d_backward_weight(const T* x, const T* dy, const Conv2dParams& p, T* dweight);

// dbias[k] = sum over n, oh, ow of dy[n, k, oh, ow] (accumulated in double, fixed order).
template <typename T>
void conv2d_backward_bias(const T* dy, const Conv2dParams& p, T* dbias);

}  // namespace kernn
