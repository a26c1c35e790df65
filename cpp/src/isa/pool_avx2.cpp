// AVX2 build of the 2x2 max-pool row kernel (see pool_2x2.h); called only when
// simd_loops_avx2() says the SIMD level in use (the CPU's, capped by set_simd_loops) is at
// least AVX2 + FMA.
#include "pool_2x2.h"

namespace kernn {

void max_pool2x2_rows_avx2_f32(const float* x, std::int64_t W, std::int64_t Ho, std::int64_t Wo,
                               float* y, std::int64_t* idx) {
  for (std::int64_t oh = 0; oh < Ho; ++oh) {
    const float* r0 = x + 2 * oh * W;
    max_pool2x2_row(r0, r0 + W, W, Wo, 2 * oh * W, y + oh * Wo, idx + oh * Wo);
  }
}

void max_pool2x2_rows_avx2_f64(const double* x, std::int64_t W, std::int64_t Ho,
                               std::int64_t Wo, double* y, std::int64_t* idx) {
  for (std::int64_t oh = 0; oh < Ho; ++oh) {
    const double* r0 = x + 2 * oh * W;
    max_pool2x2_row(r0, r0 + W, W, Wo, 2 * oh * W, y + oh * Wo, idx + oh * Wo);
  }
}

}  // namespace kernn
