// The step scheduler: a pure policy over sequences' token counts and the KV block pool, with no
// threads, clocks or model. Each step it decides which sequences run and how many tokens each
// contributes, following iteration-level (continuous) batching:
//   1. every running sequence that is decoding gets its one token (growing its block table; if the
//      pool is empty the most recently admitted sequence is preempted: its blocks are freed and it
//      goes back to the head of the waiting queue, to be recomputed later);
//   2. running sequences part-way through a long prompt get the next chunk;
//   3. waiting sequences are admitted first-come first-served while the per-step token budget, the
//      running-sequence limit and the free blocks (their whole prompt plus a watermark) allow, each
//      starting with a chunk of its prompt. With prefix caching, an entry first takes the longest
//      run of cached full blocks matching its tokens and starts after them; when that run covers
//      every token, the last block is copied (the cached one stays as it is) and the last token is
//      computed again, so the step that samples has logits. An entry whose next uncached full
//      block this step is computing for another entry (a running prefill's chunk, or an entry
//      admitted before it) waits one step, keeping its place in the queue, and then takes that
//      block from the cache.
// Full blocks are offered to the cache as soon as their keys and values are written (Commit).
// The engine owns the entries; the scheduler keeps pointers to them.
#ifndef EMBER_CORE_ENGINE_SCHEDULER_H_
#define EMBER_CORE_ENGINE_SCHEDULER_H_

#include <cstdint>
#include <deque>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "core/engine/block_allocator.h"

namespace ember {

struct SchedulerOptions {
  // Tokens one forward step may process (decodes + prefill chunks). > 0.
  int64_t max_tokens_per_step = 512;
  // Sequences in the running batch at once. > 0, <= max_tokens_per_step.
  int64_t max_running = 64;
  // Positions per KV block. > 0.
  int64_t block_size = 16;
  // Blocks kept free at admission so running sequences can grow without immediate preemption.
  int64_t watermark_blocks = 1;
};

// The scheduler's view of one sequence.
struct SchedulerEntry {
  uint64_t id = 0;
  // Tokens known so far (prompt + generated); the model must have seen all but the last sampled
  // one before it can sample the next.
  int64_t num_tokens = 0;
  // Tokens whose keys/values are in the cache.
  int64_t num_computed = 0;
  // Physical KV blocks, logical order.
  std::vector<int32_t> block_table;
  // Times this entry was preempted (for metrics).
  int32_t preemptions = 0;
  bool running = false;
  // Encoder-decoder requests: the source length. Its cross-attention keys/values take
  // BlocksFor(cross_tokens) blocks of their own (cross_block_table) from admission until the entry
  // leaves the running set; admitting it also charges the step budget for encoding the source.
  int64_t cross_tokens = 0;
  std::vector<int32_t> cross_block_table;
  // Beam groups: rows one decode step of this entry runs (its live beams); 1 otherwise.
  int64_t width = 1;
  // Beam groups: when > 0, the longest any beam can grow (prompt + max_new_tokens). All blocks
  // the group can need (BeamGroupBlocks: its beams share blocks copy-on-write) are taken into
  // block_table at admission, so the entry never grows and is never preempted: a beam group
  // cannot run with only some of its beams. The engine lays the beams' tables over them.
  int64_t reserved_tokens = 0;
  int64_t max_width = 1;
  // Prefix caching. The entry's tokens (prompt + generated: the engine's Sequence::tokens) when its
  // full blocks may be shared with other entries; null when never (beam groups, encoder-decoder
  // requests, prompt scoring, which needs every prompt row computed).
  const std::vector<int32_t>* tokens = nullptr;
  // Keys of the leading full blocks, as far as computed so far ([i] keys block i).
  std::vector<BlockKey> block_keys;
  // Leading blocks of block_table that are in the cache (taken from it, or registered since).
  int64_t cached_blocks = 0;
  // Tokens the last admission took from the cache instead of computing them.
  int64_t cached_tokens = 0;
};

// Keys and values the engine must copy before running the planned step: the first `positions`
// positions of block `from` into block `to` (KvCache::CopyBlockPrefix).
struct BlockCopy {
  int32_t from = 0;
  int32_t to = 0;
  int64_t positions = 0;
};

// One sequence's work in a step: tokens [start, start + count) of it.
struct StepItem {
  SchedulerEntry* entry = nullptr;
  int64_t start = 0;
  int64_t count = 0;
  // True when this chunk ends at the last known token, so logits are needed to sample the next.
  bool sample = false;
};

class Scheduler {
 public:
  Scheduler(const SchedulerOptions& options, BlockAllocator* allocator);

  static absl::Status Validate(const SchedulerOptions& options);

  // Appends to the waiting queue. The entry must not be queued already.
  void Enqueue(SchedulerEntry* entry);

  // Removes the entry from whichever queue holds it and frees its blocks (finished, cancelled or
  // failed). Safe on an entry that is in neither.
  absl::Status Remove(SchedulerEntry* entry);

  // Plans the next step (allocating the blocks it needs). Empty when there is nothing to run.
  // Before running it the engine calls PerformBlockCopies; after the step runs, Commit.
  std::vector<StepItem> Schedule();

  // Calls `copy` for every block copy the planned step needs first (an entry whose every token was
  // cached computes its last token into a copy of its last block), then lets go of the sources,
  // which the scheduler held so that nothing could evict or overwrite them before the copy.
  void PerformBlockCopies(absl::FunctionRef<void(const BlockCopy&)> copy);

  // Records that the step's tokens are now in the cache, and offers the blocks they filled to the
  // prefix cache.
  void Commit(const std::vector<StepItem>& items);

  // Immutable after construction: safe to read from any thread.
  const SchedulerOptions& options() const { return options_; }
  size_t num_waiting() const { return waiting_.size(); }
  size_t num_running() const { return running_.size(); }
  const std::deque<SchedulerEntry*>& waiting() const { return waiting_; }
  // Sequences preempted since the last call (for metrics and logs).
  int64_t TakePreemptionCount();
  // Prompt tokens of the entries admitted since the last call, and how many of them the prefix
  // cache held (for metrics: the hit rate).
  struct PrefixCacheCounts {
    int64_t queried_tokens = 0;
    int64_t hit_tokens = 0;
  };
  PrefixCacheCounts TakePrefixCacheCounts();

 private:
  int64_t BlocksFor(int64_t tokens) const;
  // Blocks the entry holds while running: its table(s) for `tokens` positions plus cross blocks.
  int64_t BlocksToAdmit(const SchedulerEntry* entry) const;
  // Grows entry's table to cover `tokens` positions; false when the pool ran out (nothing kept).
  bool Reserve(SchedulerEntry* entry, int64_t tokens);
  void FreeBlocks(SchedulerEntry* entry);
  // Preempts the most recently admitted running entry other than `keep`; false when none.
  bool PreemptOne(const SchedulerEntry* keep);
  // Frees `victim`'s blocks and moves it from running to the front of the waiting queue.
  void Preempt(SchedulerEntry* victim);
  // The key of the entry's full block `i` (computing the chain up to it).
  const BlockKey& KeyOf(SchedulerEntry* entry, int64_t i);
  absl::Span<const int32_t> BlockTokens(const SchedulerEntry* entry, int64_t i) const;
  // Admission: takes the cached blocks matching the entry's leading full blocks into its table
  // and marks their tokens computed.
  void TakeCachedPrefix(SchedulerEntry* entry);
  // Admission of an entry whose every token came from the cache: its last block becomes a private
  // copy (planned in copies_) and its last token is computed again, for the logits.
  void PrivatizeLastBlock(SchedulerEntry* entry);
  // Frees the copies' source blocks (held from Schedule until PerformBlockCopies; Commit and the
  // next Schedule free them if it was never called) and forgets the copies.
  void ReleaseCopySources();
  // In-step prefix sharing: whether the entry's next uncached full block (one the cache could
  // give it) is among `filled`, the blocks this step is computing for other entries.
  bool NextBlockFilledThisStep(SchedulerEntry* entry, const absl::flat_hash_set<BlockKey>& filled);
  // Adds the keys of the entry's uncached blocks that are full once `computed_after_step` of its
  // tokens are computed.
  void AddBlocksFilled(SchedulerEntry* entry, int64_t computed_after_step,
                       absl::flat_hash_set<BlockKey>* filled);

  SchedulerOptions options_;
  BlockAllocator* allocator_;
  std::deque<SchedulerEntry*> waiting_;
  std::vector<SchedulerEntry*> running_;  // admission order
  int64_t preemptions_ = 0;
  PrefixCacheCounts prefix_counts_;
  std::vector<BlockCopy> copies_;
  std::vector<int32_t> copy_sources_;
};

}  // namespace ember

#endif  // EMBER_CORE_ENGINE_SCHEDULER_H_
