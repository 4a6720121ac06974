#include "core/engine/block_allocator.h"

#include "absl/strings/str_cat.h"

namespace ember {

BlockAllocator::BlockAllocator(int32_t num_blocks)
    : in_use_(static_cast<size_t>(std::max(num_blocks, 0)), false) {
  free_.reserve(in_use_.size());
  for (int32_t b = num_blocks - 1; b >= 0; --b) free_.push_back(b);
}

std::optional<int32_t> BlockAllocator::Allocate() {
  if (free_.empty()) return std::nullopt;
  const int32_t block = free_.back();
  free_.pop_back();
  in_use_[static_cast<size_t>(block)] = true;
  return block;
}

absl::Status BlockAllocator::Free(int32_t block) {
  if (block < 0 || block >= num_total()) {
    return absl::InternalError(
        absl::StrCat("freeing KV block ", block, " outside [0, ", num_total(), ")"));
  }
  if (!in_use_[static_cast<size_t>(block)]) {
    return absl::InternalError(absl::StrCat("double free of KV block ", block));
  }
  in_use_[static_cast<size_t>(block)] = false;
  free_.push_back(block);
  return absl::OkStatus();
}

}  // namespace ember
