// Element-wise activation kernels that oneDNN cannot fuse as a post-op.
#ifndef EMBER_CORE_KERNELS_ACTIVATION_H_
#define EMBER_CORE_KERNELS_ACTIVATION_H_

#include <cstdint>

#include "core/tensor/dtype.h"

namespace ember {

// SwiGLU: gate_up is [m, 2 * n] with the gate projection in columns [0, n) and the up projection in
// [n, 2n) (one fused matmul); out[m, n] = silu(gate) * up, written as `out_type` (F32 or BF16).
void SiluMul(const float* gate_up, int64_t m, int64_t n, DType out_type, void* out);

}  // namespace ember

#endif  // EMBER_CORE_KERNELS_ACTIVATION_H_
