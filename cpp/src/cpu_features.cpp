#include "kernn/cpu_features.h"

#include <algorithm>
#include <atomic>

#if defined(KERNN_X86)
#include <cpuid.h>

#include <cstdint>
#endif

namespace kernn {

namespace {

#if defined(KERNN_X86)
// XGETBV with ECX = 0 reads XCR0, the register-state components the OS saves. Inline asm
// because the _xgetbv intrinsic needs -mxsave, and this file is built for baseline x86-64.
std::uint64_t read_xcr0() {
  std::uint32_t eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<std::uint64_t>(edx) << 32) | eax;
}

CpuFeatures detect() {
  CpuFeatures f;
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
  const bool osxsave = (ecx >> 27) & 1;
  const bool avx = (ecx >> 28) & 1;
  const bool fma = (ecx >> 12) & 1;
  if (!osxsave || !avx) return f;
  const std::uint64_t xcr0 = read_xcr0();
  const bool ymm_state = (xcr0 & 0x6) == 0x6;     // SSE (bit 1) and AVX (bit 2) state
  const bool zmm_state = (xcr0 & 0xE0) == 0xE0;   // opmask, ZMM_Hi256, Hi16_ZMM (bits 5-7)
  if (__get_cpuid_max(0, nullptr) < 7) return f;
  __cpuid_count(7, 0, eax, ebx, ecx, edx);
  const bool avx2 = (ebx >> 5) & 1;
  const bool avx512f = (ebx >> 16) & 1;
  const bool avx512dq = (ebx >> 17) & 1;
  const bool avx512bw = (ebx >> 30) & 1;
  const bool avx512vl = (ebx >> 31) & 1;
  f.avx2_fma = ymm_state && avx2 && fma;
  f.avx512 = f.avx2_fma && zmm_state && avx512f && avx512dq && avx512bw && avx512vl;
  return f;
}
#else
CpuFeatures detect() { return {}; }
#endif

std::atomic<SimdLevel> g_simd_cap{SimdLevel::kAvx512};

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

SimdLevel simd_loops_level() {
  static const SimdLevel cpu_level = cpu_features().avx512     ? SimdLevel::kAvx512
                                     : cpu_features().avx2_fma ? SimdLevel::kAvx2
                                                               : SimdLevel::kPortable;
  return std::min(cpu_level, g_simd_cap.load(std::memory_order_relaxed));
}

bool simd_loops_avx2() { return simd_loops_level() >= SimdLevel::kAvx2; }

SimdLevel set_simd_loops(SimdLevel cap) { return g_simd_cap.exchange(cap); }

}  // namespace kernn
