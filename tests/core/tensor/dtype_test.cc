#include "core/tensor/dtype.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ember {
namespace {

using ::testing::HasSubstr;

TEST(DTypeTest, ParsesSafetensorsNamesAndSizes) {
  EXPECT_EQ(*ParseDType("F32"), DType::kF32);
  EXPECT_EQ(*ParseDType("F16"), DType::kF16);
  EXPECT_EQ(*ParseDType("BF16"), DType::kBF16);
  EXPECT_EQ(DTypeSize(DType::kF32), 4u);
  EXPECT_EQ(DTypeSize(DType::kBF16), 2u);
  EXPECT_EQ(DTypeName(DType::kBF16), "BF16");
}

TEST(DTypeTest, RejectsUnsupportedAndUnknownNames) {
  auto i8 = ParseDType("I8");
  ASSERT_FALSE(i8.ok());
  EXPECT_THAT(i8.status().message(), HasSubstr("\"I8\" is not supported"));
  auto junk = ParseDType("float32");
  ASSERT_FALSE(junk.ok());
  EXPECT_THAT(junk.status().message(), HasSubstr("unknown dtype \"float32\""));
}

}  // namespace
}  // namespace ember
