// Fuzzes the step scheduler and the KV block pool (core/engine/scheduler.h, block_allocator.h)
// with a random sequence of engine operations on a tiny pool: admit a request, run a step (commit
// it and sample a token for every item that asks, finishing a request that reaches its length),
// cancel a request or expire its deadline whatever its phase (waiting, prefilling, decoding),
// fail a whole step; then either run every request to completion or drain.
//
// Requests draw their tokens from a four-token alphabet and may begin with a prefix of an earlier
// request's tokens, so the prefix cache (on or off, as the input says) finds, shares and evicts
// blocks.
//
// Invariant, after every operation: used + free = total; every block is free, evictable or held,
// and a held block's reference count is exactly the number of live requests' tables holding it
// (the used blocks are exactly those; the free list itself is checked on a copy of the pool:
// allocating all of it yields distinct blocks that no request holds); waiting requests hold no
// blocks; Remove never reports a double free; every step item covers tokens the request has, with
// blocks for them, within the token budget and the running limit, and writes only blocks no other
// request holds. Run to completion: every request finishes (no deadlock between requests that each
// fit the pool). After the drain: zero blocks used (cached ones may stay evictable), both queues
// empty.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "core/engine/block_allocator.h"
#include "core/engine/scheduler.h"
#include "fuzz/fuzz_util.h"

namespace ember {
namespace {

enum class Phase { kLive, kDone };

// One request as the engine sees it.
struct Request {
  SchedulerEntry entry;
  std::vector<int32_t> tokens;  // prompt + sampled, what the prefix cache keys blocks by
  int64_t final_tokens = 0;     // prompt + max_new_tokens: it finishes (length) on reaching this
  Phase phase = Phase::kLive;
};

class Harness {
 public:
  Harness(const SchedulerOptions& options, int32_t num_blocks, bool caching)
      : options_(options), blocks_(num_blocks), scheduler_(options, &blocks_) {
    blocks_.set_caching(caching);
  }

  // Like the engine, which sizes the pool for a whole context, admits only requests that fit it
  // alone: every position they will compute, plus the admission watermark.
  void Admit(int64_t prompt, int64_t max_new, size_t share_from, int64_t share_len,
             uint32_t alphabet_seed) {
    const int64_t last_computed =
        prompt + max_new - 1;  // the final sampled token is never computed
    const int64_t blocks = (last_computed + options_.block_size - 1) / options_.block_size;
    if (blocks + options_.watermark_blocks > blocks_.num_total()) return;
    auto r = std::make_unique<Request>();
    r->entry.id = requests_.size();
    r->entry.num_tokens = prompt;
    if (!requests_.empty()) {
      const std::vector<int32_t>& from = requests_[share_from % requests_.size()]->tokens;
      const int64_t n = std::min({share_len, prompt, static_cast<int64_t>(from.size())});
      r->tokens.assign(from.begin(), from.begin() + n);
    }
    uint32_t x = alphabet_seed;
    while (static_cast<int64_t>(r->tokens.size()) < prompt) {
      x = x * 1664525u + 1013904223u;
      r->tokens.push_back(static_cast<int32_t>(x >> 30));
    }
    r->entry.tokens = &r->tokens;
    r->final_tokens = prompt + max_new;
    scheduler_.Enqueue(&r->entry);
    requests_.push_back(std::move(r));
  }

  // Cancel and deadline are the same to the scheduler: the engine calls Remove in any phase.
  void Remove(size_t pick) {
    if (requests_.empty()) return;
    Request& r = *requests_[pick % requests_.size()];
    if (r.phase == Phase::kDone) return;
    Finish(r);
  }

  void Step(bool fail) {
    const std::vector<StepItem> items = scheduler_.Schedule();
    // As the engine does before the forward pass. A copy's target is the request's own block.
    scheduler_.PerformBlockCopies([&](const BlockCopy& copy) {
      EMBER_FUZZ_CHECK(blocks_.ref_count(copy.to) == 1 && blocks_.ref_count(copy.from) >= 1,
                       "copy from block ", copy.from, " (", blocks_.ref_count(copy.from),
                       " holders) into block ", copy.to, " (", blocks_.ref_count(copy.to), ")");
    });
    CheckItems(items);
    if (fail) {  // the forward pass failed: the engine finishes every sequence of the step
      for (const StepItem& item : items) Finish(*Owner(item.entry));
      return;
    }
    scheduler_.Commit(items);
    for (const StepItem& item : items) {
      if (!item.sample) continue;
      Request& r = *Owner(item.entry);
      r.tokens.push_back(static_cast<int32_t>((r.entry.id + r.tokens.size()) % 4));
      ++r.entry.num_tokens;
      if (r.entry.num_tokens >= r.final_tokens) Finish(r);
    }
  }

  // Steps without new work until every request has finished or `max_steps` ran. Every request
  // fits the pool on its own (Admit's precondition), so preempting newer ones always lets the
  // oldest advance: a request still live afterwards means the scheduler stopped making progress.
  void RunToCompletion() {
    int64_t remaining = 0;
    for (const auto& r : requests_) {
      if (r->phase == Phase::kLive) remaining += r->final_tokens;
    }
    // Each step computes at least one token when anything can run; preemption may recompute a
    // request's tokens, hence the slack.
    const int64_t max_steps = 4 * remaining * static_cast<int64_t>(requests_.size() + 1) + 16;
    for (int64_t step = 0; step < max_steps && HasLive(); ++step) {
      Step(/*fail=*/false);
      CheckPool();
    }
    for (const auto& r : requests_) {
      EMBER_FUZZ_CHECK(r->phase == Phase::kDone, "request ", r->entry.id, " (", r->entry.num_tokens,
                       " of ", r->final_tokens, " tokens, ", r->entry.num_computed,
                       " computed, running ", r->entry.running, ") made no progress in ", max_steps,
                       " steps");
    }
  }

  void Drain() {
    for (auto& r : requests_) {
      if (r->phase == Phase::kLive) Finish(*r);
    }
    CheckPool();
    EMBER_FUZZ_CHECK(blocks_.num_used() == 0, blocks_.num_used(), " blocks used after the drain");
    EMBER_FUZZ_CHECK(scheduler_.num_waiting() == 0 && scheduler_.num_running() == 0,
                     "queues not empty after the drain");
  }

  void CheckPool() const {
    const int32_t total = blocks_.num_total();
    EMBER_FUZZ_CHECK(blocks_.num_used() + blocks_.num_free() == total && blocks_.num_free() >= 0,
                     "used ", blocks_.num_used(), " + free ", blocks_.num_free(), " != total ",
                     total);
    std::map<int32_t, int32_t> held;  // block -> live tables holding it
    size_t running = 0;
    for (const auto& r : requests_) {
      const SchedulerEntry& e = r->entry;
      if (r->phase == Phase::kDone) {
        EMBER_FUZZ_CHECK(e.block_table.empty(), "finished request ", e.id, " holds blocks");
        continue;
      }
      if (!e.running) {
        EMBER_FUZZ_CHECK(e.block_table.empty(), "waiting request ", e.id, " holds ",
                         e.block_table.size(), " blocks");
      }
      running += e.running ? 1 : 0;
      EMBER_FUZZ_CHECK(
          e.num_computed >= 0 && e.num_computed <= e.num_tokens &&
              static_cast<int64_t>(e.block_table.size()) * options_.block_size >= e.num_computed,
          "request ", e.id, ": ", e.num_computed, " computed of ", e.num_tokens, " tokens in ",
          e.block_table.size(), " blocks");
      std::set<int32_t> own;
      for (const int32_t b : e.block_table) {
        EMBER_FUZZ_CHECK(b >= 0 && b < total && own.insert(b).second, "block ", b,
                         " out of range or twice in one table");
        ++held[b];
      }
    }
    for (const auto& [block, holders] : held) {
      EMBER_FUZZ_CHECK(blocks_.ref_count(block) == holders, "block ", block, " held by ", holders,
                       " tables, reference count ", blocks_.ref_count(block));
    }
    EMBER_FUZZ_CHECK(static_cast<int32_t>(held.size()) == blocks_.num_used(), held.size(),
                     " blocks held by requests, ", blocks_.num_used(), " used in the pool");
    EMBER_FUZZ_CHECK(blocks_.num_cached() <= total && blocks_.num_evictable() <= blocks_.num_free(),
                     "cached ", blocks_.num_cached(), ", evictable ", blocks_.num_evictable());
    EMBER_FUZZ_CHECK(running == scheduler_.num_running(), running,
                     " running entries, scheduler says ", scheduler_.num_running());
    // The free list, on a copy: every free block comes out once, none of them is held.
    BlockAllocator copy = blocks_;
    std::set<int32_t> free;
    for (int32_t i = 0; i < blocks_.num_free(); ++i) {
      const std::optional<int32_t> b = copy.Allocate();
      EMBER_FUZZ_CHECK(b.has_value() && free.insert(*b).second && !held.contains(*b),
                       "free list hands out a held or repeated block");
    }
    EMBER_FUZZ_CHECK(!copy.Allocate().has_value(), "free list longer than num_free");
  }

 private:
  Request* Owner(const SchedulerEntry* entry) { return requests_[entry->id].get(); }

  bool HasLive() const {
    for (const auto& r : requests_) {
      if (r->phase == Phase::kLive) return true;
    }
    return false;
  }

  void Finish(Request& r) {
    const absl::Status freed = scheduler_.Remove(&r.entry);
    EMBER_FUZZ_CHECK(freed.ok(), "Remove: ", freed.ToString());
    r.phase = Phase::kDone;
  }

  void CheckItems(const std::vector<StepItem>& items) const {
    int64_t tokens = 0;
    std::set<const SchedulerEntry*> seen;
    for (const StepItem& item : items) {
      const SchedulerEntry& e = *item.entry;
      EMBER_FUZZ_CHECK(seen.insert(&e).second, "request ", e.id, " twice in one step");
      EMBER_FUZZ_CHECK(e.running, "request ", e.id, " scheduled while not running");
      EMBER_FUZZ_CHECK(
          item.count > 0 && item.start == e.num_computed && item.start + item.count <= e.num_tokens,
          "request ", e.id, ": item [", item.start, ", +", item.count, ") with ", e.num_computed,
          " computed of ", e.num_tokens);
      EMBER_FUZZ_CHECK(item.sample == (item.start + item.count == e.num_tokens), "request ", e.id,
                       ": sample flag wrong");
      EMBER_FUZZ_CHECK(static_cast<int64_t>(e.block_table.size()) * options_.block_size >=
                           item.start + item.count,
                       "request ", e.id, ": no KV blocks for its tokens");
      for (int64_t p = item.start; p < item.start + item.count; p += 1) {
        const int32_t b = e.block_table[static_cast<size_t>(p / options_.block_size)];
        EMBER_FUZZ_CHECK(blocks_.ref_count(b) == 1, "request ", e.id, " writes position ", p,
                         " into block ", b, " which ", blocks_.ref_count(b), " tables hold");
      }
      tokens += item.count;
    }
    EMBER_FUZZ_CHECK(tokens <= options_.max_tokens_per_step, tokens, " tokens in one step");
    EMBER_FUZZ_CHECK(static_cast<int64_t>(scheduler_.num_running()) <= options_.max_running,
                     scheduler_.num_running(), " running");
  }

  const SchedulerOptions options_;
  BlockAllocator blocks_;
  Scheduler scheduler_;
  std::vector<std::unique_ptr<Request>> requests_;
};

void Run(FuzzedDataProvider& in) {
  SchedulerOptions options;
  options.max_tokens_per_step = in.ConsumeIntegralInRange<int64_t>(1, 48);
  options.max_running = in.ConsumeIntegralInRange<int64_t>(1, 8);
  options.block_size = in.ConsumeIntegralInRange<int64_t>(1, 8);
  options.watermark_blocks = in.ConsumeIntegralInRange<int64_t>(0, 2);
  const int32_t num_blocks = in.ConsumeIntegralInRange<int32_t>(1, 24);
  if (!Scheduler::Validate(options).ok()) return;
  // Half the inputs end by running everything to completion (liveness), half by cancelling what
  // is left (the drain), so both endings are covered.
  const bool run_to_completion = in.ConsumeBool();
  Harness harness(options, num_blocks, /*caching=*/in.ConsumeBool());
  for (int op = 0; op < 256 && in.remaining_bytes() > 0; ++op) {
    switch (in.ConsumeIntegralInRange<int>(0, 7)) {
      case 0:
      case 1:
        harness.Admit(in.ConsumeIntegralInRange<int64_t>(1, 40),
                      in.ConsumeIntegralInRange<int64_t>(1, 24), in.ConsumeIntegral<uint8_t>(),
                      in.ConsumeIntegralInRange<int64_t>(0, 40), in.ConsumeIntegral<uint32_t>());
        break;
      case 2:  // cancel
      case 3:  // deadline
        harness.Remove(in.ConsumeIntegral<uint8_t>());
        break;
      case 4:
        harness.Step(/*fail=*/in.ConsumeIntegralInRange<int>(0, 15) == 0);
        break;
      default:
        harness.Step(/*fail=*/false);
        break;
    }
    harness.CheckPool();
  }
  if (run_to_completion) harness.RunToCompletion();
  harness.Drain();
}

}  // namespace
}  // namespace ember

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  ember::Run(in);
  return 0;
}
