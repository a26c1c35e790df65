// Float loops built three times: the activations (sigmoid, tanh, SiLU, GELU, ELU, softplus and
// log-sigmoid, forward and backward), the softmax rows (forward and backward, and
// cross-entropy's exps) and the bias gradient's column sums. For baseline
// x86-64 (through vec_math.h, in the kernels' own translation units), for AVX2 + FMA
// (isa/activations_avx2.cpp) and for AVX-512 (isa/activations_avx512.cpp), chosen at run time
// (simd_loops_level). The SIMD builds compute the same formulas 8 or 16 lanes at a time; FMA
// contraction changes the last bit of some results against the portable build (all stay
// within 2 ulp of the exact value for sigmoid and tanh, within the bounds the tests state for
// SiLU and GELU), and the AVX2 and AVX-512 builds contract the same
// operations, so they give the same bits. Sums are in double, in vmath::sum's lane order (the
// column sums: each column in row order), in every build. Double always takes the portable
// loops (the same templates).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernn/cpu_features.h"  // simd_loops_level
#include "vec_math.h"

namespace kernn {

// One build's float loops.
struct ActivationLoops {
  void (*sigmoid)(std::int64_t n, const float* x, float* y);
  void (*tanh)(std::int64_t n, const float* x, float* y);
  // SiLU and GELU (the erf form and the tanh form): forwards y from x, backwards dx from x, dy.
  void (*silu)(std::int64_t n, const float* x, float* y);
  void (*silu_backward)(std::int64_t n, const float* x, const float* dy, float* dx);
  void (*gelu)(std::int64_t n, const float* x, float* y);
  void (*gelu_backward)(std::int64_t n, const float* x, const float* dy, float* dx);
  void (*gelu_tanh)(std::int64_t n, const float* x, float* y);
  void (*gelu_tanh_backward)(std::int64_t n, const float* x, const float* dy, float* dx);
  // ELU, softplus and log-sigmoid, with their options.
  void (*elu)(std::int64_t n, const float* x, float alpha, float* y);
  void (*elu_backward)(std::int64_t n, const float* x, const float* dy, float alpha, float* dx);
  void (*softplus)(std::int64_t n, const float* x, float beta, float threshold, float* y);
  void (*softplus_backward)(std::int64_t n, const float* x, const float* dy, float beta,
                            float threshold, float* dx);
  void (*log_sigmoid)(std::int64_t n, const float* x, float* y);
  void (*log_sigmoid_backward)(std::int64_t n, const float* x, const float* dy, float* dx);
  // act::row_exps: the maxima, exps and sums of a block of rows.
  void (*row_exps)(std::int64_t begin, std::int64_t end, std::int64_t cols, const float* x,
                   float* m, float* e, double* sums);
  // act::add_rows, act::relu_add_rows: the bias gradient's column sums over a block of rows.
  void (*add_rows)(std::int64_t begin, std::int64_t end, std::int64_t ld, std::int64_t width,
                   const float* dy, const float* y, float* dz, double* acc);
  void (*relu_add_rows)(std::int64_t begin, std::int64_t end, std::int64_t ld,
                        std::int64_t width, const float* dy, const float* y, float* dz,
                        double* acc);
  // act::softmax_rows, act::log_softmax_rows: the forwards of a block of rows.
  void (*softmax_rows)(std::int64_t begin, std::int64_t end, std::int64_t cols, const float* x,
                       float* m, double* sums, float* y);
  void (*log_softmax_rows)(std::int64_t begin, std::int64_t end, std::int64_t cols,
                           const float* x, float* m, double* sums, float* y);
  // act::softmax_backward_rows, act::log_softmax_backward_rows.
  void (*softmax_backward_rows)(std::int64_t begin, std::int64_t end, std::int64_t cols,
                                const float* y, const float* dy, float* dx);
  void (*log_softmax_backward_rows)(std::int64_t begin, std::int64_t end, std::int64_t cols,
                                    const float* y, const float* dy, float* dx);
};

namespace simd_avx2 {
const ActivationLoops& activation_loops();  // isa/activations_avx2.cpp
}  // namespace simd_avx2
namespace simd_avx512 {
const ActivationLoops& activation_loops();  // isa/activations_avx512.cpp
}  // namespace simd_avx512

// The loops themselves. Internal linkage, like vec_math.h: this header is compiled into the
// baseline and the SIMD translation units, and no SIMD copy may stand in for a baseline one.
namespace {

template <typename T>
void sigmoid_loop(std::int64_t n, const T* x, T* y) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = vmath::sigmoid(x[i]);
}

template <typename T>
void tanh_loop(std::int64_t n, const T* x, T* y) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = vmath::tanh(x[i]);
}

// SiLU: y = x * sigmoid(x); dx = dy * s * (1 + x * (1 - s)), s = sigmoid(x). 1 - s is taken
// as sigmoid(-x), from the same exp(-|x|) as s: 1 - (rounded s) loses its digits for large x,
// and x * (1 - s) multiplies that error by x (11 ulp of the gradient at x = 16.6 in float).
template <typename T>
void silu_loop(std::int64_t n, const T* x, T* y) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = x[i] * vmath::sigmoid(x[i]);
}

template <typename T>
void silu_backward_loop(std::int64_t n, const T* x, const T* dy, T* dx) {
  for (std::int64_t i = 0; i < n; ++i) {
    const T v = x[i];
    const T e = vmath::exp(-vmath::abs_of(v));
    const bool positive = v >= T(0);
    const T s = vmath::select(positive, T(1), e) / (T(1) + e);           // sigmoid(x)
    const T complement = vmath::select(positive, e, T(1)) / (T(1) + e);  // sigmoid(-x)
    dx[i] = dy[i] * s * (T(1) + v * complement);
  }
}

// GELU's constants: 1 / sqrt(2), 1 / sqrt(2 pi), sqrt(2 / pi) and the tanh form's cubic term.
constexpr double kSqrtHalf = 0.70710678118654752440;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;
constexpr double kSqrt2OverPi = 0.79788456080286535588;
constexpr double kGeluCubic = 0.044715;

// GELU, erf form (torch's formulas): y = x * 0.5 * (1 + erf(x / sqrt 2));
// dx = dy * (cdf + x * pdf), cdf = 0.5 * (1 + erf(x / sqrt 2)), pdf = exp(-x^2 / 2) / sqrt(2 pi).
template <typename T>
void gelu_loop(std::int64_t n, const T* x, T* y) {
  for (std::int64_t i = 0; i < n; ++i) {
    const T v = x[i];
    y[i] = v * T(0.5) * (T(1) + vmath::erf(v * T(kSqrtHalf)));
  }
}

template <typename T>
void gelu_backward_loop(std::int64_t n, const T* x, const T* dy, T* dx) {
  for (std::int64_t i = 0; i < n; ++i) {
    const T v = x[i];
    const T cdf = T(0.5) * (T(1) + vmath::erf(v * T(kSqrtHalf)));
    const T pdf = T(kInvSqrt2Pi) * vmath::exp(T(-0.5) * v * v);
    dx[i] = dy[i] * (cdf + v * pdf);
  }
}

// tanh(sqrt(2 / pi) * (x + 0.044715 x^3)), the tanh form's inner term.
template <typename T>
T gelu_tanh_inner(T v) {
  return vmath::tanh(T(kSqrt2OverPi) * (v + T(kGeluCubic) * v * v * v));
}

// GELU, tanh form: y = 0.5 x (1 + t);
// dx = dy * (0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2 / pi) (1 + 3 * 0.044715 x^2)).
template <typename T>
void gelu_tanh_loop(std::int64_t n, const T* x, T* y) {
  for (std::int64_t i = 0; i < n; ++i) {
    const T v = x[i];
    y[i] = T(0.5) * v * (T(1) + gelu_tanh_inner(v));
  }
}

template <typename T>
void gelu_tanh_backward_loop(std::int64_t n, const T* x, const T* dy, T* dx) {
  for (std::int64_t i = 0; i < n; ++i) {
    const T v = x[i];
    const T t = gelu_tanh_inner(v);
    const T slope = T(0.5) * (T(1) + t) + T(0.5) * v * (T(1) - t * t) * T(kSqrt2OverPi) *
                                              (T(1) + T(3 * kGeluCubic) * v * v);
    dx[i] = dy[i] * slope;
  }
}

// ELU: y = x >= 0 ? x : alpha * expm1(x); dx = x <= 0 ? dy * alpha * exp(x) : dy. As torch's:
// the forward takes x itself at +-0 (alpha * expm1(0) would be NaN for an infinite or NaN
// alpha, and -0 for +0 when alpha < 0), the backward the x <= 0 side at 0. NaN gives dy, as
// torch's scalar loop (its vector loop gives NaN: torch's result depends on where x lies).
template <typename T>
void elu_loop(std::int64_t n, const T* x, T alpha, T* y) {
  for (std::int64_t i = 0; i < n; ++i) {
    const T v = x[i];
    y[i] = vmath::select(v >= T(0), v, alpha * vmath::expm1_negative(v));
  }
}

template <typename T>
void elu_backward_loop(std::int64_t n, const T* x, const T* dy, T alpha, T* dx) {
  for (std::int64_t i = 0; i < n; ++i) {
    const T v = x[i], d = dy[i];
    dx[i] = vmath::select(v <= T(0), d * alpha * vmath::exp(v), d);
  }
}

// min(v, 0) - log1p(exp(-|v|)) = log(sigmoid(v)), and its NaN, without a log of an exp that
// can overflow.
template <typename T>
T log_sigmoid_of(T v) {
  return vmath::select(v < T(0), v, T(0)) - vmath::log1p_unit(vmath::exp(-vmath::abs_of(v)));
}

// Softplus: y = beta x > threshold ? x : log1p(exp(beta x)) / beta, the log taken as
// (max(beta x, 0) + log1p(exp(-|beta x|))) / beta (the same value, with log1p only of
// [0, 1]); dx = beta x > threshold ? dy : dy * sigmoid(beta x) (torch's dy * z / (z + 1),
// z = exp(beta x), without z's overflow). The sum is written out rather than taken as
// -log_sigmoid(-beta x): negating that difference gives -0 where log1p(exp(beta x)) underflows
// to +0, and torch's y is then +0 / beta.
template <typename T>
void softplus_loop(std::int64_t n, const T* x, T beta, T threshold, T* y) {
  for (std::int64_t i = 0; i < n; ++i) {
    const T v = x[i], bx = v * beta;
    const T log1p_exp = vmath::select(bx > T(0), bx, T(0)) +
                        vmath::log1p_unit(vmath::exp(-vmath::abs_of(bx)));
    y[i] = vmath::select(bx > threshold, v, log1p_exp / beta);
  }
}

template <typename T>
void softplus_backward_loop(std::int64_t n, const T* x, const T* dy, T beta, T threshold, T* dx) {
  for (std::int64_t i = 0; i < n; ++i) {
    const T bx = x[i] * beta, d = dy[i];
    dx[i] = vmath::select(bx > threshold, d, d * vmath::sigmoid(bx));
  }
}

// Log-sigmoid: y = log_sigmoid_of(x); dx = dy * sigmoid(-x), from the same exp(-|x|) as
// sigmoid (torch's 1 - z / (1 + z) for x < 0, computed as 1 / (1 + z): no cancellation).
template <typename T>
void log_sigmoid_loop(std::int64_t n, const T* x, T* y) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = log_sigmoid_of(x[i]);
}

template <typename T>
void log_sigmoid_backward_loop(std::int64_t n, const T* x, const T* dy, T* dx) {
  for (std::int64_t i = 0; i < n; ++i) {
    const T v = x[i];
    const T e = vmath::exp(-vmath::abs_of(v));
    dx[i] = dy[i] * (vmath::select(v < T(0), T(1), e) / (T(1) + e));
  }
}

// y = exp(x - shift) for x <= shift (or NaN): the softmax rows' exps, x - shift <= 0, so
// vmath::exp_nonpositive. The last n % 16 elements go through a 16-element buffer padded with
// `shift` (exps of 0), so that they too take the vector code instead of a scalar remainder loop
// (a 100-column softmax row spent as long in its last 4 exps as in the other 96). Same
// formula, same values, in either path.
template <typename T>
void exp_shifted_loop(std::int64_t n, const T* x, T shift, T* y) {
  constexpr std::int64_t kVector = 16;
  const std::int64_t body = n - n % kVector;
  for (std::int64_t i = 0; i < body; ++i) y[i] = vmath::exp_nonpositive(x[i] - shift);
  if (body == n) return;
  T in[kVector], out[kVector];
  for (std::int64_t k = 0; k < kVector; ++k) in[k] = shift;
  std::memcpy(in, x + body, static_cast<std::size_t>(n - body) * sizeof(T));
  for (std::int64_t k = 0; k < kVector; ++k) out[k] = vmath::exp_nonpositive(in[k] - shift);
  std::memcpy(y + body, out, static_cast<std::size_t>(n - body) * sizeof(T));
}

// A block of exps at a time, then its sum while the block is in L1: the two loops vectorise
// (one loop doing both would not: GCC scalarises the widening adds), and whole blocks keep
// vmath::sum's lane order.
template <typename T>
double exp_shifted_sum_loop(std::int64_t n, const T* x, T shift, T* y) {
  constexpr std::int64_t kBlock = 32 * vmath::kLanes;
  double lane[vmath::kLanes] = {};
  for (std::int64_t b = 0; b < n; b += kBlock) {
    const std::int64_t len = n - b < kBlock ? n - b : kBlock;
    exp_shifted_loop(len, x + b, shift, y + b);
    vmath::add_to_lanes(len, y + b, lane);
  }
  return vmath::lanes_total(lane);
}

// The maximum of lane[0, 2 * kWidth) into lane[0], folding the upper half onto the lower one
// until one lane is left. Each step has a fixed width (a template argument), so GCC keeps the
// fold in registers; a loop over a variable width went through the stack, its last steps
// scalar loads of what the step before had just stored (11 % of a 256 x 128 log-softmax).
template <std::int64_t kWidth, typename T>
void fold_max_lanes(T* lane) {
  for (std::int64_t k = 0; k < kWidth; ++k) {
    lane[k] = lane[k + kWidth] > lane[k] ? lane[k + kWidth] : lane[k];
  }
  if constexpr (kWidth > 1) fold_max_lanes<kWidth / 2>(lane);
}

// The maximum of a row of n >= kMaxLanes elements, in kMaxLanes lanes: 64 for the wide rows
// (four AVX-512 registers, four independent chains of maxima, not one chain of 4-cycle steps;
// 64 x 1000 softmax 1.2x faster than with 16), 32 for the narrow rows of 32 or more (vmath::max's
// 8 lanes came out of GCC as 8 scalar chains: 256 x 100 softmax 1.1x faster with this). The
// last n % kMaxLanes elements come in with the whole kMaxLanes-element vector that ends the row,
// overlapping elements already taken (a maximum does not mind seeing an element twice): a
// padded copy cost a memcpy call per row (with it, 16 lanes made 256 x 100 1.1x slower). The
// maximum is the same in any order but for which of +0 and -0 it returns, and
// x - (+0) == x - (-0).
template <std::int64_t kMaxLanes, typename T>
T max_loop(std::int64_t n, const T* x) {
  const auto take_max = [](T* lane, const T* v) {
    for (std::int64_t k = 0; k < kMaxLanes; ++k) lane[k] = v[k] > lane[k] ? v[k] : lane[k];
  };
  T lane[kMaxLanes];
  for (std::int64_t k = 0; k < kMaxLanes; ++k) lane[k] = -INFINITY;
  const std::int64_t body = n - n % kMaxLanes;
  for (std::int64_t j = 0; j < body; j += kMaxLanes) take_max(lane, x + j);
  if (body < n) take_max(lane, x + n - kMaxLanes);
  fold_max_lanes<kMaxLanes / 2>(lane);
  return lane[0];
}

// dx[i] = x[i] > 0 ? dy[i] : 0 for i < n (torch's threshold_backward: NaN in x passes dy). Both
// operands are loaded unconditionally so that the select vectorises.
template <typename T>
void relu_backward_loop(std::int64_t n, const T* x, const T* dy, T* dx) {
  for (std::int64_t i = 0; i < n; ++i) {
    const T v = x[i], d = dy[i];
    dx[i] = v <= T(0) ? T(0) : d;
  }
}

// acc[j] += rows [begin, end) of column j of dy (rows ld apart), for j < width, the rows added
// one after another in double. Four rows per pass over acc: the same additions in the same
// order as one row per pass, with a quarter of the loads and stores of acc (100 x 500 float:
// 15 -> 10 us). With kMask, the rows added are those of dz = relu_backward(y, dy), written to
// dz (same layout) four rows at a time just before they are added, while in L1. The sums do
// not depend on the vector width: each column is added in row order.
template <bool kMask, typename T>
void add_rows_loop(std::int64_t begin, std::int64_t end, std::int64_t ld, std::int64_t width,
                   const T* dy, const T* y, T* dz, double* acc) {
  // Rows [r, r + count) of dz from dy and y, or dy itself without the mask.
  const auto rows_of = [&](std::int64_t r, std::int64_t count) -> const T* {
    if constexpr (kMask) {
      for (std::int64_t i = r; i < r + count; ++i) {
        relu_backward_loop(width, y + i * ld, dy + i * ld, dz + i * ld);
      }
      return dz + r * ld;
    } else {
      (void)count;
      return dy + r * ld;
    }
  };
  std::int64_t r = begin;
  for (; r + 4 <= end; r += 4) {
    const T* r0 = rows_of(r, 4);
    const T* r1 = r0 + ld;
    const T* r2 = r1 + ld;
    const T* r3 = r2 + ld;
    for (std::int64_t j = 0; j < width; ++j) {
      acc[j] = (((acc[j] + r0[j]) + r1[j]) + r2[j]) + r3[j];
    }
  }
  for (; r < end; ++r) {
    const T* row = rows_of(r, 1);
    for (std::int64_t j = 0; j < width; ++j) acc[j] += row[j];
  }
}

// Rows at least this long take one fused exp-and-sum call each in row_exps_loop. Below it,
// the block's exps in one call ran 1.1-1.5x faster where the row length is not a multiple of 16
// (256 x 40: 1.45x, 256 x 100: 1.12x, 1 thread). Since the narrow rows' maximum went to 32
// vector lanes the block also wins from 128 to about 200 columns (256 x 128: 1.04x, 128 x 200:
// 1.13-1.17x); 128 x 256 is about even, and the per-row calls win from there (128 x 400:
// 1.03-1.05x, 32 x 10000: 1.13x).
constexpr std::int64_t kRowExpsWideCols = 256;

// For the rows [begin, end) of x (rows of `cols`): m[i] = max of row i,
// e[i * cols + j] = exp(x[i, j] - m[i]) and sums[i] = sum_j e[i * cols + j] in double (in
// vmath::sum's order). Wide rows take the max, then the exps and their sum in one pass. Narrow
// rows are shifted first and then exp'd in one call for all of them (with 10 columns, per-row
// calls spent their time in the vector loops' remainders: a 100 x 10 cross-entropy went
// 8.7 -> 6.8 us forward, 7.6 -> 5.5 us backward), then summed. The same values either way:
// x - m is rounded before exp.
template <typename T>
void row_exps_loop(std::int64_t begin, std::int64_t end, std::int64_t cols, const T* x, T* m,
                   T* e, double* sums) {
  if (cols >= kRowExpsWideCols) {
    for (std::int64_t i = begin; i < end; ++i) {
      m[i] = max_loop<64>(cols, x + i * cols);
      sums[i] = exp_shifted_sum_loop(cols, x + i * cols, m[i], e + i * cols);
    }
    return;
  }
  for (std::int64_t i = begin; i < end; ++i) {
    const T* row = x + i * cols;
    T* out = e + i * cols;
    m[i] = cols >= 32 ? max_loop<32>(cols, row) : vmath::max(cols, row);  // max_loop: n >= 32
    for (std::int64_t j = 0; j < cols; ++j) out[j] = row[j] - m[i];
  }
  exp_shifted_loop((end - begin) * cols, e + begin * cols, T(0), e + begin * cols);
  for (std::int64_t i = begin; i < end; ++i) sums[i] = vmath::sum(cols, e + i * cols);
}

// Rows [begin, end) of softmax: y = exp(x - m) * (1 / sum), m and sums the rows' maxima and
// sums (row_exps_loop; the caller's scratch).
template <typename T>
void softmax_rows_loop(std::int64_t begin, std::int64_t end, std::int64_t cols, const T* x,
                       T* m, double* sums, T* y) {
  row_exps_loop(begin, end, cols, x, m, y, sums);
  for (std::int64_t r = begin; r < end; ++r) {
    T* yr = y + r * cols;
    const T inv = static_cast<T>(1.0 / sums[r]);
    for (std::int64_t j = 0; j < cols; ++j) yr[j] *= inv;
  }
}

// Rows [begin, end) of log-softmax: y = (x - m) - log(sum), y holding exp(x - m) until the log
// of its sum is known. (x - m) first: m + log_sum would round away log_sum's digits when |m| is
// large. m == -inf (a row of all -inf) gives -inf - -inf = NaN everywhere, as torch.
template <typename T>
void log_softmax_rows_loop(std::int64_t begin, std::int64_t end, std::int64_t cols, const T* x,
                           T* m, double* sums, T* y) {
  row_exps_loop(begin, end, cols, x, m, y, sums);
  for (std::int64_t r = begin; r < end; ++r) {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    const T log_sum = static_cast<T>(std::log(sums[r]));
    for (std::int64_t j = 0; j < cols; ++j) yr[j] = (xr[j] - m[r]) - log_sum;
  }
}

// Rows [begin, end) of a softmax-family backward, y the forward's output: for each row,
// s = row_scalar(cols, y_row, dy_row) (a reduction in double, in vmath's lane order) rounded to
// T, then dx[j] = element(y[j], dy[j], s).
template <typename T, typename RowScalar, typename Element>
void backward_rows_loop(std::int64_t begin, std::int64_t end, std::int64_t cols, const T* y,
                        const T* dy, T* dx, RowScalar row_scalar, Element element) {
  for (std::int64_t r = begin; r < end; ++r) {
    const T* yr = y + r * cols;
    const T* dyr = dy + r * cols;
    T* dxr = dx + r * cols;
    const T s = static_cast<T>(row_scalar(cols, yr, dyr));
    for (std::int64_t j = 0; j < cols; ++j) dxr[j] = element(yr[j], dyr[j], s);
  }
}

// Softmax's backward: dx = y * (dy - dot(dy, y)).
template <typename T>
void softmax_backward_rows_loop(std::int64_t begin, std::int64_t end, std::int64_t cols,
                                const T* y, const T* dy, T* dx) {
  backward_rows_loop(
      begin, end, cols, y, dy, dx,
      [](std::int64_t n, const T* yr, const T* dyr) { return vmath::dot(n, dyr, yr); },
      [](T yv, T dyv, T d) { return yv * (dyv - d); });
}

// Log-softmax's backward: dx = dy - exp(y) * sum(dy).
template <typename T>
void log_softmax_backward_rows_loop(std::int64_t begin, std::int64_t end, std::int64_t cols,
                                    const T* y, const T* dy, T* dx) {
  backward_rows_loop(
      begin, end, cols, y, dy, dx,
      [](std::int64_t n, const T*, const T* dyr) { return vmath::sum(n, dyr); },
      [](T yv, T dyv, T s) { return dyv - vmath::exp(yv) * s; });
}

// This translation unit's build of the loops.
const ActivationLoops& this_build_activation_loops() {
  static const ActivationLoops loops{&sigmoid_loop<float>,
                                     &tanh_loop<float>,
                                     &silu_loop<float>,
                                     &silu_backward_loop<float>,
                                     &gelu_loop<float>,
                                     &gelu_backward_loop<float>,
                                     &gelu_tanh_loop<float>,
                                     &gelu_tanh_backward_loop<float>,
                                     &elu_loop<float>,
                                     &elu_backward_loop<float>,
                                     &softplus_loop<float>,
                                     &softplus_backward_loop<float>,
                                     &log_sigmoid_loop<float>,
                                     &log_sigmoid_backward_loop<float>,
                                     &row_exps_loop<float>,
                                     &add_rows_loop<false, float>,
                                     &add_rows_loop<true, float>,
                                     &softmax_rows_loop<float>,
                                     &log_softmax_rows_loop<float>,
                                     &softmax_backward_rows_loop<float>,
                                     &log_softmax_backward_rows_loop<float>};
  return loops;
}

}  // namespace

// The dispatching loops the kernels call.
namespace act {
namespace {

// The float loops of the SIMD level in use.
inline const ActivationLoops& float_loops() {
#ifdef KERNN_X86
  switch (simd_loops_level()) {
    case SimdLevel::kAvx512:
      return simd_avx512::activation_loops();
    case SimdLevel::kAvx2:
      return simd_avx2::activation_loops();
    case SimdLevel::kPortable:
      break;
  }
#endif
  return this_build_activation_loops();
}

// The float loops' `member` (of the SIMD level in use) for float; for double, this build's
// `double_loop`, with the same arguments.
template <typename T, typename Member, typename DoubleLoop, typename... Args>
void run_loop(Member ActivationLoops::*member, DoubleLoop double_loop, Args... args) {
  if constexpr (std::is_same_v<T, float>) {
    (float_loops().*member)(args...);
  } else {
    double_loop(args...);
  }
}

template <typename T>
void sigmoid(std::int64_t n, const T* x, T* y) {
  run_loop<T>(&ActivationLoops::sigmoid, &sigmoid_loop<T>, n, x, y);
}

template <typename T>
void tanh(std::int64_t n, const T* x, T* y) {
  run_loop<T>(&ActivationLoops::tanh, &tanh_loop<T>, n, x, y);
}

template <typename T>
void silu(std::int64_t n, const T* x, T* y) {
  run_loop<T>(&ActivationLoops::silu, &silu_loop<T>, n, x, y);
}

template <typename T>
void silu_backward(std::int64_t n, const T* x, const T* dy, T* dx) {
  run_loop<T>(&ActivationLoops::silu_backward, &silu_backward_loop<T>, n, x, dy, dx);
}

template <typename T>
void gelu(std::int64_t n, const T* x, T* y) {
  run_loop<T>(&ActivationLoops::gelu, &gelu_loop<T>, n, x, y);
}

template <typename T>
void gelu_backward(std::int64_t n, const T* x, const T* dy, T* dx) {
  run_loop<T>(&ActivationLoops::gelu_backward, &gelu_backward_loop<T>, n, x, dy, dx);
}

template <typename T>
void gelu_tanh(std::int64_t n, const T* x, T* y) {
  run_loop<T>(&ActivationLoops::gelu_tanh, &gelu_tanh_loop<T>, n, x, y);
}

template <typename T>
void gelu_tanh_backward(std::int64_t n, const T* x, const T* dy, T* dx) {
  run_loop<T>(&ActivationLoops::gelu_tanh_backward, &gelu_tanh_backward_loop<T>, n, x, dy, dx);
}

template <typename T>
void elu(std::int64_t n, const T* x, T alpha, T* y) {
  run_loop<T>(&ActivationLoops::elu, &elu_loop<T>, n, x, alpha, y);
}

template <typename T>
void elu_backward(std::int64_t n, const T* x, const T* dy, T alpha, T* dx) {
  run_loop<T>(&ActivationLoops::elu_backward, &elu_backward_loop<T>, n, x, dy, alpha, dx);
}

template <typename T>
void softplus(std::int64_t n, const T* x, T beta, T threshold, T* y) {
  run_loop<T>(&ActivationLoops::softplus, &softplus_loop<T>, n, x, beta, threshold, y);
}

template <typename T>
void softplus_backward(std::int64_t n, const T* x, const T* dy, T beta, T threshold, T* dx) {
  run_loop<T>(&ActivationLoops::softplus_backward, &softplus_backward_loop<T>, n, x, dy, beta,
              threshold, dx);
}

template <typename T>
void log_sigmoid(std::int64_t n, const T* x, T* y) {
  run_loop<T>(&ActivationLoops::log_sigmoid, &log_sigmoid_loop<T>, n, x, y);
}

template <typename T>
void log_sigmoid_backward(std::int64_t n, const T* x, const T* dy, T* dx) {
  run_loop<T>(&ActivationLoops::log_sigmoid_backward, &log_sigmoid_backward_loop<T>, n, x, dy,
              dx);
}

// Rough scalar operations per element of row_exps (the exp), for a parallel loop's threshold.
constexpr std::int64_t kRowExpsOps = 8;

// row_exps_loop and the rows' loops below, each over a block of rows [begin, end) in one
// build: their max, shifts, sums and finishing passes vectorise at the SIMD level's width.
template <typename T>
void row_exps(std::int64_t begin, std::int64_t end, std::int64_t cols, const T* x, T* m, T* e,
              double* sums) {
  run_loop<T>(&ActivationLoops::row_exps, &row_exps_loop<T>, begin, end, cols, x, m, e, sums);
}

// acc[j] += the rows [begin, end) of column j < width of dy (add_rows_loop).
template <typename T>
void add_rows(std::int64_t begin, std::int64_t end, std::int64_t ld, std::int64_t width,
              const T* dy, double* acc) {
  run_loop<T>(&ActivationLoops::add_rows, &add_rows_loop<false, T>, begin, end, ld, width, dy,
              static_cast<const T*>(nullptr), static_cast<T*>(nullptr), acc);
}

// The same over dz = relu_backward(y, dy), which is written too.
template <typename T>
void relu_add_rows(std::int64_t begin, std::int64_t end, std::int64_t ld, std::int64_t width,
                   const T* dy, const T* y, T* dz, double* acc) {
  run_loop<T>(&ActivationLoops::relu_add_rows, &add_rows_loop<true, T>, begin, end, ld, width,
              dy, y, dz, acc);
}

template <typename T>
void softmax_rows(std::int64_t begin, std::int64_t end, std::int64_t cols, const T* x, T* m,
                  double* sums, T* y) {
  run_loop<T>(&ActivationLoops::softmax_rows, &softmax_rows_loop<T>, begin, end, cols, x, m,
              sums, y);
}

template <typename T>
void log_softmax_rows(std::int64_t begin, std::int64_t end, std::int64_t cols, const T* x, T* m,
                      double* sums, T* y) {
  run_loop<T>(&ActivationLoops::log_softmax_rows, &log_softmax_rows_loop<T>, begin, end, cols, x,
              m, sums, y);
}

template <typename T>
void softmax_backward_rows(std::int64_t begin, std::int64_t end, std::int64_t cols, const T* y,
                           const T* dy, T* dx) {
  run_loop<T>(&ActivationLoops::softmax_backward_rows, &softmax_backward_rows_loop<T>, begin,
              end, cols, y, dy, dx);
}

template <typename T>
void log_softmax_backward_rows(std::int64_t begin, std::int64_t end, std::int64_t cols,
                               const T* y, const T* dy, T* dx) {
  run_loop<T>(&ActivationLoops::log_softmax_backward_rows, &log_softmax_backward_rows_loop<T>,
              begin, end, cols, y, dy, dx);
}

}  // namespace
}  // namespace act

}  // namespace kernn
