#include "core/engine/block_allocator.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace ember {

namespace {

// splitmix64's finalizer: every input bit reaches every output bit.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

BlockKey ChainBlockKey(const BlockKey& parent, absl::Span<const int32_t> tokens) {
  // Two independent 64-bit chains (different seeds and orders of mixing): a collision needs both.
  uint64_t lo = Mix(parent.lo ^ 0x243f6a8885a308d3ULL);
  uint64_t hi = Mix(parent.hi + 0x13198a2e03707344ULL);
  for (int32_t t : tokens) {
    const uint64_t v = static_cast<uint32_t>(t);
    lo = Mix(lo ^ v);
    hi = Mix(hi + (v << 17) + 0xa4093822299f31d0ULL);
  }
  lo = Mix(lo ^ tokens.size());
  hi = Mix(hi ^ (tokens.size() << 7));
  return {lo, hi};
}

BlockAllocator::BlockAllocator(int32_t num_blocks)
    : refs_(static_cast<size_t>(std::max(num_blocks, 0)), 0) {
  free_.reserve(refs_.size());
  for (int32_t b = num_blocks - 1; b >= 0; --b) free_.push_back(b);
}

std::optional<int32_t> BlockAllocator::Allocate() {
  int32_t block = -1;
  if (!free_.empty()) {
    block = free_.back();
    free_.pop_back();
  } else if (!evictable_.empty()) {
    block = evictable_.begin()->second;
    Uncache(block);
    ++evictions_;
  } else {
    return std::nullopt;
  }
  refs_[static_cast<size_t>(block)] = 1;
  return block;
}

void BlockAllocator::Uncache(int32_t block) {
  auto it = cached_.find(block);
  if (it == cached_.end()) return;
  if (it->second.evictable) evictable_.erase({it->second.released, block});
  by_key_.erase(it->second.key);
  cached_.erase(it);
}

absl::Status BlockAllocator::Free(int32_t block) {
  if (block < 0 || block >= num_total()) {
    return absl::InternalError(
        absl::StrCat("freeing KV block ", block, " outside [0, ", num_total(), ")"));
  }
  int32_t& refs = refs_[static_cast<size_t>(block)];
  if (refs <= 0) return absl::InternalError(absl::StrCat("double free of KV block ", block));
  if (--refs > 0) return absl::OkStatus();
  auto it = cached_.find(block);
  if (it != cached_.end()) {
    it->second.evictable = true;
    it->second.released = next_release_++;
    evictable_.emplace(it->second.released, block);
  } else {
    free_.push_back(block);
  }
  return absl::OkStatus();
}

std::optional<int32_t> BlockAllocator::AcquireCached(const BlockKey& key,
                                                     absl::Span<const int32_t> tokens) {
  if (!caching_) return std::nullopt;
  auto found = by_key_.find(key);
  if (found == by_key_.end()) return std::nullopt;
  const int32_t block = found->second;
  Cached& cached = cached_.at(block);
  if (!std::equal(cached.tokens.begin(), cached.tokens.end(), tokens.begin(), tokens.end())) {
    return std::nullopt;  // a 128-bit collision: never expected, never served
  }
  if (cached.evictable) {
    evictable_.erase({cached.released, block});
    cached.evictable = false;
  }
  ++refs_[static_cast<size_t>(block)];
  return block;
}

void BlockAllocator::RegisterFull(int32_t block, const BlockKey& key,
                                  absl::Span<const int32_t> tokens) {
  if (!caching_ || refs_[static_cast<size_t>(block)] <= 0) return;
  if (cached_.contains(block) || by_key_.contains(key)) return;
  by_key_.emplace(key, block);
  Cached& cached = cached_[block];
  cached.key = key;
  cached.tokens.assign(tokens.begin(), tokens.end());
}

}  // namespace ember
