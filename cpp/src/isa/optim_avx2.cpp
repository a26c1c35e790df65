// AVX2 + FMA build of the optimizer update loops (see optim_loops.h); called only when
// simd_loops_avx2() says the CPU has AVX2 and FMA.
#include "../optim_loops.h"

namespace kernn::simd_avx2 {

template <typename T>
OptimLoops<T> optim_loops() {
  return this_build_optim_loops<T>();
}

template OptimLoops<float> optim_loops<float>();
template OptimLoops<double> optim_loops<double>();

}  // namespace kernn::simd_avx2
