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
#include <atomic>
#include <cstring>
#include <memory>
#include <vector>

#include "isa/conv_direct.h"
#include "kernn/cpu_features.h"
#include "kernn/gemm.h"
#include "kernn/parallel.h"
#include "lane_sum.h"

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

// One work unit: images [n0, n1) side by side (whole images), or one image's output rows
// [oh0, oh1) (a band of a large image).
struct Unit {
  std::int64_t n0, n1, oh0, oh1;
  std::int64_t width(const Conv2dParams& p) const { return (n1 - n0) * (oh1 - oh0) * p.Wo; }
};

// How a convolution is cut into units: `images` per unit (>= 1), or bands of `rows` output
// rows when a single image's column matrix would pass kColumnBufferBytes.
struct ConvPlan {
  std::int64_t CKK, P;
  bool pointwise;
  std::int64_t images, rows;  // images per unit; output rows per band (Ho unless banded)
  std::int64_t bands;         // bands per image
  std::int64_t units;
  std::int64_t max_width;     // widest unit's column count
  std::int64_t buffer;        // column-matrix elements per thread

  Unit unit(std::int64_t u, const Conv2dParams& p) const {
    if (images > 1 || bands == 1) {
      const std::int64_t n0 = u * images;
      return {n0, std::min(p.N, n0 + images), 0, p.Ho};
    }
    const std::int64_t n = u / bands, oh0 = (u % bands) * rows;
    return {n, n + 1, oh0, std::min(p.Ho, oh0 + rows)};
  }
};

template <typename T>
ConvPlan conv_plan(const Conv2dParams& p) {
  ConvPlan plan;
  plan.CKK = (p.C / p.groups) * p.kh * p.kw;
  plan.P = p.Ho * p.Wo;
  plan.pointwise = is_pointwise(p);
  const std::int64_t image_bytes = std::max<std::int64_t>(1, plan.CKK * plan.P * std::int64_t(sizeof(T)));
  plan.images = 1;
  plan.rows = p.Ho;
  plan.bands = 1;
  if (!plan.pointwise) {
    if (image_bytes > kColumnBufferBytes) {
      const std::int64_t row_bytes = std::max<std::int64_t>(1, plan.CKK * p.Wo * std::int64_t(sizeof(T)));
      plan.rows = std::max<std::int64_t>(1, std::min(p.Ho, kColumnBufferBytes / row_bytes));
      plan.bands = (p.Ho + plan.rows - 1) / plan.rows;
    } else if (plan.P < kTargetColumns) {
      const std::int64_t want = (kTargetColumns + plan.P - 1) / plan.P;
      plan.images = std::max<std::int64_t>(
          1, std::min({want, std::max<std::int64_t>(p.N, 1), kColumnBufferBytes / image_bytes}));
    }
  }
  plan.units = plan.images > 1 ? (p.N + plan.images - 1) / plan.images : p.N * plan.bands;
  plan.max_width = plan.images * plan.rows * p.Wo;
  plan.buffer = plan.pointwise ? 0 : plan.CKK * plan.max_width;
  return plan;
}

// Runs body(item, buffer) for item in [0, items), in parallel over items when there are at
// least as many items as threads (and we are not already in a parallel region), each thread
// with its own buffer of `buffer_elems`; else in order on this thread. The buffers are
// allocated before the region (a std::bad_alloc must not leave an OpenMP region) and
// uninitialised (new T[], not std::vector): the callers write every element before reading it.
template <typename T, typename F>
void for_items(std::int64_t items, std::int64_t buffer_elems, std::int64_t work_per_item, F&& body) {
  const int threads = max_threads();
  if (threads > 1 && items >= threads && worth_parallel(items * work_per_item)) {
    std::unique_ptr<T[]> buffers(new T[static_cast<std::size_t>(threads * buffer_elems)]);
    run_threads(threads, [&](std::int64_t t) {
      T* buffer = buffers.get() + t * buffer_elems;
      for (std::int64_t it = items * t / threads; it < items * (t + 1) / threads; ++it) {
        body(it, buffer);
      }
    });
    return;
  }
  std::unique_ptr<T[]> buffer(new T[static_cast<std::size_t>(buffer_elems)]);
  for (std::int64_t it = 0; it < items; ++it) body(it, buffer.get());
}

}  // namespace

// ---- direct convolution (AVX-512) -----------------------------------------------------------

namespace {

std::atomic<bool>& direct_enabled() {
  static std::atomic<bool> enabled{true};
  return enabled;
}

// One direct convolution over a batch: for every image n and group g,
//   dst[n, g*outputs + k, oh, ow] = bias[g*outputs + k]
//       + sum_{c < channels, i < kh, j < kw} weight_at(g, k, (c*kh + i)*kw + j)
//             * src[n, g*channels + c, oh*sh + i*dh - top, ow + j*dw - left]   (0 outside)
// for oh < rows, ow < cols. The forward is this with src = x; the input gradient of a
// stride-1 convolution is this with src = dy and the flipped, transposed weight.
template <typename T>
struct DirectConv {
  std::int64_t N, groups, channels, src_h, src_w, top, left;
  std::int64_t outputs, rows, cols, sh, kh, kw, dh, dw;
  const T* src;
  T* dst;
  const T* bias;
};

// Slots of a weight gradient (both paths): the units (images, or bands) are cut into at most
// 8 consecutive runs, each summing into its own partial of `partial_elems`, fewer when the
// partials would pass 64 MB. A function of the shapes only, so the sums and their order do not
// depend on the thread count.
template <typename T>
std::int64_t weight_grad_slots(std::int64_t units, std::int64_t partial_elems) {
  constexpr std::int64_t kPartialBytes = std::int64_t(64) << 20;
  const std::int64_t cap =
      std::max<std::int64_t>(1, kPartialBytes / (partial_elems * std::int64_t(sizeof(T))));
  return std::max<std::int64_t>(1, std::min({units, std::int64_t(8), cap}));
}

// This CPU's direct kernels, or nullptr when it has none.
template <typename T>
const conv_direct::DirectKernels<T>* direct_kernels() {
#if defined(KERNN_X86)
  if (cpu_features().avx512) return &conv_direct::direct_kernels_avx512<T>();
#endif
  return nullptr;
}

// Lanes of the direct kernel's vectors for T, or 0 when this CPU has no direct kernel.
template <typename T>
int direct_lanes() {
  const conv_direct::DirectKernels<T>* kernels = direct_kernels<T>();
  return kernels ? kernels->lanes : 0;
}

// value rounded up to a multiple of `multiple` (channels padded to whole vectors).
std::int64_t round_up(std::int64_t value, std::int64_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

// The offset of tap t = (c*kh + i)*kw + j in a padded image of channels x Hp x Wp:
// c*Hp*Wp + i*dh*Wp + j*dw (conv_direct.h's tap_offset).
std::vector<std::int64_t> tap_offsets(std::int64_t channels, std::int64_t kh, std::int64_t kw,
                                      std::int64_t dh, std::int64_t dw, std::int64_t Hp,
                                      std::int64_t Wp) {
  std::vector<std::int64_t> offset(static_cast<std::size_t>(channels * kh * kw));
  std::size_t t = 0;
  for (std::int64_t c = 0; c < channels; ++c) {
    for (std::int64_t i = 0; i < kh; ++i) {
      for (std::int64_t j = 0; j < kw; ++j) offset[t++] = c * Hp * Wp + i * dh * Wp + j * dw;
    }
  }
  return offset;
}

// The direct kernel's lanes when it may run a kh x kw convolution (this CPU has it, it is
// enabled, and the kernel is not a 1x1, which is a plain GEMM), else 0.
template <typename T>
std::int64_t direct_lanes_for(std::int64_t kh, std::int64_t kw) {
  if (kh * kw == 1 || !direct_enabled().load(std::memory_order_relaxed)) return 0;
  return direct_lanes<T>();
}

// Whether the direct kernel suits an output grid `cols` wide (unit width stride): at least 5/8
// of each vector's lanes used (at 8 of 16 floats, 64x256x8x8 -> 256 channels, im2col + GEMM
// measured 40 ms to the direct kernel's 57; at 10 of 16, 64x64x10x10 -> 64, the direct kernel
// 6.7 ms to 8.9).
template <typename T>
bool direct_suits(std::int64_t cols, std::int64_t kh, std::int64_t kw) {
  const std::int64_t lanes = direct_lanes_for<T>(kh, kw);
  return lanes > 0 && 8 * cols >= 5 * round_up(cols, lanes);
}

template <typename T>
bool direct_forward_suits(const Conv2dParams& p) {
  return p.sw == 1 && direct_suits<T>(p.Wo, p.kh, p.kw);
}

template <typename T>
bool direct_backward_input_suits(const Conv2dParams& p) {
  return p.sh == 1 && p.sw == 1 && direct_suits<T>(p.W, p.kh, p.kw);
}

// dst (channels, Hp, Wp) = src (channels, src_h, src_w) shifted by (top, left), zero
// elsewhere (negative top/left crop).
template <typename T>
void pad_planes(const T* src, std::int64_t channels, std::int64_t src_h, std::int64_t src_w,
                std::int64_t top, std::int64_t left, std::int64_t Hp, std::int64_t Wp, T* dst) {
  const std::int64_t s_lo = std::max<std::int64_t>(0, left);
  const std::int64_t s_hi = std::max(s_lo, std::min(Wp, src_w + left));
  for (std::int64_t c = 0; c < channels; ++c) {
    for (std::int64_t r = 0; r < Hp; ++r) {
      T* d = dst + (c * Hp + r) * Wp;
      const std::int64_t sr = r - top;
      if (sr < 0 || sr >= src_h || s_hi == s_lo) {
        std::fill(d, d + Wp, T(0));
        continue;
      }
      std::fill(d, d + s_lo, T(0));
      std::memcpy(d + s_lo, src + (c * src_h + sr) * src_w + (s_lo - left),
                  sizeof(T) * static_cast<std::size_t>(s_hi - s_lo));
      std::fill(d + s_hi, d + Wp, T(0));
    }
  }
}

// The direct kernel over a whole batch. weight_at(g, k, t) gives the weight of output k and
// tap t of group g. Threads take whole (image, group) items when there are enough of them,
// else split each item's slots; either way each output's sum is the same.
template <typename T, typename WeightAt>
void direct_conv(const DirectConv<T>& d, WeightAt&& weight_at) {
  const conv_direct::DirectKernels<T>& kernels = *direct_kernels<T>();
  const int lanes = kernels.lanes;
  const std::int64_t chunks = (d.cols + lanes - 1) / lanes;
  const std::int64_t slots = d.rows * chunks;
  // The tile that wastes the fewest lanes on padding channels and spare slots (the first of
  // equals).
  const conv_direct::ConvTile<T>* tile = &kernels.tiles[0];
  std::int64_t best = -1;
  for (int i = 0; i < kernels.tile_count; ++i) {
    const conv_direct::ConvTile<T>& candidate = kernels.tiles[i];
    const std::int64_t cost =
        round_up(d.outputs, candidate.mr) * round_up(slots, candidate.nv);
    if (best < 0 || cost < best) {
      best = cost;
      tile = &candidate;
    }
  }
  const int mr = tile->mr, nv = tile->nv;
  const std::int64_t taps = d.channels * d.kh * d.kw;
  const std::int64_t Hp = (d.rows - 1) * d.sh + (d.kh - 1) * d.dh + 1;
  const std::int64_t Wp = d.cols + (d.kw - 1) * d.dw;
  const std::int64_t padded = d.channels * Hp * Wp + lanes;  // + slack for the last vector
  const std::vector<std::int64_t> tap_offset =
      tap_offsets(d.channels, d.kh, d.kw, d.dh, d.dw, Hp, Wp);
  const std::int64_t kblocks = (d.outputs + mr - 1) / mr;
  const std::int64_t group_weights = kblocks * taps * mr;
  std::vector<T> packed(static_cast<std::size_t>(d.groups * group_weights), T(0));
  for (std::int64_t g = 0; g < d.groups; ++g) {
    for (std::int64_t k = 0; k < d.outputs; ++k) {
      T* dst = packed.data() + g * group_weights + (k / mr) * taps * mr + k % mr;
      for (std::int64_t t = 0; t < taps; ++t) dst[t * mr] = weight_at(g, k, t);
    }
  }
  const std::int64_t src_image = d.groups * d.channels * d.src_h * d.src_w;
  const std::int64_t dst_image = d.groups * d.outputs * d.rows * d.cols;
  const auto job_for = [&](std::int64_t item, const T* xp) {
    const std::int64_t n = item / d.groups, g = item % d.groups;
    conv_direct::DirectConvJob<T> job;
    job.xp = xp;
    job.tap_offset = tap_offset.data();
    job.taps = taps;
    job.packed_w = packed.data() + g * group_weights;
    job.bias = d.bias ? d.bias + g * d.outputs : nullptr;
    job.outputs = d.outputs;
    job.rows = d.rows;
    job.cols = d.cols;
    job.row_step = d.sh * Wp;
    job.y = d.dst + n * dst_image + g * d.outputs * d.rows * d.cols;
    return job;
  };
  const auto pad_item = [&](std::int64_t item, T* xp) {
    const std::int64_t n = item / d.groups, g = item % d.groups;
    pad_planes(d.src + n * src_image + g * d.channels * d.src_h * d.src_w, d.channels, d.src_h,
               d.src_w, d.top, d.left, Hp, Wp, xp);
    std::fill(xp + padded - lanes, xp + padded, T(0));
  };
  const std::int64_t items = d.N * d.groups;
  const std::int64_t tiles = (slots + nv - 1) / nv;
  const std::int64_t tile_work = kblocks * mr * nv * lanes * taps;
  // Threads take whole images when there are enough; else they split each image's tiles
  // (parallel_for_each runs serially inside for_items's team).
  for_items<T>(items, padded, tiles * tile_work, [&](std::int64_t item, T* xp) {
    pad_item(item, xp);
    const conv_direct::DirectConvJob<T> job = job_for(item, xp);
    parallel_for_each(tiles, tile_work, [&](std::int64_t t) {
      tile->conv_slots(job, t * nv, std::min(slots, (t + 1) * nv));
    });
  });
}

constexpr std::int64_t kDirectWeightMinCols = 10;

template <typename T>
bool direct_weight_suits(const Conv2dParams& p) {
  const std::int64_t lanes = direct_lanes_for<T>(p.kh, p.kw);
  if (lanes == 0) return false;
  // Vectorised over output channels: at least 3/8 of the lanes in use (6 of 16 floats). Each
  // output row costs a tile's pointer set-up, so rows of at least 10 positions (at 8, 64x256x
  // 8x8 -> 256 channels took 53 ms to im2col + GEMM's 41; at 10, 64x64x10x10 -> 64, 4.5 to 8.2).
  const std::int64_t Kg = p.K / p.groups, kpad = round_up(Kg, lanes);
  return 8 * Kg >= 3 * kpad && p.Wo >= kDirectWeightMinCols;
}

// The weight gradient by the direct kernel (any stride): dW[k, c, i, j] = sum over images and
// output positions of dy[n, k, oh, ow] * x[n, c, oh*sh + i*dh - ph, ow*sw + j*dw - pw]. The
// batch is cut into slots fixed by the shapes (each summed in image order into its own
// partial, the partials added in slot order), and each slot into chunks of images whose
// padded input and transposed output gradient stay in L2.
template <typename T>
void direct_backward_weight(const T* x, const T* dy, const Conv2dParams& p, T* dweight) {
  const conv_direct::DirectKernels<T>& kernels = *direct_kernels<T>();
  const std::int64_t lanes = kernels.lanes;
  const std::int64_t Cg = p.C / p.groups, Kg = p.K / p.groups, taps = Cg * p.kh * p.kw;
  const std::int64_t kpad = round_up(Kg, lanes), vecs = kpad / lanes;
  const std::int64_t P = p.Ho * p.Wo;
  const std::int64_t Hp = (p.Ho - 1) * p.sh + (p.kh - 1) * p.dh + 1;
  const std::int64_t Wp = (p.Wo - 1) * p.sw + (p.kw - 1) * p.dw + 1;
  const std::int64_t xp_image = Cg * Hp * Wp, dyt_image = P * kpad;
  const std::vector<std::int64_t> tap_offset = tap_offsets(Cg, p.kh, p.kw, p.dh, p.dw, Hp, Wp);
  constexpr std::int64_t kChunkBytes = 512 << 10;
  const std::int64_t chunk = std::max<std::int64_t>(
      1, std::min<std::int64_t>(p.N, kChunkBytes / ((xp_image + dyt_image) * std::int64_t(sizeof(T)))));
  // Slots of images (weight_grad_slots). The partials are tap-major (their layout is the
  // kernel's, not dweight's), so every slot has its own, and each is fully stored by its slot's
  // first chunk (no zero fill).
  const std::int64_t partial = p.groups * taps * kpad;  // one slot's (group, tap, channel) sums
  const std::int64_t slots = weight_grad_slots<T>(p.N, partial);
  std::unique_ptr<T[]> partials(new T[static_cast<std::size_t>(slots * partial)]);
  // Split of one chunk's work when the slots alone do not fill the threads: blocks of up to
  // 4 channel vectors (the kernel's widest tile) by pieces of 24 taps (whole tiles of 12, 8
  // or 6).
  constexpr std::int64_t kVecBlock = 4, kTapPiece = 24;
  const std::int64_t vec_blocks = (vecs + kVecBlock - 1) / kVecBlock;
  const std::int64_t pieces = vec_blocks * ((taps + kTapPiece - 1) / kTapPiece);
  const std::int64_t chunk_work = chunk * P * kpad * taps;
  const auto run_slot = [&](std::int64_t s, T* scratch) {
    T* xp = scratch;
    T* dyt = scratch + chunk * xp_image;
    const std::int64_t n_begin = s * p.N / slots, n_end = (s + 1) * p.N / slots;
    for (std::int64_t g = 0; g < p.groups; ++g) {
      for (std::int64_t n0 = n_begin; n0 < n_end; n0 += chunk) {
        const std::int64_t images = std::min(chunk, n_end - n0);
        for (std::int64_t n = n0; n < n0 + images; ++n) {
          pad_planes(x + (n * p.C + g * Cg) * p.H * p.W, Cg, p.H, p.W, p.ph, p.pw, Hp, Wp,
                     xp + (n - n0) * xp_image);
          kernels.transpose_to_positions(dy + (n * p.K + g * Kg) * P, Kg, P, kpad,
                                         dyt + (n - n0) * dyt_image);
        }
        conv_direct::WeightGradJob<T> job{xp, xp_image, dyt, images, p.Ho, p.Wo,
                                          p.sh * Wp, p.sw, kpad, tap_offset.data(),
                                          partials.get() + s * partial + g * taps * kpad,
                                          n0 != n_begin};
        // Split over the threads only when the slots are not (parallel_for_each runs serially
        // inside for_items's team).
        parallel_for_each(pieces, chunk_work / pieces, [&](std::int64_t piece) {
          const std::int64_t v = (piece % vec_blocks) * kVecBlock;
          const std::int64_t t0 = (piece / vec_blocks) * kTapPiece;
          kernels.weight_grad(job, t0, std::min(taps, t0 + kTapPiece), v,
                              std::min(vecs, v + kVecBlock));
        });
      }
    }
  };
  for_items<T>(slots, chunk * (xp_image + dyt_image), chunk_work, run_slot);
  // dweight[g*Kg + k, t] = the partials' sum in slot order.
  parallel_for_each(p.K, slots * taps, [&](std::int64_t gk) {
    const std::int64_t g = gk / Kg, k = gk % Kg;
    for (std::int64_t t = 0; t < taps; ++t) {
      T sum = partials[(g * taps + t) * kpad + k];
      for (std::int64_t s = 1; s < slots; ++s) {
        sum += partials[s * partial + (g * taps + t) * kpad + k];
      }
      dweight[gk * taps + t] = sum;
    }
  });
}

}  // namespace

bool set_conv_direct_enabled(bool enabled) { return direct_enabled().exchange(enabled); }

template <typename T>
ConvAlgorithms conv_algorithms(const Conv2dParams& p) {
  ConvAlgorithms a;
  if (is_pointwise(p)) {
    a.forward = a.backward_input = a.backward_weight = "pointwise";
    return a;
  }
  a.forward = direct_forward_suits<T>(p) ? "direct" : "im2col";
  a.backward_input = direct_backward_input_suits<T>(p) ? "direct" : "im2col";
  a.backward_weight = direct_weight_suits<T>(p) ? "direct" : "im2col";
  return a;
}

template <typename T>
void im2col(const T* x_g, std::int64_t Cg, const Conv2dParams& p, std::int64_t oh0,
            std::int64_t oh1, T* cols, std::int64_t ld) {
  for (std::int64_t c = 0; c < Cg; ++c) {
    const T* xc = x_g + c * p.H * p.W;
    for (std::int64_t i = 0; i < p.kh; ++i) {
      for (std::int64_t j = 0; j < p.kw; ++j) {
        T* dst = cols + ((c * p.kh + i) * p.kw + j) * ld;
        std::int64_t lo, hi;
        valid_columns(p, j, &lo, &hi);
        const std::int64_t col_offset = j * p.dw - p.pw;
        for (std::int64_t oh = oh0; oh < oh1; ++oh, dst += p.Wo) {
          const std::int64_t ih = oh * p.sh - p.ph + i * p.dh;
          // Plain loops, not memcpy/fill: rows are often short (LeNet: 10), where a library
          // call per segment costs more than the copy.
          if (ih < 0 || ih >= p.H) {
            for (std::int64_t ow = 0; ow < p.Wo; ++ow) dst[ow] = T(0);
            continue;
          }
          const T* row = xc + ih * p.W;  // output column ow reads row[ow*sw + col_offset]
          for (std::int64_t ow = 0; ow < lo; ++ow) dst[ow] = T(0);
          if (p.sw == 1) {
            for (std::int64_t ow = lo; ow < hi; ++ow) dst[ow] = row[ow + col_offset];
          } else {
            for (std::int64_t ow = lo; ow < hi; ++ow) dst[ow] = row[ow * p.sw + col_offset];
          }
          for (std::int64_t ow = hi; ow < p.Wo; ++ow) dst[ow] = T(0);
        }
      }
    }
  }
}

template <typename T>
void col2im(const T* cols, std::int64_t ld, std::int64_t Cg, const Conv2dParams& p,
            std::int64_t oh0, std::int64_t oh1, T* dx_g) {
  for (std::int64_t c = 0; c < Cg; ++c) {
    T* dxc = dx_g + c * p.H * p.W;
    for (std::int64_t i = 0; i < p.kh; ++i) {
      for (std::int64_t j = 0; j < p.kw; ++j) {
        const T* src = cols + ((c * p.kh + i) * p.kw + j) * ld;
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
  if (direct_forward_suits<T>(p)) {
    const std::int64_t Cg = p.C / p.groups, Kg = p.K / p.groups, taps = Cg * p.kh * p.kw;
    const DirectConv<T> d{p.N, p.groups, Cg, p.H, p.W, p.ph, p.pw,
                          Kg, p.Ho, p.Wo, p.sh, p.kh, p.kw, p.dh, p.dw,
                          x, y, bias};
    direct_conv(d, [&](std::int64_t g, std::int64_t k, std::int64_t t) {
      return weight[(g * Kg + k) * taps + t];
    });
    return;
  }
  const ConvPlan plan = conv_plan<T>(p);
  const std::int64_t Cg = p.C / p.groups, Kg = p.K / p.groups, CKK = plan.CKK, P = plan.P;
  // Per thread: the column matrix, and for batched units the GEMM output before it is copied
  // to each image's place in y.
  const std::int64_t out_elems = plan.images > 1 ? Kg * plan.max_width : 0;
  for_items<T>(plan.units * p.groups, plan.buffer + out_elems, Kg * CKK * plan.max_width,
               [&](std::int64_t item, T* work) {
    const Unit u = plan.unit(item / p.groups, p);
    const std::int64_t g = item % p.groups;
    const T* w_g = weight + g * Kg * CKK;
    GemmEpilogue<T> epilogue;
    epilogue.row_bias = bias ? bias + g * Kg : nullptr;
    T* y0 = y + (u.n0 * p.K + g * Kg) * P + u.oh0 * p.Wo;
    if (plan.pointwise) {  // cols is the image itself
      gemm<T>(false, false, Kg, P, CKK, T(1), w_g, CKK, x + (u.n0 * p.C + g * Cg) * P, P, T(0),
              y0, P, epilogue);
      return;
    }
    T* cols = work;
    const std::int64_t width = u.width(p);
    const std::int64_t per_image = (u.oh1 - u.oh0) * p.Wo;
    for (std::int64_t n = u.n0; n < u.n1; ++n) {
      im2col(x + (n * p.C + g * Cg) * p.H * p.W, Cg, p, u.oh0, u.oh1,
             cols + (n - u.n0) * per_image, width);
    }
    if (u.n1 - u.n0 == 1) {  // straight into y (a band of rows, or the whole image)
      gemm<T>(false, false, Kg, width, CKK, T(1), w_g, CKK, cols, width, T(0), y0, P, epilogue);
      return;
    }
    T* out = work + plan.buffer;
    gemm<T>(false, false, Kg, width, CKK, T(1), w_g, CKK, cols, width, T(0), out, width,
            epilogue);
    for (std::int64_t n = u.n0; n < u.n1; ++n) {
      for (std::int64_t k = 0; k < Kg; ++k) {
        std::memcpy(y + (n * p.K + g * Kg + k) * P, out + k * width + (n - u.n0) * P,
                    sizeof(T) * P);
      }
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

namespace {

// One unit and group of conv2d_backward_input.
template <typename T>
void backward_input_unit(const Unit& u, std::int64_t g, const T* dy, const T* weight,
                         const Conv2dParams& p, const ConvPlan& plan, T* work, T* dx) {
    const std::int64_t Cg = p.C / p.groups, Kg = p.K / p.groups, CKK = plan.CKK, P = plan.P;
    const T* w_g = weight + g * Kg * CKK;
    if (plan.pointwise) {  // dx_g (Cg, P) = w_g^T (Cg, Kg) @ dy_g (Kg, P)
      gemm<T>(true, false, Cg, P, Kg, T(1), w_g, CKK, dy + (u.n0 * p.K + g * Kg) * P, P, T(0),
              dx + (u.n0 * p.C + g * Cg) * P, P);
      return;
    }
    T* dcols = work;
    const std::int64_t width = u.width(p);
    const std::int64_t per_image = (u.oh1 - u.oh0) * p.Wo;
    const T* dy_u;  // (Kg, width): this unit's output gradient
    std::int64_t ld_dy;
    if (u.n1 - u.n0 == 1) {
      dy_u = dy + (u.n0 * p.K + g * Kg) * P + u.oh0 * p.Wo;
      ld_dy = P;
    } else {  // gather the images' gradients side by side
      T* gathered = work + plan.buffer;
      for (std::int64_t n = u.n0; n < u.n1; ++n) {
        for (std::int64_t k = 0; k < Kg; ++k) {
          std::memcpy(gathered + k * width + (n - u.n0) * P, dy + (n * p.K + g * Kg + k) * P,
                      sizeof(T) * P);
        }
      }
      dy_u = gathered;
      ld_dy = width;
    }
    gemm<T>(true, false, CKK, width, Kg, T(1), w_g, CKK, dy_u, ld_dy, T(0), dcols, width);
    for (std::int64_t n = u.n0; n < u.n1; ++n) {
      T* dx_g = dx + (n * p.C + g * Cg) * p.H * p.W;
      if (u.oh0 == 0) std::fill(dx_g, dx_g + Cg * p.H * p.W, T(0));  // first band of the image
      col2im(dcols + (n - u.n0) * per_image, width, Cg, p, u.oh0, u.oh1, dx_g);
    }
}

}  // namespace

template <typename T>
void conv2d_backward_input(const T* dy, const T* weight, const Conv2dParams& p, T* dx) {
  if (direct_backward_input_suits<T>(p)) {
    // Stride 1: dx[c, ih, iw] = sum_{k, i, j} w[k, c, i, j] * dy[k, ih + ph - i*dh,
    // iw + pw - j*dw], a convolution of dy padded by dh*(kh-1) - ph (a crop where negative)
    // with the kernel flipped (i' = kh-1-i, j' = kw-1-j) and input/output channels swapped.
    const std::int64_t Cg = p.C / p.groups, Kg = p.K / p.groups, kk = p.kh * p.kw;
    const DirectConv<T> d{p.N, p.groups, Kg, p.Ho, p.Wo,
                          p.dh * (p.kh - 1) - p.ph, p.dw * (p.kw - 1) - p.pw,
                          Cg, p.H, p.W, 1, p.kh, p.kw, p.dh, p.dw,
                          dy, dx, nullptr};
    direct_conv(d, [&](std::int64_t g, std::int64_t c, std::int64_t t) {
      const std::int64_t k = t / kk, flipped = kk - 1 - t % kk;  // (kh-1-i)*kw + (kw-1-j)
      return weight[((g * Kg + k) * Cg + c) * kk + flipped];
    });
    return;
  }
  const ConvPlan plan = conv_plan<T>(p);
  const std::int64_t Kg = p.K / p.groups, CKK = plan.CKK;
  const std::int64_t dy_elems = plan.images > 1 ? Kg * plan.max_width : 0;
  // The bands of one image overlap in dx (taps cross band edges), so one thread runs all the
  // bands of an image, in order.
  const std::int64_t outer = plan.units / plan.bands;
  for_items<T>(outer * p.groups, plan.buffer + dy_elems, Kg * CKK * plan.max_width * plan.bands,
               [&](std::int64_t item, T* work) {
    for (std::int64_t band = 0; band < plan.bands; ++band) {
      backward_input_unit(plan.unit((item / p.groups) * plan.bands + band, p), item % p.groups,
                          dy, weight, p, plan, work, dx);
    }
  });
}

template <typename T>
void conv2d_backward_weight(const T* x, const T* dy, const Conv2dParams& p, T* dweight) {
  const ConvPlan plan = conv_plan<T>(p);
  const std::int64_t Cg = p.C / p.groups, Kg = p.K / p.groups, CKK = plan.CKK, P = plan.P;
  const std::int64_t weight_elems = p.K * CKK;
  if (p.N == 0) {
    std::fill(dweight, dweight + weight_elems, T(0));
    return;
  }
  if (direct_weight_suits<T>(p)) {
    direct_backward_weight(x, dy, p, dweight);
    return;
  }
  const std::int64_t slots = weight_grad_slots<T>(plan.units, weight_elems);
  // Uninitialised: each slot zeroes its own accumulator first.
  std::unique_ptr<T[]> partials(new T[static_cast<std::size_t>((slots - 1) * weight_elems)]);
  const std::int64_t dy_elems = plan.images > 1 ? Kg * plan.max_width : 0;
  for_items<T>(slots, plan.buffer + dy_elems,
               (plan.units / slots) * p.K * CKK * plan.max_width, [&](std::int64_t slot, T* work) {
    T* acc = slot == 0 ? dweight : partials.get() + (slot - 1) * weight_elems;
    std::fill(acc, acc + weight_elems, T(0));
    const std::int64_t first = slot * plan.units / slots, last = (slot + 1) * plan.units / slots;
    for (std::int64_t unit = first; unit < last; ++unit) {
      const Unit u = plan.unit(unit, p);
      const std::int64_t width = u.width(p);
      const std::int64_t per_image = (u.oh1 - u.oh0) * p.Wo;
      for (std::int64_t g = 0; g < p.groups; ++g) {
        T* dw_g = acc + g * Kg * CKK;
        if (plan.pointwise) {  // dw_g (Kg, Cg) += dy_g (Kg, P) @ x_g^T (P, Cg)
          gemm<T>(false, true, Kg, CKK, P, T(1), dy + (u.n0 * p.K + g * Kg) * P, P,
                  x + (u.n0 * p.C + g * Cg) * P, P, T(1), dw_g, CKK);
          continue;
        }
        T* cols = work;
        for (std::int64_t n = u.n0; n < u.n1; ++n) {
          im2col(x + (n * p.C + g * Cg) * p.H * p.W, Cg, p, u.oh0, u.oh1,
                 cols + (n - u.n0) * per_image, width);
        }
        const T* dy_u;
        std::int64_t ld_dy;
        if (u.n1 - u.n0 == 1) {
          dy_u = dy + (u.n0 * p.K + g * Kg) * P + u.oh0 * p.Wo;
          ld_dy = P;
        } else {
          T* gathered = work + plan.buffer;
          for (std::int64_t n = u.n0; n < u.n1; ++n) {
            for (std::int64_t k = 0; k < Kg; ++k) {
              std::memcpy(gathered + k * width + (n - u.n0) * P,
                          dy + (n * p.K + g * Kg + k) * P, sizeof(T) * P);
            }
          }
          dy_u = gathered;
          ld_dy = width;
        }
        gemm<T>(false, true, Kg, CKK, width, T(1), dy_u, ld_dy, cols, width, T(1), dw_g, CKK);
      }
    }
  });
  if (slots > 1) {
    parallel_for_each(weight_elems, slots, [&](std::int64_t e) {
      T sum = dweight[e];
      for (std::int64_t s = 1; s < slots; ++s) sum += partials[(s - 1) * weight_elems + e];
      dweight[e] = sum;
    });
  }
}

template <typename T>
void conv2d_backward_bias(const T* dy, const Conv2dParams& p, T* dbias) {
  const std::int64_t P = p.Ho * p.Wo;
  parallel_for_each(p.K, p.N * P, [&](std::int64_t k) {
    detail::LaneSum sum;
    for (std::int64_t n = 0; n < p.N; ++n) {
      const T* row = dy + (n * p.K + k) * P;
      detail::lane_sum(sum, P, [&](std::int64_t i) { return static_cast<double>(row[i]); });
    }
    dbias[k] = static_cast<T>(sum.total());
  });
}

#define KERNN_INSTANTIATE_CONV(T)                                                               \
  template void im2col<T>(const T*, std::int64_t, const Conv2dParams&, std::int64_t,            \
                          std::int64_t, T*, std::int64_t);                                      \
  template void col2im<T>(const T*, std::int64_t, std::int64_t, const Conv2dParams&,            \
                          std::int64_t, std::int64_t, T*);                                      \
  template void conv2d_forward<T>(const T*, const T*, const T*, const Conv2dParams&, T*);       \
  template void conv2d_forward_reference<T>(const T*, const T*, const T*, const Conv2dParams&,  \
                                            T*);                                                \
  template void conv2d_backward_input<T>(const T*, const T*, const Conv2dParams&, T*);          \
  template void conv2d_backward_weight<T>(const T*, const T*, const Conv2dParams&, T*);         \
  template void conv2d_backward_bias<T>(const T*, const Conv2dParams&, T*);                    \
  template ConvAlgorithms conv_algorithms<T>(const Conv2dParams&);

KERNN_INSTANTIATE_CONV(float)
KERNN_INSTANTIATE_CONV(double)

}  // namespace kernn
