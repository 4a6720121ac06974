// Quantizes a weight matrix from a checkpoint's dtype into the packed layout of quant_format.h,
// at load (no conversion step, no second file). Runs on the loader's thread with its OpenMP team.
#ifndef EMBER_CORE_KERNELS_QUANT_QUANTIZE_WEIGHTS_H_
#define EMBER_CORE_KERNELS_QUANT_QUANTIZE_WEIGHTS_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "core/kernels/quant/quant_format.h"
#include "core/tensor/dtype.h"

namespace ember::quant {

struct WeightMatrixSource {
  const void* data = nullptr;  // any alignment
  DType dtype = DType::kF32;   // F32, BF16 or F16
  int64_t n = 0;               // output features (rows of W)
  int64_t k = 0;               // input features
  bool k_major = false;        // false: [n, k] (torch.nn.Linear); true: [k, n] (GPT-2 Conv1D)
};

// Packs `source` into `out` (PackedGeometry::Of(n, k, scheme).total_bytes, 64-byte aligned) and
// returns the view. Non-finite weights are quantized as 0 (so every scale is finite); how many
// there were is stored in *non_finite when given, for the loader's warning. INVALID_ARGUMENT for a
// bad scheme, dtype or size.
absl::StatusOr<PackedMatrix> QuantizeWeights(const WeightMatrixSource& source,
                                             const QuantScheme& scheme, void* out,
                                             int64_t* non_finite = nullptr);

}  // namespace ember::quant

#endif  // EMBER_CORE_KERNELS_QUANT_QUANTIZE_WEIGHTS_H_
