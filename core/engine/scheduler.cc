#include "core/engine/scheduler.h"

#include <algorithm>
#include <cstddef>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "core/engine/beam_blocks.h"
#include "core/model/kv_cache.h"

namespace ember {

Scheduler::Scheduler(const SchedulerOptions& options, BlockAllocator* allocator)
    : options_(options), allocator_(allocator) {}

absl::Status Scheduler::Validate(const SchedulerOptions& o) {
  if (o.max_tokens_per_step <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_tokens_per_step must be positive, got ", o.max_tokens_per_step));
  }
  if (o.max_running <= 0 || o.max_running > o.max_tokens_per_step) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_running must be in [1, ", o.max_tokens_per_step, "], got ", o.max_running));
  }
  if (o.block_size <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("block_size must be positive, got ", o.block_size));
  }
  if (o.watermark_blocks < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("watermark_blocks must be >= 0, got ", o.watermark_blocks));
  }
  return absl::OkStatus();
}

void Scheduler::Enqueue(SchedulerEntry* entry) {
  entry->running = false;
  waiting_.push_back(entry);
}

absl::Status Scheduler::Remove(SchedulerEntry* entry) {
  waiting_.erase(std::remove(waiting_.begin(), waiting_.end(), entry), waiting_.end());
  running_.erase(std::remove(running_.begin(), running_.end(), entry), running_.end());
  entry->running = false;
  absl::Status status;
  for (std::vector<int32_t>* table : {&entry->block_table, &entry->cross_block_table}) {
    for (int32_t block : *table) {
      absl::Status s = allocator_->Free(block);
      if (!s.ok() && status.ok()) status = s;
    }
    table->clear();
  }
  entry->num_computed = 0;
  entry->cached_blocks = 0;
  return status;
}

int64_t Scheduler::BlocksFor(int64_t tokens) const {
  return KvCache::BlocksFor(tokens, options_.block_size);
}

int64_t Scheduler::BlocksToAdmit(const SchedulerEntry* e) const {
  // A beam group is admitted (once: it is never preempted) with num_tokens = its prompt.
  const int64_t own = e->reserved_tokens > 0 ? BeamGroupBlocks(e->num_tokens, e->reserved_tokens,
                                                               e->max_width, options_.block_size)
                                             : BlocksFor(e->num_tokens);
  return own + BlocksFor(e->cross_tokens);
}

bool Scheduler::Reserve(SchedulerEntry* entry, int64_t tokens) {
  if (entry->reserved_tokens > 0) return true;  // every block was taken at admission
  const int64_t need = BlocksFor(tokens) - static_cast<int64_t>(entry->block_table.size());
  if (need <= 0) return true;
  if (need > allocator_->num_free()) return false;
  for (int64_t i = 0; i < need; ++i) entry->block_table.push_back(*allocator_->Allocate());
  return true;
}

void Scheduler::FreeBlocks(SchedulerEntry* entry) {
  for (std::vector<int32_t>* table : {&entry->block_table, &entry->cross_block_table}) {
    for (int32_t block : *table) (void)allocator_->Free(block);
    table->clear();
  }
  entry->num_computed = 0;
  entry->cached_blocks = 0;
}

absl::Span<const int32_t> Scheduler::BlockTokens(const SchedulerEntry* entry, int64_t i) const {
  return absl::MakeConstSpan(*entry->tokens)
      .subspan(static_cast<size_t>(i * options_.block_size),
               static_cast<size_t>(options_.block_size));
}

const BlockKey& Scheduler::KeyOf(SchedulerEntry* entry, int64_t i) {
  std::vector<BlockKey>& keys = entry->block_keys;
  while (static_cast<int64_t>(keys.size()) <= i) {
    const int64_t j = static_cast<int64_t>(keys.size());
    keys.push_back(ChainBlockKey(j == 0 ? BlockKey{} : keys.back(), BlockTokens(entry, j)));
  }
  return keys[static_cast<size_t>(i)];
}

void Scheduler::TakeCachedPrefix(SchedulerEntry* entry) {
  entry->cached_tokens = 0;
  if (entry->tokens == nullptr || !allocator_->caching()) return;
  // Every full block may come from the cache; when that covers every token, admission makes the
  // last block a private copy and computes the last token again (PrivatizeLastBlock).
  const int64_t max_blocks = entry->num_tokens / options_.block_size;
  for (int64_t i = 0; i < max_blocks; ++i) {
    std::optional<int32_t> block =
        allocator_->AcquireCached(KeyOf(entry, i), BlockTokens(entry, i));
    if (!block.has_value()) break;
    entry->block_table.push_back(*block);
  }
  entry->cached_blocks = static_cast<int64_t>(entry->block_table.size());
  entry->num_computed = entry->cached_blocks * options_.block_size;
  entry->cached_tokens = entry->num_computed;
}

void Scheduler::PrivatizeLastBlock(SchedulerEntry* entry) {
  // The step that samples needs the last token's logits, so that token is computed again, into a
  // copy of its block: writing into the shared block could change other holders' keys and values
  // (a kernel's rounding may depend on the batch) and the cached block must stay as registered.
  const int32_t shared = entry->block_table.back();
  const int32_t own = *allocator_->Allocate();  // the caller checked the room
  copies_.push_back({shared, own, options_.block_size - 1});
  copy_sources_.push_back(shared);  // held until the engine has copied it (PerformBlockCopies)
  entry->block_table.back() = own;
  --entry->cached_blocks;
  entry->num_computed = entry->num_tokens - 1;
  entry->cached_tokens = entry->num_computed;
}

void Scheduler::PerformBlockCopies(absl::FunctionRef<void(const BlockCopy&)> copy) {
  for (const BlockCopy& c : copies_) copy(c);
  ReleaseCopySources();
}

void Scheduler::ReleaseCopySources() {
  for (int32_t block : copy_sources_) (void)allocator_->Free(block);
  copy_sources_.clear();
  copies_.clear();
}

void Scheduler::Preempt(SchedulerEntry* victim) {
  FreeBlocks(victim);
  victim->running = false;
  ++victim->preemptions;
  ++preemptions_;
  running_.erase(std::find(running_.begin(), running_.end(), victim));
  waiting_.push_front(victim);  // recomputed first when room returns
}

bool Scheduler::PreemptOne(const SchedulerEntry* keep) {
  for (auto it = running_.rbegin(); it != running_.rend(); ++it) {
    SchedulerEntry* victim = *it;
    if (victim == keep || victim->reserved_tokens > 0) continue;
    Preempt(victim);
    return true;
  }
  return false;
}

std::vector<StepItem> Scheduler::Schedule() {
  ReleaseCopySources();  // a step that was planned but never committed
  std::vector<StepItem> items;
  int64_t budget = options_.max_tokens_per_step;

  // 1. Decodes. Iterate over a copy: preemption edits running_.
  std::vector<SchedulerEntry*> decoding;
  for (SchedulerEntry* e : running_) {
    if (e->num_tokens - e->num_computed == 1) decoding.push_back(e);
  }
  for (SchedulerEntry* e : decoding) {
    if (!e->running) continue;  // preempted by an earlier iteration
    while (!Reserve(e, e->num_tokens)) {
      if (!PreemptOne(e)) break;
    }
    if (static_cast<int64_t>(e->block_table.size()) < BlocksFor(e->num_tokens)) {
      // Alone and still no room: the pool is smaller than this sequence needs; it waits.
      Preempt(e);
      continue;
    }
    items.push_back({e, e->num_computed, 1, true});
    budget -= e->width;
  }
  // Drop items of entries preempted after they were scheduled.
  items.erase(std::remove_if(items.begin(), items.end(),
                             [](const StepItem& i) { return !i.entry->running; }),
              items.end());

  // 2. Running prefills continue.
  for (SchedulerEntry* e : running_) {
    const int64_t remaining = e->num_tokens - e->num_computed;
    if (remaining <= 1 && e->num_computed > 0) continue;  // decoding (handled above)
    if (budget <= 0) break;
    const int64_t count = std::min(remaining, budget);
    if (!Reserve(e, e->num_computed + count)) continue;
    items.push_back({e, e->num_computed, count, e->num_computed + count == e->num_tokens});
    budget -= count;
  }

  // 3. Admissions, first come first served, except that an entry whose next uncached block this
  // step is computing for another entry waits one step, keeping its place: after this step that
  // block is in the prefix cache. (Without this, a burst of requests sharing a system prompt
  // would compute the prompt once per request in the step that admits them together.)
  absl::flat_hash_set<BlockKey> filled_this_step;
  if (!waiting_.empty()) {
    for (const StepItem& item : items) {
      AddBlocksFilled(item.entry, item.start + item.count, &filled_this_step);
    }
  }
  size_t next = 0;
  while (next < waiting_.size() && budget > 0 &&
         static_cast<int64_t>(running_.size()) < options_.max_running) {
    SchedulerEntry* e = waiting_[next];
    TakeCachedPrefix(e);
    if (NextBlockFilledThisStep(e, filled_this_step)) {
      FreeBlocks(e);  // the cached blocks it took go back (still cached)
      ++next;
      continue;
    }
    // Every token cached: its last block gets a private copy (one block more).
    const bool privatize = e->num_computed == e->num_tokens;
    const int64_t need = BlocksToAdmit(e) - static_cast<int64_t>(e->block_table.size()) +
                         options_.watermark_blocks + (privatize ? 1 : 0);
    if (need > allocator_->num_free()) {
      FreeBlocks(e);  // the cached blocks it took go back (still cached)
      break;
    }
    if (privatize) PrivatizeLastBlock(e);
    const int64_t count = std::min(e->num_tokens - e->num_computed, budget);
    if (e->reserved_tokens > 0) {
      const int64_t blocks = BlocksToAdmit(e) - BlocksFor(e->cross_tokens);
      for (int64_t i = 0; i < blocks; ++i) e->block_table.push_back(*allocator_->Allocate());
    } else if (!Reserve(e, e->num_computed + count)) {
      FreeBlocks(e);
      break;
    }
    for (int64_t i = 0; i < BlocksFor(e->cross_tokens); ++i) {
      e->cross_block_table.push_back(*allocator_->Allocate());
    }
    waiting_.erase(waiting_.begin() + static_cast<std::ptrdiff_t>(next));
    e->running = true;
    running_.push_back(e);
    items.push_back({e, e->num_computed, count, e->num_computed + count == e->num_tokens});
    if (e->tokens != nullptr) {
      prefix_counts_.queried_tokens += e->num_tokens;
      prefix_counts_.hit_tokens += e->cached_tokens;
    }
    // Encoding the source is work of this step too (it may overdraw the budget: a source is
    // encoded whole).
    budget -= count + e->cross_tokens;
    AddBlocksFilled(e, e->num_computed + count, &filled_this_step);
  }
  return items;
}

bool Scheduler::NextBlockFilledThisStep(SchedulerEntry* entry,
                                        const absl::flat_hash_set<BlockKey>& filled) {
  if (filled.empty() || entry->tokens == nullptr) return false;
  // Only a block the cache could give it: a full one (TakeCachedPrefix).
  const int64_t next = entry->cached_blocks;
  if (next >= entry->num_tokens / options_.block_size) return false;
  return filled.contains(KeyOf(entry, next));
}

void Scheduler::AddBlocksFilled(SchedulerEntry* entry, int64_t computed_after_step,
                                absl::flat_hash_set<BlockKey>* filled) {
  if (entry->tokens == nullptr || !allocator_->caching()) return;
  for (int64_t i = entry->cached_blocks; (i + 1) * options_.block_size <= computed_after_step;
       ++i) {
    filled->insert(KeyOf(entry, i));
  }
}

void Scheduler::Commit(const std::vector<StepItem>& items) {
  ReleaseCopySources();
  for (const StepItem& item : items) {
    SchedulerEntry* e = item.entry;
    e->num_computed = item.start + item.count;
    if (e->tokens == nullptr || !allocator_->caching()) continue;
    // Every block now full (and written) becomes findable by later prompts.
    while ((e->cached_blocks + 1) * options_.block_size <= e->num_computed &&
           e->cached_blocks < static_cast<int64_t>(e->block_table.size())) {
      const int64_t i = e->cached_blocks;
      allocator_->RegisterFull(e->block_table[static_cast<size_t>(i)], KeyOf(e, i),
                               BlockTokens(e, i));
      ++e->cached_blocks;
    }
  }
}

Scheduler::PrefixCacheCounts Scheduler::TakePrefixCacheCounts() {
  const PrefixCacheCounts counts = prefix_counts_;
  prefix_counts_ = {};
  return counts;
}

int64_t Scheduler::TakePreemptionCount() {
  const int64_t n = preemptions_;
  preemptions_ = 0;
  return n;
}

}  // namespace ember
