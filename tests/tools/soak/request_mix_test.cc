// RequestMix: parsing --mix and drawing kinds in proportion to their weights.
#include "tools/soak/request_mix.h"

#include <map>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ember::soak {
namespace {

using ::testing::HasSubstr;

TEST(RequestMixTest, DefaultIsTheDocumentedMix) {
  const RequestMix mix;
  EXPECT_EQ(mix.ToString(), kDefaultRequestMix);
  EXPECT_EQ(mix.total_weight(), 100);
  absl::StatusOr<RequestMix> parsed = RequestMix::Parse(kDefaultRequestMix);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->ToString(), mix.ToString());
}

TEST(RequestMixTest, ParsesWeightsAndLeavesOutKindsAtZero) {
  absl::StatusOr<RequestMix> mix = RequestMix::Parse(" slow = 3 , normal=1 ");
  ASSERT_TRUE(mix.ok()) << mix.status();
  EXPECT_EQ(mix->weight(RequestKind::kNormal), 1);
  EXPECT_EQ(mix->weight(RequestKind::kSlowRead), 3);
  EXPECT_EQ(mix->weight(RequestKind::kCancel), 0);
  EXPECT_EQ(mix->total_weight(), 4);
  EXPECT_EQ(mix->ToString(), "normal=1,slow=3");
}

TEST(RequestMixTest, RejectsMalformedEntriesNamingThem) {
  const std::map<std::string, std::string> cases = {
      {"normal", "expected kind=weight"},
      {"normal=1=2", "expected kind=weight"},
      {"bogus=1", "unknown kind"},
      {"normal=-1", "weight must be"},
      {"normal=x", "weight must be"},
      {"normal=1,normal=2", "given twice"},
      {"normal=0,cancel=0", "positive weight"},
      {"", "positive weight"},
  };
  for (const auto& [spec, want] : cases) {
    absl::StatusOr<RequestMix> mix = RequestMix::Parse(spec);
    ASSERT_FALSE(mix.ok()) << spec;
    EXPECT_EQ(mix.status().code(), absl::StatusCode::kInvalidArgument) << spec;
    EXPECT_THAT(mix.status().message(), HasSubstr(want)) << spec;
  }
}

TEST(RequestMixTest, PickGivesEachKindExactlyItsShareOverOneCycle) {
  absl::StatusOr<RequestMix> mix = RequestMix::Parse("normal=5,cancel=0,deadline=2,invalid=3");
  ASSERT_TRUE(mix.ok());
  std::map<RequestKind, int> counts;
  // Draws 0..total-1 cover every point of the cumulative weights once; adding multiples of the
  // total changes nothing.
  for (uint64_t draw = 0; draw < 10; ++draw) ++counts[mix->Pick(draw + 1000 * 10)];
  EXPECT_EQ(counts[RequestKind::kNormal], 5);
  EXPECT_EQ(counts[RequestKind::kCancel], 0);
  EXPECT_EQ(counts[RequestKind::kDeadline], 2);
  EXPECT_EQ(counts[RequestKind::kSlowRead], 0);
  EXPECT_EQ(counts[RequestKind::kInvalid], 3);
  EXPECT_EQ(mix->Pick(~uint64_t{0}), mix->Pick(~uint64_t{0} % 10));
}

TEST(RequestMixTest, KindNamesRoundTrip) {
  for (RequestKind kind : kAllRequestKinds) {
    EXPECT_EQ(RequestKindFromName(RequestKindName(kind)), kind);
  }
  EXPECT_FALSE(RequestKindFromName("Normal").has_value());
}

}  // namespace
}  // namespace ember::soak
