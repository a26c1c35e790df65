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

// The element-wise families (float exp/sigmoid/tanh, batch norm, the optimizer updates, 2x2 max
// pooling) have an AVX2 + FMA build of their loops, chosen at run time. simd_loops_avx2() says
// whether it is in use (the CPU has AVX2 + FMA and it is not switched off); set_simd_loops(false)
// switches it off so that tests can check the portable build on any CPU, and returns the
// previous setting.
bool simd_loops_avx2();
bool set_simd_loops(bool enabled);

}  // namespace kernn
