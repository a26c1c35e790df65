// Lane-wise partial sums for reductions (batch-norm statistics, conv bias gradient):
// kLanes independent double accumulators break the add-latency chain (and let the compiler
// vectorise) while the summation order stays fixed, so results are reproducible bit for bit.
// 16 lanes are four AVX2 registers of doubles (eight SSE2 ones): enough independent adds to
// keep either build busy. Internal linkage, because the header is also compiled into AVX2
// translation units (isa/loops_avx2.cpp).
#pragma once

#include <cstdint>

namespace kernn {
namespace detail {
namespace {

constexpr int kLanes = 16;

struct LaneSum {
  double lane[kLanes] = {};
  double total() const {
    double t = 0;
    for (int j = 0; j < kLanes; ++j) t += lane[j];
    return t;
  }
};

// acc += sum of f(i) for i in [0, n), term i going to lane i % kLanes.
template <typename F>
inline void lane_sum(LaneSum& acc, std::int64_t n, F&& f) {
  std::int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int j = 0; j < kLanes; ++j) acc.lane[j] += f(i + j);
  }
  for (int j = 0; i < n; ++i, ++j) acc.lane[j] += f(i);
}

}  // namespace
}  // namespace detail
}  // namespace kernn
