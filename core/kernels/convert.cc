#include "core/kernels/convert.h"

#include <cstring>

#include "core/kernels/vectorize.h"
#include "core/tensor/half.h"

namespace ember {

EMBER_VECTORIZED void StoreAs(DType type, const float* src, int64_t count, void* dst,
                              int64_t offset) {
  if (type == DType::kBF16) {
    uint16_t* out = static_cast<uint16_t*>(dst) + offset;
#pragma omp simd
    for (int64_t i = 0; i < count; ++i) out[i] = FloatToBf16(src[i]);
    return;
  }
  std::memcpy(static_cast<float*>(dst) + offset, src, static_cast<size_t>(count) * sizeof(float));
}

void F32ToBf16(const float* src, int64_t count, uint16_t* dst) {
#pragma omp parallel for if (count >= (1 << 16))
  for (int64_t i = 0; i < count; ++i) dst[i] = FloatToBf16(src[i]);
}

}  // namespace ember
