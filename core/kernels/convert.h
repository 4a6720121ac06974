// Conversions between f32 working values and the compute type of the next matmul.
#ifndef EMBER_CORE_KERNELS_CONVERT_H_
#define EMBER_CORE_KERNELS_CONVERT_H_

#include <cstdint>

#include "core/tensor/dtype.h"

namespace ember {

// Writes `count` f32 values into `dst` (of type `type`: F32 or BF16, round-to-nearest-even) at
// element offset `offset`.
void StoreAs(DType type, const float* src, int64_t count, void* dst, int64_t offset);

// dst[i] = bf16(src[i]) for `count` values, parallel for large counts.
void F32ToBf16(const float* src, int64_t count, uint16_t* dst);

}  // namespace ember

#endif  // EMBER_CORE_KERNELS_CONVERT_H_
