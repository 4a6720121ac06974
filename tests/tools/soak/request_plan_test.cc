// PlanRequest: each kind's request and client behaviour, and every invalid variant checked
// against the server's own conversion (server/request_conversion.h) and the engine's validation
// (core/engine/request_validation.h) as the oracle.
#include "tools/soak/request_plan.h"

#include <set>

#include "core/engine/request_validation.h"
#include "gtest/gtest.h"
#include "server/request_conversion.h"

namespace ember::soak {
namespace {

// What the server answers before any engine state matters: conversion, then validation against
// the tiny model's limits.
absl::Status Refusal(const ember::v1::GenerateRequest& request, int64_t vocab_size) {
  absl::StatusOr<GenerationRequest> converted = ToGenerationRequest(request, "tiny-llama");
  if (!converted.ok()) return converted.status();
  RequestLimits limits;
  limits.vocab_size = vocab_size;
  limits.max_new_tokens_limit = 4096;
  return ValidateGenerationRequest(*converted, limits);
}

RequestShape TinyModelShape() {
  RequestShape shape;
  shape.context_length = 256;
  shape.vocab_size = 512;
  return shape;
}

TEST(RequestPlanTest, NormalRequestsStayWithinTheirTokenRangeAndTheContext) {
  RequestShape shape = TinyModelShape();
  shape.max_new_tokens = 1000;  // more than the context allows
  std::mt19937_64 rng(7);
  for (int i = 0; i < 500; ++i) {
    const PlannedRequest plan = PlanRequest(RequestKind::kNormal, shape, rng, "id");
    EXPECT_GE(plan.request.max_new_tokens(), 1);
    EXPECT_LE(plan.request.max_new_tokens(), shape.context_length - kMaxPromptTokens - 1);
    EXPECT_LE(plan.request.prompt_token_ids_size(), kMaxPromptTokens);
    EXPECT_EQ(plan.cancel_after_tokens, 0);
    EXPECT_EQ(plan.deadline, absl::ZeroDuration());
    EXPECT_EQ(plan.read_delay, absl::ZeroDuration());
    EXPECT_EQ(plan.request.request_id(), "id");
  }
}

TEST(RequestPlanTest, CancelledRequestsCannotEndBeforeTheirCancelPoint) {
  const RequestShape shape = TinyModelShape();
  std::mt19937_64 rng(8);
  std::set<int> cancel_points;
  for (int i = 0; i < 500; ++i) {
    const PlannedRequest plan = PlanRequest(RequestKind::kCancel, shape, rng, "id");
    EXPECT_GE(plan.cancel_after_tokens, 1);
    EXPECT_LE(plan.cancel_after_tokens, shape.cancel_after_tokens_max);
    EXPECT_GT(plan.request.max_new_tokens(), plan.cancel_after_tokens);
    EXPECT_TRUE(plan.request.ignore_eos());
    EXPECT_EQ(plan.request.stop_size(), 0);
    cancel_points.insert(plan.cancel_after_tokens);
  }
  EXPECT_EQ(static_cast<int>(cancel_points.size()), shape.cancel_after_tokens_max);
}

TEST(RequestPlanTest, DeadlinesAndReadDelaysAreInTheirRanges) {
  RequestShape shape = TinyModelShape();
  shape.deadline_min_ms = 10;
  shape.deadline_max_ms = 20;
  shape.slow_read_delay_ms = 30;
  std::mt19937_64 rng(9);
  for (int i = 0; i < 200; ++i) {
    const PlannedRequest d = PlanRequest(RequestKind::kDeadline, shape, rng, "id");
    EXPECT_GE(d.deadline, absl::Milliseconds(10));
    EXPECT_LE(d.deadline, absl::Milliseconds(20));
    const PlannedRequest s = PlanRequest(RequestKind::kSlowRead, shape, rng, "id");
    EXPECT_GE(s.read_delay, absl::Milliseconds(15));
    EXPECT_LE(s.read_delay, absl::Milliseconds(30));
    EXPECT_EQ(s.request.top_logprobs(), 20);
  }
}

TEST(RequestPlanTest, TheSameSeedPlansTheSameRequests) {
  const RequestShape shape = TinyModelShape();
  std::mt19937_64 a(42);
  std::mt19937_64 b(42);
  for (RequestKind kind : kAllRequestKinds) {
    for (int i = 0; i < 20; ++i) {
      EXPECT_EQ(PlanRequest(kind, shape, a, "x").request.SerializeAsString(),
                PlanRequest(kind, shape, b, "x").request.SerializeAsString());
    }
  }
}

TEST(RequestPlanTest, ValidPlansPassTheServersValidation) {
  const RequestShape shape = TinyModelShape();
  std::mt19937_64 rng(10);
  for (RequestKind kind : {RequestKind::kNormal, RequestKind::kCancel, RequestKind::kDeadline,
                           RequestKind::kSlowRead}) {
    for (int i = 0; i < 200; ++i) {
      const PlannedRequest plan = PlanRequest(kind, shape, rng, "soak-0-1-normal");
      const absl::Status status = Refusal(plan.request, shape.vocab_size);
      EXPECT_TRUE(status.ok()) << RequestKindName(kind) << ": " << status;
    }
  }
}

TEST(RequestPlanTest, EveryInvalidVariantIsRefusedWithInvalidArgument) {
  std::set<std::string> messages;
  for (int variant = 0; variant < kNumInvalidVariants; ++variant) {
    const absl::Status status = Refusal(InvalidRequest(variant, "id"), 512);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << variant << ": " << status;
    messages.insert(std::string(status.message()));
  }
  // Each variant trips a different check.
  EXPECT_EQ(static_cast<int>(messages.size()), kNumInvalidVariants);
  // PlanRequest draws them all.
  std::mt19937_64 rng(11);
  std::set<std::string> drawn;
  for (int i = 0; i < 1000; ++i) {
    drawn.insert(PlanRequest(RequestKind::kInvalid, TinyModelShape(), rng, "id")
                     .request.SerializeAsString());
  }
  EXPECT_EQ(static_cast<int>(drawn.size()), kNumInvalidVariants);
}

}  // namespace
}  // namespace ember::soak
