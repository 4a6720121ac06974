#include "core/kernels/fast_math.h"

#include <cmath>
#include <limits>

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

}  // namespace
}  // namespace ember
