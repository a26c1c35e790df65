// The direct convolution for AVX-512 (see conv_direct.h): conv_direct_simd.h's loops instantiated
// with the AVX-512 vector traits (vec_avx512.h). Built with -mavx512f/dq/bw/vl; conv.cpp calls
// it only when CPUID says so.
#include "conv_direct_simd.h"
#include "vec_avx512.h"

namespace kernn::conv_direct {

template <>
const DirectKernels<float>& direct_kernels_avx512<float>() {
  return kKernels<avx512::Float>;
}

template <>
const DirectKernels<double>& direct_kernels_avx512<double>() {
  return kKernels<avx512::Double>;
}

}  // namespace kernn::conv_direct
