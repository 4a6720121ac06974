#include "core/tensor/half.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

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

// WidenToF32 reads checkpoint data where it lies: at an odd address too (safetensors offsets need
// not be aligned), for each dtype, giving exactly the scalar conversions above.
TEST(HalfTest, WidenToF32ReadsEveryDTypeAtAnyAlignment) {
  const std::vector<float> values = {1.0f, -2.5f, 0.0f, 65504.0f, 3.0e-5f};
  for (DType dtype : {DType::kF32, DType::kF16, DType::kBF16}) {
    std::vector<unsigned char> bytes(1 + values.size() * DTypeSize(dtype));
    std::vector<float> expected;
    for (size_t i = 0; i < values.size(); ++i) {
      unsigned char* at = bytes.data() + 1 + i * DTypeSize(dtype);
      if (dtype == DType::kF32) {
        std::memcpy(at, &values[i], sizeof(float));
        expected.push_back(values[i]);
        continue;
      }
      const uint16_t bits = dtype == DType::kF16 ? FloatToHalf(values[i]) : FloatToBf16(values[i]);
      std::memcpy(at, &bits, sizeof(bits));
      expected.push_back(dtype == DType::kF16 ? HalfToFloat(bits) : Bf16ToFloat(bits));
    }
    std::vector<float> widened(values.size());
    WidenToF32(bytes.data() + 1, dtype, values.size(), widened.data());
    EXPECT_EQ(widened, expected) << DTypeName(dtype);
  }
}

}  // namespace
}  // namespace ember
