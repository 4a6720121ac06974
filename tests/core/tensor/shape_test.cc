#include "core/tensor/shape.h"

#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ember {
namespace {

TEST(ShapeTest, CountsElements) {
  EXPECT_EQ(*CheckedNumElements({2, 3, 4}), 24);
  EXPECT_EQ(*CheckedNumElements({}), 1);
  EXPECT_EQ(*CheckedNumElements({5, 0}), 0);
  EXPECT_EQ(ShapeToString({2, 3}), "[2, 3]");
}

TEST(ShapeTest, RejectsNegativeAndOverflowingShapes) {
  EXPECT_THAT(CheckedNumElements({2, -1}).status().message(),
              ::testing::HasSubstr("negative dimension"));
  const int64_t big = std::numeric_limits<int64_t>::max() / 2;
  EXPECT_THAT(CheckedNumElements({big, 3}).status().message(),
              ::testing::HasSubstr("more than 2^63"));
}

}  // namespace
}  // namespace ember
