// Causal attention for one sequence's long prompt chunk as oneDNN matmuls: per kv head,
// S = Q_g K^T and O = P V over the chunk's query rows (all heads of the group stacked) and the
// keys they may see, with a vectorized causal softmax in between. At prefill sizes this runs at
// GEMM speed, several times the per-row kernel of core/kernels/paged_attention.cc, which keeps
// decode rows and short chunks (where it wins: no gather, no primitive lookup).
//
// dnnl.hpp stays inside core/kernels/onednn/*.cc: this header exposes only plain types.
#ifndef EMBER_CORE_KERNELS_ONEDNN_MATMUL_ATTENTION_H_
#define EMBER_CORE_KERNELS_ONEDNN_MATMUL_ATTENTION_H_

#include <cstdint>

#include "absl/status/status.h"
#include "core/kernels/paged_attention.h"
#include "core/tensor/dtype.h"

namespace ember::onednn {

// Same contract as PagedAttention for the single sequence `s` (its rows must already be in the
// cache, see StoreKv). The matmuls run in the cache's dtype (F32, or BF16 with f32 accumulation;
// probabilities are rounded to bf16 then, as fused attention kernels do). Primitives are cached per
// shape, so a step's layers share them; scratch is per calling thread. INTERNAL on a oneDNN error.
absl::Status MatmulAttention(const float* q, int64_t q_stride, int64_t num_heads,
                             const AttentionSequence& s, const KvLayerView& cache, float scale,
                             DType out_type, void* out, int64_t out_stride);

// The shape class of a panel's key count: rounded up to a multiple of 16 up to 256 keys, then to
// an eighth of the octave (at most 12.5% padding). Primitives exist per class.
int64_t KeyClass(int64_t keys);

// Compiles the primitives of every panel shape class up to `max_keys` keys into oneDNN's primitive
// cache (the engine calls it once before serving), so a prompt of a new length costs a cache
// lookup per thread, not a JIT compile. `group` = query heads per kv head.
absl::Status PrepareMatmulAttention(DType type, int64_t head_dim, int64_t group, int64_t max_keys);

}  // namespace ember::onednn

#endif  // EMBER_CORE_KERNELS_ONEDNN_MATMUL_ATTENTION_H_
