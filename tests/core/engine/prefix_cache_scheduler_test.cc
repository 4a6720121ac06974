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

  // A prompt that is exactly the cached blocks still computes its last token.
  CachedEntry c(3, Tokens(100, 8));
  s.Enqueue(&c.entry);
  items = s.Schedule();
  const StepItem& last = items.back();
  EXPECT_EQ(last.entry, &c.entry);
  EXPECT_EQ(last.start, 4);
  EXPECT_EQ(last.count, 4);
  EXPECT_TRUE(last.sample);
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
  EXPECT_EQ(counts.hit_tokens, 8 + 4);
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

}  // namespace
}  // namespace ember
