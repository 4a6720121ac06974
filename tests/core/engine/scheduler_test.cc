// The scheduling policy on its own: no model, no threads.
#include "core/engine/scheduler.h"

#include <memory>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ember {
namespace {

std::unique_ptr<SchedulerEntry> Entry(uint64_t id, int64_t prompt) {
  auto e = std::make_unique<SchedulerEntry>();
  e->id = id;
  e->num_tokens = prompt;
  return e;
}

// Simulates the engine: commit the step, then "sample" one token for every item that asked.
void RunStep(Scheduler& s, std::vector<StepItem>& items) {
  s.Commit(items);
  for (StepItem& item : items) {
    if (item.sample) ++item.entry->num_tokens;
  }
}

TEST(SchedulerTest, ChunksLongPromptsAndKeepsDecodesRunning) {
  BlockAllocator blocks(100);
  Scheduler s({/*max_tokens_per_step=*/8, /*max_running=*/4, /*block_size=*/4, 1}, &blocks);
  auto a = Entry(1, 3), b = Entry(2, 20);
  s.Enqueue(a.get());
  s.Enqueue(b.get());
  auto step1 = s.Schedule();
  ASSERT_EQ(step1.size(), 2u);
  EXPECT_EQ(step1[0].entry, a.get());
  EXPECT_EQ(step1[0].count, 3);
  EXPECT_TRUE(step1[0].sample);
  EXPECT_EQ(step1[1].entry, b.get());
  EXPECT_EQ(step1[1].count, 5);  // budget 8 - 3
  EXPECT_FALSE(step1[1].sample);
  RunStep(s, step1);
  // Step 2: a decodes (1 token) first, b continues with a 7-token chunk.
  auto step2 = s.Schedule();
  ASSERT_EQ(step2.size(), 2u);
  EXPECT_EQ(step2[0].entry, a.get());
  EXPECT_EQ(step2[0].count, 1);
  EXPECT_EQ(step2[1].entry, b.get());
  EXPECT_EQ(step2[1].start, 5);
  EXPECT_EQ(step2[1].count, 7);
  RunStep(s, step2);
  auto step3 = s.Schedule();
  ASSERT_EQ(step3.size(), 2u);
  EXPECT_EQ(step3[1].count, 7);
  EXPECT_EQ(step3[1].start, 12);
  RunStep(s, step3);
  auto step4 = s.Schedule();
  EXPECT_EQ(step4[1].count, 1);  // prompt finished: 19 + 1 = 20
  EXPECT_TRUE(step4[1].sample);
}

TEST(SchedulerTest, BlocksGrowOnDemandAndAreFreedOnRemove) {
  BlockAllocator blocks(10);
  Scheduler s({64, 8, 4, 1}, &blocks);
  auto a = Entry(1, 5);
  s.Enqueue(a.get());
  auto step = s.Schedule();
  EXPECT_EQ(a->block_table.size(), 2u);
  for (int i = 0; i < 4; ++i) {
    RunStep(s, step);
    step = s.Schedule();
  }
  // 5 prompt + 4 sampled = 9 tokens, 8 computed: the next decode needs positions up to 9 -> 3
  // blocks.
  EXPECT_EQ(a->block_table.size(), 3u);
  EXPECT_EQ(blocks.num_used(), 3);
  ASSERT_TRUE(s.Remove(a.get()).ok());
  EXPECT_EQ(blocks.num_used(), 0);
  EXPECT_EQ(s.num_running(), 0u);
}

TEST(SchedulerTest, AdmissionWaitsForKvRoomFirstComeFirstServed) {
  BlockAllocator blocks(6);
  Scheduler s({64, 8, 4, /*watermark=*/1}, &blocks);
  auto big = Entry(1, 16), small = Entry(2, 2), later = Entry(3, 2);
  s.Enqueue(big.get());
  s.Enqueue(small.get());
  auto step = s.Schedule();
  // big takes 4 blocks; small needs 1 + watermark 1 = 2 <= 2 free: admitted too.
  ASSERT_EQ(step.size(), 2u);
  RunStep(s, step);
  s.Enqueue(later.get());
  step = s.Schedule();
  // No room for `later` (0 free after growth), and it does not overtake.
  EXPECT_EQ(s.num_waiting(), 1u);
  ASSERT_TRUE(s.Remove(big.get()).ok());
  RunStep(s, step);
  step = s.Schedule();
  EXPECT_EQ(s.num_waiting(), 0u);
}

TEST(SchedulerTest, PreemptsTheNewestSequenceWhenBlocksRunOut) {
  BlockAllocator blocks(4);
  Scheduler s({64, 8, 2, 0}, &blocks);
  auto a = Entry(1, 3), b = Entry(2, 3);
  s.Enqueue(a.get());
  s.Enqueue(b.get());
  auto step = s.Schedule();
  ASSERT_EQ(step.size(), 2u);  // 2 blocks each: pool full
  RunStep(s, step);  // a, b now have 4 tokens, 3 computed: decode needs position 3 (block 2)
  step = s.Schedule();
  RunStep(s, step);
  step = s.Schedule();  // 5 tokens each now need 3 blocks: b is preempted so a can grow
  EXPECT_EQ(s.TakePreemptionCount(), 1);
  EXPECT_EQ(b->preemptions, 1);
  EXPECT_FALSE(b->running);
  EXPECT_TRUE(b->block_table.empty());
  EXPECT_EQ(b->num_computed, 0);
  ASSERT_EQ(step.size(), 1u);
  EXPECT_EQ(step[0].entry, a.get());
  EXPECT_EQ(blocks.num_used() + blocks.num_free(), 4);
}

TEST(SchedulerTest, RejectsBadOptions) {
  EXPECT_FALSE(Scheduler::Validate({0, 1, 16, 1}).ok());
  EXPECT_FALSE(Scheduler::Validate({8, 9, 16, 1}).ok());
  EXPECT_FALSE(Scheduler::Validate({8, 4, 0, 1}).ok());
  EXPECT_TRUE(Scheduler::Validate({8, 4, 16, 1}).ok());
}

TEST(BlockAllocatorTest, DetectsDoubleFreeAndOutOfRange) {
  BlockAllocator blocks(2);
  auto b0 = blocks.Allocate();
  ASSERT_TRUE(b0.has_value());
  EXPECT_EQ(*b0, 0);
  EXPECT_TRUE(blocks.Free(*b0).ok());
  EXPECT_THAT(blocks.Free(*b0).message(), ::testing::HasSubstr("double free"));
  EXPECT_THAT(blocks.Free(7).message(), ::testing::HasSubstr("outside"));
  EXPECT_TRUE(blocks.Allocate().has_value());
  EXPECT_TRUE(blocks.Allocate().has_value());
  EXPECT_FALSE(blocks.Allocate().has_value());
}

}  // namespace
}  // namespace ember
