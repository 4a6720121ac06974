#include "core/kernels/fast_math.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "core/kernels/exp_sum.h"
#include "gtest/gtest.h"

namespace ember {
namespace {

TEST(FastExpTest, RelativeErrorBelow3e7AcrossTheRange) {
  double worst = 0;
  for (float x = -87.0f; x < 88.0f; x += 0.001953125f) {
    const double want = std::exp(static_cast<double>(x));
    const double got = FastExp(x);
    worst = std::max(worst, std::fabs(got - want) / want);
  }
  EXPECT_LT(worst, 3e-7);
}

TEST(FastExpTest, EdgesAreDefined) {
  EXPECT_EQ(FastExp(-std::numeric_limits<float>::infinity()), 0.0f);
  EXPECT_EQ(FastExp(-1000.0f), 0.0f);
  EXPECT_EQ(FastExp(0.0f), 1.0f);
  EXPECT_TRUE(std::isinf(FastExp(1000.0f)));
  EXPECT_NEAR(FastExp(1.0f), 2.718281828f, 1e-6);
}

// The plain reference: double std::exp per term.
double ReferenceSumExp(const std::vector<float>& x, float shift) {
  double sum = 0.0;
  for (float v : x) sum += std::exp(static_cast<double>(v) - static_cast<double>(shift));
  return sum;
}

TEST(SumExpShiftedTest, MatchesDoubleStdExpOnVocabularySizedRows) {
  std::mt19937 rng(7);
  for (int64_t n : {1, 15, 16, 17, 1000, 32000, 58101}) {
    for (float spread : {1.0f, 10.0f, 40.0f}) {
      std::normal_distribution<float> dist(0.0f, spread);
      std::vector<float> x(static_cast<size_t>(n));
      for (float& v : x) v = dist(rng);
      const float max = *std::max_element(x.begin(), x.end());
      const double want = ReferenceSumExp(x, max);
      EXPECT_NEAR(SumExpShifted(x.data(), n, max), want, 1e-6 * want)
          << "n " << n << " spread " << spread;
    }
  }
}

TEST(SumExpShiftedTest, MinusInfinityAndFarBelowTheShiftAddNothing) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> x = {0.0f, -inf, -200.0f, -inf, 0.0f};
  EXPECT_EQ(SumExpShifted(x.data(), static_cast<int64_t>(x.size()), 0.0f), 2.0);
  EXPECT_EQ(SumExpShifted(x.data(), 0, 0.0f), 0.0);
}

}  // namespace
}  // namespace ember
