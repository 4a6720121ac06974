#include "core/engine/beam_blocks.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/model/kv_cache.h"

namespace ember {

int64_t BeamGroupBlocks(int64_t prompt_tokens, int64_t longest_tokens, int64_t max_beams,
                        int64_t block_size) {
  const int64_t table = KvCache::BlocksFor(longest_tokens, block_size);
  const int64_t shared = std::min(prompt_tokens / block_size, table);
  return shared + max_beams * (table - shared);
}

BeamBlocks::BeamBlocks(std::vector<int32_t> pool, int64_t block_size)
    : block_size_(block_size), pool_size_(pool.size()), pool_(std::move(pool)) {
  std::sort(pool_.begin(), pool_.end());
  holders_.assign(pool_.size(), 0);
  // Handed out lowest id first, so a group's blocks follow the pool's order.
  free_.assign(pool_.rbegin(), pool_.rend());
  tables_.resize(1);
}

int32_t& BeamBlocks::Holders(int32_t block) {
  const auto it = std::lower_bound(pool_.begin(), pool_.end(), block);
  return holders_[static_cast<size_t>(it - pool_.begin())];
}

int32_t BeamBlocks::holders(int32_t block) const {
  const auto it = std::lower_bound(pool_.begin(), pool_.end(), block);
  if (it == pool_.end() || *it != block) return 0;
  return holders_[static_cast<size_t>(it - pool_.begin())];
}

absl::StatusOr<int32_t> BeamBlocks::TakeFree() {
  if (free_.empty()) {
    return absl::InternalError(
        absl::StrCat("beam group: all ", pool_size_, " reserved KV blocks are in use"));
  }
  const int32_t block = free_.back();
  free_.pop_back();
  Holders(block) = 1;
  return block;
}

void BeamBlocks::Release(int32_t block) {
  if (--Holders(block) == 0) free_.push_back(block);
}

absl::StatusOr<std::vector<BeamBlocks::Copy>> BeamBlocks::PrepareWrite(int32_t beam, int64_t start,
                                                                       int64_t count) {
  if (beam < 0 || beam >= num_beams()) {
    return absl::InternalError(absl::StrCat("beam group: no beam ", beam, " of ", num_beams()));
  }
  std::vector<int32_t>& table = tables_[static_cast<size_t>(beam)];
  std::vector<Copy> copies;
  const int64_t first = start / block_size_;
  const int64_t end = KvCache::BlocksFor(start + count, block_size_);
  for (int64_t i = first; i < end; ++i) {
    if (i < static_cast<int64_t>(table.size())) {
      int32_t& block = table[static_cast<size_t>(i)];
      if (Holders(block) == 1) continue;  // already this beam's alone
      absl::StatusOr<int32_t> own = TakeFree();
      if (!own.ok()) return own.status();
      const int64_t kept = std::max<int64_t>(start - i * block_size_, 0);
      if (kept > 0) copies.push_back({block, *own, kept});
      Release(block);
      block = *own;
    } else {
      absl::StatusOr<int32_t> fresh = TakeFree();
      if (!fresh.ok()) return fresh.status();
      table.push_back(*fresh);
    }
  }
  return copies;
}

absl::Status BeamBlocks::Reorder(absl::Span<const int32_t> parents) {
  for (int32_t p : parents) {
    if (p < 0 || p >= num_beams()) {
      return absl::InternalError(
          absl::StrCat("beam group: parent beam ", p, " of ", num_beams(), " beams"));
    }
  }
  std::vector<std::vector<int32_t>> next;
  next.reserve(parents.size());
  for (int32_t p : parents) {
    next.push_back(tables_[static_cast<size_t>(p)]);
    for (int32_t block : next.back()) ++Holders(block);
  }
  for (const std::vector<int32_t>& old : tables_) {
    for (int32_t block : old) Release(block);
  }
  tables_ = std::move(next);
  return absl::OkStatus();
}

absl::Span<const int32_t> BeamBlocks::table(int32_t beam) const {
  return tables_[static_cast<size_t>(beam)];
}

}  // namespace ember
