// Run-time quantization of a matmul's activations (the x of y = x W^T) to int8, per row and per
// group of `group_size` input features: s = max|x| / 127 (f32), q = clamp(round_half_even(x *
// (127 / max|x|)), -127, 127), and the group's sum of q, which the kernels need to remove the
// weight codes' offset. A group that is all zero gets s = 0 and q = 0. Non-finite inputs are not
// expected (they come from a model that already diverged); they quantize as 0.
#ifndef EMBER_CORE_KERNELS_QUANT_ACTIVATION_QUANT_H_
#define EMBER_CORE_KERNELS_QUANT_ACTIVATION_QUANT_H_

#include <cstdint>
#include <vector>

#include "core/kernels/quant/quant_format.h"
#include "core/tensor/dtype.h"

namespace ember::quant {

struct QuantizedActivations {
  int64_t rows = 0;
  int64_t padded_k = 0;  // the weights' Kp: zero-padded
  int64_t groups = 0;
  std::vector<int8_t> q;     // [rows, padded_k]
  std::vector<float> scale;  // [rows, groups]
  std::vector<int32_t> sum;  // [rows, groups]

  const int8_t* row_q(int64_t r) const { return q.data() + r * padded_k; }
  const float* row_scale(int64_t r) const { return scale.data() + r * groups; }
  const int32_t* row_sum(int64_t r) const { return sum.data() + r * groups; }
};

// Sizes out's buffers for `rows` rows of geometry `g` (so a later QuantizeActivations of at most
// that many rows allocates nothing).
void ReserveActivations(int64_t rows, const PackedGeometry& g, QuantizedActivations* out);

// Quantizes x [rows, k] (row stride k) for weights of geometry `g` and `scheme`. x is f32 or
// bf16 (the model's compute type; a bf16 value quantizes exactly as its f32 widening). Reuses
// out's buffers (no allocation once they are large enough). Runs the AVX-512 implementation where
// the CPU has it (bit for bit the same results), over the intra-op threads for large inputs.
void QuantizeActivations(const void* x, DType dtype, int64_t rows, int64_t k,
                         const QuantScheme& scheme, const PackedGeometry& g,
                         QuantizedActivations* out);
inline void QuantizeActivations(const float* x, int64_t rows, int64_t k, const QuantScheme& scheme,
                                const PackedGeometry& g, QuantizedActivations* out) {
  QuantizeActivations(x, DType::kF32, rows, k, scheme, g, out);
}

// One row each (out's buffers already sized by the caller): the portable statement of the scheme,
// and the AVX-512 one (only where the CPU has AVX512F/BW). For tests and the dispatcher.
void QuantizeActivationRowReference(const void* x, DType dtype, int64_t row, int64_t k,
                                    const QuantScheme& scheme, QuantizedActivations* out);
void QuantizeActivationRowAvx512(const void* x, DType dtype, int64_t row, int64_t k,
                                 const QuantScheme& scheme, QuantizedActivations* out);
bool HasAvx512ActivationQuant();

}  // namespace ember::quant

#endif  // EMBER_CORE_KERNELS_QUANT_ACTIVATION_QUANT_H_
