#include "core/kernels/convert.h"

#include <cstring>

#include "core/kernels/vectorize.h"

namespace ember {
namespace {

inline uint16_t ToBf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof(u));
  // NaN stays a quiet NaN; everything else rounds to nearest even.
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);
  return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

}  // namespace

EMBER_VECTORIZED void StoreAs(DType type, const float* src, int64_t count, void* dst,
                              int64_t offset) {
  if (type == DType::kBF16) {
    uint16_t* out = static_cast<uint16_t*>(dst) + offset;
#pragma omp simd
    for (int64_t i = 0; i < count; ++i) out[i] = ToBf16(src[i]);
    return;
  }
  std::memcpy(static_cast<float*>(dst) + offset, src, static_cast<size_t>(count) * sizeof(float));
}

void F32ToBf16(const float* src, int64_t count, uint16_t* dst) {
#pragma omp parallel for if (count >= (1 << 16))
  for (int64_t i = 0; i < count; ++i) dst[i] = ToBf16(src[i]);
}

}  // namespace ember
