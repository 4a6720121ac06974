#include "core/model/kv_cache.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"

namespace ember {

int64_t KvCache::BytesPerBlock(const ModelConfig& config, int64_t block_size, DType dtype) {
  return config.num_layers * 2 * config.num_kv_heads * block_size * config.head_dim *
         static_cast<int64_t>(DTypeSize(dtype));
}

absl::StatusOr<std::unique_ptr<KvCache>> KvCache::Create(const ModelConfig& config,
                                                         int64_t num_blocks, int64_t block_size,
                                                         DType dtype) {
  if (num_blocks <= 0 || block_size <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("KV cache: num_blocks (", num_blocks,
                                                   ") and block_size (", block_size,
                                                   ") must be positive"));
  }
  if (dtype != DType::kF32 && dtype != DType::kBF16) {
    return absl::InvalidArgumentError(
        absl::StrCat("KV cache: dtype ", DTypeName(dtype), " (use F32 or BF16)"));
  }
  const int64_t bytes = BytesPerBlock(config, block_size, dtype) * num_blocks;
  // WeightArena gives 2 MiB-aligned, huge-page-advised anonymous memory, which suits the cache too;
  // pages are only touched (and counted in RSS) as blocks are first written.
  ASSIGN_OR_RETURN(WeightArena memory, WeightArena::Create(static_cast<size_t>(bytes)));
  if (memory.Allocate(static_cast<size_t>(bytes)) == nullptr && bytes > 0) {
    return absl::InternalError("KV cache: arena undersized");
  }
  return std::unique_ptr<KvCache>(new KvCache(std::move(memory), config.num_layers, num_blocks,
                                              block_size, config.num_kv_heads, config.head_dim,
                                              dtype));
}

KvCache::KvCache(WeightArena memory, int64_t num_layers, int64_t num_blocks, int64_t block_size,
                 int64_t num_kv_heads, int64_t head_dim, DType dtype)
    : memory_(std::move(memory)),
      num_layers_(num_layers),
      num_blocks_(num_blocks),
      block_size_(block_size),
      num_kv_heads_(num_kv_heads),
      head_dim_(head_dim),
      dtype_(dtype) {}

KvLayerView KvCache::layer(int64_t index) const {
  const int64_t pool = num_blocks_ * num_kv_heads_ * block_size_ * head_dim_ *
                       static_cast<int64_t>(DTypeSize(dtype_));
  // The arena's memory is mutable; KvLayerView hands it to kernels that write new keys/values.
  char* base = static_cast<char*>(const_cast<void*>(memory_.base())) + index * 2 * pool;
  KvLayerView view;
  view.k = base;
  view.v = base + pool;
  view.dtype = dtype_;
  view.num_blocks = num_blocks_;
  view.block_size = block_size_;
  view.num_kv_heads = num_kv_heads_;
  view.head_dim = head_dim_;
  return view;
}

void KvCache::CopyBlockPrefix(int32_t from, int32_t to, int64_t positions) {
  const size_t slot_bytes = static_cast<size_t>(head_dim_) * DTypeSize(dtype_);
  const size_t head_bytes = static_cast<size_t>(block_size_) * slot_bytes;
  const size_t bytes = static_cast<size_t>(std::min(positions, block_size_)) * slot_bytes;
  for (int64_t l = 0; l < num_layers_; ++l) {
    const KvLayerView view = layer(l);
    for (void* pool : {view.k, view.v}) {
      char* base = static_cast<char*>(pool);
      for (int64_t h = 0; h < num_kv_heads_; ++h) {
        std::memcpy(base + static_cast<size_t>(to * num_kv_heads_ + h) * head_bytes,
                    base + static_cast<size_t>(from * num_kv_heads_ + h) * head_bytes, bytes);
      }
    }
  }
}

}  // namespace ember
