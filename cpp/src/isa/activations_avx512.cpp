// AVX-512 build of the float activation loops (see activations_simd.h): the AVX2 build's
// formulas 16 lanes at a time. Used only when CPUID reports AVX-512 F, DQ, BW and VL.
#include "../activations_simd.h"

namespace kernn::simd_avx512 {

const ActivationLoops& activation_loops() { return this_build_activation_loops(); }

}  // namespace kernn::simd_avx512
