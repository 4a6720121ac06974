// The least-squares slope and the resource summary built on it: only the second half of the load
// counts toward the RSS trend.
#include "tools/soak/resource_stats.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "tools/soak/linear_fit.h"

namespace ember::soak {
namespace {

TEST(LinearFitTest, RecoversAnExactLine) {
  const std::vector<double> xs = {0, 1, 2, 3, 4};
  const std::vector<double> ys = {3, 5, 7, 9, 11};
  EXPECT_DOUBLE_EQ(*LeastSquaresSlope(xs, ys), 2.0);
}

TEST(LinearFitTest, SymmetricNoiseCancels) {
  // y = 0.5 x with +-1 alternating: the residuals are orthogonal to x only in pairs, so use a
  // pattern whose covariance with x is exactly 0.
  const std::vector<double> xs = {0, 1, 2, 3};
  const std::vector<double> ys = {0 + 1, 0.5 - 1, 1.0 - 1, 1.5 + 1};
  EXPECT_NEAR(*LeastSquaresSlope(xs, ys), 0.5, 1e-12);
}

TEST(LinearFitTest, LargeOffsetsDoNotLosePrecision) {
  const std::vector<double> xs = {1e9, 1e9 + 1, 1e9 + 2};
  const std::vector<double> ys = {1e6, 1e6 + 0.001, 1e6 + 0.002};
  EXPECT_NEAR(*LeastSquaresSlope(xs, ys), 0.001, 1e-9);
}

TEST(LinearFitTest, DegenerateInputsHaveNoSlope) {
  EXPECT_FALSE(LeastSquaresSlope({}, {}).has_value());
  const std::vector<double> one = {1};
  EXPECT_FALSE(LeastSquaresSlope(one, one).has_value());
  const std::vector<double> same_x = {2, 2, 2};
  const std::vector<double> ys = {1, 2, 3};
  EXPECT_FALSE(LeastSquaresSlope(same_x, ys).has_value());
  const std::vector<double> two = {1, 2};
  EXPECT_FALSE(LeastSquaresSlope(two, ys).has_value());
}

MonitorSample At(double t, SoakPhase phase, int64_t rss_mb, int64_t threads, int64_t fds) {
  MonitorSample s;
  s.t_seconds = t;
  s.phase = phase;
  s.process = ProcessSample{rss_mb * 1'000'000, threads, fds};
  return s;
}

TEST(ResourceStatsTest, SlopeIgnoresWarmUpAndDrain) {
  std::vector<MonitorSample> samples = {At(0, SoakPhase::kBaseline, 50, 10, 12)};
  // First half of a 120 s load: RSS climbs 1 MB per second (warm-up).
  for (int t = 1; t < 60; ++t) samples.push_back(At(t, SoakPhase::kLoad, 50 + t, 12, 14));
  // Second half: 1 MB per minute.
  for (int t = 60; t <= 120; ++t) {
    samples.push_back(At(t, SoakPhase::kLoad, 0, 12, 14));
    samples.back().process->rss_bytes = 200'000'000 + (t - 60) * 1'000'000 / 60;
  }
  samples.push_back(At(121, SoakPhase::kDrain, 900, 30, 40));  // excluded from the fit
  samples.push_back(At(122, SoakPhase::kFinal, 201, 11, 13));
  const ResourceStats stats = SummarizeResources(samples, 120);
  ASSERT_TRUE(stats.rss_slope_mb_per_minute.has_value());
  EXPECT_NEAR(*stats.rss_slope_mb_per_minute, 1.0, 1e-4);
  EXPECT_EQ(stats.slope_samples, 61);
  ASSERT_TRUE(stats.rss_bytes.has_value());
  EXPECT_EQ(stats.rss_bytes->start, 50'000'000);
  EXPECT_EQ(stats.rss_bytes->end, 201'000'000);
  EXPECT_EQ(stats.rss_bytes->max, 900'000'000);
  EXPECT_EQ(stats.threads->start, 10);
  EXPECT_EQ(stats.threads->end, 11);
  EXPECT_EQ(stats.threads->max, 30);
  EXPECT_EQ(stats.open_fds->max, 40);
}

TEST(ResourceStatsTest, NoProcessSamplesNoFigures) {
  MonitorSample s;
  s.phase = SoakPhase::kLoad;
  s.t_seconds = 100;
  const ResourceStats stats = SummarizeResources({s, s}, 120);
  EXPECT_FALSE(stats.rss_bytes.has_value());
  EXPECT_FALSE(stats.threads.has_value());
  EXPECT_FALSE(stats.rss_slope_mb_per_minute.has_value());
  EXPECT_EQ(stats.slope_samples, 0);
}

}  // namespace
}  // namespace ember::soak
