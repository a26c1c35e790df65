// Branch-free float exp / tanh / sigmoid / erf / log1p / expm1 and fixed-order row reductions,
// written so that GCC and Clang vectorise the loops that call them (libm's expf / tanhf / erff
// are scalar calls). Double keeps libm: it is the reference precision, not the hot path.
//
// Accuracy (float): exp within 2 ulp over its whole range, subnormal results included (Cephes
// expf's polynomial after reduction to |r| <= ln2/2; the 2^n scale is applied in two exact
// steps). tanh within a few ulp; erf: see erf. NaN propagates; exp(-inf) = 0, exp(+inf) = +inf.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

// Everything here has internal linkage (anonymous namespace): the header is also compiled into
// the SIMD translation units (isa/activations_avx2.cpp, isa/activations_avx512.cpp,
// isa/loops_avx2.cpp), and a shared inline copy could let the linker hand SIMD code to the
// baseline path. For the same reason fabs and copysign are the
// compiler builtins, not std::fabs(float) and friends (inline, external linkage).
namespace kernn::vmath {
namespace {

// c ? a : b through the bits. GCC (12) will not if-convert a `?:` on floats whose result feeds
// further arithmetic unless -fno-trapping-math, so a plain `?:` here would keep the loops
// scalar; the bitwise form vectorises and gives the same value.
inline float select(bool c, float a, float b) {
  std::int32_t ia, ib;
  std::memcpy(&ia, &a, sizeof ia);
  std::memcpy(&ib, &b, sizeof ib);
  const std::int32_t mask = -static_cast<std::int32_t>(c);
  const std::int32_t r = (ia & mask) | (ib & ~mask);
  float f;
  std::memcpy(&f, &r, sizeof f);
  return f;
}

inline double select(bool c, double a, double b) { return c ? a : b; }

inline float pow2_normal(std::int32_t n) {  // 2^n for n in [-126, 127]
  const std::int32_t bits = (n + 127) << 23;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// exp(xc) for xc in [-104, 89] or NaN: exp's and exp_nonpositive's common part.
inline float exp_in_range(float xc) {
  // n = round(x / ln2) with the 1.5 * 2^23 trick (exact for |x / ln2| < 2^22).
  const float magic = 12582912.0f;
  float fn = (xc * 1.44269504088896341f + magic) - magic;
  fn = select(fn != fn, 0.0f, fn);  // NaN: any n will do, the polynomial carries the NaN
  // r = x - n * ln2 in two parts (Cephes' C1 + C2 = ln2; n * C1 is exact).
  const float r = (xc - fn * 0.693359375f) - fn * -2.12194440e-4f;
  const float z = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float er = (p * z + r) + 1.0f;
  const std::int32_t n = static_cast<std::int32_t>(fn);  // in [-150, 129]
  const std::int32_t n1 = n >> 1;                        // both halves are normal exponents
  return er * pow2_normal(n1) * pow2_normal(n - n1);
}

// Beyond these the result is 0 or +inf; clamping keeps n in range. Comparisons with NaN are
// false, so NaN passes through the clamps.
inline float exp(float x) {
  const float xc = select(x < -104.0f, -104.0f, x);
  return exp_in_range(select(xc > 89.0f, 89.0f, xc));
}

// exp(x) for x <= 0 or NaN (the softmax rows' x - max), without exp's upper clamp: the same
// values in two fewer vector operations of about 30.
inline float exp_nonpositive(float x) { return exp_in_range(select(x < -104.0f, -104.0f, x)); }

inline double exp(double x) { return std::exp(x); }
inline double exp_nonpositive(double x) { return std::exp(x); }

// |x| and sqrt through the builtins: std::abs / std::sqrt are inline functions with external
// linkage, and in an unoptimised build the linker could keep an AVX2 translation unit's copy
// for the baseline loops.
inline float abs_of(float x) { return __builtin_fabsf(x); }
inline double abs_of(double x) { return __builtin_fabs(x); }
inline float sqrt_of(float x) { return __builtin_sqrtf(x); }
inline double sqrt_of(double x) { return __builtin_sqrt(x); }

inline float tanh(float x) {
  const float a = abs_of(x);
  // |x| < 0.625: Cephes tanhf's odd polynomial (no cancellation near 0).
  const float s = x * x;
  float p = -5.70498872745e-3f;
  p = p * s + 2.06390887954e-2f;
  p = p * s - 5.37397155531e-2f;
  p = p * s + 1.33314422036e-1f;
  p = p * s - 3.33332819422e-1f;
  const float small = p * s * x + x;
  // Otherwise 1 - 2 / (exp(2|x|) + 1): exact 1 once exp overflows to inf.
  const float big = 1.0f - 2.0f / (exp(2.0f * a) + 1.0f);
  // x's sign on both: tanh is odd, and the polynomial alone gives +0 for -0 (+0 is added to
  // -0), where tanh(-0) is -0 (torch's too).
  return __builtin_copysignf(select(a < 0.625f, small, big), x);
}

inline double tanh(double x) { return std::tanh(x); }

// erf for float, branch-free: |x| < 1: x * P(x^2), P a fit of erf(x) / x in x^2 on [0, 1];
// otherwise 1 - exp(-x^2) * Q(|x|), Q a fit of erfcx(x) = exp(x^2) * erfc(x) on [1, 4] in
// u = (|x| - 2.5) / 1.5 (|x| clamped at 4: erf rounds to 1 from 3.92 on), the sign copied from
// x. Both fits are Chebyshev least squares in double (numpy, against scipy's erf / erfcx)
// turned into the power basis. Accuracy (float, measured over dense sweeps): 3 ulp for
// |x| < 1, 1.5e-7 absolute beyond (about 1 ulp of 1 - the size that matters to GELU, which
// adds 1). NaN propagates; erf(+-inf) = +-1.
inline float erf(float x) {
  const float a = abs_of(x);
  const float s = x * x;
  float p = 7.878967311305556e-05f;
  p = p * s - 8.014541904901368e-04f;
  p = p * s + 5.188377493882263e-03f;
  p = p * s - 2.6853534982862654e-02f;
  p = p * s + 1.1283567864730595e-01f;
  p = p * s - 3.7612622515012556e-01f;
  p = p * s + 1.128379164194907f;
  const float small = x * p;
  const float u = (select(a > 4.0f, 4.0f, a) - 2.5f) * (1.0f / 1.5f);
  float q = 1.3582529730232766e-05f;
  q = q * u - 3.626657514132477e-05f;
  q = q * u + 5.561073007480006e-05f;
  q = q * u - 1.456397421078265e-04f;
  q = q * u + 4.1381515435238384e-04f;
  q = q * u - 1.015560500763407e-03f;
  q = q * u + 2.4020324101204013e-03f;
  q = q * u - 5.56795364032624e-03f;
  q = q * u + 1.2489633086471488e-02f;
  q = q * u - 2.7005625667299738e-02f;
  q = q * u + 5.6110478018928e-02f;
  q = q * u - 1.115210090921876e-01f;
  q = q * u + 2.1080636420935525e-01f;
  const float big = __builtin_copysignf(1.0f - exp(-s) * q, x);
  return select(a < 1.0f, small, big);
}

inline double erf(double x) { return std::erf(x); }

// log1p(z) for z in [0, 1] (softplus and log-sigmoid take log1p(exp(-|x|))): z * P(z), P a
// Chebyshev fit of log1p(z) / z on [0, 1] (as erf's). Float: within 2 ulp; NaN propagates.
inline float log1p_unit(float z) {
  float p = -3.2140704703880734e-03f;
  p = p * z + 1.964936977755278e-02f;
  p = p * z - 5.6435516149382574e-02f;
  p = p * z + 1.0533290727954103e-01f;
  p = p * z - 1.5251498095770857e-01f;
  p = p * z + 1.9651512824966524e-01f;
  p = p * z - 2.494781434679284e-01f;
  p = p * z + 3.332909985774837e-01f;
  p = p * z - 4.999985085870813e-01f;
  p = p * z + 9.999999869764085e-01f;
  return z * p;
}

inline double log1p_unit(double z) { return std::log1p(z); }

// expm1(x) for x <= 0 (ELU's negative side): x * P(x) on [-0.7, 0], P a Chebyshev fit of
// expm1(x) / x there (exp(x) - 1 would cancel), exp(x) - 1 below (exp(x) < 0.5: no
// cancellation). Float: within 2 ulp; -1 for x <= -104; NaN propagates.
inline float expm1_negative(float x) {
  float p = 1.4664344884312308e-04f;
  p = p * x + 1.3414525073100862e-03f;
  p = p * x + 8.310916795697712e-03f;
  p = p * x + 4.166105658961952e-02f;
  p = p * x + 1.6666596774224882e-01f;
  p = p * x + 4.999999640525909e-01f;
  p = p * x + 9.999999995534943e-01f;
  return select(x > -0.7f, x * p, exp(x) - 1.0f);
}

inline double expm1_negative(double x) { return std::expm1(x); }

// 1 / (1 + exp(-x)) for x >= 0 and exp(x) / (1 + exp(x)) for x < 0: exp never overflows, and
// the limits are exactly 0 and 1 as in torch.
template <typename T>
inline T sigmoid(T x) {
  const T e = exp(-abs_of(x));
  return select(x >= T(0), T(1), e) / (T(1) + e);
}

// Lanes of the fixed-order reductions below: element j goes to lane j % kLanes, lanes are
// combined in lane order. Enough independent chains to vectorise and hide add latency; the
// order depends only on the length, never on threads.
constexpr std::int64_t kLanes = 8;

// lane[j % kLanes] += v[j] for j < n, in order of j: sum's first step, which a caller may take
// piece by piece (pieces of whole multiples of kLanes but the last give the same lanes).
template <typename T>
void add_to_lanes(std::int64_t n, const T* v, double* lane) {
  std::int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes) {
    for (std::int64_t k = 0; k < kLanes; ++k) lane[k] += static_cast<double>(v[j + k]);
  }
  for (std::int64_t k = 0; j + k < n; ++k) lane[k] += static_cast<double>(v[j + k]);
}

// The lanes added in lane order: sum's last step.
inline double lanes_total(const double* lane) {
  double s = 0.0;
  for (std::int64_t k = 0; k < kLanes; ++k) s += lane[k];
  return s;
}

// sum_j v[j] in double.
template <typename T>
double sum(std::int64_t n, const T* v) {
  double lane[kLanes] = {};
  add_to_lanes(n, v, lane);
  return lanes_total(lane);
}

// sum_j a[j] * b[j] in double.
template <typename T>
double dot(std::int64_t n, const T* a, const T* b) {
  double lane[kLanes] = {};
  std::int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes) {
    for (std::int64_t k = 0; k < kLanes; ++k) {
      lane[k] += static_cast<double>(a[j + k]) * static_cast<double>(b[j + k]);
    }
  }
  for (std::int64_t k = 0; j + k < n; ++k) {
    lane[k] += static_cast<double>(a[j + k]) * static_cast<double>(b[j + k]);
  }
  double s = 0.0;
  for (std::int64_t k = 0; k < kLanes; ++k) s += lane[k];
  return s;
}

// max_j v[j] (-inf for n == 0), ignoring NaN; callers feed the maximum into exp(v - max),
// where a NaN element still makes the row NaN, as torch.
template <typename T>
T max(std::int64_t n, const T* v) {
  T lane[kLanes];
  for (std::int64_t k = 0; k < kLanes; ++k) lane[k] = -INFINITY;
  std::int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes) {
    for (std::int64_t k = 0; k < kLanes; ++k) lane[k] = v[j + k] > lane[k] ? v[j + k] : lane[k];
  }
  for (std::int64_t k = 0; j + k < n; ++k) lane[k] = v[j + k] > lane[k] ? v[j + k] : lane[k];
  T m = lane[0];
  for (std::int64_t k = 1; k < kLanes; ++k) m = lane[k] > m ? lane[k] : m;
  return m;
}

}  // namespace
}  // namespace kernn::vmath
