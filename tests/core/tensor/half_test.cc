#include "core/tensor/half.h"

#include <cmath>
#include <cstdint>
#include <limits>

#include "gtest/gtest.h"

namespace ember {
namespace {

// Every one of the 65536 half and bf16 bit patterns converts to f32 and back to itself (NaNs stay
// NaN), which pins both directions to exact IEEE semantics.
TEST(HalfTest, HalfRoundTripsEveryBitPattern) {
  for (uint32_t bits = 0; bits <= 0xffff; ++bits) {
    const float f = HalfToFloat(static_cast<uint16_t>(bits));
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(HalfToFloat(FloatToHalf(f)))) << bits;
      continue;
    }
    EXPECT_EQ(FloatToHalf(f), bits) << "half bits " << bits << " value " << f;
  }
}

TEST(HalfTest, Bf16RoundTripsEveryBitPattern) {
  for (uint32_t bits = 0; bits <= 0xffff; ++bits) {
    const float f = Bf16ToFloat(static_cast<uint16_t>(bits));
    if (std::isnan(f)) continue;
    EXPECT_EQ(FloatToBf16(f), bits) << bits;
  }
}

TEST(HalfTest, RoundsToNearestEven) {
  EXPECT_EQ(HalfToFloat(FloatToHalf(1.0f + 1.0f / 2048.0f)), 1.0f);  // halfway, rounds to even
  EXPECT_EQ(HalfToFloat(FloatToHalf(1.0f + 3.0f / 2048.0f)), 1.0f + 4.0f / 2048.0f);
  EXPECT_EQ(HalfToFloat(FloatToHalf(65520.0f)), std::numeric_limits<float>::infinity());
  EXPECT_EQ(HalfToFloat(FloatToHalf(5.96e-8f)), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(Bf16ToFloat(FloatToBf16(1.0f + 1.0f / 256.0f)), 1.0f);
  EXPECT_EQ(Bf16ToFloat(FloatToBf16(1.0f + 3.0f / 256.0f)), 1.0f + 4.0f / 256.0f);
}

}  // namespace
}  // namespace ember
