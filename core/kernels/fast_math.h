// Vectorizable float math for hot loops. std::exp does not vectorize without -ffast-math (glibc's
// vector variants are only declared under __FAST_MATH__), and it dominates SwiGLU and attention's
// softmax once the matmuls are fast. These are branch-free, so `#pragma omp simd` loops calling
// them compile to straight vector code.
#ifndef EMBER_CORE_KERNELS_FAST_MATH_H_
#define EMBER_CORE_KERNELS_FAST_MATH_H_

#include <bit>
#include <cstdint>

namespace ember {

// e^x for f32 with a relative error below 2e-7 over the whole range (Cephes-style: x = n ln2 + r,
// |r| <= ln2/2, e^r by a degree-6 polynomial, 2^n through the exponent bits). Inputs below -87.3
// give 0 (as e^x underflows there anyway, denormals are flushed); above 88.7 give +inf. NaN is not
// propagated (callers feed finite values or -inf, which gives 0).
inline float FastExp(float x) {
  const float kLog2e = 1.44269504088896341f;
  const float kLn2Hi = 0.693359375f;
  const float kLn2Lo = -2.12194440e-4f;
  const bool underflow = x < -87.33654f;
  const bool overflow = x > 88.72283f;
  x = x < -87.33654f ? -87.33654f : (x > 88.72283f ? 88.72283f : x);
  float n = x * kLog2e;
  // Round to nearest via the 1.5 * 2^23 trick (exact for |n| < 2^22).
  const float kRound = 12582912.0f;
  n = (n + kRound) - kRound;
  float r = x - n * kLn2Hi;
  r = r - n * kLn2Lo;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t e = static_cast<int32_t>(n) + 127;
  // n in [-126, 128]: 2^n as float bits; e = 255 (n = 128) only reached on overflow.
  const float scale = std::bit_cast<float>(static_cast<uint32_t>(e < 1 ? 1 : e) << 23);
  float result = p * scale;
  result = underflow ? 0.0f : result;
  result = overflow ? std::bit_cast<float>(0x7f800000u) : result;
  return result;
}

}  // namespace ember

#endif  // EMBER_CORE_KERNELS_FAST_MATH_H_
