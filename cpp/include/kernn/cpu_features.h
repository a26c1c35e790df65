// Run-time CPU feature detection for choosing SIMD kernels.
//
// An ISA counts as available only when the CPU has the instructions (CPUID) and the operating
// system saves the registers they use across context switches (XGETBV: XCR0 has the YMM state
// for AVX2, and the opmask/ZMM states for AVX-512). On non-x86 builds everything is false.
#pragma once

namespace kernn {

struct CpuFeatures {
  bool avx2_fma = false;  // AVX, AVX2 and FMA3, with YMM state enabled by the OS
  bool avx512 = false;    // AVX-512 F, DQ, BW, VL, with opmask and ZMM state enabled by the OS
};

// Detected once, on first call.
const CpuFeatures& cpu_features();

// The element-wise families (float exp/sigmoid/tanh and the softmax row loops, batch norm, the
// optimizer updates, 2x2 max pooling) have SIMD builds of their loops, chosen at run time: AVX2
// + FMA for all of them, AVX-512 for the float activation loops. simd_loops_level() is the
// level in use: the best the CPU has, capped by set_simd_loops (tests cap it to check the
// AVX2 and portable builds on any CPU; it returns the previous cap). simd_loops_avx2() says
// whether the level is at least AVX2.
enum class SimdLevel { kPortable = 0, kAvx2 = 1, kAvx512 = 2 };

SimdLevel simd_loops_level();
bool simd_loops_avx2();
SimdLevel set_simd_loops(SimdLevel cap);

}  // namespace kernn
