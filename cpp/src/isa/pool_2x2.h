// The 2x2 stride-2 max-pool row kernel, shared by the portable build (pool.cpp) and the AVX2
// build (pool_avx2.cpp), where the compiler vectorises it (the baseline x86-64 ISA cannot
// vectorise the float/int64 selects). Internal linkage: each file keeps its own copy, so the
// linker can never hand the AVX2 one to a CPU without AVX2.
#pragma once

#include <cstdint>

namespace kernn {
namespace {

// One output row: y[ow], idx[ow] over the 2x2 window at columns 2*ow, 2*ow + 1 of rows r0, r1.
// Four taps in torch's scan order with torch's update rule (greater, or NaN), so ties keep the
// first maximum and the last NaN wins. Starting from the first tap equals torch's start from
// -inf with the first tap's index. Branch-free selects (| on the comparisons) vectorise.
template <typename T>
inline void max_pool2x2_row(const T* __restrict r0, const T* __restrict r1, std::int64_t W,
                            std::int64_t Wo, std::int64_t row_base, T* __restrict y,
                            std::int64_t* __restrict idx) {
  for (std::int64_t ow = 0; ow < Wo; ++ow) {
    const T a = r0[2 * ow], b = r0[2 * ow + 1], c = r1[2 * ow], d = r1[2 * ow + 1];
    T best = a;
    std::int64_t off = 0;
    const bool take_b = (b > best) | (b != b);
    best = take_b ? b : best;
    off = take_b ? 1 : off;
    const bool take_c = (c > best) | (c != c);
    best = take_c ? c : best;
    off = take_c ? W : off;
    const bool take_d = (d > best) | (d != d);
    best = take_d ? d : best;
    off = take_d ? W + 1 : off;
    y[ow] = best;
    idx[ow] = row_base + 2 * ow + off;
  }
}

}  // namespace
}  // namespace kernn
