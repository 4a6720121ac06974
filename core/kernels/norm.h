// Vectorized normalization kernels (row-wise over the hidden dimension). Each writes its output in
// the compute type of the next matmul, so the normalized activations never take an extra pass.
#ifndef EMBER_CORE_KERNELS_NORM_H_
#define EMBER_CORE_KERNELS_NORM_H_

#include <cstdint>

#include "core/tensor/dtype.h"

namespace ember {

// y[m, n] = LayerNorm(x[m, n]) * gamma + beta, y of type `out` (F32 or BF16).
void LayerNormRows(const float* x, int64_t m, int64_t n, const float* gamma, const float* beta,
                   float eps, DType out, void* y);

// y[m, n] = x / sqrt(mean(x^2) + eps) * gamma (LlamaRMSNorm: normalizes in f32, then scales).
void RmsNormRows(const float* x, int64_t m, int64_t n, const float* gamma, float eps, DType out,
                 void* y);

}  // namespace ember

#endif  // EMBER_CORE_KERNELS_NORM_H_
