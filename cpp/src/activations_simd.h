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

}  // namespace
}  // namespace act

}  // namespace kernn
