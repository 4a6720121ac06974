// Percentile math against values numpy.percentile (linear interpolation) gives.
#include "client/cli/latency_stats.h"

#include <vector>

#include "gtest/gtest.h"

namespace ember::client {
namespace {

std::vector<double> OneToHundred() {
  std::vector<double> v;
  for (int i = 1; i <= 100; ++i) v.push_back(i);
  return v;
}

TEST(PercentileTest, MatchesNumpyLinearInterpolation) {
  const std::vector<double> v = OneToHundred();
  // numpy.percentile(range(1, 101), [0, 50, 90, 99, 100]) = [1, 50.5, 90.1, 99.01, 100]
  EXPECT_DOUBLE_EQ(Percentile(v, 0), 1.0);
  EXPECT_DOUBLE_EQ(Percentile(v, 50), 50.5);
  EXPECT_NEAR(Percentile(v, 90), 90.1, 1e-12);
  EXPECT_NEAR(Percentile(v, 99), 99.01, 1e-12);
  EXPECT_DOUBLE_EQ(Percentile(v, 100), 100.0);
  // numpy.percentile([10, 20], 25) = 12.5; [10, 20, 40] at 75 = 30.
  EXPECT_DOUBLE_EQ(Percentile({10, 20}, 25), 12.5);
  EXPECT_DOUBLE_EQ(Percentile({10, 20, 40}, 75), 30.0);
}

TEST(PercentileTest, SingleSampleAndOutOfRangeP) {
  EXPECT_DOUBLE_EQ(Percentile({7}, 0), 7);
  EXPECT_DOUBLE_EQ(Percentile({7}, 99), 7);
  EXPECT_DOUBLE_EQ(Percentile({1, 2}, -5), 1);
  EXPECT_DOUBLE_EQ(Percentile({1, 2}, 150), 2);
}

TEST(SummarizeTest, SortsAndSummarizes) {
  const LatencySummary s = Summarize({0.3, 0.1, 0.2, 0.4});
  EXPECT_EQ(s.count, 4);
  EXPECT_DOUBLE_EQ(s.min, 0.1);
  EXPECT_DOUBLE_EQ(s.max, 0.4);
  EXPECT_NEAR(s.mean, 0.25, 1e-15);
  EXPECT_NEAR(s.p50, 0.25, 1e-15);   // numpy: 0.25
  EXPECT_NEAR(s.p99, 0.397, 1e-12);  // numpy: 0.397
}

TEST(SummarizeTest, EmptyIsAllZero) {
  const LatencySummary s = Summarize({});
  EXPECT_EQ(s.count, 0);
  EXPECT_EQ(s.p50, 0);
  EXPECT_EQ(s.p99, 0);
}

}  // namespace
}  // namespace ember::client
