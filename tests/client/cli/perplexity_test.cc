// ember_cli perplexity's arithmetic: the strided windows (each token after the first scored exactly
// once, with context - stride tokens of context at a window's start) and the per-token mean.
#include "client/cli/perplexity.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace ember::client {
namespace {

TEST(PlanWindowsTest, StridedWindowsScoreEveryTokenAfterTheFirstOnce) {
  std::vector<PerplexityWindow> w;
  ASSERT_TRUE(PlanWindows(10, 4, 2, &w).ok());
  // Hugging Face's loop: begin 0, 2, 4, 6 (end 10 reached); trg_len = end - previous end.
  ASSERT_EQ(w.size(), 4u);
  const int64_t expected[][3] = {{0, 4, 1}, {2, 6, 4}, {4, 8, 6}, {6, 10, 8}};
  for (size_t i = 0; i < w.size(); ++i) {
    EXPECT_EQ(w[i].begin, expected[i][0]) << i;
    EXPECT_EQ(w[i].end, expected[i][1]) << i;
    EXPECT_EQ(w[i].first_scored, expected[i][2]) << i;
  }
  std::vector<int> scored(10, 0);
  for (const PerplexityWindow& x : w) {
    for (int64_t t = x.first_scored; t < x.end; ++t) ++scored[static_cast<size_t>(t)];
  }
  EXPECT_EQ(scored[0], 0);
  for (size_t t = 1; t < scored.size(); ++t) EXPECT_EQ(scored[t], 1) << t;
}

TEST(PlanWindowsTest, OneWindowWhenTheTextFitsAndDisjointWindowsWhenStrideIsContext) {
  std::vector<PerplexityWindow> w;
  ASSERT_TRUE(PlanWindows(5, 8, 4, &w).ok());
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].end, 5);
  ASSERT_TRUE(PlanWindows(9, 3, 3, &w).ok());
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[1].begin, 3);
  // A disjoint window's first token has no context in its window: unscored, as in the recipe.
  EXPECT_EQ(w[1].first_scored, 4);
}

TEST(PlanWindowsTest, BadSizesAreRefusedNamingTheFlag) {
  std::vector<PerplexityWindow> w;
  EXPECT_EQ(PlanWindows(1, 8, 4, &w).message(),
            "the text has 1 tokens; perplexity needs at least 2");
  EXPECT_EQ(PlanWindows(10, 1, 1, &w).message(), "--context=1: must be >= 2");
  EXPECT_EQ(PlanWindows(10, 4, 5, &w).message(), "--stride=5: must be in [1, --context = 4]");
  EXPECT_EQ(PlanWindows(10, 4, 0, &w).message(), "--stride=0: must be in [1, --context = 4]");
}

TEST(PerplexityTotalTest, AveragesOverScoredTokensOnly) {
  std::vector<PerplexityWindow> w;
  ASSERT_TRUE(PlanWindows(6, 4, 2, &w).ok());  // [0,4) scores 1-3, [2,6) scores 4-5
  PerplexityTotal total;
  ASSERT_TRUE(total.Add(w[0], {-1.0, -2.0, -3.0}).ok());
  // Entries for tokens 3, 4, 5: token 3 was scored by the first window already.
  ASSERT_TRUE(total.Add(w[1], {-100.0, -4.0, -5.0}).ok());
  EXPECT_EQ(total.tokens(), 5);
  EXPECT_DOUBLE_EQ(total.mean_nll(), 3.0);
  EXPECT_DOUBLE_EQ(total.perplexity(), std::exp(3.0));
  EXPECT_EQ(total.Add(w[1], {-1.0}).message(),
            "the window of tokens [2, 6) came back with 1 prompt log-probabilities, expected 3");
}

}  // namespace
}  // namespace ember::client
