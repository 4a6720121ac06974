// Storage of the paged KV cache: for every layer, K and V block pools of
// [num_blocks, num_kv_heads, block_size, head_dim]. Which block belongs to which sequence is the
// engine's business (its block allocator and block tables); this type only holds the memory.
#ifndef EMBER_CORE_MODEL_KV_CACHE_H_
#define EMBER_CORE_MODEL_KV_CACHE_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/kernels/paged_attention.h"
#include "core/model/model_config.h"
#include "core/model/weight_arena.h"

namespace ember {

class KvCache {
 public:
  // Blocks of `block_size` positions that `positions` positions occupy (the one rounding rule of
  // the paged cache, for the models, the scheduler and the engine's admission checks).
  static int64_t BlocksFor(int64_t positions, int64_t block_size) {
    return (positions + block_size - 1) / block_size;
  }

  // Bytes one block takes across all layers (K and V).
  static int64_t BytesPerBlock(const ModelConfig& config, int64_t block_size, DType dtype);

  // INVALID_ARGUMENT for non-positive sizes or a dtype other than F32/BF16; RESOURCE_EXHAUSTED
  // when the memory cannot be mapped.
  static absl::StatusOr<std::unique_ptr<KvCache>> Create(const ModelConfig& config,
                                                         int64_t num_blocks, int64_t block_size,
                                                         DType dtype);

  KvLayerView layer(int64_t index) const;

  // Copies the keys and values of the first `positions` positions of block `from` into block
  // `to`, every layer: a beam about to write into a block it shares gets its own copy this way.
  void CopyBlockPrefix(int32_t from, int32_t to, int64_t positions);
  int64_t num_layers() const { return num_layers_; }
  int64_t num_blocks() const { return num_blocks_; }
  int64_t block_size() const { return block_size_; }
  DType dtype() const { return dtype_; }
  size_t bytes() const { return memory_.capacity(); }

 private:
  KvCache(WeightArena memory, int64_t num_layers, int64_t num_blocks, int64_t block_size,
          int64_t num_kv_heads, int64_t head_dim, DType dtype);

  WeightArena memory_;  // [num_layers, 2 (K, V), num_blocks, num_kv_heads, block_size, head_dim]
  int64_t num_layers_, num_blocks_, block_size_, num_kv_heads_, head_dim_;
  DType dtype_;
};

}  // namespace ember

#endif  // EMBER_CORE_MODEL_KV_CACHE_H_
