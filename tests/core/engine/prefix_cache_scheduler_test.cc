// Prefix caching in the block allocator and the scheduler, without a model: reference counts,
// content keys, least-recently-used eviction, and admission taking cached blocks.
#include <memory>
#include <vector>

#include "core/engine/block_allocator.h"
#include "core/engine/scheduler.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ember {
namespace {

std::vector<int32_t> Tokens(int32_t first, int n) {
  std::vector<int32_t> t;
  for (int i = 0; i < n; ++i) t.push_back(first + i);
  return t;
}

TEST(BlockAllocatorCacheTest, SharedBlocksAreCountedAndEvictedLeastRecentlyReleasedFirst) {
  BlockAllocator blocks(3);
  const std::vector<int32_t> a = Tokens(10, 4), b = Tokens(20, 4);
  const BlockKey ka = ChainBlockKey({}, a), kb = ChainBlockKey({}, b);
  EXPECT_FALSE(ka == kb);
  EXPECT_FALSE(ChainBlockKey(ka, b) == kb) << "the key depends on what came before";
  const int32_t x = *blocks.Allocate(), y = *blocks.Allocate();
  blocks.RegisterFull(x, ka, a);
  blocks.RegisterFull(y, kb, b);
  EXPECT_EQ(blocks.num_cached(), 2);
  // A second holder of x.
  ASSERT_EQ(blocks.AcquireCached(ka, a), x);
  EXPECT_EQ(blocks.ref_count(x), 2);
  EXPECT_FALSE(blocks.AcquireCached(ka, b).has_value()) << "tokens are compared too";
  ASSERT_TRUE(blocks.Free(x).ok());
  ASSERT_TRUE(blocks.Free(y).ok());
  EXPECT_EQ(blocks.num_used(), 1);  // x still held
  ASSERT_TRUE(blocks.Free(x).ok());
  EXPECT_EQ(blocks.num_used(), 0);
  EXPECT_EQ(blocks.num_evictable(), 2);
  EXPECT_EQ(blocks.num_free(), 3);  // one free + two evictable
  // The free block first, then y (released before x).
  const int32_t z = *blocks.Allocate();
  EXPECT_NE(z, x);
  EXPECT_NE(z, y);
  EXPECT_EQ(*blocks.Allocate(), y);
  EXPECT_EQ(blocks.evictions(), 1);
  EXPECT_FALSE(blocks.AcquireCached(kb, b).has_value()) << "evicted";
  ASSERT_EQ(blocks.AcquireCached(ka, a), x) << "still cached";
  EXPECT_FALSE(blocks.Allocate().has_value()) << "every block is held";
  EXPECT_THAT(blocks.Free(7).message(), ::testing::HasSubstr("outside"));
}

TEST(BlockAllocatorCacheTest, CachingOffCachesNothing) {
  BlockAllocator blocks(2);
  blocks.set_caching(false);
  const std::vector<int32_t> a = Tokens(1, 4);
  const int32_t x = *blocks.Allocate();
  blocks.RegisterFull(x, ChainBlockKey({}, a), a);
  ASSERT_TRUE(blocks.Free(x).ok());
  EXPECT_EQ(blocks.num_cached(), 0);
  EXPECT_FALSE(blocks.AcquireCached(ChainBlockKey({}, a), a).has_value());
}

struct CachedEntry {
  std::vector<int32_t> tokens;
  SchedulerEntry entry;
  CachedEntry(uint64_t id, std::vector<int32_t> t) : tokens(std::move(t)) {
    entry.id = id;
    entry.num_tokens = static_cast<int64_t>(tokens.size());
    entry.tokens = &tokens;
  }
};

// Runs steps until `e` has sampled once (its prompt is computed).
void PrefillAll(Scheduler& s, SchedulerEntry* e, std::vector<int32_t>* tokens) {
  while (true) {
    std::vector<StepItem> items = s.Schedule();
    s.Commit(items);
    for (const StepItem& item : items) {
      if (item.sample && item.entry == e) {
        tokens->push_back(99);
        ++e->num_tokens;
        return;
      }
    }
  }
}

TEST(SchedulerPrefixCacheTest, AdmissionTakesTheCachedPrefixAndComputesTheRest) {
  BlockAllocator blocks(20);
  Scheduler s({/*max_tokens_per_step=*/64, 8, /*block_size=*/4, 1}, &blocks);
  CachedEntry a(1, Tokens(100, 10));  // blocks [100..103] [104..107], then 2 tokens
  s.Enqueue(&a.entry);
  PrefillAll(s, &a.entry, &a.tokens);
  EXPECT_EQ(a.entry.cached_blocks, 2);
  EXPECT_EQ(blocks.num_cached(), 2);

  // Shares 9 tokens with a: the two full blocks come from the cache.
  std::vector<int32_t> prompt = Tokens(100, 9);
  prompt.push_back(7);
  CachedEntry b(2, prompt);
  s.Enqueue(&b.entry);
  std::vector<StepItem> items = s.Schedule();
  ASSERT_EQ(items.size(), 2u);  // a decodes, b is admitted
  const StepItem& admitted = items[1];
  EXPECT_EQ(admitted.entry, &b.entry);
  EXPECT_EQ(admitted.start, 8);
  EXPECT_EQ(admitted.count, 2);
  EXPECT_EQ(b.entry.cached_tokens, 8);
  EXPECT_EQ(b.entry.block_table[0], a.entry.block_table[0]);
  EXPECT_EQ(b.entry.block_table[1], a.entry.block_table[1]);
  EXPECT_NE(b.entry.block_table[2], a.entry.block_table[2]);
  EXPECT_EQ(blocks.ref_count(a.entry.block_table[0]), 2);
  s.Commit(items);

  // A prompt that is exactly the cached blocks computes only its last token again, into a
  // private copy of its last block (the shared one is neither written nor given up).
  CachedEntry c(3, Tokens(100, 8));
  s.Enqueue(&c.entry);
  const int32_t shared_last = a.entry.block_table[1];
  const int32_t holders = blocks.ref_count(shared_last);
  items = s.Schedule();
  const StepItem& last = items.back();
  EXPECT_EQ(last.entry, &c.entry);
  EXPECT_EQ(last.start, 7);
  EXPECT_EQ(last.count, 1);
  EXPECT_TRUE(last.sample);
  EXPECT_EQ(c.entry.cached_tokens, 7);
  ASSERT_EQ(c.entry.block_table.size(), 2u);
  EXPECT_EQ(c.entry.block_table[0], a.entry.block_table[0]);
  const int32_t own = c.entry.block_table[1];
  EXPECT_NE(own, shared_last);
  EXPECT_EQ(blocks.ref_count(shared_last), holders + 1) << "the source is held until the copy";
  std::vector<BlockCopy> copies;
  s.PerformBlockCopies([&](const BlockCopy& copy) { copies.push_back(copy); });
  ASSERT_EQ(copies.size(), 1u);
  EXPECT_EQ(copies[0].from, shared_last);
  EXPECT_EQ(copies[0].to, own);
  EXPECT_EQ(copies[0].positions, 3);
  EXPECT_EQ(blocks.ref_count(shared_last), holders);
  s.PerformBlockCopies([&](const BlockCopy& copy) { copies.push_back(copy); });
  EXPECT_EQ(copies.size(), 1u) << "performed once";
  s.Commit(items);

  // Removing every sharer leaves the blocks cached and evictable, none held.
  ASSERT_TRUE(s.Remove(&a.entry).ok());
  ASSERT_TRUE(s.Remove(&b.entry).ok());
  ASSERT_TRUE(s.Remove(&c.entry).ok());
  EXPECT_EQ(blocks.num_used(), 0);
  EXPECT_EQ(blocks.num_free(), 20);
  EXPECT_GE(blocks.num_evictable(), 2);
  const Scheduler::PrefixCacheCounts counts = s.TakePrefixCacheCounts();
  EXPECT_EQ(counts.queried_tokens, 10 + 10 + 8);
  EXPECT_EQ(counts.hit_tokens, 8 + 7);
}

// A request is never refused room that evicting cached blocks would give.
TEST(SchedulerPrefixCacheTest, EvictableBlocksCountAsRoom) {
  BlockAllocator blocks(4);
  Scheduler s({64, 8, 4, /*watermark=*/0}, &blocks);
  CachedEntry a(1, Tokens(0, 16));
  s.Enqueue(&a.entry);
  PrefillAll(s, &a.entry, &a.tokens);
  ASSERT_TRUE(s.Remove(&a.entry).ok());
  EXPECT_EQ(blocks.num_evictable(), 4);
  CachedEntry b(2, Tokens(500, 16));
  s.Enqueue(&b.entry);
  std::vector<StepItem> items = s.Schedule();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].entry, &b.entry);
  EXPECT_EQ(blocks.evictions(), 4);
  EXPECT_EQ(blocks.num_evictable(), 0);
}

// Requests that arrive together with a shared prefix compute it once: the first is admitted, the
// ones whose next block it is computing wait one step (keeping their place; a request with other
// tokens behind them is admitted now) and then take that block from the cache.
TEST(SchedulerPrefixCacheTest, RequestsAdmittedTogetherComputeASharedPrefixOnce) {
  BlockAllocator blocks(40);
  Scheduler s({/*max_tokens_per_step=*/64, 8, /*block_size=*/4, 1}, &blocks);
  std::vector<int32_t> system = Tokens(100, 8);  // two full blocks
  auto with_tail = [&](int32_t t) {
    std::vector<int32_t> p = system;
    p.push_back(t);
    p.push_back(t + 1);
    return p;
  };
  CachedEntry a(1, with_tail(1)), b(2, with_tail(3)), other(3, Tokens(500, 6)), c(4, with_tail(5));
  for (CachedEntry* e : {&a, &b, &other, &c}) s.Enqueue(&e->entry);

  std::vector<StepItem> items = s.Schedule();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].entry, &a.entry);
  EXPECT_EQ(items[0].count, 10);
  EXPECT_EQ(items[1].entry, &other.entry) << "an unrelated prompt is not held back";
  ASSERT_EQ(s.waiting().size(), 2u);
  EXPECT_EQ(s.waiting()[0], &b.entry) << "the deferred keep their order";
  EXPECT_EQ(s.waiting()[1], &c.entry);
  EXPECT_TRUE(b.entry.block_table.empty()) << "a deferred entry holds no blocks";
  s.Commit(items);
  for (CachedEntry* sampled : {&a, &other}) {
    sampled->tokens.push_back(99);
    ++sampled->entry.num_tokens;
  }

  items = s.Schedule();  // a and other decode; b and c take both shared blocks
  ASSERT_EQ(items.size(), 2u + 2u);
  for (int i : {2, 3}) {
    EXPECT_EQ(items[i].start, 8);
    EXPECT_EQ(items[i].count, 2);
    EXPECT_EQ(items[i].entry->cached_tokens, 8);
    EXPECT_EQ(items[i].entry->block_table[0], a.entry.block_table[0]);
    EXPECT_EQ(items[i].entry->block_table[1], a.entry.block_table[1]);
  }
  EXPECT_EQ(items[2].entry, &b.entry);
  EXPECT_EQ(items[3].entry, &c.entry);
  s.Commit(items);
  const Scheduler::PrefixCacheCounts counts = s.TakePrefixCacheCounts();
  EXPECT_EQ(counts.hit_tokens, 16);
}

// A running prefill's chunk counts too: a request that shares the block the chunk completes
// waits for it rather than computing it again.
TEST(SchedulerPrefixCacheTest, ARequestWaitsForTheBlockARunningPrefillCompletes) {
  BlockAllocator blocks(40);
  Scheduler s({/*max_tokens_per_step=*/8, 8, /*block_size=*/4, 1}, &blocks);
  CachedEntry a(1, Tokens(100, 20));  // five full blocks
  std::vector<int32_t> longer = Tokens(100, 20);
  for (int32_t t : {7, 8, 9, 10}) longer.push_back(t);
  CachedEntry b(2, longer);  // a's 20 tokens and 4 more
  s.Enqueue(&a.entry);
  s.Enqueue(&b.entry);
  std::vector<StepItem> items;
  for (int step = 0; step < 2; ++step) {  // a's first two chunks take the whole budget
    items = s.Schedule();
    ASSERT_EQ(items.size(), 1u);
    s.Commit(items);
  }
  items = s.Schedule();  // a's last 4 tokens complete block 4: b waits for it
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].entry, &a.entry);
  EXPECT_EQ(items[0].start, 16);
  s.Commit(items);
  a.tokens.push_back(99);
  ++a.entry.num_tokens;
  items = s.Schedule();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1].entry, &b.entry);
  EXPECT_EQ(items[1].start, 20) << "all five shared blocks came from the cache";
  EXPECT_EQ(items[1].count, 4);
}

// With caching off nothing waits: two identical prompts are admitted in one step.
TEST(SchedulerPrefixCacheTest, WithCachingOffIdenticalPromptsAreAdmittedTogether) {
  BlockAllocator blocks(40);
  blocks.set_caching(false);
  Scheduler s({64, 8, 4, 1}, &blocks);
  CachedEntry a(1, Tokens(100, 10)), b(2, Tokens(100, 10));
  s.Enqueue(&a.entry);
  s.Enqueue(&b.entry);
  EXPECT_EQ(s.Schedule().size(), 2u);
}

}  // namespace
}  // namespace ember
