// BeamBlocks: beams share KV blocks copy-on-write. A simulated cache (each slot holds the token
// written there) checks that every beam always reads back exactly its own history, that copies are
// limited to one partly written block per beam and step, and that the group's reservation
// (BeamGroupBlocks) is never overdrawn.
#include "core/engine/beam_blocks.h"

#include <algorithm>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace ember {
namespace {

TEST(BeamBlocksTest, BeamsShareThePromptAndCopyOnlyThePartBlockTheyWriteInto) {
  const int64_t bs = 4;
  // Prompt of 6 tokens, 3 beams, up to 14 tokens: 1 shared full block + 3 x 3 own.
  ASSERT_EQ(BeamGroupBlocks(6, 14, 3, bs), 10);
  std::vector<int32_t> pool;
  for (int32_t b = 0; b < 10; ++b) pool.push_back(100 + b);
  BeamBlocks blocks(pool, bs);
  auto prefill = blocks.PrepareWrite(0, 0, 6);
  ASSERT_TRUE(prefill.ok());
  EXPECT_TRUE(prefill->empty());
  ASSERT_EQ(blocks.table(0).size(), 2u);
  const int32_t full = blocks.table(0)[0], part = blocks.table(0)[1];
  ASSERT_TRUE(blocks.Reorder({0, 0, 0}).ok());
  EXPECT_EQ(blocks.holders(full), 3);
  EXPECT_EQ(blocks.blocks_in_use(), 2) << "continuing a beam copies nothing";
  // Each beam writes position 6, inside the shared part block: the first two get private copies
  // of its 2 written positions; the last is then its only holder and writes in place.
  for (int32_t b = 0; b < 3; ++b) {
    auto copies = blocks.PrepareWrite(b, 6, 1);
    ASSERT_TRUE(copies.ok());
    if (b < 2) {
      ASSERT_EQ(copies->size(), 1u);
      EXPECT_EQ((*copies)[0].from, part);
      EXPECT_EQ((*copies)[0].positions, 2);
      EXPECT_NE(blocks.table(b)[1], part);
    } else {
      EXPECT_TRUE(copies->empty());
      EXPECT_EQ(blocks.table(b)[1], part);
    }
    EXPECT_EQ(blocks.table(b)[0], full) << "the prompt's full block stays shared";
  }
  EXPECT_EQ(blocks.holders(full), 3);
  EXPECT_EQ(blocks.blocks_in_use(), 4);
  // Beam 1 dies, beam 0 forks: beam 1's block goes back to the pool.
  ASSERT_TRUE(blocks.Reorder({0, 0, 2}).ok());
  EXPECT_EQ(blocks.blocks_in_use(), 3);
  EXPECT_EQ(blocks.num_beams(), 3);
  // A write at a block boundary needs no copy, only a fresh block.
  auto at_boundary = blocks.PrepareWrite(2, 8, 1);
  ASSERT_TRUE(at_boundary.ok());
  EXPECT_TRUE(at_boundary->empty());
  EXPECT_EQ(blocks.table(2).size(), 3u);
  // Nothing left to hold: every block returns.
  ASSERT_TRUE(blocks.Reorder({}).ok());
  EXPECT_EQ(blocks.blocks_in_use(), 0);
}

TEST(BeamBlocksTest, BadBeamsAndAnEmptyPoolAreInternalErrors) {
  BeamBlocks blocks({7}, 2);
  EXPECT_EQ(blocks.PrepareWrite(1, 0, 1).status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(blocks.Reorder({1}).code(), absl::StatusCode::kInternal);
  ASSERT_TRUE(blocks.PrepareWrite(0, 0, 2).ok());
  const auto dry = blocks.PrepareWrite(0, 2, 1);
  EXPECT_EQ(dry.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(dry.status().message().find("1 reserved KV blocks"), std::string::npos) << dry.status();
}

// A random beam search over a simulated cache: slot contents are the tokens written there.
TEST(BeamBlocksTest, RandomSearchesReadBackEveryBeamsHistoryWithinTheReservation) {
  std::mt19937 rng(7);
  int64_t copied_positions = 0, copy_free_writes = 0;
  for (int trial = 0; trial < 400; ++trial) {
    const int64_t bs = 1 + static_cast<int64_t>(rng() % 8);
    const int64_t prompt = 1 + static_cast<int64_t>(rng() % 20);
    const int64_t new_tokens = 1 + static_cast<int64_t>(rng() % 24);
    const int32_t width = 1 + static_cast<int32_t>(rng() % 6);
    const int64_t longest = prompt + new_tokens;
    const int64_t reserved = BeamGroupBlocks(prompt, longest, width, bs);
    std::vector<int32_t> pool;
    for (int64_t b = 0; b < reserved; ++b) pool.push_back(static_cast<int32_t>(3 * b + 1));
    const int32_t max_block = pool.back();
    std::vector<std::vector<int32_t>> cache(static_cast<size_t>(max_block + 1),
                                            std::vector<int32_t>(static_cast<size_t>(bs), -1));
    BeamBlocks blocks(pool, bs);
    auto write = [&](int32_t beam, int64_t pos, int32_t token) {
      const int32_t block = blocks.table(beam)[static_cast<size_t>(pos / bs)];
      cache[static_cast<size_t>(block)][static_cast<size_t>(pos % bs)] = token;
    };
    auto apply = [&](const std::vector<BeamBlocks::Copy>& copies) {
      for (const BeamBlocks::Copy& c : copies) {
        ASSERT_LT(c.positions, bs) << "only a partly written block is ever copied";
        copied_positions += c.positions;
        std::copy_n(cache[static_cast<size_t>(c.from)].begin(), c.positions,
                    cache[static_cast<size_t>(c.to)].begin());
      }
    };
    // Prefill, possibly in chunks.
    std::vector<int32_t> prompt_tokens;
    for (int64_t i = 0; i < prompt; ++i) prompt_tokens.push_back(static_cast<int32_t>(1000 + i));
    for (int64_t start = 0; start < prompt;) {
      const int64_t count = std::min<int64_t>(prompt - start, 1 + rng() % 7);
      auto copies = blocks.PrepareWrite(0, start, count);
      ASSERT_TRUE(copies.ok()) << copies.status();
      apply(*copies);
      for (int64_t p = start; p < start + count; ++p) write(0, p, prompt_tokens[p]);
      start += count;
    }
    std::vector<std::vector<int32_t>> histories = {prompt_tokens};
    int32_t next_token = 0;
    for (int64_t pos = prompt; pos < longest; ++pos) {
      // The search keeps 1..width beams, each continuing a random live one.
      const int32_t live = 1 + static_cast<int32_t>(rng() % static_cast<uint32_t>(width));
      std::vector<int32_t> parents;
      for (int32_t i = 0; i < live; ++i) {
        parents.push_back(static_cast<int32_t>(rng() % histories.size()));
      }
      ASSERT_TRUE(blocks.Reorder(parents).ok());
      std::vector<std::vector<int32_t>> next;
      for (int32_t p : parents) next.push_back(histories[static_cast<size_t>(p)]);
      histories = std::move(next);
      for (int32_t b = 0; b < live; ++b) {
        auto copies = blocks.PrepareWrite(b, pos, 1);
        ASSERT_TRUE(copies.ok()) << "trial " << trial << ": " << copies.status();
        if (copies->empty()) ++copy_free_writes;
        apply(*copies);
        write(b, pos, next_token);
        histories[static_cast<size_t>(b)].push_back(next_token++);
      }
      ASSERT_LE(blocks.blocks_in_use(), reserved);
      // Every beam reads back exactly its own history.
      for (int32_t b = 0; b < live; ++b) {
        const auto table = blocks.table(b);
        for (int64_t p = 0; p <= pos; ++p) {
          const int32_t block = table[static_cast<size_t>(p / bs)];
          ASSERT_EQ(cache[static_cast<size_t>(block)][static_cast<size_t>(p % bs)],
                    histories[static_cast<size_t>(b)][static_cast<size_t>(p)])
              << "trial " << trial << " beam " << b << " position " << p;
        }
      }
    }
    ASSERT_TRUE(blocks.Reorder({}).ok());
    EXPECT_EQ(blocks.blocks_in_use(), 0);
  }
  // The searches did share and copy (the test is not vacuous).
  EXPECT_GT(copied_positions, 0);
  EXPECT_GT(copy_free_writes, 0);
}

}  // namespace
}  // namespace ember
