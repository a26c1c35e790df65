// AVX2 + FMA builds of the loop headers that must give the portable builds' bits: the
// batch-norm channel loops (norm_channel.h) and the optimizer updates (optim_loops.h). Compiled
// with -ffp-contract=off and -fno-math-errno (CMakeLists.txt); called only when
// simd_loops_avx2() says the SIMD level in use (the CPU's, capped by set_simd_loops) is at
// least AVX2 + FMA.
#include "../norm_channel.h"
#include "../optim_loops.h"

namespace kernn::simd_avx2 {

template <typename T>
NormChannelLoops<T> norm_channel_loops() {
  return this_build_norm_channel_loops<T>();
}

template <typename T>
OptimLoops<T> optim_loops() {
  return this_build_optim_loops<T>();
}

template NormChannelLoops<float> norm_channel_loops<float>();
template NormChannelLoops<double> norm_channel_loops<double>();
template OptimLoops<float> optim_loops<float>();
template OptimLoops<double> optim_loops<double>();

}  // namespace kernn::simd_avx2
