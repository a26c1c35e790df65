// Direct (im2col-free) stride-1-along-width convolution tiles, the inner loop of conv.cpp's
// direct path (see kernn/conv.h). Implemented per ISA (conv_direct_avx512.cpp); conv.cpp calls
// them only when CPUID reports the ISA.
//
// One job is one image and group, already zero-padded by the caller into `xp` (channels of
// Hp x Wp, plus at least one vector of slack at the end, so no tap read leaves the buffer):
//   y[k, oh, ow] = bias[k] + sum_{t < taps} w[k, t] * xp[oh * row_step + ow + tap_offset[t]]
// for k < outputs, oh < rows, ow < cols, where tap t = (c, i, j) has tap_offset[t] =
// c*Hp*Wp + i*dh*Wp + j*dw and row_step = sh*Wp. The sum runs over t in order and the bias is
// added last, so each output's arithmetic is fixed by the shapes alone (not by threads).
//
// The output grid is cut into "slots", one SIMD vector of up to L consecutive ow of one row
// (slot s: row s / chunks, columns (s % chunks) * L ...; chunks = ceil(cols / L)). A tile is
// MR output channels x NV slots held in registers; weights arrive packed as
// packed_w[(kb * taps + t) * MR + r] = w[kb*MR + r, t] (zero for channels >= outputs).
#pragma once

#include <cstdint>

namespace kernn::conv_direct {

// One direct convolution of one image and group (the formula above).
template <typename T>
struct DirectConvJob {
  const T* xp;
  const std::int64_t* tap_offset;
  std::int64_t taps;
  const T* packed_w;  // packed for the tile's MR
  const T* bias;      // (outputs,) or nullptr
  std::int64_t outputs;
  std::int64_t rows, cols, row_step;
  T* y;  // (outputs, rows * cols)
};

// Weight gradient, vectorised over output channels. One job is one chunk of images of one
// group: xp holds each image zero-padded as above (image stride xp_image), dyt the output
// gradient transposed, position-major: dyt[(n * positions + oh * cols + ow) * kpad + k]
// (kpad = channels rounded up to whole vectors, zero beyond). For taps [tap_begin, tap_end)
// and channel vectors [vec_begin, vec_end):
//   dwt[t * kpad + k] (+)= sum_{n, oh, ow in order} dyt[n, oh, ow, k]
//                                                 * xp[n][oh * row_step + ow * col_step + tap_offset[t]]
// stored when `accumulate` is false, added to dwt when true.
template <typename T>
struct WeightGradJob {
  const T* xp;
  std::int64_t xp_image;
  const T* dyt;
  std::int64_t images, rows, cols, row_step, col_step, kpad;
  const std::int64_t* tap_offset;
  T* dwt;
  bool accumulate;
};

// One register tile of the direct convolution: MR output channels x NV slots, and its loop,
// which computes slots [slot_begin, slot_end) (slot_begin a multiple of nv) for all outputs
// (weights packed for this mr).
template <typename T>
struct ConvTile {
  int mr, nv;
  void (*conv_slots)(const DirectConvJob<T>& job, std::int64_t slot_begin, std::int64_t slot_end);
};

// What one ISA implements, the single list conv.cpp chooses from.
template <typename T>
struct DirectKernels {
  int lanes;  // elements of T per vector
  const ConvTile<T>* tiles;
  int tile_count;
  // dst[q * kpad + k] = src[k * positions + q] for k < channels, 0 for channels <= k < kpad
  // (kpad a multiple of lanes): the output gradient in WeightGradJob's layout.
  void (*transpose_to_positions)(const T* src, std::int64_t channels, std::int64_t positions,
                                 std::int64_t kpad, T* dst);
  // WeightGradJob's sums for taps [tap_begin, tap_end) and channel vectors [vec_begin,
  // vec_end). Each dwt element is one sum over the positions in order, however the caller
  // splits the tap and vector ranges (between threads, say).
  void (*weight_grad)(const WeightGradJob<T>& job, std::int64_t tap_begin, std::int64_t tap_end,
                      std::int64_t vec_begin, std::int64_t vec_end);
};

// The AVX-512 kernels (16 floats, 8 doubles per vector); call only when CPUID reports
// AVX-512.
template <typename T>
const DirectKernels<T>& direct_kernels_avx512();

}  // namespace kernn::conv_direct
