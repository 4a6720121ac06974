#include "core/tensor/half.h"

#include <cstring>

namespace ember {

void WidenToF32(const void* src, DType dtype, size_t count, float* dst) {
  const auto* bytes = static_cast<const unsigned char*>(src);
  if (dtype == DType::kF32) {
    std::memcpy(dst, bytes, count * sizeof(float));
    return;
  }
  for (size_t i = 0; i < count; ++i) {
    uint16_t h;
    std::memcpy(&h, bytes + 2 * i, sizeof(h));
    dst[i] = dtype == DType::kBF16 ? Bf16ToFloat(h) : HalfToFloat(h);
  }
}

}  // namespace ember
