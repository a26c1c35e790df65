// Float activation loops built twice: for baseline x86-64 (through vec_math.h, in the family's
// own .cpp) and for AVX2 + FMA (isa/activations_avx2.cpp), chosen at run time
// (simd_loops_avx2). The AVX2 build computes the same formulas 8 lanes at a time; FMA
// contraction changes the last bit of some results (both builds stay within 2 ulp of the exact
// value). Double always takes the portable path.
#pragma once

#include <cstdint>
#include <type_traits>

#include "kernn/cpu_features.h"  // simd_loops_avx2
#include "vec_math.h"

namespace kernn {

namespace simd_avx2 {
void sigmoid_f32(std::int64_t n, const float* x, float* y);
void tanh_f32(std::int64_t n, const float* x, float* y);
void exp_shifted_f32(std::int64_t n, const float* x, float shift, float* y);  // exp(x - shift)
}  // namespace simd_avx2

// The dispatching loops the kernels call. Internal linkage, like vec_math.h, because this
// header is also compiled into the AVX2 translation unit.
namespace act {
namespace {

template <typename T>
void sigmoid(std::int64_t n, const T* x, T* y) {
#ifdef KERNN_X86
  if constexpr (std::is_same_v<T, float>) {
    if (simd_loops_avx2()) return simd_avx2::sigmoid_f32(n, x, y);
  }
#endif
  for (std::int64_t i = 0; i < n; ++i) y[i] = vmath::sigmoid(x[i]);
}

template <typename T>
void tanh(std::int64_t n, const T* x, T* y) {
#ifdef KERNN_X86
  if constexpr (std::is_same_v<T, float>) {
    if (simd_loops_avx2()) return simd_avx2::tanh_f32(n, x, y);
  }
#endif
  for (std::int64_t i = 0; i < n; ++i) y[i] = vmath::tanh(x[i]);
}

// y[j] = exp(x[j] - shift)
template <typename T>
void exp_shifted(std::int64_t n, const T* x, T shift, T* y) {
#ifdef KERNN_X86
  if constexpr (std::is_same_v<T, float>) {
    if (simd_loops_avx2()) return simd_avx2::exp_shifted_f32(n, x, shift, y);
  }
#endif
  for (std::int64_t j = 0; j < n; ++j) y[j] = vmath::exp(x[j] - shift);
}

// Rough scalar operations per element of row_exps (the exp), for a parallel loop's threshold.
constexpr std::int64_t kRowExpsOps = 8;

// Rows at least this long take one exp_shifted call each in row_exps.
constexpr std::int64_t kRowExpsWideCols = 32;

// For the rows [begin, end) of x (rows of `cols`): m[i] = max of row i and
// e[i * cols + j] = exp(x[i, j] - m[i]). Narrow rows are shifted first and then exp'd in one
// call for all of them (with 10 columns, per-row calls spent their time in the vector loops'
// remainders: a 100 x 10 cross-entropy went 8.7 -> 6.8 us forward, 7.6 -> 5.5 us backward);
// wide rows fill the loop by themselves and skip that extra pass (64 x 1000 softmax: 12-20 %
// slower with it). The same values either way: x - m is rounded before exp.
template <typename T>
void row_exps(std::int64_t begin, std::int64_t end, std::int64_t cols, const T* x, T* m, T* e) {
  if (cols >= kRowExpsWideCols) {
    for (std::int64_t i = begin; i < end; ++i) {
      m[i] = vmath::max(cols, x + i * cols);
      exp_shifted(cols, x + i * cols, m[i], e + i * cols);
    }
    return;
  }
  for (std::int64_t i = begin; i < end; ++i) {
    const T* row = x + i * cols;
    T* out = e + i * cols;
    m[i] = vmath::max(cols, row);
    for (std::int64_t j = 0; j < cols; ++j) out[j] = row[j] - m[i];
  }
  exp_shifted((end - begin) * cols, e + begin * cols, T(0), e + begin * cols);
}

}  // namespace
}  // namespace act

}  // namespace kernn
