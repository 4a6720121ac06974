// Hands out the KV cache's fixed-size blocks, shares full blocks by content (prefix caching), and
// evicts cached blocks nobody holds, least recently used first. Owned by the engine loop thread
// (not thread-safe).
//
// Every block is in exactly one of three states:
//   free       holds nothing anyone may reuse; Allocate hands these out first;
//   held       referenced by one or more sequences' block tables (ref count > 0);
//   evictable  nobody holds it, but its full contents are cached under their key: a later prompt
//              with the same prefix takes it back (AcquireCached) instead of recomputing it; when
//              no free block is left, Allocate reuses the least recently released one.
// A block gets a key only once it is full and its keys/values are written (RegisterFull); the key
// names its tokens and, through the parent key, every token before them, so equal keys mean
// equal keys/values (the model and the KV layout are the engine's, fixed for the cache's life).
#ifndef EMBER_CORE_ENGINE_BLOCK_ALLOCATOR_H_
#define EMBER_CORE_ENGINE_BLOCK_ALLOCATOR_H_

#include <cstdint>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/types/span.h"

namespace ember {

// What a full block holds: its tokens and the key of the block before it (zero for the first),
// hashed into 128 bits; the tokens themselves are compared on lookup too.
struct BlockKey {
  uint64_t lo = 0;
  uint64_t hi = 0;
  bool operator==(const BlockKey& o) const { return lo == o.lo && hi == o.hi; }
  template <typename H>
  friend H AbslHashValue(H h, const BlockKey& k) {
    return H::combine(std::move(h), k.lo, k.hi);
  }
};

// The key of a full block of `tokens` following the block keyed `parent` ({} for the first).
BlockKey ChainBlockKey(const BlockKey& parent, absl::Span<const int32_t> tokens);

class BlockAllocator {
 public:
  explicit BlockAllocator(int32_t num_blocks);

  // A block for new contents, held once: a free block (lowest ids first after a fresh start, then
  // the most recently freed: its pages are warm), else the least recently released evictable one
  // (its cache entry dropped). nullopt when every block is held.
  std::optional<int32_t> Allocate();

  // Drops one reference. A block nobody holds any more becomes evictable when it has a key, free
  // otherwise. INTERNAL (and no change) when `block` is out of range or not held: a double free
  // would let two sequences write one block.
  absl::Status Free(int32_t block);

  // The cached block keyed `key` whose tokens are `tokens`, now held once more; nullopt when none.
  std::optional<int32_t> AcquireCached(const BlockKey& key, absl::Span<const int32_t> tokens);

  // `block` (held) is full and its keys/values written: cache it under `key`. A block already
  // keyed keeps its key; when another block already holds `key`, this one stays uncached (both
  // are correct; the first stays findable).
  void RegisterFull(int32_t block, const BlockKey& key, absl::Span<const int32_t> tokens);

  // Caching off: RegisterFull does nothing and AcquireCached finds nothing.
  void set_caching(bool on) { caching_ = on; }
  bool caching() const { return caching_; }

  int32_t num_total() const { return static_cast<int32_t>(refs_.size()); }
  // Blocks Allocate can hand out: free plus evictable.
  int32_t num_free() const { return static_cast<int32_t>(free_.size() + evictable_.size()); }
  // Blocks some sequence holds.
  int32_t num_used() const { return num_total() - num_free(); }
  // Blocks with a cache key, held or evictable.
  int32_t num_cached() const { return static_cast<int32_t>(cached_.size()); }
  int32_t num_evictable() const { return static_cast<int32_t>(evictable_.size()); }
  int32_t ref_count(int32_t block) const { return refs_[static_cast<size_t>(block)]; }
  // Cached blocks reused for new contents since construction.
  int64_t evictions() const { return evictions_; }

 private:
  struct Cached {
    BlockKey key;
    std::vector<int32_t> tokens;
    uint64_t released = 0;  // when it became evictable (its place in evictable_)
    bool evictable = false;
  };
  void Uncache(int32_t block);

  bool caching_ = true;
  std::vector<int32_t> free_;  // stack of free block ids
  std::vector<int32_t> refs_;  // [num_blocks] holders of each block
  // (release stamp, block): least recently released first. Ordered by a counter, not held as list
  // iterators, so that the allocator stays copyable (the scheduler's fuzz target copies it).
  std::set<std::pair<uint64_t, int32_t>> evictable_;
  uint64_t next_release_ = 0;
  absl::flat_hash_map<int32_t, Cached> cached_;    // block -> what it holds
  absl::flat_hash_map<BlockKey, int32_t> by_key_;  // key -> block
  int64_t evictions_ = 0;
};

}  // namespace ember

#endif  // EMBER_CORE_ENGINE_BLOCK_ALLOCATOR_H_
