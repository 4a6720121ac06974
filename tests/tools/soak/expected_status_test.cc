// The endings each request kind may have, and the tally that counts them.
#include "tools/soak/expected_status.h"

#include "gtest/gtest.h"
#include "tools/soak/soak_tally.h"

namespace ember::soak {
namespace {

using absl::StatusCode;
using ember::v1::FinishReason;

constexpr FinishReason kNone = ember::v1::FINISH_REASON_UNSPECIFIED;

TEST(ExpectedStatusTest, TableOfEndings) {
  struct Case {
    RequestKind kind;
    StatusCode code;
    FinishReason reason;
    bool expected;
  };
  const Case cases[] = {
      {RequestKind::kNormal, StatusCode::kOk, ember::v1::FINISH_REASON_EOS, true},
      {RequestKind::kNormal, StatusCode::kOk, ember::v1::FINISH_REASON_LENGTH, true},
      {RequestKind::kNormal, StatusCode::kOk, ember::v1::FINISH_REASON_STOP_SEQUENCE, true},
      // OK paired with anything but a completion is a server bug.
      {RequestKind::kNormal, StatusCode::kOk, ember::v1::FINISH_REASON_CANCELLED, false},
      {RequestKind::kNormal, StatusCode::kOk, kNone, false},
      {RequestKind::kNormal, StatusCode::kCancelled, kNone, false},
      {RequestKind::kNormal, StatusCode::kResourceExhausted, kNone, false},
      {RequestKind::kNormal, StatusCode::kUnavailable, kNone, false},
      {RequestKind::kCancel, StatusCode::kCancelled, kNone, true},
      {RequestKind::kCancel, StatusCode::kOk, ember::v1::FINISH_REASON_LENGTH, false},
      {RequestKind::kCancel, StatusCode::kInternal, kNone, false},
      {RequestKind::kDeadline, StatusCode::kDeadlineExceeded, kNone, true},
      {RequestKind::kDeadline, StatusCode::kOk, ember::v1::FINISH_REASON_LENGTH, true},
      {RequestKind::kDeadline, StatusCode::kOk, ember::v1::FINISH_REASON_DEADLINE, false},
      {RequestKind::kDeadline, StatusCode::kCancelled, kNone, false},
      {RequestKind::kSlowRead, StatusCode::kOk, ember::v1::FINISH_REASON_EOS, true},
      {RequestKind::kSlowRead, StatusCode::kResourceExhausted, kNone, true},
      {RequestKind::kSlowRead, StatusCode::kCancelled, kNone, false},
      {RequestKind::kInvalid, StatusCode::kInvalidArgument, kNone, true},
      {RequestKind::kInvalid, StatusCode::kOk, ember::v1::FINISH_REASON_LENGTH, false},
      {RequestKind::kInvalid, StatusCode::kNotFound, kNone, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(IsExpectedEnding(c.kind, c.code, c.reason), c.expected)
        << RequestKindName(c.kind) << " " << absl::StatusCodeToString(c.code) << " "
        << FinishReasonName(c.reason);
  }
}

TEST(ExpectedStatusTest, FinishReasonNamesMatchTheServersMetricLabels) {
  EXPECT_EQ(FinishReasonName(ember::v1::FINISH_REASON_EOS), "eos");
  EXPECT_EQ(FinishReasonName(ember::v1::FINISH_REASON_STOP_SEQUENCE), "stop_sequence");
  EXPECT_EQ(FinishReasonName(ember::v1::FINISH_REASON_LENGTH), "length");
  EXPECT_EQ(FinishReasonName(kNone), "none");
}

StreamOutcome Outcome(RequestKind kind, StatusCode code, FinishReason reason, int64_t tokens) {
  StreamOutcome o;
  o.kind = kind;
  o.code = code;
  o.finish_reason = reason;
  o.tokens = tokens;
  o.request_id = "r";
  return o;
}

TEST(SoakTallyTest, CountsByKindCodeAndFinishReason) {
  SoakTally tally;
  tally.Add(Outcome(RequestKind::kNormal, StatusCode::kOk, ember::v1::FINISH_REASON_EOS, 5));
  tally.Add(Outcome(RequestKind::kNormal, StatusCode::kOk, ember::v1::FINISH_REASON_LENGTH, 7));
  tally.Add(Outcome(RequestKind::kNormal, StatusCode::kInternal, kNone, 1));
  tally.Add(Outcome(RequestKind::kCancel, StatusCode::kCancelled, kNone, 3));
  tally.Add(Outcome(RequestKind::kInvalid, StatusCode::kInvalidArgument, kNone, 0));
  const KindTally& normal = tally.kind(RequestKind::kNormal);
  EXPECT_EQ(normal.ended, 3);
  EXPECT_EQ(normal.unexpected, 1);
  EXPECT_EQ(normal.tokens, 13);
  EXPECT_EQ(normal.by_code.at(StatusCode::kOk), 2);
  EXPECT_EQ(normal.ok_by_finish_reason.at("eos"), 1);
  EXPECT_EQ(normal.ok_by_finish_reason.at("length"), 1);
  EXPECT_EQ(tally.ended(), 5);
  EXPECT_EQ(tally.unexpected(), 1);
  EXPECT_EQ(tally.tokens(), 16);
  EXPECT_EQ(tally.codes_seen(),
            (std::vector<StatusCode>{StatusCode::kOk, StatusCode::kCancelled,
                                     StatusCode::kInvalidArgument, StatusCode::kInternal}));
  ASSERT_EQ(tally.unexpected_examples().size(), 1u);
  EXPECT_EQ(tally.unexpected_examples()[0].code, StatusCode::kInternal);
}

TEST(SoakTallyTest, KeepsOnlyTheFirstExamples) {
  SoakTally tally;
  for (int i = 0; i < 3 * SoakTally::kMaxExamples; ++i) {
    tally.Add(Outcome(RequestKind::kCancel, StatusCode::kUnavailable, kNone, i));
  }
  EXPECT_EQ(tally.unexpected(), 3 * SoakTally::kMaxExamples);
  ASSERT_EQ(static_cast<int>(tally.unexpected_examples().size()), SoakTally::kMaxExamples);
  EXPECT_EQ(tally.unexpected_examples()[0].tokens, 0);
}

}  // namespace
}  // namespace ember::soak
