// Causal multi-head / grouped-query attention over a paged KV cache, for a batch that mixes
// sequences in prefill (many query rows) and in decode (one row).
#ifndef EMBER_CORE_KERNELS_PAGED_ATTENTION_H_
#define EMBER_CORE_KERNELS_PAGED_ATTENTION_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "core/tensor/dtype.h"

namespace ember {

// One layer's K and V block pools. Block b holds `block_size` consecutive positions of one
// sequence: k, v: [num_blocks, num_kv_heads, block_size, head_dim] of `dtype` (F32 or BF16). Keys
// of one kv head are contiguous within a block so the score loop streams them.
struct KvLayerView {
  void* k = nullptr;
  void* v = nullptr;
  DType dtype = DType::kF32;
  int64_t num_blocks = 0;
  int64_t block_size = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;
};

// One sequence's slice of the step.
struct AttentionSequence {
  int64_t first_row = 0;  // first row of this sequence in the step's q / k / v / out rows
  int64_t num_rows = 0;   // query rows this step (prompt chunk length, or 1 when decoding)
  int64_t past = 0;       // positions already in the cache before this step
  const int32_t* block_table =
      nullptr;  // physical block of logical block i; covers past + num_rows
  // 0: causal (the row at position p sees [0, p]). > 0: every row sees keys [0, num_keys), the
  // cache's first num_keys positions, whatever `past` is: encoder self-attention over a source
  // and decoder cross-attention over an encoded source. Keys must already be in the cache.
  int64_t num_keys = 0;
};

// Writes the step's new keys and values into the cache: row r of sequence s goes to position
// s.past + (r - s.first_row). k_rows / v_rows: [rows, num_kv_heads * head_dim] at `row_stride`.
void StoreKv(const float* k_rows, const float* v_rows, int64_t row_stride,
             absl::Span<const AttentionSequence> sequences, const KvLayerView& cache);

// out[r, h, :] = softmax(q[r, h] . K^T * scale, causal) . V for every query row, where the query at
// position p attends to the cache positions [0, p] (or [0, num_keys) for non-causal sequences).
// Query head h reads kv head h / (num_heads / num_kv_heads). q: [rows, num_heads * head_dim] at
// q_stride (f32, RoPE applied); out: [rows, num_heads * head_dim] written as `out_type` (F32/BF16)
// at out_stride elements.
//
// Sequences with at least kMatmulAttentionMinRows rows (prompt chunks) run as oneDNN matmuls
// (core/kernels/onednn/matmul_attention.h); the rest on this file's kernel. INTERNAL when oneDNN
// fails.
inline constexpr int64_t kMatmulAttentionMinRows = 32;
absl::Status PagedAttention(const float* q, int64_t q_stride, int64_t num_heads,
                            absl::Span<const AttentionSequence> sequences, const KvLayerView& cache,
                            float scale, DType out_type, void* out, int64_t out_stride);

}  // namespace ember

#endif  // EMBER_CORE_KERNELS_PAGED_ATTENTION_H_
