// AVX2 + FMA build of the batch-norm channel loops (see norm_channel.h); called only when
// simd_loops_avx2() says the CPU has AVX2 and FMA.
#include "../norm_channel.h"

namespace kernn::simd_avx2 {

template <typename T>
NormChannelLoops<T> norm_channel_loops() {
  return this_build_norm_channel_loops<T>();
}

template NormChannelLoops<float> norm_channel_loops<float>();
template NormChannelLoops<double> norm_channel_loops<double>();

}  // namespace kernn::simd_avx2
