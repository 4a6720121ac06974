// Hands out the KV cache's fixed-size blocks. Owned by the engine loop thread (not thread-safe).
#ifndef EMBER_CORE_ENGINE_BLOCK_ALLOCATOR_H_
#define EMBER_CORE_ENGINE_BLOCK_ALLOCATOR_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/status.h"

namespace ember {

class BlockAllocator {
 public:
  explicit BlockAllocator(int32_t num_blocks);

  // A free block, or nullopt when none is left. Lowest ids first after a fresh start; freed blocks
  // are reused most-recently-freed first (their pages are warm).
  std::optional<int32_t> Allocate();

  // Returns a block. INTERNAL (and no change) when `block` is out of range or already free: a
  // double free would let two sequences share a block.
  absl::Status Free(int32_t block);

  int32_t num_total() const { return static_cast<int32_t>(in_use_.size()); }
  int32_t num_free() const { return static_cast<int32_t>(free_.size()); }
  int32_t num_used() const { return num_total() - num_free(); }

 private:
  std::vector<int32_t> free_;  // stack of free block ids
  std::vector<bool> in_use_;   // [num_blocks]
};

}  // namespace ember

#endif  // EMBER_CORE_ENGINE_BLOCK_ALLOCATOR_H_
