// AVX2 + FMA build of the float activation loops (see activations_simd.h); used only when
// CPUID reports AVX2 and FMA.
#include "../activations_simd.h"

namespace kernn::simd_avx2 {

const ActivationLoops& activation_loops() { return this_build_activation_loops(); }

}  // namespace kernn::simd_avx2
