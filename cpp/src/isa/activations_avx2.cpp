// AVX2 + FMA build of the float activation loops (see activations_simd.h); called only when
// CPUID reports AVX2 and FMA.
#include "../activations_simd.h"
#include "../vec_math.h"

namespace kernn::simd_avx2 {

void sigmoid_f32(std::int64_t n, const float* x, float* y) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = vmath::sigmoid(x[i]);
}

void tanh_f32(std::int64_t n, const float* x, float* y) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = vmath::tanh(x[i]);
}

void exp_shifted_f32(std::int64_t n, const float* x, float shift, float* y) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = vmath::exp(x[i] - shift);
}

}  // namespace kernn::simd_avx2
